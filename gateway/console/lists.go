package console

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	c "onething/contracts"
	"onething/gateway/auth"
	"onething/gateway/calendar"
	"onething/gateway/engine"
	"onething/gateway/store"
)

// The console reads cases through the store's lists (store.Lister): a
// page is one range read per scope of the person, never a walk through
// every application.

const (
	// pageSize is how many cases one page of the list shows.
	pageSize = 50
	// readBudget bounds the records one page of a filtered list may read:
	// past it the page ends with a link to go on searching older cases.
	readBudget = 500
	// listBatch is how many entries one read of a list takes.
	listBatch = 100
	// dueSoonDays: a case due within this many working days is on the
	// to-do list (and past its due date, of course).
	dueSoonDays = 3
)

// scopesOf are the list scopes a person reads: everything for operators
// and the province office, else their towns, counties or cities, each
// once (a scope inside another of theirs is left out: it would list its
// cases twice).
func scopesOf(p *auth.Principal) []string {
	if p.Role == auth.RoleAdmin || p.AllTowns() {
		return []string{store.ScopeAll}
	}
	var out []string
	for _, s := range p.Towns {
		if !auth.ValidTown(s) || slices.Contains(out, s) {
			continue
		}
		covered := false
		for _, o := range p.Towns {
			covered = covered || (o != s && auth.ValidTown(o) && strings.HasPrefix(s, o))
		}
		if !covered {
			out = append(out, s)
		}
	}
	return out
}

// merged reads one list in several scopes as one, in the list's order
// (the scopes are disjoint, so no entry comes twice).
type merged struct {
	ctx   context.Context
	l     store.Lister
	q     store.ListRead
	heads []*scopeReader
}

type scopeReader struct {
	scope string
	buf   []store.ListEntry
	after string
	done  bool
}

func newMerged(ctx context.Context, l store.Lister, q store.ListRead, scopes []string) *merged {
	m := &merged{ctx: ctx, l: l, q: q}
	for _, s := range scopes {
		m.heads = append(m.heads, &scopeReader{scope: s, after: q.After})
	}
	return m
}

// next is the list's next entry (ok false at its end).
func (m *merged) next() (e store.ListEntry, ok bool, err error) {
	var best *scopeReader
	for _, h := range m.heads {
		if len(h.buf) == 0 && !h.done {
			q := m.q
			q.Scope, q.After, q.N = h.scope, h.after, listBatch
			if h.buf, err = m.l.ReadList(m.ctx, q); err != nil {
				return e, false, err
			}
			h.done = len(h.buf) < listBatch
			if len(h.buf) > 0 {
				h.after = h.buf[len(h.buf)-1].Cursor()
			}
		}
		if len(h.buf) == 0 {
			continue
		}
		if best == nil || (m.q.Desc == (h.buf[0].Cursor() > best.buf[0].Cursor())) {
			best = h
		}
	}
	if best == nil {
		return e, false, nil
	}
	e, best.buf = best.buf[0], best.buf[1:]
	return e, true, nil
}

// source yields the candidate cases of a page in order.
type source interface {
	next() (store.ListEntry, bool, error)
}

// found is a fixed set of cases (a search by id, portal reference or ID
// number), newest first, after a cursor.
type found struct{ entries []store.ListEntry }

func (f *found) next() (store.ListEntry, bool, error) {
	if len(f.entries) == 0 {
		return store.ListEntry{}, false, nil
	}
	e := f.entries[0]
	f.entries = f.entries[1:]
	return e, true, nil
}

// collect reads a page: up to n cases of src that the person sees and
// keep accepts, reading at most budget records (0: no bound). next is
// the cursor to go on from ("" at the end of the list); exhausted says
// the budget ran out before the page was full.
func (k *Console) collect(ctx context.Context, p *auth.Principal, src source, n, budget int, keep func(*c.Application) bool) (apps []*c.Application, next string, exhausted bool, err error) {
	read := 0
	for {
		e, ok, err := src.next()
		if err != nil || !ok {
			return apps, "", false, err
		}
		if len(apps) == n || (budget > 0 && read == budget) {
			// Another entry is there: the page ends before it.
			return apps, next, len(apps) < n, nil
		}
		read++
		next = e.Cursor()
		app, err := k.cfg.Engine.Store.Get(ctx, e.ID)
		if errors.Is(err, engine.ErrNotFound) || errors.Is(err, store.ErrUnreadable) {
			continue // erased, or listed for operators
		}
		if err != nil {
			return nil, "", false, err
		}
		k.cfg.Engine.Flow.Recompute(app)
		if sees(p, app) && keep(app) {
			apps = append(apps, app)
		}
	}
}

// dueLimit is the last due date on the to-do list: dueSoonDays working
// days after the China business today (the day itself on a calendar
// that does not cover it).
func (k *Console) dueLimit() string {
	now := k.cfg.Engine.Flow.Now()
	if k.cfg.Calendar != nil {
		if d, err := k.cfg.Calendar.AddWorkingDays(now, dueSoonDays); err == nil {
			return d.In(calendar.Zone).Format(time.DateOnly)
		}
	}
	return k.cfg.Engine.Flow.Today().String()
}

// todoCount is the navigation bar's count: cases waiting for the
// applicant's supplement and cases due soon or overdue, two range counts
// per scope, no record read (-1: no lists, or the store did not answer).
func (k *Console) todoCount(ctx context.Context, p *auth.Principal) int {
	if k.cfg.Lists == nil {
		return -1
	}
	limit := store.UpTo(k.dueLimit())
	total := 0
	for _, s := range scopesOf(p) {
		supp, err := k.cfg.Lists.CountList(ctx, store.ListSupplement, s, "")
		if err != nil {
			return -1
		}
		due, err := k.cfg.Lists.CountList(ctx, store.ListDue, s, limit)
		if err != nil {
			return -1
		}
		total += supp + due
	}
	dead, err := k.deadLettersOf(ctx, p)
	if err != nil {
		return -1
	}
	return total + len(dead)
}

// seenDeadLetter is a dead letter of a case the person sees, with its case.
type seenDeadLetter struct {
	c.DeadLetter
	app *c.Application
}

// deadLettersOf are the dead letters of the cases the person sees. Dead
// letters are few (an operator clears them): each one's case is read to
// keep those of other towns out.
func (k *Console) deadLettersOf(ctx context.Context, p *auth.Principal) ([]seenDeadLetter, error) {
	dead, err := k.cfg.Engine.DeadLetters(ctx, "")
	if err != nil {
		return nil, err
	}
	var out []seenDeadLetter
	for _, d := range dead {
		app, err := k.cfg.Engine.Store.Get(ctx, d.ApplicationID)
		if err != nil || !sees(p, app) {
			continue
		}
		out = append(out, seenDeadLetter{d, app})
	}
	return out, nil
}

// todoRow is a case on the to-do list.
type todoRow struct {
	row
	// Left is the working days left to the due date ("" past it or not
	// counted), Late says it is past. Estimate: the date is the whole
	// case's estimate (no department has set a legal due date yet), so a
	// date past is not an overdue item (the case page and the API say
	// overdue only of a legal due date) but the estimate passed.
	Left     string
	Late     bool
	Estimate bool
}

// deadRow is a dead letter of one of the person's cases.
type deadRow struct {
	c.DeadLetter
	ItemName, DeptName, Town string
}

// todo is the clerk's to-do list, their towns only (operators: all):
// cases waiting for the applicant's supplement (call them), cases due
// within dueSoonDays working days or past, and the dead letters of their
// cases. Each section is one range read per scope, at most a page.
func (k *Console) todo(w http.ResponseWriter, r *http.Request, req *request) {
	ctx := r.Context()
	p := k.base(r, req, "待办")
	var supp, due []*c.Application
	var err error
	if k.cfg.Lists != nil {
		scopes := scopesOf(req.p)
		supp, _, _, err = k.collect(ctx, req.p, newMerged(ctx, k.cfg.Lists, store.ListRead{List: store.ListSupplement, Desc: true}, scopes), pageSize, 0,
			func(app *c.Application) bool { return app.Status.State == c.AppSupplementRequired })
		if err == nil {
			limit := k.dueLimit()
			due, _, _, err = k.collect(ctx, req.p, newMerged(ctx, k.cfg.Lists, store.ListRead{List: store.ListDue, Before: store.UpTo(limit)}, scopes), pageSize, 0,
				func(app *c.Application) bool { d := store.DueOf(app); return d != "" && d <= limit })
		}
	}
	var dead []seenDeadLetter
	if err == nil {
		dead, err = k.deadLettersOf(ctx, req.p)
	}
	if err != nil {
		k.cfg.Log.Error("console to-do", "err", err)
		k.failPage(w, r, req, http.StatusServiceUnavailable, "暂时无法查询，请稍后重试", "cannot list cases now; retry later")
		return
	}
	data := struct {
		page
		Supplements, Due []todoRow
		DeadLetters      []deadRow
		DueDays          int
	}{page: p, DueDays: dueSoonDays}
	for _, app := range supp {
		data.Supplements = append(data.Supplements, todoRow{row: caseRow(p, app)})
	}
	now := k.cfg.Engine.Flow.Now()
	today := k.cfg.Engine.Flow.Today().String()
	for _, app := range due {
		due := store.DueOf(app)
		t := todoRow{row: caseRow(p, app), Late: due < today, Estimate: app.Status.NextDue == ""}
		if d, err := time.ParseInLocation(time.DateOnly, due, calendar.Zone); err == nil && !t.Late && k.cfg.Calendar != nil {
			if n, err := k.cfg.Calendar.WorkingDaysBetween(now, d); err == nil {
				t.Left = strconv.Itoa(n)
			}
		}
		data.Due = append(data.Due, t)
	}
	for _, d := range dead {
		county := ""
		for _, t := range d.app.Tasks {
			if t.ID == d.TaskID {
				county = t.County
			}
		}
		data.DeadLetters = append(data.DeadLetters, deadRow{DeadLetter: d.DeadLetter, ItemName: p.M(c.Items[d.Item].Name), DeptName: p.M(c.DeptName(d.Dept, county)),
			Town: townName(d.app.Applicant.HouseholdDivision)})
	}
	k.render(w, http.StatusOK, "todo", data)
}
