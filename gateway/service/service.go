// Package service assembles the gateway from its parts (store, calendar,
// workflow, adapters, workers, HTTP) and runs it with a graceful shutdown.
package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"

	"onething/adapters/cdpf"
	"onething/adapters/civil"
	"onething/adapters/client"
	"onething/adapters/hrss"
	"onething/adapters/medical"
	"onething/adapters/portal"
	civildate "onething/civil"
	c "onething/contracts"
	"onething/gateway/api"
	"onething/gateway/auth"
	"onething/gateway/calendar"
	"onething/gateway/counties"
	"onething/gateway/engine"
	"onething/gateway/metrics"
	"onething/gateway/rules"
	"onething/gateway/seal"
	"onething/gateway/store"
	"onething/gateway/workflow"
)

// Dept configures the link to one department system.
type Dept struct {
	BaseURL string `json:"baseUrl"`
	// AppKey and Secret sign our requests to the department.
	AppKey string `json:"appKey"`
	Secret string `json:"secret"`
	// Signing chooses the scheme (hmac-sha256 by default, sm3 with optional
	// SM4-GCM body encryption, or a bearer jwt) and its keys; see
	// client.Signing and README "Signing towards departments".
	Signing *client.Signing `json:"signing,omitempty"`
	// EventSecrets verify the department's events (whsec_…; several while
	// a key rotates).
	EventSecrets []string `json:"eventSecrets"`
	Timeout      Duration `json:"timeout"`
	// PollEvery reads each open case back this long after it is opened,
	// then less and less often until it is final: the fallback where
	// callbacks go missing, or the only way for a system without them.
	PollEvery Duration `json:"pollEvery"`
	// NoCallback: the system cannot call back; send no callback URL and
	// rely on polling (PollEvery is then required).
	NoCallback bool `json:"noCallback"`
	// Counties are the counties (6-digit codes) and cities (4 digits, the
	// default of their counties) a per-county system serves: hrss and
	// medical; departments.hrss and departments.medical serve HomeCounty
	// when they list none. National platforms (cdpf, civil) list none.
	Counties []string `json:"counties,omitempty"`
}

// Config is the whole gateway configuration.
type Config struct {
	Listen  string `json:"listen"`  // e.g. 127.0.0.1:8080
	BaseURL string `json:"baseUrl"` // public base URL (department callbacks)
	// DataFile is the embedded store's bbolt file.
	DataFile string `json:"dataFile"`
	// Store selects the backend: empty (the bbolt file DataFile),
	// "bolt:///path/onething.db", or "redis://host:6379/0" for several
	// replicas sharing state and work (see OpenStore).
	Store string `json:"store"`
	// CalendarFile replaces the built-in working-day calendar (an operator
	// adds next year's holidays there without a rebuild).
	CalendarFile string `json:"calendarFile"`
	// CountyRules is a directory of county rule packs (docs/COUNTIES.md)
	// that complete or add to the built-in ones; empty: the built-in packs
	// of the seven counties of 达州市.
	CountyRules string `json:"countyRules"`
	// Clock is the business clock (nil: the real one). Only `onething dev
	// --now` sets it: it is no configuration key, so `serve` cannot run on
	// a fake clock.
	Clock civildate.Clock `json:"-"`

	PortalSecrets    []string `json:"portalSecrets"`    // verify submissions
	PortalPushURL    string   `json:"portalPushUrl"`    // base URL of the portal receiver
	PortalPushPath   string   `json:"portalPushPath"`   // its path
	PortalPushSecret string   `json:"portalPushSecret"` // sign status pushes
	// ReadTokens are bearer tokens of the district office (read every
	// application, guide), AdminTokens those of the operators (/v1/admin):
	// each {"subject": "district-office", "token": "…"}, acting as
	// token:SUBJECT in audit and logs (see NamedToken).
	ReadTokens  []NamedToken `json:"readTokens"`
	AdminTokens []NamedToken `json:"adminTokens"`
	// Tokens are further static bearer tokens, each with its role, e.g.
	// {"token": "…", "role": "staff", "towns": ["511702102"], "subject": "luojiang-window"}.
	Tokens []auth.StaticToken `json:"tokens"`
	// JWT accepts bearer JWTs when set (README, "Security").
	JWT *JWTConfig `json:"jwt"`
	// Console turns the window console on at /console/ (README).
	Console *ConsoleConfig `json:"console,omitempty"`
	// RateLimit sets the per-caller limits; zero fields take generous defaults.
	RateLimit auth.RateLimitConfig `json:"rateLimit"`
	// TrustedProxies are the load balancers (IPs or CIDRs) whose
	// X-Forwarded-For names an anonymous caller for rate limiting.
	TrustedProxies []string `json:"trustedProxies"`
	// DataProtection holds the keys that seal personal data at rest
	// (AES-256-GCM or SM4-GCM, each key with an id, so keys rotate) and
	// the key of the ID-number blind index. Required: without it the
	// gateway does not start (README, "Personal data at rest and audit").
	DataProtection *seal.Config `json:"dataProtection"`

	Departments map[c.Dept]Dept `json:"departments"`
	// CountyDepartments are the further endpoints of the per-county
	// departments (hrss, medical), each serving the counties it lists
	// (README "The province: counties"; see CountyDept).
	CountyDepartments []CountyDept `json:"countyDepartments,omitempty"`

	Workers int `json:"workers"`
	// PollMaxInterval caps the growing interval between two reads of an
	// open case (default 10m).
	PollMaxInterval Duration `json:"pollMaxInterval"`
	// WorkersPerSystem caps the workers busy with one remote system
	// (bulkheads; default a quarter of Workers).
	WorkersPerSystem int      `json:"workersPerSystem"`
	MaxAttempts      int      `json:"maxAttempts"`
	BaseBackoff      Duration `json:"baseBackoff"` // e.g. "1s"
	MaxBackoff       Duration `json:"maxBackoff"`  // e.g. "5m"
	// Breaker tuning (defaults in adapters/client).
	BreakerOpenFor Duration `json:"breakerOpenFor"`
	// JobLease is how long a worker holds a job before another worker (or
	// replica) may take it (default 1m); keep it above a department call's
	// timeout times its in-call attempts.
	JobLease Duration `json:"jobLease"`
	// PushSettle is how long a status push waits after a change before it
	// is sent, so that a burst of changes to one application (a
	// department's answers for several tasks, an event and its follow-up)
	// costs one push of the newest version (engine.Engine.PushSettle).
	// Absent: DefaultPushSettle; "0" pushes at once; at most MaxPushSettle.
	PushSettle *Duration `json:"pushSettle,omitempty"`
	// Redis tunes the Redis backend beyond its URL: passwords from files
	// and the replicas every write must reach (RedisConfig).
	Redis *RedisConfig `json:"redis,omitempty"`
	// ReconcileEvery is how often the Redis backend's queue is reconciled
	// with the applications' state (default 1m).
	ReconcileEvery Duration `json:"reconcileEvery"`
	// ShutdownGrace is how long a shutdown lets the jobs under way finish
	// before it cuts them short and hands them back to the queue
	// (default 15s; see DefaultShutdownGrace).
	ShutdownGrace Duration `json:"shutdownGrace"`
	// ScanEvery paces the scan behind the overdue-task, open-task and
	// pending-push gauges (default 30s).
	ScanEvery Duration `json:"scanEvery"`
	// Retention is how long a final application keeps its personal part,
	// in days ("180d"), counted from store.RetentionStart; the sweep then
	// erases it and keeps the pseudonymous trace. Absent: DefaultRetention;
	// "0" keeps everything forever.
	Retention *Days `json:"retention,omitempty"`
	// AuditRetention is how long audit entries are kept ("365d"; at least
	// MinAuditRetention, the six months of the 网络安全法). Absent:
	// DefaultAuditRetention; "0" keeps the log forever.
	AuditRetention *Days `json:"auditRetention,omitempty"`
	// RetentionSweepEvery paces the retention sweep (default 1h).
	RetentionSweepEvery Duration `json:"retentionSweepEvery"`
}

// JWTConfig configures bearer JWTs (see gateway/auth.JWTConfig).
type JWTConfig struct {
	Issuer   string `json:"issuer"`
	Audience string `json:"audience"`
	// JWKSFile holds the public keys (RS256, ES256, EdDSA), read again when
	// it changes.
	JWKSFile string `json:"jwksFile"`
	// HS256Secrets enable HS256; leave empty unless the issuer can only do
	// shared secrets.
	HS256Secrets []string `json:"hs256Secrets"`
	// Leeway is the clock skew allowed on exp/nbf/iat (default 30s).
	Leeway Duration `json:"leeway"`
}

func pollMax(d Duration) time.Duration {
	if d <= 0 {
		return 10 * time.Minute
	}
	return time.Duration(d)
}

// Duration reads "30s"-style durations in the configuration file.
type Duration time.Duration

// UnmarshalJSON takes a Go duration string such as "1.5s" or "5m", and
// the bare number 0 (YAML's `0`, ONETHING_…=0): zero needs no unit, any
// other number does.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n float64
		if json.Unmarshal(b, &n) == nil && n == 0 {
			*d = 0
			return nil
		}
		return fmt.Errorf("时长须为带单位的字符串，如 \"30s\"、\"5m\"、\"200ms\"（0 可不带单位），而不是 %s / a duration is a string with a unit, such as \"30s\", \"5m\" or \"200ms\" (0 needs none), not %s", b, b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("无法识别的时长 %q，应如 \"30s\"、\"5m\"、\"200ms\" / %q is not a duration such as \"30s\", \"5m\" or \"200ms\"", s, s)
	}
	*d = Duration(v)
	return nil
}

// DecodeConfig reads a configuration file strictly: an unknown field is
// an error, so a misspelt setting cannot be silently ignored.
func DecodeConfig(data []byte, cfg *Config) error { return decodeConfig(data, cfg) }

func decodeConfig(data []byte, cfg *Config) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(cfg)
	// Named in the configuration's words, Chinese first: the setting and
	// the kind of value it takes, never a Go type.
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typ):
		zh, en := c.KindName(typ.Type)
		return fmt.Errorf("设置 %s 的值类型不正确，应为%s / setting %s has the wrong type: it takes %s", typ.Field, zh, typ.Field, en)
	case err != nil && strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.TrimPrefix(err.Error(), "json: unknown field ")
		return fmt.Errorf("不认识的设置 %s（拼写？见 deploy/onething.example.yaml）/ unknown setting %s (a typo? see deploy/onething.example.yaml)", name, name)
	}
	return err
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// Service is an assembled gateway.
type Service struct {
	cfg      Config
	log      *slog.Logger
	Store    store.Store
	Engine   *engine.Engine
	Worker   *engine.Worker
	Calendar *calendar.Calendar
	Metrics  *metrics.Metrics
	Handler  http.Handler
	breakers map[string]*client.Client
	health   *metrics.Health
	bg       bgState

	workersUp atomic.Bool
	trMu      sync.Mutex
	trans     map[string][]c.BreakerTransition
	gapMu     sync.Mutex
	gaps      map[int]bool
}

// New assembles the gateway on the store the configuration names
// (the embedded bbolt file by default; see OpenStore).
func New(cfg Config, log *slog.Logger) (*Service, error) {
	st, err := OpenStore(cfg, log)
	if err != nil {
		return nil, err
	}
	s, err := Assemble(cfg, st, log)
	if err != nil {
		st.Close()
	}
	return s, err
}

// Assemble builds the gateway on a given store.
func Assemble(cfg Config, st store.Store, log *slog.Logger) (*Service, error) {
	if log == nil {
		log = slog.Default()
	}
	if problems := tokenSubjectProblems(cfg); len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	if p := pushSettleProblem(cfg); p != "" {
		return nil, errors.New(p)
	}
	s := &Service{cfg: cfg, log: log, Store: st, breakers: map[string]*client.Client{}, gaps: map[int]bool{}}
	s.Metrics = metrics.New(nil)
	if r, ok := st.(interface{ UnreplicatedWrites() int64 }); ok && cfg.Redis != nil && cfg.Redis.MinReplicas > 0 {
		s.Metrics.RegisterUnreplicatedWrites(func() float64 { return float64(r.UnreplicatedWrites()) })
	}
	s.health = metrics.NewHealth(s.Metrics.Registry())
	s.watchQueue()
	if cfg.CountyRules != "" {
		set, err := counties.Load(cfg.CountyRules)
		if err != nil {
			return nil, fmt.Errorf("countyRules: %w", err)
		}
		rules.UseCounties(set) // the rules, the guide and town validation decide by them
	}
	s.Calendar = calendar.Default()
	if cfg.CalendarFile != "" {
		cal, err := calendar.Load(cfg.CalendarFile)
		if err != nil {
			return nil, err
		}
		s.Calendar = cal
	}
	s.Calendar.OnMissingYear(s.calendarGap)
	s.Metrics.WatchCalendar(func() metrics.CalendarState { return calendarState(s.Calendar, s.Engine.Flow.Today()) })

	flow := workflow.New(s.Calendar)
	if cfg.Clock != nil {
		flow.Now = cfg.Clock.Now
	}
	s.Engine = &engine.Engine{Store: st, Flow: flow, PollEvery: map[c.Dept]time.Duration{}, Events: s.Metrics, Erasures: s.Metrics, BaseURL: cfg.BaseURL}
	if cfg.DataProtection != nil {
		// The index keys also key the digest an application keeps of its
		// submission (engine/digest.go).
		keys, err := Keyring(cfg)
		if err != nil {
			return nil, err
		}
		s.Engine.Keys = keys
	}
	routes, problems := Routing(cfg)
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	for _, d := range c.Depts {
		if dc, ok := cfg.Departments[d]; !ok || dc.BaseURL == "" {
			return nil, fmt.Errorf("department %s: baseUrl is not configured", d)
		}
	}
	pollBase := time.Duration(0)
	adapters := map[string]engine.Department{}
	for _, e := range routes.Endpoints() {
		d, dc := e.Dept, e.Link
		// Each endpoint its own client: credentials, breaker (named after
		// it, so one county's outage opens its breaker alone) and, through
		// its jobs' system name, its bulkhead.
		ccfg := s.clientConfig(e.Name, dc.BaseURL, dc.AppKey, dc.Secret, time.Duration(dc.Timeout))
		sign, err := client.NewSigner(string(d), dc.AppKey, dc.Secret, dc.Signing)
		if err != nil {
			if e.Name == string(d) {
				return nil, fmt.Errorf("department %s: signing: %w", d, err)
			}
			return nil, fmt.Errorf("%s (%s): signing: %w", e.Path, e.Name, err)
		}
		ccfg.Sign = sign
		cl := client.New(ccfg)
		s.breakers[e.Name] = cl
		// Its series show from the start (a county's endpoint too).
		s.Metrics.BreakerState(e.Name, int(gobreaker.StateClosed))
		s.Metrics.PutBack(e.Name, 0)
		// The path only: the base is the one each dispatch job was queued
		// with (store.Job.BaseURL), so a retry by another replica sends
		// the same request.
		callback := "/v1/departments/" + string(d) + "/events"
		if dc.NoCallback {
			if dc.PollEvery <= 0 {
				return nil, fmt.Errorf("department %s (%s): noCallback needs pollEvery", e.Name, e.Path)
			}
			callback = ""
		}
		if every := time.Duration(dc.PollEvery); every > 0 {
			if cur := s.Engine.PollEvery[d]; cur == 0 || every < cur {
				s.Engine.PollEvery[d] = every
			}
			if pollBase == 0 || every < pollBase {
				pollBase = every
			}
		}
		switch d {
		case c.DeptCDPF:
			adapters[e.Name] = cdpf.New(cl, callback)
		case c.DeptCivil:
			adapters[e.Name] = civil.New(cl, callback)
		case c.DeptHRSS:
			adapters[e.Name] = hrss.New(cl, callback)
		case c.DeptMedical:
			adapters[e.Name] = medical.New(cl, callback)
		}
	}
	depts := map[c.Dept]engine.Department{}
	for _, d := range c.Depts {
		if PerCounty(d) {
			depts[d] = &routed{dept: d, routes: routes, adapters: adapters}
		} else {
			depts[d] = adapters[string(d)]
		}
	}
	s.Engine.SystemOf = routes.systemOf
	flow.Serves = routes.Serves
	notifier, err := portal.New(s.clientConfig("portal", cfg.PortalPushURL, "", "", 0), cfg.PortalPushPath, cfg.PortalPushSecret)
	if err != nil {
		return nil, fmt.Errorf("portal push secret: %w", err)
	}
	s.breakers["portal"] = notifier.Client()
	s.Worker = &engine.Worker{
		Engine: s.Engine, Departments: depts, Portal: notifier, Concurrency: cfg.Workers, Log: log, Observer: s.Metrics,
		Lease:       time.Duration(cfg.JobLease),
		Drain:       s.shutdownGrace(),
		PerSystem:   cfg.WorkersPerSystem,
		PollPolicy:  engine.Policy{BaseBackoff: pollBase, MaxBackoff: pollMax(cfg.PollMaxInterval)},
		Policy:      engine.Policy{MaxAttempts: cfg.MaxAttempts, BaseBackoff: time.Duration(cfg.BaseBackoff), MaxBackoff: time.Duration(cfg.MaxBackoff)},
		Panicked:    s.jobPanicked,
		Quarantined: s.jobQuarantined,
	}
	s.Engine.Wake = s.Worker.Wake
	s.Engine.PushSettle = cfg.PushSettleOrDefault()
	s.Engine.WakeAt = s.Worker.WakeAt

	var senders []api.DeptEndpoint
	for _, e := range routes.Endpoints() {
		senders = append(senders, api.DeptEndpoint{Dept: e.Dept, Name: e.Name, Secrets: e.Link.EventSecrets, Serves: routes.servedBy(e)})
	}
	var jwtCfg *auth.JWTConfig
	if j := cfg.JWT; j != nil {
		jwtCfg = &auth.JWTConfig{Issuer: j.Issuer, Audience: j.Audience, JWKSFile: j.JWKSFile, HS256Secrets: j.HS256Secrets, Leeway: time.Duration(j.Leeway)}
	}
	var consoleHandler http.Handler
	if cfg.Console != nil {
		var verify func(string) (*auth.Principal, error)
		if jwtCfg != nil {
			v, err := auth.NewJWTVerifier(*jwtCfg, log)
			if err != nil {
				return nil, err
			}
			verify = v.Verify
		}
		if consoleHandler, err = s.newConsole(cfg.Console, cfg.BaseURL, verify); err != nil {
			return nil, err
		}
	}
	s.Handler, err = api.New(api.Config{
		Engine: s.Engine, PortalSecrets: cfg.PortalSecrets, DeptEndpoints: senders,
		Ready: s.ready, Metrics: s.Metrics.Handler(), Log: log, BaseURL: cfg.BaseURL,
		ObserveHTTP: s.Metrics.HTTP, InFlight: s.Metrics.HTTPStarted,
		Breakers: s.breakerStatus, Calendar: s.Calendar,
		Tokens: staticTokens(cfg), JWT: jwtCfg, RateLimit: cfg.RateLimit, TrustedProxies: cfg.TrustedProxies,
		Console: consoleHandler, HSTS: httpsURL(cfg.BaseURL),
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Service) clientConfig(name, baseURL, appKey, secret string, timeout time.Duration) client.Config {
	return client.Config{
		Name: name, BaseURL: baseURL, AppKey: appKey, Secret: secret, Timeout: timeout,
		OpenFor: time.Duration(s.cfg.BreakerOpenFor),
		OnBreakerChange: func(name string, from, to gobreaker.State) {
			s.log.Warn("circuit breaker changed", "system", name, "from", from.String(), "to", to.String())
			s.Metrics.BreakerState(name, int(to))
			s.trMu.Lock()
			if s.trans == nil {
				s.trans = map[string][]c.BreakerTransition{}
			}
			list := append(s.trans[name], c.BreakerTransition{At: time.Now().UTC(), From: from.String(), To: to.String()})
			if len(list) > 50 {
				list = list[len(list)-50:]
			}
			s.trans[name] = list
			s.trMu.Unlock()
		},
	}
}

// calendarGap reports, loudly and once per year in the log, a deadline
// question the working-day calendar cannot answer.
func (s *Service) calendarGap(year int) {
	s.Metrics.CalendarGap(year)
	s.gapMu.Lock()
	first := !s.gaps[year]
	s.gaps[year] = true
	s.gapMu.Unlock()
	if first {
		s.log.Error("working-day calendar lacks a year: deadlines in it are left open; add the year to the calendar file",
			"year", year, "covered", fmt.Sprint(s.Calendar.Years()))
	}
}

// ready is the readiness detail: store reachable, calendar covers this
// year (and says so when next year is missing), workers running.
func (s *Service) ready(ctx context.Context) map[string]api.Check {
	checks := map[string]api.Check{}
	if err := s.Store.Ping(ctx); err != nil {
		checks["store"] = api.Check{OK: false, Detail: "store unreachable: " + err.Error()}
	} else if id, ok := s.Store.(interface{ Identity() store.Identity }); ok {
		checks["store"] = api.Check{OK: true, Detail: "reachable; store " + id.Identity().ID}
	} else {
		checks["store"] = api.Check{OK: true, Detail: "reachable"}
	}
	checks["calendar"] = calendarCheck(s.Calendar, s.Engine.Flow.Today())
	checks["workers"] = api.Check{OK: s.workersUp.Load(), Detail: "queue consumers running"}
	if !s.workersUp.Load() {
		checks["workers"] = api.Check{OK: false, Detail: "queue consumers not running"}
	}
	checks["background"] = s.backgroundCheck()
	return checks
}

// Run serves HTTP on ln and runs the workers until ctx ends, then shuts
// down: take no new request or job; let requests under way finish (10 s
// at most) and, at the same time, jobs under way (shutdownGrace), cutting
// the rest short and handing them back to the queue at once; then close
// the store. Nothing accepted is lost: a job is in the store until done.
func (s *Service) Run(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// Headers are small here (a signature, a JWT of at most 8 KiB).
		MaxHeaderBytes: 64 << 10,
	}
	workCtx, stopWork := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	s.goTask(workCtx, &wg, "workers", true, func(ctx context.Context) {
		s.workersUp.Store(true)
		defer s.workersUp.Store(false)
		s.Worker.Run(ctx)
	})
	s.runReconciler(workCtx, &wg)
	s.runRetention(workCtx, &wg)
	s.runScanner(workCtx, &wg)
	s.runReseal(workCtx, &wg)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	s.log.Info("shutting down: no new requests or jobs; letting those under way finish", "grace", s.shutdownGrace().String())
	stopWork() // the workers drain while the HTTP server does
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if e := srv.Shutdown(shutCtx); e != nil && err == nil {
		err = e
	}
	wg.Wait()
	// No job is under way: let the departments and the portal see our
	// kept-alive connections end rather than wait on them (a connection
	// dialled but never used counts as busy to a Go server's Shutdown).
	for _, cl := range s.breakers {
		cl.CloseIdleConnections()
	}
	s.log.Info("shut down: requests and jobs finished or handed back")
	if e := s.Store.Close(); e != nil && err == nil {
		err = e
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// BreakerStatus reports each remote system's breaker for operators.
func (s *Service) BreakerStatus() map[string]c.BreakerStatus { return s.breakerStatus() }

// Applications walks every stored application (the console's list and
// figures), if the store can.
func (s *Service) Applications(ctx context.Context, yield func(*c.Application) bool) error {
	sc, ok := s.Store.(store.Scanner)
	if !ok {
		return errors.New("this store cannot list applications")
	}
	return sc.Scan(ctx, yield)
}

func (s *Service) breakerStatus() map[string]c.BreakerStatus {
	out := map[string]c.BreakerStatus{}
	for n, cl := range s.breakers {
		// The state first: reading it makes a transition that is due (an
		// open breaker whose rest has passed turns half-open), which
		// OnBreakerChange records before the transitions are read.
		state := cl.BreakerState().String()
		counts := cl.BreakerCounts()
		s.trMu.Lock()
		tr := append([]c.BreakerTransition{}, s.trans[n]...)
		s.trMu.Unlock()
		out[n] = c.BreakerStatus{State: state, Requests: counts.Requests, Failures: counts.TotalFailures, Transitions: tr}
	}
	return out
}

// BreakerStates reports each remote system's breaker state.
func (s *Service) BreakerStates() map[string]string {
	out := map[string]string{}
	for n, cl := range s.breakers {
		out[n] = cl.BreakerState().String()
	}
	return out
}
