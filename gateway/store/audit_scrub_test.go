package store_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	c "onething/contracts"
	"onething/gateway/store"
	"onething/gateway/store/redistest"
	"onething/gateway/store/storetest"
)

// testScrubAudit: entries written with personal data in their reason
// (a clerk's reason naming the applicant with their ID number, a
// withdrawal's reason with the applicant's mobile) are rewritten once,
// masked, in place (same ids, times and order, nothing removed); the
// scrub audits itself first; a second scrub changes nothing.
func testScrubAudit(t *testing.T, s store.Store) {
	ctx := context.Background()
	const id = "01SCRUB000000000000000000A"
	if _, err := s.Create(ctx, storetest.PersonalApp(id, storetest.ExampleIDNumber, "ref-scrub"), []string{"ref:scrub"}, nil); err != nil {
		t.Fatal(err)
	}
	clean := c.AuditEntry{Subject: "token:read#1", Role: "staff", Action: c.AuditRecordRead, Method: "GET", Route: "/v1/applications/:id/record", ApplicationID: id, Reason: "窗口核对材料"}
	dirty := []c.AuditEntry{
		{Subject: "console:luojiang", Role: "staff", Action: c.AuditRecordRead, Method: "POST", Route: "/console/cases/:id/reveal", ApplicationID: id,
			Reason: storetest.ExampleName + "本人来电，身份证" + storetest.ExampleIDNumber},
		{Subject: "console:luojiang", Role: "staff", Action: "console.withdraw", Method: "POST", Route: "/console/", ApplicationID: id,
			Reason: "本人不再申请，电话" + storetest.ExampleMobile},
	}
	var written []c.AuditEntry
	for _, e := range append([]c.AuditEntry{clean}, dirty...) {
		got, err := s.AppendAudit(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		written = append(written, got)
	}
	stats, err := store.ScrubAudit(ctx, s, "cli:ops")
	if err != nil {
		t.Fatal(err)
	}
	if stats.Rewritten != 2 || stats.AuditID == "" {
		t.Fatalf("scrub: %+v, want 2 rewritten and its own entry", stats)
	}
	after, _, err := s.Audit(ctx, store.AuditQuery{Limit: store.MaxAuditLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != 4 {
		t.Fatalf("%d entries after the scrub, want 4", len(after))
	}
	own := after[0]
	if own.ID != stats.AuditID || own.Action != store.AuditScrub || own.Subject != "cli:ops" || own.Query != "entries=2" {
		t.Errorf("the scrub's own entry: %+v", own)
	}
	for i, e := range after[1:] {
		want := written[len(written)-1-i]
		if e.ID != want.ID || !e.At.Equal(want.At) || e.Action != want.Action || e.Subject != want.Subject {
			t.Errorf("entry %s changed beyond its reason: %+v, was %+v", want.ID, e, want)
		}
		for _, secret := range []string{storetest.ExampleName, storetest.ExampleIDNumber[:12], storetest.ExampleMobile, "志明"} {
			if strings.Contains(e.Reason, secret) {
				t.Errorf("entry %s keeps %q: %q", e.ID, secret, e.Reason)
			}
		}
	}
	if after[3].Reason != clean.Reason {
		t.Errorf("a clean entry changed: %q", after[3].Reason)
	}
	if !strings.Contains(after[1].Reason, "本人不再申请") {
		t.Errorf("the withdrawal's reason lost more than its number: %q", after[1].Reason)
	}
	// Appends go on after it, in order.
	next, err := s.AppendAudit(ctx, clean)
	if err != nil {
		t.Fatal(err)
	}
	if latest, _, _ := s.Audit(ctx, store.AuditQuery{Limit: 1}); len(latest) != 1 || latest[0].ID != next.ID || next.At.Before(own.At) {
		t.Errorf("an append after the scrub: %+v, newest %+v", next, latest)
	}
	again, err := store.ScrubAudit(ctx, s, "cli:ops")
	if err != nil || again.Rewritten != 0 {
		t.Errorf("a second scrub: %+v %v, want nothing rewritten", again, err)
	}
}

func TestScrubAuditBolt(t *testing.T) {
	keys := storetest.NewKeys().Ring(t, "k1", "|", "i1")
	s, err := store.OpenBolt(filepath.Join(t.TempDir(), "t.db"), store.WithKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	testScrubAudit(t, s)
}

func TestScrubAuditRedis(t *testing.T) {
	srv := redistest.Start(t)
	keys := storetest.NewKeys().Ring(t, "k1", "|", "i1")
	testScrubAudit(t, openRedis(t, srv.URL(), store.WithKeys(keys)))
}
