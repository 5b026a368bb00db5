package console

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"

	c "onething/contracts"
	"onething/gateway/store"
)

// visibleText is the text a person sees on a page: its text nodes
// (SVG labels included), without tags, attributes, scripts or styles.
func visibleText(t *testing.T, page string) string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && (n.Data == "script" || n.Data == "style") {
			return
		}
		if n.Type == html.TextNode {
			sb.WriteString(n.Data)
			sb.WriteByte('\n')
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walk(ch)
		}
	}
	walk(doc)
	return sb.String()
}

var word = regexp.MustCompile(`[A-Za-z][A-Za-z0-9_.\-]*`)

// codesShown are the keys of the display-name table that appear as words
// of a page's visible text.
func codesShown(t *testing.T, page string) []string {
	t.Helper()
	keys := c.DisplayKeys()
	var found []string
	for _, w := range word.FindAllString(visibleText(t, page), -1) {
		w = strings.TrimRight(w, ".-")
		if slices.Contains(keys, w) && !slices.Contains(found, w) {
			found = append(found, w)
		}
	}
	return found
}

// The checker itself: a code as text is found, the same code in an
// attribute or as part of a case number is not.
func TestCodesShownFindsCodes(t *testing.T) {
	if got := codesShown(t, `<p>状态：<span class="state-processing">processing</span>；cdpf: HTTP 503</p><svg><text>dead_letter</text></svg>`); !slices.Equal(got, []string{"processing", "cdpf", "dead_letter"}) {
		t.Errorf("found %v", got)
	}
	if got := codesShown(t, `<p class="state-processing" title="cdpf">办理中 CDPF-511702-2026-000871 P90</p><script>var cdpf = "processing";</script>`); len(got) != 0 {
		t.Errorf("found %v in attributes, a case number or a script", got)
	}
}

// withCheck is a valid ID number of 1985-03-07 with sequence seq (three
// digits), its check character computed (GB 11643).
func withCheck(seq string) string {
	body := "51170219850307" + seq
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, d := range body {
		sum += int(d-'0') * weights[i]
	}
	return body + string("10X98765432"[sum%11])
}

// casesInStates is a rig with three cases of 罗江镇 taken in at the window
// by its clerk: busy (the certificate assessed, the medical subsidy
// accepted, the pension granted, the two subsidies waiting), asked (a
// supplement asked for, the pension refused, the medical subsidy a dead
// letter) and gone (withdrawn after the certificate was sent).
func casesInStates(t *testing.T) (r *rig, clerk *browser, busy, asked, gone string) {
	r = newRig(t)
	ctx := context.Background()
	clerk = r.signIn("luojiang", "pw-luojiang")
	intake := func(seq string) (string, []*c.Task) {
		t.Helper()
		status, _, loc := clerk.post("/console/intake", clerk.form(withCheck(seq)))
		if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/cases/") {
			t.Fatalf("intake: %d %s", status, loc)
		}
		id := strings.TrimPrefix(strings.SplitN(loc, "?", 2)[0], "/console/cases/")
		r.mu.Lock()
		r.ids = append(r.ids, id)
		r.mu.Unlock()
		app, err := r.eng.Store.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return id, app.Tasks
	}
	task := func(tasks []*c.Task, item c.ItemCode) *c.Task {
		for _, tk := range tasks {
			if tk.Item == item {
				return tk
			}
		}
		t.Fatalf("no %s task", item)
		return nil
	}
	// answer records a department's answer to a dispatch, as the worker does.
	answer := func(id string, tk *c.Task, status c.CaseStatus, reason *c.Message) {
		t.Helper()
		err := r.eng.Store.Update(ctx, id, "", func(a *c.Application) ([]store.Job, error) {
			_, err := r.eng.Flow.ApplyCase(a, tk.ID, &c.CaseResponse{CaseNo: strings.ToUpper(string(tk.Dept)) + "-511702-2026-000001", Status: status, Reason: reason})
			r.eng.Flow.Recompute(a)
			return nil, err
		})
		if err != nil {
			t.Fatalf("%s %s: %v", tk.ID, status, err)
		}
	}
	event := func(tk *c.Task, typ c.EventType, reason *c.Message) {
		t.Helper()
		if _, _, err := r.eng.ApplyEvent(ctx, tk.Dept, &c.DeptEvent{EventID: tk.ID + string(typ), TaskID: tk.ID, Type: typ, OccurredAt: time.Now(), Reason: reason}); err != nil {
			t.Fatalf("%s %s: %v", tk.ID, typ, err)
		}
	}

	// In progress: the certificate assessed, the medical subsidy accepted,
	// the pension granted; the subsidies wait for the certificate.
	var tasks []*c.Task
	busy, tasks = intake("123")
	cert := task(tasks, c.ItemCertNew)
	answer(busy, cert, c.CaseReceived, nil)
	event(cert, c.EventAccepted, nil)
	event(cert, c.EventAssessed, nil)
	answer(busy, task(tasks, c.ItemMedicalSubsidy), c.CaseAccepted, nil)
	answer(busy, task(tasks, c.ItemPensionSubsidy), c.CaseApproved, nil)

	// A supplement asked for, a refusal and a dead letter.
	asked, tasks = intake("125")
	cert = task(tasks, c.ItemCertNew)
	answer(asked, cert, c.CaseAccepted, nil)
	event(cert, c.EventSupplementRequired, &c.Message{ZH: "请补充近期免冠照片", EN: "a recent photo"})
	answer(asked, task(tasks, c.ItemPensionSubsidy), c.CaseRejected, &c.Message{ZH: "已参加职工养老保险", EN: "already insured"})
	med := task(tasks, c.ItemMedicalSubsidy)
	lastError := "medical: HTTP 503 down_for_maintenance"
	r.eng.Store.Update(ctx, asked, "", func(a *c.Application) ([]store.Job, error) {
		return nil, r.eng.Flow.DispatchFailed(a, med.ID, 8, lastError, true)
	})
	if err := r.eng.Store.Park(ctx, store.Job{ID: store.DispatchJobID(med.ID, 1), Kind: store.JobDispatch, AppID: asked, TaskID: med.ID, Dept: "medical", Attempt: 8, LastError: lastError}); err != nil {
		t.Fatal(err)
	}

	// Withdrawn at the window after the certificate was sent.
	gone, tasks = intake("127")
	answer(gone, task(tasks, c.ItemCertNew), c.CaseReceived, nil)
	if status, _, _ := clerk.post("/console/cases/"+gone+"/withdraw", url.Values{"csrf": {clerk.csrf}, "reason": {"改在迁入地办理"}}); status != http.StatusSeeOther {
		t.Fatalf("withdraw: %d", status)
	}
	app, _ := r.eng.Store.Get(ctx, gone)
	if r.eng.Flow.Recompute(app); app.Status.State != c.AppWithdrawn {
		t.Fatalf("the withdrawn case is %s", app.Status.State)
	}

	return r, clerk, busy, asked, gone
}

// TestNoCodeOnTheChinesePages renders every page of the console in
// Chinese, through HTTP, with cases in many states (in progress, a
// supplement asked for, refused, withdrawn, a dead letter), and fails if
// any code of the display-name table shows as text.
func TestNoCodeOnTheChinesePages(t *testing.T) {
	r, clerk, busy, asked, gone := casesInStates(t)
	ops := r.signIn("ops", "pw-ops")
	r.k.cfg.Breakers = func() map[string]c.BreakerStatus {
		return map[string]c.BreakerStatus{"cdpf": {State: "closed"}, "hrss": {State: "closed"}, "hrss:511703": {State: "open", Requests: 10, Failures: 9}, "portal": {State: "half-open"}}
	}
	// As the service routes: hrss per county (通川区 on the home system),
	// cdpf one system for every county.
	r.eng.SystemOf = func(d c.Dept, county string) string {
		if d == c.DeptHRSS && county != "511702" {
			return "hrss:" + county
		}
		return string(d)
	}
	pages := []struct {
		who  *browser
		path string
	}{
		{clerk, "/console/"},
		{clerk, "/console/?status=processing&dept=cdpf&item=cert.new&town=511702102"},
		{clerk, "/console/intake"},
		{clerk, "/console/ops/sla"},
		{clerk, "/console/todo"},
		{ops, "/console/todo"},
		{ops, "/console/ops/dead-letters"},
		{ops, "/console/ops/health"},
		{ops, "/console/ops/sla"},
		{ops, "/console/cases/no-such-case"},
	}
	for _, id := range []string{busy, asked, gone} {
		pages = append(pages, struct {
			who  *browser
			path string
		}{clerk, "/console/cases/" + id}, struct {
			who  *browser
			path string
		}{clerk, "/console/cases/" + id + "/progress"})
	}
	anon := &browser{t: t, r: r, http: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	pages = append(pages, struct {
		who  *browser
		path string
	}{anon, "/console/login"})
	for _, pg := range pages {
		status, body := pg.who.get(pg.path)
		if status != http.StatusOK && status != http.StatusNotFound {
			t.Errorf("%s: %d", pg.path, status)
			continue
		}
		if found := codesShown(t, body); len(found) > 0 {
			t.Errorf("%s shows codes as text: %v", pg.path, found)
		}
	}

	// What the pages say instead.
	_, page := clerk.get("/console/cases/" + gone)
	if text := visibleText(t, page); !strings.Contains(text, "已撤回") || !strings.Contains(text, "残疾人证新办") || !strings.Contains(text, "通川区残联") {
		t.Error("the withdrawn case does not say 已撤回, or its timeline does not name the item and the office")
	}
	_, page = clerk.get("/console/cases/" + busy)
	if text := visibleText(t, page); !strings.Contains(text, "已推送部门 → 部门已受理") || !strings.Contains(text, "部门办理节点") || !strings.Contains(text, "渠道: 窗口") {
		t.Error("the timeline does not name the moves and milestones, or the channel is not named")
	}
	_, page = ops.get("/console/ops/dead-letters")
	if text := visibleText(t, page); !strings.Contains(text, "部门系统维护中") || !strings.Contains(text, "通川区医保局") {
		t.Errorf("the dead letter is not named: %s", text)
	}
	_, page = ops.get("/console/todo")
	if text := visibleText(t, page); !strings.Contains(text, "通川区医保局") {
		t.Errorf("the to-do page does not name the dead letter's office: %s", text)
	}
	_, page = ops.get("/console/ops/health")
	if text := visibleText(t, page); !strings.Contains(text, "达川区人社局") || !strings.Contains(text, "通川区人社局") || !strings.Contains(text, "区残联") || !strings.Contains(text, "已熔断") {
		t.Errorf("the breakers are not named: %s", text)
	}
}

var stepClass = regexp.MustCompile(`<li class="step-([a-z]+)">`)

// ways are the step classes of the items, in order, from a page or fragment.
func ways(page string) []string {
	var out []string
	for _, ol := range strings.Split(page, `<ol class="steps"`)[1:] {
		ol, _, _ = strings.Cut(ol, "</ol>")
		var way []string
		for _, m := range stepClass.FindAllStringSubmatch(ol, -1) {
			way = append(way, m[1])
		}
		out = append(out, strings.Join(way, " "))
	}
	return out
}

// The case page shows each item's way and refreshes it through the
// progress fragment while something is in progress; the fragment keeps
// the page's access rule.
func TestCaseProgress(t *testing.T) {
	r, clerk, busy, asked, gone := casesInStates(t)
	status, frag := clerk.get("/console/cases/" + busy + "/progress")
	if status != http.StatusOK || !strings.Contains(frag, `data-live="true"`) || strings.Contains(frag, "<html") {
		t.Fatalf("progress of a case in progress: %d, live %v", status, strings.Contains(frag, `data-live="true"`))
	}
	// cert.new in the department, the two subsidies waiting (received),
	// the pension granted, the medical subsidy accepted.
	want := []string{"done done current todo", "current todo todo todo", "current todo todo todo", "done done done done", "done done current todo"}
	if got := ways(frag); !slices.Equal(got, want) {
		t.Errorf("ways %q, want %q", got, want)
	}
	if text := visibleText(t, frag); !strings.Contains(text, "受理") || !strings.Contains(text, "办结（准予）") || !strings.Contains(text, "部门办理") {
		t.Errorf("the steps are not named: %s", text)
	}
	_, page := clerk.get("/console/cases/" + busy)
	if !strings.Contains(page, `data-refresh="/console/cases/`+busy+`/progress"`) || !slices.Equal(ways(page), want) {
		t.Error("the case page does not show the same items, marked for refreshing")
	}
	// An item counts its working days left; past its due date it is in
	// red.
	if rows := strings.Split(frag, "<tr>"); !regexp.MustCompile(`<td>[0-9]+</td>`).MatchString(rows[len(rows)-1]) || strings.Contains(rows[len(rows)-1], "overdue") {
		t.Errorf("the medical subsidy does not count its working days left: %s", rows[len(rows)-1])
	}
	err := r.eng.Store.Update(context.Background(), busy, "", func(a *c.Application) ([]store.Job, error) {
		for _, tk := range a.Tasks {
			if tk.Item == c.ItemMedicalSubsidy {
				tk.DueDate, tk.DueProvisional = "2026-01-05", false
			}
		}
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, frag = clerk.get("/console/cases/" + busy + "/progress")
	rows := strings.Split(frag, "<tr>")
	medical := rows[len(rows)-1]
	if !strings.Contains(medical, `<td class="overdue">2026-01-05</td>`) || !strings.Contains(medical, `<td class="overdue">已超期</td>`) {
		t.Errorf("the overdue item is not in red: %s", medical)
	}
	// A withdrawn case is final: nothing to refresh; the certificate, sent
	// before, ends in 已撤回; the others never left the window.
	_, frag = clerk.get("/console/cases/" + gone + "/progress")
	if !strings.Contains(frag, `data-live="false"`) {
		t.Error("a withdrawn case still refreshes")
	}
	if got := ways(frag); len(got) != 5 || got[0] != "done done todo stopped" || got[1] != "done todo todo stopped" {
		t.Errorf("withdrawn ways %q", got)
	}
	// A dead letter stops at 推送失败.
	_, frag = clerk.get("/console/cases/" + asked + "/progress")
	if got := ways(frag); len(got) != 5 || got[4] != "done stopped todo todo" || !strings.Contains(frag, "推送失败") {
		t.Errorf("dead letter way %q", got)
	}
	// Another town's clerk gets nothing; a signed-out browser the sign-in.
	other := r.signIn("dongcheng", "pw-dongcheng")
	if status, body := other.get("/console/cases/" + busy + "/progress"); status != http.StatusNotFound || strings.Contains(body, "steps") {
		t.Errorf("another town's clerk reads the progress: %d", status)
	}
	anon := &browser{t: t, r: r, http: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if status, _ := anon.get("/console/cases/" + busy + "/progress"); status != http.StatusSeeOther {
		t.Errorf("signed out: %d", status)
	}
}

// The page loads the console's own script from /console/static/ under a
// policy that allows script from the console only: no inline script.
func TestConsoleScript(t *testing.T) {
	r := newRig(t)
	resp, body := get(t, r.srv.Client(), r.srv.URL+"/console/static/console.js", nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") || !strings.Contains(body, "data-refresh") {
		t.Fatalf("console.js: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	resp, page := get(t, r.srv.Client(), r.srv.URL+"/console/login", nil)
	const csp = "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
	if got := resp.Header.Get("Content-Security-Policy"); got != csp {
		t.Errorf("CSP %q", got)
	}
	scripts := regexp.MustCompile(`<script[^>]*>`).FindAllString(page, -1)
	if !slices.Equal(scripts, []string{`<script src="/console/static/console.js" defer>`}) {
		t.Errorf("scripts on the page: %q", scripts)
	}
}

// A chart's label column fits its longest label: the label's right edge
// (its x, anchored at the end) leaves room for the text at its width.
func TestChartLabelsFit(t *testing.T) {
	long := c.Items[c.ItemMedicalSubsidy].Name.ZH // the longest item name
	svg := string(barChart("t", []bar{{Label: "P90", Value: 1}, {Label: long, Value: 3, Note: "12 / 15"}}))
	m := regexp.MustCompile(`<text x="([0-9]+)" y="[0-9]+" text-anchor="end">` + regexp.QuoteMeta(long) + `</text>`).FindStringSubmatch(svg)
	if m == nil {
		t.Fatalf("no label for %s: %s", long, svg)
	}
	// 13px CJK characters: 13px each at least.
	if x, _ := strconv.Atoi(m[1]); x < 13*utf8.RuneCountInString(long) {
		t.Errorf("the label column is %d px for a label of %d CJK characters", x, utf8.RuneCountInString(long))
	}
}

// The 时效统计 page has no figure of its own: the plan's figures are
// labelled as the plan's, and with no finished case every achieved one
// is "—".
func TestSLAFiguresComeFromData(t *testing.T) {
	r := newRig(t)
	ops := r.signIn("ops", "pw-ops")
	_, page := ops.get("/console/ops/sla")
	text := visibleText(t, page)
	if strings.Contains(text, "按流程") || !strings.Contains(text, "目标（实施方案）") || !strings.Contains(text, "改革前（实施方案）") {
		t.Error("the four reductions are not labelled as the plan's figures")
	}
	_, four, _ := strings.Cut(page, "“四减”")
	rows := strings.Split(four, "<tr>")[2:]
	if len(rows) != 4 {
		t.Fatalf("%d rows of the four reductions", len(rows))
	}
	for _, row := range rows {
		cells := strings.Split(row, "<td>")
		if len(cells) != 5 || !strings.HasPrefix(cells[4], "—") {
			t.Errorf("an achieved figure without data: %s", row)
		}
	}
}

// An item the gateway refused by its own rules was never sent: its way
// does not show it sent nor handled by a department (outsider: 受理 ✓
// 已推送 ✓ 部门办理 ✓ 办结（不予）, naming 通川区民政局, though nothing was
// sent); one a department refused after it was sent does.
func TestWayOfAnItemNeverSent(t *testing.T) {
	r := newRig(t)
	now := r.eng.Flow.Now()
	r.put("LJ-GW", luojiang, now, c.TaskRejected, "")
	r.put("LJ-DEPT", luojiang, now, c.TaskRejected, "")
	if err := r.eng.Store.Update(context.Background(), "LJ-DEPT", "", func(a *c.Application) ([]store.Job, error) {
		a.Tasks[0].Step, a.Tasks[0].CaseNo = 1, "MED-1"
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	clerk := r.signIn("luojiang", "pw-luojiang")
	_, frag := clerk.get("/console/cases/LJ-GW/progress")
	if got := ways(frag); len(got) != 1 || got[0] != "done stopped done" || !strings.Contains(frag, "未推送部门") || strings.Contains(frag, "已推送") {
		t.Errorf("the way of an item the gateway refused: %q", got)
	}
	_, frag = clerk.get("/console/cases/LJ-DEPT/progress")
	if got := ways(frag); len(got) != 1 || got[0] != "done done done done" {
		t.Errorf("the way of an item the department refused: %q", got)
	}
}
