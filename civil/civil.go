// Package civil is the one notion of "today" the gateway has: the civil
// date in China (Asia/Shanghai). Every rule, validation, deadline, console
// page and report decides on a Date, never on a UTC instant, so nothing
// turns over at 08:00 China time (midnight UTC).
//
// Dates without a time of day (validUntil, birthDate, due dates) are Dates
// too: 2026-12-04 is the whole of that day in China, not an instant.
package civil

import (
	"fmt"
	"time"
	_ "time/tzdata" // a minimal image has no zoneinfo; China's must still be right
)

// Zone is Asia/Shanghai from the zone data embedded in the binary. China has
// kept +08:00 without daylight saving since 1991, so every date the gateway
// handles is at +08:00; the named zone still tells the truth for the older
// birth dates and keeps "CST" in what people read.
var Zone = mustZone("Asia/Shanghai")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(fmt.Sprintf("civil: zone %s missing from the embedded zone data: %v", name, err))
	}
	return loc
}

// Layout is how a Date is written: YYYY-MM-DD.
const Layout = time.DateOnly

// Date is a civil date: a day in the calendar, not an instant. The zero
// Date is no date (IsZero). Dates compare with Compare, Before and After, or
// ==.
type Date struct {
	year  int
	month time.Month
	day   int
}

// New is the date y-m-d; out-of-range parts are normalised as time.Date does
// (2027-02-29 is 2027-03-01).
func New(y int, m time.Month, d int) Date {
	return Of(time.Date(y, m, d, 12, 0, 0, 0, Zone))
}

// Of is the civil date in China of the instant t, whatever t's location.
func Of(t time.Time) Date {
	y, m, d := t.In(Zone).Date()
	return Date{y, m, d}
}

// Parse reads exactly YYYY-MM-DD and refuses impossible dates (2026-02-30).
func Parse(s string) (Date, error) {
	t, err := time.Parse(Layout, s)
	if err != nil {
		return Date{}, fmt.Errorf("civil: bad date %q, want YYYY-MM-DD", s)
	}
	y, m, d := t.Date()
	return Date{y, m, d}, nil
}

// MustParse is Parse for constants and tests; it panics on a bad date.
func MustParse(s string) Date {
	d, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// Year, Month and Day are the parts of the date.
func (d Date) Year() int             { return d.year }
func (d Date) Month() time.Month     { return d.month }
func (d Date) Day() int              { return d.day }
func (d Date) IsZero() bool          { return d == Date{} }
func (d Date) Weekday() time.Weekday { return d.Midnight().Weekday() }

// String is YYYY-MM-DD; the zero Date is "".
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.year, d.month, d.day)
}

// Midnight is the first instant of the date in China.
func (d Date) Midnight() time.Time { return time.Date(d.year, d.month, d.day, 0, 0, 0, 0, Zone) }

// Compare is -1, 0 or +1 as d is before, equal to or after o.
func (d Date) Compare(o Date) int {
	switch {
	case d.year != o.year:
		return cmp(d.year, o.year)
	case d.month != o.month:
		return cmp(int(d.month), int(o.month))
	default:
		return cmp(d.day, o.day)
	}
}

func cmp(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (d Date) Before(o Date) bool { return d.Compare(o) < 0 }
func (d Date) After(o Date) bool  { return d.Compare(o) > 0 }

// AddDays is the date n days later (earlier for negative n).
func (d Date) AddDays(n int) Date { return New(d.year, d.month, d.day+n) }

// Anniversary is the date n years after d. A date of 29 February falls on
// 28 February in a common year (a person born on 29 February has birthdays
// on 28 February, and a validity counted from it ends there), not on 1 March
// as plain date arithmetic would have it.
func (d Date) Anniversary(n int) Date {
	y := d.year + n
	if d.month == time.February && d.day == 29 && !leap(y) {
		return Date{y, time.February, 28}
	}
	return Date{y, d.month, d.day}
}

func leap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// AgeOn is how many whole years old someone born on birth is on day: they
// are n from the day of their n-th birthday (Anniversary), so 18 on the
// 18th birthday itself.
func AgeOn(birth, day Date) int {
	age := day.year - birth.year
	if day.Before(birth.Anniversary(age)) {
		age--
	}
	return age
}
