package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"

	c "onething/contracts"
	"onething/contracts/contracttest"
	"onething/gateway/api"
	"onething/gateway/auth"
	"onething/gateway/auth/authtest"
)

// secureFixture is the API with JWTs from a test issuer next to the
// static tokens and signatures of newFixture.
func secureFixture(t *testing.T, tune ...func(*api.Config)) (*fixture, *authtest.Issuer, http.Handler) {
	t.Helper()
	is := authtest.NewIssuer(t)
	jc := is.Config()
	f := newFixture(t, append([]func(*api.Config){func(cfg *api.Config) { cfg.JWT = &jc }}, tune...)...)
	// A handler of the same code, for the list of routes it serves.
	handler, err := api.New(api.Config{JWT: &jc})
	if err != nil {
		t.Fatal(err)
	}
	return f, is, handler
}

// cred is one way of calling: a role with its natural credential.
type cred struct {
	name  string
	apply func(t *testing.T, req *http.Request, body []byte)
}

func bearerCred(name, token string) cred {
	return cred{name, func(_ *testing.T, req *http.Request, _ []byte) { req.Header.Set("Authorization", "Bearer "+token) }}
}

var msgSeq int

func sigCred(name, secret string) cred {
	return cred{name, func(t *testing.T, req *http.Request, body []byte) {
		msgSeq++
		s := signed(t, req.URL.String(), secret, fmt.Sprintf("matrix-%d", msgSeq), time.Now(), body)
		for _, h := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
			req.Header.Set(h, s.Header.Get(h))
		}
	}}
}

// TestEveryRouteEveryRole calls every route of the gateway with every
// role (and no credential, a bad one, and signatures where they do not
// belong) and checks the status: the policy table, end to end.
func TestEveryRouteEveryRole(t *testing.T) {
	f, is, handler := secureFixture(t)
	_, body := f.submit("msg_main", example(t))
	var acc c.SubmissionAccepted
	json.Unmarshal(body, &acc)
	app, cert := acc.ApplicationID, acc.Items[0].TaskID
	// A second application (another portal reference) to withdraw.
	var m map[string]any
	json.Unmarshal(example(t), &m)
	m["portalRef"] = "SCZW-MATRIX-WITHDRAW"
	second, _ := json.Marshal(m)
	_, body = f.submit("msg_second", second)
	var acc2 c.SubmissionAccepted
	json.Unmarshal(body, &acc2)
	if app == "" || acc2.ApplicationID == "" {
		t.Fatal("setup submissions failed")
	}

	creds := []cred{
		{"none", func(*testing.T, *http.Request, []byte) {}},
		bearerCred("bad-token", "not-a-configured-token-at-all"),
		sigCred("portal-sig", portalSecret),
		sigCred("cdpf-sig", cdpfSecret),
		bearerCred("portal-jwt", is.Token("portal-app", auth.RolePortal, "")),
		bearerCred("cdpf-jwt", is.Token("cdpf-sys", auth.RoleDepartment, "cdpf")),
		bearerCred("staff-jwt", is.Token("luojiang-1", auth.RoleStaff, "", "511702102")),
		bearerCred("other-town-jwt", is.Token("pujia-1", auth.RoleStaff, "", "511702103")),
		bearerCred("district-jwt", is.Token("district-1", auth.RoleStaff, "", auth.DistrictOffice)),
		// Scopes across counties: 达川区's county office sees none of 通川区's
		// applications, 达州市's city office sees them.
		bearerCred("other-county-jwt", is.Token("dachuan-1", auth.RoleStaff, "", "511703")),
		bearerCred("city-jwt", is.Token("dazhou-1", auth.RoleStaff, "", "5117")),
		bearerCred("admin-jwt", is.Token("ops-1", auth.RoleAdmin, "")),
		bearerCred("read-token", readToken),
		bearerCred("admin-token", adminToken),
	}
	type route struct {
		method, route string
		path          func() string
		body          func() []byte
		want          map[string]int // by cred; missing: def
		def           int
	}
	j := func(v any) func() []byte { return func() []byte { b, _ := json.Marshal(v); return b } }
	ref := 0
	submission := func() []byte {
		ref++
		m["portalRef"] = "SCZW-MATRIX-" + strconv.Itoa(ref)
		b, _ := json.Marshal(m)
		return b
	}
	evSeq := 0
	event := func() []byte {
		evSeq++
		b, _ := json.Marshal(c.DeptEvent{EventID: fmt.Sprintf("mx-%d", evSeq), TaskID: cert, CaseNo: "CDPF-1", Type: c.EventInProgress, OccurredAt: time.Now().UTC()})
		return b
	}
	guide := c.GuideRequest{HouseholdDivision: "511702102", Dibao: true, Wants: c.GuideWants{Pension: true}}
	fixed := func(p string) func() string { return func() string { return p } }
	// Allowed outcomes for the roles each route is for; everyone else 403
	// (authenticated) or 401 (not).
	// A signed route takes its signature only: any bearer token, whatever
	// its role, is the wrong credential (401, not 403).
	signedPortal := map[string]int{"none": 401, "bad-token": 401, "portal-sig": 0, "cdpf-sig": 401, "portal-jwt": 401}
	bearerRoute := map[string]int{"none": 401, "bad-token": 401, "portal-sig": 401, "cdpf-sig": 401}
	with := func(base map[string]int, allowed map[string]int) map[string]int {
		out := map[string]int{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range allowed {
			out[k] = v
		}
		return out
	}
	admin := func(status int) map[string]int {
		return with(bearerRoute, map[string]int{"admin-jwt": status, "admin-token": status})
	}
	public := map[string]int{}
	for _, cr := range creds {
		public[cr.name] = 200
	}
	routes := []route{
		{"POST", "/v1/portal/submissions", fixed("/v1/portal/submissions"), submission,
			with(signedPortal, map[string]int{"portal-sig": 202}), 401},
		{"GET", "/v1/applications/:id", fixed("/v1/applications/" + app), nil,
			with(bearerRoute, map[string]int{"portal-jwt": 200, "staff-jwt": 200, "other-town-jwt": 404, "other-county-jwt": 404, "district-jwt": 200, "city-jwt": 200, "read-token": 200}), 403},
		{"POST", "/v1/applications/:id/supplements", fixed("/v1/applications/" + app + "/supplements"),
			j(c.SupplementSubmission{TaskID: cert, Materials: []string{"photos"}}),
			with(signedPortal, map[string]int{"portal-sig": 409}), 401},
		{"POST", "/v1/applications/:id/withdraw", fixed("/v1/applications/" + acc2.ApplicationID + "/withdraw"), j(c.Withdrawal{Reason: "不再需要"}),
			with(signedPortal, map[string]int{"portal-sig": 200}), 401},
		{"POST", "/v1/guide", fixed("/v1/guide"), j(guide),
			with(bearerRoute, map[string]int{"portal-jwt": 200, "staff-jwt": 200, "other-town-jwt": 200, "other-county-jwt": 200, "district-jwt": 200, "city-jwt": 200, "read-token": 200}), 403},
		{"POST", "/v1/departments/:dept/events", fixed("/v1/departments/cdpf/events"), event,
			map[string]int{"none": 401, "bad-token": 401, "portal-sig": 401, "cdpf-sig": 200, "cdpf-jwt": 401}, 401},
		{"GET", "/v1/admin/breakers", fixed("/v1/admin/breakers"), nil, admin(200), 403},
		{"GET", "/v1/admin/dead-letters", fixed("/v1/admin/dead-letters"), nil, admin(200), 403},
		{"GET", "/v1/admin/dead-letters/:task", fixed("/v1/admin/dead-letters/" + cert), nil, admin(404), 403},
		{"POST", "/v1/admin/dead-letters/:task/replay", fixed("/v1/admin/dead-letters/" + cert + "/replay"), nil, admin(404), 403},
		{"POST", "/v1/admin/dead-letters/replay", fixed("/v1/admin/dead-letters/replay?dept=civil"), nil, admin(202), 403},
		{"GET", "/healthz", fixed("/healthz"), nil, public, 200},
		{"GET", "/readyz", fixed("/readyz"), nil, public, 200},
		{"GET", "/metrics", fixed("/metrics"), nil, public, 200},
		{"GET", "/openapi/:name", fixed("/openapi/gateway.yaml"), nil, public, 200},
		{"HEAD", "/openapi/:name", fixed("/openapi/gateway.yaml"), nil, public, 200},
		// Part A's personal-data routes (records.go): staff of the
		// application's town and admins; others 403, another town 404.
		{"GET", "/v1/applications", fixed("/v1/applications?idNumber=51170219850307123X"), nil,
			with(bearerRoute, map[string]int{"staff-jwt": 200, "other-town-jwt": 200, "other-county-jwt": 200, "district-jwt": 200, "city-jwt": 200, "admin-jwt": 200, "read-token": 200, "admin-token": 200}), 403},
		{"POST", "/v1/applications/search", fixed("/v1/applications/search"), j(c.ApplicationSearch{IDNumber: "51170219850307123X"}),
			with(bearerRoute, map[string]int{"staff-jwt": 200, "other-town-jwt": 200, "other-county-jwt": 200, "district-jwt": 200, "city-jwt": 200, "admin-jwt": 200, "read-token": 200, "admin-token": 200}), 403},
		{"GET", "/v1/applications/:id/record", fixed("/v1/applications/" + app + "/record?reason=window+visit"), nil,
			with(bearerRoute, map[string]int{"staff-jwt": 200, "other-town-jwt": 404, "other-county-jwt": 404, "district-jwt": 200, "city-jwt": 200, "admin-jwt": 200, "read-token": 200, "admin-token": 200}), 403},
		{"GET", "/v1/admin/audit", fixed("/v1/admin/audit"), nil, admin(200), 403},
		{"GET", "/v1/admin/unreadable-records", fixed("/v1/admin/unreadable-records"), nil, admin(200), 403},
		// Erasure and access on request (erasure.go): admins only. The
		// application's items are on their way to departments, so an
		// erasure without force is refused (nothing erased).
		{"POST", "/v1/admin/applications/:id/erase", fixed("/v1/admin/applications/" + app + "/erase"), j(c.EraseRequest{Reason: "本人申请删除"}), admin(409), 403},
		{"POST", "/v1/admin/subject-access", fixed("/v1/admin/subject-access"), j(c.SubjectAccessRequest{IDNumber: "51170219850307123X", Reason: "本人申请查阅"}), admin(200), 403},
	}

	// Every route the gateway serves is in the matrix (and only those).
	var served []string
	for _, r := range handler.(*gin.Engine).Routes() {
		served = append(served, r.Method+" "+r.Path)
	}
	var listed []string
	for _, r := range routes {
		listed = append(listed, r.method+" "+r.route)
	}
	slices.Sort(served)
	slices.Sort(listed)
	if !slices.Equal(served, listed) {
		t.Fatalf("the matrix does not cover the routes served:\nserved %v\nlisted %v", served, listed)
	}

	doc := contractDoc(t)
	checked := &http.Client{Transport: contracttest.New(t, "gateway").Transport(http.DefaultTransport)}
	for _, r := range routes {
		client := checked
		if !documented(doc, r.method, r.route) {
			client = http.DefaultClient // not yet in gateway.yaml: status only
		}
		for _, cr := range creds {
			want, ok := r.want[cr.name]
			if !ok {
				want = r.def
			}
			var body []byte
			if r.body != nil {
				body = r.body()
			}
			req, _ := http.NewRequest(r.method, f.srv.URL+r.path(), bytes.NewReader(body))
			if body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			cr.apply(t, req, body)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("%s %s as %s: %d, want %d: %.200s", r.method, r.route, cr.name, resp.StatusCode, want, got)
			}
			if code := resp.StatusCode; code == 401 || code == 403 {
				var e c.Error
				json.Unmarshal(got, &e)
				if (code == 401 && e.Code != "unauthorized") || (code == 403 && e.Code != "forbidden") {
					t.Errorf("%s %s as %s: code %q", r.method, r.route, cr.name, e.Code)
				}
			}
		}
	}
}

// TestStaffSeeOnlyTheirTowns: window staff of 罗江镇 read an application
// registered there; staff of 蒲家镇 get 404, as for an application that
// does not exist, so ids cannot be probed; a department may not read
// applications at all (403).
func TestStaffSeeOnlyTheirTowns(t *testing.T) {
	f, is, _ := secureFixture(t, func(cfg *api.Config) {
		cfg.Tokens = []auth.StaticToken{{Token: "pujia-window-static-token", Role: auth.RoleStaff, Towns: []string{"511702103"}, Subject: "pujia-window"}}
	})
	_, body := f.submit("msg_1", example(t))
	var acc c.SubmissionAccepted
	json.Unmarshal(body, &acc)
	path := "/v1/applications/" + acc.ApplicationID
	for _, tc := range []struct {
		name, token string
		want        int
	}{
		{"staff of the town", is.Token("luojiang-1", auth.RoleStaff, "", "511702102"), 200},
		{"staff of two towns", is.Token("luojiang-2", auth.RoleStaff, "", "511702103", "511702102"), 200},
		{"staff of another town", is.Token("pujia-1", auth.RoleStaff, "", "511702103"), 404},
		{"static token of another town", "pujia-window-static-token", 404},
		{"district office", is.Token("district-1", auth.RoleStaff, "", "511702"), 200},
		{"a department", is.Token("cdpf-sys", auth.RoleDepartment, "cdpf"), 403},
	} {
		status, resp := f.get(path, tc.token)
		if status != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, status, tc.want)
		}
		if tc.want == 404 {
			_, unknown := f.get("/v1/applications/01NOSUCHAPPLICATION000000", tc.token)
			e1, e2 := decodeError(t, resp), decodeError(t, unknown)
			if e1.Code != e2.Code || e1.Message != e2.Message {
				t.Errorf("%s: out of scope (%s) is told apart from unknown (%s)", tc.name, e1.Code, e2.Code)
			}
		}
	}
}

// TestJWTRefusedOverHTTP: the JWT rejection paths as a caller sees them.
func TestJWTRefusedOverHTTP(t *testing.T) {
	f, is, _ := secureFixture(t)
	base := func() *auth.Claims {
		cl := authtest.Claims("district-1", auth.RoleStaff)
		cl.Towns = []string{"511702"}
		return cl
	}
	mod := func(fn func(*auth.Claims)) string { cl := base(); fn(cl); return is.Sign("ES256", cl) }
	cases := map[string]string{
		"wrong audience":  mod(func(c *auth.Claims) { c.Audience = jwt.ClaimStrings{"other"} }),
		"wrong issuer":    mod(func(c *auth.Claims) { c.Issuer = "https://other.idp" }),
		"expired":         mod(func(c *auth.Claims) { c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Hour)) }),
		"not yet valid":   mod(func(c *auth.Claims) { c.NotBefore = jwt.NewNumericDate(time.Now().Add(time.Hour)) }),
		"HS256":           authtest.SignWith(t, jwt.SigningMethodHS256, []byte(strings.Repeat("k", 32)), "", base()),
		"alg none":        authtest.SignWith(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", base()),
		"unknown kid":     authtest.SignWith(t, jwt.SigningMethodES256, is.EC, "ec-unknown", base()),
		"lower-case none": "eyJhbGciOiJub25lIn0." + strings.Split(authtest.SignWith(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", base()), ".")[1] + ".",
	}
	guide := c.GuideRequest{HouseholdDivision: "511702102", Wants: c.GuideWants{Medical: true}}
	if status, _ := f.postJSON("/v1/guide", is.Sign("ES256", base()), guide); status != 200 {
		t.Fatalf("a good token: %d", status)
	}
	for name, tok := range cases {
		req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/v1/admin/breakers", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := f.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: %d %q", name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
		if strings.Contains(string(b), tok[:20]) {
			t.Errorf("%s: the reply echoes the token", name)
		}
		if status, _ := f.postJSON("/v1/guide", tok, guide); status != 401 {
			t.Errorf("%s on the guide: %d", name, status)
		}
	}
}

// TestReplayedWebhook: the same webhook-id with the same body is a retry
// (answered as before); with another body it is refused with 409 and
// changes nothing; a delivery the gateway refused is not remembered, so
// the portal may correct it under the same id.
func TestReplayedWebhook(t *testing.T) {
	f := newFixture(t)
	status, first := f.submit("msg_r", example(t))
	if status != 202 {
		t.Fatalf("%d %s", status, first)
	}
	if status, _ := f.submit("msg_r", example(t)); status != 200 {
		t.Errorf("same id, same body: %d", status)
	}
	var m map[string]any
	json.Unmarshal(example(t), &m)
	m["portalRef"] = "SCZW-FORGED-1"
	forged, _ := json.Marshal(m)
	jobs := f.queued()
	status, resp := f.submit("msg_r", forged)
	if status != 409 || decodeError(t, resp).Code != "replayed_webhook" {
		t.Errorf("same id, another body: %d %s", status, resp)
	}
	if f.queued() != jobs {
		t.Error("a replayed delivery queued work")
	}
	if _, err := f.store.Lookup(t.Context(), "ref:SCZW-FORGED-1"); err == nil {
		t.Error("a replayed delivery was stored")
	}

	// Department events: the event id is the webhook id.
	var acc c.SubmissionAccepted
	json.Unmarshal(first, &acc)
	ev := c.DeptEvent{EventID: "ev-replay", TaskID: acc.Items[0].TaskID, CaseNo: "CDPF-9", Type: c.EventAccepted, OccurredAt: time.Now().UTC()}
	if status, _ := f.event(c.DeptCDPF, cdpfSecret, ev); status != 200 {
		t.Fatalf("event: %d", status)
	}
	// The same delivery again is answered what the first was (delivery.go).
	if status, resp := f.event(c.DeptCDPF, cdpfSecret, ev); status != 200 || !strings.Contains(string(resp), `"applied"`) {
		t.Errorf("event again: %d %s", status, resp)
	}
	ev.Type = c.EventApproved
	if status, resp := f.event(c.DeptCDPF, cdpfSecret, ev); status != 409 || decodeError(t, resp).Code != "replayed_webhook" {
		t.Errorf("event id replayed with another body: %d %s", status, resp)
	}
	app, _ := f.store.Get(t.Context(), acc.ApplicationID)
	if app.Tasks[0].State != c.TaskAccepted {
		t.Errorf("the replayed event changed the task: %s", app.Tasks[0].State)
	}
}

// TestDuplicateKeysRefused: every JSON body the gateway takes refuses a
// key given twice, naming its path.
func TestDuplicateKeysRefused(t *testing.T) {
	f := newFixture(t)
	dupID := bytes.Replace(example(t), []byte(`"idNumber": "51170219850307123X"`),
		[]byte(`"idNumber": "51170219850307123X", "idNumber": "110101199003074514"`), 1)
	if bytes.Equal(dupID, example(t)) {
		t.Fatal("example layout changed: no idNumber to duplicate")
	}
	status, resp := f.submit("msg_dup", dupID)
	e := decodeError(t, resp)
	if status != 400 || e.Code != "duplicate_key" || len(e.Details) != 1 || e.Details[0].Field != "applicant.idNumber" || e.Details[0].Code != "duplicate_key" {
		t.Errorf("submission: %d %s", status, resp)
	}
	if strings.Contains(string(resp), "51170219850307123X") || strings.Contains(string(resp), "110101199003074514") {
		t.Error("the reply echoes an ID number")
	}
	if f.queued() != 0 {
		t.Error("a refused body queued work")
	}
	_, body := f.submit("msg_ok", example(t))
	var acc c.SubmissionAccepted
	json.Unmarshal(body, &acc)
	post := func(path, secret string, raw string) (int, c.Error) {
		status, resp := f.do(signed(t, f.srv.URL+path, secret, "dup-"+path, time.Now(), []byte(raw)))
		return status, decodeError(t, resp)
	}
	base := "/v1/applications/" + acc.ApplicationID
	for _, tc := range []struct{ path, secret, body, field string }{
		{base + "/supplements", portalSecret, `{"taskId":"x","materials":["photos"],"taskId":"y"}`, "taskId"},
		{base + "/withdraw", portalSecret, `{"reason":"a","reason":"b"}`, "reason"},
		{"/v1/departments/cdpf/events", cdpfSecret, `{"eventId":"e","taskId":"t","type":"accepted","occurredAt":"2026-11-29T08:00:00Z","reason":{"zh":"a","zh":"b","en":"c"}}`, "reason.zh"},
	} {
		status, e := post(tc.path, tc.secret, tc.body)
		if status != 400 || e.Code != "duplicate_key" || e.Details[0].Field != tc.field {
			t.Errorf("%s: %d %+v", tc.path, status, e)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/v1/guide", strings.NewReader(`{"householdDivision":"511702102","wants":{"medical":true,"medical":false}}`))
	req.Header.Set("Authorization", "Bearer "+readToken)
	req.Header.Set("Content-Type", "application/json")
	status, resp = f.do(req)
	if e := decodeError(t, resp); status != 400 || e.Code != "duplicate_key" || e.Details[0].Field != "wants.medical" {
		t.Errorf("guide: %d %s", status, resp)
	}
}

// TestRateLimits: past its burst a caller gets 429 with Retry-After, other
// callers are not held up, and anonymous requests are limited by address.
func TestRateLimits(t *testing.T) {
	f := newFixture(t, func(cfg *api.Config) {
		cfg.RateLimit = auth.RateLimitConfig{PerSecond: 0.01, Burst: 3, AnonymousPerSecond: 0.01, AnonymousBurst: 2}
	})
	for i := range 3 {
		if status, _ := f.get("/v1/admin/breakers", adminToken); status != 200 {
			t.Fatalf("request %d within the burst: %d", i+1, status)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/v1/admin/breakers", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := f.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	if resp.StatusCode != 429 || secs < 1 || decodeError(t, b).Code != "rate_limited" {
		t.Errorf("past the burst: %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	// The portal, another caller, is not affected.
	if status, _ := f.submit("msg_1", example(t)); status != 202 {
		t.Errorf("another caller: %d", status)
	}
	// Anonymous (and bad credentials) share the address's bucket; the
	// probes take nothing from it (input_test.go).
	f.get("/v1/applications/X", "")
	f.get("/v1/admin/breakers", "wrong-token-wrong-token")
	if status, _ := f.get("/v1/applications/X", ""); status != 429 {
		t.Errorf("anonymous past the burst: %d", status)
	}
}

// TestSecurityHeaders: every response, refusals included, carries them.
func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/healthz", "/v1/applications/X", "/nowhere", "/v1/admin/breakers"} {
		resp, err := http.Get(f.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for h, want := range map[string]string{
			"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
			"Cache-Control": "no-store", "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
		} {
			if got := resp.Header.Get(h); got != want {
				t.Errorf("%s (%d): %s = %q, want %q", path, resp.StatusCode, h, got, want)
			}
		}
	}
	resp, err := http.Get(f.srv.URL + "/console/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") && !strings.Contains(csp, "script-src 'none'") {
		t.Errorf("/console/ CSP %q", csp)
	}
}

// TestBearerOnSignedRoutes: a portal JWT cannot stand in for the
// portal's signature (it binds neither the body nor a delivery id).
func TestBearerOnSignedRoutes(t *testing.T) {
	f, is, _ := secureFixture(t)
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/v1/portal/submissions", bytes.NewReader(example(t)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", "msg_jwt")
	req.Header.Set("webhook-timestamp", strconv.FormatInt(time.Now().Unix(), 10))
	req.Header.Set("Authorization", "Bearer "+is.Token("portal-app", auth.RolePortal, ""))
	status, resp := f.do(req)
	if status != 401 || decodeError(t, resp).Code != "unauthorized" {
		t.Errorf("portal JWT on the submission webhook: %d %s", status, resp)
	}
	// A token of a role the route does not take is the wrong credential
	// too: 401, as the contract says, not 403.
	for name, token := range map[string]string{"read token": readToken, "admin token": adminToken,
		"staff JWT": is.Token("luojiang-1", auth.RoleStaff, "", "511702102")} {
		for _, path := range []string{"/v1/portal/submissions", "/v1/departments/cdpf/events"} {
			req, _ := http.NewRequest(http.MethodPost, f.srv.URL+path, bytes.NewReader(example(t)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token)
			if status, resp := f.do(req); status != 401 || decodeError(t, resp).Code != "unauthorized" {
				t.Errorf("%s on %s: %d %s", name, path, status, resp)
			}
		}
	}
	if f.queued() != 0 {
		t.Error("stored a submission without a signature")
	}
}

var routeParam = regexp.MustCompile(`:([a-z]+)`)

func documented(doc map[string]map[string]bool, method, route string) bool {
	return doc[routeParam.ReplaceAllString(route, "{$1}")][strings.ToLower(method)]
}

func contractDoc(t *testing.T) map[string]map[string]bool {
	d, err := c.Spec("gateway")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]bool{}
	for p, item := range d.Paths.Map() {
		out[p] = map[string]bool{}
		for m := range item.Operations() {
			out[p][strings.ToLower(m)] = true
		}
	}
	return out
}
