package engine

import (
	"testing"
	"time"

	"onething/civil"
	c "onething/contracts"
)

// A retry is late from the first instant of the China day after the due
// date, and not a second before, at every hour of that day.
func TestPastDueOnTheChinaDate(t *testing.T) {
	app := &c.Application{Status: c.Status{DueDate: "2026-12-04"}}
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, s := range []string{"2026-12-04T00:00:01+08:00", "2026-12-04T07:59:59+08:00", "2026-12-04T08:00:00+08:00", "2026-12-04T23:59:59+08:00", "2026-12-04T15:59:59Z"} {
		if pastDue(app, at(s)) {
			t.Errorf("%s is on the due date, not past it", s)
		}
	}
	for _, s := range []string{"2026-12-05T00:00:01+08:00", "2026-12-05T07:59:59+08:00", "2026-12-04T16:00:00Z", "2026-12-05T23:59:59+08:00"} {
		if !pastDue(app, at(s)) {
			t.Errorf("%s (China date %s) is past the due date", s, civil.Of(at(s)))
		}
	}
	if pastDue(&c.Application{}, at("2030-01-01T00:00:00Z")) {
		t.Error("an unknown due date is never past")
	}
}
