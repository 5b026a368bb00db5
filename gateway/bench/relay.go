package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"onething/adapters/cdpf"
	"onething/adapters/civil"
	"onething/adapters/client"
	"onething/adapters/hrss"
	"onething/adapters/medical"
	"onething/adapters/portal"
	c "onething/contracts"
	"onething/gateway/calendar"
	"onething/gateway/engine"
	"onething/gateway/service"
	"onething/gateway/store"
	"onething/gateway/workflow"
	"onething/mocks"
)

// The end-to-end raw baseline (`onething bench-child relay`): a minimal
// relay with the gateway's HTTP exchanges and none of its work. It takes
// the portal's signed submissions, opens the same cases with the same
// department mocks (the same endpoints, the adapters' own request
// mappings, the appKey signature), takes their signed callbacks, and
// pushes the status to the same receiver, signed; each of these steps
// makes one small durable write through the store's own committer
// (bbolt: Bolt.PutRaw; Redis: Redis.PutRaw), in the same kind of store
// with the same fsync policy. What it leaves out: validation, dedupe and
// replay checks, rate limits, rules, sealing, the timeline, the record
// (its state is in memory: the writes are never read back, so it does not
// recover after a crash), the durable queue and the outbound client's
// retries in place and breakers.
//
// Every application follows the route the gateway plans for the bundled
// example, planned once at start (workflow.Plan): the tasks ready at
// once are dispatched at once, a task waiting on another is dispatched
// with the certificate the other was approved with. A change (the
// submission, a case answer, an event) makes a new version and a push
// job; a push job sends only the newest version not yet sent, as the
// gateway's do.

// relayConfig is the relay's configuration file (`bench-child relay
// --config FILE`; it holds secrets, so not on the command line).
type relayConfig struct {
	Listen      string                  `json:"listen"`
	Store       string                  `json:"store"`
	Departments map[c.Dept]service.Dept `json:"departments"`
	// PortalSecret verifies submissions; PushURL (the receiver's base)
	// and PushSecret are the status pushes'.
	PortalSecret string `json:"portalSecret"`
	PushURL      string `json:"pushUrl"`
	PushSecret   string `json:"pushSecret"`
	// Workers and WorkersPerSystem bound the calls under way, in all and
	// to one remote system, as the gateway's workers are bounded.
	Workers          int `json:"workers"`
	WorkersPerSystem int `json:"workersPerSystem"`
}

// relayDepts are the departments' endpoints and request mappings: the
// gateway's adapters'.
var relayDepts = map[c.Dept]struct {
	path string
	req  client.Mapper
}{
	c.DeptCDPF:    {cdpf.Path, cdpf.Request},
	c.DeptCivil:   {civil.Path, civil.Request},
	c.DeptHRSS:    {hrss.Path, hrss.Request},
	c.DeptMedical: {medical.Path, medical.Request},
}

// rawPut is one durable write of the relay.
type rawPut func(ctx context.Context, appID, step string, value []byte) error

type relay struct {
	cfg    relayConfig
	base   string // the relay's own URL, for the callbacks
	put    rawPut
	log    *slog.Logger
	portal *standardwebhooks.Webhook
	push   *standardwebhooks.Webhook
	events map[c.Dept]*standardwebhooks.Webhook
	plan   []*c.Task
	client *http.Client
	// slots bounds the calls under way; systems, those to one system.
	slots   chan struct{}
	systems map[string]chan struct{}
	ctx     context.Context
	jobs    sync.WaitGroup

	mu   sync.Mutex
	apps map[string]*relayApp
}

// relayApp is one application as the relay holds it, in memory.
type relayApp struct {
	mu      sync.Mutex
	app     c.Application
	seen    map[string]bool // event ids applied
	version int64
	pushed  int64
}

// planTemplate is the route the gateway plans for the bundled example,
// its task ids on the application id "X".
func planTemplate() ([]*c.Task, error) {
	sub, err := exampleSubmission()
	if err != nil {
		return nil, err
	}
	app := &c.Application{ID: "X", PortalRef: sub.PortalRef, Applicant: sub.Applicant, Requests: sub.Requests, Channel: sub.Channel, Version: 1}
	workflow.New(calendar.Default()).Plan(app)
	if len(app.Tasks) == 0 {
		return nil, errors.New("relay: the example plans no task")
	}
	return app.Tasks, nil
}

func newRelay(ctx context.Context, cfg relayConfig, base string, put rawPut, log *slog.Logger) (*relay, error) {
	plan, err := planTemplate()
	if err != nil {
		return nil, err
	}
	rl := &relay{cfg: cfg, base: base, put: put, log: log, plan: plan, ctx: ctx, apps: map[string]*relayApp{},
		events: map[c.Dept]*standardwebhooks.Webhook{}, systems: map[string]chan struct{}{}}
	if rl.portal, err = standardwebhooks.NewWebhook(cfg.PortalSecret); err != nil {
		return nil, fmt.Errorf("relay: portal secret: %w", err)
	}
	if rl.push, err = standardwebhooks.NewWebhook(cfg.PushSecret); err != nil {
		return nil, fmt.Errorf("relay: push secret: %w", err)
	}
	for _, d := range c.Depts {
		dc, ok := cfg.Departments[d]
		if !ok || len(dc.EventSecrets) == 0 || dc.BaseURL == "" {
			return nil, fmt.Errorf("relay: department %s: base URL and event secret needed", d)
		}
		if rl.events[d], err = standardwebhooks.NewWebhook(dc.EventSecrets[0]); err != nil {
			return nil, fmt.Errorf("relay: department %s: event secret: %w", d, err)
		}
		rl.systems[string(d)] = make(chan struct{}, max(1, cfg.WorkersPerSystem))
	}
	rl.systems["portal"] = make(chan struct{}, max(1, cfg.WorkersPerSystem))
	rl.slots = make(chan struct{}, max(1, cfg.Workers))
	tr := &http.Transport{MaxIdleConns: 4 * max(1, cfg.Workers), MaxIdleConnsPerHost: max(1, cfg.Workers), IdleConnTimeout: time.Minute}
	rl.client = &http.Client{Transport: tr, Timeout: 10 * time.Second}
	return rl, nil
}

// handler serves the submissions, the departments' callbacks and
// /healthz.
func (rl *relay) handler() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.POST("/v1/portal/submissions", rl.submit)
	r.POST("/v1/departments/:dept/events", rl.event)
	r.GET("/healthz", func(g *gin.Context) { g.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	return r
}

// signedBody reads a body and checks its Standard Webhooks signature
// (the HMAC and the timestamp's tolerance; no replay store).
func signedBody(g *gin.Context, wh *standardwebhooks.Webhook) ([]byte, bool) {
	body, err := io.ReadAll(io.LimitReader(g.Request.Body, 1<<20))
	if err != nil {
		g.JSON(http.StatusBadRequest, gin.H{"code": "malformed_body"})
		return nil, false
	}
	if err := wh.Verify(body, g.Request.Header); err != nil {
		g.JSON(http.StatusUnauthorized, gin.H{"code": "unauthorized"})
		return nil, false
	}
	return body, true
}

func (rl *relay) submit(g *gin.Context) {
	body, ok := signedBody(g, rl.portal)
	if !ok {
		return
	}
	var sub c.Submission
	if err := json.Unmarshal(body, &sub); err != nil {
		g.JSON(http.StatusBadRequest, gin.H{"code": "malformed_json"})
		return
	}
	now := time.Now()
	id := engine.NewID(now)
	if err := rl.put(g.Request.Context(), id, "submission", body); err != nil {
		rl.log.Error("relay: write", "err", err)
		g.JSON(http.StatusServiceUnavailable, gin.H{"code": "store_unavailable"})
		return
	}
	ra := rl.newApp(id, &sub, now)
	g.JSON(http.StatusAccepted, gin.H{"applicationId": id, "portalRef": sub.PortalRef, "status": c.AppReceived})
	ra.mu.Lock()
	var ready []string
	for _, t := range ra.app.Tasks {
		if t.State == c.TaskReady {
			ready = append(ready, t.ID)
		}
	}
	ra.mu.Unlock()
	for _, t := range ready {
		rl.dispatch(ra, t)
	}
	rl.schedulePush(ra, 1)
}

// newApp makes an application on the planned route and keeps it.
func (rl *relay) newApp(id string, sub *c.Submission, now time.Time) *relayApp {
	app := c.Application{ID: id, PortalRef: sub.PortalRef, Channel: sub.Channel, ReceivedAt: now, Applicant: sub.Applicant,
		Requests: sub.Requests, Delivery: sub.Delivery, Version: 1}
	rename := func(tid string) string { return id + strings.TrimPrefix(tid, "X") }
	for _, p := range rl.plan {
		t := *p
		t.ID = rename(p.ID)
		t.DependsOn = nil
		for _, d := range p.DependsOn {
			t.DependsOn = append(t.DependsOn, rename(d))
		}
		t.UpdatedAt = now
		app.Tasks = append(app.Tasks, &t)
	}
	ra := &relayApp{app: app, seen: map[string]bool{}, version: 1}
	rl.mu.Lock()
	rl.apps[id] = ra
	rl.mu.Unlock()
	return ra
}

func (rl *relay) appOf(taskID string) *relayApp {
	id, ok := engine.AppIDOfTask(taskID)
	if !ok {
		return nil
	}
	rl.mu.Lock()
	defer rl.mu.Unlock()
	return rl.apps[id]
}

// run runs a job once a slot of its system and one in all are free.
func (rl *relay) run(system string, job func()) {
	rl.jobs.Add(1)
	go func() {
		defer rl.jobs.Done()
		sys := rl.systems[system]
		sys <- struct{}{}
		rl.slots <- struct{}{}
		defer func() { <-rl.slots; <-sys }()
		job()
	}()
}

// dispatch opens a task's case in its department and records the answer.
func (rl *relay) dispatch(ra *relayApp, taskID string) {
	ra.mu.Lock()
	t := ra.app.Task(taskID)
	dept := t.Dept
	ra.mu.Unlock()
	rl.run(string(dept), func() {
		d := relayDepts[dept]
		ra.mu.Lock()
		t := ra.app.Task(taskID)
		key := store.DispatchJobID(t.ID, t.Step)
		body, err := json.Marshal(d.req(&ra.app, t, rl.base+"/v1/departments/"+string(dept)+"/events"))
		ra.mu.Unlock()
		if err != nil {
			rl.log.Error("relay: case request", "task", taskID, "err", err)
			return
		}
		dc := rl.cfg.Departments[dept]
		answer, err := rl.post(dc.BaseURL+d.path, body, func(req *http.Request, body []byte) {
			req.Header.Set(c.HeaderIdempotencyKey, key)
			req.Header.Set(c.HeaderRequestID, key)
			req.Header.Set(c.HeaderTraceparent, c.TraceForID(ra.app.ID).Child().String())
			signDept(req, body, dc.AppKey, dc.Secret)
		})
		if err != nil {
			rl.log.Error("relay: dispatch", "task", taskID, "err", err)
			return
		}
		var resp c.CaseResponse
		if err := json.Unmarshal(answer, &resp); err != nil || resp.CaseNo == "" {
			rl.log.Error("relay: case answer", "task", taskID, "err", err)
			return
		}
		if err := rl.put(rl.ctx, ra.app.ID, "case:"+taskID, answer); err != nil {
			rl.log.Error("relay: write", "err", err)
			return
		}
		ra.mu.Lock()
		t = ra.app.Task(taskID)
		if t.CaseNo == "" {
			t.CaseNo = resp.CaseNo
		}
		released := ra.move(t, caseState[resp.Status], resp.Reason, resp.Certificate, resp.Result)
		ra.version++
		v := ra.version
		ra.mu.Unlock()
		for _, id := range released {
			rl.dispatch(ra, id)
		}
		rl.schedulePush(ra, v)
	})
}

// caseState is the task state a case answer means (the gateway's table).
var caseState = map[c.CaseStatus]c.TaskState{
	c.CaseReceived: c.TaskDispatched, c.CaseAccepted: c.TaskAccepted, c.CaseApproved: c.TaskApproved,
	c.CaseRejected: c.TaskRejected, c.CaseInProgress: c.TaskInProgress, c.CaseCancelled: c.TaskCancelled,
}

var eventState = map[c.EventType]c.TaskState{
	c.EventAccepted: c.TaskAccepted, c.EventInProgress: c.TaskInProgress, c.EventSupplementRequired: c.TaskSupplementRequired,
	c.EventApproved: c.TaskApproved, c.EventRejected: c.TaskRejected,
}

// stateRank orders the states a task goes through: a report of an
// earlier state than the task's (a case answer behind its first events)
// changes nothing.
func stateRank(s c.TaskState) int {
	switch {
	case s.Final():
		return 4
	case s == c.TaskAccepted:
		return 2
	case s == c.TaskInProgress || s == c.TaskSupplementRequired:
		return 3
	case s == c.TaskDispatched:
		return 1
	}
	return 0
}

// move takes a task forward; when it ends, the tasks waiting on it are
// released (approved: with its certificate) or refused. It returns the
// ids of the tasks now ready. The caller holds ra.mu.
func (ra *relayApp) move(t *c.Task, to c.TaskState, why *c.Message, cert *c.Certificate, res *c.Result) []string {
	if stateRank(to) <= stateRank(t.State) {
		return nil
	}
	now := time.Now()
	t.State, t.UpdatedAt = to, now
	t.Reason = why
	if res != nil {
		t.Result = res
	}
	if cert != nil {
		t.Certificate = cert
	}
	if !to.Final() {
		return nil
	}
	t.FinishedAt = &now
	var ready []string
	for _, w := range ra.app.Tasks {
		if w.State != c.TaskWaiting || !dependsOn(w, t.ID) {
			continue
		}
		if to != c.TaskApproved {
			ra.move(w, c.TaskRejected, &c.Message{ZH: "所依赖的事项未获批准", EN: "the item it rests on was not approved"}, nil, nil)
			continue
		}
		if ra.waiting(w) {
			continue
		}
		if t.Certificate != nil {
			w.Certificate = t.Certificate
		}
		w.State, w.Step, w.Reason, w.UpdatedAt = c.TaskReady, w.Step+1, nil, now
		ready = append(ready, w.ID)
	}
	return ready
}

func dependsOn(t *c.Task, id string) bool {
	for _, d := range t.DependsOn {
		if d == id {
			return true
		}
	}
	return false
}

// waiting reports whether a task still waits on one not yet approved.
func (ra *relayApp) waiting(t *c.Task) bool {
	for _, d := range t.DependsOn {
		if dt := ra.app.Task(d); dt == nil || dt.State != c.TaskApproved {
			return true
		}
	}
	return false
}

func (rl *relay) event(g *gin.Context) {
	dept := c.Dept(g.Param("dept"))
	wh := rl.events[dept]
	if wh == nil {
		g.JSON(http.StatusNotFound, gin.H{"code": "not_found"})
		return
	}
	body, ok := signedBody(g, wh)
	if !ok {
		return
	}
	var ev c.DeptEvent
	if err := json.Unmarshal(body, &ev); err != nil || ev.EventID == "" {
		g.JSON(http.StatusBadRequest, gin.H{"code": "malformed_json"})
		return
	}
	ra := rl.appOf(ev.TaskID)
	if ra == nil {
		g.JSON(http.StatusNotFound, gin.H{"code": "not_found"})
		return
	}
	if err := rl.put(g.Request.Context(), ra.app.ID, "event:"+ev.EventID, body); err != nil {
		rl.log.Error("relay: write", "err", err)
		g.JSON(http.StatusServiceUnavailable, gin.H{"code": "store_unavailable"})
		return
	}
	ra.mu.Lock()
	t := ra.app.Task(ev.TaskID)
	if t == nil || t.Dept != dept {
		ra.mu.Unlock()
		g.JSON(http.StatusNotFound, gin.H{"code": "not_found"})
		return
	}
	outcome, released, v := "duplicate", []string(nil), int64(0)
	if !ra.seen[ev.EventID] {
		ra.seen[ev.EventID] = true
		outcome = "applied"
		if t.CaseNo == "" {
			t.CaseNo = ev.CaseNo
		}
		if ev.Type == c.EventAssessed || ev.Type == c.EventPublicised {
			t.Milestones = append(t.Milestones, c.Milestone{Kind: string(ev.Type), At: ev.OccurredAt})
		} else {
			released = ra.move(t, eventState[ev.Type], ev.Reason, ev.Certificate, ev.Result)
		}
		ra.version++
		v = ra.version
	}
	state := t.State
	ra.mu.Unlock()
	g.JSON(http.StatusOK, c.EventAck{EventID: ev.EventID, Outcome: outcome, TaskState: state})
	for _, id := range released {
		rl.dispatch(ra, id)
	}
	if v > 0 {
		rl.schedulePush(ra, v)
	}
}

// schedulePush queues the push of version v; it sends only if v is still
// the newest version and not yet sent when its turn comes.
func (rl *relay) schedulePush(ra *relayApp, v int64) {
	rl.run("portal", func() {
		ra.mu.Lock()
		if ra.pushed >= ra.version || v != ra.version {
			ra.mu.Unlock()
			return
		}
		push := ra.status(v)
		body, err := json.Marshal(push)
		ra.mu.Unlock()
		if err != nil {
			rl.log.Error("relay: push body", "err", err)
			return
		}
		id := portal.MessageID(push)
		if _, err := rl.post(rl.cfg.PushURL+mocks.PortalPath, body, func(req *http.Request, body []byte) {
			now := time.Now()
			sig, _ := rl.push.Sign(id, now, body)
			req.Header.Set(c.HeaderIdempotencyKey, id)
			req.Header.Set(c.HeaderTraceparent, c.TraceForID(push.ApplicationID).Child().String())
			req.Header.Set(standardwebhooks.HeaderWebhookID, id)
			req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
			req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
		}); err != nil {
			rl.log.Error("relay: push", "app", push.ApplicationID, "err", err)
			return
		}
		if err := rl.put(rl.ctx, push.ApplicationID, "push:"+strconv.FormatInt(v, 10), []byte(push.Status.State)); err != nil {
			rl.log.Error("relay: write", "err", err)
			return
		}
		ra.mu.Lock()
		ra.pushed = max(ra.pushed, v)
		ra.mu.Unlock()
	})
}

// status is the push of version v: the consolidated state and the items,
// as the gateway's push carries them (no timeline, due dates or masking
// of free text). The caller holds ra.mu.
func (ra *relayApp) status(v int64) *c.StatusPush {
	s := c.Status{Counts: map[c.TaskState]int{}}
	final, started := 0, false
	items := make([]c.TaskBrief, 0, len(ra.app.Tasks))
	for _, t := range ra.app.Tasks {
		s.Counts[t.State]++
		switch {
		case t.State.Final():
			final++
		case stateRank(t.State) > 0:
			started = true
		}
		county := c.TaskCounty(&ra.app, t)
		b := c.TaskBrief{TaskID: t.ID, Item: t.Item, ItemName: c.Items[t.Item].Name, Dept: t.Dept, DeptName: c.DeptName(t.Dept, county),
			County: county, State: t.State, StateName: c.TaskStateName(t.State), DependsOn: t.DependsOn, CaseNo: t.CaseNo,
			Reason: t.Reason, Result: t.Result, Milestones: t.Milestones, UpdatedAt: t.UpdatedAt}
		if t.Certificate != nil {
			cert := *t.Certificate
			cert.Number = c.MaskID(cert.Number)
			b.Certificate = &cert
		}
		items = append(items, b)
	}
	switch {
	case final == len(ra.app.Tasks):
		s.State = c.AppCompleted
	case started || final > 0:
		s.State = c.AppProcessing
	default:
		s.State = c.AppReceived
	}
	s.StateName = c.AppStateName(s.State)
	return &c.StatusPush{Type: "application.status", ApplicationID: ra.app.ID, PortalRef: ra.app.PortalRef, Version: v,
		Status: s, Items: items, SentAt: time.Now()}
}

// post sends a JSON body, signed by sign on every attempt, and returns a
// 2xx answer's body; it tries again after a network error, a 5xx or a 429
// (backoff from 100 ms, doubling to 2 s, 8 attempts), not after another
// answer.
func (rl *relay) post(url string, body []byte, sign func(*http.Request, []byte)) ([]byte, error) {
	wait := 100 * time.Millisecond
	var last error
	for attempt := 1; attempt <= 8; attempt++ {
		req, err := http.NewRequestWithContext(rl.ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		sign(req, body)
		resp, err := rl.client.Do(req)
		if err == nil {
			answer, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			switch {
			case rerr == nil && resp.StatusCode < 300:
				return answer, nil
			case resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode >= 300:
				return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(answer))
			case rerr != nil:
				err = rerr
			default:
				err = fmt.Errorf("HTTP %d", resp.StatusCode)
			}
		}
		last = err
		select {
		case <-time.After(wait):
		case <-rl.ctx.Done():
			return nil, rl.ctx.Err()
		}
		wait = min(2*wait, 2*time.Second)
	}
	return nil, last
}

// signDept signs a request to a department with the appKey HMAC-SHA256
// scheme (contracts.DeptSignature), as the gateway's client does.
func signDept(req *http.Request, body []byte, appKey, secret string) {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	nonce := randHex(12)
	req.Header.Set(c.HeaderAppKey, appKey)
	req.Header.Set(c.HeaderTimestamp, ts)
	req.Header.Set(c.HeaderNonce, nonce)
	req.Header.Set(c.HeaderSignMethod, c.SignMethodHMACSHA256)
	req.Header.Set(c.HeaderSignature, c.DeptSignature(secret, req.Method, req.URL.EscapedPath(), ts, nonce, body))
}

// openRaw opens the store a relay writes to, through the store's own
// write paths.
func openRaw(ctx context.Context, storeURL string) (rawPut, func() error, error) {
	switch {
	case strings.HasPrefix(storeURL, "redis://"):
		r, err := store.OpenRedis(ctx, storeURL)
		if err != nil {
			return nil, nil, err
		}
		return func(ctx context.Context, appID, step string, value []byte) error {
			return r.PutRaw(ctx, "relay:"+appID, step, value)
		}, r.Close, nil
	case strings.HasPrefix(storeURL, "bolt://"):
		b, err := store.OpenBolt(strings.TrimPrefix(storeURL, "bolt://"))
		if err != nil {
			return nil, nil, err
		}
		return func(_ context.Context, appID, step string, value []byte) error {
			return b.PutRaw("relay", appID+"|"+step, value)
		}, b.Close, nil
	}
	return nil, nil, errors.New("relay: the store must be redis://… or bolt:///path")
}

// childRelay runs the relay on its configuration file until ctx ends.
func childRelay(ctx context.Context, path string, log *slog.Logger) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var cfg relayConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		return fmt.Errorf("relay: %s: %w", path, err)
	}
	put, closeStore, err := openRaw(ctx, cfg.Store)
	if err != nil {
		return err
	}
	defer closeStore()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	jobCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	rl, err := newRelay(jobCtx, cfg, "http://"+ln.Addr().String(), put, log)
	if err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{Handler: rl.handler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	<-ctx.Done()
	sctx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	err = srv.Shutdown(sctx)
	cancel() // calls under way end, so the store closes after them
	rl.jobs.Wait()
	return err
}
