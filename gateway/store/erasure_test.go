package store_test

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"onething/gateway/seal"
	"onething/gateway/store"
	"onething/gateway/store/redistest"
	"onething/gateway/store/storetest"
)

func devKeys(t *testing.T) *seal.Keyring {
	t.Helper()
	keys, err := seal.New(seal.DevConfig())
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// The erasure cases on bbolt: the data file and its key store file
// (onething.db.keys) beside it; the copy is of the data file alone,
// opened with the current key store file.
func TestBoltErasure(t *testing.T) {
	storetest.RunErasure(t, func(t *testing.T) storetest.ErasureStore {
		path, keys := filepath.Join(t.TempDir(), "onething.db"), devKeys(t)
		if _, err := store.InitBolt(path, store.WithKeys(keys)); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path + store.KeyStoreSuffix); err != nil {
			t.Fatalf("store init made no key store file: %v", err)
		}
		open := func(t *testing.T, file string) store.Store {
			t.Helper()
			s, err := store.OpenBolt(file, store.WithKeys(keys), store.WithKeyStore(path+store.KeyStoreSuffix), store.Strict())
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		return storetest.ErasureStore{
			Open: func(t *testing.T) store.Store { return open(t, path) },
			CopyData: func(t *testing.T) func(t *testing.T) store.Store {
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				cp := filepath.Join(t.TempDir(), "backup.db")
				if err := os.WriteFile(cp, data, 0o600); err != nil {
					t.Fatal(err)
				}
				return func(t *testing.T) store.Store { return open(t, cp) }
			},
			WrappedKey: func(t *testing.T, id string) string {
				db, err := bolt.Open(path+store.KeyStoreSuffix, 0o600, &bolt.Options{ReadOnly: true})
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				var v string
				db.View(func(tx *bolt.Tx) error {
					if b := tx.Bucket([]byte("appkeys")); b != nil {
						v = string(b.Get([]byte(id)))
					}
					return nil
				})
				return v
			},
			KeyFilesHold: func(t *testing.T, wrapped string) bool {
				data, err := os.ReadFile(path + store.KeyStoreSuffix)
				if err != nil {
					t.Fatal(err)
				}
				return bytes.Contains(data, []byte(wrapped))
			},
		}
	})
}

// The erasure cases on Redis: a data Redis and a key-store Redis of its
// own; the copy is of the data Redis's directory (its AOF), started as a
// Redis of its own and opened with the current key-store Redis.
func TestRedisErasure(t *testing.T) {
	// The key store's snapshot parts uncompressed, so that a search of
	// its files for a key's bytes finds them when they are there.
	data, keyStore := redistest.Start(t), redistest.StartWith(t, "--rdbcompression", "no")
	ctx := context.Background()
	storetest.RunErasure(t, func(t *testing.T) storetest.ErasureStore {
		dataURL, ksURL, keys := data.URL(), keyStore.URL(), devKeys(t)
		if _, err := store.InitRedis(ctx, dataURL, store.WithKeys(keys), store.WithKeyStore(ksURL)); err != nil {
			t.Fatal(err)
		}
		open := func(t *testing.T, u string) store.Store {
			t.Helper()
			s, err := store.OpenRedis(ctx, u, store.WithKeys(keys), store.WithKeyStore(ksURL), store.Strict())
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		return storetest.ErasureStore{
			Open: func(t *testing.T) store.Store { return open(t, dataURL) },
			CopyData: func(t *testing.T) func(t *testing.T) store.Store {
				cp := redistest.StartCopy(t, data)
				u, _ := url.Parse(dataURL)
				u.Host = cp.Addr
				return func(t *testing.T) store.Store { return open(t, u.String()) }
			},
			WrappedKey: func(t *testing.T, id string) string {
				u, _ := url.Parse(ksURL)
				v, err := keyStore.Client().Get(ctx, u.Query().Get("prefix")+":dek:{app:"+id+"}").Result()
				if err != nil {
					t.Fatal(err)
				}
				return v
			},
			KeyFilesHold: func(t *testing.T, wrapped string) bool {
				keyStore.WaitRewrite()
				return keyStore.FilesHold(wrapped)
			},
		}
	})
}
