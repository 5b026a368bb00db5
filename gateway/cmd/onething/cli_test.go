package main

// The command line as an operator meets it: the onething binary, built
// once (stamped with a known version and commit), run as a process.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	testVersion = "v9.9.9-clitest"
	testCommit  = "0123456789abcdef0123456789abcdef01234567"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "onething-cli-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "onething")
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	build := exec.Command(goBin, "build", "-o", binary,
		"-ldflags", "-X main.version="+testVersion+" -X main.commit="+testCommit, ".")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.code, r.stdout, r.stderr)
}

// cleanEnv is the test's environment without ONETHING_ variables.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ONETHING_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// onething runs the binary with args; env is added to a clean environment.
// A panic is always a test failure.
func onething(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = cleanEnv(env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("onething %q: %v", args, err)
	}
	if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine ") {
		t.Errorf("onething %q panicked:\n%s", args, r)
	}
	return r
}

// Help, however asked for, is on stdout with exit status 0.
func TestHelpExitsZero(t *testing.T) {
	cases := [][]string{
		{"--help"}, {"-h"}, {"help"}, {"help", "status"}, {"help", "deadletters", "replay"}, {"help", "help"},
		{"status", "-h"}, {"config", "check", "-h"}, {"config", "check", "--help"}, {"config", "--help"},
		{"deadletters", "list", "--help"}, {"deadletters", "--help"}, {"status", "APP", "--help"},
		{"-help"}, {"config", "check", "-help"},
	}
	for _, c := range []string{"dev", "serve", "mocks", "submit", "status", "deadletters", "config", "bench", "version", "help"} {
		cases = append(cases, []string{c, "--help"})
	}
	for _, args := range cases {
		r := onething(t, nil, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage:") || !strings.Contains(r.stdout, "Examples:") || r.stderr != "" {
			t.Errorf("onething %q: want help on stdout, exit 0, nothing on stderr; got %s", args, r)
		}
	}
	r := onething(t, nil, "--help")
	for _, c := range []string{"dev", "serve", "mocks", "submit", "status", "deadletters", "config", "bench", "version"} {
		if !regexp.MustCompile(`(?m)^  ` + c + ` `).MatchString(r.stdout) {
			t.Errorf("onething --help does not list %s:\n%s", c, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "bench-child") {
		t.Errorf("onething --help lists the internal bench-child:\n%s", r.stdout)
	}
}

// A wrong command line: exit status 2, nothing on stdout, one line saying
// what is wrong and one saying where the help is.
func TestUsageErrorsExitTwo(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "submission.json")
	if err := os.WriteFile(file, []byte(`{}`), 0o600); err != nil {
		t.Fatal(err)
	}
	secret := whsec(t)
	cases := []struct {
		args []string
		want string // in the error line
	}{
		{[]string{"bogus"}, "bogus"},
		{[]string{"stauts", "APP"}, "status"}, // suggested
		{[]string{"--bogus"}, "--bogus"},
		{[]string{"status"}, "APPLICATION_ID"},
		{[]string{"status", "a", "b"}, "b"},
		{[]string{"status", "--bogus", "APP"}, "--bogus"},
		{[]string{"status", "APP", "--watch=maybe"}, "maybe"},
		{[]string{"status", "APP", "--url"}, "url"},
		{[]string{"dev", "--port", "abc"}, "abc"},
		{[]string{"dev", "--delay", "soon"}, "soon"},
		{[]string{"dev", "--faults", "{bad"}, "--faults"},
		{[]string{"dev", "extra"}, "extra"},
		{[]string{"dev", "--now", "2026-12-05T07:43:00"}, "--now"}, // no offset: which 07:43?
		{[]string{"dev", "--now", "tomorrow"}, "--now"},
		{[]string{"dev", "--now", "1900-01-01T00:00:00+08:00"}, "--now"}, // before the working-day calendar
		{[]string{"dev", "--now", "2021-12-31T23:59:59+08:00"}, "--now"},
		{[]string{"dev", "--now", "2100-01-01T00:00:00+08:00"}, "--now"},
		{[]string{"dev", "--clock-rate", "0"}, "--clock-rate"},
		{[]string{"dev", "--clock-rate", "1e9"}, "--clock-rate"},
		{[]string{"dev", "--clock-rate", "fast"}, "fast"},
		{[]string{"dev", "--portal-url", "ftp://127.0.0.1:9000/hooks"}, "--portal-url"},
		{[]string{"dev", "--portal-url", "/hooks"}, "--portal-url"},
		{[]string{"dev", "--portal-url", "127.0.0.1:9000/hooks"}, "--portal-url"},
		{[]string{"dev", "--portal-url", "http://127.0.0.1:9000/hooks#x"}, "--portal-url"},
		{[]string{"dev", "--keep-pushes", "0"}, "--keep-pushes"},
		{[]string{"dev", "--push-settle", "-1s"}, "--push-settle"},
		{[]string{"dev", "--push-settle", "6s"}, "--push-settle"},
		{[]string{"serve", "--config", filepath.Join(dir, "none.yaml"), "--now", "2026-12-05T07:43:00+08:00"}, "--now"}, // never a fake clock
		{[]string{"serve", "--config", filepath.Join(dir, "none.yaml"), "--clock-rate", "3600"}, "--clock-rate"},
		{[]string{"mocks", "--config-template", "x.json"}, "--config-out"},
		{[]string{"mocks", "--faults", `{"nope":1}`}, "--faults"},
		{[]string{"serve"}, "--config"},
		{[]string{"serve", "--config", filepath.Join(dir, "none.yaml"), "extra"}, "extra"},
		{[]string{"serve", "--config", filepath.Join(dir, "none.yaml"), "--log-level", "loud"}, "loud"},
		{[]string{"serve", "--config", filepath.Join(dir, "none.yaml"), "--log-format", "xml"}, "xml"},
		{[]string{"config"}, "check"},
		{[]string{"config", "bogus"}, "bogus"},
		{[]string{"config", "check"}, "--config"},
		{[]string{"config", "check", "a.yaml", "b.yaml"}, "b.yaml"},
		{[]string{"config", "check", "--config", "a.yaml", "b.yaml"}, "b.yaml"},
		{[]string{"deadletters"}, "list"},
		{[]string{"deadletters", "bogus"}, "bogus"},
		{[]string{"deadletters", "show"}, "TASK_ID"},
		{[]string{"deadletters", "show", "T", "--dept", "civil"}, "--dept"},
		{[]string{"deadletters", "replay"}, "--all"},
		{[]string{"deadletters", "replay", "T", "--all"}, "--all"},
		{[]string{"deadletters", "list", "extra"}, "extra"},
		// A department that is none of the four, a secret that is no
		// whsec_: said here, not after a round trip (outsider: exit 1).
		{[]string{"deadletters", "list", "--dept", "foo"}, "cdpf、civil、hrss 或 medical"},
		{[]string{"deadletters", "replay", "--dept", "police"}, "--dept"},
		{[]string{"submit", file, "--secret", "notwhsec"}, "whsec_"},
		{[]string{"submit", "--secret", secret}, "FILE.json"},
		{[]string{"submit", file}, "--secret"},
		{[]string{"submit", file, "--secret", "not-a-secret"}, "--secret"},
		{[]string{"submit", file, "--secret", secret, "--path", "v1/x"}, "--path"},
		{[]string{"help", "bogus"}, "bogus"},
		{[]string{"version", "extra"}, "extra"},
		{[]string{"bench", "--duration", "long"}, "long"},
		// --url must be an absolute http(s) URL: no panic, a usage error.
		{[]string{"status", "--url", "127.0.0.1:8080", "--token", "t", "APP"}, "http://127.0.0.1:8080"},
		{[]string{"status", "APP", "--url", "localhost:8080"}, "--url"},
		{[]string{"status", "APP", "--url", "ftp://host/"}, "--url"},
		{[]string{"status", "APP", "--url", "http://"}, "--url"},
		{[]string{"status", "APP", "--url", "http://host:8080/?x=1"}, "--url"},
		{[]string{"status", "APP", "--url", ""}, "--url"},
		{[]string{"deadletters", "--url", "127.0.0.1:8080", "list"}, "--url"},
		{[]string{"deadletters", "show", "T", "--url", "127.0.0.1:8080"}, "--url"},
		{[]string{"deadletters", "replay", "--all", "--url", "::1"}, "--url"},
		{[]string{"submit", "--url", "127.0.0.1:8080", "--secret", secret, file}, "--url"},
	}
	for _, c := range cases {
		r := onething(t, nil, c.args...)
		lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
		if r.code != 2 || r.stdout != "" || len(lines) != 2 ||
			!strings.Contains(lines[0], "usage error") || !strings.Contains(lines[0], c.want) || !strings.Contains(lines[1], "--help") {
			t.Errorf("onething %q: want exit 2, one error line naming %q and a hint; got %s", c.args, c.want, r)
		}
	}
	// The user information of a URL is not repeated.
	r := onething(t, nil, "status", "APP", "--url", "admin:hunter2@gw:8080")
	if r.code != 2 || strings.Contains(r.stderr, "hunter2") {
		t.Errorf("a bad --url with a password: %s", r)
	}
	// No command at all: the help, on stderr, and exit 2.
	r = onething(t, nil)
	if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "Usage:") || !strings.Contains(r.stderr, "usage error") {
		t.Errorf("onething without a command: %s", r)
	}
}

// A bad flag value, whether the parser or the command finds it, is a usage
// error said in Chinese and English with the flag and what it wants; never
// the parser's raw "strconv.ParseInt: …". dev's --portal-url, given, must
// name a receiver: an invalid port or an empty value (an unset shell
// variable) is refused, not the mock portal quietly used.
func TestFlagValueErrorsBilingual(t *testing.T) {
	cases := []struct {
		args []string
		want string // in the error line, beside some Chinese
	}{
		{[]string{"dev", "--keep-pushes", "abc"}, `--keep-pushes "abc"`},
		{[]string{"dev", "--keep-pushes", "99999999999999999999"}, "--keep-pushes"},
		{[]string{"dev", "--keep-pushes", "0"}, "--keep-pushes"},
		{[]string{"dev", "--port", "abc"}, `--port "abc"`},
		{[]string{"dev", "--delay", "soon"}, `--delay "soon"`},
		{[]string{"dev", "--clock-rate", "fast"}, `--clock-rate "fast"`},
		{[]string{"dev", "--mock-port"}, "--mock-port"},
		{[]string{"status", "APP", "--watch=maybe"}, `--watch "maybe"`},
		{[]string{"dev", "--portal-url", "http://127.0.0.1:99999/x"}, "99999"},
		{[]string{"dev", "--portal-url", "http://127.0.0.1:0/x"}, "--portal-url"},
		{[]string{"dev", "--portal-url", "http://:9000/x"}, "--portal-url"},
		{[]string{"dev", "--portal-url", ""}, "--portal-url"},
		{[]string{"dev", "--portal-url="}, "--portal-url"},
	}
	chinese := regexp.MustCompile(`\p{Han}`)
	for _, c := range cases {
		r := onething(t, nil, c.args...)
		lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
		if r.code != 2 || r.stdout != "" || len(lines) != 2 || !strings.Contains(lines[0], c.want) ||
			!chinese.MatchString(strings.TrimPrefix(lines[0], "onething "+c.args[0]+": 用法错误 / usage error: ")) ||
			strings.Contains(lines[0], "strconv") || strings.Contains(lines[0], "invalid argument") {
			t.Errorf("onething %q: want exit 2, one bilingual error line naming %q; got %s", c.args, c.want, r)
		}
	}
}

// A command that ran and failed: exit status 1, and no usage error.
func TestFailuresExitOne(t *testing.T) {
	dir := t.TempDir()
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"code":"unauthorized"}`, http.StatusUnauthorized)
	}))
	defer gw.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	cases := [][]string{
		{"config", "check", filepath.Join(dir, "none.yaml")},
		{"serve", "--config", filepath.Join(dir, "none.yaml")},
		{"submit", "--secret", whsec(t), filepath.Join(dir, "none.json")},
		{"status", "--url", gw.URL, "--token", "t", "APP"},
		{"status", "--url", closed.URL, "APP"},
		{"deadletters", "--url", gw.URL, "list"},
		{"deadletters", "replay", "--all", "--url", closed.URL},
		{"bench-child"},
	}
	for _, args := range cases {
		r := onething(t, nil, args...)
		if r.code != 1 || strings.Contains(r.stderr, "usage error") {
			t.Errorf("onething %q: want exit 1, not a usage error; got %s", args, r)
		}
		// Said Chinese first (outsider: "onething: HTTP 404", "Get …:
		// connection refused", "open nope.json: …" in English alone).
		if args[0] != "bench-child" && !regexp.MustCompile(`\p{Han}`).MatchString(r.stderr) { // bench-child: bench's own
			t.Errorf("onething %q: no Chinese in %s", args, r)
		}
	}
}

// Flags may follow the arguments; flags of deadletters may come before
// the verb; the single-dash long flags of the old command line still work.
func TestFlagsAnywhere(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if strings.HasPrefix(r.URL.Path, "/v1/applications/") {
			io.WriteString(w, `{"applicationId":"APP1","version":3,"status":{"state":"completed"},"items":[]}`)
			return
		}
		io.WriteString(w, `[]`)
	}))
	defer gw.Close()
	cases := []struct {
		args []string
		env  []string
		want string
	}{
		{[]string{"status", "APP1", "--url", gw.URL, "--token", "tok"}, nil, "GET /v1/applications/APP1 Bearer tok"},
		{[]string{"status", "APP1", "--url", gw.URL + "/"}, []string{"ONETHING_READ_TOKEN=from-env"}, "GET /v1/applications/APP1 Bearer from-env"},
		{[]string{"status", "-url", gw.URL, "-token", "old", "APP1"}, nil, "GET /v1/applications/APP1 Bearer old"},
		{[]string{"deadletters", "list", "--url", gw.URL, "--dept", "civil", "--token", "adm"}, nil, "GET /v1/admin/dead-letters?dept=civil Bearer adm"},
		{[]string{"deadletters", "--dept", "civil", "--url", gw.URL, "list"}, []string{"ONETHING_ADMIN_TOKEN=adm-env"}, "GET /v1/admin/dead-letters?dept=civil Bearer adm-env"},
		{[]string{"deadletters", "--url", gw.URL, "replay", "TASK-1"}, nil, "POST /v1/admin/dead-letters/TASK-1/replay Bearer"},
		{[]string{"deadletters", "replay", "--url", gw.URL, "--dept", "hrss"}, nil, "POST /v1/admin/dead-letters/replay?dept=hrss Bearer"},
		{[]string{"deadletters", "replay", "--all", "--url", gw.URL}, nil, "POST /v1/admin/dead-letters/replay?all=true Bearer"},
	}
	for _, c := range cases {
		mu.Lock()
		seen = nil
		mu.Unlock()
		r := onething(t, c.env, c.args...)
		mu.Lock()
		got := strings.Join(seen, "\n")
		mu.Unlock()
		if r.code != 0 || strings.TrimSpace(got) != strings.TrimSpace(c.want) {
			t.Errorf("onething %q: want exit 0 and the request %q; got %q and %s", c.args, c.want, got, r)
		}
	}

	cfg := writeConfig(t, t.TempDir(), true)
	for _, args := range [][]string{
		{"config", "check", cfg, "--quiet"},
		{"config", "check", "--quiet", cfg},
		{"config", "check", "-quiet", cfg},
		{"config", "check", "--config", cfg, "--quiet"},
		{"config", "check", "--quiet", "--config=" + cfg, cfg},
	} {
		r := onething(t, nil, args...)
		if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "configuration is valid") {
			t.Errorf("onething %q: want exit 0, stdout empty; got %s", args, r)
		}
	}
	r := onething(t, []string{"ONETHING_CONFIG=" + cfg}, "config", "check", "--quiet")
	if r.code != 0 {
		t.Errorf("config check with ONETHING_CONFIG: %s", r)
	}
}

// bench-child takes its arguments as they are (gateway/bench spawns it).
func TestBenchChildArgumentsPassThrough(t *testing.T) {
	r := onething(t, nil, "bench-child", "nosuchrole", "--config", "x.json", "-intake-only")
	if r.code != 1 || !strings.Contains(r.stderr, `unknown role "nosuchrole"`) {
		t.Errorf("bench-child: %s", r)
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		r := onething(t, nil, args...)
		if r.code != 0 || !strings.Contains(r.stdout, testVersion) || !strings.Contains(r.stdout, testCommit) ||
			!strings.Contains(r.stdout, runtime.Version()) {
			t.Errorf("onething %q: want %s, %s and %s; got %s", args, testVersion, testCommit, runtime.Version(), r)
		}
	}
	r := onething(t, nil, "version", "--json")
	var b buildInfo
	if err := json.Unmarshal([]byte(r.stdout), &b); err != nil || r.code != 0 {
		t.Fatalf("version --json: %v\n%s", err, r)
	}
	if b.Version != testVersion || b.Commit != testCommit || b.Go != runtime.Version() || b.Built != "unknown" {
		t.Errorf("version --json: %+v", b)
	}
}

// `config check --json` prints JSON and nothing else on stdout, valid or
// not; an invalid configuration exits 1.
func TestConfigCheckJSON(t *testing.T) {
	dir := t.TempDir()
	valid := writeConfig(t, dir, true)
	r := onething(t, []string{"ONETHING_WORKERS=3"}, "config", "check", valid, "--json")
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != 0 {
		t.Fatalf("config check --json of a valid file: %v\n%s", err, r)
	}
	if doc["workers"] != 3.0 || !strings.Contains(r.stderr, "# effective configuration of") ||
		!strings.Contains(r.stderr, "# overridden: workers") {
		t.Errorf("config check --json: want workers 3 and the notes on stderr; got %s", r)
	}
	if strings.Contains(r.stdout, readTokenOf(t, valid)) {
		t.Errorf("config check --json shows a secret:\n%s", r.stdout)
	}
	// YAML keeps its comment lines.
	r = onething(t, nil, "config", "check", valid)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "# effective configuration of") {
		t.Errorf("config check (YAML): %s", r)
	}

	invalid := writeConfig(t, t.TempDir(), false)
	r = onething(t, nil, "config", "check", "--json", invalid)
	if r.code != 1 || !strings.Contains(r.stderr, "baseUrl") {
		t.Errorf("config check --json of an invalid file: want exit 1 naming baseUrl; got %s", r)
	}
	if r.stdout != "" {
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
			t.Errorf("config check --json of an invalid file: stdout is not JSON: %v\n%s", err, r.stdout)
		}
	}
	r = onething(t, nil, "config", "check", "--json", filepath.Join(dir, "none.yaml"))
	if r.code != 1 || r.stdout != "" {
		t.Errorf("config check --json of a missing file: %s", r)
	}
}

// Help names the environment variable a flag defaults to, never its value.
func TestHelpShowsEnvironmentDefaults(t *testing.T) {
	env := map[string]string{
		"ONETHING_READ_TOKEN": "read-token-value-4d1c", "ONETHING_ADMIN_TOKEN": "admin-token-value-77e0",
		"ONETHING_PORTAL_SECRET": "whsec_cG9ydGFsLXNlY3JldC12YWx1ZQ==", "ONETHING_CONFIG": "/etc/config-value-9a.yaml",
		"ONETHING_LOG_FORMAT": "text", "ONETHING_LOG_LEVEL": "debug",
	}
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	for _, c := range []struct {
		args []string
		vars []string
	}{
		{[]string{"status", "--help"}, []string{"ONETHING_READ_TOKEN"}},
		{[]string{"deadletters", "list", "--help"}, []string{"ONETHING_ADMIN_TOKEN"}},
		{[]string{"submit", "--help"}, []string{"ONETHING_PORTAL_SECRET"}},
		{[]string{"serve", "--help"}, []string{"ONETHING_CONFIG", "ONETHING_LOG_FORMAT", "ONETHING_LOG_LEVEL"}},
		{[]string{"config", "check", "--help"}, []string{"ONETHING_CONFIG"}},
	} {
		r := onething(t, environ, c.args...)
		if r.code != 0 {
			t.Errorf("onething %q: %s", c.args, r)
		}
		for _, v := range c.vars {
			if !strings.Contains(r.stdout, "(env "+v+")") {
				t.Errorf("onething %q does not show (env %s):\n%s", c.args, v, r.stdout)
			}
		}
		for k, v := range env {
			if k != "ONETHING_LOG_FORMAT" && k != "ONETHING_LOG_LEVEL" && strings.Contains(r.stdout, v) {
				t.Errorf("onething %q shows the value of %s:\n%s", c.args, k, r.stdout)
			}
		}
	}
	r := onething(t, nil, "serve", "--help")
	if !strings.Contains(r.stdout, `(default "json")`) || !strings.Contains(r.stdout, `(default "info")`) {
		t.Errorf("serve --help does not show the built-in defaults:\n%s", r.stdout)
	}
}

// dev's banner keeps the labelled lines integrators' scripts read, and its
// example commands run this binary.
func TestDevBanner(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole development stack")
	}
	d := startDev(t)
	cmd, lines, stderr, text := d.cmd, d.lines, d.stderr, d.banner

	for _, re := range []string{
		`(?m)^  gateway +http://127\.0\.0\.1:\d+$`,
		`(?m)^  portal signing secret +whsec_\S+$`,
		`(?m)^  read token +\S+ +\(`,
		`(?m)^  admin token +\S+ +\(`,
		`(?m)^  clerk of 罗江镇 +clerk / \S+$`,
		`(?m)^  operator +ops / \S+$`,
		`(?m)^  ` + regexp.QuoteMeta(binary) + ` submit --url http://127\.0\.0\.1:\d+ --secret whsec_\S+ --new-ref \S*contracts/examples/submission-full.json$`,
		`(?m)^  ` + regexp.QuoteMeta(binary) + ` status --url http://127\.0\.0\.1:\d+ --token \S+ --watch APPLICATION_ID$`,
	} {
		if !regexp.MustCompile(re).MatchString(text) {
			t.Errorf("the banner has no line matching %s:\n%s", re, text)
		}
	}
	// The running gateway's onething_build_info carries the stamp too.
	gw := regexp.MustCompile(`(?m)^  gateway +(http://\S+)$`).FindStringSubmatch(text)
	if gw != nil {
		resp, err := http.Get(gw[1] + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if m := regexp.MustCompile(`onething_build_info\{[^}]*\}`).FindString(string(body)); !strings.Contains(m, `revision="`+testCommit+`"`) ||
			!strings.Contains(m, `version="`+testVersion+`"`) {
			t.Errorf("onething_build_info does not carry the stamp: %q", m)
		}
	}
	go func() {
		for range lines {
		}
	}()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("dev after SIGTERM: %v\n%s", err, stderr.String())
	}
}

func whsec(t *testing.T) string {
	return "whsec_" + base64.StdEncoding.EncodeToString(randomBytes(t, 32))
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// writeConfig writes a gateway configuration to dir with fresh random
// secrets (each principal its own), valid or (without baseUrl) not.
func writeConfig(t *testing.T, dir string, valid bool) string {
	t.Helper()
	key := func(name string, n int) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(base64.StdEncoding.EncodeToString(randomBytes(t, n))+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	token := func() string { return hex.EncodeToString(randomBytes(t, 32)) }
	depts := map[string]any{}
	for i, d := range []string{"cdpf", "civil", "hrss", "medical"} {
		depts[d] = map[string]any{"baseUrl": fmt.Sprintf("http://127.0.0.1:%d", 19001+i), "appKey": "onething-" + d,
			"secret": token(), "eventSecrets": []string{whsec(t)}}
	}
	cfg := map[string]any{
		"listen": "127.0.0.1:0", "dataFile": filepath.Join(dir, "onething.db"),
		"portalSecrets": []string{whsec(t)}, "portalPushUrl": "http://127.0.0.1:19005", "portalPushPath": "/status-events",
		"portalPushSecret": whsec(t), "readTokens": []any{map[string]any{"subject": "district-office", "token": token()}},
		"adminTokens": []any{map[string]any{"subject": "operators", "token": token()}},
		"dataProtection": map[string]any{
			"currentKey": "data-1", "keys": []any{map[string]any{"id": "data-1", "algorithm": "aes-256-gcm", "keyFile": key("data-1.key", 32)}},
			"currentIndexKey": "index-1", "indexKeys": []any{map[string]any{"id": "index-1", "algorithm": "hmac-sha256", "keyFile": key("index-1.key", 32)}},
		},
		"departments": depts,
	}
	if valid {
		cfg["baseUrl"] = "http://127.0.0.1:8080"
	}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "onething.json")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func readTokenOf(t *testing.T, path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		ReadTokens []struct{ Token string } `json:"readTokens"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil || len(cfg.ReadTokens) != 1 {
		t.Fatalf("%s: %v", path, err)
	}
	return cfg.ReadTokens[0].Token
}

// runningDev is an `onething dev` started by a test, its banner read.
type runningDev struct {
	cmd    *exec.Cmd
	lines  chan string
	stderr *bytes.Buffer
	banner string
}

// startDev starts `onething dev` on free ports with args added, reads its
// banner and kills it when the test ends.
func startDev(t *testing.T, args ...string) runningDev {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"dev", "--port", "0", "--mock-port", "0", "--data", t.TempDir(), "--delay", "1ms"}, args...)...)
	cmd.Env = cleanEnv()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var banner []string
	timeout := time.After(90 * time.Second)
read:
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("dev ended before its banner:\n%s\n%s", strings.Join(banner, "\n"), stderr.String())
			}
			banner = append(banner, l)
			if strings.Contains(l, "Ctrl-C stops everything.") {
				break read
			}
		case <-timeout:
			t.Fatalf("no banner within 90s:\n%s\n%s", strings.Join(banner, "\n"), stderr.String())
		}
	}
	return runningDev{cmd: cmd, lines: lines, stderr: &stderr, banner: strings.Join(banner, "\n")}
}

// dev --now runs the whole chain on a business clock from that instant:
// at 07:43 China time (23:43 UTC the day before) the case is accepted on
// the China date, and its times are written in China time.
func TestDevBusinessClock(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole development stack")
	}
	d := startDev(t, "--now", "2026-12-05T07:43:00+08:00", "--clock-rate", "60")
	if !strings.Contains(d.banner, "business clock (--now/--clock-rate): 2026-12-05T07:4") || !strings.Contains(d.banner, "today 2026-12-05") {
		t.Fatalf("the banner does not show the business clock:\n%s", d.banner)
	}
	go func() {
		for range d.lines {
		}
	}()
	field := func(label string) string {
		m := regexp.MustCompile(`(?m)^  ` + label + ` +(\S+)`).FindStringSubmatch(d.banner)
		if m == nil {
			t.Fatalf("no %s in the banner", label)
		}
		return m[1]
	}
	gw, secret, token := field("gateway"), field("portal signing secret"), field("read token")
	r := onething(t, nil, "submit", "--url", gw, "--secret", secret, "--new-ref", "../../../contracts/examples/submission-full.json")
	m := regexp.MustCompile(`"applicationId": "(\w+)"`).FindStringSubmatch(r.stdout)
	if r.code != 0 || m == nil {
		t.Fatalf("submit: %s", r)
	}
	req, _ := http.NewRequest(http.MethodGet, gw+"/v1/applications/"+m[1], nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		ReceivedAt string `json:"receivedAt"`
		AcceptedOn string `json:"acceptedOn"`
		Status     struct {
			DueDate string `json:"dueDate"`
		} `json:"status"`
	}
	json.NewDecoder(resp.Body).Decode(&v)
	if v.AcceptedOn != "2026-12-05" || !strings.HasPrefix(v.ReceivedAt, "2026-12-05T0") || !strings.HasSuffix(v.ReceivedAt, "+08:00") {
		t.Errorf("accepted on %q at %q, want 2026-12-05 in China time", v.AcceptedOn, v.ReceivedAt)
	}
}
