package mocks

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"onething/civil"
	"onething/contracts"
)

// PortalPath is where the portal receiver takes status pushes
// (contracts/openapi/portal-receiver.yaml).
const PortalPath = "/onething/status-events"

// DefaultKeepPushes is how many pushes a Portal keeps as received (headers
// and raw body) for GET /_mock/pushes.
const DefaultKeepPushes = 100

// ReceivedPush is one push as it arrived: the headers a Standard Webhooks
// library verifies with and the body byte for byte, so a client can check
// the gateway's signature with its own code (GET /_mock/pushes).
type ReceivedPush struct {
	ReceivedAt time.Time `json:"receivedAt"`
	// Headers are webhook-id, webhook-timestamp, webhook-signature and
	// content-type, under those (lower-case) names.
	Headers map[string]string `json:"headers"`
	// Body is the raw body (UTF-8 JSON text, as signed).
	Body string `json:"body"`
}

// PushesReport is the answer of GET /_mock/pushes (mocks-admin.yaml).
type PushesReport struct {
	Received int                             `json:"received"`
	Rejected int                             `json:"rejected"`
	Latest   map[string]contracts.StatusPush `json:"latest"`
	// Pushes are the last pushes kept (at most the Portal's keep), oldest
	// first, newest last.
	Pushes []ReceivedPush `json:"pushes"`
}

// keptHeaders are the headers a ReceivedPush keeps.
var keptHeaders = []string{standardwebhooks.HeaderWebhookID, standardwebhooks.HeaderWebhookTimestamp,
	standardwebhooks.HeaderWebhookSignature, "Content-Type"}

// Portal is the mock of the provincial portal's status receiver: it checks
// each push's signature, keeps the newest version per application and the
// last pushes as received.
type Portal struct {
	webhook *standardwebhooks.Webhook

	mu       sync.Mutex
	pushes   []contracts.StatusPush
	latest   map[string]contracts.StatusPush
	raw      []ReceivedPush // the last keep pushes, oldest first
	keep     int
	rejected int
}

// NewPortal builds the receiver for pushes signed with secret (whsec_…),
// keeping the last DefaultKeepPushes pushes as received.
func NewPortal(secret string) (*Portal, error) {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return nil, err
	}
	return &Portal{webhook: wh, latest: map[string]contracts.StatusPush{}, keep: DefaultKeepPushes}, nil
}

// Keep sets how many pushes are kept as received (at least 1).
func (p *Portal) Keep(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keep = max(n, 1)
	p.trim()
}

func (p *Portal) trim() {
	if over := len(p.raw) - p.keep; over > 0 {
		p.raw = append(p.raw[:0:0], p.raw[over:]...)
	}
}

// Handler serves the receiver and GET /_mock/pushes.
func (p *Portal) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PortalPath, p.receive)
	mux.HandleFunc("GET /_mock/pushes", p.report)
	return mux
}

// report answers GET /_mock/pushes[?limit=n]: the counts, the latest
// version per application and the last n pushes kept (all by default).
func (p *Portal) report(w http.ResponseWriter, r *http.Request) {
	limit := -1
	if vs, given := r.URL.Query()["limit"]; given {
		n, ok := pushesLimit(vs)
		if !ok {
			writeError(w, http.StatusBadRequest, "bad_limit", "limit 须为一个正整数（只含数字）", "limit must be one positive integer, digits only")
			return
		}
		limit = n
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	writeJSON(w, http.StatusOK, PushesReport{Received: len(p.pushes), Rejected: p.rejected, Latest: p.latest, Pushes: p.lastRaw(limit)})
}

// pushesLimit reads ?limit: given once, digits only (no sign, not empty),
// not zero. A number past any int means all: at most that many are kept.
func pushesLimit(vs []string) (int, bool) {
	if len(vs) != 1 || vs[0] == "" || strings.Trim(vs[0], "0123456789") != "" || strings.Trim(vs[0], "0") == "" {
		return 0, false
	}
	n, err := strconv.Atoi(vs[0])
	if err != nil { // digits only, so out of range
		return math.MaxInt, true
	}
	return n, true
}

// lastRaw copies the last n pushes kept (n < 0: all); p.mu held.
func (p *Portal) lastRaw(n int) []ReceivedPush {
	from := 0
	if n >= 0 && n < len(p.raw) {
		from = len(p.raw) - n
	}
	return append([]ReceivedPush{}, p.raw[from:]...)
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
	// Valid UTF-8 too: the kept body is served as a JSON string, which
	// must give back the signed bytes exactly.
	if err := json.Unmarshal(body, &push); err != nil || push.ApplicationID == "" || !utf8.Valid(body) {
		writeError(w, http.StatusBadRequest, "malformed_json", "请求体不是有效的状态推送", "not a status push")
		return
	}
	kept := ReceivedPush{ReceivedAt: time.Now().In(civil.Zone), Headers: map[string]string{}, Body: string(body)}
	for _, h := range keptHeaders {
		if v := r.Header.Get(h); v != "" {
			kept.Headers[strings.ToLower(h)] = v
		}
	}
	p.mu.Lock()
	p.pushes = append(p.pushes, push)
	p.raw = append(p.raw, kept)
	p.trim()
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

// Received returns the last pushes kept as received, oldest first.
func (p *Portal) Received() []ReceivedPush {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastRaw(-1)
}

// Rejected counts pushes whose signature did not verify.
func (p *Portal) Rejected() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rejected
}
