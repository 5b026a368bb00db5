package workflow

import (
	"errors"
	"time"

	c "onething/contracts"
)

// moveTask changes a task's state and writes the timeline line for it. The
// caller has checked the move against the table.
func moveTask(app *c.Application, t *c.Task, to c.TaskState, at time.Time, source string, why *c.Message) {
	from := t.State
	t.State = to
	// Each time a task becomes ready anew (first dispatch, resume after a
	// supplement) is a new step with its own idempotency key; a replay of a
	// dead letter repeats the step, and so the key.
	if to == c.TaskReady && from != c.TaskDeadLetter {
		t.Step++
	}
	t.UpdatedAt = at
	// The reason belongs to the state: why it waits, was refused, or what
	// to supplement; a later state without one clears it.
	t.Reason = why
	if to.Final() && t.FinishedAt == nil {
		t.FinishedAt = &at
	}
	app.Timeline = append(app.Timeline, c.Entry{At: at, TaskID: t.ID, Kind: "state", From: from, To: to, Note: why, Source: source})
}

// Change is what applying a report did: the outcome for the reported task
// and the tasks that became ready for dispatch (dependents released).
type Change struct {
	Outcome Outcome
	Ready   []*c.Task
}

// ErrWrongDept is returned when a department reports on a task that is not its own.
var ErrWrongDept = errors.New("task belongs to another department")

// ErrUnknownTask is returned for a task id the application does not have.
var ErrUnknownTask = errors.New("unknown task")

var caseStates = map[c.CaseStatus]c.TaskState{
	c.CaseReceived: c.TaskDispatched,
	c.CaseAccepted: c.TaskAccepted,
	c.CaseApproved: c.TaskApproved,
	c.CaseRejected: c.TaskRejected,
}

// ApplyCase records a department's answer to the dispatch of a task.
func (w *Workflow) ApplyCase(app *c.Application, taskID string, resp *c.CaseResponse) (Change, error) {
	t := app.Task(taskID)
	if t == nil {
		return Change{}, ErrUnknownTask
	}
	to, ok := caseStates[resp.Status]
	if !ok {
		return Change{}, errors.New("unknown case status " + string(resp.Status))
	}
	if t.CaseNo == "" {
		t.CaseNo = resp.CaseNo
	}
	t.Attempts, t.LastError = 0, ""
	return w.report(app, t, to, string(t.Dept), resp.Reason, resp.Certificate, resp.Result, w.Now())
}

var eventStates = map[c.EventType]c.TaskState{
	c.EventAccepted:           c.TaskAccepted,
	c.EventInProgress:         c.TaskInProgress,
	c.EventSupplementRequired: c.TaskSupplementRequired,
	c.EventApproved:           c.TaskApproved,
	c.EventRejected:           c.TaskRejected,
}

// ApplyEvent records a department's event. Only the department that owns a
// task may report on it. Events may come twice or out of order: a repeat or
// an older state is absorbed (Duplicate, Stale), and only a move the table
// forbids for a newer state is an error.
func (w *Workflow) ApplyEvent(app *c.Application, dept c.Dept, ev *c.DeptEvent) (Change, error) {
	t := app.Task(ev.TaskID)
	if t == nil {
		return Change{}, ErrUnknownTask
	}
	if t.Dept != dept {
		return Change{}, ErrWrongDept
	}
	if t.CaseNo == "" && ev.CaseNo != "" {
		t.CaseNo = ev.CaseNo
	}
	at := ev.OccurredAt
	if ev.Type == c.EventAssessed || ev.Type == c.EventPublicised {
		return w.milestone(app, t, ev), nil
	}
	return w.report(app, t, eventStates[ev.Type], string(dept), ev.Reason, ev.Certificate, ev.Result, at)
}

// milestone records assessment or publicity. Publicity starts the legal
// clock of items counted from the publicity day (新办, 类别/等级变更).
func (w *Workflow) milestone(app *c.Application, t *c.Task, ev *c.DeptEvent) Change {
	kind := map[c.EventType]string{c.EventAssessed: "assessed", c.EventPublicised: "publicised"}[ev.Type]
	for _, m := range t.Milestones {
		if m.Kind == kind {
			return Change{Outcome: Duplicate}
		}
	}
	t.Milestones = append(t.Milestones, c.Milestone{Kind: kind, At: ev.OccurredAt})
	t.UpdatedAt = w.Now()
	note := map[string]c.Message{"assessed": {ZH: "残疾评定完成", EN: "disability assessment done"}, "publicised": {ZH: "评定结果开始公示", EN: "assessment result publicised"}}[kind]
	app.Timeline = append(app.Timeline, c.Entry{At: ev.OccurredAt, TaskID: t.ID, Kind: "milestone", Note: &note, Source: string(t.Dept)})
	if kind == "publicised" && c.Items[t.Item].ClockStart == c.ClockPublicity {
		w.setDue(t, ev.OccurredAt)
	}
	// A milestone means the department works on it: move forward if behind.
	if CanMove(t.State, c.TaskInProgress) && rank[t.State] < rank[c.TaskInProgress] {
		moveTask(app, t, c.TaskInProgress, w.Now(), string(t.Dept), nil)
	}
	return Change{Outcome: Applied}
}

func (w *Workflow) report(app *c.Application, t *c.Task, to c.TaskState, source string, why *c.Message, cert *c.Certificate, res *c.Result, at time.Time) (Change, error) {
	out, err := judge(t, to)
	if err != nil || out != Applied {
		if out == Stale {
			app.Timeline = append(app.Timeline, c.Entry{At: w.Now(), TaskID: t.ID, Kind: "stale_report", From: t.State, To: to, Source: source,
				Note: &c.Message{ZH: "收到过时的状态报告，已忽略", EN: "an out-of-order state report was ignored"}})
		}
		return Change{Outcome: out}, err
	}
	if at.IsZero() {
		at = w.Now()
	}
	// Any state from accepted on, other than a refusal, means the department
	// has accepted (受理) the case: the legal clock starts that day.
	if t.AcceptedAt == nil && rank[to] >= rank[c.TaskAccepted] && to != c.TaskRejected && to != c.TaskCancelled {
		acc := at
		t.AcceptedAt = &acc
		if c.Items[t.Item].ClockStart == c.ClockAcceptance {
			w.setDue(t, at)
		}
	}
	if cert != nil && t.Dept == c.DeptCDPF {
		t.Certificate = cert
	}
	if res != nil {
		t.Result = res
	}
	moveTask(app, t, to, at, source, why)
	ch := Change{Outcome: Applied}
	if to.Final() {
		ch.Ready = w.release(app, t)
	}
	return ch, nil
}

// setDue fixes a task's legal due date: its limit in working days after the
// day the clock starts. A calendar year we lack leaves the date open (the
// calendar reports the gap loudly) rather than guessing.
func (w *Workflow) setDue(t *c.Task, start time.Time) {
	if w.Cal == nil {
		return
	}
	due, err := w.Cal.AddWorkingDays(start, c.Items[t.Item].LimitDays)
	if err != nil {
		return
	}
	t.DueDate = due.Format(time.DateOnly)
}

// release decides the tasks that waited on a finished task: with the
// certificate cdpf issued they are resolved and become ready; if the
// certificate business did not succeed they are rejected with the reason.
func (w *Workflow) release(app *c.Application, done *c.Task) []*c.Task {
	var ready []*c.Task
	now := w.Now()
	for _, t := range app.Tasks {
		if t.State != c.TaskWaiting || !dependsOn(t, done.ID) {
			continue
		}
		if done.State != c.TaskApproved {
			moveTask(app, t, c.TaskRejected, now, "gateway", msgDependencyFailed)
			continue
		}
		cert := done.Certificate
		if cert == nil {
			cert = app.Applicant.Certificate
		}
		if why := resolve(app, t, cert); why != nil {
			moveTask(app, t, c.TaskRejected, now, "gateway", why)
			continue
		}
		moveTask(app, t, c.TaskReady, now, "gateway", &c.Message{ZH: "残疾人证已办结，开始办理", EN: "certificate issued; dispatching"})
		ready = append(ready, t)
	}
	return ready
}

func dependsOn(t *c.Task, id string) bool {
	for _, d := range t.DependsOn {
		if d == id {
			return true
		}
	}
	return false
}

// DispatchFailed notes a failed attempt to reach a department; with dead
// set the task is parked as a dead letter for an operator.
func (w *Workflow) DispatchFailed(app *c.Application, taskID string, attempts int, errText string, dead bool) error {
	t := app.Task(taskID)
	if t == nil {
		return ErrUnknownTask
	}
	t.Attempts, t.LastError, t.UpdatedAt = attempts, errText, w.Now()
	if dead && CanMove(t.State, c.TaskDeadLetter) {
		moveTask(app, t, c.TaskDeadLetter, w.Now(), "gateway", &c.Message{ZH: "多次发送失败，等待运维人员处理", EN: "dispatch failed repeatedly; parked for an operator"})
	}
	return nil
}
