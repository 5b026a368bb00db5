package bench

import (
	"context"
	"slices"
	"testing"

	"onething/gateway/store/redistest"
)

// The retention phase at a tiny size: 20 applications a day for 6 days,
// swept with a retention of 2 days. An application final on day d (07:00
// China time, 23:00 UTC the day before; its push taken the same day) is
// erased by the sweep of day d+2: at the end of day d the store holds the
// applications of days d-1 and d, and the erased ones of the days before.
// Counted by UTC dates instead, the sweep would erase a day early.
func testRetentionPhase(t *testing.T, r *runner, backend string) {
	t.Helper()
	be := Backend{Name: backend}
	if err := r.retention(context.Background(), &be); err != nil {
		t.Fatal(err)
	}
	rr := be.Retention
	if rr == nil || len(rr.Samples) != 6 {
		t.Fatalf("retention figures: %+v", rr)
	}
	for d, s := range rr.Samples {
		stored, traces, erased := min(d+1, 2)*20, max(0, d-1)*20, 0
		if d >= 2 {
			erased = 20
		}
		if s.Day != d || s.Stored != stored || s.Traces != traces || s.ErasedThat != erased {
			t.Errorf("day %d: %d stored, %d traces, %d erased that day; want %d, %d, %d", s.Day, s.Stored, s.Traces, s.ErasedThat, stored, traces, erased)
		}
		if s.Bytes <= 0 {
			t.Errorf("day %d: no size measured", d)
		}
		if d > 0 && s.Date <= rr.Samples[d-1].Date {
			t.Errorf("day %d is %s, after %s", d, s.Date, rr.Samples[d-1].Date)
		}
	}
	if rr.FullBytes != rr.Samples[1].Bytes || rr.PerApplication <= 0 {
		t.Errorf("full %d (day 1: %d), %v bytes per application", rr.FullBytes, rr.Samples[1].Bytes, rr.PerApplication)
	}
	if backend == "bolt" && (rr.FullCompacted <= 0 || rr.EndCompacted <= 0) {
		t.Errorf("compacted copies: %d, %d", rr.FullCompacted, rr.EndCompacted)
	}
}

func tinyRetention(t *testing.T) Options {
	return Options{Dir: t.TempDir(), RetentionPerDay: 20, RetentionRun: 6, RetentionDays: 2}
}

func TestBoltRetentionPhase(t *testing.T) {
	testRetentionPhase(t, &runner{o: tinyRetention(t)}, "bolt")
}

func TestRedisRetentionPhase(t *testing.T) {
	srv := redistest.Start(t)
	testRetentionPhase(t, &runner{o: tinyRetention(t), rurl: srv.BaseURL()}, "redis")
}

// The week figures and the per-trace cost from a run's samples.
func TestRetentionFigures(t *testing.T) {
	rr := &RetentionRun{PerDay: 10, RetentionDays: 3, EmptyBytes: 1000}
	// 14 days: 100 bytes an application until day 2, then 10 a trace.
	for d := range 14 {
		stored, traces := min(d+1, 3)*10, max(0, d-2)*10
		rr.Samples = append(rr.Samples, RetentionDay{Day: d, Stored: stored, Traces: traces, Bytes: int64(1000 + 100*stored + 10*traces)})
	}
	rr.FullBytes = rr.Samples[2].Bytes
	rr.figures()
	// First week: 1000+3000+40×10 − 1000 = 3400; last week: 70 traces = 700.
	if rr.PerApplication != 100 || rr.PerTrace != 10 || rr.FirstWeek != 3400 || rr.LastWeek != 700 {
		t.Errorf("%v per application, %v per trace, weeks %d and %d", rr.PerApplication, rr.PerTrace, rr.FirstWeek, rr.LastWeek)
	}
	if want := 700.0 / 3400; rr.WeekRatio != want {
		t.Errorf("ratio %v, want %v", rr.WeekRatio, want)
	}
}

// Merging one phase keeps the others' figures and says where each came
// from.
func TestMerge(t *testing.T) {
	base := &Report{Date: "2026-11-29T00:00:00Z", Commit: "old", Options: OptionsJS{GrowTo: 100, GrowSteps: 2},
		Backends: []Backend{
			{Name: "bolt", Growth: []GrowthStep{{Stored: 50}, {Stored: 100}}, Errors: []string{"retention: old failure", "growth: kept"}},
			{Name: "redis", Growth: []GrowthStep{{Stored: 50}, {Stored: 100}}},
		}}
	add := &Report{Date: "2026-12-05T00:00:00Z", Commit: "new", Phases: []string{"retention"},
		Options:  OptionsJS{RetentionPerDay: 5, RetentionRun: 9, RetentionDays: 3, GrowTo: 1},
		Backends: []Backend{{Name: "bolt", Retention: &RetentionRun{PerDay: 5}}}}
	m := Merge(base, add)
	bolt, redis := m.Backends[0], m.Backends[1]
	if len(bolt.Growth) != 2 || bolt.Retention == nil || redis.Retention != nil || len(redis.Growth) != 2 {
		t.Fatalf("merged backends: %+v", m.Backends)
	}
	if !slices.Equal(bolt.Errors, []string{"growth: kept"}) {
		t.Errorf("errors %q", bolt.Errors)
	}
	if m.Options.GrowTo != 100 || m.Options.RetentionPerDay != 5 || m.Commit != "old" {
		t.Errorf("options %+v, commit %s", m.Options, m.Commit)
	}
	if len(m.Merged) != 1 || m.Merged[0].Commit != "new" || !slices.Equal(m.Merged[0].Phases, []string{"retention"}) ||
		!slices.Equal(m.Phases, []string{"growth", "retention"}) {
		t.Errorf("merged %+v, phases %v", m.Merged, m.Phases)
	}
	// The same phase again replaces the earlier merge.
	m2 := Merge(m, add)
	if len(m2.Merged) != 1 {
		t.Errorf("merged twice: %+v", m2.Merged)
	}
	// The phase on both backends, then again on one: each backend's
	// figures say which run they come from.
	add.Backends = append(add.Backends, Backend{Name: "redis", Retention: &RetentionRun{PerDay: 6}})
	both := Merge(base, add)
	add.Backends, add.Commit = add.Backends[:1], "newer"
	m3 := Merge(both, add)
	if len(m3.Merged) != 2 || !slices.Equal(m3.Merged[0].Backends, []string{"redis"}) || m3.Merged[0].Commit != "new" ||
		!slices.Equal(m3.Merged[1].Backends, []string{"bolt"}) || m3.Merged[1].Commit != "newer" {
		t.Errorf("merged %+v", m3.Merged)
	}
}
