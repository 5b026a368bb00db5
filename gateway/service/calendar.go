package service

import (
	"fmt"
	"time"

	"onething/civil"
	"onething/gateway/api"
	"onething/gateway/calendar"
	"onething/gateway/metrics"
)

// calendarState is the calendar's coverage on today, for the gauges.
func calendarState(cal *calendar.Calendar, today civil.Date) metrics.CalendarState {
	y := today.Year()
	this := !cal.Covers(y)
	return metrics.CalendarState{
		LastYear:        cal.Last(),
		ThisYearMissing: this,
		NextYearMissing: this || today.Month() >= time.November && !cal.Covers(y+1),
	}
}

// importHint is what an operator does about a missing year.
func importHint(year int) string {
	return fmt.Sprintf("onething calendar import NOTICE-%d.txt --calendar FILE，然后设置 calendarFile: FILE 并重启 / then set calendarFile: FILE and restart (docs/CALENDAR.md)", year)
}

// calendarCheck is readiness's calendar entry. It is always OK: a missing
// year makes due dates provisional (the statutory rule), not impossible, and
// taking every replica out of service each November, or on 1 January before
// the file is updated, would stop intake for a data chore. The detail says
// it loudly instead, and the onething_calendar_* gauges alert on it.
func calendarCheck(cal *calendar.Calendar, today civil.Date) api.Check {
	y := today.Year()
	covers := fmt.Sprintf("covers %v", cal.Years())
	switch st := calendarState(cal, today); {
	case st.ThisYearMissing:
		return api.Check{OK: true, Detail: fmt.Sprintf(
			"日历缺少今年 %d 年的国务院放假安排：截止日期暂按法定假日规则计算（provisional，无调休）；%s / the calendar lacks this year, %d: due dates are provisional (statutory rule, no 调休); %s",
			y, importHint(y), y, covers)}
	case st.NextYearMissing:
		return api.Check{OK: true, Detail: fmt.Sprintf(
			"日历缺少明年 %d 年的安排（国务院通知通常于 11 月发布）：跨入该年的截止日期为暂定；%s / the calendar lacks next year, %d (the notice is usually out in November): due dates reaching into it are provisional; %s",
			y+1, importHint(y+1), y+1, covers)}
	case !cal.Covers(y + 1):
		return api.Check{OK: true, Detail: fmt.Sprintf("%s; %d not yet published: due dates reaching into it are provisional", covers, y+1)}
	}
	return api.Check{OK: true, Detail: covers}
}
