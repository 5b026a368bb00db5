package console

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"onething/civil"
	c "onething/contracts"
	"onething/gateway/chinajson"
	"onething/gateway/engine"
	"onething/gateway/store"
)

// Erasure on request in the console, for admins: the case page's form
// (a reason, force only while items are open at a department), a
// confirmation page, then the same engine method as the API's
// POST /v1/admin/applications/{id}/erase, audited first.

// erasePanel is what the case page's erasure form needs.
type erasePanel struct {
	// Open counts the items open at a department (force is offered).
	Open       int
	ForceLabel string
}

// erasedPanel is what the case page of an erased case shows.
type erasedPanel struct {
	Name, On, Kind string
}

// erasureOf is the case page's erasure part: for an erased case the
// mark, for an admin on another the form (nil for others).
func erasureOf(p page, app *c.Application) (*erasePanel, *erasedPanel) {
	if e := app.Erased; e != nil {
		return nil, &erasedPanel{Name: p.M(c.ErasedName), On: civil.Display(e.At), Kind: p.M(c.ErasureKindName(e.Kind))}
	}
	if !p.Admin {
		return nil, nil
	}
	open := len(engine.OpenAtDepartment(app))
	return &erasePanel{Open: open, ForceLabel: p.T(fmt.Sprintf("照样删除（%d 个事项仍在部门办理，将撤回并通知部门）", open),
		fmt.Sprintf("Erase all the same (%d item(s) still open at a department: they are withdrawn and the departments told)", open))}, nil
}

// erase is POST /console/cases/{id}/erase (admins): without confirm=1 it
// shows what will be done and asks again (nothing done, nothing
// audited); with it, it audits and erases.
func (k *Console) erase(w http.ResponseWriter, r *http.Request, req *request) {
	app := k.load(w, r, req)
	if app == nil {
		return
	}
	p := k.base(r, req, "删除个人信息")
	if app.Erased != nil {
		k.failPage(w, r, req, http.StatusConflict, "该申请的个人信息已删除", "this application's personal data was erased before")
		return
	}
	reason, problem := checkReason(r.PostFormValue("reason"), true, app.PeopleNames()...)
	if problem != nil {
		k.failPage(w, r, req, http.StatusUnprocessableEntity, problem[0], problem[1])
		return
	}
	force := r.PostFormValue("force") == "1"
	open := len(engine.OpenAtDepartment(app))
	data := struct {
		page
		ID, Reason  string
		Force       bool
		Open        int
		Removed     []string
		Kept        []string
		OpenNote    string
		Summary     string
		ErasedOn    string
		ErasureKind string
	}{page: p, ID: app.ID, Reason: reason, Force: force, Open: open}
	if r.PostFormValue("confirm") != "1" {
		switch {
		case open > 0 && force:
			data.OpenNote = p.T(fmt.Sprintf("%d 个事项仍在部门办理，将撤回，并通知持有办件的部门。", open),
				fmt.Sprintf("%d item(s) are still open at a department: they will be withdrawn and the departments holding a case told.", open))
		case open > 0:
			data.OpenNote = p.T(fmt.Sprintf("%d 个事项仍在部门办理，未勾选“照样删除”，将不予删除。", open),
				fmt.Sprintf("%d item(s) are still open at a department and “erase all the same” is not ticked: the erasure will be refused.", open))
		}
		k.render(w, http.StatusOK, "erase-confirm", data)
		return
	}
	if !k.audit(w, r, req, c.AuditEntry{Action: c.AuditErase, ApplicationID: app.ID, Reason: reason, Query: fmt.Sprintf("force=%t", force)}) {
		return
	}
	res, err := k.cfg.Engine.Erase(r.Context(), app.ID, reason, req.p.Subject, force)
	var oe *engine.OpenItemsError
	switch {
	case errors.As(err, &oe):
		k.failPage(w, r, req, http.StatusConflict,
			fmt.Sprintf("该申请仍有 %d 个事项在部门办理中，未删除；确需删除请勾选“照样删除”", len(oe.Tasks)),
			fmt.Sprintf("%d item(s) are still open at a department; nothing was erased. Tick “erase all the same” to erase", len(oe.Tasks)))
		return
	case errors.Is(err, engine.ErrAlreadyErased):
		k.failPage(w, r, req, http.StatusConflict, "该申请的个人信息已删除", "this application's personal data was erased before")
		return
	case err != nil:
		k.cfg.Log.Error("console erase", "app", app.ID, "err", err)
		k.failPage(w, r, req, http.StatusServiceUnavailable, "暂时无法删除，请稍后重试", "cannot erase now; retry later")
		return
	}
	k.cfg.Log.Info("application erased on request (console)", "app", app.ID, "caller", req.p.Subject, "forced", res.Erasure.Forced)
	data.Force = res.Erasure.Forced
	if n := len(res.Cancelled); n > 0 {
		data.Summary = p.T(fmt.Sprintf("%d 个事项已撤回，%d 个部门办件将收到撤回通知（不含个人信息）。", n, len(res.Notified)),
			fmt.Sprintf("%d item(s) withdrawn; %d department case(s) will be told to stop (no personal data).", n, len(res.Notified)))
	}
	data.ErasedOn, data.ErasureKind = civil.Display(res.Erasure.At), p.M(c.ErasureKindName(res.Erasure.Kind))
	data.Removed = []string{p.T("申请人信息（姓名、身份证号、联系方式、住址、监护人，残疾、困难和医保身份）", "the applicant (name, ID number, contacts, address, guardian; disability, hardship and medical facts)"),
		p.T("送达信息", "the delivery"), p.T("申请事项的细节", "the requests' details"),
		p.T("各事项的证件、结果、补正材料和说明", "each item's certificate, result, supplements and reasons"), p.T("办理过程中的说明", "the timeline's notes")}
	data.Kept = []string{p.T("申请编号和平台办件号", "the ids and the portal reference"), p.T("户籍所在乡镇", "the household town"),
		p.T("事项、状态、日期和部门办件号", "items, states, dates and department case numbers"), p.T("办理过程（不含说明）", "the timeline (without notes)")}
	k.render(w, http.StatusOK, "erase-done", data)
}

// subjectAccessPage is GET /console/ops/subject-access (admins): the form
// of a subject-access export (an ID number and a reason, posted).
func (k *Console) subjectAccessPage(w http.ResponseWriter, r *http.Request, req *request) {
	k.render(w, http.StatusOK, "subject-access", k.base(r, req, "本人查阅导出"))
}

// subjectAccess is POST /console/ops/subject-access (admins): one
// person's applications as a JSON attachment, the API's export
// (engine.SubjectAccess), audited first with the number masked.
func (k *Console) subjectAccess(w http.ResponseWriter, r *http.Request, req *request) {
	raw := strings.TrimSpace(r.PostFormValue("idNumber"))
	idn := store.NormalizeIDNumber(raw)
	if _, err := c.ParseIDNumber(idn, k.cfg.Engine.Flow.Today()); raw == "" || err != nil {
		k.failPage(w, r, req, http.StatusUnprocessableEntity, "公民身份号码不正确（18 位，校验位须正确）", "not a valid citizen ID number (18 characters, correct check character)")
		return
	}
	// The person's applications are read before the audit entry (nothing
	// is shown before it) so that a reason naming them is refused.
	names, found, err := k.cfg.Engine.PeopleOf(r.Context(), idn)
	if err != nil {
		k.cfg.Log.Error("console subject access", "err", err)
		k.failPage(w, r, req, http.StatusServiceUnavailable, "暂时无法导出，请稍后重试", "cannot export now; retry later")
		return
	}
	reason, problem := checkReason(r.PostFormValue("reason"), true, names...)
	if problem != nil {
		k.failPage(w, r, req, http.StatusUnprocessableEntity, problem[0], problem[1])
		return
	}
	query := "idNumber=" + c.MaskID(idn)
	if found == 0 {
		// No application to check the reason against (none, or all
		// erased): it is not kept, as it might name the person.
		reason, query = "", query+"&found=0"
	}
	entry, ok := k.auditEntry(w, r, req, c.AuditEntry{Action: c.AuditSubjectAccess, Query: query, Reason: reason})
	if !ok {
		return
	}
	out, err := k.cfg.Engine.SubjectAccess(r.Context(), idn, entry.ID)
	if err != nil {
		k.cfg.Log.Error("console subject access", "err", err)
		k.failPage(w, r, req, http.StatusServiceUnavailable, "暂时无法导出，请稍后重试", "cannot export now; retry later")
		return
	}
	body, err := chinajson.MarshalIndent(out) // times as the API's export gives them: +08:00
	if err != nil {
		k.failPage(w, r, req, http.StatusInternalServerError, "导出失败", "the export failed")
		return
	}
	k.cfg.Log.Info("subject access export (console)", "applications", len(out.Applications), "caller", req.p.Subject)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="subject-access-`+time.Now().In(civil.Zone).Format("20060102-150405")+`.json"`)
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}
