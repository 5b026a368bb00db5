package opstest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"onething/gateway/service"
)

// `onething config check`, the command operators run, refuses what the
// secret policy refuses (exit status 1), naming the setting and never the
// value, and passes the sample beside a fresh `secrets init`.
func TestConfigCheckRefusesBadSecrets(t *testing.T) {
	bin := build(t)
	sample, err := os.ReadFile(filepath.Join(root, "deploy/onething.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()} // no ONETHING_* of the caller's
	check := func(t *testing.T, dir string, extraEnv ...string) (int, string) {
		t.Helper()
		return runIn(t, bin, "", append(append([]string{}, env...), extraEnv...), "config", "check", filepath.Join(dir, "onething.yaml"))
	}
	setup := func(t *testing.T) string {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "onething.yaml"), sample, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := service.InitSecrets(filepath.Join(dir, "secrets"), service.SecretsInitOptions{}); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	secret := func(dir, name string) string {
		b, err := os.ReadFile(filepath.Join(dir, "secrets", name))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	put := func(dir, name, value string) {
		if err := os.WriteFile(filepath.Join(dir, "secrets", name), []byte(value+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	edit := func(dir, old, new string) {
		path := filepath.Join(dir, "onething.yaml")
		b, err := os.ReadFile(path)
		if err != nil || !bytes.Contains(b, []byte(old)) {
			t.Fatalf("the sample has no %q (%v)", old, err)
		}
		if err := os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("fresh secrets pass", func(t *testing.T) {
		dir := setup(t)
		code, out := check(t, dir)
		if code != 0 {
			t.Fatalf("exit %d:\n%s", code, out)
		} else if strings.Contains(out, secret(dir, "read-token")) || strings.Contains(out, secret(dir, "portal-secret")) {
			t.Errorf("a secret shows:\n%s", out)
		}
		if !strings.Contains(out, "accountsFile: "+filepath.Join(dir, "secrets", service.ConsoleAccountsFile)) {
			t.Errorf("the console is not on with its accounts file:\n%s", out)
		}
	})
	// Read tokens from the environment: a JSON array of {subject, token}.
	t.Run("named read tokens from the environment", func(t *testing.T) {
		dir := setup(t)
		tok := secret(dir, "read-token") + "-env"
		code, out := check(t, dir, `ONETHING_READ_TOKENS=[{"subject":"records-desk","token":"`+tok+`"}]`)
		if code != 0 {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		if !strings.Contains(out, "subject: records-desk") || strings.Contains(out, tok) {
			t.Errorf("the masked configuration should show the subject, not the token:\n%s", out)
		}
	})
	t.Run("the sample as shipped", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "onething.yaml"), sample, 0o644)
		if code, out := check(t, dir); code != 1 {
			t.Errorf("exit %d, want 1:\n%s", code, out)
		}
	})
	for _, tc := range []struct {
		name  string
		bad   func(dir string) string // makes the configuration bad, returns what must not show
		env   []string
		wants []string
	}{
		{"a committed token", func(dir string) string {
			v := "a-read-token-of-some-length-0123" // in the history of gateway/service's tests
			put(dir, "read-token", v)
			return v
		}, nil, []string{"readTokens[0].token", "committed to this repository"}},
		{"a committed webhook secret", func(dir string) string {
			v := "whsec_MfKQ9r8GKYqrTAjgPfnvNnRvXgvtdGd6zmoWQpZMHbk=" // docker-compose.yml's, until it read secrets init's
			put(dir, "cdpf-event-secret", v)
			return v
		}, nil, []string{"departments.cdpf.eventSecrets[0]", "committed"}},
		{"the old sample's placeholder", func(dir string) string {
			v := "REPLACE-WITH-A-LONG-RANDOM-TOKEN"
			put(dir, "admin-token", v)
			return "WITH-A-LONG"
		}, nil, []string{"adminTokens[0].token", "placeholder (REPLACE)"}},
		{"portal and a department", func(dir string) string {
			v := secret(dir, "portal-secret")
			put(dir, "hrss-event-secret", v)
			return v
		}, nil, []string{"departments.hrss.eventSecrets[0], portalSecrets[0]", "same secret"}},
		{"data key and index key", func(dir string) string {
			v := secret(dir, "data-key-1")
			put(dir, "index-key-1", v)
			return v
		}, nil, []string{"dataProtection.indexKeys[0]", "dataProtection.keys[0]", "same secret"}},
		{"a short token", func(dir string) string {
			put(dir, "read-token", "0123456789abcdef")
			return "0123456789abcdef"
		}, nil, []string{"readTokens[0].token", "16 bytes, at least 32"}},
		{"a read token without a subject", func(dir string) string {
			edit(dir, "  - subject: district-office\n    token: ${file:secrets/read-token}\n", "  - ${file:secrets/read-token}\n")
			return secret(dir, "read-token")
		}, nil, []string{"readTokens[0]: 没有 subject", "has no subject", "{subject: district-office, token: …}", "identity-provider JWTs"}},
		{"a read token from the environment without a subject", func(dir string) string { return "plain-read-token-from-env-0123456789" },
			[]string{"ONETHING_READ_TOKENS=plain-read-token-from-env-0123456789"}, []string{"readTokens[0]: 没有 subject", "ONETHING_READ_TOKENS takes a JSON array"}},
		{"two tokens of one subject", func(dir string) string {
			edit(dir, "subject: operators", "subject: district-office")
			return secret(dir, "admin-token")
		}, nil, []string{"adminTokens[0].subject, readTokens[0].subject", `subject "district-office" is used twice`}},
		{"a subject of odd characters", func(dir string) string {
			edit(dir, "subject: operators", "subject: ops team")
			return secret(dir, "admin-token")
		}, nil, []string{"adminTokens[0].subject", "letters, digits, '.', '_' or '-'"}},
		{"a store URL that does not parse", func(string) string { return "sek ret" },
			[]string{"ONETHING_STORE=redis://:sek ret@redis:6379/0"}, []string{"store: ", "redis://***@redis:6379/0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := setup(t)
			hidden := tc.bad(dir)
			code, out := check(t, dir, tc.env...)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			for _, w := range tc.wants {
				if !strings.Contains(out, w) {
					t.Errorf("no %q in:\n%s", w, out)
				}
			}
			if strings.Contains(out, hidden) {
				t.Errorf("the value shows:\n%s", out)
			}
		})
	}
}
