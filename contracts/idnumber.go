package contracts

import (
	"errors"

	"onething/civil"
)

// IDNumber is a parsed 公民身份号码 (GB 11643-1999).
type IDNumber struct {
	Division string     // 6-digit address code
	Birth    civil.Date // birth date (a civil date)
	Male     bool       // odd sequence number
}

// Errors of ParseIDNumber; each maps to a FieldError code.
var (
	ErrIDLength   = errors.New("id number must have 18 characters")
	ErrIDChars    = errors.New("id number must be 17 digits and a digit or X")
	ErrIDDivision = errors.New("id number has an impossible division code")
	ErrIDBirth    = errors.New("id number has an impossible birth date")
	ErrIDChecksum = errors.New("id number check character does not match")
)

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idCheckChars = "10X98765432"

// NormalizeIDNumber writes the check character X in upper case: the
// standard prints X, but portals and card readers send x as well, and both
// mean the same person. Anything else is left for ParseIDNumber to judge.
func NormalizeIDNumber(s string) string {
	if len(s) == 18 && s[17] == 'x' {
		return s[:17] + "X"
	}
	return s
}

// NormalizeCertificateNumber upper-cases the ID number's check character
// inside a certificate number (the first 18 characters are the holder's ID
// number).
func NormalizeCertificateNumber(s string) string {
	if len(s) < 18 {
		return s
	}
	return NormalizeIDNumber(s[:18]) + s[18:]
}

// ParseIDNumber checks an 18-character citizen ID number: characters,
// division code, a real birth date not after today (the civil date in
// China), and the ISO 7064 MOD 11-2 check character. It takes the check
// character X in upper case only; NormalizeIDNumber maps x to X first.
func ParseIDNumber(s string, today civil.Date) (IDNumber, error) {
	if len(s) != 18 {
		return IDNumber{}, ErrIDLength
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return IDNumber{}, ErrIDChars
		}
		sum += int(c-'0') * idWeights[i]
	}
	last := s[17]
	if !(last >= '0' && last <= '9') && last != 'X' {
		return IDNumber{}, ErrIDChars
	}
	if !validProvince(s[:2]) {
		return IDNumber{}, ErrIDDivision
	}
	birth, err := civil.Parse(s[6:10] + "-" + s[10:12] + "-" + s[12:14])
	if err != nil || birth.Year() < 1880 || birth.After(today) {
		return IDNumber{}, ErrIDBirth
	}
	if idCheckChars[sum%11] != last {
		return IDNumber{}, ErrIDChecksum
	}
	return IDNumber{Division: s[:6], Birth: birth, Male: (s[16]-'0')%2 == 1}, nil
}

// AgeOn is the age in whole years on the given civil date: 18 from the day
// of the 18th birthday, which for someone born on 29 February is 28
// February in a common year (civil.AgeOn).
func (id IDNumber) AgeOn(day civil.Date) int { return civil.AgeOn(id.Birth, day) }

// CertificateNumber is a parsed disability certificate number: the holder's
// ID number, then the category digit and the grade digit.
type CertificateNumber struct {
	ID       IDNumber
	IDNumber string
	Category int
	Grade    int
}

var (
	ErrCertLength   = errors.New("certificate number must have at least 20 characters")
	ErrCertCategory = errors.New("certificate category digit must be 1-7")
	ErrCertGrade    = errors.New("certificate grade digit must be 1-4")
	ErrCertSuffix   = errors.New("certificate number may only continue with letters and digits")
)

// ParseCertificateNumber checks a certificate number. Newer card generations
// append characters; those are allowed (letters and digits) rather than
// rejected, since only the 20-character head carries meaning we can check.
func ParseCertificateNumber(s string, today civil.Date) (CertificateNumber, error) {
	if len(s) < 20 || len(s) > 32 {
		return CertificateNumber{}, ErrCertLength
	}
	id, err := ParseIDNumber(s[:18], today)
	if err != nil {
		return CertificateNumber{}, err
	}
	cat, grade := int(s[18]-'0'), int(s[19]-'0')
	if cat < 1 || cat > 7 {
		return CertificateNumber{}, ErrCertCategory
	}
	if grade < 1 || grade > 4 {
		return CertificateNumber{}, ErrCertGrade
	}
	for i := 20; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return CertificateNumber{}, ErrCertSuffix
		}
	}
	return CertificateNumber{ID: id, IDNumber: s[:18], Category: cat, Grade: grade}, nil
}
