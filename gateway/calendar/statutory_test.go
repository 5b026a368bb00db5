package calendar

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"onething/civil"
)

// TestStatutory2028 is the rule's first year past the data, written out by
// hand: 春节 2028 is on Wed 26 January (除夕 Tue 25), 清明 on Tue 4 April,
// 端午 on Sun 28 May, 中秋 on Tue 3 October, inside 国庆节.
func TestStatutory2028(t *testing.T) {
	got, err := Statutory(2028)
	if err != nil {
		t.Fatal(err)
	}
	want := []StatutoryDay{
		{civil.MustParse("2028-01-01"), NewYear},
		{civil.MustParse("2028-01-25"), SpringFest},
		{civil.MustParse("2028-01-26"), SpringFest},
		{civil.MustParse("2028-01-27"), SpringFest},
		{civil.MustParse("2028-01-28"), SpringFest},
		{civil.MustParse("2028-04-04"), Qingming},
		{civil.MustParse("2028-05-01"), LabourDay},
		{civil.MustParse("2028-05-02"), LabourDay},
		{civil.MustParse("2028-05-28"), DragonBoat},
		{civil.MustParse("2028-10-01"), NationalDay},
		{civil.MustParse("2028-10-02"), NationalDay},
		{civil.MustParse("2028-10-03"), MidAutumn},
		{civil.MustParse("2028-10-03"), NationalDay},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Statutory(2028) =\n%v\nwant\n%v", got, want)
	}
}

func TestRuleOffDays2028(t *testing.T) {
	got, err := RuleOffDays(2028)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"2028-01-01": NewYear,     // Saturday
		"2028-01-03": NewYear,     // 补休 for the Saturday: Monday
		"2028-01-25": SpringFest,  // 除夕, Tuesday
		"2028-01-26": SpringFest,  // 初一
		"2028-01-27": SpringFest,  // 初二
		"2028-01-28": SpringFest,  // 初三, Friday
		"2028-04-04": Qingming,    // Tuesday
		"2028-05-01": LabourDay,   // Monday
		"2028-05-02": LabourDay,   // Tuesday
		"2028-05-28": DragonBoat,  // Sunday
		"2028-05-29": DragonBoat,  // 补休: Monday
		"2028-10-01": NationalDay, // Sunday
		"2028-10-02": NationalDay, // Monday
		"2028-10-03": MidAutumn,   // Tuesday, 中秋节 and 国庆节 at once
		"2028-10-04": NationalDay, // 补休 for Sunday 10-01: Wednesday
		"2028-10-05": NationalDay, // 补休 for the second statutory day on 10-03: Thursday
	}
	gotS := map[string]string{}
	for d, name := range got {
		gotS[d.String()] = name
	}
	if !maps.Equal(gotS, want) {
		for _, k := range slices.Sorted(maps.Keys(want)) {
			if gotS[k] != want[k] {
				t.Errorf("%s: got %q, want %q", k, gotS[k], want[k])
			}
		}
		for _, k := range slices.Sorted(maps.Keys(gotS)) {
			if _, ok := want[k]; !ok {
				t.Errorf("%s: got %q, want not off", k, gotS[k])
			}
		}
	}
	if _, err := RuleOffDays(2024); err == nil {
		t.Error("RuleOffDays(2024) succeeded; the amended rule starts in 2025")
	}
}

// TestRuleWithinPublishedYears validates the rule against the State
// Council's own arrangements: every day the rule gives off in 2025, 2026
// and 2027 (statutory days and 补休) was off in the published schedule.
func TestRuleWithinPublishedYears(t *testing.T) {
	c := Default()
	for _, year := range []int{2025, 2026, 2027} {
		off, err := RuleOffDays(year)
		if err != nil {
			t.Fatal(err)
		}
		if len(off) < 11 {
			t.Fatalf("%d: only %d rule days off", year, len(off))
		}
		for d, name := range off {
			w, err := c.IsWorkingDay(d.Midnight())
			if err != nil {
				t.Fatal(err)
			}
			if w {
				t.Errorf("%d: the rule gives %s (%s, %s) off, the published schedule works it", year, d, name, d.Weekday())
			}
		}
	}
}

func TestDueMatchesAddWorkingDaysInCoveredYears(t *testing.T) {
	c := Default()
	for s := civil.MustParse("2022-01-01"); s.Before(civil.MustParse("2027-11-01")); s = s.AddDays(3) {
		for _, n := range []int{1, 5, 20, 45} {
			want, err := c.AddWorkingDays(s.Midnight(), n)
			if err != nil {
				t.Fatal(err)
			}
			got, prov, err := c.Due(s, n)
			if err != nil || prov || got != civil.Of(want) {
				t.Fatalf("Due(%s, %d) = %s, %v, %v; want %s, false, nil", s, n, got, prov, err, civil.Of(want))
			}
		}
	}
}

func TestDueProvisional(t *testing.T) {
	c := Default()
	hooked := 0
	c.OnMissingYear(func(int) { hooked++ })
	tests := []struct {
		start string
		n     int
		want  string
		prov  bool
		why   string
	}{
		{"2027-12-30", 1, "2027-12-31", false, "the last covered day, from the data"},
		{"2027-12-31", 1, "2028-01-04", true, "Sat 01-01 元旦, Sun 01-02, Mon 01-03 补休"},
		{"2027-12-28", 5, "2028-01-05", true, "Wed 12-29, 30, 31, then Tue 01-04, Wed 01-05"},
		{"2028-01-21", 1, "2028-01-24", true, "Fri; weekend; Mon 01-24 is worked (no 调休 guessed)"},
		{"2028-01-24", 1, "2028-01-31", true, "春节 25-28, weekend 29-30"},
		{"2028-05-26", 1, "2028-05-30", true, "Sun 05-28 端午节, Mon 05-29 补休"},
		{"2028-09-29", 1, "2028-10-06", true, "10-01..05 off: 国庆节, 中秋节 on 10-03, two 补休"},
		{"2028-09-29", 2, "2028-10-09", true, "Fri 10-06, then Mon 10-09"},
		{"2027-09-30", 1, "2027-10-08", false, "published 2027 国庆节"},
	}
	for _, tt := range tests {
		got, prov, err := c.Due(civil.MustParse(tt.start), tt.n)
		if err != nil {
			t.Errorf("Due(%s, %d): %v", tt.start, tt.n, err)
			continue
		}
		if got.String() != tt.want || prov != tt.prov {
			t.Errorf("Due(%s, %d) = %s, provisional %v; want %s, %v (%s)", tt.start, tt.n, got, prov, tt.want, tt.prov, tt.why)
		}
	}
	if hooked != 0 {
		t.Errorf("OnMissingYear hooks called %d times for provisional years", hooked)
	}
	if !c.Provisional(2028) || !c.Provisional(2031) || c.Provisional(2027) || c.Provisional(2021) {
		t.Errorf("Provisional: 2028 %v, 2031 %v, 2027 %v, 2021 %v; want true true false false",
			c.Provisional(2028), c.Provisional(2031), c.Provisional(2027), c.Provisional(2021))
	}
	if c.Last() != 2027 {
		t.Errorf("Last() = %d, want 2027", c.Last())
	}
	if got := c.Source(2027); got != "国务院办公厅关于2027年部分节假日安排的通知" {
		t.Errorf("Source(2027) = %q", got)
	}
	if got := c.Source(2028); got != RuleSource {
		t.Errorf("Source(2028) = %q, want RuleSource", got)
	}
	if got := c.Source(2021); got != "" {
		t.Errorf("Source(2021) = %q, want empty", got)
	}
}

func TestDueErrors(t *testing.T) {
	c := Default()
	var missing []int
	c.OnMissingYear(func(y int) { missing = append(missing, y) })
	if _, _, err := c.Due(civil.MustParse("2021-12-01"), 3); !errors.Is(err, ErrYearNotCovered) || !strings.Contains(err.Error(), "2021") {
		t.Errorf("Due before the data: err = %v, want ErrYearNotCovered naming 2021", err)
	}
	if !slices.Equal(missing, []int{2021}) {
		t.Errorf("hooks heard %v, want [2021]", missing)
	}
	if _, _, err := c.Due(civil.MustParse("2025-01-01"), 0); err == nil {
		t.Error("Due with n = 0 succeeded")
	}
	if _, _, err := c.Due(civil.Date{}, 1); err == nil {
		t.Error("Due from the zero date succeeded")
	}
	// A gap inside the data is not provisional.
	gap, err := Parse([]byte(`{"years":{"2025":{"off":[{"from":"2025-01-01","to":"2025-01-01"}]},"2027":{"off":[{"from":"2027-01-01","to":"2027-01-03"}]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := gap.Due(civil.MustParse("2025-12-30"), 3); !errors.Is(err, ErrYearNotCovered) {
		t.Errorf("Due across a gap year: err = %v, want ErrYearNotCovered", err)
	}
	if gap.Provisional(2026) {
		t.Error("a gap year is provisional")
	}
	var zero Calendar
	if _, _, err := zero.Due(civil.MustParse("2028-01-03"), 1); !errors.Is(err, ErrYearNotCovered) {
		t.Errorf("zero Calendar: err = %v, want ErrYearNotCovered", err)
	}
}
