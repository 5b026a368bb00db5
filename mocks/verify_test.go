package mocks

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"onething/adapters/client"
	"onething/adapters/portal"
	"onething/contracts"
	"onething/contracts/contracttest"
)

// A mock is configured to verify one scheme; a configuration that could not
// verify what it names is refused when the mock is built.
func TestExpectConfigurationIsChecked(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rk := &rsa.PublicKey{}
	long := []byte("0123456789abcdef0123456789abcdef")
	bad := map[string]Expect{
		"unknown scheme":            {Scheme: "rot13"},
		"hmac with SM4 keys":        {SM4Keys: map[string][]byte{"k": make([]byte, 16)}},
		"hmac with a JWT key":       {JWT: contracts.JWTVerifier{Alg: "ES256", Key: &ec.PublicKey}},
		"sm3 with a short SM4 key":  {Scheme: "sm3", SM4Keys: map[string][]byte{"k": make([]byte, 8)}},
		"sm3 with an empty key id":  {Scheme: "sm3", SM4Keys: map[string][]byte{"": make([]byte, 16)}},
		"jwt with SM4 keys":         {Scheme: "jwt", SM4Keys: map[string][]byte{"k": make([]byte, 16)}, JWT: contracts.JWTVerifier{Alg: "HS256", Key: long}},
		"jwt ES256 with an RSA key": {Scheme: "jwt", JWT: contracts.JWTVerifier{Alg: "ES256", Key: rk}},
		"jwt RS256 with an EC key":  {Scheme: "jwt", JWT: contracts.JWTVerifier{Alg: "RS256", Key: &ec.PublicKey}},
		"jwt HS256 short secret":    {Scheme: "jwt", JWT: contracts.JWTVerifier{Alg: "HS256", Key: []byte("short")}},
		"jwt none":                  {Scheme: "jwt", JWT: contracts.JWTVerifier{Alg: "none", Key: long}},
		"jwt without a key":         {Scheme: "jwt", JWT: contracts.JWTVerifier{Alg: "ES256"}},
	}
	for name, e := range bad {
		if _, err := NewDept(Config{Dept: contracts.DeptCivil, Path: "/x", Secret: secret, EventSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", Expect: e}, Civil(time.Hour)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := NewDept(Config{Dept: contracts.DeptCivil, Path: "/x", EventSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", Expect: Expect{Scheme: "sm3"}}, Civil(time.Hour)); err == nil {
		t.Error("sm3 without a secret: accepted")
	}
	d, err := NewDept(Config{Dept: contracts.DeptCivil, Path: "/x", EventSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		Expect: Expect{Scheme: "jwt", JWT: contracts.JWTVerifier{Alg: "ES256", Key: &ec.PublicKey}}}, Civil(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if d.cfg.Expect.JWT.Audience != "civil" {
		t.Errorf("default audience %q, want the department", d.cfg.Expect.JWT.Audience)
	}
}

// The polling endpoint is verified like the others.
func TestMockVerifiesPolls(t *testing.T) {
	_, srv := newCivil(t)
	get := func(sign bool, nonce string) int {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/subsidy-cases/NOPE", nil)
		if sign {
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			req.Header.Set(contracts.HeaderAppKey, "k")
			req.Header.Set(contracts.HeaderTimestamp, ts)
			req.Header.Set(contracts.HeaderNonce, nonce)
			req.Header.Set(contracts.HeaderSignature, contracts.DeptSignature(secret, "GET", "/api/v1/subsidy-cases/NOPE", ts, nonce, nil))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := get(false, ""); s != http.StatusUnauthorized {
		t.Errorf("unsigned poll: %d", s)
	}
	if s := get(true, "poll-nonce-1"); s != http.StatusNotFound {
		t.Errorf("signed poll of an unknown case: %d, want 404", s)
	}
	if s := get(true, "poll-nonce-1"); s != http.StatusUnauthorized {
		t.Errorf("replayed poll: %d", s)
	}
}

// The portal receiver takes only pushes signed with its secret (Standard
// Webhooks): the real notifier with the right secret gets through; with
// the wrong one, unsigned, altered or stale pushes are refused (401, the
// project's error shape) and counted.
func TestPortalRefusesUnsignedOrWronglySignedPushes(t *testing.T) {
	const pushSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	const otherSecret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
	p, err := NewPortal(pushSecret)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(contracttest.New(t, "portal-receiver").Middleware(p.Handler()))
	defer srv.Close()
	raw, err := contracts.Example("status-push.json")
	if err != nil {
		t.Fatal(err)
	}
	var push contracts.StatusPush
	if err := json.Unmarshal(raw, &push); err != nil {
		t.Fatal(err)
	}
	notifier := func(secret string) *portal.Notifier {
		n, err := portal.New(client.Config{Name: "portal", BaseURL: srv.URL, Retries: -1, Timeout: 2 * time.Second}, PortalPath, secret)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	ctx := context.Background()

	if err := notifier(pushSecret).Push(ctx, &push, "req-1"); err != nil {
		t.Fatalf("signed push: %v", err)
	}
	if _, ok := p.Latest(push.ApplicationID); !ok || p.Rejected() != 0 {
		t.Fatalf("signed push not taken (rejected %d)", p.Rejected())
	}

	wrong := push
	wrong.Version++
	err = notifier(otherSecret).Push(ctx, &wrong, "req-2")
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != http.StatusUnauthorized || ce.Code != "unauthorized" || ce.Retryable {
		t.Fatalf("push signed with another secret: %v", err)
	}

	body, _ := json.Marshal(wrong)
	post := func(h func(http.Header), b []byte) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+PortalPath, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		h(req.Header)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e contracts.Error
		rb, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == http.StatusUnauthorized && (json.Unmarshal(rb, &e) != nil || e.Code != "unauthorized" || e.Message == "" || e.MessageEn == "") {
			t.Errorf("401 without the error shape: %s", rb)
		}
		return resp.StatusCode
	}
	wh, _ := standardwebhooks.NewWebhook(pushSecret)
	signAt := func(at time.Time, b []byte) func(http.Header) {
		return func(h http.Header) {
			sig, _ := wh.Sign("st_x_1", at, b)
			h.Set(standardwebhooks.HeaderWebhookID, "st_x_1")
			h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(at.Unix(), 10))
			h.Set(standardwebhooks.HeaderWebhookSignature, sig)
		}
	}
	altered := bytes.Replace(body, []byte(`"processing"`), []byte(`"completed"`), 1)
	for name, status := range map[string]int{
		"unsigned":              post(func(http.Header) {}, body),
		"altered after signing": post(signAt(time.Now(), body), altered),
		"stale":                 post(signAt(time.Now().Add(-10*time.Minute), body), body),
	} {
		if status != http.StatusUnauthorized {
			t.Errorf("%s push: %d, want 401", name, status)
		}
	}
	if p.Rejected() != 4 || len(p.Pushes()) != 1 {
		t.Errorf("rejected %d, taken %d; want 4 and 1", p.Rejected(), len(p.Pushes()))
	}
	if got, _ := p.Latest(push.ApplicationID); got.Version != push.Version {
		t.Errorf("a refused push changed the latest version: %d", got.Version)
	}
}
