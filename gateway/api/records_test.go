package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	c "onething/contracts"
	"onething/contracts/contracttest"
	"onething/gateway/api"
	"onething/gateway/auth"
	"onething/gateway/calendar"
	"onething/gateway/engine"
	"onething/gateway/store"
	"onething/gateway/store/storetest"
	"onething/gateway/workflow"
)

// Personal data and audit over HTTP: the full-record read (reason
// required, audited first), the search by ID number (masked), the audit
// of admin actions and the audit log, which the API cannot alter.

const (
	recPortalSecret = "whsec_MfKQ9r8GKYqrTAjgPfnvNnRvXgvtdGd6zmoWQpZMHbk="
	recDistrict     = "records-district-office-token"  // read token: district-office staff
	recLuojiang     = "records-luojiang-window-token"  // staff of 罗江镇 (the example's household)
	recDongcheng    = "records-dongcheng-window-token" // staff of 东城街道
	recPortal       = "records-portal-bearer-token-00"
	recAdmin        = "records-admin-operator-token-0"

	exampleID    = "51170219850307123X"
	exampleName  = "张志明"
	examplePhone = "13881801234"
)

type recFixture struct {
	t     *testing.T
	srv   *httptest.Server
	store *auditSwitch
	http  *http.Client
	logs  *strings.Builder
	mu    *sync.Mutex
}

// auditSwitch is the store, whose audit log can be made to fail.
type auditSwitch struct {
	store.Store
	mu   sync.Mutex
	down bool
}

func (a *auditSwitch) AppendAudit(ctx context.Context, e c.AuditEntry) (c.AuditEntry, error) {
	a.mu.Lock()
	down := a.down
	a.mu.Unlock()
	if down {
		return c.AuditEntry{}, errors.New("audit log down")
	}
	return a.Store.AppendAudit(ctx, e)
}

type syncWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func newRecFixture(t *testing.T) *recFixture {
	t.Helper()
	return newRecFixtureOn(t, storetest.SealedBolt(t))
}

// newRecFixtureOn is newRecFixture on a given store.
func newRecFixtureOn(t *testing.T, st store.Store) *recFixture {
	t.Helper()
	sw := &auditSwitch{Store: st}
	logs, mu := &strings.Builder{}, &sync.Mutex{}
	eng := &engine.Engine{Store: sw, Flow: workflow.New(calendar.Default())}
	h, err := api.New(api.Config{
		Engine: eng, PortalSecrets: []string{recPortalSecret}, Log: slog.New(slog.NewTextHandler(syncWriter{mu, logs}, nil)),
		ReadTokens: []string{recDistrict}, AdminTokens: []string{recAdmin},
		Tokens: []auth.StaticToken{
			{Token: recLuojiang, Role: auth.RoleStaff, Towns: []string{"511702102"}, Subject: "luojiang-window"},
			{Token: recDongcheng, Role: auth.RoleStaff, Towns: []string{"511702001"}, Subject: "dongcheng-window"},
			{Token: recPortal, Role: auth.RolePortal, Subject: "portal-reader"},
		},
		Breakers: func() map[string]c.BreakerStatus { return map[string]c.BreakerStatus{} },
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	checker := contracttest.New(t, "gateway")
	return &recFixture{t: t, srv: srv, store: sw, logs: logs, mu: mu, http: &http.Client{Transport: checker.Transport(http.DefaultTransport)}}
}

func (f *recFixture) submitExample() string {
	f.t.Helper()
	body, err := c.Example("submission-full.json")
	if err != nil {
		f.t.Fatal(err)
	}
	wh, _ := standardwebhooks.NewWebhook(recPortalSecret)
	now := time.Now()
	sig, _ := wh.Sign("msg_records_1", now, body)
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/v1/portal/submissions", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", "msg_records_1")
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	status, out := f.send(req)
	if status != http.StatusAccepted {
		f.t.Fatalf("submit: %d %s", status, out)
	}
	var acc c.SubmissionAccepted
	json.Unmarshal(out, &acc)
	return acc.ApplicationID
}

func (f *recFixture) send(req *http.Request) (int, []byte) {
	f.t.Helper()
	resp, err := f.http.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

func (f *recFixture) call(method, token, path string) (int, []byte) {
	f.t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return f.send(req)
}

// auditLog reads the whole audit log straight from the store, newest first.
func (f *recFixture) auditLog() []c.AuditEntry {
	f.t.Helper()
	es, _, err := f.store.Audit(context.Background(), store.AuditQuery{Limit: store.MaxAuditLimit})
	if err != nil {
		f.t.Fatal(err)
	}
	return es
}

func noPersonalData(t *testing.T, what string, body []byte) {
	t.Helper()
	for _, s := range []string{exampleID, exampleID[:17], exampleName, examplePhone, "龙潭村"} {
		if strings.Contains(string(body), s) {
			t.Errorf("%s shows %q: %s", what, s, body)
		}
	}
}

func TestFullRecordReadNeedsAReasonAndIsAudited(t *testing.T) {
	f := newRecFixture(t)
	id := f.submitExample()
	path := "/v1/applications/" + id + "/record"

	// No reason, a blank one, or one carrying personal data: 422, nothing shown, nothing audited.
	for _, q := range []string{"", "?reason=", "?reason=%20%20", "?reason=" + url.QueryEscape("核对 "+exampleID), "?reason=" + url.QueryEscape("回电 "+examplePhone),
		"?reason=" + strings.Repeat("长", 201)} {
		status, body := f.call("GET", recDistrict, path+q)
		if status != http.StatusUnprocessableEntity {
			t.Errorf("record%s: %d, want 422", q, status)
		}
		noPersonalData(t, "a refused record read", body)
	}
	// The same numbers in the spellings an outside review got past the
	// API (the console's rule is the API's: one function).
	for _, reason := range []string{"核对 ５１１７０２１９８００２０２５５６９", "核对 5117 0219 8002 0255 69", "回电 136-9876-5432",
		"回电 １３６９８７６５４３２", "回电 +86 136 9876 5432", "回电 一三六九八七六五四三二", "回电 136/9876/5432", "回电 136_9876_5432"} {
		q := "?reason=" + url.QueryEscape(reason)
		status, body := f.call("GET", recDistrict, path+q)
		if status != http.StatusUnprocessableEntity {
			t.Errorf("record%s: %d, want 422", q, status)
		}
		noPersonalData(t, "a refused record read", body)
	}
	if n := len(f.auditLog()); n != 0 {
		t.Fatalf("refused reads were audited: %d entries", n)
	}

	// With a reason: served in full, audited first.
	status, body := f.call("GET", recLuojiang, path+"?reason="+url.QueryEscape("核对残疾人证申请材料"))
	if status != http.StatusOK {
		t.Fatalf("record with a reason: %d %s", status, body)
	}
	var rec c.ApplicationRecord
	if err := json.Unmarshal(body, &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Applicant.IDNumber != exampleID || rec.Applicant.Name != exampleName || rec.Applicant.Mobile != examplePhone ||
		rec.Requests.Certificate == nil || rec.Requests.Certificate.Note == "" || len(rec.Tasks) != 5 || rec.AuditID == "" {
		t.Errorf("the record is not the full application: %s", body)
	}
	log := f.auditLog()
	if len(log) != 1 {
		t.Fatalf("audit log after one read: %+v", log)
	}
	e := log[0]
	if e.ID != rec.AuditID || e.Action != c.AuditRecordRead || e.Subject != "token:luojiang-window" || e.Role != "staff" ||
		e.ApplicationID != id || e.Reason != "核对残疾人证申请材料" || e.Route != "/v1/applications/:id/record" || e.Method != "GET" || e.RequestID == "" {
		t.Errorf("audit entry %+v", e)
	}
	noPersonalData(t, "the audit entry", mustJSON(e))

	// Out of scope, wrong role, no credential: refused, not audited.
	if status, body := f.call("GET", recDongcheng, path+"?reason=x"); status != http.StatusNotFound {
		t.Errorf("staff of another town: %d %s", status, body)
	}
	if status, _ := f.call("GET", recPortal, path+"?reason=x"); status != http.StatusForbidden {
		t.Errorf("the portal: %d, want 403", status)
	}
	if status, _ := f.call("GET", "", path+"?reason=x"); status != http.StatusUnauthorized {
		t.Errorf("no credential: %d, want 401", status)
	}
	if status, _ := f.call("GET", recAdmin, "/v1/applications/01NOSUCHAPPLICATION0000000/record?reason=x"); status != http.StatusNotFound {
		t.Errorf("no such application: %d", status)
	}
	if n := len(f.auditLog()); n != 1 {
		t.Errorf("refused reads were audited: %d entries", n)
	}
	// Admins read every record.
	if status, _ := f.call("GET", recAdmin, path+"?reason=incident"); status != http.StatusOK {
		t.Errorf("admin: %d", status)
	}

	// The audit log cannot be written: the record is not served.
	f.store.mu.Lock()
	f.store.down = true
	f.store.mu.Unlock()
	status, body = f.call("GET", recDistrict, path+"?reason=x")
	if status != http.StatusServiceUnavailable || !strings.Contains(string(body), "audit_unavailable") {
		t.Errorf("record with the audit log down: %d %s", status, body)
	}
	noPersonalData(t, "a record read with the audit log down", body)
	for _, p := range []string{"/v1/admin/dead-letters", "/v1/admin/audit", "/v1/admin/breakers"} {
		if status, _ := f.call("GET", recAdmin, p); status != http.StatusServiceUnavailable {
			t.Errorf("%s with the audit log down: %d, want 503", p, status)
		}
	}

	// The log never holds the applicant's data.
	f.mu.Lock()
	logs := f.logs.String()
	f.mu.Unlock()
	noPersonalData(t, "the gateway's log", []byte(logs))
}

func TestSearchByIDNumber(t *testing.T) {
	f := newRecFixture(t)
	id := f.submitExample()
	status, body := f.call("GET", recDistrict, "/v1/applications?idNumber="+exampleID)
	if status != http.StatusOK {
		t.Fatalf("search: %d %s", status, body)
	}
	var list c.ApplicationList
	json.Unmarshal(body, &list)
	if len(list.Applications) != 1 || list.Applications[0].ApplicationID != id ||
		list.Applications[0].Applicant.IDNumber != "5117**********123X" || list.Applications[0].Applicant.Name != "张**" ||
		len(list.Applications[0].Items) != 5 {
		t.Errorf("search result %s", body)
	}
	noPersonalData(t, "the search result", body)
	// Lower-case x finds it too; staff of another town see nothing.
	if _, body := f.call("GET", recLuojiang, "/v1/applications?idNumber="+strings.ToLower(exampleID)); !strings.Contains(string(body), id) {
		t.Errorf("lower-case x: %s", body)
	}
	if _, body := f.call("GET", recDongcheng, "/v1/applications?idNumber="+exampleID); strings.Contains(string(body), id) {
		t.Errorf("staff of another town found the application: %s", body)
	}
	if _, body := f.call("GET", recDistrict, "/v1/applications?idNumber=110101199003074514"); strings.Contains(string(body), id) {
		t.Errorf("another person's search found it: %s", body)
	}
	for _, q := range []string{"", "?idNumber=", "?idNumber=511702198503071230", "?idNumber=12345"} {
		status, body := f.call("GET", recDistrict, "/v1/applications"+q)
		if status != http.StatusUnprocessableEntity {
			t.Errorf("search%s: %d, want 422", q, status)
		}
		noPersonalData(t, "a refused search", body)
	}
	if status, _ := f.call("GET", recPortal, "/v1/applications?idNumber="+exampleID); status != http.StatusForbidden {
		t.Errorf("the portal searched: %d, want 403", status)
	}
	// Every search is audited, the number masked.
	log := f.auditLog()
	if len(log) != 4 {
		t.Fatalf("audit entries after 4 searches: %d", len(log))
	}
	for _, e := range log {
		if e.Action != c.AuditSearch || e.Query != "idNumber=5117**********123X" && e.Query != "idNumber=1101**********4514" {
			t.Errorf("search audit entry %+v", e)
		}
		noPersonalData(t, "a search's audit entry", mustJSON(e))
	}
}

// The posted search (the number in the body) answers as the GET does,
// with the same scopes, refusals and audit, and its reason checked.
func TestSearchByIDNumberPosted(t *testing.T) {
	f := newRecFixture(t)
	id := f.submitExample()
	post := func(token, body string) (int, []byte) {
		req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/v1/applications/search", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		return f.send(req)
	}
	example, err := c.Example("application-search.json")
	if err != nil {
		t.Fatal(err)
	}
	status, body := post(recDistrict, string(example))
	var list c.ApplicationList
	json.Unmarshal(body, &list)
	if status != http.StatusOK || len(list.Applications) != 1 || list.Applications[0].ApplicationID != id {
		t.Fatalf("posted search: %d %s", status, body)
	}
	noPersonalData(t, "the search result", body)
	if _, body := post(recDongcheng, `{"idNumber":"`+exampleID+`"}`); strings.Contains(string(body), id) {
		t.Errorf("staff of another town found the application: %s", body)
	}
	for _, tc := range []struct {
		body string
		want int
	}{
		{`{}`, http.StatusUnprocessableEntity},
		{`{"idNumber":"511702198503071230"}`, http.StatusUnprocessableEntity},
		{`{"idNumber":"` + exampleID + `","reason":"核对 13881801234"}`, http.StatusUnprocessableEntity},
		{`{"idNumber":"` + exampleID + `","idNumber":"110101199003074514"}`, http.StatusBadRequest},
		{`{"idNumber":"` + exampleID + `","extra":1}`, http.StatusBadRequest},
		{`not json`, http.StatusBadRequest},
	} {
		status, body := post(recDistrict, tc.body)
		if status != tc.want {
			t.Errorf("%s: %d, want %d", tc.body, status, tc.want)
		}
		noPersonalData(t, "a refused search", body)
	}
	if status, _ := post(recPortal, string(example)); status != http.StatusForbidden {
		t.Errorf("the portal searched: %d, want 403", status)
	}
	// Audited as the GET is: the two searches that ran, the number masked,
	// the example's reason kept.
	log := f.auditLog()
	if len(log) != 2 {
		t.Fatalf("audit entries after 2 searches: %d", len(log))
	}
	for _, e := range log {
		if e.Action != c.AuditSearch || e.Query != "idNumber=5117**********123X" {
			t.Errorf("search audit entry %+v", e)
		}
	}
	if log[1].Reason != "申请人到窗口查询办理进度" {
		t.Errorf("the reason of the first search: %q", log[1].Reason)
	}
}

func TestAdminActionsAreAudited(t *testing.T) {
	f := newRecFixture(t)
	steps := []struct {
		method, path string
		action       string
		task         string
	}{
		{"GET", "/v1/admin/breakers", c.AuditBreakers, ""},
		{"GET", "/v1/admin/dead-letters?dept=civil&reason=" + url.QueryEscape("每日巡检"), c.AuditDeadLetters, ""},
		{"GET", "/v1/admin/dead-letters/01M4PVP9CG84G7ZWYRD6Z1RV0W-4", c.AuditDeadLetter, "01M4PVP9CG84G7ZWYRD6Z1RV0W-4"},
		{"POST", "/v1/admin/dead-letters/01M4PVP9CG84G7ZWYRD6Z1RV0W-4/replay", c.AuditReplay, "01M4PVP9CG84G7ZWYRD6Z1RV0W-4"},
		{"POST", "/v1/admin/dead-letters/replay?dept=medical", c.AuditReplay, ""},
		{"GET", "/v1/admin/audit?limit=10", c.AuditQueryAction, ""},
	}
	for _, s := range steps {
		if status, body := f.call(s.method, recAdmin, s.path); status >= 500 || status == 401 || status == 403 {
			t.Fatalf("%s %s: %d %s", s.method, s.path, status, body)
		}
	}
	log := f.auditLog()
	if len(log) != len(steps) {
		t.Fatalf("%d audit entries for %d admin actions: %+v", len(log), len(steps), log)
	}
	for i, s := range steps {
		e := log[len(log)-1-i]
		if e.Action != s.action || e.TaskID != s.task || e.Subject != "token:admin#1" || e.Role != "admin" || e.Method != s.method {
			t.Errorf("entry for %s %s: %+v", s.method, s.path, e)
		}
	}
	if e := log[len(log)-2]; e.Reason != "每日巡检" || e.Dept != c.DeptCivil {
		t.Errorf("dead-letter listing entry: %+v", e)
	}
	if e := log[len(log)-3]; e.ApplicationID != "01M4PVP9CG84G7ZWYRD6Z1RV0W" {
		t.Errorf("a dead letter's entry names its application: %+v", e)
	}
	// Non-admins get no admin action and leave no entry.
	for _, tok := range []string{recDistrict, recLuojiang, recPortal} {
		if status, _ := f.call("GET", tok, "/v1/admin/dead-letters"); status != http.StatusForbidden {
			t.Errorf("dead letters by a non-admin: %d", status)
		}
	}
	if n := len(f.auditLog()); n != len(steps) {
		t.Errorf("refused admin calls were audited: %d entries", n)
	}
}

func TestAuditLogQueryAndAppendOnly(t *testing.T) {
	f := newRecFixture(t)
	id := f.submitExample()
	for i := 0; i < 3; i++ {
		f.call("GET", recLuojiang, "/v1/applications/"+id+"/record?reason="+url.QueryEscape("第"+strconv.Itoa(i)+"次核对"))
	}
	f.call("GET", recDistrict, "/v1/applications?idNumber="+exampleID)

	page := func(q string) c.AuditPage {
		t.Helper()
		status, body := f.call("GET", recAdmin, "/v1/admin/audit"+q)
		if status != http.StatusOK {
			t.Fatalf("audit%s: %d %s", q, status, body)
		}
		var p c.AuditPage
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	all := page("")
	// Newest first: this query itself, the search, then the three reads.
	if len(all.Entries) != 5 || all.Entries[0].Action != c.AuditQueryAction || all.Entries[1].Action != c.AuditSearch ||
		all.Entries[2].Reason != "第2次核对" || all.Entries[4].Reason != "第0次核对" || all.Next != "" {
		t.Fatalf("audit log: %+v", all)
	}
	bySubject := page("?subject=token:luojiang-window")
	if len(bySubject.Entries) != 3 {
		t.Errorf("by subject: %+v", bySubject)
	}
	byApp := page("?applicationId=" + id + "&limit=2")
	if len(byApp.Entries) != 2 || byApp.Next == "" {
		t.Fatalf("by application, 2 a page: %+v", byApp)
	}
	rest := page("?applicationId=" + id + "&limit=2&cursor=" + url.QueryEscape(byApp.Next))
	// The second page: the remaining read, and maybe more queries of this
	// application (each query by applicationId names it).
	seen := map[string]bool{}
	for _, e := range append(byApp.Entries, rest.Entries...) {
		if seen[e.ID] {
			t.Errorf("entry %s on two pages", e.ID)
		}
		seen[e.ID] = true
		if e.ApplicationID != id {
			t.Errorf("entry of another application: %+v", e)
		}
	}
	from := all.Entries[3].At.Format(time.RFC3339Nano)
	ranged := page("?from=" + url.QueryEscape(from) + "&subject=token:luojiang-window")
	// Entries of one millisecond share a time: count what the log holds
	// from that instant on for the subject, not a fixed number.
	want := 0
	for _, e := range all.Entries {
		if e.Subject == "token:luojiang-window" && !e.At.Before(all.Entries[3].At) {
			want++
		}
	}
	if len(ranged.Entries) != want || want < 2 {
		t.Errorf("from %s: %d entries, want %d: %+v", from, len(ranged.Entries), want, ranged)
	}
	for _, q := range []string{"?limit=0", "?limit=501", "?from=yesterday", "?cursor=nonsense", "?subject=" + exampleID, "?applicationId=a%20b"} {
		if status, body := f.call("GET", recAdmin, "/v1/admin/audit"+q); status != http.StatusUnprocessableEntity {
			t.Errorf("audit%s: %d, want 422", q, status)
		} else {
			noPersonalData(t, "a refused audit query", body)
		}
	}
	if status, _ := f.call("GET", recDistrict, "/v1/admin/audit"); status != http.StatusForbidden {
		t.Errorf("staff read the audit log: %d", status)
	}

	// Nothing in the API changes or removes an entry.
	before := f.auditLog()
	// (Straight to the server: these operations are not in the contract.)
	f.http = http.DefaultClient
	for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		for _, p := range []string{"/v1/admin/audit", "/v1/admin/audit/" + before[0].ID} {
			status, _ := f.call(m, recAdmin, p)
			if status != http.StatusMethodNotAllowed && status != http.StatusNotFound {
				t.Errorf("%s %s: %d, want 405 or 404", m, p, status)
			}
		}
	}
	after := f.auditLog()
	if len(after) != len(before) {
		t.Fatalf("the audit log changed: %d entries, then %d", len(before), len(after))
	}
	for i := range before {
		if before[i] != after[i] {
			t.Errorf("entry changed: %+v, then %+v", before[i], after[i])
		}
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
