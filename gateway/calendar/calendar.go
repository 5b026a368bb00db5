// Package calendar answers working-day questions for mainland China.
//
// Sichuan government legal deadlines (承诺办结时限 and the like) are counted in
// working days, and a working day there is not simply Monday to Friday: every
// year the State Council publishes which days are off for the statutory
// holidays and which weekend days are worked instead (调休). Those
// arrangements cannot be computed, only looked up, so they live in a data file
// (holidays.json, embedded as the default) that an operator can extend with
// next year's notice through Load, without a rebuild.
//
// A year that is not in the data is never guessed: treating it as plain
// Monday-to-Friday would silently move deadlines by a week around Spring
// Festival. Every question that needs such a year fails with
// ErrYearNotCovered and calls the hooks registered with OnMissingYear, so the
// gateway can log it, count it and report it in readiness.
package calendar

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"onething/civil"
)

// Zone is China time (civil.Zone: Asia/Shanghai from the embedded zone
// data); all dates are civil dates in this zone.
var Zone = civil.Zone

// ErrYearNotCovered is returned, wrapped with the year, when a question needs
// a year the holiday data does not have (typically next year before the State
// Council has published its notice). Test for it with errors.Is.
var ErrYearNotCovered = errors.New("calendar: year not covered by holiday data")

// maxOffRange bounds one day-off range. The longest national break so far was
// 10 days (Spring Festival 2020, extended); the bound catches month typos such
// as "2027-12-17" for "2027-02-17" that would otherwise pass every other check
// and quietly turn most of a year into holidays.
const maxOffRange = 15

// newYearSpill is how many days of December a year's data may reach back
// into: New Year arrangements sometimes start in the old year (2023's began
// on 2022-12-31; 2019's worked 2018-12-29 and rested 2018-12-30..31).
const newYearSpill = 7

const (
	dateLayout    = "2006-01-02"
	secondsPerDay = 24 * 60 * 60
)

//go:embed holidays.json
var embedded []byte

// Calendar answers working-day questions from one set of holiday data. Its
// data never changes after construction, so any number of goroutines may ask
// questions concurrently; the only mutable part is the hook list, which is
// guarded. The zero value covers no year at all.
type Calendar struct {
	t table

	mu    sync.RWMutex
	hooks []func(year int)
}

// table is the parsed, read-only holiday data. Default shares one table
// between all the Calendars it returns.
type table struct {
	years   map[int]bool   // covered years
	sorted  []int          // covered years, ascending
	sources map[int]string // each covered year's source, as the file gives it
	// special holds the days that differ from the Monday-Friday rule's answer
	// or are named by the data: true for a 调休 working weekend day, false for
	// a statutory day off.
	special map[day]bool
}

// defaultTable parses the embedded file once; every Default() shares it.
var defaultTable = sync.OnceValue(func() table {
	t, err := parse(embedded)
	if err != nil {
		panic(fmt.Sprintf("calendar: embedded holidays.json is broken: %v", err))
	}
	return t
})

// Default returns a Calendar built from the embedded holidays.json. It panics
// only if that file is broken, which the package tests rule out. Each call
// returns a new Calendar (sharing the parsed data) so hooks registered by one
// user do not fire for another.
func Default() *Calendar {
	return &Calendar{t: defaultTable()}
}

// Parse builds a Calendar from holiday data in the holidays.json format and
// validates it, because a wrong entry silently moves legal deadlines: every
// date must parse as YYYY-MM-DD, from must not be after to, a date may not be
// both off and worked, a 调休 working day must fall on a weekend, and each
// date must lie in its year key (or in the last days of the year before, for
// New Year). Unknown fields are rejected so that a misspelt key ("of" for
// "off") cannot drop data unnoticed. Errors name the offending entry.
func Parse(data []byte) (*Calendar, error) {
	t, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("calendar: %w", err)
	}
	return &Calendar{t: t}, nil
}

// Load reads and parses an operator's holiday file, in the same format as the
// embedded one, so a newly published year can be added without a rebuild.
func Load(path string) (*Calendar, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("calendar: %w", fileError("读取", "read", path, err))
	}
	t, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("calendar: %w", wrapBi(err, "读取 "+path+"：", "load "+path+": "))
	}
	return &Calendar{t: t}, nil
}

// OnMissingYear registers fn to be called, every time, when a question needs
// a year the data lacks, so the gateway can log it, count it in a metric and
// show it in readiness. Hooks run synchronously on the asking goroutine, may
// run concurrently with each other, and should be quick. A nil fn is ignored.
// Safe for concurrent use.
func (c *Calendar) OnMissingYear(fn func(year int)) {
	if fn == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// Copy on write: missing() calls a snapshot without holding the lock, so a
	// hook may itself register hooks.
	c.hooks = append(slices.Clip(c.hooks), fn)
}

// Covers reports whether the data has the given year.
func (c *Calendar) Covers(year int) bool {
	return c.t.years[year]
}

// Years returns the covered years in ascending order.
func (c *Calendar) Years() []int {
	return slices.Clone(c.t.sorted)
}

// Last returns the last covered year, 0 if none is.
func (c *Calendar) Last() int {
	if len(c.t.sorted) == 0 {
		return 0
	}
	return c.t.sorted[len(c.t.sorted)-1]
}

// first is the first covered year, 0 if none is.
func (c *Calendar) first() int {
	if len(c.t.sorted) == 0 {
		return 0
	}
	return c.t.sorted[0]
}

// Provisional reports whether Due answers for year by the statutory rule
// rather than by a published notice: the year lies after the last covered
// one. (A year before the data, or a gap inside it, is not provisional but
// an error.)
func (c *Calendar) Provisional(year int) bool {
	last := c.Last()
	return last != 0 && year > last && year >= RuleFrom
}

// Source tells where the answers for year come from: the data's source for
// a covered year (the notice's title, as written in the file), RuleSource
// for a provisional year, "" otherwise.
func (c *Calendar) Source(year int) string {
	if c.Covers(year) {
		return c.t.sources[year]
	}
	if c.Provisional(year) {
		return RuleSource
	}
	return ""
}

// Due returns the n-th working day after start (start not counted, as
// AddWorkingDays). Days in covered years are judged by the data. Days in a
// year after the last covered one are judged by the statutory rule
// (RuleOffDays: statutory days and 补休 off, plain weekends off, no 调休
// working day guessed) and make the answer provisional: the notice for that
// year, once imported, may move it, typically later around Spring Festival.
// A year before the first covered one, or missing between two covered ones,
// is an error wrapping ErrYearNotCovered (and calls the OnMissingYear hooks);
// a provisional year does not call them. n must be at least 1.
func (c *Calendar) Due(start civil.Date, n int) (due civil.Date, provisional bool, err error) {
	if n < 1 {
		return civil.Date{}, false, fmt.Errorf("calendar: Due needs n >= 1, got %d", n)
	}
	if start.IsZero() {
		return civil.Date{}, false, errors.New("calendar: Due needs a start date")
	}
	x := dayFromDate(start.Year(), start.Month(), start.Day())
	end := x // days up to end are known to be answerable
	var r *rule
	for count := 0; ; {
		x++
		if x > end {
			y := x.year()
			r = nil
			if c.Provisional(y) {
				if r, err = ruleFor(y); err != nil {
					return civil.Date{}, false, err
				}
				provisional = true
			} else if err := c.cover(x); err != nil {
				return civil.Date{}, false, err
			}
			end = yearEnd(x)
		}
		var w bool
		if r != nil {
			_, off := r.off[x]
			w = !off && !x.weekend()
		} else {
			w = c.working(x)
		}
		if w {
			count++
			if count == n {
				return civil.New(x.utc().Date()), provisional, nil
			}
		}
	}
}

// IsWorkingDay reports whether d's civil date in Zone is a working day. If
// that year is not covered it returns an error wrapping ErrYearNotCovered
// rather than guessing.
func (c *Calendar) IsWorkingDay(d time.Time) (bool, error) {
	x := dayOf(d)
	if err := c.cover(x); err != nil {
		return false, err
	}
	return c.working(x), nil
}

// AddWorkingDays returns the date of the n-th working day after start, as
// midnight in Zone. The start day itself is not counted, as Chinese
// administrative law counts periods (期间开始之日不计算在内), so with n = 1 the
// answer is the next working day. n must be at least 1. If any day it has to
// examine lies in an uncovered year, the error wraps ErrYearNotCovered.
func (c *Calendar) AddWorkingDays(start time.Time, n int) (time.Time, error) {
	if n < 1 {
		return time.Time{}, fmt.Errorf("calendar: AddWorkingDays needs n >= 1, got %d", n)
	}
	x := dayOf(start)
	end := x // days up to end are known to lie in covered years
	for count := 0; ; {
		x++
		if x > end {
			if err := c.cover(x); err != nil {
				return time.Time{}, err
			}
			end = yearEnd(x)
		}
		if c.working(x) {
			count++
			if count == n {
				return x.midnight(), nil
			}
		}
	}
}

// WorkingDaysBetween counts the working days d with from < d <= to, comparing
// civil dates in Zone; it is 0 if to is not after from. It is the inverse of
// AddWorkingDays: WorkingDaysBetween(s, AddWorkingDays(s, n)) == n. If any day
// in the range lies in an uncovered year, the error wraps ErrYearNotCovered.
func (c *Calendar) WorkingDaysBetween(from, to time.Time) (int, error) {
	x, last := dayOf(from), dayOf(to)
	end := x
	n := 0
	for x < last {
		x++
		if x > end {
			if err := c.cover(x); err != nil {
				return 0, err
			}
			end = yearEnd(x)
		}
		if c.working(x) {
			n++
		}
	}
	return n, nil
}

// cover returns nil if x's year is covered; otherwise it calls the hooks and
// returns an error wrapping ErrYearNotCovered.
func (c *Calendar) cover(x day) error {
	y := x.year()
	if c.t.years[y] {
		return nil
	}
	c.missing(y)
	return fmt.Errorf("%w: %d", ErrYearNotCovered, y)
}

func (c *Calendar) missing(year int) {
	c.mu.RLock()
	hooks := c.hooks
	c.mu.RUnlock()
	for _, fn := range hooks {
		fn(year)
	}
}

// working answers for a day whose year is already known to be covered.
func (c *Calendar) working(x day) bool {
	if w, ok := c.t.special[x]; ok {
		return w
	}
	return !x.weekend()
}

// day is a civil date as a count of days since 1970-01-01. Dates become
// integers once, so stepping and map lookups cost no time.Time arithmetic.
type day int32

// dayOf is t's civil date in Zone.
func dayOf(t time.Time) day {
	y, m, d := t.In(Zone).Date()
	return dayFromDate(y, m, d)
}

func dayFromDate(y int, m time.Month, d int) day {
	// Midnight UTC is a whole number of days from the epoch, so the division
	// is exact also before 1970.
	return day(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / secondsPerDay)
}

func (x day) utc() time.Time { return time.Unix(int64(x)*secondsPerDay, 0).UTC() }

func (x day) year() int { return x.utc().Year() }

func (x day) String() string { return x.utc().Format(dateLayout) }

// midnight is 00:00 of x in Zone.
func (x day) midnight() time.Time {
	y, m, d := x.utc().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, Zone)
}

// weekday avoids time.Time: 1970-01-01 was a Thursday.
func (x day) weekday() time.Weekday {
	return time.Weekday(((int(x) % 7) + 7 + int(time.Thursday)) % 7)
}

func (x day) weekend() bool {
	wd := x.weekday()
	return wd == time.Saturday || wd == time.Sunday
}

// yearEnd is 31 December of x's year.
func yearEnd(x day) day { return dayFromDate(x.year(), time.December, 31) }

// The file format. It is meant to be edited by hand, hence dates as strings
// and names on the ranges.
type fileJSON struct {
	Note  string              `json:"note,omitempty"`
	Years map[string]yearJSON `json:"years"`
}

type yearJSON struct {
	Source string      `json:"source,omitempty"` // e.g. the notice's title or 文号
	Off    []rangeJSON `json:"off"`
	Work   []string    `json:"work"`
}

type rangeJSON struct {
	From string `json:"from"`
	To   string `json:"to"`
	Name string `json:"name,omitempty"` // 元旦, 春节, 清明节, ...
}

// entry remembers where a date was set, for conflict messages.
type entry struct {
	work  bool
	label string
}

func parse(data []byte) (table, error) {
	var f fileJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return table{}, wrapBi(jsonError(data, err), "假日数据无效：", "holiday data is not valid: ")
	}
	if _, err := dec.Token(); err != io.EOF {
		return table{}, bi("假日数据无效：顶层对象之后还有内容", "holiday data is not valid: unexpected data after the top-level object")
	}
	if len(f.Years) == 0 {
		return table{}, bi(`假日数据没有 "years"`, `holiday data has no "years"`)
	}

	type keyed struct {
		key  string
		year int
	}
	keys := make([]keyed, 0, len(f.Years))
	for k := range f.Years {
		y, err := strconv.Atoi(k)
		if err != nil || y < 1000 || y > 9999 || strconv.Itoa(y) != k {
			return table{}, bi(fmt.Sprintf("years[%q]：键必须是四位数的年份", k), fmt.Sprintf("years[%q]: the key must be a four-digit year", k))
		}
		keys = append(keys, keyed{k, y})
	}
	// Sorted so that errors, and which of two conflicting entries is blamed,
	// do not depend on map order.
	slices.SortFunc(keys, func(a, b keyed) int { return a.year - b.year })

	t := table{years: make(map[int]bool, len(keys)), sources: make(map[int]string, len(keys)), special: make(map[day]bool)}
	seen := make(map[day]entry)
	for _, k := range keys {
		yd := f.Years[k.key]
		if len(yd.Off) == 0 {
			// A published year always has days off; an empty year is most
			// likely a placeholder, and covering it would be the very guess
			// this package refuses to make.
			return table{}, bi(fmt.Sprintf("years[%q]：没有放假日；通知发布前请不要写这一年", k.key),
				fmt.Sprintf("years[%q]: no days off; leave the year out until its notice is published", k.key))
		}
		lo := dayFromDate(k.year-1, time.December, 31-newYearSpill+1)
		hi := dayFromDate(k.year, time.December, 31)
		inYear := func(label string, x day) error {
			if x < lo || x > hi {
				return bi(fmt.Sprintf("%s：%s 不在 %d 年内（允许 %s 至 %s）", label, x, k.year, lo, hi),
					fmt.Sprintf("%s: %s lies outside year %d (allowed %s to %s)", label, x, k.year, lo, hi))
			}
			return nil
		}

		for i, r := range yd.Off {
			label := fmt.Sprintf("years[%q].off[%d]", k.key, i)
			if r.Name != "" {
				label += " (" + r.Name + ")"
			}
			from, err := parseDate(r.From)
			if err != nil {
				return table{}, wrapBi(err, label+"：from：", label+": from: ")
			}
			to, err := parseDate(r.To)
			if err != nil {
				return table{}, wrapBi(err, label+"：to：", label+": to: ")
			}
			if from > to {
				return table{}, bi(fmt.Sprintf("%s：起始日 %s 晚于结束日 %s", label, from, to), fmt.Sprintf("%s: from %s is after to %s", label, from, to))
			}
			if span := int(to-from) + 1; span > maxOffRange {
				return table{}, bi(fmt.Sprintf("%s：%s 至 %s 共 %d 天，超过 %d 天，是否写错？", label, from, to, span, maxOffRange),
					fmt.Sprintf("%s: %s to %s is %d days off, more than %d; a typo?", label, from, to, span, maxOffRange))
			}
			if err := inYear(label, from); err != nil {
				return table{}, err
			}
			if err := inYear(label, to); err != nil {
				return table{}, err
			}
			for x := from; x <= to; x++ {
				if prev, ok := seen[x]; ok && prev.work {
					return table{}, bi(fmt.Sprintf("%s：%s 在此放假，但在 %s 中是上班日", label, x, prev.label),
						fmt.Sprintf("%s: %s is a day off here but a working day in %s", label, x, prev.label))
				}
				seen[x] = entry{work: false, label: label}
				t.special[x] = false
			}
		}

		for i, s := range yd.Work {
			label := fmt.Sprintf("years[%q].work[%d]", k.key, i)
			x, err := parseDate(s)
			if err != nil {
				return table{}, wrapBi(err, label+"：", label+": ")
			}
			if err := inYear(label, x); err != nil {
				return table{}, err
			}
			if !x.weekend() {
				return table{}, bi(fmt.Sprintf("%s：%s 是%s；调休上班日必须是周六或周日", label, x, weekdayZH[x.weekday()]),
					fmt.Sprintf("%s: %s is a %s; a 调休 working day must be a Saturday or Sunday", label, x, x.weekday()))
			}
			if prev, ok := seen[x]; ok && !prev.work {
				return table{}, bi(fmt.Sprintf("%s：%s 在此是上班日，但在 %s 中放假", label, x, prev.label),
					fmt.Sprintf("%s: %s is a working day here but a day off in %s", label, x, prev.label))
			}
			seen[x] = entry{work: true, label: label}
			t.special[x] = true
		}

		t.years[k.year] = true
		t.sources[k.year] = yd.Source
		t.sorted = append(t.sorted, k.year)
	}
	return t, nil
}

// parseDate accepts exactly YYYY-MM-DD and rejects impossible dates such as
// 2024-02-30.
func parseDate(s string) (day, error) {
	tm, err := time.Parse(dateLayout, s)
	if err != nil {
		return 0, bi(fmt.Sprintf("日期 %q 无效，应为 YYYY-MM-DD 格式的实有日期", s), fmt.Sprintf("bad date %q, want YYYY-MM-DD: %v", s, err))
	}
	return dayFromDate(tm.Date()), nil
}

// position turns a byte offset into a 1-based line and column, for operators
// fixing a hand-edited file.
func position(data []byte, offset int64) (line, col int) {
	offset = min(max(offset, 0), int64(len(data)))
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(offset) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, col
}
