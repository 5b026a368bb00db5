package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"onething/gateway/bench"
)

// benchCmd is `onething bench`: loopback load against the gateway and its
// raw baseline, on both backends (see gateway/bench and docs/BENCHMARKS.md).
func benchCmd(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	backends := fs.String("backend", "bolt,redis", "backends to measure: bolt, redis or both")
	phases := fs.String("phases", "intake,baseline,e2e,growth", "phases: intake, baseline, e2e, growth")
	redisURL := fs.String("redis", "", "use this Redis (its database is flushed between phases!) instead of a private redis-server")
	duration := fs.Duration("duration", 10*time.Second, "length of each intake and baseline measurement")
	clients := fs.Int("clients", 32, "concurrent clients at saturation")
	rate := fs.Float64("rate", 0, "fixed offered rate, submissions/s (0: half the measured saturation)")
	e2e := fs.Int("e2e", 2000, "applications sent in the end-to-end phase")
	workers := fs.Int("workers", 32, "gateway workers in the end-to-end phase")
	perSystem := fs.Int("workers-per-system", 8, "gateway workers per remote system in the end-to-end phase")
	growTo := fs.Int("grow-to", 1_000_000, "applications stored by the end of the growth phase")
	growToBolt := fs.Int("grow-to-bolt", 0, "the embedded backend's growth size, if not --grow-to")
	growSteps := fs.Int("grow-steps", 10, "steps of the growth phase")
	dir := fs.String("dir", "", "working directory for stores and logs (default: a temporary one, removed)")
	profile := fs.String("profile", "", "write CPU profiles of the gateway (intake saturation, end to end) to this directory")
	commit := fs.String("commit", "", "the commit measured (default: the build's VCS revision)")
	asJSON := fs.Bool("json", false, "print the report as JSON instead of a table")
	out := fs.String("out", "", "also write the JSON report to this file")
	doc := fs.String("doc", "", "write the report as Markdown to this file (docs/BENCHMARKS.md)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	fs.Parse(args)

	o := bench.Options{Backends: split(*backends), Phases: split(*phases), RedisURL: *redisURL, Duration: *duration,
		Clients: *clients, Rate: *rate, E2E: *e2e, Workers: *workers, WorkersPerSystem: *perSystem,
		GrowTo: *growTo, GrowToBolt: *growToBolt, GrowSteps: *growSteps, Dir: *dir, Profile: *profile, Commit: *commit,
		Command: "onething bench " + strings.Join(args, " ")}
	if !*quiet {
		o.Progress = os.Stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := bench.Run(ctx, o)
	if rep == nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
	} else {
		rep.Table(os.Stdout)
	}
	if *out != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if werr := os.WriteFile(*out, append(b, '\n'), 0o644); werr != nil {
			return werr
		}
	}
	if *doc != "" {
		f, werr := os.Create(*doc)
		if werr != nil {
			return werr
		}
		rep.Markdown(f)
		if werr := f.Close(); werr != nil {
			return werr
		}
		fmt.Fprintln(os.Stderr, "wrote", *doc)
	}
	return err
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

// benchChild runs one process of a benchmark (internal).
func benchChild(args []string) error { return bench.Child(args) }
