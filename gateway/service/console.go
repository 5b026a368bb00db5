package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"sigs.k8s.io/yaml"

	c "onething/contracts"
	"onething/gateway/api"
	"onething/gateway/auth"
	"onething/gateway/console"
	"onething/gateway/store"
)

// ConsoleConfig turns the window console on at /console/.
type ConsoleConfig struct {
	// SessionKey keys the console's session versions (at least 32
	// characters); SessionKeyFile reads it from a file instead.
	SessionKey     string `json:"sessionKey"`
	SessionKeyFile string `json:"sessionKeyFile"`
	// Accounts are the sign-ins, each with a bcrypt password hash;
	// AccountsFile reads them at start from a file instead (a JSON array
	// or YAML list of the entries `onething console adduser` prints), a
	// secret file as the session key's is. Not both.
	Accounts     []console.Account `json:"accounts,omitempty"`
	AccountsFile string            `json:"accountsFile,omitempty"`
	// Secure marks the cookies Secure and sends HSTS; it is on whenever
	// baseUrl is https, whatever this says.
	Secure bool `json:"secure"`
}

// newConsole builds the window console, served at /console/ behind the
// API's middleware (request log, metrics, security headers, rate limit:
// api.Config.Console). The console authenticates its own people
// (server-side sessions, CSRF, throttled sign-in); every action the API
// audits it audits the same way, first.
func (s *Service) newConsole(cc *ConsoleConfig, baseURL string, verify func(string) (*auth.Principal, error)) (http.Handler, error) {
	key := cc.SessionKey
	if cc.SessionKeyFile != "" {
		b, err := os.ReadFile(cc.SessionKeyFile)
		if err != nil {
			return nil, err
		}
		key = strings.TrimSpace(string(b))
	}
	accounts, err := cc.accounts()
	if err != nil {
		return nil, err
	}
	// Both backends keep drafts; a store without them (a test's stand-in)
	// leaves the form without the button's use.
	drafts, _ := s.Store.(store.Drafts)
	return console.New(console.Config{
		Drafts: drafts,
		Engine: s.Engine, Calendar: s.Calendar, Accounts: accounts, SessionKey: []byte(key),
		Secure:      cc.Secure || httpsURL(baseURL),
		ClientIP:    func(r *http.Request) string { return api.ClientIP(r.Context()) },
		VerifyToken: verify, Applications: s.Applications, Breakers: s.breakerStatus, Log: s.log,
		FindByIDNumber: s.Store.FindByIDNumber, Lists: lister(s.Store),
		Reveal: func(ctx context.Context, p *auth.Principal, appID, reason string) (*c.Application, error) {
			// Audited first: a read that cannot be recorded is not served.
			if _, err := s.Engine.Audit(ctx, c.AuditEntry{Subject: p.Subject, Role: string(p.Role), Action: c.AuditRecordRead,
				Method: http.MethodPost, Route: "/console/cases/{id}/reveal", ApplicationID: appID, Reason: reason,
				RequestID: api.RequestID(ctx)}); err != nil {
				return nil, err
			}
			return s.Store.Get(ctx, appID)
		},
		Audit: func(ctx context.Context, e c.AuditEntry) (c.AuditEntry, error) {
			if e.RequestID == "" {
				e.RequestID = api.RequestID(ctx)
			}
			return s.Engine.Audit(ctx, e)
		},
	})
}

// accounts are the console's accounts, inline or from accountsFile. An
// empty file is no account (sign-in through the identity provider only).
func (cc *ConsoleConfig) accounts() ([]console.Account, error) {
	list := cc.Accounts
	if cc.AccountsFile != "" {
		if len(cc.Accounts) > 0 {
			return nil, errors.New("console: accounts 与 accountsFile 只能给一个 / give accounts or accountsFile, not both")
		}
		var err error
		if list, err = ReadConsoleAccounts(cc.AccountsFile); err != nil {
			return nil, fmt.Errorf("console.accountsFile: %w", err)
		}
	}
	return list, uniqueAccounts(list)
}

// ReadConsoleAccounts reads an accounts file: a JSON array or YAML list of
// console accounts (an empty file: none). Strict: a misspelt field is an
// error, not an account without a password.
func ReadConsoleAccounts(path string) ([]console.Account, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("读不到账户文件 / cannot read the accounts file: %w", err)
	}
	var list []console.Account
	if err := yaml.UnmarshalStrict(b, &list); err != nil {
		return nil, fmt.Errorf("%s: 不是账户列表（JSON 数组或 YAML 列表，每项如 onething console adduser 所印）/ not a list of accounts (a JSON array or YAML list of entries as onething console adduser prints them): %v",
			path, err)
	}
	return list, nil
}

// PutConsoleAccount adds an account to an accounts file, or replaces the
// one of its name (a new password, other towns); the file is written
// whole again (mode 0600), as a JSON array of one entry a line. It says
// whether an account was replaced.
func PutConsoleAccount(path string, a console.Account) (replaced bool, err error) {
	list, err := ReadConsoleAccounts(path)
	if err != nil {
		return false, err
	}
	if err := uniqueAccounts(list); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	for i := range list {
		if list[i].Username == a.Username {
			list[i], replaced = a, true
		}
	}
	if !replaced {
		list = append(list, a)
	}
	var b strings.Builder
	b.WriteString("[\n")
	for i, e := range list {
		line, err := json.Marshal(e)
		if err != nil {
			return false, err
		}
		b.WriteString("  ")
		b.Write(line)
		if i < len(list)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("]\n")
	return replaced, writeSecret(path, b.String(), true)
}

// uniqueAccounts refuses an account listed twice (the console would keep
// the later one without a word) and one without a valid name.
func uniqueAccounts(list []console.Account) error {
	seen := map[string]bool{}
	for _, a := range list {
		if err := console.CheckUsername(a.Username); err != nil {
			return fmt.Errorf("console: 账户 %q / account %q: %w", a.Username, a.Username, err)
		}
		if seen[a.Username] {
			return fmt.Errorf("console: 账户 %q 出现两次 / account %q is listed twice", a.Username, a.Username)
		}
		seen[a.Username] = true
	}
	return nil
}

// httpsURL reports whether a base URL is served over https.
func httpsURL(u string) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(u)), "https://")
}

// lister is the store's lists (both backends have them; nil for a store
// without, whose console lists show nothing rather than walk every case).
func lister(st store.Store) store.Lister {
	l, _ := st.(store.Lister)
	return l
}
