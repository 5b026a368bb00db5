package contracttest

import (
	"fmt"

	"onething/civil"
)

// IDNumber makes a valid 18-character citizen ID number for tests: the
// division code (6 digits), the birth date, a 3-digit sequence (odd: male)
// and the ISO 7064 MOD 11-2 check character, so tests can ask for a person
// born on any day without a table of real-looking numbers.
func IDNumber(division string, birth civil.Date, seq int) string {
	body := fmt.Sprintf("%s%04d%02d%02d%03d", division, birth.Year(), int(birth.Month()), birth.Day(), seq%1000)
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 17 {
		sum += int(body[i]-'0') * weights[i]
	}
	return body + string("10X98765432"[sum%11])
}
