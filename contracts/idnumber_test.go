package contracts

import (
	"errors"
	"onething/civil"
	"strings"
	"testing"
	"time"
)

var today = civil.MustParse("2026-11-29")

// GB 11643-1999: weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, S mod 11 -> "10X98765432".
func TestParseIDNumber(t *testing.T) {
	cases := []struct {
		id   string
		want error
		male bool
	}{
		{"11010519491231002X", nil, false}, // DOMAIN.md's valid example (sequence 002: female)
		{"340524198001010013", ErrIDChecksum, false},
		{"51170219850307123X", nil, true},
		{"511703197001010033", nil, true},
		{"51170219850307123x", ErrIDChars, false}, // the standard prints a capital X
		{"5117021985030712", ErrIDLength, false},
		{"5117021985030712345", ErrIDLength, false},
		{"51170219850230123X", ErrIDBirth, false}, // 30 February
		{"511702203001011239", ErrIDBirth, false}, // born in the future
		{"991702198503071239", ErrIDDivision, false},
		{"51170219850307A23X", ErrIDChars, false},
	}
	for _, c := range cases {
		got, err := ParseIDNumber(c.id, today)
		if !errors.Is(err, c.want) {
			t.Errorf("ParseIDNumber(%s) error = %v, want %v", c.id, err, c.want)
			continue
		}
		if err == nil && got.Male != c.male {
			t.Errorf("ParseIDNumber(%s).Male = %v, want %v", c.id, got.Male, c.male)
		}
	}
	id, _ := ParseIDNumber("51170219850307123X", today)
	if id.Division != "511702" || id.Birth.String() != "1985-03-07" {
		t.Errorf("parsed %+v", id)
	}
	if age := id.AgeOn(civil.MustParse("2026-03-06")); age != 40 {
		t.Errorf("age the day before the 41st birthday = %d, want 40", age)
	}
	if age := id.AgeOn(civil.MustParse("2026-03-07")); age != 41 {
		t.Errorf("age on the 41st birthday = %d, want 41", age)
	}
}

func TestParseCertificateNumber(t *testing.T) {
	cases := []struct {
		no         string
		want       error
		cat, grade int
	}{
		{"51170219850307123X41", nil, 4, 1},
		{"51170219850307123X62", nil, 6, 2},
		{"51170219850307123X41B1", nil, 4, 1}, // newer card generations append characters
		{"51170219850307123X81", ErrCertCategory, 0, 0},
		{"51170219850307123X45", ErrCertGrade, 0, 0},
		{"51170219850307123X4", ErrCertLength, 0, 0},
		{"34052419800101001341", ErrIDChecksum, 0, 0},
		{"51170219850307123X41b", ErrCertSuffix, 0, 0},
	}
	for _, c := range cases {
		got, err := ParseCertificateNumber(c.no, today)
		if !errors.Is(err, c.want) {
			t.Errorf("ParseCertificateNumber(%s) error = %v, want %v", c.no, err, c.want)
			continue
		}
		if err == nil && (got.Category != c.cat || got.Grade != c.grade || got.IDNumber != c.no[:18]) {
			t.Errorf("ParseCertificateNumber(%s) = %+v", c.no, got)
		}
	}
}

func TestDivisionCodes(t *testing.T) {
	for code, want := range map[string]bool{
		"511702": true, "511702102": true, "511702106": false, // 106 is no Tongchuan town
		"511702102001": true, "5117": false, "990000": false, "51170a": false, "511725": true,
	} {
		if got := ValidDivisionCode(code); got != want {
			t.Errorf("ValidDivisionCode(%s) = %v, want %v", code, got, want)
		}
	}
	if !InTongchuan("511702102") || InTongchuan("511703") || !InSichuan("511703") || InSichuan("500101") {
		t.Error("InTongchuan/InSichuan disagree with the division table")
	}
}

// An installed town rule decides the towns of the counties it knows, on
// the first 9 digits; other counties are judged by shape; the shape is
// checked before any rule.
func TestDivisionTownRule(t *testing.T) {
	var asked []string
	SetTownRule(func(code string) (bool, bool) {
		asked = append(asked, code)
		if code[:6] != "511703" {
			return false, false
		}
		return true, code[:9] == "511703101"
	})
	t.Cleanup(func() { SetTownRule(nil) })
	for code, want := range map[string]bool{
		"511703101": true, "511703101201": true, "511703102": false, "511703102201": false,
		"511703":    true, // a county code has no town to judge
		"511702106": true, // the rule does not know 511702: the shape decides
		"51170310x": false, "990000101": false,
	} {
		if got := ValidDivisionCode(code); got != want {
			t.Errorf("with a rule: ValidDivisionCode(%s) = %v, want %v", code, got, want)
		}
	}
	for _, code := range asked {
		if len(code) < 9 || code[:2] == "99" || strings.ContainsAny(code, "x") {
			t.Errorf("the rule was asked about %q, which the shape refuses", code)
		}
	}
	SetTownRule(nil)
	if ValidDivisionCode("511702106") || !ValidDivisionCode("511703102") {
		t.Error("without a rule: Tongchuan's towns from Divisions, others by shape")
	}
}

func TestMask(t *testing.T) {
	if got := MaskID("51170219850307123X"); got != "5117**********123X" {
		t.Errorf("MaskID = %s", got)
	}
	if got := MaskID("123"); got != "********" {
		t.Errorf("MaskID(short) = %s", got)
	}
	for in, want := range map[string]string{"张志明": "张**", "李": "李*", "阿卜杜·热合曼": "阿******", "": ""} {
		if got := MaskName(in); got != want {
			t.Errorf("MaskName(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestDeptSignature(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	ts := "1800000000"
	sig := DeptSignature("s3cret", "POST", "/api/v1/subsidy-cases", ts, "n1", []byte(`{"a":1}`))
	if err := VerifyDeptSignature("s3cret", "post", "/api/v1/subsidy-cases", ts, "n1", sig, []byte(`{"a":1}`), now); err != nil {
		t.Fatalf("valid signature refused: %v", err)
	}
	bad := []struct {
		name                    string
		secret, path, ts, nonce string
		body                    string
		at                      time.Time
	}{
		{"other secret", "other", "/api/v1/subsidy-cases", ts, "n1", `{"a":1}`, now},
		{"other path", "s3cret", "/api/v1/certificate-cases", ts, "n1", `{"a":1}`, now},
		{"other body", "s3cret", "/api/v1/subsidy-cases", ts, "n1", `{"a":2}`, now},
		{"other nonce", "s3cret", "/api/v1/subsidy-cases", ts, "n2", `{"a":1}`, now},
		{"stale", "s3cret", "/api/v1/subsidy-cases", ts, "n1", `{"a":1}`, now.Add(6 * time.Minute)},
		{"bad timestamp", "s3cret", "/api/v1/subsidy-cases", "x", "n1", `{"a":1}`, now},
	}
	for _, b := range bad {
		if err := VerifyDeptSignature(b.secret, "POST", b.path, b.ts, b.nonce, sig, []byte(b.body), b.at); err == nil {
			t.Errorf("%s: signature accepted", b.name)
		}
	}
}
