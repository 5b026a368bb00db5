// Package engine drives applications: it applies submissions, department
// answers and events to the store through the workflow rules, and runs the
// workers that take queued work (dispatches, status pushes).
package engine

import (
	"context"
	"crypto/rand"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"onething/civil"
	c "onething/contracts"
	"onething/gateway/seal"
	"onething/gateway/store"
	"onething/gateway/workflow"
)

// Engine binds the rules to the store.
type Engine struct {
	Store store.Store
	Flow  *workflow.Workflow
	// Wake is called after a write that queued work, so a worker in this
	// process starts at once instead of at its next poll.
	Wake func()
	// PollEvery says, per department, how soon after a case is opened to
	// read it back (polling; 0 or absent: rely on callbacks alone).
	PollEvery map[c.Dept]time.Duration
	// Keys key the digest each application keeps of its submission
	// (digest.go): the data-protection keyring's index keys. Nil (tests
	// of other packages) makes an unkeyed digest.
	Keys *seal.Keyring
	// SystemOf names the remote system a task's jobs call (store.Job.Dept,
	// the worker's bulkhead): the endpoint of its department serving its
	// county, e.g. "hrss:511703". Nil: the department.
	SystemOf func(dept c.Dept, county string) string
	// Events is told of each department event a department posted (the
	// worker tells its Observer of polled ones); nil: nobody.
	Events EventObserver
	// Erasures is told of each erasure on request (erase.go); nil: nobody.
	Erasures ErasureObserver
	// BaseURL is the gateway's public base URL (config baseUrl): the
	// dispatch jobs this engine queues carry it (store.Job.BaseURL), and
	// a dispatch job without one is sent with it.
	BaseURL string
	// PushSettle is how long a change's status push waits before it is
	// due (config pushSettle): a change made meanwhile replaces the
	// waiting push with its own (store.Job.Replaces), so a burst of
	// changes to one application costs one push of its newest version.
	// 0 pushes at once.
	PushSettle time.Duration
	// WakeAt is called after a write that queued a push due later (at
	// the time it becomes due), so a worker in this process takes it then
	// instead of at its next idle poll; nil: the poll alone.
	WakeAt func(time.Time)
}

// EventObserver is told of a department event applied (or found a
// duplicate, or stale): its source (EventPosted, EventPolled), outcome and
// the task's state after it.
type EventObserver interface {
	EventApplied(dept c.Dept, source, outcome string, state c.TaskState)
}

// The sources of a department event (a metric label: keep it to these).
const (
	EventPosted = "posted" // POST /v1/departments/{dept}/events
	EventPolled = "polled" // read back by the worker's poll
)

// eventApplied tells Events of a posted event.
func (e *Engine) eventApplied(dept c.Dept, source string, outcome workflow.Outcome, state c.TaskState) {
	if e.Events != nil {
		e.Events.EventApplied(dept, source, string(outcome), state)
	}
}

// system is the remote system of a task's jobs.
func (e *Engine) system(app *c.Application, t *c.Task) string {
	if e.SystemOf == nil {
		return string(t.Dept)
	}
	return e.SystemOf(t.Dept, t.County)
}

// DeptOfSystem is the department a remote system's name belongs to
// ("hrss:511703" → hrss).
func DeptOfSystem(system string) c.Dept {
	d, _, _ := strings.Cut(system, ":")
	return c.Dept(d)
}

// commit applies fn to an application in one atomic write. When fn changed
// the application, the status is recomputed, the version bumped and a
// status push queued, together with dispatches for tasks that became ready.
func (e *Engine) commit(ctx context.Context, appID, onceKey string, fn func(app *c.Application) (workflow.Change, error)) (workflow.Change, *c.Application, error) {
	return e.commitAck(ctx, appID, onceKey, nil, fn)
}

// commitAck is commit that also acks the job whose outcome the change
// records, in the same write (done, a worker's job; nil: none).
func (e *Engine) commitAck(ctx context.Context, appID, onceKey string, done *store.Job, fn func(app *c.Application) (workflow.Change, error)) (workflow.Change, *c.Application, error) {
	return e.commitJobs(ctx, appID, onceKey, done, nil, fn)
}

// commitJobs is commitAck that lets keep adjust the jobs the change
// queues before they are written (nil: as queued).
func (e *Engine) commitJobs(ctx context.Context, appID, onceKey string, done *store.Job, keep func([]store.Job), fn func(app *c.Application) (workflow.Change, error)) (workflow.Change, *c.Application, error) {
	var ch workflow.Change
	var saved *c.Application
	update := func(app *c.Application) ([]store.Job, error) {
		saved = nil // the store may run update again (it must change nothing else)
		var err error
		ch, err = fn(app)
		if err != nil {
			return nil, err
		}
		saved = app
		if ch.Outcome != workflow.Applied && !ch.Noted {
			return nil, nil
		}
		e.Flow.Recompute(app)
		app.Version++
		jobs := e.jobs(app, ch)
		if keep != nil {
			keep(jobs)
		}
		return jobs, nil
	}
	var err error
	if done != nil {
		err = e.Store.UpdateAck(ctx, appID, *done, update)
	} else {
		err = e.Store.Update(ctx, appID, onceKey, update)
	}
	if err == nil && (ch.Outcome == workflow.Applied || ch.Noted) {
		e.wake()
	}
	return ch, saved, err
}

// wake tells this process's worker of a write that queued work: at once
// (dispatches and the like), and again when the push it queued settles.
func (e *Engine) wake() {
	if e.Wake != nil {
		e.Wake()
	}
	if e.PushSettle > 0 && e.WakeAt != nil {
		// Not before the push's NotBefore (taken in jobs, earlier).
		e.WakeAt(time.Now().Add(e.PushSettle))
	}
}

// jobs are the work a change implies: dispatches of newly ready tasks,
// supplements to forward, withdrawals to announce, and the status push.
func (e *Engine) jobs(app *c.Application, ch workflow.Change) []store.Job {
	now := time.Now() // jobs run on the real clock, never the business one
	jobs := make([]store.Job, 0, len(ch.Ready)+len(ch.Resume)+len(ch.Notify)+len(ch.Opened)+1)
	add := func(id, kind string, t *c.Task) {
		jobs = append(jobs, store.Job{ID: id, Kind: kind, AppID: app.ID, TaskID: t.ID, Dept: e.system(app, t), NotBefore: now})
	}
	for _, t := range ch.Ready {
		add(store.DispatchJobID(t.ID, t.Step), store.JobDispatch, t)
		jobs[len(jobs)-1].BaseURL = e.BaseURL
	}
	for _, t := range ch.Resume {
		add(store.ResumeJobID(t.ID, t.Supplement.Round), store.JobResume, t)
	}
	for _, t := range ch.Notify {
		add(store.CancelJobID(t.ID), store.JobCancel, t)
	}
	for _, t := range ch.Opened {
		if every := e.PollEvery[t.Dept]; every > 0 {
			jobs = append(jobs, store.Job{ID: store.PollJobID(t.ID), Kind: store.JobPoll, AppID: app.ID, TaskID: t.ID, Dept: e.system(app, t), NotBefore: now.Add(every)})
		}
	}
	// The push settles first (PushSettle): a change that follows within
	// it replaces this job with its own, due a settle time after it.
	push := store.Job{ID: store.PushJobID(app.ID, app.Version), Kind: store.JobPush, AppID: app.ID, Dept: "portal", NotBefore: now.Add(e.PushSettle)}
	if app.Version > 1 {
		// The previous version's push, if it still waits, has nothing to
		// send that this one will not (docs/PROFILING.md).
		push.Replaces = store.PushJobID(app.ID, app.Version-1)
	}
	return append(jobs, push)
}

// RecountDue stores the due dates of an open application recounted with
// the calendar as it is now (workflow.RefreshDue): once the operator loads
// a year that was provisional, the published dates replace the counted
// ones, the timeline says so and the portal gets a status push. It reports
// whether anything changed.
func (e *Engine) RecountDue(ctx context.Context, appID string) (bool, error) {
	ch, _, err := e.commit(ctx, appID, "", func(app *c.Application) (workflow.Change, error) {
		if !e.Flow.RefreshDue(app) {
			return workflow.Change{Outcome: workflow.Duplicate}, nil
		}
		app.Timeline = append(app.Timeline, c.Entry{At: e.Flow.Now(), Kind: "note", Source: "gateway",
			Note: &c.Message{ZH: "已按最新节假日安排重新计算办结期限", EN: "due dates recounted on the holiday schedule as now loaded"}})
		return workflow.Change{Outcome: workflow.Applied}, nil
	})
	return ch.Outcome == workflow.Applied, err
}

// Submit accepts a validated submission: one atomic write stores the
// application, its planned tasks, the dedupe keys (delivery id and portal
// reference) and the first jobs. A repeat of the same submission (digest.go
// says what counts) returns the first application with dup set, and starts
// nothing. A taken portal reference with another submission is
// ErrPortalRefConflict, a taken delivery id with another submission
// ErrDeliveryReplayed; either stores nothing.
func (e *Engine) Submit(ctx context.Context, deliveryID string, sub *c.Submission) (app *c.Application, dup bool, err error) {
	keys := []string{"delivery:" + deliveryID, "ref:" + sub.PortalRef}
	// No lookup before the write: Create checks the keys in the same
	// atomic write and names the application holding a taken one, so a
	// repeat costs a plan, and a new submission one round trip to the
	// store instead of three (measured: docs/PROFILING.md).
	now := e.Flow.Now() // the business clock: the case's receipt and acceptance day
	canon := submissionCanonical(sub)
	app = &c.Application{
		ID:               NewID(time.Now()),
		PortalRef:        sub.PortalRef,
		DeliveryID:       deliveryID,
		Channel:          sub.Channel,
		ReceivedAt:       now.UTC(),
		AcceptedOn:       civil.Of(now).String(),
		Applicant:        sub.Applicant,
		Requests:         sub.Requests,
		Delivery:         sub.Delivery,
		Version:          1,
		SubmissionDigest: digests(e.Keys, canon)[0],
		Intake:           sub.Intake,
	}
	app.Timeline = append(app.Timeline, c.Entry{At: now, Kind: "received", Source: "portal",
		Note: &c.Message{ZH: "一件事申请已受理登记", EN: "application received"}})
	ready := e.Flow.Plan(app)
	e.Flow.Recompute(app)
	id, err := e.Store.Create(ctx, app, keys, e.jobs(app, workflow.Change{Ready: ready}))
	if errors.Is(err, store.ErrDuplicate) {
		// A repeated delivery or portal reference (or a concurrent one):
		// nothing was written. The delivery id, when it is the taken key,
		// names the application to compare with; else the reference does.
		return e.repeated(ctx, deliveryID, id, canon)
	}
	if err != nil {
		return nil, false, err
	}
	e.wake()
	return app, false, nil
}

// repeated decides what a submission whose key was taken is: the same
// submission again (the holder, dup), or another one under a used delivery
// id or portal reference (refused).
func (e *Engine) repeated(ctx context.Context, deliveryID, holderID, canon string) (*c.Application, bool, error) {
	byDelivery := false
	switch id, err := e.Store.Lookup(ctx, "delivery:"+deliveryID); {
	case err == nil:
		holderID, byDelivery = id, true
	case !errors.Is(err, store.ErrNotFound):
		return nil, false, err
	}
	holder, err := e.Store.Get(ctx, holderID)
	if err != nil {
		return nil, false, err
	}
	if e.sameSubmission(holder, canon) {
		return holder, true, nil
	}
	if byDelivery {
		return nil, false, ErrDeliveryReplayed
	}
	return nil, false, ErrPortalRefConflict
}

// NewID makes an application id: a ULID, sortable by time of receipt.
func NewID(now time.Time) string {
	return ulid.MustNew(ulid.Timestamp(now), rand.Reader).String()
}

// AppIDOfTask extracts the application id from a task id ("{appId}-{n}").
func AppIDOfTask(taskID string) (string, bool) {
	i := strings.LastIndexByte(taskID, '-')
	if i <= 0 {
		return "", false
	}
	return taskID[:i], true
}

// ErrUnknownTask is returned for an event about a task nobody has.
var ErrUnknownTask = workflow.ErrUnknownTask

// ApplyEvent applies a department event once (by event id).
func (e *Engine) ApplyEvent(ctx context.Context, dept c.Dept, ev *c.DeptEvent) (workflow.Outcome, c.TaskState, error) {
	return e.ApplyEventFrom(ctx, dept, "", ev)
}

// eventKey is the once key of an event: event ids are unique per sending
// system (two counties' systems may both number an event HRSS-…-ev-1), so
// the key names the system ("" or the department itself: the key events
// always had).
func eventKey(dept c.Dept, system string, eventID string) string {
	if system == "" {
		system = string(dept)
	}
	return "event:" + system + ":" + eventID
}

// ApplyEventFrom is ApplyEvent for an event of one system of the
// department (SystemOf's name, e.g. hrss:511703).
func (e *Engine) ApplyEventFrom(ctx context.Context, dept c.Dept, system string, ev *c.DeptEvent) (workflow.Outcome, c.TaskState, error) {
	appID, ok := AppIDOfTask(ev.TaskID)
	if !ok {
		return "", "", ErrUnknownTask
	}
	var state c.TaskState
	ch, _, err := e.commit(ctx, appID, eventKey(dept, system, ev.EventID), func(app *c.Application) (workflow.Change, error) {
		ch, err := e.applyEvent(app, dept, ev)
		if t := app.Task(ev.TaskID); t != nil {
			state = t.State
		}
		return ch, err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", "", ErrUnknownTask
	case errors.Is(err, store.ErrAlreadyApplied):
		app, gerr := e.Store.Get(ctx, appID)
		if gerr == nil {
			if t := app.Task(ev.TaskID); t != nil {
				state = t.State
			}
		}
		return workflow.Duplicate, state, nil
	case err != nil:
		return "", "", err
	}
	return ch.Outcome, state, nil
}

// applyEvent applies a department event to an application, unless its
// personal part was erased: then a department's late word (a decision, a
// certificate, a grant) is absorbed as stale and not recorded, but for a
// case number it teaches (caseOfErased).
func (e *Engine) applyEvent(app *c.Application, dept c.Dept, ev *c.DeptEvent) (workflow.Change, error) {
	if app.Erased == nil {
		return e.Flow.ApplyEvent(app, dept, ev)
	}
	t := app.Task(ev.TaskID)
	switch {
	case t == nil:
		return workflow.Change{}, ErrUnknownTask
	case t.Dept != dept:
		return workflow.Change{}, workflow.ErrWrongDept
	}
	return caseOfErased(t, ev.CaseNo, false), nil
}

// ErrNotFound is returned for an application nobody has.
var ErrNotFound = store.ErrNotFound

// ProvideSupplement records a supplement and queues its forwarding.
func (e *Engine) ProvideSupplement(ctx context.Context, appID string, sub *c.SupplementSubmission) (*c.Application, error) {
	ch, app, err := e.commit(ctx, appID, "", func(app *c.Application) (workflow.Change, error) {
		return e.Flow.ProvideSupplement(app, sub)
	})
	if err == nil && ch.Outcome == workflow.Duplicate {
		// This round's supplement was recorded and forwarded before:
		// nothing is done now, and the caller must say so.
		return app, ErrSupplementRecorded
	}
	return app, err
}

// ErrSupplementRecorded is ProvideSupplement's answer when the round's
// supplement was recorded already (a second one waits for the
// department's next request).
var ErrSupplementRecorded = errors.New("this round's supplement was recorded already")

// Withdraw cancels what has not finished, once per delivery id.
func (e *Engine) Withdraw(ctx context.Context, appID, deliveryID, reason string) (c.WithdrawalResult, error) {
	var res c.WithdrawalResult
	_, app, err := e.commit(ctx, appID, "withdraw:"+deliveryID, func(app *c.Application) (workflow.Change, error) {
		r, ch, err := e.Flow.Withdraw(app, reason)
		res = r
		return ch, err
	})
	if errors.Is(err, store.ErrAlreadyApplied) {
		// A repeat of the same withdrawal: report where things stand.
		app, err = e.Store.Get(ctx, appID)
		if err != nil {
			return res, err
		}
		res = c.WithdrawalResult{ApplicationID: app.ID, Cancelled: []string{}, Notified: []string{}, AlreadyFinal: []string{}}
		for _, t := range app.Tasks {
			res.AlreadyFinal = append(res.AlreadyFinal, t.ID)
		}
		res.Status = app.Status.State
		return res, nil
	}
	if err != nil {
		return res, err
	}
	res.Status = app.Status.State
	return res, nil
}

// DeadLetters lists the parked tasks, of one department or all ("").
func (e *Engine) DeadLetters(ctx context.Context, dept c.Dept) ([]c.DeadLetter, error) {
	jobs, err := e.Store.Parked(ctx)
	if err != nil {
		return nil, err
	}
	out := []c.DeadLetter{}
	for _, j := range jobs {
		if dept != "" && DeptOfSystem(j.Dept) != dept {
			continue
		}
		dl := c.DeadLetter{TaskID: j.TaskID, ApplicationID: j.AppID, JobID: j.ID, Dept: DeptOfSystem(j.Dept), Attempts: j.Attempt, LastError: j.LastError}
		if app, err := e.Store.Get(ctx, j.AppID); err == nil {
			t := app.Task(j.TaskID)
			if t != nil {
				dl.Item, dl.TaskState, dl.Dept = t.Item, t.State, t.Dept
			}
			dl.CaseDueDate = app.Status.DueDate
			if app.Erased != nil && j.Kind == store.JobDispatch && mayHaveReached(t, j) {
				// Parked before the erasure: it can only be settled by
				// hand now (outsider: it kept its HTTP error, and the
				// replay cleared it as if the department had answered).
				dl.LastError = c.ErasedUnsettledAfter(j.LastError)
			}
		}
		out = append(out, dl)
	}
	sort.Slice(out, func(i, k int) bool { return out[i].JobID < out[k].JobID })
	return out, nil
}

// Replay sends parked tasks again: one task (taskID) or every one of a
// department (taskID empty). The job goes back into the queue under its
// old id, so the department sees the same idempotency key.
func (e *Engine) Replay(ctx context.Context, dept c.Dept, taskID string) (c.ReplayResult, error) {
	res := c.ReplayResult{Replayed: []string{}, Resolved: []string{}}
	jobs, err := e.Store.Parked(ctx)
	if err != nil {
		return res, err
	}
	found := false
	for _, j := range jobs {
		if (taskID != "" && j.TaskID != taskID) || (taskID == "" && dept != "" && DeptOfSystem(j.Dept) != dept) {
			continue
		}
		found = true
		// The job queued again under the parked one's id names the
		// callback base the parked one did: the department may have the
		// first request under that key.
		keep := func(jobs []store.Job) {
			for i := range jobs {
				if jobs[i].ID == j.ID && j.BaseURL != "" {
					jobs[i].BaseURL = j.BaseURL
				}
				if jobs[i].ID == j.ID && j.Kind == store.JobDispatch {
					jobs[i].Retaken = true // parked after its attempts: it may have reached the department
				}
			}
		}
		ch, app, err := e.commitJobs(ctx, j.AppID, "", nil, keep, func(app *c.Application) (workflow.Change, error) {
			ch, err := e.Flow.Replay(app, j.TaskID)
			if t := app.Task(j.TaskID); err == nil && ch.Outcome != workflow.Applied && j.Kind == store.JobDispatch && app.Erased == nil &&
				t != nil && t.State != c.TaskReady && mayHaveReached(t, j) {
				// Not a dead letter any more (withdrawn meanwhile), but its
				// request may have reached the department: the replay
				// settles it (outsider: "resolved", and the department's
				// case was never cancelled).
				return e.Flow.ReplayUnsettled(app, j.TaskID)
			}
			return ch, err
		})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return res, err
		}
		if ch.Outcome == workflow.Applied || requeuedMeanwhile(app, j) {
			res.Replayed = append(res.Replayed, j.TaskID)
		} else {
			res.Resolved = append(res.Resolved, j.TaskID)
		}
		if err := e.Store.Unpark(ctx, j.ID); err != nil {
			return res, err
		}
	}
	if taskID != "" && !found {
		return res, ErrUnknownTask
	}
	return res, nil
}

// requeuedMeanwhile reports whether the parked dispatch j is queued again
// already: another replay listed it too and went first (outsider: of 20
// concurrent replays, some answered "resolved" where no department had
// reported). Its task is ready for this very job.
func requeuedMeanwhile(app *c.Application, j store.Job) bool {
	if app == nil || j.Kind != store.JobDispatch {
		return false
	}
	t := app.Task(j.TaskID)
	return t != nil && t.State == c.TaskReady && store.DispatchJobID(t.ID, t.Step) == j.ID
}
