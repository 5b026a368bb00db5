package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	c "onething/contracts"
	"onething/gateway/devstack"
	"onething/gateway/service"
	"onething/mocks"
)

func dev(args []string) error {
	fs := flag.NewFlagSet("dev", flag.ExitOnError)
	dir := fs.String("data", ".onething-dev", "data directory for the embedded store")
	port := fs.Int("port", 8080, "gateway port (0: any free port)")
	mockPort := fs.Int("mock-port", 8081, "first of five mock ports: cdpf, civil, hrss, medical, portal (0: any)")
	delay := fs.Duration("delay", 300*time.Millisecond, "mock departments' delay between events")
	faults := fs.String("faults", "", `faults every mock department injects, as JSON, e.g. '{"errorRate":0.2,"duplicateRate":0.1}' (see README)`)
	fs.Parse(args)
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	opts := devstack.Options{Dir: *dir, GatewayPort: *port, MockBasePort: *mockPort, Delay: *delay, Log: log}
	if *faults != "" {
		f, err := parseFaults(*faults)
		if err != nil {
			return err
		}
		opts.Faults = map[c.Dept]mocks.Faults{}
		for _, d := range c.Depts {
			opts.Faults[d] = f
		}
	}
	st, err := devstack.Start(opts)
	if err != nil {
		return err
	}
	fmt.Printf(`
onething dev is running (gateway + mock departments + mock portal, embedded store in %s)

  gateway          %s
  mock cdpf        %s
  mock civil       %s
  mock hrss        %s
  mock medical     %s
  mock portal      %s   (received pushes: %s/_mock/pushes)

development secrets (new each run, for this machine only):
  portal signing secret   %s
  read token              %s   (district-office staff: reads every application, asks the guide)
  admin token             %s   (dead letters, breakers: /v1/admin/…)

the window console: %s/console/
  clerk of 罗江镇         clerk / %s
  operator                ops / %s

send the bundled example (the seed's main case), then watch it:
  go run ./gateway/cmd/onething submit --url %s --secret %s --new-ref contracts/examples/submission-full.json
  go run ./gateway/cmd/onething status --url %s --token %s --watch APPLICATION_ID

Ctrl-C stops everything.
`, *dir, st.GatewayURL, st.MockURLs["cdpf"], st.MockURLs["civil"], st.MockURLs["hrss"], st.MockURLs["medical"],
		st.MockURLs["portal"], st.MockURLs["portal"], st.PortalSecret, st.ReadToken, st.AdminToken, st.GatewayURL, st.ClerkPassword, st.OpsPassword,
		st.GatewayURL, st.PortalSecret, st.GatewayURL, st.ReadToken)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	fmt.Println("stopping…")
	return st.Stop()
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	path := fs.String("config", os.Getenv("ONETHING_CONFIG"), "configuration file, YAML or JSON (see deploy/onething.example.yaml); ONETHING_* variables override it")
	storeURL := fs.String("store", "", "store to use instead of the file's: bolt:///path/onething.db or redis://host:6379/0")
	logFormat := fs.String("log-format", envOr("ONETHING_LOG_FORMAT", "json"), "log format: json (production) or text")
	logLevel := fs.String("log-level", envOr("ONETHING_LOG_LEVEL", "info"), "log level: debug, info, warn or error")
	fs.Parse(args)
	if *path == "" {
		return errors.New("serve needs --config")
	}
	log, err := newLogger(*logFormat, *logLevel)
	if err != nil {
		return err
	}
	loaded, err := service.LoadConfig(*path, nil)
	if err != nil {
		return err
	}
	for _, w := range loaded.Warnings {
		log.Warn("configuration", "warning", w)
	}
	cfg := loaded.Config
	if *storeURL != "" {
		cfg.Store = *storeURL
	}
	svc, err := service.New(cfg, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Info("gateway serving", "listen", ln.Addr().String())
	return svc.Run(ctx, ln)
}

// parseFaults reads a --faults flag (strict JSON; empty: none).
func parseFaults(flagValue string) (mocks.Faults, error) {
	var f mocks.Faults
	if flagValue == "" {
		return f, nil
	}
	dec := json.NewDecoder(strings.NewReader(flagValue))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return f, fmt.Errorf("--faults: %w", err)
	}
	if err := f.Check(); err != nil {
		return f, fmt.Errorf("--faults: %w", err)
	}
	return f, nil
}
