package devstack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"onething/civil"
	c "onething/contracts"
	"onething/contracts/contracttest"
	"onething/gateway/calendar"
	"onething/gateway/devstack"
	"onething/gateway/rules"
	"onething/gateway/store"
)

// movableClock is a business clock a test sets to any instant.
type movableClock struct {
	mu sync.Mutex
	at time.Time
}

func (m *movableClock) Now() time.Time  { m.mu.Lock(); defer m.mu.Unlock(); return m.at }
func (m *movableClock) Set(t time.Time) { m.mu.Lock(); m.at = t; m.mu.Unlock() }

// dateRig is one chain on a business clock the test moves, with a
// submission helper that reports the status and the reply.
type dateRig struct {
	t     *testing.T
	st    *devstack.Stack
	clock *movableClock
	seq   atomic.Int64
}

func newDateRig(t *testing.T) *dateRig { return newDateRigDelay(t, 10*time.Millisecond) }

// newDateRigDelay is newDateRig with the mocks' delay between events.
func newDateRigDelay(t *testing.T, delay time.Duration) *dateRig {
	clk := &movableClock{at: time.Now()}
	st, err := devstack.Start(devstack.Options{Dir: t.TempDir(), Delay: delay, Clock: clk,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Stop() })
	return &dateRig{t: t, st: st, clock: clk}
}

// person is a Tongchuan 低保 recipient born on birth holding a grade-2
// physical certificate valid from..until, asking for what req says.
func (r *dateRig) submission(birth, validFrom, validUntil civil.Date, guardian bool, req c.Requests) c.Submission {
	n := int(r.seq.Add(1))
	id := contracttest.IDNumber("511702", birth, n*2+1)
	a := c.Applicant{Name: "李明", IDNumber: id, BirthDate: birth.String(), Ethnicity: "汉族", Mobile: "13881800000",
		Address:       c.Address{Province: "四川省", City: "达州市", County: "通川区", Town: "罗江镇", Village: "龙潭村", DivisionCode: "511702102"},
		HouseholdType: c.HouseholdAgricultural, HouseholdDivision: "511702102", Dibao: true,
		Certificate: &c.Certificate{Number: id + "42", Category: 4, Grade: 2, IssuedOn: validFrom.String(), ValidFrom: validFrom.String(), ValidUntil: validUntil.String()}}
	if guardian {
		a.Guardian = &c.Guardian{Name: "李华", Relation: "父亲", Phone: "13881800001"}
	}
	return c.Submission{PortalRef: "DATES-" + strconv.Itoa(n), Channel: c.ChannelOffline, SubmittedAt: r.clock.Now(),
		Applicant: a, Requests: req, Delivery: c.Delivery{Method: "pickup"}}
}

// submit posts sub at the instant at (China time) and returns the status
// code and the reply's items by item code.
func (r *dateRig) submit(at time.Time, sub c.Submission) (int, map[c.ItemCode]c.TaskBrief, []byte) {
	r.t.Helper()
	r.clock.Set(at)
	sub.SubmittedAt = at
	body, _ := json.Marshal(sub)
	resp, err := devstack.PostSigned(r.st.GatewayURL+"/v1/portal/submissions", r.st.PortalSecret, fmt.Sprintf("msg_dates_%d_%d", at.UnixNano(), r.seq.Add(1)), body)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var acc c.SubmissionAccepted
	json.Unmarshal(b, &acc)
	items := map[c.ItemCode]c.TaskBrief{}
	for _, it := range acc.Items {
		items[it.Item] = it
	}
	return resp.StatusCode, items, b
}

var (
	subsidies = c.Requests{TwoSubsidies: &c.TwoSubsidiesRequest{}}
	renewal   = c.Requests{Certificate: &c.CertificateRequest{Business: c.ItemCertRenew, SubKind: "expiry"}}
)

// checkDay runs every date rule at one instant of the China day `day`:
// the last day of a validity, the first day a renewal opens, a birth date
// of today, an 18th birthday; each with its neighbour on the wrong side.
func (r *dateRig) checkDay(at time.Time, day civil.Date) {
	t := r.t
	t.Helper()
	adult := day.Anniversary(-40)
	long := day.Anniversary(-5)
	label := civil.Format(at)

	// Validity: through the whole of validUntil, not a day after.
	_, items, b := r.submit(at, r.submission(adult, long, day, false, subsidies))
	if it := items[c.ItemSubsidyLiving]; it.State == c.TaskRejected {
		t.Errorf("%s: certificate valid until today (%s) refused as expired: %s", label, day, b)
	}
	_, items, b = r.submit(at, r.submission(adult, long, day.AddDays(-1), false, subsidies))
	if it := items[c.ItemSubsidyLiving]; it.State != c.TaskRejected || it.Reason == nil || *it.Reason != *rules.MsgCertExpired {
		t.Errorf("%s: certificate valid until yesterday (%s) not refused as expired: %s", label, day.AddDays(-1), b)
	}

	// Renewal on expiry: from the day nine years after validFrom.
	_, items, b = r.submit(at, r.submission(adult, day.Anniversary(-9), day.Anniversary(1).AddDays(-1), false, renewal))
	if it := items[c.ItemCertRenew]; it.State == c.TaskRejected {
		t.Errorf("%s: renewal on its first allowed day refused: %s", label, b)
	}
	_, items, b = r.submit(at, r.submission(adult, day.AddDays(1).Anniversary(-9), day.AddDays(1).Anniversary(1), false, renewal))
	if it := items[c.ItemCertRenew]; it.State != c.TaskRejected {
		t.Errorf("%s: renewal the day before it opens accepted: %s", label, b)
	}

	// A birth date of today is possible; tomorrow's is not.
	if code, _, b := r.submit(at, r.submission(day, day, day.Anniversary(10), true, subsidies)); code != http.StatusAccepted {
		t.Errorf("%s: an ID born today (%s) refused: %d %s", label, day, code, b)
	}
	if code, _, b := r.submit(at, r.submission(day.AddDays(1), day, day.Anniversary(10), true, subsidies)); code != http.StatusUnprocessableEntity {
		t.Errorf("%s: an ID born tomorrow accepted: %d %s", label, code, b)
	}

	// 18 from the day of the 18th birthday: no guardian needed that day,
	// one needed the day before.
	if code, _, b := r.submit(at, r.submission(day.Anniversary(-18), long, day.Anniversary(5), false, subsidies)); code != http.StatusAccepted {
		t.Errorf("%s: on the 18th birthday a guardian was still required: %d %s", label, code, b)
	}
	if code, _, b := r.submit(at, r.submission(day.AddDays(1).Anniversary(-18), long, day.Anniversary(5), false, subsidies)); code != http.StatusUnprocessableEntity {
		t.Errorf("%s: the day before the 18th birthday no guardian was required: %d %s", label, code, b)
	}
}

// chinaInstant is the instant hh:mm:ss of day in China.
func chinaInstant(day civil.Date, hms string) time.Time {
	at, err := time.ParseInLocation("2006-01-02 15:04:05", day.String()+" "+hms, civil.Zone)
	if err != nil {
		panic(err)
	}
	return at
}

// The rules decide on the China date at every hour of it: before 08:00
// China time (the UTC date is still yesterday) as after.
func TestDateRulesAtEveryHourOfTheChinaDay(t *testing.T) {
	r := newDateRig(t)
	for _, day := range []civil.Date{civil.MustParse("2026-12-05"), civil.MustParse("2027-01-01")} {
		for _, hms := range []string{"00:00:01", "07:59:59", "08:00:00", "23:59:59"} {
			r.checkDay(chinaInstant(day, hms), day)
		}
	}
}

// Someone born on 29 February is 18 on 28 February of a common year, and
// a certificate valid from 29 February opens for renewal on 28 February.
func TestTwentyNinthOfFebruary(t *testing.T) {
	r := newDateRig(t)
	leapling := civil.MustParse("2008-02-29")
	long := civil.MustParse("2020-01-01")
	for _, hms := range []string{"00:00:01", "07:59:59", "23:59:59"} {
		at := chinaInstant(civil.MustParse("2026-02-28"), hms)
		if code, _, b := r.submit(at, r.submission(leapling, long, civil.MustParse("2030-01-01"), false, subsidies)); code != http.StatusAccepted {
			t.Errorf("%s: born 2008-02-29, 18 on 2026-02-28, yet a guardian was required: %d %s", civil.Format(at), code, b)
		}
		before := chinaInstant(civil.MustParse("2026-02-27"), hms)
		if code, _, b := r.submit(before, r.submission(leapling, long, civil.MustParse("2030-01-01"), false, subsidies)); code != http.StatusUnprocessableEntity {
			t.Errorf("%s: born 2008-02-29, still 17, yet no guardian was required: %d %s", civil.Format(before), code, b)
		}
		from := civil.MustParse("2016-02-29")
		if _, items, b := r.submit(at, r.submission(civil.MustParse("1970-01-01"), from, civil.MustParse("2026-02-27").Anniversary(0), false, renewal)); items[c.ItemCertRenew].State == c.TaskRejected {
			t.Errorf("%s: valid from 2016-02-29, renewal opens on 2025-02-28; refused: %s", civil.Format(at), b)
		}
	}
}

// Property: at random instants of random days, every date rule answers
// for that instant's China date. ONETHING_DATE_SEED reproduces a run.
func TestDateRulesAtRandomInstants(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("ONETHING_DATE_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("ONETHING_DATE_SEED=%d", seed)
	rng := rand.New(rand.NewPCG(seed, 15))
	r := newDateRig(t)
	from := chinaInstant(civil.MustParse("2026-01-01"), "00:00:00")
	for range 6 {
		at := from.Add(time.Duration(rng.Int64N(int64(2 * 365 * 24 * time.Hour))))
		r.checkDay(at, civil.Of(at))
	}
}

// An ID number ending in a lower-case x is the same person's: accepted and
// stored as X (portals and card readers send both).
func TestLowercaseXIsAccepted(t *testing.T) {
	r := newDateRig(t)
	at := chinaInstant(civil.MustParse("2026-12-05"), "07:43:00")
	sub := r.submission(civil.MustParse("1972-08-14"), civil.MustParse("2020-01-01"), civil.MustParse("2029-12-31"), false, subsidies)
	for seq := 1; ; seq++ {
		id := contracttest.IDNumber("511702", civil.MustParse("1972-08-14"), seq)
		if id[17] == 'X' {
			lower := id[:17] + "x"
			sub.Applicant.IDNumber, sub.Applicant.Certificate.Number = lower, lower+"42"
			break
		}
	}
	code, _, b := r.submit(at, sub)
	if code != http.StatusAccepted {
		t.Fatalf("an ID number ending in x refused: %d %s", code, b)
	}
	var acc c.SubmissionAccepted
	json.Unmarshal(b, &acc)
	app, err := r.st.Service.Store.Get(t.Context(), acc.ApplicationID)
	if err != nil {
		t.Fatal(err)
	}
	if want := sub.Applicant.IDNumber[:17] + "X"; app.Applicant.IDNumber != want || app.Applicant.Certificate.Number != want+"42" {
		t.Fatalf("stored as %s / %s, want %s", app.Applicant.IDNumber, app.Applicant.Certificate.Number, want)
	}
}

// A due date past the published schedule is provisional; when the
// operator loads that year, every open case is recounted, stored and
// pushed to the portal with the published date.
func TestProvisionalDueDatesRecountedWhenTheYearIsLoaded(t *testing.T) {
	r := newDateRigDelay(t, 5*time.Second) // civil takes its time: the case stays open
	at := chinaInstant(civil.MustParse("2027-12-01"), "09:00:00")
	// An expiry renewal: cdpf takes it, the whole case's 45 working days
	// reach into 2028, which the built-in data does not have.
	sub := r.submission(civil.MustParse("1972-08-14"), civil.MustParse("2018-11-01"), civil.MustParse("2028-10-31"), false, subsidies)
	code, _, b := r.submit(at, sub)
	if code != http.StatusAccepted {
		t.Fatalf("%d %s", code, b)
	}
	var acc c.SubmissionAccepted
	json.Unmarshal(b, &acc)
	// Wait until hrss granted the pension: its due date, counted from that
	// acceptance, reaches into 2028 too.
	var before c.ApplicationView
	for until := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		before = r.view(acc.ApplicationID)
		if item(before, c.ItemPensionSubsidy) != nil && item(before, c.ItemPensionSubsidy).State == c.TaskApproved {
			break
		}
		if time.Now().After(until) {
			t.Fatalf("the pension was not granted: %+v", before.Items)
		}
	}
	if !before.Status.Provisional || before.Status.DueDate < "2028-01-01" {
		t.Fatalf("whole due date %s provisional %v: want a provisional date in 2028", before.Status.DueDate, before.Status.Provisional)
	}

	// The operator loads 2028 (a schedule with a long Spring Festival that
	// the statutory rule cannot know) and restarts.
	file := filepath.Join(t.TempDir(), "holidays.json")
	var data map[string]any
	if err := json.Unmarshal(calendar.Embedded(), &data); err != nil {
		t.Fatal(err)
	}
	data["years"].(map[string]any)["2028"] = map[string]any{"source": "test", "work": []string{"2028-02-05"},
		"off": []map[string]string{{"from": "2028-01-01", "to": "2028-01-03"}, {"from": "2028-01-25", "to": "2028-02-02"},
			{"from": "2028-04-04", "to": "2028-04-04"}, {"from": "2028-05-01", "to": "2028-05-05"}, {"from": "2028-05-28", "to": "2028-05-28"},
			{"from": "2028-10-01", "to": "2028-10-07"}}}
	raw, _ := json.Marshal(data)
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := r.st.StopGateway(); err != nil {
		t.Fatal(err)
	}
	r.st.Config.CalendarFile = file
	if err := r.st.RestartGateway(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.st.Service.Scan(t.Context()); err != nil {
		t.Fatal(err)
	}
	app, err := r.st.Service.Store.Get(t.Context(), acc.ApplicationID)
	if err != nil {
		t.Fatal(err)
	}
	if app.Status.Provisional || app.Status.DueDate == before.Status.DueDate || app.Version <= before.Version {
		t.Fatalf("stored after loading 2028: due %s provisional %v version %d (before: %s, version %d)",
			app.Status.DueDate, app.Status.Provisional, app.Version, before.Status.DueDate, before.Version)
	}
	wasProvisional := 0
	for _, it := range before.Items {
		if it.Provisional {
			wasProvisional++
		}
	}
	for _, it := range r.view(acc.ApplicationID).Items {
		if it.Provisional {
			t.Errorf("%s (%s) still shows a provisional due date %s after 2028 was loaded", it.Item, it.State, it.DueDate)
		}
	}
	if wasProvisional == 0 {
		t.Errorf("no item had a provisional due date before: the test shows nothing about items")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if p, ok := r.st.Portal.Latest(acc.ApplicationID); ok && p.Version >= app.Version && p.Status.DueDate == app.Status.DueDate && !p.Status.Provisional {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the portal was not told the recounted due date %s", app.Status.DueDate)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *dateRig) view(id string) c.ApplicationView {
	r.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, r.st.GatewayURL+"/v1/applications/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+r.st.ReadToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var v c.ApplicationView
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != http.StatusOK {
		r.t.Fatalf("view: %d %v", resp.StatusCode, err)
	}
	return v
}

// The portal's taking of a case's last push is stamped by the business
// clock, as the case's other times are: the retention counts from that
// China day (under dev --now a date in the past too), not from the
// server's.
func TestPushDeliveredOnTheBusinessClock(t *testing.T) {
	r := newDateRig(t)
	day := civil.MustParse("2026-06-01")
	code, _, b := r.submit(chinaInstant(day, "07:30:00"), r.submission(civil.MustParse("1980-05-05"), civil.MustParse("2020-01-01"), civil.MustParse("2030-01-01"), false, subsidies))
	if code != http.StatusAccepted {
		t.Fatalf("submission: %d %s", code, b)
	}
	var acc c.SubmissionAccepted
	if err := json.Unmarshal(b, &acc); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		app, err := r.st.Service.Store.Get(context.Background(), acc.ApplicationID)
		if err == nil && (app.Status.State == c.AppCompleted || app.Status.State == c.AppWithdrawn) && app.PushedVersion >= app.Version && app.PushedAt != nil {
			if got := civil.Of(*app.PushedAt); got != day {
				t.Errorf("the last push was taken on %s (%s), want the business day %s", got, app.PushedAt, day)
			}
			if got := store.RetentionStart(app); got != day.String() {
				t.Errorf("the retention starts on %q, want %s", got, day)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the case was not final and pushed within 30s: %+v %v", app, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
