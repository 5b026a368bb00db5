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
	t.Run("ReplacesOnlyWaitingJobs", func(t *testing.T) { testReplaces(t, open(t)) })
	t.Run("UpdateAckInOneWrite", func(t *testing.T) { testUpdateAck(t, open(t)) })
	t.Run("OpenApplicationsIndexed", func(t *testing.T) { testOpenIndex(t, open(t)) })
	t.Run("ParkAndReplay", func(t *testing.T) { RunParking(t, open(t)) })
	t.Run("UpdateQueuesItsJobs", func(t *testing.T) { testUpdateJobs(t, open(t)) })
	t.Run("AckLeavesNothing", func(t *testing.T) { testAckLeavesNothing(t, open(t)) })
	t.Run("DeliveryRecordedWithItsReply", func(t *testing.T) { testDeliver(t, open(t)) })
	t.Run("DeliveryRefusedRecordsOnlyTheReply", func(t *testing.T) { testDeliverRefused(t, open(t)) })
	t.Run("DeliverySentAgainUnderANewID", func(t *testing.T) { testDeliverSameUnderANewID(t, open(t)) })
	t.Run("ListsByScopeAndTime", func(t *testing.T) { testLists(t, open(t)) })
	one := func(t *testing.T) (store.Store, store.Store) { s := open(t); return s, s }
	runRaces(t, one)
}

// OpenPair makes two handles on one fresh, empty store, as two gateway
// processes would have. Only backends that several processes share (Redis)
// have it.
type OpenPair func(t *testing.T) (store.Store, store.Store)

// RunShared runs the races of the suite with the contenders split over two
// handles on the same data: what two replicas do at the same instant.
func RunShared(t *testing.T, open OpenPair) {
	runRaces(t, open)
	t.Run("LeaseTakenOverAfterExpiry", func(t *testing.T) { testTakeOver(t, open) })
	t.Run("ReadsSeeTheOtherHandlesWrites", func(t *testing.T) { testReadsSeeOthers(t, open) })
}

// Each process keeps the records it read and wrote last (decoded); a
// change the other process made is what the next read and the next update
// see.
func testReadsSeeOthers(t *testing.T, open OpenPair) {
	a, b := open(t)
	if _, err := a.Create(ctx, app("A"), []string{"ref:A"}, nil); err != nil {
		t.Fatal(err)
	}
	set := func(s store.Store, ref string) {
		t.Helper()
		if err := s.Update(ctx, "A", "", func(x *c.Application) ([]store.Job, error) { x.PortalRef = ref; return nil, nil }); err != nil {
			t.Fatal(err)
		}
	}
	for i, step := range []struct {
		writer, reader store.Store
		ref            string
	}{{b, a, "by-b"}, {a, b, "by-a"}, {b, a, "by-b-again"}} {
		if _, err := step.reader.Get(ctx, "A"); err != nil { // the reader has it now
			t.Fatal(err)
		}
		set(step.writer, step.ref)
		if got, err := step.reader.Get(ctx, "A"); err != nil || got.PortalRef != step.ref {
			t.Fatalf("step %d: the other handle reads portalRef %q, %v; want %q", i, got.PortalRef, err, step.ref)
		}
		var seen string
		if err := step.reader.Update(ctx, "A", "", func(x *c.Application) ([]store.Job, error) { seen = x.PortalRef; return nil, nil }); err != nil {
			t.Fatal(err)
		}
		if seen != step.ref {
			t.Fatalf("step %d: the other handle's update saw portalRef %q; want %q", i, seen, step.ref)
		}
	}
}

func runRaces(t *testing.T, open OpenPair) {
	t.Run("RaceConcurrentUpdatesLoseNothing", func(t *testing.T) { testRaceUpdates(t, open) })
	t.Run("RaceCreateSameKeysOneWins", func(t *testing.T) { testRaceCreate(t, open) })
	t.Run("RaceSameOnceKeyAppliesOnce", func(t *testing.T) { testRaceOnce(t, open) })
	t.Run("RaceLeaseHandsOutEachJobOnce", func(t *testing.T) { testRaceLease(t, open) })
	t.Run("RaceDeliveryOnceAcrossApplications", func(t *testing.T) { testRaceDeliver(t, open) })
}

// pick alternates between the two handles.
func pick(a, b store.Store, i int) store.Store {
	if i%2 == 0 {
		return a
	}
	return b
}

func app(id string) *c.Application {
	return &c.Application{ID: id, PortalRef: "ref-" + id, Version: 1, Tasks: []*c.Task{{ID: id + "-1", Item: c.ItemMedicalSubsidy, Dept: c.DeptMedical, State: c.TaskReady}}}
}

// jobBase is the callback base every test dispatch job carries: a store
// keeps it through leases, retries, take-overs and parking (a retried
// case request must be the same whichever replica sends it).
const jobBase = "https://gw-a.example"

func job(id, appID string, at time.Time) store.Job {
	return store.Job{ID: id, Kind: store.JobDispatch, AppID: appID, TaskID: appID + "-1", NotBefore: at, BaseURL: jobBase}
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
	if err != nil || len(jobs) != 1 || jobs[0].ID != "early" || jobs[0].BaseURL != jobBase {
		t.Fatalf("Lease = %+v, %v; want only the due job, with its base", jobs, err)
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
	if len(got) != 1 || got[0].Attempt != 1 || got[0].LastError != "HTTP 503" || got[0].BaseURL != jobBase {
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
	if got, _ := s.Lease(ctx, now, 1, time.Minute); len(got) != 1 || got[0].Retaken {
		t.Fatalf("not leased, or marked retaken the first time: %+v", got)
	}
	// The worker died: after the lease the job is due again, marked as
	// taken before (its holder may have made the call).
	got, _ := s.Lease(ctx, now.Add(61*time.Second), 1, time.Minute)
	if len(got) != 1 || got[0].ID != "j" || !got[0].Retaken {
		t.Fatalf("expired lease not handed out again as retaken: %+v", got)
	}
	// The mark stays with the job through a retry by its new holder.
	if err := s.Retry(ctx, got[0], now.Add(62*time.Second)); err != nil {
		t.Fatal(err)
	}
	again, _ := s.Lease(ctx, now.Add(63*time.Second), 1, time.Minute)
	if len(again) != 1 || !again[0].Retaken {
		t.Errorf("after a retry: %+v, want the job still marked retaken", again)
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

// testReplaces: a job replaces the waiting job it names, in Create,
// Update and Enqueue alike, and leaves a leased one to its worker.
func testReplaces(t *testing.T, s store.Store) {
	now := time.Now()
	push := func(v int64) store.Job {
		j := store.Job{ID: store.PushJobID("A", v), Kind: store.JobPush, AppID: "A", Dept: "portal", NotBefore: now}
		if v > 1 {
			j.Replaces = store.PushJobID("A", v-1)
		}
		return j
	}
	if _, err := s.Create(ctx, app("A"), nil, []store.Job{push(1)}); err != nil {
		t.Fatal(err)
	}
	for v := int64(2); v <= 3; v++ {
		if err := s.Update(ctx, "A", "", func(a *c.Application) ([]store.Job, error) { return []store.Job{push(v)}, nil }); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := s.Lease(ctx, now, 10, time.Minute)
	if len(got) != 1 || got[0].ID != store.PushJobID("A", 3) {
		t.Fatalf("after versions 1-3 waiting: leased %+v, want only version 3's push", got)
	}
	// Version 3's push is held by a worker: version 4's keeps it.
	if err := s.Enqueue(ctx, push(4)); err != nil {
		t.Fatal(err)
	}
	next, _ := s.Lease(ctx, now, 10, time.Minute)
	if len(next) != 1 || next[0].ID != store.PushJobID("A", 4) {
		t.Fatalf("leased %+v, want version 4's push", next)
	}
	if err := s.Ack(ctx, got[0]); err != nil {
		t.Fatalf("ack of the leased job the next version did not replace: %v", err)
	}
	if st, _ := s.QueueStats(ctx); st.Jobs != 1 || st.Leased != 1 {
		t.Errorf("QueueStats = %+v, want version 4's push alone, leased", st)
	}
	// Replacing a job that is gone is no error.
	if err := s.Enqueue(ctx, store.Job{ID: "x2", Kind: store.JobPush, AppID: "A", NotBefore: now, Replaces: "x1"}); err != nil {
		t.Fatal(err)
	}
}

// testUpdateAck: UpdateAck writes the change and its jobs and finishes
// the job it is given; a job the change queues under the finished id
// stays queued; a failing change writes nothing and finishes nothing.
func testUpdateAck(t *testing.T, s store.Store) {
	now := time.Now()
	if _, err := s.Create(ctx, app("A"), nil, []store.Job{job("d1", "A", now)}); err != nil {
		t.Fatal(err)
	}
	leased, _ := s.Lease(ctx, now, 10, time.Minute)
	if len(leased) != 1 {
		t.Fatalf("leased %d jobs, want 1", len(leased))
	}
	boom := errors.New("boom")
	if err := s.UpdateAck(ctx, "A", leased[0], func(a *c.Application) ([]store.Job, error) { a.Version = 99; return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("failing change: %v", err)
	}
	if st, _ := s.QueueStats(ctx); st.Jobs != 1 || st.Leased != 1 {
		t.Fatalf("after a failed UpdateAck: %+v, want the job still held", st)
	}
	err := s.UpdateAck(ctx, "A", leased[0], func(a *c.Application) ([]store.Job, error) {
		a.Tasks[0].CaseNo = "C-1"
		a.Version++
		return []store.Job{job("d2", "A", now)}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(ctx, "A")
	if got.Tasks[0].CaseNo != "C-1" || got.Version != 2 {
		t.Fatalf("change not written: %+v", got.Tasks[0])
	}
	next, _ := s.Lease(ctx, now, 10, time.Minute)
	if len(next) != 1 || next[0].ID != "d2" {
		t.Fatalf("after UpdateAck: leased %+v, want d2 alone (d1 finished)", next)
	}
	// The change queues the finished job's id again: it stays queued.
	if err := s.UpdateAck(ctx, "A", next[0], func(*c.Application) ([]store.Job, error) { return []store.Job{job("d2", "A", now)}, nil }); err != nil {
		t.Fatal(err)
	}
	again, _ := s.Lease(ctx, now, 10, time.Minute)
	if len(again) != 1 || again[0].ID != "d2" {
		t.Errorf("a job queued again under the finished id: leased %+v, want d2", again)
	}
}

// testOpenIndex: the store lists the applications with work left (a task
// not final, or a version not pushed), kept in the same writes.
func testOpenIndex(t *testing.T, s store.Store) {
	l, ok := s.(interface {
		OpenApps(ctx context.Context, fn func(id string) error) error
	})
	if !ok {
		t.Fatal("the backend does not list its open applications (operators' overdue and pending gauges need it)")
	}
	listed := func() []string {
		var ids []string
		if err := l.OpenApps(ctx, func(id string) error { ids = append(ids, id); return nil }); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	s.Create(ctx, app("A"), nil, nil)
	s.Create(ctx, app("B"), nil, nil)
	if ids := listed(); len(ids) != 2 {
		t.Fatalf("open after create: %v", ids)
	}
	finish := func(a *c.Application) ([]store.Job, error) {
		a.Tasks[0].State = c.TaskApproved
		a.Version++
		return nil, nil
	}
	s.Update(ctx, "A", "", finish)
	if ids := listed(); len(ids) != 2 {
		t.Fatalf("open with a version not pushed: %v", ids)
	}
	s.Update(ctx, "A", "", func(a *c.Application) ([]store.Job, error) { a.PushedVersion = a.Version; return nil, nil })
	if ids := listed(); len(ids) != 1 || ids[0] != "B" {
		t.Errorf("open when A is finished and pushed: %v, want [B]", ids)
	}
}

func testUpdateJobs(t *testing.T, s store.Store) {
	now := time.Now()
	s.Create(ctx, app("A"), nil, nil)
	err := s.Update(ctx, "A", "", func(a *c.Application) ([]store.Job, error) {
		a.Version++
		return []store.Job{job("j1", "A", now), job("j2", "A", now.Add(time.Hour))}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s.Lease(ctx, now, 10, time.Minute)
	if len(got) != 1 || got[0].ID != "j1" || got[0].AppID != "A" || got[0].TaskID != "A-1" || got[0].Kind != store.JobDispatch {
		t.Fatalf("jobs of an update: %+v", got)
	}
	if st, _ := s.QueueStats(ctx); st.Jobs != 2 || st.Leased != 1 || st.OldestDue.IsZero() {
		t.Errorf("QueueStats = %+v", st)
	}
}

func testAckLeavesNothing(t *testing.T, s store.Store) {
	now := time.Now()
	for i := 0; i < 5; i++ {
		s.Enqueue(ctx, job(fmt.Sprint("j", i), "A", now))
	}
	got, _ := s.Lease(ctx, now, 10, time.Minute)
	if len(got) != 5 {
		t.Fatalf("leased %d of 5", len(got))
	}
	for _, j := range got {
		if err := s.Ack(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	if st, _ := s.QueueStats(ctx); st.Jobs != 0 || st.Leased != 0 || !st.OldestDue.IsZero() {
		t.Errorf("after acking every job: %+v", st)
	}
	if again, _ := s.Lease(ctx, now.Add(time.Hour), 10, time.Minute); len(again) != 0 {
		t.Errorf("acked jobs came back: %+v", again)
	}
}

// start releases every contender at once.
func start(n int, f func(i int)) {
	var ready, done sync.WaitGroup
	gate := make(chan struct{})
	for i := 0; i < n; i++ {
		ready.Add(1)
		done.Add(1)
		go func(i int) {
			defer done.Done()
			ready.Done()
			<-gate
			f(i)
		}(i)
	}
	ready.Wait()
	close(gate)
	done.Wait()
}

func testRaceUpdates(t *testing.T, open OpenPair) {
	a, b := open(t)
	a.Create(ctx, app("A"), nil, nil)
	start(20, func(i int) {
		err := pick(a, b, i).Update(ctx, "A", fmt.Sprintf("event:%d", i), func(x *c.Application) ([]store.Job, error) {
			x.Version++
			x.Timeline = append(x.Timeline, c.Entry{Kind: fmt.Sprint("e", i)})
			return []store.Job{job(fmt.Sprint("j", i), "A", time.Now())}, nil
		})
		if err != nil {
			t.Error(err)
		}
	})
	got, _ := b.Get(ctx, "A")
	if got.Version != 21 || len(got.Timeline) != 20 {
		t.Errorf("version %d, %d timeline entries after 20 concurrent updates; want 21 and 20", got.Version, len(got.Timeline))
	}
	if jobs, _ := a.Lease(ctx, time.Now().Add(time.Second), 100, time.Minute); len(jobs) != 20 {
		t.Errorf("%d jobs queued by 20 updates", len(jobs))
	}
}

func testRaceCreate(t *testing.T, open OpenPair) {
	a, b := open(t)
	ids := make([]string, 10)
	errs := make([]error, 10)
	now := time.Now()
	start(10, func(i int) {
		id := fmt.Sprint("A", i)
		ids[i], errs[i] = pick(a, b, i).Create(ctx, app(id), []string{"delivery:d" + id, "ref:same"}, []store.Job{job("j"+id, id, now)})
	})
	winner := ""
	for i, err := range errs {
		if err == nil {
			if winner != "" {
				t.Fatalf("two creations with one key succeeded: %s and %s", winner, ids[i])
			}
			winner = ids[i]
		} else if !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("Create = %v", err)
		}
	}
	if winner == "" {
		t.Fatal("no creation succeeded")
	}
	for i, err := range errs {
		if err != nil && ids[i] != winner {
			t.Errorf("loser %d told %q holds the key, want %q", i, ids[i], winner)
		}
		if id := fmt.Sprint("A", i); id != winner {
			if _, err := a.Get(ctx, id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("loser %s stored", id)
			}
			if _, err := b.Lookup(ctx, "delivery:d"+id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("loser %s's key stored", id)
			}
		}
	}
	if jobs, _ := b.Lease(ctx, now.Add(time.Second), 100, time.Minute); len(jobs) != 1 || jobs[0].AppID != winner {
		t.Errorf("jobs after the race: %+v", jobs)
	}
}

func testRaceOnce(t *testing.T, open OpenPair) {
	a, b := open(t)
	a.Create(ctx, app("A"), nil, nil)
	var mu sync.Mutex
	applied, dup := 0, 0
	start(10, func(i int) {
		err := pick(a, b, i).Update(ctx, "A", "event:same", func(x *c.Application) ([]store.Job, error) {
			x.Version++
			return nil, nil
		})
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err == nil:
			applied++
		case errors.Is(err, store.ErrAlreadyApplied):
			dup++
		default:
			t.Error(err)
		}
	})
	got, _ := a.Get(ctx, "A")
	if applied != 1 || dup != 9 || got.Version != 2 {
		t.Errorf("one event delivered 10 times at once: applied %d, duplicate %d, version %d; want 1, 9, 2", applied, dup, got.Version)
	}
}

func testRaceLease(t *testing.T, open OpenPair) {
	a, b := open(t)
	now := time.Now()
	for i := 0; i < 60; i++ {
		a.Enqueue(ctx, job(fmt.Sprint("j", i), "A", now))
	}
	var mu sync.Mutex
	seen := map[string]int{}
	start(6, func(i int) {
		for {
			got, err := pick(a, b, i).Lease(ctx, now, 3, time.Minute)
			if err != nil {
				t.Error(err)
				return
			}
			if len(got) == 0 {
				return
			}
			mu.Lock()
			for _, j := range got {
				seen[j.ID]++
			}
			mu.Unlock()
		}
	})
	if len(seen) != 60 {
		t.Errorf("%d of 60 jobs handed out", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("job %s handed out %d times", id, n)
		}
	}
}

// A worker of one process holds a job and dies; after the lease the other
// process gets it, and the first one's late ack or retry does not disturb
// the new holder.
func testTakeOver(t *testing.T, open OpenPair) {
	a, b := open(t)
	now := time.Now()
	a.Enqueue(ctx, job("j", "A", now))
	first, _ := a.Lease(ctx, now, 1, time.Minute)
	if len(first) != 1 {
		t.Fatal("not leased")
	}
	if got, _ := b.Lease(ctx, now.Add(30*time.Second), 1, time.Minute); len(got) != 0 {
		t.Fatalf("a held lease handed to the other process: %+v", got)
	}
	second, _ := b.Lease(ctx, now.Add(61*time.Second), 1, time.Minute)
	if len(second) != 1 || second[0].ID != "j" || second[0].BaseURL != jobBase {
		t.Fatalf("expired lease not taken over, with its base: %+v", second)
	}
	// The first holder wakes up late and retries: the new holder keeps it.
	late := first[0]
	late.Attempt = 5
	a.Retry(ctx, late, now)
	a.Ack(ctx, late)
	if got, _ := a.Lease(ctx, now.Add(62*time.Second), 1, time.Minute); len(got) != 0 {
		t.Errorf("a stale holder's retry put a held job back: %+v", got)
	}
	if st, _ := b.QueueStats(ctx); st.Jobs != 1 || st.Leased != 1 {
		t.Errorf("a stale holder's ack removed a held job: %+v", st)
	}
	if err := b.Ack(ctx, second[0]); err != nil {
		t.Fatal(err)
	}
	if st, _ := b.QueueStats(ctx); st.Jobs != 0 {
		t.Errorf("after the holder's ack: %+v", st)
	}
}

// RunParking checks dead-letter parking: a parked job leaves the queue,
// keeps its id and error, and can be enqueued again by id.
func RunParking(t *testing.T, s store.Store) {
	now := time.Now()
	s.Enqueue(ctx, job("dispatch:A-1:1", "A", now))
	leased, _ := s.Lease(ctx, now, 1, time.Minute)
	if len(leased) != 1 {
		t.Fatal("not leased")
	}
	j := leased[0]
	j.Attempt, j.LastError = 8, "HTTP 503"
	if err := s.Park(ctx, j); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Lease(ctx, now.Add(time.Hour), 10, time.Minute); len(again) != 0 {
		t.Errorf("a parked job is still in the queue: %+v", again)
	}
	parked, err := s.Parked(ctx)
	if err != nil || len(parked) != 1 || parked[0].ID != "dispatch:A-1:1" || parked[0].LastError != "HTTP 503" || parked[0].Attempt != 8 || parked[0].BaseURL != jobBase {
		t.Fatalf("Parked = %+v, %v", parked, err)
	}
	// Replay: the same id goes back into the queue, then the record goes.
	if err := s.Enqueue(ctx, job("dispatch:A-1:1", "A", now)); err != nil {
		t.Fatal(err)
	}
	if err := s.Unpark(ctx, "dispatch:A-1:1"); err != nil {
		t.Fatal(err)
	}
	if parked, _ := s.Parked(ctx); len(parked) != 0 {
		t.Errorf("still parked: %+v", parked)
	}
	if got, _ := s.Lease(ctx, now.Add(time.Second), 10, time.Minute); len(got) != 1 || got[0].ID != "dispatch:A-1:1" {
		t.Errorf("replayed job: %+v", got)
	}
}
