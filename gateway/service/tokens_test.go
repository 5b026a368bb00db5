package service

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"onething/gateway/auth"
)

// Read and admin tokens come from the file as {subject, token} (or, the
// old form, a plain string without subject), from the environment as a
// JSON array, from a _FILE as the same array; an unknown field is an error.
func TestNamedTokensLoad(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "admin-tokens.json")
	if err := os.WriteFile(file, []byte(`[{"subject": "night-shift", "token": "from-a-file"}]`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := "readTokens:\n  - subject: district-office\n    token: in-the-file\n  - plain-old-token\n"
	l, err := LoadConfigBytes([]byte(doc), dir, []string{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []NamedToken{{Subject: "district-office", Token: "in-the-file"}, {Token: "plain-old-token"}}; !reflect.DeepEqual(l.Config.ReadTokens, want) {
		t.Errorf("file: %+v", l.Config.ReadTokens)
	}
	l, err = LoadConfigBytes([]byte(doc), dir, []string{`ONETHING_READ_TOKENS=[{"subject":"records-desk","token":"from-env"}]`, "ONETHING_ADMIN_TOKENS_FILE=" + file})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(l.Config.ReadTokens, []NamedToken{{Subject: "records-desk", Token: "from-env"}}) ||
		!reflect.DeepEqual(l.Config.AdminTokens, []NamedToken{{Subject: "night-shift", Token: "from-a-file"}}) {
		t.Errorf("environment: %+v %+v", l.Config.ReadTokens, l.Config.AdminTokens)
	}
	if _, err := LoadConfigBytes([]byte("readTokens:\n  - {subject: x, token: y, role: admin}\n"), dir, []string{}); err == nil {
		t.Error("an unknown field of a read token was accepted")
	}
}

// A token without subject, a subject of odd characters or one that names
// two static tokens is a problem of CheckSecrets (config check, serve).
func TestTokenSubjectProblems(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"no subject", func(c *Config) { c.ReadTokens[0].Subject = "" }, "readTokens[0]: 没有 subject"},
		{"odd characters", func(c *Config) { c.AdminTokens[0].Subject = "ops/team" }, "adminTokens[0].subject: "},
		{"too long", func(c *Config) { c.AdminTokens[0].Subject = strings.Repeat("a", 65) }, "adminTokens[0].subject: "},
		{"a phone number", func(c *Config) { c.AdminTokens[0].Subject = "ops-13881801234" }, "looks like an ID or phone number"},
		{"read and admin", func(c *Config) { c.AdminTokens[0].Subject = "district-office" }, `adminTokens[0].subject, readTokens[0].subject: subject "district-office"`},
		{"read and tokens", func(c *Config) {
			c.Tokens = append(c.Tokens, auth.StaticToken{Token: strings.Repeat("z", 40), Role: auth.RoleStaff, Towns: []string{"511702102"}, Subject: "district-office"})
		}, `readTokens[0].subject, tokens[1].subject`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := goodSecrets(t)
			cfg.ReadTokens = append([]NamedToken(nil), cfg.ReadTokens...)
			cfg.AdminTokens = append([]NamedToken(nil), cfg.AdminTokens...)
			tc.mutate(&cfg)
			p := strings.Join(CheckSecrets(cfg), "\n")
			if !strings.Contains(p, tc.want) {
				t.Errorf("%q, want %q", p, tc.want)
			}
		})
	}
	if p := CheckSecrets(goodSecrets(t)); len(p) > 0 {
		t.Errorf("named tokens refused: %q", p)
	}
}
