package devstack_test

import (
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"testing"
	"time"

	c "onething/contracts"
	"onething/gateway/devstack"
	"onething/gateway/service"
	"onething/mocks"
)

// TestTaskEventsCountedBySource: the departments' events reach the
// gateway both ways, and /metrics counts both. civil and medical post
// signed events to POST /v1/departments/{dept}/events (hrss decides in
// its reply to the dispatch); cdpf posts none and is polled. After the
// case completes, onething_task_events_total has applied samples with
// source="posted" for civil and medical and one with source="polled" for
// cdpf (the dashboard's "department events by outcome" panel reads them).
func TestTaskEventsCountedBySource(t *testing.T) {
	st, err := devstack.Start(devstack.Options{
		Dir: t.TempDir(), Delay: 30 * time.Millisecond,
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Faults: map[c.Dept]mocks.Faults{c.DeptCDPF: {NoCallbacks: true}},
		Tune: func(cfg *service.Config) {
			cfg.BaseBackoff, cfg.MaxBackoff = service.Duration(20*time.Millisecond), service.Duration(200*time.Millisecond)
			dc := cfg.Departments[c.DeptCDPF]
			dc.PollEvery = service.Duration(50 * time.Millisecond)
			cfg.Departments[c.DeptCDPF] = dc
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Stop() })
	hc := &http.Client{Timeout: 10 * time.Second}

	acc := submitExample(t, st, hc, "submission-full.json", "msg_events_by_source")
	waitCompleted(t, st, hc, acc.ApplicationID, 20*time.Second)

	resp, err := hc.Get(st.GatewayURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []struct{ dept, source string }{{"civil", "posted"}, {"medical", "posted"}, {"cdpf", "polled"}} {
		sample := regexp.MustCompile(`(?m)^onething_task_events_total\{dept="` + want.dept + `",outcome="applied",source="` + want.source + `",state="[a-z_]+"\} [1-9]`)
		if !sample.Match(body) {
			t.Errorf("no applied %s event from %s counted:\n%s", want.source, want.dept, regexp.MustCompile(`(?m)^onething_task_events_total.*$`).FindAll(body, -1))
		}
	}
	if regexp.MustCompile(`(?m)^onething_task_events_total\{[^}]*source="unknown"`).Match(body) {
		t.Error("an event of unknown source")
	}
}
