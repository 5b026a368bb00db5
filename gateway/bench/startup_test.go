package bench

import (
	"strings"
	"testing"
)

// The start-up measure becomes the target per backend (met only
// on a store of a million, within 2 s to both probes), its own section
// of BENCHMARKS.md, and travels with the growth phase in a merge.
func TestStartupReported(t *testing.T) {
	rep := &Report{Backends: []Backend{
		{Name: "bolt", Startup: &Startup{Stored: 1_000_000, HealthzS: 0.05, ReadyzS: 0.06, StopS: 1.5, StoreSize: 10 << 30}},
		{Name: "redis", Startup: &Startup{Stored: 1_000_000, HealthzS: 0.04, ReadyzS: 2.5}},
		{Name: "small", Startup: &Startup{Stored: 40, HealthzS: 0.01, ReadyzS: 0.01}},
	}}
	met := map[string]bool{}
	for _, tg := range targets(rep) {
		if name, ok := strings.CutSuffix(tg.Name, ": start-up on a store of 1,000,000 applications"); ok {
			met[name] = tg.Met
			if tg.Want != "≤ 2 s to /healthz and /readyz" || !strings.Contains(tg.Measured, "/readyz") {
				t.Errorf("target %+v", tg)
			}
		}
	}
	if len(met) != 3 || !met["bolt"] || met["redis"] || met["small"] {
		t.Errorf("start-up targets met: %v, want bolt only (redis too slow to /readyz, small too small)", met)
	}
	var md strings.Builder
	rep.Markdown(&md)
	if !strings.Contains(md.String(), "## Start-up") || !strings.Contains(md.String(), "| bolt | 1000000 | 0.05 s | 0.06 s | 1.50 s | file 10240 MiB |") {
		t.Errorf("BENCHMARKS.md's start-up section:\n%s", md.String())
	}
	m := Merge(&Report{Backends: []Backend{{Name: "bolt"}}}, &Report{Phases: []string{"growth"}, Backends: rep.Backends[:1]})
	if m.Backends[0].Startup == nil || m.Backends[0].Startup.ReadyzS != 0.06 {
		t.Errorf("merged growth phase without its start-up: %+v", m.Backends[0])
	}
}
