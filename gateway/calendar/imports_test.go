package calendar

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"

	"onething/civil"
)

// without returns the embedded file with one year taken out, laid out as
// Merge writes it.
func without(t *testing.T, year string) []byte {
	t.Helper()
	var f fileJSON
	if err := json.Unmarshal(embedded, &f); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Years[year]; !ok {
		t.Fatalf("embedded data lacks %s", year)
	}
	delete(f.Years, year)
	return format(f)
}

// TestFormatIsTheFileLayout: Merge writes the layout of holidays.json, so
// an imported year reads like the hand-written ones and diffs stay small.
func TestFormatIsTheFileLayout(t *testing.T) {
	var f fileJSON
	if err := json.Unmarshal(embedded, &f); err != nil {
		t.Fatal(err)
	}
	if got := format(f); !bytes.Equal(got, embedded) {
		t.Errorf("format(holidays.json) differs from the file:\n%s", got)
	}
}

// TestImportNoticeFixtures parses the 2025-2027 notices and merges each
// into the embedded data without that year: the result is holidays.json
// byte for byte.
func TestImportNoticeFixtures(t *testing.T) {
	for _, year := range []string{"2025", "2026", "2027"} {
		t.Run(year, func(t *testing.T) {
			text, err := os.ReadFile(filepath.Join("testdata", "notice-"+year+".txt"))
			if err != nil {
				t.Fatal(err)
			}
			y, err := ParseNotice(text)
			if err != nil {
				t.Fatalf("ParseNotice: %v", err)
			}
			if err := y.Check(); err != nil {
				t.Fatalf("Check: %v", err)
			}
			out, changed, err := Merge(without(t, year), y, false)
			if err != nil || !changed {
				t.Fatalf("Merge: changed %v, %v", changed, err)
			}
			if !bytes.Equal(out, embedded) {
				t.Errorf("merged file differs from holidays.json:\n%s", out)
			}
			// Again: the same year is no change.
			if _, changed, err := Merge(embedded, y, false); err != nil || changed {
				t.Errorf("Merge of the same year again: changed %v, %v; want no change", changed, err)
			}
		})
	}
}

func TestImportHolidayCN(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "holiday-cn-2027.json"))
	if err != nil {
		t.Fatal(err)
	}
	y, err := ParseHolidayCN(data)
	if err != nil {
		t.Fatalf("ParseHolidayCN: %v", err)
	}
	out, changed, err := Merge(without(t, "2027"), y, false)
	if err != nil || !changed {
		t.Fatalf("Merge: changed %v, %v", changed, err)
	}
	if !bytes.Equal(out, embedded) {
		t.Errorf("merged file differs from holidays.json:\n%s", out)
	}
	y.Source = "other"
	withPapers := bytes.Replace(data, []byte(`"papers": []`), []byte(`"papers": ["https://example.org/notice-2027.html"]`), 1)
	if y, err = ParseHolidayCN(withPapers); err != nil || !strings.Contains(y.Source, "https://example.org/notice-2027.html") {
		t.Errorf("papers are not in the source: %q, %v", y.Source, err)
	}
	for _, bad := range []string{
		`{"year": 2027, "days": [{"name": "元旦", "date": "2027-1-1", "isOffDay": true}]}`,
		`{"year": 2027, "days": [{"name": "元旦", "date": "2027-01-01"}]}`,
		`{"year": 2027, "days": [{"name": "元旦", "date": "2027-01-01", "isOffDay": true, "x": 1}]}`,
		`{"year": 2027, "days": []}`,
		`{"days": [{"name": "元旦", "date": "2027-01-01", "isOffDay": true}]}`,
		`{"year": 2027, "days": [{"name": "元旦", "date": "2027-01-01", "isOffDay": true}, {"name": "元旦", "date": "2027-01-01", "isOffDay": true}]}`,
	} {
		if _, err := ParseHolidayCN([]byte(bad)); err == nil {
			t.Errorf("ParseHolidayCN accepted %s", bad)
		}
	}
}

// notice2027 is the 2027 fixture with one replacement, for the failing cases.
func notice2027(t *testing.T, old, new string) []byte {
	t.Helper()
	text, err := os.ReadFile(filepath.Join("testdata", "notice-2027.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(text, []byte(old)) {
		t.Fatalf("fixture lacks %q", old)
	}
	return bytes.Replace(text, []byte(old), []byte(new), 1)
}

// TestImportChecks: each check refuses a broken notice, in Chinese and
// English, naming the day and the festival.
func TestImportChecks(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		want     []string
	}{
		{"statutory day not off", "五、端午节：6月9日（周三）放假，共1天。", "五、端午节：6月10日（周四）放假，共1天。",
			[]string{"2027-06-09", "端午节", "法定假日", "statutory day", "Dragon Boat Festival"}},
		{"补休 not off", "至5日（周三）放假调休，共5天。", "至3日（周一）放假调休，共3天。",
			[]string{"2027-05-04", "劳动节", "补休", "substitute day off"}},
		{"work day on a weekday", "5月8日（周六）上班", "5月7日（周五）上班",
			[]string{"2027-05-07", "周六或周日", "Saturday or Sunday"}},
		{"off and working", "9月26日（周日）、10月9日（周六）上班", "10月3日（周日）、10月9日（周六）上班",
			[]string{"2027-10-03", "既在国庆节放假期间", "both a day off"}},
		{"festival missing", "六、中秋节：9月15日（周三）放假，共1天。\n", "",
			[]string{"缺少中秋节", "lacks 中秋节 (Mid-Autumn Festival)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			y, err := ParseNotice(notice2027(t, tt.old, tt.new))
			if err != nil {
				t.Fatalf("ParseNotice: %v", err)
			}
			err = y.Check()
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("Check = %v, want Problems", err)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Check's error does not mention %q:\n%v", want, err)
				}
			}
			if _, _, err := Merge(Embedded(), y, true); err == nil {
				t.Error("Merge accepted a year that fails Check")
			}
		})
	}
}

func TestParseNoticeErrors(t *testing.T) {
	tests := []struct {
		name string
		text []byte
		want []string
	}{
		{"day count wrong", notice2027(t, "共9天", "共8天"), []string{"春节", "line 8", "9 days", "共8天"}},
		{"unreadable sentence", notice2027(t, "5月8日（周六）上班", "5月8日照常上班"), []string{"劳动节", "line 10", "5月8日照常上班"}},
		{"no year", []byte("一、元旦：1月1日放假，共1天。"), []string{"YYYY"}},
		{"no items", []byte("国务院办公厅关于2027年部分节假日安排的通知\n"), []string{"一、元旦"}},
		{"impossible date", notice2027(t, "6月9日（周三）", "6月31日（周三）"), []string{"端午节", "2027-06-31"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseNotice(tt.text)
			if err == nil {
				t.Fatal("ParseNotice accepted it")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

// TestParseNoticeVariants: the forms older notices used: years in dates
// (2019's New Year began in 2018), a 文号 line, half-width punctuation,
// and a 元旦 break reaching into December.
func TestParseNoticeVariants(t *testing.T) {
	text := "国务院办公厅关于2023年部分节假日安排的通知\n国办发明电〔2022〕16号\n" +
		"一、元旦: 2022年12月31日至2023年1月2日放假调休, 共3天。\n" +
		"二、春节：1月21日至27日放假调休，共7天。\n1月28日（星期六）、1月29日（星期日）上班。\n" +
		"六、中秋节、国庆节：9月29日至10月6日放假调休，共8天。10月7日（星期六）、10月8日（星期日）上班。\n"
	y, err := ParseNotice([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if y.Year != 2023 || y.Source != "国务院办公厅关于2023年部分节假日安排的通知（国办发明电〔2022〕16号）" {
		t.Errorf("year %d, source %q", y.Year, y.Source)
	}
	want := []Range{
		{civil.MustParse("2022-12-31"), civil.MustParse("2023-01-02"), "元旦"},
		{civil.MustParse("2023-01-21"), civil.MustParse("2023-01-27"), "春节"},
		{civil.MustParse("2023-09-29"), civil.MustParse("2023-10-06"), "中秋节、国庆节"},
	}
	if len(y.Off) != len(want) {
		t.Fatalf("Off = %v, want %v", y.Off, want)
	}
	for i := range want {
		if y.Off[i] != want[i] {
			t.Errorf("Off[%d] = %v, want %v", i, y.Off[i], want[i])
		}
	}
	if len(y.Work) != 4 || y.Work[0] != civil.MustParse("2023-01-28") || y.Work[3] != civil.MustParse("2023-10-08") {
		t.Errorf("Work = %v", y.Work)
	}
	// 2023 is before the amended rule: not importable.
	if err := y.Check(); err == nil || !strings.Contains(err.Error(), "2025") {
		t.Errorf("Check(2023) = %v, want a refusal naming 2025", err)
	}
}

func TestMergeReplace(t *testing.T) {
	y, err := ParseNotice(notice2027(t, "5月8日（周六）上班", "4月25日（周日）上班"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Merge(Embedded(), y, false); !errors.Is(err, ErrYearExists) {
		t.Fatalf("Merge over a different 2027: err = %v, want ErrYearExists", err)
	}
	out, changed, err := Merge(Embedded(), y, true)
	if err != nil || !changed {
		t.Fatalf("Merge --replace: changed %v, %v", changed, err)
	}
	c, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	for day, want := range map[string]bool{"2027-04-25": true, "2027-05-08": false} {
		if got, err := c.IsWorkingDay(civil.MustParse(day).Midnight()); err != nil || got != want {
			t.Errorf("after replace, %s worked = %v, %v; want %v", day, got, err, want)
		}
	}
}

func TestInspect(t *testing.T) {
	infos, err := Inspect(embedded)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 7 || infos[6].Year != 2028 || !infos[6].Provisional || infos[5].Year != 2027 || infos[5].Provisional {
		t.Fatalf("Inspect = %+v", infos)
	}
	for _, in := range infos {
		if len(in.Problems) > 0 {
			t.Errorf("%d: %v", in.Year, in.Problems)
		}
	}
	if infos[5].OffDays != 29 || infos[5].WorkDays != 5 {
		t.Errorf("2027: %d days off, %d worked; want 29, 5", infos[5].OffDays, infos[5].WorkDays)
	}
	// A hand-edited 2027 without 端午节 parses but fails the checks.
	broken := bytes.Replace(embedded, []byte(`        {"from": "2027-06-09", "to": "2027-06-09", "name": "端午节"},`+"\n"), nil, 1)
	infos, err = Inspect(broken)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos[5].Problems) == 0 || !strings.Contains(infos[5].Problems.Error(), "2027-06-09") {
		t.Errorf("2027 without 端午节: problems %v", infos[5].Problems)
	}
	if _, err := Inspect([]byte(`{"years":{}}`)); err == nil {
		t.Error("Inspect accepted a file without years")
	}
}

// isBilingual reports whether every line of msg is "中文 / English":
// Chinese before the first " / ", English (Latin letters) after it.
func isBilingual(msg string) bool {
	for _, line := range strings.Split(msg, "\n") {
		zh, en, ok := strings.Cut(line, " / ")
		if !ok || !strings.ContainsFunc(zh, func(r rune) bool { return unicode.Is(unicode.Han, r) }) ||
			!strings.ContainsFunc(en, func(r rune) bool { return r >= 'a' && r <= 'z' }) {
			return false
		}
	}
	return true
}

func TestIsBilingual(t *testing.T) {
	for msg, want := range map[string]bool{
		"第 3 行：日期不存在 / line 3: no such date":          true,
		`civil: bad date "2028-02-30"`:                false,
		"holiday-cn 文件无效 / not valid\nunexpected EOF": false,
		"英文 / 中文": false,
	} {
		if got := isBilingual(msg); got != want {
			t.Errorf("isBilingual(%q) = %v, want %v", msg, got, want)
		}
	}
}

// TestParseNoticeVerbatim: the notice as copied from the published page —
// the page's header (whose 成文日期 is the year before), title, 文号,
// salutation, preamble, full-width indents, then the issuer, the date and
// "（此件公开发布）" after the items — gives the same year as the bare items.
func TestParseNoticeVerbatim(t *testing.T) {
	want, err := ParseNotice(notice2027(t, "", ""))
	if err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(filepath.Join("testdata", "notice-2027-verbatim.txt"))
	if err != nil {
		t.Fatal(err)
	}
	sameArrangement := func(t *testing.T, y Year) {
		t.Helper()
		if y.Year != 2027 || !slices.Equal(y.Off, want.Off) || !slices.Equal(y.Work, want.Work) {
			t.Errorf("got %d %v %v\nwant %d %v %v", y.Year, y.Off, y.Work, want.Year, want.Off, want.Work)
		}
		if err := y.Check(); err != nil {
			t.Errorf("Check: %v", err)
		}
	}
	t.Run("fixture", func(t *testing.T) {
		y, err := ParseNotice(text)
		if err != nil {
			t.Fatal(err)
		}
		sameArrangement(t, y)
		if wantSrc := "国务院办公厅关于2027年部分节假日安排的通知（国办发明电〔2026〕99号）"; y.Source != wantSrc {
			t.Errorf("source %q, want %q", y.Source, wantSrc)
		}
	})
	t.Run("CRLF", func(t *testing.T) {
		y, err := ParseNotice(bytes.ReplaceAll(text, []byte("\n"), []byte("\r\n")))
		if err != nil {
			t.Fatal(err)
		}
		sameArrangement(t, y)
	})
	// The tester's case: the issuer and the date right under the last
	// item (a combined 国庆节、中秋节 one), in the shapes a paste takes.
	combined := notice2027(t, "六、中秋节：9月15日（周三）放假，共1天。\n七、国庆节：10月1日（周五）至7日（周四）放假调休，共7天。9月26日（周日）、10月9日（周六）上班。",
		"六、国庆节、中秋节：10月1日（周五）至7日（周四）放假调休，共7天。9月26日（周日）、10月9日（周六）上班。")
	for name, tail := range map[string]string{
		"issuer and date":       "国务院办公厅\n2027年11月12日\n",
		"date only":             "2027年11月12日",
		"blank lines":           "\n\n国务院办公厅\n\n2027年11月12日\n\n",
		"published line":        "国务院办公厅\n2027年11月12日\n（此件公开发布）\n",
		"full-width spaces":     "　　　　国务院办公厅　　\n　　　　２０２７年１１月１２日　　\n\n　　（此件公开发布）　\n",
		"no-break spaces":       "\u00a0\u00a0国务院办公厅\u00a0\n\u00a02027年11月12日\u00a0\n",
		"page footer after it":  "国务院办公厅\n2027年11月12日\n（此件公开发布）\n1月1日 【打印】【关闭】\n",
		"closing text and date": "节假日期间，各地区、各部门要妥善安排好值班工作。\n国务院办公厅\n2027年11月12日\n",
	} {
		t.Run(name, func(t *testing.T) {
			y, err := ParseNotice(append(bytes.Clone(combined), tail...))
			if err != nil {
				t.Fatal(err)
			}
			if n := len(y.Off); n != 6 || y.Off[5].Name != "国庆节、中秋节" || len(y.Work) != 5 {
				t.Errorf("Off %v, Work %v", y.Off, y.Work)
			}
		})
	}
	// The items are read as strictly as before: a broken item in the
	// verbatim text is still an error naming its line.
	broken := bytes.Replace(text, []byte("5月8日（周六）上班"), []byte("5月8日照常上班"), 1)
	if _, err := ParseNotice(broken); err == nil || !strings.Contains(err.Error(), "line 17") || !isBilingual(err.Error()) {
		t.Errorf("broken item in the verbatim text: %v", err)
	}
	// A date line that is more than a date still continues the item.
	cont := notice2027(t, "5月8日（周六）上班。", "\n5月8日（周六）上班。")
	if y, err := ParseNotice(cont); err != nil || !slices.Contains(y.Work, civil.MustParse("2027-05-08")) {
		t.Errorf("a 上班 sentence on its own line: %v, %v", y.Work, err)
	}
}

// TestFestivalTwice: a festival listed twice is refused, naming it and
// both lines; in a holiday-cn file or a data file (no lines), Check
// refuses the second break and the overlap.
func TestFestivalTwice(t *testing.T) {
	for name, extra := range map[string]string{
		"same dates":      "五、端午节：6月9日（周三）放假，共1天。\n",
		"other dates":     "五、端午节：6月12日（周六）至13日（周日）放假，共2天。\n",
		"in a combined":   "八、端午节、国庆节：6月9日（周三）放假，共1天。\n",
		"after the items": "",
	} {
		t.Run(name, func(t *testing.T) {
			text := notice2027(t, "六、中秋节", extra+"六、中秋节")
			wantLines := []string{"第 11 行和第 12 行", "lines 11 and 12"}
			if extra == "" {
				text = append(notice2027(t, "", ""), "八、端午节：6月9日（周三）放假，共1天。\n"...)
				wantLines = []string{"第 11 行和第 16 行", "lines 11 and 16"}
			}
			_, err := ParseNotice(text)
			if err == nil {
				t.Fatal("ParseNotice accepted a festival listed twice")
			}
			for _, want := range append(wantLines, "端午节", "Dragon Boat Festival") {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not mention %q: %v", want, err)
				}
			}
			if !isBilingual(err.Error()) {
				t.Errorf("not 中文 / English: %v", err)
			}
		})
	}

	y, err := ParseNotice(notice2027(t, "", ""))
	if err != nil {
		t.Fatal(err)
	}
	y.Off = append(y.Off, Range{From: civil.MustParse("2027-06-08"), To: civil.MustParse("2027-06-10"), Name: DragonBoat})
	err = y.Check()
	for _, want := range []string{"端午节有两项放假安排", "2027-06-09 to 2027-06-09 and 2027-06-08 to 2027-06-10", "overlap"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check with 端午节 twice does not mention %q: %v", want, err)
		}
	}
	if err != nil && !isBilingual(err.Error()) {
		t.Errorf("not 中文 / English: %v", err)
	}
	if _, _, err := Merge(without(t, "2027"), y, false); err == nil {
		t.Error("Merge accepted 端午节 twice")
	}
}

// TestMessagesBilingual: what the tester found said in English only is
// now "中文 / English", and still names the thing.
func TestMessagesBilingual(t *testing.T) {
	bad2027 := []byte(`{"years":{"2027":{"off":[{"from":"2027-02-05","to":"2027-02-30"}]}}}`)
	y2027, err := ParseNotice(notice2027(t, "", ""))
	if err != nil {
		t.Fatal(err)
	}
	_, _, mergeBad := Merge(bad2027, y2027, false)
	_, _, mergeExists := Merge(Embedded(), func() Year {
		y := y2027
		y.Work = append([]civil.Date{civil.MustParse("2027-04-25")}, y.Work[:len(y.Work)-1]...)
		return y
	}(), false)
	if !errors.Is(mergeExists, ErrYearExists) {
		t.Errorf("Merge over a different 2027: %v, want ErrYearExists", mergeExists)
	}
	outside := y2027
	outside.Work = append(slices.Clone(y2027.Work), civil.MustParse("2029-10-06"))
	notice := func(old, new string) error {
		_, err := ParseNotice(notice2027(t, old, new))
		return err
	}
	holidayCN := func(s string) error { _, err := ParseHolidayCN([]byte(s)); return err }
	_, loadMissing := Load(filepath.Join(t.TempDir(), "missing.json"))
	if !errors.Is(loadMissing, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want a not-exist error", loadMissing)
	}

	tests := []struct {
		name string
		err  error
		want []string
		not  []string
	}{
		{"impossible date", notice("6月9日（周三）", "2月30日（周三）"), []string{"2027-02-30", "line 11", "第 11 行"}, []string{"civil:"}},
		{"day count", notice("共9天", "共8天"), []string{"共8天", "是 9 天", "9 days"}, nil},
		{"date in another year", notice("4月3日（周六）至5日（周一）", "4月3日（周六）至2028年4月5日（周一）"),
			[]string{"2028-04-05", "不在 2027 年内", "lies outside 2027"}, []string{" -3", "days, the notice"}},
		{"end before start", notice("4月3日（周六）至5日（周一）放假，共3天", "4月3日（周六）至1日（周四）放假"),
			[]string{"2027-04-03", "晚于", "after its end"}, nil},
		{"holiday-cn unknown field", holidayCN(`{"year": 2027, "extra": 1, "days": []}`), []string{"未知字段", `"extra"`}, nil},
		{"holiday-cn cut short", holidayCN(`{"year": 2027, "days": [`), []string{"不完整", "unexpected EOF"}, nil},
		{"holiday-cn syntax", holidayCN(`{"year": 2027,, }`), []string{"第 1 行第 15 列", "line 1 column 15"}, nil},
		{"holiday-cn type", holidayCN(`{"year": "2027", "days": []}`), []string{"year", "类型"}, nil},
		{"holiday-cn empty", holidayCN(``), []string{"空"}, nil},
		{"file to merge into", mergeBad, []string{"要并入的日历文件", "the file to merge into", "2027-02-30"}, nil},
		{"year exists", mergeExists, []string{"--replace", "2027"}, nil},
		{"make-up day outside the year", outside.Check(), []string{"2029-10-06调休上班日不在 2027 年内", "2029-10-06 make-up working day lies outside 2027"}, []string{"（）", "()"}},
		{"load missing", loadMissing, []string{"文件或目录不存在", "missing.json"}, nil},
		{"data file", func() error { _, err := Parse(bad2027); return err }(), []string{`years["2027"].off[0]`, "2027-02-30", "无效"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil {
				t.Fatal("no error")
			}
			msg := strings.TrimPrefix(tt.err.Error(), "calendar: ")
			if !isBilingual(msg) {
				t.Errorf("not 中文 / English:\n%s", msg)
			}
			for _, want := range tt.want {
				if !strings.Contains(msg, want) {
					t.Errorf("%q does not mention %q", msg, want)
				}
			}
			for _, not := range tt.not {
				if strings.Contains(msg, not) {
					t.Errorf("%q contains %q", msg, not)
				}
			}
		})
	}
}
