package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/term"

	c "onething/contracts"
	"onething/gateway/auth"
	"onething/gateway/console"
	"onething/gateway/rules"
	"onething/gateway/service"
)

func init() { register(groupOps, newConsoleCmd) }

// Password bounds of a console account: at least minPassword characters;
// bcrypt reads no more than 72 bytes.
const (
	minPassword = 12
	maxPassword = 72
)

// newConsoleCmd is `onething console adduser`: a console account entry
// with its bcrypt hash, for console.accountsFile.
func newConsoleCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "console",
		Short: "窗口控制台的账户 / the window console's accounts",
		Example: `  onething console adduser clerk --towns 511702102
  onething console adduser clerk --towns 511702102 --file deploy/secrets/console-accounts`,
	}
	var (
		towns      []string
		role, file string
		fromStdin  bool
	)
	add := &cobra.Command{
		Use:   "adduser NAME",
		Short: "生成一个控制台账户（含 bcrypt 哈希）/ make a console account entry with its bcrypt hash",
		Long: `生成一个窗口控制台账户：打印账户项（JSON），加入 console.accountsFile 的列表后重启网关生效；
用 --file 则直接写入该文件（同名账户被替换，如重设密码）。密码至少 12 个字符；
不用 --password-stdin 时在终端上输入两次（不回显）。
Make a window console account: the entry (JSON, one line) with the password's bcrypt hash,
to add to the list in console.accountsFile (the gateway reads it at start); with --file it is
written to that file (an account of the same name is replaced: a new password, other towns).
The password has at least 12 characters; it is asked twice on the terminal without echo, or
read from stdin with --password-stdin. Staff have towns (9-digit town codes, a 6-digit county
office, 511702 for the district office); an admin has none.`,
		Example: `  onething console adduser clerk --towns 511702102
  onething console adduser office --towns 511702 --file /etc/onething/secrets/console-accounts
  onething console adduser ops --role admin --password-stdin < password.txt`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			account, err := newAccount(args[0], role, towns)
			if err != nil {
				return err
			}
			// A scope of a county no rule pack knows is allowed (packs are
			// configured at the gateway), but most likely a typing error.
			for _, t := range account.Towns {
				if len(t) >= 6 {
					if _, ok := rules.Counties().County(t); !ok {
						fmt.Fprintf(cmd.ErrOrStderr(), "注意：%s 的区县没有规则包（内置的是达州市各县），请确认代码无误 / note: no rule pack knows the county of %s (the built-in ones are 达州市's); check the code\n", t, t)
					}
				}
			}
			password, err := readNewPassword(cmd.InOrStdin(), cmd.ErrOrStderr(), fromStdin)
			if err != nil {
				return err
			}
			hash, err := bcrypt.GenerateFromPassword(password, bcrypt.DefaultCost)
			if err != nil {
				return err
			}
			account.PasswordHash = string(hash)
			if file != "" {
				replaced, err := service.PutConsoleAccount(file, account)
				if err != nil {
					return err
				}
				verb := "已添加 / added"
				if replaced {
					verb = "已替换 / replaced"
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s: %s\n重启网关后生效 / the gateway reads it at its next start\n", verb, account.Username, file)
				return nil
			}
			line, err := json.Marshal(account)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), string(line))
			fmt.Fprintln(cmd.ErrOrStderr(), "把这一项加入 console.accountsFile 的列表，重启网关后生效 / add this entry to the list in console.accountsFile; the gateway reads it at its next start")
			return nil
		},
	}
	fs := add.Flags()
	fs.StringSliceVar(&towns, "towns", nil, "the account's towns, comma-separated: 9-digit town codes, a 6-digit county (staff only)")
	fs.StringVar(&role, "role", string(auth.RoleStaff), "staff or admin")
	fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from stdin (one line) instead of asking on the terminal")
	fs.StringVar(&file, "file", "", "add the account to this accounts file (console.accountsFile) instead of printing it")
	c.AddCommand(add)
	return c
}

// newAccount checks an account as the console will (console.New: the role,
// then auth.Principal.Validate), with the operator's words for what is
// wrong: usage errors.
func newAccount(name, role string, towns []string) (console.Account, error) {
	var unique []string
	for _, t := range towns {
		if !slices.Contains(unique, t) {
			unique = append(unique, t) // a town given twice is one scope
		}
	}
	towns = unique
	a := console.Account{Username: name, Role: role, Towns: towns}
	switch auth.Role(role) {
	case auth.RoleStaff:
		if len(towns) == 0 {
			return a, usageErrorf("工作人员需要 --towns（乡镇代码，如 511702102）/ staff need --towns (their town codes, e.g. 511702102)")
		}
	case auth.RoleAdmin:
		if len(towns) > 0 {
			return a, usageErrorf("管理员不分乡镇，不要给 --towns / an admin has no towns: leave out --towns")
		}
		a.Towns = []string{}
	default:
		return a, usageErrorf("--role %q: 须为 staff 或 admin / must be staff or admin", role)
	}
	p := auth.Principal{Role: auth.Role(role), Towns: a.Towns, Subject: "console:" + name}
	if err := console.CheckUsername(name); err != nil {
		shown := c.MaskFreeText(name) // a name refused for being an ID or phone number is not repeated whole
		return a, usageErrorf("用户名 %q / username %q: %v", shown, shown, err)
	}
	if err := p.Validate(); err != nil {
		return a, usageErrorf("账户无效 / not a valid account: %v", err)
	}
	return a, nil
}

// readNewPassword reads the account's password: one line of stdin, or
// twice from the terminal without echo (prompts on stderr).
func readNewPassword(stdin io.Reader, stderr io.Writer, fromStdin bool) ([]byte, error) {
	var pw []byte
	if fromStdin {
		b, err := io.ReadAll(io.LimitReader(stdin, 4096))
		if err != nil {
			return nil, err
		}
		pw = bytes.TrimRight(b, "\r\n")
		if bytes.ContainsAny(pw, "\r\n") {
			return nil, usageErrorf("--password-stdin 读一行 / --password-stdin reads one line, stdin has several")
		}
	} else {
		f, ok := stdin.(*os.File)
		if !ok || !term.IsTerminal(int(f.Fd())) {
			return nil, usageErrorf("标准输入不是终端：用 --password-stdin 给出密码 / stdin is not a terminal: give the password with --password-stdin")
		}
		ask := func(prompt string) ([]byte, error) {
			fmt.Fprint(stderr, prompt)
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(stderr)
			return b, err
		}
		var err error
		if pw, err = ask("密码 / Password: "); err != nil {
			return nil, err
		}
		again, err := ask("再输入一次 / Again: ")
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(pw, again) {
			return nil, usageErrorf("两次输入的密码不同 / the two passwords differ")
		}
	}
	return pw, checkPassword(pw)
}

// checkPassword refuses a password too short to resist guessing, or too
// long for bcrypt (it would silently ignore the rest).
func checkPassword(pw []byte) error {
	switch n := utf8.RuneCount(pw); {
	case !utf8.Valid(pw):
		return usageErrorf("密码不是 UTF-8 文本 / the password is not UTF-8 text")
	case n < minPassword:
		return usageErrorf("密码只有 %d 个字符，至少需要 %d 个 / the password has %d characters, at least %d are needed", n, minPassword, n, minPassword)
	case len(pw) > maxPassword:
		return usageErrorf("密码超过 %d 字节（bcrypt 的上限）/ the password is longer than %d bytes (bcrypt's limit)", maxPassword, maxPassword)
	case strings.TrimSpace(string(pw)) != string(pw):
		return usageErrorf("密码首尾不能有空白 / the password must not begin or end with white space")
	}
	return nil
}
