package store_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"onething/gateway/store"
	"onething/gateway/store/storetest"
)

// Damaged stores (issue 13 §3): a page bbolt's assertions refuse, a job
// record whose id is not its key, a job record that does not decode.

const damagedApp = "01JDAMAGEDSTORE0000000000A"

// jobStore makes a store (InitBolt) with one application and n dispatch
// jobs due now, and returns its path and the id of the first job.
func jobStore(t *testing.T, n int) (string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "o.db")
	if _, err := store.InitBolt(path); err != nil {
		t.Fatal(err)
	}
	s, err := store.OpenBolt(path, store.Strict())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.Create(ctx, storetest.PersonalApp(damagedApp, "110101199003077777", "ref-damaged"), nil, nil); err != nil {
		t.Fatal(err)
	}
	var jobs []store.Job
	for i := range n {
		task := damagedApp + "-" + string(rune('1'+i%9)) + strings.Repeat("x", i/9)
		jobs = append(jobs, store.Job{ID: store.DispatchJobID(task, 1), Kind: store.JobDispatch, AppID: damagedApp, TaskID: task,
			Dept: "medical", NotBefore: time.Now().Add(-time.Minute), LastError: strings.Repeat("a long enough error text ", 4)})
	}
	if err := s.Enqueue(ctx, jobs...); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path, jobs[0].ID
}

// behind changes the file with bbolt itself, behind the store's back.
func behind(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func rewriteJob(t *testing.T, path, id string, change func([]byte) []byte) {
	behind(t, path, func(tx *bolt.Tx) error {
		jb := tx.Bucket([]byte("jobs"))
		return jb.Put([]byte(id), change(bytes.Clone(jb.Get([]byte(id)))))
	})
}

// A page of the jobs bucket with damaged flags made bbolt panic
// ("assertion failed: page 22: has unexpected type/flags") in the open's
// hand-back of leases: the process died with a stack trace on every
// start. The open now refuses it as damaged, naming store check.
func TestBoltDamagedPageRefusedAtOpen(t *testing.T) {
	path, _ := jobStore(t, 300)
	var root uint64
	var pageSize int
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.View(func(tx *bolt.Tx) error {
		root = uint64(tx.Bucket([]byte("jobs")).Root())
		return nil
	})
	pageSize = db.Info().PageSize
	db.Close()
	if root == 0 {
		t.Fatal("the jobs bucket is inline: no page to damage")
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{0x66}, int64(root)*int64(pageSize)+8) // the page's flags
	f.Close()

	_, err = store.OpenBolt(path, store.Strict())
	refusal(t, "a damaged page", err, store.ErrDamaged, "onething store check")
	if err != nil && !strings.Contains(err.Error(), "backup") {
		t.Errorf("the refusal does not say to restore from a backup: %v", err)
	}
	// init reads only the identity: it may find the store fine, but
	// must not panic; a refusal is a damaged one.
	if _, err := store.InitBolt(path); err != nil {
		refusal(t, "init of a damaged page", err, store.ErrDamaged, "onething store check")
	}
	rep, err := store.CheckBolt(context.Background(), path, store.CheckOptions{})
	if err != nil || rep.OK() {
		t.Errorf("store check of a damaged page: %v, %v", rep, err)
	}
}

// A job record whose id is not its key (one byte changed) was leased
// again and again, hundreds of times a second, and could be neither
// deferred nor acked; store check called the store consistent. Now check
// reports it, and Lease parks it as a dead letter, once.
func TestBoltJobWithAnotherIDIsQuarantined(t *testing.T) {
	path, id := jobStore(t, 3)
	wrong := strings.Replace(id, "-1:1", "-0:1", 1)
	rewriteJob(t, path, id, func(v []byte) []byte {
		return bytes.Replace(v, []byte(`"id":"`+id+`"`), []byte(`"id":"`+wrong+`"`), 1)
	})
	ctx := context.Background()
	rep, err := store.CheckBolt(ctx, path, store.CheckOptions{Records: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || !strings.Contains(strings.Join(rep.Problems, "\n"), id) {
		t.Errorf("store check does not report the job stored as %s with id %s: %v", id, wrong, rep.Problems)
	}
	s, err := store.OpenBolt(path, store.Strict())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	quarantined(t, s, id, "names id")
}

// A job record that does not decode made serve refuse to start ("prepare
// store: invalid character '#'", English only). The store opens; Lease
// parks the job, its id read for its kind, task and application, and the
// record kept for the operators.
func TestBoltUndecodableJobIsQuarantined(t *testing.T) {
	path, id := jobStore(t, 3)
	rewriteJob(t, path, id, func(v []byte) []byte { return bytes.Replace(v, []byte(`{"id"`), []byte(`{#id"`), 1) })
	ctx := context.Background()
	rep, err := store.CheckBolt(ctx, path, store.CheckOptions{})
	if err != nil || rep.OK() || !strings.Contains(strings.Join(rep.Problems, "\n"), id) {
		t.Errorf("store check does not report the job %s that does not decode: %v %v", id, rep, err)
	}
	s, err := store.OpenBolt(path, store.Strict())
	if err != nil {
		t.Fatalf("a job record that does not decode stops the store opening: %v", err)
	}
	defer s.Close()
	j := quarantined(t, s, id, "does not decode")
	if j.Kind != store.JobDispatch || j.AppID != damagedApp || j.TaskID != damagedApp+"-1" || !strings.Contains(j.LastError, `{#id"`) {
		t.Errorf("the parked job does not keep what its id says and its record: %+v", j)
	}
}

// quarantined leases every due job and checks that job id came out once,
// marked Quarantined, and is parked as a dead letter; the other jobs are
// leased as usual.
func quarantined(t *testing.T, s *store.Bolt, id, why string) store.Job {
	t.Helper()
	ctx := context.Background()
	var got []store.Job
	for range 3 {
		jobs, err := s.Lease(ctx, time.Now(), 10, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, jobs...)
	}
	seen, others := 0, 0
	for _, j := range got {
		switch {
		case j.Quarantined != "":
			seen++
			if j.ID != id || !strings.Contains(j.Quarantined, why) {
				t.Errorf("quarantined %s (%s), want %s (%s)", j.ID, j.Quarantined, id, why)
			}
		default:
			others++
		}
	}
	if seen != 1 || others != 2 {
		t.Fatalf("leased %d quarantined and %d other jobs, want 1 and 2: %+v", seen, others, got)
	}
	parked, err := s.Parked(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range parked {
		if j.ID == id {
			if !strings.Contains(j.LastError, "quarantined") {
				t.Errorf("the dead letter does not say why: %q", j.LastError)
			}
			rep, err := s.QueueStats(ctx)
			if err != nil || rep.Jobs != 2 {
				t.Errorf("queue after the quarantine: %+v, %v", rep, err)
			}
			return j
		}
	}
	t.Fatalf("job %s is not parked: %+v", id, parked)
	return store.Job{}
}
