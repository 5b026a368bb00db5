package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"onething/civil"
	"onething/contracts"
)

// PushGrace caps how long the retention of a final case waits for its
// last status push: it counts from the day the portal took the push, or
// at the latest this many days after the case became final.
const PushGrace = 30

// RetentionStart is the China civil date (YYYY-MM-DD) from which a case's
// retention counts, "" while it does not (the case is open, or already
// erased): the day it became final and its last status push was
// delivered, or PushGrace days after it became final if that push has not
// got through by then.
func RetentionStart(app *contracts.Application) string {
	if app == nil || app.Erased != nil {
		return ""
	}
	if s := app.Status.State; s != contracts.AppCompleted && s != contracts.AppWithdrawn {
		return ""
	}
	final := FinalAt(app)
	if final.IsZero() {
		return ""
	}
	day := civil.Of(final)
	latest := day.AddDays(PushGrace)
	if app.PushedVersion >= app.Version && app.PushedAt != nil {
		pushed := civil.Of(*app.PushedAt)
		if pushed.Before(day) {
			pushed = day
		}
		if pushed.Before(latest) {
			return pushed.String()
		}
	}
	return latest.String()
}

// FinalAt is when the last item of a final case finished (zero if none
// has a finishing time).
func FinalAt(app *contracts.Application) time.Time {
	var at time.Time
	for _, t := range app.Tasks {
		if t.FinishedAt != nil && t.FinishedAt.After(at) {
			at = *t.FinishedAt
		}
	}
	if app.WithdrawnAt != nil && app.WithdrawnAt.After(at) {
		at = *app.WithdrawnAt
	}
	return at
}

// ErasePersonal removes an application's personal part in place and
// keeps its pseudonymous trace: ids, the portal reference, items, states,
// dates, the household county and town, durations (what statistics, the
// SLA pages and dedupe need), and of the timeline only TraceEntry's. It removes everything the store seals
// (codec.go's personal) and what else in the clear says something about
// the person (the disability category asked for, the subsidy grade box,
// the medical assistance identity, department error texts). It does not
// set app.Erased.
func ErasePersonal(app *contracts.Application) {
	app.Applicant = contracts.Applicant{HouseholdDivision: app.Applicant.HouseholdDivision}
	app.Delivery = contracts.Delivery{}
	if r := app.Requests.Certificate; r != nil {
		app.Requests.Certificate = &contracts.CertificateRequest{Business: r.Business, SubKind: r.SubKind}
	}
	if app.Requests.TwoSubsidies != nil {
		app.Requests.TwoSubsidies = &contracts.TwoSubsidiesRequest{}
	}
	if app.Requests.Medical != nil {
		app.Requests.Medical = &contracts.MedicalRequest{}
	}
	for _, t := range app.Tasks {
		t.Certificate, t.Result, t.Supplement, t.SupplementNote, t.Reason, t.LastError = nil, nil, nil, "", nil, ""
		t.Procedure = nil // the certificate business's clauses: the item says which
	}
	// The timeline is most of a final record's size (tens of entries):
	// the trace keeps what durations and the workflow still need (when it
	// was received, when each item ended, which departments confirmed a
	// withdrawal), so that erased cases cost a small part of live ones.
	kept := app.Timeline[:0]
	for _, e := range app.Timeline {
		if TraceEntry(e) {
			e.Note = nil
			kept = append(kept, e)
		}
	}
	app.Timeline = kept
}

// TraceEntry reports whether an erasure keeps a timeline entry in the
// trace: the receipt, an item's final state, a department's confirmation
// of a withdrawal (CancelOwed reads it), the erasure itself.
func TraceEntry(e contracts.Entry) bool {
	switch e.Kind {
	case "received", "department_notified", "erased":
		return true
	case "state":
		return e.To.Final()
	}
	return false
}

// ErrErased: the application's personal part was erased before.
var ErrErased = errors.New("the application was erased")

// EraseCheck may refuse an erasure after reading the application (its
// error aborts the write): the engine refuses one while items are open at
// a department unless forced.
type EraseCheck func(app *contracts.Application) error

// KeyShredder is a backend whose applications' personal parts are sealed
// under keys of their own: ShredKey destroys one application's key, so
// that no copy of its sealed part (a backup, Redis's AOF, bbolt's free
// pages) opens any more. It is idempotent.
type KeyShredder interface {
	ShredKey(ctx context.Context, id string) error
}

// KeyPurger is a backend whose key store keeps copies of destroyed keys
// until it is rewritten (bbolt's free pages, Redis's AOF): PurgeShredded
// rewrites it without them. Callers run it after erasures (the API after
// each, the retention sweep after a pass that erased), not per key.
type KeyPurger interface {
	PurgeShredded(ctx context.Context) error
}

// PurgeShredded runs the backend's KeyPurger, if it has one.
func PurgeShredded(ctx context.Context, s Store) error {
	if p, ok := s.(KeyPurger); ok {
		return p.PurgeShredded(ctx)
	}
	return nil
}

// Erase erases an application's personal part in one write (ErasePersonal,
// app.Erased = e, a timeline entry "erased"), then destroys its key where
// the backend has one (KeyShredder). The version does not change: nothing
// is pushed or sent for an erasure. An application erased before is
// ErrErased (nothing written; its key is destroyed again, in case a crash
// came between the write and the shredding). It returns the record as
// written.
func Erase(ctx context.Context, s Store, id string, e contracts.Erasure, check EraseCheck) (*contracts.Application, error) {
	var prepare ErasePrepare
	if check != nil {
		prepare = func(app *contracts.Application, _ *contracts.Erasure) ([]Job, error) { return nil, check(app) }
	}
	return EraseWith(ctx, s, id, e, prepare)
}

// ErasePrepare runs in an erasure's write before the personal part goes:
// it may refuse the erasure (its error aborts the write), end what is
// still open (the engine cancels open items, telling the departments that
// hold a case), adjust the erasure recorded (Forced) and return the jobs
// to queue in the same write (notices that carry no personal data).
type ErasePrepare func(app *contracts.Application, e *contracts.Erasure) ([]Job, error)

// EraseWith is Erase with an ErasePrepare instead of a check: the
// engine's erasure on request, which may cancel open items in the same
// write.
func EraseWith(ctx context.Context, s Store, id string, e contracts.Erasure, prepare ErasePrepare) (*contracts.Application, error) {
	var out *contracts.Application
	err := s.Update(ctx, id, "", func(app *contracts.Application) ([]Job, error) {
		if app.Erased != nil {
			return nil, ErrErased
		}
		rec := e
		var jobs []Job
		if prepare != nil {
			var err error
			if jobs, err = prepare(app, &rec); err != nil {
				return nil, err
			}
		}
		// What prepare ended (cancellations) is recorded before the
		// erasure: it is not dated before them.
		for _, e := range app.Timeline {
			if e.At.After(rec.At) {
				rec.At = e.At
			}
		}
		ErasePersonal(app)
		app.Erased = &rec
		app.Timeline = append(app.Timeline, contracts.Entry{At: rec.At, Kind: "erased", Source: "gateway"})
		out = app
		return jobs, nil
	})
	if err != nil && !errors.Is(err, ErrErased) {
		return nil, err
	}
	if ks, ok := s.(KeyShredder); ok {
		if serr := ks.ShredKey(ctx, id); serr != nil {
			return out, fmt.Errorf("erase %s: the record is erased, its key not yet destroyed: %w", id, serr)
		}
	}
	return out, err
}
