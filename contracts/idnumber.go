package contracts

import (
	"errors"
	"time"
)

// IDNumber is a parsed 公民身份号码 (GB 11643-1999).
type IDNumber struct {
	Division string    // 6-digit address code
	Birth    time.Time // birth date, midnight UTC
	Male     bool      // odd sequence number
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

// ParseIDNumber checks an 18-character citizen ID number: characters,
// division code, a real birth date not after today, and the ISO 7064 MOD 11-2
// check character. A lower-case x is not accepted: the standard prints X.
func ParseIDNumber(s string, today time.Time) (IDNumber, error) {
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
	birth, err := time.Parse("20060102", s[6:14])
	if err != nil || birth.Year() < 1880 || birth.After(today) {
		return IDNumber{}, ErrIDBirth
	}
	if idCheckChars[sum%11] != last {
		return IDNumber{}, ErrIDChecksum
	}
	return IDNumber{Division: s[:6], Birth: birth, Male: (s[16]-'0')%2 == 1}, nil
}

// AgeOn is the age in whole years on the given day.
func (id IDNumber) AgeOn(day time.Time) int {
	y, m, d := day.Date()
	age := y - id.Birth.Year()
	if m < id.Birth.Month() || (m == id.Birth.Month() && d < id.Birth.Day()) {
		age--
	}
	return age
}

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
func ParseCertificateNumber(s string, today time.Time) (CertificateNumber, error) {
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
