package store

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"onething/contracts"
	"onething/gateway/seal"
)

// Redis is the scale-out backend: several gateway replicas share one Redis
// (go-redis v9). Every write is one Lua script, so it is atomic on the
// server and the outbox rule of the Store holds as on bbolt: an
// application, its dedupe keys and the jobs its change implies are written
// together or not at all. Updates are optimistic: read the application and
// its revision, run fn, commit only if the revision is unchanged, else read
// again and re-run fn. fn may therefore run more than once; it must change
// nothing but the application it is given.
//
// Key layout (P is the prefix, "onething" by default):
//
//	P:{app:ID}                 hash: doc (application JSON; with keys the head of the record,
//	                           parts.go), rev, op (last write's token); with keys also per (the
//	                           sealed personal part) and t:00000… (the timeline's entries)
//	P:{app:ID}:once:KEY        once key of an update (event ids), TTL DedupeTTL
//	P:key:KEY                  dedupe key of a creation -> application id
//	                           ("delivery:…" TTL DedupeTTL; "ref:…" no TTL: it lives as long as the application)
//	P:{queue}:jobs             hash: job id -> job JSON (kind, app, task, attempt, last error)
//	P:{queue}:due              zset: job id by due time (ms), jobs waiting
//	P:{queue}:leases           zset: job id by lease end (ms), jobs held by a worker
//	P:{queue}:open             zset: ids of applications with work left, by last change (ms)
//	P:{queue}:done             zset: ids of jobs finished (acked), by when; kept DoneRetention
//	P:{queue}:dead             hash: parked jobs (dead letters) for an operator
//	P:{queue}:reconcile        lock of the reconciler pass (TTL)
//	P:idx:INDEX                set: ids of the applications whose ID number has this blind index
//	P:list:LIST:SCOPE          zset: the console's lists (lists.go), members "sort|id" at score 0
//	P:audit                    stream: the audit log (append-only; entry ids are its times)
//	P:meta                     hash: the key checks (codec.go)
//	P:dek:{app:ID}             string: the application's own data key, wrapped (redis_keys.go;
//	                           in the key store's Redis when it has one of its own)
//	P:dekmeta                  hash: the key store's id (idem)
//
// With keys (WithKeys) doc is the sealed envelope of codec.go: the
// personal fields never reach Redis in the clear.
//
// One application's keys share a hash slot ({app:ID}) and so do the queue's
// ({queue}). Creation's dedupe keys are looked up by delivery id or portal
// reference, so they cannot carry the application's tag.
type Redis struct {
	rdb        *redis.Client
	prefix     string
	dedupeTTL  time.Duration
	maxRetries int
	codec      codec
	keyStore   *redisKeyStore // with keys: the applications' own keys (redis_keys.go)
	identity   Identity
	notes      unreadableNotes
	// writers queues this process's updates of one application (by a
	// stripe of its id) so that they take turns instead of racing. The
	// revision check still settles races between replicas; this only
	// spares the losing read-decode-encode rounds within one: a case's
	// events arrive in bursts (five tasks dispatched, a department's
	// answers at once), and every lost round cost a full decode
	// (docs/PROFILING.md).
	writers [256]chan struct{}
	// at names the store in messages (no credentials).
	at string
	// minReplicas > 0: every write waits for that many replicas (WAIT)
	// for at most waitTimeout (WithMinReplicas).
	minReplicas int
	waitTimeout time.Duration
	// unreplicated counts writes refused for want of replicas.
	unreplicated atomic.Int64
}

// RedisOptions tune the Redis backend.
type RedisOptions struct {
	// Prefix of every key (default "onething"); several gateways (or tests)
	// can share one Redis under different prefixes.
	Prefix string
	// DedupeTTL bounds delivery-id and event-id keys (default 30 days).
	// Portal-reference keys ("ref:…") have none: they live as long as the
	// application does.
	DedupeTTL time.Duration
	// MaxConflicts bounds the optimistic retries of one Update (default 200).
	MaxConflicts int
}

// DefaultDedupeTTL is how long a delivery id or event id is remembered.
const DefaultDedupeTTL = 30 * 24 * time.Hour

// DoneRetention is how long the id of a finished job is remembered, so
// that the reconciler does not queue again work a worker has finished
// (e.g. a follow-up the department refused) while the record still looks
// as if it were owed. It does not hold back a dispatch or a push, whose
// record alone says whether it is owed (RecordOwes). Queueing a job by id
// anew (the engine's writes) forgets it at once.
const DoneRetention = 7 * 24 * time.Hour

// OpenRedis connects to the Redis a URL names (redis_conn.go):
//
//	redis://[user:password@]host:port/db[?prefix=onething&dedupe_ttl=720h&...]
//	redis+sentinel://[:password@]s1:26379,s2:26379,s3:26379/MASTER[/db][?...]
//
// (rediss:// and rediss+sentinel:// for TLS). prefix and dedupe_ttl are
// this backend's; every other query option is go-redis's (dial_timeout,
// pool_size, …). With Strict (the gateway) it opens only a store
// InitRedis made under the prefix; without (tests), it records the
// identity of a new one.
func OpenRedis(ctx context.Context, rawURL string, o ...Option) (*Redis, error) {
	t, err := parseRedisURL(rawURL)
	if err != nil {
		return nil, err
	}
	oo := buildOptions(o)
	r, _, err := newRedis(ctx, t.client(oo), t.opts, oo, t.where)
	return r, err
}

// InitRedis makes the store under the URL's prefix (`onething store
// init`): it records the identity and the key checks of the keys in the
// prefix's meta hash. A prefix with an earlier onething's data and no
// identity gets one, its data unchanged (Adopted); a store initialised
// before has its keys checked and nothing changed, so it is safe to run
// before every start, by every replica at once (the identity is written
// by one script, only where there is none). It refuses keys under the
// prefix that onething did not write, and a store of another format.
// Other keys in the database (other programs, other prefixes) are left
// alone.
func InitRedis(ctx context.Context, rawURL string, o ...Option) (InitResult, error) {
	t, err := parseRedisURL(rawURL)
	if err != nil {
		return InitResult{}, err
	}
	oo := buildOptions(o)
	oo.mode = modeInit
	r, res, err := newRedis(ctx, t.client(oo), t.opts, oo, t.where)
	if err != nil {
		return res, err
	}
	return res, r.Close()
}

// NewRedis builds the backend on a client and checks that Redis answers,
// that the store is there (see Strict) and that the keys fit the data
// (see OpenBolt).
func NewRedis(ctx context.Context, rdb *redis.Client, opts RedisOptions, o ...Option) (*Redis, error) {
	ro := rdb.Options()
	r, _, err := newRedis(ctx, rdb, opts, buildOptions(o), fmt.Sprintf("redis://%s/%d?prefix=%s", ro.Addr, ro.DB, cmp.Or(opts.Prefix, "onething")))
	return r, err
}

func newRedis(ctx context.Context, rdb *redis.Client, opts RedisOptions, o options, where string) (*Redis, InitResult, error) {
	if opts.Prefix == "" {
		opts.Prefix = "onething"
	}
	if opts.DedupeTTL == 0 {
		opts.DedupeTTL = DefaultDedupeTTL
	}
	if opts.MaxConflicts == 0 {
		opts.MaxConflicts = 200
	}
	r := &Redis{rdb: rdb, prefix: opts.Prefix, dedupeTTL: opts.DedupeTTL, maxRetries: opts.MaxConflicts, at: where,
		minReplicas: o.minReplicas, waitTimeout: cmp.Or(o.waitTimeout, DefaultWaitTimeout)}
	for i := range r.writers {
		r.writers[i] = make(chan struct{}, 1)
	}
	r.codec = codec{keys: o.keys, cache: newRecordCache(recordCacheBytes), parts: true}
	if rt := rdb.Options().ReadTimeout; r.minReplicas > 0 && rt > 0 && r.waitTimeout >= rt {
		// WAIT travels in a pipeline, read under the client's read timeout.
		rdb.Close()
		return nil, InitResult{}, fmt.Errorf("open store: the wait for replicas (%s) must be shorter than the Redis read timeout (%s, read_timeout in the store URL)", r.waitTimeout, rt)
	}
	if err := r.rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, InitResult{}, fmt.Errorf("open store: redis: %w", err)
	}
	res, unchanged, err := r.prepare(ctx, o.mode)
	if err != nil {
		rdb.Close()
		return nil, res, err
	}
	if err := checkKeys(ctx, r, o.keys, !unchanged); err != nil {
		rdb.Close()
		return nil, res, fmt.Errorf("open store: %w", err)
	}
	if o.keys != nil {
		ks, err := r.attachKeyStore(ctx, o)
		if err != nil {
			rdb.Close()
			return nil, res, fmt.Errorf("open store %s: %w", r.where(), err)
		}
		r.keyStore, r.codec.dek = ks, newAppKeys(o.keys, ks)
	}
	if err := r.prepareLists(ctx, res.Created, o.mode); err != nil {
		r.Close()
		return nil, res, fmt.Errorf("open store %s: %w", r.where(), err)
	}
	return r, res, nil
}

// Client is the underlying go-redis client (tests, operators' tools).
func (r *Redis) Client() *redis.Client { return r.rdb }

// Prefix is the key prefix in use.
func (r *Redis) Prefix() string { return r.prefix }

func (r *Redis) appKey(id string) string       { return r.prefix + ":{app:" + id + "}" }
func (r *Redis) onceKey(id, key string) string { return r.appKey(id) + ":once:" + key }
func (r *Redis) dedupeKey(key string) string   { return r.prefix + ":key:" + key }
func (r *Redis) queueKey(name string) string   { return r.prefix + ":{queue}:" + name }
func (r *Redis) indexKey(idx string) string    { return r.prefix + ":idx:" + idx }
func (r *Redis) auditKey() string              { return r.prefix + ":audit" }
func (r *Redis) metaKey() string               { return r.prefix + ":meta" }

// IndexKey, AuditKey and MetaKey name the blind index set of an index
// value, the audit stream and the key checks (tests, tools).
func (r *Redis) IndexKey(idx string) string { return r.indexKey(idx) }
func (r *Redis) AuditKey() string           { return r.auditKey() }
func (r *Redis) MetaKey() string            { return r.metaKey() }

// QueueKeys are the queue's keys: jobs, due, leases, open (tests, tools).
func (r *Redis) QueueKeys() (jobs, due, leases, open string) {
	return r.queueKey("jobs"), r.queueKey("due"), r.queueKey("leases"), r.queueKey("open")
}

// DoneKey is the key of the finished jobs' ids (tests, tools).
func (r *Redis) DoneKey() string { return r.queueKey("done") }

// writeKeys are the first five keys of every writing script: the
// application, the queue's jobs, due index, the open index and the
// finished ids.
func (r *Redis) writeKeys(appID string) []string {
	jk, dk, _, ok := r.QueueKeys()
	return []string{r.appKey(appID), jk, dk, ok, r.DoneKey()}
}

// AppKey is the key of an application's hash (tests, tools).
func (r *Redis) AppKey(id string) string { return r.appKey(id) }

// OnceKey and DedupeKey name the keys of a once key and a creation's
// dedupe key (tests, tools).
func (r *Redis) OnceKey(appID, key string) string { return r.onceKey(appID, key) }
func (r *Redis) DedupeKey(key string) string      { return r.dedupeKey(key) }

func (r *Redis) Close() error {
	err := r.rdb.Close()
	if r.keyStore != nil {
		err = errors.Join(err, r.keyStore.close())
	}
	return err
}

// Ping checks that Redis answers and still holds this store: the
// identity read at open is still there (a Redis that lost its data, or
// another store put in its place, is not this store).
func (r *Redis) Ping(ctx context.Context) error {
	if r.identity.ID == "" {
		return r.rdb.Ping(ctx).Err()
	}
	id, err := r.rdb.HGet(ctx, r.metaKey(), metaStoreID).Result()
	if errors.Is(err, redis.Nil) || (err == nil && id != r.identity.ID) {
		return fmt.Errorf("the store's identity (%s) is gone from %s: Redis lost its data, or another store took its place", r.identity.ID, r.where())
	}
	return err
}

// keyTTL is the lifetime of a creation's dedupe key (0: none).
func (r *Redis) keyTTL(key string) time.Duration {
	if strings.HasPrefix(key, "ref:") {
		return 0
	}
	return r.dedupeTTL
}

// token names one write, so that a script the client re-sends after a
// network error (go-redis retries) is recognised as already done.
func token() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func ms(t time.Time) int64 { return t.UnixMilli() }

// jobArgs flattens jobs to (id, JSON, due ms, replaced id) quadruples
// for the scripts.
func jobArgs(jobs []Job) ([]any, error) {
	args := make([]any, 0, 1+4*len(jobs))
	args = append(args, len(jobs))
	for _, j := range jobs {
		j.Due, j.Leased = j.NotBefore, false
		data, err := marshalJSON(j)
		if err != nil {
			return nil, err
		}
		args = append(args, j.ID, data, ms(j.NotBefore), j.Replaces)
	}
	return args, nil
}

// luaEnqueue is shared by the writing scripts: it queues the jobs given
// from ARGV[i] on (count, then id/JSON/score/replaced-id quadruples) whose
// ids are not queued yet, and returns how many it added. KEYS[2] jobs,
// KEYS[3] due, KEYS[5] finished ids. A write of the engine (restore false)
// queues a job even if its id finished before, and forgets that; the
// reconciler's restore leaves finished ids alone. A replaced job goes
// only while it waits (it is in the due set): a leased one is a worker's.
const luaEnqueue = `
local function enqueue(i, restore)
  local n = tonumber(ARGV[i])
  local added = 0
  for k = 0, n - 1 do
    local id = ARGV[i + 1 + 4 * k]
    local old = ARGV[i + 4 + 4 * k]
    if old ~= '' and redis.call('ZSCORE', KEYS[3], old) then
      redis.call('HDEL', KEYS[2], old)
      redis.call('ZREM', KEYS[3], old)
    end
    if not (restore and redis.call('ZSCORE', KEYS[5], id)) then
      if redis.call('HSETNX', KEYS[2], id, ARGV[i + 2 + 4 * k]) == 1 then
        redis.call('ZADD', KEYS[3], ARGV[i + 3 + 4 * k], id)
        redis.call('ZREM', KEYS[5], id)
        added = added + 1
      end
    end
  end
  return added
end
local function mark_open(flag, score, id)
  if flag == '1' then
    redis.call('ZADD', KEYS[4], score, id)
  else
    redis.call('ZREM', KEYS[4], id)
  end
end
`

// luaParts writes the parts of a record (parts.go) in the application's
// hash KEYS[1]: its argument is partsArg's JSON (s: fields and values to
// set, d: fields to delete, x: delete every part first).
const luaParts = `
local function write_parts(arg)
  local p = cjson.decode(arg)
  if p.x then
    local del = {}
    for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
      if f == 'per' or string.sub(f, 1, 2) == 't:' then
        del[#del + 1] = f
      end
    end
    if #del > 0 then
      redis.call('HDEL', KEYS[1], unpack(del))
    end
  end
  if #p.s > 0 then
    redis.call('HSET', KEYS[1], unpack(p.s))
  end
  if #p.d > 0 then
    redis.call('HDEL', KEYS[1], unpack(p.d))
  end
end
`

// luaWriteApp writes an application whose revision was checked (after
// luaEnqueue, whose mark_open it uses), the same in an update and a
// delivery: KEYS 1 app, 7 the old blind index set, 8 the new one;
// ARGV 1 id, 3 doc, 4 token, 5 open flag, 6 open score, 9 index flags
// ('1' or '0' each: leave the old set, join the new one); its argument
// the parts (luaParts); the lists' keys and arguments last (luaLists).
const luaWriteApp = luaLists + luaParts + `
local function write_app(parts)
  write_parts(parts)
  if string.sub(ARGV[9], 1, 1) == '1' then
    redis.call('SREM', KEYS[7], ARGV[1])
  end
  if string.sub(ARGV[9], 2, 2) == '1' then
    redis.call('SADD', KEYS[8], ARGV[1])
  end
  redis.call('HSET', KEYS[1], 'doc', ARGV[3], 'op', ARGV[4])
  redis.call('HINCRBY', KEYS[1], 'rev', 1)
  mark_open(ARGV[5], ARGV[6], ARGV[1])
  write_lists()
end
`

// luaIdentity refuses a write (returns true) when the store's identity
// (KEYS[meta], field store:id) is not the one read at open (ARGV[id]; empty
// when there was none): a Redis that lost its data (a FLUSHALL, a restart
// without persistence) or another store put in its place. One HGET in the
// script that writes, no round trip more.
const luaIdentity = `
local function identity_gone(meta, id)
  return id ~= '' and redis.call('HGET', meta, 'store:id') ~= id
end
`

// errIdentityGone is what a write refused by luaIdentity returns (the API
// answers 503 store_unavailable; /readyz says why).
func (r *Redis) errIdentityGone() error {
	return fmt.Errorf("the store's identity (%s) is gone from %s: Redis lost its data, or another store took its place; nothing was written", r.identity.ID, r.where())
}

// KEYS: 1 app, 2 jobs, 3 due, 4 open, 5 done, 6 blind index set (the app
// key when there is no index), 7 meta, 8 the application's data key (the
// app key when the script does not write it), 9… dedupe keys, then the
// list sets.
// ARGV: 1 id, 2 doc, 3 token, 4 open flag, 5 open score, 6 index flag
// ('1': add the id to KEYS[6]), 7 the store's id, 8 the data key, wrapped
// (empty: not written here), 9… one TTL (ms, 0 none) per dedupe key, then
// the jobs, then the record's parts (their count, then field and value
// each: createParts), then the lists' members (luaLists).
// A data key already there and another than ARGV[8] (a creation of the
// same id that stopped after its key) is returned, nothing written: the
// record is sealed again under it.
var scriptCreate = redis.NewScript(luaEnqueue + luaIdentity + luaLists + `
local nkeys = #KEYS - list_count()
if identity_gone(KEYS[7], ARGV[7]) then
  return {'identity'}
end
if redis.call('HGET', KEYS[1], 'op') == ARGV[3] then
  return {'ok'}
end
for i = 9, nkeys do
  local v = redis.call('GET', KEYS[i])
  if v then
    return {'dup', v}
  end
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {'exists'}
end
if ARGV[8] ~= '' then
  local k = redis.call('GET', KEYS[8])
  if not k then
    redis.call('SET', KEYS[8], ARGV[8])
  elseif k ~= ARGV[8] then
    return {'key', k}
  end
end
for i = 9, nkeys do
  local ttl = tonumber(ARGV[i])
  if ttl > 0 then
    redis.call('SET', KEYS[i], ARGV[1], 'PX', ttl)
  else
    redis.call('SET', KEYS[i], ARGV[1])
  end
end
local p = nkeys + 2 + 4 * tonumber(ARGV[nkeys + 1])
local fields = {'doc', ARGV[2], 'rev', 1, 'op', ARGV[3]}
for k = 1, 2 * tonumber(ARGV[p]) do
  fields[6 + k] = ARGV[p + k]
end
redis.call('HSET', KEYS[1], unpack(fields))
if ARGV[6] == '1' then
  redis.call('SADD', KEYS[6], ARGV[1])
end
mark_open(ARGV[4], ARGV[5], ARGV[1])
write_lists()
enqueue(nkeys + 1, false)
return {'ok'}
`)

// createParts are a new record's parts (its personal part and timeline
// entries) as scriptCreate takes them: their count, then field and value
// each, the values as they are (no JSON around them to quote and decode).
func createParts(w recordWrite) []any {
	n := len(w.tl)
	if w.per != nil {
		n++
	}
	out := make([]any, 0, 1+2*n)
	out = append(out, n)
	if w.per != nil {
		out = append(out, "per", w.per)
	}
	for i, e := range w.tl {
		out = append(out, timelineField(w.tlFrom+i), e)
	}
	return out
}

// Create writes a new application in one script: its record's parts, its
// blind index, its dedupe keys, its lists' entries, its first jobs and,
// when the applications' keys live in the data Redis, its data key (one
// round trip; the key is never written for a submission refused as a
// duplicate).
func (r *Redis) Create(ctx context.Context, app *contracts.Application, keys []string, jobs []Job) (string, error) {
	jargs, err := jobArgs(jobs)
	if err != nil {
		return "", err
	}
	ak, wrapped, err := r.newAppKey(app)
	if err != nil {
		return "", err
	}
	tok := token()
	for attempt := 0; ; attempt++ {
		var w recordWrite
		var idx string
		if ak != nil {
			w, idx, err = r.codec.encodePartsNew(app, ak)
		} else {
			w, idx, err = r.codec.encodeParts(app, nil)
		}
		if err != nil {
			return "", err
		}
		rkeys := r.writeKeys(app.ID)
		ikey, dkey := rkeys[0], rkeys[0]
		if idx != "" {
			ikey = r.indexKey(idx)
		}
		if wrapped != "" {
			dkey = r.keyStore.key(app.ID)
		}
		rkeys = append(rkeys, ikey, r.metaKey(), dkey)
		args := []any{app.ID, w.head, tok, flag(open(app)), ms(time.Now()), flag(idx != ""), r.identity.ID, wrapped}
		for _, k := range keys {
			rkeys = append(rkeys, r.dedupeKey(k))
			args = append(args, r.keyTTL(k).Milliseconds())
		}
		lkeys, largs := r.listArgs(nil, listEntries(app))
		args = append(append(append(args, jargs...), createParts(w)...), largs...)
		res, err := r.runWrite(ctx, scriptCreate, append(rkeys, lkeys...), args...).StringSlice()
		if err != nil {
			return "", fmt.Errorf("create application: %w", err)
		}
		switch res[0] {
		case "ok":
			if ak != nil {
				r.codec.dek.cache.Add(app.ID, ak)
			}
			return app.ID, nil
		case "dup":
			return res[1], ErrDuplicate
		case "identity":
			return "", fmt.Errorf("create application: %w", r.errIdentityGone())
		case "key":
			// The id has a data key already: seal under that one.
			if attempt > 0 {
				return "", fmt.Errorf("create application %s: its data key keeps changing", app.ID)
			}
			if ak, err = r.codec.keys.UnwrapAppKey(res[1], appKeyContext(app.ID)); err != nil {
				return "", err
			}
			wrapped = res[1]
			continue
		default:
			return "", fmt.Errorf("application %s exists", app.ID)
		}
	}
}

// newAppKey makes a new application's data key for Create to write with
// the record: only when the keys live in the data Redis (a key store of
// its own is written apart, before the record) and the application has
// none in this process's cache. nil: Create seals through the key store.
func (r *Redis) newAppKey(app *contracts.Application) (*seal.AppKey, string, error) {
	if r.codec.keys == nil || r.codec.dek == nil || r.keyStore == nil || r.keyStore.own || app.Erased != nil {
		return nil, "", nil
	}
	if r.codec.dek.cache.Contains(app.ID) {
		return nil, "", nil
	}
	return r.codec.keys.NewWrappedAppKey(appKeyContext(app.ID))
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func (r *Redis) Get(ctx context.Context, id string) (*contracts.Application, error) {
	app, _, err := r.Snapshot(ctx, id)
	return app, err
}

// Snapshot returns an application with its revision, which grows by one
// on every write; DropJob uses it to act only on unchanged state.
func (r *Redis) Snapshot(ctx context.Context, id string) (*contracts.Application, int64, error) {
	return r.snapshot(ctx, id, false)
}

// snapshot reads an application (the codec's cached decode, or its
// uncached one for a walk through the store).
func (r *Redis) snapshot(ctx context.Context, id string, uncached bool) (*contracts.Application, int64, error) {
	var app *contracts.Application
	var rev int64
	var err error
	if uncached {
		var h map[string]string
		if h, err = r.rdb.HGetAll(ctx, r.appKey(id)).Result(); err != nil {
			return nil, 0, fmt.Errorf("read application: %w", err)
		}
		app, rev, _, _, err = r.decodeApp(id, h, true)
	} else {
		var vals []any
		if vals, err = r.rdb.HMGet(ctx, r.appKey(id), headFields...).Result(); err != nil {
			return nil, 0, fmt.Errorf("read application: %w", err)
		}
		app, rev, _, _, err = r.readApp(ctx, id, vals)
	}
	r.notes.note(r, err)
	return app, rev, err
}

// headFields are what readApp reads first.
var headFields = []string{"doc", "rev", "per"}

// readApp decodes an application from its doc, rev and per fields
// (HMGET headFields), through the cache; a record in parts the cache does
// not hold is read whole (HGETALL) and decoded. Most reads are of records
// this process wrote last: one round trip, without the timeline.
func (r *Redis) readApp(ctx context.Context, id string, vals []any) (*contracts.Application, int64, string, *prior, error) {
	doc, _ := vals[0].(string)
	if doc == "" {
		return nil, 0, "", nil, ErrNotFound
	}
	per, _ := vals[2].(string)
	if pr, idx, ok := r.codec.cached(id, []byte(doc), []byte(per)); ok {
		rev, _ := vals[1].(string)
		n, err := strconv.ParseInt(rev, 10, 64)
		if err != nil {
			return nil, 0, "", nil, fmt.Errorf("application revision: %w", err)
		}
		return pr.app.Clone(), n, idx, pr, nil
	}
	if !strings.HasPrefix(doc, string(partsHead)) {
		rev, _ := vals[1].(string)
		return r.decodeApp(id, map[string]string{"doc": doc, "rev": rev}, false)
	}
	h, err := r.rdb.HGetAll(ctx, r.appKey(id)).Result()
	if err != nil {
		return nil, 0, "", nil, fmt.Errorf("read application: %w", err)
	}
	return r.decodeApp(id, h, false)
}

// decodeApp decodes an application's hash (HGETALL) through the codec;
// it also returns the blind index the record carries and what a write
// over it needs.
func (r *Redis) decodeApp(id string, h map[string]string, uncached bool) (*contracts.Application, int64, string, *prior, error) {
	doc := h["doc"]
	if doc == "" {
		return nil, 0, "", nil, ErrNotFound
	}
	n, err := strconv.ParseInt(h["rev"], 10, 64)
	if err != nil {
		return nil, 0, "", nil, fmt.Errorf("application revision: %w", err)
	}
	decode := r.codec.decodeParts
	if uncached {
		decode = r.codec.decodePartsUncached
	}
	app, idx, pr, err := decode(id, storedOfHash(h))
	if err != nil {
		return nil, 0, "", nil, err
	}
	return app, n, idx, pr, nil
}

// storedOfHash is the record an application's hash holds.
func storedOfHash(h map[string]string) stored {
	s := stored{head: []byte(h["doc"])}
	if per, ok := h["per"]; ok {
		s.per = []byte(per)
	}
	for f, v := range h {
		if len(f) != len(timelineField(0)) || !strings.HasPrefix(f, "t:") {
			continue
		}
		i, err := strconv.Atoi(f[2:])
		if err != nil || i < 0 {
			continue
		}
		for len(s.tl) <= i {
			s.tl = append(s.tl, nil)
		}
		s.tl[i] = []byte(v)
	}
	return s
}

// timelineField names a timeline entry's field in the application's hash.
func timelineField(i int) string {
	if i < 0 || i > 99999 {
		return fmt.Sprintf("t:%05d", i)
	}
	b := [7]byte{'t', ':', '0', '0', '0', '0', '0'}
	for j := 6; i > 0; j-- {
		b[j] = byte('0' + i%10)
		i /= 10
	}
	return string(b[:])
}

// partsArg is what a write changes in the record's parts, for luaParts.
func partsArg(w recordWrite) string {
	p := struct {
		S []string `json:"s"`
		D []string `json:"d"`
		X bool     `json:"x,omitempty"`
	}{S: []string{}, D: []string{}, X: w.dropParts}
	if w.per != nil {
		p.S = append(p.S, "per", string(w.per))
	}
	for i, e := range w.tl {
		p.S = append(p.S, timelineField(w.tlFrom+i), string(e))
	}
	for i := w.tlCount; i < w.tlOld; i++ {
		p.D = append(p.D, timelineField(i))
	}
	data, _ := marshalJSON(p)
	return string(data)
}

// Lookup finds the application a creation's dedupe key points to.
func (r *Redis) Lookup(ctx context.Context, key string) (string, error) {
	id, err := r.rdb.Get(ctx, r.dedupeKey(key)).Result()
	if errors.Is(err, redis.Nil) {
		return "", ErrNotFound
	}
	return id, err
}

// KEYS: 1 app, 2 jobs, 3 due, 4 open, 5 done, 6 once key, 7 old blind
// index set, 8 new blind index set (the app key where unused), 9 leases,
// 10 meta, then the list sets (luaLists).
// ARGV: 1 id, 2 expected rev, 3 doc, 4 token, 5 open flag, 6 open score,
// 7 once TTL (ms), 8 once flag ('1': check and set KEYS[6]), 9 index flags
// ('01': add to KEYS[8], '10': remove from KEYS[7], '11': both), 10-13 the
// job to ack (id, lease token, now, cutoff; an empty id: none), 14 the
// store's id (luaIdentity), 15 the parts (luaParts), 16… the jobs, then
// the lists' members.
// The ack comes before the new jobs: a job a change queues again under
// the acked id is work still to do.
var scriptUpdate = redis.NewScript(luaEnqueue + luaAck + luaIdentity + luaWriteApp + `
if identity_gone(KEYS[10], ARGV[14]) then
  return 'identity'
end
local rev = redis.call('HGET', KEYS[1], 'rev')
if not rev then
  return 'missing'
end
if redis.call('HGET', KEYS[1], 'op') == ARGV[4] then
  return 'ok'
end
if rev ~= ARGV[2] then
  return 'conflict'
end
if ARGV[8] == '1' then
  if redis.call('EXISTS', KEYS[6]) == 1 then
    return 'applied'
  end
  redis.call('SET', KEYS[6], ARGV[1], 'PX', ARGV[7])
end
write_app(ARGV[15])
if ARGV[10] ~= '' then
  ack(KEYS[2], KEYS[3], KEYS[9], KEYS[5], ARGV[10], ARGV[11], ARGV[12], ARGV[13])
end
enqueue(16, false)
return 'ok'
`)

// takeTurn waits for this process's turn to write application id and
// returns the function that ends it.
func (r *Redis) takeTurn(ctx context.Context, id string) (func(), error) {
	h := fnv.New32a()
	h.Write([]byte(id))
	turn := r.writers[h.Sum32()%uint32(len(r.writers))]
	select {
	case turn <- struct{}{}:
		return func() { <-turn }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (r *Redis) Update(ctx context.Context, id, onceKey string, fn UpdateFunc) error {
	return r.update(ctx, id, onceKey, nil, fn)
}

// UpdateAck is Update that also acks job in the same write.
func (r *Redis) UpdateAck(ctx context.Context, id string, job Job, fn UpdateFunc) error {
	return r.update(ctx, id, "", &job, fn)
}

func (r *Redis) update(ctx context.Context, id, onceKey string, ack *Job, fn UpdateFunc) error {
	done, err := r.takeTurn(ctx, id)
	if err != nil {
		return err
	}
	defer done()
	rkeys := r.writeKeys(id)
	if onceKey != "" {
		rkeys = append(rkeys, r.onceKey(id, onceKey))
	} else {
		rkeys = append(rkeys, rkeys[0])
	}
	tok := token()
	for attempt := 0; ; attempt++ {
		pipe := r.rdb.Pipeline()
		var once *redis.IntCmd
		if onceKey != "" {
			once = pipe.Exists(ctx, rkeys[5])
		}
		get := pipe.HMGet(ctx, rkeys[0], headFields...)
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return fmt.Errorf("read application: %w", err)
		}
		if once != nil && once.Val() == 1 {
			if err := r.confirmed(ctx); err != nil {
				return fmt.Errorf("update application: %w", err)
			}
			return ErrAlreadyApplied
		}
		app, rev, oldIdx, pr, err := r.readApp(ctx, id, get.Val())
		if err != nil {
			r.notes.note(r, err)
			return err
		}
		lists := listEntries(app) // before fn changes it
		jobs, err := fn(app)
		if err != nil {
			return err
		}
		w, idx, err := r.codec.encodeParts(app, pr)
		if err != nil {
			return err
		}
		jargs, err := jobArgs(jobs)
		if err != nil {
			return err
		}
		// The blind index moves only when the ID number or the index key
		// changed (a reseal); the revision check makes oldIdx current.
		ikeys, iflags := r.indexMove(rkeys[0], oldIdx, idx)
		now := time.Now()
		args := append([]any{id, rev, w.head, tok, flag(open(app)), ms(now), r.dedupeTTL.Milliseconds(), flag(onceKey != ""), iflags}, ackArgs(ack, now)...)
		args = append(args, r.identity.ID, partsArg(w))
		_, _, leases, _ := r.QueueKeys()
		lkeys, largs := r.listArgs(lists, listEntries(app))
		res, err := r.runWrite(ctx, scriptUpdate, append(append(append(rkeys[:6:6], ikeys...), leases, r.metaKey()), lkeys...), append(append(args, jargs...), largs...)...).Text()
		if err != nil {
			return fmt.Errorf("update application: %w", err)
		}
		switch res {
		case "ok":
			return nil
		case "missing":
			return ErrNotFound
		case "applied":
			return ErrAlreadyApplied
		case "identity":
			return fmt.Errorf("update application: %w", r.errIdentityGone())
		}
		// Another writer came first: read again and re-run fn.
		if attempt+1 >= r.maxRetries {
			return fmt.Errorf("update application: still conflicting after %d attempts", attempt+1)
		}
		wait := time.Duration(mrand.N(int64(1+min(attempt, 6)))) * time.Millisecond
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// KEYS: 1 unused, 2 jobs, 3 due, 4 unused, 5 done. ARGV: 1 restore
// ('1': leave finished ids alone), 2… the jobs.
var scriptEnqueue = redis.NewScript(luaEnqueue + `
return enqueue(2, ARGV[1] == '1')
`)

func (r *Redis) Enqueue(ctx context.Context, jobs ...Job) error {
	_, err := r.enqueue(ctx, false, jobs)
	return err
}

// EnqueueMissing queues the jobs that are not queued, and says how many
// that were: the reconciler's restore of work the queue lost. A job
// finished (acked) lately is left alone unless its record alone says it
// is owed (RecordOwes: a dispatch, a push), which the caller asks only
// when it is: then it is queued, and its id forgotten among the finished
// ones, as a write of the engine does.
func (r *Redis) EnqueueMissing(ctx context.Context, jobs ...Job) (int, error) {
	var owed, followUps []Job
	for _, j := range jobs {
		if RecordOwes(j.Kind) {
			owed = append(owed, j)
		} else {
			followUps = append(followUps, j)
		}
	}
	n, err := r.enqueue(ctx, false, owed)
	if err != nil {
		return n, err
	}
	m, err := r.enqueue(ctx, true, followUps)
	return n + m, err
}

func (r *Redis) enqueue(ctx context.Context, restore bool, jobs []Job) (int, error) {
	if len(jobs) == 0 {
		return 0, nil
	}
	jargs, err := jobArgs(jobs)
	if err != nil {
		return 0, err
	}
	jk, dk, _, _ := r.QueueKeys()
	n, err := r.runWrite(ctx, scriptEnqueue, []string{jk, jk, dk, jk, r.DoneKey()}, append([]any{flag(restore)}, jargs...)...).Int()
	if err != nil {
		return 0, fmt.Errorf("enqueue: %w", err)
	}
	return n, nil
}

// KEYS: 1 jobs, 2 due, 3 leases. ARGV: 1 now (ms), 2 n, 3 lease end (ms).
// Takes the earliest due of waiting jobs and of expired leases.
var scriptLease = redis.NewScript(`
local n = tonumber(ARGV[2])
local a = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, n)
local b = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, n)
local out = {}
local i, j, taken = 1, 1, 0
while taken < n and (i <= #a or j <= #b) do
  local id, from
  if j > #b or (i <= #a and tonumber(a[i + 1]) <= tonumber(b[j + 1])) then
    id, from = a[i], KEYS[2]
    i = i + 2
  else
    id, from = b[j], KEYS[3]
    j = j + 2
  end
  redis.call('ZREM', from, id)
  local job = redis.call('HGET', KEYS[1], id)
  if job then
    redis.call('ZADD', KEYS[3], ARGV[3], id)
    out[#out + 1] = id
    out[#out + 1] = job
    out[#out + 1] = (from == KEYS[3]) and '1' or '0'
    taken = taken + 1
  end
end
return out
`)

// Lease hands out up to n due jobs (waiting ones and those whose lease
// ran out, marked Retaken) for d. The lease end, to the millisecond, is
// the holder's token: Ack and Retry by a holder whose lease was taken over
// do nothing.
func (r *Redis) Lease(ctx context.Context, now time.Time, n int, d time.Duration) ([]Job, error) {
	if n <= 0 {
		return nil, nil
	}
	until := time.UnixMilli(ms(now.Add(d)))
	jk, dk, lk, _ := r.QueueKeys()
	// A lease is not waited for (WithMinReplicas): one lost with the
	// primary only makes the job due again, and a lease refused after it
	// was taken would hold the job until the lease ran out.
	res, err := scriptLease.Run(ctx, r.rdb, []string{jk, dk, lk}, ms(now), n, ms(until)).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("lease jobs: %w", err)
	}
	out := make([]Job, 0, len(res)/3)
	for i := 0; i+2 < len(res); i += 3 {
		var j Job
		if err := unmarshalJSON([]byte(res[i+1]), &j); err != nil {
			return out, fmt.Errorf("decode job: %w", err)
		}
		j.ID, j.Leased, j.Due = res[i], true, until
		// Taken from the leases: an earlier lease ended unacked, and its
		// holder may have made the call (kept by a retry from here on).
		j.Retaken = j.Retaken || res[i+2] == "1"
		out = append(out, j)
	}
	return out, nil
}

// leaseToken is the lease a job handed out by Lease carries ("" for a job
// that is not leased: then Ack and Retry act unconditionally).
func leaseToken(j Job) string {
	if !j.Leased || j.Due.IsZero() {
		return ""
	}
	return strconv.FormatInt(ms(j.Due), 10)
}

// luaAck is shared by Ack and Update (with a job to ack): it removes a
// finished job unless its lease token says another holder took it over,
// and keeps its id among the finished ones for DoneRetention.
const luaAck = `
local function ack(jobs, due, leases, done, id, token, now, cutoff)
  if token ~= '' then
    local s = redis.call('ZSCORE', leases, id)
    if s and tonumber(s) ~= tonumber(token) then
      return 0
    end
  end
  if redis.call('HDEL', jobs, id) == 1 then
    redis.call('ZADD', done, now, id)
  end
  redis.call('ZREM', due, id)
  redis.call('ZREM', leases, id)
  redis.call('ZREMRANGEBYSCORE', done, '-inf', '(' .. cutoff)
  return 1
end
`

// KEYS: 1 jobs, 2 due, 3 leases, 4 done. ARGV: 1 id, 2 lease token,
// 3 now (ms), 4 forget finished ids before (ms).
var scriptAck = redis.NewScript(luaAck + `
return ack(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
`)

// ackArgs are the ack function's id, lease token, now and cutoff (empty
// without a job: nothing to ack).
func ackArgs(job *Job, now time.Time) []any {
	if job == nil {
		return []any{"", "", 0, 0}
	}
	return []any{job.ID, leaseToken(*job), ms(now), ms(now.Add(-DoneRetention))}
}

// Ack removes a finished job; only its id is kept, for DoneRetention.
func (r *Redis) Ack(ctx context.Context, job Job) error {
	jk, dk, lk, _ := r.QueueKeys()
	now := time.Now()
	if err := r.runWrite(ctx, scriptAck, []string{jk, dk, lk, r.DoneKey()}, ackArgs(&job, now)...).Err(); err != nil {
		return fmt.Errorf("ack job: %w", err)
	}
	return nil
}

// KEYS: 1 jobs, 2 due, 3 leases. ARGV: 1 id, 2 lease token, 3 JSON, 4 due (ms).
var scriptRetry = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  return -1
end
if ARGV[2] ~= '' then
  local s = redis.call('ZSCORE', KEYS[3], ARGV[1])
  if s and tonumber(s) ~= tonumber(ARGV[2]) then
    return 0
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
return 1
`)

// Retry makes a leased job due again at the given time, keeping its
// attempt count and last error.
func (r *Redis) Retry(ctx context.Context, job Job, at time.Time) error {
	tok := leaseToken(job)
	j := job
	j.Leased, j.Due = false, at
	data, err := marshalJSON(j)
	if err != nil {
		return err
	}
	jk, dk, lk, _ := r.QueueKeys()
	n, err := r.runWrite(ctx, scriptRetry, []string{jk, dk, lk}, job.ID, tok, data, ms(at)).Int()
	if err != nil {
		return fmt.Errorf("retry job: %w", err)
	}
	if n < 0 {
		return ErrNotFound
	}
	return nil
}

func (r *Redis) QueueStats(ctx context.Context) (QueueStats, error) {
	jk, dk, lk, _ := r.QueueKeys()
	pipe := r.rdb.Pipeline()
	jobs := pipe.HLen(ctx, jk)
	leased := pipe.ZCard(ctx, lk)
	oldest := pipe.ZRangeWithScores(ctx, dk, 0, 0)
	if _, err := pipe.Exec(ctx); err != nil {
		return QueueStats{}, fmt.Errorf("queue stats: %w", err)
	}
	s := QueueStats{Jobs: int(jobs.Val()), Leased: int(leased.Val())}
	if z := oldest.Val(); len(z) == 1 {
		s.OldestDue = time.UnixMilli(int64(z[0].Score))
	}
	return s, nil
}

// OpenApps calls fn with the id of every application that may still need
// work (a task not final or a version not pushed).
func (r *Redis) OpenApps(ctx context.Context, fn func(id string) error) error {
	_, _, _, ok := r.QueueKeys()
	it := r.rdb.ZScan(ctx, ok, 0, "", 200).Iterator()
	for i := 0; it.Next(ctx); i++ {
		if i%2 == 1 { // ZSCAN yields member, score, member, score …
			continue
		}
		if err := fn(it.Val()); err != nil {
			return err
		}
	}
	return it.Err()
}

// Jobs calls fn with every queued job, leased or not.
func (r *Redis) Jobs(ctx context.Context, fn func(Job) error) error {
	jk, _, lk, _ := r.QueueKeys()
	it := r.rdb.HScan(ctx, jk, 0, "", 200).Iterator()
	var id string
	for i := 0; it.Next(ctx); i++ {
		if i%2 == 0 {
			id = it.Val()
			continue
		}
		var j Job
		if err := unmarshalJSON([]byte(it.Val()), &j); err != nil {
			// Not a job at all: hand it over as one with only its id, so
			// the caller can drop it.
			j = Job{}
		}
		j.ID = id
		if s, err := r.rdb.ZScore(ctx, lk, id).Result(); err == nil {
			j.Leased, j.Due = true, time.UnixMilli(int64(s))
		}
		if err := fn(j); err != nil {
			return err
		}
	}
	return it.Err()
}

// KEYS: 1 jobs, 2 due, 3 leases, 4 app. ARGV: 1 id, 2 revision read.
var scriptDrop = redis.NewScript(`
local rev = redis.call('HGET', KEYS[4], 'rev') or '0'
if rev ~= ARGV[2] then
  return 0
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
`)

// DropJob removes a queued job only if its application is still at
// revision rev (0: the application does not exist), so a decision taken
// on a snapshot is never applied to state that has moved on.
func (r *Redis) DropJob(ctx context.Context, job Job, rev int64) (bool, error) {
	jk, dk, lk, _ := r.QueueKeys()
	n, err := r.runWrite(ctx, scriptDrop, []string{jk, dk, lk, r.appKey(job.AppID)}, job.ID, rev).Int()
	if err != nil {
		return false, fmt.Errorf("drop job: %w", err)
	}
	return n == 1, nil
}

var scriptUnlock = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// TryLock takes the reconciler's lock for ttl; release gives it back.
// Only one replica reconciles at a time.
func (r *Redis) TryLock(ctx context.Context, ttl time.Duration) (release func(), ok bool, err error) {
	key, tok := r.queueKey("reconcile"), token()
	ok, err = r.rdb.SetNX(ctx, key, tok, ttl).Result()
	if err != nil || !ok {
		return func() {}, false, err
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		scriptUnlock.Run(ctx, r.rdb, []string{key}, tok)
	}, true, nil
}

// indexMove is the blind-index part of an application write's keys and
// flags: the old index set to leave and the new one to join ("1" each)
// when the index changed (the ID number or the index key, a reseal),
// else the application's own key twice and "00".
func (r *Redis) indexMove(appKey, oldIdx, idx string) ([]string, string) {
	ikeys, iflags := []string{appKey, appKey}, "00"
	if idx != oldIdx {
		iflags = flag(oldIdx != "") + flag(idx != "")
		if oldIdx != "" {
			ikeys[0] = r.indexKey(oldIdx)
		}
		if idx != "" {
			ikeys[1] = r.indexKey(idx)
		}
	}
	return ikeys, iflags
}
