package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	c "onething/contracts"
	"onething/gateway/store"
	"onething/gateway/store/storetest"
)

// Compaction gives back the pages erasures freed: the file shrinks, the
// data and the identity stay, and it refuses a file a gateway has open.
func TestBoltCompact(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	keys := storetest.NewKeys().Ring(t, "k1", "|", "i1")
	if _, err := store.InitBolt(path, store.WithKeys(keys)); err != nil {
		t.Fatal(err)
	}
	s, err := store.OpenBolt(path, store.WithKeys(keys), store.Strict())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 600 {
		id := fmt.Sprintf("A%04d", i)
		if _, err := s.Create(ctx, storetest.PersonalApp(id, storetest.ExampleIDNumber, "ref-"+id), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 500 {
		id := fmt.Sprintf("A%04d", i)
		if _, err := store.Erase(ctx, s, id, c.Erasure{Kind: c.ErasureRequest, By: "t"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.CompactBolt(path); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("compacting a file the store has open = %v, want refused", err)
	}
	// A consistent copy of the open store compacts; the pages in use are
	// what a compaction keeps, at most the file.
	snap := filepath.Join(t.TempDir(), "snap.db")
	if err := s.CopyFile(snap); err != nil {
		t.Fatalf("CopyFile of the open store: %v", err)
	}
	if _, err := store.CompactBolt(snap); err != nil {
		t.Errorf("compacting the copy: %v", err)
	}
	if n, err := s.BytesInUse(); err != nil || n <= 0 {
		t.Errorf("BytesInUse = %d, %v", n, err)
	} else if info, _ := os.Stat(path); n > info.Size() {
		t.Errorf("BytesInUse %d above the file's %d bytes", n, info.Size())
	}
	s.Close()
	res, err := store.CompactBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	if res.After >= res.Before {
		t.Errorf("compaction: %d → %d bytes, want smaller", res.Before, res.After)
	}
	if info, _ := os.Stat(path); info.Size() != res.After {
		t.Errorf("the file is %d bytes, the result says %d", info.Size(), res.After)
	}
	s, err = store.OpenBolt(path, store.WithKeys(keys), store.Strict())
	if err != nil {
		t.Fatalf("strict open after compaction: %v", err)
	}
	defer s.Close()
	if a, err := s.Get(ctx, "A0599"); err != nil || a.Applicant.IDNumber != storetest.ExampleIDNumber {
		t.Errorf("a kept application after compaction: %v", err)
	}
	if a, err := s.Get(ctx, "A0000"); err != nil || a.Erased == nil || a.Applicant.IDNumber != "" {
		t.Errorf("an erased application after compaction: %+v %v", a, err)
	}
	if _, err := store.CompactBolt(filepath.Join(t.TempDir(), "none.db")); err == nil || !strings.Contains(err.Error(), "store init") {
		t.Errorf("compacting a missing file = %v", err)
	}
}
