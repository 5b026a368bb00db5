// Package workflow holds the rules that move an application: the planner
// that turns requests into tasks, the one table of legal task transitions,
// the handling of department answers and events, deadlines and the
// consolidated status. It is pure: no I/O, so every rule is tested directly.
package workflow

import (
	"fmt"

	c "onething/contracts"
)

// transitions is the one table of legal task moves. Anything not here is an
// illegal transition and is refused, never silently applied.
var transitions = map[c.TaskState][]c.TaskState{
	c.TaskPlanned:    {c.TaskWaiting, c.TaskReady, c.TaskRejected, c.TaskCancelled},
	c.TaskWaiting:    {c.TaskReady, c.TaskRejected, c.TaskCancelled},
	c.TaskReady:      {c.TaskDispatched, c.TaskAccepted, c.TaskInProgress, c.TaskSupplementRequired, c.TaskApproved, c.TaskRejected, c.TaskCancelled, c.TaskDeadLetter},
	c.TaskDispatched: {c.TaskAccepted, c.TaskInProgress, c.TaskSupplementRequired, c.TaskApproved, c.TaskRejected, c.TaskCancelled},
	c.TaskAccepted:   {c.TaskInProgress, c.TaskSupplementRequired, c.TaskApproved, c.TaskRejected, c.TaskCancelled},
	c.TaskInProgress: {c.TaskSupplementRequired, c.TaskApproved, c.TaskRejected, c.TaskCancelled},
	// A supplement goes back to the applicant; the department resumes it.
	c.TaskSupplementRequired: {c.TaskInProgress, c.TaskReady, c.TaskApproved, c.TaskRejected, c.TaskCancelled},
	// An operator replays a dead letter; a department that did get the case
	// after all may still report on it.
	c.TaskDeadLetter: {c.TaskReady, c.TaskAccepted, c.TaskInProgress, c.TaskApproved, c.TaskRejected, c.TaskCancelled},
	c.TaskApproved:   {},
	c.TaskRejected:   {},
	c.TaskCancelled:  {},
}

// rank orders states by progress, so that a report older than what is known
// (an event that arrives out of order) can be told from an illegal one.
var rank = map[c.TaskState]int{
	c.TaskPlanned: 0, c.TaskWaiting: 1, c.TaskReady: 2, c.TaskDeadLetter: 2,
	c.TaskDispatched: 3, c.TaskAccepted: 4, c.TaskInProgress: 5, c.TaskSupplementRequired: 5,
	c.TaskApproved: 9, c.TaskRejected: 9, c.TaskCancelled: 9,
}

// CanMove reports whether the table allows from -> to.
func CanMove(from, to c.TaskState) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Outcome is what became of a reported state.
type Outcome string

const (
	Applied   Outcome = "applied"   // the task moved
	Duplicate Outcome = "duplicate" // the task is in that state already
	Stale     Outcome = "stale"     // the task is past that state (out of order)
)

// IllegalTransitionError is returned for a move the table does not allow
// and that is not explained by an out-of-order report.
type IllegalTransitionError struct {
	TaskID   string
	From, To c.TaskState
}

func (e *IllegalTransitionError) Error() string {
	return fmt.Sprintf("task %s: illegal transition %s -> %s", e.TaskID, e.From, e.To)
}

// judge decides what a report that task t is now in state to means.
func judge(t *c.Task, to c.TaskState) (Outcome, error) {
	switch {
	case t.State == to:
		return Duplicate, nil
	case t.State == c.TaskCancelled:
		// Withdrawn: whatever the department reports before it has taken
		// the withdrawal is absorbed, not an error it could do anything about.
		return Stale, nil
	case CanMove(t.State, to):
		return Applied, nil
	case rank[to] < rank[t.State]:
		return Stale, nil
	default:
		return "", &IllegalTransitionError{TaskID: t.ID, From: t.State, To: to}
	}
}
