package contracts

import (
	"bytes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"
)

// The outbound signing schemes a department adapter can be configured with
// (the department document, contracts/openapi/dept-*.yaml, describes each).
const (
	// SchemeHMACSHA256: X-App-Key, X-Timestamp, X-Nonce and X-Signature =
	// hex HMAC-SHA256 (DeptSignature). The default.
	SchemeHMACSHA256 = "hmac-sha256"
	// SchemeSM3 is the national-crypto (国密) variant: the same headers,
	// X-Signature = hex HMAC-SM3 over the same layout with an SM3 body
	// digest (DeptSignatureSM3), X-Sign-Method: HMAC-SM3; optionally the
	// body travels as an SM4-GCM envelope (SealSM4).
	SchemeSM3 = "sm3"
	// SchemeJWT: Authorization: Bearer, a JWT the gateway signs per request
	// (DeptClaims).
	SchemeJWT = "jwt"
)

// HeaderSignMethod names the signature algorithm of an appKey-signed
// request: SignMethodHMACSHA256 (also assumed when the header is absent) or
// SignMethodHMACSM3.
const HeaderSignMethod = "X-Sign-Method"

// Values of X-Sign-Method.
const (
	SignMethodHMACSHA256 = "HMAC-SHA256"
	SignMethodHMACSM3    = "HMAC-SM3"
)

// Reasons a signed request is refused. Each wraps ErrBadSignature, so
// errors.Is(err, ErrBadSignature) holds for all of them.
var (
	ErrStaleTimestamp = fmt.Errorf("%w: timestamp missing or more than 5 minutes off", ErrBadSignature)
	ErrWrongScheme    = fmt.Errorf("%w: not the signing scheme configured for this system", ErrBadSignature)
	ErrReplay         = fmt.Errorf("%w: nonce or token id already used", ErrBadSignature)
	ErrEnvelope       = fmt.Errorf("%w: body is not an SM4-GCM envelope that decrypts with a known key", ErrBadSignature)
	ErrWrongAudience  = fmt.Errorf("%w: token not meant for this system", ErrBadSignature)
)

// CheckTimestamp checks an X-Timestamp (unix seconds) against now within
// SignatureTolerance either way.
func CheckTimestamp(timestamp string, now time.Time) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrStaleTimestamp
	}
	if d := now.Sub(time.Unix(ts, 0)); d > SignatureTolerance || d < -SignatureTolerance {
		return ErrStaleTimestamp
	}
	return nil
}

// SM3Hex is the lower-case hex SM3 digest of b.
func SM3Hex(b []byte) string {
	sum := sm3.Sum(b)
	return hex.EncodeToString(sum[:])
}

// DeptSignatureSM3 computes X-Signature of the SM3 scheme: lower-case hex
// HMAC-SM3 (RFC 2104 HMAC with SM3, GB/T 32905-2016, as the hash), keyed
// with the shared secret, over "METHOD\nPATH\nTIMESTAMP\nNONCE\nhex(SM3(body))":
// the HMAC-SHA256 scheme's layout with SM3 in both places, so no non-SM
// algorithm takes part.
func DeptSignatureSM3(secret, method, path, timestamp, nonce string, body []byte) string {
	mac := hmac.New(sm3.New, []byte(secret))
	mac.Write([]byte(strings.ToUpper(method) + "\n" + path + "\n" + timestamp + "\n" + nonce + "\n" + SM3Hex(body)))
	return hex.EncodeToString(mac.Sum(nil))
}

// VerifyDeptSignatureSM3 checks the SM3 scheme's signature headers, like
// VerifyDeptSignature. body is the body as sent (the envelope, when the
// body is encrypted). Replays are the receiver's to refuse.
func VerifyDeptSignatureSM3(secret, method, path, timestamp, nonce, signature string, body []byte, now time.Time) error {
	if err := CheckTimestamp(timestamp, now); err != nil {
		return err
	}
	if nonce == "" || signature == "" {
		return ErrBadSignature
	}
	want := DeptSignatureSM3(secret, method, path, timestamp, nonce, body)
	if !hmac.Equal([]byte(want), []byte(signature)) {
		return ErrBadSignature
	}
	return nil
}

// EnvelopeAlgSM4GCM is the alg of an SM4-GCM body envelope.
const EnvelopeAlgSM4GCM = "SM4-GCM"

// SM4Envelope is an encrypted request body (SchemeSM3 with body
// encryption), sent as Content-Type application/json in place of the
// plaintext JSON:
//
//	{"alg":"SM4-GCM","kid":"…","nonce":"base64","ciphertext":"base64"}
//
// SM4 (GB/T 32907-2016) in GCM mode with a 128-bit key, a fresh random
// 12-byte nonce per request and a 16-byte tag appended to the ciphertext
// (standard base64 with padding, both fields); the GCM additional data is
// "METHOD PATH" (e.g. "POST /api/v1/certificate-cases", PATH as in the
// string to sign), so an envelope cannot be moved to another operation.
// kid names the key, so keys can rotate: the receiver keeps every key it
// may still be sent. The request signature covers the envelope as sent.
type SM4Envelope struct {
	Alg        string `json:"alg"`
	Kid        string `json:"kid"`
	Nonce      string `json:"nonce"`
	Ciphertext string `json:"ciphertext"`
}

// ParseSM4Key reads an SM4 key written as 32 hex digits (128 bits).
func ParseSM4Key(s string) ([]byte, error) {
	k, err := hex.DecodeString(s)
	if err != nil || len(k) != sm4.BlockSize {
		return nil, errors.New("an SM4 key is 32 hex digits (128 bits)")
	}
	return k, nil
}

// SM4KeyID is the default key id of an SM4 key: "sm4-" and the first 8 hex
// digits of its SM3 digest (names the key without revealing it).
func SM4KeyID(key []byte) string { return "sm4-" + SM3Hex(key)[:8] }

func sm4GCM(key []byte) (cipher.AEAD, error) {
	b, err := sm4.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

func envelopeAAD(method, path string) []byte {
	return []byte(strings.ToUpper(method) + " " + path)
}

// SealSM4 encrypts plaintext for method and path into the JSON of an
// SM4Envelope under key, named kid.
func SealSM4(kid string, key []byte, method, path string, plaintext []byte) ([]byte, error) {
	aead, err := sm4GCM(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	ct := aead.Seal(nil, nonce, plaintext, envelopeAAD(method, path))
	return json.Marshal(SM4Envelope{
		Alg: EnvelopeAlgSM4GCM, Kid: kid,
		Nonce:      base64.StdEncoding.EncodeToString(nonce),
		Ciphertext: base64.StdEncoding.EncodeToString(ct),
	})
}

// OpenSM4 decrypts the JSON of an SM4Envelope sent with method and path,
// taking the key from keys by its kid. Anything else (not exactly an
// envelope, another alg, an unknown kid, a wrong nonce size, a failed
// tag) is ErrEnvelope.
func OpenSM4(keys map[string][]byte, method, path string, body []byte) (plaintext []byte, kid string, err error) {
	var env SM4Envelope
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if dec.Decode(&env) != nil || dec.More() || env.Alg != EnvelopeAlgSM4GCM {
		return nil, "", ErrEnvelope
	}
	key, ok := keys[env.Kid]
	if !ok {
		return nil, env.Kid, ErrEnvelope
	}
	aead, err := sm4GCM(key)
	if err != nil {
		return nil, env.Kid, ErrEnvelope
	}
	nonce, err1 := base64.StdEncoding.DecodeString(env.Nonce)
	ct, err2 := base64.StdEncoding.DecodeString(env.Ciphertext)
	if err1 != nil || err2 != nil || len(nonce) != aead.NonceSize() || len(ct) < aead.Overhead() {
		return nil, env.Kid, ErrEnvelope
	}
	pt, err := aead.Open(nil, nonce, ct, envelopeAAD(method, path))
	if err != nil {
		return nil, env.Kid, ErrEnvelope
	}
	return pt, env.Kid, nil
}
