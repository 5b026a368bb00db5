package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"onething/gateway/childproc"
	"onething/gateway/proctest"
)

// serve logs at start, in one JSON line, what the replica runs on: the
// store, the workers, the departments with the counties each endpoint
// serves and the calendar years covered; and no secret of the files
// secrets init wrote.
func TestServeLogsWhatItRunsOn(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the gateway as a process")
	}
	cfg, db := sampleWithSecrets(t)
	addr := proctest.FreeAddr(t)
	p := startServe(t, cfg, addr, "ONETHING_DATA_FILE="+db)

	var line string
	var start struct {
		Msg, Listen, Store, StorePath string
		Workers                       int
		Departments, Endpoints        []string
		CalendarYears                 []int
	}
	for _, l := range strings.Split(p.Output(), "\n") {
		if json.Unmarshal([]byte(l), &start) == nil && start.Msg == "gateway serving" {
			line = l
			break
		}
	}
	if line == "" {
		t.Fatalf("no start line:\n%s", p.Tail(20))
	}
	if start.Listen != addr || start.Store != "bolt" || start.StorePath != db || start.Workers != 8 {
		t.Errorf("start line: listen, store or workers wrong: %s", line)
	}
	if !slices.Equal(start.Departments, []string{"cdpf", "civil", "hrss", "medical"}) ||
		!slices.Contains(start.Endpoints, "hrss=511702") || !slices.Contains(start.Endpoints, "cdpf") {
		t.Errorf("start line: departments or endpoints wrong: %s", line)
	}
	if len(start.CalendarYears) == 0 || !slices.Contains(start.CalendarYears, 2026) {
		t.Errorf("start line: calendar years wrong: %s", line)
	}
	secrets, _ := filepath.Glob(filepath.Join(filepath.Dir(cfg), "secrets", "*"))
	for _, f := range secrets {
		b, err := os.ReadFile(f)
		if v := strings.TrimSpace(string(b)); err == nil && len(v) >= 8 && strings.Contains(line, v) {
			t.Errorf("the start line carries the secret of %s", filepath.Base(f))
		}
	}
}

// SIGHUP (the terminal serve runs in closed) stops serve as SIGTERM does:
// it exits 0 after a clean shutdown, not at once with status 129 and the
// jobs it held left leased.
func TestServeStopsCleanlyOnSIGHUP(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the gateway as a process")
	}
	cfg, db := sampleWithSecrets(t)
	p := startServe(t, cfg, proctest.FreeAddr(t), "ONETHING_DATA_FILE="+db)
	if err := p.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done():
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not stop after SIGHUP: %s", p.Tail(10))
	}
	if code := p.Cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit status %d after SIGHUP: %s", code, p.Tail(10))
	}
	if !strings.Contains(p.Output(), "shut down: requests and jobs finished or handed back") {
		t.Errorf("no clean shutdown in the log:\n%s", p.Tail(10))
	}
}

// startServe runs `onething serve --config cfg` on addr, with env, on a
// store it initialises first, and waits until it answers /healthz.
func startServe(t *testing.T, cfg, addr string, env ...string) *proctest.Proc {
	t.Helper()
	env = append(env, "ONETHING_LISTEN="+addr, "ONETHING_BASE_URL=http://"+addr)
	if r := onething(t, env, "store", "init", "--config", cfg); r.code != 0 {
		t.Fatalf("store init:\n%s", r)
	}
	cp, err := childproc.Start(t.TempDir(), "serve", ".log", cleanEnv(env...), binary, "serve", "--config", cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := &proctest.Proc{Proc: cp}
	t.Cleanup(p.Stop)
	proctest.WaitHealthy(t, p, "http://"+addr+"/healthz")
	return p
}
