// Package mocks holds runnable fakes of the four department systems and of
// the portal's status receiver. They implement the contracts in
// contracts/openapi exactly (requests are signed and idempotent, events are
// posted back signed) and decide cases by the rules of DOMAIN.md, so the
// whole chain runs on one laptop.
package mocks

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"onething/civil"
	"onething/contracts"
)

// Step is one event a mock will post about a case, after a delay.
type Step struct {
	After time.Duration
	Event contracts.DeptEvent
	// Unless, when set, skips the step if it holds at the business instant
	// the step comes due (a decision taken on that day, not at acceptance).
	Unless func(now time.Time) bool
}

// Decision is how a mock answers a case: the reply now, events later.
type Decision struct {
	Reply contracts.CaseResponse
	Steps []Step
}

// Decider decides a case; caseNo is already assigned.
type Decider func(req *contracts.CaseRequest, caseNo string, now time.Time) Decision

// Config configures a department mock.
type Config struct {
	Dept contracts.Dept
	Path string
	// AppKey/Secret verify the gateway's request signature.
	AppKey, Secret string
	// Expect is the signing scheme required of the gateway's requests
	// (default HMAC-SHA256 with AppKey/Secret; see verify.go).
	Expect Expect
	// EventSecret (whsec_…) signs the events posted back.
	EventSecret string
	// Delay is the unit delay between scripted events.
	Delay time.Duration
	// Today is the business clock: decisions, case numbers and the events'
	// occurredAt read it (tests, and `onething dev --now`). Signatures,
	// nonces and delays stay on the real clock. Default time.Now.
	Today func() time.Time
	Log   *slog.Logger
	// Faults to inject from the start (see Faults; changeable at run time).
	Faults Faults
	// County is the county (six digits) whose system this is, counted for
	// a case request that names none (Stats.Counties).
	County string
	// Prefix is the path the mock is served under when one process serves
	// several (Counties: /511703): requests are signed with it, handlers
	// see the path without it.
	Prefix string
}

// Dept is a running department mock.
type Dept struct {
	cfg     Config
	decide  Decider
	faults  faultState
	webhook *standardwebhooks.Webhook
	http    *http.Client

	// run tells this process's events from an earlier one's: a mock
	// restarted numbers its cases from 1 again (it keeps nothing), and
	// the gateway refuses an event id it has seen as a replay.
	run string

	mu        sync.Mutex
	seq       int
	byKey     map[string]keyed // idempotency key -> first answer
	cases     map[string]*mockCase
	effects   map[string]int // task id -> cases opened for it
	counties  map[string]int // county -> cases opened for it
	nonces    map[string]time.Time
	requests  int
	repeats   int
	conflicts int
	cancelled int
	pending   sync.WaitGroup
	ctx       context.Context
	stop      context.CancelFunc
}

type keyed struct {
	hash  [32]byte
	reply contracts.CaseResponse
}

type mockCase struct {
	at          time.Time
	req         contracts.CaseRequest
	status      string
	events      []contracts.DeptEvent
	resumed     chan struct{} // closed when a supplement arrives
	supplements int
}

// NewDept builds a department mock with its decider.
// runToken is a short random tag of one mock process (Dept.run).
func runToken() string {
	b := make([]byte, 3)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func NewDept(cfg Config, decide Decider) (*Dept, error) {
	wh, err := standardwebhooks.NewWebhook(cfg.EventSecret)
	if err != nil {
		return nil, fmt.Errorf("mock %s: event secret: %w", cfg.Dept, err)
	}
	if cfg.Delay == 0 {
		cfg.Delay = 50 * time.Millisecond
	}
	if cfg.Today == nil {
		cfg.Today = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if err := cfg.Expect.check(cfg.Dept, cfg.Secret); err != nil {
		return nil, fmt.Errorf("mock %s: signing: %w", cfg.Dept, err)
	}
	ctx, stop := context.WithCancel(context.Background())
	d := &Dept{
		cfg: cfg, decide: decide, webhook: wh, run: runToken(),
		http:     &http.Client{Timeout: 5 * time.Second},
		byKey:    map[string]keyed{},
		cases:    map[string]*mockCase{},
		effects:  map[string]int{},
		counties: map[string]int{},
		nonces:   map[string]time.Time{},
		ctx:      ctx, stop: stop,
	}
	d.faults.set(cfg.Faults)
	return d, nil
}

// Close stops posting events and waits for posts under way.
func (d *Dept) Close() {
	d.stop()
	d.pending.Wait()
}

// Handler serves the department API of the contract plus /_mock/stats.
// The department API goes through the fault injector; /_mock/ does not.
func (d *Dept) Handler() http.Handler {
	api := http.NewServeMux()
	api.HandleFunc("POST "+d.cfg.Path, d.open)
	api.HandleFunc("GET "+d.cfg.Path+"/{caseNo}", d.get)
	api.HandleFunc("POST "+d.cfg.Path+"/{caseNo}/supplements", d.supplement)
	api.HandleFunc("POST "+d.cfg.Path+"/{caseNo}/cancel", d.cancel)
	mux := http.NewServeMux()
	mux.Handle("/", d.inject(api))
	mux.HandleFunc("GET /_mock/stats", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, d.Stats())
	})
	d.faultsAPI(mux)
	return mux
}

// Stats is what a mock has seen, for tests and integrators.
type Stats struct {
	Dept     contracts.Dept `json:"dept"`
	Requests int            `json:"requests"` // case requests received
	Repeats  int            `json:"repeats"`  // answered from the idempotency store
	// Conflicts counts the repeats refused 409 idempotency_conflict: a
	// used key with another body (the gateway sent one request two ways).
	Conflicts int `json:"conflicts"`
	Cases     int `json:"cases"` // distinct cases opened
	// Cancelled counts cases withdrawn; Supplements, supplements taken.
	Cancelled   int `json:"cancelled"`
	Supplements int `json:"supplements"`
	// Effects counts cases opened per task id: more than one means a task
	// was applied twice.
	Effects map[string]int `json:"effects"`
	// Counties counts cases opened per county (the case request's county,
	// six digits): which counties' cases this system took.
	Counties map[string]int `json:"counties"`
}

// Case is a case as the mock received it, with the events it posted.
type Case struct {
	CaseNo     string
	ReceivedAt time.Time
	Request    contracts.CaseRequest
	Events     []contracts.DeptEvent
}

// Cases returns every case opened, for tests.
func (d *Dept) Cases() []Case {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]Case, 0, len(d.cases))
	for no, mc := range d.cases {
		out = append(out, Case{CaseNo: no, ReceivedAt: mc.at, Request: mc.req, Events: append([]contracts.DeptEvent(nil), mc.events...)})
	}
	return out
}

// Stats returns a snapshot.
func (d *Dept) Stats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	eff := make(map[string]int, len(d.effects))
	for k, v := range d.effects {
		eff[k] = v
	}
	counties := make(map[string]int, len(d.counties))
	for k, v := range d.counties {
		counties[k] = v
	}
	sup := 0
	for _, mc := range d.cases {
		sup += mc.supplements
	}
	return Stats{Dept: d.cfg.Dept, Requests: d.requests, Repeats: d.repeats, Conflicts: d.conflicts, Cases: len(d.cases), Effects: eff, Counties: counties,
		Cancelled: d.cancelled, Supplements: sup}
}

// readSigned reads a request body, checks its signature and that it
// carries an idempotency key; on failure it has answered already.
func (d *Dept) readSigned(w http.ResponseWriter, r *http.Request) (body []byte, key string, ok bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "malformed_body", "请求体读取失败", "cannot read body")
		return nil, "", false
	}
	if body, err = d.authenticate(r, body); err != nil {
		refuse(w, err)
		return nil, "", false
	}
	key = r.Header.Get(contracts.HeaderIdempotencyKey)
	if key == "" {
		writeError(w, http.StatusBadRequest, "idempotency_key_required", "缺少幂等键", "Idempotency-Key header is required")
		return nil, "", false
	}
	return body, key, true
}

func (d *Dept) open(w http.ResponseWriter, r *http.Request) {
	body, key, ok := d.readSigned(w, r)
	if !ok {
		return
	}
	var req contracts.CaseRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || req.TaskID == "" {
		writeError(w, http.StatusUnprocessableEntity, "invalid_request", "请求内容不符合接口规范", "request does not match the contract")
		return
	}
	if d.cfg.County != "" && req.County != "" && req.County != d.cfg.County {
		// A county's system takes its own county's cases only: a misrouted
		// case is refused, not served.
		writeError(w, http.StatusUnprocessableEntity, "wrong_county", "案件所属县（"+req.County+"）不是本系统所辖（"+d.cfg.County+"），未受理",
			"the case's county ("+req.County+") is not this system's ("+d.cfg.County+"): nothing opened")
		return
	}
	hash := sha256.Sum256(body)
	d.mu.Lock()
	d.requests++
	if prev, ok := d.byKey[key]; ok {
		d.repeats++
		conflict := prev.hash != hash
		if conflict {
			d.conflicts++
		}
		d.mu.Unlock()
		if conflict {
			writeError(w, http.StatusConflict, "idempotency_conflict", "幂等键已用于不同的请求", "Idempotency-Key reused with a different body")
			return
		}
		writeJSON(w, http.StatusOK, prev.reply)
		return
	}
	d.seq++
	caseNo := fmt.Sprintf("%s-%s-%06d", strings.ToUpper(string(d.cfg.Dept)), d.cfg.Today().In(civil.Zone).Format("20060102"), d.seq)
	dec2 := d.decide(&req, caseNo, d.cfg.Today())
	dec2.Reply.CaseNo = caseNo
	d.byKey[key] = keyed{hash: hash, reply: dec2.Reply}
	d.cases[caseNo] = &mockCase{at: time.Now(), req: req, status: string(dec2.Reply.Status), resumed: make(chan struct{})}
	d.effects[req.TaskID]++
	county := req.County
	if county == "" {
		county = d.cfg.County
	}
	if county != "" {
		d.counties[county]++
	}
	d.mu.Unlock()
	d.schedule(req.CallbackURL, caseNo, dec2.Steps)
	writeJSON(w, http.StatusOK, dec2.Reply)
}

func (d *Dept) get(w http.ResponseWriter, r *http.Request) {
	// Polls are signed like every request (empty body).
	if _, err := d.authenticate(r, nil); err != nil {
		refuse(w, err)
		return
	}
	d.mu.Lock()
	c, ok := d.cases[r.PathValue("caseNo")]
	var out contracts.CaseView
	if ok {
		out = contracts.CaseView{CaseNo: r.PathValue("caseNo"), Status: c.status, Events: append([]contracts.DeptEvent{}, c.events...)}
	}
	d.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "办件不存在", "no such case")
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// schedule posts a case's events in order, each after its delay. After a
// supplement_required event it waits until the supplement arrives; a
// cancelled case posts nothing more.
func (d *Dept) schedule(callback, caseNo string, steps []Step) {
	if len(steps) == 0 {
		return
	}
	d.pending.Add(1)
	go func() {
		defer d.pending.Done()
		for i, s := range steps {
			select {
			case <-time.After(s.After):
			case <-d.ctx.Done():
				return
			}
			d.mu.Lock()
			mc := d.cases[caseNo]
			if mc.status == string(contracts.CaseCancelled) {
				d.mu.Unlock()
				return
			}
			now := d.cfg.Today()
			if s.Unless != nil && s.Unless(now) {
				d.mu.Unlock()
				continue
			}
			ev := s.Event
			ev.EventID = fmt.Sprintf("%s-ev-%d-%s", caseNo, i+1, d.run)
			ev.CaseNo = caseNo
			ev.OccurredAt = now.In(civil.Zone)
			mc.events = append(mc.events, ev)
			mc.status = pollStatus(ev.Type)
			resumed := mc.resumed
			d.mu.Unlock()
			d.deliver(callback, ev)
			if ev.Type == contracts.EventSupplementRequired {
				select {
				case <-resumed:
				case <-d.ctx.Done():
					return
				}
			}
		}
	}()
}

// supplement takes the applicant's supplement for a case waiting on one.
func (d *Dept) supplement(w http.ResponseWriter, r *http.Request) {
	var req contracts.SupplementRequest
	d.followUp(w, r, &req, func(mc *mockCase) (contracts.CaseResponse, int, string) {
		if mc.status != string(contracts.EventSupplementRequired) || req.TaskID != mc.req.TaskID {
			return contracts.CaseResponse{}, http.StatusConflict, "no_supplement_due"
		}
		mc.status = string(contracts.CaseInProgress)
		mc.supplements++
		close(mc.resumed)
		mc.resumed = make(chan struct{})
		return contracts.CaseResponse{Status: contracts.CaseInProgress}, 0, ""
	})
}

// cancel withdraws a case: no more events are posted for it.
func (d *Dept) cancel(w http.ResponseWriter, r *http.Request) {
	var req contracts.CancelRequest
	d.followUp(w, r, &req, func(mc *mockCase) (contracts.CaseResponse, int, string) {
		switch {
		case req.TaskID != mc.req.TaskID:
			return contracts.CaseResponse{}, http.StatusConflict, "wrong_task"
		case mc.status == string(contracts.EventApproved) || mc.status == string(contracts.EventRejected):
			return contracts.CaseResponse{}, http.StatusConflict, "case_closed"
		}
		mc.status = string(contracts.CaseCancelled)
		d.cancelled++
		return contracts.CaseResponse{Status: contracts.CaseCancelled}, 0, ""
	})
}

// followUp is the common part of the supplement and cancel endpoints:
// signature, idempotency key, strict body, the case.
func (d *Dept) followUp(w http.ResponseWriter, r *http.Request, into any, act func(*mockCase) (contracts.CaseResponse, int, string)) {
	body, key, ok := d.readSigned(w, r)
	if !ok {
		return
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if dec.Decode(into) != nil {
		writeError(w, http.StatusBadRequest, "malformed_json", "请求体不是有效的 JSON", "the body is not valid JSON for this request")
		return
	}
	caseNo := r.PathValue("caseNo")
	d.mu.Lock()
	defer d.mu.Unlock()
	if prev, ok := d.byKey[key]; ok {
		d.repeats++
		if prev.hash != sha256.Sum256(body) {
			d.conflicts++
			writeError(w, http.StatusConflict, "idempotency_conflict", "幂等键已用于不同的请求", "Idempotency-Key reused with a different body")
			return
		}
		writeJSON(w, http.StatusOK, prev.reply)
		return
	}
	mc, ok := d.cases[caseNo]
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "办件不存在", "no such case")
		return
	}
	reply, status, code := act(mc)
	if status != 0 {
		writeError(w, status, code, "办件当前状态不能办理该操作", "the case cannot take this now")
		return
	}
	reply.CaseNo = caseNo
	d.byKey[key] = keyed{hash: sha256.Sum256(body), reply: reply}
	writeJSON(w, http.StatusOK, reply)
}

// deliver posts an event as the faults say: maybe late, maybe twice,
// maybe never (the case view still shows it, for polling). Late or
// shuffled events go out on their own, so later ones may overtake them.
func (d *Dept) deliver(callback string, ev contracts.DeptEvent) {
	extra, twice, none := d.eventFaults()
	if none || callback == "" { // no callback wanted: the gateway polls
		return
	}
	send := func() {
		d.post(callback, &ev)
		if twice {
			d.post(callback, &ev)
		}
	}
	if extra == 0 {
		send()
		return
	}
	d.pending.Add(1)
	go func() {
		defer d.pending.Done()
		select {
		case <-time.After(extra):
			send()
		case <-d.ctx.Done():
		}
	}()
}

// post delivers one event, retrying with backoff until the gateway takes it
// (as a department system with an outbox would).
func (d *Dept) post(callback string, ev *contracts.DeptEvent) {
	body, _ := json.Marshal(ev)
	wait := 50 * time.Millisecond
	for attempt := 1; attempt <= 30; attempt++ {
		req, _ := http.NewRequestWithContext(d.ctx, http.MethodPost, callback, bytes.NewReader(body))
		now := time.Now()
		sig, _ := d.webhook.Sign(ev.EventID, now, body)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(standardwebhooks.HeaderWebhookID, ev.EventID)
		req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
		req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
		resp, err := d.http.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			// 2xx taken; 4xx other than 429 will not improve by retrying.
			if resp.StatusCode < 300 || (resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests) {
				if resp.StatusCode >= 300 {
					d.cfg.Log.Warn("mock event refused", "dept", d.cfg.Dept, "event", ev.EventID, "status", resp.StatusCode)
				}
				return
			}
		}
		select {
		case <-time.After(wait):
		case <-d.ctx.Done():
			return
		}
		if wait < 2*time.Second {
			wait *= 2
		}
	}
	d.cfg.Log.Error("mock gave up posting an event", "dept", d.cfg.Dept, "event", ev.EventID)
}

// pollStatus is the case status the polling endpoint shows after an event:
// milestones are steps of an in-progress case.
func pollStatus(t contracts.EventType) string {
	switch t {
	case contracts.EventAssessed, contracts.EventPublicised:
		return string(contracts.EventInProgress)
	}
	return string(t)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, zh, en string) {
	writeJSON(w, status, contracts.Error{Code: code, Message: zh, MessageEn: en, RequestID: "mock"})
}
