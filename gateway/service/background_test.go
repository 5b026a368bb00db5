package service

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	c "onething/contracts"
	"onething/gateway/api"
	"onething/gateway/store"
)

// panicky is a store whose background reads blow up: the reseal at start
// with a runtime error, every scan with a panic that carries a phone
// number (it must not reach /readyz).
type panicky struct{ store.Store }

func (panicky) Reseal(context.Context) (store.ResealStats, error) {
	var s []int
	_ = s[3]
	return store.ResealStats{}, nil
}

func (panicky) Parked(context.Context) ([]store.Job, error) {
	panic("scan blew up near 13881801234")
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// A background task that panics leaves the gateway serving: the panic is
// logged without personal data, counted in
// onething_background_failures_total and shown in /readyz's detail.
// Before, the reseal's panic ended the process (exit 2).
func TestBackgroundPanicIsSurvived(t *testing.T) {
	secret := "whsec_MfKQ9r8GKYqrTAjgPfnvNnRvXgvtdGd6zmoWQpZMHbk="
	cfg := Config{Listen: "127.0.0.1:0", BaseURL: "http://127.0.0.1:1", DataFile: filepath.Join(t.TempDir(), "o.db"),
		PortalSecrets: []string{secret}, PortalPushURL: "http://127.0.0.1:9", PortalPushSecret: secret,
		ReadTokens: []NamedToken{{Subject: "district-office", Token: "a-read-token-of-some-length-0123"}}, Departments: map[c.Dept]Dept{}, DataProtection: testProtection(),
		ScanEvery: Duration(50 * time.Millisecond)}
	for _, d := range c.Depts {
		cfg.Departments[d] = Dept{BaseURL: "http://127.0.0.1:9", AppKey: "k", Secret: "s", EventSecrets: []string{secret}}
	}
	initStore(t, cfg)
	st, err := OpenStore(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	s, err := Assemble(cfg, panicky{st}, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, ln) }()
	url := "http://" + ln.Addr().String()
	get := func(path string) (int, string) {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	var ready struct {
		Ready  bool                 `json:"ready"`
		Checks map[string]api.Check `json:"checks"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body := get("/readyz")
		json.Unmarshal([]byte(body), &ready)
		d := ready.Checks["background"].Detail
		if strings.Contains(d, "reseal: 1 failure") && strings.Contains(d, "scan: ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz does not show the failures: %s", body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	d := ready.Checks["background"].Detail
	if !strings.Contains(d, "index out of range") {
		t.Errorf("the reseal's runtime error is not shown: %s", d)
	}
	if strings.Contains(d, "13881801234") {
		t.Errorf("readyz shows the panic's text: %s", d)
	}
	if !ready.Ready || !ready.Checks["background"].OK {
		t.Errorf("a failed background task made the gateway unready: %+v", ready)
	}
	// Still serving, and still scanning (the scan task was not ended by
	// its panics: its count keeps growing).
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Errorf("healthz %d", code)
	}
	if code, _ := get("/v1/applications/01NOPE"); code != http.StatusUnauthorized {
		t.Errorf("a request after the panics: %d", code)
	}
	_, metrics := get("/metrics")
	if !strings.Contains(metrics, `onething_background_failures_total{task="reseal"} 1`) ||
		strings.Contains(metrics, `onething_background_failures_total{task="scan"} 0`) {
		t.Errorf("the failures are not counted:\n%s", grep(metrics, "onething_background"))
	}
	time.Sleep(200 * time.Millisecond)
	_, body := get("/readyz")
	json.Unmarshal([]byte(body), &ready)
	if ready.Checks["background"].Detail == d {
		t.Errorf("the scan stopped after its first panic: %s", body)
	}
	stop()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	log := logs.String()
	if !strings.Contains(log, "background task panicked") || !strings.Contains(log, `"task":"reseal"`) {
		t.Errorf("the panic is not logged:\n%s", log)
	}
	if strings.Contains(log, "13881801234") {
		t.Errorf("the log holds the phone number of the panic's text")
	}
}

func grep(text, word string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
