package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"sigs.k8s.io/yaml"

	"onething/gateway/service"
)

// configCmd is `onething config check`: load the configuration as serve
// loads it (file, environment overrides, secrets from files), validate it,
// and print the effective configuration with every secret masked.
func configCmd(args []string) error {
	if len(args) == 0 || args[0] != "check" {
		return errors.New("usage: onething config check [--json] [--config] FILE")
	}
	return configCheck(args[1:], os.Stdout, os.Stderr)
}

// errInvalid is returned (exit status 1) for a configuration with problems.
var errInvalid = errors.New("the configuration is not valid")

func configCheck(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("config check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", os.Getenv("ONETHING_CONFIG"), "configuration file (YAML or JSON)")
	asJSON := fs.Bool("json", false, "print the effective configuration as JSON instead of YAML")
	quiet := fs.Bool("quiet", false, "print only the problems")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 1 {
		*path = fs.Arg(0)
	}
	if *path == "" || fs.NArg() > 1 {
		return errors.New("usage: onething config check [--json] [--config] FILE")
	}
	l, err := service.LoadConfig(*path, nil)
	if err != nil {
		fmt.Fprintln(stderr, "✗", err)
		return errInvalid
	}
	problems, warnings := service.Check(l.Config)
	warnings = append(l.Warnings, warnings...)
	if !*quiet {
		masked, err := service.Masked(l.Config)
		if err != nil {
			return err
		}
		var out []byte
		if *asJSON {
			out, err = json.MarshalIndent(masked, "", "  ")
			out = append(out, '\n')
		} else {
			out, err = yaml.Marshal(masked)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "# effective configuration of %s (secrets masked; zero values take the built-in defaults)\n", *path)
		for _, o := range l.Overrides {
			fmt.Fprintln(stdout, "# overridden:", o)
		}
		for _, f := range l.FromFiles {
			fmt.Fprintln(stdout, "# from a file:", f)
		}
		stdout.Write(out)
	}
	for _, w := range warnings {
		fmt.Fprintln(stderr, "! warning:", w)
	}
	for _, p := range problems {
		fmt.Fprintln(stderr, "✗", p)
	}
	if len(problems) > 0 {
		return errInvalid
	}
	fmt.Fprintln(stderr, "✓ configuration is valid")
	return nil
}

// newLogger is the structured log: JSON in production, text for people.
func newLogger(format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "json", "":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: json or text", format)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
