package auth

import (
	"crypto/sha256"
	"sync"
	"time"
)

// ReplayCache remembers the webhook ids of deliveries the gateway took,
// with a digest of their body, for at least the signature tolerance: a
// delivery repeated with the same body is a retry (the handlers answer it
// idempotently, as before); the same id with another body is a replay of a
// captured signature header with a forged body, or a sender bug, and is
// refused (409 replayed_webhook).
//
// It is bounded: entries live TTL and at most Max are kept (the oldest go
// first). It lives in one replica's memory; across replicas the handlers'
// own idempotency by delivery id and event id still holds (a second
// replica sees the same id as a duplicate in the store).
type ReplayCache struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu    sync.Mutex
	m     map[string]replayEntry
	queue []replayRef // insertion order; stale refs are skipped
	head  int
}

type replayEntry struct {
	sum     [32]byte
	expires time.Time
}

type replayRef struct {
	key     string
	expires time.Time
}

// Defaults of the replay cache: twice the 5-minute signature tolerance (a
// signature is valid from timestamp-5m to timestamp+5m, so an id taken at
// any point of that window is remembered to its end), 100,000 ids.
const (
	DefaultReplayTTL  = 10 * time.Minute
	DefaultReplaySize = 100_000
)

// NewReplayCache makes a cache; zero values take the defaults, and a TTL
// under the 5-minute tolerance is raised to it.
func NewReplayCache(ttl time.Duration, max int) *ReplayCache {
	if ttl <= 0 {
		ttl = DefaultReplayTTL
	}
	if ttl < 5*time.Minute {
		ttl = 5 * time.Minute
	}
	if max <= 0 {
		max = DefaultReplaySize
	}
	return &ReplayCache{ttl: ttl, max: max, now: time.Now, m: map[string]replayEntry{}}
}

// Sum is the digest the cache keeps of a body.
func Sum(body []byte) [32]byte { return sha256.Sum256(body) }

// Conflicts reports whether key was taken with a body other than sum.
func (r *ReplayCache) Conflicts(key string, sum [32]byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evict(r.now())
	e, ok := r.m[key]
	return ok && e.sum != sum
}

// Remember records that the delivery key with body sum was taken.
func (r *ReplayCache) Remember(key string, sum [32]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	r.evict(now)
	if e, ok := r.m[key]; ok && e.sum != sum {
		return // the first body stays the one that counts
	}
	exp := now.Add(r.ttl)
	r.m[key] = replayEntry{sum: sum, expires: exp}
	r.queue = append(r.queue, replayRef{key: key, expires: exp})
	for len(r.m) > r.max {
		r.dropHead()
	}
}

// Len is the number of ids remembered.
func (r *ReplayCache) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evict(r.now())
	return len(r.m)
}

func (r *ReplayCache) evict(now time.Time) {
	for r.head < len(r.queue) && !r.queue[r.head].expires.After(now) {
		r.dropHead()
	}
}

// dropHead removes the oldest queued ref, and its entry if the ref is the
// entry's latest (a remembered-again id has a later ref).
func (r *ReplayCache) dropHead() {
	if r.head >= len(r.queue) {
		return
	}
	ref := r.queue[r.head]
	r.queue[r.head] = replayRef{}
	r.head++
	if e, ok := r.m[ref.key]; ok && e.expires.Equal(ref.expires) {
		delete(r.m, ref.key)
	}
	// Compact the queue once half of it is consumed.
	if r.head > 1024 && r.head*2 > len(r.queue) {
		r.queue = append([]replayRef(nil), r.queue[r.head:]...)
		r.head = 0
	}
}
