package bench

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"syscall"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	c "onething/contracts"
	"onething/gateway/auth"
	"onething/gateway/seal"
	"onething/gateway/service"
	"onething/gateway/store/redistest"
)

// BenchmarkIntake: one signed submission through the gateway's whole
// handler (middleware, signature, strict decoding, validation, planning,
// sealing, the store's creation write), in process, configured as
// `onething bench` runs it (sealed, info logs as JSON lines). cpu-µs/op is
// this process's CPU (user and system) per submission, the figure the
// bench's "server" column compares with the bare handler's:
//
//	go test -run '^$' -bench Intake -benchtime 3000x ./gateway/bench/
func BenchmarkIntake(b *testing.B) {
	defer debug.SetGCPercent(debug.SetGCPercent(200)) // as every onething command runs
	for _, backend := range []string{"redis", "bolt"} {
		b.Run(backend, func(b *testing.B) {
			var storeURL string
			if backend == "redis" {
				storeURL = redistest.Start(b).URL()
			} else {
				storeURL = "bolt://" + filepath.Join(b.TempDir(), "bench.db")
			}
			h := intakeHandler(b, storeURL)
			s, err := newSender("", benchSecret, "b", 1)
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; i < 50; i++ { // warm the caches and the connections
				serveOne(b, h, signedPost(b, s, -1-i))
			}
			cpu0 := cpuTime()
			for i := 0; b.Loop(); i++ {
				serveOne(b, h, signedPost(b, s, i))
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

const benchSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// signedPost is the n-th submission of the bundled example, signed.
func signedPost(b testing.TB, s *sender, n int) *http.Request {
	ref := "BENCH-b-" + strconv.Itoa(n)
	body := append(append(append([]byte{}, s.before...), ref...), s.after...)
	id := "msg_b_" + strconv.Itoa(n)
	now := time.Now()
	sig, err := s.wh.Sign(id, now, body)
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/v1/portal/submissions", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(standardwebhooks.HeaderWebhookID, id)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
	return req
}

func serveOne(b testing.TB, h http.Handler, req *http.Request) {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusAccepted {
		b.Fatalf("HTTP %d: %s", w.Code, w.Body)
	}
}

func intakeHandler(b testing.TB, storeURL string) http.Handler {
	cfg := service.Config{Listen: "127.0.0.1:0", BaseURL: "http://127.0.0.1:1", Store: storeURL,
		PortalSecrets: []string{benchSecret}, PortalPushURL: "http://127.0.0.1:9", PortalPushPath: "/push", PortalPushSecret: benchSecret,
		ReadTokens:  []service.NamedToken{{Subject: "bench", Token: "bench-token-0123456789abcdef"}},
		MaxAttempts: 8, BaseBackoff: service.Duration(100 * time.Millisecond), MaxBackoff: service.Duration(2 * time.Second),
		JobLease: service.Duration(30 * time.Second), ReconcileEvery: service.Duration(time.Minute)}
	dp := seal.DevConfig()
	cfg.DataProtection = &dp
	cfg.RateLimit = auth.RateLimitConfig{PerSecond: 1e6, Burst: 1_000_000, AnonymousPerSecond: 1e6, AnonymousBurst: 1_000_000}
	cfg.Departments = map[c.Dept]service.Dept{}
	for _, d := range c.Depts { // never called: no workers run
		cfg.Departments[d] = service.Dept{BaseURL: "http://127.0.0.1:9", AppKey: "bench", Secret: "bench", EventSecrets: []string{benchSecret}}
	}
	if _, err := service.InitStore(context.Background(), cfg, nil); err != nil {
		b.Fatal(err)
	}
	svc, err := service.New(cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { svc.Store.Close() })
	return svc.Handler
}

// cpuTime is this process's CPU time so far (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
