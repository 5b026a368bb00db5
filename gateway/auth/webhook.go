package auth

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// MinWebhookKey is the shortest Standard Webhooks key (decoded) accepted.
const MinWebhookKey = 16

// Limits on the Standard Webhooks headers, checked before any HMAC.
const (
	MaxWebhookID        = 256
	MaxWebhookSignature = 4096
)

// WebhookVerifier checks Standard Webhooks signatures (HMAC-SHA256 over
// "id.timestamp.body", 5-minute tolerance) against several secrets: during
// a rotation the old and the new one are both configured, and dropping the
// old one refuses what it signs.
type WebhookVerifier struct {
	whs []*standardwebhooks.Webhook
}

// NewWebhookVerifier takes secrets as `whsec_<base64>`.
func NewWebhookVerifier(secrets []string) (*WebhookVerifier, error) {
	v := &WebhookVerifier{}
	for i, sec := range secrets {
		wh, err := standardwebhooks.NewWebhook(sec)
		if err != nil {
			return nil, fmt.Errorf("secret %d is not whsec_<base64>", i+1)
		}
		// NewWebhook accepts an empty key, which anyone can sign with.
		key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(sec, "whsec_"))
		if len(key) < MinWebhookKey {
			return nil, fmt.Errorf("secret %d is shorter than %d bytes", i+1, MinWebhookKey)
		}
		v.whs = append(v.whs, wh)
	}
	return v, nil
}

// Empty reports whether no secret is configured (nothing verifies).
func (v *WebhookVerifier) Empty() bool { return v == nil || len(v.whs) == 0 }

// Reasons a signature is refused (for the log; no input in them).
var (
	ErrSignatureMissing  = errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	ErrSignatureHeaders  = errors.New("webhook headers malformed or too long")
	ErrSignatureExpired  = errors.New("webhook-timestamp outside the 5-minute tolerance")
	ErrSignatureMismatch = errors.New("no signature matches a current secret")
)

// Verify checks the signature of body. The error wraps ErrUnauthenticated
// and one of the reasons above.
func (v *WebhookVerifier) Verify(body []byte, h http.Header) error {
	id, sig, ts := h.Get(standardwebhooks.HeaderWebhookID), h.Get(standardwebhooks.HeaderWebhookSignature), h.Get(standardwebhooks.HeaderWebhookTimestamp)
	switch {
	case id == "" || sig == "" || ts == "":
		return fmt.Errorf("%w: %w", ErrUnauthenticated, ErrSignatureMissing)
	case len(id) > MaxWebhookID || len(sig) > MaxWebhookSignature || len(ts) > 20:
		return fmt.Errorf("%w: %w", ErrUnauthenticated, ErrSignatureHeaders)
	}
	if v.Empty() {
		return fmt.Errorf("%w: %w", ErrUnauthenticated, ErrSignatureMismatch)
	}
	var first error
	for _, wh := range v.whs {
		err := wh.Verify(body, h)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	switch {
	case errors.Is(first, standardwebhooks.ErrMessageTooOld), errors.Is(first, standardwebhooks.ErrMessageTooNew):
		return fmt.Errorf("%w: %w", ErrUnauthenticated, ErrSignatureExpired)
	case errors.Is(first, standardwebhooks.ErrNoMatchingSignature):
		return fmt.Errorf("%w: %w", ErrUnauthenticated, ErrSignatureMismatch)
	default:
		return fmt.Errorf("%w: %w", ErrUnauthenticated, ErrSignatureHeaders)
	}
}
