package store

import (
	"context"
	"testing"

	bolt "go.etcd.io/bbolt"

	"onething/contracts"
	"onething/gateway/seal"
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

// V2Record is what a gateway from before the applications' own keys
// stored for app: envelope version 2, sealed directly under the keyring.
func V2Record(t *testing.T, keys *seal.Keyring, app *contracts.Application) []byte {
	t.Helper()
	c := codec{keys: keys, dek: newAppKeys(keys, memKeyStore{})}
	data, _, err := c.encodeRecord(app)
	if err != nil {
		t.Fatal(err)
	}
	var env envelope
	if err := unmarshalJSON(data, &env); err != nil {
		t.Fatal(err)
	}
	ak, err := c.dek.get(context.Background(), app.ID)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := ak.Open(env.Sealed, appContext(app.ID))
	if err != nil {
		t.Fatal(err)
	}
	env.V = envelopeKeyring
	if env.Sealed, err = keys.Seal(plain, appContext(app.ID)); err != nil {
		t.Fatal(err)
	}
	out, err := marshalJSON(env)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
