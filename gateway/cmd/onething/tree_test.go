package main

import (
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// Every command, hidden ones included, has a summary and an example, and
// refuses arguments it does not take as a usage error.
func TestEveryCommandHasHelpAndExamples(t *testing.T) {
	root := newRootCmd(io.Discard, io.Discard)
	var walk func(*cobra.Command)
	n := 0
	walk = func(c *cobra.Command) {
		n++
		if c.Short == "" || c.Example == "" {
			t.Errorf("%s: want a Short and an Example", c.CommandPath())
		}
		if c.Args == nil {
			t.Errorf("%s: no Args check", c.CommandPath())
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
	if n < 15 {
		t.Errorf("only %d commands in the tree", n)
	}
}

func TestGatewayURL(t *testing.T) {
	for raw, want := range map[string]string{
		"http://127.0.0.1:8080":         "http://127.0.0.1:8080",
		"http://127.0.0.1:8080/":        "http://127.0.0.1:8080",
		"https://gw.internal/onething/": "https://gw.internal/onething",
		"http://[::1]:8080":             "http://[::1]:8080",
	} {
		if got, err := gatewayURL(raw); err != nil || got != want {
			t.Errorf("gatewayURL(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
	for _, raw := range []string{"127.0.0.1:8080", "localhost:8080", "", "ftp://h", "http://", "http://:8080", "https://h/?q=1",
		"http://h/#x", "/v1", "h", "http://h:port", "http://127.0.0.1:99999", "http://h:0", "http://h/?access_token=SEKRIT"} {
		if _, err := gatewayURL(raw); err == nil {
			t.Errorf("gatewayURL(%q): no error", raw)
		} else if _, ok := err.(*usageError); !ok {
			t.Errorf("gatewayURL(%q): %v is not a usage error", raw, err)
		} else if strings.Contains(err.Error(), "SEKRIT") {
			t.Errorf("gatewayURL(%q): the error shows the query's token: %v", raw, err)
		}
	}
	for raw, want := range map[string]string{
		"user:pw@h:1":                       "xxxxx@h:1",
		"http://user:pw@h:1/p@x":            "http://xxxxx@h:1/p@x",
		"http://h:1":                        "http://h:1",
		"http://h:1/?access_token=SEKRIT#f": "http://h:1/?xxxxx",
	} {
		if got := redactURL(raw); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestSelfCommandFor(t *testing.T) {
	for _, c := range []struct{ exe, cwd, goVersion, want string }{
		{"/tmp/go-build123/b001/exe/onething", "/src", "go1.27.3", "GOTOOLCHAIN=go1.27.3 go run ./gateway/cmd/onething"},
		{"/tmp/go-build123/b001/exe/onething", "/src", "devel go1.28-abc Mon", "go run ./gateway/cmd/onething"},
		{"", "/src", "go1.27.3", "GOTOOLCHAIN=go1.27.3 go run ./gateway/cmd/onething"},
		{"/src/bin/onething", "/src", "go1.27.3", "./bin/onething"},
		{"/usr/local/bin/onething", "/src", "go1.27.3", "/usr/local/bin/onething"},
		{"/opt/my tools/onething", "/src", "go1.27.3", "'/opt/my tools/onething'"},
	} {
		if got := selfCommandFor(c.exe, c.cwd, c.goVersion); got != c.want {
			t.Errorf("selfCommandFor(%q, %q, %q) = %q, want %q", c.exe, c.cwd, c.goVersion, got, c.want)
		}
	}
}

// Without a stamp, the version says what it knows and "unknown" for the rest.
func TestCurrentBuildFallsBack(t *testing.T) {
	saved := [3]string{version, commit, buildDate}
	t.Cleanup(func() { version, commit, buildDate = saved[0], saved[1], saved[2] })
	version, commit, buildDate = "", "unknown", ""
	b := currentBuild() // a test binary carries no VCS stamp
	if b.Version != "unknown" || b.Commit != "unknown" || b.Built != "unknown" || b.Go == "" || b.Modified {
		t.Errorf("unstamped: %+v", b)
	}
	version, commit, buildDate = "v1.2.3", "abc123", "2026-01-02T03:04:05Z"
	if b := currentBuild(); b.Version != "v1.2.3" || b.Commit != "abc123" || b.Built != "2026-01-02T03:04:05Z" {
		t.Errorf("stamped: %+v", b)
	}
	if l := currentBuild().line(); !strings.Contains(l, "abc123") || !strings.Contains(l, "v1.2.3") {
		t.Errorf("line: %s", l)
	}
}

func TestNormalizeArgs(t *testing.T) {
	root := newRootCmd(io.Discard, io.Discard)
	got := normalizeArgs(root, []string{"status", "-url", "http://h", "-token=x", "-h", "-1", "-nosuch", "APP", "--", "-json"})
	want := []string{"status", "--url", "http://h", "--token=x", "-h", "-1", "-nosuch", "APP", "--", "-json"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("normalizeArgs = %q, want %q", got, want)
	}
	child := []string{"bench-child", "gateway", "-config", "x"}
	if got := normalizeArgs(root, child); strings.Join(got, " ") != strings.Join(child, " ") {
		t.Errorf("bench-child's arguments changed: %q", got)
	}
}
