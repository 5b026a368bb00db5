package opstest

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"onething/gateway/bench"
	"onething/gateway/store/redistest"
)

// runBench runs `onething bench` as a process on both backends (bolt alone
// without Redis, outside CI), with --json into a temp dir, and returns its
// report, the backends asked for and the document it wrote.
func runBench(t *testing.T, args ...string) (bench.Report, []string, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the gateway, mocks and Redis as processes")
	}
	backends := "bolt,redis"
	if redistest.Binary() == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is required in CI")
		}
		backends = "bolt"
	}
	dir := t.TempDir()
	doc := filepath.Join(dir, "BENCHMARKS.md")
	cmd := exec.Command(build(t), append(append([]string{"bench", "--backend", backends}, args...),
		"--json", "--quiet", "--commit", "opstest", "--dir", dir, "--doc", doc)...)
	cmd.Dir = root // finds deploy/redis.conf
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("onething bench: %v\n%s", err, stderr.String())
	}
	var rep bench.Report
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("bench --json: %v\n%s", err, out)
	}
	return rep, strings.Split(backends, ","), doc
}

// A short `onething bench` on both backends: every phase runs and reports
// (the figures themselves belong to docs/BENCHMARKS.md, not to a test).
func TestBenchRuns(t *testing.T) {
	rep, backends, doc := runBench(t, "--duration", "1s", "--clients", "4", "--e2e", "10", "--grow-to", "40", "--grow-steps", "2",
		"--retention-per-day", "10", "--retention-days", "2", "--retention-run", "5")
	if rep.Commit != "opstest" || rep.Machine.Cores == 0 || len(rep.Backends) != len(backends) {
		t.Fatalf("report: %+v", rep)
	}
	for _, be := range rep.Backends {
		if len(be.Errors) > 0 {
			t.Errorf("%s: %v", be.Name, be.Errors)
		}
		if be.Saturation == nil || be.Saturation.Accepted == 0 || be.Fixed == nil || be.Fixed.Accepted == 0 || be.Baseline == nil || be.Baseline.Accepted == 0 || be.Ratio <= 0 {
			t.Errorf("%s intake/baseline missing: %+v", be.Name, be)
		}
		if be.E2E == nil || be.E2E.Accepted == 0 || be.E2E.Completed != be.E2E.Accepted {
			t.Errorf("%s end to end: %+v", be.Name, be.E2E)
		}
		// The raw relay completes what it accepted, through as many case
		// requests per application as the gateway.
		if rl := be.E2EBaseline; rl == nil || rl.Accepted == 0 || rl.Completed != rl.Accepted || be.E2ERatio <= 0 {
			t.Errorf("%s end-to-end baseline: %+v, ratio %v", be.Name, rl, be.E2ERatio)
		} else if be.E2E != nil && (rl.CaseRequests != be.E2E.CaseRequests || rl.CaseRequests == 0 || rl.Pushes == 0) {
			t.Errorf("%s: %v case requests per application through the relay, %v through the gateway; %v pushes", be.Name, rl.CaseRequests, be.E2E.CaseRequests, rl.Pushes)
		}
		if !slices.ContainsFunc(rep.Targets, func(tg bench.Target) bool { return tg.Name == be.Name+": end to end over the end-to-end baseline" }) {
			t.Errorf("%s: no end-to-end target in %+v", be.Name, rep.Targets)
		}
		if len(be.Growth) != 2 || be.Growth[1].Stored < 40 || be.Growth[1].Memory.HeapInuse == 0 {
			t.Errorf("%s growth: %+v", be.Name, be.Growth)
		}
		if st := be.Startup; st == nil || st.Stored < 40 || st.HealthzS <= 0 || st.ReadyzS <= 0 {
			t.Errorf("%s start-up on the grown store: %+v", be.Name, st)
		}
		if be.Retention == nil || len(be.Retention.Samples) != 5 {
			t.Errorf("%s retention: %+v", be.Name, be.Retention)
		}
	}
	if len(rep.Targets) == 0 {
		t.Error("no targets evaluated")
	}
	md, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# Benchmarks", "## How to run", "## The machine", "## Targets", "## Intake and baseline", "## End to end", "raw relay (baseline)", "## Growth", "## Start-up", "commit `opstest`"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("BENCHMARKS.md lacks %q", want)
		}
	}
}

// The console phase (opt-in) fills a store through the bulk loaders and
// reads full pages of one town's list on both backends (its figures too
// belong to docs/BENCHMARKS.md).
func TestBenchConsoleRuns(t *testing.T) {
	rep, _, doc := runBench(t, "--phases", "console", "--console-apps", "1200")
	for _, be := range rep.Backends {
		if len(be.Errors) > 0 || be.Console == nil {
			t.Fatalf("%s: %v, %+v", be.Name, be.Errors, be.Console)
		}
		if cl := be.Console; cl.Stored != 1200 || cl.Rows != 50 || cl.TownCases <= 50 || cl.Requests == 0 || cl.P95 <= 0 {
			t.Errorf("%s console list: %+v", be.Name, cl)
		}
	}
	md, _ := os.ReadFile(doc)
	if !strings.Contains(string(md), "## Console list") {
		t.Error("BENCHMARKS.md lacks the console list")
	}
}
