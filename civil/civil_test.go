package civil

import (
	"math/rand/v2"
	"testing"
	"time"
)

// The China day 2026-12-05 runs from 2026-12-04T16:00Z to 2026-12-05T15:59:59Z:
// every instant of it is that date, whatever the instant's location says.
func TestOfIsTheChinaDay(t *testing.T) {
	want := MustParse("2026-12-05")
	for _, s := range []string{"2026-12-05T00:00:01+08:00", "2026-12-05T07:59:59+08:00", "2026-12-05T08:00:00+08:00", "2026-12-05T23:59:59+08:00",
		"2026-12-04T16:00:00Z", "2026-12-05T15:59:59Z", "2026-12-04T23:43:00Z", "2026-12-04T11:00:00-05:00"} {
		at, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		if got := Of(at); got != want {
			t.Errorf("Of(%s) = %s, want %s", s, got, want)
		}
		if got := Today(At(at)); got != want {
			t.Errorf("Today(%s) = %s, want %s", s, got, want)
		}
	}
	for _, s := range []string{"2026-12-04T15:59:59Z", "2026-12-05T16:00:00Z"} {
		at, _ := time.Parse(time.RFC3339, s)
		if Of(at) == want {
			t.Errorf("Of(%s) = %s, which is the neighbouring China day", s, want)
		}
	}
}

func TestZoneIsShanghai(t *testing.T) {
	if Zone.String() != "Asia/Shanghai" {
		t.Fatalf("zone %s", Zone)
	}
	at := time.Date(2026, 12, 4, 23, 43, 0, 0, time.UTC)
	if got := Format(at); got != "2026-12-05T07:43:00+08:00" {
		t.Fatalf("Format = %s", got)
	}
}

func TestParse(t *testing.T) {
	for _, bad := range []string{"", "2026-02-30", "2026-2-3", "2026-12-05T00:00:00Z", "20261205", " 2026-12-05"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	d := MustParse("2024-02-29")
	if d.String() != "2024-02-29" || d.Year() != 2024 || d.Month() != time.February || d.Day() != 29 {
		t.Fatalf("%v", d)
	}
	if (Date{}).String() != "" || !(Date{}).IsZero() {
		t.Fatal("zero date")
	}
}

func TestAnniversaryAndAge(t *testing.T) {
	leapling := MustParse("2008-02-29")
	cases := []struct {
		on   string
		want int
	}{
		{"2026-02-27", 17}, {"2026-02-28", 18}, {"2026-03-01", 18}, // common year: birthday on 28 Feb
		{"2028-02-28", 19}, {"2028-02-29", 20}, // leap year: on the day itself
		{"2008-02-29", 0},
	}
	for _, c := range cases {
		if got := AgeOn(leapling, MustParse(c.on)); got != c.want {
			t.Errorf("born 2008-02-29, on %s: age %d, want %d", c.on, got, c.want)
		}
	}
	b := MustParse("2008-12-05")
	if AgeOn(b, MustParse("2026-12-04")) != 17 || AgeOn(b, MustParse("2026-12-05")) != 18 {
		t.Fatal("18 from the day of the 18th birthday")
	}
	if got := MustParse("2017-02-28").Anniversary(9); got != MustParse("2026-02-28") {
		t.Fatal(got)
	}
	if got := leapling.Anniversary(9); got != MustParse("2017-02-28") {
		t.Fatal(got)
	}
}

// Property: age steps up by exactly one on the anniversary and never on
// another day, over random birth dates and days.
func TestAgeProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	base := MustParse("1900-01-01")
	for range 20000 {
		birth := base.AddDays(r.IntN(50000))
		day := birth.AddDays(r.IntN(40000))
		a, prev := AgeOn(birth, day), AgeOn(birth, day.AddDays(-1))
		switch {
		case a < 0:
			t.Fatalf("born %s, on %s: negative age %d", birth, day, a)
		case a == prev+1 && day != birth.Anniversary(a):
			t.Fatalf("born %s: turned %d on %s, not on the anniversary %s", birth, a, day, birth.Anniversary(a))
		case a != prev && a != prev+1 && day != birth:
			t.Fatalf("born %s: age jumped from %d to %d on %s", birth, prev, a, day)
		case day != birth && day == birth.Anniversary(a) && a != prev+1:
			t.Fatalf("born %s: no birthday on %s", birth, day)
		}
	}
}

func TestCompareAndAddDays(t *testing.T) {
	a, b := MustParse("2026-12-31"), MustParse("2027-01-01")
	if !a.Before(b) || !b.After(a) || a.Compare(a) != 0 || a.AddDays(1) != b || b.AddDays(-1) != a {
		t.Fatal("order")
	}
	if a.Weekday() != time.Thursday {
		t.Fatal(a.Weekday())
	}
	if Of(b.Midnight()) != b || Of(b.Midnight().Add(-time.Nanosecond)) != a {
		t.Fatal("midnight")
	}
}

func TestShiftedClock(t *testing.T) {
	start := time.Date(2026, 12, 5, 7, 43, 0, 0, Zone)
	s, err := NewShifted(start, 3600)
	if err != nil {
		t.Fatal(err)
	}
	now := s.Now()
	if now.Before(start) || Today(s) != MustParse("2026-12-05") {
		t.Fatalf("now %s", now)
	}
	time.Sleep(20 * time.Millisecond)
	if got := s.Now().Sub(start); got < 72*time.Second { // 20 ms × 3600
		t.Fatalf("3600× clock moved only %s", got)
	}
	for _, r := range []float64{0, -1, 0.5, MaxRate + 1} {
		if _, err := NewShifted(start, r); err == nil {
			t.Errorf("rate %v accepted", r)
		}
	}
	if _, err := NewShifted(time.Time{}, 1); err == nil {
		t.Error("zero start accepted")
	}
}
