package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// proc is a child process of the bench.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

func startProc(dir, name, bin string, args ...string) (*proc, error) {
	logPath := filepath.Join(dir, name+".out")
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, err
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); lf.Close(); close(p.done) }()
	return p, nil
}

func (p *proc) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// stop ends the process with SIGTERM, then SIGKILL after 20 s.
func (p *proc) stop() {
	if p == nil || !p.alive() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *proc) tail() string {
	b, _ := os.ReadFile(p.log)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 8 {
		lines = lines[len(lines)-8:]
	}
	return strings.Join(lines, "\n")
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitHealthy polls url until it answers 200.
func waitHealthy(p *proc, url string, limit time.Duration) error {
	cl := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	for {
		resp, err := cl.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if !p.alive() {
			return fmt.Errorf("%s exited: %s", p.name, p.tail())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer %s within %s: %s", p.name, url, limit, p.tail())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Memory is a process's memory: the Go heap in use and what the kernel
// holds for it (anonymous memory, and file pages such as bbolt's mmap).
type Memory struct {
	HeapInuse uint64 `json:"heapInuseBytes"`
	RSSAnon   uint64 `json:"rssAnonBytes"`
	RSSFile   uint64 `json:"rssFileBytes"`
}

func memoryOf(pid int, debugAddr string) Memory {
	var m Memory
	if f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if !ok {
				continue
			}
			fields := strings.Fields(v)
			if len(fields) == 0 {
				continue
			}
			n, _ := strconv.ParseUint(fields[0], 10, 64)
			switch k {
			case "RssAnon":
				m.RSSAnon = n * 1024
			case "RssFile":
				m.RSSFile = n * 1024
			}
		}
		f.Close()
	}
	if debugAddr != "" {
		cl := &http.Client{Timeout: 5 * time.Second}
		if resp, err := cl.Get("http://" + debugAddr + "/memstats"); err == nil {
			var s struct {
				HeapInuse uint64 `json:"heapInuse"`
			}
			json.NewDecoder(resp.Body).Decode(&s)
			resp.Body.Close()
			m.HeapInuse = s.HeapInuse
		}
	}
	return m
}

// redisServer is a private redis-server for the bench, run as deployed
// (deploy/redis.conf when found: AOF on, fsync on every write).
type redisServer struct {
	p    *proc
	addr string
}

func findRedis() string {
	if p := os.Getenv("REDIS_SERVER"); p != "" {
		return p
	}
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/bin/redis-server", "/usr/local/bin/redis-server"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// findUp looks for rel in the working directory and its parents.
func findUp(rel string) string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func startRedis(dir string) (*redisServer, string, error) {
	bin := findRedis()
	if bin == "" {
		return nil, "", errors.New("no redis-server binary (install redis-server, or pass --redis URL)")
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	host, port, _ := net.SplitHostPort(addr)
	data := filepath.Join(dir, "redis")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, "", err
	}
	var args []string
	conf := findUp("deploy/redis.conf")
	if conf != "" {
		args = append(args, conf)
	} else {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	}
	args = append(args, "--port", port, "--bind", host, "--dir", data, "--daemonize", "no",
		"--protected-mode", "yes", "--save", "", "--logfile", filepath.Join(data, "redis.log"))
	p, err := startProc(dir, "redis", bin, args...)
	if err != nil {
		return nil, "", err
	}
	rs := &redisServer{p: p, addr: addr}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if rs.ping() == nil {
			how := "deploy/redis.conf"
			if conf == "" {
				how = "appendonly yes, appendfsync always"
			}
			return rs, how, nil
		}
		if !p.alive() || time.Now().After(deadline) {
			p.stop()
			return nil, "", fmt.Errorf("redis-server did not start: %s", p.tail())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *redisServer) ping() error {
	cl := redis.NewClient(&redis.Options{Addr: r.addr, MaxRetries: -1})
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return cl.Ping(ctx).Err()
}

func (r *redisServer) url() string { return "redis://" + r.addr + "/0" }

// flush empties a Redis between phases.
func flushRedis(url string) error {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return err
	}
	cl := redis.NewClient(opt)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return cl.FlushDB(ctx).Err()
}

// redisMemory is Redis' used_memory, for the growth table.
func redisMemory(url string) uint64 {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return 0
	}
	cl := redis.NewClient(opt)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	info, err := cl.Info(ctx, "memory").Result()
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			n, _ := strconv.ParseUint(v, 10, 64)
			return n
		}
	}
	return 0
}
