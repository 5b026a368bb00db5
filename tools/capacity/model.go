package main

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"onething/civil"
	"onething/gateway/bench"
	"onething/gateway/calendar"
	"onething/gateway/store"
)

// Scenario is one assumption about demand for the whole province.
type Scenario struct {
	Name      string  // 低 / 中 / 高
	NameEn    string  // low / middle / high
	Holders   float64 // 持证残疾人: certificate holders in the province
	PerHolder float64 // applications per holder per year
}

// PerYear is the province's applications per year.
func (s Scenario) PerYear() float64 { return s.Holders * s.PerHolder }

// Scope is a county, a city or the province, as a share of the province's
// people (and so of its certificate holders).
type Scope struct {
	Name, NameEn string
	Share        float64
	Why, WhyEn   string // where the share comes from
}

// Retention is how long applications are kept: Days, or Years for "never
// erased, after that many years".
type Retention struct {
	Days  int
	Years int
}

// Label is the retention's column name.
func (r Retention) Label() string {
	if r.Years > 0 {
		return fmt.Sprintf("永久，%d 年后 / forever, after %d years", r.Years, r.Years)
	}
	return fmt.Sprintf("%d 天 / %d days", r.Days, r.Days)
}

// Params are the stated assumptions. Everything else comes from the bench.
type Params struct {
	Counties, Cities int
	Disabled         float64 // the 2006 sample survey's estimate for Sichuan
	Scenarios        []Scenario
	Scopes           []Scope
	// PeakDayShare is the share of a year's applications that arrive on the
	// busiest day.
	PeakDayShare float64
	// WorkingDays is the year's working days (from the civil calendar); only
	// used to say how many average days the peak day is.
	WorkingDays  int
	CalendarYear int
	WorkingHours float64 // the day's applications arrive in these hours
	Burst        float64 // the busiest minutes run at this multiple of the day's average rate
	CPUTarget    float64 // utilisation the cores are sized for
	// CoresPerReplica is one gateway replica's CPU limit.
	CoresPerReplica float64
	MinReplicas     int
	// MaxmemoryFill is how full maxmemory may get: maxmemory = data / fill.
	MaxmemoryFill float64
	// ForkFactor is the Redis host's memory over maxmemory: an AOF rewrite or
	// RDB save forks, and copy-on-write can double the pages in the worst case.
	ForkFactor float64
	Retentions []Retention
	// OpenDays is how long a case is open on average, from receipt to
	// final: its personal part is kept that long before its retention
	// starts.
	OpenDays int
	// PushGrace is how many days more a final case whose last status push
	// never gets through waits before its retention starts anyway
	// (store.PushGrace).
	PushGrace int
	// Horizon is the years the tables look ahead: the traces of erased
	// applications keep adding (and "forever" keeps everything).
	Horizon int
	// BoltMaxFile is the largest bbolt file this document calls fine for one
	// machine (copied in minutes for a backup, on an ordinary VM disk).
	BoltMaxFile float64
}

// DefaultParams are the assumptions docs/CAPACITY.md is written with.
func DefaultParams(year int) (Params, error) {
	wd, err := workingDays(year)
	if err != nil {
		return Params{}, err
	}
	p := Params{
		Counties: 183, Cities: 21,
		Disabled: 6_200_000,
		Scenarios: []Scenario{
			{"低", "low", 1_500_000, 0.2},
			{"中", "middle", 3_000_000, 0.5},
			{"高", "high", 6_200_000, 1.0},
		},
		PeakDayShare:    0.02,
		WorkingDays:     wd,
		CalendarYear:    year,
		WorkingHours:    8,
		Burst:           3,
		CPUTarget:       0.5,
		CoresPerReplica: 2,
		MinReplicas:     2,
		MaxmemoryFill:   0.8,
		ForkFactor:      2,
		Retentions:      []Retention{{Days: 180}, {Days: 365}, {Years: 5}},
		OpenDays:        30,
		PushGrace:       store.PushGrace,
		Horizon:         5,
		BoltMaxFile:     64 << 30,
	}
	p.Scopes = []Scope{
		{"平均县", "an average county", 1.0 / float64(p.Counties), "183 个县级行政区之一", "one of 183 county-level divisions"},
		{"大县", "a large county", 3.0 / float64(p.Counties), "平均县的 3 倍", "three times the average county"},
		{"平均市（州）", "an average city", 1.0 / float64(p.Cities), "21 个市（州）之一", "one of 21 prefecture-level divisions"},
		{"达州市（7 个县级行政区）", "Dazhou (7 county-level divisions)", 5_385_422.0 / 83_674_866,
			"2020 年第七次人口普查常住人口 538.5 万，全省 8367.5 万", "2020 census: 5.385 million residents of the province's 83.67 million"},
		{"全省", "the province", 1, "四川省", "Sichuan"},
	}
	return p, nil
}

// workingDays counts the civil calendar's working days in year.
func workingDays(year int) (int, error) {
	c := calendar.Default()
	n := 0
	for d := time.Date(year, 1, 1, 12, 0, 0, 0, time.UTC); d.Year() == year; d = d.AddDate(0, 0, 1) {
		ok, err := c.IsWorkingDay(d)
		if err != nil {
			return 0, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// PeakDay is the applications on the busiest day of a year with perYear.
func (p Params) PeakDay(perYear float64) float64 { return perYear * p.PeakDayShare }

// PeakPerSecond is the busiest minutes' rate on a day with perDay.
func (p Params) PeakPerSecond(perDay float64) float64 {
	return perDay * p.Burst / (p.WorkingHours * 3600)
}

// Cores is the CPU needed for perSec applications at ms CPU each, sized so
// the cores run at CPUTarget.
func (p Params) Cores(perSec, ms float64) float64 { return perSec * ms / 1000 / p.CPUTarget }

// Replicas is the gateway replicas for cores: never fewer than MinReplicas.
func (p Params) Replicas(cores float64) int {
	return max(p.MinReplicas, int(math.Ceil(cores/p.CoresPerReplica)))
}

// Stored is the applications holding personal data with retention r at
// perYear, at steady state: each is kept while open (OpenDays) and for the
// retention after it is final and its last push delivered.
func (p Params) Stored(perYear float64, r Retention) float64 {
	if r.Years > 0 {
		return perYear * float64(r.Years)
	}
	return perYear / 365 * float64(r.Days+p.OpenDays)
}

// StoredNoPush is Stored when the portal never takes the last pushes: the
// retention then starts PushGrace days after final.
func (p Params) StoredNoPush(perYear float64, r Retention) float64 {
	if r.Years > 0 {
		return p.Stored(perYear, r)
	}
	return perYear / 365 * float64(r.Days+p.OpenDays+p.PushGrace)
}

// Traces is the erased applications' traces after Horizon years with
// retention r: everything received less what still holds personal data
// (none with "forever").
func (p Params) Traces(perYear float64, r Retention) float64 {
	if r.Years > 0 {
		return 0
	}
	return max(0, perYear*float64(p.Horizon)-p.Stored(perYear, r))
}

// Bytes is the store after Horizon years with retention r: the
// applications holding personal data at perApp bytes each and the traces
// at perTrace.
func (p Params) Bytes(perYear float64, r Retention, perApp, perTrace float64) float64 {
	return p.Stored(perYear, r)*perApp + p.Traces(perYear, r)*perTrace
}

// RedisMemory is the data, the maxmemory to set and the host's memory for
// stored applications at perApp bytes each.
func (p Params) RedisMemory(stored, perApp float64) (data, maxmemory, host float64) {
	data = stored * perApp
	maxmemory = data / p.MaxmemoryFill
	return data, maxmemory, maxmemory * p.ForkFactor
}

// Measured is what the generator takes from benchmarks.json.
type Measured struct {
	Date, Commit string
	Cores        int
	// CPU per completed application end to end, in ms.
	RedisGatewayMs, RedisRedisMs, RedisMachineMs float64
	BoltGatewayMs, BoltMachineMs                 float64
	// Bytes per stored application: the slope between the growth phase's
	// first and last steps.
	RedisPerApp, BoltPerApp float64
	RedisFirst, RedisLast   bench.GrowthStep
	BoltFirst, BoltLast     bench.GrowthStep
	// GatewayRSS is a Redis-backed gateway's anonymous resident memory after
	// the end-to-end phase.
	GatewayRSS float64
	// The retention phase: bytes per final application holding personal
	// data and per erased application's trace (Redis used_memory, bbolt
	// pages in use), and the run they come from.
	RedisPerFinal, RedisPerTrace  float64
	BoltPerFinal, BoltPerTrace    float64
	RedisRetention, BoltRetention *bench.RetentionRun
	// RedisRetentionSrc and BoltRetentionSrc say which run the retention
	// figures come from (a later one merged into the report, or its own).
	RedisRetentionSrc, BoltRetentionSrc string
}

// Measure takes the figures the document uses from a bench report.
func Measure(r *bench.Report) (Measured, error) {
	m := Measured{Date: r.Date, Commit: r.Commit, Cores: r.Machine.Cores}
	var rb, bb *bench.Backend
	for i := range r.Backends {
		switch r.Backends[i].Name {
		case "redis":
			rb = &r.Backends[i]
		case "bolt":
			bb = &r.Backends[i]
		}
	}
	if rb == nil || bb == nil {
		return m, errors.New("benchmarks.json: need both backends (redis and bolt)")
	}
	for _, b := range []*bench.Backend{rb, bb} {
		if b.E2E == nil || b.E2E.CPU == nil || len(b.Growth) < 2 {
			return m, fmt.Errorf("benchmarks.json: %s needs endToEnd.cpuPerApplication and two growth steps or more", b.Name)
		}
		if rr := b.Retention; rr == nil || rr.PerApplication <= 0 || rr.PerTrace <= 0 {
			return m, fmt.Errorf("benchmarks.json: %s needs the retention phase (`onething bench --phases retention --merge`) with bytes per application and per trace", b.Name)
		}
	}
	m.RedisGatewayMs = rb.E2E.CPU.Procs["gateway"]
	m.RedisRedisMs = rb.E2E.CPU.Procs["redis"]
	m.RedisMachineMs = rb.E2E.CPU.Machine
	m.BoltGatewayMs = bb.E2E.CPU.Procs["gateway"]
	m.BoltMachineMs = bb.E2E.CPU.Machine
	m.GatewayRSS = float64(rb.E2E.Memory.RSSAnon)
	m.RedisFirst, m.RedisLast = rb.Growth[0], rb.Growth[len(rb.Growth)-1]
	m.BoltFirst, m.BoltLast = bb.Growth[0], bb.Growth[len(bb.Growth)-1]
	m.RedisRetention, m.BoltRetention = rb.Retention, bb.Retention
	m.RedisRetentionSrc, m.BoltRetentionSrc = source(r, "retention", "redis"), source(r, "retention", "bolt")
	m.RedisPerFinal, m.RedisPerTrace = rb.Retention.PerApplication, rb.Retention.PerTrace
	m.BoltPerFinal, m.BoltPerTrace = bb.Retention.PerApplication, bb.Retention.PerTrace
	var err error
	if m.RedisPerApp, err = slope(m.RedisFirst.Stored, m.RedisLast.Stored, float64(m.RedisFirst.RedisUsed), float64(m.RedisLast.RedisUsed)); err != nil {
		return m, fmt.Errorf("redis growth: %w", err)
	}
	if m.BoltPerApp, err = slope(m.BoltFirst.Stored, m.BoltLast.Stored, float64(m.BoltFirst.StoreSize), float64(m.BoltLast.StoreSize)); err != nil {
		return m, fmt.Errorf("bolt growth: %w", err)
	}
	return m, nil
}

// slope is bytes per application between two growth steps: what one more
// stored application adds, without the empty store's fixed size.
func slope(n0, n1 int, b0, b1 float64) (float64, error) {
	if n1 <= n0 || b1 <= b0 {
		return 0, fmt.Errorf("no growth between %d and %d stored (%.0f → %.0f bytes)", n0, n1, b0, b1)
	}
	return (b1 - b0) / float64(n1-n0), nil
}

// source names the run a backend's phase comes from: the last merge of
// it, else the report's own run.
func source(r *bench.Report, phase, backend string) string {
	date, commit := r.Date, r.Commit
	for _, m := range r.Merged {
		if slices.Contains(m.Phases, phase) && slices.Contains(m.Backends, backend) {
			date, commit = m.Date, m.Commit
		}
	}
	if t, err := time.Parse(time.RFC3339, date); err == nil {
		date = civil.Display(t)
	}
	if len(commit) > 12 {
		commit = commit[:12]
	}
	return fmt.Sprintf("bench %s, commit `%s`", date, commit)
}
