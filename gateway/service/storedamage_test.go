package service

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	bolt "go.etcd.io/bbolt"

	"onething/gateway/metrics"
	"onething/gateway/store"
)

// serve's open of a store with a page bbolt's assertions refuse: a
// refusal naming store check, not a panic (the process used to exit 2
// with a stack trace, on every restart).
func TestOpenStoreRefusesADamagedPage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.db")
	cfg := Config{DataFile: path, DataProtection: testProtection()}
	initStore(t, cfg)
	s, err := OpenStore(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var jobs []store.Job
	for i := range 300 {
		jobs = append(jobs, store.Job{ID: "poll:01JDAMAGED-" + strings.Repeat("1", i%40+1) + string(rune('a'+i/40)), Kind: store.JobPoll,
			NotBefore: time.Now(), LastError: strings.Repeat("padding ", 10)})
	}
	if err := s.Enqueue(context.Background(), jobs...); err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	var root uint64
	db.View(func(tx *bolt.Tx) error { root = uint64(tx.Bucket([]byte("jobs")).Root()); return nil })
	size := db.Info().PageSize
	db.Close()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil || root == 0 {
		t.Fatal(err, root)
	}
	f.WriteAt([]byte{0x66}, int64(root)*int64(size)+8)
	f.Close()

	_, err = OpenStore(cfg, nil)
	var oe *store.OpenError
	if !errors.As(err, &oe) || !errors.Is(err, store.ErrDamaged) || !strings.Contains(err.Error(), "onething store check") ||
		!strings.Contains(oe.ZH, "备份") || !strings.Contains(oe.EN, "backup") {
		t.Errorf("open of a damaged page: %v, want a bilingual refusal (damaged) naming store check and the backup", err)
	}
}

// A job the store quarantined is counted as a failure of "job" and shown
// in /readyz's background detail.
func TestQuarantinedJobIsReported(t *testing.T) {
	s := &Service{log: slog.New(slog.NewTextHandler(io.Discard, nil)), health: metrics.NewHealth(prometheus.NewRegistry())}
	s.jobQuarantined(store.Job{ID: "dispatch:01JX-1:1", Quarantined: "the stored job record names id \"dispatch:01JX-0:1\""})
	if d := s.backgroundCheck().Detail; !strings.Contains(d, "job: 1 failure") || !strings.Contains(d, "dispatch:01JX-1:1") {
		t.Errorf("/readyz detail: %s", d)
	}
}
