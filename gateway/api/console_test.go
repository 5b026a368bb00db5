package api_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"onething/gateway/api"
	"onething/gateway/auth"
)

// The console is served behind the API's middleware: request id, security
// headers (HSTS when the gateway is on https), the request log, metrics,
// and the rate limit by address; the console learns the caller's address
// as the middleware keys it.
func TestConsoleBehindTheMiddleware(t *testing.T) {
	var (
		mu       sync.Mutex
		observed []string
		addrs    []string
		logs     strings.Builder
	)
	console := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		addrs = append(addrs, api.ClientIP(r.Context()))
		mu.Unlock()
		w.Write([]byte("console page"))
	})
	h, err := api.New(api.Config{
		Console: console, HSTS: true,
		Log:       slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil)),
		RateLimit: auth.RateLimitConfig{AnonymousPerSecond: 0.01, AnonymousBurst: 3},
		ObserveHTTP: func(method, route string, status int, _ time.Duration) {
			mu.Lock()
			observed = append(observed, method+" "+route)
			mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	var last *http.Response
	for i := range 4 {
		resp, err := http.Post(srv.URL+"/console/login", "application/x-www-form-urlencoded", strings.NewReader("username=a&password=b"))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if i == 0 {
			for _, name := range []string{"X-Request-Id", "X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy", "Strict-Transport-Security"} {
				if resp.Header.Get(name) == "" {
					t.Errorf("no %s on a console page", name)
				}
			}
			if resp.StatusCode != http.StatusOK {
				t.Errorf("console page: %d", resp.StatusCode)
			}
		}
		last = resp
	}
	if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
		t.Errorf("past the address's burst: %d, want 429 with Retry-After", last.StatusCode)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(observed) != 4 || observed[0] != "POST /console/*path" {
		t.Errorf("metrics saw %v", observed)
	}
	if len(addrs) != 3 || addrs[0] != "127.0.0.1" {
		t.Errorf("the console saw the addresses %v", addrs)
	}
	if strings.Count(logs.String(), "msg=http ") != 4 {
		t.Errorf("request log:\n%s", logs.String())
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
