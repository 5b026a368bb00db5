package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"onething/civil"
	c "onething/contracts"
	"onething/gateway/calendar"
	"onething/gateway/engine"
	"onething/gateway/retention"
	"onething/gateway/seal"
	"onething/gateway/service"
	"onething/gateway/store"
	"onething/gateway/workflow"
)

// RetentionRun is the retention phase: day after day on a simulated
// business clock, PerDay applications become final (and their last push
// is delivered) and the gateway's retention sweep runs with a retention of
// RetentionDays, for Days days. Storage should stop growing once the first
// applications pass their retention; only the pseudonymous traces (and the
// sweep's audit entries) keep adding.
type RetentionRun struct {
	PerDay        int    `json:"perDay"`
	Days          int    `json:"days"`
	RetentionDays int    `json:"retentionDays"`
	FirstDate     string `json:"firstDate"` // China civil date of the first simulated day
	// Bytes is what the phase measures: "redis used_memory" or "bbolt file size".
	Bytes string `json:"bytes"`
	// EmptyBytes is the measure of the store before the first day.
	EmptyBytes int64          `json:"emptyBytes"`
	Samples    []RetentionDay `json:"daysMeasured"`
	// FullBytes is the measure at the end of the last day before the first
	// erasure (RetentionDays × PerDay full applications, no traces);
	// FullCompacted and EndCompacted the size of a compacted copy of the
	// bbolt file then and at the end (bolt only).
	FullBytes     int64 `json:"fullBytes"`
	FullCompacted int64 `json:"fullCompactedBytes,omitempty"`
	EndCompacted  int64 `json:"endCompactedBytes,omitempty"`
	// EmptyLive, FullLive and EndLive are the bbolt file's pages in use
	// (not free) in bytes, before the first day, on that day and at the
	// end (bolt only): the file grows in steps of 16 MiB, its pages in use
	// by the page.
	EmptyLive int64 `json:"emptyLiveBytes,omitempty"`
	FullLive  int64 `json:"fullLiveBytes,omitempty"`
	EndLive   int64 `json:"endLiveBytes,omitempty"`
	// PerApplication is what one final application with its personal part
	// costs: (FullBytes − EmptyBytes) / (RetentionDays × PerDay), from the
	// pages in use on bolt.
	PerApplication float64 `json:"bytesPerApplication"`
	// PerTrace is what one erased application still costs (its trace, the
	// sweep's audit entry): the growth from the day before the first
	// erasure to the end over the traces made (pages in use on bolt).
	PerTrace float64 `json:"bytesPerTrace"`
	// FirstWeek and LastWeek are the growth of the measure over the first
	// and the last seven days (of the pages in use on bolt); WeekRatio is
	// LastWeek / FirstWeek.
	FirstWeek int64   `json:"firstWeekGrowthBytes"`
	LastWeek  int64   `json:"lastWeekGrowthBytes"`
	WeekRatio float64 `json:"lastOverFirstWeek"`
	Seconds   float64 `json:"seconds"`
}

// RetentionDay is the store at the end of one simulated day, after the
// sweep.
type RetentionDay struct {
	Day  int    `json:"day"` // 0: the first
	Date string `json:"date"`
	// Stored is the final applications still holding personal data (the
	// store's retention list), Traces the erased ones.
	Stored     int   `json:"stored"`
	Traces     int   `json:"traces"`
	ErasedThat int   `json:"erasedThatDay"`
	Bytes      int64 `json:"bytes"`
	// LiveBytes is the bbolt file's pages in use (bolt, on the days a
	// table shows).
	LiveBytes int64 `json:"liveBytes,omitempty"`
}

// retentionSim is one run of the phase on an open store.
type retentionSim struct {
	st      store.Store
	keys    *seal.Keyring
	perDay  int
	days    int
	keep    int        // retention in days
	first   civil.Date // the first simulated day
	clients int
	// size measures the store; compact (bolt) the size of a compacted copy
	// and live the pages in use.
	size    func() int64
	compact func() (int64, error)
	live    func() (int64, error)
	prog    *progress
}

// noJobs stores what the engine's Submit writes without its first jobs:
// by the time a case is final in a working deployment its dispatches and
// pushes are done, and the phase measures what stays.
type noJobs struct{ store.Store }

func (n noJobs) Create(ctx context.Context, app *c.Application, keys []string, _ []store.Job) (string, error) {
	return n.Store.Create(ctx, app, keys, nil)
}

// The times of a simulated day, China time: received just after
// midnight, final at 07:00 and the last push taken five minutes later,
// swept at 23:00. 07:00 China is 23:00 UTC the day before, so only the
// China civil date rule gives the counts the unit test expects.
const (
	simReceived = 5 * time.Minute
	simFinal    = 7 * time.Hour
	simPushed   = 7*time.Hour + 5*time.Minute
	simSweep    = 23 * time.Hour
)

func (s *retentionSim) run(ctx context.Context) (*RetentionRun, error) {
	started := time.Now()
	raw, err := c.Example("submission-full.json")
	if err != nil {
		return nil, err
	}
	var sub c.Submission
	if err := json.Unmarshal(raw, &sub); err != nil {
		return nil, err
	}
	lister, ok := s.st.(store.Lister)
	if !ok {
		return nil, fmt.Errorf("the store (%T) has no lists", s.st)
	}
	var clk struct {
		sync.Mutex
		at time.Time
	}
	now := func() time.Time { clk.Lock(); defer clk.Unlock(); return clk.at }
	setNow := func(t time.Time) { clk.Lock(); clk.at = t; clk.Unlock() }
	flow := workflow.New(calendar.Default())
	flow.Now = now
	eng := &engine.Engine{Store: noJobs{s.st}, Flow: flow, Keys: s.keys}
	sw := &retention.Sweeper{Store: s.st, Retention: s.keep, Now: now}

	res := &RetentionRun{PerDay: s.perDay, Days: s.days, RetentionDays: s.keep, FirstDate: s.first.String(), EmptyBytes: s.size()}
	if s.live != nil {
		if res.EmptyLive, err = s.live(); err != nil {
			return res, err
		}
	}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	traces := 0
	for d := 0; d < s.days; d++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		day := s.first.AddDays(d)
		midnight := day.Midnight()
		setNow(midnight.Add(simReceived))
		if err := s.day(ctx, eng, flow, &sub, run, d, midnight); err != nil {
			return res, fmt.Errorf("day %d (%s): %w", d, day, err)
		}
		setNow(midnight.Add(simSweep))
		pr, err := sw.Pass(ctx)
		if err != nil {
			return res, fmt.Errorf("day %d (%s): sweep: %w", d, day, err)
		}
		traces += pr.Erased
		stored, err := countList(ctx, lister)
		if err != nil {
			return res, err
		}
		sample := RetentionDay{Day: d, Date: day.String(), Stored: stored, Traces: traces, ErasedThat: pr.Erased, Bytes: s.size()}
		// The days shown, and those the week figures need.
		if s.live != nil && (shownDay(d, s.keep, s.days) || d == 6 || d == s.days-8) {
			if sample.LiveBytes, err = s.live(); err != nil {
				return res, err
			}
		}
		res.Samples = append(res.Samples, sample)
		if d == s.keep-1 {
			res.FullBytes, res.FullLive = sample.Bytes, sample.LiveBytes
			if s.compact != nil {
				if res.FullCompacted, err = s.compact(); err != nil {
					return res, err
				}
			}
		}
	}
	res.EndLive = res.Samples[len(res.Samples)-1].LiveBytes
	if s.compact != nil {
		var err error
		if res.EndCompacted, err = s.compact(); err != nil {
			return res, err
		}
	}
	res.figures()
	res.Seconds = time.Since(started).Seconds()
	return res, nil
}

// figures derives the per-application, per-trace and weekly figures from
// the samples.
func (res *RetentionRun) figures() {
	n := len(res.Samples)
	if res.RetentionDays >= 1 && res.RetentionDays <= n {
		full := float64(res.RetentionDays * res.PerDay)
		base, fullB, end := float64(res.EmptyBytes), float64(res.FullBytes), float64(res.Samples[n-1].Bytes)
		if res.FullLive > 0 && res.EndLive > 0 {
			base, fullB, end = float64(res.EmptyLive), float64(res.FullLive), float64(res.EndLive)
		}
		res.PerApplication = (fullB - base) / full
		if tr := res.Samples[n-1].Traces; tr > 0 {
			res.PerTrace = (end - fullB) / float64(tr)
		}
	}
	if n >= 14 {
		res.FirstWeek = res.Samples[6].Bytes - res.EmptyBytes
		res.LastWeek = res.Samples[n-1].Bytes - res.Samples[n-8].Bytes
		if l := func(i int) int64 { return res.Samples[i].LiveBytes }; res.EmptyLive > 0 && l(6) > 0 && l(n-8) > 0 && l(n-1) > 0 {
			// bbolt's file grows in steps of 16 MiB: its pages in use.
			res.FirstWeek, res.LastWeek = l(6)-res.EmptyLive, l(n-1)-l(n-8)
		}
		if res.FirstWeek > 0 {
			res.WeekRatio = float64(res.LastWeek) / float64(res.FirstWeek)
		}
	}
}

// day stores one day's applications: each submitted as the intake does
// (the full example's personal data, sealed), then made final in one
// update: every item approved that morning with a result, the timeline
// of its department's steps, and the last push delivered.
func (s *retentionSim) day(ctx context.Context, eng *engine.Engine, flow *workflow.Workflow, sub *c.Submission, run string, d int, midnight time.Time) error {
	work := make(chan int)
	errs := make(chan error, s.clients)
	var wg sync.WaitGroup
	for range s.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := s.one(ctx, eng, flow, sub, run, d, i, midnight); err != nil {
					errs <- err
					for range work { // drain
					}
					return
				}
				s.prog.add(1)
			}
		}()
	}
	var err error
send:
	for i := 0; i < s.perDay; i++ {
		select {
		case work <- i:
		case err = <-errs:
			break send
		case <-ctx.Done():
			err = ctx.Err()
			break send
		}
	}
	close(work)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return err
}

func (s *retentionSim) one(ctx context.Context, eng *engine.Engine, flow *workflow.Workflow, tmpl *c.Submission, run string, d, i int, midnight time.Time) error {
	sub := *tmpl
	sub.PortalRef = fmt.Sprintf("RET-%s-%d-%d", run, d, i)
	app, _, err := eng.Submit(ctx, "msg_ret_"+run+"_"+strconv.Itoa(d)+"_"+strconv.Itoa(i), &sub)
	if err != nil {
		return err
	}
	// Milliseconds apart, so that the day's applications do not share a
	// timestamp.
	off := time.Duration(i) * time.Millisecond
	final, pushed := midnight.Add(simFinal+off).UTC(), midnight.Add(simPushed+off).UTC()
	return s.st.Update(ctx, app.ID, "", func(a *c.Application) ([]store.Job, error) {
		for n, t := range a.Tasks {
			if t.State.Final() {
				continue
			}
			accepted := final.Add(-time.Hour)
			done := final
			t.CaseNo = fmt.Sprintf("%s-%s-%d-%d", strings.ToUpper(string(t.Dept)), run, d, i*10+n)
			t.Step, t.Attempts, t.AcceptedAt, t.FinishedAt, t.UpdatedAt = 1, 1, &accepted, &done, done
			from := t.State
			t.State = c.TaskApproved
			t.Result = &c.Result{Note: &c.Message{ZH: "经审核，符合条件，予以办理", EN: "approved"}}
			if t.Dept != c.DeptCDPF {
				t.Result.MonthlyAmount = 100
			}
			a.Timeline = append(a.Timeline,
				c.Entry{At: accepted.Add(-time.Minute), TaskID: t.ID, Kind: "state", From: from, To: c.TaskDispatched, Source: "gateway"},
				c.Entry{At: accepted, TaskID: t.ID, Kind: "state", From: c.TaskDispatched, To: c.TaskInProgress, Source: string(t.Dept)},
				c.Entry{At: done, TaskID: t.ID, Kind: "state", From: c.TaskInProgress, To: c.TaskApproved, Source: string(t.Dept),
					Note: &c.Message{ZH: "经审核，符合条件，予以办理", EN: "approved"}})
		}
		flow.Recompute(a)
		if a.Status.State != c.AppCompleted {
			return nil, fmt.Errorf("application %s is %s after every item was decided, not completed", a.ID, a.Status.State)
		}
		a.Version += int64(2 + len(a.Tasks))
		a.PushedVersion, a.PushedAt = a.Version, &pushed
		return nil, nil
	})
}

// countList counts the store's retention list: the final applications
// not yet erased.
func countList(ctx context.Context, l store.Lister) (int, error) {
	n, after := 0, ""
	for {
		es, err := l.ReadList(ctx, store.ListRead{List: store.ListRetention, Scope: store.ScopeAll, After: after, N: 1000})
		if err != nil {
			return n, err
		}
		n += len(es)
		if len(es) < 1000 {
			return n, nil
		}
		after = es[len(es)-1].Cursor()
	}
}

// retention runs the phase on a new store of the backend, opened as the
// gateway opens it, with the keys its gateways use (seal.DevConfig).
func (r *runner) retention(ctx context.Context, be *Backend) error {
	cfg, st, err := r.phaseStore(ctx, be)
	if err != nil {
		return err
	}
	defer st.Close()
	keys, err := service.Keyring(cfg)
	if err != nil {
		return err
	}
	su := cfg.Store
	// The simulated days end on the day before the run (China date).
	first := civil.Of(time.Now()).AddDays(-r.o.RetentionRun)
	sim := &retentionSim{st: st, keys: keys, perDay: r.o.RetentionPerDay, days: r.o.RetentionRun, keep: r.o.RetentionDays,
		first: first, clients: 8, prog: r.prog}
	if be.Name == "redis" {
		sim.size = func() int64 { return int64(redisMemory(r.rurl)) }
	} else {
		path := strings.TrimPrefix(su, "bolt://")
		sim.size = func() int64 { return fileSize(path) }
		if b, ok := st.(interface{ CopyFile(string) error }); ok {
			sim.compact = func() (int64, error) { return compactedCopy(path, b.CopyFile) }
		}
		if b, ok := st.(interface{ BytesInUse() (int64, error) }); ok {
			sim.live = b.BytesInUse // in a transaction: a copy of a file being written may be torn
		}
	}
	r.prog.begin(fmt.Sprintf("%s retention: %d days of %d", be.Name, r.o.RetentionRun, r.o.RetentionPerDay), r.o.RetentionRun*r.o.RetentionPerDay)
	res, err := sim.run(ctx)
	if res != nil {
		if be.Name == "redis" {
			res.Bytes = "redis used_memory"
		} else {
			res.Bytes = "bbolt file size"
		}
		be.Retention = res
	}
	return err
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// shownDay says whether day d of a run of days with a retention of keep
// is one a table shows: every keep/3 days (at least weekly), the day
// before the first erasure and the last day.
func shownDay(d, keep, days int) bool {
	return d%max(1, min(7, keep/3)) == 0 || d == keep-1 || d == days-1
}

// compactedCopy copies the store's bbolt file (copy: in a read
// transaction of the open store) and compacts the copy with `onething
// store compact`'s code, returning its size.
func compactedCopy(path string, copy func(string) error) (int64, error) {
	cp := filepath.Join(filepath.Dir(path), "compact-copy.db")
	if err := copy(cp); err != nil {
		return 0, err
	}
	defer os.Remove(cp)
	cr, err := store.CompactBolt(cp)
	if err != nil {
		return 0, err
	}
	return cr.After, nil
}
