package api_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"onething/gateway/api"
	"onething/gateway/auth"
)

// plainDo sends req without the contract checker (some requests in these
// tests are off the contract on purpose) and returns the status and body.
func plainDo(t *testing.T, req *http.Request) (int, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestProbesNotRateLimitedByAddress: an address that has used up the
// anonymous bucket with bad tokens (a kubelet or Prometheus behind the same
// NAT as an attacker) still gets its probes answered, never 429.
func TestProbesNotRateLimitedByAddress(t *testing.T) {
	ready := true
	f := newFixture(t, func(cfg *api.Config) {
		cfg.RateLimit = auth.RateLimitConfig{PerSecond: 0.01, Burst: 3, AnonymousPerSecond: 0.01, AnonymousBurst: 5}
		cfg.Ready = func(context.Context) map[string]api.Check {
			return map[string]api.Check{"store": {OK: ready, Detail: "test"}}
		}
	})
	get := func(path, token string) int {
		req, _ := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		status, _ := plainDo(t, req)
		return status
	}
	limited := false
	for range 200 {
		if get("/v1/admin/breakers", "wrong-token-wrong-token") == http.StatusTooManyRequests {
			limited = true
		}
	}
	if !limited {
		t.Fatal("200 bad tokens from one address were never limited")
	}
	if status := get("/v1/applications/X", ""); status != http.StatusTooManyRequests {
		t.Errorf("the address's bucket is not empty: %d", status)
	}
	for range 3 {
		for _, probe := range []struct {
			path, token string
			want        int
		}{
			{"/healthz", "", 200}, {"/readyz", "", 200}, {"/metrics", "", 200},
			{"/healthz", "wrong-token-wrong-token", 200}, {"/metrics", "wrong-token-wrong-token", 200},
		} {
			if status := get(probe.path, probe.token); status != probe.want {
				t.Errorf("%s (token %q) after the bucket ran out: %d, want %d", probe.path, probe.token, status, probe.want)
			}
		}
	}
	ready = false
	if status := get("/readyz", ""); status != http.StatusServiceUnavailable {
		t.Errorf("/readyz not ready after the bucket ran out: %d, want 503", status)
	}
}
