package console

import (
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	qrcode "github.com/skip2/go-qrcode"

	"onething/civil"
	c "onething/contracts"
	"onething/gateway/auth"
	"onething/gateway/rules"
	"onething/gateway/workflow"
)

// The window's papers: the 受理回执 handed to the applicant when a case is
// taken in, and the 一次性告知书 listing at once everything the departments
// asked for and the applicant has not yet brought (the seed's 一次告知).
// Both show the applicant masked, as the case page does, so reading them is
// not audited either.

// deptName is the office handling an item: its county's department
// (通川区残联), by the shared display-name table.
func deptName(p page, it c.TaskBrief) string { return p.M(c.DeptName(it.Dept, it.County)) }

// windowName is a window as the applicant reads it (罗江镇综合受理窗口).
func windowName(p page, division string) string {
	if division == "" {
		return "—"
	}
	return p.T(townName(division)+"综合受理窗口", townName(division)+" comprehensive window")
}

// windowOf is the window a person works at for a case of this household:
// the town of theirs that holds it, else their first; "" for an operator.
func windowOf(p *auth.Principal, household string) string {
	for _, t := range p.Towns {
		if strings.HasPrefix(household, t) {
			return t
		}
	}
	if len(p.Towns) > 0 {
		return p.Towns[0]
	}
	return ""
}

// clerkName is the person's console username.
func clerkName(p *auth.Principal) string {
	return strings.TrimPrefix(p.Subject, "console:")
}

// intakeRecord is who takes a submission in at this window, kept with the
// application for its receipt.
func intakeRecord(req *request, sub *c.Submission, attested bool) *c.Intake {
	return &c.Intake{Window: windowOf(req.p, sub.Applicant.HouseholdDivision), Clerk: clerkName(req.p), Attested: attested}
}

// materialsOf is the checklist of an application as taken in (指南四):
// the same rules as the intake form's checklist, on the day it was
// accepted and with the procedures planned for its tasks.
func materialsOf(app *c.Application) []c.Material {
	f := rules.FactsOf(&app.Applicant, workflow.AcceptedOn(app))
	var procs []c.Procedure
	for _, t := range app.Tasks {
		if t.Procedure != nil {
			procs = append(procs, *t.Procedure)
		}
	}
	return rules.Materials(f, app.Requests.Certificate, procs)
}

// qrSVG draws text as a QR code in inline SVG: one path of the dark
// modules, row by row (the CSP allows no data: image, and inline SVG is
// markup, not an image).
func qrSVG(text, label string) (template.HTML, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return "", err
	}
	bits := q.Bitmap() // with its quiet zone
	var d strings.Builder
	for y, row := range bits {
		for x := 0; x < len(row); {
			if !row[x] {
				x++
				continue
			}
			run := 0
			for x+run < len(row) && row[x+run] {
				run++
			}
			fmt.Fprintf(&d, "M%d %dh%dv1h-%dz", x, y, run, run)
			x += run
		}
	}
	n := len(bits)
	return template.HTML(fmt.Sprintf(`<svg class="qr" role="img" aria-label="%s" viewBox="0 0 %d %d" xmlns="http://www.w3.org/2000/svg" shape-rendering="crispEdges">`+
		`<rect width="%d" height="%d" fill="#fff"></rect><path d="%s" fill="#000"></path></svg>`,
		template.HTMLEscapeString(label), n, n, n, n, d.String())), nil
}

// receiptItem is one item on the receipt.
type receiptItem struct {
	Name, Dept, Due, State string
	Provisional            bool
}

// receiptMaterial is one material on the receipt.
type receiptMaterial struct{ Name, Note string }

// receipt is GET /console/cases/{id}/receipt: the 受理回执, for A4.
func (k *Console) receipt(w http.ResponseWriter, r *http.Request, req *request) {
	app := k.load(w, r, req)
	if app == nil || k.erasedPrint(w, r, req, app) {
		return
	}
	view := k.cfg.Engine.Flow.View(app)
	p := k.base(r, req, "受理回执")
	items := make([]receiptItem, 0, len(view.Items))
	for _, it := range view.Items {
		ri := receiptItem{Name: p.T(it.ItemName.ZH, it.ItemName.EN), Dept: deptName(p, it), Due: it.DueDate, Provisional: it.Provisional}
		if ri.Due == "" && !it.State.Final() {
			ri.Due, ri.Provisional = k.dueFromAcceptance(p, app, app.Task(it.TaskID))
		}
		if it.State.Final() {
			// Short, so an item stays on one line of the A4 sheet: 已办结
			// when granted, the state's own name otherwise (已撤回).
			m := c.TaskStateName(it.State)
			if it.State == c.TaskApproved {
				m = c.AppStateName(c.AppCompleted)
			}
			ri.State = p.T("（"+m.ZH+"）", " ("+m.EN+")")
		}
		items = append(items, ri)
	}
	var materials []receiptMaterial
	for _, m := range materialsOf(app) {
		rm := receiptMaterial{Name: p.T(m.Name.ZH, m.Name.EN)}
		if m.Note != nil {
			rm.Note = p.T(m.Note.ZH, m.Note.EN)
		}
		materials = append(materials, rm)
	}
	qr, err := qrSVG(app.ID, p.T("申请编号二维码："+app.ID, "QR code of the application id: "+app.ID))
	if err != nil {
		k.cfg.Log.Error("console receipt: QR code", "app", app.ID, "err", err)
	}
	intake := app.Intake
	if intake == nil {
		intake = &c.Intake{}
	}
	channel := p.T("网上申请", "online")
	if app.Channel == c.ChannelOffline {
		channel = p.T("窗口受理", "at a window")
	}
	k.render(w, http.StatusOK, "receipt", struct {
		page
		View                   c.ApplicationView
		Channel, Town, Window  string
		Clerk                  string
		FromWindow, Offline    bool
		Attested               bool
		AcceptedOn, ReceivedAt string
		WholeDue               string
		WholeProvisional       bool
		Items                  []receiptItem
		Materials              []receiptMaterial
		QR                     template.HTML
		HasNotice              bool
	}{page: p, View: view, Channel: channel, Town: townName(app.Applicant.HouseholdDivision), Window: windowName(p, intake.Window),
		Clerk: intake.Clerk, FromWindow: app.Intake != nil, Offline: app.Channel == c.ChannelOffline, Attested: intake.Attested,
		AcceptedOn: view.AcceptedOn, ReceivedAt: civil.Display(app.ReceivedAt), WholeDue: view.Status.DueDate, WholeProvisional: view.Status.Provisional,
		Items: items, Materials: materials, QR: qr, HasNotice: len(view.OpenSupplements()) > 0})
}

// dueFromAcceptance is the legal due date of a task whose department has
// not started its clock yet: for an item timed from acceptance, counted
// from the day the window accepted the case, as the intake form's
// checklist counts it; for one timed from the publicity or the
// assessment, its limit in working days.
func (k *Console) dueFromAcceptance(p page, app *c.Application, t *c.Task) (string, bool) {
	if t == nil {
		return "", false
	}
	// An item waiting on another (the subsidies on the certificate)
	// starts its clock after it: no date to give yet.
	for _, dep := range t.DependsOn {
		if d := app.Task(dep); d != nil && !d.State.Final() {
			return p.T("前序事项办结后起算", "counted once the item it waits for is done"), false
		}
	}
	limit := rules.LimitDays(c.TaskCounty(app, t), t.Item)
	days := strconv.Itoa(limit)
	clock := c.Items[t.Item].ClockStart
	if t.Procedure != nil && t.Procedure.ClockStart != "" {
		clock = t.Procedure.ClockStart // as the workflow times it
	}
	switch clock {
	case c.ClockAcceptance:
		if cal := k.cfg.Engine.Flow.Cal; cal != nil {
			if due, provisional, err := cal.Due(workflow.AcceptedOn(app), limit); err == nil {
				return due.String(), provisional
			}
		}
		return p.T("自受理之日起 "+days+" 个工作日", days+" working days from acceptance"), false
	case c.ClockAssessment:
		return p.T("自评定结论作出之日起 "+days+" 个工作日", days+" working days from the assessment's conclusion"), false
	}
	return p.T("自评定结果公示之日起 "+days+" 个工作日", days+" working days from the publicity of the assessment"), false
}

// noticeItem is one missing material on the notice.
type noticeItem struct{ Item, Dept, What, Where, AskedOn string }

// notice is GET /console/cases/{id}/notice: the 一次性告知书, every
// supplement asked for and not yet provided; a page saying nothing is
// missing when there is none.
func (k *Console) notice(w http.ResponseWriter, r *http.Request, req *request) {
	app := k.load(w, r, req)
	if app == nil || k.erasedPrint(w, r, req, app) {
		return
	}
	view := k.cfg.Engine.Flow.View(app)
	p := k.base(r, req, "一次性告知书")
	var missing []noticeItem
	for _, it := range view.OpenSupplements() {
		s := it.Supplement
		missing = append(missing, noticeItem{Item: p.T(it.ItemName.ZH, it.ItemName.EN), Dept: deptName(p, it),
			What: p.T(s.What.ZH, s.What.EN), Where: p.T(s.Where.ZH, s.Where.EN), AskedOn: civil.Of(s.RequestedAt).String()})
	}
	// The window giving the notice is the clerk's own, today.
	k.render(w, http.StatusOK, "notice", struct {
		page
		View    c.ApplicationView
		Town    string
		Missing []noticeItem
		Window  string
		Clerk   string
		Today   string
	}{page: p, View: view, Town: townName(app.Applicant.HouseholdDivision), Missing: missing,
		Window: windowName(p, windowOf(req.p, app.Applicant.HouseholdDivision)), Clerk: clerkName(req.p),
		Today: k.cfg.Engine.Flow.Today().String()})
}

// erasedPrint refuses the printed forms of an erased case (410): they are
// for the applicant, whose data is gone; the case page shows the trace.
func (k *Console) erasedPrint(w http.ResponseWriter, r *http.Request, req *request, app *c.Application) bool {
	if app.Erased == nil {
		return false
	}
	k.failPage(w, r, req, http.StatusGone, "本件已删除个人信息，不能再打印回执或告知书；办件痕迹见案件页",
		"this case's personal data was erased: its receipt and notice can no longer be printed; the case page shows its trace")
	return true
}
