// Package childproc runs a program as a child process with its output in
// a log file, for the bench (the gateway, the mocks, Redis beside it) and
// for the tests that run real processes (through proctest).
package childproc

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Proc is a running (or finished) child process.
type Proc struct {
	Name string
	Cmd  *exec.Cmd
	Log  string // the file its standard output and error go to
	done chan struct{}
	err  error
}

// Start runs bin with args, env added to this process's environment, its
// output in dir/name+ext. On Linux the child dies with its parent.
func Start(dir, name, ext string, env []string, bin string, args ...string) (*Proc, error) {
	logPath := filepath.Join(dir, name+ext)
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, err
	}
	p := &Proc{Name: name, Cmd: cmd, Log: logPath, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); lf.Close(); close(p.done) }()
	return p, nil
}

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Err is how the process ended (after Done).
func (p *Proc) Err() error { return p.err }

// Alive reports whether the process still runs.
func (p *Proc) Alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Stop ends the process gently (SIGTERM), then with SIGKILL after grace.
func (p *Proc) Stop(grace time.Duration) {
	if p == nil || !p.Alive() {
		return
	}
	p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
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

// Tail is the last n lines of the process's output, for error messages.
func (p *Proc) Tail(n int) string {
	lines := strings.Split(strings.TrimSpace(p.Output()), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// FreeAddr is a loopback address whose port is free at the time of the
// call, for a child to listen on.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
