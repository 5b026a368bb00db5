// Package metrics holds the gateway's Prometheus metrics.
package metrics

import (
	"net/http"
	"strconv"

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
}

// New registers the metrics; queueJobs reports the queue size on scrape.
func New(queueJobs func() float64) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
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
	m.reg.MustRegister(m.dispatches, m.deadLetters, m.pushes, m.breakerState, m.calendarGaps,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if queueJobs != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "onething_queue_jobs", Help: "Jobs in the durable queue (due, waiting and leased).",
		}, queueJobs))
	}
	for _, d := range c.Depts {
		m.breakerState.WithLabelValues(string(d))
	}
	return m
}

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

// BreakerState records a breaker's state (0 closed, 1 half-open, 2 open).
func (m *Metrics) BreakerState(system string, state int) {
	m.breakerState.WithLabelValues(system).Set(float64(state))
}

// CalendarGap counts a question about a year the calendar lacks.
func (m *Metrics) CalendarGap(year int) { m.calendarGaps.WithLabelValues(strconv.Itoa(year)).Inc() }
