package service

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"

	c "onething/contracts"
	"onething/gateway/auth"
	"onething/gateway/console"
)

// ConsoleConfig turns the window console on at /console/.
type ConsoleConfig struct {
	// SessionKey signs the console's session cookies (at least 32
	// characters); SessionKeyFile reads it from a file instead.
	SessionKey     string            `json:"sessionKey"`
	SessionKeyFile string            `json:"sessionKeyFile"`
	Accounts       []console.Account `json:"accounts"`
	// Secure marks the cookies Secure (the gateway is behind TLS).
	Secure bool `json:"secure"`
}

// mountConsole serves the console at /console/ next to the API. The
// console authenticates its own people (sessions, CSRF); the API's policy
// does not apply to it.
func (s *Service) mountConsole(cc *ConsoleConfig, verify func(string) (*auth.Principal, error)) error {
	key := cc.SessionKey
	if cc.SessionKeyFile != "" {
		b, err := os.ReadFile(cc.SessionKeyFile)
		if err != nil {
			return err
		}
		key = strings.TrimSpace(string(b))
	}
	k, err := console.New(console.Config{
		Engine: s.Engine, Calendar: s.Calendar, Accounts: cc.Accounts, SessionKey: []byte(key), Secure: cc.Secure,
		VerifyToken: verify, Applications: s.Applications, Breakers: s.breakerStatus, Log: s.log,
		FindByIDNumber: s.Store.FindByIDNumber,
		Reveal: func(ctx context.Context, p *auth.Principal, appID, reason string) (*c.Application, error) {
			// Audited first: a read that cannot be recorded is not served.
			if _, err := s.Engine.Audit(ctx, c.AuditEntry{Subject: p.Subject, Role: string(p.Role), Action: "record.read",
				Method: http.MethodPost, Route: "/console/cases/:id/reveal", ApplicationID: appID, Reason: reason}); err != nil {
				return nil, err
			}
			return s.Store.Get(ctx, appID)
		},
		Audit: func(ctx context.Context, p *auth.Principal, action, target, reason string) {
			if _, err := s.Engine.Audit(ctx, c.AuditEntry{Subject: p.Subject, Role: string(p.Role), Action: "console." + action,
				Method: http.MethodPost, Route: "/console/", ApplicationID: target, Reason: reason}); err != nil {
				s.log.Error("audit console action", "action", action, "err", err)
			}
		},
	})
	if err != nil {
		return err
	}
	if s.Handler == nil {
		return errors.New("console: mount after the API")
	}
	mux := http.NewServeMux()
	mux.Handle("/console/", k)
	mux.Handle("/", s.Handler)
	s.Handler = mux
	return nil
}
