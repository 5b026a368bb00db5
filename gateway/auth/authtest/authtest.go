// Package authtest makes JWTs for tests: an issuer with an RSA, an EC P-256
// and an Ed25519 key, its JWKS file, and tokens with the gateway's claims.
package authtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	c "onething/contracts"
	"onething/gateway/auth"
)

// Issuer and audience of the test tokens.
const (
	IssuerURL = "https://idp.test.onething"
	Audience  = "onething-gateway"
)

// Issuer signs test tokens; its public keys are in JWKSFile.
type Issuer struct {
	t        testing.TB
	RSA      *rsa.PrivateKey
	EC       *ecdsa.PrivateKey
	Ed       ed25519.PrivateKey
	JWKSFile string
}

var rsaKey *rsa.PrivateKey // one 2048-bit key per test binary: generating is slow

// NewIssuer makes the keys and writes the JWKS file (kids "rsa-1",
// "ec-1", "ed-1") into a temporary directory.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	if rsaKey == nil {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		rsaKey = k
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	is := &Issuer{t: t, RSA: rsaKey, EC: ec, Ed: ed, JWKSFile: filepath.Join(t.TempDir(), "jwks.json")}
	is.WriteJWKS(map[string]crypto.PublicKey{"rsa-1": &rsaKey.PublicKey, "ec-1": &ec.PublicKey, "ed-1": ed.Public()})
	return is
}

// Config is a JWT configuration that trusts this issuer.
func (is *Issuer) Config() auth.JWTConfig {
	return auth.JWTConfig{Issuer: IssuerURL, Audience: Audience, JWKSFile: is.JWKSFile}
}

// WriteJWKS replaces the JWKS file with these keys.
func (is *Issuer) WriteJWKS(keys map[string]crypto.PublicKey) {
	is.t.Helper()
	var list []map[string]string
	for kid, k := range keys {
		list = append(list, JWK(kid, k))
	}
	b, _ := json.Marshal(map[string]any{"keys": list})
	if err := os.WriteFile(is.JWKSFile, b, 0o600); err != nil {
		is.t.Fatal(err)
	}
}

// JWK is the public JWK of k under kid.
func JWK(kid string, k crypto.PublicKey) map[string]string {
	enc := base64.RawURLEncoding.EncodeToString
	switch k := k.(type) {
	case *rsa.PublicKey:
		return map[string]string{"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig", "n": enc(k.N.Bytes()), "e": enc(big.NewInt(int64(k.E)).Bytes())}
	case *ecdsa.PublicKey:
		b, _ := k.Bytes() // 0x04 || X || Y
		return map[string]string{"kty": "EC", "kid": kid, "crv": "P-256", "alg": "ES256", "x": enc(b[1:33]), "y": enc(b[33:])}
	case ed25519.PublicKey:
		return map[string]string{"kty": "OKP", "kid": kid, "crv": "Ed25519", "alg": "EdDSA", "x": enc(k)}
	}
	panic("authtest: unsupported key type")
}

// Claims are the gateway claims of a role, valid for ten minutes.
func Claims(sub string, role auth.Role) *auth.Claims {
	now := time.Now()
	return &auth.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: IssuerURL, Audience: jwt.ClaimStrings{Audience}, Subject: sub,
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(10 * time.Minute)),
		},
		Role: role,
	}
}

// Sign signs claims with alg (RS256, ES256, EdDSA) under the matching kid.
func (is *Issuer) Sign(alg string, claims jwt.Claims) string {
	is.t.Helper()
	var (
		m   jwt.SigningMethod
		key any
		kid string
	)
	switch alg {
	case "RS256":
		m, key, kid = jwt.SigningMethodRS256, is.RSA, "rsa-1"
	case "ES256":
		m, key, kid = jwt.SigningMethodES256, is.EC, "ec-1"
	case "EdDSA":
		m, key, kid = jwt.SigningMethodEdDSA, is.Ed, "ed-1"
	default:
		is.t.Fatalf("authtest: no key for %s", alg)
	}
	return SignWith(is.t, m, key, kid, claims)
}

// SignWith signs claims with any method, key and kid ("" for none).
func SignWith(t testing.TB, m jwt.SigningMethod, key any, kid string, claims jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Token is an RS256 token for a principal of role (dept for departments,
// towns for staff).
func (is *Issuer) Token(sub string, role auth.Role, dept string, towns ...string) string {
	cl := Claims(sub, role)
	cl.Towns = towns
	cl.Dept = c.Dept(dept)
	return is.Sign("RS256", cl)
}
