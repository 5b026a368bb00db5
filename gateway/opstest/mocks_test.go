//go:build linux

package opstest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"onething/adapters/client"
	c "onething/contracts"
	"onething/gateway/proctest"
	"onething/mocks"
)

// `onething mocks` (what docker-compose runs) decides as `onething dev`
// does: the cdpf mock follows mocks/script.json, so the person of
// contracts/examples/submission-cert-refused.json is refused there too,
// while a person the script does not name is approved.
func TestMocksCommandFollowsTheScript(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "mocks.json")
	mp := proctest.Start(t, dir, "mocks", nil, "mocks", "--delay", "1ms", "--out", out)
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
	// The mock posts its events here; the test reads them back from the
	// case itself (GET {cases}/{caseNo}).
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	t.Cleanup(sink.Close)

	var refused c.Submission
	raw, err := c.Example("submission-cert-refused.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &refused); err != nil {
		t.Fatal(err)
	}
	if _, scripted := mocks.DefaultScript()[refused.Applicant.IDNumber]; !scripted {
		t.Fatalf("mocks/script.json does not name the person of submission-cert-refused.json")
	}
	cdpf := info.Departments[c.DeptCDPF]
	cl := client.New(client.Config{Name: "cdpf", BaseURL: cdpf.BaseURL, AppKey: cdpf.AppKey, Secret: cdpf.Secret, Timeout: 10 * time.Second})
	final := func(idNumber, key string) c.EventType {
		t.Helper()
		var req c.CaseRequest
		raw, err := c.Example("case-request-cdpf.json")
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &req); err != nil {
			t.Fatal(err)
		}
		req.TaskID, req.Person.IDNumber, req.CallbackURL = key+"-1", idNumber, sink.URL
		ctx := context.Background()
		resp, err := cl.OpenCase(ctx, mocks.CasePaths[c.DeptCDPF], req, key, key)
		if err != nil {
			t.Fatalf("open a case: %v", err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			var view c.CaseView
			if err := cl.Do(ctx, http.MethodGet, mocks.CasePaths[c.DeptCDPF]+"/"+resp.CaseNo, "", key, nil, &view); err != nil {
				t.Fatalf("read the case back: %v", err)
			}
			for _, ev := range view.Events {
				if ev.Type == c.EventApproved || ev.Type == c.EventRejected {
					return ev.Type
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("case %s never decided", resp.CaseNo)
		return ""
	}
	if got := final(refused.Applicant.IDNumber, "mocks-script-refused"); got != c.EventRejected {
		t.Errorf("the person of submission-cert-refused.json: %s under onething mocks, want rejected (as under dev)", got)
	}
	if got := final("51170219850307123X", "mocks-script-unscripted"); got != c.EventApproved {
		t.Errorf("a person the script does not name: %s, want approved", got)
	}
}
