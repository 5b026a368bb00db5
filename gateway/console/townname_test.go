package console

import "testing"

// A case's town: 通川区's by name; another county's by its pack, or by its
// code where the pack (unverified) does not name it.
func TestTownNameAcrossCounties(t *testing.T) {
	for division, want := range map[string]string{
		"511702102":    "罗江镇",
		"511703101":    "达川区 511703101",
		"511703101001": "达川区 511703101",
		"510107":       "510107",
	} {
		if got := townName(division); got != want {
			t.Errorf("townName(%s) = %q, want %q", division, got, want)
		}
	}
}
