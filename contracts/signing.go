package contracts

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Headers of the appKey signing scheme the gateway uses towards department
// systems (the scheme Chinese government integrations commonly use).
const (
	HeaderAppKey         = "X-App-Key"
	HeaderTimestamp      = "X-Timestamp"
	HeaderNonce          = "X-Nonce"
	HeaderSignature      = "X-Signature"
	HeaderIdempotencyKey = "Idempotency-Key"
	HeaderRequestID      = "X-Request-Id"
)

// SignatureTolerance is how far a request's timestamp may be from the
// receiver's clock.
const SignatureTolerance = 5 * time.Minute

// DeptSignature computes X-Signature: hex HMAC-SHA256 with the shared secret
// over "METHOD\nPATH\nTIMESTAMP\nNONCE\nhex(SHA-256(body))".
func DeptSignature(secret, method, path, timestamp, nonce string, body []byte) string {
	sum := sha256.Sum256(body)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strings.ToUpper(method) + "\n" + path + "\n" + timestamp + "\n" + nonce + "\n" + hex.EncodeToString(sum[:])))
	return hex.EncodeToString(mac.Sum(nil))
}

// ErrBadSignature is returned for a missing, stale or wrong signature.
var ErrBadSignature = errors.New("bad or stale request signature")

// VerifyDeptSignature checks the signing headers of a department request.
// Replay of a (timestamp, nonce) pair within the tolerance is the receiver's
// to refuse; the mocks keep a nonce cache.
func VerifyDeptSignature(secret, method, path, timestamp, nonce, signature string, body []byte, now time.Time) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil || nonce == "" || signature == "" {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(ts, 0)); d > SignatureTolerance || d < -SignatureTolerance {
		return ErrBadSignature
	}
	want := DeptSignature(secret, method, path, timestamp, nonce, body)
	if !hmac.Equal([]byte(want), []byte(signature)) {
		return ErrBadSignature
	}
	return nil
}
