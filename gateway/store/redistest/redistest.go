// Package redistest starts a private redis-server for a test: on a free
// loopback port, with its data in a directory of the test's own, so a test
// can kill it and start it again on the same data. It runs the project's
// deploy/redis.conf (AOF on) with only the port, address and directory
// replaced, so the tests run what is deployed.
//
// Without a redis-server binary a test is skipped with a message; when CI
// is "true" it fails instead, so CI can never pass without the Redis tests.
package redistest

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is one running (or stopped) redis-server.
type Server struct {
	t    testing.TB
	bin  string
	conf string
	// extra are further arguments (a replica's --replicaof).
	extra []string
	Port  int
	Addr  string // 127.0.0.1:port
	Dir   string // data directory (AOF files)
	cmd   *exec.Cmd
	done  chan struct{}
}

// Binary finds redis-server (REDIS_SERVER names it where it is not on
// PATH), or "" when there is none.
func Binary() string {
	if p := os.Getenv("REDIS_SERVER"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
		return ""
	}
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/bin/redis-server", "/usr/local/bin/redis-server", "/usr/sbin/redis-server"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// unavailable fails the test in CI and skips it elsewhere.
func unavailable(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("redis-server is required in CI: %s (.ci/run installs the redis-server package)", why)
	}
	t.Skipf("skipping the Redis tests: %s (install redis-server, e.g. apt-get install -y redis-server)", why)
}

// Conf is the path of deploy/redis.conf, found above the working directory.
func Conf() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(dir, "deploy", "redis.conf")
		if _, err := os.Stat(p); err == nil {
			return p
		}
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Start starts a redis-server for t; it is killed when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return startWith(t)
}

// StartWith starts a redis-server for t with further arguments (e.g.
// "--rdbcompression", "no").
func StartWith(t testing.TB, args ...string) *Server {
	t.Helper()
	return startWith(t, args...)
}

// RewriteAOF has the server rewrite its AOF and waits until it is done
// (the files then hold what the data is now, not the writes that made
// it).
func (s *Server) RewriteAOF() {
	s.t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	defer c.Close()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := c.BgRewriteAOF(ctx).Err()
		if err == nil {
			break
		}
		if !strings.Contains(err.Error(), "in progress") || time.Now().After(deadline) {
			s.t.Fatalf("BGREWRITEAOF: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.WaitRewrite()
}

// WaitRewrite waits until no AOF rewrite is under way or scheduled.
func (s *Server) WaitRewrite() {
	s.t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	defer c.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, err := c.Info(context.Background(), "persistence").Result()
		if err == nil && strings.Contains(info, "aof_rewrite_in_progress:0") && strings.Contains(info, "aof_rewrite_scheduled:0") {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the AOF rewrite did not finish: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// FilesHold reports whether any file in the server's directory (its AOF
// parts, a snapshot) holds needle.
func (s *Server) FilesHold(needle string) bool {
	s.t.Helper()
	found := false
	filepath.WalkDir(s.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || found {
			return nil
		}
		if data, err := os.ReadFile(path); err == nil && strings.Contains(string(data), needle) {
			found = true
		}
		return nil
	})
	return found
}

// StartReplica starts a redis-server replicating primary (its data in a
// directory of its own) and waits until the first sync is done.
func StartReplica(t testing.TB, primary *Server) *Server {
	t.Helper()
	s := startWith(t, "--replicaof", "127.0.0.1", strconv.Itoa(primary.Port))
	deadline := time.Now().Add(20 * time.Second)
	for !s.linked() {
		if time.Now().After(deadline) {
			t.Fatalf("replica %s did not sync with %s: %s", s.Addr, primary.Addr, s.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s
}

// linked reports whether a replica's link to its primary is up.
func (s *Server) linked() bool {
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	info, err := c.Info(ctx, "replication").Result()
	return err == nil && strings.Contains(info, "master_link_status:up")
}

// StartCopy starts a redis-server on a copy of src's data directory as
// it is now (its AOF and any RDB file, as a backup of them would hold):
// what a copy of the files opens to. src keeps running.
func StartCopy(t testing.TB, src *Server) *Server {
	t.Helper()
	dir := t.TempDir()
	err := filepath.WalkDir(src.Dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src.Dir, path)
		to := filepath.Join(dir, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(to, 0o700)
		case rel == "redis.log":
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(to, data, 0o600)
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src.Dir, err)
	}
	return startIn(t, dir)
}

func startWith(t testing.TB, extra ...string) *Server {
	t.Helper()
	return startIn(t, t.TempDir(), extra...)
}

func startIn(t testing.TB, dir string, extra ...string) *Server {
	t.Helper()
	bin := Binary()
	if bin == "" {
		unavailable(t, "no redis-server binary on PATH")
	}
	s := &Server{t: t, bin: bin, conf: Conf(), Dir: dir, extra: extra}
	var err error
	for try := 0; try < 5; try++ {
		s.Port, err = freePort()
		if err != nil {
			continue
		}
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
		if err = s.start(); err == nil {
			break
		}
	}
	if err != nil {
		unavailable(t, "cannot start redis-server: "+err.Error())
	}
	t.Cleanup(func() { s.Kill() })
	return s
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) start() error {
	var args []string
	if s.conf != "" {
		// A copy in the server's directory: a server Sentinel reconfigures
		// rewrites its configuration file (CONFIG REWRITE).
		conf := filepath.Join(s.Dir, "redis.conf")
		if _, err := os.Stat(conf); err != nil {
			data, err := os.ReadFile(s.conf)
			if err != nil {
				return err
			}
			if err := os.WriteFile(conf, data, 0o600); err != nil {
				return err
			}
		}
		args = append(args, conf)
	} else {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	}
	args = append(args,
		"--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1", "--dir", s.Dir,
		"--daemonize", "no", "--protected-mode", "yes",
		"--logfile", filepath.Join(s.Dir, "redis.log"), "--save", "")
	args = append(args, s.extra...)
	cmd, done, err := startProcess("redis-server", s.bin, args, s.ping, s.logTail)
	s.cmd, s.done = cmd, done
	return err
}

// startProcess starts a server and waits up to 10 s until ping answers;
// a server that exits or does not answer is an error naming its log's
// tail (one that does not answer is killed).
func startProcess(what, bin string, args []string, ping func() error, logTail func() string) (*exec.Cmd, chan struct{}, error) {
	cmd := exec.Command(bin, args...)
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return nil, nil, fmt.Errorf("%s exited at start: %s", what, logTail())
		default:
		}
		if ping() == nil {
			return cmd, done, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill()
	<-done
	killGroup(cmd.Process.Pid)
	return nil, nil, fmt.Errorf("%s did not answer within 10s: %s", what, logTail())
}

func (s *Server) ping() error {
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return c.Ping(ctx).Err()
}

func (s *Server) logTail() string {
	f, err := os.Open(filepath.Join(s.Dir, "redis.log"))
	if err != nil {
		return "(no log)"
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > 5 {
			lines = lines[1:]
		}
	}
	return fmt.Sprint(lines)
}

var prefixes atomic.Int64

// URL is a store URL for this server under a fresh key prefix, so tests
// sharing one server never see each other's keys.
func (s *Server) URL() string {
	return fmt.Sprintf("redis://%s/0?prefix=t%d", s.Addr, prefixes.Add(1))
}

// BaseURL is the server's URL without a prefix.
func (s *Server) BaseURL() string { return "redis://" + s.Addr + "/0" }

// Client is a go-redis client for the server, closed when the test ends.
func (s *Server) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	s.t.Cleanup(func() { c.Close() })
	return c
}

// Kill ends the server with SIGKILL (no shutdown save: what the AOF has
// is all that survives) and waits for it to be gone.
func (s *Server) Kill() { s.signal(syscall.SIGKILL) }

// Stop shuts the server down cleanly (SIGTERM) and waits.
func (s *Server) Stop() { s.signal(syscall.SIGTERM) }

func (s *Server) signal(sig syscall.Signal) {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(sig)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	killGroup(s.cmd.Process.Pid)
	s.cmd = nil
}

// Restart starts the server again on the same port and data directory.
func (s *Server) Restart() {
	s.t.Helper()
	var err error
	for try := 0; try < 50; try++ { // the port may linger a moment
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("restart redis-server: %v", err)
}
