package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	c "onething/contracts"
)

// Claims are what a gateway JWT carries besides the registered claims:
//
//	{"iss": "…", "aud": "onething", "sub": "staff-0042", "exp": …, "nbf": …,
//	 "role": "staff", "towns": ["511702102"]}
//
// role is portal, department, staff or admin; dept (department role only)
// is cdpf, civil, hrss or medical; towns (staff only) are 9-digit town or
// street codes, or "511702" for the district office, which sees all. sub is
// required and must be an account id, not a name, ID or phone number.
type Claims struct {
	jwt.RegisteredClaims
	Role  Role     `json:"role"`
	Dept  c.Dept   `json:"dept,omitempty"`
	Towns []string `json:"towns,omitempty"`
}

// JWTConfig configures bearer JWTs.
type JWTConfig struct {
	// Issuer and Audience must match iss and (one of) aud.
	Issuer   string
	Audience string
	// JWKSFile holds the RS256/ES256/EdDSA public keys (JWK Set), chosen by
	// the token's kid.
	JWKSFile string
	// HS256Secrets enable HS256 (shared secrets, at least 32 bytes each);
	// without them an HS256 token is refused like any other algorithm not
	// configured.
	HS256Secrets []string
	// Leeway is the clock skew allowed on exp, nbf and iat (default 30s,
	// at most 5m).
	Leeway time.Duration
	// Recheck is how often the JWKS file is looked at for changes.
	Recheck time.Duration
}

// DefaultLeeway is the clock skew allowed when JWTConfig.Leeway is zero.
const DefaultLeeway = 30 * time.Second

// MaxTokenLen bounds a bearer token's length before any parsing.
const MaxTokenLen = 8 << 10

// JWTVerifier checks bearer JWTs and makes principals of them.
type JWTVerifier struct {
	keys   *KeySet
	hs     []jwt.VerificationKey
	parser *jwt.Parser
	now    func() time.Time
}

// NewJWTVerifier builds a verifier; the JWKS file must load.
func NewJWTVerifier(cfg JWTConfig, log *slog.Logger) (*JWTVerifier, error) {
	return newJWTVerifier(cfg, log, time.Now)
}

func newJWTVerifier(cfg JWTConfig, log *slog.Logger, now func() time.Time) (*JWTVerifier, error) {
	if cfg.Issuer == "" || cfg.Audience == "" {
		return nil, errors.New("jwt: issuer and audience are required")
	}
	if cfg.JWKSFile == "" && len(cfg.HS256Secrets) == 0 {
		return nil, errors.New("jwt: needs a jwksFile (or, explicitly, hs256Secrets)")
	}
	leeway := cfg.Leeway
	if leeway == 0 {
		leeway = DefaultLeeway
	}
	if leeway < 0 || leeway > 5*time.Minute {
		return nil, errors.New("jwt: leeway must be between 0 and 5m")
	}
	v := &JWTVerifier{now: now}
	methods := []string{"RS256", "ES256", "EdDSA"}
	if cfg.JWKSFile != "" {
		ks, err := LoadKeySet(cfg.JWKSFile, cfg.Recheck, log)
		if err != nil {
			return nil, err
		}
		ks.now = now
		v.keys = ks
	} else {
		methods = nil
	}
	for i, s := range cfg.HS256Secrets {
		if len(s) < 32 {
			return nil, fmt.Errorf("jwt: hs256 secret %d is shorter than 32 bytes", i+1)
		}
		v.hs = append(v.hs, []byte(s))
	}
	if len(v.hs) > 0 {
		methods = append(methods, "HS256")
	}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods(methods),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
		jwt.WithLeeway(leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(now),
	)
	return v, nil
}

// LooksLikeJWT reports whether a bearer token has the shape of a JWS
// (three base64url parts), so it is worth giving to Verify.
func LooksLikeJWT(token string) bool {
	return strings.Count(token, ".") == 2 && strings.HasPrefix(token, "eyJ")
}

// Verify checks the token's signature, algorithm, iss, aud, exp, nbf and
// iat, then its role claims, and returns the principal. Every error wraps
// ErrUnauthenticated; its text says why without echoing the token.
func (v *JWTVerifier) Verify(raw string) (*Principal, error) {
	if len(raw) > MaxTokenLen {
		return nil, fmt.Errorf("%w: token longer than %d bytes", ErrUnauthenticated, MaxTokenLen)
	}
	var cl Claims
	_, err := v.parser.ParseWithClaims(raw, &cl, v.key)
	if err != nil {
		return nil, fmt.Errorf("%w: jwt: %s", ErrUnauthenticated, reason(err))
	}
	if cl.Subject == "" {
		return nil, fmt.Errorf("%w: jwt: no sub", ErrUnauthenticated)
	}
	p := &Principal{Role: cl.Role, Dept: cl.Dept, Towns: cl.Towns, Subject: "jwt:" + cl.Subject, Via: ViaJWT}
	if err := ValidSubject(cl.Subject); err != nil {
		return nil, fmt.Errorf("%w: jwt: sub: %v", ErrUnauthenticated, err)
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("%w: jwt claims: %v", ErrUnauthenticated, err)
	}
	return p, nil
}

// Reasons the key function refuses a token (for the log; no input in them).
var (
	errHSOff        = errors.New("HS256 not configured")
	errNoJWKS       = errors.New("no JWKS configured")
	errNoKid        = errors.New("no kid")
	errUnknownKid   = errors.New("unknown kid")
	errAlgMismatch  = errors.New("the key of this kid is for another algorithm")
	errKeyType      = errors.New("unsupported key type")
	errAlgForbidden = errors.New("algorithm not allowed")
)

// key picks the verification key: by kid from the JWKS for the asymmetric
// algorithms (the key's own algorithm must be the token's), the configured
// secrets for HS256.
func (v *JWTVerifier) key(t *jwt.Token) (any, error) {
	alg := t.Method.Alg()
	if alg == "HS256" {
		if len(v.hs) == 0 {
			return nil, errHSOff
		}
		return jwt.VerificationKeySet{Keys: v.hs}, nil
	}
	if v.keys == nil {
		return nil, errNoJWKS
	}
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, errNoKid
	}
	k, ok := v.keys.Key(kid)
	if !ok {
		return nil, errUnknownKid
	}
	if k.Alg != alg {
		return nil, errAlgMismatch
	}
	switch k.Public.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		return k.Public, nil
	}
	return nil, errKeyType
}

// reason turns a parser error into a short fixed text for the log: never
// the token, its header or its claims' values.
func reason(err error) string {
	for _, e := range []error{errHSOff, errNoJWKS, errNoKid, errUnknownKid, errAlgMismatch, errKeyType} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	if errors.Is(err, jwt.ErrTokenSignatureInvalid) && strings.Contains(err.Error(), "signing method") {
		return errAlgForbidden.Error()
	}
	if errors.Is(err, jwt.ErrTokenUnverifiable) {
		return errAlgForbidden.Error() // an algorithm golang-jwt does not know
	}
	for _, e := range []error{jwt.ErrTokenMalformed, jwt.ErrTokenSignatureInvalid, jwt.ErrTokenExpired,
		jwt.ErrTokenNotValidYet, jwt.ErrTokenUsedBeforeIssued, jwt.ErrTokenInvalidAudience,
		jwt.ErrTokenInvalidIssuer, jwt.ErrTokenRequiredClaimMissing} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return "invalid token"
}
