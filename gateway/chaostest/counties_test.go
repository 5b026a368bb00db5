package chaostest

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	c "onething/contracts"
	"onething/gateway/devstack"
	"onething/gateway/service"
	"onething/mocks"
)

// holderIn is the online holder of the examples registered in a county
// of 达州市 (division: a 9-digit town code of it).
func holderIn(t *testing.T, division, county, ref string) []byte {
	t.Helper()
	body, err := c.Example("submission-holder-online.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	json.Unmarshal(body, &doc)
	doc["portalRef"] = ref
	a := doc["applicant"].(map[string]any)
	a["householdDivision"] = division
	addr := a["address"].(map[string]any)
	addr["county"], addr["divisionCode"], addr["town"], addr["village"] = county, division, "某镇", "某村"
	doc["delivery"] = map[string]any{"method": "pickup"}
	out, _ := json.Marshal(doc)
	return out
}

// Two counties' hrss systems, one of them down: the other county's cases
// complete meanwhile (each county's system has its breaker and its
// bulkhead), the breaker of the county that is down opens and no other,
// and once it is back its cases complete too, none lost or applied twice.
func TestChaosOneCountyDown(t *testing.T) {
	const perCounty = 30
	// The outage lasts until the test ends it, after 通川区's cases are all
	// done: the test waits on states, never on how fast a shared machine is.
	const down = time.Hour
	noisy := mocks.Faults{ErrorRate: 0.1, Jitter: mocks.Duration(10 * time.Millisecond), DuplicateRate: 0.2}
	st, err := devstack.Start(devstack.Options{
		Dir: t.TempDir(), Delay: 10 * time.Millisecond,
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Faults: map[c.Dept]mocks.Faults{c.DeptHRSS: noisy},
		Tune: func(cfg *service.Config) {
			cfg.BaseBackoff, cfg.MaxBackoff = service.Duration(20*time.Millisecond), service.Duration(300*time.Millisecond)
			cfg.BreakerOpenFor = service.Duration(300 * time.Millisecond)
			cfg.Workers, cfg.WorkersPerSystem = 8, 2
			cfg.MaxAttempts = 1000 // the outage outlasts any attempt count: nothing parks
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	dachuan := st.CountyMocks[c.DeptHRSS].County("511703")
	dachuan.Outage(down)

	ids := map[string][]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < perCounty; i++ {
		for _, cty := range []struct{ code, division, name string }{{"511702", "511702003", "通川区"}, {"511703", "511703101", "达川区"}} {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				body := holderIn(t, cty.division, cty.name, fmt.Sprintf("CHAOS-%s-%03d", cty.code, i))
				resp, err := devstack.PostSigned(st.GatewayURL+"/v1/portal/submissions", st.PortalSecret, fmt.Sprintf("chaos-%s-%d", cty.code, i), body)
				if err != nil {
					t.Error(err)
					return
				}
				var acc c.SubmissionAccepted
				json.NewDecoder(resp.Body).Decode(&acc)
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted {
					t.Errorf("submission %s-%d: %d", cty.code, i, resp.StatusCode)
					return
				}
				mu.Lock()
				ids[cty.code] = append(ids[cty.code], acc.ApplicationID)
				mu.Unlock()
			}(i)
		}
	}
	wg.Wait()

	// pensionState is the state of an application's pension task.
	pensionState := func(id string) c.TaskState {
		app, err := st.Service.Store.Get(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range app.Tasks {
			if task.Item == c.ItemPensionSubsidy {
				return task.State
			}
		}
		return ""
	}
	waitApproved := func(code string, until time.Time) bool {
		for {
			done := 0
			for _, id := range ids[code] {
				if pensionState(id) == c.TaskApproved {
					done++
				}
			}
			if done == perCounty {
				return true
			}
			if time.Now().After(until) {
				t.Logf("%s: %d of %d pension tasks approved", code, done, perCounty)
				return false
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// 通川区's pensions are all approved while 达川区's system is down.
	if !waitApproved("511702", time.Now().Add(90*time.Second)) {
		t.Error("通川区's cases did not complete while 达川区's hrss was down: one county's outage held up another's")
	}
	stillDown := 0
	for _, id := range ids["511703"] {
		if pensionState(id) != c.TaskApproved {
			stillDown++
		}
	}
	if stillDown != perCounty {
		t.Errorf("%d of 达川区's pensions were approved while its system was down", perCounty-stillDown)
	}
	breakers := st.Service.BreakerStatus()
	opened := func(name string) bool {
		for _, tr := range breakers[name].Transitions {
			if tr.To == "open" {
				return true
			}
		}
		return false
	}
	// 达川区's breaker opens once enough of its calls have failed: how
	// many have by the time 通川区's cases are done depends on the
	// machine, so wait for the state (the outage lasts until the test
	// ends it).
	for limit := time.Now().Add(90 * time.Second); !opened("hrss:511703") && time.Now().Before(limit); {
		time.Sleep(50 * time.Millisecond)
		breakers = st.Service.BreakerStatus()
	}
	if !opened("hrss:511703") {
		t.Errorf("达川区's hrss breaker never opened: %+v", breakers["hrss:511703"])
	}
	if opened("hrss") {
		t.Errorf("通川区's hrss breaker opened during 达川区's outage: %+v", breakers["hrss"].Transitions)
	}
	// Back up: 达川区's cases complete too.
	dachuan.Outage(0)
	if !waitApproved("511703", time.Now().Add(90*time.Second)) {
		t.Error("达川区's cases did not complete after its system came back")
	}
	// Each system took its own county's cases, each once.
	for code, m := range map[string]*mocks.Dept{"511702": st.Depts[c.DeptHRSS], "511703": dachuan} {
		s := m.Stats()
		if s.Counties[code] != perCounty || len(s.Counties) != 1 {
			t.Errorf("%s's hrss took cases of %v, want %d of its own", code, s.Counties, perCounty)
		}
		for task, n := range s.Effects {
			if n != 1 {
				t.Errorf("%s: task %s applied %d times", code, task, n)
			}
		}
	}
	t.Logf("达川区's hrss breaker: %d transitions; 通川区's: %d", len(breakers["hrss:511703"].Transitions), len(breakers["hrss"].Transitions))
}
