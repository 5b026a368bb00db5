package engine_test

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	c "onething/contracts"
	"onething/gateway/calendar"
	"onething/gateway/engine"
	"onething/gateway/store"
	"onething/gateway/workflow"
)

// slowDept holds every case request until released or its call is cut,
// and records the trace each call carried.
type slowDept struct {
	fakeDept
	started chan string
	release chan struct{}
	traces  chan c.TraceContext
}

func (d *slowDept) OpenCase(ctx context.Context, app *c.Application, t *c.Task, base, key, rid string) (*c.CaseResponse, error) {
	if tc, ok := c.TraceFrom(ctx); ok {
		d.traces <- tc
	}
	d.started <- t.ID
	select {
	case <-d.release:
		return d.fakeDept.OpenCase(ctx, app, t, base, key, rid)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type countingObserver struct {
	handedBack atomic.Int64
	retried    atomic.Int64
	mu         sync.Mutex
	putBack    map[string]int
}

func (*countingObserver) Dispatched(c.Dept, string)                        {}
func (*countingObserver) DeadLettered(c.Dept)                              {}
func (*countingObserver) Pushed(bool)                                      {}
func (o *countingObserver) Retried(string, string)                         { o.retried.Add(1) }
func (*countingObserver) ParkedPastDue(c.Dept)                             {}
func (*countingObserver) EventApplied(c.Dept, string, string, c.TaskState) {}
func (o *countingObserver) HandedBack(n int)                               { o.handedBack.Add(int64(n)) }
func (o *countingObserver) PutBack(system string, n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.putBack == nil {
		o.putBack = map[string]int{}
	}
	o.putBack[system] += n
}

func (o *countingObserver) putBackOf(system string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.putBack[system]
}

func drainRig(t *testing.T, drain time.Duration) (*engine.Engine, *engine.Worker, *slowDept, *countingObserver, store.Store) {
	st, err := store.OpenBolt(filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	dept := &slowDept{fakeDept: fakeDept{reply: c.CaseAccepted}, started: make(chan string, 10), release: make(chan struct{}), traces: make(chan c.TraceContext, 10)}
	obs := &countingObserver{}
	eng := &engine.Engine{Store: st, Flow: workflow.New(calendar.Default())}
	w := &engine.Worker{Engine: eng, Departments: map[c.Dept]engine.Department{c.DeptMedical: dept}, Portal: &fakePortal{},
		Policy: engine.Policy{MaxAttempts: 3, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond},
		Poll:   5 * time.Millisecond, Drain: drain, Observer: obs}
	eng.Wake = w.Wake
	return eng, w, dept, obs, st
}

// A shutdown lets a job under way finish within the drain time.
func TestShutdownLetsJobsFinish(t *testing.T) {
	eng, w, dept, obs, st := drainRig(t, time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	app, _, err := eng.Submit(context.Background(), "d1", medicalOnly())
	if err != nil {
		t.Fatal(err)
	}
	<-dept.started
	if tc := <-dept.traces; tc.TraceID != c.TraceForID(app.ID).TraceID {
		t.Errorf("the job's calls should carry the application's trace")
	}
	cancel() // SIGTERM, in effect
	select {
	case <-done:
		t.Fatal("Run returned while a job was under way and the drain time not over")
	case <-time.After(50 * time.Millisecond):
	}
	close(dept.release)
	<-done
	got, err := st.Get(context.Background(), app.ID)
	if err != nil {
		t.Fatal(err)
	}
	if s := got.Tasks[0].State; s != c.TaskAccepted {
		t.Errorf("task %s after a drained shutdown, want accepted", s)
	}
	if obs.handedBack.Load() != 0 {
		t.Errorf("a finished job was handed back")
	}
}

// A job still under way when the drain time is over is cut short and
// handed back at once: due now, not leased, its attempts unchanged.
func TestShutdownHandsBackCutJobs(t *testing.T) {
	eng, w, dept, obs, st := drainRig(t, 20*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	app, _, err := eng.Submit(context.Background(), "d2", medicalOnly())
	if err != nil {
		t.Fatal(err)
	}
	<-dept.started
	cancel()
	<-done
	if n := obs.handedBack.Load(); n != 1 {
		t.Fatalf("%d jobs handed back, want 1", n)
	}
	q, err := st.QueueStats(context.Background())
	if err != nil || q.Leased != 0 {
		t.Fatalf("queue after shutdown: %+v %v; want nothing leased", q, err)
	}
	jobs, err := st.Lease(context.Background(), time.Now(), 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var dispatch *store.Job
	for i := range jobs {
		if jobs[i].Kind == store.JobDispatch {
			dispatch = &jobs[i]
		}
	}
	if dispatch == nil || dispatch.AppID != app.ID || dispatch.Attempt != 0 {
		t.Fatalf("the cut dispatch is not due again as it was: %+v", jobs)
	}
	if obs.retried.Load() != 0 {
		t.Error("a cut job was counted as a retry")
	}
}
