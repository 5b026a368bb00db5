package store_test

import (
	"testing"
	"time"

	c "onething/contracts"
	"onething/gateway/store"
)

// The retention of a final case counts from the China day its last push
// was delivered (never before the day it became final), or at the latest
// 30 days after it became final; an open or erased case has none. Each
// instant is tried at several hours of the China day: 00:30 China time is
// the previous day in UTC.
func TestRetentionStart(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	at := func(day string, hour, min int, sec ...int) *time.Time {
		d, err := time.ParseInLocation("2006-01-02", day, cst)
		if err != nil {
			t.Fatal(err)
		}
		v := d.Add(time.Duration(hour)*time.Hour + time.Duration(min)*time.Minute)
		for _, x := range sec {
			v = v.Add(time.Duration(x) * time.Second)
		}
		return &v
	}
	app := func(state c.AppState, finished, pushed *time.Time, version, pushedVersion int64) *c.Application {
		return &c.Application{ID: "A", Status: c.Status{State: state}, Version: version, PushedVersion: pushedVersion, PushedAt: pushed,
			Tasks: []*c.Task{{ID: "A-1", State: c.TaskApproved, FinishedAt: finished}}}
	}
	for _, hms := range [][3]int{{0, 0, 1}, {0, 30, 0}, {7, 59, 59}, {8, 0, 0}, {12, 0, 0}, {23, 59, 59}} {
		h, m, sec := hms[0], hms[1], hms[2]
		for _, tc := range []struct {
			name string
			app  *c.Application
			want string
		}{
			{"pushed the same day", app(c.AppCompleted, at("2026-03-01", h, m, sec), at("2026-03-01", h, m, sec), 5, 5), "2026-03-01"},
			{"pushed three days later", app(c.AppCompleted, at("2026-03-01", h, m, sec), at("2026-03-04", h, m, sec), 5, 5), "2026-03-04"},
			{"never pushed", app(c.AppCompleted, at("2026-03-01", h, m, sec), nil, 5, 4), "2026-03-31"},
			{"the last version not pushed", app(c.AppCompleted, at("2026-03-01", h, m, sec), at("2026-03-02", h, m, sec), 5, 4), "2026-03-31"},
			{"pushed after the grace", app(c.AppCompleted, at("2026-03-01", h, m, sec), at("2026-05-01", h, m, sec), 5, 5), "2026-03-31"},
			{"withdrawn", app(c.AppWithdrawn, at("2026-12-31", h, m, sec), at("2027-01-01", h, m, sec), 3, 3), "2027-01-01"},
			{"open", app(c.AppProcessing, at("2026-03-01", h, m, sec), at("2026-03-01", h, m, sec), 5, 5), ""},
		} {
			if got := store.RetentionStart(tc.app); got != tc.want {
				t.Errorf("%02d:%02d:%02d %s: %q, want %q", h, m, sec, tc.name, got, tc.want)
			}
		}
	}
	erased := app(c.AppCompleted, at("2026-03-01", 9, 0), at("2026-03-01", 9, 0), 1, 1)
	erased.Erased = &c.Erasure{Kind: c.ErasureRetention}
	if got := store.RetentionStart(erased); got != "" {
		t.Errorf("erased: %q, want none", got)
	}
}
