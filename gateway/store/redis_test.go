package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	c "onething/contracts"
	"onething/gateway/seal"
	"onething/gateway/store"
	"onething/gateway/store/redistest"
	"onething/gateway/store/storetest"
)

func openRedis(t *testing.T, url string, o ...store.Option) *store.Redis {
	t.Helper()
	s, err := store.OpenRedis(context.Background(), url, o...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestRedisConformance(t *testing.T) {
	srv := redistest.Start(t)
	storetest.Run(t, func(t *testing.T) store.Store { return openRedis(t, srv.URL()) })
}

// The races again, the contenders split over two connections (two
// gateway processes) on one Redis.
func TestRedisConformanceShared(t *testing.T) {
	srv := redistest.Start(t)
	storetest.RunShared(t, func(t *testing.T) (store.Store, store.Store) {
		url := srv.URL()
		return openRedis(t, url), openRedis(t, url)
	})
}

// The suite again with personal data sealed (also across two replicas
// sharing the keys), and its sealed part.
func TestRedisConformanceSealed(t *testing.T) {
	srv := redistest.Start(t)
	keys := storetest.NewKeys()
	storetest.Run(t, func(t *testing.T) store.Store {
		return openRedis(t, srv.URL(), store.WithKeys(keys.Ring(t, "sm4:k1", "|", "sm3:i1")))
	})
	storetest.RunShared(t, func(t *testing.T) (store.Store, store.Store) {
		url, ring := srv.URL(), keys.Ring(t, "sm4:k1", "|", "sm3:i1")
		return openRedis(t, url, store.WithKeys(ring)), openRedis(t, url, store.WithKeys(ring))
	})
	storetest.RunSealed(t, func(t *testing.T) func(*seal.Keyring) (store.Store, error) {
		url := srv.URL()
		return func(k *seal.Keyring) (store.Store, error) {
			if k == nil {
				return store.OpenRedis(context.Background(), url)
			}
			return store.OpenRedis(context.Background(), url, store.WithKeys(k))
		}
	})
}

func testApp(id string) *c.Application {
	return &c.Application{ID: id, PortalRef: "ref-" + id, Version: 1, Tasks: []*c.Task{{ID: id + "-1", Item: c.ItemMedicalSubsidy, Dept: c.DeptMedical, State: c.TaskReady}}}
}

// Dedupe keys expire (delivery and event ids after DedupeTTL); the portal
// reference lives as long as the application; one application's keys share
// its hash slot; finished jobs leave nothing behind.
func TestRedisKeysAndTTLs(t *testing.T) {
	srv := redistest.Start(t)
	s := openRedis(t, srv.URL())
	rdb := srv.Client()
	ctx := context.Background()
	now := time.Now()
	job := store.Job{ID: "dispatch:A-1:1", Kind: store.JobDispatch, AppID: "A", TaskID: "A-1", NotBefore: now}
	if _, err := s.Create(ctx, testApp("A"), []string{"delivery:msg_1", "ref:R1"}, []store.Job{job}); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, "A", "event:cdpf:ev1", func(a *c.Application) ([]store.Job, error) { a.Version++; return nil, nil }); err != nil {
		t.Fatal(err)
	}
	ttl := func(key string) time.Duration {
		d, err := rdb.PTTL(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	month := store.DefaultDedupeTTL
	if d := ttl(s.DedupeKey("delivery:msg_1")); d < month-time.Minute || d > month {
		t.Errorf("delivery key TTL %s, want %s", d, month)
	}
	if d := ttl(s.OnceKey("A", "event:cdpf:ev1")); d < month-time.Minute || d > month {
		t.Errorf("event key TTL %s, want %s", d, month)
	}
	if d := ttl(s.DedupeKey("ref:R1")); d != -1 {
		t.Errorf("portal reference key TTL %s, want none (lives with the application)", d)
	}
	if d := ttl(s.AppKey("A")); d != -1 {
		t.Errorf("application TTL %s, want none", d)
	}
	if keySlot("{user1000}.following") != keySlot("{user1000}.followers") || keySlot("123456789") != 12739 {
		t.Fatal("keySlot does not compute Redis Cluster's slots")
	}
	slot := keySlot
	if slot(s.AppKey("A")) != slot(s.OnceKey("A", "event:cdpf:ev1")) {
		t.Error("an application's once key is not in its hash slot")
	}
	jk, dk, lk, ok := s.QueueKeys()
	if slot(jk) != slot(dk) || slot(dk) != slot(lk) || slot(lk) != slot(ok) || slot(ok) != slot(s.DoneKey()) {
		t.Error("the queue's keys do not share a hash slot")
	}

	got, err := s.Lease(ctx, now, 10, time.Minute)
	if err != nil || len(got) != 1 {
		t.Fatalf("Lease = %+v, %v", got, err)
	}
	if err := s.Ack(ctx, got[0]); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{jk, dk, lk} {
		if n, _ := rdb.Exists(ctx, k).Result(); n != 0 {
			t.Errorf("%s still exists after the only job was acked", k)
		}
	}
	// Only the finished job's id is kept, for a while.
	if ids, _ := rdb.ZRange(ctx, s.DoneKey(), 0, -1).Result(); len(ids) != 1 || ids[0] != job.ID {
		t.Errorf("finished ids: %v", ids)
	}
	old := time.Now().Add(-store.DoneRetention - time.Hour)
	rdb.ZAdd(ctx, s.DoneKey(), redis.Z{Score: float64(old.UnixMilli()), Member: "ancient"})
	s.Enqueue(ctx, store.Job{ID: "j2", Kind: store.JobPush, AppID: "A", NotBefore: now})
	got, _ = s.Lease(ctx, now, 1, time.Minute)
	s.Ack(ctx, got[0])
	if ids, _ := rdb.ZRange(ctx, s.DoneKey(), 0, -1).Result(); len(ids) != 2 {
		t.Errorf("finished ids past their retention are kept: %v", ids)
	}
}

// A short DedupeTTL from the URL really lets a delivery id go.
func TestRedisDedupeKeyExpires(t *testing.T) {
	srv := redistest.Start(t)
	s := openRedis(t, srv.URL()+"&dedupe_ttl=150ms")
	ctx := context.Background()
	if _, err := s.Create(ctx, testApp("A"), []string{"delivery:msg_1", "ref:R1"}, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := s.Lookup(ctx, "delivery:msg_1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delivery key after its TTL: %v", err)
	}
	if id, err := s.Lookup(ctx, "ref:R1"); err != nil || id != "A" {
		t.Errorf("portal reference key: %q, %v", id, err)
	}
}

// An application's open flag follows its state: it leaves the open index
// when every task is final and every version pushed.
func TestRedisOpenIndex(t *testing.T) {
	srv := redistest.Start(t)
	s := openRedis(t, srv.URL())
	ctx := context.Background()
	s.Create(ctx, testApp("A"), nil, nil)
	openIDs := func() []string {
		var ids []string
		if err := s.OpenApps(ctx, func(id string) error { ids = append(ids, id); return nil }); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	if ids := openIDs(); len(ids) != 1 || ids[0] != "A" {
		t.Fatalf("open after create: %v", ids)
	}
	s.Update(ctx, "A", "", func(a *c.Application) ([]store.Job, error) {
		a.Tasks[0].State = c.TaskApproved
		a.Version++
		return nil, nil
	})
	if ids := openIDs(); len(ids) != 1 {
		t.Fatalf("open with a version not pushed: %v", ids)
	}
	s.Update(ctx, "A", "", func(a *c.Application) ([]store.Job, error) { a.PushedVersion = a.Version; return nil, nil })
	if ids := openIDs(); len(ids) != 0 {
		t.Errorf("still open when finished and pushed: %v", ids)
	}
}

// Redis answers nothing: every call fails with an error (no hang, no
// panic), and works again once Redis is back on the same data.
func TestRedisOutageAndRestart(t *testing.T) {
	srv := redistest.Start(t)
	url := srv.URL()
	s := openRedis(t, url)
	ctx := context.Background()
	if _, err := s.Create(ctx, testApp("A"), []string{"ref:R1"}, nil); err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	short, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := s.Get(short, "A"); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get with Redis down = %v, want a store error", err)
	}
	if err := s.Ping(short); err == nil {
		t.Error("Ping with Redis down succeeded")
	}
	srv.Restart()
	var err error
	for i := 0; i < 50; i++ { // pooled connections to the old process fail once
		if _, err = s.Get(ctx, "A"); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if id, err := s.Lookup(ctx, "ref:R1"); err != nil || id != "A" {
		t.Errorf("dedupe key after restart: %q, %v", id, err)
	}
}

// keySlot is Redis Cluster's hash slot of a key: CRC16 (XMODEM) of the key,
// or of its hash tag (the part between the first { and the next }) when
// that is not empty, modulo 16384.
func keySlot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	var crc uint16
	for k := 0; k < len(key); k++ {
		crc ^= uint16(key[k]) << 8
		for b := 0; b < 8; b++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % 16384
}

// A store written before the lists existed (no lists, no mark) gets them
// at the next open.
func TestRedisFillsListsOfAnOlderStore(t *testing.T) {
	srv := redistest.Start(t)
	url := srv.URL()
	s := openRedis(t, url)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i, id := range []string{"A", "B", "C"} {
		if _, err := s.Create(ctx, storetest.ListApp(id, "511702102001", t0.Add(time.Duration(i)*time.Minute), "2026-04-10"), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	rdb := s.Client()
	keys, err := rdb.Keys(ctx, s.Prefix()+":list:*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("list keys: %v, %v", keys, err)
	}
	if err := rdb.Del(ctx, keys...).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.HDel(ctx, s.MetaKey(), "lists:built:v2").Err(); err != nil {
		t.Fatal(err)
	}
	if got := storetest.ReadAll(t, s, store.ListRead{List: store.ListReceived, Scope: store.ScopeAll, Desc: true, N: 2}); len(got) != 0 {
		t.Fatalf("lists emptied, still %v", got)
	}
	s2 := openRedis(t, url)
	got := storetest.ReadAll(t, s2, store.ListRead{List: store.ListReceived, Scope: "511702102", Desc: true, N: 2})
	if !slices.Equal(got, []string{"C", "B", "A"}) {
		t.Errorf("the town's list after reopening an older store: %v, want [C B A]", got)
	}
	if n, err := s2.CountList(ctx, store.ListDue, store.ScopeAll, ""); err != nil || n != 3 {
		t.Errorf("due list after the fill: %d, %v; want 3", n, err)
	}
	if ok, _ := rdb.HExists(ctx, s.MetaKey(), "lists:built:v2").Result(); !ok {
		t.Error("the fill did not mark the store")
	}
}
