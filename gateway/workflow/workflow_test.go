package workflow

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	c "onething/contracts"
	"onething/gateway/calendar"
	"onething/gateway/rules"
)

var allStates = []c.TaskState{c.TaskPlanned, c.TaskWaiting, c.TaskReady, c.TaskDispatched, c.TaskAccepted,
	c.TaskInProgress, c.TaskSupplementRequired, c.TaskApproved, c.TaskRejected, c.TaskCancelled, c.TaskDeadLetter}

// The legal moves, written out again independently of the table: a row per
// from-state, a column per to-state in the order of allStates
// (pl wa re di ac ip su ap rj ca dl).
var wantMoves = map[c.TaskState]string{
	c.TaskPlanned:            ". x x . . . . . x x .",
	c.TaskWaiting:            ". . x . . . . . x x .",
	c.TaskReady:              ". . . x x x x x x x x",
	c.TaskDispatched:         ". . . . x x x x x x .",
	c.TaskAccepted:           ". . . . . x x x x x .",
	c.TaskInProgress:         ". . . . . . x x x x .",
	c.TaskSupplementRequired: ". . x . . x . x x x .",
	c.TaskApproved:           ". . . . . . . . . . .",
	c.TaskRejected:           ". . . . . . . . . . .",
	c.TaskCancelled:          ". . . . . . . . . . .",
	c.TaskDeadLetter:         ". . x . x x . x x x .",
}

func TestTransitionTableExhaustively(t *testing.T) {
	if len(transitions) != len(allStates) {
		t.Fatalf("table has %d states, want %d", len(transitions), len(allStates))
	}
	for _, from := range allStates {
		cols := strings.Fields(wantMoves[from])
		for i, to := range allStates {
			if got, want := CanMove(from, to), cols[i] == "x"; got != want {
				t.Errorf("CanMove(%s, %s) = %v, want %v", from, to, got, want)
			}
		}
	}
}

func TestFinalStatesAreFinal(t *testing.T) {
	for _, s := range allStates {
		want := s == c.TaskApproved || s == c.TaskRejected || s == c.TaskCancelled
		if s.Final() != want {
			t.Errorf("%s.Final() = %v", s, s.Final())
		}
	}
}

// clock is a fixed Monday, 2026-11-30 09:00 in China.
var clock = time.Date(2026, 11, 30, 9, 0, 0, 0, calendar.Zone)

func newFlow() *Workflow {
	return &Workflow{Cal: calendar.Default(), Now: func() time.Time { return clock }}
}

func mainCase() *c.Application {
	return &c.Application{
		ID: "APP", ReceivedAt: clock,
		Applicant: c.Applicant{Name: "张志明", IDNumber: "51170219850307123X", HouseholdDivision: "511702102", Dibao: true},
		Requests: c.Requests{
			Certificate:  &c.CertificateRequest{Business: c.ItemCertNew, RequestedCategory: 4},
			TwoSubsidies: &c.TwoSubsidiesRequest{}, Pension: &c.PensionRequest{}, Medical: &c.MedicalRequest{Identity: "dibao"},
		},
	}
}

func states(app *c.Application) map[c.ItemCode]c.TaskState {
	m := map[c.ItemCode]c.TaskState{}
	for _, t := range app.Tasks {
		m[t.Item] = t.State
	}
	return m
}

func TestPlanMainCase(t *testing.T) {
	w, app := newFlow(), mainCase()
	ready := w.Plan(app)
	got := states(app)
	want := map[c.ItemCode]c.TaskState{
		c.ItemCertNew: c.TaskReady, c.ItemSubsidyLiving: c.TaskWaiting, c.ItemSubsidyNursing: c.TaskWaiting,
		c.ItemPensionSubsidy: c.TaskReady, c.ItemMedicalSubsidy: c.TaskReady,
	}
	if len(got) != len(want) {
		t.Fatalf("planned %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s, want %s", k, got[k], v)
		}
	}
	if len(ready) != 3 {
		t.Errorf("%d ready tasks, want 3", len(ready))
	}
	for _, tk := range app.Tasks {
		if tk.Dept == c.DeptCivil && (len(tk.DependsOn) != 1 || tk.DependsOn[0] != app.Tasks[0].ID) {
			t.Errorf("%s does not wait on the certificate: %v", tk.Item, tk.DependsOn)
		}
		if tk.State == c.TaskReady && tk.Step != 1 {
			t.Errorf("%s: step %d, want 1", tk.Item, tk.Step)
		}
	}
}

func TestPlanRefusesWithReasons(t *testing.T) {
	held := &c.Certificate{Number: "51170219850307123X43", Category: 4, Grade: 3, ValidUntil: "2030-01-01"}
	cases := []struct {
		name   string
		mutate func(app *c.Application)
		want   map[c.ItemCode]c.TaskState
	}{
		{"达川区: the two subsidies by the common rules, waiting for the certificate", func(app *c.Application) { app.Applicant.HouseholdDivision = "511703" },
			map[c.ItemCode]c.TaskState{c.ItemSubsidyLiving: c.TaskWaiting, c.ItemSubsidyNursing: c.TaskWaiting}},
		{"outside Sichuan: both subsidies refused", func(app *c.Application) { app.Applicant.HouseholdDivision = "500101" },
			map[c.ItemCode]c.TaskState{c.ItemSubsidyLiving: c.TaskRejected, c.ItemSubsidyNursing: c.TaskRejected}},
		{"not dibao: living refused, nursing waits", func(app *c.Application) { app.Applicant.Dibao = false; app.Requests.Medical = nil },
			map[c.ItemCode]c.TaskState{c.ItemSubsidyLiving: c.TaskRejected, c.ItemSubsidyNursing: c.TaskWaiting, c.ItemPensionSubsidy: c.TaskWaiting}},
		{"holder grade 3 physical: nursing refused at once", func(app *c.Application) {
			app.Applicant.Certificate, app.Requests.Certificate = held, nil
		}, map[c.ItemCode]c.TaskState{c.ItemSubsidyLiving: c.TaskReady, c.ItemSubsidyNursing: c.TaskRejected, c.ItemPensionSubsidy: c.TaskReady}},
		{"holder grade 3 physical, no dibao: pension refused", func(app *c.Application) {
			app.Applicant.Certificate, app.Requests.Certificate, app.Applicant.Dibao = held, nil, false
			app.Requests.TwoSubsidies, app.Requests.Medical = nil, nil
		}, map[c.ItemCode]c.TaskState{c.ItemPensionSubsidy: c.TaskRejected}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, app := newFlow(), mainCase()
			tc.mutate(app)
			w.Plan(app)
			got := states(app)
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s: %s, want %s", k, got[k], v)
				}
			}
			for _, tk := range app.Tasks {
				if tk.State == c.TaskRejected && (tk.Reason == nil || tk.Reason.ZH == "" || tk.Reason.EN == "") {
					t.Errorf("%s rejected without a bilingual reason", tk.Item)
				}
			}
		})
	}
}

func ev(id, task string, typ c.EventType) *c.DeptEvent {
	return &c.DeptEvent{EventID: id, TaskID: task, Type: typ, OccurredAt: clock}
}

func TestCertificateReleasesSubsidiesWithItsData(t *testing.T) {
	for _, tc := range []struct {
		cat, grade  int
		nursingItem c.ItemCode
		nursing     c.TaskState
	}{
		{4, 1, c.ItemSubsidyNursing, c.TaskReady},
		{5, 3, c.ItemSubsidyNursing34, c.TaskReady},
		{4, 3, c.ItemSubsidyNursing, c.TaskRejected},
	} {
		w, app := newFlow(), mainCase()
		w.Plan(app)
		certTask := app.Tasks[0]
		if _, err := w.ApplyCase(app, certTask.ID, &c.CaseResponse{CaseNo: "C1", Status: c.CaseReceived}); err != nil {
			t.Fatal(err)
		}
		cert := &c.Certificate{Number: "51170219850307123X" + string(rune('0'+tc.cat)) + string(rune('0'+tc.grade)), Category: tc.cat, Grade: tc.grade, ValidUntil: "2036-11-29"}
		e := ev("e1", certTask.ID, c.EventApproved)
		e.Certificate = cert
		ch, err := w.ApplyEvent(app, c.DeptCDPF, e)
		if err != nil || ch.Outcome != Applied {
			t.Fatalf("approve: %v %v", ch, err)
		}
		nursing := app.Tasks[2]
		if nursing.Item != tc.nursingItem || nursing.State != tc.nursing {
			t.Errorf("grade %d cat %d: nursing task is %s/%s, want %s/%s", tc.grade, tc.cat, nursing.Item, nursing.State, tc.nursingItem, tc.nursing)
		}
		living := app.Tasks[1]
		if living.State != c.TaskReady || living.Certificate == nil || living.Certificate.Number != cert.Number {
			t.Errorf("living subsidy not released with the issued certificate: %+v", living)
		}
		wantReady := 1
		if tc.nursing == c.TaskReady {
			wantReady = 2
		}
		if len(ch.Ready) != wantReady {
			t.Errorf("released %d tasks, want %d", len(ch.Ready), wantReady)
		}
	}
}

// The nursing subsidy's kind is the county's: a grade 3-4 intellectual or
// mental certificate issued to a 达川区 applicant (no 三、四级 nursing
// subsidy in its pack) refuses it with the reason naming the county; a
// 通川区 applicant has the 三、四级 one (above). The supplement is asked for
// at the county's window.
func TestNursingByCounty(t *testing.T) {
	w, app := newFlow(), mainCase()
	app.Applicant.HouseholdDivision = "511703101"
	w.Plan(app)
	certTask := app.Tasks[0]
	if _, err := w.ApplyCase(app, certTask.ID, &c.CaseResponse{CaseNo: "C1", Status: c.CaseAccepted}); err != nil {
		t.Fatal(err)
	}
	sup := ev("s1", certTask.ID, c.EventSupplementRequired)
	sup.Reason = &c.Message{ZH: "照片不符合要求", EN: "photos do not meet the rules"}
	if _, err := w.ApplyEvent(app, c.DeptCDPF, sup); err != nil || certTask.Supplement == nil || certTask.Supplement.Where.ZH != "户籍地达川区（511703）残联窗口" {
		t.Fatalf("supplement where: %+v %v", certTask.Supplement, err)
	}
	e := ev("e1", certTask.ID, c.EventApproved)
	e.Certificate = &c.Certificate{Number: "51170319850307123X53", Category: 5, Grade: 3, ValidUntil: "2036-11-29"}
	if _, err := w.ApplyEvent(app, c.DeptCDPF, e); err != nil {
		t.Fatal(err)
	}
	f := rules.Facts{HouseholdDivision: "511703101"}
	nursing := app.Tasks[2]
	if nursing.Item != c.ItemSubsidyNursing || nursing.State != c.TaskRejected || nursing.Reason == nil || *nursing.Reason != *rules.MsgNursing34NotOffered(f) ||
		!strings.Contains(nursing.Reason.ZH, "达川区（511703）") {
		t.Errorf("达川区 grade 3 intellectual: nursing %s/%s %v", nursing.Item, nursing.State, nursing.Reason)
	}
	if living := app.Tasks[1]; living.State != c.TaskReady || living.County != "511703" {
		t.Errorf("living subsidy: %s county %q", living.State, living.County)
	}
}

// A task's due date counts its county's local time limit where the pack
// gives one.
func TestDueDateByCountyLimit(t *testing.T) {
	usePack(t, "511703", "code: \"511703\"\nname: 达川区\ncity: {code: \"5117\", name: 达州市}\nverified: false\nsource: a test pack\nlimits: {medical.subsidy: 10}\n")
	for div, want := range map[string]string{
		// From acceptance on Mon 2026-11-30: Dec 1-4 (4), 7-11 (9), 14 (10) ... 21 (15).
		"511703101": "2026-12-14", "511702102": "2026-12-21",
	} {
		w, app := newFlow(), mainCase()
		app.Applicant.HouseholdDivision = div
		w.Plan(app)
		medical := app.Tasks[4]
		if _, err := w.ApplyCase(app, medical.ID, &c.CaseResponse{CaseNo: "M1", Status: c.CaseAccepted}); err != nil {
			t.Fatal(err)
		}
		if medical.Item != c.ItemMedicalSubsidy || medical.DueDate != want {
			t.Errorf("%s: %s due %s, want %s", div, medical.Item, medical.DueDate, want)
		}
	}
}

func TestRefusedCertificateRefusesDependents(t *testing.T) {
	w, app := newFlow(), mainCase()
	w.Plan(app)
	e := ev("e1", app.Tasks[0].ID, c.EventRejected)
	e.Reason = &c.Message{ZH: "评定不符合标准", EN: "below the standard"}
	if _, err := w.ApplyEvent(app, c.DeptCDPF, e); err != nil {
		t.Fatal(err)
	}
	for _, tk := range app.Tasks[1:3] {
		if tk.State != c.TaskRejected || tk.Reason != rules.MsgDependencyFailed {
			t.Errorf("%s: %s %v, want rejected for the failed dependency", tk.Item, tk.State, tk.Reason)
		}
	}
}

func TestEventsOutOfOrderAndTwice(t *testing.T) {
	w, app := newFlow(), mainCase()
	w.Plan(app)
	task := app.Tasks[4] // medical
	steps := []struct {
		typ     c.EventType
		outcome Outcome
		state   c.TaskState
	}{
		{c.EventApproved, Applied, c.TaskApproved}, // approval overtakes acceptance
		{c.EventAccepted, Stale, c.TaskApproved},
		{c.EventInProgress, Stale, c.TaskApproved},
		{c.EventApproved, Duplicate, c.TaskApproved},
	}
	for i, s := range steps {
		ch, err := w.ApplyEvent(app, c.DeptMedical, ev("e", task.ID, s.typ))
		if err != nil || ch.Outcome != s.outcome || task.State != s.state {
			t.Errorf("step %d (%s): outcome %s state %s err %v; want %s %s", i, s.typ, ch.Outcome, task.State, err, s.outcome, s.state)
		}
	}
	if task.AcceptedAt == nil || task.DueDate == "" {
		t.Errorf("approval without acceptance must still start the clock: %+v", task)
	}
	_, err := w.ApplyEvent(app, c.DeptMedical, &c.DeptEvent{EventID: "x", TaskID: task.ID, Type: c.EventRejected, Reason: &c.Message{ZH: "否", EN: "no"}})
	var illegal *IllegalTransitionError
	if !errors.As(err, &illegal) || task.State != c.TaskApproved {
		t.Errorf("rejected after approved: err %v, state %s; want an illegal transition and no change", err, task.State)
	}
}

func TestOnlyTheOwningDepartmentReports(t *testing.T) {
	w, app := newFlow(), mainCase()
	w.Plan(app)
	before := app.Tasks[0].State
	if _, err := w.ApplyEvent(app, c.DeptCivil, ev("e", app.Tasks[0].ID, c.EventApproved)); !errors.Is(err, ErrWrongDept) {
		t.Fatalf("civil approving a cdpf task: %v", err)
	}
	if app.Tasks[0].State != before {
		t.Error("state changed by another department")
	}
	if _, err := w.ApplyEvent(app, c.DeptCivil, ev("e", "APP-99", c.EventApproved)); !errors.Is(err, ErrUnknownTask) {
		t.Errorf("unknown task: %v", err)
	}
}

func TestDeadlinesInWorkingDays(t *testing.T) {
	w, app := newFlow(), mainCase()
	w.Plan(app)
	// Medical subsidy: 15 working days from acceptance on Mon 2026-11-30:
	// Dec 1-4 (4), 7-11 (9), 14-18 (14), 21 (15).
	if _, err := w.ApplyCase(app, app.Tasks[4].ID, &c.CaseResponse{CaseNo: "M1", Status: c.CaseAccepted}); err != nil {
		t.Fatal(err)
	}
	if got := app.Tasks[4].DueDate; got != "2026-12-21" {
		t.Errorf("medical due %s, want 2026-12-21", got)
	}
	// cert.new counts from the publicity day, not from acceptance.
	cert := app.Tasks[0]
	w.ApplyEvent(app, c.DeptCDPF, ev("a", cert.ID, c.EventAccepted))
	if cert.DueDate != "" {
		t.Errorf("cert.new due %s before publicity; the clock starts at publicity", cert.DueDate)
	}
	pub := ev("p", cert.ID, c.EventPublicised)
	pub.OccurredAt = time.Date(2026, 9, 18, 10, 0, 0, 0, calendar.Zone) // Fri before 中秋 and 国庆
	app.ReceivedAt = time.Date(2026, 9, 1, 9, 0, 0, 0, calendar.Zone)   // an event cannot precede its application
	w.ApplyEvent(app, c.DeptCDPF, pub)
	// Sun Sep 20 调休 (1), Sep 21-24 (5), Sep 25-27 off, Sep 28-30 (8),
	// Oct 1-7 off, Oct 8-9 (10), Sat Oct 10 调休 (11), Oct 12-15 (15).
	if cert.DueDate != "2026-10-15" {
		t.Errorf("cert.new due %s, want 2026-10-15", cert.DueDate)
	}
	w.Recompute(app)
	if app.Status.NextDue != "2026-10-15" || len(app.Status.Overdue) != 1 || app.Status.Overdue[0] != cert.ID {
		t.Errorf("status %+v: want next due 2026-10-15 and the certificate overdue", app.Status)
	}
}

func TestRecompute(t *testing.T) {
	w, app := newFlow(), mainCase()
	w.Plan(app)
	w.Recompute(app)
	if app.Status.State != c.AppReceived || app.Status.Counts[c.TaskReady] != 3 || app.Status.Counts[c.TaskWaiting] != 2 {
		t.Errorf("after planning: %+v", app.Status)
	}
	w.ApplyCase(app, app.Tasks[3].ID, &c.CaseResponse{CaseNo: "H1", Status: c.CaseApproved})
	w.Recompute(app)
	if app.Status.State != c.AppProcessing {
		t.Errorf("after one approval: %s", app.Status.State)
	}
	sup := ev("s", app.Tasks[4].ID, c.EventSupplementRequired)
	sup.Reason = &c.Message{ZH: "户口簿复印件不清晰", EN: "household book copy unreadable"}
	w.ApplyEvent(app, c.DeptMedical, sup)
	w.Recompute(app)
	if app.Status.State != c.AppSupplementRequired {
		t.Errorf("with a supplement request: %s", app.Status.State)
	}
	for _, tk := range app.Tasks {
		tk.State = c.TaskApproved
	}
	w.Recompute(app)
	if app.Status.State != c.AppCompleted || app.Status.Counts[c.TaskApproved] != 5 {
		t.Errorf("all approved: %+v", app.Status)
	}
	// 45 working days from Mon 2026-11-30: 22 in December, 1 January off,
	// 4-29 January 20 more, Sun 31 January (调休) 43, Mon 1 February 44 …
	// counted on the published 2027 schedule, so not provisional.
	if app.Status.DueDate != "2027-02-01" || app.Status.Provisional {
		t.Errorf("whole due date %s (provisional %v), want 2027-02-01 from the published schedule", app.Status.DueDate, app.Status.Provisional)
	}
	// Past the last published year the date is counted by the statutory
	// rule and marked provisional, never left empty.
	app.ReceivedAt, app.Status.DueDate = time.Date(2027, 12, 1, 9, 0, 0, 0, calendar.Zone), ""
	w.Recompute(app)
	if app.Status.DueDate < "2028-01-01" || !app.Status.Provisional {
		t.Errorf("whole due date %s (provisional %v), want a provisional date in 2028", app.Status.DueDate, app.Status.Provisional)
	}
	app.Status.Provisional = false
	app.ReceivedAt, app.Status.DueDate = time.Date(2026, 9, 1, 9, 0, 0, 0, calendar.Zone), ""
	w.Recompute(app)
	// From Tue 2026-09-01: Sep 2-30 has 21 working days (incl. Sun Sep 20,
	// minus Fri Sep 25), Oct 8-30 has 18 (incl. Sat Oct 10): 39; Nov 2-9: 45.
	if app.Status.DueDate != "2026-11-09" {
		t.Errorf("whole due date %s, want 2026-11-09", app.Status.DueDate)
	}
}

func TestDeadLetter(t *testing.T) {
	w, app := newFlow(), mainCase()
	w.Plan(app)
	task := app.Tasks[3]
	w.DispatchFailed(app, task.ID, 3, "hrss: HTTP 503", false)
	if task.State != c.TaskReady || task.Attempts != 3 || task.LastError == "" {
		t.Errorf("retryable failure: %+v", task)
	}
	w.DispatchFailed(app, task.ID, 8, "hrss: HTTP 503", true)
	if task.State != c.TaskDeadLetter || task.Reason == nil || !strings.Contains(task.Reason.ZH, "多次发送失败") {
		t.Errorf("exhausted: %s %v", task.State, task.Reason)
	}
	// Refused at the first attempt (a 4xx is not retried): not "failed
	// repeatedly" (outsider: a dead letter after one 422 said so).
	_, once := newFlow(), mainCase()
	w.Plan(once)
	w.DispatchFailed(once, once.Tasks[3].ID, 1, "hrss: HTTP 422", true)
	if r := once.Tasks[3].Reason; once.Tasks[3].State != c.TaskDeadLetter || r == nil || strings.Contains(r.ZH, "多次") || !strings.Contains(r.ZH, "部门拒收") {
		t.Errorf("refused at once: %s %v", once.Tasks[3].State, r)
	}
	// A department that got the case after all may still report on it.
	if _, err := w.ApplyCase(app, task.ID, &c.CaseResponse{CaseNo: "H", Status: c.CaseApproved}); err != nil || task.State != c.TaskApproved {
		t.Errorf("late answer to a dead letter: %v %s", err, task.State)
	}
}

func TestSupplementRoundTrip(t *testing.T) {
	w, app := newFlow(), mainCase()
	w.Plan(app)
	task := app.Tasks[0] // cdpf
	w.ApplyCase(app, task.ID, &c.CaseResponse{CaseNo: "C1", Status: c.CaseAccepted})
	sup := ev("s1", task.ID, c.EventSupplementRequired)
	sup.Reason = &c.Message{ZH: "照片不符合要求", EN: "photos do not meet the rules"}
	if _, err := w.ApplyEvent(app, c.DeptCDPF, sup); err != nil {
		t.Fatal(err)
	}
	w.Recompute(app)
	if app.Status.State != c.AppSupplementRequired || task.Supplement == nil || task.Supplement.What.ZH != "照片不符合要求" ||
		task.Supplement.Where.ZH != "通川区残联或罗江镇残联窗口" || task.Supplement.Round != 1 {
		t.Fatalf("after the request: %s %+v", app.Status.State, task.Supplement)
	}
	if _, err := w.ProvideSupplement(app, &c.SupplementSubmission{TaskID: app.Tasks[4].ID, Materials: []string{"photos"}}); !errors.Is(err, ErrNoSupplementDue) {
		t.Errorf("supplement for a task that asked none: %v", err)
	}
	ch, err := w.ProvideSupplement(app, &c.SupplementSubmission{TaskID: task.ID, Materials: []string{"photos"}})
	if err != nil || len(ch.Resume) != 1 || task.Supplement.ProvidedAt == nil {
		t.Fatalf("provide: %+v %v", ch, err)
	}
	w.Recompute(app)
	if app.Status.State != c.AppProcessing {
		t.Errorf("provided, waiting on the department: %s, want processing", app.Status.State)
	}
	if ch, _ := w.ProvideSupplement(app, &c.SupplementSubmission{TaskID: task.ID, Materials: []string{"photos"}}); ch.Outcome != Duplicate {
		t.Errorf("second provide: %+v", ch)
	}
	if _, err := w.ApplyCase(app, task.ID, &c.CaseResponse{CaseNo: "C1", Status: c.CaseInProgress}); err != nil || task.State != c.TaskInProgress {
		t.Errorf("department resumed: %s %v", task.State, err)
	}
}

func TestWithdrawal(t *testing.T) {
	w, app := newFlow(), mainCase()
	w.Plan(app)
	w.ApplyCase(app, app.Tasks[0].ID, &c.CaseResponse{CaseNo: "C1", Status: c.CaseReceived}) // cdpf holds a case
	w.ApplyCase(app, app.Tasks[3].ID, &c.CaseResponse{CaseNo: "H1", Status: c.CaseApproved}) // pension done
	res, ch, err := w.Withdraw(app, "已搬离通川")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Cancelled) != 4 || len(res.AlreadyFinal) != 1 || len(res.Notified) != 1 || res.Notified[0] != app.Tasks[0].ID || len(ch.Notify) != 1 {
		t.Errorf("result %+v change %+v", res, ch)
	}
	for _, tk := range app.Tasks {
		if tk.Item != c.ItemPensionSubsidy && (tk.State != c.TaskCancelled || tk.Reason == nil) {
			t.Errorf("%s: %s %v", tk.Item, tk.State, tk.Reason)
		}
	}
	// A progress report that crosses the withdrawal is absorbed.
	if ch, err := w.ApplyEvent(app, c.DeptCDPF, ev("late", app.Tasks[0].ID, c.EventInProgress)); err != nil || ch.Outcome != Stale || app.Tasks[0].State != c.TaskCancelled {
		t.Errorf("late progress: %+v %v %s", ch, err, app.Tasks[0].State)
	}
	// A decision that crosses it stands: the department decided before it
	// heard of the withdrawal (the certificate is issued), and nothing is
	// left to withdraw there.
	decided := ev("decided", app.Tasks[0].ID, c.EventApproved)
	decided.Certificate = &c.Certificate{Number: "51170219850307123X43", Category: 4, Grade: 3, ValidUntil: "2036-11-29"}
	if ch, err := w.ApplyEvent(app, c.DeptCDPF, decided); err != nil || ch.Outcome != Applied || app.Tasks[0].State != c.TaskApproved {
		t.Errorf("a decision crossing the withdrawal: %+v %v %s", ch, err, app.Tasks[0].State)
	}
	// A dispatch that was under way when the applicant withdrew: the
	// department opened a case, so it must be told.
	w2, app2 := newFlow(), mainCase()
	w2.Plan(app2)
	w2.Withdraw(app2, "")
	ch, err = w2.ApplyCase(app2, app2.Tasks[4].ID, &c.CaseResponse{CaseNo: "M9", Status: c.CaseAccepted})
	if err != nil || len(ch.Notify) != 1 || app2.Tasks[4].CaseNo != "M9" || app2.Tasks[4].State != c.TaskCancelled {
		t.Errorf("crossing dispatch: %+v %v %+v", ch, err, app2.Tasks[4])
	}
	// One that the department answered with its decision at once (a grant
	// from shared data): the decision stands, nothing to tell.
	ch, err = w2.ApplyCase(app2, app2.Tasks[3].ID, &c.CaseResponse{CaseNo: "H9", Status: c.CaseApproved})
	if err != nil || len(ch.Notify) != 0 || app2.Tasks[3].State != c.TaskApproved || app2.Tasks[3].CaseNo != "H9" {
		t.Errorf("a grant crossing the withdrawal: %+v %v %+v", ch, err, app2.Tasks[3])
	}
	// Once the department confirmed the withdrawal, a later decision is
	// not taken.
	if _, err := w2.Notified(app2, app2.Tasks[4].ID); err != nil {
		t.Fatal(err)
	}
	if ch, err := w2.ApplyEvent(app2, c.DeptMedical, ev("after", app2.Tasks[4].ID, c.EventApproved)); err != nil || ch.Outcome == Applied || app2.Tasks[4].State != c.TaskCancelled {
		t.Errorf("a decision after the confirmed withdrawal: %+v %v %s", ch, err, app2.Tasks[4].State)
	}
	// Withdrawn, though the pension subsidy was approved before: that item
	// keeps approved.
	w.Recompute(app)
	if app.Status.State != c.AppWithdrawn || app.WithdrawnAt == nil || app.Tasks[3].State != c.TaskApproved {
		t.Errorf("after the withdrawal: status %s, withdrawn at %v, pension %s", app.Status.State, app.WithdrawnAt, app.Tasks[3].State)
	}
	if _, _, err := w.Withdraw(app, ""); !errors.Is(err, ErrNothingToWithdraw) || app.Status.State != c.AppWithdrawn {
		t.Errorf("second withdrawal: %v, status %s", err, app.Status.State)
	}
	// Every item final without a withdrawal is completed, not withdrawn.
	w3, app3 := newFlow(), mainCase()
	w3.Plan(app3)
	for _, tk := range app3.Tasks {
		tk.State = c.TaskRejected
	}
	w3.Recompute(app3)
	if app3.Status.State != c.AppCompleted {
		t.Errorf("every item rejected: %s, want completed", app3.Status.State)
	}
}

func TestPlanCertificateBusinesses(t *testing.T) {
	old := &c.Certificate{Number: "51170219850307123X42", Category: 4, Grade: 2, IssuedOn: "2017-12-01", ValidFrom: "2017-12-01", ValidUntil: "2027-11-30"}
	cases := []struct {
		clause string
		req    c.CertificateRequest
		minor  bool
		cert   c.TaskState
		other  map[c.ItemCode]c.TaskState
	}{
		{rules.ClauseRenewExpiry + " 未满九年：驳回，补贴按原证办理", c.CertificateRequest{Business: c.ItemCertRenew, SubKind: "expiry"}, false, c.TaskRejected,
			map[c.ItemCode]c.TaskState{c.ItemSubsidyLiving: c.TaskReady, c.ItemSubsidyNursing: c.TaskReady}},
		{rules.ClauseRenewDamaged + " 补贴等新证", c.CertificateRequest{Business: c.ItemCertRenew, SubKind: "damaged"}, false, c.TaskReady,
			map[c.ItemCode]c.TaskState{c.ItemSubsidyLiving: c.TaskWaiting, c.ItemSubsidyNursing: c.TaskWaiting}},
		{rules.ClauseCancelFull + " 注销不能同时申请两项补贴", c.CertificateRequest{Business: c.ItemCertCancel, SubKind: "full"}, false, c.TaskReady,
			map[c.ItemCode]c.TaskState{c.ItemSubsidyLiving: c.TaskRejected, c.ItemSubsidyNursing: c.TaskRejected}},
	}
	for _, tc := range cases {
		t.Run(tc.clause, func(t *testing.T) {
			w, app := newFlow(), mainCase()
			app.Applicant.Certificate = old
			app.Requests.Certificate = &tc.req
			w.Plan(app)
			got := states(app)
			if got[tc.req.Business] != tc.cert {
				t.Errorf("certificate task %s, want %s", got[tc.req.Business], tc.cert)
			}
			for item, s := range tc.other {
				if got[item] != s {
					t.Errorf("%s: %s, want %s", item, got[item], s)
				}
			}
			if app.Tasks[0].Procedure == nil || app.Tasks[0].Procedure.Clause == "" {
				t.Error("certificate task without its procedure")
			}
		})
	}
}

func TestMinorClockStartsAtAssessment(t *testing.T) {
	w, app := newFlow(), mainCase()
	app.Applicant.IDNumber = "511702201506050711" // born 2015: a minor
	w.Plan(app)
	cert := app.Tasks[0]
	if cert.Procedure.Publicity || cert.Procedure.ClockStart != c.ClockAssessment {
		t.Fatalf("minor's procedure: %+v", cert.Procedure)
	}
	w.ApplyEvent(app, c.DeptCDPF, ev("a", cert.ID, c.EventAccepted))
	assessed := ev("b", cert.ID, c.EventAssessed)
	assessed.OccurredAt = time.Date(2026, 11, 30, 15, 0, 0, 0, calendar.Zone)
	w.ApplyEvent(app, c.DeptCDPF, assessed)
	if cert.DueDate != "2026-12-21" {
		t.Errorf("due %s, want 2026-12-21 (15 working days from the assessment)", cert.DueDate)
	}
}

func TestNewSevereCertificateBringsThePension(t *testing.T) {
	w, app := newFlow(), mainCase()
	app.Applicant.Dibao = false
	app.Requests.Pension, app.Requests.Medical, app.Requests.TwoSubsidies = nil, nil, nil
	w.Plan(app)
	if len(app.Tasks) != 1 {
		t.Fatalf("planned %d tasks, want only the certificate", len(app.Tasks))
	}
	e := ev("ok", app.Tasks[0].ID, c.EventApproved)
	e.Certificate = &c.Certificate{Number: "51170219850307123X41", Category: 4, Grade: 1, ValidUntil: "2036-11-29"}
	ch, _ := w.ApplyEvent(app, c.DeptCDPF, e)
	if len(app.Tasks) != 2 || app.Tasks[1].Item != c.ItemPensionSubsidy || app.Tasks[1].State != c.TaskReady || len(ch.Ready) != 1 {
		t.Errorf("after a grade 1 certificate: %+v", app.Tasks)
	}
}

// TestViewAndPushMaskFreeText: the applicant's and the departments' free
// text (reasons, supplement requests, result notes, timeline notes) reaches
// the view and the push with every ID and phone number and the names of the
// application's people masked; the record keeps the full text.
func TestViewAndPushMaskFreeText(t *testing.T) {
	w, app := newFlow(), mainCase()
	app.Applicant.Guardian = &c.Guardian{Name: "李秀英", Relation: "母亲", Phone: "13812345678"}
	app.Delivery = c.Delivery{Method: "post", Recipient: "王建国", Phone: "13912345678", Address: "罗江镇"}
	w.Plan(app)
	cdpf, hrss, medical := app.Tasks[0], app.Tasks[3], app.Tasks[4]
	w.ApplyCase(app, cdpf.ID, &c.CaseResponse{CaseNo: "CDPF-20261129-000001", Status: c.CaseAccepted})
	sup := ev("s1", cdpf.ID, c.EventSupplementRequired)
	sup.Reason = &c.Message{ZH: "请张志明本人携带身份证51170219850307123X到窗口，或致电 0818-2212345 / 136 9876 5432",
		EN: "Zhang Zhiming, ID 51170219850307123X, call 0818-2212345"}
	if _, err := w.ApplyEvent(app, c.DeptCDPF, sup); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ProvideSupplement(app, &c.SupplementSubmission{TaskID: cdpf.ID, Note: "张志明已补交照片，电话13698765432"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ApplyCase(app, hrss.ID, &c.CaseResponse{CaseNo: "RS1", Status: c.CaseRejected,
		Reason: &c.Message{ZH: "经核查张志明（51170219850307123X）已领取，咨询0818-2212345", EN: "already paid; call 0818-2212345"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ApplyCase(app, medical.ID, &c.CaseResponse{CaseNo: "YB1", Status: c.CaseApproved,
		Result: &c.Result{Note: &c.Message{ZH: "已告知监护人李秀英（13812345678）", EN: "guardian told on 13812345678"}}}); err != nil {
		t.Fatal(err)
	}
	reason := "本人张志明（身份证511702198002025569，电话13698765432）因迁居不再申请，收件人王建国、监护人李秀英知悉"
	if _, _, err := w.Withdraw(app, reason); err != nil {
		t.Fatal(err)
	}
	secrets := []string{"51170219850307123X", "511702198002025569", "13698765432", "136 9876 5432", "2212345", "13812345678",
		"张志明", "志明", "李秀英", "秀英", "王建国", "建国"}
	view, _ := json.Marshal(w.View(app))
	push, _ := json.Marshal(w.Push(app))
	briefs, _ := json.Marshal(w.Briefs(app))
	for what, b := range map[string][]byte{"view": view, "push": push, "briefs": briefs} {
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("the %s shows %q: %s", what, s, b)
			}
		}
		for _, want := range []string{"因迁居不再申请", "51**************69", "13*******32", "CDPF-20261129-000001"} {
			if !bytes.Contains(b, []byte(want)) {
				t.Errorf("the %s lacks %q (masked, still readable): %s", what, want, b)
			}
		}
	}
	// The record keeps the full text (the full-record read shows it).
	if !strings.Contains(cdpf.Reason.ZH, "511702198002025569") || !strings.Contains(hrss.Reason.ZH, "51170219850307123X") ||
		!strings.Contains(medical.Result.Note.ZH, "13812345678") || !strings.Contains(cdpf.Supplement.What.ZH, "张志明") ||
		!strings.Contains(cdpf.SupplementNote, "13698765432") {
		t.Errorf("the record lost its full text: %+v", cdpf)
	}
	full := 0
	for _, e := range app.Timeline {
		if e.Note != nil && strings.Contains(e.Note.ZH, reason) {
			full++
		}
	}
	if full == 0 {
		t.Error("the timeline lost the withdrawal's full reason")
	}
	if again, _ := json.Marshal(w.View(app)); !bytes.Equal(again, view) {
		t.Error("a second view differs: the first changed the record")
	}
}

// The answer to a dispatch that comes after the department's decision (an
// event approved the task first): not applied, but its case number is
// learned and the stale report recorded, so the change is Noted (a new
// version for the engine). A duplicate that changes nothing is not.
func TestLateCaseAnswerIsNoted(t *testing.T) {
	w, app := newFlow(), mainCase()
	w.Plan(app)
	medical := app.Tasks[4]
	if ch, err := w.ApplyEvent(app, c.DeptMedical, ev("a", medical.ID, c.EventApproved)); err != nil || ch.Outcome != Applied {
		t.Fatalf("approved: %v, %v", ch.Outcome, err)
	}
	n := len(app.Timeline)
	ch, err := w.ApplyCase(app, medical.ID, &c.CaseResponse{CaseNo: "M1", Status: c.CaseInProgress})
	if err != nil || ch.Outcome == Applied || !ch.Noted {
		t.Fatalf("the late answer: outcome %v, noted %v, %v; want not applied and noted", ch.Outcome, ch.Noted, err)
	}
	if medical.CaseNo != "M1" || medical.State != c.TaskApproved || len(app.Timeline) != n+1 {
		t.Errorf("case %q, state %s, %d new entries: want M1 learned, still approved, the stale report recorded", medical.CaseNo, medical.State, len(app.Timeline)-n)
	}
	if ch, err := w.ApplyEvent(app, c.DeptMedical, ev("a2", medical.ID, c.EventApproved)); err != nil || ch.Noted {
		t.Errorf("approved again (a duplicate): noted %v, %v; want nothing noted", ch.Noted, err)
	}
}

// A dispatch's answer that contradicts what the department's event
// reported first (rejected, then the answer says approved) is not taken
// and not an error (the worker has no one to answer, and an error left
// the job to fail again and again, the case number lost): it is kept on
// the timeline with the case number it teaches, a Noted change.
func TestContradictingCaseAnswerIsKeptNotTaken(t *testing.T) {
	w, app := newFlow(), mainCase()
	w.Plan(app)
	medical := app.Tasks[4]
	rej := ev("r", medical.ID, c.EventRejected)
	rej.Reason = &c.Message{ZH: "不符合条件", EN: "not eligible"}
	if ch, err := w.ApplyEvent(app, c.DeptMedical, rej); err != nil || ch.Outcome != Applied {
		t.Fatalf("rejected: %v, %v", ch.Outcome, err)
	}
	n := len(app.Timeline)
	ch, err := w.ApplyCase(app, medical.ID, &c.CaseResponse{CaseNo: "M9", Status: c.CaseApproved})
	if err != nil || ch.Outcome == Applied || !ch.Noted {
		t.Fatalf("the contradicting answer: outcome %v, noted %v, %v; want not applied, noted, no error", ch.Outcome, ch.Noted, err)
	}
	if medical.State != c.TaskRejected || medical.CaseNo != "M9" {
		t.Errorf("state %s, case %q: want still rejected, M9 learned", medical.State, medical.CaseNo)
	}
	if len(app.Timeline) != n+1 || app.Timeline[n].Kind != "stale_report" || app.Timeline[n].To != c.TaskApproved {
		t.Errorf("timeline %+v: want one stale_report of the answer (to approved)", app.Timeline[n:])
	}
}

// An item withdrawn before its case number was known, then an event that
// teaches it: the event is stale, the number recorded, and the department
// is to be told to cancel that case (Notify), a Noted change.
func TestEventTeachingTheCaseOfAWithdrawnItem(t *testing.T) {
	w, app := newFlow(), mainCase()
	w.Plan(app)
	medical := app.Tasks[4]
	if _, _, err := w.Withdraw(app, ""); err != nil {
		t.Fatal(err)
	}
	if medical.State != c.TaskCancelled || medical.CaseNo != "" {
		t.Fatalf("after the withdrawal: %s, case %q", medical.State, medical.CaseNo)
	}
	e := ev("late", medical.ID, c.EventInProgress)
	e.CaseNo = "M7"
	ch, err := w.ApplyEvent(app, c.DeptMedical, e)
	if err != nil || ch.Outcome != Stale || !ch.Noted || len(ch.Notify) != 1 || ch.Notify[0] != medical {
		t.Fatalf("the late event: outcome %v, noted %v, notify %v, %v; want stale, noted, the item to notify", ch.Outcome, ch.Noted, ch.Notify, err)
	}
	if medical.CaseNo != "M7" || medical.State != c.TaskCancelled {
		t.Errorf("case %q, state %s: want M7 recorded, still cancelled", medical.CaseNo, medical.State)
	}
}

// A department cannot decide an item the gateway never sent it (outsider:
// civil's "rejected" on a subsidy still waiting for the certificate was
// applied and stood; an "approved" on one withdrawn while it waited was
// taken as decided before the withdrawal).
func TestNoReportOnAnItemNeverSent(t *testing.T) {
	w, app := newFlow(), mainCase()
	w.Plan(app)
	var waiting *c.Task
	for _, tk := range app.Tasks {
		if tk.State == c.TaskWaiting {
			waiting = tk
			break
		}
	}
	if waiting == nil || waiting.Step != 0 {
		t.Fatalf("no waiting task never made ready: %+v", app.Tasks)
	}
	rej := ev("r", waiting.ID, c.EventRejected)
	rej.Reason = &c.Message{ZH: "不符合", EN: "no"}
	for _, e := range []*c.DeptEvent{rej, ev("a", waiting.ID, c.EventApproved), ev("m", waiting.ID, c.EventAssessed)} {
		before := len(app.Timeline)
		_, err := w.ApplyEvent(app, waiting.Dept, e)
		var illegal *IllegalTransitionError
		if !errors.As(err, &illegal) || illegal.From != c.TaskWaiting || waiting.State != c.TaskWaiting || len(app.Timeline) != before || waiting.CaseNo != "" {
			t.Fatalf("%s on a waiting item: err %v, state %s, timeline %d → %d", e.Type, err, waiting.State, before, len(app.Timeline))
		}
	}
	// Withdrawn while it waited: a decision is absorbed (noted), not taken.
	if _, _, err := w.Withdraw(app, "申请人撤回"); err != nil {
		t.Fatal(err)
	}
	late := ev("late", waiting.ID, c.EventApproved)
	late.CaseNo = "CIV-9"
	ch, err := w.ApplyEvent(app, waiting.Dept, late)
	if err != nil || ch.Outcome != Stale || waiting.State != c.TaskCancelled || waiting.CaseNo != "" || len(ch.Notify) != 0 {
		t.Fatalf("a decision on an item withdrawn before it was sent: %+v %v state %s caseNo %q", ch, err, waiting.State, waiting.CaseNo)
	}
}

// What an event says must agree with its application: cdpf's approval of a
// certificate business carries the certificate, the applicant's own, and
// nothing happened before the application was received (outsider: an
// approval without the certificate refused both subsidies for good; a
// publicity dated 2020 emptied the due date).
func TestEventAgainstItsApplication(t *testing.T) {
	w, app := newFlow(), mainCase()
	w.Plan(app)
	cert := app.Tasks[0]
	if cert.Item != c.ItemCertNew || cert.Step == 0 {
		t.Fatalf("task 0: %+v", cert)
	}
	other := &c.Certificate{Number: "11010119900307451441", Category: 4, Grade: 1, ValidUntil: "2036-11-29"}
	early := ev("early", cert.ID, c.EventPublicised)
	early.OccurredAt = app.ReceivedAt.Add(-c.EventClockSkew - time.Minute)
	for _, tc := range []struct {
		name        string
		e           *c.DeptEvent
		field, code string
	}{
		{"approved without the certificate", ev("a1", cert.ID, c.EventApproved), "certificate", "required"},
		{"another person's certificate", func() *c.DeptEvent { e := ev("a2", cert.ID, c.EventApproved); e.Certificate = other; return e }(), "certificate.number", "mismatch"},
		{"before the application", early, "occurredAt", "out_of_range"},
		// (outsider: on an acceptance it was applied and stored, and the
		// subject-access export held the other person's number)
		{"another person's certificate on an acceptance", func() *c.DeptEvent { e := ev("a4", cert.ID, c.EventAccepted); e.Certificate = other; return e }(), "certificate.number", "mismatch"},
	} {
		before := len(app.Timeline)
		_, err := w.ApplyEvent(app, c.DeptCDPF, tc.e)
		var invalid *InvalidEventError
		if !errors.As(err, &invalid) || len(invalid.Problems) != 1 || invalid.Problems[0].Field != tc.field || invalid.Problems[0].Code != tc.code {
			t.Fatalf("%s: %v %+v", tc.name, err, invalid)
		}
		if cert.State != c.TaskReady || len(cert.Milestones) != 0 || len(app.Timeline) != before {
			t.Fatalf("%s changed the application: %s %+v", tc.name, cert.State, cert.Milestones)
		}
	}
	// A report that is no approval sets no certificate, even the
	// applicant's own.
	acc := ev("a5", cert.ID, c.EventAccepted)
	acc.Certificate = &c.Certificate{Number: "51170219850307123X43", Category: 4, Grade: 3, ValidUntil: "2036-11-29"}
	if ch, err := w.ApplyEvent(app, c.DeptCDPF, acc); err != nil || ch.Outcome != Applied || cert.Certificate != nil {
		t.Fatalf("an acceptance with a certificate: %+v %v %+v", ch, err, cert.Certificate)
	}
	// Within the clocks' tolerance, and with the applicant's certificate,
	// the same events are taken.
	early.OccurredAt = app.ReceivedAt.Add(-c.EventClockSkew + time.Minute)
	if ch, err := w.ApplyEvent(app, c.DeptCDPF, early); err != nil || ch.Outcome != Applied {
		t.Fatalf("a publicity a minute inside the tolerance: %+v %v", ch, err)
	}
	ok := ev("a3", cert.ID, c.EventApproved)
	ok.Certificate = &c.Certificate{Number: "51170219850307123X43", Category: 4, Grade: 3, ValidUntil: "2036-11-29"}
	if ch, err := w.ApplyEvent(app, c.DeptCDPF, ok); err != nil || ch.Outcome != Applied || cert.State != c.TaskApproved {
		t.Fatalf("the applicant's certificate: %+v %v %s", ch, err, cert.State)
	}
}

// A dispatch's answer carrying a certificate that is not the applicant's
// is not taken (the event's rule), but kept on the timeline: there is no
// one to answer 422 to.
func TestCaseAnswerWithAnotherPersonsCertificate(t *testing.T) {
	w, app := newFlow(), mainCase()
	w.Plan(app)
	cert := app.Tasks[0]
	before := len(app.Timeline)
	ch, err := w.ApplyCase(app, cert.ID, &c.CaseResponse{CaseNo: "C9", Status: c.CaseApproved,
		Certificate: &c.Certificate{Number: "11010119900307451443", Category: 4, Grade: 3, ValidUntil: "2036-11-29"}})
	if err != nil || ch.Outcome != Stale || !ch.Noted || cert.State == c.TaskApproved || cert.Certificate != nil {
		t.Fatalf("%+v %v %s %+v", ch, err, cert.State, cert.Certificate)
	}
	if len(app.Timeline) != before+1 || app.Timeline[before].Kind != "stale_report" {
		t.Fatalf("timeline: %+v", app.Timeline[before:])
	}
}

// A dispatch's answer naming a case other than the one the department
// gave for the item (a second case for the same dispatch) is not taken:
// the item keeps its case and state, and the answer is kept on the
// timeline for the people who follow the case (an event naming that
// number is refused with 422, TestDepartmentEventsAgainstContractAndApplication).
func TestCaseAnswerWithAnotherCaseNumber(t *testing.T) {
	w, app := newFlow(), mainCase()
	w.Plan(app)
	cert := app.Tasks[0]
	if ch, err := w.ApplyCase(app, cert.ID, &c.CaseResponse{CaseNo: "C1", Status: c.CaseReceived}); err != nil || ch.Outcome != Applied {
		t.Fatalf("the first answer: %+v %v", ch, err)
	}
	state, before := cert.State, len(app.Timeline)
	ch, err := w.ApplyCase(app, cert.ID, &c.CaseResponse{CaseNo: "C2", Status: c.CaseRejected, Reason: &c.Message{ZH: "不符合", EN: "no"}})
	if err != nil || ch.Outcome != Stale || !ch.Noted || cert.CaseNo != "C1" || cert.State != state || cert.Reason != nil {
		t.Fatalf("%+v %v: case %s, %s, %+v", ch, err, cert.CaseNo, cert.State, cert.Reason)
	}
	if n := app.Timeline[len(app.Timeline)-1].Note; len(app.Timeline) != before+1 || app.Timeline[before].Kind != "stale_report" || n == nil ||
		!strings.Contains(n.ZH, "C1") || !strings.Contains(n.ZH, "C2") || !strings.Contains(n.EN, "C2") {
		t.Fatalf("timeline (the note names both numbers, for the clerk to check): %+v", app.Timeline[before:])
	}
	// The same case again is taken as before.
	if ch, err := w.ApplyCase(app, cert.ID, &c.CaseResponse{CaseNo: "C1", Status: c.CaseAccepted}); err != nil || ch.Outcome != Applied || cert.State != c.TaskAccepted {
		t.Fatalf("the item's own case: %+v %v %s", ch, err, cert.State)
	}
}
