//go:build linux

package opstest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	c "onething/contracts"
	"onething/gateway/devstack"
	"onething/gateway/proctest"
	"onething/gateway/seal"
	"onething/gateway/secrets"
	"onething/gateway/service"
	"onething/gateway/store/redistest"
)

type mocksInfo struct {
	Departments      map[c.Dept]service.Dept `json:"departments"`
	PortalPushURL    string                  `json:"portalPushUrl"`
	PortalPushPath   string                  `json:"portalPushPath"`
	PortalPushSecret string                  `json:"portalPushSecret"`
	URLs             map[string]string       `json:"urls"`
}

// A real `onething serve`, on each backend, receives SIGTERM while
// submissions keep coming and department calls are in flight. It must
// exit cleanly, leave no job leased (those cut short are handed back at
// once), and, started again on the same store, complete every submission
// it answered 202 to, each department applying each task once.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	for _, backend := range []string{"bolt", "redis"} {
		t.Run(backend, func(t *testing.T) { shutdownUnderLoad(t, backend) })
	}
}

func shutdownUnderLoad(t *testing.T, backend string) {
	dir := t.TempDir()
	out := filepath.Join(dir, "mocks.json")
	// Department calls take 300 ms, so some are always in flight; the
	// shutdown grace (100 ms) is shorter, so those are cut and handed back.
	mp := proctest.Start(t, dir, "mocks", nil, "mocks", "--latency", "300ms", "--delay", "5ms", "--out", out)
	var info mocksInfo
	deadline := time.Now().Add(30 * time.Second)
	for {
		if data, err := os.ReadFile(out); err == nil && json.Unmarshal(data, &info) == nil {
			break
		}
		if !mp.Alive() || time.Now().After(deadline) {
			t.Fatalf("mocks did not start: %s", mp.Tail(20))
		}
		time.Sleep(20 * time.Millisecond)
	}
	storeURL := "bolt://" + filepath.Join(dir, "onething.db")
	if backend == "redis" {
		storeURL = redistest.Start(t).URL()
	}
	addr := proctest.FreeAddr(t)
	secret := devstack.NewSecret()
	dp := seal.DevConfig()
	cfg := service.Config{Listen: addr, BaseURL: "http://" + addr, Store: storeURL,
		PortalSecrets: []string{secret}, PortalPushURL: info.PortalPushURL, PortalPushPath: info.PortalPushPath,
		PortalPushSecret: info.PortalPushSecret, ReadTokens: []service.NamedToken{{Subject: "district-office", Token: secrets.Token()}}, Departments: info.Departments,
		Workers: 8, WorkersPerSystem: 4, MaxAttempts: 8, BaseBackoff: service.Duration(50 * time.Millisecond), MaxBackoff: service.Duration(time.Second),
		JobLease: service.Duration(time.Minute), ReconcileEvery: service.Duration(time.Second), ShutdownGrace: service.Duration(100 * time.Millisecond),
		DataProtection: &dp}
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	y, err := yaml.JSONToYAML(js)
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "onething.yaml")
	if err := os.WriteFile(cfgPath, y, 0o600); err != nil {
		t.Fatal(err)
	}
	// serve opens only a store made on purpose: make it first, as the
	// deployments' init step runs `onething store init` (the library here).
	if _, err := service.InitStore(context.Background(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	env := []string{"ONETHING_LOG_FORMAT=json"}
	gw := proctest.Start(t, dir, "gateway-1", env, "serve", "--config", cfgPath)
	url := "http://" + addr
	proctest.WaitHealthy(t, gw, url+"/healthz")

	// Load: four clients submit until the gateway stops answering.
	var mu sync.Mutex
	var accepted []string
	var sent, refused atomic.Int64
	body := func(ref string) []byte {
		raw, _ := c.Example("submission-full.json")
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		dec.Decode(&m)
		m["portalRef"] = ref
		b, _ := json.Marshal(m)
		return b
	}
	ctx, stopLoad := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				ref := fmt.Sprintf("OPS-%s-%d-%d", backend, w, i)
				sent.Add(1)
				resp, err := devstack.PostSigned(url+"/v1/portal/submissions", secret, "msg_"+ref, body(ref))
				if err != nil {
					refused.Add(1)
					time.Sleep(5 * time.Millisecond)
					continue
				}
				data, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusAccepted {
					var acc c.SubmissionAccepted
					if json.Unmarshal(data, &acc) == nil && acc.ApplicationID != "" {
						mu.Lock()
						accepted = append(accepted, acc.ApplicationID)
						mu.Unlock()
					}
				}
				time.Sleep(10 * time.Millisecond)
			}
		}(w)
	}
	defer func() { stopLoad(); wg.Wait() }()

	// SIGTERM once enough is accepted and department calls are in flight.
	deadline = time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		n := len(accepted)
		mu.Unlock()
		if n >= 30 && inflight(info) > 0 {
			break
		}
		if time.Now().After(deadline) || !gw.Alive() {
			t.Fatalf("no load in flight (accepted %d): %s", n, gw.Tail(20))
		}
		time.Sleep(10 * time.Millisecond)
	}
	gw.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-gw.Done():
	case <-time.After(60 * time.Second):
		t.Fatalf("the gateway did not exit after SIGTERM: %s", gw.Tail(20))
	}
	stopLoad()
	wg.Wait()
	if code := gw.Cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit status %d after SIGTERM: %s", code, gw.Tail(20))
	}
	log := gw.Output()
	if !strings.Contains(log, "shut down: requests and jobs finished or handed back") {
		t.Errorf("no clean shutdown in the log:\n%s", gw.Tail(10))
	}
	t.Logf("%s: %d sent, %d accepted, %d refused while stopping; cut short and handed back: %v",
		backend, sent.Load(), len(accepted), refused.Load(), strings.Contains(log, "handing them back"))

	if backend == "redis" {
		// Nothing is left leased: a job cut short was handed back at once,
		// not left for its one-minute lease to run out.
		st, err := service.OpenStore(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		q, err := st.QueueStats(context.Background())
		st.Close()
		if err != nil {
			t.Fatal(err)
		}
		if q.Leased != 0 {
			t.Errorf("%d jobs still leased after the shutdown", q.Leased)
		}
	}

	// Started again on the same store, it completes everything accepted.
	gw2 := proctest.Start(t, dir, "gateway-2", env, "serve", "--config", cfgPath)
	proctest.WaitHealthy(t, gw2, url+"/healthz")
	waitCompleted(t, info, accepted, gw2)
	checkOnce(t, info, url, cfg.ReadTokens[0].Token, accepted)
	gw2.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-gw2.Done():
	case <-time.After(60 * time.Second):
		t.Errorf("the second gateway did not exit after SIGTERM")
	}
}

func getJSON(url, token string, v any) error {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d", url, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// inflight counts the case requests the departments are answering now.
func inflight(info mocksInfo) int {
	n := 0
	for _, d := range c.Depts {
		var calls []json.RawMessage
		if getJSON(info.URLs[string(d)]+"/_mock/inflight", "", &calls) == nil {
			n += len(calls)
		}
	}
	return n
}

// waitCompleted waits (bounded) until the portal was told every
// application is completed.
func waitCompleted(t *testing.T, info mocksInfo, ids []string, gw *proctest.Proc) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		var got struct {
			Latest map[string]c.StatusPush `json:"latest"`
		}
		missing := 0
		if err := getJSON(info.URLs["portal"]+"/_mock/pushes", "", &got); err == nil {
			for _, id := range ids {
				if p, ok := got.Latest[id]; !ok || p.Status.State != c.AppCompleted {
					missing++
				}
			}
			if missing == 0 {
				return
			}
		}
		if time.Now().After(deadline) || !gw.Alive() {
			t.Fatalf("%d of %d accepted applications not completed: %s", missing, len(ids), gw.Tail(15))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkOnce: every accepted application is stored and completed with all
// five items approved, and each department applied each task once.
func checkOnce(t *testing.T, info mocksInfo, url, token string, ids []string) {
	t.Helper()
	effects := map[c.Dept]map[string]int{}
	for _, d := range c.Depts {
		var s struct {
			Effects map[string]int `json:"effects"`
		}
		if err := getJSON(info.URLs[string(d)]+"/_mock/stats", "", &s); err != nil {
			t.Fatal(err)
		}
		effects[d] = s.Effects
	}
	for _, id := range ids {
		var v c.ApplicationView
		if err := getJSON(url+"/v1/applications/"+id, token, &v); err != nil {
			t.Fatal(err)
		}
		if v.Status.State != c.AppCompleted || v.Status.Counts[c.TaskApproved] != 5 {
			t.Errorf("%s: %s %+v; want completed with 5 approved", id, v.Status.State, v.Status.Counts)
		}
		for _, it := range v.Items {
			if it.CaseNo != "" && effects[it.Dept][it.TaskID] != 1 {
				t.Errorf("%s applied task %s %d times, want once", it.Dept, it.TaskID, effects[it.Dept][it.TaskID])
			}
		}
	}
}
