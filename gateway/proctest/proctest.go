// Package proctest builds the onething command once per test binary, and
// runs it as child processes, for the tests that need real processes
// (replicas, shutdown, bench).
package proctest

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
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
// dies with the test binary (Pdeathsig), and the test's cleanup stops it.
type Proc struct {
	Name string
	Cmd  *exec.Cmd
	Log  string // the file its standard output and error go to
	done chan struct{}
}

// Start runs the onething command with args (and env added to the test's
// environment), its output in dir/name.log.
func Start(t testing.TB, dir, name string, env []string, args ...string) *Proc {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	lf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(Binary(t), args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		lf.Close()
		t.Fatal(err)
	}
	p := &Proc{Name: name, Cmd: cmd, Log: logPath, done: make(chan struct{})}
	go func() { cmd.Wait(); lf.Close(); close(p.done) }()
	t.Cleanup(p.Stop)
	return p
}

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Alive reports whether the process still runs.
func (p *Proc) Alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Stop ends the process gently (SIGTERM), then firmly after 15 s.
func (p *Proc) Stop() {
	if !p.Alive() {
		return
	}
	p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.Kill()
	}
}

// Kill ends the process with SIGKILL: no shutdown, no cleanup.
func (p *Proc) Kill() {
	p.Cmd.Process.Kill()
	<-p.done
}

// Output is everything the process has written.
func (p *Proc) Output() string {
	b, _ := os.ReadFile(p.Log)
	return string(b)
}

// Tail is the last n lines of the process's output, for failure messages.
func (p *Proc) Tail(n int) string {
	lines := strings.Split(strings.TrimSpace(p.Output()), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// FreeAddr is a loopback address with a port free at the time of the call.
func FreeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
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
