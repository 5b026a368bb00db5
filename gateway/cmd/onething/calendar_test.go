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
