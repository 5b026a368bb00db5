package bench

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	c "onething/contracts"
	"onething/gateway/service"
	"onething/gateway/store"
	"onething/gateway/store/redistest"
	"onething/mocks"
)

// relayRun is the relay and the four department mocks in this process,
// with the bench's portal receiver.
type relayRun struct {
	mocks map[c.Dept]*mocks.Dept
	rc    *receiver
	url   string
}

func startRelayRun(t *testing.T, put rawPut) *relayRun {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	run := &relayRun{mocks: map[c.Dept]*mocks.Dept{}}
	depts := map[c.Dept]service.Dept{}
	deciders := mocks.Deciders(nil, time.Nanosecond)
	for _, d := range c.Depts {
		county := ""
		if service.PerCounty(d) {
			county = service.HomeCounty
		}
		cfg := mocks.Config{Dept: d, Path: mocks.CasePaths[d], AppKey: "relay-" + string(d), Secret: randHex(24), County: county,
			EventSecret: newSecret(), Delay: time.Nanosecond, Log: quiet}
		m, err := mocks.NewDept(cfg, deciders[d])
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(m.Handler())
		t.Cleanup(func() { srv.Close(); m.Close() })
		run.mocks[d] = m
		depts[d] = service.Dept{BaseURL: srv.URL, AppKey: cfg.AppKey, Secret: cfg.Secret, EventSecrets: []string{cfg.EventSecret}}
	}
	rc, err := newReceiver()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rc.srv.Close() })
	run.rc = rc
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	run.url = "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := relayConfig{Departments: depts, PortalSecret: testPortalSecret, PushURL: rc.url, PushSecret: newSecret(), Workers: 8, WorkersPerSystem: 2}
	rl, err := newRelay(ctx, cfg, run.url, put, quiet)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: rl.handler()}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close(); cancel(); rl.jobs.Wait() })
	return run
}

var testPortalSecret = newSecret()

// send submits n applications and waits until each accepted one is
// reported completed (or a minute has passed: then the test fails on the
// count, not on the time).
func (run *relayRun) send(t *testing.T, n int) Load {
	t.Helper()
	s, err := newSender(run.url, testPortalSecret, "t"+randHex(3), 4)
	if err != nil {
		t.Fatal(err)
	}
	in, err := closedLoop(context.Background(), s, 4, 0, n, nil, func(string, time.Time) {})
	if err != nil {
		t.Fatal(err)
	}
	for limit := time.Now().Add(time.Minute); run.rc.count() < in.Accepted && time.Now().Before(limit); {
		time.Sleep(10 * time.Millisecond)
	}
	return in
}

// testRelay runs applications through the relay on a store and checks
// that it completes every application it accepted, with the case
// requests the gateway's plan makes, and one write per step; it returns
// how many writes that is, for the caller to find in its store.
func testRelay(t *testing.T, put rawPut) int {
	var writes atomic.Int64
	run := startRelayRun(t, func(ctx context.Context, appID, step string, value []byte) error {
		err := put(ctx, appID, step, value)
		if err == nil {
			writes.Add(1)
		}
		return err
	})
	const n = 12
	in := run.send(t, n)
	if in.Accepted < n || in.Failed != 0 {
		t.Fatalf("accepted %d of %d, %d failed", in.Accepted, in.Sent, in.Failed)
	}
	if got := run.rc.count(); got != in.Accepted {
		t.Fatalf("%d of %d accepted applications completed", got, in.Accepted)
	}
	plan, err := planTemplate()
	if err != nil {
		t.Fatal(err)
	}
	dispatched, events := 0, 0
	for _, d := range c.Depts {
		want := 0
		for _, task := range plan {
			if task.Dept == d && !task.State.Final() {
				want++
			}
		}
		dispatched += want * in.Accepted
		st := run.mocks[d].Stats()
		if st.Requests != want*in.Accepted || st.Cases != want*in.Accepted {
			t.Errorf("%s: %d requests, %d cases; want %d per application", d, st.Requests, st.Cases, want)
		}
		for task, k := range st.Effects {
			if k != 1 {
				t.Errorf("%s: task %s opened %d times", d, task, k)
			}
		}
		for _, cs := range run.mocks[d].Cases() {
			events += len(cs.Events)
		}
	}
	if dispatched == 0 || events == 0 {
		t.Fatalf("%d case requests, %d events", dispatched, events)
	}
	// A push is written once it is sent, and a push of an older version
	// may still arrive after the last one (workers send concurrently):
	// wait until the writes agree with the pushes received, twenty reads
	// in a row (a minute at most: then the test fails on the count).
	var pushes, want int
	for limit, agreed := time.Now().Add(time.Minute), 0; agreed < 20 && time.Now().Before(limit); time.Sleep(10 * time.Millisecond) {
		run.rc.mu.Lock()
		pushes = run.rc.pushes
		run.rc.mu.Unlock()
		want = in.Accepted + dispatched + events + pushes
		if writes.Load() == int64(want) {
			agreed++
		} else {
			agreed = 0
		}
	}
	if got := writes.Load(); got != int64(want) {
		t.Errorf("%d writes; want %d: %d submissions, %d case answers, %d events and %d pushes", got, want, in.Accepted, dispatched, events, pushes)
	}
	return want
}

// On bbolt the relay writes through the store's committer, one
// transaction per step.
func TestRelayBolt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.db")
	b, err := store.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			b.Close()
		}
	})
	want := testRelay(t, func(_ context.Context, appID, step string, value []byte) error {
		return b.PutRaw("relay", appID+"|"+step, value)
	})
	closed = true
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := 0
	db.View(func(tx *bolt.Tx) error {
		if bk := tx.Bucket([]byte(store.RawBucketPrefix + "relay")); bk != nil {
			n = bk.Stats().KeyN
		}
		return nil
	})
	if n != want {
		t.Errorf("the file holds %d of the relay's %d writes", n, want)
	}
}

// On Redis, through the write path of the store's own writes.
func TestRelayRedis(t *testing.T) {
	srv := redistest.Start(t)
	r, err := store.OpenRedis(context.Background(), fmt.Sprintf("redis://%s/0", srv.Addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	want := testRelay(t, func(ctx context.Context, appID, step string, value []byte) error {
		return r.PutRaw(ctx, "relay:"+appID, step, value)
	})
	ctx := context.Background()
	n := 0
	iter := r.Client().Scan(ctx, 0, r.Prefix()+":"+store.RawBucketPrefix+"relay:*", 100).Iterator()
	for iter.Next(ctx) {
		k, err := r.Client().HLen(ctx, iter.Val()).Result()
		if err != nil {
			t.Fatal(err)
		}
		n += int(k)
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Errorf("Redis holds %d of the relay's %d writes", n, want)
	}
}

// The relay's figures, its ratio and the target on it appear in both
// forms of the report; a report without them says so in the target.
func TestReportShowsRelay(t *testing.T) {
	cpu := func(proc string, own float64) *CPUCost {
		return &CPUCost{Procs: map[string]float64{proc: own, "mocks": 1}, Machine: own + 2, Ceiling: 100}
	}
	rep := &Report{Backends: []Backend{
		{Name: "bolt",
			E2E:         &E2E{Accepted: 10, Completed: 10, PerSec: 40, CaseRequests: 5, Pushes: 3, CPU: cpu("gateway", 9)},
			E2EBaseline: &E2E{Accepted: 10, Completed: 10, PerSec: 160, CaseRequests: 5, Pushes: 2, CPU: cpu("relay", 3)}},
		{Name: "redis", E2E: &E2E{Accepted: 10, Completed: 10, PerSec: 70}},
	}}
	for i := range rep.Backends {
		rep.Backends[i].E2ERatio = e2eRatio(&rep.Backends[i])
	}
	rep.Targets = targets(rep)
	if len(rep.Targets) != 2 {
		t.Fatalf("targets %+v", rep.Targets)
	}
	bt, rt := rep.Targets[0], rep.Targets[1]
	if bt.Name != "bolt: end to end over the end-to-end baseline" || bt.Met || !strings.HasPrefix(bt.Measured, "0.25 (40 completed/s against 160/s)") ||
		!strings.Contains(bt.Measured, "gateway 9.00 against relay 3.00 ms") {
		t.Errorf("bolt target %+v", bt)
	}
	if rt.Met || rt.Measured != "no end-to-end baseline in this run" {
		t.Errorf("redis target %+v", rt)
	}
	rep.Backends[0].E2E.PerSec = 96
	rep.Backends[0].E2ERatio = e2eRatio(&rep.Backends[0])
	if tg := targets(rep)[0]; !tg.Met {
		t.Errorf("0.6 of the baseline not met: %+v", tg)
	}
	var table, md strings.Builder
	rep.Table(&table)
	rep.Markdown(&md)
	for _, want := range []string{"e2e raw baseline (relay)", "160/s", "gateway/baseline 0.60", "relay 3.00 ms", "5.0 case requests and 2.0 pushes"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	for _, want := range []string{"| bolt | raw relay (baseline) | 160 |", "gateway / end-to-end baseline = **0.60**", "| bolt | raw relay (baseline) | 5.00 ms | 3.00 ms |",
		"end-to-end raw baseline", "| bolt: end to end over the end-to-end baseline | ≥ 0.60 |"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}
