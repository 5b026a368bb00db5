package engine_test

import (
	"context"
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

// settleRig is a worker on a bolt store whose engine lets pushes settle.
func settleRig(t *testing.T, settle, poll time.Duration, dept *fakeDept, portal *fakePortal) *engine.Engine {
	st, err := store.OpenBolt(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	eng := &engine.Engine{Store: st, Flow: workflow.New(calendar.Default()), PushSettle: settle}
	w := &engine.Worker{Engine: eng, Departments: map[c.Dept]engine.Department{c.DeptMedical: dept}, Portal: portal,
		PushPolicy: engine.Policy{BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}, Poll: poll}
	eng.Wake, eng.WakeAt = w.Wake, w.WakeAt
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; st.Close() })
	return eng
}

// eventually waits (generously) until cond holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not reached: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// pushKinds leases every job due by at and returns the push jobs' ids.
func pushesDue(t *testing.T, st store.Store, at time.Time) []string {
	t.Helper()
	jobs, err := st.Lease(context.Background(), at, 100, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, j := range jobs {
		if j.Kind == store.JobPush {
			ids = append(ids, j.ID)
		}
	}
	return ids
}

// A change's push is due PushSettle after it (and at once with 0); the
// rest of its work is due at once.
func TestThePushIsDueAfterTheSettleTime(t *testing.T) {
	for _, settle := range []time.Duration{0, time.Hour} {
		st, err := store.OpenBolt(filepath.Join(t.TempDir(), "s.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		eng := &engine.Engine{Store: st, Flow: workflow.New(calendar.Default()), PushSettle: settle}
		var wakes []time.Time
		eng.WakeAt = func(at time.Time) { wakes = append(wakes, at) }
		before := time.Now()
		app, _, err := eng.Submit(context.Background(), "d", medicalOnly())
		if err != nil {
			t.Fatal(err)
		}
		after := time.Now()
		jobs, err := st.Lease(context.Background(), after.Add(time.Second), 100, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, j := range jobs {
			kinds = append(kinds, j.Kind)
		}
		got := strings.Join(kinds, ",")
		want := store.JobDispatch + "," + store.JobPush
		if settle > 0 {
			want = store.JobDispatch
		}
		if got != want {
			t.Errorf("settle %s: due within a second: %s, want %s", settle, got, want)
		}
		if settle == 0 {
			if len(wakes) != 0 {
				t.Errorf("settle 0 asked for later wake-ups: %v", wakes)
			}
			continue
		}
		if ids := pushesDue(t, st, after.Add(settle+time.Second)); len(ids) != 1 || ids[0] != store.PushJobID(app.ID, 1) {
			t.Errorf("due after the settle time: %v", ids)
		}
		if len(wakes) != 1 || wakes[0].Before(before.Add(settle)) {
			t.Errorf("wake-ups %v, want one at the push's due time", wakes)
		}
	}
}

// A burst of changes within the settle time costs one push, of the
// newest version; the portal gets nothing older after it.
func TestABurstOfChangesIsOnePush(t *testing.T) {
	portal := &fakePortal{}
	// The worker polls often: without the settle time it would push each
	// version as soon as it is queued.
	eng := settleRig(t, 3*time.Second, 5*time.Millisecond, &fakeDept{reply: c.CaseReceived}, portal)
	ctx := context.Background()
	app, _, err := eng.Submit(ctx, "d", medicalOnly())
	if err != nil {
		t.Fatal(err)
	}
	task := app.Tasks[0].ID
	for i, typ := range []c.EventType{c.EventAccepted, c.EventInProgress, c.EventApproved} {
		ev := &c.DeptEvent{EventID: "e" + string(rune('1'+i)), TaskID: task, Type: typ, OccurredAt: time.Now()}
		if _, _, err := eng.ApplyEvent(ctx, c.DeptMedical, ev); err != nil {
			t.Fatal(err)
		}
	}
	var final *c.Application
	eventually(t, "the final state pushed", func() bool {
		final, err = eng.Store.Get(ctx, app.ID)
		return err == nil && final.Status.State == c.AppCompleted && final.PushedVersion == final.Version
	})
	if final.Version < 3 {
		t.Fatalf("not a burst: %d versions", final.Version)
	}
	portal.mu.Lock()
	defer portal.mu.Unlock()
	if len(portal.versions) != 1 || portal.versions[0] != final.Version {
		t.Errorf("pushed versions %v, want one push of version %d", portal.versions, final.Version)
	}
}

// A push due later is taken when it becomes due, not at the worker's next
// idle poll (here an hour away): the engine asks the worker to wake then.
func TestTheWorkerWakesWhenThePushSettles(t *testing.T) {
	portal := &fakePortal{}
	eng := settleRig(t, 50*time.Millisecond, time.Hour, &fakeDept{reply: c.CaseAccepted}, portal)
	ctx := context.Background()
	app, _, err := eng.Submit(ctx, "d", medicalOnly())
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the dispatch's answer pushed", func() bool {
		got, err := eng.Store.Get(ctx, app.ID)
		return err == nil && got.Tasks[0].State == c.TaskAccepted && got.PushedVersion == got.Version
	})
	portal.mu.Lock()
	defer portal.mu.Unlock()
	for i := 1; i < len(portal.versions); i++ {
		if portal.versions[i] <= portal.versions[i-1] {
			t.Errorf("pushes out of order or repeated: %v", portal.versions)
		}
	}
}
