// Package portal pushes consolidated status to the provincial portal's
// receiver (四川省一体化政务服务平台), signed the Standard Webhooks way.
package portal

import (
	"context"
	"net/http"
	"strconv"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"onething/adapters/client"
	"onething/contracts"
)

// Notifier sends status pushes.
type Notifier struct {
	c    *client.Client
	path string
}

// New returns a notifier posting to baseURL+path, signing with the push
// secret (whsec_… base64). cfg carries the transport settings (its
// Retries are ignored: see below).
func New(cfg client.Config, path, secret string) (*Notifier, error) {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return nil, err
	}
	// A push is never retried in place: its job is, and the job sends only
	// the application's newest version, so a version that failed is not
	// sent again after a newer one got through.
	cfg.Retries = -1
	cfg.Sign = func(req *http.Request, body []byte) error {
		// The message id is the push's idempotency key: the same on every
		// retry of one version, so the portal can drop repeats.
		id := req.Header.Get(contracts.HeaderIdempotencyKey)
		now := time.Now()
		sig, err := wh.Sign(id, now, body)
		if err != nil {
			return err
		}
		req.Header.Set(standardwebhooks.HeaderWebhookID, id)
		req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
		req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
		return nil
	}
	return &Notifier{c: client.New(cfg), path: path}, nil
}

// MessageID is the webhook-id of one version of an application's status.
func MessageID(push *contracts.StatusPush) string {
	return "st_" + push.ApplicationID + "_" + strconv.FormatInt(push.Version, 10)
}

// Push delivers one status push.
func (n *Notifier) Push(ctx context.Context, push *contracts.StatusPush, requestID string) error {
	return n.c.Do(ctx, http.MethodPost, n.path, MessageID(push), requestID, push, nil)
}

// Client is the transport under the notifier.
func (n *Notifier) Client() *client.Client { return n.c }
