package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
	bolt "go.etcd.io/bbolt"

	"onething/gateway/seal"
	"onething/gateway/store"
	"onething/gateway/store/redistest"
	"onething/gateway/store/storetest"
)

// refusal checks that err refuses the open as kind, in Chinese and
// English, naming the command to run.
func refusal(t *testing.T, what string, err error, kind error, command string) {
	t.Helper()
	var oe *store.OpenError
	if !errors.As(err, &oe) || !errors.Is(err, kind) {
		t.Errorf("%s: %v, want a refusal (%v)", what, err, kind)
		return
	}
	msg := err.Error()
	if command != "" && !strings.Contains(msg, command) {
		t.Errorf("%s: the message does not name %q: %s", what, command, msg)
	}
	if zh := strings.Index(msg, "存储"); zh != 0 || !strings.Contains(msg, " / store ") {
		t.Errorf("%s: not Chinese first and English beside: %s", what, msg)
	}
}

func strictBolt(path string, keys *seal.Keyring) (*store.Bolt, error) {
	return store.OpenBolt(path, store.Strict(), store.WithKeys(keys))
}

// serve's open (Strict) creates nothing and refuses what is not a store
// init made, naming `onething store init`.
func TestBoltStrictOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	keys := storetest.NewKeys().Ring(t, "k1", "|", "i1")
	init := "onething store init --config FILE"

	missing := filepath.Join(dir, "missing.db")
	_, err := strictBolt(missing, keys)
	refusal(t, "a missing file", err, store.ErrNotInitialised, init)
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the strict open created %s", missing)
	}

	empty := filepath.Join(dir, "empty.db")
	os.WriteFile(empty, nil, 0o600)
	_, err = strictBolt(empty, keys)
	refusal(t, "a zero-byte file", err, store.ErrNotInitialised, init)
	if info, _ := os.Stat(empty); info.Size() != 0 {
		t.Errorf("the zero-byte file was written to: %d bytes", info.Size())
	}
	// Nor does init take a zero-byte file for a new store.
	_, err = store.InitBolt(empty, store.WithKeys(keys))
	refusal(t, "init on a zero-byte file", err, store.ErrNotInitialised, "")

	// Another program's bbolt file.
	other := filepath.Join(dir, "other.db")
	db, err := bolt.Open(other, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error {
		b, _ := tx.CreateBucket([]byte("settings"))
		return b.Put([]byte("theme"), []byte("dark"))
	})
	db.Close()
	_, err = strictBolt(other, keys)
	refusal(t, "another program's bbolt file", err, store.ErrForeign, init)
	_, err = store.InitBolt(other, store.WithKeys(keys))
	refusal(t, "init on another program's bbolt file", err, store.ErrForeign, "")
	_, err = store.OpenBolt(other)
	refusal(t, "the tests' open of another program's bbolt file", err, store.ErrForeign, "")

	// A store whose list of buckets is damaged (no identity, and beside
	// onething's buckets one it never makes, or a name of garbage): to be
	// restored from a backup, not taken for another program's file and a
	// new store made in its place (outsider: a flipped page said "another
	// program's bbolt file … run onething store init").
	for name, buckets := range map[string][]string{
		"ours and another":  {"apps", "jobs", "settings"},
		"a name of garbage": {"\x00\x9f\x13k"},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".db")
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		db.Update(func(tx *bolt.Tx) error {
			for _, b := range buckets {
				tx.CreateBucket([]byte(b))
			}
			return nil
		})
		db.Close()
		_, err = strictBolt(path, keys)
		refusal(t, name, err, store.ErrDamaged, "")
		if err != nil && (!strings.Contains(err.Error(), "从备份恢复") || strings.Contains(err.Error(), "store init")) {
			t.Errorf("%s: %v", name, err)
		}
		if _, err := store.CheckBolt(context.Background(), path, store.CheckOptions{}); !errors.Is(err, store.ErrDamaged) {
			t.Errorf("%s: the check says %v", name, err)
		}
	}

	// A bbolt file with nothing in it.
	bare := filepath.Join(dir, "bare.db")
	db, _ = bolt.Open(bare, 0o600, nil)
	db.Close()
	_, err = strictBolt(bare, keys)
	refusal(t, "an empty bbolt file", err, store.ErrNotInitialised, init)

	// Not a bbolt file at all.
	text := filepath.Join(dir, "text.db")
	os.WriteFile(text, bytes.Repeat([]byte("not a database\n"), 1000), 0o600)
	_, err = strictBolt(text, keys)
	refusal(t, "a text file", err, store.ErrDamaged, "")

	// A store of another format.
	newer := filepath.Join(dir, "newer.db")
	if _, err := store.InitBolt(newer, store.WithKeys(keys)); err != nil {
		t.Fatal(err)
	}
	db, _ = bolt.Open(newer, 0o600, nil)
	db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("meta")).Put([]byte("store:format"), []byte("2")) })
	db.Close()
	_, err = strictBolt(newer, keys)
	refusal(t, "a store of format 2", err, store.ErrOtherFormat, "")
	_, err = store.InitBolt(newer, store.WithKeys(keys))
	refusal(t, "init on a store of format 2", err, store.ErrOtherFormat, "")
}

// A truncated file is refused at open, before bbolt maps it (reading past
// its end would be a SIGBUS), by serve's open, init and the tests' open.
func TestBoltTruncatedFileRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	keys := storetest.NewKeys().Ring(t, "k1", "|", "i1")
	if _, err := store.InitBolt(path, store.WithKeys(keys)); err != nil {
		t.Fatal(err)
	}
	s, err := strictBolt(path, keys)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		id := fmt.Sprintf("A%04d", i)
		if _, err := s.Create(t.Context(), storetest.PersonalApp(id, storetest.ExampleIDNumber, "ref-"+id), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	info, _ := os.Stat(path)
	if err := os.Truncate(path, info.Size()/2); err != nil {
		t.Fatal(err)
	}
	_, err = strictBolt(path, keys)
	refusal(t, "a truncated file", err, store.ErrDamaged, "onething store check --config FILE")
	if err != nil && !strings.Contains(err.Error(), "truncated") {
		t.Errorf("the message does not say truncated: %v", err)
	}
	_, err = store.InitBolt(path, store.WithKeys(keys))
	refusal(t, "init on a truncated file", err, store.ErrDamaged, "")
	_, err = store.OpenBolt(path, store.WithKeys(keys))
	refusal(t, "the tests' open of a truncated file", err, store.ErrDamaged, "")
}

// Init makes a store serve opens; a second init changes nothing (not a
// byte of the file), and checks the keys.
func TestBoltInitIsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	ks := storetest.NewKeys()
	keys := ks.Ring(t, "k1", "|", "i1")
	res, err := store.InitBolt(path, store.WithKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || res.Adopted || res.Identity.ID == "" || res.Identity.Format != store.FormatVersion || res.Identity.Created.IsZero() {
		t.Errorf("first init: %+v", res)
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*init*")); len(m) > 0 {
		t.Errorf("init left %v behind", m)
	}
	s, err := strictBolt(path, keys)
	if err != nil {
		t.Fatal(err)
	}
	if s.Identity() != res.Identity {
		t.Errorf("serve sees %+v, init made %+v", s.Identity(), res.Identity)
	}
	s.Create(t.Context(), storetest.PersonalApp("A", storetest.ExampleIDNumber, "ref-A"), nil, nil)
	s.Close()

	before, _ := os.ReadFile(path)
	again, err := store.InitBolt(path, store.WithKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	if again.Created || again.Adopted || again.Identity != res.Identity {
		t.Errorf("second init: %+v, want the first identity and nothing done", again)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("a second init changed the file")
	}
	// With another key under a known id, init refuses, as serve would.
	wrong := ks.Clone()
	wrong.Replace("k1")
	if _, err := store.InitBolt(path, store.WithKeys(wrong.Ring(t, "k1", "|", "i1"))); err == nil {
		t.Error("init with the wrong key material succeeded")
	}
}

// A file an earlier onething made (its buckets and key checks, no
// identity): serve refuses it until init records the identity, which
// leaves the data as it is.
func TestBoltInitAdoptsAnEarlierStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	keys := storetest.NewKeys().Ring(t, "k1", "|", "i1")
	s, err := store.OpenBolt(path, store.WithKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	s.Create(t.Context(), storetest.PersonalApp("A", storetest.ExampleIDNumber, "ref-A"), nil, nil)
	s.Close()
	db, _ := bolt.Open(path, 0o600, nil) // take the identity away
	db.Update(func(tx *bolt.Tx) error {
		m := tx.Bucket([]byte("meta"))
		for _, k := range []string{"store:id", "store:format", "store:created"} {
			m.Delete([]byte(k))
		}
		return tx.DeleteBucket([]byte("open")) // and the open index, as files before it
	})
	db.Close()

	_, err = strictBolt(path, keys)
	refusal(t, "an earlier onething's file", err, store.ErrNotInitialised, "onething store init --config FILE")
	res, err := store.InitBolt(path, store.WithKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Adopted || res.Created {
		t.Errorf("init of an earlier store: %+v", res)
	}
	s, err = strictBolt(path, keys)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if app, err := s.Get(t.Context(), "A"); err != nil || app.Applicant.Name != storetest.ExampleName {
		t.Errorf("the earlier data after init: %v", err)
	}
	var open []string
	s.OpenApps(t.Context(), func(id string) error { open = append(open, id); return nil })
	if len(open) != 1 {
		t.Errorf("open index after adopting: %v", open)
	}
}

func strictRedis(url string, keys *seal.Keyring) (*store.Redis, error) {
	return store.OpenRedis(context.Background(), url, store.Strict(), store.WithKeys(keys))
}

// The same on Redis: an empty database, another program's keys, an
// earlier onething's prefix, another format; serve's open writes nothing.
func TestRedisStrictOpenRefuses(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	ctx := context.Background()
	keys := storetest.NewKeys().Ring(t, "sm4:k1", "|", "i1")
	init := "onething store init --config FILE"

	url := srv.URL()
	_, err := strictRedis(url, keys)
	refusal(t, "an empty database", err, store.ErrNotInitialised, init)
	if n, _ := rdb.DBSize(ctx).Result(); n != 0 {
		t.Errorf("the strict open wrote %d keys", n)
	}

	// Another program's keys, none under the prefix: serve refuses; init
	// makes the store beside them (prefixes share a database).
	rdb.Set(ctx, "sessions:42", "x", 0)
	rdb.HSet(ctx, "cart:7", "item", "1")
	_, err = strictRedis(url, keys)
	refusal(t, "a database with other programs' keys", err, store.ErrNotInitialised, init)
	if err != nil && !strings.Contains(err.Error(), "2 keys") {
		t.Errorf("the message does not count the other keys: %v", err)
	}

	// Keys under the prefix that onething did not write: init refuses.
	other := srv.URL()
	prefix := strings.TrimPrefix(other[strings.Index(other, "prefix="):], "prefix=")
	rdb.Set(ctx, prefix+":something", "else", 0)
	_, err = strictRedis(other, keys)
	refusal(t, "someone else's keys under the prefix", err, store.ErrNotInitialised, init)
	_, err = store.InitRedis(ctx, other, store.WithKeys(keys))
	refusal(t, "init over someone else's keys", err, store.ErrForeign, "")

	// An earlier onething's prefix: refused until init adopts it.
	earlier := srv.URL()
	s, err := store.OpenRedis(ctx, earlier, store.WithKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	s.Create(ctx, storetest.PersonalApp("A", storetest.ExampleIDNumber, "ref-A"), nil, nil)
	rdb.HDel(ctx, s.MetaKey(), "store:id", "store:format", "store:created")
	s.Close()
	_, err = strictRedis(earlier, keys)
	refusal(t, "an earlier onething's prefix", err, store.ErrNotInitialised, init)
	res, err := store.InitRedis(ctx, earlier, store.WithKeys(keys))
	if err != nil || !res.Adopted {
		t.Fatalf("init of an earlier prefix: %+v, %v", res, err)
	}
	s, err = strictRedis(earlier, keys)
	if err != nil {
		t.Fatal(err)
	}
	if app, err := s.Get(ctx, "A"); err != nil || app.Applicant.Name != storetest.ExampleName {
		t.Errorf("the earlier data after init: %v", err)
	}
	// Another format.
	rdb.HSet(ctx, s.MetaKey(), "store:format", "2")
	s.Close()
	_, err = strictRedis(earlier, keys)
	refusal(t, "a store of format 2", err, store.ErrOtherFormat, "")
}

// Init on Redis: once, by every replica at once; again changes nothing;
// serve opens the result; a Redis that loses its data fails the store's
// ping instead of running on as an empty store.
func TestRedisInit(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	ctx := context.Background()
	keys := storetest.NewKeys().Ring(t, "sm4:k1", "|", "i1")
	url := srv.URL()
	var wg sync.WaitGroup
	results := make([]store.InitResult, 6)
	errs := make([]error, 6)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = store.InitRedis(ctx, url, store.WithKeys(keys))
		}()
	}
	wg.Wait()
	created := 0
	for i, r := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if r.Identity != results[0].Identity {
			t.Errorf("replica %d sees identity %+v, replica 0 %+v", i, r.Identity, results[0].Identity)
		}
		if r.Created {
			created++
		}
	}
	if created != 1 {
		t.Errorf("%d inits say they created the store, want 1", created)
	}
	s, err := strictRedis(url, keys)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before, _ := rdb.HGetAll(ctx, s.MetaKey()).Result()
	if len(before) < 5 { // identity and two key checks
		t.Errorf("meta after init: %v", before)
	}
	again, err := store.InitRedis(ctx, url, store.WithKeys(keys))
	if err != nil || again.Created || again.Adopted || again.Identity != results[0].Identity {
		t.Errorf("init again: %+v, %v", again, err)
	}
	after, _ := rdb.HGetAll(ctx, s.MetaKey()).Result()
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Errorf("init again changed meta: %v → %v", before, after)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	rdb.FlushDB(ctx)
	if err := s.Ping(ctx); err == nil || !strings.Contains(err.Error(), "identity") {
		t.Errorf("ping after Redis lost its data: %v", err)
	}
	_ = redis.Nil
}
