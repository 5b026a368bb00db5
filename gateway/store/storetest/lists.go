package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	c "onething/contracts"
	"onething/gateway/store"
)

// ListApp is an application of a household division, received at a time,
// open (processing) with a next due date.
func ListApp(id, division string, received time.Time, due string) *c.Application {
	a := app(id)
	a.ReceivedAt = received
	a.Applicant.HouseholdDivision = division
	a.Status = c.Status{State: c.AppProcessing, NextDue: due}
	return a
}

// ReadAll reads a whole list through pages of n, and fails the test if a
// page is longer than n.
func ReadAll(t *testing.T, l store.Lister, q store.ListRead) []string {
	t.Helper()
	var ids []string
	for range 1000 {
		page, err := l.ReadList(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > q.N {
			t.Fatalf("a page of %d entries, asked for %d", len(page), q.N)
		}
		for _, e := range page {
			ids = append(ids, e.ID)
		}
		if len(page) < q.N {
			return ids
		}
		q.After = page[len(page)-1].Cursor()
	}
	t.Fatal("the list does not end")
	return nil
}

const (
	townA = "511702102001" // a village of 罗江镇 (511702102)
	townB = "511702103001" // another town of the county
)

// testLists: every application is in its scopes' received list, newest
// first and paged by cursor; an open case is in the due list by its next
// due date, one waiting for the applicant in the supplement list; a
// final case leaves both.
func testLists(t *testing.T, s store.Store) {
	l, ok := s.(store.Lister)
	if !ok {
		t.Fatalf("%T is not a store.Lister", s)
	}
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var wantA []string
	for i := range 7 {
		id := fmt.Sprintf("A%d", i)
		division := townA
		if i%3 == 2 {
			division = townB
		} else {
			wantA = append([]string{id}, wantA...) // newest first
		}
		if _, err := s.Create(ctx, ListApp(id, division, t0.Add(time.Duration(i)*time.Hour), fmt.Sprintf("2026-04-%02d", 10+i)), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	got := ReadAll(t, l, store.ListRead{List: store.ListReceived, Scope: townA[:9], Desc: true, N: 2})
	if !slices.Equal(got, wantA) {
		t.Errorf("town %s newest first in pages of 2: %v, want %v", townA[:9], got, wantA)
	}
	for _, scope := range []string{store.ScopeAll, "5117", "511702"} {
		if got := ReadAll(t, l, store.ListRead{List: store.ListReceived, Scope: scope, Desc: true, N: 3}); len(got) != 7 || got[0] != "A6" || got[6] != "A0" {
			t.Errorf("scope %s: %v, want A6 … A0", scope, got)
		}
	}
	if got := ReadAll(t, l, store.ListRead{List: store.ListReceived, Scope: "511702104", Desc: true, N: 3}); len(got) != 0 {
		t.Errorf("a town without cases lists %v", got)
	}
	count := func(list, scope, before string) int {
		t.Helper()
		n, err := l.CountList(ctx, list, scope, before)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Due 2026-04-10 … 04-16; up to 04-12: A0, A1, A2 (A2 in town B).
	if n := count(store.ListDue, townA[:9], store.UpTo("2026-04-12")); n != 2 {
		t.Errorf("town A due by 04-12: %d, want 2 (A0, A1)", n)
	}
	if n := count(store.ListDue, store.ScopeAll, store.UpTo("2026-04-12")); n != 3 {
		t.Errorf("all due by 04-12: %d, want 3", n)
	}
	due := ReadAll(t, l, store.ListRead{List: store.ListDue, Scope: "511702", Before: store.UpTo("2026-04-13"), N: 2})
	if !slices.Equal(due, []string{"A0", "A1", "A2", "A3"}) {
		t.Errorf("county due by 04-13, earliest first: %v", due)
	}

	// A0 waits for the applicant: in the supplement list; its due date moves.
	set := func(id string, f func(a *c.Application)) {
		t.Helper()
		if err := s.Update(ctx, id, "", func(a *c.Application) ([]store.Job, error) { f(a); return nil, nil }); err != nil {
			t.Fatal(err)
		}
	}
	set("A0", func(a *c.Application) { a.Status.State, a.Status.NextDue = c.AppSupplementRequired, "2026-05-01" })
	if got := ReadAll(t, l, store.ListRead{List: store.ListSupplement, Scope: townA[:9], Desc: true, N: 5}); !slices.Equal(got, []string{"A0"}) {
		t.Errorf("supplement list of town A: %v, want [A0]", got)
	}
	if n := count(store.ListDue, townA[:9], store.UpTo("2026-04-12")); n != 1 {
		t.Errorf("town A due by 04-12 after A0's due date moved: %d, want 1", n)
	}
	if n := count(store.ListDue, townA[:9], ""); n != 5 {
		t.Errorf("town A open cases: %d, want 5 (the old entry of A0 removed)", n)
	}
	// The supplement comes; then A0 and A1 are final: out of the to-do lists.
	set("A0", func(a *c.Application) { a.Status.State = c.AppProcessing })
	if n := count(store.ListSupplement, store.ScopeAll, ""); n != 0 {
		t.Errorf("supplement list after the supplement came: %d, want 0", n)
	}
	set("A0", func(a *c.Application) { a.Status = c.Status{State: c.AppCompleted} })
	set("A1", func(a *c.Application) { a.Status.State = c.AppWithdrawn })
	if n := count(store.ListDue, townA[:9], ""); n != 3 {
		t.Errorf("town A open cases after two became final: %d, want 3", n)
	}
	if got := ReadAll(t, l, store.ListRead{List: store.ListReceived, Scope: townA[:9], Desc: true, N: 50}); !slices.Equal(got, wantA) {
		t.Errorf("final cases stay in the received list: %v, want %v", got, wantA)
	}
	// A delivery (a department's event, a withdrawal) moves the entries too.
	if _, err := s.Deliver(ctx, "A4", "", withdrawal("lists1", "A4", `{}`), func(a *c.Application) (store.Outcome, error) {
		a.Status.State = c.AppWithdrawn
		return store.Outcome{Reply: store.Reply{Status: 200, Body: []byte(`{}`)}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if n := count(store.ListDue, townA[:9], ""); n != 2 {
		t.Errorf("town A open cases after a delivery made one final: %d, want 2", n)
	}
	// An update that fails writes no entry.
	s.Update(ctx, "A3", "", func(a *c.Application) ([]store.Job, error) {
		a.Status.State = c.AppSupplementRequired
		return nil, fmt.Errorf("refused")
	})
	if n := count(store.ListSupplement, store.ScopeAll, ""); n != 0 {
		t.Errorf("a refused update listed its change: %d supplement entries", n)
	}
}
