package metrics_test

import (
	"strings"
	"testing"

	"onething/gateway/metrics"
)

// The departments' and the portal's counters show at 0 from the start,
// before their first event, so that a rate or an alert has a series.
func TestCountersShowBeforeTheirFirstEvent(t *testing.T) {
	mfs, err := metrics.New(nil).Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := map[string]int{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := ""
			for _, l := range m.GetLabel() {
				labels += l.GetName() + "=" + l.GetValue() + ","
			}
			if strings.HasPrefix(mf.GetName(), "onething_") && m.GetCounter().GetValue() != 0 {
				t.Errorf("%s{%s} starts at %v, want 0", mf.GetName(), labels, m.GetCounter().GetValue())
			}
			series[mf.GetName()+"{"+labels+"}"]++
		}
	}
	for _, want := range []string{
		"onething_jobs_put_back_total{system=cdpf,}",
		"onething_jobs_put_back_total{system=portal,}",
		"onething_job_retries_total{kind=dispatch,system=civil,}",
		"onething_job_retries_total{kind=push,system=portal,}",
		"onething_tasks_parked_past_due_total{dept=medical,}",
		"onething_dead_letters_total{dept=hrss,}",
	} {
		if series[want] != 1 {
			t.Errorf("no series %s before any event", want)
		}
	}
}
