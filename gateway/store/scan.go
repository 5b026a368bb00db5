package store

import (
	"context"
	"errors"
	"strings"

	bolt "go.etcd.io/bbolt"

	"onething/contracts"
)

// Scanner walks every stored application, oldest id first where the
// backend keeps an order, until yield returns false. The console's SLA
// figures count with it; its lists page through the store's lists
// instead (lists.go).
type Scanner interface {
	Scan(ctx context.Context, yield func(*contracts.Application) bool) error
}

// Scan walks the bbolt file's applications in id (time) order. A record
// that does not open is skipped and listed for operators (unreadable.go).
func (b *Bolt) Scan(ctx context.Context, yield func(*contracts.Application) bool) error {
	var bad []error
	err := b.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketApps).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			app, _, _, err := b.codec.decodePartsUncached(string(k), partsOf(tx, string(k), v))
			if errors.Is(err, ErrUnreadable) {
				bad = append(bad, err)
				continue
			}
			if err != nil {
				return err
			}
			if !yield(app) {
				return nil
			}
		}
		return nil
	})
	for _, e := range bad {
		b.notes.note(b, e)
	}
	return err
}

// Scan walks Redis's applications (SCAN over the application keys; no
// order is promised).
func (r *Redis) Scan(ctx context.Context, yield func(*contracts.Application) bool) error {
	head := r.appKey("")
	head = head[:len(head)-1] // "…:{app:"
	iter := r.rdb.Scan(ctx, 0, head+"*", 500).Iterator()
	for iter.Next(ctx) {
		key := iter.Val()
		if !strings.HasSuffix(key, "}") {
			continue // an application's other keys (once keys, …)
		}
		app, _, err := r.snapshot(ctx, strings.TrimSuffix(strings.TrimPrefix(key, head), "}"), true)
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrUnreadable) {
			continue // an unreadable one is listed for operators (snapshot)
		}
		if err != nil {
			return err
		}
		if !yield(app) {
			return nil
		}
	}
	return iter.Err()
}
