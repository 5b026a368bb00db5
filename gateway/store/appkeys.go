package store

import (
	"context"
	"errors"
	"fmt"

	lru "github.com/hashicorp/golang-lru/v2"

	"onething/gateway/seal"
)

// Keys that shred. With a keyring, each application's personal part is
// sealed under a data key of its own (seal.AppKey), made at random when
// the application is first written sealed (envelope version 3). The store
// keeps that key wrapped under the keyring's current key in a key store
// apart from the data: on bbolt a file of its own beside the data file
// (bolt_keys.go), on Redis a Redis of its own or the data Redis under
// keys of its own (redis_keys.go). Erasing an application destroys its
// key (ShredKey), so the copies of its sealed part that outlive the
// erasure in place (a backup of the data, Redis's AOF and RDB, bbolt's
// free pages) no longer open with anything the gateway holds. Rotating the
// keyring rewraps the keys (Reseal) and leaves the data as it is.
//
// The key is written before the record that uses it: a crash between the
// two leaves a key without a record, which seals nothing and is harmless.
// On Redis with the keys in the data Redis, a creation writes the key and
// the record in one script (Create): both or neither, and a submission
// refused as a duplicate writes no key.
// An erased record has no sealed part and needs no key.

// keyStore keeps the applications' wrapped keys.
type keyStore interface {
	// get returns an application's wrapped key, ErrNotFound if it has none.
	get(ctx context.Context, id string) (string, error)
	// add stores wrapped unless the application has a key already; it
	// returns the key the store holds afterwards (another writer's may
	// have come first).
	add(ctx context.Context, id, wrapped string) (string, error)
	// swap replaces old by wrapped, only if the key is still old (a
	// rewrap must not bring back a key destroyed meanwhile).
	swap(ctx context.Context, id, old, wrapped string) error
	// remove destroys an application's key (idempotent).
	remove(ctx context.Context, id string) error
	// each calls fn with every application's wrapped key; fn may use the
	// key store.
	each(ctx context.Context, fn func(id, wrapped string) error) error
	close() error
}

// ErrKeyDestroyed: the application's own data key is not in the key store
// (it was destroyed by an erasure, or the key store is not the one the
// data was written with).
var ErrKeyDestroyed = errors.New("the application's data key is not in the key store (destroyed by an erasure?)")

// appKeyCacheSize bounds the unwrapped keys kept in memory: some 200
// bytes each (a GCM key schedule).
const appKeyCacheSize = 4096

// appKeys hands out the applications' keys, unwrapped, through a bounded
// cache, so that a read does not always ask the key store.
type appKeys struct {
	ring  *seal.Keyring
	store keyStore
	cache *lru.Cache[string, *seal.AppKey]
}

func newAppKeys(ring *seal.Keyring, ks keyStore) *appKeys {
	c, err := lru.New[string, *seal.AppKey](appKeyCacheSize)
	if err != nil {
		panic(err)
	}
	return &appKeys{ring: ring, store: ks, cache: c}
}

func appKeyContext(id string) []byte { return []byte("onething/application-key/" + id) }

// get returns an application's key; ErrKeyDestroyed when it has none.
func (a *appKeys) get(ctx context.Context, id string) (*seal.AppKey, error) {
	if k, ok := a.cache.Get(id); ok {
		return k, nil
	}
	wrapped, err := a.store.get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrKeyDestroyed
	}
	if err != nil {
		return nil, fmt.Errorf("key store: %w", err)
	}
	k, err := a.ring.UnwrapAppKey(wrapped, appKeyContext(id))
	if err != nil {
		return nil, err
	}
	a.cache.Add(id, k)
	return k, nil
}

// getOrMake returns an application's key, making and storing one when it
// has none (a new application, or one sealed before application keys).
func (a *appKeys) getOrMake(ctx context.Context, id string) (*seal.AppKey, error) {
	k, err := a.get(ctx, id)
	if !errors.Is(err, ErrKeyDestroyed) {
		return k, err
	}
	k, wrapped, err := a.ring.NewWrappedAppKey(appKeyContext(id))
	if err != nil {
		return nil, err
	}
	got, err := a.store.add(ctx, id, wrapped)
	if err != nil {
		return nil, fmt.Errorf("key store: %w", err)
	}
	if got != wrapped { // another writer's came first
		if k, err = a.ring.UnwrapAppKey(got, appKeyContext(id)); err != nil {
			return nil, err
		}
	}
	a.cache.Add(id, k)
	return k, nil
}

// shred destroys an application's key, here and in the key store.
func (a *appKeys) shred(ctx context.Context, id string) error {
	a.cache.Remove(id)
	if err := a.store.remove(ctx, id); err != nil {
		return fmt.Errorf("key store: %w", err)
	}
	a.cache.Remove(id) // a read meanwhile may have put it back
	return nil
}

// RewrapStats says what a rewrap did.
type RewrapStats struct {
	Keys      int // application keys looked at
	Rewrapped int // wrapped again under the current key
	// Unreadable: keys that did not open (a keyring key missing), left as
	// they are.
	Unreadable int
}

// rewrap wraps again under the keyring's current key every application
// key wrapped under another: the data stays as it is.
func (a *appKeys) rewrap(ctx context.Context) (RewrapStats, error) {
	var st RewrapStats
	current := a.ring.CurrentKey()
	err := a.store.each(ctx, func(id, wrapped string) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		st.Keys++
		if kid, err := seal.BlobKey(wrapped); err == nil && kid == current {
			return nil
		}
		again, err := a.ring.RewrapAppKey(wrapped, appKeyContext(id))
		if err != nil {
			st.Unreadable++
			return nil
		}
		if err := a.store.swap(ctx, id, wrapped, again); err != nil {
			return fmt.Errorf("key store: %w", err)
		}
		st.Rewrapped++
		return nil
	})
	return st, err
}

// keyStoreMeta names, in the data store's meta, the key store the data
// was written with (its id); in the key store's own meta, its id.
const metaKeyStore = "keystore:id"

// attachKeyStore ties the data store to its key store. ksID is the key
// store's id ("" when it has none: new or lost), dataID what the data
// store's meta names ("" when it never had one). A key store with no id
// while the data names one is lost, or another: refused, since the
// applications sealed under its keys would not open. Otherwise it returns
// the id both must record.
func attachKeyStore(where, ksWhere, ksID, dataID string) (string, error) {
	switch {
	case ksID == "" && dataID != "":
		return "", &OpenError{Kind: ErrKeyStoreMissing, Where: where,
			ZH: "密钥库 " + ksWhere + " 不存在或为空，而该存储的数据是用它保存的密钥封存的：请从密钥库的备份恢复它（没有它，这些申请的个人信息无法读取）；不要新建",
			EN: "the key store " + ksWhere + " is missing or empty, and this store's data is sealed under keys kept there: restore it from the key store's backup (without it, those applications' personal data cannot be read); do not make a new one"}
	case ksID != "" && dataID != "" && ksID != dataID:
		return "", &OpenError{Kind: ErrKeyStoreMissing, Where: where,
			ZH: "密钥库 " + ksWhere + " 不是该存储的密钥库（标识不符）：请检查 dataProtection.keyStore，或从备份恢复正确的密钥库",
			EN: "the key store " + ksWhere + " is not this store's (its id differs): check dataProtection.keyStore, or restore the right key store from its backup"}
	case ksID != "":
		return ksID, nil
	}
	return newIdentity().ID, nil
}
