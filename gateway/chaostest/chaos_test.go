// Package chaostest runs the whole chain through department systems that
// misbehave on purpose, and counts what was lost (nothing, it must be).
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

const submissions = 500

func adminGet(t *testing.T, st *devstack.Stack, path string, out any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, st.GatewayURL+path, nil)
	req.Header.Set("Authorization", "Bearer "+st.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	json.NewDecoder(resp.Body).Decode(out)
}

func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("the chaos run takes a minute; not in -short")
	}
	noisy := mocks.Faults{ErrorRate: 0.2, Jitter: mocks.Duration(15 * time.Millisecond), DuplicateRate: 0.2, Shuffle: true}
	quiet := noisy
	quiet.NoCallbacks = true // medical never calls back: polling must finish its tasks
	picky := noisy
	picky.RefuseRate = 0.03 // civil refuses a few as malformed: dead letters to replay
	st, err := devstack.Start(devstack.Options{
		Dir: t.TempDir(), Delay: 10 * time.Millisecond,
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Faults: map[c.Dept]mocks.Faults{c.DeptCDPF: noisy, c.DeptCivil: picky, c.DeptHRSS: noisy, c.DeptMedical: quiet},
		Tune: func(cfg *service.Config) {
			cfg.MaxAttempts = 8
			cfg.BaseBackoff, cfg.MaxBackoff = service.Duration(20*time.Millisecond), service.Duration(400*time.Millisecond)
			cfg.BreakerOpenFor = service.Duration(300 * time.Millisecond)
			cfg.Workers, cfg.WorkersPerSystem = 16, 4
			// Reads of open cases stay frequent: callbacks go missing here
			// on purpose, and the run is short.
			cfg.PollMaxInterval = service.Duration(2 * time.Second)
			for d, dc := range cfg.Departments {
				dc.PollEvery = service.Duration(300 * time.Millisecond)
				dc.Timeout = service.Duration(2 * time.Second)
				cfg.Departments[d] = dc
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	example, err := c.Example("submission-full.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(example, &m)

	started := time.Now()
	ids := make([]string, submissions)
	var outageStart, outageEnd time.Time
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := 0; i < submissions; i++ {
		if i == submissions/2 {
			// One department fully down for a stretch in the middle.
			outageStart = time.Now()
			st.Depts[c.DeptCDPF].Outage(3 * time.Second)
			outageEnd = outageStart.Add(3 * time.Second)
		}
		m["portalRef"] = fmt.Sprintf("CHAOS-%04d", i)
		body, _ := json.Marshal(m)
		sem <- struct{}{}
		wg.Add(1)
		go func(i int, body []byte) {
			defer func() { <-sem; wg.Done() }()
			for attempt := 0; ; attempt++ {
				resp, err := devstack.PostSigned(st.GatewayURL+"/v1/portal/submissions", st.PortalSecret, fmt.Sprintf("chaos-%d", i), body)
				if err == nil {
					var acc c.SubmissionAccepted
					json.NewDecoder(resp.Body).Decode(&acc)
					resp.Body.Close()
					if resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusOK {
						ids[i] = acc.ApplicationID
						return
					}
				}
				if attempt == 5 {
					t.Errorf("submission %d refused: %v", i, err)
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}(i, body)
		time.Sleep(5 * time.Millisecond) // spread the load over the outage
	}
	wg.Wait()

	// Wait for every application to finish, replaying dead letters when
	// the queue has nothing else left to do.
	replayed, parked := 0, 0
	deadline := time.Now().Add(8 * time.Minute) // generous: CI runs other packages alongside
	pending := map[string]bool{}
	for _, id := range ids {
		if id != "" {
			pending[id] = true
		}
	}
	for len(pending) > 0 {
		for id := range pending {
			app, err := st.Service.Store.Get(t.Context(), id)
			if err == nil && app.Status.State == c.AppCompleted {
				delete(pending, id)
			}
		}
		if len(pending) == 0 {
			break
		}
		var dl c.DeadLetterList
		adminGet(t, st, "/v1/admin/dead-letters", &dl)
		if len(dl.DeadLetters) > 0 {
			parked += len(dl.DeadLetters)
			req, _ := http.NewRequest(http.MethodPost, st.GatewayURL+"/v1/admin/dead-letters/replay?all=true", nil)
			req.Header.Set("Authorization", "Bearer "+st.AdminToken)
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				var res c.ReplayResult
				json.NewDecoder(resp.Body).Decode(&res)
				resp.Body.Close()
				replayed += len(res.Replayed)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d applications never completed", len(pending))
		}
		time.Sleep(200 * time.Millisecond)
	}
	elapsed := time.Since(started)

	// Zero lost: every submission has its application, completed, with
	// every item final and approved (the example qualifies for all five).
	lost, notApproved := 0, 0
	for _, id := range ids {
		app, err := st.Service.Store.Get(t.Context(), id)
		if id == "" || err != nil {
			lost++
			continue
		}
		for _, task := range app.Tasks {
			if task.State != c.TaskApproved {
				notApproved++
			}
		}
	}
	// Zero effects applied twice; count the duplicates the gateway absorbed.
	twice, repeats, dupEvents := 0, 0, 0
	for _, d := range st.Depts {
		s := d.Stats()
		repeats += s.Repeats
		for _, n := range s.Effects {
			if n != 1 {
				twice++
			}
		}
		dupEvents += d.Injected()["duplicate_event"]
	}
	// The breaker of the department that was down opened and closed again.
	var br struct {
		Breakers map[string]c.BreakerStatus `json:"breakers"`
	}
	adminGet(t, st, "/v1/admin/breakers", &br)
	var trans []string
	for _, tr := range br.Breakers["cdpf"].Transitions {
		trans = append(trans, tr.From+">"+tr.To)
	}
	opened, reclosed := false, false
	for _, s := range trans {
		opened = opened || s == "closed>open"
		reclosed = reclosed || (opened && s == "half-open>closed")
	}
	// The healthy departments were not held up: hrss answered cases while
	// cdpf was down.
	duringOutage := 0
	for _, cs := range st.Depts[c.DeptHRSS].Cases() {
		if cs.ReceivedAt.After(outageStart) && cs.ReceivedAt.Before(outageEnd) {
			duringOutage++
		}
	}
	polledOnly := len(st.Depts[c.DeptMedical].Cases())

	t.Logf("chaos: submitted %d, completed %d, lost %d, dead-lettered %d, replayed %d, duplicate events absorbed %d, repeated requests absorbed %d, effects applied twice %d, cdpf breaker %v, hrss cases during the cdpf outage %d, medical cases finished by polling %d, in %s",
		submissions, submissions-lost, lost, parked, replayed, dupEvents, repeats, twice, trans, duringOutage, polledOnly, elapsed.Round(time.Second))

	if lost != 0 || notApproved != 0 || twice != 0 {
		t.Errorf("lost %d, tasks not approved %d, effects applied twice %d", lost, notApproved, twice)
	}
	if !opened || !reclosed {
		t.Errorf("cdpf breaker transitions %v: want it to open and close again", trans)
	}
	if duringOutage == 0 {
		t.Error("no hrss case was handled while cdpf was down: the outage held up a healthy department")
	}
	if dupEvents == 0 || repeats == 0 {
		t.Errorf("the faults did not happen (duplicates %d, repeats %d): the test shows nothing", dupEvents, repeats)
	}
	if parked == 0 || replayed == 0 {
		t.Errorf("no dead letter was parked and replayed (parked %d, replayed %d)", parked, replayed)
	}
}
