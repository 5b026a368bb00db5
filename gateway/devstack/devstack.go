// Package devstack runs the whole chain in one process: the gateway on the
// embedded store, mocks of the four department systems and the portal's
// status receiver, wired with fresh random secrets. `onething dev` and the
// end-to-end tests both use it, so what integrators run is what is tested.
package devstack

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"golang.org/x/crypto/bcrypt"

	"onething/civil"
	c "onething/contracts"
	"onething/gateway/console"
	"onething/gateway/service"
	"onething/mocks"
)

// Options configure a stack.
type Options struct {
	Dir  string // data directory (the bbolt file lives here)
	Host string // default 127.0.0.1
	// GatewayPort and MockBasePort (mocks take base … base+4); 0 picks free ports.
	GatewayPort, MockBasePort int
	// Delay is the mocks' unit delay between scripted events.
	Delay time.Duration
	// CertScript scripts the cdpf mock's assessment per ID number, on top of
	// mocks.DefaultScript (the people of contracts/examples).
	CertScript map[string]mocks.CertOutcome
	Log        *slog.Logger
	// Clock is the business clock of the whole chain, gateway and mocks
	// (nil: the real one): `onething dev --now` and tests of date rules.
	Clock civil.Clock
	// Tune adjusts the gateway configuration before it starts (tests).
	Tune func(*service.Config)
	// Faults are injected by the department mocks from the start.
	Faults map[c.Dept]mocks.Faults
	// WrapMock wraps each mock's handler (tests check traffic against the contracts).
	WrapMock func(name string, h http.Handler) http.Handler
	// Signing chooses per department how the gateway signs its requests and
	// what that mock requires, with fresh keys: "" or "hmac-sha256" (the
	// default), "sm3", "sm3+sm4" (SM3 signature, SM4-GCM bodies), "jwt"
	// (ES256), "jwt-rs256", "jwt-hs256" (see signing.go).
	Signing map[c.Dept]string
	// PortalURL, when set, is the portal's status receiver the gateway
	// pushes to instead of the mock portal (`onething dev --portal-url`):
	// an absolute http(s) URL, see ReceiverURL.
	PortalURL string
	// KeepPushes is how many pushes the mock portal keeps as received
	// (0: mocks.DefaultKeepPushes).
	KeepPushes int
}

// DazhouCounties are the counties `onething dev` configures, the home
// county (通川区) first: 通川区, 达川区, 宣汉县, 开江县, 大竹县, 渠县, 万源市.
var DazhouCounties = []string{"511702", "511703", "511722", "511723", "511724", "511725", "511781"}

// Stack is a running chain.
type Stack struct {
	opts       Options
	Config     service.Config
	Service    *service.Service
	GatewayURL string
	// Depts are the department mocks: hrss and medical those of the home
	// county (通川区, 511702), served at their mock's root.
	Depts map[c.Dept]*mocks.Dept
	// CountyMocks are the per-county departments' mocks (hrss, medical):
	// one process each, serving the seven counties of 达州市 (the home one
	// at the root, the others under /{county}/).
	CountyMocks map[c.Dept]*mocks.Counties
	MockURLs    map[string]string
	Portal      *mocks.Portal

	PortalSecret, PushSecret, ReadToken, AdminToken string
	// The console's development accounts: a window clerk of 罗江镇 (the
	// examples' town) and an operator; passwords are new each run.
	ClerkPassword, OpsPassword string

	gwAddr  string
	gwStop  context.CancelFunc
	gwDone  chan error
	servers []*http.Server
	// mockConns counts the connections the mocks' servers hold open.
	mockConns atomic.Int64
}

// MockConnections is how many connections the mocks' servers hold open
// (the gateway's to the departments and the portal, kept alive).
func (s *Stack) MockConnections() int64 { return s.mockConns.Load() }

// devHash hashes a development password cheaply (bcrypt's minimum cost:
// these accounts live for one run on one machine).
func devHash(pw string) string {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return string(h)
}

// NewSecret makes a Standard Webhooks secret (whsec_ + base64 of 32 random bytes).
func NewSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

func token() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func listen(host string, port int) (net.Listener, error) {
	return net.Listen("tcp", net.JoinHostPort(host, fmt.Sprint(port)))
}

func port(base, i int) int {
	if base == 0 {
		return 0
	}
	return base + i
}

// Start brings the mocks up, then the gateway.
func Start(opts Options) (*Stack, error) {
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if opts.Delay == 0 {
		opts.Delay = 50 * time.Millisecond
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	var pushBase, pushPath string
	if opts.PortalURL != "" {
		var err error
		if pushBase, pushPath, err = ReceiverURL(opts.PortalURL); err != nil {
			return nil, fmt.Errorf("portal URL: %w", err)
		}
	}
	s := &Stack{opts: opts, Depts: map[c.Dept]*mocks.Dept{}, CountyMocks: map[c.Dept]*mocks.Counties{}, MockURLs: map[string]string{},
		PortalSecret: NewSecret(), PushSecret: NewSecret(), ReadToken: token(), AdminToken: token(),
		ClerkPassword: token()[:12], OpsPassword: token()[:12]}

	// The gateway's address must be known before the mocks are told where
	// to call back, so reserve it first.
	gwLn, err := listen(opts.Host, opts.GatewayPort)
	if err != nil {
		return nil, fmt.Errorf("gateway port: %w", err)
	}
	s.gwAddr = gwLn.Addr().String()
	s.GatewayURL = "http://" + s.gwAddr

	keys, err := DevKeys(opts.Dir)
	if err != nil {
		gwLn.Close()
		return nil, err
	}
	cfg := service.Config{
		Listen: s.gwAddr, BaseURL: s.GatewayURL, DataFile: filepath.Join(opts.Dir, "onething.db"),
		PortalSecrets: []string{s.PortalSecret}, PortalPushPath: mocks.PortalPath, PortalPushSecret: s.PushSecret,
		ReadTokens:  []service.NamedToken{{Subject: "district-office", Token: s.ReadToken}},
		AdminTokens: []service.NamedToken{{Subject: "operators", Token: s.AdminToken}}, Departments: map[c.Dept]service.Dept{},
		DataProtection: keys,
		Console: &service.ConsoleConfig{SessionKey: token(), Accounts: []console.Account{
			{Username: "clerk", PasswordHash: devHash(s.ClerkPassword), Role: "staff", Towns: []string{"511702102"}},
			{Username: "ops", PasswordHash: devHash(s.OpsPassword), Role: "admin"},
		}},
	}
	deciders := mocks.Deciders(opts.CertScript, opts.Delay)
	var today func() time.Time // the mocks' business clock: the gateway's
	if opts.Clock != nil {
		today = opts.Clock.Now
		cfg.Clock = opts.Clock
	}
	for i, d := range c.Depts {
		newMock := func(county string) (*mocks.Dept, service.Dept, error) {
			eventSecret, reqSecret := NewSecret(), token()
			signing, expect, err := SigningPair(opts.Signing[d], reqSecret)
			if err != nil {
				return nil, service.Dept{}, fmt.Errorf("%s: %w", d, err)
			}
			appKey := "onething-" + string(d)
			m, err := mocks.NewDept(mocks.Config{Dept: d, Path: mocks.CasePaths[d], AppKey: appKey, Secret: reqSecret, County: county,
				EventSecret: eventSecret, Delay: opts.Delay, Log: opts.Log, Faults: opts.Faults[d], Expect: expect, Today: today}, deciders[d])
			return m, service.Dept{AppKey: appKey, Secret: reqSecret, EventSecrets: []string{eventSecret}, Signing: signing}, err
		}
		home := ""
		if service.PerCounty(d) {
			home = service.HomeCounty
		}
		m, link, err := newMock(home)
		if err != nil {
			gwLn.Close()
			s.Stop()
			return nil, err
		}
		s.Depts[d] = m
		handler := m.Handler()
		var others map[string]service.Dept
		if service.PerCounty(d) {
			// One mock process serves the other counties of 达州市 by path,
			// each county's system with its own secrets.
			byCode, links := map[string]*mocks.Dept{}, map[string]service.Dept{}
			for _, code := range DazhouCounties[1:] {
				cm, cl, err := newMock(code)
				if err != nil {
					gwLn.Close()
					s.Stop()
					return nil, err
				}
				byCode[code], links[code] = cm, cl
			}
			s.CountyMocks[d] = mocks.NewCounties(m, byCode)
			var wrap func(http.Handler) http.Handler
			if opts.WrapMock != nil {
				wrap = func(h http.Handler) http.Handler { return opts.WrapMock(string(d), h) }
			}
			handler, others = s.CountyMocks[d].Handler(wrap), links
		}
		url, err := s.serveAs(string(d), port(opts.MockBasePort, i), handler, !service.PerCounty(d))
		if err != nil {
			gwLn.Close()
			s.Stop()
			return nil, err
		}
		s.MockURLs[string(d)] = url
		link.BaseURL = url
		cfg.Departments[d] = link
		for _, code := range DazhouCounties[1:] {
			if l, ok := others[code]; ok {
				l.BaseURL = url + "/" + code
				l.Counties = []string{code}
				cfg.CountyDepartments = append(cfg.CountyDepartments, service.CountyDept{Dept: d, DeptLink: l})
				s.MockURLs[string(d)+":"+code] = l.BaseURL
			}
		}
	}
	s.Portal, err = mocks.NewPortal(s.PushSecret)
	if err != nil {
		gwLn.Close()
		s.Stop()
		return nil, err
	}
	if opts.KeepPushes > 0 {
		s.Portal.Keep(opts.KeepPushes)
	}
	if s.MockURLs["portal"], err = s.serve("portal", port(opts.MockBasePort, 4), s.Portal.Handler()); err != nil {
		gwLn.Close()
		s.Stop()
		return nil, err
	}
	cfg.PortalPushURL = s.MockURLs["portal"]
	if opts.PortalURL != "" {
		cfg.PortalPushURL, cfg.PortalPushPath = pushBase, pushPath
	}
	if opts.Tune != nil {
		opts.Tune(&cfg)
	}
	s.Config = cfg
	if err := s.startGateway(gwLn); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Stack) serve(name string, port int, h http.Handler) (string, error) {
	return s.serveAs(name, port, h, true)
}

// serveAs serves a mock, wrapped by Options.WrapMock when wrap (a
// Counties mock wraps each county's handler itself).
func (s *Stack) serveAs(name string, port int, h http.Handler, wrap bool) (string, error) {
	ln, err := listen(s.opts.Host, port)
	if err != nil {
		return "", fmt.Errorf("%s mock port: %w", name, err)
	}
	if wrap && s.opts.WrapMock != nil {
		h = s.opts.WrapMock(name, h)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ConnState: func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			s.mockConns.Add(1)
		case http.StateClosed, http.StateHijacked:
			s.mockConns.Add(-1)
		}
	}}
	s.servers = append(s.servers, srv)
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), nil
}

func (s *Stack) startGateway(ln net.Listener) error {
	// dev makes its own store (serve never does): init is a no-op on the
	// store of an earlier start.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	_, err := service.InitStore(ctx, s.Config, s.opts.Log)
	cancel()
	if err != nil {
		ln.Close()
		return err
	}
	svc, err := service.New(s.Config, s.opts.Log)
	if err != nil {
		ln.Close()
		return err
	}
	s.Service = svc
	ctx, stop := context.WithCancel(context.Background())
	s.gwStop, s.gwDone = stop, make(chan error, 1)
	go func() { s.gwDone <- svc.Run(ctx, ln) }()
	return nil
}

// StopGateway shuts the gateway down (mocks keep running).
func (s *Stack) StopGateway() error {
	if s.gwStop == nil {
		return nil
	}
	s.gwStop()
	err := <-s.gwDone
	s.gwStop = nil
	return err
}

// RestartGateway starts the gateway again on the same data file and address.
func (s *Stack) RestartGateway() error {
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the old socket may linger a moment
		if ln, err = net.Listen("tcp", s.gwAddr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	return s.startGateway(ln)
}

// Stop shuts everything down.
func (s *Stack) Stop() error {
	err := s.StopGateway()
	for _, m := range s.Depts {
		m.Close()
	}
	for _, cm := range s.CountyMocks {
		for _, code := range cm.Codes() {
			cm.County(code).Close()
		}
	}
	for _, srv := range s.servers {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		e := srv.Shutdown(ctx)
		if errors.Is(e, context.DeadlineExceeded) {
			// A connection accepted but not yet used counts as busy to
			// Shutdown for 5 s; the mocks are stopping, so cut it.
			e = srv.Close()
		}
		err = errors.Join(err, e)
		cancel()
	}
	return err
}

// PostSigned posts body to url signed the Standard Webhooks way with secret
// under the message id msgID, as the portal does.
func PostSigned(url, secret, msgID string, body []byte) (*http.Response, error) {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	sig, err := wh.Sign(msgID, now, body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(standardwebhooks.HeaderWebhookID, msgID)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
	return http.DefaultClient.Do(req)
}
