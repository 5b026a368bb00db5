package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"onething/gateway/service"
)

func init() { register(groupOps, newConfigCmd) }

// errInvalid is returned (exit status 1) for a configuration with problems.
var errInvalid = errors.New("配置无效 / the configuration is not valid")

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "网关配置 / the gateway's configuration",
		Example: `  onething config check deploy/onething.example.yaml
  onething config check --json --config deploy/onething.example.yaml`,
	}
	cmd.AddCommand(newConfigCheckCmd())
	return cmd
}

// newConfigCheckCmd is `onething config check`: load the configuration as
// serve loads it (file, environment overrides, secrets from files),
// validate it, and print the effective configuration with every secret
// masked.
func newConfigCheckCmd() *cobra.Command {
	var (
		path          string
		asJSON, quiet bool
	)
	cmd := &cobra.Command{
		Use:   "check [FILE]",
		Short: "检查配置并打印生效的配置（密钥已遮蔽）/ validate a configuration, print it with secrets masked",
		Long: `检查配置并打印生效的配置（密钥已遮蔽）/ load a configuration as serve loads it (the file,
ONETHING_* environment overrides, secrets from files), validate it, and print the effective
configuration with every secret masked on stdout; warnings, problems and the verdict go to stderr.

The file is FILE or --config (env ONETHING_CONFIG). The YAML output starts with comment lines:
where it came from, the settings the environment overrode, the settings read from files.
With --json stdout is pure JSON (for jq and scripts) and those lines go to stderr.

Exit status 1 when the configuration is not valid (stdout still holds it, when it could be read).`,
		Example: `  onething config check deploy/onething.example.yaml
  onething config check deploy/onething.example.yaml --quiet
  onething config check --json deploy/onething.example.json | jq .departments
  ONETHING_STORE=redis://:pw@redis:6379/0 onething config check deploy/onething.example.yaml`,
		Args: maxArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if cmd.Flags().Changed("config") && args[0] != path {
					return usageErrorf("配置文件给了两次 / two configuration files: --config %s and %s", path, args[0])
				}
				path = args[0]
			}
			if path == "" {
				return usageErrorf("需要配置文件 / a configuration file is required: FILE or --config (env ONETHING_CONFIG)")
			}
			return configCheck(path, asJSON, quiet, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	addConfigFlag(cmd, &path)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the effective configuration as JSON instead of YAML (stdout is JSON only)")
	cmd.Flags().BoolVar(&quiet, "quiet", false, "do not print the effective configuration: only warnings, problems and the verdict")
	return cmd
}

func configCheck(path string, asJSON, quiet bool, stdout, stderr io.Writer) error {
	l, err := service.LoadConfig(path, nil)
	if err != nil {
		fmt.Fprintln(stderr, "✗", err)
		return errInvalid
	}
	problems, warnings := service.Check(l.Config)
	warnings = append(l.Warnings, warnings...)
	if !quiet {
		masked, err := service.Masked(service.WithRetentionDefaults(l.Config))
		if err != nil {
			return err
		}
		var out []byte
		if asJSON {
			out, err = json.MarshalIndent(masked, "", "  ")
			out = append(out, '\n')
		} else {
			out, err = yaml.Marshal(masked)
		}
		if err != nil {
			return err
		}
		// Where it came from: comments in YAML; on stderr beside JSON,
		// which has no comments.
		notes := stdout
		if asJSON {
			notes = stderr
		}
		fmt.Fprintf(notes, "# effective configuration of %s (secrets masked; zero values take the built-in defaults)\n", path)
		for _, o := range l.Overrides {
			fmt.Fprintln(notes, "# overridden:", o)
		}
		for _, f := range l.FromFiles {
			fmt.Fprintln(notes, "# from a file:", f)
		}
		if _, err := stdout.Write(out); err != nil {
			return err
		}
	}
	for _, w := range warnings {
		fmt.Fprintln(stderr, "! 警告 / warning:", w)
	}
	for _, p := range problems {
		fmt.Fprintln(stderr, "✗", p)
	}
	if len(problems) > 0 {
		return errInvalid
	}
	fmt.Fprintln(stderr, "✓ 配置有效 / configuration is valid")
	return nil
}
