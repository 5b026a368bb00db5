package engine

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"

	c "onething/contracts"
	"onething/gateway/seal"
	"onething/gateway/store"
)

// ErrPortalRefConflict is returned by Submit when the portal reference is
// taken by an application whose submission was another one (another
// applicant, other requests, delivery or channel). Nothing is stored.
var ErrPortalRefConflict = errors.New("portal reference used before for another submission")

// PortalRefConflict is what the API (409 portal_ref_conflict) and the
// console's intake say of ErrPortalRefConflict. It names no one.
var PortalRefConflict = c.Message{
	ZH: "该办件号（portalRef）已用于另一份申请（申请人或申请内容不同），本次申请未受理；新的申请须使用新的办件号",
	EN: "this portalRef was used before for another submission (another applicant or other requests); nothing was stored. A new application needs a new portalRef",
}

// ErrDeliveryReplayed is returned by Submit when the delivery id was used
// before for another submission (store.ErrReplayed: the API's 409
// replayed_webhook). Nothing is stored.
var ErrDeliveryReplayed = store.ErrReplayed

// What makes two submissions the same one: the decoded submission's
// portal reference, channel, applicant, requests and delivery, as the
// gateway keeps them (the ID number's check character in upper case). The
// time the portal stamped on it (submittedAt) is left out: a portal that
// retries a submission may stamp it again, and the retry is still the same
// application. So is the delivery id: a retry may come under a new one.
type canonicalSubmission struct {
	PortalRef string      `json:"portalRef"`
	Channel   c.Channel   `json:"channel"`
	Applicant c.Applicant `json:"applicant"`
	Requests  c.Requests  `json:"requests"`
	Delivery  c.Delivery  `json:"delivery"`
}

// digestField is the HMAC's domain (seal.Keyring.Index), apart from the
// ID number's blind index made with the same key.
const digestField = "submission/v1"

// plainDigest marks the unkeyed digest of a gateway without data
// protection (tests: production refuses to start without keys, and such
// a store holds the applicant in the clear anyway).
const plainDigest = "=plain." // "=" is in no key id

func canonical(ref string, ch c.Channel, a c.Applicant, r c.Requests, d c.Delivery) string {
	a.IDNumber = store.NormalizeIDNumber(a.IDNumber)
	b, err := json.Marshal(canonicalSubmission{PortalRef: ref, Channel: ch, Applicant: a, Requests: r, Delivery: d})
	if err != nil {
		// Plain data types: cannot happen. An empty canonical form would
		// make every submission alike, so fail loudly instead.
		panic("engine: canonical submission: " + err.Error())
	}
	return string(b)
}

func submissionCanonical(sub *c.Submission) string {
	return canonical(sub.PortalRef, sub.Channel, sub.Applicant, sub.Requests, sub.Delivery)
}

func appCanonical(app *c.Application) string {
	return canonical(app.PortalRef, app.Channel, app.Applicant, app.Requests, app.Delivery)
}

// digests are the digest of a canonical submission under every index key,
// the current one first (one unkeyed digest without keys): the first is
// what a new application keeps, any of them matches a kept one.
func digests(keys *seal.Keyring, canon string) []string {
	if keys == nil {
		sum := sha256.Sum256([]byte(digestField + "\x00" + canon))
		return []string{plainDigest + hex.EncodeToString(sum[:])}
	}
	return keys.Indexes(digestField, canon)
}

// sameSubmission reports whether holder was made from the submission
// whose canonical form is canon. The
// kept digest decides when one of the configured keys made it; a record
// without one (written before digests were kept) or with a retired key's
// is compared through its own fields, unless its applicant was erased:
// then it cannot be told, and it counts as another submission: refusing
// is better than answering one person's submission with another's
// application.
func (e *Engine) sameSubmission(holder *c.Application, canon string) bool {
	mine := digests(e.Keys, canon)
	if kept := holder.SubmissionDigest; kept != "" {
		for _, d := range mine {
			if sameKey(d, kept) {
				return hmac.Equal([]byte(d), []byte(kept))
			}
		}
	}
	if holder.Applicant.IDNumber == "" && holder.Applicant.Name == "" {
		return false
	}
	return appCanonical(holder) == canon
}

// sameKey reports whether two digests were made with the same key (the
// part before the first dot names it).
func sameKey(a, b string) bool {
	ka, _, _ := strings.Cut(a, ".")
	kb, _, _ := strings.Cut(b, ".")
	return ka == kb
}
