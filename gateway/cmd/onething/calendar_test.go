package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"onething/gateway/calendar"
)

const fixtures = "../../calendar/testdata"

// calendarWithout writes the built-in data without one year to a file.
func calendarWithout(t *testing.T, year string) string {
	t.Helper()
	var f map[string]any
	if err := json.Unmarshal(calendar.Embedded(), &f); err != nil {
		t.Fatal(err)
	}
	delete(f["years"].(map[string]any), year)
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "holidays.json")
	if err := os.WriteFile(path, data, 0o640); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCalendarImportNotice(t *testing.T) {
	cal := calendarWithout(t, "2027")
	r := onething(t, nil, "calendar", "check", "--calendar", cal)
	if r.code != 0 || !strings.Contains(r.stdout, "2027  暂定 / provisional") {
		t.Fatalf("check before the import: want 2027 provisional\n%s", r)
	}
	r = onething(t, nil, "calendar", "import", filepath.Join(fixtures, "notice-2027.txt"), "--calendar", cal)
	if r.code != 0 || !strings.Contains(r.stdout, "imported 2027") || !strings.Contains(r.stdout, "calendarFile: "+cal) {
		t.Fatalf("import:\n%s", r)
	}
	c, err := calendar.Load(cal)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Covers(2027) || c.Source(2027) != "国务院办公厅关于2027年部分节假日安排的通知" {
		t.Errorf("after the import: covers 2027 %v, source %q", c.Covers(2027), c.Source(2027))
	}
	if fi, err := os.Stat(cal); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("the file's mode changed: %v, %v", fi.Mode(), err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(cal), ".*tmp")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	r = onething(t, nil, "calendar", "check", "--calendar", cal)
	for _, want := range []string{"2027  国务院办公厅关于2027年部分节假日安排的通知", "2028  暂定 / provisional"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("check after the import lacks %q:\n%s", want, r)
		}
	}
	// The same notice again changes nothing.
	r = onething(t, nil, "calendar", "import", filepath.Join(fixtures, "notice-2027.txt"), "--calendar", cal)
	if r.code != 0 || !strings.Contains(r.stdout, "nothing changed") {
		t.Errorf("second import:\n%s", r)
	}
}

func TestCalendarImportHolidayCN(t *testing.T) {
	cal := calendarWithout(t, "2027")
	out := filepath.Join(t.TempDir(), "new.json")
	before, err := os.ReadFile(cal)
	if err != nil {
		t.Fatal(err)
	}
	r := onething(t, nil, "calendar", "import", filepath.Join(fixtures, "holiday-cn-2027.json"), "--calendar", cal, "--out", out)
	if r.code != 0 {
		t.Fatalf("import:\n%s", r)
	}
	if after, _ := os.ReadFile(cal); string(after) != string(before) {
		t.Error("--out given, but the --calendar file changed")
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(calendar.Embedded()) {
		t.Errorf("imported file differs from the built-in data:\n%s", got)
	}
}

func TestCalendarImportRefuses(t *testing.T) {
	cal := calendarWithout(t, "2027")
	before, _ := os.ReadFile(cal)
	text, err := os.ReadFile(filepath.Join(fixtures, "notice-2027.txt"))
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(text), "6月9日（周三）放假", "6月10日（周四）放假", 1)
	notice := filepath.Join(t.TempDir(), "notice.txt")
	if err := os.WriteFile(notice, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	r := onething(t, nil, "calendar", "import", notice, "--calendar", cal)
	if r.code != 1 {
		t.Fatalf("a notice without 端午节's day: want exit 1\n%s", r)
	}
	for _, want := range []string{"2027-06-09", "端午节", "Dragon Boat Festival", "未写入", "nothing written"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r)
		}
	}
	if after, _ := os.ReadFile(cal); string(after) != string(before) {
		t.Error("a failed import changed the file")
	}

	// A different 2027 over the built-in one needs --replace.
	r = onething(t, nil, "calendar", "import", filepath.Join(fixtures, "notice-2026.txt"), "--out", filepath.Join(t.TempDir(), "x.json"))
	if r.code != 0 {
		t.Errorf("2026 again into the built-in data: want exit 0 (no change)\n%s", r)
	}

	usage := [][]string{
		{"calendar", "import", filepath.Join(fixtures, "notice-2027.txt")}, // no --out nor --calendar
		{"calendar", "import", filepath.Join(fixtures, "notice-2027.txt"), "--calendar", cal, "--format", "xml"},
		{"calendar", "import", "--calendar", cal},
		{"calendar", "check", "extra"},
		{"calendar"},
	}
	for _, args := range usage {
		if r := onething(t, nil, args...); r.code != 2 {
			t.Errorf("onething %q: want exit 2\n%s", args, r)
		}
	}
}

func TestCalendarCheckInvalid(t *testing.T) {
	path := filepath.Join(t.TempDir(), "holidays.json")
	if err := os.WriteFile(path, []byte(`{"years":{"2027":{"off":[{"from":"2027-02-05","to":"2027-02-30"}]}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	r := onething(t, nil, "calendar", "check", "--calendar", path)
	if r.code != 1 || !strings.Contains(r.stderr, "2027-02-30") {
		t.Errorf("invalid file: want exit 1 naming the date\n%s", r)
	}
	// Valid JSON, but 2027 lacks festivals: the checks fail.
	if err := os.WriteFile(path, []byte(`{"years":{"2027":{"source":"x","off":[{"from":"2027-02-05","to":"2027-02-13","name":"春节"}],"work":[]}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	r = onething(t, nil, "calendar", "check", "--calendar", path)
	if r.code != 1 || !strings.Contains(r.stdout, "缺少端午节") || !strings.Contains(r.stdout, "2028  暂定") {
		t.Errorf("incomplete year: want exit 1 naming the festival\n%s", r)
	}
	if r := onething(t, nil, "calendar", "check"); r.code != 0 || !strings.Contains(r.stdout, "内置数据") {
		t.Errorf("built-in data:\n%s", r)
	}
}

// TestCalendarImportTesterCases: the notice as copied from the page is
// imported; a festival listed twice is refused (exit 1, nothing written);
// every failure is 中文 / English.
func TestCalendarImportTesterCases(t *testing.T) {
	cal := calendarWithout(t, "2027")
	before, _ := os.ReadFile(cal)
	out := filepath.Join(t.TempDir(), "out.json")
	r := onething(t, nil, "calendar", "import", filepath.Join(fixtures, "notice-2027-verbatim.txt"), "--calendar", cal, "--out", out)
	if r.code != 0 || !strings.Contains(r.stdout, "放假 29 天") || !strings.Contains(r.stdout, "29 days off") {
		t.Fatalf("verbatim notice:\n%s", r)
	}

	text, err := os.ReadFile(filepath.Join(fixtures, "notice-2027.txt"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	twice := write("twice.txt", strings.Replace(string(text), "六、中秋节", "五、端午节：6月12日（周六）至13日（周日）放假，共2天。\n六、中秋节", 1))
	badDate := write("bad-date.txt", strings.Replace(string(text), "6月9日（周三）", "2月30日（周三）", 1))
	cut := write("cut.json", `{"year": 2027, "days": [`)
	extra := write("extra.json", `{"year": 2027, "extra": 1, "days": []}`)
	badCal := write("bad-cal.json", `{"years":{"2027":{"off":[{"from":"2027-02-05","to":"2027-02-30"}]}}}`)
	notice := filepath.Join(fixtures, "notice-2027.txt")

	for _, tt := range []struct {
		name string
		args []string
		want []string
	}{
		{"festival twice", []string{"import", twice, "--calendar", cal}, []string{"第 11 行和第 12 行都列出了端午节", "lines 11 and 12 both list 端午节"}},
		{"impossible date", []string{"import", badDate, "--calendar", cal}, []string{"2027-02-30", "第 11 行"}},
		{"holiday-cn cut short", []string{"import", cut, "--calendar", cal}, []string{"不完整", "unexpected EOF"}},
		{"holiday-cn unknown field", []string{"import", extra, "--calendar", cal}, []string{"未知字段", `"extra"`}},
		{"missing input", []string{"import", filepath.Join(dir, "nonexist.txt"), "--calendar", cal}, []string{"无法读取", "文件或目录不存在", "nonexist.txt"}},
		{"bad file to merge into", []string{"import", notice, "--calendar", badCal, "--out", out}, []string{"要并入的日历文件", "2027-02-30"}},
		{"missing calendar", []string{"check", "--calendar", filepath.Join(dir, "none.json")}, []string{"无法读取", "none.json"}},
		{"invalid calendar", []string{"check", "--calendar", badCal}, []string{"日历文件无效", "2027-02-30"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := onething(t, nil, append([]string{"calendar"}, tt.args...)...)
			if r.code != 1 {
				t.Fatalf("want exit 1\n%s", r)
			}
			msg := strings.TrimSpace(strings.TrimPrefix(r.stderr, "onething: "))
			zh, en, ok := strings.Cut(msg, " / ")
			if !ok || !strings.ContainsFunc(zh, func(r rune) bool { return r >= 0x4e00 && r <= 0x9fff }) || strings.Contains(zh, "no such file") ||
				strings.Contains(zh, "unexpected EOF") || strings.Contains(zh, "civil:") || strings.Contains(zh, "json:") || en == "" {
				t.Errorf("not 中文 / English:\n%s", r)
			}
			for _, want := range tt.want {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r)
				}
			}
		})
	}
	if after, _ := os.ReadFile(cal); string(after) != string(before) {
		t.Error("a failed import changed the file")
	}
}
