package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"onething/civil"
	c "onething/contracts"
	"onething/gateway/store"
	"onething/gateway/workflow"
)

// Department is one department system as the gateway uses it (an adapter):
// open a case, forward a supplement to it, withdraw it. OpenCase's
// callbackBase is the gateway's public base URL the case's callbackUrl is
// built on (the dispatch job's, so that every sender of one key sends
// one body).
type Department interface {
	OpenCase(ctx context.Context, app *c.Application, task *c.Task, callbackBase, idempotencyKey, requestID string) (*c.CaseResponse, error)
	Supplement(ctx context.Context, task *c.Task, sub *c.SupplementRequest, idempotencyKey, requestID string) (*c.CaseResponse, error)
	Cancel(ctx context.Context, task *c.Task, req *c.CancelRequest, idempotencyKey, requestID string) (*c.CaseResponse, error)
	Poll(ctx context.Context, task *c.Task, requestID string) (*c.CaseView, error)
}

// Notifier pushes status to the portal.
type Notifier interface {
	Push(ctx context.Context, push *c.StatusPush, requestID string) error
}

// Retryable is what the worker needs to know of a failed call; the adapters'
// errors implement it. An error without it is treated as retryable.
type Retryable interface {
	IsRetryable() bool
	RetryDelay() time.Duration // 0: use the backoff
	IsBreakerOpen() bool
}

// Policy bounds durable retries.
type Policy struct {
	MaxAttempts int           // dispatch attempts before a dead letter
	BaseBackoff time.Duration // first retry delay; doubles each attempt
	MaxBackoff  time.Duration // cap of the delay
}

func (p *Policy) defaults(attempts int) {
	if p.MaxAttempts == 0 {
		p.MaxAttempts = attempts
	}
	if p.BaseBackoff == 0 {
		p.BaseBackoff = time.Second
	}
	if p.MaxBackoff == 0 {
		p.MaxBackoff = 5 * time.Minute
	}
}

// Backoff is the delay before retry number attempt (1-based): exponential,
// capped, with full jitter so that many failed tasks do not retry in step.
func (p Policy) Backoff(attempt int) time.Duration {
	d := p.BaseBackoff << min(attempt-1, 30)
	if d <= 0 || d > p.MaxBackoff {
		d = p.MaxBackoff
	}
	return d/2 + rand.N(d/2+1)
}

// Observer is told what the worker does (metrics).
type Observer interface {
	Dispatched(dept c.Dept, outcome string)
	DeadLettered(dept c.Dept)
	Pushed(ok bool)
}

type nopObserver struct{}

func (nopObserver) Dispatched(c.Dept, string) {}
func (nopObserver) DeadLettered(c.Dept)       {}
func (nopObserver) Pushed(bool)               {}

// OpsObserver is what an Observer may also be told (metrics): durable
// retries by remote system and job kind, tasks parked because their due
// date was near, polled events (source EventPolled), jobs a shutdown
// handed back, jobs put back for want of room, by remote system.
type OpsObserver interface {
	Retried(system, kind string)
	ParkedPastDue(dept c.Dept)
	EventObserver
	HandedBack(n int)
	PutBack(system string, n int)
}

type nopOps struct{}

func (nopOps) Retried(string, string)                           {}
func (nopOps) ParkedPastDue(c.Dept)                             {}
func (nopOps) EventApplied(c.Dept, string, string, c.TaskState) {}
func (nopOps) HandedBack(int)                                   {}
func (nopOps) PutBack(string, int)                              {}

// ops is the Observer's OpsObserver side, if it has one.
func (w *Worker) ops() OpsObserver {
	if o, ok := w.Observer.(OpsObserver); ok {
		return o
	}
	return nopOps{}
}

// DefaultConcurrency is how many jobs a Worker runs at once when its
// Concurrency is not set.
const DefaultConcurrency = 16

// Worker takes due jobs from the store's queue and runs them.
type Worker struct {
	Engine      *Engine
	Departments map[c.Dept]Department
	Portal      Notifier
	Policy      Policy
	PushPolicy  Policy
	// PollPolicy spaces the reads of a case while it is open (its base is
	// usually the department's PollEvery; it grows to MaxBackoff).
	PollPolicy  Policy
	Concurrency int
	// PerSystem caps the jobs running against one remote system (a
	// department or the portal), so that one system that hangs cannot
	// take every slot and hold up the others (bulkheads).
	PerSystem int
	Lease     time.Duration // how long a job is held before it is due again
	Poll      time.Duration // idle poll interval
	Log       *slog.Logger
	Observer  Observer
	// Drain is how long Run, once its context ends, lets the jobs under
	// way finish before it cuts them short (0: at once). Either way it
	// takes no new job, and a job cut short is handed back to the queue
	// at once, so another worker or replica (or this one after a restart)
	// takes it without waiting for its lease to run out.
	Drain time.Duration
	// Panicked is told of a job that panicked (the service logs and
	// counts it); without it the worker logs it. Either way the worker
	// and the process go on, and the job, still leased, is tried again
	// when its lease ends, as after a failed store write.
	Panicked func(j store.Job, p any)
	// Quarantined is told of a job whose stored record was damaged, which
	// the store parked as a dead letter instead of leasing it
	// (store.Job.Quarantined); without it the worker logs it.
	Quarantined func(j store.Job)

	wake    chan struct{}
	timers  wakeTimes // WakeAt's pending wake-ups
	once    sync.Once
	running sync.WaitGroup
	busyMu  sync.Mutex
	busy    map[string]int
	// took is how long a job has been taking, by system and over all
	// (key allSystems): a moving average, for deferUntil.
	took map[string]time.Duration
	// deferNext is the next start each room has not promised to a
	// deferred job yet (deferUntil).
	deferNext map[string]time.Time
	// since is when each running job began, by system and job id: a
	// system whose calls hang has an average of its earlier, quick jobs
	// until one ends (deferUntil).
	since map[string]map[string]time.Time
	// held are jobs leased ahead, waiting for a slot or their system's
	// share, by system, oldest first (hold); heldN counts them; stopping:
	// no more are held or taken.
	heldMu   sync.Mutex
	held     map[string][]heldJob
	heldN    int
	stopping bool
}

// heldJob is a leased job waiting in the worker for a slot.
type heldJob struct {
	job   store.Job
	since time.Time
}

func (w *Worker) init() {
	w.once.Do(func() {
		w.wake = make(chan struct{}, 1)
		if w.Concurrency == 0 {
			w.Concurrency = DefaultConcurrency
		}
		if w.PerSystem == 0 {
			w.PerSystem = max(1, w.Concurrency/4)
		}
		w.busy = map[string]int{}
		w.took = map[string]time.Duration{}
		w.deferNext = map[string]time.Time{}
		w.since = map[string]map[string]time.Time{}
		w.held = map[string][]heldJob{}
		if w.Lease == 0 {
			w.Lease = time.Minute
		}
		if w.Poll == 0 {
			w.Poll = 200 * time.Millisecond
		}
		if w.Log == nil {
			w.Log = slog.Default()
		}
		if w.Observer == nil {
			w.Observer = nopObserver{}
		}
		w.Policy.defaults(8)
		w.PushPolicy.defaults(0)
		w.PollPolicy.defaults(0)
	})
}

// Wake makes an idle worker look for work now.
func (w *Worker) Wake() {
	w.init()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// WakeAt makes an idle worker look for work at t (a job due then: a
// status push that settles, Engine.PushSettle), so such a job waits no
// longer than it must for the worker's next idle poll. Wake-ups a few
// milliseconds apart are taken together.
func (w *Worker) WakeAt(t time.Time) {
	w.init()
	w.timers.add(t, w.Wake)
}

// wakeTimes keeps the pending wake-ups of WakeAt, in buckets of
// wakeGrain, with one timer set to the earliest.
type wakeTimes struct {
	mu    sync.Mutex
	at    []int64 // bucket ends (unix ns), ascending, no repeats
	timer *time.Timer
}

// wakeGrain is the width of a WakeAt bucket: each wake-up is rounded up
// to its bucket's end, so a burst of wake-ups costs one lease.
const wakeGrain = 5 * time.Millisecond

func (q *wakeTimes) add(t time.Time, wake func()) {
	b := (t.UnixNano()/int64(wakeGrain) + 1) * int64(wakeGrain)
	q.mu.Lock()
	defer q.mu.Unlock()
	i, found := slices.BinarySearch(q.at, b)
	if found {
		return
	}
	q.at = slices.Insert(q.at, i, b)
	if i == 0 {
		q.arm(wake)
	}
}

// arm sets the timer to the earliest wake-up; q.mu is held.
func (q *wakeTimes) arm(wake func()) {
	if len(q.at) == 0 {
		return
	}
	d := time.Until(time.Unix(0, q.at[0]))
	if q.timer == nil {
		q.timer = time.AfterFunc(d, func() { q.fire(wake) })
		return
	}
	q.timer.Reset(d)
}

// fire wakes the worker and moves the timer to the next wake-up.
func (q *wakeTimes) fire(wake func()) {
	q.mu.Lock()
	now := time.Now().UnixNano()
	n := 0
	for n < len(q.at) && q.at[n] <= now {
		n++
	}
	q.at = q.at[n:]
	q.arm(wake)
	q.mu.Unlock()
	wake()
}

// Run works until ctx ends, then takes no new job and gives the jobs
// under way Drain to finish; it cuts the others short, hands them back to
// the queue, and returns when every job has stopped.
func (w *Worker) Run(ctx context.Context) {
	w.init()
	slots := make(chan struct{}, w.Concurrency)
	// Jobs run on a context of their own, which ends Drain after ctx.
	jobCtx, cutJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer cutJobs()
	defer w.drain(cutJobs)
	for {
		// Checked on every turn: a turn that leased all it asked for
		// goes round again at once, and must still stop at a shutdown.
		if ctx.Err() != nil {
			return
		}
		// A job held for a slot whose system's share came free while it
		// was being held (no job of that system left to pass one on).
		w.startHeld(jobCtx, slots)
		free := w.Concurrency - len(slots)
		// Lease for the free slots, and jobs to hold for when running
		// ones end (up to holdPerSlot times the slots): a lease waits for
		// a durable write (on bbolt a commit behind the others), and a
		// slot that waited for the next lease each time its job ended
		// stood idle meanwhile.
		n := free + w.holdRoom()
		var jobs []store.Job
		if n > 0 {
			// Not cut short by a shutdown: a lease the store made must
			// come back to this worker, or its jobs stay leased, unknown
			// to anyone, until the lease runs out.
			lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			var err error
			jobs, err = w.Engine.Store.Lease(lctx, time.Now(), n, w.Lease)
			cancel()
			if err != nil {
				w.Log.Error("lease jobs", "err", err)
			}
		}
		if ctx.Err() != nil {
			// Shutting down: what was just leased goes back at once.
			for _, j := range jobs {
				if j.Quarantined != "" {
					w.quarantined(j) // parked by the store already
				} else {
					w.handBack(ctx, j)
				}
			}
			return
		}
		var deferred []deferredJob
		for _, j := range jobs {
			if j.Quarantined != "" {
				w.quarantined(j)
				continue
			}
			if len(slots) == cap(slots) || !w.enter(j.Dept) {
				// No slot free, or its system has its share busy: the job
				// waits here for one, or if enough already wait, goes back
				// to the queue until its room should be free (deferUntil),
				// without using an attempt.
				if !w.hold(j) {
					deferred = append(deferred, deferredJob{job: j, full: len(slots) == cap(slots)})
				}
				continue
			}
			slots <- struct{}{}
			w.start(jobCtx, slots, j)
		}
		for _, d := range deferred {
			w.ops().PutBack(d.job.Dept, 1)
		}
		w.putBackAt(ctx, w.deferUntil(time.Now(), deferred))
		w.putBack(ctx, w.staleHeld(), time.Now())
		if len(jobs) == n && n > 0 {
			continue // there may be more due
		}
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-time.After(w.Poll):
		}
	}
}

// start runs j, for which the caller took a slot and its system's share.
// When it ends, its slot passes to the oldest held job whose system has a
// share free, if one is, and the loop is woken to lease more.
func (w *Worker) start(ctx context.Context, slots chan struct{}, j store.Job) {
	w.running.Add(1)
	go func() {
		began := w.begin(j)
		defer func() {
			w.leave(j, time.Since(began))
			if next, ok := w.takeHeldToRun(); ok {
				w.start(ctx, slots, next)
			} else {
				<-slots
			}
			w.Wake()
			w.running.Done()
		}()
		defer w.recoverJob(j)
		w.run(ctx, j)
	}()
}

// The worker holds up to holdPerShare shares' worth of jobs for one
// system and holdPerSlot times Concurrency in all. A share's worth for a
// system and Concurrency in all still put back a third of what the
// end-to-end bench leased, each a write, for a system's share frees in
// the time of one of its calls (tens of ms) while a job put back is away
// for at least Poll/2. A hung system's held jobs wait at most Lease/2.
const (
	holdPerShare = 3
	holdPerSlot  = 2
)

// hold keeps a leased job that cannot start yet (no slot free, or its
// system's share busy), to start it when a running job ends, and reports
// whether it did (see holdPerShare). The job stays leased meanwhile.
// Putting it back instead is a write to the store, and a system with more
// work than its share (the certificate's department in the end-to-end
// bench) had most of what each lease brought put back, again and again.
func (w *Worker) hold(j store.Job) bool {
	w.heldMu.Lock()
	defer w.heldMu.Unlock()
	if w.stopping || len(w.held[j.Dept]) >= holdPerShare*w.PerSystem || w.heldN >= holdPerSlot*w.Concurrency {
		return false
	}
	w.held[j.Dept] = append(w.held[j.Dept], heldJob{job: j, since: time.Now()})
	w.heldN++
	return true
}

// holdRoom is how many more jobs the worker would hold.
func (w *Worker) holdRoom() int {
	w.heldMu.Lock()
	defer w.heldMu.Unlock()
	if w.stopping {
		return 0
	}
	return holdPerSlot*w.Concurrency - w.heldN
}

// startHeld starts held jobs whose system has a share free, while slots
// are free. Only Run takes slots.
func (w *Worker) startHeld(ctx context.Context, slots chan struct{}) {
	for len(slots) < cap(slots) {
		j, ok := w.takeHeldToRun()
		if !ok {
			return
		}
		slots <- struct{}{}
		w.start(ctx, slots, j)
	}
}

// takeHeldToRun takes the oldest held job whose system has a share free
// and whose lease is less than half gone (staleHeld hands back the others
// while their lease is still the worker's), and takes that share.
func (w *Worker) takeHeldToRun() (store.Job, bool) {
	w.heldMu.Lock()
	defer w.heldMu.Unlock()
	if w.stopping {
		return store.Job{}, false
	}
	w.busyMu.Lock()
	defer w.busyMu.Unlock()
	best, found := "", false
	for system, q := range w.held {
		if len(q) == 0 || time.Since(q[0].since) >= w.Lease/2 || (system != "" && w.busy[system] >= w.PerSystem) {
			continue
		}
		if !found || q[0].since.Before(w.held[best][0].since) {
			best, found = system, true
		}
	}
	if !found {
		return store.Job{}, false
	}
	q := w.held[best]
	w.busy[best]++
	w.held[best] = q[1:]
	w.heldN--
	return q[0].job, true
}

// staleHeld takes out the jobs held for half their lease or more.
func (w *Worker) staleHeld() []store.Job {
	w.heldMu.Lock()
	defer w.heldMu.Unlock()
	var out []store.Job
	for system, q := range w.held {
		n := 0
		for n < len(q) && time.Since(q[n].since) >= w.Lease/2 {
			out = append(out, q[n].job)
			n++
		}
		w.held[system] = q[n:]
		w.heldN -= n
	}
	return out
}

// stopHolding takes out every held job; none is held after it.
func (w *Worker) stopHolding() []store.Job {
	w.heldMu.Lock()
	defer w.heldMu.Unlock()
	w.stopping = true
	var out []store.Job
	for system, q := range w.held {
		for _, h := range q {
			out = append(out, h.job)
		}
		delete(w.held, system)
	}
	w.heldN = 0
	return out
}

// deferredJob is a leased job the worker has no room for: no slot or
// share free, and no room to hold it.
type deferredJob struct {
	job store.Job
	// full: every slot was busy (else its system's share was).
	full bool
}

// dueJob is a leased job to put back, due again at at.
type dueJob struct {
	job store.Job
	at  time.Time
}

// maxDeferral bounds how long a job put back for want of room waits (and
// Lease/2 does): a system that hung, and so has a long average, may have
// recovered, and its jobs are then the ones it should be doing.
const maxDeferral = 2 * time.Second

// deferUntil says when each deferred job should be due again: at the
// next start its room (its system's share, or every slot when all were
// busy) has not promised yet, going by how long jobs there have been
// taking. The first such start is after the jobs held for that room;
// each job deferred takes the next one (deferNext), so a backlog is
// spread over the time the room needs to work through it. Put back for a
// short fixed delay, a job was leased only to be put back again, a write
// each time, until its system had worked through its backlog (the
// end-to-end bench put back more jobs than it ran). Never sooner than
// Poll/2; past maxDeferral (or Lease/2), spread over its second half
// rather than all due at once; with no measure yet, between Poll/2 and
// 1.5 Poll.
func (w *Worker) deferUntil(now time.Time, deferred []deferredJob) []dueJob {
	if len(deferred) == 0 {
		return nil
	}
	w.heldMu.Lock()
	held := map[string]int{allSystems: w.heldN}
	for system, q := range w.held {
		held[system] = len(q)
	}
	w.heldMu.Unlock()
	w.busyMu.Lock()
	defer w.busyMu.Unlock()
	out := make([]dueJob, len(deferred))
	for i, d := range deferred {
		room, share := d.job.Dept, w.PerSystem
		if d.full || room == "" {
			room, share = allSystems, w.Concurrency
		}
		at := now.Add(w.Poll/2 + time.Duration(rand.N(int64(w.Poll))))
		if avg := w.expectedTook(room, now); avg > 0 {
			step := avg / time.Duration(share)
			wait := max(step*time.Duration(held[room]+1), w.deferNext[room].Sub(now), w.Poll/2)
			if longest := max(min(maxDeferral, w.Lease/2), w.Poll/2); wait > longest {
				wait = longest/2 + time.Duration(rand.N(int64(longest/2)+1))
			}
			at = now.Add(wait)
			w.deferNext[room] = at.Add(step)
		}
		out[i] = dueJob{job: d.job, at: at}
	}
	return out
}

// putBack makes leased jobs due again at at, attempts unchanged.
func (w *Worker) putBack(ctx context.Context, jobs []store.Job, at time.Time) {
	due := make([]dueJob, len(jobs))
	for i, j := range jobs {
		due[i] = dueJob{job: j, at: at}
	}
	w.putBackAt(ctx, due)
}

// putBackAt makes each leased job due again at its time, attempts
// unchanged, all at once: on bbolt they share a commit, on Redis an fsync.
func (w *Worker) putBackAt(ctx context.Context, jobs []dueJob) {
	if len(jobs) == 0 {
		return
	}
	var wg sync.WaitGroup
	for _, d := range jobs {
		wg.Go(func() {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if err := w.Engine.Store.Retry(rctx, d.job, d.at); err != nil {
				w.Log.Error("defer job", "job", d.job.ID, "err", err)
			}
		})
	}
	wg.Wait()
}

// quarantined reports a job the store parked because its record was
// damaged.
func (w *Worker) quarantined(j store.Job) {
	w.Observer.DeadLettered(DeptOfSystem(j.Dept))
	if w.Quarantined != nil {
		w.Quarantined(j)
		return
	}
	w.Log.Error("damaged job record parked as a dead letter", "job", j.ID, "why", j.Quarantined)
}

// recoverJob keeps a job's panic from taking the process down.
func (w *Worker) recoverJob(j store.Job) {
	p := recover()
	if p == nil {
		return
	}
	if w.Panicked != nil {
		w.Panicked(j, p)
		return
	}
	w.Log.Error("job panicked; tried again when its lease ends", "job", j.ID, "kind", j.Kind, "panic", fmt.Sprintf("%T", p))
}

// drain hands back the jobs held for a slot and waits for the jobs under
// way, cutting them short after Drain.
func (w *Worker) drain(cut context.CancelFunc) {
	for _, j := range w.stopHolding() {
		w.handBack(context.Background(), j)
	}
	done := make(chan struct{})
	go func() { w.running.Wait(); close(done) }()
	if w.Drain > 0 {
		t := time.NewTimer(w.Drain)
		defer t.Stop()
		select {
		case <-done:
			return
		case <-t.C:
			w.Log.Warn("shutdown: jobs still under way after the drain time; cutting them short and handing them back", "drain", w.Drain.String())
		}
	}
	cut()
	<-done
}

// handBack gives a job cut short by a shutdown back to the queue, due now
// and with its attempts unchanged; if that fails too, its lease hands it
// back when it runs out.
func (w *Worker) handBack(ctx context.Context, j store.Job) error {
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := w.Engine.Store.Retry(hctx, j, time.Now()); err != nil {
		w.Log.Warn("shutdown: could not hand a job back; its lease will", "job", j.ID, "err", err)
		return nil
	}
	w.ops().HandedBack(1)
	return nil
}

// enter takes a slot of a remote system's share, if one is free.
func (w *Worker) enter(system string) bool {
	w.busyMu.Lock()
	defer w.busyMu.Unlock()
	if system != "" && w.busy[system] >= w.PerSystem {
		return false
	}
	w.busy[system]++
	return true
}

// begin notes that j, holding a slot of its system's share, begins now.
func (w *Worker) begin(j store.Job) time.Time {
	now := time.Now()
	w.busyMu.Lock()
	defer w.busyMu.Unlock()
	if w.since[j.Dept] == nil {
		w.since[j.Dept] = map[string]time.Time{}
	}
	w.since[j.Dept][j.ID] = now
	return now
}

// leave gives back the slot of its system's share j took, having run for
// took.
func (w *Worker) leave(j store.Job, took time.Duration) {
	w.busyMu.Lock()
	w.busy[j.Dept]--
	delete(w.since[j.Dept], j.ID)
	w.took[j.Dept] = movingAverage(w.took[j.Dept], took)
	w.took[allSystems] = movingAverage(w.took[allSystems], took)
	w.busyMu.Unlock()
}

// expectedTook is how long a job of room is expected to take: its
// average, or longer when one of its jobs has been running longer than
// that (a system that has begun to hang). Under busyMu.
func (w *Worker) expectedTook(room string, now time.Time) time.Duration {
	avg := w.took[room]
	for _, began := range w.since[room] {
		avg = max(avg, now.Sub(began))
	}
	return avg
}

// allSystems keys what is kept over every system in Worker.took and
// deferNext (no system is named so: they are departments, endpoints and
// "portal").
const allSystems = "\x00all"

// movingAverage weighs a new sample at 1/8, or at 1/2 when it is shorter
// (the first is taken whole): a system that was slow and is fast again
// is believed quickly, and its jobs put back come back soon.
func movingAverage(avg, sample time.Duration) time.Duration {
	switch {
	case avg == 0:
		return sample
	case sample < avg:
		return avg + (sample-avg)/2
	}
	return avg + (sample-avg)/8
}

func (w *Worker) run(ctx context.Context, j store.Job) {
	// Every call made for one application carries its trace (W3C
	// traceparent), whichever worker or replica makes it.
	ctx = c.WithTrace(ctx, c.TraceForID(j.AppID))
	var err error
	switch j.Kind {
	case store.JobDispatch:
		err = w.dispatch(ctx, j)
	case store.JobPush:
		err = w.push(ctx, j)
	case store.JobResume, store.JobCancel:
		err = w.followUp(ctx, j)
	case store.JobPoll:
		err = w.poll(ctx, j)
	default:
		w.Log.Error("unknown job kind; dropped", "job", j.ID)
		err = w.Engine.Store.Ack(ctx, j)
	}
	switch {
	case err != nil && ctx.Err() != nil:
		// Cut short by a shutdown before its last write (a read, an ack
		// or a commit on the cancelled context failed): hand it back now
		// rather than leave it leased, unknown to anyone, until the lease
		// runs out.
		w.handBack(ctx, j)
	case err != nil:
		// The store failed us: leave the lease to run out and retry then.
		w.Log.Error("job failed", "job", j.ID, "err", err)
	}
}

// load reads the application a job is about; gone says the job was for
// an application that no longer exists and has been acked.
func (w *Worker) load(ctx context.Context, j store.Job) (app *c.Application, gone bool, err error) {
	app, err = w.Engine.Store.Get(ctx, j.AppID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, true, w.Engine.Store.Ack(ctx, j)
	}
	return app, false, err
}

// loadConfirmed is load for a state about to leave the gateway for good:
// read once the store's replicas hold it (store.ConfirmedReader), where
// the store has replicas.
func (w *Worker) loadConfirmed(ctx context.Context, j store.Job) (app *c.Application, gone bool, err error) {
	cr, ok := w.Engine.Store.(store.ConfirmedReader)
	if !ok {
		return w.load(ctx, j)
	}
	app, err = cr.GetConfirmed(ctx, j.AppID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, true, w.Engine.Store.Ack(ctx, j)
	}
	return app, false, err
}

// dispatch opens a task's case in its department.
func (w *Worker) dispatch(ctx context.Context, j store.Job) error {
	st := w.Engine.Store
	app, gone, err := w.load(ctx, j)
	if gone || err != nil {
		return err
	}
	t := app.Task(j.TaskID)
	if app.Erased != nil {
		if mayHaveReached(t, j) {
			// Nothing personal leaves any more, so the request cannot go
			// again; an earlier one may have opened a case the department
			// keeps: an operator settles it by hand (outsider: it was
			// acked and forgotten).
			j.LastError = c.ErasedUnsettledAfter(j.LastError)
			w.Log.Warn("task dead-lettered: erased while its case request may have reached the department", "task", t.ID, "dept", t.Dept, "attempts", j.Attempt)
			w.Observer.DeadLettered(t.Dept)
			return st.Park(ctx, j)
		}
		return st.Ack(ctx, j) // erased: nothing personal leaves any more
	}
	if t != nil && t.State == c.TaskDeadLetter && store.DispatchJobID(t.ID, t.Step) == j.ID {
		// Marked dead but not yet parked (a crash in between): park it now,
		// so that operators see it.
		return st.Park(ctx, j)
	}
	if (t == nil || t.State != c.TaskReady || store.DispatchJobID(t.ID, t.Step) != j.ID) && !mayHaveReached(t, j) {
		return st.Ack(ctx, j) // nothing due any more (event came first, withdrawn, …)
	}
	dept := w.Departments[t.Dept]
	if dept == nil {
		return w.fail(ctx, j, app, t, errors.New("no adapter for "+string(t.Dept)), false)
	}
	base := j.BaseURL
	if base == "" {
		base = w.Engine.BaseURL // queued by an earlier version, or rebuilt by the reconciler
	}
	resp, callErr := dept.OpenCase(w.unlessErased(ctx, app.ID), app, t, base, j.ID, j.ID)
	if callErr != nil {
		if ctx.Err() != nil {
			// Shutting down, the call cut short: it may have reached the
			// department, which the job must remember (mayHaveReached).
			j.LastError = cutShort
			return w.handBack(ctx, j)
		}
		return w.fail(ctx, j, app, t, callErr, true)
	}
	// The case and the end of the job in one write.
	_, _, err = w.Engine.commitAck(ctx, app.ID, "", &j, func(app *c.Application) (workflow.Change, error) {
		return w.Engine.applyCase(app, j.TaskID, resp)
	})
	if err != nil {
		return err
	}
	w.Observer.Dispatched(t.Dept, string(resp.Status))
	return nil
}

// unlessErased lets a call carrying the application's personal data be
// sent again within the call (the client's in-call retries) only while
// the application is not erased; an unreadable record stops them too (the
// durable queue retries, and looks again).
func (w *Worker) unlessErased(ctx context.Context, appID string) context.Context {
	return c.WithResendCheck(ctx, func() bool {
		app, err := w.Engine.Store.Get(ctx, appID)
		return err == nil && app.Erased == nil
	})
}

// mayHaveReached reports whether the dispatch j of task t must still be
// sent although its task no longer waits for it (withdrawn, or reported on
// by the department without a case number): an earlier attempt of this
// very step failed or was cut short, or an earlier holder of the job died
// or hung holding it (Retaken), so the department may hold its case
// without the gateway knowing the case number, and nothing else could
// ever tell it to cancel or learn its decision (an outside tester's
// department approved an item the gateway showed as cancelled). Sent
// again with the same idempotency key, the request only asks the
// department for the case it opened, or opens it; the answer is applied
// as any (ApplyCase: a withdrawn item's case is then cancelled, or its
// decision stands).
//
// An attempt counts when it used one (a call deferred while the breaker
// rests never left). A job merely handed back at shutdown before its call
// began is neither.
func mayHaveReached(t *c.Task, j store.Job) bool {
	return t != nil && t.CaseNo == "" && store.DispatchJobID(t.ID, t.Step) == j.ID &&
		t.State != c.TaskDeadLetter && (j.Attempt > 0 || j.LastError == cutShort || j.Retaken)
}

// cutShort is the job's error when its call was cut short at shutdown.
const cutShort = "cut short at shutdown: the case request may have reached the department"

// fail decides between a durable retry and a dead letter. A task is
// parked for an operator when its attempts run out, when the department
// refuses it as malformed, or when waiting any longer would take it past
// the legal due date of the case (the operator must be told in time).
func (w *Worker) fail(ctx context.Context, j store.Job, app *c.Application, t *c.Task, callErr error, mayRetry bool) error {
	st := w.Engine.Store
	retry, delay, breakerOpen := mayRetry, time.Duration(0), false
	var r Retryable
	if errors.As(callErr, &r) {
		retry = retry && r.IsRetryable()
		delay, breakerOpen = r.RetryDelay(), r.IsBreakerOpen()
	}
	if !breakerOpen {
		j.Attempt++
	}
	if !breakerOpen || j.LastError == "" {
		// A deferral sends nothing: the error of the last try that did
		// stays (outsider: a dead letter named the breaker, not the HTTP
		// 500 of the request that may have reached the department).
		j.LastError = callErr.Error()
	}
	if delay == 0 {
		delay = w.Policy.Backoff(max(j.Attempt, 1))
	}
	next := time.Now().Add(delay)
	late := pastDue(app, w.Engine.Flow.Now().Add(delay)) // the due date is a business date

	dead := !retry || j.Attempt >= w.Policy.MaxAttempts || late
	if breakerOpen && !late {
		// Deferred, not failed: the department is resting; no attempt used.
		w.Observer.Dispatched(t.Dept, "deferred")
		return st.Retry(ctx, j, next)
	}
	_, _, err := w.Engine.commit(ctx, j.AppID, "", func(app *c.Application) (workflow.Change, error) {
		err := w.Engine.Flow.DispatchFailed(app, t.ID, j.Attempt, j.LastError, dead)
		if dead {
			return workflow.Change{Outcome: workflow.Applied}, err
		}
		return workflow.Change{Outcome: workflow.Duplicate}, err
	})
	if err != nil {
		return err
	}
	if dead {
		if late {
			w.Log.Error("task parked: retrying would pass the case's legal due date", "task", t.ID, "dept", t.Dept, "due", app.Status.DueDate, "err", j.LastError)
		} else {
			w.Log.Warn("task dead-lettered", "task", t.ID, "dept", t.Dept, "attempts", j.Attempt, "err", j.LastError)
		}
		w.Observer.DeadLettered(t.Dept)
		if late {
			w.ops().ParkedPastDue(t.Dept)
		}
		// The job keeps its id (and so its idempotency key) for a replay.
		return st.Park(ctx, j)
	}
	w.Observer.Dispatched(t.Dept, "retry")
	w.ops().Retried(j.Dept, j.Kind) // the remote system: its endpoint
	w.Log.Info("dispatch failed; retrying later", "task", t.ID, "dept", t.Dept, "attempt", j.Attempt, "err", j.LastError)
	return st.Retry(ctx, j, next)
}

// pastDue reports whether an instant's China date is after the case's
// legal due date; an unknown due date never is.
func pastDue(app *c.Application, at time.Time) bool {
	if app == nil || app.Status.DueDate == "" {
		return false
	}
	due, err := civil.Parse(app.Status.DueDate)
	return err == nil && civil.Of(at).After(due)
}

// push sends the application's current status to the portal.
func (w *Worker) push(ctx context.Context, j store.Job) error {
	st := w.Engine.Store
	app, gone, err := w.loadConfirmed(ctx, j)
	if errors.Is(err, store.ErrNotReplicated) {
		// Not on the replicas yet: a failover could still lose this
		// state, and the portal would keep it. Push once they have it.
		w.ops().Retried("portal", j.Kind)
		w.Log.Warn("status push held back: the state read is not on the Redis replicas yet", "app", j.AppID, "err", err)
		if err := st.Retry(ctx, j, time.Now().Add(w.PushPolicy.Backoff(max(j.Attempt, 1)))); err != nil && !errors.Is(err, store.ErrNotReplicated) {
			return err
		}
		return nil
	}
	if gone || err != nil {
		return err
	}
	// Only the job of the newest version sends (every version has its job,
	// queued in the write that made it); older ones have nothing to add.
	if app.PushedVersion >= app.Version || j.ID != store.PushJobID(app.ID, app.Version) {
		return st.Ack(ctx, j)
	}
	push := w.Engine.Flow.Push(app)
	if err := w.Portal.Push(ctx, push, j.ID); err != nil {
		if ctx.Err() != nil {
			return w.handBack(ctx, j)
		}
		var r Retryable
		if errors.As(err, &r) && r.IsBreakerOpen() {
			// Deferred, not failed (as a dispatch): the portal's breaker
			// is open, nothing was sent, no attempt is used, and the push
			// is tried when the breaker lets a probe through, not after a
			// backoff grown by the pushes it refused.
			delay := r.RetryDelay()
			if delay <= 0 {
				delay = w.PushPolicy.Backoff(1)
			}
			return st.Retry(ctx, j, time.Now().Add(delay))
		}
		w.Observer.Pushed(false)
		w.ops().Retried("portal", j.Kind)
		j.Attempt++
		j.LastError = err.Error()
		w.Log.Warn("status push failed", "app", app.ID, "version", push.Version, "attempt", j.Attempt, "err", err)
		return st.Retry(ctx, j, time.Now().Add(w.PushPolicy.Backoff(j.Attempt)))
	}
	w.Observer.Pushed(true)
	return st.UpdateAck(ctx, app.ID, j, func(app *c.Application) ([]store.Job, error) {
		if w.pushedOtherHistory(app, push) {
			// The portal took, under this version, a state this record does
			// not hold at it: the record read before the push was lost in
			// a Redis failover (read on the old primary, acked on the
			// promoted replica). The portal keeps the newest version it
			// has, so the record's own state must go out under a newer
			// one: move past the version pushed and push again. Recording
			// it as pushed instead would leave the portal with the lost
			// state and, with the version ahead of the record's, drop the
			// pushes of the versions up to it: a final status never
			// arriving.
			w.Log.Warn("status push of a state the store no longer holds (a failover lost it); pushing the current state under a newer version",
				"app", app.ID, "pushed", push.Version, "version", app.Version)
			app.Version = push.Version + 1
			return []store.Job{{ID: store.PushJobID(app.ID, app.Version), Kind: store.JobPush, AppID: app.ID, Dept: "portal", NotBefore: time.Now()}}, nil
		}
		if app.PushedVersion < push.Version {
			app.PushedVersion = push.Version
			// The business clock, as the case's other times: retention
			// counts from this day (onething dev --now moves it too).
			at := w.Engine.Flow.Now()
			app.PushedAt = &at
		}
		return nil, nil
	})
}

// pushedOtherHistory reports whether a push sent from an earlier read of
// an application carries a state the application (read again) does not
// have at that version: a version it never reached, or the same version
// with another state of the application or of an item (its state, its
// case). Within one history a version names one state, so only a lost
// write (a failover) makes them differ. What moves with the clock alone
// (overdue marks) is not compared.
func (w *Worker) pushedOtherHistory(app *c.Application, sent *c.StatusPush) bool {
	switch {
	case sent.Version > app.Version:
		return true
	case sent.Version < app.Version:
		return false
	}
	now := w.Engine.Flow.Push(app.Clone())
	if now.Status.State != sent.Status.State || len(now.Items) != len(sent.Items) {
		return true
	}
	for i, it := range now.Items {
		was := sent.Items[i]
		if it.TaskID != was.TaskID || it.State != was.State || it.CaseNo != was.CaseNo {
			return true
		}
	}
	return false
}

// followUp forwards a supplement to, or announces a withdrawal to, the
// department holding a task's case. Neither may be lost: failures retry
// with backoff for as long as it takes (capped delay), and are logged.
func (w *Worker) followUp(ctx context.Context, j store.Job) error {
	st := w.Engine.Store
	app, gone, err := w.load(ctx, j)
	if gone || err != nil {
		return err
	}
	t := app.Task(j.TaskID)
	if t == nil || w.Departments[t.Dept] == nil {
		return st.Ack(ctx, j)
	}
	dept := w.Departments[t.Dept]
	var resp *c.CaseResponse
	var callErr error
	var apply func(app *c.Application) (workflow.Change, error)
	switch j.Kind {
	case store.JobResume:
		if app.Erased != nil {
			return st.Ack(ctx, j) // erased: the supplement is gone, and stays here
		}
		if t.State != c.TaskSupplementRequired || t.Supplement == nil || store.ResumeJobID(t.ID, t.Supplement.Round) != j.ID {
			return st.Ack(ctx, j)
		}
		sub := &c.SupplementRequest{TaskID: t.ID, Materials: t.Supplement.Materials, Note: t.SupplementNote}
		if sub.Materials == nil {
			sub.Materials = []string{}
		}
		resp, callErr = dept.Supplement(w.unlessErased(ctx, app.ID), t, sub, j.ID, j.ID)
		apply = func(app *c.Application) (workflow.Change, error) { return w.Engine.applyCase(app, t.ID, resp) }
	default:
		if !store.CancelOwed(app, t) {
			return st.Ack(ctx, j) // told already, or it decided before the withdrawal
		}
		why := c.Message{ZH: "申请人撤回申请", EN: "withdrawn by the applicant"}
		switch {
		case app.Erased != nil:
			// The notice of a forced erasure: it names the task, nothing
			// personal (the applicant's reason went with the erasure).
			why = workflow.ErasureEnded
		case t.Reason != nil:
			why = *t.Reason
		}
		resp, callErr = dept.Cancel(ctx, t, &c.CancelRequest{TaskID: t.ID, Reason: why}, j.ID, j.ID)
		apply = func(app *c.Application) (workflow.Change, error) { return w.Engine.Flow.Notified(app, t.ID) }
	}
	if callErr != nil {
		if ctx.Err() != nil {
			return w.handBack(ctx, j)
		}
		var r Retryable
		if errors.As(callErr, &r) && !r.IsRetryable() {
			// A refusal: the department has no such open case any more
			// (it decided first). Nothing left to forward, but the item's
			// state here may now differ from the department's: the
			// refusal goes on the timeline (a new version, pushed), so a
			// clerk and the portal see that it must be checked, not only
			// a log line.
			w.Log.Warn("department refused a follow-up", "job", j.ID, "err", callErr)
			note := followUpRefused[j.Kind]
			_, _, err := w.Engine.commitAck(ctx, app.ID, "", &j, func(app *c.Application) (workflow.Change, error) {
				t := app.Task(j.TaskID)
				if t == nil {
					return workflow.Change{}, nil
				}
				app.Timeline = append(app.Timeline, c.Entry{At: w.Engine.Flow.Now(), TaskID: t.ID, Kind: "follow_up_refused", Source: string(t.Dept), Note: &note})
				return workflow.Change{Outcome: workflow.Stale, Noted: true}, nil
			})
			return err
		}
		j.Attempt++
		j.LastError = callErr.Error()
		if j.Attempt >= w.Policy.MaxAttempts {
			w.Log.Error("follow-up keeps failing; still retrying", "job", j.ID, "attempts", j.Attempt, "err", callErr)
		}
		w.ops().Retried(j.Dept, j.Kind) // the remote system: its endpoint
		return st.Retry(ctx, j, time.Now().Add(w.Policy.Backoff(j.Attempt)))
	}
	_, _, err = w.Engine.commitAck(ctx, app.ID, "", &j, apply)
	return err
}

// followUpRefused is the timeline's note of a follow-up the department
// refused for good (a 4xx: its case is closed, or no supplement is due).
var followUpRefused = map[string]c.Message{
	store.JobResume: {ZH: "部门拒收转交的补正材料（其办件可能已办结），请与部门核实办理结果", EN: "the department refused the forwarded supplement (its case may be decided): check the result with it"},
	store.JobCancel: {ZH: "部门拒收撤回通知（其办件可能已办结），请与部门核实办理结果", EN: "the department refused the withdrawal notice (its case may be decided): check the result with it"},
}

// poll reads a department's case and applies the events it shows, exactly
// as if they had been posted (the same event ids, so each applies once
// whichever way it arrives). It reads again, less and less often, until the
// task is final.
func (w *Worker) poll(ctx context.Context, j store.Job) error {
	st := w.Engine.Store
	app, gone, err := w.load(ctx, j)
	if gone || err != nil {
		return err
	}
	t := app.Task(j.TaskID)
	if app.Erased != nil || t == nil || t.State.Final() || t.CaseNo == "" || w.Departments[t.Dept] == nil {
		return st.Ack(ctx, j)
	}
	view, err := w.Departments[t.Dept].Poll(ctx, t, j.ID)
	if err != nil {
		if ctx.Err() != nil {
			return w.handBack(ctx, j)
		}
		w.ops().Retried(j.Dept, j.Kind) // the remote system: its endpoint
		j.Attempt++
		j.LastError = err.Error()
		return st.Retry(ctx, j, time.Now().Add(w.PollPolicy.Backoff(j.Attempt)))
	}
	final := false
	for i := range view.Events {
		ev := view.Events[i]
		if ev.TaskID != t.ID {
			continue // not ours: never apply a case's events to another task
		}
		if problems := ev.Validate(w.Engine.Flow.Now()); len(problems) > 0 {
			// Read back, not posted: the department is not answered, so
			// the event is left out as a callback would be refused.
			w.Log.Warn("polled event refused: it does not satisfy the contract", "task", t.ID, "event", ev.EventID, "fields", fieldsOf(problems))
			continue
		}
		outcome, state, err := w.Engine.ApplyEventFrom(ctx, t.Dept, w.Engine.system(app, t), &ev)
		var illegal *workflow.IllegalTransitionError
		var invalid *workflow.InvalidEventError
		switch {
		case errors.As(err, &illegal):
			w.Log.Warn("polled event refused", "task", t.ID, "event", ev.EventID, "err", err)
		case errors.As(err, &invalid):
			w.Log.Warn("polled event refused: it contradicts its application", "task", t.ID, "event", ev.EventID, "fields", fieldsOf(invalid.Problems))
		case err != nil:
			return err
		default:
			w.ops().EventApplied(t.Dept, EventPolled, string(outcome), state)
		}
		final = final || state.Final()
	}
	if final {
		return st.Ack(ctx, j)
	}
	j.Attempt++
	return st.Retry(ctx, j, time.Now().Add(w.PollPolicy.Backoff(j.Attempt)))
}

// fieldsOf names the fields of problems, for a log line (never a value).
func fieldsOf(problems []c.FieldError) string {
	names := make([]string, len(problems))
	for i, p := range problems {
		names[i] = p.Field + ":" + p.Code
	}
	return strings.Join(names, ",")
}
