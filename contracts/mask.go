package contracts

import "unicode/utf8"

// MaskID shows the first 4 and last 4 characters of an ID or certificate
// number, e.g. 5117**********123X, so people can tell cases apart without
// the number being disclosed.
func MaskID(s string) string {
	if len(s) <= 8 {
		return "********"
	}
	b := []byte(s)
	for i := 4; i < len(b)-4; i++ {
		b[i] = '*'
	}
	return string(b)
}

// MaskName keeps the first character (the family name, usually) of a name.
func MaskName(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return ""
	}
	n := utf8.RuneCountInString(s[size:])
	if n == 0 {
		n = 1
	}
	out := string(r)
	for i := 0; i < n; i++ {
		out += "*"
	}
	return out
}
