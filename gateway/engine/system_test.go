package engine_test

import (
	"context"
	"testing"

	c "onething/contracts"
	"onething/gateway/engine"
)

// A task's jobs name the remote system of its county's endpoint (the
// worker's bulkhead); dead letters are still listed and replayed by
// department.
func TestJobsNameTheCountySystem(t *testing.T) {
	dept := &fakeDept{errs: []error{callErr{retryable: false}}, reply: c.CaseAccepted}
	r := newRig(t, dept, &fakePortal{})
	r.eng.SystemOf = func(d c.Dept, county string) string { return string(d) + ":" + county }
	id := r.submit(t)
	r.waitFor(t, id, func(a *c.Application) bool { return a.Tasks[0].State == c.TaskDeadLetter })
	ctx := context.Background()
	r.queueEmpty(t) // parked after the task is marked
	parked, err := r.eng.Store.Parked(ctx)
	if err != nil || len(parked) != 1 || parked[0].Dept != "medical:511702" {
		t.Fatalf("parked %+v %v, want one job of medical:511702", parked, err)
	}
	dl, err := r.eng.DeadLetters(ctx, c.DeptMedical)
	if err != nil || len(dl) != 1 || dl[0].Dept != c.DeptMedical {
		t.Fatalf("dead letters of medical: %+v %v", dl, err)
	}
	if other, _ := r.eng.DeadLetters(ctx, c.DeptHRSS); len(other) != 0 {
		t.Errorf("hrss lists medical's dead letter: %+v", other)
	}
	res, err := r.eng.Replay(ctx, c.DeptMedical, "")
	if err != nil || len(res.Replayed) != 1 {
		t.Fatalf("replay of medical: %+v %v", res, err)
	}
	r.waitFor(t, id, func(a *c.Application) bool { return a.Tasks[0].State == c.TaskAccepted })
	if d := engine.DeptOfSystem("hrss:511703"); d != c.DeptHRSS {
		t.Errorf("DeptOfSystem: %s", d)
	}
}
