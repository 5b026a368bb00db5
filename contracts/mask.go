package contracts

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

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
	return string(r) + strings.Repeat("*", n)
}

// MaskFreeText masks the personal data a free text (a withdrawal's reason,
// a department's reason or note, a supplement note, an echoed field name)
// may hold, before it is shown anywhere but the audited full record. It errs
// on masking: a gateway for disabled citizens would rather hide a date than
// show an ID number.
//
// Numbers. A digit is any Unicode decimal digit (ASCII, full-width ０-９,
// other scripts) or a Chinese numeral (〇零一二…九, 壹贰…玖); an X or x
// (also full-width) after 14 digits or more, or after digits and ending the
// word, is an ID number's check character and counts as a digit. A number
// is a run of digit groups joined by at most three separators (spaces of
// any width, dashes, dots, slashes, underscores, ASCII commas, brackets,
// invisible format characters), with a leading +
// if there is one: 136-9876-5432, +86 136 9876 5432, 0838-2212345 and
// 5117 0219 8002 0255 69 are one number each. A date in it (2026-11-29,
// 2026.11.29: year, month and day joined by the same dash or dot) is left
// as it is and splits the number where what is left beside it is a time's
// hour (2 digits or fewer) or masked anyway (7 digits or more); otherwise
// the whole is one number (an ID number written 511702 1980-02-02 5569 is
// masked whole).
//
//   - A number of 7 digits or more is masked: ID numbers (18 and the old 15),
//     certificate numbers (the ID number and two digits), mobile numbers
//     (with or without +86), landlines with or without their area code,
//     bank cards, and any other long number, whatever it is.
//   - A number glued to Latin letters (ABC123…, ABC-123…) is a code, such as
//     a department's case number CDPF-20261129-000001: it stays readable
//     unless a group of it has 7 digits or more (an 8-digit group that is a
//     date, YYYYMMDD, excepted), or the whole of it has the length of an ID
//     or certificate number (15, 17, 18 or 20 and more digits), or the shape
//     of a mobile number (11 digits 1[3-9]…, 86 before it) or of a landline
//     with its area code (10-12 digits from 0).
//
// A masked number keeps its separators and its +; every digit becomes *,
// except the first two and the last two of a number of 11 digits or more
// (13*-****-**32), which say what kind of number was there.
//
// Names. Every occurrence of each of names (the applicant's, the
// guardian's …) is masked as MaskName shows it (张志明: 张**), also with
// spaces, punctuation or invisible characters between its characters
// (张-志-明, 张、志、明: up to three in a row) or another middle
// dot (· • ・). The given name alone is masked too (志明: **) for a Chinese
// name of three characters or more (also without a two-character family
// name: 欧阳娜娜's 娜娜), and each part of two characters or more of a name
// with a middle dot. Latin-script names match whole words, whatever their
// case. Names shorter than two characters are ignored.
//
// Text without any of this comes back unchanged.
func MaskFreeText(text string, names ...string) string {
	return NewFreeTextMasker(names...).Mask(text)
}

// HasPersonalData reports whether MaskFreeText would mask anything in text.
func HasPersonalData(text string, names ...string) bool {
	return MaskFreeText(text, names...) != text
}

// FreeTextMasker is MaskFreeText for many texts about the same people
// (an application's view): the names are prepared once.
type FreeTextMasker struct {
	pats []namePattern
	// firsts are the patterns' first runes; latin is set when one of
	// them is not Chinese (so Latin letters need a look).
	firsts []rune
	latin  bool
}

// NewFreeTextMasker prepares MaskFreeText's names.
func NewFreeTextMasker(names ...string) *FreeTextMasker {
	m := &FreeTextMasker{pats: namePatterns(names)}
	for _, p := range m.pats {
		m.firsts = append(m.firsts, p.runes[0])
		m.latin = m.latin || p.runes[0] < 0x3000
	}
	return m
}

// Mask is MaskFreeText(text, the masker's names...).
func (m *FreeTextMasker) Mask(text string) string {
	if m == nil {
		m = &FreeTextMasker{}
	}
	if !m.mayHoldPersonal(text) {
		return text
	}
	pats := m.pats
	rs := []rune(text)
	// act[i] is what rune i becomes: itself, '*', or (names) the
	// replacement at the name's first rune and nothing for the rest.
	act := make([]action, len(rs))
	maskNames(rs, pats, act)
	maskNumbers(rs, act)
	var b strings.Builder
	b.Grow(len(text))
	for i, r := range rs {
		switch a := act[i]; {
		case a == keep:
			b.WriteRune(r)
		case a == star:
			b.WriteByte('*')
		case a >= nameStart:
			b.WriteString(pats[a-nameStart].repl)
		}
	}
	return b.String()
}

// action is what becomes of one rune: kept, masked, left out (the rest of
// a name), or the replacement of name pattern action-nameStart.
type action uint16

const (
	keep action = iota
	star
	nameRest
	nameStart
)

// namePattern is one name (or part of one) to find: its runes folded.
// A Latin-script name matches whole words only (Li Na is not in Carolina).
type namePattern struct {
	runes []rune
	repl  string
	words bool
}

// namePatterns makes what maskNames looks for, longest first (so the full
// name wins over its given name where both match).
func namePatterns(names []string) []namePattern {
	var out []namePattern
	add := func(rs []rune, repl string) {
		if len(rs) >= 2 {
			out = append(out, namePattern{runes: rs, repl: repl,
				words: isLatinLetter(rs[0]) || isLatinLetter(rs[len(rs)-1])})
		}
	}
	for _, name := range names {
		name = strings.TrimSpace(name)
		var full []rune
		han := true
		for _, r := range name {
			if blank(r) {
				continue
			}
			r = foldNameRune(r)
			full = append(full, r)
			if !unicode.Is(unicode.Han, r) {
				han = false
			}
		}
		if len(full) < 2 {
			continue
		}
		add(full, MaskName(name))
		switch {
		case han && len(full) >= 3:
			add(full[1:], strings.Repeat("*", len(full)-1))
			if len(full) >= 4 { // a two-character family name (欧阳, 司马 …)
				add(full[2:], strings.Repeat("*", len(full)-2))
			}
		case !han:
			parts := strings.Split(string(full), "·")
			if len(parts) < 2 {
				break
			}
			for _, p := range parts {
				if prs := []rune(p); len(prs) >= 2 && isHanRunes(prs) {
					add(prs, strings.Repeat("*", len(prs)))
				}
			}
		}
	}
	// Longest first; stable, so equal lengths keep the callers' order.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && len(out[j].runes) > len(out[j-1].runes); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func isHanRunes(rs []rune) bool {
	for _, r := range rs {
		if !unicode.Is(unicode.Han, r) {
			return false
		}
	}
	return true
}

// foldNameRune maps the spellings of one character to one: middle dots to
// ·, full-width Latin letters to ASCII, letters to lower case.
func foldNameRune(r rune) rune {
	switch {
	case r == '·', r == '•', r == '・', r == '･', r == '‧', r == '∙', r == '⋅', r == '.', r == '．', r == '｡', r == '。':
		return '·'
	case r >= 'A' && r <= 'Z':
		return r + 'a' - 'A'
	case r < utf8.RuneSelf:
		return r
	case r >= 'Ａ' && r <= 'Ｚ':
		return r - 'Ａ' + 'a'
	case r >= 'ａ' && r <= 'ｚ':
		return r - 'ａ' + 'a'
	case r < 0x3000: // Latin, Greek, Cyrillic … have case; Han has none
		return unicode.ToLower(r)
	}
	return r
}

// skippable runes may sit between a name's characters without ending it:
// spaces, invisible format characters and punctuation (张-志-明, 张、志、明,
// 张/志/明, 张_志_明), at most maxNameSkips of them in a row.
func skippable(r rune) bool {
	return blank(r) || unicode.IsPunct(r) || unicode.IsSymbol(r)
}

// blank runes are not part of a name as given: spaces and invisible
// format characters (its middle dot is).
func blank(r rune) bool { return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) }

const maxNameSkips = 3

// mayHoldPersonal is the quick look: no digit and no rune a name starts
// with means nothing to mask. (Views run it on every note: it takes the
// common runes, ASCII and Chinese, the short way.)
func (m *FreeTextMasker) mayHoldPersonal(text string) bool {
	for _, r := range text {
		switch {
		case r < utf8.RuneSelf:
			if r >= '0' && r <= '9' {
				return true
			}
			if !m.latin || !isLatinLetter(r) {
				continue
			}
		case r >= 0x4E00 && r < 0xA000: // CJK unified ideographs: no dots, no case
			if _, ok := hanDigit(r); ok {
				return true
			}
			for _, f := range m.firsts {
				if f == r {
					return true
				}
			}
			continue
		default:
			if _, ok := digitValue(r); ok {
				return true
			}
		}
		f := foldNameRune(r)
		for _, first := range m.firsts {
			if first == f {
				return true
			}
		}
	}
	return false
}

// maskNames marks every occurrence of the patterns, longest first at each
// position, left to right.
func maskNames(rs []rune, pats []namePattern, act []action) {
	if len(pats) == 0 {
		return
	}
	for i := 0; i < len(rs); {
		matched := false
		for n, p := range pats {
			if end, ok := matchName(rs, i, p); ok {
				act[i] = nameStart + action(n)
				for k := i + 1; k < end; k++ {
					act[k] = nameRest
				}
				i, matched = end, true
				break
			}
		}
		if !matched {
			i++
		}
	}
}

// matchName reports whether p occurs at rs[i:], allowing skippable runes
// between its characters, and where the match ends.
func matchName(rs []rune, i int, p namePattern) (int, bool) {
	if p.words && i > 0 && isLatinLetter(rs[i-1]) {
		return 0, false
	}
	k := i
	for j, want := range p.runes {
		if j > 0 {
			// A rune the name itself holds (its middle dot) is not skipped.
			for skips := 0; k < len(rs) && skips < maxNameSkips && foldNameRune(rs[k]) != want && skippable(rs[k]); skips++ {
				k++
			}
		}
		if k >= len(rs) || foldNameRune(rs[k]) != want {
			return 0, false
		}
		k++
	}
	if p.words && k < len(rs) && isLatinLetter(rs[k]) {
		return 0, false
	}
	return k, true
}

// hanDigit is the value of a Chinese numeral, ordinary or financial.
func hanDigit(r rune) (int, bool) {
	switch r {
	case '〇', '零':
		return 0, true
	case '一', '壹':
		return 1, true
	case '二', '贰':
		return 2, true
	case '三', '叁':
		return 3, true
	case '四', '肆':
		return 4, true
	case '五', '伍':
		return 5, true
	case '六', '陆':
		return 6, true
	case '七', '柒':
		return 7, true
	case '八', '捌':
		return 8, true
	case '九', '玖':
		return 9, true
	}
	return 0, false
}

// digitValue reports whether r is a digit, and its value.
func digitValue(r rune) (int, bool) {
	switch {
	case r >= '0' && r <= '9':
		return int(r - '0'), true
	case r >= '０' && r <= '９':
		return int(r - '０'), true
	case r < utf8.RuneSelf:
		return 0, false
	}
	if v, ok := hanDigit(r); ok {
		return v, true
	}
	if r >= 0x3000 && r < 0xA000 { // CJK: no decimal digits (a quick way past Chinese text)
		return 0, false
	}
	if unicode.IsDigit(r) {
		return ndValue(r), true
	}
	return 0, false
}

// ndValue is the value of a decimal digit of another script: Unicode keeps
// them in blocks of ten from zero, which are the ranges of unicode.Nd.
func ndValue(r rune) int {
	for _, rg := range unicode.Nd.R16 {
		if r >= rune(rg.Lo) && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if r >= rune(rg.Lo) && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10
		}
	}
	return 0
}

func isCheckX(r rune) bool { return r == 'X' || r == 'x' || r == 'Ｘ' || r == 'ｘ' }

func isLatinLetter(r rune) bool {
	return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= 'Ａ' && r <= 'Ｚ' || r >= 'ａ' && r <= 'ｚ'
}

// isNumberSep joins digit groups into one number.
// Besides spaces, dashes and dots: slashes, underscores, ASCII commas and
// brackets (136/9876/5432, 136_9876_5432,
// 136,9876,5432, (0838)2212345): a separator an applicant may type
// must not split a number into groups short enough to stay readable.
func isNumberSep(r rune) bool {
	switch r {
	case '.', '．', '\t', '\u2212', '/', '／', '\\', '＼', '_', '＿', ',', '(', ')', '（', '）', '[', ']', '【', '】', '|', '｜':
		return true
	}
	return unicode.Is(unicode.Zs, r) || unicode.Is(unicode.Pd, r) || unicode.Is(unicode.Cf, r)
}

// isDateSep separates a date's year, month and day.
func isDateSep(r rune) bool {
	return r == '.' || r == '．' || r == '/' || r == '／' || unicode.Is(unicode.Pd, r) || r == '\u2212'
}

func isPlus(r rune) bool { return r == '+' || r == '＋' }

// group is one run of digits: runes [from, to), its values.
type group struct {
	from, to int
	digits   []byte // ASCII '0'-'9', 'X' for a check character
}

const maxSeps = 3 // separators that may join two groups

// maskNumbers marks the digits of every number the rules of MaskFreeText
// mask. Runes of masked names are not digits.
func maskNumbers(rs []rune, act []action) {
	isDigit := func(i int) (int, bool) {
		if act[i] != keep {
			return 0, false
		}
		return digitValue(rs[i])
	}
	for i := 0; i < len(rs); {
		if _, ok := isDigit(i); !ok {
			i++
			continue
		}
		start := i
		if start > 0 && act[start-1] == keep && isPlus(rs[start-1]) {
			start--
		}
		var groups []group
		j, total := i, 0
		for {
			g := group{from: j}
			for j < len(rs) {
				if v, ok := isDigit(j); ok {
					g.digits = append(g.digits, byte('0'+v))
					j++
					continue
				}
				// An ID number's check character: an X after 14 digits or
				// more (a certificate number goes on after it), or an X
				// ending the word after digits.
				if len(g.digits) > 0 && act[j] == keep && isCheckX(rs[j]) &&
					(total+len(g.digits) >= 14 || j+1 == len(rs) || !continuesWord(rs[j+1])) {
					g.digits = append(g.digits, 'X')
					j++
					continue
				}
				break
			}
			total += len(g.digits)
			g.to = j
			groups = append(groups, g)
			k := j
			for k < len(rs) && k-j < maxSeps && act[k] == keep && isNumberSep(rs[k]) {
				k++
			}
			if k == j || k >= len(rs) {
				break
			}
			if _, ok := isDigit(k); !ok {
				break
			}
			j = k
		}
		glued := gluedToLetters(rs, act, start)
		for _, part := range splitDates(rs, groups) {
			if maskable(part, glued) {
				starNumber(part, act)
			}
		}
		i = j
	}
}

// continuesWord is true for runes that continue a word after an X (so 3x4 and
// 12XL keep their x, and 123X号 loses it).
func continuesWord(r rune) bool {
	_, digit := digitValue(r)
	return digit || isLatinLetter(r)
}

// gluedToLetters reports whether the number starting at rs[start] follows
// Latin letters directly or across one - or _: a code like ABC123 or
// CDPF-20261129-000001.
func gluedToLetters(rs []rune, act []action, start int) bool {
	p := start - 1
	if p >= 0 && act[p] == keep && (rs[p] == '-' || rs[p] == '_' || rs[p] == '－') {
		p--
	}
	return p >= 0 && act[p] == keep && isLatinLetter(rs[p])
}

// splitDates takes dates (year, month, day joined by one and the same dash
// or dot) out of a number's groups: they are left as they are, and the
// groups between them are numbers of their own. It does so only when what
// is left around the dates is short (a time's hour: 2 digits or fewer) or
// masked anyway (7 digits or more): 511702 1980-02-02 5569 stays one number.
func splitDates(rs []rune, groups []group) [][]group {
	var parts [][]group
	cur := 0
	for k := 0; k+2 < len(groups); {
		if isDate(rs, groups[k:k+3]) {
			if k > cur {
				parts = append(parts, groups[cur:k])
			}
			k += 3
			cur = k
			continue
		}
		k++
	}
	if cur == 0 {
		return [][]group{groups}
	}
	if cur < len(groups) {
		parts = append(parts, groups[cur:])
	}
	for _, p := range parts {
		if n := digitCount(p); n > 2 && n < 7 {
			return [][]group{groups}
		}
	}
	return parts
}

func digitCount(groups []group) int {
	n := 0
	for _, g := range groups {
		n += len(g.digits)
	}
	return n
}

func isDate(rs []rune, g []group) bool {
	if len(g[0].digits) != 4 || len(g[1].digits) > 2 || len(g[2].digits) > 2 {
		return false
	}
	// one separator rune each, the same one, a date's
	if g[1].from-g[0].to != 1 || g[2].from-g[1].to != 1 {
		return false
	}
	sep := rs[g[0].to]
	if !isDateSep(sep) || rs[g[1].to] != sep {
		return false
	}
	return validYMD(g[0].digits, g[1].digits, g[2].digits)
}

func atoi(d []byte) int {
	n := 0
	for _, c := range d {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func validYMD(y, m, d []byte) bool {
	year, month, day := atoi(y), atoi(m), atoi(d)
	return year >= 1900 && year <= 2099 && month >= 1 && month <= 12 && day >= 1 && day <= 31
}

// maskable applies the rules of MaskFreeText to one number.
func maskable(groups []group, glued bool) bool {
	var all []byte
	for _, g := range groups {
		all = append(all, g.digits...)
	}
	if !glued {
		return len(all) >= 7
	}
	for _, g := range groups {
		if len(g.digits) >= 7 && !(len(g.digits) == 8 && validYMD(g.digits[:4], g.digits[4:6], g.digits[6:])) {
			return true
		}
	}
	n := len(all)
	mobile := func(d []byte) bool { return len(d) == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9' }
	switch {
	case n == 15 || n == 17 || n == 18 || n >= 20: // ID and certificate numbers
		return true
	case mobile(all), n == 13 && all[0] == '8' && all[1] == '6' && mobile(all[2:]):
		return true
	case n >= 10 && n <= 12 && all[0] == '0': // a landline with its area code
		return true
	}
	return false
}

// starNumber masks a number's digits, keeping the first two and the last
// two of a long one.
func starNumber(groups []group, act []action) {
	n := digitCount(groups)
	shown := 0
	if n >= 11 {
		shown = 2
	}
	k := 0
	for _, g := range groups {
		for i := g.from; i < g.to; i++ {
			if k >= shown && k < n-shown {
				act[i] = star
			}
			k++
		}
	}
}
