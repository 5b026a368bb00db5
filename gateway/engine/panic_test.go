package engine_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	c "onething/contracts"
	"onething/gateway/calendar"
	"onething/gateway/engine"
	"onething/gateway/store"
	"onething/gateway/workflow"
)

// panickyDept panics on its first calls, then answers.
type panickyDept struct {
	fakeDept
	panics atomic.Int32
}

func (d *panickyDept) OpenCase(ctx context.Context, app *c.Application, t *c.Task, base, key, rid string) (*c.CaseResponse, error) {
	if d.panics.Add(-1) >= 0 {
		var m map[string]int
		m["boom"]++ // a nil map: a runtime error
	}
	return d.fakeDept.OpenCase(ctx, app, t, base, key, rid)
}

// A job that panics does not take the worker (or the process) down: the
// worker reports it, goes on, and the job is tried again when its lease
// ends.
func TestJobPanicIsSurvived(t *testing.T) {
	st, err := store.OpenBolt(filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	dept := &panickyDept{fakeDept: fakeDept{reply: c.CaseAccepted}}
	dept.panics.Store(2)
	var reported atomic.Int32
	eng := &engine.Engine{Store: st, Flow: workflow.New(calendar.Default())}
	w := &engine.Worker{Engine: eng, Departments: map[c.Dept]engine.Department{c.DeptMedical: dept}, Portal: &fakePortal{},
		Policy: engine.Policy{MaxAttempts: 3, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond},
		Poll:   5 * time.Millisecond, Lease: 100 * time.Millisecond,
		Panicked: func(j store.Job, p any) {
			if j.Kind != store.JobDispatch {
				t.Errorf("panicked job %+v", j)
			}
			reported.Add(1)
		}}
	eng.Wake = w.Wake
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	app, _, err := eng.Submit(context.Background(), "d1", medicalOnly())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := st.Get(context.Background(), app.ID)
		if err == nil && got.Tasks[0].CaseNo != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job never completed after its panics (reported %d)", reported.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := reported.Load(); n != 2 {
		t.Errorf("%d panics reported, want 2", n)
	}
}
