package devstack

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"

	"onething/adapters/client"
	c "onething/contracts"
	"onething/mocks"
)

// SigningPair makes fresh keys for one department's signing choice (see
// Options.Signing) and returns both sides: the gateway's configuration
// and what the mock requires. secret is the department's shared secret
// (the appKey schemes' key, and the HS256 key).
func SigningPair(choice, secret string) (*client.Signing, mocks.Expect, error) {
	switch choice {
	case "", c.SchemeHMACSHA256:
		return nil, mocks.Expect{}, nil
	case c.SchemeSM3:
		return &client.Signing{Scheme: c.SchemeSM3}, mocks.Expect{Scheme: c.SchemeSM3}, nil
	case "sm3+sm4":
		key := make([]byte, 16)
		rand.Read(key)
		kid := c.SM4KeyID(key)
		return &client.Signing{Scheme: c.SchemeSM3, SM4Key: hex.EncodeToString(key), SM4KeyID: kid},
			mocks.Expect{Scheme: c.SchemeSM3, SM4Keys: map[string][]byte{kid: key}}, nil
	case c.SchemeJWT, "jwt-es256":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, mocks.Expect{}, err
		}
		return jwtPair("ES256", k, &k.PublicKey)
	case "jwt-rs256":
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, mocks.Expect{}, err
		}
		return jwtPair("RS256", k, &k.PublicKey)
	case "jwt-hs256":
		return &client.Signing{Scheme: c.SchemeJWT, JWTAlg: "HS256"},
			mocks.Expect{Scheme: c.SchemeJWT, JWT: c.JWTVerifier{Alg: "HS256", Key: []byte(secret)}}, nil
	}
	return nil, mocks.Expect{}, fmt.Errorf("unknown signing choice %q", choice)
}

func jwtPair(alg string, priv, pub any) (*client.Signing, mocks.Expect, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, mocks.Expect{}, err
	}
	kid := "devstack-" + token()[:8]
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	return &client.Signing{Scheme: c.SchemeJWT, JWTAlg: alg, JWTKey: pemKey, JWTKeyID: kid},
		mocks.Expect{Scheme: c.SchemeJWT, JWT: c.JWTVerifier{Alg: alg, Key: pub}}, nil
}
