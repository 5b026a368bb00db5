//go:build linux

package replicatest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	c "onething/contracts"
	"onething/gateway/devstack"
	"onething/gateway/proctest"
	"onething/gateway/seal"
	"onething/gateway/secrets"
	"onething/gateway/service"
	"onething/gateway/store"
	"onething/gateway/store/redistest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	proctest.Cleanup()
	os.Exit(code)
}

// build compiles the onething command once.
func build(t *testing.T) string { return proctest.Binary(t) }

// mocksInfo is what `onething mocks` writes.
type mocksInfo struct {
	Departments      map[c.Dept]service.Dept `json:"departments"`
	PortalPushURL    string                  `json:"portalPushUrl"`
	PortalPushPath   string                  `json:"portalPushPath"`
	PortalPushSecret string                  `json:"portalPushSecret"`
	URLs             map[string]string       `json:"urls"`
}

// balancer stands in front of the replicas for the departments' callbacks,
// as the load balancer does in production: round robin, and on a replica
// that does not answer, the next one.
type balancer struct {
	URL    string
	srv    *http.Server
	client *http.Client

	mu       sync.Mutex
	backends []string
	next     int
}

func newBalancer(t *testing.T) *balancer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &balancer{URL: "http://" + ln.Addr().String(), client: &http.Client{Timeout: 10 * time.Second}}
	b.srv = &http.Server{Handler: b, ReadHeaderTimeout: 5 * time.Second}
	go b.srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		b.srv.Shutdown(ctx)
	})
	return b
}

func (b *balancer) set(urls ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.backends = append([]string(nil), urls...)
}

func (b *balancer) order() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(b.backends)
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, b.backends[(b.next+i)%n])
	}
	b.next++
	return out
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	for _, be := range b.order() {
		req, err := http.NewRequestWithContext(r.Context(), r.Method, be+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			continue
		}
		req.Header = r.Header.Clone()
		resp, err := b.client.Do(req)
		if err != nil {
			continue // that replica is gone: try the next
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
		resp.Body.Close()
		return
	}
	http.Error(w, "no replica answered", http.StatusBadGateway)
}

type options struct {
	latency  time.Duration // departments' answer time
	delay    time.Duration // departments' time between events
	jobLease time.Duration
	// pollMedical makes the replicas poll medical's cases as well.
	pollMedical time.Duration
	// sentinel: a primary, a replica and three sentinels instead of one
	// Redis; the replicas find the primary through the sentinels and
	// every write waits for the replica (redis.minReplicas 1).
	sentinel bool
	// ownBaseURL gives each replica a baseUrl of its own (a balancer of
	// its own, in front of both replicas, so callbacks still arrive):
	// the configuration the README warns against.
	ownBaseURL bool
}

// cluster: one Redis, the mocks process, the balancer, two gateways.
type cluster struct {
	t        *testing.T
	dir      string
	redis    *redistest.Server // the primary, at the start
	storeURL string
	// sentinels watch redis and its replica (options.sentinel).
	sentinels []*redistest.Sentinel
	mocks     mocksInfo
	mockProc  *proctest.Proc
	lb        *balancer
	// bases are the replicas' own balancers (options.ownBaseURL), by
	// replica name.
	bases  map[string]*balancer
	gw     []*replica
	secret string
	token  string
	http   *http.Client
	// keys seal the personal data; every replica has the same.
	keys *seal.Config
}

type replica struct {
	*proctest.Proc
	url string
}

func newCluster(t *testing.T, o options) *cluster {
	t.Helper()
	srv := redistest.Start(t)
	storeURL := srv.URL()
	var sentinels []*redistest.Sentinel
	if o.sentinel {
		redistest.StartReplica(t, srv)
		sentinels = redistest.StartSentinels(t, "onething", srv, 3, time.Second)
		storeURL = redistest.SentinelURL("onething", sentinels)
	}
	cl := &cluster{t: t, dir: t.TempDir(), redis: srv, storeURL: storeURL, sentinels: sentinels,
		secret: devstack.NewSecret(), token: secrets.Token(), http: &http.Client{Timeout: 10 * time.Second}}
	keys := seal.DevConfig()
	cl.keys = &keys
	out := filepath.Join(cl.dir, "mocks.json")
	cl.mockProc = proctest.Start(t, cl.dir, "mocks", nil, "mocks", "--latency", o.latency.String(), "--delay", o.delay.String(), "--out", out)
	deadline := time.Now().Add(20 * time.Second)
	for {
		data, err := os.ReadFile(out)
		if err == nil {
			if err := json.Unmarshal(data, &cl.mocks); err != nil {
				t.Fatalf("mocks info: %v", err)
			}
			break
		}
		if time.Now().After(deadline) || !cl.mockProc.Alive() {
			t.Fatalf("onething mocks did not start: %s", cl.mockProc.Tail(20))
		}
		time.Sleep(20 * time.Millisecond)
	}
	cl.lb = newBalancer(t)
	lbs := []*balancer{cl.lb}
	if o.ownBaseURL {
		cl.bases = map[string]*balancer{}
		for _, name := range []string{"A", "B"} {
			cl.bases[name] = newBalancer(t)
			lbs = append(lbs, cl.bases[name])
		}
	}
	for _, name := range []string{"A", "B"} {
		cl.gw = append(cl.gw, cl.startReplica(name, o))
	}
	for _, lb := range lbs {
		lb.set(cl.gw[0].url, cl.gw[1].url)
	}
	return cl
}

func (cl *cluster) startReplica(name string, o options) *replica {
	t := cl.t
	t.Helper()
	lease := o.jobLease
	if lease == 0 {
		lease = 5 * time.Second
	}
	addr := proctest.FreeAddr(t)
	cfg := service.Config{
		Listen: addr, BaseURL: cl.baseURL(name),
		PortalSecrets: []string{cl.secret}, PortalPushURL: cl.mocks.PortalPushURL, PortalPushPath: cl.mocks.PortalPushPath,
		PortalPushSecret: cl.mocks.PortalPushSecret, ReadTokens: []service.NamedToken{{Subject: "district-office", Token: cl.token}}, Departments: cl.mocks.Departments,
		Workers: 16, WorkersPerSystem: 6, MaxAttempts: 8, BaseBackoff: service.Duration(50 * time.Millisecond), MaxBackoff: service.Duration(time.Second),
		JobLease: service.Duration(lease), ReconcileEvery: service.Duration(time.Second),
		DataProtection: cl.keys,
	}
	if o.sentinel {
		cfg.Redis = &service.RedisConfig{MinReplicas: 1, WaitTimeout: service.Duration(time.Second)}
	}
	if o.pollMedical > 0 {
		d := cfg.Departments[c.DeptMedical]
		d.PollEvery = service.Duration(o.pollMedical)
		cfg.Departments = maps.Clone(cfg.Departments)
		cfg.Departments[c.DeptMedical] = d
	}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(cl.dir, "gateway-"+name+".json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	// Each replica's start is preceded by `store init`, as the Kubernetes
	// initContainer does it: the first makes the store, the others
	// change nothing. (The test calls the library, not the command.)
	initCfg := cfg
	initCfg.Store = cl.storeURL
	if _, err := service.InitStore(context.Background(), initCfg, nil); err != nil {
		t.Fatalf("store init before gateway %s: %v", name, err)
	}
	// The store comes from --store, as an operator would override it.
	p := proctest.Start(t, cl.dir, "gateway-"+name, nil, "serve", "--config", path, "--store", cl.storeURL)
	r := &replica{Proc: p, url: "http://" + addr}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := cl.http.Get(r.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return r
			}
		}
		if time.Now().After(deadline) || !p.Alive() {
			t.Fatalf("gateway %s did not start: %s", name, p.Tail(20))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// baseURL is the public base URL a replica is configured with: the
// shared balancer's, or with options.ownBaseURL one of its own.
func (cl *cluster) baseURL(name string) string {
	if b := cl.bases[name]; b != nil {
		return b.URL
	}
	return cl.lb.URL
}

// body is the bundled main example under another portal reference.
func body(t *testing.T, ref string) []byte {
	t.Helper()
	raw, err := c.Example("submission-full.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	m["portalRef"] = ref
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// submit posts a signed submission to one replica.
func (cl *cluster) submit(r *replica, msgID string, b []byte) (int, c.SubmissionAccepted, error) {
	var acc c.SubmissionAccepted
	resp, err := devstack.PostSigned(r.url+"/v1/portal/submissions", cl.secret, msgID, b)
	if err != nil {
		return 0, acc, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(data, &acc); err != nil {
			return resp.StatusCode, acc, err
		}
	}
	return resp.StatusCode, acc, nil
}

// mustSubmit submits and requires a 202.
func (cl *cluster) mustSubmit(r *replica, msgID, ref string) string {
	cl.t.Helper()
	status, acc, err := cl.submit(r, msgID, body(cl.t, ref))
	if err != nil || status != http.StatusAccepted || acc.ApplicationID == "" {
		cl.t.Fatalf("submission %s to %s: %d %v", ref, r.Name, status, err)
	}
	return acc.ApplicationID
}

func (cl *cluster) getJSON(url string, v any) error {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+cl.token)
	resp, err := cl.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d", url, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// live is a replica still running.
func (cl *cluster) live() *replica {
	for _, r := range cl.gw {
		if r.Alive() {
			return r
		}
	}
	cl.t.Fatal("no replica alive")
	return nil
}

// latest is the newest status the portal received per application.
func (cl *cluster) latest() (map[string]c.StatusPush, error) {
	var got struct {
		Latest map[string]c.StatusPush `json:"latest"`
	}
	err := cl.getJSON(cl.mocks.URLs["portal"]+"/_mock/pushes", &got)
	return got.Latest, err
}

// waitCompleted waits until the portal was told every application is
// completed, then checks each one's record on a live replica.
func (cl *cluster) waitCompleted(ids []string, limit time.Duration) {
	t := cl.t
	t.Helper()
	deadline := time.Now().Add(limit)
	var missing []string
	for {
		latest, err := cl.latest()
		missing = missing[:0]
		if err == nil {
			for _, id := range ids {
				if p, ok := latest[id]; !ok || p.Status.State != c.AppCompleted {
					missing = append(missing, id)
				}
			}
			if len(missing) == 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			for i, id := range missing {
				if i == 3 {
					break
				}
				var v c.ApplicationView
				if err := cl.getJSON(cl.live().url+"/v1/applications/"+id, &v); err == nil {
					t.Logf("%s: %s version %d items %+v", id, v.Status.State, v.Version, v.Status.Counts)
				}
			}
			cl.dumpQueue(missing)
			for _, r := range cl.gw {
				t.Logf("gateway %s log:\n%s", r.Name, r.Tail(15))
			}
			t.Fatalf("%d of %d applications not completed after %s", len(missing), len(ids), limit)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, id := range ids {
		var v c.ApplicationView
		if err := cl.getJSON(cl.live().url+"/v1/applications/"+id, &v); err != nil {
			t.Fatal(err)
		}
		if v.Status.State != c.AppCompleted || v.Status.Counts[c.TaskApproved] != 5 {
			t.Errorf("%s: %s %+v; want completed with 5 approved", id, v.Status.State, v.Status.Counts)
		}
	}
}

// checkEffects: each department applied each task of the applications
// exactly once, and nothing else.
func (cl *cluster) checkEffects(ids []string) {
	t := cl.t
	t.Helper()
	effects := map[c.Dept]map[string]int{}
	for _, d := range c.Depts {
		var s struct {
			Effects map[string]int `json:"effects"`
		}
		if err := cl.getJSON(cl.mocks.URLs[string(d)]+"/_mock/stats", &s); err != nil {
			t.Fatal(err)
		}
		effects[d] = s.Effects
	}
	want := map[c.Dept]int{}
	for _, id := range ids {
		var v c.ApplicationView
		if err := cl.getJSON(cl.live().url+"/v1/applications/"+id, &v); err != nil {
			t.Fatal(err)
		}
		for _, it := range v.Items {
			if it.CaseNo == "" {
				continue // decided without a department
			}
			want[it.Dept]++
			if n := effects[it.Dept][it.TaskID]; n != 1 {
				t.Errorf("%s applied task %s %d times, want once", it.Dept, it.TaskID, n)
			}
		}
	}
	for _, d := range c.Depts {
		if len(effects[d]) != want[d] {
			t.Errorf("%s opened cases for %d tasks, want %d", d, len(effects[d]), want[d])
		}
	}
}

// mockTotals sums the department mocks' repeats (requests sent again
// under their idempotency key) and conflicts (repeats refused 409
// idempotency_conflict: the key sent again with another body).
func (cl *cluster) mockTotals() (sum struct{ Repeats, Conflicts int }) {
	cl.t.Helper()
	for _, d := range c.Depts {
		var s struct {
			Repeats   int `json:"repeats"`
			Conflicts int `json:"conflicts"`
		}
		if err := cl.getJSON(cl.mocks.URLs[string(d)]+"/_mock/stats", &s); err != nil {
			cl.t.Fatal(err)
		}
		sum.Repeats += s.Repeats
		sum.Conflicts += s.Conflicts
	}
	return sum
}

// setFaults sets every department mock's faults (PUT /_mock/faults).
func (cl *cluster) setFaults(faults string) {
	cl.t.Helper()
	for _, d := range c.Depts {
		req, err := http.NewRequest(http.MethodPut, cl.mocks.URLs[string(d)]+"/_mock/faults", strings.NewReader(faults))
		if err != nil {
			cl.t.Fatal(err)
		}
		resp, err := cl.http.Do(req)
		if err != nil {
			cl.t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			cl.t.Fatalf("set faults of %s: HTTP %d", d, resp.StatusCode)
		}
	}
}

// store opens the replicas' store from the test, to look and to meddle.
func (cl *cluster) store() *store.Redis {
	cl.t.Helper()
	keys, err := seal.New(*cl.keys)
	if err != nil {
		cl.t.Fatal(err)
	}
	s, err := store.OpenRedis(context.Background(), cl.storeURL, store.WithKeys(keys))
	if err != nil {
		cl.t.Fatal(err)
	}
	cl.t.Cleanup(func() { s.Close() })
	return s
}

// inflight lists the case requests the departments are answering now.
func (cl *cluster) inflight() []inflightCall {
	var all []inflightCall
	for _, d := range c.Depts {
		var calls []inflightCall
		if err := cl.getJSON(cl.mocks.URLs[string(d)]+"/_mock/inflight", &calls); err == nil {
			all = append(all, calls...)
		}
	}
	return all
}

type inflightCall struct {
	Remote    string `json:"remote"`
	RequestID string `json:"requestId"`
}

// localPorts are the local TCP ports of a process's sockets (Linux
// /proc): a department's in-flight request whose remote port is one of
// them is that process's call.
func localPorts(pid int) (map[int]bool, error) {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return nil, err
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && strings.HasPrefix(link, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	ports := map[int]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 || !inodes[f[9]] {
				continue
			}
			if i := strings.LastIndexByte(f[1], ':'); i >= 0 {
				if p, err := strconv.ParseInt(f[1][i+1:], 16, 32); err == nil {
					ports[int(p)] = true
				}
			}
		}
	}
	return ports, nil
}

func remotePort(addr string) int {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(p)
	return n
}

// countApps counts the applications stored in Redis.
func (cl *cluster) countApps() int {
	cl.t.Helper()
	s := cl.store()
	ctx := context.Background()
	n := 0
	it := s.Client().Scan(ctx, 0, s.Prefix()+":{app:*}", 500).Iterator()
	for it.Next(ctx) {
		if !strings.Contains(it.Val(), "}:") { // not a once key
			n++
		}
	}
	if err := it.Err(); err != nil {
		cl.t.Fatal(err)
	}
	return n
}

// dispatches is how many department calls a replica made (its metrics).
func (cl *cluster) dispatches(r *replica) int {
	cl.t.Helper()
	return cl.metric(r, "onething_dispatches_total")
}

// metric sums the series of one metric a replica exports.
func (cl *cluster) metric(r *replica, name string) int {
	cl.t.Helper()
	resp, err := cl.http.Get(r.url + "/metrics")
	if err != nil {
		cl.t.Fatal(err)
	}
	defer resp.Body.Close()
	total := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		f := strings.Fields(line)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			total += int(v)
		}
	}
	return total
}

// dumpQueue logs, for applications that did not complete, what the store
// holds of them: versions (and the portal's newest), each task's state and
// step, and for the push of the newest version and each task's dispatch at
// its step whether it is queued, due, leased or among the finished ids.
// Ids only: nothing personal.
func (cl *cluster) dumpQueue(ids []string) {
	t := cl.t
	t.Helper()
	s := cl.store()
	ctx := context.Background()
	rdb := s.Client()
	jk, dk, lk, ok := s.QueueKeys()
	latest, _ := cl.latest()
	for i, id := range ids {
		if i == 5 {
			break
		}
		app, rev, err := s.Snapshot(ctx, id)
		if err != nil {
			t.Logf("%s: %v", id, err)
			continue
		}
		_, openErr := rdb.ZScore(ctx, ok, id).Result()
		p, got := latest[id]
		t.Logf("%s: rev %d version %d pushed %d open %v; the portal has version %d %s (any: %v)", id, rev, app.Version, app.PushedVersion, openErr == nil, p.Version, p.Status.State, got)
		for _, tk := range app.Tasks {
			t.Logf("  task %s %s %s step %d attempts %d case %q", tk.ID, tk.Dept, tk.State, tk.Step, tk.Attempts, tk.CaseNo)
		}
		jobIDs := []string{store.PushJobID(id, app.Version)}
		for _, tk := range app.Tasks {
			jobIDs = append(jobIDs, store.DispatchJobID(tk.ID, tk.Step))
		}
		for _, jid := range jobIDs {
			queued, _ := rdb.HExists(ctx, jk, jid).Result()
			_, dueErr := rdb.ZScore(ctx, dk, jid).Result()
			_, leaseErr := rdb.ZScore(ctx, lk, jid).Result()
			_, doneErr := rdb.ZScore(ctx, s.DoneKey(), jid).Result()
			t.Logf("  job %s queued %v due %v leased %v done %v", jid, queued, dueErr == nil, leaseErr == nil, doneErr == nil)
		}
	}
}
