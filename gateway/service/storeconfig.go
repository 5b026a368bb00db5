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
// Personal data is sealed with the keys of DataProtection, which is
// required (see Keyring): the store is never opened to write plaintext.
func OpenStore(cfg Config, log *slog.Logger) (store.Store, error) {
	keys, err := Keyring(cfg)
	if err != nil {
		return nil, err
	}
	sealed := store.WithKeys(keys)
	switch u := cfg.Store; {
	case u == "":
		if cfg.DataFile == "" {
			return nil, fmt.Errorf("configuration: neither store nor dataFile is set")
		}
		return store.OpenBolt(cfg.DataFile, sealed)
	case strings.HasPrefix(u, "bolt://"):
		path := strings.TrimPrefix(u, "bolt://")
		if path == "" {
			return nil, fmt.Errorf("configuration: store %q names no file", u)
		}
		return store.OpenBolt(path, sealed)
	case strings.HasPrefix(u, "redis://"), strings.HasPrefix(u, "rediss://"):
		quietRedisLog(log)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return store.OpenRedis(ctx, u, sealed)
	default:
		return nil, fmt.Errorf("configuration: store must be bolt:///path or redis://host:port/db")
	}
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
	r := &reconcile.Reconciler{Src: src, Every: time.Duration(s.cfg.ReconcileEvery), Log: s.log, PollEvery: s.Engine.PollEvery}
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.Run(ctx)
	}()
}
