// Package metrics holds the gateway's Prometheus metrics. Names follow the
// Prometheus conventions: an onething_ prefix, base units (seconds, bytes),
// _total for counters, and labels of low cardinality (route templates,
// never ids).
package metrics

import (
	"context"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	c "onething/contracts"
)

// Metrics is one registry of the gateway's metrics.
type Metrics struct {
	reg          *prometheus.Registry
	dispatches   *prometheus.CounterVec
	deadLetters  *prometheus.CounterVec
	pushes       *prometheus.CounterVec
	breakerState *prometheus.GaugeVec
	calendarGaps *prometheus.CounterVec

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	httpInFlight prometheus.Gauge
	retries      *prometheus.CounterVec
	taskEvents   *prometheus.CounterVec
	pastDue      *prometheus.CounterVec
	handedBack   prometheus.Counter
	putBack      *prometheus.CounterVec

	openApps     prometheus.Gauge
	openTasks    *prometheus.GaugeVec
	overdue      *prometheus.GaugeVec
	pushPending  prometheus.Gauge
	parked       prometheus.Gauge
	scanDuration prometheus.Gauge
	scanTime     prometheus.Gauge
	erasure      erasureMetrics

	queueOnce sync.Once
	calendar  atomic.Pointer[func() CalendarState]
}

// CalendarState is the working-day calendar's coverage as the gauges show
// it (WatchCalendar).
type CalendarState struct {
	LastYear int // last year with the State Council's arrangement; 0 none
	// NextYearMissing: from 1 November (China civil date) next year's
	// arrangement is not loaded yet, or this year's is not.
	NextYearMissing bool
	// ThisYearMissing: due dates of this year are provisional already.
	ThisYearMissing bool
}

// HTTPBuckets are the request latency buckets (seconds): fine below 10 ms,
// where intake lives, coarse above.
var HTTPBuckets = []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// New registers the metrics; queueJobs, when not nil, reports the queue
// size on scrape (WatchQueue reports more).
func New(queueJobs func() float64) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.erasure = newErasureMetrics(m.reg)
	m.dispatches = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "onething_dispatches_total", Help: "Task dispatch attempts by department and outcome (received, accepted, approved, rejected, retry, deferred).",
	}, []string{"dept", "outcome"})
	m.deadLetters = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "onething_dead_letters_total", Help: "Tasks parked as dead letters, by department.",
	}, []string{"dept"})
	m.pushes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "onething_status_pushes_total", Help: "Status pushes to the portal by result.",
	}, []string{"result"})
	m.breakerState = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "onething_breaker_state", Help: "Circuit breaker state per remote system: 0 closed, 1 half-open, 2 open.",
	}, []string{"system"})
	m.calendarGaps = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "onething_calendar_missing_year_total", Help: "Deadline computations that hit a year the working-day calendar lacks.",
	}, []string{"year"})

	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "onething_http_requests_total", Help: "HTTP requests served, by method, route template and status code.",
	}, []string{"method", "route", "code"})
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "onething_http_request_duration_seconds", Help: "Time to serve an HTTP request, by method and route template.",
		Buckets: HTTPBuckets,
	}, []string{"method", "route"})
	m.httpInFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "onething_http_requests_in_flight", Help: "HTTP requests being served now.",
	})
	m.retries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "onething_job_retries_total", Help: "Durable retries scheduled after a failed remote call, by remote system and job kind.",
	}, []string{"system", "kind"})
	m.taskEvents = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "onething_task_events_total", Help: "Department events by department, source (posted to the gateway, polled from the department), outcome (applied, duplicate, stale) and the task's state after it.",
	}, []string{"dept", "source", "outcome", "state"})
	m.pastDue = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "onething_tasks_parked_past_due_total", Help: "Tasks parked because retrying would pass the case's legal due date, by department.",
	}, []string{"dept"})
	m.handedBack = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "onething_jobs_handed_back_total", Help: "Jobs cut short by a shutdown and handed back to the queue at once.",
	})
	m.putBack = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "onething_jobs_put_back_total", Help: "Leased jobs a worker had no room for (its system's share and its hold full) and put back to the queue without using an attempt, by remote system.",
	}, []string{"system"})

	m.openApps = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "onething_open_applications", Help: "Applications with work left (a task not final or a version not pushed), at the last scan.",
	})
	m.openTasks = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "onething_open_tasks", Help: "Tasks of open applications by department and state, at the last scan.",
	}, []string{"dept", "state"})
	m.overdue = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "onething_overdue_tasks", Help: "Unfinished tasks past their legal due date, by department, at the last scan.",
	}, []string{"dept"})
	m.pushPending = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "onething_status_pushes_pending", Help: "Applications whose newest version the portal has not been sent yet, at the last scan.",
	})
	m.parked = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "onething_dead_letters", Help: "Dead letters waiting for an operator, at the last scan.",
	})
	m.scanDuration = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "onething_scan_duration_seconds", Help: "How long the last scan of open applications took.",
	})
	m.scanTime = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "onething_scan_last_success_timestamp_seconds", Help: "When the last scan of open applications finished (Unix time).",
	})

	calendarGauge := func(name, help string, value func(CalendarState) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
			if fn := m.calendar.Load(); fn != nil {
				return value((*fn)())
			}
			return 0
		})
	}
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	m.reg.MustRegister(
		calendarGauge("onething_calendar_last_year", "Last year the working-day calendar has the State Council's arrangement for (0: none, or not yet reported).",
			func(s CalendarState) float64 { return float64(s.LastYear) }),
		calendarGauge("onething_calendar_next_year_missing", "1 from 1 November (China) while next year's holiday arrangement is not loaded (or this year's is not): import it with onething calendar import.",
			func(s CalendarState) float64 { return b2f(s.NextYearMissing) }),
		calendarGauge("onething_calendar_this_year_missing", "1 while this year's holiday arrangement is not loaded: due dates are provisional (statutory rule, no 调休).",
			func(s CalendarState) float64 { return b2f(s.ThisYearMissing) }),
	)
	m.reg.MustRegister(m.dispatches, m.deadLetters, m.pushes, m.breakerState, m.calendarGaps,
		m.httpRequests, m.httpDuration, m.httpInFlight, m.retries, m.taskEvents, m.pastDue, m.handedBack, m.putBack,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo())
	if queueJobs != nil {
		m.queueOnce.Do(func() {
			m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "onething_queue_jobs", Help: "Jobs in the durable queue (due, waiting and leased).",
			}, queueJobs))
		})
	}
	// Every department's (and the portal's) series show from the start, at
	// 0, so that a rate or an alert on them has a series before the first
	// event (an outside tester found them missing until then).
	for _, d := range c.Depts {
		m.breakerState.WithLabelValues(string(d))
		m.overdue.WithLabelValues(string(d))
		m.deadLetters.WithLabelValues(string(d))
		m.pastDue.WithLabelValues(string(d))
		m.putBack.WithLabelValues(string(d))
		for _, kind := range []string{"dispatch", "poll"} {
			m.retries.WithLabelValues(string(d), kind)
		}
	}
	m.breakerState.WithLabelValues("portal")
	m.putBack.WithLabelValues("portal")
	m.retries.WithLabelValues("portal", "push")
	return m
}

// stampedVersion and stampedRevision are the build's stamp (SetBuild).
var stampedVersion, stampedRevision string

// SetBuild gives onething_build_info the version and commit the command
// knows from its -ldflags stamp (these machines build without VCS
// stamping, so the module's build information has none). Call it before
// New.
func SetBuild(version, revision string) { stampedVersion, stampedRevision = version, revision }

// buildInfo is onething_build_info{version, revision, goversion} 1: the
// stamp (SetBuild) first, else the module's build information.
func buildInfo() prometheus.Collector {
	version, revision, goVersion := "unknown", "unknown", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	if stampedVersion != "" {
		version = stampedVersion
	}
	if stampedRevision != "" {
		revision = stampedRevision
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "onething_build_info", Help: "The running build (always 1).",
		ConstLabels: prometheus.Labels{"version": version, "revision": revision, "goversion": goVersion},
	})
	g.Set(1)
	return g
}

// Registry is the registry, for tests and for adding collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler { return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}) }

// Dispatched counts a dispatch outcome.
func (m *Metrics) Dispatched(dept c.Dept, outcome string) {
	m.dispatches.WithLabelValues(string(dept), outcome).Inc()
}

// DeadLettered counts a dead letter.
func (m *Metrics) DeadLettered(dept c.Dept) { m.deadLetters.WithLabelValues(string(dept)).Inc() }

// Pushed counts a status push.
func (m *Metrics) Pushed(ok bool) {
	r := "ok"
	if !ok {
		r = "failed"
	}
	m.pushes.WithLabelValues(r).Inc()
}

// Retried counts a durable retry of a job of a kind against a system.
func (m *Metrics) Retried(system, kind string) { m.retries.WithLabelValues(system, kind).Inc() }

// EventApplied counts a department event by its source ("posted" to
// the gateway or "polled" from the department), outcome and resulting
// state. Any other source is counted as "unknown": the label stays small.
func (m *Metrics) EventApplied(dept c.Dept, source, outcome string, state c.TaskState) {
	if outcome == "" {
		outcome = "unknown"
	}
	if source != "posted" && source != "polled" {
		source = "unknown"
	}
	m.taskEvents.WithLabelValues(string(dept), source, outcome, string(state)).Inc()
}

// ParkedPastDue counts a task parked because its due date was near.
func (m *Metrics) ParkedPastDue(dept c.Dept) { m.pastDue.WithLabelValues(string(dept)).Inc() }

// HandedBack counts jobs a shutdown cut short and gave back.
func (m *Metrics) HandedBack(n int) { m.handedBack.Add(float64(n)) }

// PutBack counts leased jobs put back for want of room, by remote system.
func (m *Metrics) PutBack(system string, n int) { m.putBack.WithLabelValues(system).Add(float64(n)) }

// BreakerState records a breaker's state (0 closed, 1 half-open, 2 open).
func (m *Metrics) BreakerState(system string, state int) {
	m.breakerState.WithLabelValues(system).Set(float64(state))
}

// CalendarGap counts a question about a year the calendar lacks.
func (m *Metrics) CalendarGap(year int) { m.calendarGaps.WithLabelValues(strconv.Itoa(year)).Inc() }

// WatchCalendar makes the onething_calendar_* gauges report fn's answer,
// asked at every scrape (so the 1 November switch needs no timer).
func (m *Metrics) WatchCalendar(fn func() CalendarState) {
	if fn == nil {
		m.calendar.Store(nil)
		return
	}
	m.calendar.Store(&fn)
}

// HTTPStarted counts a request in flight; call the result when it is done.
func (m *Metrics) HTTPStarted() func() {
	m.httpInFlight.Inc()
	return m.httpInFlight.Dec
}

// HTTP records a served request: route is the route template ("" for
// no route), never the raw path, so ids do not become labels.
func (m *Metrics) HTTP(method, route string, code int, elapsed time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.httpRequests.WithLabelValues(method, route, strconv.Itoa(code)).Inc()
	m.httpDuration.WithLabelValues(method, route).Observe(elapsed.Seconds())
}

// QueueStatsFunc reads the queue's size, leased jobs and oldest due time.
type QueueStatsFunc func(ctx context.Context) (jobs, leased int, oldestDue time.Time, err error)

// WatchQueue reports the queue on every scrape, with one read of the
// store: onething_queue_jobs, onething_queue_leased_jobs and
// onething_queue_oldest_ready_age_seconds (how long the oldest job that is
// due now has waited; 0 when none is due). A failed read is reported as
// onething_queue_up 0.
func (m *Metrics) WatchQueue(fn QueueStatsFunc) {
	m.queueOnce.Do(func() { m.reg.MustRegister(&queueCollector{fn: fn}) })
}

var (
	descQueueJobs   = prometheus.NewDesc("onething_queue_jobs", "Jobs in the durable queue (due, waiting and leased).", nil, nil)
	descQueueLeased = prometheus.NewDesc("onething_queue_leased_jobs", "Jobs held by a worker now.", nil, nil)
	descQueueAge    = prometheus.NewDesc("onething_queue_oldest_ready_age_seconds", "How long the oldest due job has been waiting to be taken (0: none due).", nil, nil)
	descQueueUp     = prometheus.NewDesc("onething_queue_up", "Whether the queue could be read at this scrape (1) or not (0).", nil, nil)
)

type queueCollector struct{ fn QueueStatsFunc }

func (q *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descQueueJobs
	ch <- descQueueLeased
	ch <- descQueueAge
	ch <- descQueueUp
}

func (q *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	jobs, leased, oldest, err := q.fn(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(descQueueUp, prometheus.GaugeValue, 0)
		return
	}
	age := 0.0
	if !oldest.IsZero() {
		age = max(0, time.Since(oldest).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(descQueueUp, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(descQueueJobs, prometheus.GaugeValue, float64(jobs))
	ch <- prometheus.MustNewConstMetric(descQueueLeased, prometheus.GaugeValue, float64(leased))
	ch <- prometheus.MustNewConstMetric(descQueueAge, prometheus.GaugeValue, age)
}

// Scan is what one pass over the open applications found.
type Scan struct {
	OpenApplications int
	// Tasks counts the open applications' tasks by department and state.
	Tasks map[c.Dept]map[c.TaskState]int
	// Overdue counts unfinished tasks past their due date by department.
	Overdue     map[c.Dept]int
	PushPending int
	// DeadLetters is the number parked now (-1: not read).
	DeadLetters int
	Took        time.Duration
	FinishedAt  time.Time
}

// SetScan publishes a scan's figures.
func (m *Metrics) SetScan(s Scan) {
	m.openApps.Set(float64(s.OpenApplications))
	m.openTasks.Reset()
	for d, states := range s.Tasks {
		for st, n := range states {
			m.openTasks.WithLabelValues(string(d), string(st)).Set(float64(n))
		}
	}
	for _, d := range c.Depts {
		m.overdue.WithLabelValues(string(d)).Set(float64(s.Overdue[d]))
	}
	m.pushPending.Set(float64(s.PushPending))
	if s.DeadLetters >= 0 {
		m.parked.Set(float64(s.DeadLetters))
	}
	m.scanDuration.Set(s.Took.Seconds())
	m.scanTime.Set(float64(s.FinishedAt.Unix()))
}

// RegisterScanGauges adds the gauges a scan fills; a backend that cannot
// list its open applications leaves them out rather than report zeros.
func (m *Metrics) RegisterScanGauges(withOpenApps bool) {
	m.reg.MustRegister(m.parked, m.scanDuration, m.scanTime)
	if withOpenApps {
		m.reg.MustRegister(m.openApps, m.openTasks, m.overdue, m.pushPending)
	}
}

// RegisterUnreplicatedWrites adds the count of store writes refused for
// want of replicas (a Redis store with redis.minReplicas): each was
// answered 503 and stays written. A store without replicas has no such
// metric.
func (m *Metrics) RegisterUnreplicatedWrites(count func() float64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "onething_store_writes_unreplicated_total",
		Help: "Store writes not confirmed by redis.minReplicas replicas in time (answered 503, kept written).",
	}, count))
}
