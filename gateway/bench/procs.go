package bench

import (
	"bufio"
	"bytes"
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
	"time"

	"github.com/redis/go-redis/v9"

	"onething/gateway/childproc"
)

// procStop is how long a child of the bench gets to stop after SIGTERM.
const procStop = 20 * time.Second

func startProc(dir, name, bin string, args ...string) (*childproc.Proc, error) {
	return childproc.Start(dir, name, ".out", nil, bin, args...)
}

// waitHealthy polls url until it answers 200.
func waitHealthy(p *childproc.Proc, url string, limit time.Duration) error {
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
		if !p.Alive() {
			return fmt.Errorf("%s exited: %s", p.Name, p.Tail(8))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer %s within %s: %s", p.Name, url, limit, p.Tail(8))
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
	p    *childproc.Proc
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
	addr, err := childproc.FreeAddr()
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
	// No memory limit: the growth phase stores a million applications,
	// more than deploy/redis.conf's maxmemory holds (docs/CAPACITY.md says
	// what a deployment needs); the phases report the memory Redis used.
	args = append(args, "--port", port, "--bind", host, "--dir", data, "--daemonize", "no",
		"--protected-mode", "yes", "--save", "", "--maxmemory", "0", "--logfile", filepath.Join(data, "redis.log"))
	p, err := startProc(dir, "redis", bin, args...)
	if err != nil {
		return nil, "", err
	}
	rs := &redisServer{p: p, addr: addr}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if rs.ping() == nil {
			how := "deploy/redis.conf, maxmemory 0"
			if conf == "" {
				how = "appendonly yes, appendfsync always, maxmemory 0"
			}
			return rs, how, nil
		}
		if !p.Alive() || time.Now().After(deadline) {
			p.Stop(procStop)
			return nil, "", fmt.Errorf("redis-server did not start: %s", p.Tail(8))
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
	return withRedis(url, 2*time.Minute, func(ctx context.Context, cl *redis.Client) error { return cl.FlushDB(ctx).Err() })
}

// withRedis runs f with a client of the Redis at url.
func withRedis(url string, timeout time.Duration, f func(context.Context, *redis.Client) error) error {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return err
	}
	cl := redis.NewClient(opt)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return f(ctx, cl)
}

// redisInfo is one section of INFO as numbers (fields that are not
// numbers are left out).
func redisInfo(ctx context.Context, cl *redis.Client, section string) (map[string]int64, error) {
	info, err := cl.Info(ctx, section).Result()
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if n, err := strconv.ParseInt(v, 10, 64); ok && err == nil {
			out[k] = n
		}
	}
	return out, nil
}

// redisMemory is Redis' used_memory, for the growth table.
func redisMemory(url string) uint64 {
	var used int64
	withRedis(url, 5*time.Second, func(ctx context.Context, cl *redis.Client) error {
		m, err := redisInfo(ctx, cl, "memory")
		used = m["used_memory"]
		return err
	})
	return uint64(used)
}

// persistenceWork counts the AOF rewrites and RDB saves Redis has started,
// so that a measurement can say whether one of them (a fork writing the
// whole data set while every write is still fsynced) fell in it.
func persistenceWork(url string) int64 {
	var n int64
	withRedis(url, 5*time.Second, func(ctx context.Context, cl *redis.Client) error {
		m, err := redisInfo(ctx, cl, "persistence")
		n = m["aof_rewrites"] + m["rdb_saves"] + m["aof_rewrite_in_progress"] + m["rdb_bgsave_in_progress"]
		return err
	})
	return n
}

// settleAOF has Redis rewrite its AOF now and waits until no rewrite or
// save runs. A store the bench filled from empty seconds ago doubles its
// AOF every few seconds, so Redis would rewrite it (auto-aof-rewrite-
// percentage 100) in nearly every measurement; a deployed store rewrites
// when its AOF doubles, which at a district's volume is rare.
func settleAOF(url string) error {
	return withRedis(url, 3*time.Minute, func(ctx context.Context, cl *redis.Client) error {
		m, err := redisInfo(ctx, cl, "persistence")
		if err != nil {
			return err
		}
		if m["aof_enabled"] == 1 {
			if err := cl.Do(ctx, "BGREWRITEAOF").Err(); err != nil && !strings.Contains(err.Error(), "in progress") {
				return err
			}
		}
		for {
			m, err := redisInfo(ctx, cl, "persistence")
			if err != nil {
				return err
			}
			if m["aof_rewrite_in_progress"] == 0 && m["aof_rewrite_scheduled"] == 0 && m["rdb_bgsave_in_progress"] == 0 {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("the AOF rewrite did not end: %w", ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
}

// clockTick is the unit of the CPU times in /proc (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// procCPU is the CPU time (user and system) a process has used so far, or
// 0 where it cannot be read.
func procCPU(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name (which may hold spaces, so cut at
	// the last ")"): state is field 3, utime 14 and stime 15.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * clockTick
}

// machineCPU is the CPU time every core has spent busy so far (all but
// idle and I/O wait), from /proc/stat.
func machineCPU() time.Duration {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0
	}
	var busy int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 || i >= 8 { // idle, iowait; guest time is in user already
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		busy += n
	}
	return time.Duration(busy) * clockTick
}

// cpuSample is the CPU time used so far by the processes of a phase and by
// the whole machine.
type cpuSample struct {
	procs   map[string]time.Duration
	machine time.Duration
}

func sampleCPU(pids map[string]int) cpuSample {
	s := cpuSample{procs: map[string]time.Duration{}, machine: machineCPU()}
	for name, pid := range pids {
		s.procs[name] = procCPU(pid)
	}
	return s
}

// CPUCost is the CPU time a phase cost per completed application, in
// milliseconds: each process's own, and the machine's in all (which adds
// the kernel's work for them, loopback TCP and fsyncs, and whatever else
// ran).
type CPUCost struct {
	Procs   map[string]float64 `json:"procsMs"`
	Machine float64            `json:"machineMs"`
	// Ceiling is the completions per second the machine's cores would
	// allow at this cost: cores × 1000 / Machine.
	Ceiling float64 `json:"ceilingPerSec"`
}

func cpuCost(from, to cpuSample, n, cores int) *CPUCost {
	if n <= 0 || to.machine <= from.machine {
		return nil
	}
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(n) }
	c := &CPUCost{Procs: map[string]float64{}, Machine: per(to.machine - from.machine)}
	for name, t := range to.procs {
		c.Procs[name] = per(t - from.procs[name])
	}
	c.Ceiling = float64(cores) * 1000 / c.Machine
	return c
}
