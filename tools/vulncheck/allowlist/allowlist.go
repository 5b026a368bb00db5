// Package allowlist reads the allow file of the vulnerability check: the
// reachable vulnerabilities accepted for now, each with the reason, one a
// line:
//
//	# a comment; blank lines are ignored
//	GO-2026-6609  served only behind a proxy that strips Range; see docs/VULNERABILITIES.md
//
// An id is a Go vulnerability database id (GO-YYYY-NNNN), as govulncheck
// reports it; the reason is the rest of the line and may not be empty.
package allowlist

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"unicode"
)

// Entry is one accepted vulnerability.
type Entry struct {
	ID     string
	Reason string
	Line   int // in the file, from 1
}

// List is an allow file read.
type List struct {
	Name    string // the file's name, for messages
	Entries []Entry
}

var idPattern = regexp.MustCompile(`^GO-[0-9]{4}-[0-9]{4,}$`)

// Parse reads an allow file; name is used in messages. Every malformed
// line is reported, each as name:line: problem.
func Parse(name string, r io.Reader) (*List, error) {
	l := &List{Name: name}
	var errs []error
	seen := map[string]int{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, reason := line, ""
		if i := strings.IndexFunc(line, unicode.IsSpace); i >= 0 {
			id, reason = line[:i], strings.TrimSpace(line[i:])
		}
		switch {
		case !idPattern.MatchString(id):
			errs = append(errs, fmt.Errorf("%s:%d: %q is not a vulnerability id like GO-2026-6609", name, n, id))
		case reason == "":
			errs = append(errs, fmt.Errorf("%s:%d: %s has no reason: say why it is accepted (why it is not reachable, or what else protects it)", name, n, id))
		case seen[id] != 0:
			errs = append(errs, fmt.Errorf("%s:%d: %s is listed already on line %d", name, n, id, seen[id]))
		default:
			seen[id] = n
			l.Entries = append(l.Entries, Entry{ID: id, Reason: reason, Line: n})
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", name, err))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return l, nil
}

// Load reads the allow file at path.
func Load(path string) (*List, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(path, f)
}

// Lookup returns the entry of id.
func (l *List) Lookup(id string) (Entry, bool) {
	for _, e := range l.Entries {
		if e.ID == id {
			return e, true
		}
	}
	return Entry{}, false
}
