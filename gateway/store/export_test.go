package store

import (
	"context"
	"sync"
	"testing"
	"time"

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

// CommitCount is how many write transactions the store committed.
func (b *Bolt) CommitCount() int64 { return b.group.commits.Load() }

// MaxGroup is the most functions one write transaction holds.
const MaxGroup = maxGroup

// WorkInTransaction makes b work out every update in its transaction, as
// before updates were prepared outside it (tests of group commit's runs).
func WorkInTransaction(b *Bolt) { b.noPrepare = true }

// HoldLeader makes the next writer that leads a transaction wait, before
// it takes its batch, until n writes (its own included) are queued: what
// group commit does with n concurrent writers, shown without timing. Set
// it before the writers start.
func HoldLeader(b *Bolt, n int) {
	var once sync.Once
	b.group.beforeBatch = func() {
		once.Do(func() {
			for Queued(b) < n {
				time.Sleep(50 * time.Microsecond)
			}
		})
	}
}

// Queued is how many writes wait for a transaction (the leader's own
// included, until it takes its batch).
func Queued(b *Bolt) int {
	b.group.mu.Lock()
	defer b.group.mu.Unlock()
	return len(b.group.queue)
}

// Commit runs fn as the store runs its own writes.
func Commit(b *Bolt, fn func(tx *bolt.Tx) error) error { return b.commit(fn) }

// PutApp writes app in tx as the store's writes do (a new application:
// no index or list entries to move).
func PutApp(b *Bolt, tx *bolt.Tx, app *contracts.Application) error {
	return b.putApp(tx, app, "", nil, nil)
}

// CachedRecord is the stored bytes the record cache holds a decoded form
// of for id (nil: none).
func CachedRecord(b *Bolt, id string) []byte {
	data, _ := b.codec.cache.peek(id)
	return data
}

// LastTxID is the id of bbolt's last committed write transaction: one
// more per commit, counted by bbolt itself.
func LastTxID(b *Bolt) int {
	var id int
	b.db.View(func(tx *bolt.Tx) error {
		id = tx.ID()
		return nil
	})
	return id
}

// AppKeyCount is how many application keys the key store file holds.
func AppKeyCount(b *Bolt) int {
	n := 0
	b.keyStore.each(context.Background(), func(string, string) error { n++; return nil })
	return n
}

// InFlight is how many applications have an update worked out and not yet
// back from its commit.
func InFlight(b *Bolt) int { return b.inflight.size() }

// BucketRoot is the page the named bucket's root is on (0: the bucket is
// inline in its parent). bbolt copies a page it writes, so the root moves
// whenever anything in the bucket was written.
func BucketRoot(b *Bolt, name string) uint64 {
	var root uint64
	b.db.View(func(tx *bolt.Tx) error {
		if bk := tx.Bucket([]byte(name)); bk != nil {
			root = uint64(bk.Root())
		}
		return nil
	})
	return root
}
