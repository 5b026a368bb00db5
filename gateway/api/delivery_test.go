package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	c "onething/contracts"
	"onething/contracts/contracttest"
	"onething/gateway/api"
	"onething/gateway/calendar"
	"onething/gateway/engine"
	"onething/gateway/store"
	"onething/gateway/store/redistest"
	"onething/gateway/workflow"
)

// replicas serves the API twice on one store, as two replicas (or one
// gateway before and after a restart) would: each has its own in-memory
// replay cache, so what refuses a replay here is the store's record.
func replicas(t *testing.T, st store.Store) (*fixture, *fixture) {
	t.Helper()
	eng := &engine.Engine{Store: st, Flow: workflow.New(calendar.Default())}
	mk := func() *fixture {
		h, err := api.New(api.Config{
			Engine: eng, PortalSecrets: []string{portalSecret}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			DeptSecrets: map[c.Dept][]string{c.DeptCDPF: {cdpfSecret}, c.DeptCivil: {civilSecret}},
			ReadTokens:  []string{readToken},
		})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		checker := contracttest.New(t, "gateway")
		return &fixture{t: t, srv: srv, store: st, engine: eng, http: &http.Client{Transport: checker.Transport(http.DefaultTransport)}}
	}
	return mk(), mk()
}

func boltStore(t *testing.T) store.Store {
	st, err := store.OpenBolt(filepath.Join(t.TempDir(), "api.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func redisStore(t *testing.T) store.Store {
	srv := redistest.Start(t)
	st, err := store.OpenRedis(context.Background(), srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// onBoth runs a test on bolt and on Redis.
func onBoth(t *testing.T, test func(t *testing.T, st store.Store)) {
	t.Run("bolt", func(t *testing.T) { test(t, boltStore(t)) })
	t.Run("redis", func(t *testing.T) { test(t, redisStore(t)) })
}

// submitted submits the example under its own portal reference.
func submitted(t *testing.T, f *fixture, id string) c.SubmissionAccepted {
	var m map[string]any
	json.Unmarshal(example(t), &m)
	m["portalRef"] = "SCZW-FCZK-20261012-" + id
	body, _ := json.Marshal(m)
	status, resp := f.submit("msg_"+id, body)
	var acc c.SubmissionAccepted
	if status != http.StatusAccepted || json.Unmarshal(resp, &acc) != nil {
		t.Fatalf("submit %s: %d %s", id, status, resp)
	}
	return acc
}

// unchanged checks an application's stored version and task states.
func snapshot(t *testing.T, st store.Store, id string) string {
	app, err := st.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(struct {
		V     int64
		S     any
		Tasks []*c.Task
	}{app.Version, app.Status.State, app.Tasks})
	return string(b)
}

func jobsOf(t *testing.T, st store.Store, appID string) int {
	jobs, err := st.Lease(context.Background(), time.Now().Add(time.Hour), 1000, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, j := range jobs {
		if j.AppID == appID {
			n++
		}
		st.Retry(context.Background(), j, time.Now())
	}
	return n
}

func wantReplayed(t *testing.T, what string, status int, resp []byte) {
	t.Helper()
	if status != http.StatusConflict {
		t.Errorf("%s: %d %s, want 409 replayed_webhook", what, status, resp)
		return
	}
	if e := decodeError(t, resp); e.Code != "replayed_webhook" || e.Message == "" || e.MessageEn == "" {
		t.Errorf("%s: %s", what, resp)
	}
}

// A withdrawal signed for application A, sent to A, then the identical
// signed request sent to B: 409, B unchanged and no department told; the
// request to A again is answered exactly what it was the first time.
func TestWithdrawalReplayedOnAnotherApplication(t *testing.T) {
	onBoth(t, func(t *testing.T, st store.Store) {
		r1, r2 := replicas(t, st)
		a, b := submitted(t, r1, "A"), submitted(t, r1, "B")
		body, _ := json.Marshal(c.Withdrawal{Reason: "不再需要"})
		at := time.Now()
		send := func(f *fixture, appID string) (int, []byte) {
			return f.do(signed(t, f.srv.URL+"/v1/applications/"+appID+"/withdraw", portalSecret, "wd-1", at, body))
		}
		status, first := send(r1, a.ApplicationID)
		var res c.WithdrawalResult
		if status != http.StatusOK || json.Unmarshal(first, &res) != nil || len(res.Cancelled) == 0 {
			t.Fatalf("withdraw A: %d %s", status, first)
		}
		before, jobs := snapshot(t, st, b.ApplicationID), jobsOf(t, st, b.ApplicationID)
		for i, f := range []*fixture{r1, r2} {
			status, resp := send(f, b.ApplicationID)
			wantReplayed(t, "A's withdrawal on B via replica "+string(rune('1'+i)), status, resp)
		}
		if after := snapshot(t, st, b.ApplicationID); after != before {
			t.Errorf("B changed:\n%s\n%s", before, after)
		}
		if n := jobsOf(t, st, b.ApplicationID); n != jobs {
			t.Errorf("B's queued work went from %d to %d jobs (a department would be told)", jobs, n)
		}
		for _, f := range []*fixture{r1, r2} {
			status, again := send(f, a.ApplicationID)
			if status != http.StatusOK || !bytes.Equal(again, first) {
				t.Errorf("withdrawal of A again: %d %s\nfirst: %s", status, again, first)
			}
		}
		// Another body under the same id, on A itself: refused too.
		other, _ := json.Marshal(c.Withdrawal{Reason: "另一个原因"})
		status, resp := r2.do(signed(t, r2.srv.URL+"/v1/applications/"+a.ApplicationID+"/withdraw", portalSecret, "wd-1", at, other))
		wantReplayed(t, "the id with another body", status, resp)
		// A submission's delivery id on the withdrawal path: refused.
		status, resp = r2.do(signed(t, r2.srv.URL+"/v1/applications/"+b.ApplicationID+"/withdraw", portalSecret, "msg_A", at, body))
		wantReplayed(t, "a submission's delivery id", status, resp)
	})
}

// A supplement for A replayed on B: 409, B unchanged; again on A: the
// first reply.
func TestSupplementReplayedOnAnotherApplication(t *testing.T) {
	onBoth(t, func(t *testing.T, st store.Store) {
		r1, r2 := replicas(t, st)
		a, b := submitted(t, r1, "A"), submitted(t, r1, "B")
		now := time.Now().UTC()
		for _, acc := range []c.SubmissionAccepted{a, b} {
			cert := acc.Items[0].TaskID
			for _, ev := range []c.DeptEvent{
				{EventID: "acc-" + cert, TaskID: cert, CaseNo: "CDPF-1", Type: c.EventAccepted, OccurredAt: now},
				{EventID: "sup-" + cert, TaskID: cert, Type: c.EventSupplementRequired, OccurredAt: now.Add(time.Second),
					Reason: &c.Message{ZH: "请补充照片", EN: "photos needed"}},
			} {
				if status, resp := r1.event(c.DeptCDPF, cdpfSecret, ev); status != http.StatusOK {
					t.Fatalf("event: %d %s", status, resp)
				}
			}
		}
		body, _ := json.Marshal(c.SupplementSubmission{TaskID: a.Items[0].TaskID, Materials: []string{"photos"}})
		at := time.Now()
		send := func(f *fixture, appID string) (int, []byte) {
			return f.do(signed(t, f.srv.URL+"/v1/applications/"+appID+"/supplements", portalSecret, "sup-1", at, body))
		}
		status, first := send(r1, a.ApplicationID)
		if status != http.StatusAccepted {
			t.Fatalf("supplement A: %d %s", status, first)
		}
		before := snapshot(t, st, b.ApplicationID)
		status, resp := send(r2, b.ApplicationID)
		wantReplayed(t, "A's supplement on B", status, resp)
		if after := snapshot(t, st, b.ApplicationID); after != before {
			t.Errorf("B changed:\n%s\n%s", before, after)
		}
		status, again := send(r2, a.ApplicationID)
		if status != http.StatusAccepted || !bytes.Equal(again, first) {
			t.Errorf("supplement of A again: %d %s\nfirst: %s", status, again, first)
		}
	})
}

// A department event of A's task, its id (webhook id and event id) used
// again, signed, for B's task: 409, B's task unchanged; the event again:
// the first reply.
func TestEventReplayedOnAnotherTask(t *testing.T) {
	onBoth(t, func(t *testing.T, st store.Store) {
		r1, r2 := replicas(t, st)
		a, b := submitted(t, r1, "A"), submitted(t, r1, "B")
		now := time.Now().UTC()
		evA := c.DeptEvent{EventID: "ev-1", TaskID: a.Items[0].TaskID, CaseNo: "CDPF-1", Type: c.EventAccepted, OccurredAt: now}
		status, first := r1.event(c.DeptCDPF, cdpfSecret, evA)
		if status != http.StatusOK {
			t.Fatalf("event A: %d %s", status, first)
		}
		before := snapshot(t, st, b.ApplicationID)
		evB := evA
		evB.TaskID = b.Items[0].TaskID
		status, resp := r2.event(c.DeptCDPF, cdpfSecret, evB)
		wantReplayed(t, "A's event id on B's task", status, resp)
		// The same event id under a fresh webhook id: refused as well.
		raw, _ := json.Marshal(evB)
		status, resp = r2.do(signed(t, r2.srv.URL+"/v1/departments/cdpf/events", cdpfSecret, "wh-fresh", time.Now(), raw))
		wantReplayed(t, "A's event id under a fresh webhook id on B's task", status, resp)
		if after := snapshot(t, st, b.ApplicationID); after != before {
			t.Errorf("B changed:\n%s\n%s", before, after)
		}
		status, again := r2.event(c.DeptCDPF, cdpfSecret, evA)
		if status != http.StatusOK || !bytes.Equal(again, first) {
			t.Errorf("event again: %d %s\nfirst: %s", status, again, first)
		}
	})
}

// A department event sent again under a new webhook id gets the first
// reply, and that id is recorded with it in the store: a gateway started
// again (no replay cache) refuses another event under that id with 409
// and changes nothing, and answers the repeat again with the first reply.
func TestEventAgainUnderANewWebhookIDTakesTheID(t *testing.T) {
	onBoth(t, func(t *testing.T, st store.Store) {
		r1, r2 := replicas(t, st)
		a, b := submitted(t, r1, "A"), submitted(t, r1, "B")
		now := time.Now().UTC()
		url := r1.srv.URL + "/v1/departments/cdpf/events"
		ev1, _ := json.Marshal(c.DeptEvent{EventID: "ev-1", TaskID: a.Items[0].TaskID, CaseNo: "CDPF-1", Type: c.EventAccepted, OccurredAt: now})
		status, first := r1.do(signed(t, url, cdpfSecret, "wh-1", time.Now(), ev1))
		if status != http.StatusOK {
			t.Fatalf("event: %d %s", status, first)
		}
		status, again := r1.do(signed(t, url, cdpfSecret, "wh-2", time.Now(), ev1))
		if status != http.StatusOK || !bytes.Equal(again, first) {
			t.Fatalf("the event under a new webhook id: %d %s\nfirst: %s", status, again, first)
		}
		// r2 is the gateway started again: its replay cache never saw wh-2.
		before := snapshot(t, st, b.ApplicationID)
		ev2, _ := json.Marshal(c.DeptEvent{EventID: "ev-2", TaskID: b.Items[0].TaskID, CaseNo: "CDPF-2", Type: c.EventAccepted, OccurredAt: now})
		status, resp := r2.do(signed(t, r2.srv.URL+"/v1/departments/cdpf/events", cdpfSecret, "wh-2", time.Now(), ev2))
		wantReplayed(t, "another event under the webhook id of the repeat", status, resp)
		if after := snapshot(t, st, b.ApplicationID); after != before {
			t.Errorf("B changed:\n%s\n%s", before, after)
		}
		status, again = r2.do(signed(t, r2.srv.URL+"/v1/departments/cdpf/events", cdpfSecret, "wh-2", time.Now(), ev1))
		if status != http.StatusOK || !bytes.Equal(again, first) {
			t.Errorf("the repeat once more: %d %s\nfirst: %s", status, again, first)
		}
	})
}

// A stale report (an older state after a newer one) is answered `stale`
// and ignored, but it is put on the timeline: the application changed, so
// its version grows and a status push for that version is queued, as the
// contract's `version` ("grows by one on every change") says.
func TestStaleEventIsANewVersion(t *testing.T) {
	onBoth(t, func(t *testing.T, st store.Store) {
		r1, _ := replicas(t, st)
		a := submitted(t, r1, "A")
		task := a.Items[0].TaskID
		now := time.Now().UTC()
		for i, typ := range []c.EventType{c.EventAccepted, c.EventInProgress} {
			ev := c.DeptEvent{EventID: fmt.Sprint("ev-", i), TaskID: task, CaseNo: "CDPF-1", Type: typ, OccurredAt: now.Add(time.Duration(i) * time.Second)}
			if status, resp := r1.event(c.DeptCDPF, cdpfSecret, ev); status != http.StatusOK || !bytes.Contains(resp, []byte(`"applied"`)) {
				t.Fatalf("%s: %d %s", typ, status, resp)
			}
		}
		before, err := st.Get(context.Background(), a.ApplicationID)
		if err != nil {
			t.Fatal(err)
		}
		stale := c.DeptEvent{EventID: "ev-late", TaskID: task, CaseNo: "CDPF-1", Type: c.EventAccepted, OccurredAt: now}
		status, resp := r1.event(c.DeptCDPF, cdpfSecret, stale)
		if status != http.StatusOK || !bytes.Contains(resp, []byte(`"outcome":"stale"`)) {
			t.Fatalf("the late report: %d %s, want 200 stale", status, resp)
		}
		after, err := st.Get(context.Background(), a.ApplicationID)
		if err != nil {
			t.Fatal(err)
		}
		last := after.Timeline[len(after.Timeline)-1]
		if len(after.Timeline) != len(before.Timeline)+1 || last.Kind != "stale_report" {
			t.Fatalf("timeline %d → %d entries, last %q: want the stale report added", len(before.Timeline), len(after.Timeline), last.Kind)
		}
		if after.Version != before.Version+1 {
			t.Errorf("version %d → %d with a timeline entry more: want %d", before.Version, after.Version, before.Version+1)
		}
		if after.Tasks[0].State != before.Tasks[0].State {
			t.Errorf("the stale report moved the task: %s → %s", before.Tasks[0].State, after.Tasks[0].State)
		}
		jobs, err := st.Lease(context.Background(), time.Now().Add(time.Hour), 100, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		var pushed bool
		for _, j := range jobs {
			pushed = pushed || j.ID == store.PushJobID(a.ApplicationID, after.Version)
		}
		if !pushed {
			t.Errorf("no status push queued for version %d (queued: %d jobs)", after.Version, len(jobs))
		}
	})
}
