package engine_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"onething/gateway/engine"
	"onething/gateway/store"
)

// endless always has as many due jobs as asked for, all of one remote
// system: the first takes that system's one slot (and holds it until
// the jobs are cut short), the others are deferred, so the worker's loop
// goes round again at once after every full lease.
type endless struct {
	store.Store
	quarantined bool
	leases      atomic.Int64
	handedOut   atomic.Int64
}

func (e *endless) Lease(_ context.Context, _ time.Time, n int, _ time.Duration) ([]store.Job, error) {
	e.leases.Add(1)
	e.handedOut.Add(int64(n))
	out := make([]store.Job, n)
	for i := range out {
		out[i] = store.Job{ID: fmt.Sprintf("odd:%d", i), Kind: "odd", Dept: "d"}
		if e.quarantined {
			out[i].Quarantined = "damaged"
		}
	}
	return out, nil
}

func (e *endless) Ack(ctx context.Context, _ store.Job) error {
	<-ctx.Done()
	return ctx.Err()
}

func (e *endless) Retry(context.Context, store.Job, time.Time) error { return nil }

// runs starts w and cancels it after a moment; Run must return soon after.
func runs(t *testing.T, w *engine.Worker) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("the worker did not stop after its context ended (a queue that is never empty kept its loop going)")
	}
}

// A queue that always has due jobs (a job record that Lease handed out
// again and again) kept the loop from ever looking at its context: a
// shutdown never ended within its grace.
func TestWorkerStopsWhileTheQueueIsNeverEmpty(t *testing.T) {
	runs(t, &engine.Worker{Engine: &engine.Engine{Store: &endless{}}, Concurrency: 2, PerSystem: 1, Poll: time.Hour})
}

// Jobs the store quarantined are reported, not run.
func TestWorkerReportsQuarantinedJobs(t *testing.T) {
	var told atomic.Int64
	st := &endless{quarantined: true}
	runs(t, &engine.Worker{Engine: &engine.Engine{Store: st}, Concurrency: 2, Poll: time.Hour,
		Quarantined: func(j store.Job) { told.Add(1) }})
	if told.Load() == 0 || told.Load() != st.handedOut.Load() {
		t.Errorf("reported %d quarantined jobs of %d handed out in %d leases", told.Load(), st.handedOut.Load(), st.leases.Load())
	}
}

// slowLease is a store whose Lease is still under way when the shutdown
// comes (a script Redis runs while the client's context ends): it leases
// its jobs whatever the caller's context says, as the store would.
type slowLease struct {
	store.Store
	entered chan struct{}
	release chan struct{}
	once    sync.Once
	leased  atomic.Int64
}

func (s *slowLease) Lease(ctx context.Context, _ time.Time, n int, _ time.Duration) ([]store.Job, error) {
	s.once.Do(func() { close(s.entered) })
	select {
	case <-s.release:
	case <-time.After(time.Second):
	}
	s.leased.Add(2)
	jobs := []store.Job{{ID: "dispatch:a-1:1", Kind: "dispatch", Dept: "cdpf"}, {ID: "dispatch:b-1:1", Kind: "dispatch", Dept: "cdpf"}}
	if ctx.Err() != nil {
		return nil, ctx.Err() // the reply lost, the jobs leased
	}
	return jobs, nil
}

func (s *slowLease) Retry(context.Context, store.Job, time.Time) error {
	s.leased.Add(-1)
	return nil
}

// A lease under way when the shutdown comes is not cut short: its jobs
// come back to the worker, which hands them back at once, so none stays
// leased, unknown to anyone, until its lease runs out.
func TestWorkerHandsBackALeaseUnderWayAtShutdown(t *testing.T) {
	st := &slowLease{entered: make(chan struct{}), release: make(chan struct{})}
	w := &engine.Worker{Engine: &engine.Engine{Store: st}, Concurrency: 2, Poll: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	<-st.entered
	cancel()
	time.Sleep(20 * time.Millisecond)
	close(st.release)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the worker did not stop")
	}
	if n := st.leased.Load(); n != 0 {
		t.Errorf("%d jobs left leased after the shutdown", n)
	}
}
