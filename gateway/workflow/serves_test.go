package workflow

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	c "onething/contracts"
	"onething/gateway/counties"
	"onething/gateway/rules"
)

// The refusal for a county nobody serves names the county once, by name
// and code, and reads the same after the view's masking (a code written
// twice looked like an ID number to the masker).
func TestNotServedReasonNamesTheCountyOnce(t *testing.T) {
	usePack(t, "510107", "code: \"510107\"\nname: 武侯区\nnameEn: Wuhou District\ncity: {code: \"5101\", name: 成都市}\nverified: false\nsource: a test pack\n")
	for _, county := range []string{"510107", "511703", "500101"} {
		why := NotServedReason(c.DeptHRSS, county)
		app := &c.Application{Applicant: c.Applicant{Name: "李明"}}
		masked := maskedMessage(why, masker(app))
		if strings.Count(why.ZH, county) != 2 || masked.ZH != why.ZH || masked.EN != why.EN || strings.Contains(why.ZH, "*") {
			t.Errorf("%s: %q (masked %q)", county, why.ZH, masked.ZH)
		}
	}
	if n := countyName("510107"); n == nil || !strings.HasPrefix(n.ZH, "武侯区") {
		t.Errorf("a county added by a pack is named by it: %+v", n)
	}
}

// usePack puts one county rule pack beside the built-in ones for the test
// (the rules decide by it), and the built-in set back after.
func usePack(t *testing.T, code, pack string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, code+".yaml"), []byte(pack), 0o600); err != nil {
		t.Fatal(err)
	}
	set, err := counties.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	rules.UseCounties(set)
	t.Cleanup(func() { rules.UseCounties(counties.Default()) })
}
