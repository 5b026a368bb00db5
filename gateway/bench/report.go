package bench

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

func mib(b uint64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func loadRow(l *Load) (rate, p50, p99, max string) {
	if l == nil {
		return "-", "-", "-", "-"
	}
	return fmt.Sprintf("%.0f/s", l.Rate), fmt.Sprintf("%.2f ms", l.P50), fmt.Sprintf("%.2f ms", l.P99), fmt.Sprintf("%.1f ms", l.Max)
}

// Table writes the final table for a terminal.
func (rep *Report) Table(w io.Writer) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "onething bench  %s  commit %s\n", rep.Date, rep.Commit)
	fmt.Fprintf(tw, "%s, %d cores, %.0f GiB, %s, load average %s → %s\n\n", rep.Machine.CPU, rep.Machine.Cores, rep.Machine.MemoryGiB, rep.Machine.Go,
		rep.Machine.LoadAvg, rep.Machine.LoadAvgEnd)
	fmt.Fprintln(tw, "backend\tmeasure\trate\tp50\tp99\tmax\tnote")
	for _, be := range rep.Backends {
		row := func(name string, l *Load, note string) {
			if l == nil {
				return
			}
			a, b, c, d := loadRow(l)
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", be.Name, name, a, b, c, d, note+l.forksNote())
		}
		if be.Saturation != nil {
			row("intake, saturation", be.Saturation, fmt.Sprintf("%d clients, %d accepted", be.Saturation.Clients, be.Saturation.Accepted))
		}
		if be.Fixed != nil {
			note := fmt.Sprintf("offered %.0f/s", be.Fixed.OfferedRate)
			if be.Fixed.Late > 0 {
				note += fmt.Sprintf(", %d sent late", be.Fixed.Late)
			}
			row("intake, fixed rate", be.Fixed, note)
		}
		if be.Baseline != nil {
			row("raw baseline, saturation", be.Baseline, fmt.Sprintf("gateway/baseline %.2f", be.Ratio))
		}
		if be.BaselineFixed != nil {
			row("raw baseline, fixed rate", be.BaselineFixed, fmt.Sprintf("offered %.0f/s, as the gateway", be.BaselineFixed.OfferedRate))
		}
		for _, m := range []struct {
			name string
			l    *Load
		}{{"CPU per submission", be.Saturation}, {"CPU per baseline request", be.Baseline}} {
			if m.l != nil && m.l.CPU != nil {
				fmt.Fprintf(tw, "%s\t%s\t%.0f µs\t\t\t\t%s\n", be.Name, m.name, m.l.CPU.Machine*1000, m.l.CPU.shares(inUS))
			}
		}
		for _, m := range []struct {
			name, cpu string
			e         *E2E
		}{{"end to end, 202→completed", "CPU per application", be.E2E}, {"e2e raw baseline (relay)", "CPU per relayed application", be.E2EBaseline}} {
			e := m.e
			if e == nil {
				continue
			}
			note := fmt.Sprintf("%d/%d completed, %d workers, per application %.1f case requests and %.1f pushes", e.Completed, e.Accepted, e.Workers, e.CaseRequests, e.Pushes)
			if e == be.E2EBaseline && be.E2ERatio > 0 {
				note += fmt.Sprintf("; gateway/baseline %.2f", be.E2ERatio)
			}
			fmt.Fprintf(tw, "%s\t%s\t%.0f/s\t%.0f ms\t%.0f ms\t%.0f ms\t%s\n", be.Name, m.name, e.PerSec, e.P50, e.P99, e.Max, note)
			if e.CPU != nil {
				fmt.Fprintf(tw, "%s\t%s\t%.1f ms\t\t\t\t%s\n", be.Name, m.cpu, e.CPU.Machine, e.CPU.shares(inMS))
			}
		}
		if cl := be.Console; cl != nil {
			fmt.Fprintf(tw, "%s\tconsole list, %d stored\t\t%.1f ms\tp95 %.1f ms\t%.1f ms\tnext page p95 %.1f ms, to-do p95 %.1f ms, town %s with %d cases\n",
				be.Name, cl.Stored, cl.P50, cl.P95, cl.Max, cl.NextP95, cl.TodoP95, cl.Town, cl.TownCases)
		}
		for _, g := range be.Growth {
			fmt.Fprintf(tw, "%s\tgrowth, %d stored\t%.0f/s\t%.2f ms\t%.2f ms\t\theap %s, RSS anon %s\n",
				be.Name, g.Stored, g.Rate, g.P50, g.P99, mib(g.Memory.HeapInuse), mib(g.Memory.RSSAnon))
		}
		if st := be.Startup; st != nil {
			fmt.Fprintf(tw, "%s\tstart-up, %d stored\t\t\t\t\t/healthz %.2f s, /readyz %.2f s (the growth gateway stopped in %.2f s)\n",
				be.Name, st.Stored, st.HealthzS, st.ReadyzS, st.StopS)
		}
		if rr := be.Retention; rr != nil {
			for _, d := range rr.shown() {
				fmt.Fprintf(tw, "%s\tretention %dd, day %d\t\t\t\t\t%d stored, %d traces, %s %s\n",
					be.Name, rr.RetentionDays, d.Day, d.Stored, d.Traces, rr.Bytes, mib(uint64(d.Bytes)))
			}
			fmt.Fprintf(tw, "%s\tretention\t\t\t\t\t%s\n", be.Name, rr.summary())
		}
		for _, e := range be.Errors {
			fmt.Fprintf(tw, "%s\terror\t%s\n", be.Name, e)
		}
	}
	tw.Flush()
	if len(rep.Targets) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "target\twant\tmeasured\tmet")
		for _, t := range rep.Targets {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, t.Want, t.Measured, yes(t.Met))
		}
		tw.Flush()
	}
}

// A CPU figure is shown in milliseconds (per application) or in
// microseconds (per submission).
type cpuUnit bool

const (
	inMS cpuUnit = false
	inUS cpuUnit = true
)

func (u cpuUnit) format(ms float64) string {
	if u == inUS {
		return fmt.Sprintf("%.0f µs", ms*1000)
	}
	return fmt.Sprintf("%.2f ms", ms)
}

// share is a process's share, or "-" where it was not read.
func (c *CPUCost) share(name string, u cpuUnit) string {
	if v, ok := c.Procs[name]; ok {
		return u.format(v)
	}
	return "-"
}

// shares lists each process's share, largest first.
func (c *CPUCost) shares(u cpuUnit) string {
	names := make([]string, 0, len(c.Procs))
	for n := range c.Procs {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return c.Procs[names[i]] > c.Procs[names[j]] })
	parts := []string{"machine"}
	for _, n := range names {
		parts = append(parts, n+" "+u.format(c.Procs[n]))
	}
	return strings.Join(parts, "; ")
}

// forksNote says when Redis forked for persistence during a measurement.
func (l *Load) forksNote() string {
	if l.RedisForks == 0 {
		return ""
	}
	return fmt.Sprintf(", Redis forked %d× (AOF rewrite or RDB save) during it", l.RedisForks)
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}

// Markdown writes docs/BENCHMARKS.md: how to run, the machine, the
// figures. The file is the tool's output, not edited by hand.
func (rep *Report) Markdown(w io.Writer) {
	p := func(f string, a ...any) { fmt.Fprintf(w, f, a...) }
	p("# Benchmarks\n\n")
	p("<!-- Written by `onething bench --doc docs/BENCHMARKS.md`. Do not edit by hand: run it again. -->\n\n")
	p("Generated by `onething bench` on %s from commit `%s`.\n\n", rep.Date, rep.Commit)
	p("## How to run\n\n")
	p("```sh\nmake bench                      # both backends, every phase, growth to 1,000,000 (long)\n")
	p("go run ./gateway/cmd/onething bench --phases retention --merge docs/benchmarks.json \\\n")
	p("    --out docs/benchmarks.json --doc docs/BENCHMARKS.md    # one phase again, the others' figures kept\n")
	p("go run ./gateway/cmd/onething bench --backend redis --phases intake,baseline --duration 10s\n")
	p("go run ./gateway/cmd/onething bench --json > bench.json      # machine-readable\n")
	p("go run ./gateway/cmd/onething bench --doc docs/BENCHMARKS.md # rewrite this file\n```\n\n")
	p("Everything runs on loopback on one machine: the gateway as a child process of the bench (`onething bench-child`), ")
	p("a private `redis-server` run with `deploy/redis.conf` (AOF, `appendfsync always`) unless `--redis URL` is given, ")
	p("`onething mocks` for the four departments (zero delays) and a portal receiver inside the bench. The load ")
	p("generator shares the machine's cores with what it measures; so does the baseline, so the ratio is like for like.\n\n")
	p("- **intake**: signed submissions of `contracts/examples/submission-full.json`, each with its own portal reference and ")
	p("webhook id, to a gateway that serves HTTP without its queue workers (so only intake is measured). Saturation: ")
	p("`clients` requests always in flight (closed loop). Fixed rate: an open loop at the offered rate (half the saturation ")
	p("rate unless `--rate`), latency counted from when each request was due.\n")
	p("Before the fixed-rate measurement on Redis the bench has Redis rewrite its AOF and waits for it to end: a store ")
	p("filled from empty seconds before doubles its AOF every few seconds, so Redis would otherwise rewrite it (a fork ")
	p("writing the whole data set while every write is still fsynced) in nearly every measurement, which a deployed ")
	p("store, rewriting when its AOF doubles, does rarely. Each row says when Redis forked during it anyway.\n")
	p("- **raw baseline**: a bare gin handler that binds the same JSON into the same type and makes the same number of ")
	p("raw store writes as the gateway's intake (2 dedupe keys, the application, the open index, a record and a due entry ")
	p("per first job) in one atomic fsynced write (Redis `MULTI/EXEC`, one bbolt transaction); no signature check, ")
	p("validation, dedupe lookups or planning.\n")
	p("- **end to end**: the gateway with its workers, the department mocks and the portal receiver; applications are sent ")
	p("by 16 clients, and each one's time runs from its 202 to the portal receiving `completed`; the rate is completed ")
	p("applications over the time from the first submission to the last completion.\n")
	p("- **end-to-end raw baseline**: in the same phase, on the same backend, after the gateway (each on an empty store, with ")
	p("mocks and a receiver of its own), a minimal relay (`onething bench-child relay`) takes the same load through the same ")
	p("exchanges: the signed submissions, the same case requests to the same mocks (the gateway's adapters' request mappings ")
	p("and appKey signature, the same number per application), their signed callbacks, and the signed status pushes to the ")
	p("receiver, which counts completions alike; it checks the Standard Webhooks signatures (HMAC and timestamp) of what it ")
	p("receives and nothing else. Each step (the submission, each case answer, each callback, each push sent) is one small ")
	p("durable write through the store's own committer (bbolt `Bolt.PutRaw`, Redis `Redis.PutRaw`: the paths of the store's ")
	p("writes, the same fsync policy), so a change to how the store commits moves both sides alike. No rules, sealing, ")
	p("timeline, dedupe or durable queue: its state is in memory. It follows the route the gateway plans for the example, ")
	p("planned once at start, and runs at most as many calls at once as the gateway's workers (in all and per system).\n")
	p("- **growth**: intake at saturation in steps while the store fills up; memory is the gateway process's Go heap in ")
	p("use and its anonymous resident memory (file pages, such as bbolt's memory map, are not counted there). With no ")
	p("workers the queue also keeps every application's first jobs, which is harsher than a working deployment.\n")
	p("- **start-up**: after the growth phase, its gateway is stopped (SIGTERM) and started again on the same store, with ")
	p("its workers as `serve` runs them; the time runs from the process's start to the first 200 of `/healthz` and of ")
	p("`/readyz` (polled every 5 ms). The store's pages are mostly in the page cache then, as on a gateway restarted on ")
	p("its own machine.\n")
	p("- **retention**: storage under the retention sweep, on a simulated business clock (see its section).\n\n")
	p("`--merge FILE` starts from the report in FILE and replaces the figures of the phases run (for the backends run) ")
	p("with the new ones, keeping the rest: the report then says which phases came from which run. docs/benchmarks.json ")
	p("is only ever written by the tool, never by hand.\n\n")
	p("## The machine\n\n")
	m := rep.Machine
	p("| | |\n|---|---|\n| CPU | %s |\n| cores | %d (GOMAXPROCS %d) |\n| memory | %.0f GiB |\n| kernel | %s |\n| Go | %s |\n",
		m.CPU, m.Cores, m.GOMAXPROCS, m.MemoryGiB, m.Kernel, m.Go)
	if m.Redis != "" {
		p("| Redis | %s, %s |\n", m.Redis, rep.RedisConfig)
	}
	p("| load average (1, 5, 15 min) | %s at the start, %s at the end |\n", m.LoadAvg, m.LoadAvgEnd)
	p("\nCommand: `%s` (%.0f s).\n\n", rep.Command, rep.Seconds)
	if len(rep.Merged) > 0 {
		p("Merged into this report (`--merge`), replacing the figures of these phases:\n\n")
		for _, m := range rep.Merged {
			p("- %s on %s: %s from commit `%s`, %s, load average %s → %s, `%s` (%.0f s).\n", strings.Join(m.Phases, ", "), strings.Join(m.Backends, " and "),
				m.Date, m.Commit, m.Go, m.LoadAvg, m.LoadEnd, m.Command, m.Seconds)
		}
		p("\nThe machine above is the first run's; the load average shows what else ran during each.\n\n")
	}
	o := rep.Options
	growth := fmt.Sprintf("growth to %d in %d steps", o.GrowTo, o.GrowSteps)
	if o.GrowToBolt > 0 {
		growth = fmt.Sprintf("growth to %d on Redis and %d on bolt, in %d steps", o.GrowTo, o.GrowToBolt, o.GrowSteps)
	}
	p("Settings: %.0f s per intake measurement, %d clients at saturation, %d applications end to end with %d workers (%d per system), %s.\n\n",
		o.DurationS, o.Clients, o.E2E, o.Workers, o.WorkersPerSystem, growth)
	p("## Targets\n\n| target | want | measured | met |\n|---|---|---|---|\n")
	for _, t := range rep.Targets {
		p("| %s | %s | %s | %s |\n", t.Name, t.Want, t.Measured, yes(t.Met))
	}
	p("\n## Intake and baseline\n\n| backend | measure | accepted/s | p50 | p99 | max | note |\n|---|---|---|---|---|---|---|\n")
	for _, be := range rep.Backends {
		row := func(name string, l *Load, note string) {
			if l == nil {
				return
			}
			a, b, c, d := loadRow(l)
			p("| %s | %s | %s | %s | %s | %s | %s |\n", be.Name, name, a, b, c, d, note+l.forksNote())
		}
		if be.Saturation != nil {
			row("gateway intake, saturation", be.Saturation, fmt.Sprintf("%d clients, %d accepted, %d failed", be.Saturation.Clients, be.Saturation.Accepted, be.Saturation.Failed))
		}
		if be.Fixed != nil {
			note := fmt.Sprintf("offered %.0f/s, %d accepted, %d failed", be.Fixed.OfferedRate, be.Fixed.Accepted, be.Fixed.Failed)
			if be.Fixed.Late > 0 {
				note += fmt.Sprintf(", %d sent late (offer not met)", be.Fixed.Late)
			}
			row("gateway intake, fixed rate", be.Fixed, note)
		}
		if be.Baseline != nil {
			row("raw baseline, saturation", be.Baseline, fmt.Sprintf("gateway / baseline = **%.2f**", be.Ratio))
		}
		if l := be.BaselineFixed; l != nil {
			row("raw baseline, fixed rate", l, fmt.Sprintf("offered %.0f/s (the gateway's fixed rate), %d accepted, %d failed", l.OfferedRate, l.Accepted, l.Failed))
		}
		if be.IntakeMemory != nil {
			p("| %s | gateway memory after intake | | | | | heap %s, RSS anon %s |\n", be.Name, mib(be.IntakeMemory.HeapInuse), mib(be.IntakeMemory.RSSAnon))
		}
	}
	p("\nCPU time per accepted submission at saturation (from `/proc`; the machine's figure adds the kernel's work, ")
	p("loopback TCP and fsyncs, and is what bounds the rate on these cores; the bench is the load generator):\n\n")
	p("| backend | measure | machine | server | Redis | bench | the cores allow at this cost |\n|---|---|---|---|---|---|---|\n")
	for _, be := range rep.Backends {
		for _, m := range []struct {
			name string
			l    *Load
		}{{"gateway intake", be.Saturation}, {"raw baseline", be.Baseline}} {
			if m.l == nil || m.l.CPU == nil {
				continue
			}
			c := m.l.CPU
			p("| %s | %s | %.0f µs | %s | %s | %s | %.0f/s |\n", be.Name, m.name, c.Machine*1000, c.share("server", inUS), c.share("redis", inUS), c.share("bench", inUS), c.Ceiling)
		}
	}
	p("\n## End to end\n\n| backend | through | completed/s | 202→completed p50 | p99 | max | completed | case requests per application | pushes per application | heap |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, be := range rep.Backends {
		for _, side := range e2eSides(&be) {
			e := side.e
			p("| %s | %s | %.0f | %.0f ms | %.0f ms | %.0f ms | %d of %d | %.1f | %.1f | %s |\n", be.Name, side.name, e.PerSec, e.P50, e.P99, e.Max, e.Completed, e.Accepted,
				e.CaseRequests, e.Pushes, mib(e.Memory.HeapInuse))
		}
	}
	for _, be := range rep.Backends {
		if be.E2ERatio > 0 {
			p("\n%s: gateway / end-to-end baseline = **%.2f** (completed applications per second).", be.Name, be.E2ERatio)
		}
	}
	p("\n\nCPU time per completed application (from `/proc`, first submission to last completion; the machine's figure ")
	p("adds the kernel's work for all of them, loopback TCP and fsyncs, and is what bounds the rate on these cores):\n\n")
	p("| backend | through | machine | gateway or relay | Redis | mocks | bench | the cores allow at this cost |\n|---|---|---|---|---|---|---|---|\n")
	for _, be := range rep.Backends {
		for _, side := range e2eSides(&be) {
			if c := side.e.CPU; c != nil {
				p("| %s | %s | %.2f ms | %s | %s | %s | %s | %.0f/s |\n", be.Name, side.name, c.Machine, c.share(side.proc, inMS), c.share("redis", inMS),
					c.share("mocks", inMS), c.share("bench", inMS), c.Ceiling)
			}
		}
	}
	p("\n## Growth\n\n| backend | stored | accepted/s | p50 | p99 | gateway heap | gateway RSS anon | store |\n|---|---|---|---|---|---|---|---|\n")
	for _, be := range rep.Backends {
		for _, g := range be.Growth {
			st := ""
			if g.RedisUsed > 0 {
				st = "Redis used " + mib(g.RedisUsed)
			} else if g.StoreSize > 0 {
				st = "file " + mib(uint64(g.StoreSize))
			}
			p("| %s | %d | %.0f | %.2f ms | %.2f ms | %s | %s | %s |\n", be.Name, g.Stored, g.Rate, g.P50, g.P99, mib(g.Memory.HeapInuse), mib(g.Memory.RSSAnon), st)
		}
	}
	startupMarkdown(p, rep)
	retentionMarkdown(p, rep)
	if rep.Options.ConsoleApps > 0 {
		consoleMarkdown(p, rep)
	}
	var errs []string
	for _, be := range rep.Backends {
		for _, e := range be.Errors {
			errs = append(errs, be.Name+" "+e)
		}
	}
	if len(errs) > 0 {
		p("\n## Errors in this run\n\n")
		for _, e := range errs {
			p("- %s\n", strings.ReplaceAll(e, "\n", " "))
		}
	}
	p("\nProfiles and what was changed because of them: docs/PROFILING.md.\n")
}

// e2eSide is one side of the end-to-end comparison: its name in the
// tables, its process's name in the CPU figures, its figures.
type e2eSide struct {
	name, proc string
	e          *E2E
}

// e2eSides are a backend's end-to-end measurements: the gateway's, then
// the relay's.
func e2eSides(be *Backend) []e2eSide {
	var out []e2eSide
	if be.E2E != nil {
		out = append(out, e2eSide{"gateway", "gateway", be.E2E})
	}
	if be.E2EBaseline != nil {
		out = append(out, e2eSide{"raw relay (baseline)", "relay", be.E2EBaseline})
	}
	return out
}

// startupMarkdown is the restart on the grown store.
func startupMarkdown(p func(string, ...any), rep *Report) {
	var rows []string
	for _, be := range rep.Backends {
		st := be.Startup
		if st == nil {
			continue
		}
		size := ""
		if st.RedisUsed > 0 {
			size = "Redis used " + mib(st.RedisUsed)
		} else if st.StoreSize > 0 {
			size = "file " + mib(uint64(st.StoreSize))
		}
		rows = append(rows, fmt.Sprintf("| %s | %d | %.2f s | %.2f s | %.2f s | %s |\n", be.Name, st.Stored, st.HealthzS, st.ReadyzS, st.StopS, size))
	}
	if len(rows) == 0 {
		return
	}
	p("\n## Start-up\n\nThe gateway started again on the store the growth phase filled (README, \"Start-up\").\n\n")
	p("| backend | stored | to /healthz 200 | to /readyz 200 | the growth gateway's stop | store |\n|---|---|---|---|---|---|\n")
	for _, r := range rows {
		p("%s", r)
	}
}

// consoleMarkdown is the console phase's section.
func consoleMarkdown(p func(string, ...any), rep *Report) {
	p("\n## Console list\n\n")
	p("`--phases console` (opt-in): the store is filled with %d applications by the bulk loader (bbolt in transactions of a thousand, Redis pipelined; ", rep.Options.ConsoleApps)
	p("sealed records like the intake's, five items each, spread over the towns of 通川区 and two years), then the clerk of one town, signed in, ")
	p("reads through the console handler on loopback HTTP, one request at a time: the first page of the case list (50 newest), the page after it (by cursor) ")
	p("and the 待办 page, each 200 times after 10 to warm up. Every page also counts the nav bar's 待办 from the lists.\n\n")
	p("| backend | stored | towns | the town's cases | fill | first page p50 | p95 | max | next page p95 | 待办 p95 | rows | load average |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, be := range rep.Backends {
		if cl := be.Console; cl != nil {
			p("| %s | %d | %d | %d | %.0f s | %.1f ms | %.1f ms | %.1f ms | %.1f ms | %.1f ms | %d | %s → %s |\n", be.Name, cl.Stored, cl.Towns, cl.TownCases, cl.FillS,
				cl.P50, cl.P95, cl.Max, cl.NextP95, cl.TodoP95, cl.Rows, cl.LoadAvg, cl.LoadAvgAfter)
		}
	}
}

// shown are the days a table shows: every RetentionDays/3 days (at least
// weekly), the day before the first erasure and the last day.
func (rr *RetentionRun) shown() []RetentionDay {
	var out []RetentionDay
	for i, d := range rr.Samples {
		if shownDay(i, rr.RetentionDays, len(rr.Samples)) {
			out = append(out, d)
		}
	}
	return out
}

func (rr *RetentionRun) summary() string {
	s := fmt.Sprintf("growth first week %s, last week %s (ratio %.2f); %.0f B per application, %.0f B per trace",
		mib(uint64(max(0, rr.FirstWeek))), mib(uint64(max(0, rr.LastWeek))), rr.WeekRatio, rr.PerApplication, rr.PerTrace)
	if rr.EndCompacted > 0 {
		s += fmt.Sprintf("; compacted copy at the end %s", mib(uint64(rr.EndCompacted)))
	}
	return s
}

// retentionMarkdown is the retention phase's section.
func retentionMarkdown(p func(string, ...any), rep *Report) {
	var runs []*Backend
	for i := range rep.Backends {
		if rep.Backends[i].Retention != nil {
			runs = append(runs, &rep.Backends[i])
		}
	}
	if len(runs) == 0 {
		return
	}
	o := rep.Options
	p("\n## Retention: storage under the sweep\n\n")
	p("`--phases retention`: on a simulated business clock, each day %d applications are submitted through the engine's intake code ", o.RetentionPerDay)
	p("(the personal data of `contracts/examples/submission-full.json`, sealed with the keys the bench's gateways use) into a store opened ")
	p("as the gateway opens it, then made final in one update (every item approved that day with a result and its department's ")
	p("timeline, the last status push delivered the same day), and the gateway's retention sweep (`retention.Sweeper.Pass`) runs ")
	p("with a retention of %d days at the end of the day; for %d days. The first jobs a submission queues are left out: in a working ", o.RetentionDays, o.RetentionRun)
	p("deployment they are done by the time a case is final. Each erasure keeps the application's pseudonymous trace and ")
	p("writes the sweep's audit entry (the audit log has its own retention, at least 180 days, longer than this run). ")
	p("Applications are final at 07:00 China time (23:00 UTC the day before): the counts follow the China civil date.\n\n")
	p("Measured at the end of each day, after the sweep: the applications still holding personal data (the store's retention ")
	p("list), the erased ones (traces), and Redis `used_memory` or the bbolt file's size. bbolt reuses the pages an erasure ")
	p("frees but never shrinks its file; `onething store compact` rewrites it offline without them (here: a copy, compacted).\n\n")
	for _, be := range runs {
		rr := be.Retention
		p("### %s (%s)\n\n", be.Name, rr.Bytes)
		live := rr.FullLive > 0
		p("| day | date | stored with personal data | traces | erased that day | %s |", rr.Bytes)
		if live {
			p(" pages in use |")
		}
		p("\n|---|---|---|---|---|---|%s\n", map[bool]string{true: "---|"}[live])
		p("| before | | 0 | 0 | 0 | %s |", mib(uint64(rr.EmptyBytes)))
		if live {
			p(" %s |", mib(uint64(rr.EmptyLive)))
		}
		p("\n")
		for _, d := range rr.shown() {
			p("| %d | %s | %d | %d | %d | %s |", d.Day, d.Date, d.Stored, d.Traces, d.ErasedThat, mib(uint64(d.Bytes)))
			if live {
				p(" %s |", mib(uint64(d.LiveBytes)))
			}
			p("\n")
		}
		weeks := "the measure"
		if live {
			weeks = "the pages in use"
		}
		p("\n- growth of %s over the first week %s, over the last week %s: **last week / first week = %.2f**\n",
			weeks, mib(uint64(max(0, rr.FirstWeek))), mib(uint64(max(0, rr.LastWeek))), rr.WeekRatio)
		if rr.FullCompacted > 0 {
			p("- a copy of the file compacted by `onething store compact`'s code: %s on day %d (%d applications with personal data, no traces), %s at the end (as many, and %d traces); its pages in use then: %s and %s\n",
				mib(uint64(rr.FullCompacted)), rr.RetentionDays-1, rr.RetentionDays*rr.PerDay, mib(uint64(rr.EndCompacted)), rr.Samples[len(rr.Samples)-1].Traces,
				mib(uint64(rr.FullLive)), mib(uint64(rr.EndLive)))
		}
		what := "used_memory on day " + strconv.Itoa(rr.RetentionDays-1) + " and at the end"
		if live {
			what = "the pages in use on day " + strconv.Itoa(rr.RetentionDays-1) + " and at the end"
		}
		p("- per final application with its personal part: **%.0f bytes**; per erased application (trace and audit entry): **%.0f bytes** (from %s)\n",
			rr.PerApplication, rr.PerTrace, what)
		if rr.PerApplication > 0 {
			if rr.WeekRatio <= 0.25 {
				p("- **levels off**: once the first applications pass their retention, only their traces add\n")
			} else {
				p("- **does not level off**: a trace keeps %.0f %% of what a final application costs, so once the first applications pass their ", 100*rr.PerTrace/rr.PerApplication)
				p("retention the store still grows at %.2f × its first week's rate, by the traces alone\n", rr.WeekRatio)
			}
		}
		p("- %d days simulated in %.0f s\n\n", rr.Days, rr.Seconds)
	}
}
