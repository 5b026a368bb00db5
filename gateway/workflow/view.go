package workflow

import (
	"time"

	"onething/civil"
	c "onething/contracts"
	"onething/gateway/rules"
)

// Briefs shows an application's tasks to callers (app is the caller's copy),
// their free text masked.
func (w *Workflow) Briefs(app *c.Application) []c.TaskBrief {
	return w.briefs(app, masker(app))
}

func (w *Workflow) briefs(app *c.Application, m *c.FreeTextMasker) []c.TaskBrief {
	out := make([]c.TaskBrief, 0, len(app.Tasks))
	for _, t := range app.Tasks {
		county := c.TaskCounty(app, t)
		out = append(out, c.TaskBrief{
			TaskID: t.ID, Item: t.Item, ItemName: c.Items[t.Item].Name, Dept: t.Dept, DeptName: c.DeptName(t.Dept, county),
			County: county, CountyName: countyName(county), State: t.State, StateName: c.TaskStateName(t.State),
			DependsOn: t.DependsOn, CaseNo: t.CaseNo, Reason: maskedMessage(t.Reason, m), Result: maskedResult(t.Result, m),
			Certificate: maskedCert(t.Certificate), Milestones: chinaMilestones(t.Milestones), Supplement: maskedSupplement(t.Supplement, m), DueDate: t.DueDate,
			Overdue: w.Overdue(t), Provisional: t.DueProvisional && t.DueDate != "", UpdatedAt: civil.In(t.UpdatedAt),
		})
	}
	return out
}

// countyName names a county for people, its code beside the name: from
// its rule pack, else from the division table, else by the code alone.
func countyName(code string) *c.Message {
	if code == "" {
		return nil
	}
	if p, ok := rules.Counties().County(code); ok {
		l := p.Label()
		return &l
	}
	if name, ok := c.Divisions[code]; ok {
		return &c.Message{ZH: name + "（" + code + "）", EN: name + " (" + code + ")"}
	}
	return &c.Message{ZH: "区划代码 " + code + " 所在县（市、区）", EN: "the county " + code}
}

// masker masks the free text of an application (the applicant's words in a
// withdrawal, a department's reasons and notes): every ID, certificate and
// phone number, and the names of the people the application names. The
// full text stays in the record, for the audited full-record read.
func masker(app *c.Application) *c.FreeTextMasker {
	names := []string{app.Applicant.Name}
	if g := app.Applicant.Guardian; g != nil {
		names = append(names, g.Name)
	}
	if app.Delivery.Recipient != "" {
		names = append(names, app.Delivery.Recipient)
	}
	return c.NewFreeTextMasker(names...)
}

// maskedMessage is msg with its texts masked: a new message where that
// changes anything (the record's own is never changed: it is shared with
// its timeline and the store's cache), msg itself otherwise.
func maskedMessage(msg *c.Message, m *c.FreeTextMasker) *c.Message {
	if msg == nil {
		return nil
	}
	zh, en := m.Mask(msg.ZH), m.Mask(msg.EN)
	if zh == msg.ZH && en == msg.EN {
		return msg
	}
	return &c.Message{ZH: zh, EN: en}
}

func maskedResult(r *c.Result, m *c.FreeTextMasker) *c.Result {
	if r == nil {
		return nil
	}
	out := *r
	out.Note = maskedMessage(r.Note, m)
	return &out
}

func maskedSupplement(s *c.Supplement, m *c.FreeTextMasker) *c.Supplement {
	if s == nil {
		return nil
	}
	out := *s
	out.What, out.Where = *maskedMessage(&s.What, m), *maskedMessage(&s.Where, m)
	out.RequestedAt = civil.In(s.RequestedAt)
	if s.ProvidedAt != nil {
		at := civil.In(*s.ProvidedAt)
		out.ProvidedAt = &at
	}
	return &out
}

// maskedTimeline is a copy of the timeline with its notes masked.
func maskedTimeline(tl []c.Entry, m *c.FreeTextMasker) []c.Entry {
	if tl == nil {
		return nil
	}
	out := make([]c.Entry, len(tl))
	for i, e := range tl {
		e.Note = maskedMessage(e.Note, m)
		e.At = civil.In(e.At)
		out[i] = e
	}
	return out
}

// chinaMilestones is a copy of the milestones with their times in China
// time, as every time people read.
func chinaMilestones(ms []c.Milestone) []c.Milestone {
	if ms == nil {
		return nil
	}
	out := make([]c.Milestone, len(ms))
	for i, x := range ms {
		x.At = civil.In(x.At)
		out[i] = x
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

// View is GET /v1/applications/{id}: the case with the applicant and the
// free text masked. The status is recomputed for today, so a task that ran
// past its due date since the last change shows as overdue.
func (w *Workflow) View(app *c.Application) c.ApplicationView {
	w.Recompute(app)
	m := masker(app)
	v := c.ApplicationView{
		ApplicationID: app.ID, PortalRef: app.PortalRef, Channel: app.Channel, ReceivedAt: civil.In(app.ReceivedAt), AcceptedOn: AcceptedOn(app).String(),
		Applicant: c.MaskedApplicant{
			Name: c.MaskName(app.Applicant.Name), IDNumber: c.MaskID(app.Applicant.IDNumber),
			HouseholdDivision: app.Applicant.HouseholdDivision,
		},
		Status: app.Status, Items: w.briefs(app, m), Timeline: maskedTimeline(app.Timeline, m), Version: app.Version,
	}
	if e := app.Erased; e != nil {
		// The trace: nobody's name or number is left to mask.
		v.Applicant.Name, v.Applicant.IDNumber = "", ""
		v.Erased = ErasureMark(e)
	}
	return v
}

// ErasureMark is how a view says that an application's personal part
// was erased (nil: it was not).
func ErasureMark(e *c.Erasure) *c.ErasureMark {
	if e == nil {
		return nil
	}
	return &c.ErasureMark{At: civil.In(e.At), Kind: e.Kind, KindName: c.ErasureKindName(e.Kind), Name: c.ErasedName}
}

// Push is the status webhook body for the application's current version,
// its free text masked as in View.
func (w *Workflow) Push(app *c.Application) *c.StatusPush {
	w.Recompute(app)
	return &c.StatusPush{
		Type: "application.status", ApplicationID: app.ID, PortalRef: app.PortalRef,
		Version: app.Version, Status: app.Status, Items: w.Briefs(app), SentAt: civil.In(time.Now()),
		Erased: ErasureMark(app.Erased),
	}
}
