package store

import "onething/contracts"

// open reports whether an application may still need work: a task not
// final, a version not yet pushed, or a withdrawal a department has not
// confirmed. The reconciler looks only at these; it must cover every job
// reconcile.DueJobs can ask for (its tests check that).
func open(app *contracts.Application) bool {
	if app.PushedVersion < app.Version {
		return true
	}
	for _, t := range app.Tasks {
		if !t.State.Final() || CancelOwed(app, t) {
			return true
		}
	}
	return false
}

// CancelOwed reports whether a department holding a case of a withdrawn
// task has not yet confirmed the withdrawal.
func CancelOwed(app *contracts.Application, t *contracts.Task) bool {
	if t.State != contracts.TaskCancelled || t.CaseNo == "" {
		return false
	}
	for _, e := range app.Timeline {
		if e.TaskID == t.ID && e.Kind == "department_notified" {
			return false
		}
	}
	return true
}
