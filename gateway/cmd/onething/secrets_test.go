package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"onething/gateway/secrets"
	"onething/gateway/service"
)

// `secrets init` beside a copy of the sample configuration gives one that
// `config check` passes as it is; every file is 0600; a second init
// refuses to overwrite; no value reaches the output.
func TestSecretsInitMakesTheSampleRun(t *testing.T) {
	dir := t.TempDir()
	sample, err := os.ReadFile("../../../deploy/onething.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "onething.yaml")
	if err := os.WriteFile(cfg, sample, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := onething(t, nil, "config", "check", cfg, "--quiet"); r.code != 1 {
		t.Fatalf("the sample without its secrets passed config check:\n%s", r)
	}
	r := onething(t, nil, "secrets", "init", filepath.Join(dir, "secrets"))
	if r.code != 0 {
		t.Fatalf("secrets init:\n%s", r)
	}
	for _, f := range service.SecretFiles() {
		p := filepath.Join(dir, "secrets", f.Name)
		st, err := os.Stat(p)
		if err != nil {
			t.Fatalf("%s not written: %v", f.Name, err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f.Name, st.Mode().Perm())
		}
		v, _ := os.ReadFile(p)
		if s := strings.TrimSpace(string(v)); s != "" && (strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s)) {
			t.Errorf("secrets init printed the value of %s", f.Name)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "secrets", service.SecretsManifest)); err != nil {
		t.Errorf("no Kubernetes Secret manifest: %v", err)
	}
	if r := onething(t, nil, "config", "check", cfg, "--quiet"); r.code != 0 {
		t.Fatalf("the sample beside secrets init does not pass config check:\n%s", r)
	}
	if r := onething(t, nil, "secrets", "init", filepath.Join(dir, "secrets")); r.code != 1 {
		t.Errorf("a second secrets init over existing files should fail (exit 1):\n%s", r)
	}
	if r := onething(t, nil, "secrets", "init", "--keep", filepath.Join(dir, "secrets")); r.code != 0 {
		t.Errorf("secrets init --keep over a complete set should do nothing and succeed:\n%s", r)
	}
	if r := onething(t, nil, "secrets", "init", "--keep", "--force", filepath.Join(dir, "secrets")); r.code != 2 {
		t.Errorf("--keep with --force is a usage error:\n%s", r)
	}
	if r := onething(t, nil, "secrets", "init"); r.code != 2 {
		t.Errorf("secrets init without DIR is a usage error:\n%s", r)
	}
}

// serve refuses what config check refuses: the secret read from a sample
// ever committed (here: a token shared with another principal and a
// committed webhook secret), before it opens a store or a port.
func TestServeRefusesBadSecrets(t *testing.T) {
	cfg, _ := sampleWithSecrets(t)
	dir := filepath.Dir(cfg)
	admin, err := os.ReadFile(filepath.Join(dir, "secrets", "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	named := func(name, token string) string {
		return name + `=[{"subject":"district-office","token":"` + token + `"}]`
	}
	cases := map[string][]string{
		// The old sample's portal secret, committed to this repository.
		"committed":   {"ONETHING_PORTAL_SECRETS=whsec_UkVQTEFDRS1NRS1SRVBMQUNFLU1FLVJFUExBQ0UtTUU="},
		"placeholder": {named("ONETHING_READ_TOKENS", "REPLACE-WITH-A-LONG-RANDOM-TOKEN-0123456789abcdef")},
		"shared":      {named("ONETHING_READ_TOKENS", strings.TrimSpace(string(admin)))},
		"short":       {"ONETHING_DEPARTMENTS_CDPF_SECRET=short-secret"},
	}
	for name, env := range cases {
		t.Run(name, func(t *testing.T) {
			env := append(env, "ONETHING_LISTEN=127.0.0.1:0", "ONETHING_DATA_FILE="+filepath.Join(t.TempDir(), "onething.db"))
			r := onething(t, env, "serve", "--config", cfg, "--log-format", "text")
			if r.code != 1 {
				t.Fatalf("serve ran (or failed for another reason) with a %s secret:\n%s", name, r)
			}
			if !strings.Contains(r.stderr, "secrets are refused") {
				t.Errorf("serve's refusal does not say why:\n%s", r)
			}
			value := env[0][strings.Index(env[0], "=")+1:]
			if v, ok := strings.CutPrefix(value, `[{"subject":"district-office","token":"`); ok {
				value = strings.TrimSuffix(v, `"}]`)
			}
			if strings.Contains(r.stdout+r.stderr, value) {
				t.Errorf("serve printed the refused value")
			}
		})
	}
}

// serve refuses a read or admin token without a subject (the plain string
// of the configuration before subjects), in the file or from the
// environment, saying how to name it, before it opens a store or a port.
func TestServeRefusesTokensWithoutSubject(t *testing.T) {
	dir := t.TempDir()
	sample, err := os.ReadFile("../../../deploy/onething.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	named := "  - subject: district-office\n    token: ${file:secrets/read-token}\n"
	if !bytes.Contains(sample, []byte(named)) {
		t.Fatalf("the sample's read token is not %q", named)
	}
	plain := bytes.Replace(sample, []byte(named), []byte("  - ${file:secrets/read-token}\n"), 1)
	if r := onething(t, nil, "secrets", "init", filepath.Join(dir, "secrets")); r.code != 0 {
		t.Fatalf("secrets init:\n%s", r)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	namedCfg, plainCfg := write("named.yaml", sample), write("plain.yaml", plain)
	read, err := os.ReadFile(filepath.Join(dir, "secrets", "read-token"))
	if err != nil {
		t.Fatal(err)
	}
	if r := onething(t, nil, "config", "check", namedCfg); r.code != 0 {
		t.Fatalf("config check of the sample with named tokens:\n%s", r)
	}
	r := onething(t, nil, "config", "check", plainCfg)
	if r.code != 1 {
		t.Fatalf("config check passed a read token without subject:\n%s", r)
	}
	for _, w := range []string{"readTokens[0]: 没有 subject", "{subject: district-office, token: …}", "identity-provider JWTs"} {
		if !strings.Contains(r.stdout+r.stderr, w) {
			t.Errorf("config check does not say %q:\n%s", w, r)
		}
	}
	for name, tc := range map[string]struct {
		cfg, env, want string
	}{
		"in the file":          {plainCfg, "", "readTokens[0]: 没有 subject"},
		"from the environment": {namedCfg, "ONETHING_ADMIN_TOKENS=" + secrets.Token(), "adminTokens[0]: 没有 subject"},
	} {
		t.Run(name, func(t *testing.T) {
			env := []string{"ONETHING_LISTEN=127.0.0.1:0", "ONETHING_DATA_FILE=" + filepath.Join(t.TempDir(), "onething.db")}
			if tc.env != "" {
				env = append(env, tc.env)
			}
			r := onething(t, env, "serve", "--config", tc.cfg, "--log-format", "text")
			if r.code != 1 {
				t.Fatalf("serve ran (or failed for another reason) with a token without subject:\n%s", r)
			}
			for _, w := range []string{tc.want, "has no subject", "identity-provider JWTs"} {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("serve's refusal does not say %q:\n%s", w, r)
				}
			}
			if strings.Contains(r.stdout+r.stderr, strings.TrimSpace(string(read))) {
				t.Error("serve printed the token")
			}
		})
	}
}
