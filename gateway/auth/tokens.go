package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"

	c "onething/contracts"
)

// StaticToken is a fixed bearer token mapped to a principal (small
// installations, `onething dev`, tests). Subject names its holder in logs.
type StaticToken struct {
	Token   string   `json:"token"`
	Role    Role     `json:"role"`
	Dept    c.Dept   `json:"dept,omitempty"`
	Towns   []string `json:"towns,omitempty"`
	Subject string   `json:"subject"`
}

// MinTokenLen is the shortest static token accepted.
const MinTokenLen = 16

// Tokens checks static bearer tokens.
type Tokens struct {
	entries []tokenEntry
}

type tokenEntry struct {
	sum [32]byte
	p   *Principal
}

// NewTokens checks each token's principal; tokens must be long enough and
// distinct.
func NewTokens(list []StaticToken) (*Tokens, error) {
	t := &Tokens{}
	seen := map[[32]byte]bool{}
	subjects := map[string]bool{}
	for i, st := range list {
		if len(st.Token) < MinTokenLen {
			return nil, fmt.Errorf("token %d (%s): shorter than %d characters", i+1, st.Subject, MinTokenLen)
		}
		sum := sha256.Sum256([]byte(st.Token))
		if seen[sum] {
			return nil, fmt.Errorf("token %d (%s): the same token is configured twice", i+1, st.Subject)
		}
		seen[sum] = true
		p := &Principal{Role: st.Role, Dept: st.Dept, Towns: st.Towns, Subject: "token:" + st.Subject, Via: ViaToken}
		if st.Subject == "" {
			return nil, fmt.Errorf("token %d: subject is required", i+1)
		}
		if subjects[st.Subject] {
			return nil, fmt.Errorf("token %d: subject %q is used twice", i+1, st.Subject)
		}
		subjects[st.Subject] = true
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("token %d (%s): %w", i+1, st.Subject, err)
		}
		t.entries = append(t.entries, tokenEntry{sum: sum, p: p})
	}
	return t, nil
}

// Lookup returns the principal of token. Every configured token is compared
// (in constant time, on SHA-256 digests), so timing says nothing about
// which one nearly matched.
func (t *Tokens) Lookup(token string) (*Principal, bool) {
	sum := sha256.Sum256([]byte(token))
	var found *Principal
	for _, e := range t.entries {
		if subtle.ConstantTimeCompare(e.sum[:], sum[:]) == 1 {
			found = e.p
		}
	}
	return found, found != nil
}

// Empty reports whether no token is configured.
func (t *Tokens) Empty() bool { return len(t.entries) == 0 }
