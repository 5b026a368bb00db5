package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"onething/contracts"
)

// ErrReplayed: a delivery's id was used before for another request
// (another path, another application, another body). Nothing was run and
// nothing written.
var ErrReplayed = errors.New("delivery id used before for another request")

// Delivery is the signed webhook delivery (the portal's, a department's)
// an update comes in. Deliver records it under each of its keys, with its
// fingerprint and the reply it got, in the write of the update itself.
type Delivery struct {
	// Keys name the delivery, each unique per sender across every path
	// and application: "webhook:portal|id|WEBHOOK_ID", a department's
	// "…|event|EVENT_ID" too.
	Keys []string
	// Taken are other dedupe keys (Create's "delivery:WEBHOOK_ID") whose
	// mere presence says the id was used on another path.
	Taken []string
	// Fingerprint is what the delivery asked (Fingerprint below).
	Fingerprint string
}

// Fingerprint of a delivery: hex SHA-256 over method, path and body.
func Fingerprint(method, path string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(method + "\n" + path + "\n"))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// Reply is what a delivery was answered: recorded with it, and answered
// again, byte for byte, to a retry of the same request.
type Reply struct {
	Status int    `json:"status"`
	Body   []byte `json:"body"`
}

// Outcome is what a DeliverFunc decided.
type Outcome struct {
	// Jobs the change implies (as UpdateFunc returns them).
	Jobs []Job
	// Reply to record with the delivery and send.
	Reply Reply
	// Refused: the application's state refuses the request; the
	// application is left as it was (changes fn made are dropped) and only
	// the delivery with its reply is recorded, so a retry gets the same
	// refusal and the id cannot be used elsewhere.
	Refused bool
}

// DeliverFunc is an UpdateFunc that also makes the reply. Like UpdateFunc
// it may run more than once (Redis) and must change nothing but app; an
// error aborts: nothing is written, nothing recorded.
type DeliverFunc func(app *contracts.Application) (Outcome, error)

// deliveryRecord is a delivery as stored: its fingerprint and its reply
// (sealed with the store's keys when it has keys: a reply may hold a
// masked view).
type deliveryRecord struct {
	Fingerprint string `json:"fp"`
	Reply       string `json:"reply"`
	At          int64  `json:"at"`
}

// replyKey is the name a delivery key is stored under (bolt: in the keys
// bucket; Redis: P:reply:KEY).
func replyKey(key string) string { return "reply:" + key }

// replyContext binds a sealed reply to the request it answers (every key
// of a delivery has the same record).
func replyContext(fingerprint string) []byte { return []byte("onething/reply/" + fingerprint) }

// sealReply encodes the reply to the delivery with fingerprint fp.
func (c codec) sealReply(fp string, r Reply) (string, error) {
	plain := strconv.Itoa(r.Status) + "\n" + string(r.Body)
	if c.keys == nil {
		return "p:" + plain, nil
	}
	blob, err := c.keys.Seal([]byte(plain), replyContext(fp))
	if err != nil {
		return "", fmt.Errorf("seal reply: %w", err)
	}
	return "s:" + blob, nil
}

// openReply decodes what sealReply made.
func (c codec) openReply(fp, v string) (Reply, error) {
	var plain string
	switch {
	case strings.HasPrefix(v, "p:"):
		plain = v[2:]
	case strings.HasPrefix(v, "s:"):
		if c.keys == nil {
			return Reply{}, ErrSealedNoKeys
		}
		b, err := c.keys.Open(v[2:], replyContext(fp))
		if err != nil {
			return Reply{}, fmt.Errorf("open reply: %w", err)
		}
		plain = string(b)
	default:
		return Reply{}, errors.New("reply record: unknown format")
	}
	status, body, ok := strings.Cut(plain, "\n")
	n, err := strconv.Atoi(status)
	if !ok || err != nil {
		return Reply{}, errors.New("reply record: malformed")
	}
	return Reply{Status: n, Body: []byte(body)}, nil
}

// record makes the stored record (bolt) of a delivery.
func (c codec) record(fp string, r Reply, now time.Time) ([]byte, error) {
	sealed, err := c.sealReply(fp, r)
	if err != nil {
		return nil, err
	}
	return json.Marshal(deliveryRecord{Fingerprint: fp, Reply: sealed, At: now.UnixMilli()})
}
