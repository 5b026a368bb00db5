// Package proctest builds the onething command once per test binary, and
// runs it as child processes, for the tests that need real processes
// (replicas, shutdown, bench).
package proctest

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"onething/gateway/childproc"
)

var (
	once   sync.Once
	dir    string
	binary string
	err    error
)

// Binary returns the path of the onething command, building it the first
// time.
func Binary(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		if dir, err = os.MkdirTemp("", "onething-proctest-"); err != nil {
			return
		}
		goBin, lookErr := exec.LookPath("go")
		if lookErr != nil {
			goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		binary = filepath.Join(dir, "onething")
		if out, buildErr := exec.Command(goBin, "build", "-o", binary, "onething/gateway/cmd/onething").CombinedOutput(); buildErr != nil {
			err = fmt.Errorf("go build: %v\n%s", buildErr, out)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return binary
}

// Cleanup removes the build; call it from TestMain after m.Run.
func Cleanup() {
	if dir != "" {
		os.RemoveAll(dir)
	}
}

// Proc is a child process of the test, running the onething command; it
// dies with the test binary, and the test's cleanup stops it.
type Proc struct{ *childproc.Proc }

// Start runs the onething command with args (and env added to the test's
// environment), its output in dir/name.log.
func Start(t testing.TB, dir, name string, env []string, args ...string) *Proc {
	t.Helper()
	cp, err := childproc.Start(dir, name, ".log", env, Binary(t), args...)
	if err != nil {
		t.Fatal(err)
	}
	p := &Proc{cp}
	t.Cleanup(p.Stop)
	return p
}

// Stop ends the process gently (SIGTERM), then firmly after 15 s.
func (p *Proc) Stop() { p.Proc.Stop(15 * time.Second) }

// FreeAddr is a loopback address with a port free at the time of the call.
func FreeAddr(t testing.TB) string {
	addr, err := childproc.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// WaitHealthy waits (at most 30 s) for url to answer 200 while p runs.
func WaitHealthy(t testing.TB, p *Proc, url string) {
	t.Helper()
	cl := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := cl.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if !p.Alive() || time.Now().After(deadline) {
			t.Fatalf("%s did not come up: %s", p.Name, p.Tail(20))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
