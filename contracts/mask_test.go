package contracts

import (
	"fmt"
	"math/rand/v2"
	"onething/civil"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

func TestMaskFreeTextExamples(t *testing.T) {
	names := []string{"张志明", "阿卜杜·热合曼", "Li Na", "欧阳娜娜"}
	cases := []struct{ in, want string }{
		// The withdrawal reason.
		{"本人张志明（身份证511702198002025569，电话13698765432）不再需要", "本人张**（身份证51**************69，电话13*******32）不再需要"},
		// Mobile numbers in their spellings, landlines.
		{"电话136-9876-5432", "电话13*-****-**32"},
		// Other separators an applicant may type (an outside review's).
		{"电话136/9876/5432", "电话13*/****/**32"},
		{"备用 136_9876_5432", "备用 13*_****_**32"},
		{"136,9876,5432", "13*,****,**32"},
		{"张-志-明 张、志、明 张/志/明 张_志_明", "张** 张** 张** 张**"},
		{"请于2026/11/29 09:30前", "请于2026/11/29 09:30前"},
		{"电话136 9876 5432", "电话13* **** **32"},
		{"电话+86 136 9876 5432", "电话+86 *** **** **32"},
		{"电话+8613698765432", "电话+86*********32"},
		{"电话8613698765432", "电话86*********32"},
		{"电话0838-2212345", "电话08**-*****45"},
		{"电话08382212345", "电话08*******45"},
		{"电话（0838）2212345", "电话（08**）*****45"},
		{"电话2212345", "电话*******"},
		{"电话136\u200b9876\u200b5432", "电话13*\u200b****\u200b**32"},
		{"电话136 - 9876 - 5432", "电话13* - **** - **32"},
		// ID numbers, old and new, the check character; certificates.
		{"身份证51170219850307123X。", "身份证51**************3X。"},
		{"身份证51170219850307123x号", "身份证51**************3x号"},
		{"身份证5117 0219 8503 0712 3X", "身份证51** **** **** **** 3X"},
		{"旧证511702850307123", "旧证51***********23"},
		{"证号51170219850307123X21", "证号51****************21"},
		// Full-width digits are digits.
		{"电话１３６９８７６５４３２", "电话１３*******３２"},
		{"身份证５１１７０２１９８５０３０７１２３Ｘ", "身份证５１**************３Ｘ"},
		// Other scripts' digits and Chinese numerals too.
		{"电话١٣٦٩٨٧٦٥٤٣٢", "电话١٣*******٣٢"},
		{"电话一三六九八七六五四三二", "电话一三*******三二"},
		// Letters glued to an ID or phone number do not save it.
		{"ID511702198002025569", "ID51**************69"},
		{"TEL13698765432", "TEL13*******32"},
		{"TEL0838-2212345", "TEL08**-*****45"},
		{"TEL-136-9876-5432", "TEL-13*-****-**32"},
		// A case number glued to its department stays readable.
		{"案件 CDPF-20261129-000001 已受理", "案件 CDPF-20261129-000001 已受理"},
		{"CDPF-511702-2026-000871", "CDPF-511702-2026-000871"},
		{"MZ1", "MZ1"},
		// Dates, times, amounts, short numbers.
		{"请于2026-11-29 09:30前补正", "请于2026-11-29 09:30前补正"},
		{"2026.11.29、2026/11/29、2026年11月29日", "2026.11.29、2026/11/29、2026年11月29日"},
		{"每月110.00元，共3项，45个工作日，邮编635000", "每月110.00元，共3项，45个工作日，邮编635000"},
		{"2026-11-29 13698765432", "2026-11-29 13*******32"},
		// A date does not split an ID number around it.
		{"511702 1985-03-07 123X", "51**** ****-**-** **3X"},
		// Any other long number.
		{"卡号6222021234567890123", "卡号62***************23"},
		{"20261129", "********"},
		// Names: the full name, spaced, the given name, minority and Latin names.
		{"张志明本人", "张**本人"},
		{"张 志 明本人", "张**本人"},
		{"志明本人", "**本人"},
		{"阿卜杜•热合曼、热合曼", "阿******、***"},
		{"LI NA and Carolina", "L**** and Carolina"},
		{"欧阳娜娜、娜娜", "欧***、**"},
		// The name beside a number.
		{"张志明13698765432", "张**13*******32"},
	}
	for _, tc := range cases {
		if got := MaskFreeText(tc.in, names...); got != tc.want {
			t.Errorf("MaskFreeText(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
	if HasPersonalData("案件 CDPF-20261129-000001 已受理", names...) || !HasPersonalData("电话13698765432") {
		t.Error("HasPersonalData disagrees with MaskFreeText")
	}
}

// TestDecimalDigitBlocks checks what digitValue and ndValue rely on:
// Unicode's decimal digits come in blocks of ten from zero, none of them
// among the CJK characters.
func TestDecimalDigitBlocks(t *testing.T) {
	for _, rg := range unicode.Nd.R16 {
		if rg.Stride != 1 || (rg.Hi-rg.Lo+1)%10 != 0 {
			t.Errorf("Nd range %x-%x", rg.Lo, rg.Hi)
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if rg.Stride != 1 || (rg.Hi-rg.Lo+1)%10 != 0 {
			t.Errorf("Nd range %x-%x", rg.Lo, rg.Hi)
		}
	}
	// digitValue skips U+3000-U+9FFF, which has none.
	for r := rune(0x3000); r < 0xA000; r++ {
		if unicode.IsDigit(r) {
			t.Errorf("%U is a decimal digit", r)
		}
	}
}

// The generated text: Chinese filler, and things that are not personal.
const (
	fillerHan   = "申请办理补贴材料窗口部门审核请携带照片原件复印件户口簿残联民政医保人社到现场核对信息因故撤回不再需要已经迁往外地居住证明专区平台"
	fillerPunct = "，。、；：（）！？“”"
)

var safeTokens = []string{
	"2026-11-29", "2026年11月29日", "2026.11.29", "09:30", "CDPF-20261129-000001", "CDPF-511702-2026-000871",
	"3项", "45个工作日", "110元", "第2轮", "PDF", "APP", "邮编635000", "0838", "RS-12", "1.5倍",
}

var (
	surnames   = []rune("王李赵刘陈杨黄吴周徐孙马朱胡郭何高林罗郑梁谢宋唐")
	givenRunes = []rune("伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华玉兰四一")
)

type planted struct {
	kind, text string
	// digits is the number's digits (ASCII, X upper case); empty for names.
	digits string
}

func genID(r *rand.Rand) string {
	provs := strings.Fields(provinces)
	var b strings.Builder
	b.WriteString(provs[r.IntN(len(provs))])
	fmt.Fprintf(&b, "%04d", r.IntN(10000))
	birth := time.Date(1930, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(95*365))
	b.WriteString(birth.Format("20060102"))
	fmt.Fprintf(&b, "%03d", r.IntN(1000))
	s := b.String()
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(s[i]-'0') * idWeights[i]
	}
	return s + string(idCheckChars[sum%11])
}

func digitsOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		if v, ok := digitValue(r); ok {
			b.WriteByte(byte('0' + v))
		} else if isCheckX(r) {
			b.WriteByte('X')
		}
	}
	return b.String()
}

// spell writes a number in one of the ways people do.
func spell(r *rand.Rand, digits string, groups ...int) string {
	s := digits
	if len(groups) > 0 && r.IntN(3) == 0 {
		sep := []string{"-", " ", "\u3000", "－", " - "}[r.IntN(5)]
		var parts []string
		k := 0
		for _, g := range groups {
			parts = append(parts, s[k:k+g])
			k += g
		}
		if k < len(s) {
			parts = append(parts, s[k:])
		}
		s = strings.Join(parts, sep)
	}
	if r.IntN(4) == 0 { // full-width
		var b strings.Builder
		for _, c := range s {
			switch {
			case c >= '0' && c <= '9':
				b.WriteRune(c - '0' + '０')
			case c == 'X':
				b.WriteRune('Ｘ')
			default:
				b.WriteRune(c)
			}
		}
		s = b.String()
	}
	return s
}

func genPlanted(r *rand.Rand, name string) planted {
	switch r.IntN(6) {
	case 0:
		id := genID(r)
		if _, err := ParseIDNumber(id, civil.Today(nil)); err != nil {
			panic(id + ": " + err.Error())
		}
		return planted{"ID number", spell(r, id, 6, 8, 4), id}
	case 1:
		id := genID(r)
		cert := id + fmt.Sprint(1+r.IntN(7)) + fmt.Sprint(1+r.IntN(4))
		return planted{"certificate number", spell(r, cert), cert}
	case 2:
		old := fmt.Sprintf("%s%02d%02d%02d%03d", genID(r)[:6], r.IntN(100), 1+r.IntN(12), 1+r.IntN(28), r.IntN(1000))
		return planted{"old ID number", spell(r, old), old}
	case 3:
		m := fmt.Sprintf("1%d%09d", 3+r.IntN(7), r.IntN(1000000000))
		text := spell(r, m, 3, 4)
		switch r.IntN(4) {
		case 0:
			text = "+86" + text
		case 1:
			text = "+86 " + text
		case 2:
			text = "86" + text
		}
		return planted{"mobile", text, m}
	case 4:
		area := fmt.Sprintf("0%d", 10+r.IntN(990))
		if r.IntN(2) == 0 {
			area = fmt.Sprintf("0%d", 10+r.IntN(90))
		}
		sub := fmt.Sprintf("%d%06d", 2+r.IntN(7), r.IntN(1000000))
		if r.IntN(2) == 0 {
			sub += fmt.Sprint(r.IntN(10))
		}
		sep := ""
		if r.IntN(2) == 0 {
			sep = "-"
		}
		return planted{"landline", spell(r, area+sep+sub), area + sub}
	default:
		return planted{"name", name, ""}
	}
}

func genName(r *rand.Rand) string {
	n := 1 + r.IntN(3)
	out := []rune{surnames[r.IntN(len(surnames))]}
	for i := 0; i < n; i++ {
		out = append(out, givenRunes[r.IntN(len(givenRunes))])
	}
	return string(out)
}

// genFiller is Chinese text with some of the safe tokens, each between
// Chinese characters.
func genFiller(r *rand.Rand, units int) []string {
	var han []rune
	for _, c := range fillerHan { // no character of a name
		if !strings.ContainsRune(string(surnames)+string(givenRunes), c) {
			han = append(han, c)
		}
	}
	punct := []rune(fillerPunct)
	var out []string
	for i := 0; i < units; i++ {
		var b strings.Builder
		for k := 1 + r.IntN(8); k > 0; k-- {
			b.WriteRune(han[r.IntN(len(han))])
		}
		if r.IntN(3) == 0 {
			b.WriteRune(punct[r.IntN(len(punct))])
		}
		if r.IntN(3) == 0 {
			b.WriteString(safeTokens[r.IntN(len(safeTokens))])
			b.WriteRune(han[r.IntN(len(han))])
		}
		out = append(out, b.String())
	}
	return out
}

// cleanDigits is the output's digits with what may sit inside a spelled
// number removed, the safe tokens taken out first.
func cleanDigits(s string) string {
	for _, tok := range safeTokens {
		s = strings.ReplaceAll(s, tok, "｜")
	}
	var b strings.Builder
	for _, r := range s {
		switch v, ok := digitValue(r); {
		case ok:
			b.WriteByte(byte('0' + v))
		case isCheckX(r):
			b.WriteByte('X')
		case isNumberSep(r), isPlus(r):
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestMaskFreeTextGenerated plants ID, certificate, mobile and landline
// numbers (valid ones, in their spellings, some full-width) and names at
// random places of generated Chinese text, and finds none of them, nor any
// five digits in a row of them, in what MaskFreeText returns; and text
// without personal data comes back unchanged.
func TestMaskFreeTextGenerated(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 14))
	for iter := 0; iter < 3000; iter++ {
		name, other := genName(r), genName(r)
		units := genFiller(r, 1+r.IntN(12))
		clean := strings.Join(units, "")
		if got := MaskFreeText(clean, name, other); got != clean {
			t.Fatalf("text without personal data changed (seed %d):\n in %q\nout %q", seed, clean, got)
		}
		var plants []planted
		for k := 1 + r.IntN(4); k > 0; k-- {
			p := genPlanted(r, []string{name, other}[r.IntN(2)])
			plants = append(plants, p)
			at := r.IntN(len(units) + 1)
			units = append(units[:at], append([]string{p.text}, units[at:]...)...)
		}
		text := strings.Join(units, "")
		got := MaskFreeText(text, name, other)
		digits := cleanDigits(got)
		for _, p := range plants {
			if strings.Contains(got, p.text) {
				t.Fatalf("%s %q is still there (seed %d):\n in %q\nout %q", p.kind, p.text, seed, text, got)
			}
			if p.kind == "name" {
				if given := []rune(p.text)[1:]; len(given) >= 2 && strings.Contains(got, string(given)) {
					t.Fatalf("given name %q is still there (seed %d):\n in %q\nout %q", string(given), seed, text, got)
				}
				continue
			}
			for k := 0; k+5 <= len(p.digits); k++ {
				if w := p.digits[k : k+5]; strings.Contains(digits, w) {
					t.Fatalf("%s %q: its digits %q are still there (seed %d):\n in %q\nout %q", p.kind, p.text, w, seed, text, got)
				}
			}
		}
	}
}

func BenchmarkMaskFreeText(b *testing.B) {
	texts := []string{
		"申请人撤回申请：本人张志明（身份证511702198002025569，电话13698765432）已迁往外地",
		"残疾人证已办结，开始办理",
		"withdrawn by the applicant",
	}
	m := NewFreeTextMasker("张志明", "李四")
	for b.Loop() {
		for _, s := range texts {
			m.Mask(s)
		}
	}
}

func BenchmarkMaskFreeTextPlain(b *testing.B) {
	m := NewFreeTextMasker("张志明", "李四")
	for b.Loop() {
		m.Mask("残疾人证已办结，开始办理")
	}
}

// FuzzMaskFreeText: nothing panics, valid text stays valid, the name is
// gone, and without Latin letters (so without codes) no 7 digits in a row
// are left.
func FuzzMaskFreeText(f *testing.F) {
	for _, s := range []string{"本人张志明（身份证511702198002025569，电话13698765432）", "CDPF-20261129-000001",
		"2026-11-29 09:30", "+86 136 9876 5432", "５１１７０２１９８００２０２５５６９", "张 志 明", "一三六九八七六五四三二"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := MaskFreeText(s, "张志明")
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("%q became invalid UTF-8: %q", s, out)
		}
		if strings.Contains(out, "张志明") {
			t.Fatalf("%q: the name is still in %q", s, out)
		}
		if strings.IndexFunc(s, isLatinLetter) >= 0 {
			return
		}
		run := 0
		for _, r := range out {
			if _, ok := digitValue(r); ok {
				if run++; run >= 7 {
					t.Fatalf("%q: 7 digits in a row in %q", s, out)
				}
			} else {
				run = 0
			}
		}
	})
}
