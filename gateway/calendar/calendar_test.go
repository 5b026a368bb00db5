package calendar

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// date is midday in Zone, so a test never depends on where midnight falls.
func date(t testing.TB, s string) time.Time {
	t.Helper()
	d, err := time.ParseInLocation(dateLayout, s, Zone)
	if err != nil {
		t.Fatalf("bad test date %q: %v", s, err)
	}
	return d.Add(12 * time.Hour)
}

// TestIsWorkingDay checks every statutory day off and every 调休 working
// weekend day of 2022-2027 as published, plus the ordinary days next to each
// break. The rows are written out from the State Council notices, not derived
// from holidays.json, so a wrong entry in the file fails here.
func TestIsWorkingDay(t *testing.T) {
	tests := []struct {
		date string
		want bool
		why  string
	}{
		// 2022
		{"2022-01-01", false, "元旦 day off (Saturday)"},
		{"2022-01-02", false, "元旦 day off (Sunday)"},
		{"2022-01-03", false, "元旦 day off (Monday)"},
		{"2022-01-04", true, "ordinary Tuesday after 元旦"},
		{"2022-01-31", false, "春节 day off (Monday)"},
		{"2022-02-01", false, "春节 day off (Tuesday)"},
		{"2022-02-02", false, "春节 day off (Wednesday)"},
		{"2022-02-03", false, "春节 day off (Thursday)"},
		{"2022-02-04", false, "春节 day off (Friday)"},
		{"2022-02-05", false, "春节 day off (Saturday)"},
		{"2022-02-06", false, "春节 day off (Sunday)"},
		{"2022-02-07", true, "ordinary Monday after 春节"},
		{"2022-04-03", false, "清明节 day off (Sunday)"},
		{"2022-04-04", false, "清明节 day off (Monday)"},
		{"2022-04-05", false, "清明节 day off (Tuesday)"},
		{"2022-04-06", true, "ordinary Wednesday after 清明节"},
		{"2022-04-29", true, "ordinary Friday before 劳动节"},
		{"2022-04-30", false, "劳动节 day off (Saturday)"},
		{"2022-05-01", false, "劳动节 day off (Sunday)"},
		{"2022-05-02", false, "劳动节 day off (Monday)"},
		{"2022-05-03", false, "劳动节 day off (Tuesday)"},
		{"2022-05-04", false, "劳动节 day off (Wednesday)"},
		{"2022-05-05", true, "ordinary Thursday after 劳动节"},
		{"2022-06-02", true, "ordinary Thursday before 端午节"},
		{"2022-06-03", false, "端午节 day off (Friday)"},
		{"2022-06-04", false, "端午节 day off (Saturday)"},
		{"2022-06-05", false, "端午节 day off (Sunday)"},
		{"2022-06-06", true, "ordinary Monday after 端午节"},
		{"2022-09-09", true, "ordinary Friday before 中秋节"},
		{"2022-09-10", false, "中秋节 day off (Saturday)"},
		{"2022-09-11", false, "中秋节 day off (Sunday)"},
		{"2022-09-12", false, "中秋节 day off (Monday)"},
		{"2022-09-13", true, "ordinary Tuesday after 中秋节"},
		{"2022-09-30", true, "ordinary Friday before 国庆节"},
		{"2022-10-01", false, "国庆节 day off (Saturday)"},
		{"2022-10-02", false, "国庆节 day off (Sunday)"},
		{"2022-10-03", false, "国庆节 day off (Monday)"},
		{"2022-10-04", false, "国庆节 day off (Tuesday)"},
		{"2022-10-05", false, "国庆节 day off (Wednesday)"},
		{"2022-10-06", false, "国庆节 day off (Thursday)"},
		{"2022-10-07", false, "国庆节 day off (Friday)"},
		{"2022-01-29", true, "春节 调休 working Saturday"},
		{"2022-01-30", true, "春节 调休 working Sunday"},
		{"2022-04-02", true, "清明节 调休 working Saturday"},
		{"2022-04-24", true, "劳动节 调休 working Sunday"},
		{"2022-05-07", true, "劳动节 调休 working Saturday"},
		{"2022-10-08", true, "国庆节 调休 working Saturday"},
		{"2022-10-09", true, "国庆节 调休 working Sunday"},
		// 2023
		{"2022-12-30", true, "ordinary Friday before 元旦"},
		{"2022-12-31", false, "元旦 day off (Saturday)"},
		{"2023-01-01", false, "元旦 day off (Sunday)"},
		{"2023-01-02", false, "元旦 day off (Monday)"},
		{"2023-01-03", true, "ordinary Tuesday after 元旦"},
		{"2023-01-20", true, "ordinary Friday before 春节"},
		{"2023-01-21", false, "春节 day off (Saturday)"},
		{"2023-01-22", false, "春节 day off (Sunday)"},
		{"2023-01-23", false, "春节 day off (Monday)"},
		{"2023-01-24", false, "春节 day off (Tuesday)"},
		{"2023-01-25", false, "春节 day off (Wednesday)"},
		{"2023-01-26", false, "春节 day off (Thursday)"},
		{"2023-01-27", false, "春节 day off (Friday)"},
		{"2023-04-04", true, "ordinary Tuesday before 清明节"},
		{"2023-04-05", false, "清明节 day off (Wednesday)"},
		{"2023-04-06", true, "ordinary Thursday after 清明节"},
		{"2023-04-28", true, "ordinary Friday before 劳动节"},
		{"2023-04-29", false, "劳动节 day off (Saturday)"},
		{"2023-04-30", false, "劳动节 day off (Sunday)"},
		{"2023-05-01", false, "劳动节 day off (Monday)"},
		{"2023-05-02", false, "劳动节 day off (Tuesday)"},
		{"2023-05-03", false, "劳动节 day off (Wednesday)"},
		{"2023-05-04", true, "ordinary Thursday after 劳动节"},
		{"2023-06-21", true, "ordinary Wednesday before 端午节"},
		{"2023-06-22", false, "端午节 day off (Thursday)"},
		{"2023-06-23", false, "端午节 day off (Friday)"},
		{"2023-06-24", false, "端午节 day off (Saturday)"},
		{"2023-09-28", true, "ordinary Thursday before 中秋节、国庆节"},
		{"2023-09-29", false, "中秋节、国庆节 day off (Friday)"},
		{"2023-09-30", false, "中秋节、国庆节 day off (Saturday)"},
		{"2023-10-01", false, "中秋节、国庆节 day off (Sunday)"},
		{"2023-10-02", false, "中秋节、国庆节 day off (Monday)"},
		{"2023-10-03", false, "中秋节、国庆节 day off (Tuesday)"},
		{"2023-10-04", false, "中秋节、国庆节 day off (Wednesday)"},
		{"2023-10-05", false, "中秋节、国庆节 day off (Thursday)"},
		{"2023-10-06", false, "中秋节、国庆节 day off (Friday)"},
		{"2023-01-28", true, "春节 调休 working Saturday"},
		{"2023-01-29", true, "春节 调休 working Sunday"},
		{"2023-04-23", true, "劳动节 调休 working Sunday"},
		{"2023-05-06", true, "劳动节 调休 working Saturday"},
		{"2023-06-25", true, "端午节 调休 working Sunday"},
		{"2023-10-07", true, "中秋节、国庆节 调休 working Saturday"},
		{"2023-10-08", true, "中秋节、国庆节 调休 working Sunday"},
		// 2024
		{"2023-12-31", false, "ordinary Sunday before 元旦"},
		{"2024-01-01", false, "元旦 day off (Monday)"},
		{"2024-01-02", true, "ordinary Tuesday after 元旦"},
		{"2024-02-09", true, "ordinary Friday before 春节"},
		{"2024-02-10", false, "春节 day off (Saturday)"},
		{"2024-02-11", false, "春节 day off (Sunday)"},
		{"2024-02-12", false, "春节 day off (Monday)"},
		{"2024-02-13", false, "春节 day off (Tuesday)"},
		{"2024-02-14", false, "春节 day off (Wednesday)"},
		{"2024-02-15", false, "春节 day off (Thursday)"},
		{"2024-02-16", false, "春节 day off (Friday)"},
		{"2024-02-17", false, "春节 day off (Saturday)"},
		{"2024-04-03", true, "ordinary Wednesday before 清明节"},
		{"2024-04-04", false, "清明节 day off (Thursday)"},
		{"2024-04-05", false, "清明节 day off (Friday)"},
		{"2024-04-06", false, "清明节 day off (Saturday)"},
		{"2024-04-30", true, "ordinary Tuesday before 劳动节"},
		{"2024-05-01", false, "劳动节 day off (Wednesday)"},
		{"2024-05-02", false, "劳动节 day off (Thursday)"},
		{"2024-05-03", false, "劳动节 day off (Friday)"},
		{"2024-05-04", false, "劳动节 day off (Saturday)"},
		{"2024-05-05", false, "劳动节 day off (Sunday)"},
		{"2024-05-06", true, "ordinary Monday after 劳动节"},
		{"2024-06-09", false, "ordinary Sunday before 端午节"},
		{"2024-06-10", false, "端午节 day off (Monday)"},
		{"2024-06-11", true, "ordinary Tuesday after 端午节"},
		{"2024-09-15", false, "中秋节 day off (Sunday)"},
		{"2024-09-16", false, "中秋节 day off (Monday)"},
		{"2024-09-17", false, "中秋节 day off (Tuesday)"},
		{"2024-09-18", true, "ordinary Wednesday after 中秋节"},
		{"2024-09-30", true, "ordinary Monday before 国庆节"},
		{"2024-10-01", false, "国庆节 day off (Tuesday)"},
		{"2024-10-02", false, "国庆节 day off (Wednesday)"},
		{"2024-10-03", false, "国庆节 day off (Thursday)"},
		{"2024-10-04", false, "国庆节 day off (Friday)"},
		{"2024-10-05", false, "国庆节 day off (Saturday)"},
		{"2024-10-06", false, "国庆节 day off (Sunday)"},
		{"2024-10-07", false, "国庆节 day off (Monday)"},
		{"2024-10-08", true, "ordinary Tuesday after 国庆节"},
		{"2024-02-04", true, "春节 调休 working Sunday"},
		{"2024-02-18", true, "春节 调休 working Sunday"},
		{"2024-04-07", true, "清明节 调休 working Sunday"},
		{"2024-04-28", true, "劳动节 调休 working Sunday"},
		{"2024-05-11", true, "劳动节 调休 working Saturday"},
		{"2024-09-14", true, "中秋节 调休 working Saturday"},
		{"2024-09-29", true, "国庆节 调休 working Sunday"},
		{"2024-10-12", true, "国庆节 调休 working Saturday"},
		// 2025
		{"2024-12-31", true, "ordinary Tuesday before 元旦"},
		{"2025-01-01", false, "元旦 day off (Wednesday)"},
		{"2025-01-02", true, "ordinary Thursday after 元旦"},
		{"2025-01-27", true, "ordinary Monday before 春节"},
		{"2025-01-28", false, "春节 day off (Tuesday)"},
		{"2025-01-29", false, "春节 day off (Wednesday)"},
		{"2025-01-30", false, "春节 day off (Thursday)"},
		{"2025-01-31", false, "春节 day off (Friday)"},
		{"2025-02-01", false, "春节 day off (Saturday)"},
		{"2025-02-02", false, "春节 day off (Sunday)"},
		{"2025-02-03", false, "春节 day off (Monday)"},
		{"2025-02-04", false, "春节 day off (Tuesday)"},
		{"2025-02-05", true, "ordinary Wednesday after 春节"},
		{"2025-04-03", true, "ordinary Thursday before 清明节"},
		{"2025-04-04", false, "清明节 day off (Friday)"},
		{"2025-04-05", false, "清明节 day off (Saturday)"},
		{"2025-04-06", false, "清明节 day off (Sunday)"},
		{"2025-04-07", true, "ordinary Monday after 清明节"},
		{"2025-04-30", true, "ordinary Wednesday before 劳动节"},
		{"2025-05-01", false, "劳动节 day off (Thursday)"},
		{"2025-05-02", false, "劳动节 day off (Friday)"},
		{"2025-05-03", false, "劳动节 day off (Saturday)"},
		{"2025-05-04", false, "劳动节 day off (Sunday)"},
		{"2025-05-05", false, "劳动节 day off (Monday)"},
		{"2025-05-06", true, "ordinary Tuesday after 劳动节"},
		{"2025-05-30", true, "ordinary Friday before 端午节"},
		{"2025-05-31", false, "端午节 day off (Saturday)"},
		{"2025-06-01", false, "端午节 day off (Sunday)"},
		{"2025-06-02", false, "端午节 day off (Monday)"},
		{"2025-06-03", true, "ordinary Tuesday after 端午节"},
		{"2025-09-30", true, "ordinary Tuesday before 国庆节、中秋节"},
		{"2025-10-01", false, "国庆节、中秋节 day off (Wednesday)"},
		{"2025-10-02", false, "国庆节、中秋节 day off (Thursday)"},
		{"2025-10-03", false, "国庆节、中秋节 day off (Friday)"},
		{"2025-10-04", false, "国庆节、中秋节 day off (Saturday)"},
		{"2025-10-05", false, "国庆节、中秋节 day off (Sunday)"},
		{"2025-10-06", false, "国庆节、中秋节 day off (Monday)"},
		{"2025-10-07", false, "国庆节、中秋节 day off (Tuesday)"},
		{"2025-10-08", false, "国庆节、中秋节 day off (Wednesday)"},
		{"2025-10-09", true, "ordinary Thursday after 国庆节、中秋节"},
		{"2025-01-26", true, "春节 调休 working Sunday"},
		{"2025-02-08", true, "春节 调休 working Saturday"},
		{"2025-04-27", true, "劳动节 调休 working Sunday"},
		{"2025-09-28", true, "国庆节、中秋节 调休 working Sunday"},
		{"2025-10-11", true, "国庆节、中秋节 调休 working Saturday"},
		// 2026
		{"2025-12-31", true, "ordinary Wednesday before 元旦"},
		{"2026-01-01", false, "元旦 day off (Thursday)"},
		{"2026-01-02", false, "元旦 day off (Friday)"},
		{"2026-01-03", false, "元旦 day off (Saturday)"},
		{"2026-02-15", false, "春节 day off (Sunday)"},
		{"2026-02-16", false, "春节 day off (Monday)"},
		{"2026-02-17", false, "春节 day off (Tuesday)"},
		{"2026-02-18", false, "春节 day off (Wednesday)"},
		{"2026-02-19", false, "春节 day off (Thursday)"},
		{"2026-02-20", false, "春节 day off (Friday)"},
		{"2026-02-21", false, "春节 day off (Saturday)"},
		{"2026-02-22", false, "春节 day off (Sunday)"},
		{"2026-02-23", false, "春节 day off (Monday)"},
		{"2026-02-24", true, "ordinary Tuesday after 春节"},
		{"2026-04-03", true, "ordinary Friday before 清明节"},
		{"2026-04-04", false, "清明节 day off (Saturday)"},
		{"2026-04-05", false, "清明节 day off (Sunday)"},
		{"2026-04-06", false, "清明节 day off (Monday)"},
		{"2026-04-07", true, "ordinary Tuesday after 清明节"},
		{"2026-04-30", true, "ordinary Thursday before 劳动节"},
		{"2026-05-01", false, "劳动节 day off (Friday)"},
		{"2026-05-02", false, "劳动节 day off (Saturday)"},
		{"2026-05-03", false, "劳动节 day off (Sunday)"},
		{"2026-05-04", false, "劳动节 day off (Monday)"},
		{"2026-05-05", false, "劳动节 day off (Tuesday)"},
		{"2026-05-06", true, "ordinary Wednesday after 劳动节"},
		{"2026-06-18", true, "ordinary Thursday before 端午节"},
		{"2026-06-19", false, "端午节 day off (Friday)"},
		{"2026-06-20", false, "端午节 day off (Saturday)"},
		{"2026-06-21", false, "端午节 day off (Sunday)"},
		{"2026-06-22", true, "ordinary Monday after 端午节"},
		{"2026-09-24", true, "ordinary Thursday before 中秋节"},
		{"2026-09-25", false, "中秋节 day off (Friday)"},
		{"2026-09-26", false, "中秋节 day off (Saturday)"},
		{"2026-09-27", false, "中秋节 day off (Sunday)"},
		{"2026-09-28", true, "ordinary Monday after 中秋节"},
		{"2026-09-30", true, "ordinary Wednesday before 国庆节"},
		{"2026-10-01", false, "国庆节 day off (Thursday)"},
		{"2026-10-02", false, "国庆节 day off (Friday)"},
		{"2026-10-03", false, "国庆节 day off (Saturday)"},
		{"2026-10-04", false, "国庆节 day off (Sunday)"},
		{"2026-10-05", false, "国庆节 day off (Monday)"},
		{"2026-10-06", false, "国庆节 day off (Tuesday)"},
		{"2026-10-07", false, "国庆节 day off (Wednesday)"},
		{"2026-10-08", true, "ordinary Thursday after 国庆节"},
		{"2026-01-04", true, "元旦 调休 working Sunday"},
		{"2026-02-14", true, "春节 调休 working Saturday"},
		{"2026-02-28", true, "春节 调休 working Saturday"},
		{"2026-05-09", true, "劳动节 调休 working Saturday"},
		{"2026-09-20", true, "中秋节 调休 working Sunday"},
		{"2026-10-10", true, "国庆节 调休 working Saturday"},
		// 2027
		{"2026-12-31", true, "ordinary Thursday before 元旦"},
		{"2027-01-01", false, "元旦 day off (Friday)"},
		{"2027-01-02", false, "元旦 day off (Saturday)"},
		{"2027-01-03", false, "元旦 day off (Sunday)"},
		{"2027-01-04", true, "ordinary Monday after 元旦"},
		{"2027-02-04", true, "ordinary Thursday before 春节"},
		{"2027-02-05", false, "春节 day off (Friday, 除夕)"},
		{"2027-02-06", false, "春节 day off (Saturday, 正月初一)"},
		{"2027-02-09", false, "春节 day off (Tuesday)"},
		{"2027-02-13", false, "春节 day off (Saturday)"},
		{"2027-02-15", true, "ordinary Monday after 春节"},
		{"2027-04-02", true, "ordinary Friday before 清明节"},
		{"2027-04-03", false, "清明节 day off (Saturday)"},
		{"2027-04-05", false, "清明节 day off (Monday, the solar term)"},
		{"2027-04-06", true, "ordinary Tuesday after 清明节"},
		{"2027-04-30", true, "ordinary Friday before 劳动节"},
		{"2027-05-03", false, "劳动节 day off (Monday)"},
		{"2027-05-05", false, "劳动节 day off (Wednesday)"},
		{"2027-05-06", true, "ordinary Thursday after 劳动节"},
		{"2027-06-08", true, "ordinary Tuesday before 端午节"},
		{"2027-06-09", false, "端午节 day off (Wednesday)"},
		{"2027-06-10", true, "ordinary Thursday after 端午节"},
		{"2027-09-15", false, "中秋节 day off (Wednesday)"},
		{"2027-09-16", true, "ordinary Thursday after 中秋节"},
		{"2027-09-30", true, "ordinary Thursday before 国庆节"},
		{"2027-10-01", false, "国庆节 day off (Friday)"},
		{"2027-10-07", false, "国庆节 day off (Thursday)"},
		{"2027-10-08", true, "ordinary Friday after 国庆节"},
		{"2027-01-31", true, "春节 调休 working Sunday"},
		{"2027-02-14", true, "春节 调休 working Sunday"},
		{"2027-05-08", true, "劳动节 调休 working Saturday"},
		{"2027-09-26", true, "国庆节 调休 working Sunday"},
		{"2027-10-09", true, "国庆节 调休 working Saturday"},
		{"2027-12-31", true, "ordinary Friday, last covered day"},
		// Ordinary days away from any holiday.
		{"2024-03-08", true, "ordinary Friday"},
		{"2024-03-09", false, "ordinary Saturday"},
		{"2024-03-10", false, "ordinary Sunday"},
		{"2024-03-11", true, "ordinary Monday"},
		{"2025-07-05", false, "ordinary Saturday"},
		{"2025-07-07", true, "ordinary Monday"},
		{"2026-12-30", true, "ordinary Wednesday"},
	}
	c := Default()
	for _, tt := range tests {
		t.Run(tt.date+" "+tt.why, func(t *testing.T) {
			got, err := c.IsWorkingDay(date(t, tt.date))
			if err != nil {
				t.Fatalf("IsWorkingDay(%s): %v", tt.date, err)
			}
			if got != tt.want {
				t.Errorf("IsWorkingDay(%s) = %v, want %v (%s)", tt.date, got, tt.want, tt.why)
			}
		})
	}
}

// TestIsWorkingDayZone checks that instants are read as civil dates in China
// Standard Time, not in their own location.
func TestIsWorkingDayZone(t *testing.T) {
	tests := []struct {
		at   time.Time
		want bool
		why  string
	}{
		{time.Date(2024, 2, 9, 15, 59, 59, 0, time.UTC), true, "2024-02-09 23:59:59 CST, 除夕 was worked"},
		{time.Date(2024, 2, 9, 16, 0, 0, 0, time.UTC), false, "2024-02-10 00:00 CST, first day of 春节"},
		{time.Date(2024, 2, 17, 16, 30, 0, 0, time.UTC), true, "2024-02-18 00:30 CST, 调休 Sunday (UTC date is still a day off)"},
		{time.Date(2024, 2, 18, 10, 0, 0, 0, time.FixedZone("PST", -8*3600)), true, "2024-02-19 02:00 CST, Monday (local date is a Sunday)"},
	}
	c := Default()
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			got, err := c.IsWorkingDay(tt.at)
			if err != nil {
				t.Fatalf("IsWorkingDay(%v): %v", tt.at, err)
			}
			if got != tt.want {
				t.Errorf("IsWorkingDay(%v) = %v, want %v (%s)", tt.at, got, tt.want, tt.why)
			}
		})
	}
}

// TestAddWorkingDays works around the long breaks. Expected values were
// counted by hand from the notices; the comments show the counting.
func TestAddWorkingDays(t *testing.T) {
	tests := []struct {
		start string
		n     int
		want  string
		why   string
	}{
		// Spring Festival 2024: off Sat 02-10 .. Sat 02-17; Sun 02-04 and Sun 02-18 worked.
		{"2024-02-02", 1, "2024-02-04", "Fri; Sat 02-03 off, Sun 02-04 调休"},
		{"2024-02-02", 5, "2024-02-08", "02-04, 05, 06, 07, 08"},
		{"2024-02-08", 1, "2024-02-09", "除夕 Fri 02-09 was a working day in 2024"},
		{"2024-02-08", 2, "2024-02-18", "02-09, then the break, then 调休 Sun 02-18"},
		{"2024-02-08", 3, "2024-02-19", "02-09, 02-18, Mon 02-19"},
		{"2024-02-09", 1, "2024-02-18", "the break, then 调休 Sun 02-18"},
		{"2024-02-09", 6, "2024-02-23", "02-18, 19, 20, 21, 22, 23"},
		{"2024-02-10", 1, "2024-02-18", "start inside the break"},
		// Spring Festival 2025: off Tue 01-28 .. Tue 02-04; Sun 01-26 and Sat 02-08 worked.
		{"2025-01-24", 1, "2025-01-26", "Fri; Sat 01-25 off, Sun 01-26 调休"},
		{"2025-01-24", 2, "2025-01-27", "01-26, Mon 01-27"},
		{"2025-01-24", 3, "2025-02-05", "01-26, 01-27, the break, Wed 02-05"},
		{"2025-01-27", 1, "2025-02-05", "the break, then Wed 02-05"},
		{"2025-01-27", 4, "2025-02-08", "02-05, 06, 07, 调休 Sat 02-08"},
		{"2025-01-27", 5, "2025-02-10", "02-05, 06, 07, 08, Sun 02-09 off, Mon 02-10"},
		{"2025-01-20", 20, "2025-02-21", "01-21..24 (4), 01-26, 27 (6), 02-05..08 (10), 02-10..14 (15), 02-17..21 (20)"},
		// Spring Festival 2026: off Sun 02-15 .. Mon 02-23; Sat 02-14 and Sat 02-28 worked.
		{"2026-02-12", 1, "2026-02-13", "Thu; Fri 02-13"},
		{"2026-02-12", 2, "2026-02-14", "02-13, 调休 Sat 02-14"},
		{"2026-02-12", 3, "2026-02-24", "02-13, 02-14, the break, Tue 02-24"},
		{"2026-02-14", 1, "2026-02-24", "the break, then Tue 02-24"},
		{"2026-02-24", 4, "2026-02-28", "02-25, 26, 27, 调休 Sat 02-28"},
		{"2026-02-24", 5, "2026-03-02", "02-25, 26, 27, 28, Sun 03-01 off, Mon 03-02"},
		// National Day 2025: off Wed 10-01 .. Wed 10-08; Sun 09-28 and Sat 10-11 worked.
		{"2025-09-26", 1, "2025-09-28", "Fri; Sat 09-27 off, Sun 09-28 调休"},
		{"2025-09-26", 3, "2025-09-30", "09-28, 29, 30"},
		{"2025-09-26", 4, "2025-10-09", "09-28, 29, 30, the break, Thu 10-09"},
		{"2025-09-26", 6, "2025-10-11", "..., 10-09, 10-10, 调休 Sat 10-11"},
		{"2025-09-26", 7, "2025-10-13", "..., 10-11, Sun 10-12 off, Mon 10-13"},
		{"2025-09-30", 1, "2025-10-09", "the break, then Thu 10-09"},
		// Across a year boundary, with 元旦 2023 starting in 2022.
		{"2022-12-30", 1, "2023-01-03", "Sat 12-31 .. Mon 01-02 off, Tue 01-03"},
	}
	c := Default()
	for _, tt := range tests {
		t.Run(tt.start+"+"+tt.want, func(t *testing.T) {
			got, err := c.AddWorkingDays(date(t, tt.start), tt.n)
			if err != nil {
				t.Fatalf("AddWorkingDays(%s, %d): %v", tt.start, tt.n, err)
			}
			want, _ := time.ParseInLocation(dateLayout, tt.want, Zone)
			if !got.Equal(want) || got.Location() != Zone {
				t.Errorf("AddWorkingDays(%s, %d) = %v, want %v in Zone (%s)", tt.start, tt.n, got, want, tt.why)
			}
		})
	}
}

// TestAddWorkingDaysStartZone checks that the start is read in Zone too: the
// instant below is 2024-02-08 in UTC but already 2024-02-09 in China.
func TestAddWorkingDaysStartZone(t *testing.T) {
	got, err := Default().AddWorkingDays(time.Date(2024, 2, 8, 16, 0, 0, 0, time.UTC), 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2024, 2, 18, 0, 0, 0, 0, Zone); !got.Equal(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestAddWorkingDaysBadN(t *testing.T) {
	c := Default()
	for _, n := range []int{0, -1} {
		_, err := c.AddWorkingDays(date(t, "2024-03-01"), n)
		if err == nil {
			t.Errorf("AddWorkingDays(n=%d): no error", n)
		} else if errors.Is(err, ErrYearNotCovered) {
			t.Errorf("AddWorkingDays(n=%d): %v; want a plain argument error", n, err)
		}
	}
}

func TestWorkingDaysBetween(t *testing.T) {
	tests := []struct {
		from, to string
		want     int
		why      string
	}{
		{"2024-02-09", "2024-02-18", 1, "only the 调休 Sunday"},
		{"2024-02-08", "2024-02-18", 2, "除夕 and the 调休 Sunday"},
		{"2025-09-30", "2025-10-08", 0, "inside National Day"},
		{"2025-09-30", "2025-10-09", 1, "first day back"},
		{"2024-02-18", "2024-02-18", 0, "same day"},
		{"2024-02-18", "2024-02-08", 0, "to before from"},
		{"2023-12-31", "2024-12-31", 251, "all of 2024: 262 weekdays - 19 off + 8 调休"},
		{"2024-12-31", "2025-12-31", 248, "all of 2025: 261 weekdays - 18 off + 5 调休"},
		{"2025-12-31", "2026-12-31", 248, "all of 2026: 261 weekdays - 19 off + 6 调休"},
	}
	c := Default()
	for _, tt := range tests {
		t.Run(tt.from+".."+tt.to, func(t *testing.T) {
			got, err := c.WorkingDaysBetween(date(t, tt.from), date(t, tt.to))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("WorkingDaysBetween(%s, %s) = %d, want %d (%s)", tt.from, tt.to, got, tt.want, tt.why)
			}
		})
	}

	// Times of day do not matter, only civil dates in Zone.
	morning := time.Date(2024, 2, 9, 8, 0, 0, 0, Zone)
	if got, err := c.WorkingDaysBetween(morning, morning.Add(12*time.Hour)); err != nil || got != 0 {
		t.Errorf("same civil date: got %d, %v; want 0", got, err)
	}
}

// TestBetweenInvertsAdd is the property check: for every start date in
// 2024-2026, the n-th working day e after it is a working day, there are
// exactly n working days in (start, e], and n-1 in (start, e-1].
func TestBetweenInvertsAdd(t *testing.T) {
	c := Default()
	first, last := date(t, "2024-01-01"), date(t, "2026-11-30")
	checked := 0
	for s := first; !s.After(last); s = s.AddDate(0, 0, 1) {
		for _, n := range []int{1, 2, 3, 5, 10, 22} {
			e, err := c.AddWorkingDays(s, n)
			if err != nil {
				t.Fatalf("AddWorkingDays(%s, %d): %v", s.Format(dateLayout), n, err)
			}
			if !e.After(s) {
				t.Fatalf("AddWorkingDays(%s, %d) = %s, not after the start", s.Format(dateLayout), n, e.Format(dateLayout))
			}
			if ok, err := c.IsWorkingDay(e); err != nil || !ok {
				t.Fatalf("AddWorkingDays(%s, %d) = %s, which is not a working day (%v)", s.Format(dateLayout), n, e.Format(dateLayout), err)
			}
			if got, err := c.WorkingDaysBetween(s, e); err != nil || got != n {
				t.Fatalf("WorkingDaysBetween(%s, %s) = %d, %v; want %d", s.Format(dateLayout), e.Format(dateLayout), got, err, n)
			}
			if got, err := c.WorkingDaysBetween(s, e.AddDate(0, 0, -1)); err != nil || got != n-1 {
				t.Fatalf("WorkingDaysBetween(%s, day before %s) = %d, %v; want %d", s.Format(dateLayout), e.Format(dateLayout), got, err, n-1)
			}
			checked++
		}
	}
	if checked < 5000 {
		t.Errorf("only %d cases checked", checked)
	}
}

// TestMissingYear: 2028 is not published, so nothing may be answered for it,
// and the hook must hear about every question that needed it.
func TestMissingYear(t *testing.T) {
	c := Default()
	var mu sync.Mutex
	var calls []int
	c.OnMissingYear(func(year int) {
		mu.Lock()
		calls = append(calls, year)
		mu.Unlock()
	})
	var second atomic.Int32
	c.OnMissingYear(func(int) { second.Add(1) })
	other := Default() // a separate Calendar: its questions must not reach c's hooks

	if c.Covers(2028) {
		t.Fatal("Covers(2028) = true; 2028 is not published and must not be in holidays.json")
	}
	if !c.Covers(2027) {
		t.Fatal("Covers(2027) = false")
	}

	tests := []struct {
		name     string
		ask      func() error
		wantYear int // 0: must succeed without calling the hook
	}{
		{"last covered day is fine", func() error {
			got, err := c.AddWorkingDays(date(t, "2027-12-30"), 1)
			if err == nil && !got.Equal(time.Date(2027, 12, 31, 0, 0, 0, 0, Zone)) {
				t.Errorf("AddWorkingDays(2027-12-30, 1) = %v, want 2027-12-31", got)
			}
			return err
		}, 0},
		{"AddWorkingDays into 2028", func() error {
			_, err := c.AddWorkingDays(date(t, "2027-12-31"), 1)
			return err
		}, 2028},
		{"AddWorkingDays through 2027-12-31 into 2028", func() error {
			_, err := c.AddWorkingDays(date(t, "2027-12-30"), 2)
			return err
		}, 2028},
		{"IsWorkingDay in 2028", func() error {
			_, err := c.IsWorkingDay(date(t, "2028-01-04"))
			return err
		}, 2028},
		{"IsWorkingDay at 2028-01-01 00:00 CST given in UTC", func() error {
			_, err := c.IsWorkingDay(time.Date(2027, 12, 31, 16, 0, 0, 0, time.UTC))
			return err
		}, 2028},
		{"WorkingDaysBetween into 2028", func() error {
			_, err := c.WorkingDaysBetween(date(t, "2027-12-01"), date(t, "2028-01-05"))
			return err
		}, 2028},
		{"IsWorkingDay before the data starts", func() error {
			_, err := c.IsWorkingDay(date(t, "2021-12-31"))
			return err
		}, 2021},
		{"another Calendar's question", func() error {
			_, err := other.IsWorkingDay(date(t, "2028-01-04"))
			if !errors.Is(err, ErrYearNotCovered) {
				t.Errorf("other Calendar: err = %v, want ErrYearNotCovered", err)
			}
			return nil
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			before := len(calls)
			mu.Unlock()
			beforeSecond := second.Load()

			err := tt.ask()

			mu.Lock()
			got := append([]int(nil), calls[before:]...)
			mu.Unlock()
			if tt.wantYear == 0 {
				if err != nil {
					t.Errorf("err = %v, want nil", err)
				}
				if len(got) != 0 {
					t.Errorf("hook called with %v, want no call", got)
				}
				return
			}
			if !errors.Is(err, ErrYearNotCovered) {
				t.Errorf("err = %v, want one wrapping ErrYearNotCovered", err)
			} else if want := strconv.Itoa(tt.wantYear); !strings.Contains(err.Error(), want) {
				t.Errorf("err = %q, does not name the year %s", err, want)
			}
			if !reflect.DeepEqual(got, []int{tt.wantYear}) {
				t.Errorf("hook calls = %v, want [%d]", got, tt.wantYear)
			}
			if second.Load() != beforeSecond+1 {
				t.Errorf("second hook called %d times, want 1", second.Load()-beforeSecond)
			}
		})
	}
}

func TestYears(t *testing.T) {
	want := []int{2022, 2023, 2024, 2025, 2026, 2027}
	c := Default()
	got := c.Years()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Years() = %v, want %v", got, want)
	}
	got[0] = 1900 // callers get a copy
	if !reflect.DeepEqual(c.Years(), want) {
		t.Errorf("Years() shares its slice with callers")
	}
}

// TestEmbeddedNames keeps the embedded file's range names to the real
// holiday names (combined breaks are written "中秋节、国庆节").
func TestEmbeddedNames(t *testing.T) {
	real := map[string]bool{"元旦": true, "春节": true, "清明节": true, "劳动节": true, "端午节": true, "中秋节": true, "国庆节": true}
	var f fileJSON
	if err := json.Unmarshal(embedded, &f); err != nil {
		t.Fatal(err)
	}
	for y, yd := range f.Years {
		for i, r := range yd.Off {
			for _, name := range strings.Split(r.Name, "、") {
				if !real[name] {
					t.Errorf("years[%q].off[%d]: name %q is not a statutory holiday", y, i, r.Name)
				}
			}
		}
	}
}

// TestLoadOperatorFile: once 2028 is published an operator adds it to a file
// and points the gateway at it; no rebuild.
func TestLoadOperatorFile(t *testing.T) {
	var f fileJSON
	if err := json.Unmarshal(embedded, &f); err != nil {
		t.Fatal(err)
	}
	// A made-up 2028 for the test, not the real notice.
	f.Years["2028"] = yearJSON{
		Source: "test fixture",
		Off: []rangeJSON{
			{From: "2028-01-01", To: "2028-01-03", Name: "元旦"},
			{From: "2028-01-25", To: "2028-02-01", Name: "春节"},
		},
		Work: []string{"2028-02-05"},
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "holidays.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}

	c, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	c.OnMissingYear(func(year int) { t.Errorf("hook called for %d", year) })
	if !c.Covers(2028) {
		t.Fatal("Covers(2028) = false after loading a file with 2028")
	}
	if want := []int{2022, 2023, 2024, 2025, 2026, 2027, 2028}; !reflect.DeepEqual(c.Years(), want) {
		t.Errorf("Years() = %v, want %v", c.Years(), want)
	}
	// Sat 2028-01-01 .. Mon 01-03 off, so the first working day is Tue 01-04.
	got, err := c.AddWorkingDays(date(t, "2027-12-31"), 1)
	if err != nil {
		t.Fatalf("AddWorkingDays into 2027: %v", err)
	}
	if want := time.Date(2028, 1, 4, 0, 0, 0, 0, Zone); !got.Equal(want) {
		t.Errorf("AddWorkingDays(2027-12-31, 1) = %v, want %v", got, want)
	}
	for _, tt := range []struct {
		date string
		want bool
	}{{"2028-01-28", false}, {"2028-02-05", true}, {"2028-02-06", false}, {"2028-02-07", true}} {
		if ok, err := c.IsWorkingDay(date(t, tt.date)); err != nil || ok != tt.want {
			t.Errorf("IsWorkingDay(%s) = %v, %v; want %v", tt.date, ok, err, tt.want)
		}
	}
	if Default().Covers(2028) {
		t.Error("loading a file changed Default()")
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "missing.json")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want a not-exist error", err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"years": {"2024": {"off": [{"from": "2024-13-01", "to": "2024-13-01", "name": "元旦"}]}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(bad)
	if err == nil {
		t.Fatal("Load(bad) succeeded")
	}
	for _, want := range []string{bad, `years["2024"].off[0] (元旦)`, `"2024-13-01"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Load(bad) error %q does not mention %q", err, want)
		}
	}
}

// TestParseRejects: every check Parse makes, each with a message that lets
// an operator find the entry.
func TestParseRejects(t *testing.T) {
	tests := []struct {
		name string
		data string
		want []string // substrings of the error
	}{
		{"impossible date",
			`{"years":{"2024":{"off":[{"from":"2024-02-30","to":"2024-03-01","name":"春节"}]}}}`,
			[]string{`years["2024"].off[0] (春节)`, `"2024-02-30"`}},
		{"unpadded date",
			`{"years":{"2024":{"off":[{"from":"2024-02-10","to":"2024-2-17","name":"春节"}]}}}`,
			[]string{`years["2024"].off[0] (春节)`, `to`, `"2024-2-17"`}},
		{"bad work date",
			`{"years":{"2024":{"off":[{"from":"2024-01-01","to":"2024-01-01","name":"元旦"}],"work":["2024-02-04","Feb 18"]}}}`,
			[]string{`years["2024"].work[1]`, `"Feb 18"`}},
		{"from after to",
			`{"years":{"2024":{"off":[{"from":"2024-01-01","to":"2024-01-01","name":"元旦"},{"from":"2024-02-17","to":"2024-02-10","name":"春节"}]}}}`,
			[]string{`years["2024"].off[1] (春节)`, "from 2024-02-17 is after to 2024-02-10"}},
		{"work day on a weekday",
			`{"years":{"2024":{"off":[{"from":"2024-02-10","to":"2024-02-17","name":"春节"}],"work":["2024-02-04","2024-02-05"]}}}`,
			[]string{`years["2024"].work[1]`, "2024-02-05 is a Monday"}},
		{"both off and work",
			`{"years":{"2024":{"off":[{"from":"2024-02-10","to":"2024-02-17","name":"春节"}],"work":["2024-02-17"]}}}`,
			[]string{`years["2024"].work[0]`, "2024-02-17", `years["2024"].off[0] (春节)`}},
		{"both off and work across years",
			`{"years":{"2022":{"off":[{"from":"2022-10-01","to":"2022-10-07","name":"国庆节"}],"work":["2022-12-31"]},` +
				`"2023":{"off":[{"from":"2022-12-31","to":"2023-01-02","name":"元旦"}]}}}`,
			[]string{`years["2023"].off[0] (元旦)`, "2022-12-31", `years["2022"].work[0]`}},
		{"date in the next year",
			`{"years":{"2024":{"off":[{"from":"2024-12-31","to":"2025-01-01","name":"元旦"}]}}}`,
			[]string{`years["2024"].off[0] (元旦)`, "2025-01-01 lies outside year 2024"}},
		{"date too far into the year before",
			`{"years":{"2024":{"off":[{"from":"2024-01-01","to":"2024-01-01","name":"元旦"}],"work":["2023-12-16"]}}}`,
			[]string{`years["2024"].work[0]`, "2023-12-16 lies outside year 2024"}},
		{"month typo makes a huge range",
			`{"years":{"2024":{"off":[{"from":"2024-02-10","to":"2024-12-17","name":"春节"}]}}}`,
			[]string{`years["2024"].off[0] (春节)`, "more than 15"}},
		{"bad year key",
			`{"years":{"24":{"off":[{"from":"2024-01-01","to":"2024-01-01","name":"元旦"}]}}}`,
			[]string{`years["24"]`, "four-digit year"}},
		{"year placeholder without days off",
			`{"years":{"2027":{"off":[],"work":[]}}}`,
			[]string{`years["2027"]`, "no days off"}},
		{"no years", `{"note":"empty"}`, []string{`no "years"`}},
		{"misspelt field",
			`{"years":{"2024":{"of":[{"from":"2024-01-01","to":"2024-01-01","name":"元旦"}]}}}`,
			[]string{`"of"`}},
		{"broken JSON", `{"years":{"2024":{"off":[{"from":"2024-01-01",`, []string{"not valid"}},
		{"trailing comma", `{"years":{"2024":{"off":[{"from":"2024-01-01","to":"2024-01-01"},]}}}`, []string{"not valid", "line 1 column 66", "invalid character"}},
		{"wrong type", `{"years":{"2024":{"off":"2024-01-01"}}}`, []string{"not valid", "years.", "off"}},
		{"trailing data", `{"years":{"2024":{"off":[{"from":"2024-01-01","to":"2024-01-01"}]}}} {}`, []string{"after the top-level object"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.data))
			if err == nil {
				t.Fatalf("Parse accepted it: years %v", c.Years())
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "calendar: ") {
				t.Errorf("error %q lacks the package prefix", msg)
			}
			for _, want := range tt.want {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not mention %q", msg, want)
				}
			}
		})
	}
}

// TestParseAccepts covers what Parse must let through: a New Year that
// starts in the old year (as 2019's did, with 2018-12-29 worked), overlapping
// names for one break, and optional source and names.
func TestParseAccepts(t *testing.T) {
	c, err := Parse([]byte(`{"years": {"2019": {
		"off": [{"from": "2018-12-30", "to": "2019-01-01", "name": "元旦"}, {"from": "2019-10-01", "to": "2019-10-07"}],
		"work": ["2018-12-29", "2019-09-29", "2019-10-12"]}}}`))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if !reflect.DeepEqual(c.Years(), []int{2019}) || c.Covers(2018) {
		t.Errorf("Years() = %v, Covers(2018) = %v; want [2019], false", c.Years(), c.Covers(2018))
	}
	for _, tt := range []struct {
		date string
		want bool
	}{{"2019-01-01", false}, {"2019-01-02", true}, {"2019-10-07", false}, {"2019-10-12", true}} {
		if ok, err := c.IsWorkingDay(date(t, tt.date)); err != nil || ok != tt.want {
			t.Errorf("IsWorkingDay(%s) = %v, %v; want %v", tt.date, ok, err, tt.want)
		}
	}
	// 2018 is not covered even though its last days are in the data: the rest
	// of 2018 was never given.
	if _, err := c.IsWorkingDay(date(t, "2018-12-31")); !errors.Is(err, ErrYearNotCovered) {
		t.Errorf("IsWorkingDay(2018-12-31): err = %v, want ErrYearNotCovered", err)
	}
}

func TestZeroCalendarCoversNothing(t *testing.T) {
	var c Calendar
	if _, err := c.IsWorkingDay(date(t, "2024-03-01")); !errors.Is(err, ErrYearNotCovered) {
		t.Errorf("zero Calendar: err = %v, want ErrYearNotCovered", err)
	}
}

// TestConcurrentUse is for the race detector: readers, hook registration and
// hook calls at once.
func TestConcurrentUse(t *testing.T) {
	c := Default()
	var hits atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.OnMissingYear(func(int) { hits.Add(1) })
			for i := range 200 {
				s := date(t, "2024-02-08").AddDate(0, 0, (g*200+i)%700)
				if _, err := c.AddWorkingDays(s, 10); err != nil {
					t.Error(err)
					return
				}
				if got, err := c.AddWorkingDays(date(t, "2024-02-08"), 2); err != nil || got.Day() != 18 {
					t.Errorf("AddWorkingDays = %v, %v; want 2024-02-18", got, err)
					return
				}
				if _, err := c.IsWorkingDay(date(t, "2028-06-01")); !errors.Is(err, ErrYearNotCovered) {
					t.Errorf("2028: err = %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if hits.Load() == 0 {
		t.Error("no hook was called")
	}
}

func BenchmarkAddWorkingDays(b *testing.B) {
	c := Default()
	starts := make([]time.Time, 730)
	for i := range starts {
		starts[i] = date(b, "2024-01-01").AddDate(0, 0, i)
	}
	i := 0
	for b.Loop() {
		if _, err := c.AddWorkingDays(starts[i%len(starts)], 20); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
