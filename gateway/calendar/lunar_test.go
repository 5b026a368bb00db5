package calendar

import (
	"encoding/json"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/6tail/lunar-go/HolidayUtil"
)

// TestDataAgreesWithLunarGo compares every year of holidays.json, day by
// day, with the published schedules lunar-go's HolidayUtil carries: the
// same days off and the same 调休 working days. Two independent
// transcriptions of the State Council notices agreeing is what makes a typo
// in either unlikely. The library files an arrangement under the year of
// its festival (2023's New Year break starts on 2022-12-31), as
// holidays.json does, so days are grouped by that year.
func TestDataAgreesWithLunarGo(t *testing.T) {
	var f fileJSON
	if err := json.Unmarshal(embedded, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Years) < 6 {
		t.Fatalf("holidays.json has %d years, want at least 2022..2027", len(f.Years))
	}
	for key, yd := range f.Years {
		year, err := strconv.Atoi(key)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(key, func(t *testing.T) {
			var ourOff, ourWork []string
			for _, r := range yd.Off {
				from, _ := parseDate(r.From)
				to, _ := parseDate(r.To)
				for x := from; x <= to; x++ {
					ourOff = append(ourOff, x.String())
				}
			}
			ourWork = append(ourWork, yd.Work...)

			var libOff, libWork []string
			for y := year - 1; y <= year+1; y++ {
				for e := HolidayUtil.GetHolidaysByYear(y).Front(); e != nil; e = e.Next() {
					h := e.Value.(*HolidayUtil.Holiday)
					if h.GetTarget()[:4] != key {
						continue
					}
					if h.IsWork() {
						libWork = append(libWork, h.GetDay())
					} else {
						libOff = append(libOff, h.GetDay())
					}
				}
			}
			if len(libOff) == 0 {
				t.Fatalf("lunar-go has no schedule for %d", year)
			}
			compareDays(t, "day off", ourOff, libOff, weekendJoined)
			compareDays(t, "调休 working day", ourWork, libWork, nil)
		})
	}
}

// weekendJoined are the days lunar-go lists as part of a break although the
// notice does not: the 2024 notice (国办发明电〔2023〕7号) says "元旦：1月1日放假，
// 与周末连休" and "端午节：6月10日放假，与周末连休", so the ordinary weekend before
// each is off but is not a holiday day, and holidays.json, following the
// notice's words, does not list it. Whether a day is worked is the same
// either way (TestWorkingStatusAgreesWithLunarGo checks that with no
// exception); each entry here must be a Saturday or Sunday.
var weekendJoined = map[string]bool{
	"2023-12-30": true, "2023-12-31": true, // 2024 元旦
	"2024-06-08": true, "2024-06-09": true, // 2024 端午节
}

func compareDays(t *testing.T, what string, ours, lib []string, libMayAdd map[string]bool) {
	t.Helper()
	slices.Sort(ours)
	slices.Sort(lib)
	for _, d := range ours {
		if !slices.Contains(lib, d) {
			t.Errorf("%s %s is in holidays.json but not in lunar-go", what, d)
		}
	}
	for _, d := range lib {
		if slices.Contains(ours, d) {
			continue
		}
		if libMayAdd[d] {
			if x, err := parseDate(d); err != nil || !x.weekend() {
				t.Errorf("%s %s is excused as a joined weekend but is not a weekend day", what, d)
			}
			continue
		}
		t.Errorf("%s %s is in lunar-go but not in holidays.json", what, d)
	}
}

// TestWorkingStatusAgreesWithLunarGo asks both sources, for every day of
// 2022..Last(), whether it is worked; no exceptions.
func TestWorkingStatusAgreesWithLunarGo(t *testing.T) {
	c := Default()
	first, last := dayFromDate(c.Years()[0], time.January, 1), yearEnd(dayFromDate(c.Last(), time.January, 1))
	n := 0
	for x := first; x <= last; x++ {
		ours, err := c.IsWorkingDay(x.midnight())
		if err != nil {
			t.Fatal(err)
		}
		lib := !x.weekend()
		if h := HolidayUtil.GetHoliday(x.String()); h != nil {
			lib = h.IsWork()
		}
		if ours != lib {
			t.Errorf("%s (%s): holidays.json says worked=%v, lunar-go says worked=%v", x, x.weekday(), ours, lib)
		}
		n++
	}
	if n < 6*365 {
		t.Errorf("only %d days compared", n)
	}
}
