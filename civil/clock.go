package civil

import (
	"errors"
	"fmt"
	"time"
)

// Clock is the business clock: it says what instant it is for business
// dates only (today, validity, ages, due dates, overdue flags, retention).
// Signatures, tokens, sessions, replay windows, rate limits, leases and
// backoff always use the real clock (time.Now), so a shifted or fast
// business clock breaks none of them.
type Clock interface {
	Now() time.Time
}

// Real is the business clock of every deployment: the real time.
var Real Clock = realClock{}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// Today is the civil date in China on clk (Real when clk is nil).
func Today(clk Clock) Date {
	if clk == nil {
		clk = Real
	}
	return Of(clk.Now())
}

// MaxRate bounds how fast a development clock may run: a week of business
// time per second is enough to watch a 45-working-day limit come due.
const MaxRate = 7 * 24 * 3600

// Shifted is a development clock: it starts at a chosen instant and runs on
// from there, rate times as fast as real time (rate 1 runs at real speed,
// 3600 passes an hour each second). Only `onething dev` builds one.
type Shifted struct {
	realStart time.Time // monotonic reading when the clock was made
	start     time.Time
	rate      float64
}

// NewShifted is a business clock that reads start now and advances rate
// seconds per real second.
func NewShifted(start time.Time, rate float64) (*Shifted, error) {
	if start.IsZero() {
		return nil, errors.New("civil: a shifted clock needs a start instant")
	}
	if !(rate >= 1 && rate <= MaxRate) {
		return nil, fmt.Errorf("civil: clock rate %v must be between 1 and %d", rate, MaxRate)
	}
	return &Shifted{realStart: time.Now(), start: start, rate: rate}, nil
}

// Now is the business instant: start plus the real time elapsed, sped up.
func (s *Shifted) Now() time.Time {
	elapsed := time.Since(s.realStart)
	return s.start.Add(time.Duration(float64(elapsed) * s.rate)).In(Zone)
}

// Rate is how many business seconds pass per real second.
func (s *Shifted) Rate() float64 { return s.rate }

// Format writes an instant as people read it: China time with its offset,
// 2026-12-05T07:43:00+08:00.
func Format(t time.Time) string { return t.In(Zone).Format(time.RFC3339) }

// In is t in China time, for a reply or push that shows it (the JSON of a
// time.Time carries its location's offset, so this makes it +08:00).
func In(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.In(Zone)
}

// At is a business clock stopped at one instant (tests).
type At time.Time

func (a At) Now() time.Time { return time.Time(a) }

// Func adapts a function to a Clock (tests that move time on).
type Func func() time.Time

func (f Func) Now() time.Time { return f() }

// Display writes an instant for a page people read: China time with its
// offset, 2026-12-05 07:43:00 +08:00.
func Display(t time.Time) string { return t.In(Zone).Format("2006-01-02 15:04:05 -07:00") }
