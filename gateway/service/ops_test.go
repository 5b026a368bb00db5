package service

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	c "onething/contracts"
	"onething/gateway/store"
	"onething/gateway/store/redistest"
)

func opsService(t *testing.T) *Service {
	t.Helper()
	secret := "whsec_MfKQ9r8GKYqrTAjgPfnvNnRvXgvtdGd6zmoWQpZMHbk="
	cfg := Config{Listen: "127.0.0.1:0", BaseURL: "http://127.0.0.1:1", DataFile: filepath.Join(t.TempDir(), "o.db"),
		PortalSecrets: []string{secret}, PortalPushURL: "http://127.0.0.1:9", PortalPushSecret: secret,
		ReadTokens: []NamedToken{{Subject: "district-office", Token: "a-read-token-of-some-length-0123"}}, Departments: map[c.Dept]Dept{}, DataProtection: testProtection()}
	for _, d := range c.Depts {
		cfg.Departments[d] = Dept{BaseURL: "http://127.0.0.1:9", AppKey: "k", Secret: "s", EventSecrets: []string{secret}}
	}
	initStore(t, cfg)
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Store.Close() })
	return s
}

// Every request is counted by route template and code and timed; every
// error body carries the request id the response header carries; the
// queue is reported on each scrape; readiness lists its checks.
func TestMetricsAndRequestIDs(t *testing.T) {
	s := opsService(t)
	srv := httptest.NewServer(s.Handler)
	defer srv.Close()
	get := func(path string, hdr map[string]string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	if resp, _ := get("/healthz", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz %d", resp.StatusCode)
	}
	resp, body := get("/v1/applications/01NOPE", map[string]string{c.HeaderRequestID: "rid-ops-1",
		c.HeaderTraceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
	var e c.Error
	if err := json.Unmarshal([]byte(body), &e); err != nil || resp.StatusCode < 400 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if e.RequestID != "rid-ops-1" || resp.Header.Get(c.HeaderRequestID) != "rid-ops-1" {
		t.Errorf("request id: body %q header %q", e.RequestID, resp.Header.Get(c.HeaderRequestID))
	}
	resp, body = get("/no/such/path", nil)
	if json.Unmarshal([]byte(body), &e); e.RequestID == "" || e.RequestID != resp.Header.Get(c.HeaderRequestID) {
		t.Errorf("a 404 without its request id: %s", body)
	}

	resp, body = get("/readyz", nil)
	var ready struct {
		Ready  bool `json:"ready"`
		Checks map[string]struct {
			OK     bool   `json:"ok"`
			Detail string `json:"detail"`
		} `json:"checks"`
	}
	json.Unmarshal([]byte(body), &ready)
	if resp.StatusCode != http.StatusServiceUnavailable || ready.Ready || !ready.Checks["store"].OK || !ready.Checks["calendar"].OK || ready.Checks["workers"].OK {
		t.Errorf("readyz without workers: %d %s", resp.StatusCode, body)
	}

	_, metrics := get("/metrics", nil)
	for _, want := range []string{
		`onething_http_requests_total{code="200",method="GET",route="/healthz"} 1`,
		`onething_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`onething_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="0.005"}`,
		`onething_queue_up 1`, `onething_queue_jobs 0`, `onething_queue_oldest_ready_age_seconds 0`,
		`onething_breaker_state{system="portal"} 0`, `onething_build_info{`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(metrics, "01NOPE") {
		t.Error("an id became a label")
	}
	// Both backends index their open applications: the scan's gauges are
	// exported (an empty store: zeros, and no dead letters).
	scan, err := s.Scan(context.Background())
	if err != nil || scan.DeadLetters != 0 || scan.OpenApplications != 0 {
		t.Errorf("scan: %+v %v", scan, err)
	}
	for _, want := range []string{"onething_overdue_tasks", "onething_status_pushes_pending", "onething_open_applications"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s on the embedded store", want)
		}
	}
}

// On both backends, the scan counts open applications, their tasks by
// department and state, the overdue ones and the versions not pushed.
func TestScanOpenApplications(t *testing.T) {
	t.Run("bolt", func(t *testing.T) { testScan(t, "", filepath.Join(t.TempDir(), "o.db")) })
	t.Run("redis", func(t *testing.T) { testScan(t, redistest.Start(t).URL(), "") })
}

func testScan(t *testing.T, storeURL, dataFile string) {
	secret := "whsec_MfKQ9r8GKYqrTAjgPfnvNnRvXgvtdGd6zmoWQpZMHbk="
	cfg := Config{Listen: "127.0.0.1:0", BaseURL: "http://127.0.0.1:1", Store: storeURL, DataFile: dataFile,
		PortalSecrets: []string{secret}, PortalPushURL: "http://127.0.0.1:9", PortalPushSecret: secret,
		Departments: map[c.Dept]Dept{}, DataProtection: testProtection()}
	for _, d := range c.Depts {
		cfg.Departments[d] = Dept{BaseURL: "http://127.0.0.1:9", AppKey: "k", Secret: "s", EventSecrets: []string{secret}}
	}
	initStore(t, cfg)
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Store.Close()
	raw, err := c.Example("submission-full.json")
	if err != nil {
		t.Fatal(err)
	}
	var sub c.Submission
	if err := json.Unmarshal(raw, &sub); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	app, _, err := s.Engine.Submit(ctx, "msg_scan", &sub)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Store.Update(ctx, app.ID, "", func(a *c.Application) ([]store.Job, error) {
		for _, tk := range a.Tasks {
			if !tk.State.Final() {
				tk.DueDate = "2020-01-02" // long past
				break
			}
		}
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	scan, err := s.Scan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tasks, overdue := 0, 0
	for _, states := range scan.Tasks {
		for _, n := range states {
			tasks += n
		}
	}
	for _, n := range scan.Overdue {
		overdue += n
	}
	if scan.OpenApplications != 1 || scan.PushPending != 1 || tasks == 0 || overdue != 1 || scan.DeadLetters != 0 {
		t.Errorf("scan: %+v", scan)
	}
}
