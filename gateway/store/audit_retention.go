package store

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	bolt "go.etcd.io/bbolt"
)

// The audit log's retention: the one removal from the log there is. The
// retention sweep (gateway/retention) trims the entries older than the
// configured audit retention, oldest first and all of them up to a time;
// no single entry can be removed, and nothing newer.

// AuditTrimmer is a backend whose audit log can be trimmed up to a time
// (Bolt and Redis). It is not part of Store, whose audit methods only
// append and read.
type AuditTrimmer interface {
	// TrimAudit removes every audit entry whose time is before the time
	// (to the millisecond) and says how many it removed.
	TrimAudit(ctx context.Context, before time.Time) (int, error)
	// OldestAudit is the time of the log's first entry (ok false: the
	// log is empty), so that a trim with nothing to remove is not audited.
	OldestAudit(ctx context.Context) (at time.Time, ok bool, err error)
}

// OldestAudit reads the first entry.
func (b *Bolt) OldestAudit(context.Context) (time.Time, bool, error) {
	var at time.Time
	var ok bool
	err := b.db.View(func(tx *bolt.Tx) error {
		k, v := tx.Bucket(bucketAudit).Cursor().First()
		if k == nil {
			return nil
		}
		e, err := decodeAudit("", v)
		at, ok = e.At, err == nil
		return err
	})
	return at, ok, err
}

// OldestAudit reads the stream's first id.
func (r *Redis) OldestAudit(ctx context.Context) (time.Time, bool, error) {
	msgs, err := r.rdb.XRangeN(ctx, r.auditKey(), "-", "+", 1).Result()
	if err != nil || len(msgs) == 0 {
		return time.Time{}, false, err
	}
	at, ok := streamTime(msgs[0].ID)
	return at, ok, nil
}

// trimBatch bounds one bbolt transaction of a trim, so that a first trim
// of a long log does not hold the writer for long.
const trimBatch = 5000

// TrimAudit deletes the oldest entries while their time is before the
// time: entry times never decrease along the log (AppendAudit), so the
// first entry not before it ends the trim.
func (b *Bolt) TrimAudit(ctx context.Context, before time.Time) (int, error) {
	before = before.Truncate(time.Millisecond)
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		var n int
		var more bool
		err := b.commit(func(tx *bolt.Tx) error {
			n, more = 0, false
			c := tx.Bucket(bucketAudit).Cursor()
			for k, v := c.First(); k != nil; k, v = c.First() {
				e, err := decodeAudit("", v)
				if err != nil {
					return err
				}
				if !e.At.Before(before) {
					return nil
				}
				if n == trimBatch {
					more = true
					return nil
				}
				if err := c.Delete(); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("trim audit log: %w", err)
		}
		total += n
		if !more {
			return total, nil
		}
	}
}

// TrimAudit is XTRIM MINID (exact) on the audit stream: an entry's id is
// its time in milliseconds, so every entry before the time goes.
func (r *Redis) TrimAudit(ctx context.Context, before time.Time) (int, error) {
	minID := strconv.FormatInt(before.UnixMilli(), 10)
	var trim *redis.IntCmd
	err := r.writeReplicated(ctx, func(p redis.Pipeliner) {
		trim = p.XTrimMinID(ctx, r.auditKey(), minID)
	})
	if err != nil {
		return int(trim.Val()), fmt.Errorf("trim audit log: %w", err)
	}
	return int(trim.Val()), nil
}

// TaskLocker makes one replica at a time run a named background task
// (the retention sweep): Redis through a lock key, Bolt (one process)
// in the process.
type TaskLocker interface {
	// TryLockTask takes the task's lock for ttl; release gives it back.
	// ok is false while another holds it.
	TryLockTask(ctx context.Context, task string, ttl time.Duration) (release func(), ok bool, err error)
}

// TryLockTask is TryLock's lock (SetNX with a token, released only by
// its holder) under the task's own key.
func (r *Redis) TryLockTask(ctx context.Context, task string, ttl time.Duration) (func(), bool, error) {
	key, tok := r.queueKey("lock:"+task), token()
	ok, err := r.rdb.SetNX(ctx, key, tok, ttl).Result()
	if err != nil || !ok {
		return func() {}, false, err
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		scriptUnlock.Run(ctx, r.rdb, []string{key}, tok)
	}, true, nil
}

// boltTaskLocks are the task locks of each open Bolt store: a bbolt file
// is open in one process only, so a lock in the process is the store's.
var boltTaskLocks sync.Map // boltTask -> *sync.Mutex

type boltTask struct {
	b    *Bolt
	task string
}

// TryLockTask takes the task's lock in the process (ttl does not apply:
// the process ends with its holder).
func (b *Bolt) TryLockTask(_ context.Context, task string, _ time.Duration) (func(), bool, error) {
	v, _ := boltTaskLocks.LoadOrStore(boltTask{b, task}, &sync.Mutex{})
	mu := v.(*sync.Mutex)
	if !mu.TryLock() {
		return func() {}, false, nil
	}
	var once sync.Once
	return func() { once.Do(mu.Unlock) }, true, nil
}
