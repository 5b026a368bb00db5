package engine_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"onething/gateway/engine"
	"onething/gateway/store"
)

// gated leases its jobs once; each job's run (an Ack: the kind is not
// one the worker knows) waits until the test lets it end. Retry records
// what was put back.
type gated struct {
	store.Store
	mu      sync.Mutex
	jobs    []store.Job
	started chan string
	release map[string]chan struct{}
	retried []string
}

func newGated(jobs ...store.Job) *gated {
	g := &gated{jobs: jobs, started: make(chan string, len(jobs)), release: map[string]chan struct{}{}}
	for _, j := range jobs {
		g.release[j.ID] = make(chan struct{})
	}
	return g
}

func (g *gated) Lease(_ context.Context, _ time.Time, n int, _ time.Duration) ([]store.Job, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := g.jobs[:min(n, len(g.jobs))]
	g.jobs = g.jobs[len(out):]
	return out, nil
}

func (g *gated) Ack(ctx context.Context, j store.Job) error {
	g.started <- j.ID
	select {
	case <-g.release[j.ID]:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *gated) Retry(_ context.Context, j store.Job, _ time.Time) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.retried = append(g.retried, j.ID)
	return nil
}

// waiting is how many jobs the store has not leased yet.
func (g *gated) waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.jobs)
}

func (g *gated) retriedIDs() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.retried)
}

func (g *gated) waitStarted(t *testing.T, want string) {
	t.Helper()
	select {
	case id := <-g.started:
		if id != want {
			t.Fatalf("%s started, want %s", id, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not start", want)
	}
}

// gatedWorker is a worker on g with concurrency slots, one per system.
func gatedWorker(g *gated, concurrency int) *engine.Worker {
	return &engine.Worker{Engine: &engine.Engine{Store: g}, Concurrency: concurrency, PerSystem: 1, Poll: time.Hour,
		Lease: time.Minute, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// runGated runs a gatedWorker until the function it returns stops it.
func runGated(g *gated, concurrency int) (stop func()) {
	return runWorker(gatedWorker(g, concurrency))
}

// runWorker runs w until the function it returns stops it.
func runWorker(w *engine.Worker) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	return func() {
		cancel()
		<-done
	}
}

func odd(id, system string) store.Job { return store.Job{ID: id, Kind: "odd", Dept: system} }

// A job leased while its system's share of slots is busy waits in the
// worker and starts when a job of that system ends, with no write to the
// store (a deferral was one per job, and most of each lease was deferred
// while one department had more work than its share); past three shares'
// worth it is deferred as before.
func TestWorkerHoldsAJobForItsSystemsSlot(t *testing.T) {
	g := newGated(odd("a1", "d"), odd("a2", "d"), odd("h1", "d"), odd("h2", "d"), odd("a3", "d"), odd("b1", "e"))
	w := gatedWorker(g, 8)
	obs := &countingObserver{}
	w.Observer = obs
	defer runWorker(w)()
	got := map[string]bool{}
	for range 2 {
		got[<-g.started] = true
	}
	if !got["a1"] || !got["b1"] {
		t.Fatalf("started %v, want a1 and b1 (one of each system)", got)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(g.retriedIDs()) == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if retried := g.retriedIDs(); !slices.Equal(retried, []string{"a3"}) {
		t.Fatalf("put back %v, want only a3 (a2, h1 and h2 held for d's slot, d holding three shares' worth)", retried)
	}
	if n := obs.putBackOf("d"); n != 1 {
		t.Errorf("onething_jobs_put_back_total{system=d} would count %d, want 1", n)
	}
	close(g.release["a1"])
	g.waitStarted(t, "a2")
	// The store leases each job once: a2 came from the worker's hold.
	if retried := g.retriedIDs(); !slices.Equal(retried, []string{"a3"}) {
		t.Errorf("put back %v after a1 ended, want only a3", retried)
	}
	close(g.release["a2"])
	close(g.release["b1"])
}

// A job held at shutdown goes back to the queue at once, as a job cut
// short does.
func TestWorkerHandsBackHeldJobsAtShutdown(t *testing.T) {
	g := newGated(odd("a1", "d"), odd("a2", "d"))
	w := gatedWorker(g, 4)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	g.waitStarted(t, "a1")
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker did not stop")
	}
	// a2, held, is handed back; a1, cut short, too.
	retried := g.retriedIDs()
	slices.Sort(retried)
	if !slices.Equal(retried, []string{"a1", "a2"}) {
		t.Errorf("handed back %v, want a1 (cut short) and a2 (held)", retried)
	}
	select {
	case id := <-g.started:
		t.Errorf("%s started after the shutdown", id)
	default:
	}
}

// The worker leases ahead: with every slot busy it holds as many jobs
// again, and a job that ends passes its slot to one of them at once
// instead of leaving it idle until the next lease (a durable write) comes
// back.
func TestWorkerLeasesAheadOfItsSlots(t *testing.T) {
	g := newGated(odd("a1", "d"), odd("b1", "e"))
	defer runGated(g, 1)()
	g.waitStarted(t, "a1")
	deadline := time.Now().Add(10 * time.Second)
	for g.waiting() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("b1 was not leased while a1 held the only slot")
		}
		time.Sleep(time.Millisecond)
	}
	close(g.release["a1"])
	g.waitStarted(t, "b1")
	if retried := g.retriedIDs(); len(retried) != 0 {
		t.Errorf("put back %v, want none", retried)
	}
	close(g.release["b1"])
}
