package auth_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"onething/gateway/auth"
	"onething/gateway/auth/authtest"
)

// FuzzWebhookVerify: any headers and body either verify or are refused
// with ErrUnauthenticated; nothing panics; a valid signature stays valid
// only for the body it signs.
func FuzzWebhookVerify(f *testing.F) {
	v, err := auth.NewWebhookVerifier([]string{newSecret, oldSecret})
	if err != nil {
		f.Fatal(err)
	}
	body := []byte(`{"portalRef":"SCZW-1","channel":"offline"}`)
	h := signedHeader(f, newSecret, "msg_1", time.Now(), body)
	f.Add("msg_1", h.Get("webhook-timestamp"), h.Get("webhook-signature"), body)
	f.Add("msg_2", "0", "v1,AAAA", []byte(`{}`))
	f.Add("", "", "", []byte(nil))
	f.Add("m", "99999999999999999999", "v1,"+strings.Repeat("A", 44)+" v1a,xyz", []byte("x"))
	f.Add("m", "-1", "v1", []byte("x"))
	f.Add("m", "1e9", ",,,, v1,", []byte("x"))
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set("webhook-id", id)
		h.Set("webhook-timestamp", ts)
		h.Set("webhook-signature", sig)
		err := v.Verify(body, h)
		if err == nil {
			// Only a real signature verifies: it must be what the secret
			// signs for this id, time and body.
			at, _ := strconv.ParseInt(ts, 10, 64)
			want := signedHeader(t, newSecret, id, time.Unix(at, 0), body).Get("webhook-signature")
			wantOld := signedHeader(t, oldSecret, id, time.Unix(at, 0), body).Get("webhook-signature")
			if !strings.Contains(sig, want) && !strings.Contains(sig, wantOld) {
				t.Fatalf("verified a signature no secret made")
			}
			return
		}
		if !strings.HasPrefix(err.Error(), auth.ErrUnauthenticated.Error()) {
			t.Fatalf("error without ErrUnauthenticated: %v", err)
		}
	})
}

// FuzzJWTVerify: any bearer string is a principal or a refusal wrapping
// ErrUnauthenticated, never a panic, and the refusal never echoes the
// token.
func FuzzJWTVerify(f *testing.F) {
	is := authtest.NewIssuer(f)
	v, err := auth.NewJWTVerifier(is.Config(), nil)
	if err != nil {
		f.Fatal(err)
	}
	b := &auth.Bearer{JWT: v}
	staff := authtest.Claims("staff-1", auth.RoleStaff)
	staff.Towns = []string{"511702102"}
	f.Add(is.Sign("RS256", staff))
	f.Add(is.Sign("ES256", authtest.Claims("portal-1", auth.RolePortal)))
	f.Add(is.Sign("EdDSA", authtest.Claims("ops-1", auth.RoleAdmin)))
	f.Add("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4In0.")
	f.Add("eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYWRtaW4ifQ.c2lnbmF0dXJl")
	f.Add("eyJ..")
	f.Add("eyJhbGciOiJSUzI1NiIsImtpZCI6WzEsMiwzXX0.e30.AA")
	f.Add("not a token")
	f.Fuzz(func(t *testing.T, token string) {
		p, err := b.Verify(token)
		if err != nil {
			if !strings.HasPrefix(err.Error(), auth.ErrUnauthenticated.Error()) {
				t.Fatalf("error without ErrUnauthenticated: %v", err)
			}
			if len(token) > 12 && strings.Contains(err.Error(), token) {
				t.Fatalf("the error echoes the token")
			}
			return
		}
		if p.Validate() != nil || p.Via != auth.ViaJWT {
			t.Fatalf("accepted an invalid principal %+v", p)
		}
	})
}
