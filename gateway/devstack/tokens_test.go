package devstack_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	c "onething/contracts"
	"onething/contracts/contracttest"
	"onething/gateway/devstack"
	"onething/gateway/secrets"
	"onething/gateway/service"
)

// lockedBuffer is a log the gateway writes while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A full-record read with a static read token is audited, and logged, as
// the subject the configuration gives the token (token:records-desk), not
// as a number (token:read#2) nobody can trace back to a holder; the admin
// token reading the audit acts as token:operators.
func TestStaticTokensAuditAsTheirSubject(t *testing.T) {
	desk := secrets.Token()
	var logs lockedBuffer
	st, err := devstack.Start(devstack.Options{
		Dir: t.TempDir(), Delay: 20 * time.Millisecond, Log: slog.New(slog.NewTextHandler(&logs, nil)),
		Tune: func(cfg *service.Config) {
			cfg.ReadTokens = append(cfg.ReadTokens, service.NamedToken{Subject: "records-desk", Token: desk})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Stop() })
	hc := &http.Client{Transport: contracttest.New(t, "gateway").Transport(http.DefaultTransport), Timeout: 10 * time.Second}

	app := submitExample(t, st, hc, "submission-full.json", "msg_named_token_1")
	var rec c.ApplicationRecord
	get(t, hc, st, desk, "/v1/applications/"+app.ApplicationID+"/record?reason="+url.QueryEscape("核对申请材料"), &rec)
	if rec.AuditID == "" {
		t.Fatalf("the full record names no audit entry: %+v", rec)
	}
	var page c.AuditPage
	get(t, hc, st, st.AdminToken, "/v1/admin/audit", &page)
	var read, query *c.AuditEntry
	for i, e := range page.Entries {
		switch e.Action {
		case c.AuditRecordRead:
			read = &page.Entries[i]
		case c.AuditQueryAction:
			query = &page.Entries[i]
		}
	}
	if read == nil || read.Subject != "token:records-desk" || read.Role != "staff" || read.ApplicationID != app.ApplicationID || read.ID != rec.AuditID {
		t.Errorf("the record read is audited as %+v, want token:records-desk", read)
	}
	if query == nil || query.Subject != "token:operators" {
		t.Errorf("the audit query is audited as %+v, want token:operators", query)
	}
	if out := logs.String(); !strings.Contains(out, "caller=token:records-desk") || strings.Contains(out, "read#") || strings.Contains(out, desk) {
		t.Errorf("the request log should name the caller token:records-desk (and never the token):\n%s", out)
	}
}

// Two static tokens of one subject could not be told apart in the audit:
// the gateway does not start, nor with a read token without a subject.
func TestStaticTokenSubjectsRefused(t *testing.T) {
	for name, tune := range map[string]func(*service.Config){
		"one subject twice": func(cfg *service.Config) {
			cfg.ReadTokens = append(cfg.ReadTokens, service.NamedToken{Subject: "operators", Token: secrets.Token()})
		},
		"no subject": func(cfg *service.Config) {
			cfg.ReadTokens = append(cfg.ReadTokens, service.NamedToken{Token: secrets.Token()})
		},
	} {
		t.Run(name, func(t *testing.T) {
			st, err := devstack.Start(devstack.Options{Dir: t.TempDir(), Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Tune: tune})
			if err == nil {
				st.Stop()
				t.Fatal("the gateway started")
			}
			if want := map[string]string{"one subject twice": `subject "operators" is used twice`, "no subject": "has no subject"}[name]; !strings.Contains(err.Error(), want) {
				t.Errorf("%v, want %q", err, want)
			}
		})
	}
}
