package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"onething/gateway/service"
)

func init() { register(groupRun, newServeCmd) }

func newServeCmd() *cobra.Command {
	var path, storeURL, logFormat, logLevel string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "按配置文件运行网关 / the gateway alone, from a configuration file",
		Long: `按配置文件运行网关 / run the gateway alone from a configuration file (YAML or JSON; ONETHING_*
variables override its settings), until SIGTERM, SIGHUP (the terminal it runs in closed) or
Ctrl-C: then it stops taking work and lets the jobs under way finish (shutdownGrace). Check the file first with "onething config check".`,
		Example: `  onething serve --config deploy/onething.example.yaml
  onething serve --config /etc/onething/onething.yaml --store redis://redis:6379/0
  ONETHING_CONFIG=/etc/onething/onething.yaml onething serve --log-format text`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if path == "" {
				return usageErrorf("需要 --config（或环境变量 ONETHING_CONFIG）/ --config (or ONETHING_CONFIG) is required")
			}
			log, err := newLogger(cmd, logFormat, logLevel)
			if err != nil {
				return err
			}
			loaded, err := service.LoadConfig(path, nil)
			if err != nil {
				return err
			}
			for _, w := range loaded.Warnings {
				log.Warn("configuration", "warning", w)
			}
			cfg := loaded.Config
			if storeURL != "" {
				cfg.Store = storeURL
			}
			// The secrets' rules of config check: a placeholder, a value
			// ever committed to the repository, one secret of two
			// principals, a short token or key does not run.
			urlProblems, secretProblems := service.CheckStoreURL(cfg), service.CheckSecrets(cfg)
			for _, p := range append(urlProblems, secretProblems...) {
				fmt.Fprintln(cmd.ErrOrStderr(), "✗", p)
			}
			switch {
			case len(secretProblems) > 0:
				return errors.New("配置中的密钥被拒绝，见 onething config check / the configuration's secrets are refused: see onething config check")
			case len(urlProblems) > 0:
				return errors.New("存储 URL 不可用，见 onething config check / the store URL is refused: see onething config check")
			}
			svc, err := service.New(cfg, log)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", cfg.Listen)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
			defer stop()
			// One line saying what this replica runs on (no secrets).
			log.Info("gateway serving", append([]any{"listen", ln.Addr().String()}, svc.StartAttrs()...)...)
			return svc.Run(ctx, ln)
		},
	}
	fs := cmd.Flags()
	addConfigFlag(cmd, &path)
	fs.StringVar(&storeURL, "store", "", "store to use instead of the file's: bolt:///path/onething.db, redis://host:6379/0 or redis+sentinel://s1:26379,s2:26379,s3:26379/MASTER")
	fs.StringVar(&logFormat, "log-format", "json", "log format: json (production) or text")
	envDefault(fs, "log-format", "ONETHING_LOG_FORMAT")
	fs.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	envDefault(fs, "log-level", "ONETHING_LOG_LEVEL")
	return cmd
}

// newLogger is the structured log on stderr: JSON in production, text for
// people. A bad format or level is a usage error.
func newLogger(cmd *cobra.Command, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usageErrorf("--log-level %q: debug, info, warn 或 / or error", level)
	}
	opts := logOptions(lv)
	switch format {
	case "json", "":
		return slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), opts)), nil
	}
	return nil, usageErrorf("--log-format %q: json 或 / or text", format)
}
