package service

import (
	"context"
	"fmt"
	"log/slog"
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
	opts := []store.Option{store.WithKeys(keys), store.Strict()}
	if t.Backend == "bolt" {
		return store.OpenBolt(t.Path, opts...)
	}
	quietRedisLog(log)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return store.OpenRedis(ctx, t.URL, opts...)
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
			return Target{}, fmt.Errorf("configuration: store %q names no file", u)
		}
		return Target{Backend: "bolt", Path: path}, nil
	case strings.HasPrefix(u, "redis://"), strings.HasPrefix(u, "rediss://"):
		return Target{Backend: "redis", URL: u}, nil
	default:
		return Target{}, fmt.Errorf("configuration: store must be bolt:///path or redis://host:port/db")
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
	if t.Backend == "bolt" {
		return store.InitBolt(t.Path, store.WithKeys(keys))
	}
	quietRedisLog(log)
	return store.InitRedis(ctx, t.URL, store.WithKeys(keys))
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
	if t.Backend == "bolt" {
		return store.CheckBolt(ctx, t.Path, co, store.WithKeys(keys))
	}
	quietRedisLog(log)
	return store.CheckRedis(ctx, t.URL, co, store.WithKeys(keys))
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
