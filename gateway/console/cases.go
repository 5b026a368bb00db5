package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"onething/civil"
	c "onething/contracts"
	"onething/gateway/auth"
	"onething/gateway/calendar"
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
	f := filter{Q: strings.TrimSpace(q.Get("q")), Status: q.Get("status"), Item: q.Get("item"), Dept: q.Get("dept"), Town: q.Get("town"), Overdue: q.Get("overdue") == "1", Cursor: q.Get("cursor")}
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
	for _, app := range apps {
		rows = append(rows, caseRow(p, app))
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
		DeptCodes []c.Dept
		Towns     []named
		// PostPages: First and Next are cursors to post with the filter,
		// not links.
		PostPages bool
	}{page: p, Q: f, Rows: rows, PostPages: byIDNumber, States: stateOptions(p), Exhausted: exhausted,
		DeptCodes: c.Depts, Towns: towns()}
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
		items = append(items, p.T(c.Items[t.Item].Name.ZH, c.Items[t.Item].Name.EN)+"："+string(t.State))
	}
	d, provisional := app.Status.NextDue, false
	for _, t := range app.Tasks {
		provisional = provisional || (!t.State.Final() && t.DueDate == d && t.DueProvisional)
	}
	if d == "" {
		d, provisional = app.Status.DueDate, app.Status.Provisional
	}
	return row{ID: app.ID, PortalRef: app.PortalRef, Name: c.MaskName(app.Applicant.Name), IDNumber: c.MaskID(app.Applicant.IDNumber),
		Town: townName(app.Applicant.HouseholdDivision), State: string(app.Status.State), StateName: stateName(p, app.Status.State), Due: d, Provisional: provisional,
		Items: strings.Join(items, "；"), Overdue: len(app.Status.Overdue) > 0, Received: civil.Display(app.ReceivedAt)}
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

// stateName is a consolidated state as the clerk reads it (已撤回), the
// code itself for one without a name.
func stateName(p page, s c.AppState) string {
	if n, ok := c.AppStateNames[s]; ok {
		return p.T(n.ZH, n.EN)
	}
	return string(s)
}

type itemRow struct {
	c.TaskBrief
	Left string
}

type timelineRow struct{ At, Task, Change, Source string }

func (k *Console) detail(w http.ResponseWriter, r *http.Request, req *request) {
	if app := k.load(w, r, req); app != nil {
		k.renderDetail(w, r, req, app, nil, "")
	}
}

func (k *Console) renderDetail(w http.ResponseWriter, r *http.Request, req *request, app *c.Application, revealed *c.Applicant, reasonErr string) {
	view := k.cfg.Engine.Flow.View(app)
	p := k.base(r, req, "办件详情")
	now := k.cfg.Engine.Flow.Now() // business today, for the working days left
	items := make([]itemRow, 0, len(view.Items))
	for _, it := range view.Items {
		left := ""
		if it.DueDate != "" && !it.State.Final() && k.cfg.Calendar != nil {
			due, _ := time.ParseInLocation(time.DateOnly, it.DueDate, calendar.Zone)
			if n, err := k.cfg.Calendar.WorkingDaysBetween(now, due); err == nil {
				left = strconv.Itoa(n)
			}
		}
		items = append(items, itemRow{TaskBrief: it, Left: left})
	}
	var tl []timelineRow
	for _, e := range view.Timeline {
		change := string(e.From) + " → " + string(e.To)
		if e.To == "" {
			change = e.Kind
		}
		if e.Note != nil {
			change += "：" + p.T(e.Note.ZH, e.Note.EN)
		}
		tl = append(tl, timelineRow{At: civil.Display(e.At), Task: e.TaskID, Change: change, Source: e.Source})
	}
	k.render(w, http.StatusOK, "detail", struct {
		page
		View        c.ApplicationView
		StateName   string
		Received    string
		TownName    string
		Items       []itemRow
		Timeline    []timelineRow
		Revealed    *c.Applicant
		ReasonError string
	}{page: p, View: view, StateName: stateName(p, view.Status.State), Received: civil.Display(view.ReceivedAt), TownName: townName(app.Applicant.HouseholdDivision),
		Items: items, Timeline: tl, Revealed: revealed, ReasonError: reasonErr})
}

// reveal shows the full applicant, for a stated reason, and audits it.
func (k *Console) reveal(w http.ResponseWriter, r *http.Request, req *request) {
	app := k.load(w, r, req)
	if app == nil {
		return
	}
	reason, problem := checkReason(r.PostFormValue("reason"), true, namesOf(app)...)
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
	if _, err := k.cfg.Engine.ProvideSupplement(r.Context(), app.ID, sub); err != nil {
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
	reason, problem := checkReason(r.PostFormValue("reason"), false, namesOf(app)...)
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
	e.Subject, e.Role = req.p.Subject, string(req.p.Role)
	e.Method = r.Method
	e.Route = r.Pattern
	if _, route, ok := strings.Cut(r.Pattern, " "); ok {
		e.Route = route
	}
	e.RequestID = w.Header().Get(c.HeaderRequestID)
	err := errors.New("no audit log configured")
	if k.cfg.Audit != nil {
		err = k.cfg.Audit(r.Context(), e)
	}
	if err != nil {
		k.cfg.Log.Error("audit log unavailable: console action refused", "action", e.Action, "caller", e.Subject, "requestId", e.RequestID, "err", err)
		k.failPage(w, r, req, http.StatusServiceUnavailable, "暂时无法写入审计日志，本次操作未执行，请稍后重试",
			"cannot write the audit log now; nothing was done; retry later")
		return false
	}
	return true
}

// namesOf are the names of an application's people (for the reason rule).
func namesOf(app *c.Application) []string {
	names := []string{app.Applicant.Name}
	if g := app.Applicant.Guardian; g != nil {
		names = append(names, g.Name)
	}
	if app.Delivery.Recipient != "" {
		names = append(names, app.Delivery.Recipient)
	}
	return names
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
