package service

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"onething/adapters/client"
	c "onething/contracts"
	"onething/gateway/auth"
	"onething/gateway/seal"
	"onething/gateway/secrets"
)

// goodSecrets is a configuration with a fresh secret of the right size in
// every secret setting.
func goodSecrets(t *testing.T) Config {
	t.Helper()
	cfg := Config{Listen: "127.0.0.1:0", BaseURL: "http://127.0.0.1:8080", DataFile: filepath.Join(t.TempDir(), "x.db"),
		PortalSecrets: []string{secrets.WebhookSecret()}, PortalPushURL: "http://127.0.0.1:8085", PortalPushSecret: secrets.WebhookSecret(),
		ReadTokens:     []NamedToken{{Subject: "district-office", Token: secrets.Token()}},
		AdminTokens:    []NamedToken{{Subject: "operators", Token: secrets.Token()}},
		Tokens:         []auth.StaticToken{{Token: secrets.Token(), Role: auth.RoleStaff, Towns: []string{"511702102"}, Subject: "luojiang-window"}},
		JWT:            &JWTConfig{Issuer: "https://idp", Audience: "onething", HS256Secrets: []string{secrets.Token()}},
		Console:        &ConsoleConfig{SessionKey: secrets.Token()},
		DataProtection: testProtection(), Departments: map[c.Dept]Dept{}}
	for _, d := range c.Depts {
		cfg.Departments[d] = Dept{BaseURL: "http://127.0.0.1:9/" + string(d), AppKey: "onething-" + string(d), Secret: secrets.Token(),
			EventSecrets: []string{secrets.WebhookSecret()}}
	}
	cdpf := cfg.Departments[c.DeptCDPF]
	cdpf.Signing = &client.Signing{Scheme: c.SchemeSM3, SM4Key: hex.EncodeToString(randomBytes(16)), SM4KeyID: "cdpf-1"}
	cfg.Departments[c.DeptCDPF] = cdpf
	return cfg
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func dept(cfg *Config, d c.Dept, f func(*Dept)) {
	dc := cfg.Departments[d]
	f(&dc)
	cfg.Departments[d] = dc
}

// Each kind of bad secret is refused, naming the setting and never the value.
func TestCheckSecretsRefuses(t *testing.T) {
	good := goodSecrets(t)
	if p := CheckSecrets(good); len(p) > 0 {
		t.Fatalf("good secrets refused: %q", p)
	}
	noConsole := good
	noConsole.Console = nil
	if p, _ := Check(noConsole); len(p) > 0 {
		t.Fatalf("config check of good secrets: %q", p)
	}
	keyFile := filepath.Join(t.TempDir(), "k")
	committedPortal := "whsec_MfKQ9r8GKYqrTAjgPfnvNnRvXgvtdGd6zmoWQpZMHbk=" // docker-compose.yml's, long public
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   []string // in one problem: the setting(s) and the reason
		value  string   // must not show
	}{
		{"placeholder token", func(c *Config) { c.ReadTokens[0].Token = "REPLACE-WITH-A-LONG-RANDOM-TOKEN-0123456789" },
			[]string{"readTokens[0].token", "placeholder (REPLACE)"}, "REPLACE-WITH-A-LONG-RANDOM-TOKEN-0123456789"},
		{"placeholder TODO", func(c *Config) {
			dept(c, c2("hrss"), func(d *Dept) { d.Secret = "todo: ask hrss for the real one 0123456789" })
		},
			[]string{"departments.hrss.secret", "TODO"}, "ask hrss"},
		{"placeholder example", func(c *Config) { c.AdminTokens[0].Token = "an-Example-admin-token-0123456789abcdef" },
			[]string{"adminTokens[0].token", "EXAMPLE"}, "admin-token-0123"},
		{"placeholder change-me", func(c *Config) { c.JWT.HS256Secrets[0] = "CHANGE-ME-0123456789abcdef0123456789" },
			[]string{"jwt.hs256Secrets[0]", "CHANGE-ME"}, "0123456789abcdef0123"},
		{"placeholder in base64", func(c *Config) {
			c.PortalPushSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("REPLACE-ME-REPLACE-ME-REPLACE-ME"))
		}, []string{"portalPushSecret", "placeholder"}, "whsec_UkVQ"},
		{"committed", func(c *Config) { c.PortalSecrets[0] = committedPortal },
			[]string{"portalSecrets[0]", "committed to this repository"}, committedPortal},
		{"committed token", func(c *Config) { c.ReadTokens[0].Token = "a-read-token-of-some-length-0123" },
			[]string{"readTokens[0].token", "committed"}, "a-read-token"},
		{"committed sm4 key", func(c *Config) {
			dept(c, c2("cdpf"), func(d *Dept) { d.Signing.SM4Key = "0123456789abcdeffedcba9876543210" })
		}, []string{"departments.cdpf.signing.sm4Key", "committed"}, "0123456789abcdef"},
		{"portal intake and push", func(c *Config) { c.PortalPushSecret = c.PortalSecrets[0] },
			[]string{"portalPushSecret, portalSecrets[0]", "same secret", "portal intake", "portal push"}, ""},
		{"portal and a department", func(c *Config) {
			dept(c, c2("civil"), func(d *Dept) { d.EventSecrets = []string{c.PortalSecrets[0]} })
		}, []string{"departments.civil.eventSecrets[0], portalSecrets[0]", "same secret"}, ""},
		{"two departments", func(c *Config) {
			s := c.Departments[c2("cdpf")].Secret
			dept(c, c2("medical"), func(d *Dept) { d.Secret = s })
		}, []string{"departments.cdpf.secret, departments.medical.secret", "same secret"}, ""},
		{"a department's requests and events", func(c *Config) {
			dept(c, c2("hrss"), func(d *Dept) { d.Secret = d.EventSecrets[0] })
		}, []string{"departments.hrss.eventSecrets[0], departments.hrss.secret", "same secret"}, ""},
		{"data key and index key", func(c *Config) { c.DataProtection.IndexKeys[0].Key = c.DataProtection.Keys[0].Key },
			[]string{"dataProtection.indexKeys[0].key (id devidx1), dataProtection.keys[0].key (id dev1)", "same secret", "data keys", "index keys"}, ""},
		{"data key and a webhook secret's key", func(c *Config) { c.PortalSecrets[0] = "whsec_" + c.DataProtection.Keys[0].Key },
			[]string{"dataProtection.keys[0].key (id dev1), portalSecrets[0]", "same secret"}, ""},
		{"read and admin tokens", func(c *Config) {
			c.AdminTokens = append(c.AdminTokens, NamedToken{Subject: "night-shift", Token: c.ReadTokens[0].Token})
		},
			[]string{"adminTokens[1].token, readTokens[0].token", "same secret"}, ""},
		{"a token and a webhook secret", func(c *Config) { c.Tokens[0].Token = c.PortalPushSecret },
			[]string{"portalPushSecret, tokens[0].token", "same secret", "token of luojiang-window"}, ""},
		{"short token", func(c *Config) { c.ReadTokens[0].Token = hex.EncodeToString(randomBytes(15)) },
			[]string{"readTokens[0].token", "30 bytes, at least 32"}, ""},
		{"short static token", func(c *Config) { c.Tokens[0].Token = hex.EncodeToString(randomBytes(13)) },
			[]string{"tokens[0].token", "26 bytes, at least 32"}, ""},
		{"short appKey secret", func(c *Config) {
			dept(c, c2("civil"), func(d *Dept) { d.Secret = hex.EncodeToString(randomBytes(12)) })
		},
			[]string{"departments.civil.secret", "24 bytes"}, ""},
		{"no appKey secret", func(c *Config) { dept(c, c2("civil"), func(d *Dept) { d.Secret = "" }) },
			[]string{"departments.civil.secret", "required"}, ""},
		{"short session key", func(c *Config) { c.Console.SessionKey = hex.EncodeToString(randomBytes(8)) },
			[]string{"console.sessionKey", "16 bytes"}, ""},
		{"short webhook secret", func(c *Config) { c.PortalSecrets[0] = "whsec_" + base64.StdEncoding.EncodeToString(randomBytes(16)) },
			[]string{"portalSecrets[0]", "decodes to 16 bytes", "minimum is 24"}, ""},
		{"not a webhook secret", func(c *Config) {
			dept(c, c2("cdpf"), func(d *Dept) { d.EventSecrets[0] = "whsec_not!base64!at!all!0123456789" })
		},
			[]string{"departments.cdpf.eventSecrets[0]", "not whsec_<base64>"}, "not!base64"},
		{"aes key of 16 bytes", func(c *Config) { c.DataProtection.Keys[0].Key = base64.StdEncoding.EncodeToString(randomBytes(16)) },
			[]string{"dataProtection.keys[0].key (id dev1)", "aes-256-gcm key is 32 bytes, this one 16"}, ""},
		{"sm4 key of 32 bytes", func(c *Config) { c.DataProtection.Keys[0].Algorithm = seal.SM4GCM },
			[]string{"dataProtection.keys[0].key (id dev1)", "sm4-gcm key is 16 bytes, this one 32"}, ""},
		{"short index key", func(c *Config) {
			os.WriteFile(keyFile, []byte(base64.StdEncoding.EncodeToString(randomBytes(16))+"\n"), 0o600)
			c.DataProtection.IndexKeys[0] = seal.KeySpec{ID: "devidx1", Algorithm: seal.HMACSM3, KeyFile: keyFile}
		}, []string{"dataProtection.indexKeys[0].keyFile " + keyFile + " (id devidx1)", "index key of 16 bytes"}, ""},
		{"sm4 signing key of 15 bytes", func(c *Config) {
			dept(c, c2("cdpf"), func(d *Dept) { d.Signing.SM4Key = hex.EncodeToString(randomBytes(15)) })
		}, []string{"departments.cdpf.signing.sm4Key", "SM4 key is 16 bytes"}, ""},
		{"store password placeholder", func(c *Config) { c.Store = "redis://:REPLACE-redis-password@redis:6379/0" },
			[]string{"store (password)", "placeholder"}, "redis-password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := goodSecrets(t)
			tc.mutate(&cfg)
			problems := CheckSecrets(cfg)
			all, _ := Check(cfg)
			found := false
			for _, p := range problems {
				ok := true
				for _, w := range tc.want {
					ok = ok && strings.Contains(p, w)
				}
				found = found || ok
				if tc.value != "" && strings.Contains(p, tc.value) {
					t.Errorf("the problem shows the value: %s", p)
				}
				if !strings.ContainsFunc(p, func(r rune) bool { return r >= 0x4e00 && r <= 0x9fff }) {
					t.Errorf("no Chinese in %s", p)
				}
			}
			if !found {
				t.Errorf("no problem with %q in %q", tc.want, problems)
			}
			joined := strings.Join(all, "\n")
			for _, p := range problems {
				if !strings.Contains(joined, p) {
					t.Errorf("config check does not report %s", p)
				}
			}
		})
	}
}

func c2(name string) c.Dept { return c.Dept(name) }
