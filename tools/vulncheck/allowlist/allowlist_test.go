package allowlist_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"onething/tools/vulncheck/allowlist"
)

func TestParse(t *testing.T) {
	l, err := allowlist.Parse("allow", strings.NewReader(`# accepted for now
   # an indented comment

GO-2026-6609  only behind the proxy, which strips Range
GO-2026-4694	SM9 is not used;   the fix needs go1.28
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []allowlist.Entry{
		{ID: "GO-2026-6609", Reason: "only behind the proxy, which strips Range", Line: 4},
		{ID: "GO-2026-4694", Reason: "SM9 is not used;   the fix needs go1.28", Line: 5},
	}
	if len(l.Entries) != len(want) {
		t.Fatalf("entries %+v", l.Entries)
	}
	for i := range want {
		if l.Entries[i] != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, l.Entries[i], want[i])
		}
	}
	if e, ok := l.Lookup("GO-2026-4694"); !ok || e.Line != 5 {
		t.Errorf("Lookup = %+v, %v", e, ok)
	}
	if _, ok := l.Lookup("GO-2026-0001"); ok {
		t.Error("Lookup finds an id not listed")
	}
	if l, err := allowlist.Parse("empty", strings.NewReader("# nothing accepted\n")); err != nil || len(l.Entries) != 0 {
		t.Errorf("a file of comments: %+v, %v", l, err)
	}
}

func TestParseRefuses(t *testing.T) {
	_, err := allowlist.Parse("allow", strings.NewReader(`GO-2026-6609
GO-2026-6610   
CVE-2026-78667  an alias, not the id
GO-2026-6611 reason
GO-2026-6611 again
go-2026-6612 lower case
GO-2026-66 short
`))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		"allow:1: GO-2026-6609 has no reason",
		"allow:2: GO-2026-6610 has no reason",
		`allow:3: "CVE-2026-78667" is not a vulnerability id`,
		"allow:5: GO-2026-6611 is listed already on line 4",
		`allow:6: "go-2026-6612" is not a vulnerability id`,
		`allow:7: "GO-2026-66" is not a vulnerability id`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "allow")
	if _, err := allowlist.Load(path); err == nil {
		t.Error("a missing allow file is not an error")
	}
	if err := os.WriteFile(path, []byte("GO-2026-6609 reason\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := allowlist.Load(path)
	if err != nil || l.Name != path || len(l.Entries) != 1 {
		t.Errorf("Load = %+v, %v", l, err)
	}
	if err := os.WriteFile(path, []byte("GO-2026-6609\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := allowlist.Load(path); err == nil || !strings.Contains(err.Error(), path+":1:") {
		t.Errorf("Load of an entry without reason = %v", err)
	}
}
