package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"onething/gateway/seal"
	"onething/gateway/store"
	"onething/gateway/store/storetest"
)

func TestBoltConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := store.OpenBolt(filepath.Join(t.TempDir(), "t.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// The suite again with personal data sealed, and its sealed part.
func TestBoltConformanceSealed(t *testing.T) {
	keys := storetest.NewKeys()
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := store.OpenBolt(filepath.Join(t.TempDir(), "t.db"), store.WithKeys(keys.Ring(t, "k1", "|", "i1")))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
	storetest.RunSealed(t, func(t *testing.T) func(*seal.Keyring) (store.Store, error) {
		path := filepath.Join(t.TempDir(), "t.db")
		return func(k *seal.Keyring) (store.Store, error) {
			if k == nil {
				return store.OpenBolt(path)
			}
			return store.OpenBolt(path, store.WithKeys(k))
		}
	})
}

// A process that dies holding leases: on reopen its jobs are due at once,
// not only when the leases would have run out.
func TestBoltReopenReleasesLeases(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	ctx := context.Background()
	s, err := store.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	s.Enqueue(ctx, store.Job{ID: "j", Kind: store.JobDispatch, AppID: "A", NotBefore: now})
	if got, _ := s.Lease(ctx, now, 1, time.Hour); len(got) != 1 {
		t.Fatal("not leased")
	}
	s.Close()
	s, err = store.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, _ := s.Lease(ctx, time.Now().Add(time.Second), 1, time.Hour)
	if len(got) != 1 || got[0].ID != "j" {
		t.Errorf("after reopen: %+v, want the job again", got)
	}
}
