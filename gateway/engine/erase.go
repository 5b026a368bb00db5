package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"onething/civil"

	c "onething/contracts"
	"onething/gateway/store"
	"onething/gateway/workflow"
)

// Erasure on request (PIPL art. 47): an admin erases one application's
// personal part; the pseudonymous trace stays (store.ErasePersonal). From
// then on nothing personal about it leaves the gateway: the worker drops
// its dispatches, supplements and polls (worker.go), a department's later
// events are absorbed without being recorded, and the full record is gone.
//
// Items still open at a department refuse the erasure unless forced: the
// department is deciding on the person's behalf. A forced erasure cancels
// every open item in the same write, and the departments holding a case
// are told through the withdrawal path (a notice that names the task and
// carries no personal data), so they stop too; the portal gets a status
// push with the trace (withdrawn), which carries no personal data either.
// Items no department holds yet (planned, waiting) are cancelled the same
// way, without force.

// OpenItemsError refuses an erasure while items are open at a department.
type OpenItemsError struct {
	Tasks []string // the open tasks' ids
}

func (e *OpenItemsError) Error() string {
	return fmt.Sprintf("%d item(s) still open at a department", len(e.Tasks))
}

// ErrAlreadyErased: the application was erased before (nothing done).
var ErrAlreadyErased = store.ErrErased

// ErasureObserver is told of each erasure done (metrics:
// onething_erasures_total{kind}).
type ErasureObserver interface {
	Erased(kind string)
}

// Erased is what an erasure did.
type Erased struct {
	App     *c.Application // the record as written: the trace
	Erasure c.Erasure
	// Cancelled are the items ended by the erasure; Notified those whose
	// department is told.
	Cancelled, Notified []string
}

// OpenAtDepartment lists the tasks of an application that a department
// holds or is being sent (workflow.AtDepartment).
func OpenAtDepartment(app *c.Application) []string {
	var open []string
	for _, t := range app.Tasks {
		if workflow.AtDepartment(t) {
			open = append(open, t.ID)
		}
	}
	return open
}

// ErasureVersion makes an erasure at the end of the retention period a
// new version of the record, as one on request is, and returns its
// status push (retention.Sweeper.NewVersion): the portal learns of the
// erasure from the push's erased mark. The items are final already.
func (e *Engine) ErasureVersion(app *c.Application) []store.Job {
	e.Flow.Recompute(app)
	app.Version++
	return e.jobs(app, workflow.Change{})
}

// Erase erases an application's personal part on request, for subject
// (the admin's account) with reason (checked by the caller: no personal
// data). While items are open at a department it is an *OpenItemsError
// unless force; an application erased before is ErrAlreadyErased; an
// unknown one ErrNotFound.
func (e *Engine) Erase(ctx context.Context, id, reason, subject string, force bool) (Erased, error) {
	out := Erased{Cancelled: []string{}, Notified: []string{}}
	rec := c.Erasure{At: e.Flow.Now(), Kind: c.ErasureRequest, By: subject, Reason: reason}
	queued := false
	prepare := func(app *c.Application, er *c.Erasure) ([]store.Job, error) {
		out.Cancelled, out.Notified, queued = out.Cancelled[:0], out.Notified[:0], false
		open := OpenAtDepartment(app)
		if len(open) > 0 && !force {
			return nil, &OpenItemsError{Tasks: open}
		}
		er.Forced = len(open) > 0
		for _, t := range app.Tasks {
			if !t.State.Final() {
				out.Cancelled = append(out.Cancelled, t.ID)
			}
		}
		// Whether or not it ends items, the erasure changes the record
		// (the trace replaces it): a new version, pushed to the portal.
		ch := e.Flow.EndForErasure(app)
		for _, t := range ch.Notify {
			out.Notified = append(out.Notified, t.ID)
		}
		e.Flow.Recompute(app)
		app.Version++
		queued = true
		return e.jobs(app, ch), nil
	}
	app, err := store.EraseWith(ctx, e.Store, id, rec, prepare)
	if app != nil {
		out.App, out.Erasure = app, *app.Erased
	}
	if err == nil || errors.Is(err, store.ErrErased) {
		// The destroyed key's copies in the key store's files go too (a
		// repeated request purges again, in case this one failed).
		if perr := store.PurgeShredded(ctx, e.Store); perr != nil {
			return out, fmt.Errorf("erase %s: erased, the key store not yet purged: %w", id, perr)
		}
	}
	if err != nil {
		return out, err
	}
	if queued {
		e.wake()
	}
	if e.Erasures != nil {
		e.Erasures.Erased(c.ErasureRequest)
	}
	return out, nil
}

// applyCase records a department's answer to a dispatch or a supplement.
// For an erased application (the answer to a call under way when it was
// erased) nothing it says is recorded but a case number newly learned:
// that department opened a case after all and is told to cancel it.
func (e *Engine) applyCase(app *c.Application, taskID string, resp *c.CaseResponse) (workflow.Change, error) {
	if app.Erased == nil {
		return e.Flow.ApplyCase(app, taskID, resp)
	}
	t := app.Task(taskID)
	if t == nil {
		return workflow.Change{}, ErrUnknownTask
	}
	ch := caseOfErased(t, resp.CaseNo, resp.Status == c.CaseCancelled)
	if len(ch.Notify) > 0 {
		ch.Outcome = workflow.Applied
	}
	return ch, nil
}

// caseOfErased records the case number a department's late word (an
// answer or an event) teaches about an item of an erased application: the
// one thing kept from it, since the cancel that tells the department to
// stop needs it (a new version of the trace: Noted). A cancelled item's
// department is told (Notify), unless its word was itself a
// cancellation. Nothing else it said is taken (Stale).
func caseOfErased(t *c.Task, caseNo string, cancelled bool) workflow.Change {
	if t.CaseNo != "" || caseNo == "" || t.Step == 0 {
		// (Step 0: never sent, the department holds no case of it, and a
		// number claimed for it is not taken, as on a live application.)
		return workflow.Change{Outcome: workflow.Stale}
	}
	t.CaseNo = caseNo
	ch := workflow.Change{Outcome: workflow.Stale, Noted: true}
	if t.State == c.TaskCancelled && !cancelled {
		ch.Notify = []*c.Task{t}
	}
	return ch
}

// SubjectAccess is one person's applications as the gateway holds them,
// for a subject-access request (PIPL art. 45): each the full record
// (Record), under the audit entry the caller wrote first. Erased
// applications are not linked to the number any more and are not found;
// one erased meanwhile is left out.
func (e *Engine) SubjectAccess(ctx context.Context, idNumber, auditID string) (c.SubjectAccessExport, error) {
	out := c.SubjectAccessExport{GeneratedAt: civil.In(time.Now()), IDNumberMasked: c.MaskID(idNumber), Applications: []c.ApplicationRecord{}, AuditID: auditID}
	apps, err := e.FindByIDNumber(ctx, idNumber)
	if err != nil {
		return out, err
	}
	for _, app := range apps {
		if app.Erased == nil {
			out.Applications = append(out.Applications, e.Record(app, auditID))
		}
	}
	return out, nil
}

// PeopleOf is the names of the people of one person's applications (the
// applicant's, a guardian's: what an audited reason must not carry) and
// how many applications were found.
func (e *Engine) PeopleOf(ctx context.Context, idNumber string) ([]string, int, error) {
	apps, err := e.FindByIDNumber(ctx, idNumber)
	if err != nil {
		return nil, 0, err
	}
	var names []string
	for _, app := range apps {
		names = append(names, app.PeopleNames()...)
	}
	return names, len(apps), nil
}
