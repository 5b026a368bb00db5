package vulnreport_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"onething/tools/vulncheck/vulnreport"
)

// The recorded reports in ../testdata are govulncheck v1.9.0's -format
// json output on this repository, trimmed to a few vulnerabilities (and
// the database path made neutral): go1.26.8.json at 2491b6d^ (gmsm
// v0.15.5, x/net v0.59.0) with go1.26.8, go1.27.3.json at 2491b6d with
// go1.27.3, both against the database built from golang.org/x/vulndb
// v0.0.0-20261105234957-e22db6528018.

func read(t *testing.T, path string) *vulnreport.Report {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := vulnreport.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func symbols(trace []vulnreport.Frame) string {
	var s []string
	for _, f := range trace {
		s = append(s, f.Symbol())
	}
	return strings.Join(s, " > ")
}

func TestRecordedBeforeThePin(t *testing.T) {
	rep := read(t, "../testdata/go1.26.8.json")
	c := rep.Config
	if c.ScannerVersion != "v1.9.0" || c.GoVersion != "go1.26.8" || c.ScanLevel != "symbol" {
		t.Errorf("config %+v", c)
	}
	if rep.Known != 5 {
		t.Errorf("Known = %d, want the 5 osv entries", rep.Known)
	}
	type want struct {
		id, module, found, fixed string
		level                    vulnreport.Level
		trace                    string
		traces                   int
	}
	wants := []want{
		{"GO-2026-4694", "github.com/emmansun/gmsm", "v0.15.5", "v0.41.1", vulnreport.Called,
			"onething/gateway/seal.init > github.com/emmansun/gmsm/sm4.init", 3},
		{"GO-2026-6609", "stdlib", "go1.26.8", "go1.26.9", vulnreport.Called,
			"onething/gateway/console.(*Console).ServeHTTP > net/http.(*ServeMux).ServeHTTP > net/http.(*fileHandler).ServeHTTP", 1},
		{"GO-2026-6604", "stdlib", "go1.26.8", "go1.26.9", vulnreport.Imported, "", 0},
		{"GO-2026-6860", "golang.org/x/net", "v0.59.0", "v0.62.0", vulnreport.Required, "", 0},
	}
	if len(rep.Vulns) != len(wants) {
		t.Fatalf("%d vulns, want %d: %+v", len(rep.Vulns), len(wants), rep.Vulns)
	}
	for i, w := range wants {
		v := rep.Vulns[i]
		got := want{v.ID, v.Module, v.Found, v.Fixed, v.Level, symbols(v.Trace), v.Traces}
		if got != w {
			t.Errorf("vuln %d:\n got %+v\nwant %+v", i, got, w)
		}
	}
	if v := rep.Vulns[1]; v.Summary != "Lack of limit on size of parsed Range headers in net/http" ||
		v.URL != "https://pkg.go.dev/vuln/GO-2026-6609" || len(v.Aliases) != 1 {
		t.Errorf("GO-2026-6609's entry: %q %q %v", v.Summary, v.URL, v.Aliases)
	}
	if got := rep.Vulns[1].Trace[0].String(); got != "onething/gateway/console.(*Console).ServeHTTP (gateway/console/console.go:148)" {
		t.Errorf("entry frame %s", got)
	}
	if rep.Count(vulnreport.Called) != 2 || rep.Count(vulnreport.Imported) != 1 || rep.Count(vulnreport.Required) != 1 {
		t.Errorf("counts %d %d %d", rep.Count(vulnreport.Called), rep.Count(vulnreport.Imported), rep.Count(vulnreport.Required))
	}
}

func TestRecordedAfterThePin(t *testing.T) {
	rep := read(t, "../testdata/go1.27.3.json")
	if rep.Config.GoVersion != "go1.27.3" || rep.Count(vulnreport.Called) != 0 || rep.Count(vulnreport.Imported) != 0 {
		t.Errorf("go %s, called %d, imported %d", rep.Config.GoVersion, rep.Count(vulnreport.Called), rep.Count(vulnreport.Imported))
	}
	var ids []string
	for _, v := range rep.Vulns {
		ids = append(ids, v.ID+" "+v.Level.String())
	}
	if got := strings.Join(ids, ", "); got != "GO-2026-5932 required, not imported, GO-2026-6860 required, not imported, GO-2026-6866 required, not imported" {
		t.Errorf("vulns: %s", got)
	}
}

const config = `{"config":{"protocol_version":"v1.0.0","scanner_name":"govulncheck","scanner_version":"v1.9.0","db":"file:///db","go_version":"go1.26.8","scan_level":"symbol","scan_mode":"source"}}`

// Small streams written by hand in the same schema: the deepest level
// wins whatever the order, the shortest trace is kept, one id in two
// modules is two vulnerabilities, and messages Read does not use are
// skipped.
func TestFragments(t *testing.T) {
	stream := config + `
{"progress":{"message":"Scanning your code and 3 packages across 1 dependent module for known vulnerabilities..."}}
{"SBOM":{"go_version":"go1.26.8","modules":[{"path":"onething"}],"roots":["onething/x"]}}
{"osv":{"schema_version":"1.3.1","id":"GO-2026-6603","summary":"HTTP/2 server memory exhaustion due to Trailer headers in net/http","affected":[{"package":{"name":"stdlib","ecosystem":"Go"}}]}}
{"osv":{"schema_version":"1.3.1","id":"GO-2026-6603","summary":"HTTP/2 server memory exhaustion due to Trailer headers in net/http","affected":[{"package":{"name":"golang.org/x/net","ecosystem":"Go"}}]}}
{"finding":{"osv":"GO-2026-6603","fixed_version":"v1.26.9","trace":[
  {"module":"stdlib","version":"v1.26.8","package":"net/http","function":"processTrailerHeaders","receiver":"*http2serverConn"},
  {"module":"stdlib","version":"v1.26.8","package":"net/http","function":"serve","receiver":"*http2serverConn"},
  {"module":"stdlib","version":"v1.26.8","package":"net/http","function":"ListenAndServe","receiver":"*Server"},
  {"module":"onething","package":"onething/x","function":"main","position":{"filename":"x/main.go","offset":10,"line":7,"column":2}}]}}
{"finding":{"osv":"GO-2026-6603","fixed_version":"v1.26.9","trace":[
  {"module":"stdlib","version":"v1.26.8","package":"net/http","function":"processTrailerHeaders","receiver":"*http2serverConn"},
  {"module":"onething","package":"onething/x","function":"serve","receiver":"T"}]}}
{"finding":{"osv":"GO-2026-6603","fixed_version":"v1.26.9","trace":[{"module":"stdlib","version":"v1.26.8","package":"net/http"}]}}
{"finding":{"osv":"GO-2026-6603","fixed_version":"v1.26.9","trace":[{"module":"stdlib","version":"v1.26.8"}]}}
{"finding":{"osv":"GO-2026-6603","fixed_version":"v0.60.0","trace":[{"module":"golang.org/x/net","version":"v0.59.0"}]}}
{"finding":{"osv":"GO-2026-0001","trace":[{"module":"example.org/m","version":"v1.0.0","package":"example.org/m/p"}]}}
{"future":{"anything":1}}
`
	rep, err := vulnreport.Read(strings.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Known != 1 || len(rep.Vulns) != 3 {
		t.Fatalf("known %d, vulns %+v", rep.Known, rep.Vulns)
	}
	v := rep.Vulns[0]
	if v.ID != "GO-2026-6603" || v.Module != "stdlib" || v.Level != vulnreport.Called || v.Traces != 2 || v.Found != "go1.26.8" || v.Fixed != "go1.26.9" {
		t.Errorf("stdlib: %+v", v)
	}
	if got := symbols(v.Trace); got != "onething/x.T.serve > net/http.(*http2serverConn).processTrailerHeaders" {
		t.Errorf("the shortest trace, entry first: %s", got)
	}
	if v := rep.Vulns[1]; v.ID != "GO-2026-0001" || v.Level != vulnreport.Imported || v.Summary != "" || v.Fixed != "" {
		t.Errorf("no osv entry, no fix: %+v", v)
	}
	if v := rep.Vulns[2]; v.ID != "GO-2026-6603" || v.Module != "golang.org/x/net" || v.Level != vulnreport.Required || v.Found != "v0.59.0" {
		t.Errorf("x/net: %+v", v)
	}
}

func TestRefuses(t *testing.T) {
	finding := `{"finding":{"osv":"GO-2026-6609","trace":[{"module":"stdlib","version":"v1.26.8","package":"net/http","function":"parseRange"}]}}`
	for name, c := range map[string]struct {
		stream, want string
	}{
		"empty":             {"", "empty, no config"},
		"finding first":     {finding + config, "before the config"},
		"not json":          {"govulncheck: loading packages: exit status 1", "message 1"},
		"cut short":         {config + `{"finding":{"osv":"GO-2026-6609","trace":[{"module":"std`, "message 2"},
		"package level":     {strings.Replace(config, `"symbol"`, `"package"`, 1) + finding, "not at symbol level"},
		"protocol v2":       {strings.Replace(config, `"v1.0.0"`, `"v2.0.0"`, 1) + finding, "protocol version"},
		"two configs":       {config + config, "a second config"},
		"no trace":          {config + `{"finding":{"osv":"GO-2026-6609"}}`, "without osv id or trace"},
		"no id":             {config + `{"finding":{"trace":[{"module":"stdlib"}]}}`, "without osv id or trace"},
		"osv without id":    {config + `{"osv":{"summary":"x"}}`, "without id"},
		"frame sans module": {config + `{"finding":{"osv":"GO-2026-6609","trace":[{"package":"net/http"}]}}`, "without osv id or trace"},
	} {
		t.Run(name, func(t *testing.T) {
			rep, err := vulnreport.Read(strings.NewReader(c.stream))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Read = %+v, %v; want an error with %q", rep, err, c.want)
			}
			if name == "package level" && !errors.Is(err, vulnreport.ErrNotSymbolLevel) {
				t.Errorf("%v is not ErrNotSymbolLevel", err)
			}
		})
	}
}

func TestFrameSymbol(t *testing.T) {
	for _, c := range []struct {
		f    vulnreport.Frame
		want string
	}{
		{vulnreport.Frame{Package: "net/http", Function: "ServeContent"}, "net/http.ServeContent"},
		{vulnreport.Frame{Package: "net/http", Function: "Del", Receiver: "Header"}, "net/http.Header.Del"},
		{vulnreport.Frame{Package: "net/http", Function: "ServeHTTP", Receiver: "*fileHandler"}, "net/http.(*fileHandler).ServeHTTP"},
	} {
		if got := c.f.Symbol(); got != c.want {
			t.Errorf("Symbol = %s, want %s", got, c.want)
		}
	}
}
