// Command capacity writes docs/CAPACITY.md: the gateway CPU, replicas,
// Redis memory and bolt file a county, a city and the province need, from
// the measurements in docs/benchmarks.json (written by `onething bench`)
// and the assumptions in DefaultParams.
//
//	go run ./tools/capacity [-bench docs/benchmarks.json] [-out docs/CAPACITY.md]
//
// -out - writes to standard output.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"onething/civil"
	"onething/gateway/bench"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("capacity", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("bench", "docs/benchmarks.json", "the bench report (`onething bench --out`)")
	out := fs.String("out", "docs/CAPACITY.md", "where to write the document (- for standard output)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	doc, err := generate(*in)
	if err != nil {
		fmt.Fprintln(stderr, "capacity:", err)
		return 1
	}
	if *out == "-" {
		_, err = stdout.Write(doc)
	} else {
		err = os.WriteFile(*out, doc, 0o644)
	}
	if err != nil {
		fmt.Fprintln(stderr, "capacity:", err)
		return 1
	}
	return 0
}

// generate reads a bench report and renders the document with the default
// assumptions; the working days are counted in the bench's year (China
// civil date).
func generate(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r bench.Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m, err := Measure(&r)
	if err != nil {
		return nil, err
	}
	day, err := time.Parse(time.RFC3339, r.Date)
	if err != nil {
		return nil, fmt.Errorf("%s: date %q: %w", path, r.Date, err)
	}
	p, err := DefaultParams(day.In(civil.Zone).Year())
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := Render(&b, p, m); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
