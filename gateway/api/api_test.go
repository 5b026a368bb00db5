package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"onething/civil"
	c "onething/contracts"
	"onething/contracts/contracttest"
	"onething/gateway/api"
	"onething/gateway/calendar"
	"onething/gateway/engine"
	"onething/gateway/seal"
	"onething/gateway/store"
	"onething/gateway/workflow"
)

const (
	portalSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	oldSecret    = "whsec_dGhlIG9sZCBzZWNyZXQgYmVmb3JlIHJvdGF0aW9u"
	cdpfSecret   = "whsec_Y2RwZiBldmVudHMgc2VjcmV0IGZvciB0ZXN0cw=="
	civilSecret  = "whsec_Y2l2aWwgZXZlbnRzIHNlY3JldCBmb3IgdGVzdHM="
	readToken    = "read-token-for-tests"
	adminToken   = "admin-token-for-tests"
)

type fixture struct {
	t      *testing.T
	srv    *httptest.Server
	store  store.Store
	http   *http.Client
	engine *engine.Engine
}

// newFixture serves the API on a fresh store; tune adjusts the
// configuration (security tests: JWT, tokens, rate limits).
func newFixture(t *testing.T, tune ...func(*api.Config)) *fixture {
	t.Helper()
	st, err := store.OpenBolt(filepath.Join(t.TempDir(), "api.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	eng := &engine.Engine{Store: st, Flow: workflow.New(calendar.Default())}
	cfg := api.Config{
		Engine: eng, PortalSecrets: []string{portalSecret, oldSecret}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		DeptSecrets: map[c.Dept][]string{c.DeptCDPF: {cdpfSecret}, c.DeptCivil: {civilSecret}},
		ReadTokens:  []string{readToken}, AdminTokens: []string{adminToken},
		Breakers: func() map[string]c.BreakerStatus {
			return map[string]c.BreakerStatus{"cdpf": {State: "closed", Transitions: []c.BreakerTransition{}}}
		},
		Ready: func(context.Context) map[string]api.Check {
			return map[string]api.Check{"store": {OK: true, Detail: "reachable"}}
		},
	}
	for _, f := range tune {
		f(&cfg)
	}
	h, err := api.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	checker := contracttest.New(t, "gateway")
	return &fixture{t: t, srv: srv, store: st, engine: eng, http: &http.Client{Transport: checker.Transport(http.DefaultTransport)}}
}

func example(t *testing.T) []byte {
	b, err := c.Example("submission-full.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signed builds a request signed the Standard Webhooks way.
func signed(t *testing.T, url, secret, id string, at time.Time, body []byte) *http.Request {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := wh.Sign(id, at, body)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	return req
}

func (f *fixture) do(req *http.Request) (int, []byte) {
	f.t.Helper()
	resp, err := f.http.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("X-Request-Id") == "" {
		f.t.Errorf("%s %s: no X-Request-Id", req.Method, req.URL.Path)
	}
	return resp.StatusCode, body
}

func (f *fixture) submit(id string, body []byte) (int, []byte) {
	return f.do(signed(f.t, f.srv.URL+"/v1/portal/submissions", portalSecret, id, time.Now(), body))
}

func decodeError(t *testing.T, body []byte) c.Error {
	t.Helper()
	var e c.Error
	if err := json.Unmarshal(body, &e); err != nil || e.Code == "" || e.Message == "" || e.MessageEn == "" || e.RequestID == "" {
		t.Fatalf("not the one error shape: %s", body)
	}
	return e
}

func (f *fixture) queued() int {
	q, err := f.store.QueueStats(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return q.Jobs
}

func TestSubmissionAccepted(t *testing.T) {
	f := newFixture(t)
	status, body := f.submit("msg_1", example(t))
	if status != http.StatusAccepted {
		t.Fatalf("status %d: %s", status, body)
	}
	var acc c.SubmissionAccepted
	json.Unmarshal(body, &acc)
	if acc.ApplicationID == "" || acc.Duplicate || acc.Status != c.AppReceived || len(acc.Items) != 5 {
		t.Fatalf("reply %+v", acc)
	}
	app, err := f.store.Get(context.Background(), acc.ApplicationID)
	if err != nil || app.PortalRef != "SCZW-FCZK-20261012-000318" {
		t.Fatalf("stored: %+v %v", app, err)
	}
	// Three tasks are ready (certificate, pension, medical) + one status push.
	if n := f.queued(); n != 4 {
		t.Errorf("%d jobs queued, want 4", n)
	}
}

func TestRepeatedDeliveryStartsNothingNew(t *testing.T) {
	f := newFixture(t)
	_, first := f.submit("msg_1", example(t))
	jobs := f.queued()
	var a, b, c2 c.SubmissionAccepted
	json.Unmarshal(first, &a)

	status, again := f.submit("msg_1", example(t)) // the same delivery, retried
	json.Unmarshal(again, &b)
	if status != http.StatusOK || !b.Duplicate || b.ApplicationID != a.ApplicationID {
		t.Errorf("same webhook-id: %d %+v", status, b)
	}
	status, other := f.submit("msg_2", example(t)) // a new delivery of the same portal case
	json.Unmarshal(other, &c2)
	if status != http.StatusOK || !c2.Duplicate || c2.ApplicationID != a.ApplicationID {
		t.Errorf("same portalRef: %d %+v", status, c2)
	}
	if n := f.queued(); n != jobs {
		t.Errorf("repeat queued work: %d jobs, want %d", n, jobs)
	}
}

// withRef is an example submission with another portal reference (and,
// when restamp, another submittedAt, as a portal retrying may stamp it).
func withRef(t *testing.T, name, ref string, change func(m map[string]any)) []byte {
	t.Helper()
	b, err := c.Example(name)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["portalRef"] = ref
	if change != nil {
		change(m)
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// stored lists the stored applications' ids and ID numbers.
func (f *fixture) stored() (ids, idNumbers []string) {
	f.t.Helper()
	err := f.store.(store.Scanner).Scan(f.t.Context(), func(app *c.Application) bool {
		ids = append(ids, app.ID)
		idNumbers = append(idNumbers, app.Applicant.IDNumber)
		return true
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return ids, idNumbers
}

// A portal reference is one application: the same submission under it
// again (a new delivery id, submittedAt stamped again) is a duplicate;
// another person, or the same person with other requests, under it is
// 409 portal_ref_conflict, and nothing of it is stored or queued. The
// digest is keyed with the data-protection index key.
func TestPortalRefReusedForAnotherSubmission(t *testing.T) {
	keys, err := seal.New(seal.DevConfig())
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(cfg *api.Config) { cfg.Engine.Keys = keys })
	const ref = "SCZW-FCZK-20261012-REUSED"
	status, first := f.submit("msg_ref_1", withRef(t, "submission-full.json", ref, nil))
	if status != http.StatusAccepted {
		t.Fatalf("first: %d %s", status, first)
	}
	var a c.SubmissionAccepted
	json.Unmarshal(first, &a)
	jobs := f.queued()

	retry := withRef(t, "submission-full.json", ref, func(m map[string]any) { m["submittedAt"] = "2026-10-12T10:05:00+08:00" })
	status, again := f.submit("msg_ref_2", retry)
	var b c.SubmissionAccepted
	json.Unmarshal(again, &b)
	if status != http.StatusOK || !b.Duplicate || b.ApplicationID != a.ApplicationID {
		t.Errorf("same submission, new delivery id, restamped: %d %s", status, again)
	}

	other := withRef(t, "submission-minor.json", ref, nil)
	fewer := withRef(t, "submission-full.json", ref, func(m map[string]any) { delete(m["requests"].(map[string]any), "pension") })
	post := withRef(t, "submission-full.json", ref, func(m map[string]any) {
		m["delivery"] = map[string]any{"method": "post", "address": "通川区罗江镇龙潭村4组27号", "recipient": "张志明", "phone": "13881801234"}
	})
	for i, tc := range []struct {
		name string
		body []byte
	}{{"another person", other}, {"the same person, other requests", fewer}, {"the same person, another delivery", post}} {
		status, resp := f.submit("msg_ref_conflict_"+strconv.Itoa(i), tc.body)
		if status != http.StatusConflict {
			t.Errorf("%s: %d %s, want 409", tc.name, status, resp)
			continue
		}
		e := decodeError(t, resp)
		if e.Code != "portal_ref_conflict" || !strings.Contains(e.Message, "办件号") {
			t.Errorf("%s: %+v", tc.name, e)
		}
		for _, personal := range []string{"陈浩宇", "511702201506050711", "张志明", "51170219850307123X"} {
			if strings.Contains(string(resp), personal) {
				t.Errorf("%s: the refusal names personal data: %s", tc.name, resp)
			}
		}
	}
	if n := f.queued(); n != jobs {
		t.Errorf("a conflicting submission queued work: %d jobs, want %d", n, jobs)
	}
	ids, idNumbers := f.stored()
	if len(ids) != 1 || ids[0] != a.ApplicationID {
		t.Errorf("stored %v, want only %s", ids, a.ApplicationID)
	}
	for _, n := range idNumbers {
		if n == "511702201506050711" {
			t.Error("the second person was stored")
		}
	}
	// The refused delivery ids were not taken: the portal may send the
	// corrected submission, under a new reference, with the same id.
	if status, resp := f.submit("msg_ref_conflict_0", withRef(t, "submission-minor.json", "SCZW-FCZK-20261116-NEWREF", nil)); status != http.StatusAccepted {
		t.Errorf("the other person under a new reference: %d %s", status, resp)
	}
	app, err := f.store.Get(t.Context(), a.ApplicationID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(app.SubmissionDigest, keys.CurrentIndexKey()+".") {
		t.Errorf("digest %q is not keyed with the index key", app.SubmissionDigest)
	}
}

// A delivery id used for one submission and, past the replay cache's
// memory, for another is refused as a replayed webhook, not answered with
// the first application.
func TestDeliveryIDReusedForAnotherSubmission(t *testing.T) {
	f := newFixture(t)
	if status, resp := f.submit("msg_same", example(t)); status != http.StatusAccepted {
		t.Fatalf("%d %s", status, resp)
	}
	jobs := f.queued()
	// The engine directly: the API's replay cache would refuse it first
	// within its ten minutes; after them the store decides.
	sub := new(c.Submission)
	if err := json.Unmarshal(withRef(t, "submission-minor.json", "SCZW-FCZK-20261116-OTHER", nil), sub); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.engine.Submit(t.Context(), "msg_same", sub); !errors.Is(err, engine.ErrDeliveryReplayed) {
		t.Errorf("same delivery id, another submission: %v, want ErrDeliveryReplayed", err)
	}
	if n := f.queued(); n != jobs {
		t.Errorf("queued work: %d jobs, want %d", n, jobs)
	}
	if _, err := f.store.Lookup(t.Context(), "ref:SCZW-FCZK-20261116-OTHER"); err == nil {
		t.Error("the replayed submission's reference was stored")
	}
}

func TestSignatureChecks(t *testing.T) {
	f := newFixture(t)
	url := f.srv.URL + "/v1/portal/submissions"
	body := example(t)
	cases := []struct {
		name string
		req  *http.Request
		want int
	}{
		{"wrong secret", signed(t, url, cdpfSecret, "m1", time.Now(), body), 401},
		{"stale timestamp", signed(t, url, portalSecret, "m2", time.Now().Add(-6*time.Minute), body), 401},
		{"future timestamp", signed(t, url, portalSecret, "m3", time.Now().Add(6*time.Minute), body), 401},
		{"tampered body", func() *http.Request {
			r := signed(t, url, portalSecret, "m4", time.Now(), body)
			r.Body = io.NopCloser(bytes.NewReader(bytes.Replace(body, []byte("张志明"), []byte("李志明"), 1)))
			return r
		}(), 401},
		{"no signature", func() *http.Request {
			r := signed(t, url, portalSecret, "m5", time.Now(), body)
			r.Header.Del("webhook-signature")
			return r
		}(), 401},
		{"old secret during rotation", signed(t, url, oldSecret, "m6", time.Now(), body), 202},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, resp := f.do(tc.req)
			if status != tc.want {
				t.Fatalf("status %d, want %d: %s", status, tc.want, resp)
			}
			if tc.want == 401 && decodeError(t, resp).Code != "unauthorized" {
				t.Errorf("code: %s", resp)
			}
		})
	}
}

func TestInvalidSubmissionListsEveryProblemAndStoresNothing(t *testing.T) {
	f := newFixture(t)
	var m map[string]any
	json.Unmarshal(example(t), &m)
	ap := m["applicant"].(map[string]any)
	ap["idNumber"] = "511702198503071231" // wrong check character
	delete(ap, "name")
	body, _ := json.Marshal(m)
	status, resp := f.submit("msg_bad", body)
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d: %s", status, resp)
	}
	e := decodeError(t, resp)
	got := map[string]string{}
	for _, d := range e.Details {
		got[d.Field] = d.Code
	}
	if len(e.Details) != 2 || got["applicant.idNumber"] != "invalid_checksum" || got["applicant.name"] != "required" {
		t.Errorf("details %+v", e.Details)
	}
	if strings.Contains(string(resp), "511702198503071231") {
		t.Error("the reply echoes the ID number")
	}
	if n := f.queued(); n != 0 {
		t.Errorf("%d jobs queued for a refused submission", n)
	}
	if _, err := f.store.Lookup(context.Background(), "ref:SCZW-FCZK-20261012-000318"); err == nil {
		t.Error("a refused submission was stored")
	}
	if _, err := f.store.Lookup(context.Background(), "delivery:msg_bad"); err == nil {
		t.Error("a refused delivery id was recorded")
	}
	// The portal fixes it and sends it again under the same delivery id.
	if status, resp := f.submit("msg_bad", example(t)); status != http.StatusAccepted {
		t.Errorf("corrected resubmission: %d %s", status, resp)
	}
}

func TestMalformedBodies(t *testing.T) {
	f := newFixture(t)
	url := f.srv.URL + "/v1/portal/submissions"
	big := append([]byte(`{"portalRef":"`), bytes.Repeat([]byte("a"), api.MaxBody)...)
	cases := []struct {
		name  string
		body  []byte
		ctype string
		want  int
		code  string
	}{
		{"not JSON", []byte(`{"portalRef":`), "application/json", 400, "malformed_json"},
		{"unknown field", bytes.Replace(example(t), []byte(`"channel"`), []byte(`"chanel"`), 1), "application/json", 400, "malformed_json"},
		{"wrong type", bytes.Replace(example(t), []byte(`"dibao": true`), []byte(`"dibao": "yes"`), 1), "application/json", 400, "malformed_json"},
		{"trailing data", append(example(t), []byte(`{}`)...), "application/json", 400, "malformed_json"},
		{"too large", big, "application/json", 413, "body_too_large"},
		{"not JSON content type", example(t), "text/plain", 415, "unsupported_media_type"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := signed(t, url, portalSecret, "m"+strconv.Itoa(i), time.Now(), tc.body)
			req.Header.Set("Content-Type", tc.ctype)
			status, resp := f.do(req)
			if status != tc.want || decodeError(t, resp).Code != tc.code {
				t.Errorf("status %d body %.200s; want %d %s", status, resp, tc.want, tc.code)
			}
		})
	}
	if f.queued() != 0 {
		t.Error("a malformed body queued work")
	}
}

func (f *fixture) get(path, token string) (int, []byte) {
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return f.do(req)
}

func TestApplicationView(t *testing.T) {
	f := newFixture(t)
	_, body := f.submit("msg_1", example(t))
	var acc c.SubmissionAccepted
	json.Unmarshal(body, &acc)
	if status, _ := f.get("/v1/applications/"+acc.ApplicationID, ""); status != 401 {
		t.Errorf("no token: %d", status)
	}
	if status, _ := f.get("/v1/applications/"+acc.ApplicationID, "wrong"); status != 401 {
		t.Errorf("wrong token: %d", status)
	}
	if status, resp := f.get("/v1/applications/NOPE", readToken); status != 404 || decodeError(t, resp).Code != "not_found" {
		t.Errorf("unknown id: %d %s", status, resp)
	}
	status, resp := f.get("/v1/applications/"+acc.ApplicationID, readToken)
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	var v c.ApplicationView
	json.Unmarshal(resp, &v)
	if v.Applicant.IDNumber != "5117**********123X" || v.Applicant.Name != "张**" || len(v.Items) != 5 || len(v.Timeline) == 0 {
		t.Errorf("view %+v", v)
	}
	for _, secret := range []string{"51170219850307123X", "张志明", "13881801234"} {
		if strings.Contains(string(resp), secret) {
			t.Errorf("the status view discloses %q", secret)
		}
	}
}

func (f *fixture) event(dept c.Dept, secret string, ev c.DeptEvent) (int, []byte) {
	body, _ := json.Marshal(ev)
	return f.do(signed(f.t, f.srv.URL+"/v1/departments/"+string(dept)+"/events", secret, ev.EventID, time.Now(), body))
}

func TestDepartmentEvents(t *testing.T) {
	f := newFixture(t)
	_, body := f.submit("msg_1", example(t))
	var acc c.SubmissionAccepted
	json.Unmarshal(body, &acc)
	cert := acc.Items[0].TaskID // cdpf
	now := time.Now().UTC()
	accepted := c.DeptEvent{EventID: "ev1", TaskID: cert, CaseNo: "CDPF-1", Type: c.EventAccepted, OccurredAt: now}

	status, resp := f.event(c.DeptCDPF, cdpfSecret, accepted)
	var ack c.EventAck
	json.Unmarshal(resp, &ack)
	if status != 200 || ack.Outcome != "applied" || ack.TaskState != c.TaskAccepted {
		t.Fatalf("accepted: %d %s", status, resp)
	}
	status, resp = f.event(c.DeptCDPF, cdpfSecret, accepted) // delivered twice: the first reply
	json.Unmarshal(resp, &ack)
	if status != 200 || ack.Outcome != "applied" {
		t.Errorf("repeat: %d %s", status, resp)
	}
	app, _ := f.store.Get(context.Background(), acc.ApplicationID)
	version := app.Version

	t.Run("another department's task is forbidden and changes nothing", func(t *testing.T) {
		ev := c.DeptEvent{EventID: "ev-civ", TaskID: cert, Type: c.EventApproved, OccurredAt: now}
		status, resp := f.event(c.DeptCivil, civilSecret, ev)
		if status != 403 || decodeError(t, resp).Code != "forbidden" {
			t.Errorf("%d %s", status, resp)
		}
	})
	t.Run("signed with another department's secret", func(t *testing.T) {
		ev := c.DeptEvent{EventID: "ev-x", TaskID: cert, Type: c.EventInProgress, OccurredAt: now}
		if status, _ := f.event(c.DeptCDPF, civilSecret, ev); status != 401 {
			t.Errorf("%d", status)
		}
	})
	t.Run("unknown task", func(t *testing.T) {
		ev := c.DeptEvent{EventID: "ev-u", TaskID: acc.ApplicationID + "-42", Type: c.EventInProgress, OccurredAt: now}
		if status, _ := f.event(c.DeptCDPF, cdpfSecret, ev); status != 404 {
			t.Errorf("%d", status)
		}
		ev.EventID, ev.TaskID = "ev-u2", "NOAPP-1" // a new event: one id is one request
		if status, _ := f.event(c.DeptCDPF, cdpfSecret, ev); status != 404 {
			t.Errorf("unknown application: %d", status)
		}
	})
	t.Run("unknown department", func(t *testing.T) {
		if status, _ := f.event("police", cdpfSecret, accepted); status != 404 {
			t.Errorf("%d", status)
		}
	})
	t.Run("invalid event", func(t *testing.T) {
		ev := c.DeptEvent{EventID: "ev-r", TaskID: cert, Type: c.EventRejected, OccurredAt: now} // no reason
		status, resp := f.event(c.DeptCDPF, cdpfSecret, ev)
		if status != 422 || decodeError(t, resp).Details[0].Field != "reason" {
			t.Errorf("%d %s", status, resp)
		}
	})
	after, _ := f.store.Get(context.Background(), acc.ApplicationID)
	if after.Version != version || after.Tasks[0].State != c.TaskAccepted {
		t.Errorf("refused events changed the application: version %d -> %d, state %s", version, after.Version, after.Tasks[0].State)
	}

	t.Run("illegal transition", func(t *testing.T) {
		rej := c.DeptEvent{EventID: "ev-rej", TaskID: cert, Type: c.EventRejected, OccurredAt: now, Reason: &c.Message{ZH: "不符合", EN: "no"}}
		if status, _ := f.event(c.DeptCDPF, cdpfSecret, rej); status != 200 {
			t.Fatalf("reject: %d", status)
		}
		appr := c.DeptEvent{EventID: "ev-appr", TaskID: cert, Type: c.EventApproved, OccurredAt: now}
		status, resp := f.event(c.DeptCDPF, cdpfSecret, appr)
		e := decodeError(t, resp)
		if status != 409 || e.Code != "illegal_transition" {
			t.Errorf("%d %s", status, resp)
		}
		// Chinese first: the states by their Chinese names, the codes beside.
		from, to := c.TaskStateName(c.TaskRejected).ZH, c.TaskStateName(c.TaskApproved).ZH
		if !strings.Contains(e.Message, "“"+from+"”（rejected）") || !strings.Contains(e.Message, "“"+to+"”（approved）") {
			t.Errorf("message %q: want the states named in Chinese (%s, %s) with their codes", e.Message, from, to)
		}
	})
}

// A department's event is checked against the contract and its
// application through the door a department uses (outsider: cdpf's
// "approved" without its certificate, or with one of grade 9 or of
// another person, was applied and refused both subsidies for good; civil
// rejected a subsidy it was never sent; a publicity dated 2099 set a due
// date in 2099; an event naming another case number than the one cdpf
// gave for the item was taken, the number dropped silently; a case number
// " " was taken as the item's, and every later report refused). Each refusal
// changes nothing; the right event after it is taken.
func TestDepartmentEventsAgainstContractAndApplication(t *testing.T) {
	f := newFixture(t)
	_, body := f.submit("msg_c", example(t))
	var acc c.SubmissionAccepted
	json.Unmarshal(body, &acc)
	app, _ := f.store.Get(context.Background(), acc.ApplicationID)
	certTask, waiting := app.Tasks[0], (*c.Task)(nil)
	for _, tk := range app.Tasks {
		if tk.State == c.TaskWaiting {
			waiting = tk
			break
		}
	}
	if certTask.Item != c.ItemCertNew || waiting == nil || waiting.Dept != c.DeptCivil {
		t.Fatalf("tasks: %+v", app.Tasks)
	}
	// cdpf has opened its case for the certificate (the dispatch's answer).
	if err := f.store.Update(context.Background(), acc.ApplicationID, "", func(a *c.Application) ([]store.Job, error) {
		a.Task(certTask.ID).CaseNo = "CDPF-0001"
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	app, _ = f.store.Get(context.Background(), acc.ApplicationID)
	certTask = app.Tasks[0]
	now := time.Now()
	issued := civil.Of(now).String()
	good := &c.Certificate{Number: "51170219850307123X43", Category: 4, Grade: 3, IssuedOn: issued, ValidFrom: issued, ValidUntil: civil.Of(now).Anniversary(10).AddDays(-1).String()}
	with := func(mod func(*c.Certificate)) *c.Certificate {
		cp := *good
		mod(&cp)
		return &cp
	}
	for _, tc := range []struct {
		name        string
		dept        c.Dept
		secret      string
		ev          c.DeptEvent
		status      int
		field, code string
	}{
		{"approved without the certificate", c.DeptCDPF, cdpfSecret, c.DeptEvent{EventID: "c1", TaskID: certTask.ID, Type: c.EventApproved, OccurredAt: now}, 422, "certificate", "required"},
		{"a certificate of grade 9", c.DeptCDPF, cdpfSecret, c.DeptEvent{EventID: "c2", TaskID: certTask.ID, Type: c.EventApproved, OccurredAt: now, Certificate: with(func(c *c.Certificate) { c.Grade = 9 })}, 422, "certificate.grade", "invalid_choice"},
		{"another person's certificate", c.DeptCDPF, cdpfSecret, c.DeptEvent{EventID: "c3", TaskID: certTask.ID, Type: c.EventApproved, OccurredAt: now, Certificate: with(func(c *c.Certificate) { c.Number = "11010119900307451443" })}, 422, "certificate.number", "mismatch"},
		{"a publicity in 2099", c.DeptCDPF, cdpfSecret, c.DeptEvent{EventID: "c4", TaskID: certTask.ID, Type: c.EventPublicised, OccurredAt: time.Date(2099, 1, 5, 9, 0, 0, 0, civil.Zone)}, 422, "occurredAt", "out_of_range"},
		{"a publicity in 2020", c.DeptCDPF, cdpfSecret, c.DeptEvent{EventID: "c5", TaskID: certTask.ID, Type: c.EventPublicised, OccurredAt: time.Date(2020, 1, 5, 9, 0, 0, 0, civil.Zone)}, 422, "occurredAt", "out_of_range"},
		{"a negative amount", waiting.Dept, civilSecret, c.DeptEvent{EventID: "c6", TaskID: waiting.ID, Type: c.EventApproved, OccurredAt: now, Result: &c.Result{MonthlyAmount: -100}}, 422, "result.monthlyAmount", "out_of_range"},
		{"another case number", c.DeptCDPF, cdpfSecret, c.DeptEvent{EventID: "c9", TaskID: certTask.ID, CaseNo: "CDPF-0002", Type: c.EventApproved, OccurredAt: now, Certificate: good}, 422, "caseNo", "mismatch"},
		{"a blank case number", c.DeptCDPF, cdpfSecret, c.DeptEvent{EventID: "c12", TaskID: certTask.ID, CaseNo: " ", Type: c.EventPublicised, OccurredAt: now}, 422, "caseNo", "invalid_format"},
		{"a padded case number", c.DeptCDPF, cdpfSecret, c.DeptEvent{EventID: "c13", TaskID: certTask.ID, CaseNo: "CDPF-0001 ", Type: c.EventPublicised, OccurredAt: now}, 422, "caseNo", "invalid_format"},
		{"a decision on an item never sent", waiting.Dept, civilSecret, c.DeptEvent{EventID: "c7", TaskID: waiting.ID, Type: c.EventRejected, OccurredAt: now, Reason: &c.Message{ZH: "不符合", EN: "no"}}, 409, "", "illegal_transition"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, resp := f.event(tc.dept, tc.secret, tc.ev)
			e := decodeError(t, resp)
			if status != tc.status || e.Message == "" || e.MessageEn == "" {
				t.Fatalf("%d %s", status, resp)
			}
			if tc.field == "" {
				if e.Code != tc.code {
					t.Fatalf("%d %s", status, resp)
				}
				return
			}
			if e.Code != "validation_failed" || len(e.Details) != 1 || e.Details[0].Field != tc.field || e.Details[0].Code != tc.code {
				t.Fatalf("%d %s", status, resp)
			}
			if strings.Contains(string(resp), "110101199003074514") || strings.Contains(string(resp), "51170219850307123X") {
				t.Fatalf("the reply echoes an ID number: %s", resp)
			}
		})
	}
	after, _ := f.store.Get(context.Background(), acc.ApplicationID)
	if after.Version != app.Version || after.Tasks[0].State != certTask.State || after.Tasks[0].DueDate != "" {
		t.Fatalf("refused events changed the application: version %d -> %d, %+v", app.Version, after.Version, after.Tasks[0])
	}
	ok := c.DeptEvent{EventID: "c8", TaskID: certTask.ID, CaseNo: "CDPF-0001", Type: c.EventApproved, OccurredAt: now, Certificate: good}
	status, resp := f.event(c.DeptCDPF, cdpfSecret, ok)
	var ack c.EventAck
	json.Unmarshal(resp, &ack)
	if status != 200 || ack.Outcome != "applied" || ack.TaskState != c.TaskApproved {
		t.Fatalf("the right approval after the refusals: %d %s", status, resp)
	}
	final, _ := f.store.Get(context.Background(), acc.ApplicationID)
	if w := final.Task(waiting.ID); w.State != c.TaskReady {
		t.Fatalf("the subsidy waiting on the certificate: %s %v", w.State, w.Reason)
	}
	// Once the item is decided, a report about another case or another
	// person is refused all the same (outsider: a late "accepted" naming
	// another case number was recorded as a stale report, a new version
	// pushed; another person's certificate answered duplicate).
	for _, ev := range []c.DeptEvent{
		{EventID: "c10", TaskID: certTask.ID, CaseNo: "CDPF-0002", Type: c.EventAccepted, OccurredAt: now},
		{EventID: "c11", TaskID: certTask.ID, Type: c.EventApproved, OccurredAt: now, Certificate: with(func(c *c.Certificate) { c.Number = "11010119900307451443" })},
	} {
		status, resp := f.event(c.DeptCDPF, cdpfSecret, ev)
		if e := decodeError(t, resp); status != 422 || e.Code != "validation_failed" || len(e.Details) != 1 || e.Details[0].Code != "mismatch" {
			t.Errorf("%s on the decided item: %d %s", ev.EventID, status, resp)
		}
	}
	if after, _ := f.store.Get(context.Background(), acc.ApplicationID); after.Version != final.Version || len(after.Timeline) != len(final.Timeline) {
		t.Errorf("reports of another case or person changed the decided item: version %d -> %d", final.Version, after.Version)
	}
}

func TestHealthAndErrors(t *testing.T) {
	f := newFixture(t)
	if status, _ := f.get("/healthz", ""); status != 200 {
		t.Errorf("healthz %d", status)
	}
	status, body := f.get("/readyz", "")
	if status != 200 || !strings.Contains(string(body), `"ready":true`) {
		t.Errorf("readyz %d %s", status, body)
	}
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/nowhere", nil)
	resp, err := http.DefaultClient.Do(req) // outside the contract on purpose
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || decodeError(t, b).Code != "not_found" {
		t.Errorf("unknown path: %d %s", resp.StatusCode, b)
	}
}

func (f *fixture) postJSON(path, token string, body any) (int, []byte) {
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return f.do(req)
}

func TestGuide(t *testing.T) {
	f := newFixture(t)
	ask := c.GuideRequest{HouseholdDivision: "511702102", Dibao: true,
		Wants: c.GuideWants{Certificate: &c.CertificateRequest{Business: c.ItemCertNew, RequestedCategory: 4}, TwoSubsidies: true, Pension: true, Medical: true}}
	if status, _ := f.postJSON("/v1/guide", "", ask); status != 401 {
		t.Errorf("no token: %d", status)
	}
	status, body := f.postJSON("/v1/guide", readToken, ask)
	var a c.GuideAnswer
	json.Unmarshal(body, &a)
	if status != 200 || a.Online.Offered || len(a.Items) != 5 || a.Trips != 1 {
		t.Fatalf("%d %s", status, body)
	}
	bad := ask
	bad.HouseholdDivision = "12"
	bad.Wants = c.GuideWants{}
	status, body = f.postJSON("/v1/guide", readToken, bad)
	if status != 422 || len(decodeError(t, body).Details) != 2 {
		t.Errorf("invalid guide request: %d %s", status, body)
	}
}

func TestSupplementAndWithdrawErrors(t *testing.T) {
	f := newFixture(t)
	_, body := f.submit("msg_1", example(t))
	var acc c.SubmissionAccepted
	json.Unmarshal(body, &acc)
	post := func(path, id string, v any) (int, []byte) {
		raw, _ := json.Marshal(v)
		return f.do(signed(t, f.srv.URL+path, portalSecret, id, time.Now(), raw))
	}
	base := "/v1/applications/" + acc.ApplicationID
	status, resp := post(base+"/supplements", "s1", c.SupplementSubmission{TaskID: acc.Items[0].TaskID, Materials: []string{"photos"}})
	if status != 409 || decodeError(t, resp).Code != "no_supplement_due" {
		t.Errorf("supplement nobody asked for: %d %s", status, resp)
	}
	if status, _ := post(base+"/supplements", "s2", c.SupplementSubmission{TaskID: acc.Items[0].TaskID}); status != 422 {
		t.Errorf("empty supplement: %d", status)
	}
	// A code not on the checklist (outsider: "bogus" was taken and
	// forwarded, and the corrected supplement after it dropped as a repeat
	// of the round), and one named twice.
	status, resp = post(base+"/supplements", "s2b", c.SupplementSubmission{TaskID: acc.Items[0].TaskID, Materials: []string{"photos", "bogus", "photos"}})
	if e := decodeError(t, resp); status != 422 || len(e.Details) != 2 || e.Details[0].Field != "materials[1]" || e.Details[0].Code != "invalid_choice" ||
		e.Details[1].Field != "materials[2]" || e.Details[1].Code != "conflict" {
		t.Errorf("materials off the checklist: %d %s", status, resp)
	}
	if status, _ := post("/v1/applications/NOPE/supplements", "s3", c.SupplementSubmission{TaskID: "NOPE-1", Materials: []string{"photos"}}); status != 404 {
		t.Errorf("unknown application: %d", status)
	}
	if status, _ := post("/v1/applications/NOPE/withdraw", "w0", c.Withdrawal{}); status != 404 {
		t.Errorf("withdraw unknown: %d", status)
	}
	raw, _ := json.Marshal(c.Withdrawal{})
	if status, _ := f.do(signed(t, f.srv.URL+base+"/withdraw", cdpfSecret, "w1", time.Now(), raw)); status != 401 {
		t.Errorf("withdraw signed by a department: %d", status)
	}
	// A reason with a hidden character reaches the departments and the
	// window: refused, nothing withdrawn.
	for i, why := range []string{"不再\u202e需要", "不再需要\a", strings.Repeat("长", 201)} {
		status, resp := post(base+"/withdraw", fmt.Sprintf("w1b%d", i), c.Withdrawal{Reason: why})
		if e := decodeError(t, resp); status != 422 || len(e.Details) != 1 || e.Details[0].Field != "reason" {
			t.Errorf("withdrawal reason %q: %d %s", why, status, resp)
		}
	}
	status, resp = post(base+"/withdraw", "w2", c.Withdrawal{Reason: "不再需要"})
	var res c.WithdrawalResult
	json.Unmarshal(resp, &res)
	if status != 200 || len(res.Cancelled) != 5 || len(res.Notified) != 0 || res.Status != c.AppWithdrawn {
		t.Errorf("withdraw before any dispatch: %d %s", status, resp)
	}
	var v c.ApplicationView
	status, resp = f.get(base, readToken)
	if json.Unmarshal(resp, &v); status != 200 || v.Status.State != c.AppWithdrawn || v.Status.Counts[c.TaskCancelled] != 5 {
		t.Errorf("the view after the withdrawal: %d %s", status, resp)
	}
	if status, _ := post(base+"/withdraw", "w3", c.Withdrawal{}); status != 409 {
		t.Errorf("withdraw again: %d", status)
	}
}

func TestAdminRoutesNeedTheAdminToken(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/v1/admin/dead-letters", "/v1/admin/breakers"} {
		// A read token is a valid credential of another role: 403.
		if status, _ := f.get(path, readToken); status != 403 {
			t.Errorf("%s with a read token: %d", path, status)
		}
		if status, _ := f.get(path, "not-a-configured-token"); status != 401 {
			t.Errorf("%s with an unknown token: %d", path, status)
		}
	}
}

func TestDeadLettersAdmin(t *testing.T) {
	f := newFixture(t)
	_, body := f.submit("msg_1", example(t))
	var acc c.SubmissionAccepted
	json.Unmarshal(body, &acc)
	ctx := context.Background()
	// Park the medical task as the worker would after a refusal.
	task := acc.Items[4]
	f.store.Update(ctx, acc.ApplicationID, "", func(a *c.Application) ([]store.Job, error) {
		return nil, f.engine.Flow.DispatchFailed(a, task.TaskID, 1, "medical: HTTP 422 invalid_request", true)
	})
	job := store.Job{ID: store.DispatchJobID(task.TaskID, 1), Kind: store.JobDispatch, AppID: acc.ApplicationID, TaskID: task.TaskID, Dept: "medical", Attempt: 1, LastError: "medical: HTTP 422 invalid_request"}
	if err := f.store.Park(ctx, job); err != nil {
		t.Fatal(err)
	}
	status, resp := f.get("/v1/admin/dead-letters?dept=medical", adminToken)
	var list c.DeadLetterList
	json.Unmarshal(resp, &list)
	if status != 200 || len(list.DeadLetters) != 1 || list.DeadLetters[0].TaskID != task.TaskID || list.DeadLetters[0].TaskState != c.TaskDeadLetter {
		t.Fatalf("list: %d %s", status, resp)
	}
	if status, resp := f.get("/v1/admin/dead-letters?dept=cdpf", adminToken); status != 200 || strings.Contains(string(resp), task.TaskID) {
		t.Errorf("filtered list: %d %s", status, resp)
	}
	if status, _ := f.get("/v1/admin/dead-letters?dept=police", adminToken); status != 422 {
		t.Errorf("unknown department: %d", status)
	}
	if status, _ := f.get("/v1/admin/dead-letters/"+task.TaskID, adminToken); status != 200 {
		t.Errorf("inspect: %d", status)
	}
	if status, _ := f.postJSON("/v1/admin/dead-letters/replay", adminToken, nil); status != 422 {
		t.Errorf("replay without a department or all=true: %d", status)
	}
	// Only the literal true replays everything, as the contract says
	// (outsider: all=TRUE and all=1 replayed every dead letter).
	for _, v := range []string{"TRUE", "True", "1", "t", "yes", "true&all=false", "false&all=true"} {
		if status, _ := f.postJSON("/v1/admin/dead-letters/replay?all="+v, adminToken, nil); status != 422 {
			t.Errorf("replay with all=%s: %d; want 422", v, status)
		}
	}
	status, resp = f.postJSON("/v1/admin/dead-letters/"+task.TaskID+"/replay", adminToken, nil)
	var res c.ReplayResult
	json.Unmarshal(resp, &res)
	if status != 202 || len(res.Replayed) != 1 {
		t.Fatalf("replay: %d %s", status, resp)
	}
	app, _ := f.store.Get(ctx, acc.ApplicationID)
	if app.Task(task.TaskID).State != c.TaskReady {
		t.Errorf("after replay the task is %s", app.Task(task.TaskID).State)
	}
	if status, _ := f.postJSON("/v1/admin/dead-letters/"+task.TaskID+"/replay", adminToken, nil); status != 404 {
		t.Errorf("second replay: %d", status)
	}
	status, resp = f.get("/v1/admin/breakers", adminToken)
	if status != 200 || !strings.Contains(string(resp), `"cdpf"`) {
		t.Errorf("breakers: %d %s", status, resp)
	}
}

// Through the portal's door: a submission whose portalRef is an ID number
// is refused and the reply does not echo it.
func TestPortalRefAnIDNumberIsRefused(t *testing.T) {
	f := newFixture(t)
	var sub map[string]any
	json.Unmarshal(example(t), &sub)
	sub["portalRef"] = "51170219850307123X"
	body, _ := json.Marshal(sub)
	status, resp := f.submit("msg_ref", body)
	e := decodeError(t, resp)
	if status != 422 || e.Code != "validation_failed" || len(e.Details) != 1 || e.Details[0].Field != "portalRef" {
		t.Fatalf("%d %s", status, resp)
	}
	if strings.Contains(string(resp), "51170219850307123") {
		t.Fatalf("the reply echoes the number: %s", resp)
	}
}

// A body of the wrong shape is named in the contract's words, Chinese and
// English, never by a Go type (outsider: "应为 int", "应为 time.Time",
// "应为 contracts.Submission" with field "?"; a body of null was judged
// field by field as an empty submission: 422 with 17 problems).
func TestWrongTypesInTheContractsWords(t *testing.T) {
	f := newFixture(t)
	var base map[string]any
	json.Unmarshal(example(t), &base)
	for i, tc := range []struct {
		name  string
		body  func() []byte
		field string
		zh    string
	}{
		{"null", func() []byte { return []byte("null") }, "", "请求体应为 JSON 对象"},
		{"an array", func() []byte { return []byte("[]") }, "", "请求体应为 JSON 对象"},
		{"a string", func() []byte { return []byte(`"x"`) }, "", "请求体应为 JSON 对象"},
		{"a number for a boolean", func() []byte {
			m := maps.Clone(base)
			app := maps.Clone(m["applicant"].(map[string]any))
			app["dibao"] = 1
			m["applicant"] = app
			b, _ := json.Marshal(m)
			return b
		}, "applicant.dibao", "true 或 false"},
		{"a time without its offset", func() []byte {
			m := maps.Clone(base)
			m["submittedAt"] = "2026-12-05T09:30:00"
			b, _ := json.Marshal(m)
			return b
		}, "submittedAt", "带时区的日期时间"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, resp := f.submit(fmt.Sprintf("msg_wt%d", i), tc.body())
			e := decodeError(t, resp)
			if status != 400 || e.Code != "malformed_json" || len(e.Details) != 1 {
				t.Fatalf("%d %s", status, resp)
			}
			d := e.Details[0]
			if d.Field != tc.field || d.Code != "wrong_type" || !strings.Contains(d.Message, tc.zh) || d.MessageEn == "" {
				t.Fatalf("%+v", d)
			}
			if regexp.MustCompile(`\b(int|bool|string|time\.Time|contracts\.\w+|float64)\b`).MatchString(d.Message + " " + d.MessageEn + " " + e.Message) {
				t.Fatalf("a Go type named: %+v", d)
			}
		})
	}
}

// The error examples of contracts/ are what the gateway answers, word for
// word (outsider: their messages differed from the real ones): the invalid
// submission's 422 and a wrong signature's 401, but for the request id.
func TestErrorExamplesAreTheRealAnswers(t *testing.T) {
	f := newFixture(t)
	invalid, err := c.Example("submission-invalid.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		example string
		status  int
		req     *http.Request
	}{
		{"error-validation.json", 422, signed(t, f.srv.URL+"/v1/portal/submissions", portalSecret, "msg_ex1", time.Now(), invalid)},
		{"error-unauthorized.json", 401, signed(t, f.srv.URL+"/v1/portal/submissions", civilSecret, "msg_ex2", time.Now(), example(t))},
	} {
		status, resp := f.do(tc.req)
		want, _ := c.Example(tc.example)
		var got, exp c.Error
		json.Unmarshal(resp, &got)
		json.Unmarshal(want, &exp)
		got.RequestID, exp.RequestID = "", ""
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(exp)
		if status != tc.status || !bytes.Equal(g, w) {
			t.Errorf("%s: the gateway answers %d %s\nthe example says %s", tc.example, status, g, w)
		}
	}
}
