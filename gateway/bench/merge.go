package bench

import (
	"slices"
	"strings"
)

// MergedRun is a later run whose phases replaced a report's figures for
// them (`onething bench --merge FILE`): the rest of the report is the
// earlier run's.
type MergedRun struct {
	Date     string   `json:"date"`
	Commit   string   `json:"commit"`
	Command  string   `json:"command"`
	Phases   []string `json:"phases"`
	Backends []string `json:"backends"`
	Go       string   `json:"go"`
	LoadAvg  string   `json:"loadAvg,omitempty"`
	LoadEnd  string   `json:"loadAvgEnd,omitempty"`
	Seconds  float64  `json:"seconds"`
}

// reportPhases are the phases a report measured: those it lists, or for
// a report from before it listed them, the phases with figures in it.
func reportPhases(rep *Report) []string {
	if len(rep.Phases) > 0 {
		return rep.Phases
	}
	var out []string
	has := func(p string, ok bool) {
		if ok && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	for _, be := range rep.Backends {
		has("intake", be.Saturation != nil)
		has("baseline", be.Baseline != nil)
		has("e2e", be.E2E != nil)
		has("growth", len(be.Growth) > 0)
		has("retention", be.Retention != nil)
		has("console", be.Console != nil)
	}
	return out
}

// Merge puts the figures of add's phases into base, for the backends add
// measured, and keeps base's others: running one phase again does not
// lose the rest of a report. base keeps its date, commit and machine, and
// lists add in Merged (replacing an earlier merge of the same phases).
func Merge(base, add *Report) *Report {
	out := *base
	out.Phases = reportPhases(base)
	phases := reportPhases(add)
	var backends []string
	out.Backends = slices.Clone(base.Backends)
	for _, nb := range add.Backends {
		backends = append(backends, nb.Name)
		i := slices.IndexFunc(out.Backends, func(b Backend) bool { return b.Name == nb.Name })
		if i < 0 {
			out.Backends = append(out.Backends, Backend{Name: nb.Name})
			i = len(out.Backends) - 1
		}
		be := &out.Backends[i]
		for _, p := range phases {
			mergePhase(be, &nb, p)
		}
		if be.Saturation != nil && be.Baseline != nil && be.Baseline.Rate > 0 {
			be.Ratio = be.Saturation.Rate / be.Baseline.Rate
		}
		be.E2ERatio = e2eRatio(be)
		// Errors start with their phase's name ("growth: …").
		be.Errors = slices.DeleteFunc(slices.Clone(be.Errors), func(e string) bool {
			return slices.ContainsFunc(phases, func(p string) bool { return strings.HasPrefix(e, p+": ") })
		})
		be.Errors = append(be.Errors, nb.Errors...)
	}
	for _, p := range phases {
		mergeOptions(&out.Options, &add.Options, p)
		if !slices.Contains(out.Phases, p) {
			out.Phases = append(out.Phases, p)
		}
	}
	if add.RedisConfig != "" {
		out.RedisConfig = add.RedisConfig
	}
	if out.Machine.Redis == "" {
		out.Machine.Redis = add.Machine.Redis
	}
	// An earlier merge keeps what this one does not replace: its backends
	// not run now, or its phases not run now.
	var merged []MergedRun
	subset := func(a, b []string) bool {
		return !slices.ContainsFunc(a, func(x string) bool { return !slices.Contains(b, x) })
	}
	for _, m := range base.Merged {
		switch {
		case subset(m.Phases, phases):
			m.Backends = slices.DeleteFunc(slices.Clone(m.Backends), func(b string) bool { return slices.Contains(backends, b) })
		case subset(m.Backends, backends):
			m.Phases = slices.DeleteFunc(slices.Clone(m.Phases), func(p string) bool { return slices.Contains(phases, p) })
		}
		if len(m.Phases) > 0 && len(m.Backends) > 0 {
			merged = append(merged, m)
		}
	}
	out.Merged = append(merged, MergedRun{Date: add.Date, Commit: add.Commit, Command: add.Command, Phases: phases, Backends: backends,
		Go: add.Machine.Go, LoadAvg: add.Machine.LoadAvg, LoadEnd: add.Machine.LoadAvgEnd, Seconds: add.Seconds})
	out.Targets = targets(&out)
	return &out
}

// mergePhase copies one phase's figures from nb into be.
func mergePhase(be, nb *Backend, phase string) {
	switch phase {
	case "intake":
		be.Saturation, be.Fixed, be.IntakeMemory = nb.Saturation, nb.Fixed, nb.IntakeMemory
	case "baseline":
		be.Baseline, be.BaselineFixed = nb.Baseline, nb.BaselineFixed
	case "e2e":
		be.E2E, be.E2EBaseline = nb.E2E, nb.E2EBaseline
	case "growth":
		be.Growth, be.Startup = nb.Growth, nb.Startup
	case "retention":
		be.Retention = nb.Retention
	case "console":
		be.Console = nb.Console
	}
}

// mergeOptions copies the settings of one phase.
func mergeOptions(o, n *OptionsJS, phase string) {
	switch phase {
	case "intake", "baseline":
		o.DurationS, o.Clients, o.Rate = n.DurationS, n.Clients, n.Rate
	case "e2e":
		o.E2E, o.Workers, o.WorkersPerSystem = n.E2E, n.Workers, n.WorkersPerSystem
	case "growth":
		o.GrowTo, o.GrowToBolt, o.GrowSteps = n.GrowTo, n.GrowToBolt, n.GrowSteps
	case "retention":
		o.RetentionPerDay, o.RetentionRun, o.RetentionDays = n.RetentionPerDay, n.RetentionRun, n.RetentionDays
	case "console":
		o.ConsoleApps = n.ConsoleApps
	}
}
