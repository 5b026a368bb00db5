package engine_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	c "onething/contracts"
	"onething/gateway/calendar"
	"onething/gateway/engine"
	"onething/gateway/store"
	"onething/gateway/workflow"
)

// Two replicas on one store, configured with different public base URLs:
// a case request is sent on the base its dispatch was queued with, by
// whichever replica sends it (a retry, a replay), so the department never
// sees one idempotency key with two bodies. A job queued without one (by
// an earlier version) goes on the sender's base.
func TestADispatchKeepsTheBaseItWasQueuedWith(t *testing.T) {
	st, err := store.OpenBolt(filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	flow := workflow.New(calendar.Default())
	queuer := &engine.Engine{Store: st, Flow: flow, BaseURL: "https://gw-a.example"}
	older := &engine.Engine{Store: st, Flow: flow} // an earlier version: jobs without a base
	sender := &engine.Engine{Store: st, Flow: flow, BaseURL: "https://gw-b.example"}
	ctx := context.Background()

	// Queued on A: a retryable failure, a refusal (parked, replayed by
	// B), then the answer.
	dept := &fakeDept{errs: []error{callErr{retryable: true}, callErr{retryable: false}}, reply: c.CaseAccepted}
	app, _, err := queuer.Submit(ctx, "d1", medicalOnly())
	if err != nil {
		t.Fatal(err)
	}
	worker := &engine.Worker{Engine: sender, Departments: map[c.Dept]engine.Department{c.DeptMedical: dept}, Portal: &fakePortal{},
		Policy: engine.Policy{MaxAttempts: 5, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond},
		Poll:   5 * time.Millisecond}
	sender.Wake = worker.Wake
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { worker.Run(runCtx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	r := &rig{eng: sender}
	r.waitFor(t, app.ID, func(a *c.Application) bool { return a.Tasks[0].State == c.TaskDeadLetter })
	var parked []store.Job
	for deadline := time.Now().Add(5 * time.Second); len(parked) == 0 && time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		parked, _ = st.Parked(ctx)
	}
	if len(parked) != 1 || parked[0].BaseURL != queuer.BaseURL {
		t.Fatalf("parked %+v, want the dispatch job with its base %s", parked, queuer.BaseURL)
	}
	if _, err := sender.Replay(ctx, "", app.Tasks[0].ID); err != nil {
		t.Fatal(err)
	}
	r.waitFor(t, app.ID, func(a *c.Application) bool { return a.Tasks[0].State == c.TaskAccepted })

	// Queued by an earlier version, without a base: B's own.
	old, _, err := older.Submit(ctx, "d2", func() *c.Submission { s := medicalOnly(); s.PortalRef = "R2"; return s }())
	if err != nil {
		t.Fatal(err)
	}
	worker.Wake()
	r.waitFor(t, old.ID, func(a *c.Application) bool { return a.Tasks[0].State == c.TaskAccepted })

	dept.mu.Lock()
	defer dept.mu.Unlock()
	want := []string{queuer.BaseURL, queuer.BaseURL, queuer.BaseURL, sender.BaseURL}
	if len(dept.bases) != len(want) {
		t.Fatalf("case requests went on bases %v, want %v", dept.bases, want)
	}
	for i := range want {
		if dept.bases[i] != want[i] {
			t.Errorf("case request %d (key %s) went on base %q, want %q (all: %v)", i+1, dept.keys[i], dept.bases[i], want[i], dept.bases)
		}
	}
}
