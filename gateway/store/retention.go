package store

import (
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
// SLA pages and dedupe need). It removes everything the store seals
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
	}
	for i := range app.Timeline {
		app.Timeline[i].Note = nil
	}
}
