package store

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"onething/contracts"
)

// The store URLs of the Redis backend:
//
//	redis://[:PASSWORD@]host:6379/DB[?prefix=…&dedupe_ttl=…&<go-redis options>]
//	redis+sentinel://[:PASSWORD@]s1:26379,s2:26379,s3:26379/MASTER[/DB][?…]
//
// (rediss:// and rediss+sentinel:// for TLS). With Sentinel the hosts are
// the sentinels, the first path segment is the master's name as the
// sentinels know it, and go-redis's failover client asks them where the
// primary is, and again after a failover. The password in either URL is the
// data nodes'; a sentinel's own password, where it has one, comes only from
// WithRedisPasswords (a file: the service's redis.sentinelPasswordFile).
// Redis Cluster is not supported (README, "Scale-out on Redis").
const (
	schemeSentinel    = "redis+sentinel"
	schemeSentinelTLS = "rediss+sentinel"
)

// IsSentinelURL reports whether a store URL names Redis through Sentinel.
func IsSentinelURL(raw string) bool {
	return strings.HasPrefix(raw, schemeSentinel+"://") || strings.HasPrefix(raw, schemeSentinelTLS+"://")
}

// CheckRedisURL reports what is wrong with a Redis store URL (nil: it
// parses), as OpenRedis would find it, without connecting.
func CheckRedisURL(raw string) error {
	_, err := parseRedisURL(raw)
	return err
}

// redisTarget is a parsed store URL: how to reach Redis and the backend's
// own options.
type redisTarget struct {
	opts RedisOptions
	// One of the two is set.
	single   *redis.Options
	failover *redis.FailoverOptions
	// where names the store in messages, without credentials.
	where string
}

// parseRedisURL splits a store URL into go-redis's options and the
// backend's own (prefix, dedupe_ttl).
func parseRedisURL(rawURL string) (redisTarget, error) {
	var t redisTarget
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error repeats the URL, password and all: say only what is wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return t, fmt.Errorf("store URL: not a valid URL: %v", err)
	}
	q := u.Query()
	t.opts.Prefix = q.Get("prefix")
	if v := q.Get("dedupe_ttl"); v != "" {
		if t.opts.DedupeTTL, err = time.ParseDuration(v); err != nil {
			return t, fmt.Errorf("store URL: dedupe_ttl: %w", err)
		}
	}
	q.Del("prefix")
	q.Del("dedupe_ttl")
	prefix := t.opts.Prefix
	if prefix == "" {
		prefix = "onething"
	}
	if u.Scheme == schemeSentinel || u.Scheme == schemeSentinelTLS {
		t.failover, err = failoverOptions(u, q)
		if err != nil {
			return t, fmt.Errorf("store URL: %w", err)
		}
		t.where = fmt.Sprintf("%s://%s/%s/%d?prefix=%s", u.Scheme, strings.Join(t.failover.SentinelAddrs, ","), t.failover.MasterName, t.failover.DB, prefix)
		return t, nil
	}
	u.RawQuery = q.Encode()
	t.single, err = redis.ParseURL(u.String())
	if err != nil {
		return t, fmt.Errorf("store URL: %w", err)
	}
	t.where = fmt.Sprintf("redis://%s/%d?prefix=%s", t.single.Addr, t.single.DB, prefix)
	return t, nil
}

// failoverOptions reads a redis+sentinel URL. The options go-redis knows
// (dial_timeout, pool_size, …) are read by its own ParseFailoverURL, given
// the same query on a URL of its form.
func failoverOptions(u *url.URL, q url.Values) (*redis.FailoverOptions, error) {
	var addrs []string
	for _, a := range strings.Split(u.Host, ",") {
		h, p, err := net.SplitHostPort(a)
		if err != nil || h == "" || p == "" {
			return nil, fmt.Errorf("sentinel address %q is not host:port", a)
		}
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("sentinel address %q has no valid port", a)
		}
		addrs = append(addrs, net.JoinHostPort(h, p))
	}
	path := strings.FieldsFunc(u.Path, func(r rune) bool { return r == '/' })
	if len(path) == 0 || len(path) > 2 {
		return nil, fmt.Errorf("a Sentinel URL names the master and optionally the database: %s://SENTINELS/MASTER[/DB]", u.Scheme)
	}
	db := 0
	if len(path) == 2 {
		n, err := strconv.Atoi(path[1])
		if err != nil || n < 0 {
			return nil, fmt.Errorf("invalid database number %q", path[1])
		}
		db = n
	}
	for _, own := range []string{"master_name", "addr", "db", "password", "username"} {
		if q.Has(own) {
			return nil, fmt.Errorf("%s is part of a Sentinel URL's address, not an option", own)
		}
	}
	lib := url.URL{Scheme: "redis", Host: addrs[0], RawQuery: q.Encode()}
	fo, err := redis.ParseFailoverURL(lib.String())
	if err != nil {
		return nil, err
	}
	fo.MasterName, fo.SentinelAddrs, fo.DB = path[0], addrs, db
	fo.SentinelUsername, fo.SentinelPassword = "", ""
	if u.User != nil {
		fo.Username = u.User.Username()
		fo.Password, _ = u.User.Password()
	}
	if u.Scheme == schemeSentinelTLS {
		fo.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return fo, nil
}

// client makes the go-redis client for the target, with the passwords of
// WithRedisPasswords in place of any the URL has.
func (t redisTarget) client(o options) *redis.Client {
	if t.failover != nil {
		fo := *t.failover
		if o.redisPassword != "" {
			fo.Password = o.redisPassword
		}
		fo.SentinelPassword = o.sentinelPassword
		return redis.NewFailoverClient(&fo)
	}
	so := *t.single
	if o.redisPassword != "" {
		so.Password = o.redisPassword
	}
	return redis.NewClient(&so)
}

// WithRedisPasswords gives the Redis backend its passwords (read from files
// by the service): the data nodes' (in place of the URL's, if not empty)
// and the sentinels' (Sentinel only; empty: they have none).
func WithRedisPasswords(password, sentinelPassword string) Option {
	return func(o *options) { o.redisPassword, o.sentinelPassword = password, sentinelPassword }
}

// WithMinReplicas makes every write of the Redis backend wait until at
// least n replicas have received it (WAIT n timeout, on the connection
// that wrote), and fail with ErrNotReplicated when they have not within
// timeout. The write itself stays: a retry is then a duplicate. 0 (the
// default) does not wait.
func WithMinReplicas(n int, timeout time.Duration) Option {
	return func(o *options) { o.minReplicas, o.waitTimeout = n, timeout }
}

// DefaultWaitTimeout bounds the wait for replicas when none is given.
const DefaultWaitTimeout = time.Second

// ErrNotReplicated: a write reached the primary but not the replicas that
// WithMinReplicas requires within its timeout. The write is not undone; the
// caller answers "retry later" and a retry finds it done.
var ErrNotReplicated = errors.New("store: the write was not confirmed by enough Redis replicas in time")

// runWrite runs a script that writes. With minReplicas it sends WAIT on
// the same connection right behind it (one pipeline: WAIT counts the
// replicas that have this connection's writes) and turns a wait that
// times out short of minReplicas into ErrNotReplicated; the script's
// reply is kept, so a caller that ignores the error still sees it.
func (r *Redis) runWrite(ctx context.Context, s *redis.Script, keys []string, args ...any) *redis.Cmd {
	if r.minReplicas <= 0 {
		return s.Run(ctx, r.rdb, keys, args...)
	}
	var cmd *redis.Cmd
	var wait *redis.IntCmd
	for try := 0; ; try++ {
		pipe := r.rdb.Pipeline()
		cmd = s.EvalSha(ctx, pipe, keys, args...)
		r.barrier(ctx, pipe)
		wait = pipe.(*redis.Pipeline).Wait(ctx, r.minReplicas, r.waitTimeout)
		_, _ = pipe.Exec(ctx) // each command carries its own error
		if try > 0 || !redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
			break
		}
		// A primary new after a failover has not seen the script yet; the
		// script did not run, so running it again is safe.
		if err := s.Load(ctx, r.rdb).Err(); err != nil {
			cmd.SetErr(err)
			return cmd
		}
	}
	if err := cmd.Err(); err != nil && !errors.Is(err, redis.Nil) {
		return cmd
	}
	if err := r.replicated(wait); err != nil {
		cmd.SetErr(err)
	}
	return cmd
}

// writeReplicated sends commands that write (fill) and, with minReplicas,
// WAIT behind them on the same connection.
func (r *Redis) writeReplicated(ctx context.Context, fill func(p redis.Pipeliner)) error {
	return writeReplicatedOn(ctx, r.rdb, r.prefix, r.minReplicas, r.waitTimeout, &r.unreplicated, fill)
}

// writeReplicatedOn is writeReplicated on any client (the key store's):
// its barrier key under prefix, its refusals counted in unreplicated.
func writeReplicatedOn(ctx context.Context, rdb *redis.Client, prefix string, minReplicas int, waitTimeout time.Duration, unreplicated *atomic.Int64, fill func(p redis.Pipeliner)) error {
	pipe := rdb.Pipeline()
	fill(pipe)
	var wait *redis.IntCmd
	if minReplicas > 0 {
		barrierOn(ctx, pipe, prefix)
		wait = pipe.(*redis.Pipeline).Wait(ctx, minReplicas, waitTimeout)
	}
	cmds, _ := pipe.Exec(ctx)
	for _, c := range cmds {
		if c == wait || isBarrier(c) {
			continue
		}
		if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
	}
	if wait == nil {
		return nil
	}
	return replicatedN(wait, minReplicas, waitTimeout, unreplicated)
}

// replicated reads a WAIT's answer.
func (r *Redis) replicated(wait *redis.IntCmd) error {
	return replicatedN(wait, r.minReplicas, r.waitTimeout, &r.unreplicated)
}

func replicatedN(wait *redis.IntCmd, minReplicas int, waitTimeout time.Duration, unreplicated *atomic.Int64) error {
	n, err := wait.Result()
	if err != nil {
		unreplicated.Add(1)
		return fmt.Errorf("%w: WAIT: %v", ErrNotReplicated, err)
	}
	if n < int64(minReplicas) {
		unreplicated.Add(1)
		return fmt.Errorf("%w: %d of %d replicas within %s", ErrNotReplicated, n, minReplicas, waitTimeout)
	}
	return nil
}

// barrier adds to a pipeline, before its WAIT, a write of its own: WAIT
// counts the replicas that have the connection's last write, and a script
// that wrote nothing (a duplicate answered from what an earlier write
// recorded, on another connection, perhaps never replicated) would leave
// that at an older offset. The barrier's offset is the primary's newest,
// so the WAIT behind it confirms everything written before.
func (r *Redis) barrier(ctx context.Context, pipe redis.Pipeliner) { barrierOn(ctx, pipe, r.prefix) }

func barrierOn(ctx context.Context, pipe redis.Pipeliner, prefix string) {
	pipe.Set(ctx, prefix+":sync", "1", time.Minute)
}

func isBarrier(c redis.Cmder) bool {
	args := c.Args()
	return len(args) > 1 && c.Name() == "set" && strings.HasSuffix(fmt.Sprint(args[1]), ":sync")
}

// confirmed is for an answer given from what an earlier write recorded
// (a duplicate delivery, an event applied before): with minReplicas it
// holds the answer back until the replicas have that write too.
func (r *Redis) confirmed(ctx context.Context) error {
	if r.minReplicas <= 0 {
		return nil
	}
	return r.writeReplicated(ctx, func(redis.Pipeliner) {})
}

// UnreplicatedWrites counts the writes refused for want of replicas
// (ErrNotReplicated) since the store was opened: the metric
// onething_store_writes_unreplicated_total.
func (r *Redis) UnreplicatedWrites() int64 {
	n := r.unreplicated.Load()
	if r.keyStore != nil { // its own count, the same Redis or not
		n += r.keyStore.unreplicated.Load()
	}
	return n
}

// GetConfirmed is Get for a read whose state is about to leave the gateway
// (a status push). With minReplicas the answer is held back until the
// replicas have every write on the Redis that answered, and is
// ErrNotReplicated when they do not in time: a state read on a primary
// and not yet on its replicas (a write refused for want of them, or one
// they had not received when the primary died) can be lost in a failover,
// and the portal, which keeps the newest version it took, would keep it
// and drop the pushes of the versions the promoted replica reaches again
// (a final status never arriving). The read, the barrier and the WAIT go
// in one pipeline, on one connection: to the Redis that answered, whichever
// a failover left the connection pool pointing at. 0 (the default): Get.
func (r *Redis) GetConfirmed(ctx context.Context, id string) (*contracts.Application, error) {
	if r.minReplicas <= 0 {
		return r.Get(ctx, id)
	}
	pipe := r.rdb.Pipeline()
	get := pipe.HGetAll(ctx, r.appKey(id))
	r.barrier(ctx, pipe)
	wait := pipe.(*redis.Pipeline).Wait(ctx, r.minReplicas, r.waitTimeout)
	_, _ = pipe.Exec(ctx) // each command carries its own error
	if err := get.Err(); err != nil {
		return nil, fmt.Errorf("read application: %w", err)
	}
	if err := r.replicated(wait); err != nil {
		return nil, fmt.Errorf("read application: %w", err)
	}
	app, _, _, _, err := r.decodeApp(id, get.Val(), false)
	r.notes.note(r, err)
	return app, err
}
