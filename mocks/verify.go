package mocks

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"onething/contracts"
)

// Expect is how a department mock checks the gateway's requests: exactly
// the scheme it is configured with, anything else is refused with 401
// (contracts/openapi/dept-*.yaml describe the schemes). Config.AppKey and
// Config.Secret are the appKey schemes' key and secret.
type Expect struct {
	// Scheme is contracts.SchemeHMACSHA256 (the default), SchemeSM3 or
	// SchemeJWT.
	Scheme string
	// SM4Keys (SchemeSM3 only): key id -> 16-byte SM4 key. When set, every
	// request with a body must send it as an SM4-GCM envelope under one of
	// them (several while a key rotates); a plaintext body is refused.
	// Answers stay plaintext JSON.
	SM4Keys map[string][]byte
	// JWT (SchemeJWT only): the one algorithm and the key to verify with
	// (the gateway's public key, or the HS256 shared secret as []byte), the
	// issuer (default "onething") and the audience (default the department's
	// name).
	JWT contracts.JWTVerifier
}

func (e *Expect) scheme() string {
	if e.Scheme == "" {
		return contracts.SchemeHMACSHA256
	}
	return e.Scheme
}

// check refuses a configuration that cannot verify what it names, and fills
// in the default audience.
func (e *Expect) check(dept contracts.Dept, secret string) error {
	switch e.scheme() {
	case contracts.SchemeHMACSHA256:
		if len(e.SM4Keys) > 0 || e.JWT.Key != nil {
			return errors.New("hmac-sha256 takes neither SM4 keys nor a JWT key")
		}
	case contracts.SchemeSM3:
		if secret == "" || e.JWT.Key != nil {
			return errors.New("sm3 needs the shared secret and takes no JWT key")
		}
		for kid, k := range e.SM4Keys {
			if len(k) != 16 || kid == "" {
				return fmt.Errorf("SM4 key %q: want a key id and 16 bytes", kid)
			}
		}
	case contracts.SchemeJWT:
		if len(e.SM4Keys) > 0 {
			return errors.New("jwt takes no SM4 keys")
		}
		ok := false
		switch k := e.JWT.Key.(type) {
		case *rsa.PublicKey:
			ok = e.JWT.Alg == "RS256"
		case *ecdsa.PublicKey:
			ok = e.JWT.Alg == "ES256"
		case []byte:
			ok = e.JWT.Alg == "HS256" && len(k) >= 32
		}
		if !ok {
			return fmt.Errorf("jwt: alg %q does not go with a %T key (RS256 + *rsa.PublicKey, ES256 + *ecdsa.PublicKey, HS256 + []byte of 32 bytes or more)", e.JWT.Alg, e.JWT.Key)
		}
		if e.JWT.Audience == "" {
			e.JWT.Audience = string(dept)
		}
	default:
		return fmt.Errorf("unknown signing scheme %q", e.Scheme)
	}
	return nil
}

var errAppKey = fmt.Errorf("%w: unknown app key", contracts.ErrBadSignature)

// authenticate checks a request as Expect says and returns its plaintext
// body (decrypted from the envelope where bodies are encrypted). A nonce
// or jti is remembered only once its signature verified.
func (d *Dept) authenticate(r *http.Request, body []byte) ([]byte, error) {
	e := &d.cfg.Expect
	h := r.Header
	path := d.cfg.Prefix + r.URL.EscapedPath() // as the gateway sent it
	now := time.Now()
	token, bearer := strings.CutPrefix(h.Get("Authorization"), "Bearer ")
	signed := h.Get(contracts.HeaderSignature) != ""
	switch e.scheme() {
	case contracts.SchemeJWT:
		if !bearer {
			if signed {
				return nil, contracts.ErrWrongScheme
			}
			return nil, contracts.ErrBadSignature
		}
		claims, err := contracts.VerifyDeptJWT(token, e.JWT, r.Method, path, body, now)
		if err != nil {
			return nil, err
		}
		if !d.remember("jti:"+claims.ID, now) {
			return nil, contracts.ErrReplay
		}
		return body, nil
	case contracts.SchemeSM3:
		if !signed {
			if bearer {
				return nil, contracts.ErrWrongScheme
			}
			return nil, contracts.ErrBadSignature
		}
		if h.Get(contracts.HeaderSignMethod) != contracts.SignMethodHMACSM3 {
			return nil, contracts.ErrWrongScheme
		}
		if err := d.verifyAppKey(h, r.Method, path, body, now, contracts.VerifyDeptSignatureSM3); err != nil {
			return nil, err
		}
		if len(e.SM4Keys) == 0 || (len(body) == 0 && r.Method == http.MethodGet) {
			return body, nil
		}
		plain, _, err := contracts.OpenSM4(e.SM4Keys, r.Method, path, body)
		return plain, err
	default: // hmac-sha256
		if d.cfg.Secret == "" {
			return body, nil
		}
		if !signed {
			if bearer {
				return nil, contracts.ErrWrongScheme
			}
			return nil, contracts.ErrBadSignature
		}
		// Absent X-Sign-Method means HMAC-SHA256 (senders from before it).
		if m := h.Get(contracts.HeaderSignMethod); m != "" && m != contracts.SignMethodHMACSHA256 {
			return nil, contracts.ErrWrongScheme
		}
		if err := d.verifyAppKey(h, r.Method, path, body, now, contracts.VerifyDeptSignature); err != nil {
			return nil, err
		}
		return body, nil
	}
}

// checkAppKeyHeaders checks the app key and the timestamp (so that a stale
// request is told so, rather than "bad signature").
func (d *Dept) checkAppKeyHeaders(h http.Header, now time.Time) error {
	if h.Get(contracts.HeaderAppKey) != d.cfg.AppKey {
		return errAppKey
	}
	return contracts.CheckTimestamp(h.Get(contracts.HeaderTimestamp), now)
}

// remember records a nonce or jti; false if it was seen already. Entries
// are kept at least twice the signature tolerance, longer than any
// timestamp or token (iat within 5 minutes, exp - iat at most 5 minutes)
// stays acceptable.
func (d *Dept) remember(id string, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, seen := d.nonces[id]; seen {
		return false
	}
	if len(d.nonces) > 100000 {
		for k, t := range d.nonces {
			if now.Sub(t) > 2*contracts.SignatureTolerance {
				delete(d.nonces, k)
			}
		}
	}
	d.nonces[id] = now
	return true
}

// refuse answers a request that failed authenticate with 401: the
// project's error shape, code "unauthorized", the reason in the messages.
func refuse(w http.ResponseWriter, err error) {
	zh, en := "签名校验失败", "bad signature"
	switch {
	case errors.Is(err, contracts.ErrWrongScheme):
		zh, en = "签名方式与约定不符", "wrong signing scheme"
	case errors.Is(err, errAppKey):
		zh, en = "应用标识不符", "unknown app key"
	case errors.Is(err, contracts.ErrStaleTimestamp):
		zh, en = "时间戳缺失或超出允许的 5 分钟偏差", "stale or missing timestamp"
	case errors.Is(err, contracts.ErrReplay):
		zh, en = "请求重放：nonce 或令牌编号已使用", "replayed nonce or token id"
	case errors.Is(err, contracts.ErrEnvelope):
		zh, en = "请求体不是可解密的 SM4-GCM 信封", "body is not an SM4-GCM envelope this system can decrypt"
	case errors.Is(err, contracts.ErrWrongAudience):
		zh, en = "令牌的受众不是本系统", "token audience is not this system"
	case errors.Is(err, contracts.ErrTokenTime):
		zh, en = "令牌已过期、尚未生效或签发过久", "token expired, not yet valid or issued too long ago"
	case errors.Is(err, contracts.ErrTokenBinding):
		zh, en = "令牌与请求内容不符", "token bound to another body or request"
	case errors.Is(err, contracts.ErrTokenInvalid):
		zh, en = "令牌无效", "invalid token"
	}
	writeError(w, http.StatusUnauthorized, "unauthorized", zh, en)
}

// verifyAppKey is the part the two appKey schemes share: the app key and
// timestamp headers, the signature (by the scheme's verify function), and a
// nonce not seen before.
func (d *Dept) verifyAppKey(h http.Header, method, path string, body []byte, now time.Time,
	verify func(secret, method, path, timestamp, nonce, signature string, body []byte, now time.Time) error) error {
	if err := d.checkAppKeyHeaders(h, now); err != nil {
		return err
	}
	if err := verify(d.cfg.Secret, method, path, h.Get(contracts.HeaderTimestamp),
		h.Get(contracts.HeaderNonce), h.Get(contracts.HeaderSignature), body, now); err != nil {
		return err
	}
	if !d.remember("nonce:"+h.Get(contracts.HeaderNonce), now) {
		return contracts.ErrReplay
	}
	return nil
}
