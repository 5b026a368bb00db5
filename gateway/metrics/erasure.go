package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// erasureMetrics count erasures of personal data and time the retention
// sweep.
type erasureMetrics struct {
	erasures  *prometheus.CounterVec
	sweepTime prometheus.Gauge
}

func newErasureMetrics(reg *prometheus.Registry) erasureMetrics {
	m := erasureMetrics{
		erasures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onething_erasures_total", Help: "Applications whose personal part was erased, by kind (retention: the sweep; request: an admin on the person's request).",
		}, []string{"kind"}),
		sweepTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "onething_retention_sweep_last_success_timestamp_seconds", Help: "When this replica's last retention sweep finished (Unix time); one replica sweeps at a time.",
		}),
	}
	reg.MustRegister(m.erasures, m.sweepTime)
	m.erasures.WithLabelValues("retention")
	m.erasures.WithLabelValues("request")
	return m
}

// Erased counts one erasure of the kind (contracts.ErasureRetention or
// contracts.ErasureRequest).
func (m *Metrics) Erased(kind string) { m.erasure.erasures.WithLabelValues(kind).Inc() }

// RetentionSwept records a finished retention sweep.
func (m *Metrics) RetentionSwept(at time.Time) { m.erasure.sweepTime.Set(float64(at.Unix())) }
