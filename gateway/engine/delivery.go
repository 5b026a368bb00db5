package engine

import (
	"context"
	"errors"

	c "onething/contracts"
	"onething/gateway/store"
	"onething/gateway/workflow"
)

// Delivered is the signed delivery (a webhook) an action comes in. The
// store records it, with its fingerprint and the reply, in the write of
// the action itself (store.Deliver): a retry of the same request is
// answered what the first was, the same id for another path, application
// or body is refused (store.ErrReplayed) and changes nothing.
type Delivered struct {
	store.Delivery
	// Answer makes the reply to record and send: from the action's result
	// (refusal nil), or from a refusal. ok false: the refusal is not one the
	// application's state decided; it is returned as an error and nothing
	// is recorded.
	Answer func(result any, refusal error) (reply store.Reply, ok bool)
	// Serves, on an event, says whether the sender (one county's system)
	// may report on a task of that county; nil: any county.
	Serves func(county string) bool
	// Sender, on an event, names the system that sent it (its endpoint:
	// hrss:511703); "": the department's one system.
	Sender string
}

// ErrWrongCounty is returned when a department system reports on a task
// of a county it does not serve.
var ErrWrongCounty = errors.New("task belongs to a county the sender does not serve")

// deliver runs act on the application as one delivery: act's change is
// committed like commit's, and the reply Answer makes of its result
// (evaluated after the status is recomputed) is recorded with it.
func (e *Engine) deliver(ctx context.Context, appID, onceKey string, d Delivered, act func(app *c.Application) (workflow.Change, func() any, error)) (store.Reply, error) {
	reply, _, err := e.deliverResult(ctx, appID, onceKey, d, act)
	return reply, err
}

// deliverResult is deliver that also returns the result the committed
// write answered with: nil for a refusal and for the same request again
// (its first reply), which did nothing now.
func (e *Engine) deliverResult(ctx context.Context, appID, onceKey string, d Delivered, act func(app *c.Application) (workflow.Change, func() any, error)) (store.Reply, any, error) {
	var applied bool
	var committed any // of the last attempt: the store may run fn again
	reply, err := e.Store.Deliver(ctx, appID, onceKey, d.Delivery, func(app *c.Application) (store.Outcome, error) {
		applied, committed = false, nil
		ch, result, err := act(app)
		if err != nil {
			r, ok := d.Answer(nil, err)
			if !ok {
				return store.Outcome{}, err
			}
			return store.Outcome{Reply: r, Refused: true}, nil
		}
		var jobs []store.Job
		if ch.Outcome == workflow.Applied || ch.Noted {
			e.Flow.Recompute(app)
			app.Version++
			jobs = e.jobs(app, ch)
			applied = true
		}
		committed = result()
		r, _ := d.Answer(committed, nil)
		return store.Outcome{Jobs: jobs, Reply: r}, nil
	})
	// Not replicated in time: written all the same (a retry is answered
	// from it), so what it did counts now; the caller answers 503.
	stands := errors.Is(err, store.ErrNotReplicated)
	if (err == nil || stands) && applied {
		e.wake()
	}
	if errors.Is(err, store.ErrAlreadyApplied) && reply.Status != 0 {
		return reply, nil, nil // the same request again: the first reply
	}
	if stands {
		return reply, committed, err
	}
	if err != nil {
		return reply, nil, err
	}
	return reply, committed, nil
}

// WithdrawDelivered is Withdraw for a signed delivery: the reply (what was
// cancelled, or the refusal) is recorded with the withdrawal.
func (e *Engine) WithdrawDelivered(ctx context.Context, appID string, d Delivered, deliveryID, reason string) (store.Reply, error) {
	reply, err := e.deliver(ctx, appID, "withdraw:"+deliveryID, d, func(app *c.Application) (workflow.Change, func() any, error) {
		r, ch, err := e.Flow.Withdraw(app, reason)
		return ch, func() any { r.Status = app.Status.State; return r }, err
	})
	if errors.Is(err, store.ErrAlreadyApplied) {
		// Recorded before deliveries were (a once key alone): answer as
		// Withdraw always did.
		res, err := e.Withdraw(ctx, appID, deliveryID, reason)
		if err != nil {
			return store.Reply{}, err
		}
		r, _ := d.Answer(res, nil)
		return r, nil
	}
	return reply, err
}

// SupplementDelivered is ProvideSupplement for a signed delivery; the
// result Answer gets is the application as the supplement left it.
func (e *Engine) SupplementDelivered(ctx context.Context, appID string, d Delivered, sub *c.SupplementSubmission) (store.Reply, error) {
	return e.deliver(ctx, appID, "", d, func(app *c.Application) (workflow.Change, func() any, error) {
		ch, err := e.Flow.ProvideSupplement(app, sub)
		return ch, func() any { return app }, err
	})
}

// EventResult is what an event did (the result Answer gets).
type EventResult struct {
	Outcome workflow.Outcome
	State   c.TaskState
}

// EventDelivered is ApplyEvent for a signed delivery.
func (e *Engine) EventDelivered(ctx context.Context, dept c.Dept, d Delivered, ev *c.DeptEvent) (store.Reply, error) {
	appID, ok := AppIDOfTask(ev.TaskID)
	if !ok {
		return store.Reply{}, ErrUnknownTask
	}
	reply, res, err := e.deliverResult(ctx, appID, eventKey(dept, d.Sender, ev.EventID), d, func(app *c.Application) (workflow.Change, func() any, error) {
		if t := app.Task(ev.TaskID); t != nil && t.Dept == dept && d.Serves != nil && !d.Serves(t.County) {
			return workflow.Change{}, nil, ErrWrongCounty
		}
		ch, err := e.applyEvent(app, dept, ev)
		return ch, func() any {
			res := EventResult{Outcome: ch.Outcome}
			if t := app.Task(ev.TaskID); t != nil {
				res.State = t.State
			}
			return res
		}, err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Reply{}, ErrUnknownTask
	case errors.Is(err, store.ErrAlreadyApplied):
		// Applied before (by its once key: a poll, or before deliveries
		// were recorded): a duplicate, as ApplyEvent answers, to a sender
		// that may report on the task.
		if d.Serves != nil {
			app, gerr := e.Store.Get(ctx, appID)
			if gerr != nil {
				return store.Reply{}, gerr
			}
			if t := app.Task(ev.TaskID); t != nil && t.Dept == dept && !d.Serves(t.County) {
				return store.Reply{}, ErrWrongCounty
			}
		}
		outcome, state, err := e.ApplyEventFrom(ctx, dept, d.Sender, ev)
		if err != nil {
			return store.Reply{}, err
		}
		e.eventApplied(dept, EventPosted, outcome, state)
		r, _ := d.Answer(EventResult{Outcome: outcome, State: state}, nil)
		return r, nil
	}
	if r, ok := res.(EventResult); ok {
		e.eventApplied(dept, EventPosted, r.Outcome, r.State)
	}
	return reply, err
}
