package store_test

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

	"onething/gateway/seal"
	"onething/gateway/store"
	"onething/gateway/store/redistest"
	"onething/gateway/store/storetest"
)

// filledBolt is an initialised store with n applications, a queued job
// each, closed.
func filledBolt(t *testing.T, n int) (string, *seal.Keyring) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.db")
	keys := storetest.NewKeys().Ring(t, "k1", "|", "i1")
	if _, err := store.InitBolt(path, store.WithKeys(keys)); err != nil {
		t.Fatal(err)
	}
	s, err := strictBolt(path, keys)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		id := fmt.Sprintf("A%04d", i)
		job := store.Job{ID: "dispatch:" + id + "-1:1", Kind: store.JobDispatch, AppID: id, TaskID: id + "-1", NotBefore: time.Now()}
		if _, err := s.Create(t.Context(), storetest.PersonalApp(id, storetest.ExampleIDNumber, "ref-"+id), []string{"ref:" + id}, []store.Job{job}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	return path, keys
}

func TestBoltCheck(t *testing.T) {
	ctx := context.Background()
	path, keys := filledBolt(t, 300)
	rep, err := store.CheckBolt(ctx, path, store.CheckOptions{Records: true}, store.WithKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("a sound store: %v", rep.Problems)
	}
	for k, want := range map[string]int{"applications": 300, "jobs": 300, "openApplications": 300, "indexEntries": 300, "dedupeKeys": 300, "keyChecks": 2, "unreadableFound": 0,
		"listEntries": 1200} { // received, in 4 scopes each
		if rep.Counts[k] != want {
			t.Errorf("count %s = %d, want %d", k, rep.Counts[k], want)
		}
	}
	if rep.Identity.ID == "" || !strings.Contains(rep.String(), "consistent") {
		t.Errorf("report:\n%s", rep)
	}

	// A job whose due entry is gone: no worker would ever take it.
	broken := filepath.Join(t.TempDir(), "b.db")
	data, _ := os.ReadFile(path)
	os.WriteFile(broken, data, 0o600)
	db, _ := bolt.Open(broken, 0o600, nil)
	db.Update(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket([]byte("due")).Cursor().First()
		return tx.Bucket([]byte("due")).Delete(k)
	})
	db.Close()
	rep, err = store.CheckBolt(ctx, broken, store.CheckOptions{}, store.WithKeys(keys), store.WithKeyStore(path+store.KeyStoreSuffix))
	if err != nil || rep.OK() || !strings.Contains(strings.Join(rep.Problems, "\n"), "not in the due index") {
		t.Errorf("a job out of the due index: %v, %v", rep, err)
	}

	// A list entry of an application that is not stored.
	stray := filepath.Join(t.TempDir(), "l.db")
	os.WriteFile(stray, data, 0o600)
	db, _ = bolt.Open(stray, 0o600, nil)
	db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("lists")).Put([]byte("time\x00all\x000000001700000000000|GONE"), nil)
	})
	db.Close()
	rep, err = store.CheckBolt(ctx, stray, store.CheckOptions{}, store.WithKeys(keys), store.WithKeyStore(path+store.KeyStoreSuffix))
	if err != nil || rep.OK() || !strings.Contains(strings.Join(rep.Problems, "\n"), "a list names application GONE") {
		t.Errorf("a list entry of no application: %v, %v", rep, err)
	}

	// A leased job the leased index does not name: a restart would not
	// hand it back before its lease ends.
	unindexed := filepath.Join(t.TempDir(), "u.db")
	os.WriteFile(unindexed, data, 0o600)
	s, err := store.OpenBolt(unindexed, store.WithKeys(keys), store.WithKeyStore(path+store.KeyStoreSuffix))
	if err != nil {
		t.Fatal(err)
	}
	leased, err := s.Lease(ctx, time.Now(), 1, time.Hour)
	s.Close()
	if err != nil || len(leased) != 1 {
		t.Fatalf("lease: %v, %v", leased, err)
	}
	db, _ = bolt.Open(unindexed, 0o600, nil)
	db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("leased")).Delete([]byte(leased[0].ID)) })
	db.Close()
	rep, err = store.CheckBolt(ctx, unindexed, store.CheckOptions{}, store.WithKeys(keys), store.WithKeyStore(path+store.KeyStoreSuffix))
	if err != nil || rep.OK() || !strings.Contains(strings.Join(rep.Problems, "\n"), "not in the leased index") || rep.Counts["leasedJobs"] != 1 {
		t.Errorf("a leased job out of the leased index: %v, %v", rep, err)
	}

	// Wrong key material under the store's key id.
	wrong := storetest.NewKeys().Ring(t, "k1", "|", "i1")
	if rep, err := store.CheckBolt(ctx, path, store.CheckOptions{}, store.WithKeys(wrong)); err != nil || rep.OK() {
		t.Errorf("the check with other keys: %v, %v", rep, err)
	}
}

// Garbage written into a data page of a real file: the open cannot see it
// (it reads no data page), the offline check finds it.
func TestBoltCheckFindsACorruptedPage(t *testing.T) {
	ctx := context.Background()
	path, keys := filledBolt(t, 300)
	var root, pageSize int
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	db.View(func(tx *bolt.Tx) error {
		root = int(tx.Bucket([]byte("apps")).Root())
		return nil
	})
	pageSize = db.Info().PageSize
	db.Close()
	if root < 2 {
		t.Fatalf("the apps bucket is inline (root %d)", root)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	garbage := []byte(strings.Repeat("garbage!", pageSize/8))
	if _, err := f.WriteAt(garbage, int64(root*pageSize)); err != nil {
		t.Fatal(err)
	}
	f.Close()

	rep, err := store.CheckBolt(ctx, path, store.CheckOptions{Records: true}, store.WithKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() {
		t.Fatalf("garbage in page %d went unnoticed:\n%s", root, rep)
	}
	t.Logf("found:\n%s", rep)
}

func TestBoltCheckRefusesWhatIsNoStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := store.CheckBolt(ctx, filepath.Join(dir, "none.db"), store.CheckOptions{}); !errors.Is(err, store.ErrNotInitialised) {
		t.Errorf("a missing file: %v", err)
	}
	empty := filepath.Join(dir, "empty.db")
	os.WriteFile(empty, nil, 0o600)
	if _, err := store.CheckBolt(ctx, empty, store.CheckOptions{}); !errors.Is(err, store.ErrNotInitialised) {
		t.Errorf("an empty file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "none.db")); err == nil {
		t.Error("the check created a file")
	}
	// A truncated file is a problem found, not a crash.
	path, keys := filledBolt(t, 100)
	info, _ := os.Stat(path)
	os.Truncate(path, info.Size()/2)
	rep, err := store.CheckBolt(ctx, path, store.CheckOptions{}, store.WithKeys(keys))
	if err != nil || rep.OK() || !strings.Contains(rep.Problems[0], "truncated") {
		t.Errorf("a truncated file: %v, %v", rep, err)
	}
	// A store a gateway holds open is not checked.
	path, keys = filledBolt(t, 1)
	s, err := strictBolt(path, keys)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := store.CheckBolt(ctx, path, store.CheckOptions{}, store.WithKeys(keys)); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("a store in use: %v", err)
	}
}

func TestRedisCheck(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	keys := storetest.NewKeys().Ring(t, "k1", "|", "i1")
	url := srv.URL()
	if _, err := store.CheckRedis(ctx, url, store.CheckOptions{}, store.WithKeys(keys)); !errors.Is(err, store.ErrNotInitialised) {
		t.Errorf("an empty prefix: %v", err)
	}
	if _, err := store.InitRedis(ctx, url, store.WithKeys(keys)); err != nil {
		t.Fatal(err)
	}
	s, err := strictRedis(url, keys)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 20 {
		id := fmt.Sprintf("A%04d", i)
		job := store.Job{ID: "dispatch:" + id + "-1:1", Kind: store.JobDispatch, AppID: id, TaskID: id + "-1", NotBefore: time.Now()}
		s.Create(ctx, storetest.PersonalApp(id, storetest.ExampleIDNumber, "ref-"+id), nil, []store.Job{job})
	}
	rep, err := store.CheckRedis(ctx, url, store.CheckOptions{Records: true}, store.WithKeys(keys))
	if err != nil || !rep.OK() {
		t.Fatalf("a sound store: %v, %v", rep, err)
	}
	if rep.Counts["applications"] != 20 || rep.Counts["jobs"] != 20 || rep.Counts["keyChecks"] != 2 || rep.Identity != s.Identity() {
		t.Errorf("report:\n%s", rep)
	}
	rdb := srv.Client()
	doc, _ := rdb.HGet(ctx, s.AppKey("A0003"), "doc").Bytes()
	// A record in parts has the tasks' sealed part in its head.
	doc = []byte(strings.Replace(string(doc), `"sealed":"ot1.app.`, `"sealed":"ot1.k9.`, 1))
	rdb.HSet(ctx, s.AppKey("A0003"), "doc", strings.Replace(string(doc), `"tp":"ot1.app.`, `"tp":"ot1.k9.`, 1))
	rep, err = store.CheckRedis(ctx, url, store.CheckOptions{Records: true}, store.WithKeys(keys))
	if err != nil || rep.OK() || len(rep.Unreadable) != 1 || rep.Unreadable[0].ApplicationID != "A0003" {
		t.Errorf("a record that does not open: %v, %v", rep, err)
	}
}

// A check of a file a gateway holds open refuses, saying so in Chinese
// first and in English (what an operator reads at the console).
func TestCheckOfAFileInUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "busy.db")
	s, err := store.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = store.CheckBolt(context.Background(), path, store.CheckOptions{})
	if err == nil || !strings.Contains(err.Error(), "文件正在使用") || !strings.Contains(err.Error(), "the file is in use") {
		t.Errorf("check of a file in use: %v; want the refusal in Chinese and English", err)
	}
}
