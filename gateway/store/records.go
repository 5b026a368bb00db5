package store

import (
	"bytes"
	"container/list"
	"sync"

	"onething/contracts"
)

// recordCacheBytes bounds the memory the decoded records of a backend
// take, by an estimate of each entry's size (recordCost): 64 MiB holds
// some 5,000 finished applications of the end-to-end bench (about 12 KB
// each, 5 tasks and some 30 timeline entries), and over 10,000 fresh ones.
//
// It used to be a number of entries (1,024). The gateway keeps every
// application it is working on in flight at once (the end-to-end bench
// some 2,000: each waits for departments' callbacks between its writes),
// and a least-recently-used cache smaller than that set misses on every
// write: each event, dispatch and push then decoded the record again
// (JSON and the sealed parts), 10 % of the gateway's CPU end to end on
// bolt (docs/PROFILING.md, fourth round). Bounding bytes instead of
// entries lets small records share the room big ones would take, and says
// what the cache costs: at most this much live heap (three times it with
// the collector at 200 %, bounded by GOMEMLIMIT where it is set).
const recordCacheBytes = 64 << 20

// recordCache keeps the decoded form of the records this process wrote or
// read last. Every event, dispatch and push reads an application whole
// and writes it back; decoding the ~10 KB record (JSON and the sealed part)
// was 28 % of the gateway's CPU end to end. An entry is used only when the
// bytes read are exactly the bytes it was made from, and what a record
// decodes to depends only on its bytes and the backend's keys (fixed for
// its life), so a hit answers what decoding would, whoever wrote the
// record. An entry made at a write holds the application written, which
// is what its bytes decode to (TestCachedReadsDecodeAlike: the same JSON;
// a time stamp may keep its monotonic clock reading and its zone, which
// only make durations between in-process times more exact and print the
// same). Entries and answers are clones: no caller shares memory with the
// cache.
//
// It is a least-recently-used cache bounded by the estimated bytes of its
// entries (recordCost), safe for concurrent use. It is not golang-lru (the
// key cache's): that one bounds a number of entries, not their bytes.
type recordCache struct {
	mu    sync.Mutex
	max   int // bytes at most (the newest entry is kept even when bigger)
	used  int
	order *list.List // of *cachedRecord, the most recently used first
	byID  map[string]*list.Element
}

type cachedRecord struct {
	id   string
	data []byte
	pr   *prior // its app never changes
	idx  string
	cost int
}

// newRecordCache makes a cache of at most maxBytes (by recordCost).
func newRecordCache(maxBytes int) *recordCache {
	if maxBytes < 1 {
		panic("store: a record cache needs room")
	}
	return &recordCache{max: maxBytes, order: list.New(), byID: map[string]*list.Element{}}
}

// recordCost estimates the memory an entry holds: its bytes, the sealed
// parts its prior keeps, and the decoded application. The decoded form
// was measured at about its stored size plus 1 KB (BenchmarkRecordCacheEntry) (a fresh application:
// head 1.2 KB, personal part 0.6 KB, 4 KB decoded with 5 timeline
// entries; 9.4 KB with 40, some 160 bytes an entry); the estimate counts
// the head twice (its bytes and the decoded workflow part) and 256 bytes
// a timeline entry, which errs on the large side.
func recordCost(id string, data []byte, pr *prior) int {
	n := 1280 + len(id) + 2*len(data)
	if pr != nil {
		n += len(pr.per) + len(pr.tp) + 256*pr.tl
		if pr.app != nil && !pr.parts {
			n += 256 * len(pr.app.Timeline) // a record of one value
		}
	}
	return n
}

// get returns a clone of what data, stored under id, decodes to, if the
// cache holds it.
func (rc *recordCache) get(id string, data []byte) (*contracts.Application, string, bool) {
	if rc == nil {
		return nil, "", false
	}
	pr, idx, ok := rc.getPrior(id, data)
	if !ok {
		return nil, "", false
	}
	return pr.app.Clone(), idx, true
}

// getPrior is get for a write: what the record is, its app shared (the
// caller must not change it).
func (rc *recordCache) getPrior(id string, data []byte) (*prior, string, bool) {
	if rc == nil {
		return nil, "", false
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	el, ok := rc.byID[id]
	if !ok {
		return nil, "", false
	}
	e := el.Value.(*cachedRecord)
	if !bytes.Equal(e.data, data) {
		return nil, "", false
	}
	rc.order.MoveToFront(el)
	return e.pr, e.idx, true
}

// put records that data (a whole record, or the head of one in parts),
// stored under id, is the record pr. data must not change afterwards, nor
// pr.
func (rc *recordCache) put(id string, data []byte, pr *prior, idx string) {
	if rc == nil {
		return
	}
	e := &cachedRecord{id: id, data: data, pr: pr, idx: idx, cost: recordCost(id, data, pr)}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if el, ok := rc.byID[id]; ok {
		rc.used -= el.Value.(*cachedRecord).cost
		el.Value = e
		rc.order.MoveToFront(el)
	} else {
		rc.byID[id] = rc.order.PushFront(e)
	}
	rc.used += e.cost
	for rc.used > rc.max && rc.order.Len() > 1 {
		rc.removeLocked(rc.order.Back())
	}
}

func (rc *recordCache) removeLocked(el *list.Element) {
	e := rc.order.Remove(el).(*cachedRecord)
	delete(rc.byID, e.id)
	rc.used -= e.cost
}

// drop forgets what the cache holds of id (its data key was destroyed).
func (rc *recordCache) drop(id string) {
	if rc == nil {
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if el, ok := rc.byID[id]; ok {
		rc.removeLocked(el)
	}
}

// len is the number of entries and their estimated bytes (tests).
func (rc *recordCache) len() (entries, bytes int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.order.Len(), rc.used
}

// purge empties the cache (tests).
func (rc *recordCache) purge() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.order.Init()
	clear(rc.byID)
	rc.used = 0
}

// peek is the bytes the entry of id was made from, without making it
// recently used (tests).
func (rc *recordCache) peek(id string) ([]byte, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	el, ok := rc.byID[id]
	if !ok {
		return nil, false
	}
	return el.Value.(*cachedRecord).data, true
}
