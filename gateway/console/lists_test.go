package console

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	c "onething/contracts"
	"onething/gateway/auth"
	"onething/gateway/calendar"
	"onething/gateway/store"
)

const (
	luojiang  = "511702102" // the rig's clerk "luojiang"
	dongcheng = "511702001" // the rig's clerk "dongcheng"
)

// put stores a case of a town directly (as the engine would have written
// it: status recomputed), with one task in state and due on due ("" none).
func (r *rig) put(id, town string, received time.Time, state c.TaskState, due string) {
	r.t.Helper()
	a := &c.Application{ID: id, PortalRef: "ref-" + id, Version: 1, PushedVersion: 1, ReceivedAt: received,
		Applicant: c.Applicant{Name: "王五", IDNumber: "51170219850307123X", HouseholdDivision: town + "001"},
		Tasks:     []*c.Task{{ID: id + "-1", Item: c.ItemMedicalSubsidy, Dept: c.DeptMedical, State: state, DueDate: due}}}
	r.eng.Flow.Recompute(a)
	if _, err := r.eng.Store.Create(context.Background(), a, nil, nil); err != nil {
		r.t.Fatal(err)
	}
}

var caseLink = regexp.MustCompile(`<a href="/console/cases/([^"?]+)">`)
var nextLink = regexp.MustCompile(`<a href="([^"]+)">下一页</a>`)

func caseIDs(page string) []string {
	var out []string
	for _, m := range caseLink.FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return out
}

// The list is 50 a page, newest first, paged by cursor; a clerk's pages
// hold their town's cases and no other's.
func TestListPagesByCursorWithinTheTown(t *testing.T) {
	r := newRig(t)
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, calendar.Zone)
	var want []string // 罗江镇's, newest first
	for i := range 120 {
		id := fmt.Sprintf("LJ-%03d", i)
		r.put(id, luojiang, t0.Add(time.Duration(i)*time.Minute), c.TaskInProgress, "")
		want = append([]string{id}, want...)
	}
	for i := range 30 {
		r.put(fmt.Sprintf("DC-%03d", i), dongcheng, t0.Add(time.Duration(i)*time.Minute+30*time.Second), c.TaskInProgress, "")
	}
	clerk := r.signIn("luojiang", "pw-luojiang")
	var got []string
	var sizes []int
	path := "/console/"
	for range 10 {
		status, page := clerk.get(path)
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, status)
		}
		ids := caseIDs(page)
		got, sizes = append(got, ids...), append(sizes, len(ids))
		m := nextLink.FindStringSubmatch(page)
		if m == nil {
			break
		}
		path = strings.ReplaceAll(m[1], "&amp;", "&")
		if !strings.Contains(path, "cursor=") {
			t.Fatalf("the next page's link has no cursor: %s", path)
		}
	}
	if !slices.Equal(sizes, []int{50, 50, 20}) {
		t.Errorf("pages of %v cases, want 50, 50, 20", sizes)
	}
	if !slices.Equal(got, want) {
		t.Errorf("罗江镇's clerk lists %d cases (first %v), want its 120 newest first", len(got), got[:min(3, len(got))])
	}
	// 东城街道's clerk: its 30, and 罗江镇's not even when asking for the town.
	other := r.signIn("dongcheng", "pw-dongcheng")
	_, page := other.get("/console/")
	if ids := caseIDs(page); len(ids) != 30 || !strings.HasPrefix(ids[0], "DC-") || !strings.HasPrefix(ids[29], "DC-") {
		t.Errorf("东城街道's clerk lists %d cases: %v…", len(ids), ids[:min(3, len(ids))])
	}
	if _, page := other.get("/console/?town=" + luojiang); len(caseIDs(page)) != 0 {
		t.Errorf("东城街道's clerk lists 罗江镇's cases through the town filter: %v", caseIDs(page)[:1])
	}
	// The operator sees both, and a town filter picks one.
	ops := r.signIn("ops", "pw-ops")
	if _, page := ops.get("/console/?town=" + dongcheng); len(caseIDs(page)) != 30 {
		t.Errorf("the operator's 东城街道 list: %d cases, want 30", len(caseIDs(page)))
	}
	if _, page := ops.get("/console/"); len(caseIDs(page)) != 50 || caseIDs(page)[0] != "LJ-119" {
		t.Errorf("the operator's first page: %d cases, first %v", len(caseIDs(page)), caseIDs(page)[:1])
	}
}

// A filter that few cases match reads at most readBudget records a page,
// then offers to search on among older cases.
func TestFilteredListReadsABoundedBatch(t *testing.T) {
	r := newRig(t)
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, calendar.Zone)
	for i := range readBudget + 20 {
		state := c.TaskInProgress
		if i == 3 { // the oldest few: one matching case beyond the first batch
			state = c.TaskApproved
		}
		r.put(fmt.Sprintf("LJ-%04d", i), luojiang, t0.Add(time.Duration(i)*time.Minute), state, "")
	}
	clerk := r.signIn("luojiang", "pw-luojiang")
	_, page := clerk.get("/console/?status=completed")
	if ids := caseIDs(page); len(ids) != 0 || !strings.Contains(page, "继续查找更早的办件") {
		t.Fatalf("first batch: %v, go-on link %v", ids, strings.Contains(page, "继续查找更早的办件"))
	}
	m := regexp.MustCompile(`<a href="([^"]+)">继续查找更早的办件</a>`).FindStringSubmatch(page)
	_, page = clerk.get(strings.ReplaceAll(m[1], "&amp;", "&"))
	if ids := caseIDs(page); !slices.Equal(ids, []string{"LJ-0003"}) {
		t.Errorf("searching on found %v, want [LJ-0003]", ids)
	}
}

var todoCount = regexp.MustCompile(`待办 \((\d+)\)`)

// The to-do list: a clerk sees their town's supplements, cases due soon
// or past, and dead letters, never another town's; the navigation bar's
// count is the three sections' (a case in two sections counts twice).
func TestTodoOfTheClerksTowns(t *testing.T) {
	r := newRig(t)
	now := r.eng.Flow.Now()
	cal := calendar.Default()
	day := func(n int) string {
		d, err := cal.AddWorkingDays(now, n)
		if err != nil {
			t.Fatal(err)
		}
		return d.Format(time.DateOnly)
	}
	past := now.In(calendar.Zone).AddDate(0, 0, -10).Format(time.DateOnly)
	t0 := now.Add(-48 * time.Hour)
	r.put("LJ-SUPP", luojiang, t0, c.TaskSupplementRequired, day(20))
	r.put("LJ-SOON", luojiang, t0, c.TaskInProgress, day(2))
	r.put("LJ-LATE", luojiang, t0, c.TaskInProgress, past)
	r.put("LJ-FAR", luojiang, t0, c.TaskInProgress, day(10))
	r.put("LJ-DONE", luojiang, t0, c.TaskApproved, past)
	r.put("DC-SUPP", dongcheng, t0, c.TaskSupplementRequired, day(20))
	r.put("DC-LATE", dongcheng, t0, c.TaskInProgress, past)
	ctx := context.Background()
	for _, id := range []string{"LJ-FAR", "DC-LATE"} {
		if err := r.eng.Store.Park(ctx, store.Job{ID: store.DispatchJobID(id+"-1", 0), Kind: store.JobDispatch, AppID: id, TaskID: id + "-1", Dept: string(c.DeptMedical), Attempt: 5}); err != nil {
			t.Fatal(err)
		}
	}
	clerk := r.signIn("luojiang", "pw-luojiang")
	status, page := clerk.get("/console/todo")
	if status != http.StatusOK {
		t.Fatalf("to-do: %d", status)
	}
	sections := strings.SplitN(page, "<h2>", 4)
	if len(sections) != 4 {
		t.Fatalf("to-do page has %d sections", len(sections)-1)
	}
	if ids := caseIDs(sections[1]); !slices.Equal(ids, []string{"LJ-SUPP"}) {
		t.Errorf("supplements: %v, want [LJ-SUPP]", ids)
	}
	if ids := caseIDs(sections[2]); !slices.Equal(ids, []string{"LJ-LATE", "LJ-SOON"}) {
		t.Errorf("due soon or past: %v, want [LJ-LATE LJ-SOON] (earliest first)", ids)
	}
	if ids := caseIDs(sections[3]); !slices.Equal(ids, []string{"LJ-FAR"}) {
		t.Errorf("dead letters: %v, want [LJ-FAR]", ids)
	}
	if strings.Contains(page, "DC-") {
		t.Error("罗江镇's to-do list shows a 东城街道 case")
	}
	count := func(b *browser) string {
		_, page := b.get("/console/")
		m := todoCount.FindStringSubmatch(page)
		if m == nil {
			t.Fatal("no count on the navigation bar")
		}
		return m[1]
	}
	if n := count(clerk); n != "4" {
		t.Errorf("罗江镇's count: %s, want 4", n)
	}
	if n := count(r.signIn("dongcheng", "pw-dongcheng")); n != "3" {
		t.Errorf("东城街道's count: %s, want 3", n)
	}
	ops := r.signIn("ops", "pw-ops")
	if n := count(ops); n != "7" {
		t.Errorf("the operator's count: %s, want 7", n)
	}
	// The supplement comes in: the case leaves the section and the count.
	if err := r.eng.Store.Update(ctx, "LJ-SUPP", "", func(a *c.Application) ([]store.Job, error) {
		a.Tasks[0].State = c.TaskInProgress
		r.eng.Flow.Recompute(a)
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	if n := count(clerk); n != "3" {
		t.Errorf("罗江镇's count after the supplement: %s, want 3", n)
	}
	_, page = ops.get("/console/todo")
	if ids := caseIDs(strings.SplitN(page, "<h2>", 4)[3]); !slices.Equal(ids, []string{"LJ-FAR", "DC-LATE"}) && !slices.Equal(ids, []string{"DC-LATE", "LJ-FAR"}) {
		t.Errorf("the operator's dead letters: %v", ids)
	}
}

// A person's scopes: each once, none inside another (its cases would be
// listed twice), everything for operators and the province office.
func TestScopesOf(t *testing.T) {
	for _, tc := range []struct {
		p    auth.Principal
		want []string
	}{
		{auth.Principal{Role: auth.RoleStaff, Towns: []string{luojiang, dongcheng, luojiang}}, []string{luojiang, dongcheng}},
		{auth.Principal{Role: auth.RoleStaff, Towns: []string{luojiang, "511702"}}, []string{"511702"}},
		{auth.Principal{Role: auth.RoleStaff, Towns: []string{"5117", "511702", luojiang}}, []string{"5117"}},
		{auth.Principal{Role: auth.RoleStaff, Towns: []string{auth.ProvinceOffice}}, []string{store.ScopeAll}},
		{auth.Principal{Role: auth.RoleAdmin}, []string{store.ScopeAll}},
	} {
		if got := scopesOf(&tc.p); !slices.Equal(got, tc.want) {
			t.Errorf("scopes of %v: %v, want %v", tc.p.Towns, got, tc.want)
		}
	}
}

// A case whose only date is the whole case's estimate (no department has
// set a legal due date: an item waits for a supplement before its clock
// starts) is not called overdue on the to-do list, where the case page,
// the list and the API would not (outsider: 待办 said 已超期 of such a
// case, nothing else did); it says the estimate has passed.
func TestTodoTellsAnEstimateFromAnOverdueItem(t *testing.T) {
	r := newRig(t)
	now := r.eng.Flow.Now()
	past := now.In(calendar.Zone).AddDate(0, 0, -10).Format(time.DateOnly)
	t0 := now.Add(-48 * time.Hour)
	r.put("LJ-LATE", luojiang, t0, c.TaskInProgress, past)
	r.put("LJ-EST", luojiang, t0, c.TaskSupplementRequired, past)
	if err := r.eng.Store.Update(context.Background(), "LJ-EST", "", func(a *c.Application) ([]store.Job, error) {
		a.Tasks[0].DueDate = ""
		a.Status.DueDate = past
		r.eng.Flow.Recompute(a)
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	_, page := r.signIn("luojiang", "pw-luojiang").get("/console/todo")
	due := strings.SplitN(page, "<h2>", 4)[2]
	rows := map[string]string{}
	for _, tr := range strings.Split(due, "<tr") {
		for _, id := range []string{"LJ-LATE", "LJ-EST"} {
			if strings.Contains(tr, id) {
				rows[id] = tr
			}
		}
	}
	if !strings.Contains(rows["LJ-LATE"], "已超期") {
		t.Errorf("the overdue item's row: %s", rows["LJ-LATE"])
	}
	if est := rows["LJ-EST"]; strings.Contains(est, "已超期") || !strings.Contains(est, "已过预计日期") || !strings.Contains(est, "（预计）") {
		t.Errorf("the estimate's row: %s", est)
	}
}

// The case page marks the whole case's date (整件办结期限, the receipt's
// estimate) once it is past and the case is not finished, as the to-do
// list does (outsider: the page showed a date a week gone unmarked). The
// day is China's civil day, checked at its first second, before 08:00
// (still the day before in UTC) and at its last second.
func TestCasePageMarksAWholeDatePast(t *testing.T) {
	r := newRig(t)
	day := time.Date(2026, 12, 7, 0, 0, 0, 0, calendar.Zone)
	yesterday, today := day.AddDate(0, 0, -1).Format(time.DateOnly), day.Format(time.DateOnly)
	t0 := day.AddDate(0, 0, -30)
	whole := func(id string, state c.TaskState, date string) {
		r.put(id, luojiang, t0, state, "")
		if err := r.eng.Store.Update(context.Background(), id, "", func(a *c.Application) ([]store.Job, error) {
			a.Status.DueDate, a.Status.Provisional = date, false
			r.eng.Flow.Recompute(a)
			return nil, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	whole("LJ-PAST", c.TaskSupplementRequired, yesterday)
	whole("LJ-TODAY", c.TaskSupplementRequired, today)
	whole("LJ-DONE", c.TaskApproved, yesterday)
	clerk := r.signIn("luojiang", "pw-luojiang")
	for _, at := range []time.Time{day.Add(time.Second), day.Add(8*time.Hour - time.Second), day.Add(24*time.Hour - time.Second)} {
		r.eng.Flow.Now = func() time.Time { return at }
		for id, want := range map[string]bool{"LJ-PAST": true, "LJ-TODAY": false, "LJ-DONE": false} {
			_, page := clerk.get("/console/cases/" + id)
			line := page[strings.Index(page, "整件办结期限"):]
			line = line[:strings.Index(line, "</p>")]
			if got := strings.Contains(line, "已过预计日期"); got != want {
				t.Errorf("at %s, %s's whole date: %q, marked past %v, want %v", at.Format(time.RFC3339), id, line, got, want)
			}
		}
		// The case list marks it too (outsider: the list showed the date
		// bare while the case page and 待办 said it had passed).
		_, list := clerk.get("/console/")
		for _, tr := range strings.Split(list, "<tr") {
			for id, want := range map[string]bool{"LJ-PAST": true, "LJ-TODAY": false, "LJ-DONE": false} {
				if strings.Contains(tr, "/console/cases/"+id+`"`) && strings.Contains(tr, "已过预计日期") != want {
					t.Errorf("at %s, %s's row on the list: %s", at.Format(time.RFC3339), id, tr)
				}
			}
		}
	}
}

// A hand-written ?overdue=true filters as the form's overdue=1 does
// (outsider: it was ignored and every case listed, finished ones too).
func TestOverdueFilterTakesTrue(t *testing.T) {
	r := newRig(t)
	now := r.eng.Flow.Now()
	past := now.In(calendar.Zone).AddDate(0, 0, -10).Format(time.DateOnly)
	r.put("LJ-LATE", luojiang, now.Add(-48*time.Hour), c.TaskInProgress, past)
	r.put("LJ-DONE", luojiang, now.Add(-47*time.Hour), c.TaskApproved, "")
	clerk := r.signIn("luojiang", "pw-luojiang")
	for _, v := range []string{"1", "true", "on", "TRUE"} {
		_, page := clerk.get("/console/?overdue=" + v)
		if ids := caseIDs(page); !slices.Equal(ids, []string{"LJ-LATE"}) {
			t.Errorf("overdue=%s: %v, want [LJ-LATE]", v, ids)
		}
	}
	if _, page := clerk.get("/console/?overdue=0"); len(caseIDs(page)) != 2 {
		t.Errorf("overdue=0: %v, want both", caseIDs(page))
	}
}
