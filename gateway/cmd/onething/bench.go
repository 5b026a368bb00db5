package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"onething/gateway/bench"
)

func init() {
	register(groupRun, newBenchCmd)
	register(groupRun, newBenchChildCmd)
}

// newBenchCmd is `onething bench`: loopback load against the gateway and
// its raw baseline, on both backends (see gateway/bench and
// docs/BENCHMARKS.md).
func newBenchCmd() *cobra.Command {
	var (
		o                          bench.Options
		backends, phases, out, doc string
		merge                      string
		asJSON, quiet              bool
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "本机回环基准：受理、端到端、增长 / loopback benchmark of intake, end to end and growth",
		Long: `本机回环基准 / a loopback benchmark of the gateway against the raw cost of its own parts, on
both backends: intake at saturation and at a fixed rate, the raw baseline, end to end through the
mock departments beside its raw baseline (a minimal relay with the same exchanges and one durable
write per step), and growth of the store (docs/BENCHMARKS.md). The gateway and the baselines run
as child processes of this binary ("onething bench-child"). It takes long with the defaults.
The retention phase makes --retention-per-day applications final on each of --retention-run
simulated days and runs the retention sweep with --retention-days: storage levels off.
The console phase (opt-in) fills a store with --console-apps applications and reads the case list
of one town through the console, signed in as its clerk.
--merge FILE keeps the report in FILE and replaces only the figures of the phases run.`,
		Example: `  onething bench --backend redis --phases intake,baseline --duration 10s
  onething bench --json > bench.json
  onething bench --doc docs/BENCHMARKS.md --grow-to 1000000 --grow-to-bolt 100000
  onething bench --phases console --console-apps 1000000   # the console's case list on a large store
  onething bench --phases retention --merge docs/benchmarks.json --out docs/benchmarks.json --doc docs/BENCHMARKS.md`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Backends, o.Phases = split(backends), split(phases)
			// The command line as given, for the report.
			o.Command = "onething bench " + strings.Join(os.Args[2:], " ")
			if o.Commit == "" {
				// The build's stamp; without one, bench falls back on
				// the VCS revision the build recorded.
				o.Commit = stamped(commit)
			}
			if !quiet {
				o.Progress = cmd.ErrOrStderr()
			}
			var base *bench.Report
			if merge != "" {
				// Read before the run: a bad file fails at once.
				data, rerr := os.ReadFile(merge)
				if rerr != nil {
					return rerr
				}
				base = new(bench.Report)
				if rerr := json.Unmarshal(data, base); rerr != nil {
					return fmt.Errorf("--merge %s: %w", merge, rerr)
				}
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			rep, err := bench.Run(ctx, o)
			if rep == nil {
				return err
			}
			if base != nil {
				if err != nil {
					// An interrupted run does not replace good figures.
					return fmt.Errorf("not merged into %s: %w", merge, err)
				}
				rep = bench.Merge(base, rep)
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if werr := enc.Encode(rep); werr != nil {
					return werr
				}
			} else {
				rep.Table(cmd.OutOrStdout())
			}
			if out != "" {
				b, werr := json.MarshalIndent(rep, "", "  ")
				if werr != nil {
					return werr
				}
				if werr := os.WriteFile(out, append(b, '\n'), 0o644); werr != nil {
					return werr
				}
			}
			if doc != "" {
				f, werr := os.Create(doc)
				if werr != nil {
					return werr
				}
				rep.Markdown(f)
				if werr := f.Close(); werr != nil {
					return werr
				}
				fmt.Fprintln(cmd.ErrOrStderr(), "wrote", doc)
			}
			return err
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&backends, "backend", "bolt,redis", "backends to measure: bolt, redis or both")
	fs.StringVar(&phases, "phases", "intake,baseline,e2e,growth,retention", "phases: intake, baseline, e2e, growth, retention, console (opt-in: the console's case list on a store of --console-apps)")
	fs.IntVar(&o.RetentionPerDay, "retention-per-day", 1000, "retention phase: applications made final each simulated day")
	fs.IntVar(&o.RetentionRun, "retention-run", 0, "retention phase: simulated days (0: three times --retention-days)")
	fs.IntVar(&o.RetentionDays, "retention-days", 30, "retention phase: the retention the sweep runs with, in days")
	fs.StringVar(&merge, "merge", "", "start from the report in this file and replace only the figures of the phases run (then --out may name the same file)")
	fs.IntVar(&o.ConsoleApps, "console-apps", 1_000_000, "applications stored before the console phase reads the case list")
	fs.StringVar(&o.RedisURL, "redis", "", "use this Redis (its database is flushed between phases!) instead of a private redis-server")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "length of each intake and baseline measurement")
	fs.IntVar(&o.Clients, "clients", 32, "concurrent clients at saturation")
	fs.Float64Var(&o.Rate, "rate", 0, "fixed offered rate, submissions/s (0: half the measured saturation)")
	fs.IntVar(&o.E2E, "e2e", 2000, "applications sent in the end-to-end phase")
	fs.IntVar(&o.Workers, "workers", 32, "gateway workers in the end-to-end phase")
	fs.IntVar(&o.WorkersPerSystem, "workers-per-system", 8, "gateway workers per remote system in the end-to-end phase")
	fs.IntVar(&o.GrowTo, "grow-to", 1_000_000, "applications stored by the end of the growth phase")
	fs.IntVar(&o.GrowToBolt, "grow-to-bolt", 0, "the embedded backend's growth size, if not --grow-to")
	fs.IntVar(&o.GrowSteps, "grow-steps", 10, "steps of the growth phase")
	fs.StringVar(&o.Dir, "dir", "", "working directory for stores and logs (default: a temporary one, removed)")
	fs.StringVar(&o.Profile, "profile", "", "write CPU profiles of the gateway (intake saturation, end to end) and its allocations to this directory")
	fs.StringVar(&o.Commit, "commit", "", "the commit measured (default: the build's stamp, else its VCS revision)")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON instead of a table")
	fs.StringVar(&out, "out", "", "also write the JSON report to this file")
	fs.StringVar(&doc, "doc", "", "write the report as Markdown to this file (docs/BENCHMARKS.md)")
	fs.BoolVar(&quiet, "quiet", false, "no progress bar")
	return cmd
}

func split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// newBenchChildCmd is `onething bench-child ROLE …`, one process of a
// benchmark, started by `onething bench` (internal: hidden from help).
// Its arguments go to bench.Child as they are.
func newBenchChildCmd() *cobra.Command {
	return &cobra.Command{
		Use:                "bench-child ROLE [FLAGS…]",
		Short:              "基准的子进程（内部）/ one process of a benchmark (internal)",
		Example:            `  onething bench-child gateway --config gateway.json --debug 127.0.0.1:0 --log gateway.log`,
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return bench.Child(args)
		},
	}
}
