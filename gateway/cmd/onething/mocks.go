package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	c "onething/contracts"
	"onething/gateway/devstack"
	"onething/gateway/service"
	"onething/mocks"
)

// MocksInfo is what `onething mocks` prints (one JSON line) and writes to
// --out: the mocks' addresses and this run's secrets. Its departments and
// portalPush* fields have the configuration file's names, so they can be
// copied into a gateway configuration as they are.
type MocksInfo struct {
	Departments map[c.Dept]service.Dept `json:"departments"`
	// CountyDepartments are the other counties of 达州市 that the hrss and
	// medical mocks serve by path (/511703/…), each with its secrets.
	CountyDepartments []service.CountyDept `json:"countyDepartments,omitempty"`
	PortalPushURL     string               `json:"portalPushUrl"`
	PortalPushPath    string               `json:"portalPushPath"`
	PortalPushSecret  string               `json:"portalPushSecret"`
	// URLs are the mocks' base URLs by name (cdpf … medical, portal):
	// /_mock/stats on a department, /_mock/pushes on the portal, and
	// /_mock/inflight (case requests being answered) on a department.
	URLs map[string]string `json:"urls"`
}

func init() { register(groupRun, newMocksCmd) }

type mocksFlags struct {
	host, faults, out, advertise, template, configOut string
	port                                              int
	delay, latency                                    time.Duration
}

func newMocksCmd() *cobra.Command {
	var f mocksFlags
	cmd := &cobra.Command{
		Use:   "mocks",
		Short: "只运行模拟部门与模拟门户 / the department mocks and the portal receiver alone",
		Long: `只运行四个模拟部门与模拟门户 / run the four mock departments and the mock portal (the
receiver of status pushes) alone, for gateways started separately (serve, docker-compose, the
whole-system tests). It prints one JSON line: the mocks' URLs and this run's secrets, with the
configuration file's names (also written to --out), then runs until SIGTERM or Ctrl-C.`,
		Example: `  onething mocks --port 9001 --out mocks.json
  onething mocks --delay 5ms --latency 300ms --faults '{"errorRate":0.2,"jitter":"20ms"}'
  onething mocks --host 0.0.0.0 --advertise mocks --config-template gateway.template.json --config-out gateway.json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if (f.template == "") != (f.configOut == "") {
				return usageErrorf("--config-template 与 --config-out 须一起给出 / go together")
			}
			return runMocks(cmd, f)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.host, "host", "127.0.0.1", "address to listen on")
	fs.IntVar(&f.port, "port", 0, "first of five ports: cdpf, civil, hrss, medical, portal (0: any free ports)")
	fs.DurationVar(&f.delay, "delay", 50*time.Millisecond, "departments' delay between the events they post")
	fs.DurationVar(&f.latency, "latency", 0, "how long a department takes to answer a case request (a slow system)")
	fs.StringVar(&f.faults, "faults", "", `faults every department injects, as JSON, e.g. '{"errorRate":0.2,"jitter":"20ms"}' (see README; change them at run time on /_mock/faults)`)
	fs.StringVar(&f.out, "out", "", "also write the JSON to this file (written whole, then renamed)")
	fs.StringVar(&f.advertise, "advertise", "", "host name the gateways reach the mocks by, in the URLs printed (default: the listening address)")
	fs.StringVar(&f.template, "config-template", "", "a gateway configuration file to complete with the mocks' URLs and secrets …")
	fs.StringVar(&f.configOut, "config-out", "", "… and write to this file (docker-compose: the replicas' configuration)")
	return cmd
}

func runMocks(cmd *cobra.Command, f mocksFlags) error {
	faults, err := parseFaults(f.faults)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), logOptions(slog.LevelWarn)))
	info := MocksInfo{Departments: map[c.Dept]service.Dept{}, URLs: map[string]string{}, PortalPushPath: mocks.PortalPath}
	var servers []*http.Server
	var depts []*mocks.Dept
	stop := func() {
		for _, s := range servers {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			if err := s.Shutdown(ctx); err != nil {
				log.Warn("mock shutdown", "err", err)
			}
			cancel()
		}
		for _, d := range depts {
			d.Close()
		}
	}
	serve := func(name string, i int, h http.Handler) (string, error) {
		p := 0
		if f.port != 0 {
			p = f.port + i
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(f.host, strconv.Itoa(p)))
		if err != nil {
			return "", fmt.Errorf("%s mock: %w", name, err)
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
		servers = append(servers, srv)
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("mock stopped serving", "mock", name, "err", err)
			}
		}()
		addr := ln.Addr().String()
		if f.advertise != "" {
			addr = net.JoinHostPort(f.advertise, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
		}
		return "http://" + addr, nil
	}
	// The same behaviour as dev's, script.json included.
	deciders := mocks.Deciders(nil, f.delay)
	for i, d := range c.Depts {
		newMock := func(county string) (*mocks.Dept, service.Dept, error) {
			eventSecret, reqSecret, appKey := whsecret(), hexToken(), "onething-"+string(d)
			m, err := mocks.NewDept(mocks.Config{Dept: d, Path: mocks.CasePaths[d], AppKey: appKey, Secret: reqSecret, County: county,
				EventSecret: eventSecret, Delay: f.delay, Log: log, Faults: faults}, deciders[d])
			if err == nil {
				depts = append(depts, m)
			}
			return m, service.Dept{AppKey: appKey, Secret: reqSecret, EventSecrets: []string{eventSecret}}, err
		}
		home := ""
		if service.PerCounty(d) {
			home = service.HomeCounty
		}
		m, link, err := newMock(home)
		if err != nil {
			stop()
			return err
		}
		handler := m.Handler()
		others := map[string]service.Dept{}
		if service.PerCounty(d) {
			// hrss and medical: one process serves the seven counties of
			// 达州市, the home county at the root, the others by path.
			byCode := map[string]*mocks.Dept{}
			for _, code := range devstack.DazhouCounties[1:] {
				cm, cl, err := newMock(code)
				if err != nil {
					stop()
					return err
				}
				byCode[code], others[code] = cm, cl
			}
			handler = mocks.NewCounties(m, byCode).Handler(nil)
		}
		url, err := serve(string(d), i, newSlow(handler, f.latency))
		if err != nil {
			stop()
			return err
		}
		info.URLs[string(d)] = url
		link.BaseURL = url
		info.Departments[d] = link
		for _, code := range devstack.DazhouCounties[1:] {
			if l, ok := others[code]; ok {
				l.BaseURL, l.Counties = url+"/"+code, []string{code}
				info.CountyDepartments = append(info.CountyDepartments, service.CountyDept{Dept: d, DeptLink: l})
			}
		}
	}
	info.PortalPushSecret = whsecret()
	portal, err := mocks.NewPortal(info.PortalPushSecret)
	if err != nil {
		stop()
		return err
	}
	if info.URLs["portal"], err = serve("portal", 4, portal.Handler()); err != nil {
		stop()
		return err
	}
	info.PortalPushURL = info.URLs["portal"]

	data, err := json.Marshal(info)
	if err != nil {
		stop()
		return err
	}
	if f.out != "" {
		if err := writeWhole(f.out, data); err != nil {
			stop()
			return err
		}
	}
	if f.template != "" {
		if err := completeConfig(f.template, f.configOut, info); err != nil {
			stop()
			return err
		}
	}
	if _, err := fmt.Fprintln(cmd.OutOrStdout(), string(data)); err != nil {
		stop()
		return err
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer cancel()
	<-ctx.Done()
	stop()
	return nil
}

// writeWhole writes a file (mode 0600: it holds secrets) so that a reader
// never sees it half written.
func writeWhole(path string, data []byte) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	os.Remove(tmp) // a leftover would keep its own mode
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// completeConfig fills a gateway configuration with the mocks' addresses
// and secrets.
func completeConfig(template, out string, info MocksInfo) error {
	data, err := os.ReadFile(template)
	if err != nil {
		return err
	}
	var cfg service.Config
	if err := service.DecodeConfig(data, &cfg); err != nil {
		return fmt.Errorf("%s: %w", template, err)
	}
	cfg.Departments, cfg.CountyDepartments = info.Departments, info.CountyDepartments
	cfg.PortalPushURL, cfg.PortalPushPath, cfg.PortalPushSecret = info.PortalPushURL, info.PortalPushPath, info.PortalPushSecret
	data, err = json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return writeWhole(out, data)
}

// whsecret and hexToken are random secrets. crypto/rand.Read does not
// fail: it crashes the program rather than return an error (Go 1.24).
func whsecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

func hexToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// slow makes a department take latency to answer each case request, and
// lists the requests it is answering at GET /_mock/inflight (who called,
// which job), so a test can see that a gateway holds work in flight.
type slow struct {
	next    http.Handler
	latency time.Duration

	mu       sync.Mutex
	seq      int
	inflight map[int]inflightCall
}

type inflightCall struct {
	Remote    string    `json:"remote"`    // caller's address (ip:port)
	RequestID string    `json:"requestId"` // the gateway's job id
	Since     time.Time `json:"since"`
}

func newSlow(next http.Handler, latency time.Duration) *slow {
	return &slow{next: next, latency: latency, inflight: map[int]inflightCall{}}
}

func (s *slow) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == "/_mock/inflight" {
		s.mu.Lock()
		calls := make([]inflightCall, 0, len(s.inflight))
		for _, call := range s.inflight {
			calls = append(calls, call)
		}
		s.mu.Unlock()
		sort.Slice(calls, func(i, j int) bool { return calls[i].Since.Before(calls[j].Since) })
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(calls) // only a write to a caller that went away can fail
		return
	}
	if r.Method != http.MethodPost {
		s.next.ServeHTTP(w, r)
		return
	}
	s.mu.Lock()
	s.seq++
	id := s.seq
	s.inflight[id] = inflightCall{Remote: r.RemoteAddr, RequestID: r.Header.Get(c.HeaderRequestID), Since: time.Now()}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.inflight, id)
		s.mu.Unlock()
	}()
	if s.latency > 0 {
		select {
		case <-time.After(s.latency):
		case <-r.Context().Done():
			// The caller went away; a real department would still have
			// received the request, so go on and record its effect.
		}
	}
	s.next.ServeHTTP(w, r)
}
