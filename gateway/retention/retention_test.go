package retention_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	c "onething/contracts"
	"onething/gateway/retention"
	"onething/gateway/seal"
	"onething/gateway/store"
	"onething/gateway/store/redistest"
)

// The retention sweep on each backend: the same cases on bbolt and Redis.

var ctx = context.Background()

// backend opens a store for a case: the store, how to reopen it (a
// restart: the old one is closed) and a second client of the same data
// (another replica on Redis; the same store in the one process of bbolt).
type backend func(t *testing.T) (st store.Store, reopen func() store.Store, other func() store.Store)

func keyring(t *testing.T) *seal.Keyring {
	keys, err := seal.New(seal.DevConfig())
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func boltBackend(t *testing.T) (store.Store, func() store.Store, func() store.Store) {
	path, keys := filepath.Join(t.TempDir(), "onething.db"), keyring(t)
	open := func() *store.Bolt {
		st, err := store.OpenBolt(path, store.WithKeys(keys))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	cur := open()
	t.Cleanup(func() { cur.Close() })
	reopen := func() store.Store {
		if err := cur.Close(); err != nil {
			t.Fatal(err)
		}
		cur = open()
		return cur
	}
	return cur, reopen, func() store.Store { return cur }
}

func redisBackend(srv *redistest.Server) backend {
	return func(t *testing.T) (store.Store, func() store.Store, func() store.Store) {
		url, keys := srv.URL(), keyring(t)
		open := func() store.Store {
			st, err := store.OpenRedis(ctx, url, store.WithKeys(keys))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}
		cur := open()
		reopen := func() store.Store {
			cur.Close()
			cur = open()
			return cur
		}
		return cur, reopen, open
	}
}

func TestBoltRetention(t *testing.T) { runCases(t, boltBackend) }

func TestRedisRetention(t *testing.T) { runCases(t, redisBackend(redistest.Start(t))) }

func runCases(t *testing.T, open backend) {
	t.Run("past retention erased, trace kept; inside untouched", func(t *testing.T) { testErasePast(t, open) })
	t.Run("boundary by China civil date", func(t *testing.T) { testBoundary(t, open) })
	t.Run("never pushed waits 30 days more", func(t *testing.T) { testNeverPushed(t, open) })
	t.Run("erasure survives a restart", func(t *testing.T) { testRestart(t, open) })
	t.Run("two sweepers erase each once", func(t *testing.T) { testTwoSweepers(t, open) })
	t.Run("retention 0 erases nothing", func(t *testing.T) { testForever(t, open) })
	t.Run("audit trimmed past its retention", func(t *testing.T) { testAuditTrim(t, open) })
}

var cst = time.FixedZone("CST", 8*3600)

// china is a China time on a civil date.
func china(t *testing.T, day string, hour, min, sec int) time.Time {
	t.Helper()
	d, err := time.ParseInLocation("2006-01-02", day, cst)
	if err != nil {
		t.Fatal(err)
	}
	return d.Add(time.Duration(hour)*time.Hour + time.Duration(min)*time.Minute + time.Duration(sec)*time.Second)
}

// clock is the business clock a test moves.
type clock struct {
	mu sync.Mutex
	at time.Time
}

func (k *clock) Now() time.Time   { k.mu.Lock(); defer k.mu.Unlock(); return k.at }
func (k *clock) Set(at time.Time) { k.mu.Lock(); defer k.mu.Unlock(); k.at = at }

// idNumber is an applicant's ID number (made up, made here).
func idNumber(n int) string { return fmt.Sprintf("5117021980%07dX", n) }

var seq atomic.Int64

// final stores an application that became final at finished and whose
// last status push the portal took at pushed (nil: never), with a
// personal part that names nobody real. It returns its id and ID number.
func final(t *testing.T, st store.Store, finished time.Time, pushed *time.Time) (string, string) {
	t.Helper()
	n := int(seq.Add(1))
	id, num := fmt.Sprintf("A%04d", n), idNumber(n)
	app := &c.Application{ID: id, PortalRef: "ref-" + id, ReceivedAt: finished.Add(-72 * time.Hour), Version: 1,
		Applicant: c.Applicant{Name: "测试" + id, IDNumber: num, Mobile: "13800000000", HouseholdDivision: "511702102001",
			Address: c.Address{Detail: "某路" + id + "号"}},
		Tasks:  []*c.Task{{ID: id + "-1", Item: c.ItemMedicalSubsidy, Dept: c.DeptMedical, State: c.TaskReady}},
		Status: c.Status{State: c.AppProcessing}}
	if _, err := st.Create(ctx, app, []string{"ref:" + id}, nil); err != nil {
		t.Fatal(err)
	}
	err := st.Update(ctx, id, "", func(a *c.Application) ([]store.Job, error) {
		at := finished
		a.Tasks[0].State, a.Tasks[0].FinishedAt = c.TaskApproved, &at
		a.Status.State, a.Version, a.PushedVersion = c.AppCompleted, 2, 1
		if pushed != nil {
			p := *pushed
			a.PushedVersion, a.PushedAt = 2, &p
		}
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return id, num
}

// sweeper sweeps st with a retention of days on the clock, counting
// its erasures.
func sweeper(st store.Store, days int, clk *clock, erased *atomic.Int64) *retention.Sweeper {
	return &retention.Sweeper{Store: st, Retention: days, Now: clk.Now, Erased: func() {
		if erased != nil {
			erased.Add(1)
		}
	}}
}

func pass(t *testing.T, s *retention.Sweeper) retention.Result {
	t.Helper()
	res, err := s.Pass(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped {
		t.Fatal("the pass was skipped with no other sweep under way")
	}
	return res
}

func get(t *testing.T, st store.Store, id string) *c.Application {
	t.Helper()
	app, err := st.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// erasures counts the sweep's audit entries of erasure, per application.
func erasures(t *testing.T, st store.Store) map[string]int {
	t.Helper()
	out := map[string]int{}
	q := store.AuditQuery{Subject: retention.SubjectRetention, Limit: store.MaxAuditLimit}
	for {
		page, next, err := st.Audit(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			if e.Action == retention.ActionErase {
				out[e.ApplicationID]++
			}
		}
		if next == "" {
			return out
		}
		q.Cursor = next
	}
}

// checkErased: the personal part is gone, the trace is kept, a search
// by the ID number finds nothing, the list no longer holds it.
func checkErased(t *testing.T, st store.Store, id, num string, at time.Time) {
	t.Helper()
	app := get(t, st, id)
	if app.Erased == nil || app.Erased.Kind != c.ErasureRetention || app.Erased.By != retention.SubjectRetention || !app.Erased.At.Equal(at) {
		t.Fatalf("%s: erased = %+v, want by the sweep at %s", id, app.Erased, at)
	}
	if app.Applicant.Name != "" || app.Applicant.IDNumber != "" || app.Applicant.Mobile != "" || app.Applicant.Address.Detail != "" {
		t.Errorf("%s: the personal part is still there: %+v", id, app.Applicant)
	}
	if app.PortalRef != "ref-"+id || app.Applicant.HouseholdDivision != "511702102001" || app.Status.State != c.AppCompleted ||
		len(app.Tasks) != 1 || app.Tasks[0].State != c.TaskApproved || app.Tasks[0].FinishedAt == nil || app.Version != 2 {
		t.Errorf("%s: the trace is not kept: %+v", id, app)
	}
	if last := app.Timeline[len(app.Timeline)-1]; last.Kind != "erased" {
		t.Errorf("%s: the timeline ends with %q, want erased", id, last.Kind)
	}
	if ids, err := st.FindByIDNumber(ctx, num); err != nil || len(ids) != 0 {
		t.Errorf("%s: a search by the ID number finds %v (%v)", id, ids, err)
	}
	if inList(t, st, id) {
		t.Errorf("%s: still in the retention list", id)
	}
}

func checkKept(t *testing.T, st store.Store, id, num string) {
	t.Helper()
	app := get(t, st, id)
	if app.Erased != nil || app.Applicant.Name != "测试"+id || app.Applicant.IDNumber != num {
		t.Errorf("%s: touched: erased %+v, applicant %+v", id, app.Erased, app.Applicant)
	}
	if ids, err := st.FindByIDNumber(ctx, num); err != nil || len(ids) != 1 || ids[0] != id {
		t.Errorf("%s: a search by the ID number finds %v (%v)", id, ids, err)
	}
}

func inList(t *testing.T, st store.Store, id string) bool {
	t.Helper()
	entries, err := st.(store.Lister).ReadList(ctx, store.ListRead{List: store.ListRetention, Scope: store.ScopeAll, N: 10000})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.ID == id {
			return true
		}
	}
	return false
}

func ptr(t time.Time) *time.Time { return &t }

func testErasePast(t *testing.T, open backend) {
	st, _, _ := open(t)
	old := china(t, "2026-03-01", 10, 0, 0)
	oldID, oldNum := final(t, st, old, ptr(old))
	recent := china(t, "2026-08-01", 10, 0, 0)
	newID, newNum := final(t, st, recent, ptr(recent))

	now := china(t, "2026-09-01", 10, 0, 0) // cutoff 2026-03-05
	clk := &clock{at: now}
	var erased atomic.Int64
	res := pass(t, sweeper(st, 180, clk, &erased))
	if res.Erased != 1 || erased.Load() != 1 || res.Cutoff != "2026-03-05" {
		t.Fatalf("pass = %+v, %d counted", res, erased.Load())
	}
	checkErased(t, st, oldID, oldNum, now)
	checkKept(t, st, newID, newNum)

	// Audited, without personal data.
	if got := erasures(t, st); len(got) != 1 || got[oldID] != 1 {
		t.Errorf("erasure audit entries %v, want one for %s", got, oldID)
	}
	page, _, err := st.Audit(ctx, store.AuditQuery{ApplicationID: oldID})
	if err != nil || len(page) != 1 {
		t.Fatalf("audit of %s: %v, %v", oldID, page, err)
	}
	for _, v := range []string{page[0].Query, page[0].Reason, page[0].Route} {
		if strings.Contains(v, oldNum) || strings.Contains(v, "测试") {
			t.Errorf("personal data in the audit entry: %+v", page[0])
		}
	}

	// Again: nothing more.
	if res := pass(t, sweeper(st, 180, clk, &erased)); res.Erased != 0 {
		t.Errorf("second pass erased %d", res.Erased)
	}
	if got := erasures(t, st); got[oldID] != 1 || len(got) != 1 {
		t.Errorf("after a second pass: %v", got)
	}
}

// The retention counts by China civil date: a case pushed on a China day
// at 00:30 (the previous day in UTC), 07:59, 08:00 or 23:59 is erased
// from the first minute of that day plus the retention, China time, and
// not in its last second before.
func testBoundary(t *testing.T, open backend) {
	st, _, _ := open(t)
	const days = 10
	type made struct{ id, num string }
	var apps []made
	for _, hm := range [][2]int{{0, 30}, {7, 59}, {8, 0}, {23, 59}} {
		at := china(t, "2026-05-10", hm[0], hm[1], 0)
		id, num := final(t, st, at, ptr(at))
		apps = append(apps, made{id, num})
	}
	clk := &clock{}
	for _, before := range []time.Time{china(t, "2026-05-19", 0, 30, 0), china(t, "2026-05-19", 7, 59, 0),
		china(t, "2026-05-19", 8, 0, 0), china(t, "2026-05-19", 23, 59, 59)} {
		clk.Set(before)
		if res := pass(t, sweeper(st, days, clk, nil)); res.Erased != 0 {
			t.Fatalf("at %s: erased %d, want none (retention ends 2026-05-20 China)", before, res.Erased)
		}
	}
	for _, a := range apps {
		checkKept(t, st, a.id, a.num)
	}
	at := china(t, "2026-05-20", 0, 30, 0) // 2026-05-19 16:30 UTC
	clk.Set(at)
	if res := pass(t, sweeper(st, days, clk, nil)); res.Erased != len(apps) {
		t.Fatalf("at %s: erased %d, want %d", at, res.Erased, len(apps))
	}
	for _, a := range apps {
		checkErased(t, st, a.id, a.num, at)
	}
}

func testNeverPushed(t *testing.T, open backend) {
	st, _, _ := open(t)
	day := china(t, "2026-04-01", 9, 0, 0)
	pushedID, pushedNum := final(t, st, day, ptr(day))
	lostID, lostNum := final(t, st, day, nil)
	clk := &clock{}
	sw := sweeper(st, 30, clk, nil)

	clk.Set(china(t, "2026-05-01", 9, 0, 0)) // 30 days after the push
	pass(t, sw)
	checkErased(t, st, pushedID, pushedNum, clk.Now())
	checkKept(t, st, lostID, lostNum)

	clk.Set(china(t, "2026-05-30", 23, 59, 0)) // a day short of 30 more
	pass(t, sw)
	checkKept(t, st, lostID, lostNum)

	clk.Set(china(t, "2026-05-31", 0, 30, 0))
	pass(t, sw)
	checkErased(t, st, lostID, lostNum, clk.Now())
}

func testRestart(t *testing.T, open backend) {
	st, reopen, _ := open(t)
	day := china(t, "2026-01-10", 15, 0, 0)
	id, num := final(t, st, day, ptr(day))
	keptID, keptNum := final(t, st, day.AddDate(0, 0, 5), ptr(day.AddDate(0, 0, 5)))
	clk := &clock{at: china(t, "2026-02-10", 12, 0, 0)}
	if res := pass(t, sweeper(st, 30, clk, nil)); res.Erased != 1 {
		t.Fatalf("erased %d, want 1", res.Erased)
	}
	st = reopen()
	checkErased(t, st, id, num, clk.Now())
	checkKept(t, st, keptID, keptNum)
	if res := pass(t, sweeper(st, 30, clk, nil)); res.Erased != 0 {
		t.Errorf("after the restart erased %d again", res.Erased)
	}
	if got := erasures(t, st); len(got) != 1 || got[id] != 1 {
		t.Errorf("erasure audit entries %v", got)
	}
}

// Two sweepers at once (two replicas on Redis, two goroutines of the
// process on bbolt) erase each application once: one audit entry and one
// count each.
func testTwoSweepers(t *testing.T, open backend) {
	st, _, other := open(t)
	st2 := other()
	day := china(t, "2026-02-01", 11, 0, 0)
	ids := map[string]string{}
	for range 30 {
		id, num := final(t, st, day, ptr(day))
		ids[id] = num
	}
	clk := &clock{at: china(t, "2026-06-01", 11, 0, 0)}
	var erased atomic.Int64
	sweepers := []*retention.Sweeper{sweeper(st, 30, clk, &erased), sweeper(st2, 30, clk, &erased)}
	for _, s := range sweepers {
		s.Batch = 4
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*5)
	for _, s := range sweepers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				if _, err := s.Pass(ctx); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// A pass skipped for the other's leaves nothing behind.
	pass(t, sweepers[0])
	if erased.Load() != int64(len(ids)) {
		t.Errorf("%d erasures counted, want %d", erased.Load(), len(ids))
	}
	got := erasures(t, st)
	for id, num := range ids {
		if got[id] != 1 {
			t.Errorf("%s: %d erasure audit entries, want 1", id, got[id])
		}
		checkErased(t, st, id, num, clk.Now())
	}
}

func testForever(t *testing.T, open backend) {
	st, _, _ := open(t)
	day := china(t, "2020-01-01", 9, 0, 0)
	id, num := final(t, st, day, ptr(day))
	clk := &clock{at: china(t, "2030-01-01", 9, 0, 0)}
	if res := pass(t, sweeper(st, 0, clk, nil)); res.Erased != 0 {
		t.Errorf("retention 0 erased %d", res.Erased)
	}
	checkKept(t, st, id, num)
	if got := erasures(t, st); len(got) != 0 {
		t.Errorf("retention 0 audited erasures %v", got)
	}
}

// The audit log keeps what is inside its retention and loses what is
// older, the trim itself audited; 0 keeps everything.
func testAuditTrim(t *testing.T, open backend) {
	st, _, _ := open(t)
	entry := func(subject string) c.AuditEntry {
		e, err := st.AppendAudit(ctx, c.AuditEntry{Subject: subject, Role: "admin", Action: "application.read", Method: "GET", Route: "/v1/x"})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	old := entry("token:old")
	var keep c.AuditEntry
	for keep = entry("token:new"); !keep.At.After(old.At); keep = entry("token:new") {
		// The store's clock has not moved on a millisecond yet.
	}
	subjects := func() map[string]int {
		page, _, err := st.Audit(ctx, store.AuditQuery{Limit: store.MaxAuditLimit})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for _, e := range page {
			out[e.Subject+" "+e.Action]++
		}
		return out
	}
	const year = 365 * 24 * time.Hour
	auditNow := func() time.Time { return keep.At.Add(year) }
	forever := &retention.Sweeper{Store: st, AuditNow: auditNow}
	pass(t, forever)
	if got := subjects(); got["token:old application.read"] != 1 {
		t.Fatalf("audit retention 0 trimmed: %v", got)
	}

	page, _, err := st.Audit(ctx, store.AuditQuery{Limit: store.MaxAuditLimit})
	if err != nil {
		t.Fatal(err)
	}
	older := 0 // the old entry, and new ones of its millisecond
	for _, e := range page {
		if e.At.Before(keep.At) {
			older++
		}
	}
	sw := &retention.Sweeper{Store: st, AuditRetention: year, AuditNow: auditNow}
	res := pass(t, sw)
	got := subjects()
	if got["token:old application.read"] != 0 || got["token:new application.read"] == 0 || res.AuditTrimmed != older {
		t.Errorf("after the trim (%d, want %d): %v, want the old entry gone and the new kept", res.AuditTrimmed, older, got)
	}
	if page, _, err := st.Audit(ctx, store.AuditQuery{Limit: store.MaxAuditLimit}); err != nil || page[len(page)-1].ID != keep.ID {
		t.Errorf("the oldest entry left is not the first one inside the retention: %v", err)
	}
	if got[retention.SubjectRetention+" "+retention.ActionTrimAudit] != 1 {
		t.Errorf("the trim is not audited: %v", got)
	}
	// Nothing older left: no trim, no entry.
	pass(t, sw)
	if got := subjects(); got[retention.SubjectRetention+" "+retention.ActionTrimAudit] != 1 {
		t.Errorf("a trim with nothing to trim was audited: %v", got)
	}
}
