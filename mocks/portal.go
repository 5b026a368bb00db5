package mocks

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"onething/contracts"
)

// PortalPath is where the portal receiver takes status pushes
// (contracts/openapi/portal-receiver.yaml).
const PortalPath = "/onething/status-events"

// Portal is the mock of the provincial portal's status receiver: it checks
// each push's signature and keeps the newest version per application.
type Portal struct {
	webhook *standardwebhooks.Webhook

	mu       sync.Mutex
	pushes   []contracts.StatusPush
	latest   map[string]contracts.StatusPush
	rejected int
}

// NewPortal builds the receiver for pushes signed with secret (whsec_…).
func NewPortal(secret string) (*Portal, error) {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return nil, err
	}
	return &Portal{webhook: wh, latest: map[string]contracts.StatusPush{}}, nil
}

// Handler serves the receiver and GET /_mock/pushes.
func (p *Portal) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PortalPath, p.receive)
	mux.HandleFunc("GET /_mock/pushes", func(w http.ResponseWriter, _ *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"received": len(p.pushes), "rejected": p.rejected, "latest": p.latest})
	})
	return mux
}

func (p *Portal) receive(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || p.webhook.Verify(body, r.Header) != nil {
		p.mu.Lock()
		p.rejected++
		p.mu.Unlock()
		writeError(w, http.StatusUnauthorized, "unauthorized", "签名校验失败", "bad signature")
		return
	}
	var push contracts.StatusPush
	if err := json.Unmarshal(body, &push); err != nil || push.ApplicationID == "" {
		writeError(w, http.StatusBadRequest, "malformed_json", "请求体不是有效的状态推送", "not a status push")
		return
	}
	p.mu.Lock()
	p.pushes = append(p.pushes, push)
	// An older version arriving late must not overwrite a newer one.
	if cur, ok := p.latest[push.ApplicationID]; !ok || push.Version > cur.Version {
		p.latest[push.ApplicationID] = push
	}
	p.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// Latest returns the newest push received for an application.
func (p *Portal) Latest(appID string) (contracts.StatusPush, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.latest[appID]
	return s, ok
}

// Pushes returns every verified push received, in arrival order.
func (p *Portal) Pushes() []contracts.StatusPush {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]contracts.StatusPush(nil), p.pushes...)
}

// Rejected counts pushes whose signature did not verify.
func (p *Portal) Rejected() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rejected
}
