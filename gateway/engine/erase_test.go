package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	c "onething/contracts"
	"onething/gateway/calendar"
	"onething/gateway/engine"
	"onething/gateway/store"
	"onething/gateway/workflow"
)

type erasureCount map[string]int

func (e erasureCount) Erased(kind string) { e[kind]++ }

// An erasure on request is refused while an item is open at a department;
// forced, it cancels the item in the same write, the department gets a
// withdrawal notice that carries nothing personal, the record keeps only
// its trace, a search by ID number finds nothing, and a second erasure
// is refused.
func TestErasureRefusedWhileOpenThenForced(t *testing.T) {
	dept := &fakeDept{reply: c.CaseAccepted}
	portal := &fakePortal{}
	r := newRig(t, dept, portal)
	counted := erasureCount{}
	r.eng.Erasures = counted
	id := r.submit(t)
	r.waitFor(t, id, func(a *c.Application) bool { return a.Tasks[0].State == c.TaskAccepted })
	ctx := context.Background()

	_, err := r.eng.Erase(ctx, id, "本人申请删除", "admin#1", false)
	var open *engine.OpenItemsError
	if !errors.As(err, &open) || len(open.Tasks) != 1 {
		t.Fatalf("erasure of an open case: %v, want OpenItemsError naming 1 task", err)
	}
	if app, _ := r.eng.Store.Get(ctx, id); app.Erased != nil || app.Applicant.IDNumber == "" {
		t.Fatalf("a refused erasure erased: %+v", app.Erased)
	}

	res, err := r.eng.Erase(ctx, id, "本人申请删除", "admin#1", true)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Erasure.Forced || res.Erasure.Kind != c.ErasureRequest || res.Erasure.By != "admin#1" || len(res.Cancelled) != 1 || len(res.Notified) != 1 {
		t.Errorf("forced erasure: %+v cancelled %v notified %v", res.Erasure, res.Cancelled, res.Notified)
	}
	app := r.waitFor(t, id, func(a *c.Application) bool { return !store.CancelOwed(a, a.Tasks[0]) })
	r.queueEmpty(t)
	if app.Erased == nil || app.Applicant.IDNumber != "" || app.Applicant.Name != "" || app.Tasks[0].State != c.TaskCancelled || app.Status.State != c.AppWithdrawn {
		t.Errorf("after erasure: erased %+v applicant %+v task %s status %s", app.Erased, app.Applicant, app.Tasks[0].State, app.Status.State)
	}
	dept.mu.Lock()
	cancels := append([]c.CancelRequest(nil), dept.cancels...)
	dept.mu.Unlock()
	if len(cancels) != 1 || cancels[0].Reason != workflow.ErasureEnded {
		t.Errorf("withdrawal notices %+v, want one with the erasure's reason", cancels)
	}
	body, _ := json.Marshal(cancels)
	for _, personal := range []string{"杨雨欣", "511702201009230885"} {
		if strings.Contains(string(body), personal) {
			t.Errorf("the notice carries %q", personal)
		}
	}
	if counted[c.ErasureRequest] != 1 {
		t.Errorf("erasures counted %v", counted)
	}
	// The timeline is in order: the items the erasure ended, then the
	// erasure, never dated before them.
	var erasedAt time.Time
	for i, e := range app.Timeline {
		if i > 0 && e.At.Before(app.Timeline[i-1].At) {
			t.Errorf("timeline entry %d (%s) at %v, before the one above it (%s, %v)", i, e.Kind, e.At, app.Timeline[i-1].Kind, app.Timeline[i-1].At)
		}
		if e.Kind == "erased" {
			erasedAt = e.At
		}
	}
	if !erasedAt.Equal(app.Erased.At) {
		t.Errorf("the erased entry at %v, the erasure at %v", erasedAt, app.Erased.At)
	}
	if found, err := r.eng.FindByIDNumber(ctx, "511702201009230885"); err != nil || len(found) != 0 {
		t.Errorf("search after erasure: %d found, %v", len(found), err)
	}
	if _, err := r.eng.Erase(ctx, id, "再次", "admin#1", true); !errors.Is(err, engine.ErrAlreadyErased) {
		t.Errorf("second erasure: %v", err)
	}
	if _, err := r.eng.Erase(ctx, "01NOSUCHAPP", "x", "admin#1", false); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("unknown application: %v", err)
	}
}

// A department's late word on an erased application (a decision with a
// certificate) is absorbed and not recorded.
func TestAnEventAfterErasureIsNotRecorded(t *testing.T) {
	dept := &fakeDept{reply: c.CaseAccepted}
	r := newRig(t, dept, &fakePortal{})
	id := r.submit(t)
	r.waitFor(t, id, func(a *c.Application) bool { return a.Tasks[0].State == c.TaskAccepted })
	ctx := context.Background()
	if _, err := r.eng.Erase(ctx, id, "本人申请删除", "admin#1", true); err != nil {
		t.Fatal(err)
	}
	ev := &c.DeptEvent{EventID: "late-1", TaskID: id + "-1", Type: c.EventApproved, OccurredAt: time.Now(),
		Result: &c.Result{MonthlyAmount: 100, Note: &c.Message{ZH: "杨雨欣 获批", EN: "granted"}}}
	out, state, err := r.eng.ApplyEvent(ctx, c.DeptMedical, ev)
	if err != nil || out != workflow.Stale || state != c.TaskCancelled {
		t.Errorf("late event: %s %s %v", out, state, err)
	}
	app, _ := r.eng.Store.Get(ctx, id)
	if app.Tasks[0].Result != nil || app.Tasks[0].State != c.TaskCancelled {
		t.Errorf("the late event was recorded: %+v", app.Tasks[0])
	}
}

// The worker sends nothing for an erased application: a dispatch queued
// before the erasure is dropped, not sent with empty data.
func TestAnErasedApplicationIsNeverDispatched(t *testing.T) {
	st, err := store.OpenBolt(filepath.Join(t.TempDir(), "e.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eng := &engine.Engine{Store: st, Flow: workflow.New(calendar.Default())}
	ctx := context.Background()
	app, _, err := eng.Submit(ctx, "d1", medicalOnly())
	if err != nil {
		t.Fatal(err)
	}
	// Erased by the store directly (as the retention sweep may), the
	// dispatch job still queued.
	if _, err := store.Erase(ctx, st, app.ID, c.Erasure{At: time.Now(), Kind: c.ErasureRetention, By: "system:retention"}, nil); err != nil {
		t.Fatal(err)
	}
	dept := &fakeDept{reply: c.CaseAccepted}
	w := &engine.Worker{Engine: eng, Departments: map[c.Dept]engine.Department{c.DeptMedical: dept}, Portal: &fakePortal{},
		Policy: engine.Policy{MaxAttempts: 3, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond},
		Poll:   5 * time.Millisecond}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { w.Run(wctx); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		q, _ := st.QueueStats(ctx)
		if q.Jobs == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue not drained: %+v", q)
		}
		time.Sleep(2 * time.Millisecond)
	}
	dept.mu.Lock()
	defer dept.mu.Unlock()
	if dept.calls != 0 {
		t.Errorf("an erased application was dispatched %d times", dept.calls)
	}
}

// Items no department holds yet (planned, waiting) do not need force:
// they are withdrawn with the erasure, no department is told, and the
// erasure is not recorded as forced. A final case is erased as it is.
func TestErasureWithNothingAtADepartment(t *testing.T) {
	st, err := store.OpenBolt(filepath.Join(t.TempDir(), "n.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eng := &engine.Engine{Store: st, Flow: workflow.New(calendar.Default())}
	ctx := context.Background()
	app, _, err := eng.Submit(ctx, "d1", medicalOnly())
	if err != nil {
		t.Fatal(err)
	}
	// As if it waited on another item: no department has it.
	if err := st.Update(ctx, app.ID, "", func(a *c.Application) ([]store.Job, error) {
		a.Tasks[0].State = c.TaskWaiting
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	res, err := eng.Erase(ctx, app.ID, "本人申请删除", "admin#1", false)
	if err != nil {
		t.Fatalf("erasure with nothing at a department: %v", err)
	}
	if res.Erasure.Forced || len(res.Cancelled) != 1 || len(res.Notified) != 0 || res.App.Tasks[0].State != c.TaskCancelled {
		t.Errorf("result %+v cancelled %v notified %v", res.Erasure, res.Cancelled, res.Notified)
	}

	// A final case: nothing to cancel, but the record changed (the trace
	// replaces it): a new version, and its push queued for the portal.
	sub := medicalOnly()
	sub.PortalRef = "R2"
	done, _, err := eng.Submit(ctx, "d2", sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Withdraw(ctx, done.ID, "w1", ""); err != nil {
		t.Fatal(err)
	}
	before, _ := st.Get(ctx, done.ID)
	res, err = eng.Erase(ctx, done.ID, "本人申请删除", "admin#1", false)
	if err != nil || len(res.Cancelled) != 0 || res.Erasure.Forced {
		t.Fatalf("erasure of a final case: %v %+v", err, res)
	}
	after, _ := st.Get(ctx, done.ID)
	if after.Version != before.Version+1 || after.Erased == nil {
		t.Errorf("version %d → %d, erased %v; want one more", before.Version, after.Version, after.Erased)
	}
	jobs, err := st.Lease(ctx, time.Now().Add(time.Hour), 100, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	pushed := false
	for _, j := range jobs {
		pushed = pushed || j.ID == store.PushJobID(done.ID, after.Version)
	}
	if !pushed {
		t.Errorf("no push queued for the erased case's version %d", after.Version)
	}
}

// A department's late event on an erased application that teaches a case
// number (its answer to the dispatch was lost): the number is the one
// thing recorded, a new version, and the department is told to cancel
// that case; the event itself is answered stale.
// unanswered is a rig whose medical department's answers are all lost,
// with one application submitted.
func unanswered(t *testing.T) (*fakeDept, *rig, string) {
	dept := &fakeDept{reply: c.CaseAccepted}
	for range 1000 {
		dept.errs = append(dept.errs, errors.New("the answer was lost"))
	}
	r := newRig(t, dept, &fakePortal{})
	return dept, r, r.submit(t)
}

func TestAnEventAfterErasureTeachesItsCaseNumber(t *testing.T) {
	dept, r, id := unanswered(t)
	r.waitFor(t, id, func(a *c.Application) bool { return a.Tasks[0].Attempts > 0 })
	ctx := context.Background()
	res, err := r.eng.Erase(ctx, id, "本人申请删除", "admin#1", true)
	if err != nil || len(res.Notified) != 0 {
		t.Fatalf("forced erasure: %v, notified %v (want none: no case number yet)", err, res.Notified)
	}
	r.queueEmpty(t) // the dispatch under way when it was erased, and the push, settled
	before, _ := r.eng.Store.Get(ctx, id)
	ev := &c.DeptEvent{EventID: "late-2", TaskID: id + "-1", CaseNo: "MED-LATE-1", Type: c.EventInProgress, OccurredAt: time.Now()}
	out, _, err := r.eng.ApplyEvent(ctx, c.DeptMedical, ev)
	if err != nil || out != workflow.Stale {
		t.Fatalf("late event: %s %v; want stale", out, err)
	}
	app, _ := r.eng.Store.Get(ctx, id)
	if app.Tasks[0].CaseNo != "MED-LATE-1" || app.Version != before.Version+1 || app.Tasks[0].State != c.TaskCancelled {
		t.Errorf("case %q, version %d → %d, state %s; want the case number, one version more, still cancelled",
			app.Tasks[0].CaseNo, before.Version, app.Version, app.Tasks[0].State)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		dept.mu.Lock()
		n := len(dept.cancels)
		dept.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d withdrawal notices sent for the case learned late, want 1", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// An item of an erased application that was never sent (step 0: a
// subsidy waiting on the certificate, one the rules refused) takes no
// case number from a department's event: the department holds no case of
// it, and the number would be pushed in the trace (outsider: an event
// naming the applicant's ID number as its caseNo put it back in a push
// after the erasure).
func TestAnEventAfterErasureOnAnItemNeverSent(t *testing.T) {
	_, r, id := unanswered(t)
	ctx := context.Background()
	if _, err := r.eng.Erase(ctx, id, "本人申请删除", "admin#1", true); err != nil {
		t.Fatal(err)
	}
	r.queueEmpty(t)
	// The item as one never sent: no step, no case number.
	if err := r.eng.Store.Update(ctx, id, "", func(a *c.Application) ([]store.Job, error) {
		a.Tasks[0].Step, a.Tasks[0].CaseNo = 0, ""
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	before, _ := r.eng.Store.Get(ctx, id)
	ev := &c.DeptEvent{EventID: "late-3", TaskID: id + "-1", CaseNo: "511702198503072152", Type: c.EventApproved, OccurredAt: time.Now()}
	out, _, err := r.eng.ApplyEvent(ctx, c.DeptMedical, ev)
	if err != nil || out != workflow.Stale {
		t.Fatalf("late event: %s %v; want stale", out, err)
	}
	app, _ := r.eng.Store.Get(ctx, id)
	if app.Tasks[0].CaseNo != "" || app.Version != before.Version {
		t.Errorf("case %q, version %d → %d; want no case number and no new version", app.Tasks[0].CaseNo, before.Version, app.Version)
	}
}
