package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	c "onething/contracts"
	"onething/gateway/store"
)

// withdrawal is a delivery as the API makes it: the portal's webhook id,
// bound to the path and body it came with.
func withdrawal(id, appID, body string) store.Delivery {
	return store.Delivery{
		Keys:        []string{"webhook:portal|id|" + id},
		Taken:       []string{"delivery:" + id},
		Fingerprint: store.Fingerprint("POST", "/v1/applications/"+appID+"/withdraw", []byte(body)),
	}
}

// cancel is a DeliverFunc that changes the application, queues a job and
// answers what it did.
func cancel(calls *int) store.DeliverFunc {
	return func(a *c.Application) (store.Outcome, error) {
		*calls++
		a.Version++
		a.Tasks[0].State = c.TaskCancelled
		return store.Outcome{
			Jobs:  []store.Job{job("cancel:"+a.Tasks[0].ID, a.ID, time.Now())},
			Reply: store.Reply{Status: 200, Body: []byte(fmt.Sprintf(`{"applicationId":%q,"cancelled":[%q]}`, a.ID, a.Tasks[0].ID))},
		}, nil
	}
}

// A delivery is recorded with its reply in the write of its change; the
// same request again gets the recorded reply without running again; the
// same id for another application, path or body is refused and changes
// nothing, even where the application does not exist.
func testDeliver(t *testing.T, s store.Store) {
	s.Create(ctx, app("A"), nil, nil)
	s.Create(ctx, app("B"), nil, nil)
	calls := 0
	first, err := s.Deliver(ctx, "A", "withdraw:w1", withdrawal("w1", "A", `{}`), cancel(&calls))
	if err != nil || first.Status != 200 || !bytes.Contains(first.Body, []byte(`"cancelled":["A-1"]`)) {
		t.Fatalf("first delivery = %d %s, %v", first.Status, first.Body, err)
	}
	again, err := s.Deliver(ctx, "A", "withdraw:w1", withdrawal("w1", "A", `{}`), cancel(&calls))
	if !errors.Is(err, store.ErrAlreadyApplied) || again.Status != first.Status || !bytes.Equal(again.Body, first.Body) {
		t.Errorf("the same delivery again = %d %s, %v; want the first reply and ErrAlreadyApplied", again.Status, again.Body, err)
	}
	for name, d := range map[string]store.Delivery{
		"another application":  withdrawal("w1", "B", `{}`),
		"another body":         withdrawal("w1", "A", `{"reason":"x"}`),
		"a missing app":        withdrawal("w1", "NOPE", `{}`),
		"a submission's id":    withdrawal("sub1", "B", `{}`),
		"another key recorded": {Keys: []string{"webhook:portal|id|fresh", "webhook:portal|id|w1"}, Fingerprint: "other"},
	} {
		target := "B"
		if name == "a missing app" {
			target = "NOPE"
		}
		if name == "a submission's id" {
			s.Create(ctx, app("S"), []string{"delivery:sub1"}, nil)
		}
		if _, err := s.Deliver(ctx, target, "withdraw:w1", d, cancel(&calls)); !errors.Is(err, store.ErrReplayed) {
			t.Errorf("%s: %v, want ErrReplayed", name, err)
		}
	}
	if calls != 1 {
		t.Errorf("the action ran %d times, want 1", calls)
	}
	if b, _ := s.Get(ctx, "B"); b.Version != 1 || b.Tasks[0].State != c.TaskReady {
		t.Errorf("B changed: version %d, task %s", b.Version, b.Tasks[0].State)
	}
	jobs, _ := s.Lease(ctx, time.Now().Add(time.Second), 10, time.Minute)
	if len(jobs) != 1 || jobs[0].AppID != "A" {
		t.Errorf("queued %+v, want A's one cancel", jobs)
	}
	if a, _ := s.Get(ctx, "A"); a.Version != 2 {
		t.Errorf("A version %d, want 2", a.Version)
	}
	// A new id on an application that does not exist: not found, nothing
	// recorded.
	if _, err := s.Deliver(ctx, "NOPE", "", withdrawal("w9", "NOPE", `{}`), cancel(&calls)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing application: %v", err)
	}
	if _, err := s.Deliver(ctx, "B", "", withdrawal("w9", "B", `{}`), cancel(&calls)); err != nil {
		t.Errorf("an id refused for a missing application was burnt: %v", err)
	}
}

// A refusal the application's state decides records the delivery and its
// reply, and leaves the application (and the once key) alone; an aborted
// one records nothing.
func testDeliverRefused(t *testing.T, s store.Store) {
	s.Create(ctx, app("A"), nil, nil)
	refuse := func(a *c.Application) (store.Outcome, error) {
		a.Version = 99 // dropped
		return store.Outcome{Refused: true, Reply: store.Reply{Status: 409, Body: []byte(`{"code":"nothing_to_withdraw"}`)},
			Jobs: []store.Job{job("x", "A", time.Now())}}, nil
	}
	r, err := s.Deliver(ctx, "A", "withdraw:w1", withdrawal("w1", "A", `{}`), refuse)
	if err != nil || r.Status != 409 {
		t.Fatalf("refusal = %d, %v", r.Status, err)
	}
	calls := 0
	again, err := s.Deliver(ctx, "A", "withdraw:w1", withdrawal("w1", "A", `{}`), cancel(&calls))
	if !errors.Is(err, store.ErrAlreadyApplied) || again.Status != 409 || string(again.Body) != `{"code":"nothing_to_withdraw"}` || calls != 0 {
		t.Errorf("the refused delivery again = %d %s %v (ran %d)", again.Status, again.Body, err, calls)
	}
	if a, _ := s.Get(ctx, "A"); a.Version != 1 {
		t.Errorf("a refusal wrote the application: version %d", a.Version)
	}
	if jobs, _ := s.Lease(ctx, time.Now().Add(time.Second), 10, time.Minute); len(jobs) != 0 {
		t.Errorf("a refusal queued %+v", jobs)
	}
	// The once key stays free: another delivery may withdraw.
	if err := s.Update(ctx, "A", "withdraw:w1", func(*c.Application) ([]store.Job, error) { return nil, nil }); err != nil {
		t.Errorf("a refusal took the once key: %v", err)
	}
	boom := errors.New("boom")
	if _, err := s.Deliver(ctx, "A", "", withdrawal("w2", "A", `{}`), func(*c.Application) (store.Outcome, error) {
		return store.Outcome{}, boom
	}); !errors.Is(err, boom) {
		t.Fatalf("aborted = %v", err)
	}
	if _, err := s.Deliver(ctx, "A", "", withdrawal("w2", "A", `{}`), cancel(&calls)); err != nil || calls != 1 {
		t.Errorf("an aborted delivery burnt its id: %v (ran %d)", err, calls)
	}
	// A legacy once key (recorded by Update, no record): ErrAlreadyApplied
	// with no reply.
	s.Update(ctx, "A", "withdraw:old", func(*c.Application) ([]store.Job, error) { return nil, nil })
	if r, err := s.Deliver(ctx, "A", "withdraw:old", withdrawal("old", "A", `{}`), cancel(&calls)); !errors.Is(err, store.ErrAlreadyApplied) || r.Status != 0 {
		t.Errorf("legacy once key = %d, %v", r.Status, err)
	}
}

// One signed delivery sent at once to both replicas, and replayed at once
// on another application: one write in all; every copy for the
// application that won gets the one reply, every copy for the other is
// refused, and that application is unchanged.
func testRaceDeliver(t *testing.T, open OpenPair) {
	a, b := open(t)
	a.Create(ctx, app("A"), nil, nil)
	a.Create(ctx, app("B"), nil, nil)
	var mu sync.Mutex
	calls := 0
	replies := map[string][]store.Reply{}
	refused := map[string]int{}
	start(20, func(i int) {
		target := "A"
		if i%4 == 3 {
			target = "B"
		}
		var n int
		r, err := pick(a, b, i).Deliver(ctx, target, "", withdrawal("w1", target, `{}`), cancel(&n))
		mu.Lock()
		defer mu.Unlock()
		calls += n
		switch {
		case errors.Is(err, store.ErrReplayed):
			refused[target]++
		case err == nil || errors.Is(err, store.ErrAlreadyApplied):
			replies[target] = append(replies[target], r)
		default:
			t.Errorf("%s: %v", target, err)
		}
	})
	if len(replies) != 1 {
		t.Fatalf("replies for %d applications, want 1 (refused: %v)", len(replies), refused)
	}
	for won, rs := range replies {
		lost := map[string]string{"A": "B", "B": "A"}[won]
		for _, r := range rs {
			if r.Status != 200 || !bytes.Equal(r.Body, rs[0].Body) {
				t.Errorf("replies differ: %d %s / %s", r.Status, r.Body, rs[0].Body)
			}
		}
		w, _ := a.Get(ctx, won)
		l, _ := a.Get(ctx, lost)
		if w.Version != 2 || l.Version != 1 || refused[won] != 0 {
			t.Errorf("%s won: versions %d and %d, refused %v", won, w.Version, l.Version, refused)
		}
	}
	// fn may run again on Redis after a lost race, but only one write
	// counts: the versions above. calls is at least 1.
	if calls < 1 {
		t.Error("the action never ran")
	}
}

// event is a department's event as the API makes its delivery: the
// webhook id and the event id as keys, bound to the path and body.
func event(webhookID, eventID, appID, body string) store.Delivery {
	return store.Delivery{
		Keys:        []string{"dept:medical|id|" + webhookID, "dept:medical|event|" + eventID},
		Fingerprint: store.Fingerprint("POST", "/v1/departments/medical/events", []byte(appID+body)),
	}
}

// The same request sent again under a new webhook id is answered from the
// record its event id holds, and the new id is recorded with it: used
// later for another request (another event), it is refused, as any id
// recorded for another request is; the record does not depend on any
// cache in front of the store (a gateway started again has none).
func testDeliverSameUnderANewID(t *testing.T, s store.Store) {
	s.Create(ctx, app("A"), nil, nil)
	s.Create(ctx, app("B"), nil, nil)
	calls := 0
	first, err := s.Deliver(ctx, "A", "", event("w1", "e1", "A", `{"approved"}`), cancel(&calls))
	if err != nil || first.Status != 200 {
		t.Fatalf("first delivery = %d %s, %v", first.Status, first.Body, err)
	}
	again, err := s.Deliver(ctx, "A", "", event("w2", "e1", "A", `{"approved"}`), cancel(&calls))
	if !errors.Is(err, store.ErrAlreadyApplied) || again.Status != first.Status || !bytes.Equal(again.Body, first.Body) {
		t.Fatalf("the same event under a new webhook id = %d %s, %v; want the first reply and ErrAlreadyApplied", again.Status, again.Body, err)
	}
	other, err := s.Deliver(ctx, "B", "", event("w2", "e2", "B", `{"approved"}`), cancel(&calls))
	if !errors.Is(err, store.ErrReplayed) {
		t.Errorf("another event under the webhook id the repeat came with = %d %s, %v; want ErrReplayed", other.Status, other.Body, err)
	}
	if calls != 1 {
		t.Errorf("the action ran %d times, want 1", calls)
	}
	if b, _ := s.Get(ctx, "B"); b.Version != 1 || b.Tasks[0].State != c.TaskReady {
		t.Errorf("B changed: version %d, task %s", b.Version, b.Tasks[0].State)
	}
	// The repeat under the new id, sent once more, gets the first reply.
	if r, err := s.Deliver(ctx, "A", "", event("w2", "e1", "A", `{"approved"}`), cancel(&calls)); !errors.Is(err, store.ErrAlreadyApplied) || !bytes.Equal(r.Body, first.Body) {
		t.Errorf("the repeat again = %d %s, %v; want the first reply", r.Status, r.Body, err)
	}
}
