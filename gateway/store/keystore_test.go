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

	c "onething/contracts"
	"onething/gateway/store"
	"onething/gateway/store/redistest"
	"onething/gateway/store/storetest"
)

// The upgrade path on bbolt: a store from before the applications' own
// keys has no key store file and records sealed under the keyring
// (version 2). Opening it with keys makes the key store file (it is not
// data); its records still open; a reseal moves them under keys of their
// own (version 3). From then on the data names its key store, and a
// missing or other key store file is refused, in Chinese and English.
func TestBoltKeyStoreUpgrade(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path, keys := filepath.Join(dir, "onething.db"), devKeys(t)
	ks := path + store.KeyStoreSuffix
	// An older store: made without keys (no key store), then given a
	// version-2 record behind the store's back.
	if _, err := store.InitBolt(path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(ks); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a store without keys has a key store file: %v", err)
	}
	b, err := store.OpenBolt(path, store.Strict())
	if err != nil {
		t.Fatal(err)
	}
	a := storetest.PersonalApp("A", storetest.ExampleIDNumber, "ref-A")
	if _, err := b.Create(ctx, a, nil, nil); err != nil {
		t.Fatal(err)
	}
	store.PutRawRecord(t, b, "A", store.V2Record(t, keys, a))
	b.Close()

	// serve (a strict open) makes the key store file; the record opens.
	b, err = store.OpenBolt(path, store.WithKeys(keys), store.Strict())
	if err != nil {
		t.Fatalf("strict open of a store without key store file: %v", err)
	}
	if _, err := os.Stat(ks); err != nil {
		t.Fatalf("no key store file made: %v", err)
	}
	got, err := b.Get(ctx, "A")
	if err != nil {
		t.Fatalf("a version-2 record: %v", err)
	}
	if got.Applicant.Name != storetest.ExampleName {
		t.Errorf("a version-2 record opened to %+v", got.Applicant)
	}
	st, err := b.Reseal(ctx)
	if err != nil || st.Resealed != 1 {
		t.Fatalf("reseal: %+v, %v; want A moved to its own key", st, err)
	}
	if raw := store.RawRecord(t, b, "A"); !strings.HasPrefix(string(raw), `{"v":4,`) {
		t.Errorf("after the reseal: %.20s…, want version 4", raw)
	}
	if st, _ := b.Reseal(ctx); st.Resealed != 0 {
		t.Errorf("a second reseal rewrote %d", st.Resealed)
	}
	b.Close()

	// The key store file gone: refused, not remade.
	moved := filepath.Join(dir, "elsewhere.keys")
	if err := os.Rename(ks, moved); err != nil {
		t.Fatal(err)
	}
	for _, open := range []func() error{
		func() error {
			b, err := store.OpenBolt(path, store.WithKeys(keys), store.Strict())
			closeIf(b, err)
			return err
		},
		func() error { _, err := store.InitBolt(path, store.WithKeys(keys)); return err },
	} {
		err := open()
		var oe *store.OpenError
		if !errors.As(err, &oe) || !errors.Is(err, store.ErrKeyStoreMissing) || !strings.Contains(oe.ZH, "密钥库") || !strings.Contains(oe.EN, "key store") {
			t.Errorf("open without its key store file: %v, want ErrKeyStoreMissing in Chinese and English", err)
		}
	}
	if _, err := os.Stat(ks); !errors.Is(err, os.ErrNotExist) {
		t.Error("a refused open made a new key store file")
	}
	// Another store's key store file: refused.
	other := filepath.Join(dir, "other.db")
	if _, err := store.InitBolt(other, store.WithKeys(keys)); err != nil {
		t.Fatal(err)
	}
	if b, err := store.OpenBolt(path, store.WithKeys(keys), store.WithKeyStore(other+store.KeyStoreSuffix)); !errors.Is(err, store.ErrKeyStoreMissing) {
		closeIf(b, err)
		t.Errorf("open with another store's key store: %v, want ErrKeyStoreMissing", err)
	}
	// Its own, named: opens.
	b, err = store.OpenBolt(path, store.WithKeys(keys), store.WithKeyStore(moved), store.Strict())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if got, err := b.Get(ctx, "A"); err != nil || got.Applicant.Name != storetest.ExampleName {
		t.Errorf("with its key store named: %v", err)
	}
}

func closeIf(s store.Store, err error) {
	if err == nil && s != nil {
		s.Close()
	}
}

// On Redis the key store is the data Redis by default (P:dek:…), or a
// Redis of its own; a data store whose key store is empty is refused.
func TestRedisKeyStore(t *testing.T) {
	ctx := context.Background()
	data, ksSrv := redistest.Start(t), redistest.Start(t)
	keys := devKeys(t)
	// Shared: the keys live in the data Redis under the prefix.
	u := data.URL()
	s, err := store.OpenRedis(ctx, u, store.WithKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	if !s.KeyStoreShared() {
		t.Error("without a key store of its own, KeyStoreShared is false")
	}
	if _, err := s.Create(ctx, storetest.PersonalApp("A", storetest.ExampleIDNumber, "ref-A"), nil, nil); err != nil {
		t.Fatal(err)
	}
	if n, _ := data.Client().Exists(ctx, s.Prefix()+":dek:{app:A}").Result(); n != 1 {
		t.Error("the application's key is not in the data Redis")
	}
	s.Close()

	// Its own: nothing of the key in the data Redis.
	u, ksURL := data.URL(), ksSrv.URL()
	s, err = store.OpenRedis(ctx, u, store.WithKeys(keys), store.WithKeyStore(ksURL))
	if err != nil {
		t.Fatal(err)
	}
	if s.KeyStoreShared() {
		t.Error("with a key store of its own, KeyStoreShared is true")
	}
	if _, err := s.Create(ctx, storetest.PersonalApp("A", storetest.ExampleIDNumber, "ref-A"), nil, nil); err != nil {
		t.Fatal(err)
	}
	if n, _ := data.Client().Exists(ctx, s.Prefix()+":dek:{app:A}").Result(); n != 0 {
		t.Error("the application's key is in the data Redis")
	}
	s.Close()
	// The key store lost (empty): refused.
	if err := ksSrv.Client().FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if s, err := store.OpenRedis(ctx, u, store.WithKeys(keys), store.WithKeyStore(ksURL), store.Strict()); !errors.Is(err, store.ErrKeyStoreMissing) {
		closeIf(s, err)
		t.Errorf("open with an empty key store: %v, want ErrKeyStoreMissing", err)
	}
}

// With minReplicas, destroying a key waits for the replicas like every
// other write: an erasure is not confirmed while a replica may still
// hold the key.
func TestRedisShredKeyWaitsForReplicas(t *testing.T) {
	ctx := context.Background()
	primary := redistest.Start(t)
	replica := redistest.StartReplica(t, primary)
	s, err := store.OpenRedis(ctx, primary.URL(), store.WithKeys(devKeys(t)), store.WithMinReplicas(1, 300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Create(ctx, storetest.PersonalApp("A", storetest.ExampleIDNumber, "ref-A"), nil, nil); err != nil {
		t.Fatalf("create with the replica up: %v", err)
	}
	if err := s.ShredKey(ctx, "A"); err != nil {
		t.Fatalf("ShredKey with the replica up: %v", err)
	}
	replica.Kill()
	if _, err := s.Create(ctx, storetest.PersonalApp("B", storetest.ExampleIDNumber, "ref-B"), nil, nil); !errors.Is(err, store.ErrNotReplicated) {
		t.Errorf("create (its key's write) with the replica down: %v, want ErrNotReplicated", err)
	}
	if err := s.ShredKey(ctx, "B"); !errors.Is(err, store.ErrNotReplicated) {
		t.Errorf("ShredKey with the replica down: %v, want ErrNotReplicated", err)
	}
}

// The reseal reads the applications in chunks, one read transaction each
// (a walk in one transaction held bbolt's remap lock from start to end),
// and sees every record across the chunks' seams; a stop ends it.
func TestBoltResealWalksInChunks(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	b, err := store.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	const n = 2345 // two chunks and a part
	var apps []*c.Application
	for i := range n {
		apps = append(apps, storetest.PersonalApp(fmt.Sprintf("A%05d", i), storetest.ExampleIDNumber, fmt.Sprintf("ref-%d", i)))
	}
	if err := b.Bulk(ctx, apps); err != nil {
		t.Fatal(err)
	}
	b.Close()
	keys := storetest.NewKeys().Ring(t, "k1", "|", "i1")
	b, err = store.OpenBolt(path, store.WithKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	stopped, cancel := context.WithCancel(ctx)
	cancel()
	if st, err := b.Reseal(stopped); !errors.Is(err, context.Canceled) || st.Resealed != 0 {
		t.Errorf("a stopped reseal: %+v, %v", st, err)
	}
	st, err := b.Reseal(ctx)
	if err != nil || st.Scanned != n || st.Resealed != n {
		t.Fatalf("reseal of %d plain records: %+v, %v", n, st, err)
	}
	for _, id := range []string{"A00000", "A00999", "A01000", "A02344"} {
		if raw := store.RawRecord(t, b, id); !strings.HasPrefix(string(raw), `{"v":4,`) {
			t.Errorf("%s after the reseal: %.20s…, want version 4", id, raw)
		}
	}
	if st, err := b.Reseal(ctx); err != nil || st.Scanned != n || st.Resealed != 0 {
		t.Errorf("a second reseal: %+v, %v", st, err)
	}
}

// With its keys in the data Redis, a creation writes the application's
// data key in its own script: a submission refused as a duplicate leaves
// no key behind, and a key already there for the id (a creation that
// stopped after its key) is the one the record is sealed under, not
// replaced.
func TestRedisCreateWritesItsKey(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	rdb := srv.Client()
	keys := devKeys(t)
	first, err := store.OpenRedis(ctx, srv.URL(), store.WithKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if _, err := first.Create(ctx, storetest.PersonalApp("K", storetest.ExampleIDNumber, "ref-K"), nil, nil); err != nil {
		t.Fatal(err)
	}
	wrapped, err := rdb.Get(ctx, first.Prefix()+":dek:{app:K}").Result()
	if err != nil {
		t.Fatalf("the first store's key of K: %v", err)
	}

	u := srv.URL()
	s, err := store.OpenRedis(ctx, u, store.WithKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	keyOf := func(id string) string { return s.Prefix() + ":dek:{app:" + id + "}" }
	if err := rdb.Set(ctx, keyOf("K"), wrapped, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, storetest.PersonalApp("K", storetest.ExampleIDNumber, "ref-K"), []string{"ref:ref-K"}, nil); err != nil {
		t.Fatalf("create over a key already there: %v", err)
	}
	if got, _ := rdb.Get(ctx, keyOf("K")).Result(); got != wrapped {
		t.Error("the creation replaced the key already there")
	}
	if _, err := s.Create(ctx, storetest.PersonalApp("D", storetest.ExampleIDNumber, "ref-K"), []string{"ref:ref-K"}, nil); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("create under a taken reference: %v, want ErrDuplicate", err)
	}
	if n, _ := rdb.Exists(ctx, keyOf("D")).Result(); n != 0 {
		t.Error("a creation refused as a duplicate left a data key")
	}
	if _, err := s.Create(ctx, storetest.PersonalApp("N", storetest.ExampleIDNumber, "ref-N"), []string{"ref:ref-N"}, nil); err != nil {
		t.Fatal(err)
	}
	if n, _ := rdb.Exists(ctx, keyOf("N")).Result(); n != 1 {
		t.Error("a new application's key is not in the data Redis")
	}

	// Another process (no caches) opens both records with the stored keys.
	again, err := store.OpenRedis(ctx, u, store.WithKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	for _, id := range []string{"K", "N"} {
		app, err := again.Get(ctx, id)
		if err != nil {
			t.Fatalf("read %s in another process: %v", id, err)
		}
		if app.Applicant.IDNumber != storetest.ExampleIDNumber || app.Applicant.Name != storetest.ExampleName {
			t.Errorf("%s read back without its personal part", id)
		}
	}
}
