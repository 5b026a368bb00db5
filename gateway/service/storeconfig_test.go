package service

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	c "onething/contracts"
	"onething/gateway/store"
	"onething/gateway/store/redistest"
)

func initStore(t *testing.T, cfg Config) {
	t.Helper()
	if _, err := InitStore(context.Background(), cfg, nil); err != nil {
		t.Fatal(err)
	}
}

func TestOpenStoreChoosesTheBackend(t *testing.T) {
	dir := t.TempDir()
	dp := testProtection()
	cfg := Config{DataFile: filepath.Join(dir, "a.db"), DataProtection: dp}
	initStore(t, cfg)
	s, err := OpenStore(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*store.Bolt); !ok {
		t.Errorf("dataFile alone opened %T", s)
	}
	s.Close()
	cfg = Config{Store: "bolt://" + filepath.Join(dir, "b.db"), DataProtection: dp}
	initStore(t, cfg)
	s, err = OpenStore(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*store.Bolt); !ok {
		t.Errorf("bolt:// opened %T", s)
	}
	s.Close()
	for _, bad := range []string{"mysql://x", "bolt://", "redis://127.0.0.1:1/0?nonsense=1"} {
		if s, err := OpenStore(Config{Store: bad, DataProtection: dp}, nil); err == nil {
			s.Close()
			t.Errorf("store %q accepted", bad)
		}
	}
	if _, err := OpenStore(Config{DataProtection: dp}, nil); err == nil {
		t.Error("no store and no data file accepted")
	}

	srv := redistest.Start(t)
	cfg = Config{Store: srv.URL(), DataProtection: dp}
	initStore(t, cfg)
	s, err = OpenStore(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.(*store.Redis); !ok {
		t.Errorf("redis:// opened %T", s)
	}
}

// serve's open (New, through OpenStore) makes no store: a missing, empty,
// truncated or foreign one is refused, naming `onething store init`, and
// nothing is written. Today's gateway took a zero-byte file for a new,
// empty store and answered 404 for every application it had held.
func TestServeRefusesAStoreInitDidNotMake(t *testing.T) {
	dir := t.TempDir()
	dp := testProtection()
	refused := func(what string, cfg Config, kind error) {
		t.Helper()
		svc, err := New(cfg, nil)
		if err == nil {
			svc.Store.Close()
			t.Errorf("%s: serve opened it", what)
			return
		}
		if !errors.Is(err, kind) {
			t.Errorf("%s: %v, want %v", what, err, kind)
		}
		if kind != store.ErrDamaged && !strings.Contains(err.Error(), "onething store init --config FILE") {
			t.Errorf("%s: the message does not name the command to run: %v", what, err)
		}
		if !strings.HasPrefix(err.Error(), "存储") {
			t.Errorf("%s: the message is not Chinese first: %v", what, err)
		}
	}
	missing := filepath.Join(dir, "missing.db")
	refused("a missing file", Config{DataFile: missing, DataProtection: dp}, store.ErrNotInitialised)
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Error("serve created the missing file")
	}
	empty := filepath.Join(dir, "empty.db")
	os.WriteFile(empty, nil, 0o600)
	refused("a zero-byte file", Config{Store: "bolt://" + empty, DataProtection: dp}, store.ErrNotInitialised)

	other := filepath.Join(dir, "other.db")
	db, err := bolt.Open(other, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("accounts")); return err })
	db.Close()
	refused("another program's bbolt file", Config{DataFile: other, DataProtection: dp}, store.ErrForeign)

	// A store with data, truncated: refused before anything reads a page.
	full := Config{DataFile: filepath.Join(dir, "full.db"), DataProtection: dp}
	initStore(t, full)
	st, err := OpenStore(full, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		id := fmt.Sprintf("A%04d", i)
		st.Create(context.Background(), &c.Application{ID: id, PortalRef: "r" + id, Version: 1, Applicant: c.Applicant{Name: "张三"}, Timeline: make([]c.Entry, 30)}, nil, nil)
	}
	st.Close()
	info, _ := os.Stat(full.DataFile)
	os.Truncate(full.DataFile, info.Size()/2)
	refused("a truncated file", full, store.ErrDamaged)

	srv := redistest.Start(t)
	refused("an empty Redis", Config{Store: srv.URL(), DataProtection: dp}, store.ErrNotInitialised)
	rdb := srv.Client()
	rdb.Set(context.Background(), "sessions:1", "x", time.Hour)
	refused("a Redis with another program's keys", Config{Store: srv.URL(), DataProtection: dp}, store.ErrNotInitialised)
	if n, _ := rdb.DBSize(context.Background()).Result(); n != 1 {
		t.Errorf("serve wrote to Redis: %d keys", n)
	}
}

// store init, then init again (nothing changes), then serve opens it; the
// check finds it consistent.
func TestInitThenCheck(t *testing.T) {
	ctx := context.Background()
	cfg := Config{DataFile: filepath.Join(t.TempDir(), "s.db"), DataProtection: testProtection()}
	first, err := InitStore(ctx, cfg, nil)
	if err != nil || !first.Created {
		t.Fatalf("init: %+v, %v", first, err)
	}
	again, err := InitStore(ctx, cfg, nil)
	if err != nil || again.Created || again.Adopted || again.Identity != first.Identity {
		t.Fatalf("init again: %+v, %v", again, err)
	}
	rep, err := CheckStore(ctx, cfg, store.CheckOptions{Records: true}, nil)
	if err != nil || !rep.OK() || rep.Identity != first.Identity {
		t.Fatalf("check: %v, %v", rep, err)
	}
	if _, err := CheckStore(ctx, Config{DataFile: filepath.Join(t.TempDir(), "none.db"), DataProtection: cfg.DataProtection}, store.CheckOptions{}, nil); !errors.Is(err, store.ErrNotInitialised) {
		t.Errorf("check of a missing store: %v", err)
	}
}

// An unparseable Redis URL's error does not repeat its password.
func TestStoreURLErrorHidesThePassword(t *testing.T) {
	_, err := OpenStore(Config{Store: "redis://:s3cret-pa%zzss@127.0.0.1:6379/0", DataProtection: testProtection()}, nil)
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error: %v", err)
	}
}
