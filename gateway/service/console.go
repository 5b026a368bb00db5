package service

import (
	"context"
	"net/http"
	"os"
	"strings"

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
	SessionKey     string            `json:"sessionKey"`
	SessionKeyFile string            `json:"sessionKeyFile"`
	Accounts       []console.Account `json:"accounts"`
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
	return console.New(console.Config{
		Engine: s.Engine, Calendar: s.Calendar, Accounts: cc.Accounts, SessionKey: []byte(key),
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
		Audit: func(ctx context.Context, e c.AuditEntry) error {
			if e.RequestID == "" {
				e.RequestID = api.RequestID(ctx)
			}
			_, err := s.Engine.Audit(ctx, e)
			return err
		},
	})
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
