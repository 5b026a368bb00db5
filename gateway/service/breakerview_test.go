package service

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	c "onething/contracts"
)

// The breakers' view says a state its transitions agree with: an open
// breaker whose rest has passed turns half-open when asked, and that
// transition is in the list the same view gives (an outside tester read
// "half-open" with "half-open→open" as the last transition).
func TestBreakerViewAgreesWithItsTransitions(t *testing.T) {
	cfg := startupConfig(t, "bolt://"+filepath.Join(t.TempDir(), "o.db"))
	cfg.BreakerOpenFor = Duration(100 * time.Millisecond)
	initStore(t, cfg)
	s, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Store.Close()
	cl := s.breakers[string(c.DeptHRSS)] // its base URL refuses connections
	for i := 0; i < 20 && cl.BreakerState().String() != "open"; i++ {
		cl.OpenCase(context.Background(), "/cases", c.CaseRequest{}, "k", "r")
	}
	if got := cl.BreakerState().String(); got != "open" {
		t.Fatalf("breaker %s after refused connections, want open", got)
	}
	time.Sleep(200 * time.Millisecond) // its rest passes; nothing calls
	st := s.BreakerStatus()[string(c.DeptHRSS)]
	if len(st.Transitions) == 0 {
		t.Fatalf("view %+v: no transitions", st)
	}
	if last := st.Transitions[len(st.Transitions)-1]; st.State != "half-open" || last.To != st.State {
		t.Errorf("view says %s with last transition %s→%s, want half-open, reached by the last transition", st.State, last.From, last.To)
	}
}

// Every remote system's breaker and put-back series show from the start,
// a county's endpoint's too (its name is in /v1/admin/breakers from the
// start, and the README says it is in the metrics).
func TestEveryEndpointShowsInTheMetrics(t *testing.T) {
	cfg := startupConfig(t, "bolt://"+filepath.Join(t.TempDir(), "o.db"))
	cfg.CountyDepartments = []CountyDept{countyLink(c.DeptHRSS, "http://127.0.0.1:9/hrss-dachuan", "511703")}
	initStore(t, cfg)
	s, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Store.Close()
	mfs, err := s.Metrics.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "system" {
					seen[mf.GetName()+"/"+l.GetValue()] = true
				}
			}
		}
	}
	for _, want := range []string{"onething_breaker_state/hrss:511703", "onething_jobs_put_back_total/hrss:511703", "onething_breaker_state/portal"} {
		if !seen[want] {
			t.Errorf("no series %s at start", want)
		}
	}
}
