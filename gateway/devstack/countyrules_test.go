package devstack_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"onething/civil"
	c "onething/contracts"
	"onething/gateway/counties"
	"onething/gateway/rules"
)

// An operator completes a county with a pack in the countyRules directory:
// once 达川区's pack is verified with its town list, only those towns are
// accepted there, through the portal's door.
func TestCountyRulesDirectoryCompletesACounty(t *testing.T) {
	dir := t.TempDir()
	// A test pack: the town code is made up for the test, as a verified
	// list of one.
	pack := `code: "511703"
name: 达川区
nameEn: Dachuan District
city: {code: "5117", name: 达州市}
verified: true
source: a test pack
windows:
  comprehensive: {zh: 达川区政务服务中心“扶残助困一件事”综合受理窗口, en: the comprehensive window of the Dachuan centre}
  cdpf: {zh: 达川区残联窗口, en: the Dachuan CDPF window}
towns:
  - code: "511703101"
    name: 测试镇
`
	if err := os.WriteFile(filepath.Join(dir, "511703.yaml"), []byte(pack), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rules.UseCounties(counties.Default()) })
	r := newDateRig(t)
	if err := r.st.StopGateway(); err != nil {
		t.Fatal(err)
	}
	r.st.Config.CountyRules = dir
	if err := r.st.RestartGateway(); err != nil {
		t.Fatal(err)
	}
	at := chinaInstant(civil.MustParse("2026-12-05"), "10:00:00")
	for town, want := range map[string]int{"511703101": http.StatusAccepted, "511703102": http.StatusUnprocessableEntity} {
		sub := r.submission(civil.MustParse("1972-08-14"), civil.MustParse("2020-01-01"), civil.MustParse("2029-12-31"), false, c.Requests{Medical: &c.MedicalRequest{Identity: "dibao"}})
		sub.Applicant.HouseholdDivision, sub.Applicant.Address.DivisionCode = town, town
		sub.Applicant.Address.County = "达川区"
		if code, _, b := r.submit(at, sub); code != want {
			t.Errorf("household %s: %d, want %d: %s", town, code, want, b)
		}
	}
	// A malformed pack directory stops the gateway from starting.
	os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("code: 511703\n"), 0o600)
	if err := r.st.StopGateway(); err != nil {
		t.Fatal(err)
	}
	if err := r.st.RestartGateway(); err == nil || !strings.Contains(err.Error(), "countyRules") {
		t.Errorf("a malformed county pack: %v, want a countyRules error", err)
	}
}
