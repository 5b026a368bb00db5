package service

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	c "onething/contracts"
	"onething/gateway/api"
	"onething/gateway/store"
)

// Background tasks: the reseal at start, the scan behind the gauges, the
// reconciler, the worker loop and every job it runs. None may take the
// process down: a panic in one is recovered, and a panic or an error is
// logged (without personal data), counted
// (onething_background_failures_total{task}) and shown in /readyz's
// "background" check. A task that loops (scan, reconcile, workers) starts
// again after a pause. Failures do not make the replica unready: it still
// serves what does not need the failed task, and the operator is told.
//
// The tasks also turn a memory fault into a panic (debug.SetPanicOnFault):
// a page of a memory-mapped store file that cannot be read is then a
// failure of the task, not a crash. The store's open already refuses a
// file shorter than its meta says, the usual cause.

// bgFailure is the record of one task's failures.
type bgFailure struct {
	count int
	last  time.Time
	what  string // "panic: …" or "error", never personal data
}

type bgState struct {
	mu    sync.Mutex
	tasks map[string]*bgFailure
}

// taskFailed records, counts and (for errors; panics are logged where
// they are recovered) says nothing more: the caller has logged.
func (s *Service) taskFailed(task, what string) {
	s.bg.mu.Lock()
	if s.bg.tasks == nil {
		s.bg.tasks = map[string]*bgFailure{}
	}
	f := s.bg.tasks[task]
	if f == nil {
		f = &bgFailure{}
		s.bg.tasks[task] = f
	}
	f.count++
	f.last, f.what = time.Now().UTC(), what
	s.bg.mu.Unlock()
	s.health.BackgroundFailed(task)
}

// panicText describes a panic for logs and /readyz: a runtime error's own
// message (an index, a nil pointer: no data), anything else its type and,
// for the log only, its text with ID and phone numbers masked.
func panicText(p any, forLog bool) string {
	if re, ok := p.(runtime.Error); ok {
		return re.Error()
	}
	if !forLog {
		return fmt.Sprintf("%T", p)
	}
	text := fmt.Sprint(p)
	if len(text) > 300 {
		text = text[:300] + "…"
	}
	return fmt.Sprintf("%T: %s", p, c.MaskFreeText(text))
}

// guard runs fn; a panic in it is logged, counted as a failure of task
// and reported as false.
func (s *Service) guard(task string, fn func()) (ok bool) {
	prev := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(prev)
	defer func() {
		if p := recover(); p != nil {
			ok = false
			s.log.Error("background task panicked; the gateway keeps running", "task", task,
				"panic", panicText(p, true), "stack", string(debug.Stack()))
			s.taskFailed(task, "panic: "+panicText(p, false))
		}
	}()
	fn()
	return true
}

// goTask runs fn in the background under guard. With restart, fn runs
// again after a panic (after 1 s, doubling to a minute) until ctx ends;
// a return ends the task.
func (s *Service) goTask(ctx context.Context, wg *sync.WaitGroup, task string, restart bool, fn func(context.Context)) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		pause := time.Second
		for {
			if s.guard(task, func() { fn(ctx) }) || !restart || ctx.Err() != nil {
				return
			}
			s.log.Warn("background task starts again", "task", task, "after", pause.String())
			select {
			case <-ctx.Done():
				return
			case <-time.After(pause):
			}
			pause = min(2*pause, time.Minute)
		}
	}()
}

// jobPanicked is the worker's report of a job that panicked (its lease
// runs out and it is tried again then, like a job whose store write
// failed).
func (s *Service) jobPanicked(j store.Job, p any) {
	s.log.Error("job panicked; the gateway keeps running and the job is tried again when its lease ends",
		"task", "job", "job", j.ID, "kind", j.Kind, "dept", j.Dept, "panic", panicText(p, true), "stack", string(debug.Stack()))
	s.taskFailed("job", "panic: "+panicText(p, false))
}

// jobQuarantined is the worker's report of a job whose stored record was
// damaged: the store parked it as a dead letter (listed for operators)
// instead of handing it out again and again.
func (s *Service) jobQuarantined(j store.Job) {
	s.log.Error("damaged job record parked as a dead letter; run onething store check and see GET /v1/admin/dead-letters",
		"task", "job", "job", j.ID, "why", j.Quarantined)
	s.taskFailed("job", "a damaged job record was parked as a dead letter: "+j.ID)
}

// backgroundCheck is /readyz's "background" detail.
func (s *Service) backgroundCheck() api.Check {
	s.bg.mu.Lock()
	defer s.bg.mu.Unlock()
	if len(s.bg.tasks) == 0 {
		return api.Check{OK: true, Detail: "no background task has failed"}
	}
	names := make([]string, 0, len(s.bg.tasks))
	for n := range s.bg.tasks {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, n := range names {
		f := s.bg.tasks[n]
		parts = append(parts, fmt.Sprintf("%s: %d failure(s), last %s (%s)", n, f.count, f.last.Format(time.RFC3339), f.what))
	}
	return api.Check{OK: true, Detail: "background tasks failed (the gateway keeps running; see the log and onething_background_failures_total): " + strings.Join(parts, "; ")}
}
