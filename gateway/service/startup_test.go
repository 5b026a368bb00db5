package service

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	c "onething/contracts"
	"onething/gateway/api"
	"onething/gateway/store"
	"onething/gateway/store/redistest"
	"onething/gateway/store/storetest"
)

// walkGate holds back every walk of the store the gateway makes in the
// background (the reseal, the scan, the reconciler, the retention sweep)
// until the test opens it, and notes which started.
type walkGate struct {
	open    chan struct{}
	mu      sync.Mutex
	started map[string]bool
}

func newWalkGate() *walkGate { return &walkGate{open: make(chan struct{}), started: map[string]bool{}} }

func (g *walkGate) wait(ctx context.Context, walk string) error {
	g.mu.Lock()
	g.started[walk] = true
	g.mu.Unlock()
	select {
	case <-g.open:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *walkGate) walks() map[string]bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := map[string]bool{}
	for k, v := range g.started {
		out[k] = v
	}
	return out
}

// gatedBolt and gatedRedis are the backends with their walks gated (the
// embedded pointer keeps every other method the service looks for).
type gatedBolt struct {
	*store.Bolt
	g *walkGate
}

func (s gatedBolt) Reseal(ctx context.Context) (store.ResealStats, error) {
	if err := s.g.wait(ctx, "reseal"); err != nil {
		return store.ResealStats{}, err
	}
	return s.Bolt.Reseal(ctx)
}

func (s gatedBolt) OpenApps(ctx context.Context, fn func(string) error) error {
	if err := s.g.wait(ctx, "open applications"); err != nil {
		return err
	}
	return s.Bolt.OpenApps(ctx, fn)
}

func (s gatedBolt) TryLockTask(ctx context.Context, task string, ttl time.Duration) (func(), bool, error) {
	if err := s.g.wait(ctx, "retention"); err != nil {
		return nil, false, err
	}
	return s.Bolt.TryLockTask(ctx, task, ttl)
}

type gatedRedis struct {
	*store.Redis
	g *walkGate
}

func (s gatedRedis) Reseal(ctx context.Context) (store.ResealStats, error) {
	if err := s.g.wait(ctx, "reseal"); err != nil {
		return store.ResealStats{}, err
	}
	return s.Redis.Reseal(ctx)
}

func (s gatedRedis) OpenApps(ctx context.Context, fn func(string) error) error {
	if err := s.g.wait(ctx, "open applications"); err != nil {
		return err
	}
	return s.Redis.OpenApps(ctx, fn)
}

func (s gatedRedis) Jobs(ctx context.Context, fn func(store.Job) error) error {
	if err := s.g.wait(ctx, "jobs"); err != nil {
		return err
	}
	return s.Redis.Jobs(ctx, fn)
}

func (s gatedRedis) TryLockTask(ctx context.Context, task string, ttl time.Duration) (func(), bool, error) {
	if err := s.g.wait(ctx, "retention"); err != nil {
		return nil, false, err
	}
	return s.Redis.TryLockTask(ctx, task, ttl)
}

// startupConfig is a gateway on storeURL whose departments and portal
// are never reached (a closed port).
func startupConfig(t *testing.T, storeURL string) Config {
	secret := "whsec_MfKQ9r8GKYqrTAjgPfnvNnRvXgvtdGd6zmoWQpZMHbk="
	cfg := Config{Listen: "127.0.0.1:0", BaseURL: "http://127.0.0.1:1", Store: storeURL,
		PortalSecrets: []string{secret}, PortalPushURL: "http://127.0.0.1:9", PortalPushSecret: secret,
		ReadTokens: []NamedToken{{Subject: "district-office", Token: "a-read-token-of-some-length-0123"}}, Departments: map[c.Dept]Dept{},
		DataProtection: testProtection(), ScanEvery: Duration(10 * time.Millisecond), ReconcileEvery: Duration(10 * time.Millisecond)}
	for _, d := range c.Depts {
		cfg.Departments[d] = Dept{BaseURL: "http://127.0.0.1:9", AppKey: "k", Secret: "s", EventSecrets: []string{secret}}
	}
	return cfg
}

// fillForStartup stores n applications, open ones, with their first jobs,
// and leases some jobs as a process that then died would have.
func fillForStartup(t *testing.T, cfg Config, n int) {
	t.Helper()
	initStore(t, cfg)
	st, err := OpenStore(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	bulk := st.(interface {
		Bulk(context.Context, []*c.Application) error
	})
	ctx := context.Background()
	now := time.Now()
	var apps []*c.Application
	var jobs []store.Job
	for i := range n {
		id := fmt.Sprintf("A%06d", i)
		a := storetest.ListApp(id, "511702102001", now.Add(-time.Duration(n-i)*time.Minute), "2099-01-01")
		apps = append(apps, a)
		for _, task := range a.Tasks {
			jobs = append(jobs, store.Job{ID: store.DispatchJobID(task.ID, 1), Kind: store.JobDispatch, AppID: id, TaskID: task.ID, Dept: string(task.Dept), NotBefore: now})
		}
	}
	if err := bulk.Bulk(ctx, apps); err != nil {
		t.Fatal(err)
	}
	if err := st.Enqueue(ctx, jobs...); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Lease(ctx, now, 10, time.Hour); err != nil || len(got) == 0 {
		t.Fatalf("lease: %v, %v", got, err)
	}
}

// /healthz and /readyz answer 200 on a filled store while every walk the
// gateway makes of the store at start is held back: readiness waits for
// none of them (the reseal, the scan, the reconciler and the retention
// sweep run behind the serving gateway). Issue 21: a gateway on a
// 1,000,000-application bbolt file took some 30 s to start listening. And
// /readyz still says not ready when the store stops answering.
func TestReadyBeforeTheWalks(t *testing.T) {
	t.Run("bolt", func(t *testing.T) {
		cfg := startupConfig(t, "bolt://"+filepath.Join(t.TempDir(), "o.db"))
		fillForStartup(t, cfg, 3000)
		g := newWalkGate()
		st, err := OpenStore(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		readyBeforeWalks(t, cfg, gatedBolt{st.(*store.Bolt), g}, g, nil)
	})
	t.Run("redis", func(t *testing.T) {
		srv := redistest.Start(t)
		cfg := startupConfig(t, srv.URL())
		fillForStartup(t, cfg, 3000)
		g := newWalkGate()
		st, err := OpenStore(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		readyBeforeWalks(t, cfg, gatedRedis{st.(*store.Redis), g}, g, srv.Kill)
	})
}

func readyBeforeWalks(t *testing.T, cfg Config, st store.Store, g *walkGate, loseStore func()) {
	t.Helper()
	s, err := Assemble(cfg, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
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
	defer func() {
		close(g.open)
		stop()
		<-done
	}()
	url := "http://" + ln.Addr().String()
	// The listener takes connections before Run serves them: a request
	// must not wait forever on one.
	cl := &http.Client{Timeout: 5 * time.Second}
	get := func(path string) (int, []byte) {
		resp, err := cl.Get(url + path)
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	// Wait (bounded only so that a failure ends) until both answer 200
	// and the background walks have started and are being held.
	var healthz, readyz int
	var body []byte
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		healthz, _ = get("/healthz")
		readyz, body = get("/readyz")
		w := g.walks()
		if healthz == http.StatusOK && readyz == http.StatusOK && w["reseal"] && w["open applications"] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthz %d, readyz %d (%s) with the walks %v held back: the gateway waits for a walk of the store", healthz, readyz, body, w)
		}
	}
	var ready struct {
		Ready  bool                 `json:"ready"`
		Checks map[string]api.Check `json:"checks"`
	}
	if err := json.Unmarshal(body, &ready); err != nil || !ready.Ready || !ready.Checks["store"].OK || !ready.Checks["workers"].OK {
		t.Errorf("readyz while the walks are held: %s", body)
	}
	if loseStore == nil {
		return
	}
	// Honest: the store gone, /readyz says so.
	loseStore()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if readyz, body = get("/readyz"); readyz == http.StatusServiceUnavailable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz %d (%s) with the store gone, want 503", readyz, body)
		}
	}
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Errorf("healthz %d with the store gone: liveness does not depend on the store", code)
	}
}
