package engine_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
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

// callErr is a failed call as the adapters report it.
type callErr struct {
	retryable, open bool
	delay           time.Duration
	msg             string // the error's text ("": "call failed")
}

func (e callErr) Error() string {
	if e.msg != "" {
		return e.msg
	}
	return "call failed"
}
func (e callErr) IsRetryable() bool         { return e.retryable }
func (e callErr) RetryDelay() time.Duration { return e.delay }
func (e callErr) IsBreakerOpen() bool       { return e.open }

// fakeDept answers from a script: errors first, then the reply.
type fakeDept struct {
	mu    sync.Mutex
	errs  []error
	reply c.CaseStatus
	keys  []string
	bases []string // the callback base of each case request
	calls int
	// cancels are the withdrawal notices received.
	cancels []c.CancelRequest
	// onCall, when set, runs at each case request (a test moves its
	// business clock there).
	onCall func()
	// ctxCall, if set, sees the first call's context.
	ctxCall func(context.Context)
	// polled are the events a poll reads back; polls counts the polls.
	polled []c.DeptEvent
	polls  int
	// cancelErr, when set, is every withdrawal notice's answer.
	cancelErr error
	// hangOnce makes the next case request wait for its context to end
	// (a department slower than the shutdown's grace).
	hangOnce bool
}

// count is the case requests received so far.
func (d *fakeDept) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls
}

func (d *fakeDept) OpenCase(ctx context.Context, _ *c.Application, t *c.Task, base, key, _ string) (*c.CaseResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls++
	d.keys = append(d.keys, key)
	d.bases = append(d.bases, base)
	if d.onCall != nil {
		d.onCall()
	}
	if f := d.ctxCall; f != nil { // runs once, unlocked (it may erase)
		d.ctxCall = nil
		d.mu.Unlock()
		f(ctx)
		d.mu.Lock()
	}
	if d.hangOnce {
		d.hangOnce = false
		d.mu.Unlock()
		<-ctx.Done()
		d.mu.Lock()
		return nil, ctx.Err()
	}
	if len(d.errs) > 0 {
		err := d.errs[0]
		d.errs = d.errs[1:]
		return nil, err
	}
	return &c.CaseResponse{CaseNo: "CASE-" + t.ID, Status: d.reply}, nil
}

func (d *fakeDept) Supplement(_ context.Context, t *c.Task, _ *c.SupplementRequest, key, _ string) (*c.CaseResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.keys = append(d.keys, key)
	return &c.CaseResponse{CaseNo: t.CaseNo, Status: c.CaseInProgress}, nil
}

func (d *fakeDept) Cancel(_ context.Context, t *c.Task, req *c.CancelRequest, key, _ string) (*c.CaseResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.keys = append(d.keys, key)
	if d.cancelErr != nil {
		return nil, d.cancelErr
	}
	d.cancels = append(d.cancels, *req)
	return &c.CaseResponse{CaseNo: t.CaseNo, Status: c.CaseCancelled}, nil
}

func (d *fakeDept) Poll(_ context.Context, t *c.Task, _ string) (*c.CaseView, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.polls++
	return &c.CaseView{CaseNo: t.CaseNo, Status: "accepted", Events: d.polled}, nil
}

type fakePortal struct {
	mu       sync.Mutex
	failures int
	// breakerOpen refuses every push before it is sent, as an open
	// breaker does, with an hour's rest; tried lists the versions.
	breakerOpen bool
	tried       []int64
	versions    []int64
	states      []c.AppState
	// onPush, when set, runs at each push taken (before it is recorded).
	onPush func(*c.StatusPush)
}

func (p *fakePortal) Push(_ context.Context, push *c.StatusPush, _ string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.breakerOpen {
		p.tried = append(p.tried, push.Version)
		return callErr{retryable: true, open: true, delay: time.Hour}
	}
	if p.failures > 0 {
		p.failures--
		return callErr{retryable: true}
	}
	if p.onPush != nil {
		p.onPush(push)
	}
	p.versions = append(p.versions, push.Version)
	p.states = append(p.states, push.Status.State)
	return nil
}

type rig struct {
	eng    *engine.Engine
	worker *engine.Worker
	depts  map[c.Dept]*fakeDept
	portal *fakePortal
	cancel context.CancelFunc
	done   chan struct{}
}

// medicalOnly is an application with a single medical-subsidy task.
func medicalOnly() *c.Submission {
	return &c.Submission{PortalRef: "R1", Channel: c.ChannelOnline,
		Applicant: c.Applicant{Name: "杨雨欣", IDNumber: "511702201009230885", HouseholdDivision: "511702001", Orphan: true},
		Requests:  c.Requests{Medical: &c.MedicalRequest{Identity: "orphan"}}}
}

// newRig starts a worker on a bolt store (wrapped by wrap, if given).
func newRig(t *testing.T, medical *fakeDept, portal *fakePortal, wrap ...func(store.Store) store.Store) *rig {
	st, err := store.OpenBolt(filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{depts: map[c.Dept]*fakeDept{c.DeptMedical: medical}, portal: portal}
	var used store.Store = st
	for _, w := range wrap {
		used = w(used)
	}
	r.eng = &engine.Engine{Store: used, Flow: workflow.New(calendar.Default())}
	r.worker = &engine.Worker{Engine: r.eng, Departments: map[c.Dept]engine.Department{c.DeptMedical: medical}, Portal: portal,
		Policy:     engine.Policy{MaxAttempts: 3, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond},
		PushPolicy: engine.Policy{BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond},
		Poll:       5 * time.Millisecond}
	r.eng.Wake = r.worker.Wake
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan struct{})
	go func() { r.worker.Run(ctx); close(r.done) }()
	t.Cleanup(func() { cancel(); <-r.done; st.Close() })
	return r
}

func (r *rig) submit(t *testing.T) string {
	app, dup, err := r.eng.Submit(context.Background(), "d1", medicalOnly())
	if err != nil || dup {
		t.Fatal(err, dup)
	}
	return app.ID
}

// waitFor polls the application until cond holds.
func (r *rig) waitFor(t *testing.T, id string, cond func(*c.Application) bool) *c.Application {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		app, err := r.eng.Store.Get(context.Background(), id)
		if err == nil && cond(app) {
			return app
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not reached: %+v", app.Tasks[0])
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (r *rig) queueEmpty(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		q, _ := r.eng.Store.QueueStats(context.Background())
		if q.Jobs == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue not drained: %+v", q)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestTransientFailuresRetryWithTheSameKey(t *testing.T) {
	dept := &fakeDept{errs: []error{callErr{retryable: true}, callErr{retryable: true}}, reply: c.CaseAccepted}
	r := newRig(t, dept, &fakePortal{})
	id := r.submit(t)
	app := r.waitFor(t, id, func(a *c.Application) bool { return a.Tasks[0].State == c.TaskAccepted })
	if dept.calls != 3 || app.Tasks[0].Attempts != 0 || app.Tasks[0].CaseNo == "" {
		t.Errorf("calls %d, task %+v", dept.calls, app.Tasks[0])
	}
	for _, k := range dept.keys {
		if k != dept.keys[0] {
			t.Errorf("retries used different idempotency keys: %v", dept.keys)
		}
	}
	r.queueEmpty(t)
}

func TestExhaustedRetriesMakeADeadLetter(t *testing.T) {
	e := callErr{retryable: true}
	dept := &fakeDept{errs: []error{e, e, e, e, e}, reply: c.CaseAccepted}
	r := newRig(t, dept, &fakePortal{})
	id := r.submit(t)
	app := r.waitFor(t, id, func(a *c.Application) bool { return a.Tasks[0].State == c.TaskDeadLetter })
	if dept.calls != 3 || app.Tasks[0].Attempts != 3 || app.Tasks[0].LastError == "" {
		t.Errorf("calls %d, task %+v", dept.calls, app.Tasks[0])
	}
	r.queueEmpty(t)
}

func TestARefusalIsNotRetried(t *testing.T) {
	dept := &fakeDept{errs: []error{callErr{retryable: false}}, reply: c.CaseAccepted}
	r := newRig(t, dept, &fakePortal{})
	id := r.submit(t)
	r.waitFor(t, id, func(a *c.Application) bool { return a.Tasks[0].State == c.TaskDeadLetter })
	r.queueEmpty(t)
	if dept.calls != 1 {
		t.Errorf("a 4xx refusal was retried: %d calls", dept.calls)
	}
}

// Two replays of one dead letter at once both list it; the one that comes
// second finds it queued again by the first. It answers "replayed", not
// "resolved": no department reported (outsider: 2 of 20 concurrent
// replays said "resolved").
func TestAReplayBehindAnotherSaysReplayed(t *testing.T) {
	var stale *staleParked
	dept := &fakeDept{errs: []error{callErr{retryable: false}}, reply: c.CaseAccepted}
	r := newRig(t, dept, &fakePortal{}, func(s store.Store) store.Store { stale = &staleParked{Store: s}; return stale })
	id := r.submit(t)
	r.waitFor(t, id, func(a *c.Application) bool { return a.Tasks[0].State == c.TaskDeadLetter })
	r.queueEmpty(t)
	r.cancel() // no worker: the replayed dispatch stays queued
	<-r.done
	ctx := context.Background()
	if _, err := stale.Parked(ctx); err != nil { // what both replays list
		t.Fatal(err)
	}
	stale.hold = true
	for i, who := range []string{"first", "second"} {
		res, err := r.eng.Replay(ctx, "", id+"-1")
		if err != nil || len(res.Replayed) != 1 || len(res.Resolved) != 0 {
			t.Fatalf("%s replay (%d): %+v, %v; want it replayed", who, i, res, err)
		}
	}
}

// staleParked answers Parked with what it listed before hold was set, as
// a replay that listed the dead letters before another replay took them.
type staleParked struct {
	store.Store
	hold   bool
	listed []store.Job
}

func (s *staleParked) Parked(ctx context.Context) ([]store.Job, error) {
	if s.hold {
		return s.listed, nil
	}
	jobs, err := s.Store.Parked(ctx)
	s.listed = jobs
	return jobs, err
}

func TestAnOpenBreakerDefersWithoutUsingAttempts(t *testing.T) {
	open := callErr{retryable: true, open: true, delay: 5 * time.Millisecond}
	dept := &fakeDept{errs: []error{open, open, open, open, open}, reply: c.CaseApproved}
	r := newRig(t, dept, &fakePortal{})
	id := r.submit(t)
	app := r.waitFor(t, id, func(a *c.Application) bool { return a.Tasks[0].State == c.TaskApproved })
	if app.Tasks[0].State == c.TaskDeadLetter || dept.calls != 6 {
		t.Errorf("5 deferrals with MaxAttempts 3: calls %d, task %+v", dept.calls, app.Tasks[0])
	}
}

func TestStatusPushesAreRetriedUntilTheLatestArrives(t *testing.T) {
	portal := &fakePortal{failures: 3}
	r := newRig(t, &fakeDept{reply: c.CaseApproved}, portal)
	id := r.submit(t)
	app := r.waitFor(t, id, func(a *c.Application) bool { return a.Status.State == c.AppCompleted && a.PushedVersion == a.Version })
	r.queueEmpty(t)
	portal.mu.Lock()
	defer portal.mu.Unlock()
	if len(portal.versions) == 0 || portal.versions[len(portal.versions)-1] != app.Version {
		t.Errorf("pushed versions %v, final version %d", portal.versions, app.Version)
	}
	for i := 1; i < len(portal.versions); i++ {
		if portal.versions[i] <= portal.versions[i-1] {
			t.Errorf("pushes out of order or repeated: %v", portal.versions)
		}
	}
}

// A Redis failover can lose the last writes after a worker read them and
// pushed their state: its ack then meets an older record (a version the
// record never reached, or the same version with another state). The
// portal keeps the newest version it took, so the record's state must go
// out under a version past the one pushed; recording the push as done
// would leave the portal with a state the record does not hold (and,
// with the version ahead of the record's, drop its next pushes: the
// final status never arriving).
func TestPushOfALostStateIsFollowedByTheRecordsState(t *testing.T) {
	for _, tc := range []struct {
		name string
		lose func(app *c.Application)
	}{
		{"version the record never reached", func(app *c.Application) { app.Version-- }},
		{"same version, other state", func(*c.Application) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			portal := &fakePortal{}
			r := newRig(t, &fakeDept{reply: c.CaseApproved}, portal)
			var lost atomic.Int64
			var id string
			var idMu sync.Mutex
			portal.onPush = func(push *c.StatusPush) {
				if push.Status.State != c.AppCompleted || !lost.CompareAndSwap(0, push.Version) {
					return
				}
				idMu.Lock()
				defer idMu.Unlock()
				// The failover: the record goes back to before the
				// department's decision (the task accepted, not approved).
				err := r.eng.Store.Update(context.Background(), id, "", func(app *c.Application) ([]store.Job, error) {
					app.Tasks[0].State = c.TaskAccepted
					app.Tasks[0].Result = nil
					tc.lose(app)
					r.eng.Flow.Recompute(app)
					return nil, nil
				})
				if err != nil {
					t.Error(err)
				}
			}
			idMu.Lock()
			id = r.submit(t)
			idMu.Unlock()
			app := r.waitFor(t, id, func(a *c.Application) bool {
				v := lost.Load()
				return v > 0 && a.PushedVersion == a.Version && a.Version > v
			})
			r.queueEmpty(t)
			portal.mu.Lock()
			defer portal.mu.Unlock()
			last := len(portal.versions) - 1
			if portal.versions[last] != app.Version || portal.states[last] != app.Status.State {
				t.Errorf("the portal's last push is version %d %s; the record is at version %d %s",
					portal.versions[last], portal.states[last], app.Version, app.Status.State)
			}
			if app.Status.State == c.AppCompleted {
				t.Errorf("the record is %s; the test meant to roll it back", app.Status.State)
			}
		})
	}
}

// heldStore is a store with replicas (store.ConfirmedReader) whose
// replicas do not hold the newest writes while hold is set.
type heldStore struct {
	store.Store
	hold  atomic.Bool
	asked atomic.Int32 // confirmed reads refused
}

func (s *heldStore) GetConfirmed(ctx context.Context, id string) (*c.Application, error) {
	if s.hold.Load() {
		s.asked.Add(1)
		return nil, store.ErrNotReplicated
	}
	return s.Store.Get(ctx, id)
}

// A status push sends only a state the store's replicas hold: one read on
// a primary that a failover could still lose is held back (the job tried
// again later), since the portal would keep it and drop the pushes of the
// versions the promoted replica reaches again.
func TestPushWaitsForTheReplicas(t *testing.T) {
	portal := &fakePortal{}
	held := &heldStore{}
	held.hold.Store(true)
	r := newRig(t, &fakeDept{reply: c.CaseApproved}, portal, func(st store.Store) store.Store { held.Store = st; return held })
	id := r.submit(t)
	r.waitFor(t, id, func(*c.Application) bool { return held.asked.Load() >= 3 })
	portal.mu.Lock()
	pushed := len(portal.versions)
	portal.mu.Unlock()
	if pushed != 0 {
		t.Fatalf("%d pushes sent of states the replicas did not hold", pushed)
	}
	held.hold.Store(false)
	app := r.waitFor(t, id, func(a *c.Application) bool { return a.Status.State == c.AppCompleted && a.PushedVersion == a.Version })
	r.queueEmpty(t)
	portal.mu.Lock()
	defer portal.mu.Unlock()
	if n := len(portal.versions); n == 0 || portal.versions[n-1] != app.Version {
		t.Errorf("pushed versions %v, final version %d", portal.versions, app.Version)
	}
}

// The department decided the case (its event arrived) before the queued
// dispatch ran, e.g. after a crash between its reply and our write: the
// dispatch is dropped, not sent again. (A late reply that does arrive is
// absorbed as stale: see the workflow tests.)
func TestEventBeforeTheDispatchRuns(t *testing.T) {
	st, err := store.OpenBolt(filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eng := &engine.Engine{Store: st, Flow: workflow.New(calendar.Default())}
	app, _, err := eng.Submit(context.Background(), "d", medicalOnly())
	if err != nil {
		t.Fatal(err)
	}
	task := app.Tasks[0].ID
	ev := &c.DeptEvent{EventID: "e1", TaskID: task, Type: c.EventApproved, OccurredAt: time.Now()}
	if out, state, err := eng.ApplyEvent(context.Background(), c.DeptMedical, ev); err != nil || out != workflow.Applied || state != c.TaskApproved {
		t.Fatalf("event: %s %s %v", out, state, err)
	}
	dept := &fakeDept{reply: c.CaseReceived}
	w := &engine.Worker{Engine: eng, Departments: map[c.Dept]engine.Department{c.DeptMedical: dept}, Portal: &fakePortal{}, Poll: time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	w.Run(ctx)
	got, _ := st.Get(context.Background(), app.ID)
	if got.Tasks[0].State != c.TaskApproved {
		t.Errorf("task is %s after the late reply", got.Tasks[0].State)
	}
	if dept.calls != 0 {
		t.Errorf("a task the department already decided was dispatched %d times", dept.calls)
	}
}

func TestBackoffIsBoundedAndJittered(t *testing.T) {
	p := engine.Policy{BaseBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}
	seen := map[time.Duration]bool{}
	for attempt := 1; attempt <= 40; attempt++ {
		d := p.Backoff(attempt)
		ceiling := min(100*time.Millisecond<<min(attempt-1, 30), time.Second)
		if d < ceiling/2 || d > ceiling {
			t.Errorf("attempt %d: %v outside [%v, %v]", attempt, d, ceiling/2, ceiling)
		}
		seen[d] = true
	}
	if len(seen) < 10 {
		t.Errorf("backoff hardly varies: %d distinct delays in 40", len(seen))
	}
}

// A dead letter replayed goes out with the same idempotency key as before,
// so a department that did apply it after all applies it once; replaying
// again changes nothing.
func TestReplayKeepsTheIdempotencyKey(t *testing.T) {
	dept := &fakeDept{errs: []error{callErr{retryable: false}}, reply: c.CaseAccepted}
	r := newRig(t, dept, &fakePortal{})
	id := r.submit(t)
	r.waitFor(t, id, func(a *c.Application) bool { return a.Tasks[0].State == c.TaskDeadLetter })
	ctx := context.Background()
	var parked []store.Job
	var err error
	for deadline := time.Now().Add(5 * time.Second); len(parked) == 0 && time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		parked, err = r.eng.Store.Parked(ctx) // parked just after the task is marked
	}
	if err != nil || len(parked) != 1 || parked[0].Dept != string(c.DeptMedical) {
		t.Fatalf("parked %+v %v", parked, err)
	}
	dls, _ := r.eng.DeadLetters(ctx, c.DeptMedical)
	if len(dls) != 1 || dls[0].LastError == "" || dls[0].TaskState != c.TaskDeadLetter {
		t.Fatalf("dead letters %+v", dls)
	}
	if other, _ := r.eng.DeadLetters(ctx, c.DeptCDPF); len(other) != 0 {
		t.Errorf("filter by department: %+v", other)
	}
	res, err := r.eng.Replay(ctx, "", dls[0].TaskID)
	if err != nil || len(res.Replayed) != 1 {
		t.Fatalf("replay: %+v %v", res, err)
	}
	r.waitFor(t, id, func(a *c.Application) bool { return a.Tasks[0].State == c.TaskAccepted })
	dept.mu.Lock()
	keys := append([]string(nil), dept.keys...)
	dept.mu.Unlock()
	if len(keys) != 2 || keys[0] != keys[1] || keys[0] != dls[0].JobID {
		t.Errorf("idempotency keys %v, want the first attempt's key again (%s)", keys, dls[0].JobID)
	}
	if _, err := r.eng.Replay(ctx, "", dls[0].TaskID); !errors.Is(err, engine.ErrUnknownTask) {
		t.Errorf("second replay: %v, want nothing to replay", err)
	}
	if left, _ := r.eng.Store.Parked(ctx); len(left) != 0 {
		t.Errorf("still parked after replay: %+v", left)
	}
}

// Waiting any longer would pass the case's legal due date: the task is
// parked for an operator at once rather than retried past it.
func TestRetriesStopBeforeTheLegalDeadline(t *testing.T) {
	dept := &fakeDept{errs: []error{callErr{retryable: true, delay: 72 * time.Hour}}, reply: c.CaseAccepted}
	r := newRig(t, dept, &fakePortal{})
	ctx := context.Background()
	// Received early in 2026; by the time the department answers, business
	// time is December and the case's 45 working days ran out long ago.
	var now atomic.Int64
	now.Store(time.Date(2026, 1, 5, 9, 0, 0, 0, calendar.Zone).UnixNano())
	r.eng.Flow.Now = func() time.Time { return time.Unix(0, now.Load()).In(calendar.Zone) }
	dept.onCall = func() { now.Store(time.Date(2026, 12, 5, 9, 0, 0, 0, calendar.Zone).UnixNano()) }
	app, _, err := r.eng.Submit(ctx, "d-late", medicalOnly())
	if err != nil || app.Status.DueDate == "" {
		t.Fatalf("%v, due %q", err, app.Status.DueDate)
	}
	got := r.waitFor(t, app.ID, func(a *c.Application) bool { return a.Tasks[0].State == c.TaskDeadLetter })
	if dept.calls != 1 || got.Tasks[0].Attempts != 1 {
		t.Errorf("calls %d attempts %d: want one call, then parked", dept.calls, got.Tasks[0].Attempts)
	}
}

// A push refused by the portal's open breaker was never sent: it is
// deferred until the breaker lets a probe through, and uses no attempt,
// as a dispatch to a resting department (README "An open breaker defers
// work without using an attempt"), instead of retrying on a backoff grown
// by the refusals.
func TestAnOpenBreakerDefersThePush(t *testing.T) {
	portal := &fakePortal{breakerOpen: true}
	r := newRig(t, &fakeDept{reply: c.CaseApproved}, portal)
	st := r.eng.Store
	app, err := st.Get(context.Background(), r.submit(t))
	if err != nil {
		t.Fatal(err)
	}
	// Until the final version's push has been tried.
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := st.Get(context.Background(), app.ID)
		if err != nil {
			t.Fatal(err)
		}
		portal.mu.Lock()
		tried := slices.Contains(portal.tried, got.Version)
		portal.mu.Unlock()
		if got.Status.State == c.AppCompleted && tried {
			app = got
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the final push was never tried: state %s, version %d, tried %v", got.Status.State, got.Version, portal.tried)
		}
		time.Sleep(2 * time.Millisecond)
	}
	r.cancel()
	<-r.done
	if ids := pushesDue(t, st, time.Now().Add(30*time.Minute)); len(ids) != 0 {
		t.Errorf("pushes due again within the breaker's rest: %v (tried %d times)", ids, len(portal.tried))
	}
	jobs, err := st.Lease(context.Background(), time.Now().Add(2*time.Hour), 100, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// An older version's job deferred while the next was written stays
	// too (a job a worker holds is not replaced); it will send nothing.
	final := false
	for _, j := range jobs {
		if j.Kind != store.JobPush {
			continue
		}
		final = final || j.ID == store.PushJobID(app.ID, app.Version)
		if j.Attempt != 0 {
			t.Errorf("deferred push %s after %d attempts, want none", j.ID, j.Attempt)
		}
	}
	if !final {
		t.Errorf("the final version's push is not kept: %v", jobs)
	}
	if len(portal.tried) > int(app.Version) {
		t.Errorf("%d tries for %d versions: an open breaker was retried", len(portal.tried), app.Version)
	}
}

// A polled event is held to the contract and its application as a posted
// one is: one that fails is left out (logged by field, never by value),
// the others are taken, and polling goes on.
func TestPolledEventsAreChecked(t *testing.T) {
	dept := &fakeDept{reply: c.CaseAccepted}
	r := newRig(t, dept, &fakePortal{})
	r.eng.PollEvery = map[c.Dept]time.Duration{c.DeptMedical: time.Millisecond}
	id := r.submit(t)
	app := r.waitFor(t, id, func(a *c.Application) bool { return a.Tasks[0].State == c.TaskAccepted })
	task := app.Tasks[0].ID
	now := time.Now()
	dept.mu.Lock()
	dept.polled = []c.DeptEvent{
		{EventID: "p1", TaskID: task, Type: c.EventApproved, OccurredAt: now, Result: &c.Result{MonthlyAmount: -100}},
		{EventID: "p2", TaskID: task, Type: c.EventApproved, OccurredAt: now.AddDate(73, 0, 0)},
		{EventID: "p3", TaskID: task, Type: c.EventInProgress, OccurredAt: now},
	}
	dept.mu.Unlock()
	// The polls the opened case scheduled read the three back.
	app = r.waitFor(t, id, func(a *c.Application) bool { return a.Tasks[0].State == c.TaskInProgress })
	deadline := time.Now().Add(5 * time.Second)
	for {
		dept.mu.Lock()
		polls := dept.polls
		dept.mu.Unlock()
		if polls >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("polling stopped after %d polls", polls)
		}
		time.Sleep(2 * time.Millisecond)
	}
	app, _ = r.eng.Store.Get(context.Background(), id)
	if tk := app.Tasks[0]; tk.State != c.TaskInProgress || tk.Result != nil {
		t.Fatalf("a polled event against the contract was taken: %+v", tk)
	}
}

// A withdrawal notice the department refuses for good (its case is closed)
// is not only a log line: the refusal goes on the item's timeline, a new
// version that is pushed, and the job ends (outsider: the item stayed
// cancelled here while the department had approved it, and nobody saw).
func TestRefusedFollowUpIsOnTheTimeline(t *testing.T) {
	dept := &fakeDept{reply: c.CaseAccepted, cancelErr: callErr{retryable: false}}
	portal := &fakePortal{}
	r := newRig(t, dept, portal)
	id := r.submit(t)
	r.waitFor(t, id, func(a *c.Application) bool { return a.Tasks[0].State == c.TaskAccepted })
	if _, err := r.eng.Withdraw(context.Background(), id, "w1", ""); err != nil {
		t.Fatal(err)
	}
	app := r.waitFor(t, id, func(a *c.Application) bool {
		for _, e := range a.Timeline {
			if e.Kind == "follow_up_refused" {
				return true
			}
		}
		return false
	})
	r.queueEmpty(t)
	var e c.Entry
	for _, x := range app.Timeline {
		if x.Kind == "follow_up_refused" {
			e = x
		}
	}
	if e.TaskID != app.Tasks[0].ID || e.Source != string(c.DeptMedical) || e.Note == nil || !strings.Contains(e.Note.ZH, "请与部门核实") || e.Note.EN == "" {
		t.Fatalf("the timeline's entry: %+v", e)
	}
	portal.mu.Lock()
	last := portal.versions[len(portal.versions)-1]
	portal.mu.Unlock()
	final, _ := r.eng.Store.Get(context.Background(), id)
	if last != final.Version {
		t.Fatalf("pushed up to version %d, the application is at %d", last, final.Version)
	}
}

// A dispatch whose call failed (a timeout: it may have reached the
// department) while the applicant withdrew is sent again with the same
// key, so the department's case is learned and cancelled, or its decision
// taken (outsider: the retry was dropped as "nothing due any more", and
// the department held an approved case the gateway showed as cancelled).
func TestDispatchThatMayHaveReachedIsSettledAfterAWithdrawal(t *testing.T) {
	for _, reply := range []c.CaseStatus{c.CaseAccepted, c.CaseApproved} {
		t.Run(string(reply), func(t *testing.T) {
			dept := &fakeDept{reply: reply}
			r := newRig(t, dept, &fakePortal{})
			dept.errs = []error{callErr{retryable: true}} // the first call times out
			id := withdrawnDuringFirstCall(t, r, dept)
			want := c.TaskCancelled
			if reply == c.CaseApproved {
				want = c.TaskApproved // its decision stands
			}
			app := r.waitFor(t, id, func(a *c.Application) bool {
				return a.Tasks[0].CaseNo != "" && a.Tasks[0].State == want
			})
			r.queueEmpty(t)
			dept.mu.Lock()
			defer dept.mu.Unlock()
			if dept.calls != 2 || len(dept.keys) < 2 || dept.keys[0] != dept.keys[1] {
				t.Fatalf("case requests %d with keys %v; want the same key twice", dept.calls, dept.keys)
			}
			if reply == c.CaseAccepted && len(dept.cancels) != 1 {
				t.Fatalf("withdrawal notices %d; want the case the department opened cancelled", len(dept.cancels))
			}
			if reply == c.CaseApproved && len(dept.cancels) != 0 {
				t.Fatalf("a decided case was told to cancel: %+v", dept.cancels)
			}
			if app.WithdrawnAt == nil {
				t.Fatal("not withdrawn")
			}
		})
	}
}

// The same after a crash: the process died holding the dispatch (its call
// may have gone out), the applicant withdrew before the restart; the next
// process finds the job as its dead holder left it (retaken), sends it
// again with the same key and cancels the case the department opened
// (outsider: after kill -9 the item stayed cancelled while the department
// held the case).
func TestDispatchHeldAtACrashIsSettledAfterAWithdrawal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.db")
	st, err := store.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	eng := &engine.Engine{Store: st, Flow: workflow.New(calendar.Default())}
	app, _, err := eng.Submit(context.Background(), "d1", medicalOnly())
	if err != nil {
		t.Fatal(err)
	}
	held, err := st.Lease(context.Background(), time.Now(), 10, time.Hour) // the process that dies
	held = slices.DeleteFunc(held, func(j store.Job) bool { return j.Kind != store.JobDispatch })
	if err != nil || len(held) != 1 {
		t.Fatalf("leased %+v, %v; want the dispatch", held, err)
	}
	if _, err := eng.Withdraw(context.Background(), app.ID, "w1", ""); err != nil {
		t.Fatal(err)
	}
	st.Close() // the process is gone; its lease is in the file

	st, err = store.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	dept := &fakeDept{reply: c.CaseAccepted}
	r := restart(t, &engine.Engine{Store: st, Flow: workflow.New(calendar.Default())}, dept)
	t.Cleanup(func() { st.Close() })

	got := r.waitFor(t, app.ID, func(a *c.Application) bool { return a.Tasks[0].CaseNo != "" })
	r.queueEmpty(t)
	dept.mu.Lock()
	defer dept.mu.Unlock()
	if dept.calls != 1 || dept.keys[0] != held[0].ID || len(dept.cancels) != 1 || got.Tasks[0].State != c.TaskCancelled {
		t.Fatalf("case requests %d (keys %v), withdrawal notices %d, item %s; want the held request sent again under its key and the case cancelled",
			dept.calls, dept.keys, len(dept.cancels), got.Tasks[0].State)
	}
}

// Erased while its dispatch, held by a process that died, still waited to
// be settled: nothing personal may leave any more, so the request is not
// sent again, but it is not forgotten either: it is parked, saying so, for
// an operator to settle with the department by hand; the replay then only
// clears it (outsider: the job was acked and the department's case left
// alone).
func TestDispatchOfAnErasedApplicationIsParkedForAnOperator(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "e.db")
	st, err := store.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	eng := &engine.Engine{Store: st, Flow: workflow.New(calendar.Default())}
	app, _, err := eng.Submit(ctx, "d1", medicalOnly())
	if err != nil {
		t.Fatal(err)
	}
	if held, err := st.Lease(ctx, time.Now(), 10, time.Hour); err != nil || len(held) == 0 { // the process that dies
		t.Fatalf("leased %+v, %v", held, err)
	}
	if _, err := eng.Withdraw(ctx, app.ID, "w1", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Erase(ctx, app.ID, "本人申请删除", "admin#1", false); err != nil {
		t.Fatal(err)
	}
	st.Close()

	st, err = store.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	dept := &fakeDept{reply: c.CaseAccepted}
	r := restart(t, &engine.Engine{Store: st, Flow: workflow.New(calendar.Default())}, dept)
	r.queueEmpty(t)
	parked, err := st.Parked(ctx)
	if err != nil || len(parked) != 1 || parked[0].Kind != store.JobDispatch || !strings.Contains(parked[0].LastError, "个人信息已删除") {
		t.Fatalf("parked %+v, %v; want the dispatch parked for an operator, saying why", parked, err)
	}
	res, err := r.eng.Replay(ctx, "", parked[0].TaskID)
	if err != nil || len(res.Resolved) != 1 {
		t.Fatalf("replay: %+v, %v; want it cleared as resolved", res, err)
	}
	r.queueEmpty(t)
	if left, _ := st.Parked(ctx); len(left) != 0 {
		t.Fatalf("still parked after the replay: %+v", left)
	}
	dept.mu.Lock()
	defer dept.mu.Unlock()
	if dept.calls != 0 {
		t.Fatalf("%d case requests for an erased application", dept.calls)
	}
}

// Parked after its attempts ran out (it may have reached the department),
// then withdrawn and erased: the dead letter says it must be settled by
// hand, not the HTTP error it had (outsider: it kept "HTTP 500", and the
// replay cleared it as if the department had answered).
func TestADeadLetterErasedAfterParkingSaysSo(t *testing.T) {
	dept := &fakeDept{errs: []error{callErr{retryable: true}, callErr{retryable: true}, callErr{retryable: true}}, reply: c.CaseAccepted}
	r := newRig(t, dept, &fakePortal{})
	id := r.submit(t)
	r.waitFor(t, id, func(a *c.Application) bool { return a.Tasks[0].State == c.TaskDeadLetter })
	ctx := context.Background()
	if _, err := r.eng.Erase(ctx, id, "本人申请删除", "admin#1", false); err == nil {
		t.Fatal("erased while an item was parked at a department, without force")
	}
	if _, err := r.eng.Withdraw(ctx, id, "w1", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := r.eng.Erase(ctx, id, "本人申请删除", "admin#1", false); err != nil {
		t.Fatal(err)
	}
	list, err := r.eng.DeadLetters(ctx, "")
	if err != nil || len(list) != 1 || !strings.HasPrefix(list[0].LastError, c.ErasedUnsettled) || !strings.Contains(list[0].LastError, "call failed") {
		t.Fatalf("dead letters %+v, %v; want the erasure's note before the earlier error", list, err)
	}
}

// Erased (with force) while its dispatch waits for the next try after a
// failure: parked as to be settled by hand, with the failure it had.
func TestADispatchWaitingToRetryWhenErasedKeepsItsError(t *testing.T) {
	dept := &fakeDept{errs: []error{callErr{retryable: true, delay: 300 * time.Millisecond}}, reply: c.CaseAccepted}
	r := newRig(t, dept, &fakePortal{})
	id := r.submit(t)
	r.waitFor(t, id, func(a *c.Application) bool { return a.Tasks[0].Attempts == 1 })
	ctx := context.Background()
	if _, err := r.eng.Erase(ctx, id, "本人申请删除", "admin#1", true); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		parked, _ := r.eng.Store.Parked(ctx)
		if len(parked) == 1 {
			if !strings.HasPrefix(parked[0].LastError, c.ErasedUnsettled) || !strings.Contains(parked[0].LastError, "call failed") {
				t.Fatalf("parked with %q; want the erasure's note and the earlier error", parked[0].LastError)
			}
			// As the operators' list shows it (outsider: the list dropped
			// the earlier error the parked job kept).
			list, err := r.eng.DeadLetters(ctx, "")
			if err != nil || len(list) != 1 || list[0].LastError != parked[0].LastError {
				t.Fatalf("listed %+v, %v; want the parked job's error %q", list, err, parked[0].LastError)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not parked: %+v", parked)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if dept.calls != 1 {
		t.Fatalf("%d case requests; want none after the erasure", dept.calls)
	}
}

// A deferral while the department's breaker is open sends nothing: the
// dead letter keeps the error of the last try that went out (outsider:
// it named the breaker, not the HTTP 500 of the request that may have
// reached the department).
func TestADeferralKeepsTheLastTrysError(t *testing.T) {
	dept := &fakeDept{errs: []error{
		callErr{retryable: true, msg: "medical: HTTP 500 internal_error"},
		callErr{retryable: true, open: true, delay: 300 * time.Millisecond, msg: "medical: circuit breaker open"},
	}, reply: c.CaseAccepted}
	r := newRig(t, dept, &fakePortal{})
	id := r.submit(t)
	deadline := time.Now().Add(5 * time.Second)
	for dept.count() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("no deferral")
		}
		time.Sleep(2 * time.Millisecond)
	}
	ctx := context.Background()
	if _, err := r.eng.Erase(ctx, id, "本人申请删除", "admin#1", true); err != nil {
		t.Fatal(err)
	}
	for {
		if list, _ := r.eng.DeadLetters(ctx, ""); len(list) == 1 {
			if !strings.Contains(list[0].LastError, "HTTP 500") || strings.Contains(list[0].LastError, "breaker") {
				t.Fatalf("listed with %q; want the HTTP 500 of the try that went out", list[0].LastError)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("not parked")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A call under way when the application is erased may not send its
// request again within the call (the client asks the context).
func TestACallStopsRetryingOnceErased(t *testing.T) {
	dept := &fakeDept{reply: c.CaseAccepted}
	r := newRig(t, dept, &fakePortal{})
	var before, after bool
	submitted, checked := make(chan string, 1), make(chan struct{})
	dept.ctxCall = func(ctx context.Context) {
		id := <-submitted
		before = c.MayResend(ctx)
		if _, err := r.eng.Erase(context.Background(), id, "本人申请删除", "admin#1", true); err != nil {
			t.Error(err)
		}
		after = c.MayResend(ctx)
		close(checked)
	}
	submitted <- r.submit(t)
	<-checked
	if !before || after {
		t.Fatalf("may resend before the erasure %v, after %v; want true, then false", before, after)
	}
}

// restart runs a new worker on eng, as a process started again does.
func restart(t *testing.T, eng *engine.Engine, dept *fakeDept) *rig {
	r := &rig{eng: eng, depts: map[c.Dept]*fakeDept{c.DeptMedical: dept}, portal: &fakePortal{}}
	r.worker = &engine.Worker{Engine: eng, Departments: map[c.Dept]engine.Department{c.DeptMedical: dept}, Portal: r.portal,
		Policy:     engine.Policy{MaxAttempts: 3, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond},
		PushPolicy: engine.Policy{BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond},
		Poll:       5 * time.Millisecond}
	eng.Wake = r.worker.Wake
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan struct{})
	go func() { r.worker.Run(ctx); close(r.done) }()
	t.Cleanup(func() { cancel(); <-r.done })
	return r
}

// The same at a shutdown that cuts the call short (the department slower
// than the grace): the job handed back remembers that its call may have
// gone out, and the next process settles it.
func TestDispatchCutShortIsSettledAfterAWithdrawal(t *testing.T) {
	dept := &fakeDept{reply: c.CaseAccepted}
	r := newRig(t, dept, &fakePortal{})
	submitted := make(chan string, 1)
	dept.hangOnce = true
	dept.onCall = func() {
		if dept.calls == 1 { // withdrawn, and the process stops, while the call is under way
			if _, err := r.eng.Withdraw(context.Background(), <-submitted, "w1", ""); err != nil {
				t.Error(err)
			}
			r.cancel()
		}
	}
	id := r.submit(t)
	submitted <- id
	<-r.done
	settledByCancel(t, restart(t, r.eng, dept), dept, id, 2)
}

// Parked after its attempts ran out while the applicant withdrew, the
// dispatch that may have reached the department is sent again by an
// operator's replay, not answered "resolved" (outsider: the replay sent
// nothing and the department's case was never cancelled).
func TestReplayOfAWithdrawnItemSettlesItsCase(t *testing.T) {
	dept := &fakeDept{reply: c.CaseAccepted}
	r := newRig(t, dept, &fakePortal{})
	dept.errs = []error{callErr{retryable: true}, callErr{retryable: true}, callErr{retryable: true}}
	id := withdrawnDuringFirstCall(t, r, dept)
	deadline := time.Now().Add(5 * time.Second)
	for {
		parked, _ := r.eng.Store.Parked(context.Background())
		if len(parked) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not parked: %+v", parked)
		}
		time.Sleep(2 * time.Millisecond)
	}
	res, err := r.eng.Replay(context.Background(), "", id+"-1")
	if err != nil || len(res.Replayed) != 1 || len(res.Resolved) != 0 {
		t.Fatalf("replay: %+v, %v; want the task replayed", res, err)
	}
	settledByCancel(t, r, dept, id, 4)
}

// withdrawnDuringFirstCall submits an application and withdraws it while
// its first case request is under way (dept's script says how that call
// ends); it returns once withdrawn.
func withdrawnDuringFirstCall(t *testing.T, r *rig, dept *fakeDept) string {
	submitted, withdrawn := make(chan string, 1), make(chan struct{})
	dept.onCall = func() {
		if dept.calls == 1 {
			if _, err := r.eng.Withdraw(context.Background(), <-submitted, "w1", ""); err != nil {
				t.Error(err)
			}
			close(withdrawn)
		}
	}
	id := r.submit(t)
	submitted <- id
	<-withdrawn
	return id
}

// settledByCancel waits until the withdrawn application id's item has the
// department's case number and the queue is empty, then checks the case
// request went out calls times, the last under the first one's key, and
// the case was cancelled.
func settledByCancel(t *testing.T, r *rig, dept *fakeDept, id string, calls int) {
	t.Helper()
	got := r.waitFor(t, id, func(a *c.Application) bool { return a.Tasks[0].CaseNo != "" })
	r.queueEmpty(t)
	dept.mu.Lock()
	defer dept.mu.Unlock()
	if dept.calls != calls || dept.keys[0] != dept.keys[calls-1] || len(dept.cancels) != 1 || got.Tasks[0].State != c.TaskCancelled {
		t.Fatalf("case requests %d (keys %v), withdrawal notices %d, item %s; want the request sent again under its key and the case cancelled",
			dept.calls, dept.keys, len(dept.cancels), got.Tasks[0].State)
	}
}
