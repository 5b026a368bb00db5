package client

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"onething/contracts"
	"onething/contracts/contracttest"
	"onething/mocks"
)

// These tests run each signing scheme end to end: the real client, signed
// by NewSigner, against the real department mock (civil) verifying what it
// is configured to expect, with the mock's traffic checked against
// dept-civil.yaml.

const (
	sigSecret  = "dept-shared-secret-0123456789abcdef" // 35 bytes: also an HS256 key
	sigAppKey  = "onething-civil"
	civilPath  = "/api/v1/subsidy-cases"
	eventWhsec = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
)

// testKeys are made once: RSA generation is slow under -race.
var testKeys = sync.OnceValue(func() (k struct {
	ec, ec2   *ecdsa.PrivateKey
	rsa       *rsa.PrivateKey
	ecPEM     string
	ec2PEM    string
	rsaPEM    string
	sm4, sm4b []byte
}) {
	k.ec, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k.ec2, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k.rsa, _ = rsa.GenerateKey(rand.Reader, 2048)
	k.ecPEM, k.ec2PEM, k.rsaPEM = pkcs8PEM(k.ec), pkcs8PEM(k.ec2), pkcs8PEM(k.rsa)
	k.sm4, k.sm4b = make([]byte, 16), make([]byte, 16)
	rand.Read(k.sm4)
	rand.Read(k.sm4b)
	return k
})

func pkcs8PEM(k any) string {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// scheme is one configuration of both sides.
type scheme struct {
	name    string
	signing *Signing
	expect  mocks.Expect
}

func schemes() []scheme {
	k := testKeys()
	return []scheme{
		{"hmac-sha256 default", nil, mocks.Expect{}},
		{"hmac-sha256 named", &Signing{Scheme: "hmac-sha256"}, mocks.Expect{Scheme: "hmac-sha256"}},
		{"sm3", &Signing{Scheme: "sm3"}, mocks.Expect{Scheme: "sm3"}},
		{"sm3+sm4", &Signing{Scheme: "sm3", SM4Key: hex.EncodeToString(k.sm4), SM4KeyID: "k2026"},
			mocks.Expect{Scheme: "sm3", SM4Keys: map[string][]byte{"k2026": k.sm4, "k2025": k.sm4b}}},
		{"jwt ES256", &Signing{Scheme: "jwt", JWTKey: k.ecPEM, JWTKeyID: "gw-1"},
			mocks.Expect{Scheme: "jwt", JWT: contracts.JWTVerifier{Alg: "ES256", Key: &k.ec.PublicKey}}},
		{"jwt RS256", &Signing{Scheme: "jwt", JWTAlg: "RS256", JWTKey: k.rsaPEM},
			mocks.Expect{Scheme: "jwt", JWT: contracts.JWTVerifier{Alg: "RS256", Key: &k.rsa.PublicKey}}},
		{"jwt HS256", &Signing{Scheme: "jwt", JWTAlg: "HS256"},
			mocks.Expect{Scheme: "jwt", JWT: contracts.JWTVerifier{Alg: "HS256", Key: []byte(sigSecret)}}},
	}
}

type wireRequest struct {
	method, path string
	header       http.Header
	body         []byte
}

// rig is a civil mock behind a recorder of what reached it.
type rig struct {
	t    *testing.T
	mock *mocks.Dept
	srv  *httptest.Server
	// loseNext: the next request is applied by the mock but answered 503
	// (the answer lost), so the client retries it.
	loseNext atomic.Bool

	mu   sync.Mutex
	wire []wireRequest
}

func newRig(t *testing.T, expect mocks.Expect) *rig {
	t.Helper()
	m, err := mocks.NewDept(mocks.Config{Dept: contracts.DeptCivil, Path: civilPath, AppKey: sigAppKey, Secret: sigSecret,
		EventSecret: eventWhsec, Delay: time.Hour, Expect: expect}, mocks.Civil(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, mock: m}
	h := contracttest.New(t, "dept-civil").Middleware(m.Handler())
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.wire = append(r.wire, wireRequest{req.Method, req.URL.Path, req.Header.Clone(), body})
		r.mu.Unlock()
		req.Body = io.NopCloser(bytes.NewReader(body))
		if r.loseNext.CompareAndSwap(true, false) {
			h.ServeHTTP(httptest.NewRecorder(), req)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"code":"unavailable","message":"维护","messageEn":"down","requestId":"r"}`)
			return
		}
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(func() { r.srv.Close(); m.Close() })
	return r
}

func (r *rig) requests() []wireRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]wireRequest(nil), r.wire...)
}

func (r *rig) client(t *testing.T, s *Signing, secret string) *Client {
	t.Helper()
	sign, err := NewSigner("civil", sigAppKey, secret, s)
	if err != nil {
		t.Fatalf("NewSigner: %v", err)
	}
	return New(Config{Name: "civil", BaseURL: r.srv.URL, AppKey: sigAppKey, Secret: secret, Sign: sign, Retries: 2,
		RetryWait: time.Millisecond, RetryMaxWait: 5 * time.Millisecond, Timeout: 2 * time.Second})
}

// resend sends a recorded request again exactly as it was (a replay), or
// with the changes mod makes.
func (r *rig) resend(t *testing.T, w wireRequest, mod func(*http.Request)) (int, contracts.Error) {
	t.Helper()
	req, _ := http.NewRequest(w.method, r.srv.URL+w.path, bytes.NewReader(w.body))
	req.Header = w.header.Clone()
	if mod != nil {
		mod(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e contracts.Error
	json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e
}

func civilCase(t *testing.T, taskID string) contracts.CaseRequest {
	t.Helper()
	raw, err := contracts.Example("case-request-civil.json")
	if err != nil {
		t.Fatal(err)
	}
	var req contracts.CaseRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		t.Fatal(err)
	}
	req.TaskID, req.CallbackURL = taskID, "" // no callbacks: nothing leaves the machine
	return req
}

func adapter(cl *Client) *CaseAdapter {
	return NewCaseAdapter(cl, civilPath, "", func(*contracts.Application, *contracts.Task, string) contracts.CaseRequest {
		return contracts.CaseRequest{}
	})
}

// TestSigningSchemesEndToEnd: every scheme opens a case, survives an in-call
// retry (freshly signed, same idempotency key), polls and cancels it.
func TestSigningSchemesEndToEnd(t *testing.T) {
	for _, sc := range schemes() {
		t.Run(sc.name, func(t *testing.T) {
			r := newRig(t, sc.expect)
			cl := r.client(t, sc.signing, sigSecret)
			ctx := context.Background()

			first, err := cl.OpenCase(ctx, civilPath, civilCase(t, "T-1"), "dispatch:T-1:1", "req-1")
			if err != nil || first.Status != contracts.CaseAccepted {
				t.Fatalf("open: %+v %v", first, err)
			}
			// The answer to the first attempt is lost: the retry must be
			// signed afresh (else a replay) and carry the same key.
			r.loseNext.Store(true)
			second, err := cl.OpenCase(ctx, civilPath, civilCase(t, "T-2"), "dispatch:T-2:1", "req-2")
			if err != nil || second.CaseNo == "" || second.CaseNo == first.CaseNo {
				t.Fatalf("open after a lost answer: %+v %v", second, err)
			}
			wire := r.requests()
			if len(wire) != 3 {
				t.Fatalf("%d requests reached the mock, want 3", len(wire))
			}
			a, b := wire[1].header, wire[2].header
			if a.Get(contracts.HeaderIdempotencyKey) != "dispatch:T-2:1" || b.Get(contracts.HeaderIdempotencyKey) != "dispatch:T-2:1" ||
				a.Get(contracts.HeaderRequestID) != "req-2" || b.Get(contracts.HeaderRequestID) != "req-2" {
				t.Errorf("retry headers: %v / %v", a, b)
			}
			if sigOf(a) == sigOf(b) || bytes.Equal(wire[1].body, wire[2].body) && sc.expect.SM4Keys != nil {
				t.Error("the retry was not signed (and sealed) afresh")
			}
			if st := r.mock.Stats(); st.Effects["T-2"] != 1 || st.Repeats != 1 {
				t.Errorf("mock stats %+v: the retry should be absorbed by the idempotency key", st)
			}

			ad := adapter(cl)
			task := &contracts.Task{ID: "T-1", CaseNo: first.CaseNo}
			view, err := ad.Poll(ctx, task, "req-3")
			if err != nil || view.CaseNo != first.CaseNo {
				t.Fatalf("poll: %+v %v", view, err)
			}
			resp, err := ad.Cancel(ctx, task, &contracts.CancelRequest{TaskID: "T-1", Reason: contracts.Message{ZH: "撤回", EN: "withdrawn"}}, "cancel:T-1", "req-4")
			if err != nil || resp.Status != contracts.CaseCancelled {
				t.Fatalf("cancel: %+v %v", resp, err)
			}

			// What the department decided on is the plaintext request.
			for _, c := range r.mock.Cases() {
				if c.Request.Person.IDNumber != "51170219850307123X" {
					t.Errorf("mock saw %+v", c.Request.Person)
				}
			}
			for _, w := range r.requests() {
				checkWire(t, sc, w)
			}
		})
	}
}

func sigOf(h http.Header) string {
	return h.Get(contracts.HeaderNonce) + h.Get(contracts.HeaderSignature) + h.Get("Authorization")
}

// checkWire: each request carries its scheme's headers and no other's; an
// encrypted body never shows the personal data.
func checkWire(t *testing.T, sc scheme, w wireRequest) {
	t.Helper()
	h := w.header
	scheme := sc.expect.Scheme
	switch scheme {
	case "", "hmac-sha256", "sm3":
		want := map[string]string{"": "HMAC-SHA256", "hmac-sha256": "HMAC-SHA256", "sm3": "HMAC-SM3"}[scheme]
		if h.Get(contracts.HeaderSignMethod) != want || h.Get(contracts.HeaderAppKey) != sigAppKey || len(h.Get(contracts.HeaderSignature)) != 64 || h.Get("Authorization") != "" {
			t.Errorf("%s %s: headers %v", w.method, w.path, h)
		}
	case "jwt":
		if !strings.HasPrefix(h.Get("Authorization"), "Bearer ") || h.Get(contracts.HeaderSignature) != "" || h.Get(contracts.HeaderAppKey) != "" {
			t.Errorf("%s %s: headers %v", w.method, w.path, h)
		}
	}
	if w.method == http.MethodGet {
		if len(w.body) != 0 {
			t.Errorf("GET with a body")
		}
		return
	}
	enc := sc.expect.SM4Keys != nil
	var env map[string]any
	isEnv := json.Unmarshal(w.body, &env) == nil && env["alg"] == "SM4-GCM"
	if enc != isEnv || enc && (bytes.Contains(w.body, []byte("51170219850307123X")) || bytes.Contains(w.body, []byte("张志明"))) {
		t.Errorf("%s %s: encrypted=%v, body %s", w.method, w.path, enc, w.body)
	}
	if enc && (env["kid"] != "k2026" || len(env) != 4) {
		t.Errorf("envelope %s", w.body)
	}
}

// TestSigningRefusals: what the mock refuses, with the reason it gives.
// None of them opens a case, and none is retried (a 401 means no).
func TestSigningRefusals(t *testing.T) {
	k := testKeys()
	byName := map[string]scheme{}
	for _, sc := range schemes() {
		byName[sc.name] = sc
	}
	cases := []struct {
		name    string
		client  *Signing
		secret  string
		appKey  string
		clock   time.Duration // signer's clock offset
		mock    string        // a scheme of schemes()
		wantMsg string
	}{
		{name: "hmac to an sm3 system", client: nil, mock: "sm3", wantMsg: "wrong signing scheme"},
		{name: "sm3 to an hmac system", client: &Signing{Scheme: "sm3"}, mock: "hmac-sha256 default", wantMsg: "wrong signing scheme"},
		{name: "hmac to a jwt system", client: nil, mock: "jwt ES256", wantMsg: "wrong signing scheme"},
		{name: "jwt to an sm3 system", client: byName["jwt ES256"].signing, mock: "sm3", wantMsg: "wrong signing scheme"},
		{name: "jwt to an hmac system", client: byName["jwt ES256"].signing, mock: "hmac-sha256 default", wantMsg: "wrong signing scheme"},
		{name: "unsigned to an hmac system", client: nil, secret: "-", mock: "hmac-sha256 default", wantMsg: "bad signature"},
		{name: "unsigned to a jwt system", client: nil, secret: "-", mock: "jwt ES256", wantMsg: "bad signature"},

		{name: "hmac wrong secret", client: nil, secret: "another-secret", mock: "hmac-sha256 default", wantMsg: "bad signature"},
		{name: "sm3 wrong secret", client: &Signing{Scheme: "sm3"}, secret: "another-secret", mock: "sm3", wantMsg: "bad signature"},
		{name: "sm3 wrong app key", client: &Signing{Scheme: "sm3"}, appKey: "someone-else", mock: "sm3", wantMsg: "unknown app key"},
		{name: "jwt other key", client: &Signing{Scheme: "jwt", JWTKey: k.ec2PEM}, mock: "jwt ES256", wantMsg: "invalid token"},
		{name: "jwt HS256 to an ES256 system (alg confusion)", client: &Signing{Scheme: "jwt", JWTAlg: "HS256"}, mock: "jwt ES256", wantMsg: "invalid token"},
		{name: "jwt wrong issuer", client: &Signing{Scheme: "jwt", JWTKey: k.ecPEM, JWTIssuer: "not-the-gateway"}, mock: "jwt ES256", wantMsg: "invalid token"},

		{name: "hmac stale timestamp", client: nil, clock: -6 * time.Minute, mock: "hmac-sha256 default", wantMsg: "stale or missing timestamp"},
		{name: "sm3 timestamp from the future", client: &Signing{Scheme: "sm3"}, clock: 6 * time.Minute, mock: "sm3", wantMsg: "stale or missing timestamp"},
		{name: "sm3+sm4 stale timestamp", client: byName["sm3+sm4"].signing, clock: -6 * time.Minute, mock: "sm3+sm4", wantMsg: "stale or missing timestamp"},
		{name: "jwt expired", client: byName["jwt ES256"].signing, clock: -2 * time.Minute, mock: "jwt ES256", wantMsg: "token expired, not yet valid or issued too long ago"},
		{name: "jwt not yet valid", client: byName["jwt ES256"].signing, clock: 2 * time.Minute, mock: "jwt ES256", wantMsg: "token expired, not yet valid or issued too long ago"},

		{name: "jwt wrong audience", client: &Signing{Scheme: "jwt", JWTKey: k.ecPEM, JWTAudience: "cdpf"}, mock: "jwt ES256", wantMsg: "token audience is not this system"},

		{name: "plaintext to an sm4 system", client: &Signing{Scheme: "sm3"}, mock: "sm3+sm4", wantMsg: "body is not an SM4-GCM envelope this system can decrypt"},
		{name: "sm4 unknown key id", client: &Signing{Scheme: "sm3", SM4Key: hex.EncodeToString(k.sm4), SM4KeyID: "k2099"}, mock: "sm3+sm4", wantMsg: "body is not an SM4-GCM envelope this system can decrypt"},
		{name: "sm4 wrong key under a known id", client: &Signing{Scheme: "sm3", SM4Key: hex.EncodeToString(k.sm4b), SM4KeyID: "k2026"}, mock: "sm3+sm4", wantMsg: "body is not an SM4-GCM envelope this system can decrypt"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, byName[tc.mock].expect)
			secret := sigSecret
			switch tc.secret {
			case "":
			case "-":
				secret = ""
			default:
				secret = tc.secret
			}
			sign, err := NewSigner("civil", cmp(tc.appKey, sigAppKey), secret, tc.client)
			if err != nil {
				t.Fatal(err)
			}
			if tc.clock != 0 {
				timeNow = func() time.Time { return time.Now().Add(tc.clock) }
				t.Cleanup(func() { timeNow = time.Now })
			}
			cl := New(Config{Name: "civil", BaseURL: r.srv.URL, AppKey: cmp(tc.appKey, sigAppKey), Secret: secret, Sign: sign,
				Retries: 2, RetryWait: time.Millisecond, Timeout: 2 * time.Second})
			_, err = cl.OpenCase(context.Background(), civilPath, civilCase(t, "T-1"), "dispatch:T-1:1", "req-1")
			var ce *Error
			if !errors.As(err, &ce) || ce.Status != http.StatusUnauthorized || ce.Code != "unauthorized" || ce.Message != tc.wantMsg || ce.Retryable {
				t.Fatalf("got %#v (%v), want a 401 %q", ce, err, tc.wantMsg)
			}
			if n := len(r.requests()); n != 1 {
				t.Errorf("%d attempts, want 1: a 401 is not retried", n)
			}
			if st := r.mock.Stats(); st.Cases != 0 || st.Requests != 0 {
				t.Errorf("refused request reached the case logic: %+v", st)
			}
		})
	}
}

func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// TestSigningReplaysAndBindings re-sends requests the client signed: as
// they were (replays), and moved to another body or operation.
func TestSigningReplaysAndBindings(t *testing.T) {
	ctx := context.Background()
	for _, sc := range schemes() {
		t.Run(sc.name, func(t *testing.T) {
			r := newRig(t, sc.expect)
			cl := r.client(t, sc.signing, sigSecret)
			opened, err := cl.OpenCase(ctx, civilPath, civilCase(t, "T-1"), "dispatch:T-1:1", "req-1")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := adapter(cl).Poll(ctx, &contracts.Task{CaseNo: opened.CaseNo}, "req-2"); err != nil {
				t.Fatal(err)
			}
			wire := r.requests()
			post, get := wire[0], wire[1]
			// The same request again, under a new idempotency key too.
			for i, w := range []wireRequest{post, get} {
				if status, e := r.resend(t, w, nil); status != 401 || e.MessageEn != "replayed nonce or token id" {
					t.Errorf("replay %d: %d %+v", i, status, e)
				}
			}
			if status, e := r.resend(t, post, func(q *http.Request) { q.Header.Set(contracts.HeaderIdempotencyKey, "dispatch:T-9:1") }); status != 401 || e.MessageEn != "replayed nonce or token id" {
				t.Errorf("replay under another key: %d %+v", status, e)
			}
			if st := r.mock.Stats(); st.Cases != 1 {
				t.Errorf("cases %d, want 1", st.Cases)
			}
			switch sc.expect.Scheme {
			case "jwt":
				// A token moved to another body, or to another operation.
				other, _ := json.Marshal(civilCase(t, "T-2"))
				if status, e := r.resend(t, post, func(q *http.Request) { setBody(q, other) }); status != 401 || e.MessageEn != "token bound to another body or request" {
					t.Errorf("token on another body: %d %+v", status, e)
				}
				moved := get
				moved.path = civilPath + "/OTHER-CASE"
				if status, e := r.resend(t, moved, nil); status != 401 || e.MessageEn != "token bound to another body or request" {
					t.Errorf("token on another path: %d %+v", status, e)
				}
			case "sm3", "hmac-sha256", "":
				// Headers kept, body changed: the signature no longer fits.
				other, _ := json.Marshal(civilCase(t, "T-2"))
				if status, e := r.resend(t, post, func(q *http.Request) {
					setBody(q, other)
					q.Header.Set(contracts.HeaderNonce, "fresh-nonce-1234")
				}); status != 401 || e.MessageEn != "bad signature" {
					t.Errorf("another body under the signature: %d %+v", status, e)
				}
			}
			if sc.expect.SM4Keys != nil {
				// The envelope, validly re-signed, sent to another operation:
				// its additional data (METHOD PATH) no longer fits.
				path := civilPath + "/" + opened.CaseNo + "/cancel"
				if status, e := r.resend(t, post, func(q *http.Request) {
					q.URL.Path = path
					signSM3(q, post.body)
				}); status != 401 || e.MessageEn != "body is not an SM4-GCM envelope this system can decrypt" {
					t.Errorf("envelope moved to cancel: %d %+v", status, e)
				}
				// A tampered ciphertext, validly re-signed.
				var env contracts.SM4Envelope
				json.Unmarshal(post.body, &env)
				ct, _ := base64.StdEncoding.DecodeString(env.Ciphertext)
				ct[5] ^= 1
				env.Ciphertext = base64.StdEncoding.EncodeToString(ct)
				tampered, _ := json.Marshal(env)
				if status, e := r.resend(t, post, func(q *http.Request) { setBody(q, tampered); signSM3(q, tampered) }); status != 401 || e.MessageEn != "body is not an SM4-GCM envelope this system can decrypt" {
					t.Errorf("tampered envelope: %d %+v", status, e)
				}
			}
		})
	}
}

func setBody(q *http.Request, b []byte) {
	q.Body = io.NopCloser(bytes.NewReader(b))
	q.ContentLength = int64(len(b))
}

// signSM3 signs q afresh in the SM3 scheme over body.
func signSM3(q *http.Request, body []byte) {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	n, _ := newNonce()
	q.Header.Set(contracts.HeaderTimestamp, ts)
	q.Header.Set(contracts.HeaderNonce, n)
	q.Header.Set(contracts.HeaderSignature, contracts.DeptSignatureSM3(sigSecret, q.Method, q.URL.EscapedPath(), ts, n, body))
}

// TestJWTClaimRules: tokens the gateway would never make, signed with the
// right key, are refused all the same.
func TestJWTClaimRules(t *testing.T) {
	k := testKeys()
	sc := schemes()[4] // jwt ES256
	r := newRig(t, sc.expect)
	body, _ := json.Marshal(civilCase(t, "T-1"))
	now := time.Now()
	good := func() contracts.DeptClaims {
		jti := make([]byte, 16)
		rand.Read(jti)
		return contracts.DeptClaims{
			RegisteredClaims: jwt.RegisteredClaims{Issuer: "onething", Audience: jwt.ClaimStrings{"civil"}, IssuedAt: jwt.NewNumericDate(now),
				ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute)), ID: hex.EncodeToString(jti)},
			BodyHash: contracts.BodyHash(body), Method: "POST", Path: civilPath,
		}
	}
	cases := []struct {
		name string
		mod  func(*contracts.DeptClaims)
		want string
	}{
		{"as the gateway makes it", func(*contracts.DeptClaims) {}, ""},
		{"long-lived", func(c *contracts.DeptClaims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(10 * time.Minute)) }, "token expired, not yet valid or issued too long ago"},
		{"issued long ago", func(c *contracts.DeptClaims) {
			c.IssuedAt = jwt.NewNumericDate(now.Add(-6 * time.Minute))
			c.ExpiresAt = jwt.NewNumericDate(now.Add(-2 * time.Minute))
		}, "token expired, not yet valid or issued too long ago"},
		{"no exp", func(c *contracts.DeptClaims) { c.ExpiresAt = nil }, "invalid token"},
		{"no iat", func(c *contracts.DeptClaims) { c.IssuedAt = nil }, "invalid token"},
		{"no jti", func(c *contracts.DeptClaims) { c.ID = "" }, "invalid token"},
		{"no body hash", func(c *contracts.DeptClaims) { c.BodyHash = "" }, "token bound to another body or request"},
		{"another method", func(c *contracts.DeptClaims) { c.Method = "PUT" }, "token bound to another body or request"},
		{"two audiences, this one among them", func(c *contracts.DeptClaims) { c.Audience = jwt.ClaimStrings{"cdpf", "civil"} }, ""},
		{"another audience", func(c *contracts.DeptClaims) { c.Audience = jwt.ClaimStrings{"cdpf"} }, "token audience is not this system"},
		{"no audience", func(c *contracts.DeptClaims) { c.Audience = nil }, "invalid token"},
	}
	for i, tc := range cases {
		c := good()
		tc.mod(&c)
		tok, err := jwt.NewWithClaims(jwt.SigningMethodES256, c).SignedString(k.ec)
		if err != nil {
			t.Fatal(err)
		}
		w := wireRequest{method: "POST", path: civilPath, body: body, header: http.Header{
			"Authorization": {"Bearer " + tok}, "Content-Type": {"application/json"},
			contracts.HeaderIdempotencyKey: {"dispatch:T-" + strconv.Itoa(i) + ":1"}, contracts.HeaderRequestID: {"r"},
		}}
		status, e := r.resend(t, w, nil)
		switch {
		case tc.want == "" && status != 200:
			t.Errorf("%s: %d %+v, want 200", tc.name, status, e)
		case tc.want != "" && (status != 401 || e.MessageEn != tc.want):
			t.Errorf("%s: %d %+v, want 401 %q", tc.name, status, e, tc.want)
		}
	}
}

// TestNewSignerRefusesBadConfigurations: a misconfigured scheme is an
// error when the gateway starts, not a 401 at the first case.
func TestNewSignerRefusesBadConfigurations(t *testing.T) {
	k := testKeys()
	weak, _ := rsa.GenerateKey(rand.Reader, 1024)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	file := filepath.Join(t.TempDir(), "gw.pem")
	os.WriteFile(file, []byte(k.ecPEM), 0o600)
	bad := map[string]*Signing{
		"unknown scheme":         {Scheme: "md5"},
		"sm4 key with hmac":      {SM4Key: hex.EncodeToString(k.sm4)},
		"sm4 key too short":      {Scheme: "sm3", SM4Key: "00112233"},
		"sm4 key not hex":        {Scheme: "sm3", SM4Key: strings.Repeat("zz", 16)},
		"sm4 key id alone":       {Scheme: "sm3", SM4KeyID: "k1"},
		"jwt settings with sm3":  {Scheme: "sm3", JWTAudience: "civil"},
		"jwt without a key":      {Scheme: "jwt"},
		"jwt key and key file":   {Scheme: "jwt", JWTKey: k.ecPEM, JWTKeyFile: file},
		"jwt missing key file":   {Scheme: "jwt", JWTKeyFile: file + ".nope"},
		"jwt not PEM":            {Scheme: "jwt", JWTKey: "secret"},
		"jwt RSA 1024":           {Scheme: "jwt", JWTKey: pkcs8PEM(weak)},
		"jwt EC P-384":           {Scheme: "jwt", JWTKey: pkcs8PEM(p384)},
		"jwt alg not the key's":  {Scheme: "jwt", JWTAlg: "RS256", JWTKey: k.ecPEM},
		"jwt HS256 with a key":   {Scheme: "jwt", JWTAlg: "HS256", JWTKey: k.ecPEM},
		"jwt HS256 short secret": {Scheme: "jwt", JWTAlg: "HS256"},
		"jwt EdDSA":              {Scheme: "jwt", JWTAlg: "EdDSA", JWTKey: k.ecPEM},
	}
	for name, s := range bad {
		secret := sigSecret
		if name == "jwt HS256 short secret" {
			secret = "short"
		}
		if _, err := NewSigner("civil", sigAppKey, secret, s); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := NewSigner("civil", sigAppKey, "", &Signing{Scheme: "sm3"}); err == nil {
		t.Error("sm3 without a secret: accepted")
	}
	good := map[string]*Signing{
		"none":           nil,
		"empty":          {},
		"jwt key file":   {Scheme: "jwt", JWTKeyFile: file},
		"jwt PKCS#1 RSA": {Scheme: "jwt", JWTKey: string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k.rsa)}))},
		"sm3+sm4 kid":    {Scheme: "sm3", SM4Key: hex.EncodeToString(k.sm4)},
	}
	for name, s := range good {
		if _, err := NewSigner("civil", sigAppKey, sigSecret, s); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Without a secret the default scheme signs nothing, as before.
	if f, err := NewSigner("civil", "", "", nil); f != nil || err != nil {
		t.Errorf("no secret: %v %v", f != nil, err)
	}
}

// BenchmarkSign measures signing one 2 KB request in each scheme.
func BenchmarkSign(b *testing.B) {
	body := bytes.Repeat([]byte(`{"k":"张志明 51170219850307123X"},`), 2048/40)
	for _, sc := range schemes() {
		sign, err := NewSigner("civil", sigAppKey, sigSecret, sc.signing)
		if err != nil {
			b.Fatal(err)
		}
		if sign == nil {
			sign = func(req *http.Request, body []byte) error { return signHMACSHA256(req, body, sigAppKey, sigSecret) }
		}
		b.Run(sc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodPost, "http://dept.example/api/v1/subsidy-cases", bytes.NewReader(body))
				if err := sign(req, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
