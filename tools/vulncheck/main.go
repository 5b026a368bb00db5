// Command vulncheck is the filter of `make vulncheck`
// (docs/VULNERABILITIES.md): it reads what govulncheck wrote with
// -format json, prints a summary, and fails on any vulnerability the code
// calls that the allow file does not accept with a reason.
//
//	go run ./tools/vulncheck [-allow FILE] [REPORT.json]
//
// REPORT.json is govulncheck's output (standard input when absent or -).
// Vulnerabilities in modules required but not imported, or in packages
// imported but not called, are listed and do not fail the check. Allow
// file entries that name nothing called any more are reported as stale.
//
// Exit status: 0 when nothing is called that is not allowed; 1 when
// something is, or when the report or the allow file is missing or
// malformed; 2 on a usage error.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"onething/tools/vulncheck/allowlist"
	"onething/tools/vulncheck/vulnreport"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("vulncheck", flag.ContinueOnError)
	fl.SetOutput(stderr)
	allowPath := fl.String("allow", ".vulncheck-allow", "the allow file: `FILE` of lines GO-YYYY-NNNN reason")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: vulncheck [-allow FILE] [REPORT.json]\n\nReads govulncheck -format json output (standard input when absent or -)\nand fails on a called vulnerability not accepted in the allow file.")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fl.NArg() > 1 {
		fl.Usage()
		return 2
	}
	in, name := stdin, "standard input"
	if p := fl.Arg(0); p != "" && p != "-" {
		f, err := os.Open(p)
		if err != nil {
			fmt.Fprintln(stderr, "vulncheck:", err)
			return 1
		}
		defer f.Close()
		in, name = f, p
	}
	allow, err := allowlist.Load(*allowPath)
	if err != nil {
		fmt.Fprintf(stderr, "vulncheck: the allow file: %v\n", err)
		return 1
	}
	rep, err := vulnreport.Read(in)
	if err != nil {
		fmt.Fprintf(stderr, "vulncheck: %s: %v\n", name, err)
		return 1
	}
	if check(rep, allow, stdout) {
		return 0
	}
	return 1
}

// check prints the summary and reports whether the check passes.
func check(rep *vulnreport.Report, allow *allowlist.List, w io.Writer) bool {
	c := rep.Config
	fmt.Fprintf(w, "vulncheck: %s %s on %s, database %s\n", c.ScannerName, c.ScannerVersion, c.GoVersion, c.DB)
	fmt.Fprintf(w, "vulncheck: %d database entries concern the modules in the build; of those affecting the versions in it (per module): %d called, %d imported but not called, %d required but not imported\n",
		rep.Known, rep.Count(vulnreport.Called), rep.Count(vulnreport.Imported), rep.Count(vulnreport.Required))

	var refused []string
	called := map[string]bool{}
	for _, v := range rep.Vulns {
		if v.Level != vulnreport.Called {
			continue
		}
		called[v.ID] = true
		fmt.Fprintf(w, "\n%s  %s\n", v.ID, v.Summary)
		fmt.Fprintf(w, "    module:  %s\n", versions(v))
		if len(v.Aliases) > 0 {
			fmt.Fprintf(w, "    aliases: %s\n", strings.Join(v.Aliases, ", "))
		}
		if v.URL != "" {
			fmt.Fprintf(w, "    details: %s\n", v.URL)
		}
		for i, f := range v.Trace {
			label := "    trace:   "
			if i > 0 {
				label = "             "
			}
			fmt.Fprintf(w, "%s%s\n", label, f)
		}
		if v.Traces > 1 {
			fmt.Fprintf(w, "             (the shortest of %d call traces)\n", v.Traces)
		}
		if e, ok := allow.Lookup(v.ID); ok {
			fmt.Fprintf(w, "    allowed: %s (%s:%d)\n", e.Reason, allow.Name, e.Line)
		} else {
			fmt.Fprintf(w, "    NOT ALLOWED: called, and not in %s\n", allow.Name)
			if len(refused) == 0 || refused[len(refused)-1] != v.ID { // one id in two modules (stdlib, x/net) comes in a row
				refused = append(refused, v.ID)
			}
		}
	}
	for _, l := range []vulnreport.Level{vulnreport.Imported, vulnreport.Required} {
		if rep.Count(l) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s (not reachable; listed, not failing):\n", l)
		for _, v := range rep.Vulns {
			if v.Level == l {
				fmt.Fprintf(w, "  %s  %s  %s\n", v.ID, versions(v), v.Summary)
			}
		}
	}

	fmt.Fprintln(w)
	for _, e := range allow.Entries {
		if !called[e.ID] {
			fmt.Fprintf(w, "vulncheck: warning: %s:%d: %s is stale: nothing calls it any more; remove the entry\n", allow.Name, e.Line, e.ID)
		}
	}
	if len(refused) > 0 {
		fmt.Fprintf(w, "vulncheck: FAIL: %d called vulnerabilit%s not accepted in %s: %s\n", len(refused), plural(len(refused), "y", "ies"), allow.Name, strings.Join(refused, ", "))
		fmt.Fprintln(w, "vulncheck: upgrade the module or the toolchain to the fixed version, remove the call, or accept it with a reason (docs/VULNERABILITIES.md)")
		return false
	}
	if len(called) == 0 {
		fmt.Fprintln(w, "vulncheck: ok: no vulnerability is called")
	} else {
		fmt.Fprintf(w, "vulncheck: ok: %d called, each accepted in %s\n", len(called), allow.Name)
	}
	return true
}

func versions(v vulnreport.Vuln) string {
	fixed := "no fixed version"
	if v.Fixed != "" {
		fixed = "fixed in " + v.Fixed
	}
	found := v.Found
	if found == "" {
		found = "(version unknown)"
	}
	return fmt.Sprintf("%s %s, %s", v.Module, found, fixed)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
