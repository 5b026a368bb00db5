package reconcile_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	c "onething/contracts"
	"onething/gateway/reconcile"
	"onething/gateway/store"
	"onething/gateway/store/redistest"
)

var ctx = context.Background()

func open(t *testing.T) (*store.Redis, *redistest.Server) {
	t.Helper()
	srv := redistest.Start(t)
	s, err := store.OpenRedis(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, srv
}

// app: task 1 ready (step 1, two attempts so far), task 2 waiting, task 3
// approved; version 3, pushed up to 2.
func app(id string) *c.Application {
	return &c.Application{ID: id, PortalRef: "ref-" + id, Version: 3, PushedVersion: 2, Tasks: []*c.Task{
		{ID: id + "-1", Item: c.ItemMedicalSubsidy, Dept: c.DeptMedical, State: c.TaskReady, Step: 1, Attempts: 2},
		{ID: id + "-2", Item: c.ItemSubsidyLiving, Dept: c.DeptCivil, State: c.TaskWaiting},
		{ID: id + "-3", Item: c.ItemPensionSubsidy, Dept: c.DeptHRSS, State: c.TaskApproved, Step: 1},
	}}
}

func create(t *testing.T, s *store.Redis, a *c.Application) {
	t.Helper()
	if _, err := s.Create(ctx, a, []string{"ref:" + a.PortalRef}, reconcile.DueJobs(a, time.Now(), nil)); err != nil {
		t.Fatal(err)
	}
}

// leasedIDs leases every job due at (now + in).
func leasedIDs(t *testing.T, s store.Store, in time.Duration) []string {
	t.Helper()
	jobs, err := s.Lease(ctx, time.Now().Add(in), 1000, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, j := range jobs {
		ids = append(ids, j.ID)
	}
	sort.Strings(ids)
	return ids
}

func pass(t *testing.T, s *store.Redis) reconcile.Result {
	t.Helper()
	r := &reconcile.Reconciler{Src: s}
	res, err := r.Pass(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// Queue entries deleted behind the store's back come back, with the
// attempt count the task recorded; nothing else is queued.
func TestLostJobsComeBack(t *testing.T) {
	s, srv := open(t)
	rdb := srv.Client()
	create(t, s, app("A"))
	create(t, s, app("B"))
	// A finished application: nothing is due for it.
	done := app("C")
	done.Tasks[0].State, done.PushedVersion = c.TaskApproved, 3
	create(t, s, done)
	if res := pass(t, s); res.Requeued != 0 || res.Dropped != 0 {
		t.Fatalf("a pass over an agreeing queue changed it: %+v", res)
	}

	jobs, due, leases, _ := s.QueueKeys()
	// A's dispatch vanishes from the index only, B's jobs entirely.
	rdb.ZRem(ctx, due, store.DispatchJobID("A-1", 1))
	rdb.HDel(ctx, jobs, store.DispatchJobID("A-1", 1))
	rdb.HDel(ctx, jobs, store.DispatchJobID("B-1", 1), store.PushJobID("B", 3))
	rdb.ZRem(ctx, due, store.DispatchJobID("B-1", 1), store.PushJobID("B", 3))
	res := pass(t, s)
	if res.Requeued != 3 || res.Dropped != 0 {
		t.Errorf("pass = %+v, want 3 requeued", res)
	}
	want := []string{store.DispatchJobID("A-1", 1), store.DispatchJobID("B-1", 1), store.PushJobID("A", 3), store.PushJobID("B", 3)}
	sort.Strings(want)
	got, err := s.Lease(ctx, time.Now().Add(time.Second), 100, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, j := range got {
		ids = append(ids, j.ID)
		if j.Kind == store.JobDispatch && j.Attempt != 2 {
			t.Errorf("requeued %s with attempt %d, want the task's 2", j.ID, j.Attempt)
		}
	}
	sort.Strings(ids)
	if len(ids) != len(want) {
		t.Fatalf("queue after the pass: %v, want %v", ids, want)
	}
	for i := range ids {
		if ids[i] != want[i] {
			t.Fatalf("queue after the pass: %v, want %v", ids, want)
		}
	}

	// The whole queue is wiped (FLUSH-like accident): all comes back.
	rdb.Del(ctx, jobs, due, leases)
	if res := pass(t, s); res.Requeued != 4 {
		t.Errorf("after wiping the queue: %+v, want 4 requeued", res)
	}
	if ids := leasedIDs(t, s, time.Hour); len(ids) != 4 {
		t.Errorf("queue after wipe and pass: %v", ids)
	}
}

// A dispatch or a push the record says is owed is queued again even when
// its id is among the finished ones. After a Sentinel failover a worker
// can read the record on one side (the old primary, or a replica promoted
// with more of the history) and ack on the other, where the last writes
// are missing: the ack lands in the finished ids while the record there
// still owes the work (a task ready at that step, a version not pushed).
// For these kinds the record alone says what is owed: the worker acks
// them without a change only when the record says nothing is due.
func TestFinishedIDsDoNotHideOwedDispatchOrPush(t *testing.T) {
	s, srv := open(t)
	create(t, s, app("A"))
	// The worker "finishes" both jobs, deciding on a record the store no
	// longer holds: plain acks, the record unchanged.
	jobs, err := s.Lease(ctx, time.Now().Add(time.Second), 10, time.Minute)
	if err != nil || len(jobs) != 2 {
		t.Fatalf("lease = %d jobs, %v; want A's dispatch and push", len(jobs), err)
	}
	for _, j := range jobs {
		if err := s.Ack(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := srv.Client().ZCard(ctx, s.DoneKey()).Result(); n != 2 {
		t.Fatalf("%d finished ids remembered, want 2", n)
	}
	res := pass(t, s)
	want := []string{store.DispatchJobID("A-1", 1), store.PushJobID("A", 3)}
	sort.Strings(want)
	ids := leasedIDs(t, s, time.Second)
	if res.Requeued != 2 || len(ids) != 2 || ids[0] != want[0] || ids[1] != want[1] {
		t.Fatalf("pass = %+v, queue %v; want %v queued again", res, ids, want)
	}
	// Queued again, they are no longer among the finished ids.
	if n, _ := srv.Client().ZCard(ctx, s.DoneKey()).Result(); n != 0 {
		t.Errorf("%d finished ids still remembered after the requeue, want 0", n)
	}
}

// Queued work the state says nothing about is dropped; work it does say
// is due stays, even while a worker holds it.
func TestJunkIsDropped(t *testing.T) {
	s, srv := open(t)
	rdb := srv.Client()
	a := app("A")
	create(t, s, a)
	// A worker holds A's dispatch right now.
	if got, _ := s.Lease(ctx, time.Now(), 1, time.Minute); len(got) != 1 {
		t.Fatal("no job to hold")
	}
	done := app("C")
	done.Tasks[0].State, done.PushedVersion = c.TaskApproved, 3
	create(t, s, done)
	now := time.Now()
	junk := []store.Job{
		{ID: store.DispatchJobID("A-1", 0), Kind: store.JobDispatch, AppID: "A", TaskID: "A-1", NotBefore: now}, // an older step
		{ID: store.DispatchJobID("A-2", 1), Kind: store.JobDispatch, AppID: "A", TaskID: "A-2", NotBefore: now}, // task waiting
		{ID: store.DispatchJobID("A-3", 1), Kind: store.JobDispatch, AppID: "A", TaskID: "A-3", NotBefore: now}, // task final
		{ID: store.DispatchJobID("A-9", 1), Kind: store.JobDispatch, AppID: "A", TaskID: "A-9", NotBefore: now}, // no such task
		{ID: store.DispatchJobID("C-1", 1), Kind: store.JobDispatch, AppID: "C", TaskID: "C-1", NotBefore: now}, // finished app
		{ID: store.PushJobID("C", 3), Kind: store.JobPush, AppID: "C", NotBefore: now},                          // already pushed
		{ID: store.PushJobID("Z", 1), Kind: store.JobPush, AppID: "Z", NotBefore: now},                          // no such application
		{ID: "frobnicate:A", Kind: "frobnicate", AppID: "A", NotBefore: now},                                    // unknown kind
		{ID: "orphan", Kind: store.JobDispatch, NotBefore: now},                                                 // no application at all
	}
	if err := s.Enqueue(ctx, junk...); err != nil {
		t.Fatal(err)
	}
	jobs, due, _, _ := s.QueueKeys()
	rdb.HSet(ctx, jobs, "garbage", "{not json")
	rdb.ZAdd(ctx, due, redisZ(now, "garbage"))
	// An older version's push: only the newest version's job sends.
	s.Enqueue(ctx, store.Job{ID: store.PushJobID("A", 2), Kind: store.JobPush, AppID: "A", NotBefore: now})

	res := pass(t, s)
	if res.Dropped != len(junk)+2 || res.Requeued != 0 {
		t.Errorf("pass = %+v, want %d dropped, 0 requeued", res, len(junk)+2)
	}
	st, _ := s.QueueStats(ctx)
	if st.Jobs != 2 || st.Leased != 1 {
		t.Errorf("queue after the pass: %+v; want A's held dispatch and A's push", st)
	}
	ids := leasedIDs(t, s, 30*time.Second) // A's dispatch is still held
	if len(ids) != 1 || ids[0] != store.PushJobID("A", 3) {
		t.Errorf("due after the pass: %v, want [%s]", ids, store.PushJobID("A", 3))
	}
}

// A drop decided on a snapshot is not applied once the application has
// moved on; and one replica's pass makes the others skip.
func TestDropIsConditionalAndPassesExclusive(t *testing.T) {
	s, _ := open(t)
	a := app("A")
	create(t, s, a)
	_, rev, err := s.Snapshot(ctx, "A")
	if err != nil {
		t.Fatal(err)
	}
	j := store.Job{ID: store.DispatchJobID("A-1", 1), Kind: store.JobDispatch, AppID: "A", TaskID: "A-1"}
	s.Update(ctx, "A", "", func(a *c.Application) ([]store.Job, error) { a.Version++; return nil, nil })
	if dropped, err := s.DropJob(ctx, j, rev); err != nil || dropped {
		t.Errorf("drop on a stale revision = %v, %v; want kept", dropped, err)
	}
	if dropped, err := s.DropJob(ctx, j, rev+1); err != nil || !dropped {
		t.Errorf("drop on the current revision = %v, %v", dropped, err)
	}

	release, ok, err := s.TryLock(ctx, time.Minute)
	if err != nil || !ok {
		t.Fatalf("TryLock = %v, %v", ok, err)
	}
	if res := pass(t, s); !res.Skipped {
		t.Errorf("a pass ran while another held the lock: %+v", res)
	}
	release()
	// The dropped dispatch comes back, and so does the push of the new
	// version the update above did not queue.
	if res := pass(t, s); res.Skipped || res.Requeued != 2 {
		t.Errorf("pass after release = %+v, want 2 requeued", res)
	}
}

// Run passes on its schedule until its context ends.
func TestRunPasses(t *testing.T) {
	s, srv := open(t)
	create(t, s, app("A"))
	jobs, due, leases, _ := s.QueueKeys()
	srv.Client().Del(ctx, jobs, due, leases)
	results := make(chan reconcile.Result, 100)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		(&reconcile.Reconciler{Src: s, Every: 20 * time.Millisecond, OnPass: func(r reconcile.Result) { results <- r }}).Run(rctx)
		close(done)
	}()
	select {
	case r := <-results:
		if r.Requeued != 2 {
			t.Errorf("first pass: %+v", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no pass within 10s")
	}
	cancel()
	<-done
}

func redisZ(at time.Time, id string) redis.Z {
	return redis.Z{Score: float64(at.UnixMilli()), Member: id}
}

// followUps: task 1 waits on a supplement the applicant has provided
// (round 2), task 2 was withdrawn while cdpf holds its case, task 3 is
// open at hrss (polled), task 4 was withdrawn and civil confirmed it.
func followUps(id string) *c.Application {
	now := time.Now()
	a := &c.Application{ID: id, PortalRef: "ref-" + id, Version: 5, PushedVersion: 5, Tasks: []*c.Task{
		{ID: id + "-1", Dept: c.DeptMedical, State: c.TaskSupplementRequired, CaseNo: "M-1", Supplement: &c.Supplement{Round: 2, ProvidedAt: &now}},
		{ID: id + "-2", Dept: c.DeptCDPF, State: c.TaskCancelled, CaseNo: "C-1"},
		{ID: id + "-3", Dept: c.DeptHRSS, State: c.TaskAccepted, CaseNo: "H-1"},
		{ID: id + "-4", Dept: c.DeptCivil, State: c.TaskCancelled, CaseNo: "V-1"},
	}}
	a.Timeline = []c.Entry{{TaskID: id + "-4", Kind: "department_notified"}}
	return a
}

// Supplements to forward, withdrawals to announce and cases to poll come
// back too, and only while the state says they are owed.
func TestFollowUpsComeBack(t *testing.T) {
	s, srv := open(t)
	poll := map[c.Dept]time.Duration{c.DeptHRSS: time.Minute}
	a := followUps("F")
	if _, err := s.Create(ctx, a, nil, nil); err != nil {
		t.Fatal(err)
	}
	r := &reconcile.Reconciler{Src: s, PollEvery: poll}
	res, err := r.Pass(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// (medical is not polled here: no poll job for F-1)
	want := []string{store.CancelJobID("F-2"), store.PollJobID("F-3"), store.ResumeJobID("F-1", 2)}
	sort.Strings(want)
	ids := leasedIDs(t, s, time.Second)
	if res.Requeued != 3 || len(ids) != 3 {
		t.Fatalf("pass = %+v, queue %v; want %v", res, ids, want)
	}
	for i := range ids {
		if ids[i] != want[i] {
			t.Fatalf("queue %v, want %v", ids, want)
		}
	}
	// Junk of those kinds: an older round, a confirmed withdrawal, a
	// final case.
	now := time.Now()
	s.Enqueue(ctx,
		store.Job{ID: store.ResumeJobID("F-1", 1), Kind: store.JobResume, AppID: "F", TaskID: "F-1", NotBefore: now},
		store.Job{ID: store.CancelJobID("F-4"), Kind: store.JobCancel, AppID: "F", TaskID: "F-4", NotBefore: now},
		store.Job{ID: store.PollJobID("F-4"), Kind: store.JobPoll, AppID: "F", TaskID: "F-4", NotBefore: now},
	)
	// The workers finish the three owed jobs (a refused follow-up leaves
	// the record as it was): they are not queued again.
	jobs, _ := s.Lease(ctx, time.Now().Add(time.Hour), 100, time.Minute)
	if len(jobs) != 6 {
		t.Fatalf("leased %d jobs, want 6", len(jobs))
	}
	for _, j := range jobs {
		if err := s.Ack(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := srv.Client().ZCard(ctx, s.DoneKey()).Result(); n != 6 {
		t.Errorf("%d finished ids remembered, want 6", n)
	}
	s.Enqueue(ctx, store.Job{ID: store.ResumeJobID("F-1", 1), Kind: store.JobResume, AppID: "F", TaskID: "F-1", NotBefore: now})
	res, err = r.Pass(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requeued != 0 || res.Dropped != 1 {
		t.Errorf("pass after the workers finished = %+v, want nothing requeued, the junk resume dropped", res)
	}
	// The engine queueing a finished id anew forgets that it finished.
	if err := s.Enqueue(ctx, store.Job{ID: store.PollJobID("F-3"), Kind: store.JobPoll, AppID: "F", TaskID: "F-3", NotBefore: now}); err != nil {
		t.Fatal(err)
	}
	if ids := leasedIDs(t, s, time.Second); len(ids) != 1 || ids[0] != store.PollJobID("F-3") {
		t.Errorf("a finished id queued again by the engine: %v", ids)
	}
}

// Every application the reconciler could owe work to is in the open index
// the store keeps; finished ones are not.
func TestOpenIndexCoversDueJobs(t *testing.T) {
	s, _ := open(t)
	poll := map[c.Dept]time.Duration{c.DeptHRSS: time.Minute, c.DeptCDPF: time.Minute, c.DeptMedical: time.Minute}
	final := func(id string) *c.Application {
		return &c.Application{ID: id, PortalRef: "ref-" + id, Version: 2, PushedVersion: 2, Tasks: []*c.Task{{ID: id + "-1", Dept: c.DeptHRSS, State: c.TaskApproved, CaseNo: "H"}}}
	}
	apps := []*c.Application{app("A"), followUps("F"), final("Z")}
	onlyCancel := final("W")
	onlyCancel.Tasks[0].State = c.TaskCancelled
	apps = append(apps, onlyCancel)
	unpushed := final("U")
	unpushed.PushedVersion = 1
	apps = append(apps, unpushed)
	for _, a := range apps {
		if _, err := s.Create(ctx, a, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	open := map[string]bool{}
	s.OpenApps(ctx, func(id string) error { open[id] = true; return nil })
	for _, a := range apps {
		due := len(reconcile.DueJobs(a, time.Now(), poll)) > 0
		if due && !open[a.ID] {
			t.Errorf("%s owes work but is not in the open index", a.ID)
		}
		if !due && open[a.ID] {
			t.Errorf("%s owes nothing but is in the open index", a.ID)
		}
	}
	if !open["W"] {
		t.Error("a withdrawal not yet confirmed does not keep its application open")
	}
}

// An erased application's ready task is owed no dispatch (its worker acks
// one unsent: nothing personal leaves any more), so the reconciler, which
// restores a dispatch the record owes even when its id finished, does not
// queue it pass after pass.
func TestErasedOwesNoDispatch(t *testing.T) {
	a := app("E")
	a.Erased = &c.Erasure{At: time.Now()}
	j := store.Job{ID: store.DispatchJobID("E-1", 1), Kind: store.JobDispatch, AppID: "E", TaskID: "E-1"}
	for _, due := range reconcile.DueJobs(a, time.Now(), nil) {
		if due.Kind == store.JobDispatch {
			t.Errorf("erased application owes %s", due.ID)
		}
	}
	if reconcile.Wanted(a, j) {
		t.Errorf("erased application wants %s", j.ID)
	}
	if !reconcile.Wanted(app("E"), j) {
		t.Errorf("application not erased does not want %s", j.ID)
	}
}
