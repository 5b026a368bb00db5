package calendar

import (
	"fmt"
	"slices"
	"sync"
	"time"

	lunar "github.com/6tail/lunar-go/calendar"

	"onething/civil"
)

// The statutory rule (全国年节及纪念日放假办法, as amended by the State Council
// in 2024, in force from 2025): the days off every citizen has by law,
// before the State Council's yearly notice adds 调休 (moved days). The
// notice is what counts; the rule is used only where no notice is in the
// data yet (provisional due dates) and to check a notice being imported.

// RuleFrom is the first year the 2024 amendment governs; the rule is not
// applied to earlier years (春节 was 3 days and 劳动节 1 before it).
const RuleFrom = 2025

// RuleSource names the rule, for Source and for operators.
const RuleSource = "全国年节及纪念日放假办法（2024年修订）：法定假日及补休，无调休上班日 / statutory rule as amended in 2024: statutory days and substitute days off, no make-up working days"

// The seven festivals, by the names the notices use. A notice names a
// combined break "中秋节、国庆节" (or the other way round).
const (
	NewYear     = "元旦"
	SpringFest  = "春节"
	Qingming    = "清明节"
	LabourDay   = "劳动节"
	DragonBoat  = "端午节"
	MidAutumn   = "中秋节"
	NationalDay = "国庆节"
)

// Festivals lists the seven statutory festivals in calendar order.
var Festivals = []string{NewYear, SpringFest, Qingming, LabourDay, DragonBoat, MidAutumn, NationalDay}

// festivalEN is each festival's English name, for messages.
var festivalEN = map[string]string{
	NewYear: "New Year's Day", SpringFest: "Spring Festival", Qingming: "Qingming Festival",
	LabourDay: "Labour Day", DragonBoat: "Dragon Boat Festival", MidAutumn: "Mid-Autumn Festival",
	NationalDay: "National Day",
}

// FestivalEN is the English name of a festival ("" if name is not one).
func FestivalEN(name string) string { return festivalEN[name] }

// StatutoryDay is one day the law gives off for a festival.
type StatutoryDay struct {
	Date     civil.Date
	Festival string
}

// Statutory returns the statutory days of year (11 of them, two may share a
// date), in date order: 元旦 1 January; 春节 除夕 (the last day of the 12th
// lunar month) to 正月初三; 清明节 the day of the 清明 solar term; 劳动节 1-2 May;
// 端午节 the 5th of the 5th lunar month; 中秋节 the 15th of the 8th lunar month;
// 国庆节 1-3 October. Lunar dates and the solar term come from lunar-go. It
// fails for a year before RuleFrom.
func Statutory(year int) ([]StatutoryDay, error) {
	r, err := ruleFor(year)
	if err != nil {
		return nil, err
	}
	return slices.Clone(r.statutory), nil
}

// RuleOffDays returns the days off the rule gives in year beyond plain
// weekends: the statutory days and the 补休 (substitute weekdays off), each
// with its festival. A statutory day on a Saturday or Sunday gives the next
// weekday that is not already off; where two statutory days share a date
// (中秋节 inside 国庆节) the extra day shifts the same way. The rule guesses
// no 调休 working day: only the yearly notice sets those.
func RuleOffDays(year int) (map[civil.Date]string, error) {
	r, err := ruleFor(year)
	if err != nil {
		return nil, err
	}
	out := make(map[civil.Date]string, len(r.off))
	for x, name := range r.off {
		out[civil.New(x.utc().Date())] = name
	}
	return out, nil
}

type rule struct {
	statutory []StatutoryDay
	off       map[day]string // statutory and 补休 days, with the festival
}

var (
	ruleMu    sync.Mutex
	ruleCache = map[int]*rule{}
)

// ruleFor computes (once per year) the rule's days off.
func ruleFor(year int) (*rule, error) {
	if year < RuleFrom || year > 9999 {
		return nil, fmt.Errorf("calendar: the statutory rule (as amended in 2024) applies from %d to 9999, not to %d", RuleFrom, year)
	}
	ruleMu.Lock()
	defer ruleMu.Unlock()
	if r, ok := ruleCache[year]; ok {
		return r, nil
	}
	r := computeRule(year)
	ruleCache[year] = r
	return r, nil
}

// named is a day with its festival.
type named struct {
	x    day
	name string
}

func computeRule(year int) *rule {
	solar := func(s *lunar.Solar) day {
		return dayFromDate(s.GetYear(), time.Month(s.GetMonth()), s.GetDay())
	}
	chuyi := solar(lunar.NewLunarFromYmd(year, 1, 1).GetSolar()) // 正月初一
	days := []named{
		{dayFromDate(year, time.January, 1), NewYear},
		{chuyi - 1, SpringFest}, // 除夕, whether the 29th or the 30th
		{chuyi, SpringFest},
		{chuyi + 1, SpringFest},
		{chuyi + 2, SpringFest},
		{solar(lunar.NewLunarFromYmd(year, 1, 1).GetJieQiTable()["清明"]), Qingming},
		{dayFromDate(year, time.May, 1), LabourDay},
		{dayFromDate(year, time.May, 2), LabourDay},
		{solar(lunar.NewLunarFromYmd(year, 5, 5).GetSolar()), DragonBoat},
		{solar(lunar.NewLunarFromYmd(year, 8, 15).GetSolar()), MidAutumn},
		{dayFromDate(year, time.October, 1), NationalDay},
		{dayFromDate(year, time.October, 2), NationalDay},
		{dayFromDate(year, time.October, 3), NationalDay},
	}
	slices.SortStableFunc(days, func(a, b named) int { return int(a.x - b.x) })

	r := &rule{off: map[day]string{}}
	for _, d := range days {
		r.statutory = append(r.statutory, StatutoryDay{civil.New(d.x.utc().Date()), d.name})
		if _, ok := r.off[d.x]; !ok {
			r.off[d.x] = d.name
		}
	}
	// 补休: a statutory day that does not get a weekday of its own (it falls
	// on a weekend, or shares its date with another statutory day) gives the
	// next weekday that is not off yet. Days are taken in date order, so
	// earlier festivals' substitutes come first.
	ownDay := map[day]bool{}
	for _, d := range days {
		if !d.x.weekend() && !ownDay[d.x] {
			ownDay[d.x] = true
			continue
		}
		x := d.x + 1
		for x.weekend() || r.off[x] != "" {
			x++
		}
		r.off[x] = d.name
	}
	return r
}
