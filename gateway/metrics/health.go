package metrics

import "github.com/prometheus/client_golang/prometheus"

// Health is what the gateway says of itself besides requests and work:
// background tasks that failed, and stored records that do not open.
type Health struct {
	bgFailures *prometheus.CounterVec
	unreadable prometheus.Gauge
}

// BackgroundTasks are the gateway's background tasks (the label values of
// onething_background_failures_total).
var BackgroundTasks = []string{"reseal", "scan", "reconcile", "retention", "workers", "job"}

// NewHealth registers the health metrics on reg.
func NewHealth(reg prometheus.Registerer) *Health {
	h := &Health{
		bgFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onething_background_failures_total",
			Help: "Failures of background tasks (a panic or an error), by task: reseal, scan, reconcile, retention (the retention sweep), workers (the worker loop), job (one job a worker ran). The gateway keeps running; /readyz lists the last.",
		}, []string{"task"}),
		unreadable: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "onething_records_unreadable",
			Help: "Applications whose stored record does not open (a data key missing or replaced, the record damaged): a permanent error, listed by GET /v1/admin/unreadable-records. At the last scan.",
		}),
	}
	reg.MustRegister(h.bgFailures, h.unreadable)
	for _, t := range BackgroundTasks {
		h.bgFailures.WithLabelValues(t)
	}
	return h
}

// BackgroundFailed counts a failure of a background task.
func (h *Health) BackgroundFailed(task string) { h.bgFailures.WithLabelValues(task).Inc() }

// SetUnreadable publishes how many records do not open.
func (h *Health) SetUnreadable(n int) { h.unreadable.Set(float64(n)) }
