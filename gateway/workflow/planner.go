package workflow

import (
	"strconv"
	"time"

	c "onething/contracts"
	"onething/gateway/calendar"
)

// Workflow applies the rules to applications. Now is the clock (tests set
// it); Cal counts legal deadlines in working days.
type Workflow struct {
	Cal *calendar.Calendar
	Now func() time.Time
}

// New returns a workflow on the real clock.
func New(cal *calendar.Calendar) *Workflow { return &Workflow{Cal: cal, Now: time.Now} }

// Plan turns the requests of a new application into tasks: the certificate
// business first, subsidies that need its result waiting on it, and items the
// applicant cannot have rejected at once with a reason (never dropped).
// It returns the tasks ready for dispatch.
func (w *Workflow) Plan(app *c.Application) []*c.Task {
	now := w.Now()
	p := &planner{app: app, now: now}
	a, r := &app.Applicant, &app.Requests

	var cert *c.Task
	if r.Certificate != nil {
		cert = p.task(r.Certificate.Business, nil)
		p.move(cert, c.TaskReady, nil)
	}
	// The certificate a subsidy decides from: the one the business will
	// issue (wait for it) or the one held.
	held := a.Certificate
	var deps []string
	if cert != nil {
		deps = []string{cert.ID}
	}

	if r.TwoSubsidies != nil {
		living := p.task(c.ItemSubsidyLiving, deps)
		switch {
		case !c.InTongchuan(a.HouseholdDivision):
			p.move(living, c.TaskRejected, msgNotTongchuan)
		case !a.Dibao:
			p.move(living, c.TaskRejected, msgLivingNeedsDibao)
		default:
			p.start(living, cert, held)
		}
		nursing := p.task(c.ItemSubsidyNursing, deps)
		if !c.InTongchuan(a.HouseholdDivision) {
			p.move(nursing, c.TaskRejected, msgNotTongchuan)
		} else {
			p.start(nursing, cert, held)
		}
	}
	if r.Pension != nil {
		pension := p.task(c.ItemPensionSubsidy, nil)
		switch {
		case a.Dibao || a.Tekun:
			p.start(pension, nil, held)
		case cert != nil:
			// Eligibility rests on the certificate being issued (grade 1-2).
			pension.DependsOn = deps
			p.start(pension, cert, held)
		default:
			p.start(pension, nil, held)
		}
	}
	if r.Medical != nil {
		p.start(p.task(c.ItemMedicalSubsidy, nil), nil, nil)
	}
	return p.ready
}

type planner struct {
	app   *c.Application
	now   time.Time
	ready []*c.Task
}

func (p *planner) task(item c.ItemCode, deps []string) *c.Task {
	t := &c.Task{
		ID:        p.app.ID + "-" + strconv.Itoa(len(p.app.Tasks)+1),
		Item:      item,
		Dept:      c.Items[item].Dept,
		State:     c.TaskPlanned,
		DependsOn: deps,
		UpdatedAt: p.now,
	}
	p.app.Tasks = append(p.app.Tasks, t)
	p.app.Timeline = append(p.app.Timeline, c.Entry{At: p.now, TaskID: t.ID, Kind: "planned", To: c.TaskPlanned, Source: "gateway",
		Note: &c.Message{ZH: "已计划：" + c.Items[item].Name.ZH, EN: "planned: " + c.Items[item].Name.EN}})
	return t
}

func (p *planner) move(t *c.Task, to c.TaskState, why *c.Message) {
	moveTask(p.app, t, to, p.now, "gateway", why)
	if to == c.TaskReady {
		p.ready = append(p.ready, t)
	}
}

// start makes a task wait for the certificate business, or decides it now
// from the certificate held.
func (p *planner) start(t *c.Task, pending *c.Task, held *c.Certificate) {
	if pending != nil && len(t.DependsOn) > 0 {
		p.move(t, c.TaskWaiting, &c.Message{ZH: "等待残疾人证办结", EN: "waiting for the certificate business"})
		return
	}
	if why := resolve(p.app, t, held); why != nil {
		p.move(t, c.TaskRejected, why)
		return
	}
	p.move(t, c.TaskReady, nil)
}

// resolve decides, from the certificate the task rests on, which item a
// task is and whether the applicant can have it; a non-nil message is the
// reason for refusing it. It fixes the kind of a nursing subsidy: grade 1-2
// is the severe-disability nursing subsidy, grade 3-4 intellectual or mental
// the 三、四级 one.
func resolve(app *c.Application, t *c.Task, cert *c.Certificate) *c.Message {
	a := &app.Applicant
	switch t.Item {
	case c.ItemSubsidyLiving:
		if cert == nil {
			return msgNeedsCertificate
		}
		t.Certificate = cert
	case c.ItemSubsidyNursing, c.ItemSubsidyNursing34:
		if cert == nil {
			return msgNeedsCertificate
		}
		t.Certificate = cert
		switch {
		case cert.Grade == 1 || cert.Grade == 2:
			t.Item = c.ItemSubsidyNursing
		case (cert.Grade == 3 || cert.Grade == 4) && (cert.Category == c.CategoryIntellectual || cert.Category == c.CategoryMental):
			t.Item = c.ItemSubsidyNursing34
		default:
			return msgNursingGrade
		}
	case c.ItemPensionSubsidy:
		t.Certificate = cert
		if !a.Dibao && !a.Tekun && (cert == nil || cert.Grade > 2) {
			return msgPensionNotEligible
		}
	}
	return nil
}

var (
	msgNotTongchuan       = &c.Message{ZH: "两项补贴须为通川区户籍", EN: "the two subsidies require Tongchuan household registration"}
	msgLivingNeedsDibao   = &c.Message{ZH: "困难残疾人生活补贴须为低保对象", EN: "the living subsidy requires a minimum-living-guarantee (dibao) recipient"}
	msgNeedsCertificate   = &c.Message{ZH: "须持有有效残疾人证", EN: "a valid disability certificate is required"}
	msgNursingGrade       = &c.Message{ZH: "护理补贴须为一、二级残疾，或三、四级智力、精神残疾", EN: "the nursing subsidy requires grade 1-2, or grade 3-4 intellectual or mental disability"}
	msgPensionNotEligible = &c.Message{ZH: "养老保险补助适用于重度残疾人、低保对象、特困人员等缴费困难群体", EN: "the pension subsidy is for severely disabled, dibao, tekun and similar groups"}
	msgDependencyFailed   = &c.Message{ZH: "所依赖的残疾人证业务未办成，本事项无法办理", EN: "the certificate business this item depends on did not succeed"}
)
