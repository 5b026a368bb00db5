package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"onething/gateway/bench"
)

const (
	benchJSON  = "../../docs/benchmarks.json"
	capacityMD = "../../docs/CAPACITY.md"
)

// TestDocumentUpToDate fails when docs/CAPACITY.md is not what the
// generator writes from docs/benchmarks.json: after a bench run or a
// change of assumptions, the document must be written again.
func TestDocumentUpToDate(t *testing.T) {
	want, err := generate(benchJSON)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(capacityMD)
	if err != nil {
		t.Fatalf("%v: write it with `go run ./tools/capacity` from the repository root", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("docs/CAPACITY.md is stale (docs/benchmarks.json or the assumptions changed): run `go run ./tools/capacity` from the repository root and commit the result; first difference:\n%s", firstDiff(got, want))
	}
}

// TestStaleDocumentDetected shows the check above can fail: a bench report
// with another gateway CPU figure gives another document.
func TestStaleDocumentDetected(t *testing.T) {
	data, err := os.ReadFile(benchJSON)
	if err != nil {
		t.Fatal(err)
	}
	var r bench.Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	for i := range r.Backends {
		if r.Backends[i].Name == "redis" {
			r.Backends[i].E2E.CPU.Procs["gateway"] *= 2
		}
	}
	changed, err := json.Marshal(&r)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "benchmarks.json")
	if err := os.WriteFile(path, changed, 0o600); err != nil {
		t.Fatal(err)
	}
	doc, err := generate(path)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(capacityMD)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(doc, committed) {
		t.Fatal("a different gateway CPU figure gave the same document")
	}
}

// TestArithmetic checks the model on a case worked by hand.
func TestArithmetic(t *testing.T) {
	p := Params{PeakDayShare: 0.01, WorkingHours: 8, Burst: 3, CPUTarget: 0.5,
		CoresPerReplica: 2, MinReplicas: 2, MaxmemoryFill: 0.8, ForkFactor: 2}
	// 2,880,000 a year, 1 % on the busiest day: 28,800 that day; over 8 h
	// (28,800 s) that is 1/s on average and 3/s in the burst.
	day := p.PeakDay(2_880_000)
	near(t, "peak day", day, 28_800)
	ps := p.PeakPerSecond(day)
	near(t, "peak per second", ps, 3)
	// 3/s × 10 ms = 0.03 cores busy; at 50 % that is 0.06 cores.
	near(t, "cores", p.Cores(ps, 10), 0.06)
	// 1,000 a day at 4.8 ms, burst 3: 1000×3/28800 × 4.8/1000 / 0.5 = 0.001.
	near(t, "cores at 1,000 a day", p.Cores(p.PeakPerSecond(1000), 4.8), 0.001)
	if n := p.Replicas(0.06); n != 2 {
		t.Errorf("replicas for 0.06 cores = %d, want the minimum 2", n)
	}
	if n := p.Replicas(5); n != 3 {
		t.Errorf("replicas for 5 cores at 2 a replica = %d, want 3", n)
	}
	// 365,000 a year is 1,000 a day: 180 days keep 180,000; five years
	// without erasing keep 1,825,000.
	near(t, "stored, 180 days", p.Stored(365_000, Retention{Days: 180}), 180_000)
	near(t, "stored, 5 years", p.Stored(365_000, Retention{Years: 5}), 1_825_000)
	// 1,000,000 applications at 1,000 bytes: 1 GB of data, maxmemory
	// 1.25 GB at 80 % full, 2.5 GB on the host with the fork's copy.
	data, maxm, host := p.RedisMemory(1_000_000, 1000)
	near(t, "data", data, 1e9)
	near(t, "maxmemory", maxm, 1.25e9)
	near(t, "host", host, 2.5e9)
}

// TestRetentionArithmetic checks the retention model on a case worked by
// hand: 365,000 a year is 1,000 a day, open 30 days on average.
func TestRetentionArithmetic(t *testing.T) {
	p := Params{OpenDays: 30, PushGrace: 30, Horizon: 5}
	r := Retention{Days: 180}
	// 1,000 a day × (30 open + 180 retention) hold personal data; 30
	// more days of them while the portal takes no push.
	near(t, "stored, 180 days", p.Stored(365_000, r), 210_000)
	near(t, "stored, pushes failing", p.StoredNoPush(365_000, r), 240_000)
	// Five years bring 1,825,000; all but the 210,000 are traces.
	near(t, "traces after 5 years", p.Traces(365_000, r), 1_615_000)
	// 210,000 × 12,000 B + 1,615,000 × 8,000 B = 2.52 GB + 12.92 GB.
	near(t, "bytes after 5 years", p.Bytes(365_000, r, 12_000, 8_000), 15.44e9)
	// Forever: all five years hold personal data, no traces.
	forever := Retention{Years: 5}
	near(t, "stored forever", p.Stored(365_000, forever), 1_825_000)
	near(t, "traces forever", p.Traces(365_000, forever), 0)
	near(t, "bytes forever", p.Bytes(365_000, forever, 12_000, 8_000), 21.9e9)
}

// TestMeasure checks which fields the figures come from, on a small report.
func TestMeasure(t *testing.T) {
	cpu := func(gw, redis, machine float64) *bench.CPUCost {
		return &bench.CPUCost{Procs: map[string]float64{"gateway": gw, "redis": redis}, Machine: machine}
	}
	r := &bench.Report{Date: "2026-01-02T03:04:05Z", Commit: "abc1234", Backends: []bench.Backend{
		{Name: "bolt", E2E: &bench.E2E{CPU: cpu(8, 0, 11)}, Growth: []bench.GrowthStep{
			{Stored: 100, StoreSize: 1_000_000}, {Stored: 600, StoreSize: 2_000_000}, {Stored: 1100, StoreSize: 11_000_000}},
			Retention: &bench.RetentionRun{PerApplication: 11_000, PerTrace: 9_000}},
		{Name: "redis", E2E: &bench.E2E{CPU: cpu(5, 2, 9), Memory: bench.Memory{RSSAnon: 100 << 20}}, Growth: []bench.GrowthStep{
			{Stored: 100, RedisUsed: 1_000_000}, {Stored: 1100, RedisUsed: 6_000_000}},
			Retention: &bench.RetentionRun{PerApplication: 12_000, PerTrace: 8_000}},
	}}
	m, err := Measure(r)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "redis bytes per application", m.RedisPerApp, 5000)
	near(t, "bolt bytes per application", m.BoltPerApp, 10_000)
	near(t, "redis gateway ms", m.RedisGatewayMs, 5)
	near(t, "redis ms", m.RedisRedisMs, 2)
	near(t, "bolt gateway ms", m.BoltGatewayMs, 8)
	near(t, "redis per final", m.RedisPerFinal, 12_000)
	near(t, "redis per trace", m.RedisPerTrace, 8_000)
	near(t, "bolt per final", m.BoltPerFinal, 11_000)
	near(t, "bolt per trace", m.BoltPerTrace, 9_000)

	saved := r.Backends[0].Retention
	r.Backends[0].Retention = nil
	if _, err := Measure(r); err == nil || !strings.Contains(err.Error(), "retention") {
		t.Errorf("no retention phase: err = %v, want one naming it", err)
	}
	r.Backends[0].Retention = saved

	r.Backends[1].Growth = r.Backends[1].Growth[:1]
	if _, err := Measure(r); err == nil || !strings.Contains(err.Error(), "redis") {
		t.Errorf("one growth step: err = %v, want one naming redis", err)
	}
}

func TestFormat(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{count(1234567.4), "1,234,567"}, {count(999), "999"}, {count(1000), "1,000"},
		{sig(12.92), "13"}, {sig(0.122), "0.12"}, {sig(0.0000317), "0.000032"}, {sig(0), "0"},
		{bytesOf(9127), "8.9 KiB"}, {bytesOf(64 << 30), "64.0 GiB"}, {bytesOf(3 << 20), "3 MiB"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestRunWritesToStdout(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-bench", benchJSON, "-out", "-"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.HasPrefix(out.String(), "# 容量估算 / Capacity") {
		t.Errorf("output starts %q", out.String()[:40])
	}
	if code := run([]string{"-bench", filepath.Join(t.TempDir(), "none.json"), "-out", "-"}, &out, &errOut); code != 1 {
		t.Errorf("a missing report: exit %d, want 1", code)
	}
}

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// firstDiff is the first line where a and b differ, with its number.
func firstDiff(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < max(len(al), len(bl)); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + strconv.Itoa(i+1) + ":\n  file:      " + x + "\n  generated: " + y
		}
	}
	return "(same lines, different bytes)"
}
