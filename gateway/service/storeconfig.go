package service

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"onething/gateway/reconcile"
	"onething/gateway/store"
)

// OpenStore opens the backend the configuration names in Store:
//
//	""                        the embedded bbolt file at DataFile
//	bolt:///path/onething.db  the embedded bbolt file at that path
//	redis://host:6379/0       Redis (several replicas share it; rediss:// for TLS,
//	                          ?prefix=… and ?dedupe_ttl=… as in store.OpenRedis)
//	redis+sentinel://s1:26379,s2:26379,s3:26379/MASTER
//	                          Redis found through Sentinel (RedisConfig for
//	                          passwords from files and minReplicas)
//
// It opens only a store `onething store init` made (InitStore): it never
// creates one, and refuses a missing, empty, foreign, other-format or
// damaged store with a message that names the command to run
// (store.Strict, *store.OpenError). Personal data is sealed with the keys
// of DataProtection, which is required (see Keyring): the store is never
// opened to write plaintext.
func OpenStore(cfg Config, log *slog.Logger) (store.Store, error) {
	keys, err := Keyring(cfg)
	if err != nil {
		return nil, err
	}
	t, err := StoreTarget(cfg)
	if err != nil {
		return nil, err
	}
	opts := append(KeyStoreOptions(cfg), store.WithKeys(keys), store.Strict())
	if t.Backend == "bolt" {
		return store.OpenBolt(t.Path, opts...)
	}
	ro, err := RedisStoreOptions(cfg)
	if err != nil {
		return nil, err
	}
	quietRedisLog(log)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return store.OpenRedis(ctx, t.URL, append(opts, ro...)...)
}

// Target is the store a configuration names.
type Target struct {
	Backend string // "bolt" or "redis"
	Path    string // the bbolt file
	URL     string // the Redis URL (with its password: never print it)
}

// StoreTarget resolves the configuration's store (see OpenStore).
func StoreTarget(cfg Config) (Target, error) {
	switch u := cfg.Store; {
	case u == "":
		if cfg.DataFile == "" {
			return Target{}, fmt.Errorf("configuration: neither store nor dataFile is set")
		}
		return Target{Backend: "bolt", Path: cfg.DataFile}, nil
	case strings.HasPrefix(u, "bolt://"):
		path := strings.TrimPrefix(u, "bolt://")
		if path == "" {
			return Target{}, fmt.Errorf("配置 / configuration: store %q 没有文件路径 / names no file", u)
		}
		return Target{Backend: "bolt", Path: path}, nil
	case strings.HasPrefix(u, "redis://"), strings.HasPrefix(u, "rediss://"), store.IsSentinelURL(u):
		return Target{Backend: "redis", URL: u}, nil
	default:
		return Target{}, fmt.Errorf("配置 / configuration: store 须为 bolt:///path、redis://host:port/db 或 redis+sentinel://SENTINELS/MASTER / must be bolt:///path, redis://host:port/db or redis+sentinel://SENTINELS/MASTER")
	}
}

// InitStore makes the store the configuration names, with the
// configuration's keys: `onething store init --config FILE [--store URL]`.
// It is safe to run before every start (an initContainer, a compose
// service before the replicas, several at once on Redis): on a store
// initialised before it checks the keys and changes nothing
// (InitResult.Created and Adopted false). On a store an earlier onething
// made it records the identity and leaves the data alone (Adopted). It
// refuses an empty file, another program's bbolt file or keys under the
// prefix, a store of another format or a damaged file (*store.OpenError),
// and keys that do not fit the store's data. See store.InitBolt and
// store.InitRedis.
func InitStore(ctx context.Context, cfg Config, log *slog.Logger) (store.InitResult, error) {
	keys, err := Keyring(cfg)
	if err != nil {
		return store.InitResult{}, err
	}
	t, err := StoreTarget(cfg)
	if err != nil {
		return store.InitResult{}, err
	}
	opts := append(KeyStoreOptions(cfg), store.WithKeys(keys))
	if t.Backend == "bolt" {
		return store.InitBolt(t.Path, opts...)
	}
	ro, err := RedisStoreOptions(cfg)
	if err != nil {
		return store.InitResult{}, err
	}
	quietRedisLog(log)
	return store.InitRedis(ctx, t.URL, append(ro, opts...)...)
}

// CheckStore runs the offline consistency check of the store the
// configuration names: `onething store check --config FILE [--store URL]
// [--records]`. An error means it could not check (no store, not
// initialised, in use, unreachable); a report whose OK is false lists the
// problems found. See store.CheckBolt and store.CheckRedis.
func CheckStore(ctx context.Context, cfg Config, co store.CheckOptions, log *slog.Logger) (*store.CheckReport, error) {
	keys, err := Keyring(cfg)
	if err != nil {
		return nil, err
	}
	t, err := StoreTarget(cfg)
	if err != nil {
		return nil, err
	}
	opts := append(KeyStoreOptions(cfg), store.WithKeys(keys))
	if t.Backend == "bolt" {
		return store.CheckBolt(ctx, t.Path, co, opts...)
	}
	ro, err := RedisStoreOptions(cfg)
	if err != nil {
		return nil, err
	}
	quietRedisLog(log)
	return store.CheckRedis(ctx, t.URL, co, append(ro, opts...)...)
}

var redisLogOnce sync.Once

// quietRedisLog sends go-redis's own messages (failed dials while Redis is
// down) to the service's log at debug level: the store's errors are
// reported, once each, where they are handled.
func quietRedisLog(log *slog.Logger) {
	if log == nil {
		log = slog.Default()
	}
	redisLogOnce.Do(func() { redis.SetLogger(redisLog{log}) })
}

type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis client: "+fmt.Sprintf(format, v...))
}

// runReconciler starts the reconciler when the store has one (Redis):
// it makes the queue agree with the applications' state again after
// anything outside the gateway made them disagree.
func (s *Service) runReconciler(ctx context.Context, wg *sync.WaitGroup) {
	src, ok := s.Store.(reconcile.Source)
	if !ok {
		return
	}
	r := &reconcile.Reconciler{Src: src, Every: time.Duration(s.cfg.ReconcileEvery), Log: s.log, PollEvery: s.Engine.PollEvery, SystemOf: s.Engine.SystemOf}
	s.goTask(ctx, wg, "reconcile", true, r.Run)
}

// RedisConfig tunes the Redis backend beyond its URL ("redis" in the
// configuration).
type RedisConfig struct {
	// PasswordFile holds the data nodes' password (in place of one in the
	// store URL); SentinelPasswordFile the sentinels' own, where they
	// require one (requirepass in sentinel.conf).
	PasswordFile         string `json:"passwordFile,omitempty"`
	SentinelPasswordFile string `json:"sentinelPasswordFile,omitempty"`
	// MinReplicas > 0 makes every write wait until that many replicas have
	// received it (Redis WAIT, for at most WaitTimeout, default 1s) and
	// answer 503 when they have not: the write stays and a retry is a
	// duplicate. With MinReplicas equal to the number of replicas Sentinel
	// may promote, nothing acknowledged is lost when the primary is. 0 (the
	// default) does not wait: a single Redis, or asynchronous replicas.
	MinReplicas int      `json:"minReplicas,omitempty"`
	WaitTimeout Duration `json:"waitTimeout,omitempty"`
}

// RedisStoreOptions are the store options of the redis section, its
// password files read.
func RedisStoreOptions(cfg Config) ([]store.Option, error) {
	rc := cfg.Redis
	if rc == nil {
		return nil, nil
	}
	password, err := readSecretFile("redis.passwordFile", rc.PasswordFile)
	if err != nil {
		return nil, err
	}
	sentinelPassword, err := readSecretFile("redis.sentinelPasswordFile", rc.SentinelPasswordFile)
	if err != nil {
		return nil, err
	}
	wait := time.Duration(rc.WaitTimeout)
	if wait == 0 {
		wait = store.DefaultWaitTimeout
	}
	return []store.Option{store.WithRedisPasswords(password, sentinelPassword), store.WithMinReplicas(rc.MinReplicas, wait)}, nil
}

// readSecretFile reads a file holding one secret (without its final line
// break); "" names none.
func readSecretFile(setting, path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("configuration: %s: 无法读取文件 / cannot read the file: %w", setting, err)
	}
	v := strings.TrimRight(string(b), "\r\n")
	if v == "" {
		return "", fmt.Errorf("configuration: %s: 文件为空 / the file is empty", setting)
	}
	return v, nil
}

// checkRedis checks the redis section (config check, serve).
func checkRedis(cfg Config, bad, warn func(string, ...any)) {
	rc := cfg.Redis
	if rc == nil {
		return
	}
	if t, err := StoreTarget(cfg); err != nil || t.Backend != "redis" {
		warn("redis: 存储不是 Redis，此设置被忽略 / set, but the store is not Redis; ignored")
		return
	}
	if rc.MinReplicas < 0 {
		bad("redis.minReplicas: %d 不能为负数（0 表示不等待从节点）/ is negative (0: do not wait for replicas)", rc.MinReplicas)
	}
	if rc.WaitTimeout < 0 {
		bad("redis.waitTimeout: %s 不能为负数 / is negative", time.Duration(rc.WaitTimeout))
	}
	if rc.MinReplicas > 0 && time.Duration(rc.WaitTimeout) >= 3*time.Second {
		// Only a warning: read_timeout in the store URL may be longer; the
		// store refuses to open when it is not.
		warn("redis.waitTimeout: %s 须小于 Redis 读超时（存储 URL 的 read_timeout，默认 3s），否则存储拒绝打开 / must stay below the Redis read timeout (read_timeout in the store URL, default 3s), or the store refuses to open", time.Duration(rc.WaitTimeout))
	}
	if _, err := RedisStoreOptions(cfg); err != nil {
		bad("%s", strings.TrimPrefix(err.Error(), "configuration: "))
	}
}

// KeyStoreOptions name the key store of the applications' own data keys
// (dataProtection.keyStore): for the embedded store a file (bolt:///path
// or a path; default the data file's path with ".keys"), for Redis a
// redis:// or redis+sentinel:// URL (default the data Redis). See
// store.WithKeyStore.
func KeyStoreOptions(cfg Config) []store.Option {
	dp := cfg.DataProtection
	if dp == nil || dp.KeyStore == "" {
		return nil
	}
	return []store.Option{store.WithKeyStore(strings.TrimPrefix(dp.KeyStore, "bolt://"))}
}

// checkKeyStore checks dataProtection.keyStore against the store (config
// check, serve).
func checkKeyStore(cfg Config, bad, warn func(string, ...any)) {
	t, err := StoreTarget(cfg)
	if err != nil || cfg.DataProtection == nil {
		return
	}
	ks := cfg.DataProtection.KeyStore
	redisURL := strings.HasPrefix(ks, "redis://") || strings.HasPrefix(ks, "rediss://") || store.IsSentinelURL(ks)
	switch {
	case t.Backend == "bolt" && redisURL:
		bad("dataProtection.keyStore: 嵌入式存储的密钥库是一个文件，不是 Redis / the embedded store's key store is a file, not Redis")
	case t.Backend == "bolt" && ks != "" && strings.TrimPrefix(ks, "bolt://") == t.Path:
		bad("dataProtection.keyStore: 密钥库不能是数据文件本身 / the key store cannot be the data file itself")
	case t.Backend == "redis" && ks == "":
		warn("dataProtection.keyStore: 未设置，申请的数据密钥与数据存于同一个 Redis：删除（擦除）申请时，该 Redis 的 AOF/RDB 文件及其备份中仍留有被销毁密钥的副本，直到 AOF 重写、备份过期；请为密钥库另设一个 Redis / " +
			"not set: the applications' data keys live in the data Redis, so an erasure does not shred the copies of a destroyed key in its AOF/RDB files and their backups (until the AOF is rewritten and the backups expire); name a Redis of its own")
	case t.Backend == "redis" && !redisURL:
		bad("dataProtection.keyStore: Redis 存储的密钥库须是 redis:// 或 redis+sentinel:// URL / the Redis store's key store must be a redis:// or redis+sentinel:// URL")
	case t.Backend == "redis":
		if err := store.CheckRedisURL(ks); err != nil {
			bad("dataProtection.keyStore: %s", strings.TrimPrefix(err.Error(), "store URL: "))
		}
	}
}
