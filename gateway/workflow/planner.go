package workflow

import (
	"slices"
	"strconv"
	"time"

	"onething/civil"
	c "onething/contracts"
	"onething/gateway/calendar"
	"onething/gateway/rules"
)

// Workflow applies the rules to applications. Now is the business clock:
// the instant a case's history records (receipt, timeline, milestones) and
// whose civil date in China is "today" for every rule, due date and overdue
// flag. It is the real clock except under `onething dev --now` and in
// tests; job scheduling, leases and backoff never read it. Cal counts legal
// deadlines in working days.
type Workflow struct {
	Cal *calendar.Calendar
	Now func() time.Time
	// Serves says whether a department serves a county (an endpoint is
	// configured for it, serves.go); nil: every county. A task it does
	// not serve is refused at planning with NotServedReason.
	Serves func(dept c.Dept, county string) bool
}

// New returns a workflow on the real clock.
func New(cal *calendar.Calendar) *Workflow { return &Workflow{Cal: cal, Now: time.Now} }

// Today is the civil date in China on the business clock.
func (w *Workflow) Today() civil.Date { return civil.Of(w.Now()) }

// AcceptedOn is the day an application was accepted, on which ages and
// validity are judged: the recorded acceptedOn, or for a record from before
// it was kept, the China date of its receipt.
func AcceptedOn(app *c.Application) civil.Date {
	if d, err := civil.Parse(app.AcceptedOn); err == nil {
		return d
	}
	return civil.Of(app.ReceivedAt)
}

// facts are the applicant's facts on the day the application was accepted.
func (w *Workflow) facts(app *c.Application) rules.Facts {
	day := AcceptedOn(app)
	if app.ReceivedAt.IsZero() && app.AcceptedOn == "" {
		day = w.Today() // being planned: accepted today
	}
	return rules.FactsOf(&app.Applicant, day)
}

// Plan turns the requests of a new application into tasks: the certificate
// business first, subsidies that need its result waiting on it, the pension
// subsidy added without application when the applicant qualifies, and items
// the applicant cannot have rejected at once with a reason (never dropped).
// It returns the tasks ready for dispatch.
func (w *Workflow) Plan(app *c.Application) []*c.Task {
	p := &planner{app: app, now: w.Now(), w: w}
	// Room for five items, each planned and moved: the timeline's entries
	// are large, and growing it one by one copied them over and over.
	app.Tasks = slices.Grow(app.Tasks, 5)
	app.Timeline = slices.Grow(app.Timeline, 12)
	f := w.facts(app)
	r := &app.Requests
	held := f.Certificate

	var cert *c.Task
	pending, fullCancel := false, false
	if req := r.Certificate; req != nil {
		proc, refusal := rules.Certificate(f, req)
		cert = p.task(req.Business, nil)
		cert.Procedure = &proc
		if refusal != nil {
			p.move(cert, c.TaskRejected, refusal)
		} else {
			p.move(cert, c.TaskReady, nil)
			fullCancel = req.Business == c.ItemCertCancel && req.SubKind != "partial"
			// A card keeping an expired validity cannot bring the
			// subsidies: they are decided now from the card held.
			pending = proc.NewCertificate && !rules.KeepsExpired(f, proc)
		}
	}
	var deps []string
	if pending {
		deps = []string{cert.ID}
	}

	if r.TwoSubsidies != nil {
		living := p.task(c.ItemSubsidyLiving, deps)
		nursing := p.task(c.ItemSubsidyNursing, deps)
		switch {
		case fullCancel:
			p.move(living, c.TaskRejected, rules.MsgCancelNoSubsidy)
			p.move(nursing, c.TaskRejected, rules.MsgCancelNoSubsidy)
		case pending:
			// What does not depend on the certificate is decided now.
			if why := rules.LivingApartFromCertificate(f); why != nil {
				p.move(living, c.TaskRejected, why)
			} else {
				p.wait(living)
			}
			if why := rules.NursingApartFromCertificate(f); why != nil {
				p.move(nursing, c.TaskRejected, why)
			} else {
				p.wait(nursing)
			}
		default:
			p.decide(living, f, held)
			p.decide(nursing, f, held)
		}
	}
	// A certificate being cancelled in full no longer makes its holder
	// severely disabled: the pension then rests on 低保/特困 alone.
	pensionCert := held
	if fullCancel {
		pensionCert = nil
	}
	pensionWhy := rules.Pension(f, pensionCert)
	switch {
	case pensionWhy == nil || pensionWhy == rules.MsgPensionAge:
		// Granted without application; or in an assisted group but under
		// 16, which the guide answers as the age deciding: listed and
		// refused with that reason rather than left out.
		t := p.task(c.ItemPensionSubsidy, nil)
		if r.Pension == nil {
			p.note(t, msgPensionAutomatic)
		}
		p.decide(t, f, pensionCert)
	case r.Pension != nil && pending:
		// Eligibility rests on the grade of the certificate to be issued.
		p.wait(p.task(c.ItemPensionSubsidy, deps))
	case r.Pension != nil:
		p.decide(p.task(c.ItemPensionSubsidy, nil), f, pensionCert)
	}
	if r.Medical != nil {
		p.decide(p.task(c.ItemMedicalSubsidy, nil), f, nil)
	}
	return p.ready
}

type planner struct {
	app   *c.Application
	now   time.Time
	ready []*c.Task
	w     *Workflow
}

func (p *planner) task(item c.ItemCode, deps []string) *c.Task {
	return addTask(p.app, item, deps, p.now)
}

// addTask appends a new planned task to an application.
func addTask(app *c.Application, item c.ItemCode, deps []string, now time.Time) *c.Task {
	t := &c.Task{
		ID:        app.ID + "-" + strconv.Itoa(len(app.Tasks)+1),
		Item:      item,
		Dept:      c.Items[item].Dept,
		County:    c.CountyOf(app.Applicant.HouseholdDivision),
		State:     c.TaskPlanned,
		DependsOn: deps,
		UpdatedAt: now,
	}
	app.Tasks = append(app.Tasks, t)
	app.Timeline = append(app.Timeline, c.Entry{At: now, TaskID: t.ID, Kind: "planned", To: c.TaskPlanned, Source: "gateway",
		Note: &c.Message{ZH: "已计划：" + c.Items[item].Name.ZH, EN: "planned: " + c.Items[item].Name.EN}})
	return t
}

func (p *planner) note(t *c.Task, m *c.Message) {
	p.app.Timeline = append(p.app.Timeline, c.Entry{At: p.now, TaskID: t.ID, Kind: "note", Note: m, Source: "gateway"})
}

func (p *planner) move(t *c.Task, to c.TaskState, why *c.Message) {
	if (to == c.TaskReady || to == c.TaskWaiting) && !p.w.served(t) {
		to, why = c.TaskRejected, NotServedReason(t.Dept, t.County)
	}
	moveTask(p.app, t, to, p.now, "gateway", why)
	if to == c.TaskReady {
		p.ready = append(p.ready, t)
	}
}

func (p *planner) wait(t *c.Task) {
	p.move(t, c.TaskWaiting, &c.Message{ZH: "等待残疾人证办结", EN: "waiting for the certificate business"})
}

// decide resolves a task from a certificate now: ready, or rejected.
func (p *planner) decide(t *c.Task, f rules.Facts, cert *c.Certificate) {
	if why := resolve(f, t, cert); why != nil {
		p.move(t, c.TaskRejected, why)
		return
	}
	p.move(t, c.TaskReady, nil)
}

// resolve decides a subsidy task from the certificate it rests on and
// records that certificate on the task; a nursing task takes its kind from
// the grade and category. A non-nil message is the reason to refuse it.
func resolve(f rules.Facts, t *c.Task, cert *c.Certificate) *c.Message {
	switch t.Item {
	case c.ItemSubsidyLiving:
		t.Certificate = cert
		return rules.Living(f, cert)
	case c.ItemSubsidyNursing, c.ItemSubsidyNursing34:
		t.Certificate = cert
		item, why := rules.Nursing(f, cert)
		t.Item = item
		return why
	case c.ItemPensionSubsidy:
		t.Certificate = cert
		return rules.Pension(f, cert)
	}
	return nil
}

var msgPensionAutomatic = &c.Message{ZH: "城乡居民基本养老保险补助无需申请，根据共享数据自动办理", EN: "the pension subsidy needs no application: added from shared data"}
