package workflow

import (
	"errors"
	"fmt"
	"time"

	"onething/civil"
	c "onething/contracts"
	"onething/gateway/rules"
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

// Change is what applying a report did: the outcome for the reported task,
// the tasks that became ready for dispatch (dependents released), tasks
// whose supplement is to be forwarded, and tasks whose department must be
// told of a withdrawal.
type Change struct {
	Outcome Outcome
	Ready   []*c.Task
	Resume  []*c.Task
	Notify  []*c.Task
	// Opened: tasks whose department just opened a case (polling starts).
	Opened []*c.Task
	// Noted: the report was not applied (Stale, Duplicate) but the
	// application changed all the same: the stale report is on its
	// timeline, or the department's case number was learned. The change
	// is a new version, pushed like any other.
	Noted bool
}

// ErrWrongDept is returned when a department reports on a task that is not its own.
var ErrWrongDept = errors.New("task belongs to another department")

// ErrUnknownTask is returned for a task id the application does not have.
var ErrUnknownTask = errors.New("unknown task")

var caseStates = map[c.CaseStatus]c.TaskState{
	c.CaseReceived:   c.TaskDispatched,
	c.CaseAccepted:   c.TaskAccepted,
	c.CaseApproved:   c.TaskApproved,
	c.CaseRejected:   c.TaskRejected,
	c.CaseInProgress: c.TaskInProgress,
	c.CaseCancelled:  c.TaskCancelled,
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
	if resp.CaseNo != "" && t.CaseNo != "" && resp.CaseNo != t.CaseNo {
		// The department answered with a case other than the one it
		// opened for this item (a second case for the same dispatch):
		// not taken, kept on the timeline for the people who follow the
		// case, as an event with that number would be refused.
		app.Timeline = append(app.Timeline, c.Entry{At: w.Now(), TaskID: t.ID, Kind: "stale_report", From: t.State, To: to, Source: string(t.Dept),
			Note: &c.Message{ZH: "部门答复的办件编号 " + resp.CaseNo + " 与此前就本事项给出的 " + t.CaseNo + " 不一致，未采用，请与部门核实",
				EN: "the department's answer names case " + resp.CaseNo + ", not " + t.CaseNo + ", the one it gave for this item before; not taken: check with the department"}})
		t.Attempts, t.LastError = 0, ""
		return Change{Outcome: Stale, Noted: true}, nil
	}
	learned := t.CaseNo == "" && resp.CaseNo != ""
	if learned {
		t.CaseNo = resp.CaseNo
	}
	t.Attempts, t.LastError = 0, ""
	if resp.Certificate != nil && !t.State.Final() {
		// The answer is held to what an event is (eventAgainstApplication):
		// a certificate that is not the applicant's is not taken, nor the
		// decision that carries it; it is kept on the timeline for the
		// people who follow the case (no one to answer 422 to).
		probe := &c.DeptEvent{Type: c.EventAccepted, Certificate: resp.Certificate}
		if problems, _ := w.eventAgainstApplication(app, t, probe); len(problems) > 0 {
			app.Timeline = append(app.Timeline, c.Entry{At: w.Now(), TaskID: t.ID, Kind: "stale_report", From: t.State, To: to, Source: string(t.Dept),
				Note: &c.Message{ZH: "部门对派单的答复所附残疾人证不属于申请人，未采用，请与部门核实", EN: "the certificate in the department's answer to the dispatch is not the applicant's; not taken: check with the department"}})
			return Change{Outcome: Stale, Noted: true}, nil
		}
	}
	if w.decidedBeforeWithdrawal(app, t, to, resp.Reason, resp.Certificate, resp.Result) {
		return Change{Outcome: Applied}, nil
	}
	if t.State == c.TaskCancelled {
		// Withdrawn while the dispatch was under way: the department opened
		// a case after all, so it must be told.
		ch := Change{Outcome: Stale, Noted: learned}
		if learned && resp.Status != c.CaseCancelled {
			ch.Notify = []*c.Task{t}
			ch.Outcome = Applied
		}
		return ch, nil
	}
	ch, err := w.report(app, t, to, string(t.Dept), resp.Reason, resp.Certificate, resp.Result, w.Now())
	var illegal *IllegalTransitionError
	if errors.As(err, &illegal) {
		// The answer contradicts what the department reported since (its
		// event came first: rejected, then this answer says approved).
		// An event's sender is answered 409; this answer has no one to
		// answer, so it is not taken but kept on the timeline, with the
		// case number it teaches, for the people who follow the case.
		app.Timeline = append(app.Timeline, c.Entry{At: w.Now(), TaskID: t.ID, Kind: "stale_report", From: t.State, To: to, Source: string(t.Dept),
			Note: &c.Message{ZH: "部门对派单的答复与其此前报送的结果矛盾，未采用，请与部门核实", EN: "the department's answer to the dispatch contradicts the result it reported before; not taken: check with the department"}})
		return Change{Outcome: Stale, Noted: true}, nil
	}
	if err == nil && learned && !t.State.Final() {
		ch.Opened = append(ch.Opened, t)
	}
	if err == nil && learned && ch.Outcome != Applied {
		ch.Noted = true // the answer came after the department's decision
	}
	return ch, err
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
	if t.Step == 0 {
		// Never made ready, so never sent: the department holds no case
		// of this item (it waits on another, or the gateway decided it
		// itself), and what it reports about it is not taken. On an open
		// item that is an illegal move; on one already ended it is judged
		// as any report on an ended item (a withdrawn one absorbs it).
		to := eventStates[ev.Type]
		if to == "" {
			to = c.TaskInProgress // a milestone
		}
		if t.State == c.TaskPlanned || t.State == c.TaskWaiting {
			return Change{}, &IllegalTransitionError{TaskID: t.ID, From: t.State, To: to}
		}
		return w.report(app, t, to, string(dept), nil, nil, nil, w.Now())
	}
	if problems, whose := w.eventAgainstApplication(app, t, ev); len(problems) > 0 && (whose || (t.State != c.TaskApproved && t.State != c.TaskRejected)) {
		// On an item already decided the event changes nothing: it is
		// judged as a repeat, a stale or an illegal report below; but one
		// about another case or another person is refused whatever the
		// item's state (a stale report of it would still be recorded).
		return Change{}, &InvalidEventError{Problems: problems}
	}
	learned := t.CaseNo == "" && ev.CaseNo != ""
	if learned {
		t.CaseNo = ev.CaseNo
	}
	at := ev.OccurredAt
	if w.decidedBeforeWithdrawal(app, t, eventStates[ev.Type], ev.Reason, ev.Certificate, ev.Result) {
		return Change{Outcome: Applied}, nil
	}
	if t.State == c.TaskCancelled {
		ch, err := w.report(app, t, eventStates[ev.Type], string(dept), nil, nil, nil, at)
		if err == nil && learned {
			// Withdrawn before its case number was known: the
			// department holds a case it must now be told to cancel,
			// as when a dispatch's answer teaches it (ApplyCase).
			ch.Notify, ch.Noted = append(ch.Notify, t), true
		}
		return ch, err
	}
	if ev.Type == c.EventAssessed || ev.Type == c.EventPublicised {
		return w.milestone(app, t, ev), nil
	}
	ch, err := w.report(app, t, eventStates[ev.Type], string(dept), ev.Reason, ev.Certificate, ev.Result, at)
	if err == nil && ch.Outcome == Applied && ev.Type == c.EventSupplementRequired {
		round := 1
		if t.Supplement != nil {
			round = t.Supplement.Round + 1
		}
		t.Supplement = &c.Supplement{What: *ev.Reason, Where: w.supplementWhere(app, t), RequestedAt: at, Round: round}
	}
	return ch, err
}

// InvalidEventError is an event whose content the application it is about
// contradicts (a certificate of another person, a time before the
// application was received, an approval of a certificate business without
// the certificate): nothing is changed, and the department is answered
// 422 with the problems.
type InvalidEventError struct{ Problems []c.FieldError }

func (e *InvalidEventError) Error() string {
	return fmt.Sprintf("the event contradicts its application (%d problems)", len(e.Problems))
}

// eventAgainstApplication is what an event must satisfy given its
// application (contracts.DeptEvent.Validate checks the event alone);
// whose says a problem is about another case or another person.
func (w *Workflow) eventAgainstApplication(app *c.Application, t *c.Task, ev *c.DeptEvent) (out []c.FieldError, whose bool) {
	add := func(field, code, zh, en string) {
		out = append(out, c.FieldError{Field: field, Code: code, Message: zh, MessageEn: en})
	}
	// A department's time is its own clock's, within a few minutes of
	// ours: an event from before the application was received would move
	// due dates back (a clock from 2020 ends before it starts).
	if !app.ReceivedAt.IsZero() && !ev.OccurredAt.IsZero() && ev.OccurredAt.Before(app.ReceivedAt.Add(-c.EventClockSkew)) {
		add("occurredAt", "out_of_range", "事件发生时间早于申请受理时间", "occurredAt is before the application was received")
	}
	// Whatever the event, a certificate in it is the applicant's own (one
	// of another person must not reach this record, nor its exports).
	if ev.Certificate != nil {
		if n, err := c.ParseCertificateNumber(ev.Certificate.Number, civil.Of(w.Now())); err == nil && app.Applicant.IDNumber != "" && n.IDNumber != c.NormalizeIDNumber(app.Applicant.IDNumber) {
			add("certificate.number", "mismatch", "残疾人证号与申请人公民身份号码不一致", "certificate number does not belong to the applicant's ID number")
			whose = true
		}
	}
	// The case the department opened for this item is the one it reports
	// on: another number is another case (or another applicant's), and
	// which of the two the item follows must not be decided silently.
	if ev.CaseNo != "" && t.CaseNo != "" && ev.CaseNo != t.CaseNo {
		add("caseNo", "mismatch", "办件编号与部门此前就本事项给出的编号不一致", "caseNo does not match the case number the department gave for this item")
		whose = true
	}
	// cdpf's approval of a certificate business carries the certificate
	// it issued: the subsidies waiting on it are decided from it.
	if t.Dept == c.DeptCDPF && ev.Type == c.EventApproved && ev.Certificate == nil && t.Procedure != nil && t.Procedure.NewCertificate {
		add("certificate", "required", "办结残疾人证业务须附所发残疾人证", "an approved certificate business must carry the certificate issued")
	}
	return out, whose
}

// supplementWhere says where the applicant provides a supplement: on the
// portal for an online application, otherwise at the window that took it.
func (w *Workflow) supplementWhere(app *c.Application, t *c.Task) c.Message {
	f := w.facts(app)
	switch {
	case app.Channel == c.ChannelOnline:
		return c.Message{ZH: "四川省一体化政务服务平台“扶残助困一件事”专区（个人中心）在线补正", EN: "online, in the one-thing zone of the Sichuan government service platform"}
	case t.Item == c.ItemCertNew:
		return rules.CDPFWindow(f)
	default:
		return rules.ComprehensiveWindow(f)
	}
}

// ErrNoSupplementDue is returned for a supplement to a task that asked for none.
var ErrNoSupplementDue = errors.New("the task is not waiting for a supplement")

// ProvideSupplement records the applicant's resubmission of what a
// department asked for; the change says to forward it to the department,
// which resumes the task.
func (w *Workflow) ProvideSupplement(app *c.Application, sub *c.SupplementSubmission) (Change, error) {
	t := app.Task(sub.TaskID)
	if t == nil {
		return Change{}, ErrUnknownTask
	}
	if t.State != c.TaskSupplementRequired || t.Supplement == nil {
		return Change{}, ErrNoSupplementDue
	}
	if t.Supplement.ProvidedAt != nil {
		return Change{Outcome: Duplicate}, nil
	}
	now := w.Now()
	t.Supplement.ProvidedAt, t.Supplement.Materials, t.UpdatedAt = &now, sub.Materials, now
	t.SupplementNote = sub.Note
	app.Timeline = append(app.Timeline, c.Entry{At: now, TaskID: t.ID, Kind: "supplement_provided", Source: "portal",
		Note: &c.Message{ZH: "申请人已补正材料，转交部门", EN: "the applicant provided the supplement; forwarding it"}})
	return Change{Outcome: Applied, Resume: []*c.Task{t}}, nil
}

// ErrNothingToWithdraw is returned when every task is final already.
var ErrNothingToWithdraw = errors.New("every item is finished: nothing to withdraw")

// Withdraw cancels every task that has not finished. Tasks a department
// holds open are cancelled too, and the change says to tell those
// departments; tasks never sent are just cancelled.
func (w *Workflow) Withdraw(app *c.Application, reason string) (c.WithdrawalResult, Change, error) {
	res := c.WithdrawalResult{ApplicationID: app.ID, Cancelled: []string{}, Notified: []string{}, AlreadyFinal: []string{}}
	now := w.Now()
	why := &c.Message{ZH: "申请人撤回申请", EN: "withdrawn by the applicant"}
	if reason != "" {
		why = &c.Message{ZH: "申请人撤回申请：" + reason, EN: "withdrawn by the applicant: " + reason}
	}
	var ch Change
	for _, t := range app.Tasks {
		if t.State.Final() {
			res.AlreadyFinal = append(res.AlreadyFinal, t.ID)
			continue
		}
		moveTask(app, t, c.TaskCancelled, now, "portal", why)
		res.Cancelled = append(res.Cancelled, t.ID)
		if t.CaseNo != "" {
			res.Notified = append(res.Notified, t.ID)
			ch.Notify = append(ch.Notify, t)
		}
	}
	if len(res.Cancelled) == 0 {
		return res, Change{}, ErrNothingToWithdraw
	}
	if app.WithdrawnAt == nil {
		app.WithdrawnAt = &now
	}
	ch.Outcome = Applied
	return res, ch, nil
}

// Notified records that a department confirmed a withdrawal.
func (w *Workflow) Notified(app *c.Application, taskID string) (Change, error) {
	t := app.Task(taskID)
	if t == nil {
		return Change{}, ErrUnknownTask
	}
	app.Timeline = append(app.Timeline, c.Entry{At: w.Now(), TaskID: t.ID, Kind: "department_notified", Source: string(t.Dept),
		Note: &c.Message{ZH: "部门已确认撤回", EN: "the department confirmed the withdrawal"}})
	return Change{Outcome: Applied}, nil
}

// decidedBeforeWithdrawal records a department's decision on a task the
// applicant withdrew while the department was deciding it: the department
// answered approved or rejected before it heard of the withdrawal (a grant
// from shared data is immediate), so its decision stands (the citizen got
// the pension) and there is nothing left to withdraw. Once the department
// has confirmed the withdrawal, a later decision is not taken. It reports
// whether it recorded the decision.
func (w *Workflow) decidedBeforeWithdrawal(app *c.Application, t *c.Task, to c.TaskState, why *c.Message, cert *c.Certificate, res *c.Result) bool {
	if t.State != c.TaskCancelled || (to != c.TaskApproved && to != c.TaskRejected) {
		return false
	}
	for _, e := range app.Timeline {
		if e.TaskID == t.ID && e.Kind == "department_notified" {
			return false
		}
	}
	if cert != nil && t.Dept == c.DeptCDPF && to == c.TaskApproved {
		t.Certificate = cert // cdpf's approval carries the certificate it issued; no other report sets one
	}
	if res != nil {
		t.Result = res
	}
	now := w.Now()
	t.State, t.Reason, t.UpdatedAt, t.FinishedAt = to, why, now, &now
	app.Timeline = append(app.Timeline, c.Entry{At: now, TaskID: t.ID, Kind: "state", From: c.TaskCancelled, To: to, Source: string(t.Dept),
		Note: &c.Message{ZH: "部门在收到撤回前已办结，以部门决定为准", EN: "the department decided before it heard of the withdrawal: its decision stands"}})
	return true
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
	if kind == "assessed" {
		w.publicityOnAssessmentDay(app, t, civil.Of(ev.OccurredAt))
	}
	t.Milestones = append(t.Milestones, c.Milestone{Kind: kind, At: ev.OccurredAt})
	t.UpdatedAt = w.Now()
	note := map[string]c.Message{"assessed": {ZH: "残疾评定完成", EN: "disability assessment done"}, "publicised": {ZH: "评定结果开始公示", EN: "assessment result publicised"}}[kind]
	app.Timeline = append(app.Timeline, c.Entry{At: ev.OccurredAt, TaskID: t.ID, Kind: "milestone", Note: &note, Source: string(t.Dept)})
	if (kind == "publicised" && clockStart(t) == c.ClockPublicity) || (kind == "assessed" && clockStart(t) == c.ClockAssessment) {
		w.setDue(app, t, ev.OccurredAt)
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
		return Change{Outcome: out, Noted: out == Stale && err == nil}, err
	}
	if at.IsZero() {
		at = w.Now()
	}
	// Any state from accepted on, other than a refusal, means the department
	// has accepted (受理) the case: the legal clock starts that day.
	if t.AcceptedAt == nil && rank[to] >= rank[c.TaskAccepted] && to != c.TaskRejected && to != c.TaskCancelled {
		acc := at
		t.AcceptedAt = &acc
		if clockStart(t) == c.ClockAcceptance {
			w.setDue(app, t, at)
		}
	}
	if cert != nil && t.Dept == c.DeptCDPF && to == c.TaskApproved {
		t.Certificate = cert // cdpf's approval carries the certificate it issued; no other report sets one
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

// publicityOnAssessmentDay decides the publicity rule on the day of the
// assessment result, as the seed's clock for minors says (申请人是未成年人的，
// 原则上不予公示): someone who turned 18 between acceptance and assessment is
// publicised and the clock starts at publicity; someone still a minor is not
// and the clock starts at the assessment.
func (w *Workflow) publicityOnAssessmentDay(app *c.Application, t *c.Task, day civil.Date) {
	if t.Procedure == nil || !t.Procedure.Assessment {
		return
	}
	id, err := c.ParseIDNumber(app.Applicant.IDNumber, day)
	if err != nil {
		return
	}
	minor := id.AgeOn(day) < 18
	if t.Procedure.Publicity == !minor {
		return
	}
	p := *t.Procedure // the record's procedure may be shared with a copy
	p.Publicity, p.ClockStart = !minor, c.ClockPublicity
	if minor {
		p.ClockStart = c.ClockAssessment
	}
	t.Procedure = &p
}

// clockStart is when a task's legal time limit starts: a certificate
// business's procedure says (publicity day where assessed, acceptance
// otherwise); the other items count from acceptance.
func clockStart(t *c.Task) c.ClockStart {
	if t.Procedure != nil {
		return t.Procedure.ClockStart
	}
	return c.Items[t.Item].ClockStart
}

// setDue fixes a task's legal due date: its limit in working days (its
// county's, rules.LimitDays) after the day the clock starts. A calendar
// year we lack leaves the date open (the calendar reports the gap loudly)
// rather than guessing.
func (w *Workflow) setDue(app *c.Application, t *c.Task, start time.Time) {
	if w.Cal == nil {
		return
	}
	due, provisional, err := w.Cal.Due(civil.Of(start), rules.LimitDays(c.TaskCounty(app, t), t.Item))
	if err != nil {
		return
	}
	t.DueDate, t.DueProvisional = due.String(), provisional
}

// dueStart is the instant a task's legal clock started, if it has.
func dueStart(t *c.Task) (time.Time, bool) {
	switch clockStart(t) {
	case c.ClockAcceptance:
		if t.AcceptedAt != nil {
			return *t.AcceptedAt, true
		}
	default:
		kind := map[c.ClockStart]string{c.ClockPublicity: "publicised", c.ClockAssessment: "assessed"}[clockStart(t)]
		for _, m := range t.Milestones {
			if m.Kind == kind {
				return m.At, true
			}
		}
	}
	return time.Time{}, false
}

// RefreshDue recounts the due dates that were provisional (or could not be
// counted) with the calendar as it is now, for the tasks (finished ones
// too, so none keeps showing a provisional date) and the whole case: once the operator loads next year's schedule, a date
// counted by the statutory rule becomes the published one. It reports
// whether anything changed.
func (w *Workflow) RefreshDue(app *c.Application) bool {
	if w.Cal == nil {
		return false
	}
	changed := false
	for _, t := range app.Tasks {
		if t.DueDate != "" && !t.DueProvisional {
			continue // finished items too: a provisional date shown on them is recounted
		}
		if start, ok := dueStart(t); ok {
			before, was := t.DueDate, t.DueProvisional
			w.setDue(app, t, start)
			changed = changed || t.DueDate != before || t.DueProvisional != was
		}
	}
	if app.Status.DueDate == "" || app.Status.Provisional {
		if due, provisional, err := w.Cal.Due(AcceptedOn(app), c.WholeLimitDays); err == nil {
			changed = changed || app.Status.DueDate != due.String() || app.Status.Provisional != provisional
			app.Status.DueDate, app.Status.Provisional = due.String(), provisional
		}
	}
	return changed
}

// release decides the tasks that waited on a finished task: with the
// certificate cdpf issued they are resolved and become ready; if the
// certificate business did not succeed they are rejected with the reason.
// A new certificate of grade 1-2 also brings the pension subsidy, which
// needs no application, if it is not planned yet.
func (w *Workflow) release(app *c.Application, done *c.Task) []*c.Task {
	var ready []*c.Task
	now := w.Now()
	f := w.facts(app)
	for _, t := range app.Tasks {
		if t.State != c.TaskWaiting || !dependsOn(t, done.ID) {
			continue
		}
		if done.State != c.TaskApproved {
			moveTask(app, t, c.TaskRejected, now, "gateway", rules.MsgDependencyFailed)
			continue
		}
		cert := done.Certificate
		if cert == nil {
			cert = app.Applicant.Certificate
		}
		if why := resolve(f, t, cert); why != nil {
			moveTask(app, t, c.TaskRejected, now, "gateway", why)
			continue
		}
		moveTask(app, t, c.TaskReady, now, "gateway", &c.Message{ZH: "残疾人证已办结，开始办理", EN: "certificate issued; dispatching"})
		ready = append(ready, t)
	}
	if done.State == c.TaskApproved && done.Certificate != nil && rules.Pension(f, done.Certificate) == nil && !hasItem(app, c.ItemPensionSubsidy) {
		t := addTask(app, c.ItemPensionSubsidy, nil, now)
		t.Certificate = done.Certificate
		app.Timeline = append(app.Timeline, c.Entry{At: now, TaskID: t.ID, Kind: "note", Note: msgPensionAutomatic, Source: "gateway"})
		moveTask(app, t, c.TaskReady, now, "gateway", nil)
		ready = append(ready, t)
	}
	return ready
}

func hasItem(app *c.Application, item c.ItemCode) bool {
	for _, t := range app.Tasks {
		if t.Item == item {
			return true
		}
	}
	return false
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
		// Parked after the attempts ran out, or at once when the
		// department refused the request (a 4xx is not retried).
		why := &c.Message{ZH: "多次发送失败，等待运维人员处理", EN: "dispatch failed repeatedly; parked for an operator"}
		if attempts <= 1 {
			why = &c.Message{ZH: "发送失败（部门拒收派单，或不再重试），等待运维人员处理", EN: "dispatch failed (the department refused the case request, or it is not retried); parked for an operator"}
		}
		moveTask(app, t, c.TaskDeadLetter, w.Now(), "gateway", why)
	}
	return nil
}

// Replay puts a dead-lettered task back to ready for dispatch; its step,
// and so the idempotency key the department sees, stays the same. A task
// that left the dead letters meanwhile (its department reported) is left
// alone.
func (w *Workflow) Replay(app *c.Application, taskID string) (Change, error) {
	t := app.Task(taskID)
	if t == nil {
		return Change{}, ErrUnknownTask
	}
	if t.State != c.TaskDeadLetter {
		return Change{Outcome: Duplicate}, nil
	}
	t.Attempts, t.LastError = 0, ""
	moveTask(app, t, c.TaskReady, w.Now(), "operator", &c.Message{ZH: "运维人员重新发送", EN: "replayed by an operator"})
	return Change{Outcome: Applied, Ready: []*c.Task{t}}, nil
}

// ReplayUnsettled queues again the dispatch of a task that no longer
// waits for it (withdrawn, or reported on without a case number) but whose
// parked request may have reached the department (the engine judges that
// from the job): sent again under its idempotency key, it learns the case
// the department may hold, to cancel it or take its decision. The task's
// state stays; the timeline says why the request goes out.
func (w *Workflow) ReplayUnsettled(app *c.Application, taskID string) (Change, error) {
	t := app.Task(taskID)
	if t == nil {
		return Change{}, ErrUnknownTask
	}
	t.Attempts, t.LastError = 0, ""
	app.Timeline = append(app.Timeline, c.Entry{At: w.Now(), TaskID: t.ID, Kind: "replayed", Source: "operator",
		Note: &c.Message{ZH: "运维人员重新发送：此前的派单可能已送达部门，再次发送以取得部门的办件编号，随后撤销或以部门决定为准",
			EN: "replayed by an operator: the earlier case request may have reached the department; sent again to learn its case, then cancel it or take its decision"}})
	return Change{Outcome: Applied, Ready: []*c.Task{t}}, nil
}

// AtDepartment reports whether a task not final is with a department, or
// on its way to one: it holds a case (CaseNo), is queued or sent for
// dispatch (ready, dispatched), or is parked after a dispatch that may
// have reached it (dead_letter). Erasing such a task's application on
// request needs force.
func AtDepartment(t *c.Task) bool {
	if t.State.Final() {
		return false
	}
	switch t.State {
	case c.TaskReady, c.TaskDispatched, c.TaskDeadLetter:
		return true
	}
	return t.CaseNo != ""
}

// ErasureEnded is the reason an item ended because the applicant's
// personal data was erased: sent to the department that holds its case
// (it carries nothing personal).
var ErasureEnded = c.Message{ZH: "应申请人要求删除个人信息，本事项终止办理", EN: "ended: the applicant's personal data was erased at their request"}

// EndForErasure cancels every item not final before an application's
// personal part is erased, so that nothing is sent or asked for it any
// more: the departments holding a case are told (Notify: the withdrawal
// path, whose notice carries no personal data). The application becomes
// withdrawn. Nothing to cancel is a Duplicate.
func (w *Workflow) EndForErasure(app *c.Application) Change {
	now := w.Now()
	why := ErasureEnded
	var ch Change
	for _, t := range app.Tasks {
		if t.State.Final() {
			continue
		}
		moveTask(app, t, c.TaskCancelled, now, "gateway", &why)
		if t.CaseNo != "" {
			ch.Notify = append(ch.Notify, t)
		}
		ch.Outcome = Applied
	}
	if ch.Outcome != Applied {
		return Change{Outcome: Duplicate}
	}
	if app.WithdrawnAt == nil {
		app.WithdrawnAt = &now
	}
	return ch
}
