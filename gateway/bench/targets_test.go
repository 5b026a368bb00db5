package bench

import "testing"

// The intake targets are the issue's: Redis at 0.65 of its raw baseline
// with the gateway's CPU per submission at most twice the bare handler's,
// bolt at 0.9.
func TestIntakeTargets(t *testing.T) {
	cpu := func(server float64) *CPUCost { return &CPUCost{Procs: map[string]float64{"server": server}} }
	run := func(name string, ratio, gw, bare float64) Backend {
		return Backend{Name: name, Ratio: ratio,
			Saturation: &Load{Rate: 1000 * ratio, CPU: cpu(gw)}, Baseline: &Load{Rate: 1000, CPU: cpu(bare)}}
	}
	cases := []struct {
		be   Backend
		name string
		met  bool
	}{
		{run("redis", 0.70, 0.20, 0.12), "Redis intake over the raw baseline", true},
		{run("redis", 0.70, 0.30, 0.12), "Redis intake over the raw baseline", false}, // 2.5 × the CPU
		{run("redis", 0.60, 0.20, 0.12), "Redis intake over the raw baseline", false},
		{run("bolt", 0.95, 0.7, 0.6), "bolt intake over the raw baseline", true},
		{run("bolt", 0.85, 0.7, 0.6), "bolt intake over the raw baseline", false},
	}
	for _, c := range cases {
		var found bool
		for _, tg := range targets(&Report{Backends: []Backend{c.be}}) {
			if tg.Name == c.name {
				found = true
				if tg.Met != c.met {
					t.Errorf("%s at %.2f (CPU %.2f against %.2f): met %v, want %v (%s)", c.be.Name, c.be.Ratio,
						c.be.Saturation.CPU.Procs["server"], c.be.Baseline.CPU.Procs["server"], tg.Met, c.met, tg.Measured)
				}
			}
		}
		if !found {
			t.Errorf("no target %q for %s", c.name, c.be.Name)
		}
	}
}
