package service

import (
	"context"
	"sync"
	"time"

	c "onething/contracts"
	"onething/gateway/metrics"
	"onething/gateway/store"
)

// DefaultShutdownGrace is how long a shutdown lets the jobs under way
// finish before it cuts them short and hands them back (shutdownGrace).
// Kubernetes' default terminationGracePeriodSeconds (30 s) leaves room
// for it and for the HTTP drain (at most 10 s, at the same time).
const DefaultShutdownGrace = 15 * time.Second

// DefaultScanEvery paces the scan of open applications behind the
// overdue, open-task and pending-push gauges (scanEvery).
const DefaultScanEvery = 30 * time.Second

// maxScan bounds one scan: past it the gauges count what was seen.
const maxScan = 200_000

// openLister is offered by a backend that indexes its open applications
// (Redis does; see reconcile.Source).
type openLister interface {
	OpenApps(ctx context.Context, fn func(id string) error) error
}

func (s *Service) shutdownGrace() time.Duration {
	if g := time.Duration(s.cfg.ShutdownGrace); g > 0 {
		return g
	}
	return DefaultShutdownGrace
}

// watchQueue reports the queue on every scrape (one read of the store).
func (s *Service) watchQueue() {
	s.Metrics.WatchQueue(func(ctx context.Context) (int, int, time.Time, error) {
		q, err := s.Store.QueueStats(ctx)
		if err != nil {
			return 0, 0, time.Time{}, err
		}
		oldest := q.OldestDue
		if oldest.After(time.Now()) {
			oldest = time.Time{} // waiting for a later time: nothing is overdue for a worker
		}
		return q.Jobs, q.Leased, oldest, nil
	})
	_, ok := s.Store.(openLister)
	s.Metrics.RegisterScanGauges(ok)
}

// runScanner counts, every scanEvery, the open applications' tasks by
// department and state, the unfinished tasks past their legal due date,
// the versions not yet pushed to the portal and the dead letters, for the
// gauges operators alert on. On a backend without an index of open
// applications (the embedded file) only the dead letters are counted.
func (s *Service) runScanner(ctx context.Context, wg *sync.WaitGroup) {
	every := time.Duration(s.cfg.ScanEvery)
	if every <= 0 {
		every = DefaultScanEvery
	}
	s.goTask(ctx, wg, "scan", true, func(ctx context.Context) {
		t := time.NewTimer(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			// One scan's panic is that scan's failure; the next runs on time.
			s.guard("scan", func() {
				if scan, err := s.Scan(ctx); err != nil {
					if ctx.Err() == nil {
						s.log.Warn("scan of open applications failed", "err", err)
						s.taskFailed("scan", "error")
					}
				} else {
					s.Metrics.SetScan(scan)
				}
				if l, ok := s.Store.(store.UnreadableLister); ok {
					if n, err := l.UnreadableCount(ctx); err == nil {
						s.health.SetUnreadable(n)
					}
				}
			})
			t.Reset(every)
		}
	})
}

// Scan makes one pass over the open applications (see runScanner).
func (s *Service) Scan(ctx context.Context) (metrics.Scan, error) {
	start := time.Now()
	scan := metrics.Scan{Tasks: map[c.Dept]map[c.TaskState]int{}, Overdue: map[c.Dept]int{}, DeadLetters: -1}
	if parked, err := s.Store.Parked(ctx); err == nil {
		scan.DeadLetters = len(parked)
	}
	if l, ok := s.Store.(openLister); ok {
		n := 0
		var ids []string
		err := l.OpenApps(ctx, func(id string) error {
			if n++; n <= maxScan {
				ids = append(ids, id)
			}
			return nil
		})
		if err != nil {
			return scan, err
		}
		for _, id := range ids {
			app, err := s.Store.Get(ctx, id)
			if err != nil {
				if ctx.Err() != nil {
					return scan, ctx.Err()
				}
				continue // finished or gone since it was listed
			}
			if s.Engine.Flow.RefreshDue(app) {
				// A due date counted past the published schedule (or
				// not at all) reads differently with the calendar as
				// now loaded: store it and tell the portal.
				if _, err := s.Engine.RecountDue(ctx, id); err != nil && ctx.Err() == nil {
					s.log.Warn("due dates could not be recounted", "app", id, "err", err.Error())
				}
			}
			s.countApp(app, &scan)
		}
	}
	scan.Took = time.Since(start)
	scan.FinishedAt = time.Now()
	return scan, nil
}

func (s *Service) countApp(app *c.Application, scan *metrics.Scan) {
	open := app.PushedVersion < app.Version
	if open {
		scan.PushPending++
	}
	for _, t := range app.Tasks {
		if t.State.Final() {
			continue
		}
		open = true
		if scan.Tasks[t.Dept] == nil {
			scan.Tasks[t.Dept] = map[c.TaskState]int{}
		}
		scan.Tasks[t.Dept][t.State]++
		if s.Engine.Flow.Overdue(t) {
			scan.Overdue[t.Dept]++
		}
	}
	if open {
		scan.OpenApplications++
	}
}
