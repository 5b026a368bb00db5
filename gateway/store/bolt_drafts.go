package store

import (
	"bytes"
	"context"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketDrafts holds the console's drafts (drafts.go): owner -> sealed
// draft record. Files made before it get it on their first draft.
var bucketDrafts = []byte("drafts")

// PutDraft keeps owner's draft, and sweeps out the drafts whose day is
// over (a few per clerk at most: the walk is short).
func (b *Bolt) PutDraft(_ context.Context, owner string, d Draft) error {
	data, err := b.codec.encodeDraft(owner, d)
	if err != nil {
		return err
	}
	return b.commit(func(tx *bolt.Tx) error {
		db, err := tx.CreateBucketIfNotExists(bucketDrafts)
		if err != nil {
			return err
		}
		var gone [][]byte
		db.ForEach(func(k, v []byte) error {
			if draftExpired(v, d.Saved) {
				gone = append(gone, append([]byte(nil), k...))
			}
			return nil
		})
		for _, k := range gone {
			if err := db.Delete(k); err != nil {
				return err
			}
		}
		return db.Put([]byte(owner), data)
	})
}

func (b *Bolt) Draft(_ context.Context, owner string, now time.Time) (Draft, error) {
	var data []byte
	b.db.View(func(tx *bolt.Tx) error {
		if db := tx.Bucket(bucketDrafts); db != nil {
			data = append([]byte(nil), db.Get([]byte(owner))...)
		}
		return nil
	})
	if len(data) == 0 {
		return Draft{}, ErrNotFound
	}
	d, ok := b.codec.decodeDraft(owner, data, now)
	if !ok {
		// Expired or no longer readable: removed on the way, unless a new
		// one took its place meanwhile.
		err := b.commit(func(tx *bolt.Tx) error {
			if db := tx.Bucket(bucketDrafts); db != nil && bytes.Equal(db.Get([]byte(owner)), data) {
				return db.Delete([]byte(owner))
			}
			return nil
		})
		if err != nil {
			return Draft{}, err
		}
		return Draft{}, ErrNotFound
	}
	return d, nil
}

func (b *Bolt) DeleteDraft(_ context.Context, owner string) error {
	return b.commit(func(tx *bolt.Tx) error {
		if db := tx.Bucket(bucketDrafts); db != nil {
			return db.Delete([]byte(owner))
		}
		return nil
	})
}
