package store

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// The store's identity on Redis: three fields of P:meta (identity.go).

// Identity is the store's identity (see InitRedis).
func (r *Redis) Identity() Identity { return r.identity }

// where names the store in messages: address, database and prefix (never
// the password).
func (r *Redis) where() string {
	return r.at
}

// KEYS: 1 meta. ARGV: id, format, created. Records the identity unless
// there is one; returns the identity the store has afterwards and 1 when
// this call recorded it.
var scriptIdentity = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], 'store:format') == 1 then
  local v = redis.call('HMGET', KEYS[1], 'store:id', 'store:format', 'store:created')
  return {v[1] or '', v[2] or '', v[3] or '', 0}
end
redis.call('HSET', KEYS[1], 'store:id', ARGV[1], 'store:format', ARGV[2], 'store:created', ARGV[3])
return {ARGV[1], ARGV[2], ARGV[3], 1}
`)

// fixedKeys are the keys an onething store has whatever its applications.
func (r *Redis) fixedKeys() []string {
	return []string{r.queueKey("jobs"), r.queueKey("due"), r.queueKey("leases"), r.queueKey("open"),
		r.queueKey("done"), r.queueKey("dead"), r.auditKey()}
}

// prepare looks for the store's identity and, as the mode says, refuses
// (Strict), records one (init, create) or takes the one there. unchanged
// says an init found a store initialised before.
func (r *Redis) prepare(ctx context.Context, mode openMode) (res InitResult, unchanged bool, err error) {
	where := r.where()
	meta, err := r.meta(ctx)
	if err != nil {
		return res, false, fmt.Errorf("open store %s: read meta: %w", where, err)
	}
	id, has, err := identityOf(meta)
	if err != nil {
		return res, false, fmt.Errorf("open store %s: %w", where, err)
	}
	if has {
		if id.Format != FormatVersion {
			return res, false, otherFormat(where, id.Format)
		}
		r.identity, res.Identity = id, id
		return res, mode == modeInit, nil
	}
	// No identity: an earlier onething's store (it has key checks or the
	// queue's keys), keys of someone else, or nothing.
	earlier := len(meta) > 0
	if !earlier {
		pipe := r.rdb.Pipeline()
		var cmds []*redis.IntCmd
		for _, k := range r.fixedKeys() {
			cmds = append(cmds, pipe.Exists(ctx, k))
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return res, false, fmt.Errorf("open store %s: %w", where, err)
		}
		for _, c := range cmds {
			earlier = earlier || c.Val() > 0
		}
	}
	switch {
	case mode == modeStrict && earlier:
		return res, false, earlierStore(where)
	case mode == modeStrict:
		n, err := r.rdb.DBSize(ctx).Result()
		if err != nil {
			return res, false, fmt.Errorf("open store %s: %w", where, err)
		}
		if n == 0 {
			return res, false, notInitialised(where, "Redis 数据库为空，没有 onething 存储", "the Redis database is empty: no onething store")
		}
		return res, false, notInitialised(where,
			"前缀 "+r.prefix+" 下没有 onething 存储（没有存储标识；该数据库另有 "+strconv.FormatInt(n, 10)+" 个键，属于其他程序或其他前缀）",
			"no onething store under the prefix "+r.prefix+" (no store identity; the database holds "+strconv.FormatInt(n, 10)+" keys of other programs or prefixes)")
	case mode == modeInit && !earlier:
		// Keys under the prefix that onething did not write: not ours to take.
		it := r.rdb.Scan(ctx, 0, escapeGlob(r.prefix)+":*", 1000).Iterator()
		found := it.Next(ctx)
		if err := it.Err(); err != nil {
			return res, false, fmt.Errorf("init store %s: %w", where, err)
		}
		if found {
			if ok, err := r.rdb.HExists(ctx, r.metaKey(), metaStoreFormat).Result(); err == nil && ok {
				return r.prepare(ctx, mode) // another replica's init came first
			}
			return res, false, foreign(where, "前缀 "+r.prefix+" 下已有不是 onething 写入的键",
				"there are keys under the prefix "+r.prefix+" that onething did not write")
		}
	}
	want := newIdentity()
	f := want.fields()
	out, err := r.runWrite(ctx, scriptIdentity, []string{r.metaKey()}, f[metaStoreID], f[metaStoreFormat], f[metaStoreCreated]).Slice()
	if err != nil || len(out) != 4 {
		return res, false, fmt.Errorf("init store %s: record the identity: %v", where, err)
	}
	got := map[string]string{}
	for i, name := range []string{metaStoreID, metaStoreFormat, metaStoreCreated} {
		got[name], _ = out[i].(string)
	}
	id, _, err = identityOf(got)
	if err != nil {
		return res, false, fmt.Errorf("init store %s: %w", where, err)
	}
	if id.Format != FormatVersion {
		return res, false, otherFormat(where, id.Format)
	}
	r.identity, res.Identity = id, id
	if n, _ := out[3].(int64); n == 1 {
		res.Created, res.Adopted = !earlier, earlier
		return res, false, nil
	}
	// Another replica's init came first: its identity stands.
	return res, mode == modeInit, nil
}
