package workflow

import (
	"time"

	c "onething/contracts"
)

// Briefs shows an application's tasks to callers (app is the caller's copy).
func (w *Workflow) Briefs(app *c.Application) []c.TaskBrief {
	out := make([]c.TaskBrief, 0, len(app.Tasks))
	for _, t := range app.Tasks {
		out = append(out, c.TaskBrief{
			TaskID: t.ID, Item: t.Item, ItemName: c.Items[t.Item].Name, Dept: t.Dept, State: t.State,
			DependsOn: t.DependsOn, CaseNo: t.CaseNo, Reason: t.Reason, Result: t.Result,
			Certificate: maskedCert(t.Certificate), Milestones: t.Milestones, Supplement: t.Supplement, DueDate: t.DueDate,
			Overdue: w.Overdue(t), UpdatedAt: t.UpdatedAt,
		})
	}
	return out
}

// maskedCert hides the holder's ID number inside a certificate number.
func maskedCert(cert *c.Certificate) *c.Certificate {
	if cert == nil {
		return nil
	}
	m := *cert
	m.Number = c.MaskID(m.Number)
	return &m
}

// View is GET /v1/applications/{id}: the case with the applicant masked.
// The status is recomputed for today, so a task that ran past its due date
// since the last change shows as overdue.
func (w *Workflow) View(app *c.Application) c.ApplicationView {
	w.Recompute(app)
	return c.ApplicationView{
		ApplicationID: app.ID, PortalRef: app.PortalRef, Channel: app.Channel, ReceivedAt: app.ReceivedAt,
		Applicant: c.MaskedApplicant{
			Name: c.MaskName(app.Applicant.Name), IDNumber: c.MaskID(app.Applicant.IDNumber),
			HouseholdDivision: app.Applicant.HouseholdDivision,
		},
		Status: app.Status, Items: w.Briefs(app), Timeline: app.Timeline, Version: app.Version,
	}
}

// Push is the status webhook body for the application's current version.
func (w *Workflow) Push(app *c.Application) *c.StatusPush {
	w.Recompute(app)
	return &c.StatusPush{
		Type: "application.status", ApplicationID: app.ID, PortalRef: app.PortalRef,
		Version: app.Version, Status: app.Status, Items: w.Briefs(app), SentAt: time.Now().UTC(),
	}
}
