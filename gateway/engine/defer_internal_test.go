package engine

import (
	"testing"
	"time"

	"onething/gateway/store"
)

// Jobs put back because their system's share was busy come back spread
// over the time that system needs for the jobs ahead of them, one
// share's call time apart, each after the last promised, including
// across leases; the wait stays within Poll/2 and Lease/2. Jobs put back
// because every slot was busy go by the average over all systems, and
// with no measure yet within Poll/2 and 1.5 Poll, as before.
func TestDeferredJobsComeBackWhenTheirSystemHasRoom(t *testing.T) {
	w := &Worker{Concurrency: 4, PerSystem: 2, Poll: 10 * time.Millisecond, Lease: 20 * time.Second}
	w.init()
	w.took["d"] = 80 * time.Millisecond // a share of 2: a start every 40 ms
	w.held["d"] = []heldJob{{}, {}}     // two held ahead: the first start free is the third
	now := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	job := func(system string) deferredJob { return deferredJob{job: store.Job{ID: system, Dept: system}} }
	due := w.deferUntil(now, []deferredJob{job("d"), job("d"), job("d")})
	for i, want := range []time.Duration{120 * time.Millisecond, 160 * time.Millisecond, 200 * time.Millisecond} {
		if got := due[i].at.Sub(now); got != want {
			t.Errorf("deferred job %d of d due in %v, want %v", i, got, want)
		}
	}
	// The next lease's jobs queue after those already promised.
	later := now.Add(50 * time.Millisecond)
	if got := w.deferUntil(later, []deferredJob{job("d")})[0].at.Sub(now); got != 240*time.Millisecond {
		t.Errorf("a job deferred later is due in %v from the first lease, want 240ms (after the three)", got)
	}
	// A slow system (or one that hung): within maxDeferral, spread over
	// its second half rather than all at its end.
	w.took["slow"] = time.Hour
	seen := map[time.Duration]bool{}
	for _, d := range w.deferUntil(now, []deferredJob{job("slow"), job("slow"), job("slow"), job("slow")}) {
		got := d.at.Sub(now)
		if got < maxDeferral/2 || got > maxDeferral {
			t.Errorf("a job of a slow system is due in %v, want within [%v, %v]", got, maxDeferral/2, maxDeferral)
		}
		seen[got] = true
	}
	if len(seen) < 2 {
		t.Errorf("four jobs of a slow system all due in %v: want them spread", seen)
	}
	// And never past Lease/2 when that is shorter.
	short := &Worker{Concurrency: 4, PerSystem: 2, Poll: 10 * time.Millisecond, Lease: time.Second}
	short.init()
	short.took["slow"] = time.Hour
	if got := short.deferUntil(now, []deferredJob{job("slow")})[0].at.Sub(now); got > short.Lease/2 {
		t.Errorf("with a 1s lease a job is due in %v, want at most Lease/2", got)
	}
	// A fast one: not sooner than Poll/2.
	w.took["fast"] = time.Microsecond
	if got := w.deferUntil(now, []deferredJob{job("fast")})[0].at.Sub(now); got != w.Poll/2 {
		t.Errorf("a job of a fast system is due in %v, want Poll/2 (%v)", got, w.Poll/2)
	}
	// Every slot busy, no measure over all systems yet: as before.
	full := job("d")
	full.full = true
	for range 20 {
		if got := w.deferUntil(now, []deferredJob{full})[0].at.Sub(now); got < w.Poll/2 || got >= w.Poll*3/2 {
			t.Fatalf("with no measure, a job is due in %v, want within [Poll/2, 1.5 Poll)", got)
		}
	}
}

// A system whose running call has taken far longer than its average (it
// has begun to hang) has its jobs put back by that time, not by the
// average of its earlier quick jobs (an outside tester saw 500 put-backs
// a second while the first hung calls had not ended).
func TestDeferralGoesByAHangingCall(t *testing.T) {
	w := &Worker{Concurrency: 4, PerSystem: 2, Poll: 10 * time.Millisecond, Lease: 20 * time.Second}
	w.init()
	w.took["d"] = 10 * time.Millisecond
	began := w.begin(store.Job{ID: "hung", Dept: "d"})
	now := began.Add(1200 * time.Millisecond)
	got := w.deferUntil(now, []deferredJob{{job: store.Job{ID: "x", Dept: "d"}}})[0].at.Sub(now)
	if got != 600*time.Millisecond { // 1.2 s over a share of 2
		t.Errorf("put back for %v while d's call has run 1.2 s, want 600ms", got)
	}
	w.busy["d"] = 1
	w.leave(store.Job{ID: "hung", Dept: "d"}, 1200*time.Millisecond)
	if len(w.since["d"]) != 0 {
		t.Errorf("a job that ended is still running: %v", w.since["d"])
	}
}

// A job's run time goes into its system's average and the one over all.
func TestWorkerMeasuresHowLongJobsTake(t *testing.T) {
	w := &Worker{}
	w.init()
	d := store.Job{ID: "j", Dept: "d"}
	w.busy["d"] = 2
	w.leave(d, 80*time.Millisecond)
	w.leave(d, 160*time.Millisecond)
	if got, want := w.took["d"], 90*time.Millisecond; got != want {
		t.Errorf("d's average %v, want %v (80, then 160 weighed at 1/8)", got, want)
	}
	if w.took[allSystems] != w.took["d"] || w.busy["d"] != 0 {
		t.Errorf("over all %v, busy %d; want d's average and 0", w.took[allSystems], w.busy["d"])
	}
	// Faster again is believed at once: half the way per job.
	w.busy["d"] = 1
	w.leave(d, 10*time.Millisecond)
	if got, want := w.took["d"], 50*time.Millisecond; got != want {
		t.Errorf("d's average %v after a 10ms job, want %v", got, want)
	}
}
