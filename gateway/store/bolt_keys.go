package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// The embedded store's key store (appkeys.go): a bbolt file of its own,
// by default the data file's path with ".keys" (dataProtection.keyStore
// names another), opened and closed with the store. It is not data: a
// store without one (made before application keys) gets one when it is
// first opened with keys, by `onething store init` or by serve. Once the
// data names it (meta "keystore:id"), a missing or other key store file
// is refused: the applications sealed under its keys would not open.

var (
	bucketAppKeys = []byte("appkeys") // application id -> wrapped key
	bucketKSMeta  = []byte("meta")    // "keystore:id" -> the key store's id
)

// KeyStoreSuffix names the embedded store's key store file beside the
// data file, unless the configuration names another.
const KeyStoreSuffix = ".keys"

type boltKeyStore struct {
	// mu: every use of db holds it for reading; purge, which swaps the
	// file, for writing.
	mu sync.RWMutex
	db *bolt.DB
	// group commits the writes: concurrent submissions' new keys share
	// one fsync (bolt_commit.go).
	group *groupCommitter
	path  string
}

// openBoltKeyStore opens (making it when create) the key store file at
// path and returns it with its id ("" when it has none yet).
func openBoltKeyStore(path string, create, readOnly bool) (*boltKeyStore, string, error) {
	opts := &bolt.Options{Timeout: 5 * time.Second, ReadOnly: readOnly}
	if !create {
		opts.OpenFile = noCreate
	}
	db, err := bolt.Open(path, 0o600, opts)
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, "", fmt.Errorf("key store %s: the file is locked by another process (a gateway running on it?)", path)
	}
	if err != nil {
		return nil, "", fmt.Errorf("key store %s: %w", path, err)
	}
	ks := &boltKeyStore{db: db, group: newGroupCommitter(db), path: path}
	var id string
	read := func(tx *bolt.Tx) error {
		if mb := tx.Bucket(bucketKSMeta); mb != nil {
			id = string(mb.Get([]byte(metaKeyStore)))
		}
		return nil
	}
	if readOnly {
		err = db.View(read)
	} else {
		err = db.Update(func(tx *bolt.Tx) error {
			for _, b := range [][]byte{bucketAppKeys, bucketKSMeta} {
				if _, err := tx.CreateBucketIfNotExists(b); err != nil {
					return err
				}
			}
			return read(tx)
		})
	}
	if err != nil {
		db.Close()
		return nil, "", fmt.Errorf("key store %s: %w", path, err)
	}
	return ks, id, nil
}

func (k *boltKeyStore) setID(id string) error {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.group.commit(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketKSMeta).Put([]byte(metaKeyStore), []byte(id))
	})
}

func (k *boltKeyStore) get(_ context.Context, id string) (string, error) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	var out string
	err := k.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAppKeys)
		if b == nil {
			return ErrNotFound
		}
		v := b.Get([]byte(id))
		if v == nil {
			return ErrNotFound
		}
		out = string(v)
		return nil
	})
	return out, err
}

func (k *boltKeyStore) add(_ context.Context, id, wrapped string) (string, error) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	var got string
	err := k.group.commit(func(tx *bolt.Tx) error {
		got = wrapped
		b := tx.Bucket(bucketAppKeys)
		if v := b.Get([]byte(id)); v != nil {
			got = string(v)
			return nil
		}
		return b.Put([]byte(id), []byte(wrapped))
	})
	return got, err
}

func (k *boltKeyStore) swap(_ context.Context, id, old, wrapped string) error {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.group.commit(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAppKeys)
		if v := b.Get([]byte(id)); v == nil || string(v) != old {
			return nil // destroyed or changed meanwhile: leave it
		}
		return b.Put([]byte(id), []byte(wrapped))
	})
}

func (k *boltKeyStore) remove(_ context.Context, id string) error {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.group.commit(func(tx *bolt.Tx) error { return tx.Bucket(bucketAppKeys).Delete([]byte(id)) })
}

func (k *boltKeyStore) each(ctx context.Context, fn func(id, wrapped string) error) error {
	k.mu.RLock()
	defer k.mu.RUnlock()
	type kv struct{ id, wrapped string }
	var all []kv
	err := k.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAppKeys)
		if b == nil {
			return nil
		}
		return b.ForEach(func(key, v []byte) error {
			all = append(all, kv{string(key), string(v)})
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, e := range all {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(e.id, e.wrapped); err != nil {
			return err
		}
	}
	return nil
}

func (k *boltKeyStore) close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.db.Close()
}

// purge rewrites the key store file with the live keys only (bbolt's
// Compact into a new file, synced, renamed over it), so that the wrapped
// keys ShredKey deleted leave no copy in the file's free pages: bbolt
// frees a page without clearing it. The old file's blocks go back to the
// file system (a full-disk encryption key or the disk's own erase is
// what reaches below that).
func (k *boltKeyStore) purge() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	dir := filepath.Dir(k.path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(k.path)+".purge-*")
	if err != nil {
		return fmt.Errorf("key store %s: %w", k.path, err)
	}
	name := tmp.Name()
	tmp.Close()
	os.Remove(name) // bbolt makes it
	defer os.Remove(name)
	dst, err := bolt.Open(name, 0o600, nil)
	if err != nil {
		return fmt.Errorf("key store %s: %w", k.path, err)
	}
	if err := bolt.Compact(dst, k.db, 0); err != nil {
		dst.Close()
		return fmt.Errorf("key store %s: %w", k.path, err)
	}
	if err := dst.Close(); err != nil {
		return fmt.Errorf("key store %s: %w", k.path, err)
	}
	// The new file takes the old one's place while no one uses it; the
	// old one is closed first (its lock goes with it).
	if err := k.db.Close(); err != nil {
		return fmt.Errorf("key store %s: %w", k.path, err)
	}
	renameErr := os.Rename(name, k.path)
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	db, err := bolt.Open(k.path, 0o600, &bolt.Options{Timeout: 5 * time.Second, OpenFile: noCreate})
	if err != nil {
		return fmt.Errorf("key store %s: reopen after the purge: %w", k.path, err)
	}
	k.db, k.group = db, newGroupCommitter(db)
	if renameErr != nil {
		return fmt.Errorf("key store %s: %w", k.path, renameErr)
	}
	return nil
}

// PurgeShredded rewrites the key store file without the pages that held
// destroyed keys (KeyPurger).
func (b *Bolt) PurgeShredded(context.Context) error {
	if b.keyStore == nil {
		return nil
	}
	return b.keyStore.purge()
}

// attachBoltKeyStore opens the key store of the data file at path (see
// above) and ties the two together.
func (b *Bolt) attachKeyStore(path, ksPath string) (*boltKeyStore, error) {
	meta, err := b.meta(context.Background())
	if err != nil {
		return nil, err
	}
	dataID := meta[metaKeyStore]
	_, statErr := os.Stat(ksPath)
	missing := errors.Is(statErr, fs.ErrNotExist)
	if missing && dataID != "" {
		_, err := attachKeyStore(path, ksPath, "", dataID)
		return nil, err
	}
	ks, ksID, err := openBoltKeyStore(ksPath, missing, false)
	if err != nil {
		return nil, err
	}
	id, err := attachKeyStore(path, ksPath, ksID, dataID)
	if err == nil && ksID == "" {
		err = ks.setID(id)
	}
	if err == nil && dataID == "" {
		var got string
		if got, err = b.putMeta(context.Background(), metaKeyStore, id); err == nil && got != id {
			_, err = attachKeyStore(path, ksPath, id, got)
		}
	}
	if err != nil {
		ks.close()
		return nil, err
	}
	return ks, nil
}

// ShredKey destroys the application's own data key (KeyShredder): no
// copy of its sealed part opens any more. Idempotent.
func (b *Bolt) ShredKey(ctx context.Context, id string) error {
	if b.codec.dek == nil {
		return nil
	}
	b.codec.cache.drop(id)
	return b.codec.dek.shred(ctx, id)
}
