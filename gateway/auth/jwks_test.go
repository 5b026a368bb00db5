package auth_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"onething/gateway/auth"
	"onething/gateway/auth/authtest"
)

func jwks(keys ...map[string]string) []byte {
	b, _ := json.Marshal(map[string]any{"keys": keys})
	return b
}

func TestParseJWKS(t *testing.T) {
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	keys, skipped, err := auth.ParseJWKS(jwks(
		authtest.JWK("r", &rk.PublicKey), authtest.JWK("e", &ek.PublicKey), authtest.JWK("d", pub),
		map[string]string{"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"},
		map[string]string{"kty": "EC", "kid": "p384", "crv": "P-384", "x": "AA", "y": "AA"},
		map[string]string{"kty": "oct", "kid": "sym", "k": "c2VjcmV0"},
	))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3 || keys["r"].Alg != "RS256" || keys["e"].Alg != "ES256" || keys["d"].Alg != "EdDSA" {
		t.Errorf("keys %+v", keys)
	}
	if len(skipped) != 3 {
		t.Errorf("skipped %v", skipped)
	}
	if !keys["e"].Public.(*ecdsa.PublicKey).Equal(&ek.PublicKey) || !keys["r"].Public.(*rsa.PublicKey).Equal(&rk.PublicKey) {
		t.Error("keys do not round-trip")
	}

	enc := base64.RawURLEncoding.EncodeToString
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	offCurve := authtest.JWK("e", &ek.PublicKey)
	offCurve["y"] = enc(make([]byte, 32))
	private := authtest.JWK("r", &rk.PublicKey)
	private["d"] = enc(rk.D.Bytes())
	noKid := authtest.JWK("", pub)
	shortEd := map[string]string{"kty": "OKP", "crv": "Ed25519", "kid": "x", "x": enc([]byte("short"))}
	evenE := authtest.JWK("r", &rk.PublicKey)
	evenE["e"] = enc([]byte{2})
	for name, data := range map[string][]byte{
		"not JSON":         []byte(`{"keys":`),
		"no key":           jwks(),
		"small RSA":        jwks(authtest.JWK("s", &small.PublicKey)),
		"point off curve":  jwks(offCurve),
		"private key":      jwks(private),
		"no kid":           jwks(noKid),
		"duplicate kid":    jwks(authtest.JWK("a", pub), authtest.JWK("a", &ek.PublicKey)),
		"short Ed25519":    jwks(shortEd),
		"even exponent":    jwks(evenE),
		"bad base64":       jwks(map[string]string{"kty": "OKP", "crv": "Ed25519", "kid": "x", "x": "!!"}),
		"only unsupported": jwks(map[string]string{"kty": "oct", "kid": "sym", "k": "c2VjcmV0"}),
	} {
		if _, _, err := auth.ParseJWKS(data); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), enc(rk.D.Bytes())[:16]) {
			t.Errorf("%s: the error echoes key material", name)
		}
	}
}
