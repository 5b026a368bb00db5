package contracttest_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"onething/contracts"
	"onething/contracts/contracttest"
)

// fakeTB records what the checker reports instead of failing the test.
type fakeTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.TB.Fatalf(format, args...)
}

func (f *fakeTB) reported() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.errors...)
}

func example(t *testing.T, name string) []byte {
	t.Helper()
	b, err := contracts.Example(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// reply is a handler answering with a fixed status, headers and body.
func reply(status int, contentType string, body []byte, requestID bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if requestID {
			w.Header().Set("X-Request-Id", "01M71ZC8Y4RB2J6WQ3K9TDF5XA")
		}
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		w.Write(body)
	})
}

func webhookHeaders(h http.Header) {
	h.Set("Content-Type", "application/json")
	h.Set("webhook-id", "msg_2Mh7RDZ9yWq1oN4c8tKxV3aB")
	h.Set("webhook-timestamp", "1791855000")
	h.Set("webhook-signature", "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=")
}

func signedHeaders(h http.Header) {
	h.Set("Content-Type", "application/json")
	h.Set("Idempotency-Key", "dispatch:01M4PVP9CG84G7ZWYRD6Z1RV0W-1:1")
	h.Set("X-Request-Id", "01M4PVPA3R7T2K9W5N1X8QHC6D")
	h.Set("X-App-Key", "onething-tongchuan")
	h.Set("X-Timestamp", "1791855003")
	h.Set("X-Nonce", "9f1c2e7a4b6d8e0f")
	h.Set("X-Signature", strings.Repeat("ab", 32))
}

type exchange struct {
	name      string
	spec      string
	method    string
	path      string
	headers   func(http.Header)
	body      []byte
	server    http.Handler
	strict    bool
	wantError string // "" = conforming; otherwise a substring of a reported error
}

func exchanges(t *testing.T) []exchange {
	view := example(t, "application-view.json")
	accepted := example(t, "submission-accepted.json")
	full := example(t, "submission-full.json")
	invalid := example(t, "submission-invalid.json")
	errValidation := example(t, "error-validation.json")
	bearer := func(h http.Header) { h.Set("Authorization", "Bearer test-token") }
	return []exchange{
		{
			name: "conforming GET", spec: "gateway", method: "GET", path: "/v1/applications/01M4PVP9CG84G7ZWYRD6Z1RV0W",
			headers: bearer, server: reply(200, "application/json; charset=utf-8", view, true),
		},
		{
			name: "body violates schema", spec: "gateway", method: "GET", path: "/v1/applications/01M4PVP9CG84G7ZWYRD6Z1RV0W",
			headers: bearer, server: reply(200, "application/json", []byte(`{"applicationId": 5, "status": {"state": "lost"}}`), true),
			wantError: "GET /v1/applications/01M4PVP9CG84G7ZWYRD6Z1RV0W",
		},
		{
			name: "undeclared status", spec: "gateway", method: "GET", path: "/v1/applications/x",
			headers: bearer, server: reply(http.StatusTeapot, "application/json", []byte(`{}`), true),
			wantError: "status is not supported",
		},
		{
			name: "missing X-Request-Id", spec: "gateway", method: "GET", path: "/v1/applications/x",
			headers: bearer, server: reply(200, "application/json", view, false),
			wantError: "X-Request-Id",
		},
		{
			name: "wrong content type", spec: "gateway", method: "GET", path: "/v1/applications/x",
			headers: bearer, server: reply(200, "text/html", view, true),
			wantError: "text/html",
		},
		{
			name: "conforming submission", spec: "gateway", method: "POST", path: "/v1/portal/submissions",
			headers: webhookHeaders, body: full, server: reply(202, "application/json", accepted, true),
		},
		{
			name: "202 must not be a duplicate", spec: "gateway", method: "POST", path: "/v1/portal/submissions",
			headers: webhookHeaders, body: full,
			server:    reply(202, "application/json", bytes.Replace(accepted, []byte(`"duplicate": false`), []byte(`"duplicate": true`), 1), true),
			wantError: "response 202",
		},
		{
			name: "bad request refused with 422", spec: "gateway", method: "POST", path: "/v1/portal/submissions",
			headers: webhookHeaders, body: invalid, server: reply(422, "application/json", errValidation, true),
		},
		{
			name: "bad request accepted", spec: "gateway", method: "POST", path: "/v1/portal/submissions",
			headers: webhookHeaders, body: invalid, server: reply(202, "application/json", accepted, true),
			wantError: "request breaks the contract but was answered 202",
		},
		{
			name: "bad request refused, strict", spec: "gateway", method: "POST", path: "/v1/portal/submissions",
			headers: webhookHeaders, body: invalid, server: reply(422, "application/json", errValidation, true), strict: true,
			wantError: "request: body",
		},
		{
			name: "missing webhook-id accepted", spec: "gateway", method: "POST", path: "/v1/portal/submissions",
			headers: func(h http.Header) { webhookHeaders(h); h.Del("webhook-id") }, body: full,
			server:    reply(202, "application/json", accepted, true),
			wantError: `header parameter "webhook-id"`,
		},
		{
			name: "unknown dept", spec: "gateway", method: "POST", path: "/v1/departments/police/events",
			headers: webhookHeaders, body: example(t, "event-cdpf-approved.json"),
			server:    reply(200, "application/json", example(t, "event-ack.json"), true),
			wantError: `path parameter "dept"`,
		},
		{
			name: "undocumented path", spec: "gateway", method: "GET", path: "/v2/nothing",
			server: reply(200, "application/json", []byte(`{}`), true), wantError: "not in gateway.yaml",
		},
		{
			name: "metrics", spec: "gateway", method: "GET", path: "/metrics",
			server: reply(200, "text/plain; version=0.0.4; charset=utf-8", []byte("# HELP x y\nx 1\n"), true),
		},
		{
			name: "cdpf case opened", spec: "dept-cdpf", method: "POST", path: "/api/v1/certificate-cases",
			headers: signedHeaders, body: example(t, "case-request-cdpf.json"),
			server: reply(200, "application/json", example(t, "case-response-received.json"), false),
		},
		{
			name: "civil gets more than it needs", spec: "dept-civil", method: "POST", path: "/api/v1/subsidy-cases",
			headers:   signedHeaders,
			body:      bytes.Replace(example(t, "case-request-civil.json"), []byte(`"name": "张志明",`), []byte(`"name": "张志明", "mobile": "13881801234",`), 1),
			server:    reply(200, "application/json", []byte(`{"caseNo": "MZ1", "status": "accepted"}`), false),
			wantError: `property "mobile" is unsupported`,
		},
		{
			name: "429 without Retry-After", spec: "dept-hrss", method: "POST", path: "/api/v1/pension-subsidy-cases",
			headers: signedHeaders, body: example(t, "case-request-hrss.json"),
			server:    reply(429, "application/json", []byte(`{"code":"rate_limited","message":"请稍后重试","messageEn":"retry later","requestId":"r1"}`), false),
			wantError: "Retry-After",
		},
		{
			name: "polling", spec: "dept-medical", method: "GET", path: "/api/v1/medical-subsidy-cases/YB5117022026101300012",
			headers: func(h http.Header) { signedHeaders(h); h.Del("Idempotency-Key"); h.Del("Content-Type") },
			server:  reply(200, "application/json", []byte(`{"caseNo":"YB5117022026101300012","status":"accepted","events":[]}`), false),
		},
		{
			name: "status push", spec: "portal-receiver", method: "POST", path: "/onething/status-events",
			headers: webhookHeaders, body: example(t, "status-push.json"), server: reply(204, "", nil, false),
		},
	}
}

func checkReported(t *testing.T, x exchange, got []string) {
	t.Helper()
	if x.wantError == "" {
		if len(got) > 0 {
			t.Errorf("conforming exchange reported:\n%s", strings.Join(got, "\n"))
		}
		return
	}
	for _, g := range got {
		t.Logf("reported: %s", g)
	}
	for _, g := range got {
		if strings.Contains(g, x.wantError) {
			return
		}
	}
	t.Errorf("want an error containing %q, got %d:\n%s", x.wantError, len(got), strings.Join(got, "\n"))
}

func TestMiddleware(t *testing.T) {
	for _, x := range exchanges(t) {
		t.Run(x.name, func(t *testing.T) {
			tb := &fakeTB{TB: t}
			c := contracttest.New(tb, x.spec)
			if x.strict {
				c.StrictRequests()
			}
			srv := httptest.NewServer(c.Middleware(x.server))
			defer srv.Close()
			send(t, http.DefaultClient, srv.URL, x)
			checkReported(t, x, tb.reported())
		})
	}
}

func TestTransport(t *testing.T) {
	for _, x := range exchanges(t) {
		t.Run(x.name, func(t *testing.T) {
			tb := &fakeTB{TB: t}
			c := contracttest.New(tb, x.spec)
			if x.strict {
				c.StrictRequests()
			}
			srv := httptest.NewServer(x.server)
			defer srv.Close()
			send(t, &http.Client{Transport: c.Transport(nil)}, srv.URL, x)
			checkReported(t, x, tb.reported())
		})
	}
}

func send(t *testing.T, client *http.Client, base string, x exchange) {
	t.Helper()
	var body io.Reader
	if x.body != nil {
		body = bytes.NewReader(x.body)
	}
	req, err := http.NewRequest(x.method, base+x.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if x.headers != nil {
		x.headers(req.Header)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	// Reading to the end waits for the handler, and so for the check.
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

func TestIgnore(t *testing.T) {
	tb := &fakeTB{TB: t}
	c := contracttest.New(tb, "gateway").Ignore("/console/")
	srv := httptest.NewServer(c.Middleware(reply(200, "text/html", []byte("<html></html>"), false)))
	defer srv.Close()
	send(t, http.DefaultClient, srv.URL, exchange{method: "GET", path: "/console/"})
	if got := tb.reported(); len(got) > 0 {
		t.Errorf("ignored path reported: %v", got)
	}
}

func TestMiddlewarePassesBodyThrough(t *testing.T) {
	tb := &fakeTB{TB: t}
	c := contracttest.New(tb, "gateway")
	full := example(t, "submission-full.json")
	accepted := example(t, "submission-accepted.json")
	var seen []byte
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = io.ReadAll(r.Body)
		w.Header().Set("X-Request-Id", "r1")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(202)
		w.Write(accepted)
	})
	srv := httptest.NewServer(c.Middleware(h))
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/v1/portal/submissions", bytes.NewReader(full))
	webhookHeaders(req.Header)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(seen, full) {
		t.Error("handler did not see the request body")
	}
	if !bytes.Equal(got, accepted) || resp.StatusCode != 202 {
		t.Errorf("client got %d %q", resp.StatusCode, got)
	}
	if r := tb.reported(); len(r) > 0 {
		t.Errorf("reported: %v", r)
	}
}
