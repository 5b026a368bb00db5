// Package retention erases the personal part of final applications once
// their retention has passed, and trims the audit log past its own.
//
// A sweep reads the store's retention list (store.ListRetention: final
// cases not yet erased, by the China civil date their retention counts
// from) up to today less the retention period, and erases each case's
// personal part (store.Erase), keeping its pseudonymous trace. Each
// erasure is audited first, as subject SubjectRetention; an erasure whose
// audit entry cannot be written does not happen. One replica sweeps at a
// time (store.TaskLocker).
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"onething/civil"
	c "onething/contracts"
	"onething/gateway/store"
)

// Audit actions and the sweep's subject.
const (
	// SubjectRetention is who erases at the end of the retention period.
	SubjectRetention = "system:retention"
	// ActionErase is the audit action of one erasure by the sweep.
	ActionErase = "application.erase.retention"
	// ActionTrimAudit is the audit action of a trim of the audit log.
	ActionTrimAudit = "audit.trim"

	lockName = "retention"
)

// Sweeper runs retention sweeps on a schedule.
type Sweeper struct {
	// Store must also be a store.Lister and a store.TaskLocker (Bolt and
	// Redis are); a store.AuditTrimmer to trim the audit log.
	Store store.Store
	// Retention is the period in days after a case's retention starts
	// (store.RetentionStart); 0 erases nothing.
	Retention int
	// AuditRetention is how long audit entries are kept; 0 keeps them.
	AuditRetention time.Duration
	// Every is the time between sweeps (default one hour).
	Every time.Duration
	// Now is the business clock the retention counts by (nil: the real
	// one): `onething dev --now` and tests move it.
	Now func() time.Time
	// AuditNow is the clock audit entries are stamped by (nil: the real
	// one): the store's, not the business clock.
	AuditNow func() time.Time
	// Batch is how many list entries a read takes (default 200).
	Batch int
	// LockTTL is how long a sweep holds its lock at most (default 10
	// minutes); a sweep stops at half of it and the next goes on.
	LockTTL time.Duration
	Log     *slog.Logger
	// NewVersion makes an erasure a new version of the record, in its
	// write, and returns the jobs it queues there: the status push that
	// tells the portal (with the erased mark) to erase its copy too. The
	// engine's ErasureVersion; nil leaves the version as it is.
	NewVersion func(app *c.Application) []store.Job
	// Erased is told of each erasure (metrics).
	Erased func()
	// OnPass is told each pass's result (metrics, tests).
	OnPass func(Result)
	// OnError is told a pass's error (the service's background check).
	OnError func(error)
}

// Result is what one pass did.
type Result struct {
	Erased       int  // applications erased
	Skipped      bool // another replica's (or goroutine's) sweep was under way
	Unreadable   int  // listed applications whose record does not open (left for operators)
	AuditTrimmed int  // audit entries trimmed
	Cutoff       string
}

// errNotDue: the record says its retention has not passed (the list
// entry was stale); the erasure writes nothing.
var errNotDue = errors.New("retention not over")

// Cutoff is the last retention start date (China civil date) whose
// applications are erased on the day of now: now's China date less days.
func Cutoff(now time.Time, days int) civil.Date { return civil.Of(now).AddDays(-days) }

// Due says whether an application's retention is over by the cutoff.
func Due(app *c.Application, cutoff civil.Date) bool {
	start := store.RetentionStart(app)
	return start != "" && start <= cutoff.String()
}

func (s *Sweeper) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Pass sweeps once.
func (s *Sweeper) Pass(ctx context.Context) (Result, error) {
	var res Result
	locker, ok := s.Store.(store.TaskLocker)
	if !ok {
		return res, fmt.Errorf("retention: the store (%T) cannot lock a sweep", s.Store)
	}
	ttl := s.LockTTL
	if ttl <= 0 {
		ttl = 10 * time.Minute
	}
	release, ok, err := locker.TryLockTask(ctx, lockName, ttl)
	if err != nil {
		return res, err
	}
	if !ok {
		res.Skipped = true
		return res, nil
	}
	defer release()
	stop := time.Now().Add(ttl / 2) // the lock's own time, not the business clock

	if s.Retention > 0 {
		err := s.erase(ctx, &res, stop)
		if res.Erased > 0 {
			// Once per pass, not per key: the key store is rewritten
			// without the copies of the keys destroyed.
			err = errors.Join(err, store.PurgeShredded(ctx, s.Store))
		}
		if err != nil {
			return res, err
		}
	}
	if s.AuditRetention > 0 {
		if err := s.trimAudit(ctx, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// erase erases every listed application past the cutoff.
func (s *Sweeper) erase(ctx context.Context, res *Result, stop time.Time) error {
	lister, ok := s.Store.(store.Lister)
	if !ok {
		return fmt.Errorf("retention: the store (%T) has no lists", s.Store)
	}
	now := s.now()
	cutoff := Cutoff(now, s.Retention)
	res.Cutoff = cutoff.String()
	batch := s.Batch
	if batch <= 0 {
		batch = 200
	}
	after := ""
	for {
		entries, err := lister.ReadList(ctx, store.ListRead{List: store.ListRetention, Scope: store.ScopeAll,
			After: after, Before: store.UpTo(cutoff.String()), N: batch})
		if err != nil {
			return fmt.Errorf("retention: read the list: %w", err)
		}
		for _, e := range entries {
			if time.Now().After(stop) {
				return nil // the next sweep goes on
			}
			if err := s.eraseOne(ctx, e.ID, now, cutoff, res); err != nil {
				return err
			}
		}
		if len(entries) < batch {
			return nil
		}
		after = entries[len(entries)-1].Cursor()
	}
}

// eraseOne erases one application if its record says its retention is
// over: the audit entry first, then the erasure, which checks again on
// the record it writes.
func (s *Sweeper) eraseOne(ctx context.Context, id string, now time.Time, cutoff civil.Date, res *Result) error {
	app, err := s.Store.Get(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil
	case errors.Is(err, store.ErrUnreadable):
		res.Unreadable++ // on the unreadable list already; erasing needs the record
		return nil
	case err != nil:
		return fmt.Errorf("retention: read %s: %w", id, err)
	}
	if !Due(app, cutoff) {
		return nil // a stale entry; the record's next write corrects it
	}
	if _, err := s.Store.AppendAudit(ctx, c.AuditEntry{Subject: SubjectRetention, Role: "system", Action: ActionErase,
		Method: "SWEEP", Route: "retention", ApplicationID: id,
		Query: "retention=" + strconv.Itoa(s.Retention) + "d&cutoff=" + cutoff.String()}); err != nil {
		return fmt.Errorf("retention: audit the erasure of %s (not erased): %w", id, err)
	}
	prepare := func(app *c.Application, _ *c.Erasure) ([]store.Job, error) {
		if !Due(app, cutoff) {
			return nil, errNotDue
		}
		if s.NewVersion == nil {
			return nil, nil
		}
		return s.NewVersion(app), nil
	}
	_, err = store.EraseWith(ctx, s.Store, id, c.Erasure{At: now, Kind: c.ErasureRetention, By: SubjectRetention}, prepare)
	switch {
	case errors.Is(err, errNotDue), errors.Is(err, store.ErrErased), errors.Is(err, store.ErrNotFound):
		return nil // changed since it was read: nothing written
	case errors.Is(err, store.ErrUnreadable):
		res.Unreadable++
		return nil
	case err != nil:
		return fmt.Errorf("retention: erase %s: %w", id, err)
	}
	res.Erased++
	if s.Erased != nil {
		s.Erased()
	}
	return nil
}

// trimAudit removes the audit entries older than the audit retention,
// auditing the trim first when there is something to trim.
func (s *Sweeper) trimAudit(ctx context.Context, res *Result) error {
	tr, ok := s.Store.(store.AuditTrimmer)
	if !ok {
		return nil
	}
	now := time.Now
	if s.AuditNow != nil {
		now = s.AuditNow
	}
	before := now().Add(-s.AuditRetention).Truncate(time.Millisecond)
	oldest, ok, err := tr.OldestAudit(ctx)
	if err != nil || !ok || !oldest.Before(before) {
		return err
	}
	if _, err := s.Store.AppendAudit(ctx, c.AuditEntry{Subject: SubjectRetention, Role: "system", Action: ActionTrimAudit,
		Method: "SWEEP", Route: "retention", Query: "before=" + civil.Format(before)}); err != nil {
		return fmt.Errorf("retention: audit the trim of the audit log (not trimmed): %w", err)
	}
	n, err := tr.TrimAudit(ctx, before)
	res.AuditTrimmed = n
	return err
}

// Run sweeps at once, then every s.Every until ctx ends.
func (s *Sweeper) Run(ctx context.Context) {
	every := s.Every
	if every <= 0 {
		every = time.Hour
	}
	log := s.Log
	if log == nil {
		log = slog.Default()
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		res, err := s.Pass(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("retention sweep", "err", err)
			if s.OnError != nil {
				s.OnError(err)
			}
		case res.Erased > 0 || res.AuditTrimmed > 0 || res.Unreadable > 0:
			log.Info("retention sweep", "erased", res.Erased, "cutoff", res.Cutoff, "auditTrimmed", res.AuditTrimmed, "unreadable", res.Unreadable)
		}
		if err == nil && s.OnPass != nil {
			s.OnPass(res)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
