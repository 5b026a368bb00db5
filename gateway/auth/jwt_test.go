package auth_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"onething/gateway/auth"
	"onething/gateway/auth/authtest"
)

func verifier(t *testing.T, cfg auth.JWTConfig) *auth.JWTVerifier {
	t.Helper()
	v, err := auth.NewJWTVerifier(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestJWTAlgorithmsAndClaims(t *testing.T) {
	is := authtest.NewIssuer(t)
	v := verifier(t, is.Config())
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		cl := authtest.Claims("staff-0042", auth.RoleStaff)
		cl.Towns = []string{"511702102", "511702103"}
		p, err := v.Verify(is.Sign(alg, cl))
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		if p.Role != auth.RoleStaff || p.Subject != "jwt:staff-0042" || p.Via != auth.ViaJWT || !p.SeesHousehold("511702102001") || p.SeesHousehold("511702104") || p.AllTowns() {
			t.Errorf("%s: principal %+v", alg, p)
		}
	}
	// A county office (通川区) sees its county, not another's; the province
	// office sees all.
	p, err := v.Verify(is.Token("district-1", auth.RoleStaff, "", "511702"))
	if err != nil || p.AllTowns() || !p.SeesHousehold("511702104") || p.SeesHousehold("511703100") || p.SeesHousehold("510107") {
		t.Errorf("district office: %+v %v", p, err)
	}
	p, err = v.Verify(is.Token("province-1", auth.RoleStaff, "", "51"))
	if err != nil || !p.AllTowns() || !p.SeesHousehold("510107") || !p.SeesHousehold("511703100") {
		t.Errorf("province office: %+v %v", p, err)
	}
	p, err = v.Verify(is.Token("civil-sys", auth.RoleDepartment, "civil"))
	if err != nil || p.Dept != "civil" {
		t.Errorf("department: %+v %v", p, err)
	}
}

// TestJWTRejections: every way a token is refused, each with its reason.
func TestJWTRejections(t *testing.T) {
	is := authtest.NewIssuer(t)
	v := verifier(t, is.Config())
	base := func() *auth.Claims { return authtest.Claims("portal-1", auth.RolePortal) }
	with := func(f func(*auth.Claims)) *auth.Claims { cl := base(); f(cl); return cl }
	otherRSA, _ := rsa.GenerateKey(rand.Reader, 2048)
	otherEC, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	hsSecret := []byte(strings.Repeat("s", 32))
	cases := []struct {
		name, token, reason string
	}{
		{"wrong audience", is.Sign("RS256", with(func(c *auth.Claims) { c.Audience = jwt.ClaimStrings{"another-service"} })), "audience"},
		{"no audience", is.Sign("RS256", with(func(c *auth.Claims) { c.Audience = nil })), "missing required claim"},
		{"wrong issuer", is.Sign("ES256", with(func(c *auth.Claims) { c.Issuer = "https://evil.example" })), "issuer"},
		{"expired", is.Sign("RS256", with(func(c *auth.Claims) { c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-2 * time.Minute)) })), "expired"},
		{"no expiry", is.Sign("RS256", with(func(c *auth.Claims) { c.ExpiresAt = nil })), "missing required claim"},
		{"not yet valid", is.Sign("EdDSA", with(func(c *auth.Claims) { c.NotBefore = jwt.NewNumericDate(time.Now().Add(5 * time.Minute)) })), "not valid yet"},
		{"issued in the future", is.Sign("RS256", with(func(c *auth.Claims) { c.IssuedAt = jwt.NewNumericDate(time.Now().Add(5 * time.Minute)) })), "before issued"},
		{"HS256 not configured", authtest.SignWith(t, jwt.SigningMethodHS256, hsSecret, "", base()), "algorithm not allowed"},
		{"alg none", authtest.SignWith(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "rsa-1", base()), "algorithm not allowed"},
		{"RS384 not allowed", authtest.SignWith(t, jwt.SigningMethodRS384, is.RSA, "rsa-1", base()), "algorithm not allowed"},
		{"unknown kid", authtest.SignWith(t, jwt.SigningMethodRS256, otherRSA, "rsa-9", base()), "unknown kid"},
		{"no kid", authtest.SignWith(t, jwt.SigningMethodRS256, is.RSA, "", base()), "no kid"},
		{"kid of another algorithm", authtest.SignWith(t, jwt.SigningMethodES256, otherEC, "rsa-1", base()), "another algorithm"},
		{"signed by another key", authtest.SignWith(t, jwt.SigningMethodES256, otherEC, "ec-1", base()), "signature is invalid"},
		{"tampered payload", func() string {
			tok := is.Sign("RS256", base())
			parts := strings.Split(tok, ".")
			cl := with(func(c *auth.Claims) { c.Role = auth.RoleAdmin })
			b, _ := json.Marshal(cl)
			parts[1] = b64(b)
			return strings.Join(parts, ".")
		}(), "signature is invalid"},
		{"garbage", "eyJhbGciOi.not.a-token", "malformed"},
		{"too long", "eyJ" + strings.Repeat("a", auth.MaxTokenLen) + ".b.c", "longer"},
		{"no sub", is.Sign("RS256", with(func(c *auth.Claims) { c.Subject = "" })), "no sub"},
		{"sub is an ID number", is.Sign("RS256", with(func(c *auth.Claims) { c.Subject = "51170219850307123X" })), "personal data"},
		{"sub is a phone number", is.Sign("RS256", with(func(c *auth.Claims) { c.Subject = "u13881801234" })), "personal data"},
		{"unknown role", is.Sign("RS256", with(func(c *auth.Claims) { c.Role = "root" })), "unknown role"},
		{"department without dept", is.Sign("RS256", with(func(c *auth.Claims) { c.Role = auth.RoleDepartment })), "needs dept"},
		{"staff without towns", is.Sign("RS256", with(func(c *auth.Claims) { c.Role = auth.RoleStaff })), "need towns"},
		{"staff with a bad town", is.Sign("RS256", with(func(c *auth.Claims) { c.Role, c.Towns = auth.RoleStaff, []string{"511702999"} })), "town"},
		{"portal with towns", is.Sign("RS256", with(func(c *auth.Claims) { c.Towns = []string{"511702102"} })), "only for the staff"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := v.Verify(tc.token)
			if err == nil {
				t.Fatalf("accepted: %+v", p)
			}
			if !errors.Is(err, auth.ErrUnauthenticated) || !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("error %q, want one about %q", err, tc.reason)
			}
		})
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func TestJWTLeeway(t *testing.T) {
	is := authtest.NewIssuer(t)
	v := verifier(t, is.Config()) // default leeway 30s
	cl := authtest.Claims("portal-1", auth.RolePortal)
	cl.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-10 * time.Second))
	if _, err := v.Verify(is.Sign("RS256", cl)); err != nil {
		t.Errorf("expired 10s ago, within the leeway: %v", err)
	}
	cl.ExpiresAt = jwt.NewNumericDate(time.Now().Add(time.Minute))
	cl.NotBefore = jwt.NewNumericDate(time.Now().Add(10 * time.Second))
	if _, err := v.Verify(is.Sign("RS256", cl)); err != nil {
		t.Errorf("valid in 10s, within the leeway: %v", err)
	}
	if _, err := auth.NewJWTVerifier(auth.JWTConfig{Issuer: "x", Audience: "y", JWKSFile: is.JWKSFile, Leeway: time.Hour}, nil); err == nil {
		t.Error("a leeway of an hour was accepted")
	}
}

func TestJWTHS256OnlyWhenConfigured(t *testing.T) {
	secret := strings.Repeat("k", 32)
	v := verifier(t, auth.JWTConfig{Issuer: authtest.IssuerURL, Audience: authtest.Audience, HS256Secrets: []string{"an-older-secret-of-32-characters", secret}})
	tok := authtest.SignWith(t, jwt.SigningMethodHS256, []byte(secret), "", authtest.Claims("portal-1", auth.RolePortal))
	if _, err := v.Verify(tok); err != nil {
		t.Errorf("HS256 with a configured secret: %v", err)
	}
	bad := authtest.SignWith(t, jwt.SigningMethodHS256, []byte(strings.Repeat("x", 32)), "", authtest.Claims("portal-1", auth.RolePortal))
	if _, err := v.Verify(bad); err == nil {
		t.Error("HS256 with an unknown secret was accepted")
	}
	if _, err := auth.NewJWTVerifier(auth.JWTConfig{Issuer: "x", Audience: "y", HS256Secrets: []string{"short"}}, nil); err == nil {
		t.Error("a short HS256 secret was accepted")
	}
	if _, err := auth.NewJWTVerifier(auth.JWTConfig{Issuer: "x", Audience: "y"}, nil); err == nil {
		t.Error("a verifier without keys was built")
	}
}

// TestJWKSRotation: a key added to the file is picked up, a key removed is
// refused, and a broken file keeps the last good keys.
func TestJWKSRotation(t *testing.T) {
	is := authtest.NewIssuer(t)
	cfg := is.Config()
	cfg.Recheck = time.Millisecond
	v := verifier(t, cfg)
	tok := is.Sign("ES256", authtest.Claims("portal-1", auth.RolePortal))
	if _, err := v.Verify(tok); err != nil {
		t.Fatal(err)
	}
	next, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	is.WriteJWKS(map[string]crypto.PublicKey{"rsa-1": &is.RSA.PublicKey, "ec-2": &next.PublicKey})
	bump(t, is.JWKSFile)
	time.Sleep(5 * time.Millisecond)
	if _, err := v.Verify(tok); err == nil || !strings.Contains(err.Error(), "unknown kid") {
		t.Errorf("a token of a key rotated out: %v", err)
	}
	newTok := authtest.SignWith(t, jwt.SigningMethodES256, next, "ec-2", authtest.Claims("portal-1", auth.RolePortal))
	if _, err := v.Verify(newTok); err != nil {
		t.Errorf("a token of the new key: %v", err)
	}
	os.WriteFile(is.JWKSFile, []byte(`{"keys": [`), 0o600)
	bump(t, is.JWKSFile)
	time.Sleep(5 * time.Millisecond)
	if _, err := v.Verify(newTok); err != nil {
		t.Errorf("after a broken file the last good keys should stay: %v", err)
	}
}

// bump moves the file's modification time on, so a rewrite within the
// file system's time granularity is still seen as a change.
func bump(t *testing.T, path string) {
	t.Helper()
	later := time.Now().Add(time.Duration(len(filepath.Base(path))) * time.Second)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
}
