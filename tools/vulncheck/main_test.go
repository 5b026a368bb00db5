package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// allowFile writes an allow file of the given content.
func allowFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), ".vulncheck-allow")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func runCheck(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func contains(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, s)
		}
	}
}

// The recorded reports (testdata, see vulnreport's tests): on go1.26.8
// two vulnerabilities are called, on go1.27.3 none.
const (
	before = "testdata/go1.26.8.json"
	after  = "testdata/go1.27.3.json"
)

func TestNothingCalled(t *testing.T) {
	code, out, errOut := runCheck(t, "", "-allow", allowFile(t, "# nothing accepted\n"), after)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	contains(t, "output", out,
		"govulncheck v1.9.0 on go1.27.3",
		"0 called, 0 imported but not called, 3 required but not imported",
		"GO-2026-6860  golang.org/x/net v0.60.0, fixed in v0.62.0  Avoid quadratic",
		"vulncheck: ok: no vulnerability is called")
}

func TestCalledAndNotAllowedFails(t *testing.T) {
	allow := allowFile(t, "")
	code, out, _ := runCheck(t, "", "-allow", allow, before)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	contains(t, "output", out,
		"GO-2026-6609  Lack of limit on size of parsed Range headers in net/http",
		"    module:  stdlib go1.26.8, fixed in go1.26.9",
		"    trace:   onething/gateway/console.(*Console).ServeHTTP (gateway/console/console.go:148)",
		"             net/http.(*fileHandler).ServeHTTP (src/net/http/fs.go:988)",
		"GO-2026-4694  SM9 Infinity-Point",
		"    module:  github.com/emmansun/gmsm v0.15.5, fixed in v0.41.1",
		"(the shortest of 3 call traces)",
		"NOT ALLOWED: called, and not in "+allow,
		"imported, not called (not reachable; listed, not failing):\n  GO-2026-6604",
		"required, not imported (not reachable; listed, not failing):\n  GO-2026-6860",
		"FAIL: 2 called vulnerabilities not accepted in "+allow+": GO-2026-4694, GO-2026-6609")

	// One accepted, the other still fails.
	code, out, _ = runCheck(t, "", "-allow", allowFile(t, "GO-2026-6609  the console is not exposed\n"), before)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	contains(t, "output", out, "allowed: the console is not exposed", "FAIL: 1 called vulnerability not accepted in ")
	if strings.Contains(out, "not accepted in "+allow+": GO-2026-4694, GO-2026-6609") {
		t.Error("the accepted one is still refused")
	}
}

func TestCalledAndAllowedPasses(t *testing.T) {
	allow := allowFile(t, "# accepted\nGO-2026-6609  the console is not exposed\nGO-2026-4694 SM9 is not used\n")
	code, out, _ := runCheck(t, "", "-allow", allow, before)
	if code != 0 {
		t.Fatalf("exit %d, want 0:\n%s", code, out)
	}
	contains(t, "output", out,
		"allowed: the console is not exposed ("+allow+":2)",
		"allowed: SM9 is not used ("+allow+":3)",
		"vulncheck: ok: 2 called, each accepted in "+allow)
	if strings.Contains(out, "stale") {
		t.Errorf("a stale warning:\n%s", out)
	}
}

func TestStaleEntriesWarn(t *testing.T) {
	allow := allowFile(t, "GO-2026-6609  the console is not exposed\nGO-2026-6860  imported by nothing\n")
	code, out, _ := runCheck(t, "", "-allow", allow, after)
	if code != 0 {
		t.Fatalf("exit %d, want 0: a stale entry warns", code)
	}
	contains(t, "output", out,
		"warning: "+allow+":1: GO-2026-6609 is stale: nothing calls it any more; remove the entry",
		"warning: "+allow+":2: GO-2026-6860 is stale")
}

func TestStandardInput(t *testing.T) {
	report, err := os.ReadFile(after)
	if err != nil {
		t.Fatal(err)
	}
	allow := allowFile(t, "")
	for _, args := range [][]string{{"-allow", allow}, {"-allow", allow, "-"}} {
		if code, out, _ := runCheck(t, string(report), args...); code != 0 || !strings.Contains(out, "ok: no vulnerability is called") {
			t.Errorf("%v: exit %d\n%s", args, code, out)
		}
	}
}

func TestBadInputFails(t *testing.T) {
	good := allowFile(t, "")
	for name, c := range map[string]struct {
		args  []string
		stdin string
		code  int
		want  string
	}{
		"entry without reason": {[]string{"-allow", allowFile(t, "GO-2026-6609\n"), after}, "", 1, "GO-2026-6609 has no reason"},
		"no allow file":        {[]string{"-allow", filepath.Join(t.TempDir(), "none"), after}, "", 1, "the allow file"},
		"no report":            {[]string{"-allow", good, filepath.Join(t.TempDir(), "none.json")}, "", 1, "none.json"},
		"empty report":         {[]string{"-allow", good}, "", 1, "empty, no config"},
		"text report":          {[]string{"-allow", good}, "No vulnerabilities found.\n", 1, "standard input"},
		"package level": {[]string{"-allow", good}, `{"config":{"protocol_version":"v1.0.0","scan_level":"package"}}`, 1,
			"not at symbol level"},
		"two reports":  {[]string{"-allow", good, after, after}, "", 2, "usage"},
		"unknown flag": {[]string{"-allowed", good, after}, "", 2, "flag provided but not defined"},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, errOut := runCheck(t, c.stdin, c.args...)
			if code != c.code || !strings.Contains(errOut, c.want) {
				t.Errorf("exit %d (want %d), stderr:\n%s\nwant %q", code, c.code, errOut, c.want)
			}
		})
	}
	if code, _, errOut := runCheck(t, "", "-h"); code != 0 || !strings.Contains(errOut, "usage: vulncheck") {
		t.Errorf("-h: exit %d, %s", code, errOut)
	}
}

// A vulnerability of both the standard library and golang.org/x/net (the
// HTTP/2 ones), called in both: shown per module, refused once.
func TestOneIDInTwoModules(t *testing.T) {
	report := `{"config":{"protocol_version":"v1.0.0","scanner_name":"govulncheck","scanner_version":"v1.9.0","go_version":"go1.26.8","scan_level":"symbol","scan_mode":"source"}}
{"osv":{"id":"GO-2026-6617","summary":"HTTP/2 server crash due to HPACK encoder race in net/http"}}
{"finding":{"osv":"GO-2026-6617","fixed_version":"v1.26.9","trace":[{"module":"stdlib","version":"v1.26.8","package":"net/http","function":"ServeHTTP","receiver":"*ServeMux"},{"module":"onething","package":"onething/a","function":"A"}]}}
{"finding":{"osv":"GO-2026-6617","fixed_version":"v0.60.0","trace":[{"module":"golang.org/x/net","version":"v0.59.0","package":"golang.org/x/net/http2","function":"ServeConn","receiver":"*Server"},{"module":"onething","package":"onething/b","function":"B"}]}}
`
	allow := allowFile(t, "")
	code, out, _ := runCheck(t, report, "-allow", allow)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	contains(t, "output", out,
		"(per module): 2 called",
		"module:  stdlib go1.26.8, fixed in go1.26.9",
		"module:  golang.org/x/net v0.59.0, fixed in v0.60.0",
		"trace:   onething/b.B\n             golang.org/x/net/http2.(*Server).ServeConn\n",
		"FAIL: 1 called vulnerability not accepted in "+allow+": GO-2026-6617\n")
}
