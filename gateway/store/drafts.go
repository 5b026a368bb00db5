package store

import (
	"context"
	"errors"
	"time"
)

// DraftLifetime is how long a saved draft is kept: an unfinished form is
// the person's data, and a window's day ends.
const DraftLifetime = 24 * time.Hour

// Draft is an intake form a clerk saved unfinished: the form's fields as
// typed, kept on the server (never in the browser of a shared window PC).
type Draft struct {
	Fields map[string]string `json:"fields"`
	Saved  time.Time         `json:"saved"`
}

// Expires is when the draft is gone.
func (d Draft) Expires() time.Time { return d.Saved.Add(DraftLifetime) }

// Drafts keeps at most one draft per owner (a console account), sealed
// like an application's personal part, for DraftLifetime. Both backends
// have it; it is apart from Store, which it does not need.
type Drafts interface {
	// PutDraft keeps d as owner's draft, replacing the one before.
	PutDraft(ctx context.Context, owner string, d Draft) error
	// Draft is owner's draft; ErrNotFound when there is none, or it expired
	// by now (then it is removed), or it no longer opens (a key retired).
	Draft(ctx context.Context, owner string, now time.Time) (Draft, error)
	// DeleteDraft removes owner's draft; none is no error.
	DeleteDraft(ctx context.Context, owner string) error
}

var (
	_ Drafts = (*Bolt)(nil)
	_ Drafts = (*Redis)(nil)
)

// draftRecord is a draft as stored: its expiry in the clear (so a sweep
// needs no key), its fields sealed under the owner's name, as an
// application's personal part is sealed under its id.
type draftRecord struct {
	Expires time.Time `json:"expires"`
	Saved   time.Time `json:"saved"`
	Sealed  string    `json:"sealed,omitempty"`
	// Fields are there instead of Sealed on a store without keys, as its
	// applications are plain too.
	Fields map[string]string `json:"fields,omitempty"`
}

func draftContext(owner string) []byte { return []byte("onething/draft/" + owner) }

var errDraftOwner = errors.New("a draft needs its owner")

func (c codec) encodeDraft(owner string, d Draft) ([]byte, error) {
	if owner == "" {
		return nil, errDraftOwner
	}
	rec := draftRecord{Expires: d.Expires().UTC(), Saved: d.Saved.UTC()}
	if c.keys == nil {
		rec.Fields = d.Fields
	} else {
		plain, err := marshalJSON(d.Fields)
		if err != nil {
			return nil, err
		}
		if rec.Sealed, err = c.keys.Seal(plain, draftContext(owner)); err != nil {
			return nil, err
		}
	}
	return marshalJSON(rec)
}

// decodeDraft opens a stored draft; ok is false when it expired by now or
// does not open (it is then as good as gone).
func (c codec) decodeDraft(owner string, data []byte, now time.Time) (Draft, bool) {
	var rec draftRecord
	if unmarshalJSON(data, &rec) != nil || !now.Before(rec.Expires) {
		return Draft{}, false
	}
	d := Draft{Saved: rec.Saved, Fields: rec.Fields}
	if rec.Sealed != "" {
		if c.keys == nil {
			return Draft{}, false
		}
		plain, err := c.keys.Open(rec.Sealed, draftContext(owner))
		if err != nil || unmarshalJSON(plain, &d.Fields) != nil {
			return Draft{}, false
		}
	}
	return d, true
}

// draftExpired reports whether a stored draft's time is up, without
// opening it.
func draftExpired(data []byte, now time.Time) bool {
	var rec struct {
		Expires time.Time `json:"expires"`
	}
	return unmarshalJSON(data, &rec) != nil || !now.Before(rec.Expires)
}
