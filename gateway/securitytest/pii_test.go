package securitytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	c "onething/contracts"
	"onething/gateway/devstack"
	"onething/gateway/service"
)

// The example applicant (contracts/examples/submission-full.json).
var personal = map[string]string{
	"ID number": "51170219850307123X",
	"mobile":    "13881801234",
	"name":      "张志明",
}

// lockedBuffer collects the log lines of every goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// recorder keeps every response the test sees.
type recorder struct {
	t   *testing.T
	mu  sync.Mutex
	all []exchange
}

type exchange struct {
	what   string
	status int
	header http.Header
	body   []byte
	// authorised full-record read: its reply is meant to hold the data.
	fullRecord bool
}

func (r *recorder) do(what string, req *http.Request) (int, []byte) {
	r.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatalf("%s: %v", what, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r.mu.Lock()
	r.all = append(r.all, exchange{what: what, status: resp.StatusCode, header: resp.Header, body: b})
	r.mu.Unlock()
	return resp.StatusCode, b
}

func (r *recorder) get(what, url, token string) (int, []byte) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return r.do(what, req)
}

func (r *recorder) signed(what string, st *devstack.Stack, path, secret, id string, body []byte) (int, []byte) {
	r.t.Helper()
	resp, err := devstack.PostSigned(st.GatewayURL+path, secret, id, body)
	if err != nil {
		r.t.Fatalf("%s: %v", what, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r.mu.Lock()
	r.all = append(r.all, exchange{what: what, status: resp.StatusCode, header: resp.Header, body: b})
	r.mu.Unlock()
	return resp.StatusCode, b
}

// TestNoPersonalDataInLogsOrReplies runs the main case through the whole
// chain (gateway, four mock departments, mock portal), with refused and
// malformed submissions of the same person on the way, and scans every log
// line and every reply the test saw for the applicant's ID number, mobile
// number and name. Only the replies of authorised full-record reads are
// left out (they exist to show the record, and are audited).
func TestNoPersonalDataInLogsOrReplies(t *testing.T) {
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	st, err := devstack.Start(devstack.Options{
		Dir: t.TempDir(), Delay: 10 * time.Millisecond, Log: log,
		Tune: func(cfg *service.Config) {
			cfg.BaseBackoff, cfg.MaxBackoff = service.Duration(20*time.Millisecond), service.Duration(200*time.Millisecond)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			st.Stop()
		}
	}()
	rec := &recorder{t: t}
	full, err := c.Example("submission-full.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(full, []byte(personal["ID number"])) || !bytes.Contains(full, []byte(personal["mobile"])) || !bytes.Contains(full, []byte(personal["name"])) {
		t.Fatal("the example no longer holds the personal data this test looks for")
	}
	const sub = "/v1/portal/submissions"

	// Refused and malformed deliveries of the same person.
	variant := func(from, to string) []byte {
		b := bytes.Replace(full, []byte(from), []byte(to), 1)
		if bytes.Equal(b, full) {
			t.Fatalf("example layout changed: %q not found", from)
		}
		return b
	}
	bad := []struct {
		name string
		body []byte
		want int
	}{
		{"invalid mobile", variant(`"mobile": "13881801234"`, `"mobile": "13881801234-9"`), 422},
		{"no name but the rest", variant(`"name": "张志明"`, `"name": "张志明1"`), 422},
		{"wrong type", variant(`"mobile": "13881801234"`, `"mobile": 13881801234`), 400},
		{"unknown field", variant(`"mobile": "13881801234"`, `"mobile": "13881801234", "idNo": "51170219850307123X"`), 400},
		{"duplicate key", variant(`"mobile": "13881801234"`, `"mobile": "13881801234", "mobile": "13881801234"`), 400},
		{"cut after the ID number", full[:bytes.Index(full, []byte(personal["ID number"]))+len(personal["ID number"])+2], 400},
		{"trailing data", append(bytes.Clone(full), []byte(`]"51170219850307123X"`)...), 400},
	}
	for i, b := range bad {
		if status, resp := rec.signed(b.name, st, sub, st.PortalSecret, fmt.Sprintf("msg_bad_%d", i), b.body); status != b.want {
			t.Errorf("%s: %d, want %d: %s", b.name, status, b.want, resp)
		}
	}
	if status, _ := rec.signed("wrong secret", st, sub, devstack.NewSecret(), "msg_wrong", full); status != 401 {
		t.Errorf("wrong secret: %d", status)
	}

	// The main case, end to end.
	status, body := rec.signed("submission", st, sub, st.PortalSecret, "msg_main", full)
	if status != 202 {
		t.Fatalf("submission: %d %s", status, body)
	}
	var acc c.SubmissionAccepted
	json.Unmarshal(body, &acc)
	rec.signed("repeat", st, sub, st.PortalSecret, "msg_main", full)
	rec.signed("same case, new delivery", st, sub, st.PortalSecret, "msg_main_2", full)
	if status, _ := rec.signed("replayed id, other body", st, sub, st.PortalSecret, "msg_main", variant(`"SCZW-FCZK-20261012-000318"`, `"SCZW-FCZK-20261012-999999"`)); status != 409 {
		t.Errorf("replayed webhook-id: %d", status)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		status, body := rec.get("status", st.GatewayURL+"/v1/applications/"+acc.ApplicationID, st.ReadToken)
		var v c.ApplicationView
		json.Unmarshal(body, &v)
		if status == 200 && v.Status.State == c.AppCompleted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the main case did not complete: %d %s", status, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	rec.get("status, no token", st.GatewayURL+"/v1/applications/"+acc.ApplicationID, "")
	rec.get("status, admin token", st.GatewayURL+"/v1/applications/"+acc.ApplicationID, st.AdminToken)
	withdraw, _ := json.Marshal(c.Withdrawal{Reason: "张志明不再需要，电话13881801234"})
	rec.signed("withdraw a finished case", st, "/v1/applications/"+acc.ApplicationID+"/withdraw", st.PortalSecret, "msg_w", withdraw)
	ev, _ := json.Marshal(c.DeptEvent{EventID: "forged", TaskID: acc.Items[0].TaskID, Type: c.EventRejected, OccurredAt: time.Now(),
		Reason: &c.Message{ZH: "张志明 51170219850307123X", EN: "x"}})
	rec.signed("event signed by the portal", st, "/v1/departments/cdpf/events", st.PortalSecret, "ev_forged", ev)
	guide, _ := json.Marshal(c.GuideRequest{HouseholdDivision: "511702102", Dibao: true, Wants: c.GuideWants{Pension: true, Medical: true}})
	req, _ := http.NewRequest(http.MethodPost, st.GatewayURL+"/v1/guide", bytes.NewReader(guide))
	req.Header.Set("Authorization", "Bearer "+st.ReadToken)
	req.Header.Set("Content-Type", "application/json")
	rec.do("guide", req)
	for _, p := range []string{"/v1/admin/breakers", "/v1/admin/dead-letters"} {
		rec.get(p, st.GatewayURL+p, st.AdminToken)
	}
	rec.get("search by ID number", st.GatewayURL+"/v1/applications?idNumber="+personal["ID number"], st.ReadToken)
	rec.get("readyz", st.GatewayURL+"/readyz", "")
	rec.get("metrics", st.GatewayURL+"/metrics", "")
	rec.get("portal pushes", st.MockURLs["portal"]+"/_mock/pushes", "")
	for _, d := range c.Depts {
		rec.get(string(d)+" stats", st.MockURLs[string(d)]+"/_mock/stats", "")
	}

	// The audited full-record read (part A), where the gateway has it: its
	// authorised reply holds the record and is left out of the scan; a
	// refused one is scanned like the rest.
	status, body = rec.get("full record", st.GatewayURL+"/v1/applications/"+acc.ApplicationID+"/record?reason=window+visit", st.ReadToken)
	switch status {
	case 200:
		rec.all[len(rec.all)-1].fullRecord = true
		if !bytes.Contains(body, []byte(personal["ID number"])) {
			t.Errorf("the full record does not show the ID number: the scan would prove nothing")
		}
	case 404:
		t.Log("no full-record endpoint in this build")
	default:
		t.Errorf("full record: %d %s", status, body)
	}
	rec.get("full record, admin of no town", st.GatewayURL+"/v1/applications/"+acc.ApplicationID+"/record", st.AdminToken)

	if err := st.Stop(); err != nil {
		t.Logf("stop: %v", err)
	}
	stopped = true

	// The scan.
	text := logs.String()
	if !strings.Contains(text, acc.ApplicationID) {
		t.Fatal("the logs do not mention the application: nothing was captured")
	}
	for what, value := range personal {
		for i, line := range strings.Split(text, "\n") {
			if strings.Contains(line, value) {
				t.Errorf("log line %d discloses the %s: %s", i+1, what, line)
			}
		}
	}
	scanned := 0
	for _, ex := range rec.all {
		if ex.fullRecord {
			continue
		}
		scanned++
		var hdr strings.Builder
		ex.header.Write(&hdr)
		for what, value := range personal {
			if bytes.Contains(ex.body, []byte(value)) || strings.Contains(hdr.String(), value) {
				t.Errorf("%s (%d) discloses the %s: %.300s", ex.what, ex.status, what, ex.body)
			}
		}
	}
	t.Logf("scanned %d log bytes and %d replies", len(text), scanned)
	if testing.Verbose() {
		t.Log(text)
	}
}
