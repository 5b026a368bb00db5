package calendar

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
