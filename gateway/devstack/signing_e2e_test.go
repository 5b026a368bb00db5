package devstack_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	c "onething/contracts"
	"onething/contracts/contracttest"
	"onething/gateway/devstack"
	"onething/gateway/service"
	"onething/mocks"
)

// wireLog keeps the requests each mock received, as they came.
type wireLog struct {
	mu   sync.Mutex
	seen map[string][]seenRequest
}

type seenRequest struct {
	method string
	header http.Header
	body   []byte
}

func (l *wireLog) wrap(name string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/_mock/") {
			h.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		l.mu.Lock()
		l.seen[name] = append(l.seen[name], seenRequest{r.Method, r.Header.Clone(), body})
		l.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

// TestEndToEndSigningSchemes runs the main case with a different scheme per
// department: cdpf on SM3 with SM4-GCM bodies, civil on a bearer JWT
// (ES256), hrss and medical on appKey HMAC-SHA256; cdpf and civil are
// polled (signed GETs) instead of calling back. Every mock verifies its own scheme, the traffic
// matches the contracts, and the case completes.
func TestEndToEndSigningSchemes(t *testing.T) {
	specs := map[string]string{"cdpf": "dept-cdpf", "civil": "dept-civil", "hrss": "dept-hrss", "medical": "dept-medical", "portal": "portal-receiver"}
	wire := &wireLog{seen: map[string][]seenRequest{}}
	st, err := devstack.Start(devstack.Options{
		Dir: t.TempDir(), Delay: 30 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		// cdpf and civil post no callbacks: the gateway must poll them
		// (signed GETs) to finish.
		Faults: map[c.Dept]mocks.Faults{c.DeptCDPF: {NoCallbacks: true}, c.DeptCivil: {NoCallbacks: true}},
		Signing: map[c.Dept]string{
			c.DeptCDPF: "sm3+sm4", c.DeptCivil: "jwt", c.DeptHRSS: "hmac-sha256", c.DeptMedical: "",
		},
		Tune: func(cfg *service.Config) {
			cfg.BaseBackoff, cfg.MaxBackoff = service.Duration(20*time.Millisecond), service.Duration(200*time.Millisecond)
			for _, d := range []c.Dept{c.DeptCDPF, c.DeptCivil} {
				dc := cfg.Departments[d]
				dc.PollEvery = service.Duration(50 * time.Millisecond)
				cfg.Departments[d] = dc
			}
		},
		WrapMock: func(name string, h http.Handler) http.Handler {
			return wire.wrap(name, contracttest.New(t, specs[name]).Middleware(h))
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Stop() })
	hc := &http.Client{Transport: contracttest.New(t, "gateway").Transport(http.DefaultTransport), Timeout: 10 * time.Second}

	acc := submitExample(t, st, hc, "submission-full.json", "msg_e2e_signing")
	v, _ := waitCompleted(t, st, hc, acc.ApplicationID, 20*time.Second)
	if v.Status.Counts[c.TaskApproved] != 5 || len(v.Items) != 5 {
		t.Fatalf("final status %+v", v.Status)
	}
	wantCases := map[c.Dept]int{c.DeptCDPF: 1, c.DeptCivil: 2, c.DeptHRSS: 1, c.DeptMedical: 1}
	for d, m := range st.Depts {
		s := m.Stats()
		if s.Cases != wantCases[d] {
			t.Errorf("%s: %d cases, want %d", d, s.Cases, wantCases[d])
		}
		for _, cs := range m.Cases() {
			if cs.Request.Person.IDNumber != "51170219850307123X" {
				t.Errorf("%s decided on %+v", d, cs.Request.Person)
			}
		}
	}

	wire.mu.Lock()
	defer wire.mu.Unlock()
	for name, reqs := range wire.seen {
		gets := 0
		for _, r := range reqs {
			h := r.header
			if r.method == http.MethodGet {
				gets++
			}
			if r.method == http.MethodPost && h.Get(c.HeaderIdempotencyKey) == "" || h.Get(c.HeaderRequestID) == "" {
				t.Errorf("%s: %s without Idempotency-Key or X-Request-Id", name, r.method)
			}
			switch name {
			case "cdpf":
				if h.Get(c.HeaderSignMethod) != c.SignMethodHMACSM3 || h.Get(c.HeaderSignature) == "" || h.Get("Authorization") != "" {
					t.Errorf("cdpf: %s not signed HMAC-SM3: %v", r.method, h)
				}
				var env c.SM4Envelope
				if r.method == http.MethodPost && (json.Unmarshal(r.body, &env) != nil || env.Alg != c.EnvelopeAlgSM4GCM ||
					bytes.Contains(r.body, []byte("51170219850307123X")) || bytes.Contains(r.body, []byte("张志明"))) {
					t.Errorf("cdpf: a request body that is not an SM4 envelope: %.80s", r.body)
				}
			case "civil":
				if !strings.HasPrefix(h.Get("Authorization"), "Bearer ") || h.Get(c.HeaderSignature) != "" {
					t.Errorf("civil: %s without a bearer token: %v", r.method, h)
				}
			case "hrss", "medical":
				if h.Get(c.HeaderSignMethod) != c.SignMethodHMACSHA256 || h.Get(c.HeaderSignature) == "" || h.Get("Authorization") != "" {
					t.Errorf("%s: %s not signed HMAC-SHA256: %v", name, r.method, h)
				}
			}
		}
		if (name == "cdpf" || name == "civil") && gets == 0 {
			t.Errorf("%s was never polled", name)
		}
	}
	if len(wire.seen["cdpf"]) == 0 || len(wire.seen["civil"]) == 0 || len(wire.seen["hrss"]) == 0 || len(wire.seen["medical"]) == 0 {
		t.Errorf("requests seen: %d cdpf, %d civil, %d hrss, %d medical",
			len(wire.seen["cdpf"]), len(wire.seen["civil"]), len(wire.seen["hrss"]), len(wire.seen["medical"]))
	}
	if st.Portal.Rejected() != 0 {
		t.Errorf("%d pushes failed signature verification", st.Portal.Rejected())
	}
}

// TestDevstackSigningChoices: every choice makes a consistent pair, and an
// unknown one is an error.
func TestDevstackSigningChoices(t *testing.T) {
	for _, choice := range []string{"", "hmac-sha256", "sm3", "sm3+sm4", "jwt", "jwt-es256", "jwt-rs256", "jwt-hs256"} {
		if _, _, err := devstack.SigningPair(choice, strings.Repeat("s", 48)); err != nil {
			t.Errorf("%q: %v", choice, err)
		}
	}
	if _, _, err := devstack.SigningPair("md5", "s"); err == nil {
		t.Error("unknown choice accepted")
	}
}
