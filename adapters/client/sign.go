package client

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"onething/contracts"
)

// Signing is how requests to one department are signed: the department's
// "signing" object in the gateway configuration. The zero value (or no
// object at all) is the appKey HMAC-SHA256 scheme with the department's
// appKey and secret, as before schemes were configurable. The schemes are
// described in contracts/openapi/dept-*.yaml and in contracts (DeptSignature,
// DeptSignatureSM3, SM4Envelope, DeptClaims).
type Signing struct {
	// Scheme is "hmac-sha256" (default), "sm3" or "jwt".
	Scheme string `json:"scheme,omitempty"`
	// SM4Key (sm3 only, optional): 32 hex digits; request bodies then travel
	// as SM4-GCM envelopes under this key. SM4KeyID names it in the envelope
	// (default contracts.SM4KeyID of the key); change both to rotate, the
	// department keeping the old key until no request under it is in flight.
	SM4Key   string `json:"sm4Key,omitempty"`
	SM4KeyID string `json:"sm4KeyId,omitempty"`
	// JWTAlg (jwt only) is "RS256", "ES256" or "HS256". Empty: taken from
	// the key (an RSA key of 2048 bits or more: RS256; an EC P-256 key:
	// ES256). HS256 must be named, and then signs with the department's
	// shared secret (at least 32 bytes) instead of a private key.
	JWTAlg string `json:"jwtAlg,omitempty"`
	// JWTKey is the gateway's private key as PEM (PKCS#8, PKCS#1 or SEC 1),
	// or JWTKeyFile a file holding it; the department holds the public key.
	JWTKey     string `json:"jwtKey,omitempty"`
	JWTKeyFile string `json:"jwtKeyFile,omitempty"`
	// JWTKeyID goes in the token header as kid (optional; for rotation).
	JWTKeyID string `json:"jwtKeyId,omitempty"`
	// JWTIssuer is iss (default "onething"); JWTAudience is aud (default
	// the department's name, e.g. "cdpf").
	JWTIssuer   string `json:"jwtIssuer,omitempty"`
	JWTAudience string `json:"jwtAudience,omitempty"`
}

// SchemeName is the scheme, with the default filled in.
func (s *Signing) SchemeName() string {
	if s == nil || s.Scheme == "" {
		return contracts.SchemeHMACSHA256
	}
	return s.Scheme
}

// NewSigner checks a department's signing configuration and returns the
// Config.Sign that applies it to every attempt of every request (fresh
// timestamp, nonce, envelope nonce and jti each time). system names the
// department (the default audience); appKey and secret are its
// configured ones. A nil result with no error means the default: the
// client's own appKey HMAC-SHA256 signature (no signature at all when the
// secret is empty, as before).
func NewSigner(system, appKey, secret string, s *Signing) (func(*http.Request, []byte) error, error) {
	if s == nil {
		s = &Signing{}
	}
	scheme := s.SchemeName()
	if scheme != contracts.SchemeSM3 && (s.SM4Key != "" || s.SM4KeyID != "") {
		return nil, fmt.Errorf("sm4Key goes with scheme %q only", contracts.SchemeSM3)
	}
	if scheme != contracts.SchemeJWT && (s.JWTAlg != "" || s.JWTKey != "" || s.JWTKeyFile != "" || s.JWTKeyID != "" || s.JWTIssuer != "" || s.JWTAudience != "") {
		return nil, fmt.Errorf("jwt* settings go with scheme %q only", contracts.SchemeJWT)
	}
	switch scheme {
	case contracts.SchemeHMACSHA256:
		return nil, nil
	case contracts.SchemeSM3:
		if secret == "" {
			return nil, errors.New("scheme sm3 needs the department's secret")
		}
		sg := &appKeySigner{appKey: appKey, secret: secret, method: contracts.SignMethodHMACSM3, sign: contracts.DeptSignatureSM3}
		if s.SM4Key != "" {
			key, err := contracts.ParseSM4Key(s.SM4Key)
			if err != nil {
				return nil, fmt.Errorf("sm4Key: %w", err)
			}
			sg.sm4Key, sg.sm4Kid = key, s.SM4KeyID
			if sg.sm4Kid == "" {
				sg.sm4Kid = contracts.SM4KeyID(key)
			}
		} else if s.SM4KeyID != "" {
			return nil, errors.New("sm4KeyId without sm4Key")
		}
		return sg.Sign, nil
	case contracts.SchemeJWT:
		sg, err := newJWTSigner(system, secret, s)
		if err != nil {
			return nil, err
		}
		return sg.Sign, nil
	}
	return nil, fmt.Errorf("unknown signing scheme %q (want %s, %s or %s)", scheme, contracts.SchemeHMACSHA256, contracts.SchemeSM3, contracts.SchemeJWT)
}

// appKeySigner signs with X-App-Key, X-Timestamp, X-Nonce, X-Signature and
// X-Sign-Method, after sealing the body when it has an SM4 key.
type appKeySigner struct {
	appKey, secret string
	method         string // X-Sign-Method
	sign           func(secret, method, path, timestamp, nonce string, body []byte) string
	sm4Key         []byte
	sm4Kid         string
}

// Sign signs one attempt.
func (s *appKeySigner) Sign(req *http.Request, body []byte) error {
	path := req.URL.EscapedPath()
	if s.sm4Key != nil && len(body) > 0 {
		env, err := contracts.SealSM4(s.sm4Kid, s.sm4Key, req.Method, path, body)
		if err != nil {
			return err
		}
		replaceBody(req, env)
		body = env
	}
	n, err := newNonce()
	if err != nil {
		return err
	}
	ts := strconv.FormatInt(timeNow().Unix(), 10)
	req.Header.Set(contracts.HeaderAppKey, s.appKey)
	req.Header.Set(contracts.HeaderTimestamp, ts)
	req.Header.Set(contracts.HeaderNonce, n)
	req.Header.Set(contracts.HeaderSignMethod, s.method)
	req.Header.Set(contracts.HeaderSignature, s.sign(s.secret, req.Method, path, ts, n, body))
	return nil
}

// signHMACSHA256 is the default scheme (the client's built-in signature).
func signHMACSHA256(req *http.Request, body []byte, appKey, secret string) error {
	s := appKeySigner{appKey: appKey, secret: secret, method: contracts.SignMethodHMACSHA256, sign: contracts.DeptSignature}
	return s.Sign(req, body)
}

// timeNow is the signers' clock (tests move it).
var timeNow = time.Now

// replaceBody makes b the body of req (and of any re-send of it).
func replaceBody(req *http.Request, b []byte) {
	if req.Body != nil {
		req.Body.Close()
	}
	req.Body = io.NopCloser(bytes.NewReader(b))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	req.ContentLength = int64(len(b))
	req.Header.Set("Content-Type", "application/json")
}

// newNonce is 12 random bytes as 24 hex digits.
func newNonce() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// jwtSigner puts a fresh bearer token on every attempt.
type jwtSigner struct {
	method        jwt.SigningMethod
	key           any
	kid, iss, aud string
}

func newJWTSigner(system, secret string, s *Signing) (*jwtSigner, error) {
	sg := &jwtSigner{kid: s.JWTKeyID, iss: s.JWTIssuer, aud: s.JWTAudience}
	if sg.iss == "" {
		sg.iss = contracts.JWTIssuer
	}
	if sg.aud == "" {
		sg.aud = system
	}
	if s.JWTAlg == "HS256" {
		if s.JWTKey != "" || s.JWTKeyFile != "" {
			return nil, errors.New("jwtAlg HS256 signs with the department's secret: give no jwtKey/jwtKeyFile")
		}
		if len(secret) < 32 {
			return nil, errors.New("jwtAlg HS256 needs a secret of at least 32 bytes")
		}
		sg.method, sg.key = jwt.SigningMethodHS256, []byte(secret)
		return sg, nil
	}
	pemData := []byte(s.JWTKey)
	switch {
	case s.JWTKey != "" && s.JWTKeyFile != "":
		return nil, errors.New("give jwtKey or jwtKeyFile, not both")
	case s.JWTKeyFile != "":
		b, err := os.ReadFile(s.JWTKeyFile)
		if err != nil {
			return nil, fmt.Errorf("jwtKeyFile: %w", err)
		}
		pemData = b
	case s.JWTKey == "":
		return nil, errors.New("scheme jwt needs jwtKey or jwtKeyFile (a private key), or jwtAlg HS256")
	}
	key, alg, err := ParseJWTPrivateKey(pemData)
	if err != nil {
		return nil, err
	}
	if s.JWTAlg != "" && s.JWTAlg != alg {
		return nil, fmt.Errorf("jwtAlg %s does not fit the key (%s)", s.JWTAlg, alg)
	}
	sg.method, sg.key = jwt.GetSigningMethod(alg), key
	return sg, nil
}

// ParseJWTPrivateKey reads a PEM private key (PKCS#8, PKCS#1 RSA or SEC 1
// EC) and names its algorithm: RS256 for RSA of 2048 bits or more, ES256
// for EC P-256; any other key is refused.
func ParseJWTPrivateKey(data []byte) (key any, alg string, err error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, "", errors.New("jwt key: no PEM block")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		key = k
	} else if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		key = k
	} else if k, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
		key = k
	} else {
		return nil, "", errors.New("jwt key: not a PKCS#8, PKCS#1 or SEC 1 private key")
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return nil, "", errors.New("jwt key: RSA keys need at least 2048 bits")
		}
		return k, "RS256", nil
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, "", errors.New("jwt key: EC keys must be on P-256 (ES256)")
		}
		return k, "ES256", nil
	}
	return nil, "", fmt.Errorf("jwt key: %T is not an RSA or EC P-256 key", key)
}

// Sign signs one attempt.
func (s *jwtSigner) Sign(req *http.Request, body []byte) error {
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return err
	}
	now := timeNow()
	claims := contracts.DeptClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.iss,
			Audience:  jwt.ClaimStrings{s.aud},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(contracts.JWTLifetime)),
			ID:        hex.EncodeToString(jti),
		},
		BodyHash: contracts.BodyHash(body),
		Method:   req.Method,
		Path:     req.URL.EscapedPath(),
	}
	t := jwt.NewWithClaims(s.method, claims)
	if s.kid != "" {
		t.Header["kid"] = s.kid
	}
	tok, err := t.SignedString(s.key)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	return nil
}
