package storetest

import (
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"onething/gateway/store"
)

// DraftStore is a fresh, empty store with drafts and sealing keys, and a
// way to read a draft's stored bytes behind its back.
type DraftStore struct {
	Drafts store.Drafts
	Raw    func(owner string) []byte
	// Going reports whether owner's stored draft is removed, or due to be
	// removed by the backend itself, without anyone reading it.
	Going func(owner string) bool
}

// RunDrafts is the conformance suite of the console's drafts: one per
// owner, sealed, gone after DraftLifetime (by the clock the caller gives)
// or when deleted.
func RunDrafts(t *testing.T, open func(t *testing.T) DraftStore) {
	saved := time.Date(2026, 10, 12, 9, 30, 0, 0, time.UTC)
	form := map[string]string{"name": "张志明", "idNumber": "51170219850307123X", "ethnicity": "汉族"}
	t.Run("KeptSealedPerOwner", func(t *testing.T) {
		s := open(t)
		if _, err := s.Drafts.Draft(ctx, "console:luojiang", saved); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("no draft yet: %v, want ErrNotFound", err)
		}
		if err := s.Drafts.PutDraft(ctx, "console:luojiang", store.Draft{Fields: form, Saved: saved}); err != nil {
			t.Fatal(err)
		}
		d, err := s.Drafts.Draft(ctx, "console:luojiang", saved.Add(time.Hour))
		if err != nil || !maps.Equal(d.Fields, form) || !d.Saved.Equal(saved) {
			t.Fatalf("read back %+v %v", d, err)
		}
		raw := string(s.Raw("console:luojiang"))
		if raw == "" || strings.Contains(raw, "张志明") || strings.Contains(raw, "51170219850307123X") || strings.Contains(raw, "汉族") {
			t.Errorf("the stored draft is not sealed: %s", raw)
		}
		if _, err := s.Drafts.Draft(ctx, "console:dongcheng", saved); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another account reads a draft: %v", err)
		}
		// A second save replaces the first.
		next := map[string]string{"name": "刘秀英"}
		if err := s.Drafts.PutDraft(ctx, "console:luojiang", store.Draft{Fields: next, Saved: saved.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		if d, err := s.Drafts.Draft(ctx, "console:luojiang", saved.Add(time.Hour)); err != nil || !maps.Equal(d.Fields, next) {
			t.Errorf("after the second save: %+v %v", d, err)
		}
		if err := s.Drafts.DeleteDraft(ctx, "console:luojiang"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Drafts.Draft(ctx, "console:luojiang", saved.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleted, still there: %v", err)
		}
		if err := s.Drafts.DeleteDraft(ctx, "console:luojiang"); err != nil {
			t.Errorf("deleting no draft: %v", err)
		}
	})
	t.Run("GoneAfterADay", func(t *testing.T) {
		s := open(t)
		if err := s.Drafts.PutDraft(ctx, "console:luojiang", store.Draft{Fields: form, Saved: saved}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Drafts.Draft(ctx, "console:luojiang", saved.Add(store.DraftLifetime-time.Second)); err != nil {
			t.Fatalf("a second before its day is over: %v", err)
		}
		if _, err := s.Drafts.Draft(ctx, "console:luojiang", saved.Add(store.DraftLifetime)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a day later: %v, want ErrNotFound", err)
		}
		// Read after its day, it was removed, not only hidden.
		if raw := s.Raw("console:luojiang"); len(raw) != 0 {
			t.Errorf("the expired draft is still stored: %d bytes", len(raw))
		}
		if _, err := s.Drafts.Draft(ctx, "console:luojiang", saved); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("an expired draft came back for an earlier clock: %v", err)
		}
	})
	t.Run("ExpiredSweptOnSave", func(t *testing.T) {
		s := open(t)
		if err := s.Drafts.PutDraft(ctx, "console:dongcheng", store.Draft{Fields: form, Saved: saved}); err != nil {
			t.Fatal(err)
		}
		// Another clerk's save two days later: the abandoned draft goes
		// without anyone reading it (Bolt sweeps it, Redis expires it).
		if err := s.Drafts.PutDraft(ctx, "console:luojiang", store.Draft{Fields: form, Saved: saved.Add(48 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if !s.Going("console:dongcheng") {
			t.Error("the abandoned draft stays until someone reads it")
		}
		if _, err := s.Drafts.Draft(ctx, "console:dongcheng", saved.Add(48*time.Hour)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the abandoned draft: %v, want ErrNotFound", err)
		}
	})
}
