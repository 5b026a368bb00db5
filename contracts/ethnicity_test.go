package contracts

import (
	"fmt"
	"testing"
)

// The list is GB/T 3304's: 56 groups, codes 01…56 in order, 汉族 first and
// 基诺族 last, every name once and ending in 族.
func TestEthnicities(t *testing.T) {
	if len(Ethnicities) != 56 {
		t.Fatalf("%d ethnic groups, want 56", len(Ethnicities))
	}
	seen := map[string]bool{}
	for i, e := range Ethnicities {
		if want := fmt.Sprintf("%02d", i+1); e.Code != want {
			t.Errorf("%s has code %s, want %s", e.Name.ZH, e.Code, want)
		}
		r := []rune(e.Name.ZH)
		if seen[e.Name.ZH] || r[len(r)-1] != '族' || e.Name.EN == "" {
			t.Errorf("entry %s %+v: repeated, not a 族 name, or no English", e.Code, e.Name)
		}
		seen[e.Name.ZH] = true
	}
	if Ethnicities[0].Name.ZH != "汉族" || Ethnicities[55].Name.ZH != "基诺族" || Ethnicities[32].Name.ZH != "羌族" {
		t.Error("the order is not GB/T 3304's")
	}
	if !IsEthnicity("彝族") || IsEthnicity("汉") || IsEthnicity("") {
		t.Error("IsEthnicity")
	}
}
