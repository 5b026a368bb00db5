package store

import (
	"testing"

	bolt "go.etcd.io/bbolt"
)

// RawRecord and PutRawRecord read and write an application's stored bytes
// behind the store's back (tests of damaged records).
func RawRecord(t *testing.T, b *Bolt, id string) []byte {
	t.Helper()
	var out []byte
	b.db.View(func(tx *bolt.Tx) error {
		out = append(out, tx.Bucket(bucketApps).Get([]byte(id))...)
		return nil
	})
	return out
}

func PutRawRecord(t *testing.T, b *Bolt, id string, data []byte) {
	t.Helper()
	if err := b.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketApps).Put([]byte(id), data) }); err != nil {
		t.Fatal(err)
	}
}

// RawDraft is a draft's stored bytes (nil: none).
func RawDraft(b *Bolt, owner string) []byte {
	var out []byte
	b.db.View(func(tx *bolt.Tx) error {
		if db := tx.Bucket(bucketDrafts); db != nil {
			out = append(out, db.Get([]byte(owner))...)
		}
		return nil
	})
	return out
}
