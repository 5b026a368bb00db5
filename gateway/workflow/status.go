package workflow

import (
	"sort"

	c "onething/contracts"
)

// Recompute derives the consolidated status from the tasks: completed when
// every task is final, supplement_required when any task waits on the
// applicant, processing once any task has been dispatched, received before.
func (w *Workflow) Recompute(app *c.Application) {
	w.RefreshDue(app)
	today := w.Today().String()
	s := c.Status{Counts: map[c.TaskState]int{}}
	final, started, supplement := 0, false, false
	for _, t := range app.Tasks {
		s.Counts[t.State]++
		if t.State.Final() {
			final++
			continue
		}
		switch t.State {
		case c.TaskSupplementRequired:
			// Waiting on the applicant until they provide it; then on the
			// department again.
			supplement = supplement || t.Supplement == nil || t.Supplement.ProvidedAt == nil
			started = true
		case c.TaskPlanned, c.TaskWaiting, c.TaskReady:
		default:
			started = true
		}
		if t.DueDate != "" {
			if s.NextDue == "" || t.DueDate < s.NextDue {
				s.NextDue = t.DueDate
			}
			if t.DueDate < today {
				s.Overdue = append(s.Overdue, t.ID)
			}
		}
	}
	switch {
	case final == len(app.Tasks) && app.WithdrawnAt != nil:
		// Every task final after the applicant withdrew: withdrawn, even
		// if some items were decided before; they keep their own states.
		s.State = c.AppWithdrawn
	case final == len(app.Tasks):
		s.State = c.AppCompleted
	case supplement:
		s.State = c.AppSupplementRequired
	case started || final > 0:
		s.State = c.AppProcessing
	default:
		s.State = c.AppReceived
	}
	sort.Strings(s.Overdue)
	s.StateName = c.AppStateName(s.State)
	s.DueDate, s.Provisional = app.Status.DueDate, app.Status.Provisional
	app.Status = s
}

// Overdue reports whether an unfinished task is past its due date today.
func (w *Workflow) Overdue(t *c.Task) bool {
	return !t.State.Final() && t.DueDate != "" && t.DueDate < w.Today().String()
}
