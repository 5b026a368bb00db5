package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"onething/civil"
	c "onething/contracts"
	"onething/gateway/auth"
	"onething/gateway/calendar"
	"onething/gateway/engine"
	"onething/gateway/rules"
	"onething/gateway/store"
)

// filter is the case list's query.
type filter struct {
	Q, Status, Item, Dept, Town string
	Overdue                     bool
	// Cursor is where the page starts (the list's last entry read).
	Cursor string
}

type row struct {
	ID, PortalRef, Name, IDNumber, Town, State, Due, Items string
	StateName, Received                                    string
	Overdue, Provisional                                   bool
	// EstimatePast: Due is the whole case's estimate (no item has a
	// legal due date yet) and it is past while the case is open.
	EstimatePast bool
}

type named struct {
	Code string
	Name string
}

func towns() []named {
	var out []named
	for code, name := range c.Divisions {
		if len(code) == 9 && c.InTongchuan(code) {
			out = append(out, named{code, name})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

func townName(division string) string {
	if len(division) >= 9 {
		if n, ok := c.Divisions[division[:9]]; ok {
			return n
		}
		// Another county's town: by its pack where it names it (an
		// unverified pack shows the town by its code).
		if p, ok := rules.Counties().County(division); ok {
			if n, ok := p.Town(division[:9]); ok {
				if n == division[:9] {
					return p.Name + " " + n // not named in the pack: by its code
				}
				return p.Name + n
			}
		}
	}
	if n, ok := c.Divisions[division]; ok {
		return n
	}
	return division
}

// matches applies the list's filters to one application (a search's
// cases are those it names: searched).
func (f filter) matches(app *c.Application) bool {
	if f.Status != "" && string(app.Status.State) != f.Status {
		return false
	}
	if f.Town != "" && !strings.HasPrefix(app.Applicant.HouseholdDivision, f.Town) {
		return false
	}
	if f.Overdue && len(app.Status.Overdue) == 0 {
		return false
	}
	if f.Item != "" || f.Dept != "" {
		found := false
		for _, t := range app.Tasks {
			if (f.Item == "" || string(t.Item) == f.Item) && (f.Dept == "" || string(t.Dept) == f.Dept) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// list shows the cases the filter selects, 50 a page, newest first,
// read through the store's lists: the person's scopes (or the town the
// filter picks) in one merged range read, the other filters applied to
// the records read, at most readBudget of them a page. The search form
// is posted (POST /console/), so an ID number typed into it stays out of
// URLs, and so out of browser history, Referer headers and proxy logs;
// its pages are posted too. A GET with the same fields still works
// (links without an ID number, bookmarks).
func (k *Console) list(w http.ResponseWriter, r *http.Request, req *request) {
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		q = r.PostForm // the CSRF token was checked with the session
	}
	f := filter{Q: strings.TrimSpace(q.Get("q")), Status: q.Get("status"), Item: q.Get("item"), Dept: q.Get("dept"), Town: q.Get("town"), Overdue: switchedOn(q.Get("overdue")), Cursor: q.Get("cursor")}
	if r.Method != http.MethodPost && slices.ContainsFunc(r.URL.Query()["q"], func(v string) bool { return c.MaskFreeText(v) != v }) {
		// An ID or phone number typed into the address bar (or a link
		// made by hand): it is already in the history and logs, so the
		// search is not run (nor audited) and the form is the way.
		k.failPage(w, r, req, http.StatusBadRequest, "公民身份号码、电话号码不能放在网址中查询：请在办件查询页的搜索框中输入后提交",
			"an ID or phone number cannot be searched from the address: type it into the search box of the case list")
		return
	}
	byIDNumber := len(f.Q) == 18
	ctx := r.Context()
	var src source
	budget := readBudget
	switch {
	case f.Q != "":
		// A search names its cases: read them all (no budget).
		ids, ok := k.searched(w, r, req, f.Q)
		if !ok {
			return
		}
		src, budget = k.foundAfter(ctx, ids, f.Cursor), 0
	case k.cfg.Lists == nil:
		src = &found{}
	default:
		scopes := scopesOf(req.p)
		if f.Town != "" {
			scopes = nil
			if auth.ValidTown(f.Town) && (req.p.Role == auth.RoleAdmin || req.p.SeesHousehold(f.Town)) {
				scopes = []string{f.Town}
			}
		}
		src = newMerged(ctx, k.cfg.Lists, store.ListRead{List: store.ListReceived, Desc: true, After: f.Cursor}, scopes)
	}
	apps, next, exhausted, err := k.collect(ctx, req.p, src, pageSize, budget, f.matches)
	if err != nil {
		k.cfg.Log.Error("console list", "err", err)
		k.failPage(w, r, req, http.StatusServiceUnavailable, "暂时无法查询，请稍后重试", "cannot list cases now; retry later")
		return
	}
	p := k.base(r, req, "办件查询")
	rows := make([]row, 0, len(apps))
	today := k.cfg.Engine.Flow.Today().String()
	for _, app := range apps {
		cr := caseRow(p, app)
		cr.EstimatePast = app.Status.NextDue == "" && wholePast(app.Status, today)
		rows = append(rows, cr)
	}
	// Pages of a search by ID number are posted (the number in the body);
	// other pages are plain links.
	link := func(cursor string) string {
		if byIDNumber {
			return cursor
		}
		v := url.Values{}
		for key, val := range map[string]string{"q": f.Q, "status": f.Status, "item": f.Item, "dept": f.Dept, "town": f.Town, "cursor": cursor} {
			if val != "" {
				v.Set(key, val)
			}
		}
		if f.Overdue {
			v.Set("overdue", "1")
		}
		return "/console/?" + v.Encode()
	}
	data := struct {
		page
		Q         filter
		Rows      []row
		First     string
		Later     bool // not the first page
		Next      string
		Exhausted bool
		States    []stateOption
		ItemCodes []c.ItemInfo
		DeptCodes []named
		Towns     []countyTowns
		// PostPages: First and Next are cursors to post with the filter,
		// not links.
		PostPages bool
	}{page: p, Q: f, Rows: rows, PostPages: byIDNumber, States: stateOptions(p), Exhausted: exhausted,
		DeptCodes: deptOptions(p), Towns: filterTowns(req.p)}
	for _, code := range itemOrder {
		data.ItemCodes = append(data.ItemCodes, c.Items[code])
	}
	if f.Cursor != "" {
		data.First = link("") // for a posted search: "" (a post without a cursor)
		data.Later = true
	}
	if next != "" {
		data.Next = link(next)
	}
	k.render(w, http.StatusOK, "list", data)
}

// searched finds the cases a search names: an application id, a portal
// reference (its dedupe key), or an ID number through the blind index,
// audited first as the API's search (the number masked). ok false: the
// answer is written (the audit failed).
func (k *Console) searched(w http.ResponseWriter, r *http.Request, req *request, q string) ([]string, bool) {
	ctx := r.Context()
	ids := []string{q}
	if id, err := k.cfg.Engine.Store.Lookup(ctx, "ref:"+q); err == nil {
		ids = append(ids, id)
	}
	if len(q) == 18 && k.cfg.FindByIDNumber != nil {
		if !k.audit(w, r, req, c.AuditEntry{Action: c.AuditSearch, Query: "idNumber=" + c.MaskID(strings.ToUpper(q))}) {
			return nil, false
		}
		if found, err := k.cfg.FindByIDNumber(ctx, strings.ToUpper(q)); err == nil {
			ids = append(ids, found...)
		}
	}
	return ids, true
}

// foundAfter orders the cases of a search as the list (newest first)
// and keeps those after the cursor.
func (k *Console) foundAfter(ctx context.Context, ids []string, cursor string) *found {
	f := &found{}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		app, err := k.cfg.Engine.Store.Get(ctx, id)
		if err != nil {
			continue
		}
		if e := store.ReceivedEntry(app); cursor == "" || e.Cursor() < cursor {
			f.entries = append(f.entries, e)
		}
	}
	sort.Slice(f.entries, func(i, j int) bool { return f.entries[i].Cursor() > f.entries[j].Cursor() })
	return f
}

// caseRow is a case as the lists show it: the applicant masked.
func caseRow(p page, app *c.Application) row {
	var items []string
	for _, t := range app.Tasks {
		items = append(items, p.M(c.Items[t.Item].Name)+"："+p.M(c.TaskStateName(t.State)))
	}
	d, provisional := app.Status.NextDue, false
	for _, t := range app.Tasks {
		provisional = provisional || (!t.State.Final() && t.DueDate == d && t.DueProvisional)
	}
	if d == "" {
		d, provisional = app.Status.DueDate, app.Status.Provisional
	}
	name, idn := c.MaskName(app.Applicant.Name), c.MaskID(app.Applicant.IDNumber)
	if app.Erased != nil {
		name, idn = p.M(c.ErasedName), "" // the trace: nobody to name
	}
	return row{ID: app.ID, PortalRef: app.PortalRef, Name: name, IDNumber: idn,
		Town: townName(app.Applicant.HouseholdDivision), State: string(app.Status.State), StateName: stateName(p, app.Status.State), Due: d, Provisional: provisional,
		Items: strings.Join(items, "；"), Overdue: len(app.Status.Overdue) > 0, Received: civil.Display(app.ReceivedAt)}
}

// filterTowns are the towns the list's filter offers a person: those of
// the counties they serve that they may see, by county.
func filterTowns(p *auth.Principal) []countyTowns {
	var out []countyTowns
	for _, ct := range townChoices(p) {
		var mine []named
		for _, t := range ct.Towns {
			if p.Role == auth.RoleAdmin || p.SeesHousehold(t.Code) {
				mine = append(mine, t)
			}
		}
		if len(mine) > 0 {
			ct.Towns = mine
			out = append(out, ct)
		}
	}
	return out
}

var itemOrder = []c.ItemCode{c.ItemCertNew, c.ItemCertRenew, c.ItemCertMigrate, c.ItemCertReissue, c.ItemCertCancel, c.ItemCertChange,
	c.ItemSubsidyLiving, c.ItemSubsidyNursing, c.ItemSubsidyNursing34, c.ItemPensionSubsidy, c.ItemMedicalSubsidy}

// stateOption is a consolidated state in the list's filter.
type stateOption struct{ Code, Name string }

func stateOptions(p page) []stateOption {
	out := make([]stateOption, 0, len(c.AppStates))
	for _, s := range c.AppStates {
		out = append(out, stateOption{Code: string(s), Name: stateName(p, s)})
	}
	return out
}

// stateName is a consolidated state as the clerk reads it (已撤回).
func stateName(p page, s c.AppState) string { return p.M(c.AppStateName(s)) }

// deptOptions are the departments in the list's filter, by their offices.
func deptOptions(p page) []named {
	out := make([]named, 0, len(c.Depts))
	for _, d := range c.Depts {
		out = append(out, named{Code: string(d), Name: p.M(c.DeptName(d, ""))})
	}
	return out
}

// itemRow is one item on the case page: its names, its step indicator
// and its time left.
type itemRow struct {
	c.TaskBrief
	Name, Dept, State string
	Steps             []step
	// Left is the working days left to the due date ("" when final or
	// unknown).
	Left string
	// Estimated: the department has not started the item's clock yet, and
	// DueDate is counted from the window's acceptance day, as the receipt
	// prints it; DueText says when the clock starts where no date can be
	// given yet.
	Estimated bool
	DueText   string
	// Final: nothing more will happen to the item.
	Final bool
}

// step is one stage of an item's way: 受理 → 已推送 → 部门办理 → 办结.
type step struct {
	Label string
	// Class is done, current, todo, or stopped (the item ended here
	// without the stage: withdrawn, or parked for an operator).
	Class string
}

// stepReached is how far an item in a state has come (1 受理 … 4 办结).
var stepReached = map[c.TaskState]int{
	c.TaskPlanned: 1, c.TaskWaiting: 1, c.TaskReady: 1, c.TaskDeadLetter: 1,
	c.TaskDispatched: 2,
	c.TaskAccepted:   3, c.TaskInProgress: 3, c.TaskSupplementRequired: 3,
	c.TaskApproved: 4, c.TaskRejected: 4, c.TaskCancelled: 4,
}

// steps draws an item's way. A withdrawn item shows the stages it had
// reached before (before: its state when withdrawn, from the timeline) and
// ends in 已撤回; a refused one ends in 办结（不予）; a parked one stops at
// 推送失败.
func steps(p page, state, before c.TaskState, sent bool) []step {
	labels := []string{p.T("受理", "received"), p.T("已推送", "sent"), p.T("部门办理", "in the department"), p.T("办结", "decided")}
	reached := stepReached[state]
	stop := 0 // the stage that did not happen, 0: none
	if state == c.TaskRejected && !sent {
		// Refused by the gateway's own rules (or the item it waited on
		// failed): never sent, no department handled it.
		return []step{{Label: labels[0], Class: "done"}, {Label: p.T("未推送部门（依规则不予办理）", "not sent (refused by the rules)"), Class: "stopped"},
			{Label: p.T("办结（不予）", "decided (refused)"), Class: "done"}}
	}
	switch state {
	case c.TaskCancelled:
		reached, stop = stepReached[before], 4
		labels[3] = p.T("已撤回", "withdrawn")
	case c.TaskRejected:
		labels[3] = p.T("办结（不予）", "decided (refused)")
	case c.TaskApproved:
		labels[3] = p.T("办结（准予）", "decided (granted)")
	case c.TaskDeadLetter:
		stop = 2
		labels[1] = p.T("推送失败", "sending failed")
	}
	out := make([]step, len(labels))
	for i, l := range labels {
		n := i + 1
		cls := "todo"
		switch {
		case n == stop:
			cls = "stopped"
		case n < reached || n == reached && (state.Final() || stop > 0):
			cls = "done"
		case n == reached:
			cls = "current"
		}
		out[i] = step{Label: l, Class: cls}
	}
	return out
}

// sentOf reports whether the gateway ever made the task ready for its
// department (a step), so whether a department may have handled it.
func sentOf(app *c.Application, taskID string) bool {
	t := app.Task(taskID)
	return t == nil || t.Step > 0 || t.CaseNo != ""
}

// timelineRow is one line of the case's timeline, named for people.
type timelineRow struct{ At, Item, Change, Source string }

func (k *Console) detail(w http.ResponseWriter, r *http.Request, req *request) {
	if app := k.load(w, r, req); app != nil {
		k.renderDetail(w, r, req, app, nil, "")
	}
}

// progress is the items section of the case page alone, for the page's
// script to refresh it in place (the same access rule as the page).
func (k *Console) progress(w http.ResponseWriter, r *http.Request, req *request) {
	app := k.load(w, r, req)
	if app == nil {
		return
	}
	view := k.cfg.Engine.Flow.View(app)
	p := k.base(r, req, "办件详情")
	k.render(w, http.StatusOK, "items", caseItems{page: p, View: view, Items: k.itemRows(p, app, view)})
}

// caseItems is what the items section shows.
type caseItems struct {
	page
	View  c.ApplicationView
	Items []itemRow
}

// Live reports whether some item is not final yet: the page refreshes its
// items while so.
func (d caseItems) Live() bool {
	for _, it := range d.Items {
		if !it.Final {
			return true
		}
	}
	return false
}

func (k *Console) itemRows(p page, app *c.Application, view c.ApplicationView) []itemRow {
	now := k.cfg.Engine.Flow.Now() // business today, for the working days left
	before := map[string]c.TaskState{}
	for _, e := range view.Timeline {
		if e.Kind == "state" && e.To == c.TaskCancelled {
			before[e.TaskID] = e.From
		}
	}
	items := make([]itemRow, 0, len(view.Items))
	for _, it := range view.Items {
		left, estimated, dueText := "", false, ""
		if it.DueDate == "" && !it.State.Final() {
			// Not started by the department yet: the receipt's date.
			due, provisional := k.dueFromAcceptance(p, app, app.Task(it.TaskID))
			if _, err := civil.Parse(due); err == nil {
				it.DueDate, it.Provisional, estimated = due, provisional, true
				it.Overdue = due < k.cfg.Engine.Flow.Today().String()
			} else {
				dueText = due
			}
		}
		if it.DueDate != "" && !it.State.Final() && k.cfg.Calendar != nil {
			due, _ := time.ParseInLocation(time.DateOnly, it.DueDate, calendar.Zone)
			if n, err := k.cfg.Calendar.WorkingDaysBetween(now, due); err == nil {
				left = strconv.Itoa(n)
			}
		}
		items = append(items, itemRow{TaskBrief: it, Name: p.M(it.ItemName), Dept: p.M(it.DeptName), State: p.M(it.StateName),
			Steps: steps(p, it.State, before[it.TaskID], sentOf(app, it.TaskID)), Left: left, Final: it.State.Final(), Estimated: estimated, DueText: dueText})
	}
	return items
}

func (k *Console) renderDetail(w http.ResponseWriter, r *http.Request, req *request, app *c.Application, revealed *c.Applicant, reasonErr string) {
	view := k.cfg.Engine.Flow.View(app)
	p := k.base(r, req, "办件详情")
	names, counties := map[string]string{}, map[string]string{}
	for _, it := range view.Items {
		names[it.TaskID], counties[it.TaskID] = p.M(it.ItemName), it.County
	}
	var tl []timelineRow
	for _, e := range view.Timeline {
		// A state change by its states; any other entry by its kind (a
		// late report with the move it asked for).
		change := p.M(c.EntryKindName(e.Kind))
		move := ""
		if e.From != "" && e.To != "" {
			move = p.M(c.TaskStateName(e.From)) + " → " + p.M(c.TaskStateName(e.To))
		}
		switch {
		case e.Kind == "state" && move != "":
			change = move
		case e.Kind == "state" && e.To != "":
			change = p.M(c.TaskStateName(e.To))
		case e.Kind == "stale_report" && move != "":
			change += "（" + move + "）"
		}
		if e.Note != nil {
			change += "：" + p.M(*e.Note)
		}
		item := names[e.TaskID]
		if e.TaskID == "" {
			item = p.T("整件", "whole case")
		}
		tl = append(tl, timelineRow{At: civil.Display(e.At), Item: item, Change: change, Source: p.M(c.SourceName(e.Source, counties[e.TaskID]))})
	}
	erase, erased := erasureOf(p, app)
	k.render(w, http.StatusOK, "detail", struct {
		caseItems
		StateName   string
		Channel     string
		Received    string
		TownName    string
		Timeline    []timelineRow
		Revealed    *c.Applicant
		ReasonError string
		Erase       *erasePanel
		Erased      *erasedPanel
		// WholePast: the whole case's date (the receipt's estimate) is
		// past and the case is not finished, as the to-do list marks it.
		WholePast bool
	}{caseItems: caseItems{page: p, View: view, Items: k.itemRows(p, app, view)}, StateName: stateName(p, view.Status.State), Channel: p.M(c.ChannelName(view.Channel)),
		WholePast: wholePast(view.Status, k.cfg.Engine.Flow.Today().String()),
		Received:  civil.Display(view.ReceivedAt), TownName: townName(app.Applicant.HouseholdDivision),
		Timeline: tl, Revealed: revealed, ReasonError: reasonErr, Erase: erase, Erased: erased})
}

// switchedOn reads a check box or flag in an address: the form sends 1;
// a hand-written link may say true or on (outsider: ?overdue=true listed
// every case, finished ones too).
func switchedOn(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "on":
		return true
	}
	return false
}

// wholePast reports whether a case's whole date is before today (China's
// civil date) while the case is not finished.
func wholePast(st c.Status, today string) bool {
	if st.State == c.AppCompleted || st.State == c.AppWithdrawn {
		return false
	}
	return st.DueDate != "" && st.DueDate < today
}

// reveal shows the full applicant, for a stated reason, and audits it.
func (k *Console) reveal(w http.ResponseWriter, r *http.Request, req *request) {
	app := k.load(w, r, req)
	if app == nil {
		return
	}
	if app.Erased != nil {
		k.failPage(w, r, req, http.StatusGone, "该申请的个人信息已删除，无完整信息可查看", "this application's personal data was erased: there is no full record to see")
		return
	}
	reason, problem := checkReason(r.PostFormValue("reason"), true, app.PeopleNames()...)
	if problem != nil {
		k.renderDetail(w, r, req, app, nil, k.base(r, req, "").T(problem[0], problem[1]))
		return
	}
	if k.cfg.Reveal == nil {
		k.failPage(w, r, req, http.StatusNotImplemented, "未配置完整信息查看", "full-record reads are not configured")
		return
	}
	full, err := k.cfg.Reveal(r.Context(), req.p, app.ID, reason)
	if err != nil {
		k.cfg.Log.Error("console reveal: not shown", "app", app.ID, "err", err)
		k.failPage(w, r, req, http.StatusServiceUnavailable, "暂时无法写入审计日志或读取记录，未显示任何信息，请稍后重试",
			"cannot write the audit log or read the record now; nothing was shown; retry later")
		return
	}
	k.renderDetail(w, r, req, full, &full.Applicant, "")
}

// supplement records that the window received what a department asked for.
func (k *Console) supplement(w http.ResponseWriter, r *http.Request, req *request) {
	app := k.load(w, r, req)
	if app == nil {
		return
	}
	sub := &c.SupplementSubmission{TaskID: r.PostFormValue("task"), Materials: []string{}, Note: strings.TrimSpace(r.PostFormValue("note"))}
	if problems := sub.Validate(); len(problems) > 0 {
		k.failPage(w, r, req, http.StatusUnprocessableEntity, problems[0].Message, problems[0].MessageEn)
		return
	}
	// The note is the window's record of what came in: sealed with the
	// application, never in the audit log.
	if !k.audit(w, r, req, c.AuditEntry{Action: "console.supplement", ApplicationID: app.ID, TaskID: sub.TaskID}) {
		return
	}
	switch _, err := k.cfg.Engine.ProvideSupplement(r.Context(), app.ID, sub); {
	case errors.Is(err, engine.ErrSupplementRecorded):
		k.failPage(w, r, req, http.StatusConflict, "本轮补正已登记并转交部门，未重复登记；部门如需再补正会再次提出", "this round's supplement was recorded and forwarded already; nothing was recorded again")
		return
	case err != nil:
		k.failPage(w, r, req, http.StatusConflict, "该事项当前无需补正", "the task is not waiting for a supplement")
		return
	}
	http.Redirect(w, r, "/console/cases/"+app.ID+"?flash=supplemented", http.StatusSeeOther)
}

func (k *Console) withdraw(w http.ResponseWriter, r *http.Request, req *request) {
	app := k.load(w, r, req)
	if app == nil {
		return
	}
	// The reason is the applicant's (told to the window): it goes, sealed,
	// with the application to the departments, never to the audit log.
	reason, problem := checkReason(r.PostFormValue("reason"), false, app.PeopleNames()...)
	if problem != nil {
		k.failPage(w, r, req, http.StatusUnprocessableEntity, problem[0], problem[1])
		return
	}
	if !k.audit(w, r, req, c.AuditEntry{Action: "console.withdraw", ApplicationID: app.ID}) {
		return
	}
	if _, err := k.cfg.Engine.Withdraw(r.Context(), app.ID, "console:"+randomHex(8), reason); err != nil {
		k.failPage(w, r, req, http.StatusConflict, "所有事项均已办结，无法撤回", "nothing left to withdraw")
		return
	}
	http.Redirect(w, r, "/console/cases/"+app.ID+"?flash=withdrawn", http.StatusSeeOther)
}

// audit writes the entry of an action before the action is done, as the
// API does: when it cannot be written, the clerk is told so (503) and
// the caller must do nothing.
func (k *Console) audit(w http.ResponseWriter, r *http.Request, req *request, e c.AuditEntry) bool {
	_, ok := k.auditEntry(w, r, req, e)
	return ok
}

// auditEntry is audit, returning the entry as written (its id).
func (k *Console) auditEntry(w http.ResponseWriter, r *http.Request, req *request, e c.AuditEntry) (c.AuditEntry, bool) {
	e.Subject, e.Role = req.p.Subject, string(req.p.Role)
	e.Method = r.Method
	e.Route = r.Pattern
	if _, route, ok := strings.Cut(r.Pattern, " "); ok {
		e.Route = route
	}
	e.RequestID = w.Header().Get(c.HeaderRequestID)
	written, err := c.AuditEntry{}, errors.New("no audit log configured")
	if k.cfg.Audit != nil {
		written, err = k.cfg.Audit(r.Context(), e)
	}
	if err != nil {
		k.cfg.Log.Error("audit log unavailable: console action refused", "action", e.Action, "caller", e.Subject, "requestId", e.RequestID, "err", err)
		k.failPage(w, r, req, http.StatusServiceUnavailable, "暂时无法写入审计日志，本次操作未执行，请稍后重试",
			"cannot write the audit log now; nothing was done; retry later")
		return c.AuditEntry{}, false
	}
	return written, true
}

// checkReason is the API's rule for a reason (contracts.CheckAuditReason),
// with the names of the application's people: a reason carrying any of
// them is refused, not masked. problem is the message (Chinese, English)
// when refused.
func checkReason(raw string, required bool, names ...string) (string, *[2]string) {
	reason, fe := c.CheckAuditReason(raw, required, names...)
	switch {
	case fe == nil:
		return reason, nil
	case fe.Code == "required":
		return "", &[2]string{"请填写事由", "give a reason"}
	}
	return "", &[2]string{fe.Message, fe.MessageEn}
}
