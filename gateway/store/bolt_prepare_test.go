package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	c "onething/contracts"
	"onething/gateway/store"
)

// An update is worked out before its transaction: its function runs while
// another write holds bbolt's one writer, and its result is what commits.
// The leader is held until four writes are queued; the functions of an
// update and of a delivery (a department's callback) must run while fewer
// are, which they cannot if they run only inside the transaction.
func TestPreparedUpdateRunsOutsideTheWriter(t *testing.T) {
	s := openGroupBolt(t)
	ctx := context.Background()
	ids := []string{"X", "A", "D", "B"}
	for _, id := range ids {
		if _, err := s.Create(ctx, groupApp(id), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	runs := map[string]*atomic.Int32{}
	for _, id := range ids {
		runs[id] = &atomic.Int32{}
	}
	ran := make(chan string, 4)
	change := func(id string, a *c.Application) {
		runs[id].Add(1)
		a.Version++
		a.Timeline = append(a.Timeline, c.Entry{Kind: "note", Source: id})
		ran <- id
	}
	bump := func(id string) store.UpdateFunc {
		return func(a *c.Application) ([]store.Job, error) { change(id, a); return nil, nil }
	}
	d := store.Delivery{Keys: []string{"cdpf|event|e1"}, Fingerprint: "fp1"}
	store.HoldLeader(s, 4)
	errs := make(chan error, 4)
	go func() { errs <- s.Update(ctx, "X", "", bump("X")) }()
	go func() { errs <- s.Update(ctx, "A", "once:A", bump("A")) }()
	go func() {
		_, err := s.Deliver(ctx, "D", "", d, func(a *c.Application) (store.Outcome, error) {
			change("D", a)
			return store.Outcome{Reply: store.Reply{Status: 200, Body: []byte(`{"ok":true}`)}}, nil
		})
		errs <- err
	}()
	seen := map[string]bool{}
	for len(seen) < 3 {
		select {
		case id := <-ran:
			seen[id] = true
		case <-time.After(30 * time.Second):
			t.Fatalf("only %v ran while the writer was held: the others run only in the transaction", seen)
		}
	}
	go func() { errs <- s.Update(ctx, "B", "", bump("B")) }()
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range ids {
		if n := runs[id].Load(); n != 1 {
			t.Errorf("%s's function ran %d times, want once (prepared, and the record unchanged when its turn came)", id, n)
		}
		a, err := s.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want := groupApp(id)
		if a.Version != want.Version+1 || len(a.Timeline) != len(want.Timeline)+1 || a.Timeline[len(a.Timeline)-1].Source != id {
			t.Errorf("%s: version %d with %d entries, want %d and %d", id, a.Version, len(a.Timeline), want.Version+1, len(want.Timeline)+1)
		}
	}
	// What was prepared was recorded with it: the same delivery again is
	// answered from its record, the once key is taken; neither runs.
	reply, err := s.Deliver(ctx, "D", "", d, func(a *c.Application) (store.Outcome, error) {
		t.Error("the delivery ran again")
		return store.Outcome{}, nil
	})
	if !errors.Is(err, store.ErrAlreadyApplied) || reply.Status != 200 || string(reply.Body) != `{"ok":true}` {
		t.Errorf("the delivery again: %+v, %v; want its recorded reply", reply, err)
	}
	if err := s.Update(ctx, "A", "once:A", func(*c.Application) ([]store.Job, error) {
		t.Error("the update ran again")
		return nil, nil
	}); !errors.Is(err, store.ErrAlreadyApplied) {
		t.Errorf("the once key again: %v", err)
	}
}

// Two updates of one application committed in one transaction: the
// second is worked out on the first's result, still on its way to the
// writer (inFlight), so each function runs once and both changes are
// kept, in order. Then once more across transactions, many at a time.
func TestPreparedUpdatesOfOneApplication(t *testing.T) {
	s, ctx := groupBoltWithApp(t, "A"), context.Background()
	var runs [2]atomic.Int32
	write := func(i int) func() {
		return func() {
			err := s.Update(ctx, "A", fmt.Sprint("once:", i), func(a *c.Application) ([]store.Job, error) {
				runs[i].Add(1)
				a.Version++
				a.Timeline = append(a.Timeline, c.Entry{Kind: "note", Source: fmt.Sprint("write ", i)})
				return []store.Job{{ID: fmt.Sprint("job:", i), Kind: store.JobPush, AppID: "A", NotBefore: time.Now()}}, nil
			})
			if err != nil {
				t.Error(err)
			}
		}
	}
	commits := s.CommitCount()
	store.HoldLeader(s, 2)
	startInOrder(s, []func(){write(0), write(1)})()
	if got := s.CommitCount() - commits; got != 1 {
		t.Errorf("%d commits, want the two updates in one", got)
	}
	if runs[0].Load() != 1 || runs[1].Load() != 1 {
		t.Errorf("runs %d and %d, want 1 and 1 (the second prepared on the first's result, which the transaction then holds)", runs[0].Load(), runs[1].Load())
	}
	a, err := s.Get(ctx, "A")
	if err != nil {
		t.Fatal(err)
	}
	base := groupApp("A")
	if a.Version != base.Version+2 || len(a.Timeline) != len(base.Timeline)+2 ||
		a.Timeline[len(a.Timeline)-2].Source != "write 0" || a.Timeline[len(a.Timeline)-1].Source != "write 1" {
		t.Fatalf("version %d, %d entries (%+v): want both writes, in order", a.Version, len(a.Timeline), a.Timeline[len(base.Timeline):])
	}
	jobs, err := s.Lease(ctx, time.Now().Add(time.Second), 10, time.Minute)
	if err != nil || len(jobs) != 2 {
		t.Errorf("leased %d jobs (%v), want both writes' jobs", len(jobs), err)
	}

	// Many at once, each its own once key: every change lands once.
	const n = 40
	done := make(chan error, n)
	for i := range n {
		go func() {
			done <- s.Update(ctx, "A", fmt.Sprint("many:", i), func(a *c.Application) ([]store.Job, error) {
				a.Version++
				a.Timeline = append(a.Timeline, c.Entry{Kind: "note", Source: fmt.Sprint("many ", i)})
				return nil, nil
			})
		}()
	}
	for range n {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	b, err := s.Get(ctx, "A")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range b.Timeline[len(a.Timeline):] {
		seen[e.Source]++
	}
	if b.Version != a.Version+n || len(seen) != n {
		t.Errorf("after %d concurrent updates: version %d (want %d), %d distinct entries", n, b.Version, a.Version+n, len(seen))
	}
	for k, v := range seen {
		if v != 1 {
			t.Errorf("%q written %d times", k, v)
		}
	}
	if n := store.InFlight(s); n != 0 {
		t.Errorf("%d applications still have an update in flight after every write came back", n)
	}
}

// An update worked out on one in flight that then does not land: a
// department's callback (D1), the same callback again before the first
// was committed (D2: worked out on D1's result, then refused in the
// transaction as already applied) and an update (U3, worked out on D2's
// result) in one transaction. U3 must find that what it was worked out on
// is not what the transaction holds and be worked out again there: the
// record has D1's change and U3's, once each, and not D2's.
func TestUpdateOnOneInFlightThatDoesNotLand(t *testing.T) {
	s, ctx := groupBoltWithApp(t, "A"), context.Background()
	var runs [3]atomic.Int32
	d := store.Delivery{Keys: []string{"cdpf|event|e1"}, Fingerprint: "fp1"}
	note := func(i int, a *c.Application) {
		runs[i].Add(1)
		a.Version++
		a.Timeline = append(a.Timeline, c.Entry{Kind: "note", Source: fmt.Sprint("write ", i)})
	}
	var replies [2]store.Reply
	var errs [3]error
	deliver := func(i int) func() {
		return func() {
			replies[i], errs[i] = s.Deliver(ctx, "A", "", d, func(a *c.Application) (store.Outcome, error) {
				note(i, a)
				return store.Outcome{Reply: store.Reply{Status: 200, Body: []byte(fmt.Sprintf(`{"write":%d}`, i))}}, nil
			})
		}
	}
	update := func() {
		errs[2] = s.Update(ctx, "A", "", func(a *c.Application) ([]store.Job, error) { note(2, a); return nil, nil })
	}
	commits := s.CommitCount()
	store.HoldLeader(s, 3)
	startInOrder(s, []func(){deliver(0), deliver(1), update})()
	if got := s.CommitCount() - commits; got != 1 {
		t.Fatalf("%d commits, want the three writes in one", got)
	}
	if errs[0] != nil || !errors.Is(errs[1], store.ErrAlreadyApplied) || errs[2] != nil {
		t.Fatalf("errors %v, %v, %v: want nil, already applied, nil", errs[0], errs[1], errs[2])
	}
	if string(replies[1].Body) != `{"write":0}` {
		t.Errorf("the callback again answered %s, want the first's reply", replies[1].Body)
	}
	if runs[0].Load() != 1 || runs[1].Load() != 1 || runs[2].Load() != 2 {
		t.Errorf("runs %d, %d, %d; want 1, 1 (prepared only) and 2 (prepared, then again in the transaction)",
			runs[0].Load(), runs[1].Load(), runs[2].Load())
	}
	a, err := s.Get(ctx, "A")
	if err != nil {
		t.Fatal(err)
	}
	base := groupApp("A")
	var got []string
	for _, e := range a.Timeline[len(base.Timeline):] {
		got = append(got, e.Source)
	}
	if a.Version != base.Version+2 || fmt.Sprint(got) != "[write 0 write 2]" {
		t.Errorf("version %d with new entries %q; want %d and [write 0 write 2]", a.Version, got, base.Version+2)
	}
	if n := store.InFlight(s); n != 0 {
		t.Errorf("%d applications still have an update in flight", n)
	}
}

// groupBoltWithApp is openGroupBolt holding the application id.
func groupBoltWithApp(t *testing.T, id string) *store.Bolt {
	t.Helper()
	s := openGroupBolt(t)
	if _, err := s.Create(context.Background(), groupApp(id), nil, nil); err != nil {
		t.Fatal(err)
	}
	return s
}
