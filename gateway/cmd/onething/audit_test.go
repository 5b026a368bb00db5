package main

import (
	"context"
	"strings"
	"testing"

	c "onething/contracts"
	"onething/gateway/service"
	"onething/gateway/store"
)

// audit scrub masks an entry written with personal data, audits itself,
// and refuses an operator name that is not an account name (exit 2).
func TestAuditScrub(t *testing.T) {
	cfg, db := sampleWithSecrets(t)
	env := []string{"ONETHING_DATA_FILE=" + db}
	if r := onething(t, env, "store", "init", "--config", cfg); r.code != 0 {
		t.Fatalf("store init:\n%s", r)
	}
	t.Setenv("ONETHING_DATA_FILE", db)
	open := func() store.Store {
		loaded, err := service.LoadConfig(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		st, err := service.OpenStore(loaded.Config, nil)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	st := open()
	if _, err := st.AppendAudit(context.Background(), c.AuditEntry{Subject: "console:luojiang", Action: "console.withdraw",
		Reason: "本人来电，身份证511702198002025569，电话13698765432"}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	if r := onething(t, env, "audit", "scrub", "--config", cfg, "--operator", "51170219800202556"); r.code != 2 {
		t.Errorf("an operator like a number: exit %d, want 2\n%s", r.code, r)
	}
	r := onething(t, env, "audit", "scrub", "--config", cfg, "--operator", "ops-zhang")
	if r.code != 0 || !strings.Contains(r.stdout, "1 rewritten") {
		t.Fatalf("audit scrub:\n%s", r)
	}
	st = open()
	defer st.Close()
	entries, _, err := st.Audit(context.Background(), store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Action != store.AuditScrub || entries[0].Subject != "cli:ops-zhang" {
		t.Fatalf("entries after the scrub: %+v", entries)
	}
	if strings.Contains(entries[1].Reason, "511702198002025569") || strings.Contains(entries[1].Reason, "13698765432") {
		t.Errorf("not scrubbed: %q", entries[1].Reason)
	}
}
