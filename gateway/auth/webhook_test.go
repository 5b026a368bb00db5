package auth_test

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"onething/gateway/auth"
)

const (
	newSecret  = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	oldSecret  = "whsec_dGhlIG9sZCBzZWNyZXQgYmVmb3JlIHJvdGF0aW9u"
	goneSecret = "whsec_cm90YXRlZCBvdXQgbG9uZyBhZ28gYW5kIGdvbmU="
)

func signedHeader(t testing.TB, secret, id string, at time.Time, body []byte) http.Header {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := wh.Sign(id, at, body)
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	h.Set("webhook-signature", sig)
	return h
}

func TestWebhookVerifier(t *testing.T) {
	v, err := auth.NewWebhookVerifier([]string{newSecret, oldSecret})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"portalRef":"X-1"}`)
	now := time.Now()
	cases := []struct {
		name string
		h    http.Header
		body []byte
		want error
	}{
		{"current secret", signedHeader(t, newSecret, "m1", now, body), body, nil},
		{"old secret during rotation", signedHeader(t, oldSecret, "m2", now, body), body, nil},
		{"secret rotated out", signedHeader(t, goneSecret, "m3", now, body), body, auth.ErrSignatureMismatch},
		{"tampered body", signedHeader(t, newSecret, "m4", now, body), []byte(`{"portalRef":"X-2"}`), auth.ErrSignatureMismatch},
		{"expired (6 min old)", signedHeader(t, newSecret, "m5", now.Add(-6*time.Minute), body), body, auth.ErrSignatureExpired},
		{"from the future (6 min)", signedHeader(t, newSecret, "m6", now.Add(6*time.Minute), body), body, auth.ErrSignatureExpired},
		{"missing signature", func() http.Header {
			h := signedHeader(t, newSecret, "m7", now, body)
			h.Del("webhook-signature")
			return h
		}(), body, auth.ErrSignatureMissing},
		{"id changed after signing", func() http.Header {
			h := signedHeader(t, newSecret, "m8", now, body)
			h.Set("webhook-id", "m9")
			return h
		}(), body, auth.ErrSignatureMismatch},
		{"id too long", signedHeader(t, newSecret, strings.Repeat("i", auth.MaxWebhookID+1), now, body), body, auth.ErrSignatureHeaders},
		{"timestamp not a number", func() http.Header {
			h := signedHeader(t, newSecret, "m10", now, body)
			h.Set("webhook-timestamp", "soon")
			return h
		}(), body, auth.ErrSignatureHeaders},
		{"v2 signature only", func() http.Header {
			h := signedHeader(t, newSecret, "m11", now, body)
			h.Set("webhook-signature", strings.Replace(h.Get("webhook-signature"), "v1,", "v2,", 1))
			return h
		}(), body, auth.ErrSignatureMismatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := v.Verify(tc.body, tc.h)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !errors.Is(err, auth.ErrUnauthenticated) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
		})
	}
	for _, bad := range []string{"", "whsec_", "whsec_c2hvcnQ=", "not base64 !"} {
		if _, err := auth.NewWebhookVerifier([]string{bad}); err == nil {
			t.Errorf("secret %q accepted", bad)
		}
	}
	var none *auth.WebhookVerifier
	if err := none.Verify(body, signedHeader(t, newSecret, "m", now, body)); err == nil {
		t.Error("no secrets verified a signature")
	}
}

func TestStaticTokens(t *testing.T) {
	toks, err := auth.NewTokens([]auth.StaticToken{
		{Token: "a-read-token-of-the-office", Role: auth.RoleStaff, Towns: []string{"511702"}, Subject: "read#1"},
		{Token: "luojiang-window-token-0001", Role: auth.RoleStaff, Towns: []string{"511702102"}, Subject: "luojiang"},
		{Token: "an-operator-token-for-tests", Role: auth.RoleAdmin, Subject: "admin#1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	p, ok := toks.Lookup("luojiang-window-token-0001")
	if !ok || p.Subject != "token:luojiang" || p.Via != auth.ViaToken || !p.SeesHousehold("511702102") || p.SeesHousehold("511702103") {
		t.Errorf("%+v %v", p, ok)
	}
	if _, ok := toks.Lookup("luojiang-window-token-0002"); ok {
		t.Error("an unknown token was found")
	}
	b := &auth.Bearer{Tokens: toks}
	if _, err := b.Verify("eyJhbGciOiJub25lIn0.e30."); !errors.Is(err, auth.ErrUnknownBearer) {
		t.Errorf("a JWT without JWT configured: %v", err)
	}
	for name, list := range map[string][]auth.StaticToken{
		"short":          {{Token: "short", Role: auth.RoleAdmin, Subject: "a"}},
		"twice":          {{Token: "the-same-token-twice", Role: auth.RoleAdmin, Subject: "a"}, {Token: "the-same-token-twice", Role: auth.RolePortal, Subject: "b"}},
		"no subject":     {{Token: "a-token-without-subject", Role: auth.RoleAdmin}},
		"staff no towns": {{Token: "a-token-of-staff-no-town", Role: auth.RoleStaff, Subject: "s"}},
		"bad role":       {{Token: "a-token-of-a-bad-role-x", Role: "root", Subject: "s"}},
		"dept unknown":   {{Token: "a-token-of-the-police-x", Role: auth.RoleDepartment, Dept: "police", Subject: "s"}},
	} {
		if _, err := auth.NewTokens(list); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
