package contracttest

import (
	"testing"

	"onething/civil"
	c "onething/contracts"
)

func TestIDNumberParses(t *testing.T) {
	for _, b := range []string{"1972-08-14", "2008-02-29", "2026-12-05"} {
		birth := civil.MustParse(b)
		for seq := range 40 {
			id := IDNumber("511702", birth, seq)
			got, err := c.ParseIDNumber(id, civil.MustParse("2026-12-05"))
			if err != nil || got.Birth != birth || got.Male != (seq%2 == 1) {
				t.Fatalf("%s: %+v %v", id, got, err)
			}
		}
	}
}
