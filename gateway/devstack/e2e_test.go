package devstack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	c "onething/contracts"
	"onething/contracts/contracttest"
	"onething/gateway/devstack"
	"onething/gateway/service"
	"onething/gateway/store"
)

// start runs the whole chain on loopback with every exchange checked
// against the contracts: the gateway's replies by the client's transport,
// the mocks' traffic by a middleware in front of each mock.
func start(t *testing.T, delay time.Duration) (*devstack.Stack, *http.Client) {
	t.Helper()
	return startWith(t, devstack.Options{Delay: delay})
}

// startWith is start with more options (a mock script, a clock …); the
// data directory, a quiet log, short backoffs and the contract checks are
// filled in.
func startWith(t *testing.T, opts devstack.Options) (*devstack.Stack, *http.Client) {
	t.Helper()
	specs := map[string]string{"cdpf": "dept-cdpf", "civil": "dept-civil", "hrss": "dept-hrss", "medical": "dept-medical", "portal": "portal-receiver"}
	opts.Dir = t.TempDir()
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	opts.Tune = func(cfg *service.Config) {
		cfg.BaseBackoff, cfg.MaxBackoff = service.Duration(20*time.Millisecond), service.Duration(200*time.Millisecond)
	}
	opts.WrapMock = func(name string, h http.Handler) http.Handler {
		return contracttest.New(t, specs[name]).Middleware(h)
	}
	st, err := devstack.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Stop() })
	return st, &http.Client{Transport: contracttest.New(t, "gateway").Transport(http.DefaultTransport), Timeout: 20 * time.Second}
}

func submitExample(t *testing.T, st *devstack.Stack, hc *http.Client, name, msgID string) c.SubmissionAccepted {
	t.Helper()
	body, err := c.Example(name)
	if err != nil {
		t.Fatal(err)
	}
	return submitBody(t, st, body, msgID)
}

func view(t *testing.T, st *devstack.Stack, hc *http.Client, id string) c.ApplicationView {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, st.GatewayURL+"/v1/applications/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+st.ReadToken)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v c.ApplicationView
	if resp.StatusCode != 200 {
		t.Fatalf("GET application: %d", resp.StatusCode)
	}
	json.NewDecoder(resp.Body).Decode(&v)
	return v
}

// waitCompleted polls the status until completed, recording every state
// each item was seen in.
func waitCompleted(t *testing.T, st *devstack.Stack, hc *http.Client, id string, limit time.Duration) (c.ApplicationView, map[c.ItemCode][]c.TaskState) {
	t.Helper()
	seen := map[c.ItemCode][]c.TaskState{}
	deadline := time.Now().Add(limit)
	for {
		v := view(t, st, hc, id)
		for _, it := range v.Items {
			if s := seen[it.Item]; len(s) == 0 || s[len(s)-1] != it.State {
				seen[it.Item] = append(s, it.State)
			}
		}
		if v.Status.State == c.AppCompleted {
			return v, seen
		}
		if time.Now().After(deadline) {
			t.Fatalf("not completed after %s: %+v", limit, v.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestEndToEndMainCase(t *testing.T) {
	st, hc := start(t, 30*time.Millisecond)
	acc := submitExample(t, st, hc, "submission-full.json", "msg_e2e_1")
	// The 202 was written from the stored plan, before any department answered.
	for _, it := range acc.Items {
		if it.CaseNo != "" || (it.State != c.TaskReady && it.State != c.TaskWaiting) {
			t.Errorf("202 shows %s already %s (%s)", it.Item, it.State, it.CaseNo)
		}
	}
	v, seen := waitCompleted(t, st, hc, acc.ApplicationID, 20*time.Second)

	if v.Status.Counts[c.TaskApproved] != 5 || len(v.Items) != 5 {
		t.Fatalf("final status %+v", v.Status)
	}
	want := map[c.ItemCode]bool{c.ItemCertNew: true, c.ItemSubsidyLiving: true, c.ItemSubsidyNursing: true, c.ItemPensionSubsidy: true, c.ItemMedicalSubsidy: true}
	for _, it := range v.Items {
		if !want[it.Item] || it.State != c.TaskApproved || it.CaseNo == "" {
			t.Errorf("item %s: %s case %q", it.Item, it.State, it.CaseNo)
		}
	}
	t.Logf("states seen while polling: %v", seen)

	// Order: the certificate was issued before any subsidy reached civil,
	// and civil decided from the certificate cdpf issued.
	cdpfCases := st.Depts[c.DeptCDPF].Cases()
	if len(cdpfCases) != 1 {
		t.Fatalf("cdpf cases: %d", len(cdpfCases))
	}
	var issuedAt time.Time
	var issued *c.Certificate
	for _, e := range cdpfCases[0].Events {
		if e.Type == c.EventApproved {
			issuedAt, issued = e.OccurredAt, e.Certificate
		}
	}
	if issued == nil || issued.Number != "51170219850307123X41" {
		t.Fatalf("cdpf issued %+v", issued)
	}
	civilCases := st.Depts[c.DeptCivil].Cases()
	if len(civilCases) != 2 {
		t.Fatalf("civil cases: %d, want living + nursing", len(civilCases))
	}
	for _, cs := range civilCases {
		if !cs.ReceivedAt.After(issuedAt) {
			t.Errorf("civil got %s at %s, before the certificate was issued at %s", cs.Request.Item, cs.ReceivedAt, issuedAt)
		}
		if cs.Request.Certificate == nil || *cs.Request.Certificate != *issued {
			t.Errorf("civil %s decided without the issued certificate: %+v", cs.Request.Item, cs.Request.Certificate)
		}
		// Data minimisation: civil gets no phone, address or guardian.
		if p := cs.Request.Person; p.Mobile != "" || p.Address != nil || p.Guardian != nil {
			t.Errorf("civil received more personal data than it needs: %+v", p)
		}
	}

	// Each department saw each task's effect exactly once.
	wantCases := map[c.Dept]int{c.DeptCDPF: 1, c.DeptCivil: 2, c.DeptHRSS: 1, c.DeptMedical: 1}
	for d, m := range st.Depts {
		s := m.Stats()
		if s.Cases != wantCases[d] {
			t.Errorf("%s: %d cases, want %d", d, s.Cases, wantCases[d])
		}
		for task, n := range s.Effects {
			if n != 1 {
				t.Errorf("%s applied task %s %d times", d, task, n)
			}
		}
	}

	// The portal received validly signed pushes, the last one complete.
	deadline := time.Now().Add(5 * time.Second)
	for {
		latest, ok := st.Portal.Latest(acc.ApplicationID)
		if ok && latest.Status.State == c.AppCompleted {
			if latest.Version < v.Version {
				t.Errorf("latest push version %d < application version %d", latest.Version, v.Version)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("portal never got the completed status: %+v %v", latest, ok)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st.Portal.Rejected() != 0 {
		t.Errorf("%d pushes failed signature verification", st.Portal.Rejected())
	}
	// The case changed many times, in bursts: each burst within the push
	// settle time (pushSettle) goes out as one push of its newest
	// version, so there are at most as many pushes as versions (here
	// usually one or two), in version order.
	var versions []int64
	for _, p := range st.Portal.Pushes() {
		if p.ApplicationID == acc.ApplicationID {
			versions = append(versions, p.Version)
		}
	}
	if len(versions) == 0 || int64(len(versions)) > v.Version {
		t.Errorf("%d pushes (versions %v) for a case that reached version %d", len(versions), versions, v.Version)
	}
	for i := 1; i < len(versions); i++ {
		if versions[i] <= versions[i-1] {
			t.Errorf("pushes out of version order or repeated: %v", versions)
		}
	}
	for _, p := range st.Portal.Pushes() {
		raw, _ := json.Marshal(p)
		for _, secret := range []string{"51170219850307123X", "张志明", "13881801234"} {
			if bytes.Contains(raw, []byte(secret)) {
				t.Errorf("a status push carries personal data %q", secret)
			}
		}
	}
}

// The gateway stops right after the 202, before the fan-out is done, and
// starts again on the same data file: the case still completes and no
// department sees a task twice.
func TestRestartMidFanOut(t *testing.T) {
	st, hc := start(t, 200*time.Millisecond)
	acc := submitExample(t, st, hc, "submission-full.json", "msg_restart")
	if err := st.StopGateway(); err != nil {
		t.Fatal(err)
	}
	// While it is down, the record shows work still to do.
	keys, err := service.Keyring(st.Config)
	if err != nil {
		t.Fatal(err)
	}
	s, err := store.OpenBolt(filepath.Join(filepath.Dir(st.Config.DataFile), "onething.db"), store.WithKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	app, err := s.Get(context.Background(), acc.ApplicationID)
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	if app.Status.State == c.AppCompleted {
		t.Fatal("completed before the restart: the test shows nothing")
	}
	if err := st.RestartGateway(); err != nil {
		t.Fatal(err)
	}
	v, _ := waitCompleted(t, st, hc, acc.ApplicationID, 30*time.Second)
	if v.Status.Counts[c.TaskApproved] != 5 {
		t.Errorf("after restart: %+v", v.Status)
	}
	for d, m := range st.Depts {
		for task, n := range m.Stats().Effects {
			if n != 1 {
				t.Errorf("%s applied task %s %d times", d, task, n)
			}
		}
	}
	// A repeat of the first delivery after the restart is still known.
	body, _ := c.Example("submission-full.json")
	resp, err := devstack.PostSigned(st.GatewayURL+"/v1/portal/submissions", st.PortalSecret, "msg_restart", body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("repeat after restart: %d, want 200 duplicate", resp.StatusCode)
	}
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
