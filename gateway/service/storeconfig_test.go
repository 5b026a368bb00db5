package service

import (
	"path/filepath"
	"testing"

	"onething/gateway/store"
	"onething/gateway/store/redistest"
)

func TestOpenStoreChoosesTheBackend(t *testing.T) {
	dir := t.TempDir()
	dp := testProtection()
	s, err := OpenStore(Config{DataFile: filepath.Join(dir, "a.db"), DataProtection: dp}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*store.Bolt); !ok {
		t.Errorf("dataFile alone opened %T", s)
	}
	s.Close()
	s, err = OpenStore(Config{Store: "bolt://" + filepath.Join(dir, "b.db"), DataProtection: dp}, nil)
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
	s, err = OpenStore(Config{Store: srv.URL(), DataProtection: dp}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.(*store.Redis); !ok {
		t.Errorf("redis:// opened %T", s)
	}
}
