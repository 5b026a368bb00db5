// Package reconcile makes the queue agree with the applications' state
// again when something outside the gateway made them disagree: a task whose
// state says work is due but whose job the queue lost is queued again; a
// queued job whose application says nothing is due is dropped.
//
// On the Redis backend every write puts state and jobs in one script, so
// they disagree only after an outside event: an operator's command, a
// restore of an older snapshot, a failover that lost the last writes of
// the queue but not of an application. The reconciler bounds how long such
// a disagreement lasts (one pass, every minute by default).
package reconcile

import (
	"context"
	"errors"
	"log/slog"
	"time"

	c "onething/contracts"
	"onething/gateway/store"
)

// Source is what a backend offers the reconciler (the Redis backend does).
type Source interface {
	// OpenApps lists the applications that may still need work.
	OpenApps(ctx context.Context, fn func(id string) error) error
	// Jobs lists every queued job.
	Jobs(ctx context.Context, fn func(store.Job) error) error
	// Snapshot reads an application with its revision.
	Snapshot(ctx context.Context, id string) (*c.Application, int64, error)
	// EnqueueMissing queues the jobs not queued, and says how many: a
	// job finished lately only if store.RecordOwes its kind (the caller
	// gives only jobs the record owes).
	EnqueueMissing(ctx context.Context, jobs ...store.Job) (int, error)
	// DropJob removes a job if its application is still at revision rev
	// (0: no such application).
	DropJob(ctx context.Context, job store.Job, rev int64) (bool, error)
	// TryLock makes one replica reconcile at a time.
	TryLock(ctx context.Context, ttl time.Duration) (release func(), ok bool, err error)
}

// DueJobs is the work an application's state says is owed, job by job as
// gateway/engine queues it and as its worker checks it before acting (a
// new job kind must be added here, in Wanted and in the worker):
//
//   - dispatch: a ready task, at its current step (keeping its attempt
//     count), unless the application was erased (nothing personal leaves);
//   - resume: a task waiting on a supplement the applicant has provided;
//   - cancel: a withdrawn task whose department holds a case and has not
//     confirmed the withdrawal;
//   - poll: an open case of a department that is polled (pollEvery);
//   - push: the newest version, while it is not pushed.
func DueJobs(app *c.Application, now time.Time, pollEvery map[c.Dept]time.Duration) []store.Job {
	return DueJobsVia(app, now, pollEvery, nil)
}

// DueJobsVia is DueJobs with the remote system of a task's jobs named as
// the engine names it (engine.Engine.SystemOf, e.g. hrss:511703: the
// county endpoint's bulkhead); nil: the department.
func DueJobsVia(app *c.Application, now time.Time, pollEvery map[c.Dept]time.Duration, systemOf func(c.Dept, string) string) []store.Job {
	var jobs []store.Job
	add := func(id, kind string, t *c.Task, attempt int) {
		system := string(t.Dept)
		if systemOf != nil {
			system = systemOf(t.Dept, t.County)
		}
		jobs = append(jobs, store.Job{ID: id, Kind: kind, AppID: app.ID, TaskID: t.ID, Dept: system, Attempt: attempt, NotBefore: now})
	}
	for _, t := range app.Tasks {
		switch {
		case t.State == c.TaskReady && app.Erased == nil:
			add(store.DispatchJobID(t.ID, t.Step), store.JobDispatch, t, t.Attempts)
		case resumeOwed(t):
			add(store.ResumeJobID(t.ID, t.Supplement.Round), store.JobResume, t, 0)
		case store.CancelOwed(app, t):
			add(store.CancelJobID(t.ID), store.JobCancel, t, 0)
		}
		if pollEvery[t.Dept] > 0 && pollOwed(t) {
			add(store.PollJobID(t.ID), store.JobPoll, t, 0)
		}
	}
	if app.PushedVersion < app.Version {
		jobs = append(jobs, store.Job{ID: store.PushJobID(app.ID, app.Version), Kind: store.JobPush, AppID: app.ID, Dept: "portal", NotBefore: now})
	}
	return jobs
}

func resumeOwed(t *c.Task) bool {
	return t.State == c.TaskSupplementRequired && t.Supplement != nil && t.Supplement.ProvidedAt != nil
}

func pollOwed(t *c.Task) bool { return t.CaseNo != "" && !t.State.Final() }

// Wanted reports whether a queued job still has work to do by its
// application's state (app nil: the application does not exist).
func Wanted(app *c.Application, j store.Job) bool {
	if app == nil || j.AppID != app.ID {
		return false
	}
	if j.Kind == store.JobPush {
		// Only the newest version's job sends; older ones are done.
		return app.PushedVersion < app.Version && j.ID == store.PushJobID(app.ID, app.Version)
	}
	t := app.Task(j.TaskID)
	if t == nil {
		return false
	}
	switch j.Kind {
	case store.JobDispatch:
		// A dead-lettered task's job is the worker's to park.
		return ((t.State == c.TaskReady && app.Erased == nil) || t.State == c.TaskDeadLetter) && store.DispatchJobID(t.ID, t.Step) == j.ID
	case store.JobResume:
		return resumeOwed(t) && store.ResumeJobID(t.ID, t.Supplement.Round) == j.ID
	case store.JobCancel:
		return store.CancelOwed(app, t) && store.CancelJobID(t.ID) == j.ID
	case store.JobPoll:
		return pollOwed(t) && store.PollJobID(t.ID) == j.ID
	}
	return false
}

// Reconciler runs passes on a schedule.
type Reconciler struct {
	Src   Source
	Every time.Duration // default one minute
	// PollEvery is, per department, whether (and how often) open cases
	// are polled: the configuration the engine polls by.
	PollEvery map[c.Dept]time.Duration
	// SystemOf names the remote system of a task's jobs (nil: its
	// department), as the engine does.
	SystemOf func(c.Dept, string) string
	Log      *slog.Logger
	// OnPass is told each pass's result (metrics, tests).
	OnPass func(Result)
}

// Result counts what one pass changed.
type Result struct {
	Requeued int // jobs the state says are due that the queue had lost
	Dropped  int // queued jobs nothing was due for
	Skipped  bool
}

// Pass makes the queue agree with the state once. Another replica's pass
// under way makes it skip.
func (r *Reconciler) Pass(ctx context.Context) (Result, error) {
	var res Result
	release, ok, err := r.Src.TryLock(ctx, 5*time.Minute)
	if err != nil {
		return res, err
	}
	if !ok {
		res.Skipped = true
		return res, nil
	}
	defer release()

	// Jobs first: drop those nothing is due for. The drop holds only if
	// the application has not changed since it was read.
	var junk []store.Job
	var revs []int64
	err = r.Src.Jobs(ctx, func(j store.Job) error {
		var app *c.Application
		var rev int64
		if j.AppID != "" {
			var err error
			app, rev, err = r.Src.Snapshot(ctx, j.AppID)
			if errors.Is(err, store.ErrNotFound) {
				app, rev = nil, 0
			} else if err != nil {
				return err
			}
		}
		if !Wanted(app, j) {
			junk, revs = append(junk, j), append(revs, rev)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	for i, j := range junk {
		dropped, err := r.Src.DropJob(ctx, j, revs[i])
		if err != nil {
			return res, err
		}
		if dropped {
			res.Dropped++
		}
	}

	// Then every application with work left: queue what is due and
	// missing. Queueing is idempotent by job id; a follow-up a worker
	// finished lately is not queued again (the store remembers finished
	// ids), while a dispatch or a push the record owes is, finished id or
	// not (store.RecordOwes); a job queued from a state that has just
	// moved on is harmless: the worker checks the state before it acts.
	var ids []string
	if err := r.Src.OpenApps(ctx, func(id string) error { ids = append(ids, id); return nil }); err != nil {
		return res, err
	}
	now := time.Now()
	for _, id := range ids {
		app, _, err := r.Src.Snapshot(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return res, err
		}
		n, err := r.Src.EnqueueMissing(ctx, DueJobsVia(app, now, r.PollEvery, r.SystemOf)...)
		if err != nil {
			return res, err
		}
		res.Requeued += n
	}
	return res, nil
}

// Run passes every r.Every until ctx ends.
func (r *Reconciler) Run(ctx context.Context) {
	every := r.Every
	if every <= 0 {
		every = time.Minute
	}
	log := r.Log
	if log == nil {
		log = slog.Default()
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		res, err := r.Pass(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("reconcile queue with state", "err", err)
		case res.Requeued > 0 || res.Dropped > 0:
			// The queue and the state disagreed: worth an operator's look.
			log.Warn("reconciled queue with state", "requeued", res.Requeued, "dropped", res.Dropped)
		}
		if err == nil && r.OnPass != nil {
			r.OnPass(res)
		}
	}
}
