// Package storetest is the conformance suite every store backend passes.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	c "onething/contracts"
	"onething/gateway/store"
)

// Open makes a fresh, empty store for one test.
type Open func(t *testing.T) store.Store

// Run runs the whole suite.
func Run(t *testing.T, open Open) {
	t.Run("CreateGetLookup", func(t *testing.T) { testCreate(t, open(t)) })
	t.Run("DuplicateKeysWriteNothing", func(t *testing.T) { testDuplicate(t, open(t)) })
	t.Run("UpdateOnceKey", func(t *testing.T) { testOnce(t, open(t)) })
	t.Run("UpdateAbortWritesNothing", func(t *testing.T) { testAbort(t, open(t)) })
	t.Run("ConcurrentUpdatesLoseNothing", func(t *testing.T) { testConcurrent(t, open(t)) })
	t.Run("QueueLeaseAckRetry", func(t *testing.T) { testQueue(t, open(t)) })
	t.Run("QueueLeaseExpires", func(t *testing.T) { testLeaseExpiry(t, open(t)) })
	t.Run("EnqueueIsIdempotent", func(t *testing.T) { testEnqueueIdempotent(t, open(t)) })
}

func app(id string) *c.Application {
	return &c.Application{ID: id, PortalRef: "ref-" + id, Version: 1, Tasks: []*c.Task{{ID: id + "-1", Item: c.ItemMedicalSubsidy, Dept: c.DeptMedical, State: c.TaskReady}}}
}

func job(id, appID string, at time.Time) store.Job {
	return store.Job{ID: id, Kind: store.JobDispatch, AppID: appID, TaskID: appID + "-1", NotBefore: at}
}

var ctx = context.Background()

func testCreate(t *testing.T, s store.Store) {
	now := time.Now()
	id, err := s.Create(ctx, app("A"), []string{"delivery:d1", "ref:r1"}, []store.Job{job("j1", "A", now)})
	if err != nil || id != "A" {
		t.Fatalf("Create = %q, %v", id, err)
	}
	got, err := s.Get(ctx, "A")
	if err != nil || got.PortalRef != "ref-A" || len(got.Tasks) != 1 {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	if id, err := s.Lookup(ctx, "ref:r1"); err != nil || id != "A" {
		t.Errorf("Lookup = %q, %v", id, err)
	}
	if _, err := s.Get(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(missing) = %v", err)
	}
	if _, err := s.Lookup(ctx, "ref:none"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Lookup(missing) = %v", err)
	}
	jobs, err := s.Lease(ctx, now.Add(time.Second), 10, time.Minute)
	if err != nil || len(jobs) != 1 || jobs[0].ID != "j1" {
		t.Errorf("the job written with the application: %+v, %v", jobs, err)
	}
}

func testDuplicate(t *testing.T, s store.Store) {
	now := time.Now()
	if _, err := s.Create(ctx, app("A"), []string{"delivery:d1", "ref:r1"}, nil); err != nil {
		t.Fatal(err)
	}
	id, err := s.Create(ctx, app("B"), []string{"delivery:d2", "ref:r1"}, []store.Job{job("jB", "B", now)})
	if !errors.Is(err, store.ErrDuplicate) || id != "A" {
		t.Fatalf("Create with a taken key = %q, %v; want A, ErrDuplicate", id, err)
	}
	if _, err := s.Get(ctx, "B"); !errors.Is(err, store.ErrNotFound) {
		t.Error("the duplicate application was stored")
	}
	if _, err := s.Lookup(ctx, "delivery:d2"); !errors.Is(err, store.ErrNotFound) {
		t.Error("a key of the duplicate was stored")
	}
	if jobs, _ := s.Lease(ctx, now.Add(time.Second), 10, time.Minute); len(jobs) != 0 {
		t.Errorf("the duplicate's job was queued: %+v", jobs)
	}
}

func testOnce(t *testing.T, s store.Store) {
	s.Create(ctx, app("A"), nil, nil)
	calls := 0
	bump := func(a *c.Application) ([]store.Job, error) { calls++; a.Version++; return nil, nil }
	if err := s.Update(ctx, "A", "event:e1", bump); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, "A", "event:e1", bump); !errors.Is(err, store.ErrAlreadyApplied) {
		t.Fatalf("second update with the same once-key = %v", err)
	}
	got, _ := s.Get(ctx, "A")
	if calls != 1 || got.Version != 2 {
		t.Errorf("calls %d version %d; want 1 and 2", calls, got.Version)
	}
	if err := s.Update(ctx, "missing", "", bump); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update of a missing application = %v", err)
	}
}

func testAbort(t *testing.T, s store.Store) {
	s.Create(ctx, app("A"), nil, nil)
	boom := errors.New("boom")
	err := s.Update(ctx, "A", "event:e1", func(a *c.Application) ([]store.Job, error) {
		a.Version = 99
		return []store.Job{job("jX", "A", time.Now())}, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v", err)
	}
	got, _ := s.Get(ctx, "A")
	if got.Version != 1 {
		t.Error("an aborted update was written")
	}
	if jobs, _ := s.Lease(ctx, time.Now().Add(time.Second), 10, time.Minute); len(jobs) != 0 {
		t.Error("an aborted update queued a job")
	}
	// The once-key of an aborted update stays free.
	if err := s.Update(ctx, "A", "event:e1", func(*c.Application) ([]store.Job, error) { return nil, nil }); err != nil {
		t.Errorf("once-key burnt by an aborted update: %v", err)
	}
}

func testConcurrent(t *testing.T, s store.Store) {
	s.Create(ctx, app("A"), nil, nil)
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			err := s.Update(ctx, "A", fmt.Sprintf("event:%d", i), func(a *c.Application) ([]store.Job, error) {
				a.Version++
				return nil, nil
			})
			if err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	got, _ := s.Get(ctx, "A")
	if got.Version != 21 {
		t.Errorf("version %d after 20 concurrent updates, want 21", got.Version)
	}
}

func testQueue(t *testing.T, s store.Store) {
	now := time.Now()
	s.Enqueue(ctx, job("early", "A", now.Add(-time.Second)), job("later", "A", now.Add(time.Hour)))
	jobs, err := s.Lease(ctx, now, 10, time.Minute)
	if err != nil || len(jobs) != 1 || jobs[0].ID != "early" {
		t.Fatalf("Lease = %+v, %v; want only the due job", jobs, err)
	}
	if again, _ := s.Lease(ctx, now, 10, time.Minute); len(again) != 0 {
		t.Errorf("a leased job was handed out twice: %+v", again)
	}
	j := jobs[0]
	j.Attempt, j.LastError = 1, "HTTP 503"
	if err := s.Retry(ctx, j, now.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Lease(ctx, now.Add(time.Second), 10, time.Minute); len(got) != 0 {
		t.Errorf("retried job due too early: %+v", got)
	}
	got, _ := s.Lease(ctx, now.Add(3*time.Second), 10, time.Minute)
	if len(got) != 1 || got[0].Attempt != 1 || got[0].LastError != "HTTP 503" {
		t.Fatalf("retried job = %+v", got)
	}
	if err := s.Ack(ctx, got[0]); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Lease(ctx, now.Add(time.Hour*2), 10, time.Minute); len(got) != 1 || got[0].ID != "later" {
		t.Errorf("after ack only the later job remains: %+v", got)
	}
	stats, err := s.QueueStats(ctx)
	if err != nil || stats.Jobs != 1 || stats.Leased != 1 {
		t.Errorf("QueueStats = %+v, %v", stats, err)
	}
}

func testLeaseExpiry(t *testing.T, s store.Store) {
	now := time.Now()
	s.Enqueue(ctx, job("j", "A", now))
	if got, _ := s.Lease(ctx, now, 1, time.Minute); len(got) != 1 {
		t.Fatal("not leased")
	}
	// The worker died: after the lease the job is due again.
	got, _ := s.Lease(ctx, now.Add(61*time.Second), 1, time.Minute)
	if len(got) != 1 || got[0].ID != "j" {
		t.Errorf("expired lease not handed out again: %+v", got)
	}
}

func testEnqueueIdempotent(t *testing.T, s store.Store) {
	now := time.Now()
	s.Enqueue(ctx, job("j", "A", now))
	s.Enqueue(ctx, job("j", "A", now))
	leased, _ := s.Lease(ctx, now, 10, time.Minute)
	// Enqueueing a leased job again does not hand it out twice either.
	s.Enqueue(ctx, job("j", "A", now))
	again, _ := s.Lease(ctx, now, 10, time.Minute)
	if len(leased) != 1 || len(again) != 0 {
		t.Errorf("enqueue of one id twice gave %d + %d jobs, want 1 + 0", len(leased), len(again))
	}
}
