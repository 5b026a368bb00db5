package contracts

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The bearer JWT scheme (SchemeJWT): every request carries
// "Authorization: Bearer <JWT>", a token the gateway signs for that request
// alone (RS256 or ES256 with the gateway's private key, the department
// holding the public key; HS256 with the shared secret only where a
// deployment configures it so). Its claims are DeptClaims.
const (
	// JWTLifetime is how long a token the gateway issues is valid
	// (exp = iat + JWTLifetime).
	JWTLifetime = 60 * time.Second
	// JWTMaxLifetime is the longest exp - iat a receiver accepts, and the
	// oldest iat (SignatureTolerance): a long-lived token is refused.
	JWTMaxLifetime = SignatureTolerance
	// JWTLeeway is the clock skew a receiver allows on exp, nbf and iat.
	JWTLeeway = 30 * time.Second
	// JWTIssuer is the default iss of the gateway's tokens.
	JWTIssuer = "onething"
)

// DeptClaims are the claims of a request token:
//
//	iss  the gateway ("onething" unless configured)
//	aud  the department (e.g. "cdpf"), one value
//	iat, nbf  the time of signing (unix seconds); exp = iat + 60 s
//	jti  a fresh random id (32 hex digits) per request: a receiver refuses a
//	     jti it has seen until its exp
//	bh   base64url (no padding) SHA-256 of the request body as sent (the
//	     empty body for a GET): the token cannot be replayed on another body
//	htm  the request method, htp the request path (as in the string to sign
//	     of the appKey schemes): nor on another operation
type DeptClaims struct {
	jwt.RegisteredClaims
	BodyHash string `json:"bh"`
	Method   string `json:"htm"`
	Path     string `json:"htp"`
}

// Reasons a request token is refused (each wraps ErrBadSignature).
var (
	ErrTokenTime    = fmt.Errorf("%w: token expired, not yet valid, or issued too long ago", ErrBadSignature)
	ErrTokenBinding = fmt.Errorf("%w: token bound to another body or request", ErrBadSignature)
	ErrTokenInvalid = fmt.Errorf("%w: token malformed, wrongly signed or lacking a claim", ErrBadSignature)
)

// BodyHash is the bh claim of body: base64url, unpadded, SHA-256.
func BodyHash(body []byte) string {
	sum := sha256.Sum256(body)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// JWTVerifier is what a department checks a request token against.
type JWTVerifier struct {
	// Alg is the one algorithm accepted: "RS256", "ES256" or "HS256".
	Alg string
	// Key is the gateway's public key (*rsa.PublicKey, *ecdsa.PublicKey)
	// or, for HS256, the shared secret ([]byte).
	Key      any
	Issuer   string // default JWTIssuer
	Audience string // this department
}

// VerifyDeptJWT checks a request token: the algorithm and signature, iss,
// aud, exp/nbf/iat (leeway JWTLeeway, exp - iat at most JWTMaxLifetime, iat
// no older than SignatureTolerance), a jti present, and bh/htm/htp equal to
// the request's. Refusing a replayed jti is the receiver's (the claims
// give the jti and its exp).
func VerifyDeptJWT(token string, v JWTVerifier, method, path string, body []byte, now time.Time) (*DeptClaims, error) {
	iss := v.Issuer
	if iss == "" {
		iss = JWTIssuer
	}
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{v.Alg}),
		jwt.WithIssuer(iss),
		jwt.WithAudience(v.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(JWTLeeway),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	var c DeptClaims
	_, err := p.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return v.Key, nil })
	switch {
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return nil, ErrWrongAudience
	case errors.Is(err, jwt.ErrTokenExpired), errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return nil, ErrTokenTime
	case err != nil:
		return nil, ErrTokenInvalid
	}
	if c.IssuedAt == nil || c.ExpiresAt == nil || c.ID == "" {
		return nil, ErrTokenInvalid
	}
	if c.ExpiresAt.Sub(c.IssuedAt.Time) > JWTMaxLifetime || now.Sub(c.IssuedAt.Time) > SignatureTolerance {
		return nil, ErrTokenTime
	}
	if c.BodyHash != BodyHash(body) || c.Method != method || c.Path != path {
		return nil, ErrTokenBinding
	}
	return &c, nil
}
