package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"onething/gateway/devstack"
	"onething/gateway/service"
)

func dev(args []string) error {
	fs := flag.NewFlagSet("dev", flag.ExitOnError)
	dir := fs.String("data", ".onething-dev", "data directory for the embedded store")
	port := fs.Int("port", 8080, "gateway port (0: any free port)")
	mockPort := fs.Int("mock-port", 8081, "first of five mock ports: cdpf, civil, hrss, medical, portal (0: any)")
	delay := fs.Duration("delay", 300*time.Millisecond, "mock departments' delay between events")
	fs.Parse(args)
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	st, err := devstack.Start(devstack.Options{Dir: *dir, GatewayPort: *port, MockBasePort: *mockPort, Delay: *delay, Log: log})
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
  read token              %s

send the bundled example (the seed's main case), then watch it:
  go run ./gateway/cmd/onething submit --url %s --secret %s --new-ref contracts/examples/submission-full.json
  go run ./gateway/cmd/onething status --url %s --token %s --watch APPLICATION_ID

Ctrl-C stops everything.
`, *dir, st.GatewayURL, st.MockURLs["cdpf"], st.MockURLs["civil"], st.MockURLs["hrss"], st.MockURLs["medical"],
		st.MockURLs["portal"], st.MockURLs["portal"], st.PortalSecret, st.ReadToken,
		st.GatewayURL, st.PortalSecret, st.GatewayURL, st.ReadToken)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	fmt.Println("stopping…")
	return st.Stop()
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	path := fs.String("config", "", "configuration file (JSON; see deploy/onething.example.json)")
	fs.Parse(args)
	if *path == "" {
		return errors.New("serve needs --config")
	}
	data, err := os.ReadFile(*path)
	if err != nil {
		return err
	}
	var cfg service.Config
	if err := service.DecodeConfig(data, &cfg); err != nil {
		return fmt.Errorf("%s: %w", *path, err)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
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
