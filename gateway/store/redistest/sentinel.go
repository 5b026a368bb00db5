package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Sentinel is one running redis-sentinel watching a primary.
type Sentinel struct {
	Port int
	Addr string
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

// SentinelBinary finds redis-sentinel, or else redis-server (which runs
// as a sentinel with --sentinel: Debian's redis-server package has no
// redis-sentinel unless the redis-sentinel package is installed).
func SentinelBinary() (bin string, args []string) {
	if p, err := exec.LookPath("redis-sentinel"); err == nil {
		return p, nil
	}
	if p := Binary(); p != "" {
		return p, []string{"--sentinel"}
	}
	return "", nil
}

// StartSentinels starts n sentinels watching primary as master (quorum
// n/2+1, a primary down after downAfter), each killed when t ends, and
// waits until every one knows the others and the primary's replicas.
func StartSentinels(t testing.TB, master string, primary *Server, n int, downAfter time.Duration) []*Sentinel {
	t.Helper()
	bin, pre := SentinelBinary()
	if bin == "" {
		unavailable(t, "no redis-sentinel or redis-server binary on PATH")
	}
	var out []*Sentinel
	for i := 0; i < n; i++ {
		s := &Sentinel{dir: t.TempDir()}
		var err error
		for try := 0; try < 5; try++ {
			if s.Port, err = freePort(); err != nil {
				continue
			}
			s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
			// A sentinel rewrites its configuration file: it must be its own.
			conf := fmt.Sprintf("port %d\nbind 127.0.0.1\ndaemonize no\ndir %s\nlogfile %s\n"+
				"sentinel monitor %s 127.0.0.1 %d %d\nsentinel down-after-milliseconds %s %d\n"+
				"sentinel failover-timeout %s 10000\nsentinel parallel-syncs %s 1\n",
				s.Port, s.dir, filepath.Join(s.dir, "sentinel.log"), master, primary.Port, n/2+1,
				master, downAfter.Milliseconds(), master, master)
			path := filepath.Join(s.dir, "sentinel.conf")
			if err = os.WriteFile(path, []byte(conf), 0o600); err != nil {
				t.Fatal(err)
			}
			if err = s.start(bin, append([]string{path}, pre...)); err == nil {
				break
			}
		}
		if err != nil {
			unavailable(t, "cannot start a sentinel: "+err.Error())
		}
		t.Cleanup(s.Kill)
		out = append(out, s)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, s := range out {
		for !s.knows(master, n-1) {
			if time.Now().After(deadline) {
				t.Fatalf("sentinel %s did not find the other sentinels and the replicas: %s", s.Addr, s.logTail())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return out
}

func (s *Sentinel) start(bin string, args []string) error {
	cmd, done, err := startProcess("sentinel", bin, args, s.ping, s.logTail)
	s.cmd, s.done = cmd, done
	return err
}

func (s *Sentinel) ping() error {
	c := redis.NewSentinelClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return c.Ping(ctx).Err()
}

// knows reports whether the sentinel sees others other sentinels and at
// least one replica of master.
func (s *Sentinel) knows(master string, others int) bool {
	c := redis.NewSentinelClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	m, err := c.Master(ctx, master).Result()
	if err != nil {
		return false
	}
	n, _ := strconv.Atoi(m["num-other-sentinels"])
	r, _ := strconv.Atoi(m["num-slaves"])
	return n >= others && r >= 1
}

// Primary asks the sentinel which address is the master's now.
func (s *Sentinel) Primary(master string) (string, error) {
	c := redis.NewSentinelClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	a, err := c.GetMasterAddrByName(ctx, master).Result()
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(a[0], a[1]), nil
}

// Kill ends the sentinel (SIGKILL) and waits for it to be gone.
func (s *Sentinel) Kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
	killGroup(s.cmd.Process.Pid)
	s.cmd = nil
}

func (s *Sentinel) logTail() string {
	data, err := os.ReadFile(filepath.Join(s.dir, "sentinel.log"))
	if err != nil {
		return "(no log)"
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) > 6 {
		lines = lines[len(lines)-6:]
	}
	return strings.Join(lines, " | ")
}

// SentinelURL is a store URL reaching master through these sentinels,
// under a fresh key prefix.
func SentinelURL(master string, ss []*Sentinel) string {
	var addrs []string
	for _, s := range ss {
		addrs = append(addrs, s.Addr)
	}
	return fmt.Sprintf("redis+sentinel://%s/%s/0?prefix=t%d", strings.Join(addrs, ","), master, prefixes.Add(1))
}
