package engine

import (
	"context"
	"errors"

	c "onething/contracts"
	"onething/gateway/store"
	"onething/gateway/workflow"
)

// FindByIDNumber returns every application of the person with this ID
// number (through the store's keyed blind index), oldest first. The
// caller decides what the asker may see and shows it masked (Summary).
func (e *Engine) FindByIDNumber(ctx context.Context, idNumber string) ([]*c.Application, error) {
	ids, err := e.Store.FindByIDNumber(ctx, idNumber)
	if err != nil {
		return nil, err
	}
	out := make([]*c.Application, 0, len(ids))
	for _, id := range ids {
		app, err := e.Store.Get(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, app)
	}
	return out, nil
}

// Summary is an application as a list shows it: the applicant masked
// (5117**********123X, 张**), its items and where it stands.
func (e *Engine) Summary(app *c.Application) c.ApplicationSummary {
	e.Flow.Recompute(app)
	items := make([]c.ItemCode, 0, len(app.Tasks))
	for _, t := range app.Tasks {
		items = append(items, t.Item)
	}
	sum := c.ApplicationSummary{
		ApplicationID: app.ID, PortalRef: app.PortalRef, Channel: app.Channel, ReceivedAt: app.ReceivedAt, AcceptedOn: workflow.AcceptedOn(app).String(),
		Applicant: c.MaskedApplicant{
			Name: c.MaskName(app.Applicant.Name), IDNumber: c.MaskID(app.Applicant.IDNumber),
			HouseholdDivision: app.Applicant.HouseholdDivision,
		},
		Status: app.Status.State, Items: items, Version: app.Version,
	}
	if app.Erased != nil {
		sum.Applicant.Name, sum.Applicant.IDNumber = "", "" // the trace: nothing to mask
	}
	return sum
}

// Record is the full, unmasked record of an application; auditID names
// the audit entry of this read (the caller appends it first).
func (e *Engine) Record(app *c.Application, auditID string) c.ApplicationRecord {
	e.Flow.Recompute(app)
	return c.ApplicationRecord{
		ApplicationID: app.ID, PortalRef: app.PortalRef, Channel: app.Channel, ReceivedAt: app.ReceivedAt, AcceptedOn: workflow.AcceptedOn(app).String(),
		Applicant: app.Applicant, Requests: app.Requests, Delivery: app.Delivery, Tasks: app.Tasks,
		Timeline: app.Timeline, Status: app.Status, Version: app.Version, AuditID: auditID,
	}
}

// Audit appends an entry to the audit log.
func (e *Engine) Audit(ctx context.Context, entry c.AuditEntry) (c.AuditEntry, error) {
	return e.Store.AppendAudit(ctx, entry)
}

// AuditLog reads the audit log, newest first, a page at a time.
func (e *Engine) AuditLog(ctx context.Context, q store.AuditQuery) (c.AuditPage, error) {
	entries, next, err := e.Store.Audit(ctx, q)
	if err != nil {
		return c.AuditPage{}, err
	}
	if entries == nil {
		entries = []c.AuditEntry{}
	}
	return c.AuditPage{Entries: entries, Next: next}, nil
}
