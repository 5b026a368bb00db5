// Package vulnreport reads what govulncheck writes with -format json (the
// stream of protocol v1.0.0 that govulncheck v1.9.0 writes: config,
// progress, SBOM, osv and finding messages) and sums it up per
// vulnerability: how far the code reaches it (its module required, its
// package imported, or its symbol called), the module, the version found
// and the version that fixes it, and one example call trace.
//
// Only a scan at symbol level (govulncheck's default for source) tells a
// called vulnerability from one merely imported; Read refuses any other.
package vulnreport

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Level is how far the code reaches a vulnerability.
type Level int

// The levels, each implying the ones before it.
const (
	Required Level = iota + 1 // the module is in the build, its package not imported
	Imported                  // the package is imported, no vulnerable symbol called
	Called                    // a vulnerable symbol is called: reachable
)

func (l Level) String() string {
	switch l {
	case Required:
		return "required, not imported"
	case Imported:
		return "imported, not called"
	case Called:
		return "called"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// Config is the scan's configuration, the stream's first message.
type Config struct {
	ProtocolVersion string `json:"protocol_version"`
	ScannerName     string `json:"scanner_name"`
	ScannerVersion  string `json:"scanner_version"`
	DB              string `json:"db"`
	GoVersion       string `json:"go_version"`
	ScanLevel       string `json:"scan_level"`
	ScanMode        string `json:"scan_mode"`
}

// Position is a place in a source file, relative to its module.
type Position struct {
	Filename string `json:"filename"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
}

// Frame is one function of a call trace.
type Frame struct {
	Module   string    `json:"module"`
	Version  string    `json:"version"`
	Package  string    `json:"package"`
	Function string    `json:"function"`
	Receiver string    `json:"receiver"`
	Position *Position `json:"position"`
}

// Symbol is the frame's function as Go writes it:
// net/http.(*fileHandler).ServeHTTP, onething/gateway/seal.New.
func (f Frame) Symbol() string {
	switch {
	case f.Receiver == "":
		return f.Package + "." + f.Function
	case strings.HasPrefix(f.Receiver, "*"):
		return f.Package + ".(" + f.Receiver + ")." + f.Function
	}
	return f.Package + "." + f.Receiver + "." + f.Function
}

// String is the symbol and, when known, where in its module the trace
// passes (file:line).
func (f Frame) String() string {
	if f.Position == nil || f.Position.Line <= 0 {
		return f.Symbol()
	}
	return fmt.Sprintf("%s (%s:%d)", f.Symbol(), f.Position.Filename, f.Position.Line)
}

type finding struct {
	OSV          string   `json:"osv"`
	FixedVersion string   `json:"fixed_version"`
	Trace        []*Frame `json:"trace"`
}

type osvEntry struct {
	ID               string   `json:"id"`
	Summary          string   `json:"summary"`
	Aliases          []string `json:"aliases"`
	DatabaseSpecific struct {
		URL string `json:"url"`
	} `json:"database_specific"`
}

// message is one value of the stream: exactly one field is set. Others
// (progress, SBOM, and any a later protocol adds) are skipped.
type message struct {
	Config  *Config   `json:"config"`
	OSV     *osvEntry `json:"osv"`
	Finding *finding  `json:"finding"`
}

// Vuln is one vulnerability in one module, with the deepest level any of
// its findings reached.
type Vuln struct {
	ID      string // GO-YYYY-NNNN
	Summary string // the database entry's one-line title
	Aliases []string
	URL     string
	Level   Level
	// Module is the vulnerable module ("stdlib" for the standard library),
	// Found its version in the build, Fixed the first version without the
	// vulnerability ("" if none). Standard library versions are written as
	// Go writes them (go1.26.8).
	Module, Found, Fixed string
	// Trace is, when Called, the shortest call trace reported: from the
	// entry point in the scanned code to the vulnerable symbol.
	Trace []Frame
	// Traces counts the call traces reported (each a different vulnerable
	// symbol or way to it).
	Traces int
}

// Report is a scan summed up.
type Report struct {
	Config Config
	// Known counts the vulnerability database entries that concern the
	// modules in the build, at any version.
	Known int
	// Vulns are the vulnerabilities that affect the versions in the build,
	// the most reachable first, then by id and module.
	Vulns []Vuln
}

// Count is the number of vulnerabilities at exactly level l.
func (r *Report) Count(l Level) int {
	n := 0
	for _, v := range r.Vulns {
		if v.Level == l {
			n++
		}
	}
	return n
}

// ErrNotSymbolLevel is returned for a scan that cannot tell a called
// vulnerability from an imported one.
var ErrNotSymbolLevel = errors.New("the scan is not at symbol level: it cannot tell what is called (run govulncheck with its default -scan symbol)")

// Read reads a govulncheck JSON stream to its end.
func Read(r io.Reader) (*Report, error) {
	dec := json.NewDecoder(r)
	var (
		rep     Report
		sawConf bool
		osvs    = map[string]*osvEntry{}
		vulns   = map[[2]string]*Vuln{}
	)
	for n := 1; ; n++ {
		var m message
		err := dec.Decode(&m)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("govulncheck output, message %d: %w", n, err)
		}
		switch {
		case m.Config != nil:
			if sawConf {
				return nil, fmt.Errorf("govulncheck output, message %d: a second config", n)
			}
			sawConf, rep.Config = true, *m.Config
			if v := rep.Config.ProtocolVersion; v != "v1" && !strings.HasPrefix(v, "v1.") {
				return nil, fmt.Errorf("govulncheck output: protocol version %q, want v1.x", v)
			}
			if rep.Config.ScanLevel != "symbol" {
				return nil, fmt.Errorf("govulncheck output: scan level %q: %w", rep.Config.ScanLevel, ErrNotSymbolLevel)
			}
		case !sawConf:
			return nil, fmt.Errorf("govulncheck output, message %d: before the config (is this govulncheck -format json?)", n)
		case m.OSV != nil:
			if m.OSV.ID == "" {
				return nil, fmt.Errorf("govulncheck output, message %d: an osv entry without id", n)
			}
			if osvs[m.OSV.ID] == nil {
				osvs[m.OSV.ID] = m.OSV
			}
		case m.Finding != nil:
			f := m.Finding
			if f.OSV == "" || len(f.Trace) == 0 || f.Trace[0] == nil || f.Trace[0].Module == "" {
				return nil, fmt.Errorf("govulncheck output, message %d: a finding without osv id or trace", n)
			}
			top := f.Trace[0]
			key := [2]string{f.OSV, top.Module}
			v := vulns[key]
			if v == nil {
				v = &Vuln{ID: f.OSV, Module: top.Module, Found: goVersion(top.Module, top.Version), Fixed: goVersion(top.Module, f.FixedVersion)}
				vulns[key] = v
			}
			level := Required
			switch {
			case top.Function != "":
				level = Called
				v.Traces++
				if v.Trace == nil || len(f.Trace) < len(v.Trace) {
					v.Trace = entryFirst(f.Trace)
				}
			case top.Package != "":
				level = Imported
			}
			v.Level = max(v.Level, level)
		}
	}
	if !sawConf {
		return nil, errors.New("govulncheck output: empty, no config message")
	}
	rep.Known = len(osvs)
	for _, v := range vulns {
		if e := osvs[v.ID]; e != nil {
			v.Summary, v.Aliases, v.URL = e.Summary, e.Aliases, e.DatabaseSpecific.URL
		}
		rep.Vulns = append(rep.Vulns, *v)
	}
	sort.Slice(rep.Vulns, func(i, j int) bool {
		a, b := rep.Vulns[i], rep.Vulns[j]
		if a.Level != b.Level {
			return a.Level > b.Level
		}
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		return a.Module < b.Module
	})
	return &rep, nil
}

// entryFirst turns a trace (vulnerable symbol first) into one that starts
// at the entry point.
func entryFirst(trace []*Frame) []Frame {
	out := make([]Frame, 0, len(trace))
	for i := len(trace) - 1; i >= 0; i-- {
		if trace[i] != nil {
			out = append(out, *trace[i])
		}
	}
	return out
}

// goVersion writes a standard library version (v1.26.8) as Go does
// (go1.26.8); module versions stay as they are.
func goVersion(module, v string) string {
	if module == "stdlib" && strings.HasPrefix(v, "v") {
		return "go" + v[1:]
	}
	return v
}
