package store

import (
	"context"
	"fmt"
	"time"

	"onething/contracts"
)

// Lists are the secondary indexes the console pages through instead of
// walking every application: each is a sorted set of entries "sort|id"
// per list and scope, written in the same atomic write as the
// application (both backends compute them with listEntries from the old
// and the new record and apply the difference).
//
// A scope is where a console person looks: ScopeAll (operators and the
// province office, who see everything) and each prefix of the
// application's household division a staff scope can be (the 4-digit
// city, the 6-digit county, the 9-digit town; auth.ValidTown). The
// province's "51" is ScopeAll: its office sees applicants registered
// outside Sichuan too.
//
// The entries name the household town of an application in the clear
// (in the key of its scope), like the task's county: the town is what a
// window is, not who the applicant is; the person's record stays sealed.
const (
	// ListReceived: every application, by when it was received
	// (sort: unix milliseconds, 16 digits); read newest first.
	ListReceived = "time"
	// ListDue: open cases by their next due date (sort: the civil date
	// YYYY-MM-DD); final cases are not in it.
	ListDue = "due"
	// ListSupplement: cases waiting for the applicant's supplement
	// (sort: as ListReceived).
	ListSupplement = "supp"
	// ListRetention: final cases not yet erased, by the China civil date
	// their retention counts from (RetentionStart, YYYY-MM-DD); scope
	// ScopeAll only. The retention sweep reads it up to today less the
	// retention period.
	ListRetention = "ret"

	// ScopeAll is the scope of every application.
	ScopeAll = "all"
)

// ListEntry is one entry of a list: the application and its sort value.
type ListEntry struct{ Sort, ID string }

// Cursor is the entry's place in its list: a read After it goes on from
// there. The same entry has the same cursor in every scope.
func (e ListEntry) Cursor() string { return e.Sort + "|" + e.ID }

// UpTo is the bound (ListRead.Before, CountList) that keeps the entries
// whose sort value is at most sort ('}' sorts after '|').
func UpTo(sort string) string { return sort + "}" }

// ListRead is one page read of a list.
type ListRead struct {
	List, Scope string
	// After is the cursor of the last entry read ("" from the start).
	After string
	// Desc reads from the greatest entry down.
	Desc bool
	// Before, in an ascending read, stops at the first entry whose cursor
	// is not below it ("" none; see UpTo).
	Before string
	N      int
}

// Lister reads the lists. Both backends implement it.
type Lister interface {
	// ReadList returns up to q.N entries of a list in a scope, in order.
	ReadList(ctx context.Context, q ListRead) ([]ListEntry, error)
	// CountList counts the entries of a list in a scope whose cursor is
	// below before ("": all of them), without reading the records.
	CountList(ctx context.Context, list, scope, before string) (int, error)
}

// listEntry is an application's entry in one list and scope.
type listEntry struct{ list, scope, member string }

// ListScopes are the scopes an application of this household division
// is listed under.
func ListScopes(division string) []string {
	out := []string{ScopeAll}
	for _, n := range []int{4, 6, 9} {
		if len(division) >= n {
			out = append(out, division[:n])
		}
	}
	return out
}

// timeSort is a time as a sort value: unix milliseconds, 16 digits (a
// time before 1970 as 0).
func timeSort(t time.Time) string { return fmt.Sprintf("%016d", max(t.UnixMilli(), 0)) }

// listEntries are every list entry of an application (nil for nil).
func listEntries(app *contracts.Application) []listEntry {
	if app == nil {
		return nil
	}
	received := timeSort(app.ReceivedAt)
	sorts := map[string]string{ListReceived: received}
	if due := DueOf(app); due != "" {
		sorts[ListDue] = due
	}
	if app.Status.State == contracts.AppSupplementRequired {
		sorts[ListSupplement] = received
	}
	var out []listEntry
	if start := RetentionStart(app); start != "" {
		out = append(out, listEntry{ListRetention, ScopeAll, start + "|" + app.ID})
	}
	for _, scope := range ListScopes(app.Applicant.HouseholdDivision) {
		for _, list := range []string{ListReceived, ListDue, ListSupplement} {
			if s, ok := sorts[list]; ok {
				out = append(out, listEntry{list, scope, s + "|" + app.ID})
			}
		}
	}
	return out
}

// diffLists is what a write changes: the old entries to remove and the
// new ones to add (an entry in both stays).
func diffLists(old, cur []listEntry) (del, add []listEntry) {
	in := func(set []listEntry, e listEntry) bool {
		for _, x := range set {
			if x == e {
				return true
			}
		}
		return false
	}
	for _, e := range old {
		if !in(cur, e) {
			del = append(del, e)
		}
	}
	for _, e := range cur {
		if !in(old, e) {
			add = append(add, e)
		}
	}
	return del, add
}

// entryOf splits a member "sort|id".
func entryOf(member string) ListEntry {
	for i := 0; i < len(member); i++ {
		if member[i] == '|' {
			return ListEntry{Sort: member[:i], ID: member[i+1:]}
		}
	}
	return ListEntry{ID: member}
}

// metaListsBuilt marks (in the store's meta) that the lists hold every
// application: set when a store is made, or when the backfill of a store
// written before the lists (BuildLists) has finished.
// The name changes when a list is added (v2: ListRetention), so a store
// written before fills the new list once.
const metaListsBuilt = "lists:built:v2"

// ReceivedEntry is an application's entry in ListReceived (its cursor
// orders a set of applications as the list does).
func ReceivedEntry(app *contracts.Application) ListEntry {
	return ListEntry{Sort: timeSort(app.ReceivedAt), ID: app.ID}
}

// DueOf is an open case's place in ListDue: its next due date, else the
// whole one thing's; "" for a final case (not in the list).
func DueOf(app *contracts.Application) string {
	if app.Status.State == contracts.AppCompleted || app.Status.State == contracts.AppWithdrawn {
		return ""
	}
	if app.Status.NextDue != "" {
		return app.Status.NextDue
	}
	return app.Status.DueDate
}
