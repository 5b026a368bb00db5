package service

import (
	"strings"
	"testing"

	"onething/civil"
	"onething/gateway/calendar"
	"onething/gateway/metrics"
)

// TestCalendarReadiness: the calendar never makes the gateway unready; from
// 1 November (China) a missing next year is said in the detail, with the
// command to fix it, and in the gauges the alert reads.
func TestCalendarReadiness(t *testing.T) {
	def := calendar.Default() // 2022..2027
	with2028, err := calendar.Parse([]byte(`{"years":{"2027":{"off":[{"from":"2027-01-01","to":"2027-01-03"}]},"2028":{"off":[{"from":"2028-01-01","to":"2028-01-03"}]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		cal         *calendar.Calendar
		today       string
		next, this  bool
		want, avoid []string
	}{
		{"covered, next year covered", def, "2026-12-05", false, false, []string{"covers [2022 2023 2024 2025 2026 2027]"}, []string{"lacks", "import"}},
		{"31 October: not yet", def, "2027-10-31", false, false, []string{"2028 not yet published", "provisional"}, []string{"onething calendar import"}},
		{"1 November: next year missing", def, "2027-11-01", true, false,
			[]string{"日历缺少明年 2028 年", "lacks next year, 2028", "onething calendar import", "calendarFile", "provisional"}, nil},
		{"31 December", def, "2027-12-31", true, false, []string{"lacks next year, 2028"}, nil},
		{"1 January: this year missing", def, "2028-01-01", true, true,
			[]string{"日历缺少今年 2028 年", "lacks this year, 2028", "provisional", "onething calendar import"}, nil},
		{"next year imported", with2028, "2027-11-15", false, false, []string{"covers [2027 2028]"}, []string{"lacks"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			today := civil.MustParse(tt.today)
			ch := calendarCheck(tt.cal, today)
			if !ch.OK {
				t.Errorf("calendar check not OK: %s", ch.Detail)
			}
			for _, w := range tt.want {
				if !strings.Contains(ch.Detail, w) {
					t.Errorf("detail lacks %q: %s", w, ch.Detail)
				}
			}
			for _, a := range tt.avoid {
				if strings.Contains(ch.Detail, a) {
					t.Errorf("detail has %q: %s", a, ch.Detail)
				}
			}

			m := metrics.New(nil)
			m.WatchCalendar(func() metrics.CalendarState { return calendarState(tt.cal, today) })
			got := gauges(t, m)
			b := func(v bool) float64 {
				if v {
					return 1
				}
				return 0
			}
			want := map[string]float64{
				"onething_calendar_next_year_missing": b(tt.next),
				"onething_calendar_this_year_missing": b(tt.this),
				"onething_calendar_last_year":         float64(tt.cal.Last()),
			}
			for n, v := range want {
				if got[n] != v {
					t.Errorf("%s = %v, want %v", n, got[n], v)
				}
			}
		})
	}
}

func gauges(t *testing.T, m *metrics.Metrics) map[string]float64 {
	t.Helper()
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "onething_calendar_") && len(mf.GetMetric()) == 1 && mf.GetMetric()[0].GetGauge() != nil {
			out[mf.GetName()] = mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	if len(out) != 3 {
		t.Fatalf("calendar gauges: %v", out)
	}
	return out
}
