package rules

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"onething/civil"
	c "onething/contracts"
	"onething/gateway/calendar"
	"onething/gateway/counties"
)

// A verified 达川区 pack with two towns, its windows, and a local limit for
// the pension subsidy (30 working days instead of 45): what an operator
// would write (docs/COUNTIES.md), for the tests only.
const dachuanVerified = `
code: "511703"
name: 达川区
nameEn: Dachuan District
city: {code: "5117", name: 达州市}
verified: true
source: a test pack
windows:
  comprehensive: {zh: 达川区政务服务中心综合受理窗口, en: the Dachuan centre's comprehensive window}
  cdpf: {zh: 达川区残联窗口, en: the Dachuan CDPF window}
towns:
  - code: "511703001"
    name: 甲街道
    windows:
      comprehensive: {zh: 甲街道便民服务中心综合受理窗口, en: the 甲街道 centre's window}
  - {code: "511703101", name: 乙镇}
localItems: []
limits: {pension.subsidy: 30}
`

// withPacks puts the embedded packs plus extra files in force for one test.
func withPacks(t *testing.T, files map[string]string) {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	set, err := counties.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	UseCounties(set)
	t.Cleanup(func() { UseCounties(counties.Default()) })
}

// Town codes are judged by the county's pack once the rules are loaded:
// a verified pack's towns only, an unverified pack's any well-formed town
// inside the county, a county without a pack by shape; the 12-digit form
// on its first 9 digits. Every validation (here the guide's and the
// submission's) says the same.
func TestTownsByCountyPack(t *testing.T) {
	check := func(name string, want map[string]bool) {
		t.Helper()
		for code, ok := range want {
			if got := c.ValidDivisionCode(code); got != ok {
				t.Errorf("%s: ValidDivisionCode(%s) = %v, want %v", name, code, got, ok)
			}
			g := c.GuideRequest{HouseholdDivision: code}
			refused := slices.ContainsFunc(g.Validate(today), func(e c.FieldError) bool { return e.Field == "householdDivision" })
			if refused == ok {
				t.Errorf("%s: guide request with householdDivision %s refused %v, want %v", name, code, refused, !ok)
			}
		}
	}
	check("embedded packs", map[string]bool{
		"511702102": true, "511702102001": true, "511702106": false, "511702106001": false, "511702000": false, // 通川区: verified
		"511703": true, "511703101": true, "511703999": true, "511703101201": true, "511703000": false, // 达川区: not verified
		"510104": true, "510104999": true, "510104000": true, // 成都市锦江区: no pack, by shape
		"51170310x": false, "5117031": false,
	})
	withPacks(t, map[string]string{"511703.yaml": dachuanVerified})
	check("达川区 verified", map[string]bool{
		"511703": true, "511703001": true, "511703101": true, "511703101201": true,
		"511703999": false, "511703102": false, "511703102201": false,
		"511702102": true, "511702106": false, // 通川区 unchanged
	})
	// The submission's two fields, householdDivision and address.divisionCode.
	sub := c.Submission{Applicant: c.Applicant{HouseholdDivision: "511703102", Address: c.Address{DivisionCode: "511703999001"}}}
	var fields []string
	for _, e := range sub.Validate(today) {
		if e.Code == "invalid_division" {
			fields = append(fields, e.Field)
		}
	}
	slices.Sort(fields)
	if !slices.Equal(fields, []string{"applicant.address.divisionCode", "applicant.householdDivision"}) {
		t.Errorf("a submission with towns 达川区's verified pack lacks: invalid_division on %v", fields)
	}
}

// A county's local time limit is the one the guide gives and counts its
// due date by; other counties keep the common limit.
func TestLocalLimits(t *testing.T) {
	cal := calendar.Default()
	day := civil.MustParse("2026-09-14")
	f := Facts{Today: day, Dibao: true}
	pension := func(div string) *c.GuideItem {
		f.HouseholdDivision = div
		return guideItem(Guide(f, c.GuideWants{Pension: true}, false, cal), c.ItemPensionSubsidy)
	}
	if it := pension("511703101"); it == nil || it.LimitDays != 45 || LimitDays("511703", c.ItemPensionSubsidy) != 45 {
		t.Fatalf("embedded packs: 达川区's pension limit is the common 45: %+v", it)
	}
	withPacks(t, map[string]string{"511703.yaml": dachuanVerified})
	due30, _, err := cal.Due(day, 30)
	if err != nil {
		t.Fatal(err)
	}
	if it := pension("511703101"); it == nil || it.LimitDays != 30 || it.DueDate != due30.String() {
		t.Errorf("达川区 with a 30-day local limit: %+v, want 30 days due %s", it, due30)
	}
	if it := pension("511702102"); it == nil || it.LimitDays != 45 {
		t.Errorf("通川区 keeps 45: %+v", it)
	}
	for div, want := range map[string]int{"511703": 30, "511703101201": 30, "511702": 45, "510104": 45, "": 45} {
		if got := LimitDays(div, c.ItemPensionSubsidy); got != want {
			t.Errorf("LimitDays(%q, pension) = %d, want %d", div, got, want)
		}
	}
	if got := LimitDays("511703", c.ItemSubsidyLiving); got != c.Items[c.ItemSubsidyLiving].LimitDays {
		t.Errorf("an item without a local limit: %d", got)
	}
	// The verified pack's windows: the town's where given, else the county's.
	f.HouseholdDivision = "511703001"
	if w := ComprehensiveWindow(f); w.ZH != "甲街道便民服务中心综合受理窗口" {
		t.Errorf("town window: %+v", w)
	}
	if w := CDPFWindow(f); w.ZH != "达川区残联窗口" {
		t.Errorf("county CDPF window: %+v", w)
	}
}
