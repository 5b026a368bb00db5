package main

// The command line's frame: the root command, the registry every command
// file adds itself to, usage errors and their exit status, environment
// defaults of flags, and help.
//
// Adding a command is a one-file job: write NAME.go with a constructor
// returning a plain *cobra.Command (Use, Short, Long, Example, flags,
// RunE) and register it in that file's init:
//
//	func init() { register(groupOps, newStoreCmd) }
//
// A command with subcommands is a cobra.Command without RunE to which the
// subcommands are added. finish (below) then gives every command what the
// tool promises: a usage error (exit 2) for missing or extra arguments
// (default for a leaf: no arguments; give Args, e.g. exactArgs(1, "FILE")
// or cobra.ExactArgs(1), to take some), for an unknown subcommand, an
// unknown flag or a bad flag value; help with exit 0. RunE returns
// usageErrorf(…) for a usage problem it finds itself (exit 2); any other
// error is a failure (exit 1). A flag whose default comes from the
// environment is declared as usual and then named with envDefault; a
// `--config` flag is addConfigFlag.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and failed
	exitUsage   = 2 // the command line was wrong: nothing was done
)

// Command groups in `onething --help`.
const (
	groupRun    = "run"
	groupClient = "client"
	groupOps    = "ops"
)

type registration struct {
	group string
	build func() *cobra.Command
}

var registry []registration

// register adds a top-level command (see the top of this file). build is
// called once per command tree, so the flags' variables it creates are
// fresh each time.
func register(group string, build func() *cobra.Command) {
	registry = append(registry, registration{group, build})
}

// usageError is a wrong command line: exit status 2, the message and a
// hint to run --help.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usageErrorf is a usage error (exit 2). Messages an operator reads say it
// in Chinese first, English beside: "需要 --secret / --secret is required".
func usageErrorf(format string, a ...any) error {
	return &usageError{fmt.Errorf(format, a...)}
}

// asUsage makes err a usage error (nil stays nil).
func asUsage(err error) error {
	var u *usageError
	if err == nil || errors.As(err, &u) {
		return err
	}
	return &usageError{err}
}

// run executes the command line args (without the program name) and
// returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(normalizeArgs(root, args))
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	if cmd == nil {
		cmd = root
	}
	var u *usageError
	if errors.As(err, &u) {
		fmt.Fprintf(stderr, "%s: 用法错误 / usage error: %v\n", cmd.CommandPath(), oneLine(err))
		fmt.Fprintf(stderr, "用 '%s --help' 查看用法 / run '%s --help' for usage\n", cmd.CommandPath(), cmd.CommandPath())
		return exitUsage
	}
	fmt.Fprintf(stderr, "onething: %v\n", err)
	return exitFailure
}

// flagError is a flag the parser refused, as a usage error that says in
// Chinese and English what the value should be (not pflag's "invalid
// argument … strconv.ParseInt: …").
func flagError(err error) error {
	var bad *pflag.InvalidValueError
	if errors.As(err, &bad) {
		return usageErrorf("--%s %q: %s", bad.GetFlag().Name, bad.GetValue(), wantedValue(bad.GetFlag(), bad.Unwrap()))
	}
	var missing *pflag.ValueRequiredError
	if errors.As(err, &missing) {
		return usageErrorf("--%s 需要一个值 / needs a value", missing.GetFlag().Name)
	}
	return asUsage(err)
}

// wantedValue says what a flag's value should be, from its type; cause is
// the parser's error, shown only for types without a sentence here.
func wantedValue(f *pflag.Flag, cause error) string {
	if errors.Is(cause, strconv.ErrRange) {
		return "超出范围 / out of range"
	}
	switch f.Value.Type() {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "须为整数 / must be a whole number"
	case "float32", "float64":
		return "须为数字 / must be a number"
	case "duration":
		return "须为时长，如 300ms、2s、1m / must be a duration such as 300ms, 2s or 1m"
	case "bool":
		return "须为 true 或 false / must be true or false"
	}
	return fmt.Sprintf("值无效 / not a valid value: %v", cause)
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", " ")), " ")
}

// newRootCmd builds the whole command tree.
func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	// Every command's PersistentPreRunE runs, the root's first (it
	// resolves the environment's defaults), whatever a subcommand adds.
	cobra.EnableTraverseRunHooks = true
	b := currentBuild()
	root := &cobra.Command{
		Use:   "onething",
		Short: `"扶残助困一件事" 集成网关 / the "扶残助困一件事" integration gateway`,
		Long: `onething: "扶残助困一件事" 集成网关 / the "扶残助困一件事" integration gateway.

Exit status: 0 done (help included), 1 failed, 2 usage error (nothing was done).
Flags may come before or after arguments; "--" ends the flags.
退出码：0 完成（含帮助），1 失败，2 用法错误（未执行任何操作）。`,
		Example: `  onething dev
  onething serve --config deploy/onething.example.yaml
  onething config check deploy/onething.example.yaml --quiet
  onething help status`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil // RunE: the help
			}
			return subcommandArgs(cmd, args)
		},
		Version:       b.line(),
		SilenceErrors: true,
		SilenceUsage:  true,
		// No arguments: the help, on stderr, and exit 2. An unknown
		// command is a usage error (finish gives Args).
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SetOut(cmd.ErrOrStderr())
			if err := cmd.Help(); err != nil {
				return err
			}
			return usageErrorf("需要一个命令 / a command is required")
		},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if err := resolveEnvDefaults(cmd); err != nil {
				return err
			}
			if err := cmd.ValidateRequiredFlags(); err != nil {
				return asUsage(err)
			}
			return asUsage(cmd.ValidateFlagGroups())
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetVersionTemplate("onething {{.Version}}\n")
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return flagError(err) })
	root.AddGroup(
		&cobra.Group{ID: groupRun, Title: "运行 / Run:"},
		&cobra.Group{ID: groupClient, Title: "客户端 / Client (to a running gateway):"},
		&cobra.Group{ID: groupOps, Title: "运维 / Operate:"},
	)
	for _, r := range registry {
		c := r.build()
		if !c.Hidden {
			c.GroupID = r.group
		}
		root.AddCommand(c)
	}
	help := newHelpCmd()
	help.GroupID = groupOps
	root.SetHelpCommand(help)
	root.AddCommand(help)
	root.SetUsageTemplate(usageTemplate)
	finish(root)
	return root
}

// finish gives every command of the tree the promised behaviour (see the
// top of this file).
func finish(c *cobra.Command) {
	c.SuggestionsMinimumDistance = 2
	switch {
	case c.DisableFlagParsing:
		if c.Args == nil {
			c.Args = cobra.ArbitraryArgs
		}
	case c.HasSubCommands():
		if c.Args == nil {
			c.Args = subcommandArgs
		}
		if c.Run == nil && c.RunE == nil {
			// Runnable, so that Args is checked: with no (or an
			// unknown) subcommand it is a usage error, not the help.
			c.RunE = func(*cobra.Command, []string) error { return nil }
		}
	case c.Args == nil:
		c.Args = noArgs
	}
	args := c.Args
	c.Args = func(cmd *cobra.Command, a []string) error { return asUsage(args(cmd, a)) }
	for _, sub := range c.Commands() {
		finish(sub)
	}
}

// subcommandArgs is Args of a command that only groups subcommands (and of
// the root): an argument reaching it named no subcommand.
func subcommandArgs(cmd *cobra.Command, args []string) error {
	var names []string
	for _, s := range cmd.Commands() {
		if s.IsAvailableCommand() {
			names = append(names, s.Name())
		}
	}
	if len(args) == 0 {
		return usageErrorf("%s 需要子命令 / needs a subcommand: %s", cmd.CommandPath(), strings.Join(names, ", "))
	}
	hint := ""
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		hint = fmt.Sprintf("（是否想用 / did you mean: %s）", strings.Join(s, ", "))
	}
	if !cmd.HasParent() {
		return usageErrorf("未知命令 / unknown command %q%s", args[0], hint)
	}
	return usageErrorf("%s 没有子命令 / has no subcommand %q%s (%s)", cmd.CommandPath(), args[0], hint, strings.Join(names, ", "))
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("%s 不接受参数 / takes no arguments, got %q", cmd.CommandPath(), strings.Join(args, " "))
	}
	return nil
}

// exactArgs wants one argument per name, e.g. exactArgs("FILE").
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < len(names):
			return usageErrorf("缺少参数 / missing argument %s", strings.Join(names[len(args):], " "))
		case len(args) > len(names):
			return usageErrorf("多余的参数 / unexpected argument %q (%s takes %s)", strings.Join(args[len(names):], " "),
				cmd.CommandPath(), strings.Join(names, " "))
		}
		return nil
	}
}

// maxArgs takes at most one argument per name.
func maxArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > len(names) {
			return usageErrorf("多余的参数 / unexpected argument %q (%s takes at most %s)", strings.Join(args[len(names):], " "),
				cmd.CommandPath(), strings.Join(names, " "))
		}
		return nil
	}
}

// Flag annotations: the environment variable a flag defaults to.
const annEnv = "onething-env"

// envDefault makes the flag take its value from the environment variable
// env when the command line does not give it (an empty variable counts as
// unset). Help shows "(env NAME)" and the built-in default, never the
// variable's value: several are secrets.
func envDefault(fs *pflag.FlagSet, name, env string) {
	f := fs.Lookup(name)
	if f == nil {
		panic("envDefault: no flag --" + name)
	}
	f.Usage += " (env " + env + ")"
	if err := fs.SetAnnotation(name, annEnv, []string{env}); err != nil {
		panic(err)
	}
}

// resolveEnvDefaults applies the environment's values to the flags the
// command line left unset.
func resolveEnvDefaults(cmd *cobra.Command) error {
	var errs []error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		env := f.Annotations[annEnv]
		if f.Changed || len(env) == 0 {
			return
		}
		if v := os.Getenv(env[0]); v != "" {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, usageErrorf("环境变量 / environment variable %s (--%s): %s", env[0], f.Name, wantedValue(f, err)))
			}
		}
	})
	return errors.Join(errs...)
}

// addConfigFlag is the --config FILE flag (env ONETHING_CONFIG) of the
// commands that read the gateway's configuration.
func addConfigFlag(cmd *cobra.Command, path *string) {
	cmd.Flags().StringVar(path, "config", "", "configuration file, YAML or JSON (see deploy/onething.example.yaml); ONETHING_* variables override its settings")
	envDefault(cmd.Flags(), "config", "ONETHING_CONFIG")
}

// normalizeArgs accepts the single-dash long flags of the command line
// before cobra (`-config FILE`, `-json`): an argument "-NAME" or
// "-NAME=…" where NAME is a long flag of some command becomes "--NAME…".
// bench-child's arguments are its own and pass untouched.
func normalizeArgs(root *cobra.Command, args []string) []string {
	if len(args) > 0 && args[0] == "bench-child" {
		return args
	}
	long := map[string]bool{"help": true, "version": true}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		add := func(f *pflag.Flag) { long[f.Name] = true }
		c.LocalFlags().VisitAll(add)
		c.PersistentFlags().VisitAll(add)
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
	out := make([]string, len(args))
	copy(out, args)
	for i, a := range out {
		if a == "--" {
			break
		}
		if len(a) < 3 || a[0] != '-' || a[1] == '-' {
			continue
		}
		name, _, _ := strings.Cut(a[1:], "=")
		if long[name] {
			out[i] = "-" + a
		}
	}
	return out
}

func newHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [COMMAND…]",
		Short: "命令的帮助 / help about any command",
		Long: `命令的帮助 / help about any command: what it does, its flags and examples.
The same as "onething COMMAND --help".`,
		Example: `  onething help
  onething help deadletters replay`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			target, rest, err := cmd.Root().Find(args)
			if err != nil || target == nil || len(rest) > 0 {
				return usageErrorf("没有这个命令 / no such command: %q", strings.Join(args, " "))
			}
			target.InitDefaultHelpFlag()
			target.InitDefaultVersionFlag()
			return target.Help()
		},
	}
}

// usageTemplate is cobra's, with bilingual headings, and the use line of
// a command that only groups subcommands left out.
const usageTemplate = `用法 / Usage:{{if and .Runnable (not .HasAvailableSubCommands)}}
  {{.UseLine}}{{end}}{{if .HasAvailableSubCommands}}
  {{.CommandPath}} COMMAND{{end}}{{if gt (len .Aliases) 0}}

别名 / Aliases:
  {{.NameAndAliases}}{{end}}{{if .HasExample}}

示例 / Examples:
{{.Example}}{{end}}{{if .HasAvailableSubCommands}}{{$cmds := .Commands}}{{if eq (len .Groups) 0}}

命令 / Commands:{{range $cmds}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{else}}{{range $group := .Groups}}

{{.Title}}{{range $cmds}}{{if (and (eq .GroupID $group.ID) (or .IsAvailableCommand (eq .Name "help")))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{if not .AllChildCommandsHaveGroup}}

其他命令 / Additional commands:{{range $cmds}}{{if (and (eq .GroupID "") (or .IsAvailableCommand (eq .Name "help")))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}

参数 / Flags:
{{.LocalFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableInheritedFlags}}

全局参数 / Global flags:
{{.InheritedFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableSubCommands}}

用 "{{.CommandPath}} COMMAND --help" 查看命令的帮助 / for a command's help.{{end}}
`
