package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// The Redis backend's key store (appkeys.go). By default it is the data
// Redis, under keys of its own:
//
//	P:dek:{app:ID}   string: the application's wrapped data key
//	P:dekmeta        hash: keystore:id, the key store's id
//
// (the application's key shares its hash slot). dataProtection.keyStore
// names a Redis of its own instead (redis:// or redis+sentinel://, its
// ?prefix= defaulting to the store's), so that the data Redis's AOF and
// RDB files, and their backups, never hold a key: on the data Redis an
// erasure deletes the key, but the AOF keeps the write that made it until
// its next rewrite, and a backup of the files for as long as it is kept
// (config check warns). Writes wait for replicas as the store's do
// (WithMinReplicas).

type redisKeyStore struct {
	rdb         *redis.Client
	prefix      string
	own         bool // a Redis of its own: closed with the store
	minReplicas int
	waitTimeout time.Duration
	where       string
	// unreplicated counts key writes refused for want of replicas.
	unreplicated atomic.Int64
}

func (k *redisKeyStore) key(id string) string { return k.prefix + ":dek:{app:" + id + "}" }
func (k *redisKeyStore) metaKey() string      { return k.prefix + ":dekmeta" }

func (k *redisKeyStore) write(ctx context.Context, fill func(p redis.Pipeliner)) error {
	return writeReplicatedOn(ctx, k.rdb, k.prefix, k.minReplicas, k.waitTimeout, &k.unreplicated, fill)
}

func (k *redisKeyStore) get(ctx context.Context, id string) (string, error) {
	v, err := k.rdb.Get(ctx, k.key(id)).Result()
	if errors.Is(err, redis.Nil) {
		return "", ErrNotFound
	}
	return v, err
}

// KEYS: 1 the key. ARGV: 1 the wrapped key. Sets it unless set; returns
// what is set afterwards.
var scriptAddKey = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
`)

func (k *redisKeyStore) add(ctx context.Context, id, wrapped string) (string, error) {
	var cmd *redis.Cmd
	err := k.write(ctx, func(p redis.Pipeliner) { cmd = scriptAddKey.Eval(ctx, p, []string{k.key(id)}, wrapped) })
	if err != nil {
		return "", err
	}
	return cmd.Text()
}

// KEYS: 1 the key. ARGV: 1 old, 2 new. Replaces old only.
var scriptSwapKey = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2])
  return 1
end
return 0
`)

func (k *redisKeyStore) swap(ctx context.Context, id, old, wrapped string) error {
	return k.write(ctx, func(p redis.Pipeliner) { scriptSwapKey.Eval(ctx, p, []string{k.key(id)}, old, wrapped) })
}

func (k *redisKeyStore) remove(ctx context.Context, id string) error {
	return k.write(ctx, func(p redis.Pipeliner) { p.Del(ctx, k.key(id)) })
}

func (k *redisKeyStore) each(ctx context.Context, fn func(id, wrapped string) error) error {
	pre := k.prefix + ":dek:{app:"
	it := k.rdb.Scan(ctx, 0, escapeGlob(pre)+"*", 1000).Iterator()
	for it.Next(ctx) {
		key := it.Val()
		if len(key) <= len(pre) || key[len(key)-1] != '}' {
			continue
		}
		id := key[len(pre) : len(key)-1]
		v, err := k.rdb.Get(ctx, key).Result()
		if errors.Is(err, redis.Nil) {
			continue // destroyed meanwhile
		}
		if err != nil {
			return err
		}
		if err := fn(id, v); err != nil {
			return err
		}
	}
	return it.Err()
}

func (k *redisKeyStore) close() error {
	if k.own {
		return k.rdb.Close()
	}
	return nil
}

// openRedisKeyStore reaches the key store the options name (the data
// Redis when none).
func (r *Redis) openRedisKeyStore(ctx context.Context, o options) (*redisKeyStore, error) {
	ks := &redisKeyStore{rdb: r.rdb, prefix: r.prefix, minReplicas: r.minReplicas, waitTimeout: r.waitTimeout, where: r.where()}
	if o.keyStore == "" {
		return ks, nil
	}
	t, err := parseRedisURL(o.keyStore)
	if err != nil {
		return nil, fmt.Errorf("key store: %w", err)
	}
	// The key store's URL carries its own password; the sentinels', if
	// they want one, is the store's.
	ks.rdb, ks.own, ks.where = t.client(options{sentinelPassword: o.sentinelPassword}), true, t.where
	if t.opts.Prefix != "" {
		ks.prefix = t.opts.Prefix
	}
	if err := ks.rdb.Ping(ctx).Err(); err != nil {
		ks.rdb.Close()
		return nil, fmt.Errorf("key store %s: %w", ks.where, err)
	}
	return ks, nil
}

// attachKeyStore reaches the key store and ties it to the data (see
// appkeys.go's attachKeyStore).
func (r *Redis) attachKeyStore(ctx context.Context, o options) (*redisKeyStore, error) {
	ks, err := r.openRedisKeyStore(ctx, o)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*redisKeyStore, error) {
		ks.close()
		return nil, err
	}
	meta, err := r.meta(ctx)
	if err != nil {
		return fail(err)
	}
	dataID := meta[metaKeyStore]
	ksID, err := ks.rdb.HGet(ctx, ks.metaKey(), metaKeyStore).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fail(fmt.Errorf("key store %s: %w", ks.where, err))
	}
	id, err := attachKeyStore(r.where(), ks.where, ksID, dataID)
	if err != nil {
		return fail(err)
	}
	if ksID == "" {
		var cmd *redis.Cmd
		err := ks.write(ctx, func(p redis.Pipeliner) { cmd = scriptPutMeta.Eval(ctx, p, []string{ks.metaKey()}, metaKeyStore, id) })
		if err != nil {
			return fail(fmt.Errorf("key store %s: %w", ks.where, err))
		}
		id, _ = cmd.Text() // another replica's may have come first
	}
	if dataID == "" {
		got, err := r.putMeta(ctx, metaKeyStore, id)
		if err != nil {
			return fail(err)
		}
		if got != id {
			if _, err := attachKeyStore(r.where(), ks.where, id, got); err != nil {
				return fail(err)
			}
		}
	}
	return ks, nil
}

// ShredKey destroys the application's own data key (KeyShredder): no
// copy of its sealed part (the AOF, an RDB snapshot, a backup) opens any
// more. Idempotent. Another replica may hold the key in memory until it
// drops it from its cache; the record it would open is erased already.
func (r *Redis) ShredKey(ctx context.Context, id string) error {
	if r.codec.dek == nil {
		return nil
	}
	r.codec.cache.drop(id)
	return r.codec.dek.shred(ctx, id)
}

// KeyStoreShared reports whether the applications' keys live in the data
// Redis (no key store of its own).
func (r *Redis) KeyStoreShared() bool { return r.keyStore != nil && !r.keyStore.own }

// PurgeShredded asks the Redis holding the keys to rewrite its AOF
// (BGREWRITEAOF), so that the writes of destroyed keys leave its files
// (KeyPurger). Only a key store of its own is rewritten: the data Redis
// rewrites its AOF on its own schedule (auto-aof-rewrite-percentage), and
// holding the keys there is what config check warns about. A rewrite
// already under way is left to finish; the next purge starts another.
// Snapshots (RDB) are the operator's: a key-store Redis runs without
// `save` (README, "Keys that shred").
func (r *Redis) PurgeShredded(ctx context.Context) error {
	if r.keyStore == nil || !r.keyStore.own {
		return nil
	}
	err := r.keyStore.rdb.BgRewriteAOF(ctx).Err()
	if err != nil && strings.Contains(err.Error(), "in progress") {
		return nil
	}
	return err
}
