package opstest

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"onething/gateway/service"
)

// `onething config check` refuses a committed secret however it is
// written, placeholders in disguise and repeated-character values, bad
// portalPushUrl and store URLs, and shows no credential of a URL that
// parses oddly, in its problems or in the masked configuration.
func TestConfigCheckSecretEdges(t *testing.T) {
	bin := build(t)
	sample, err := os.ReadFile(filepath.Join(root, "deploy/onething.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const committed = "whsec_MfKQ9r8GKYqrTAjgPfnvNnRvXgvtdGd6zmoWQpZMHbk=" // docker-compose.yml's, once
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(committed, "whsec_"))
	for _, tc := range []struct {
		name  string
		files map[string]string // secrets/NAME → content
		edit  [2]string         // old → new in onething.yaml
		env   []string
		wants []string
		ok    bool // passes: only its masking is checked
	}{
		{name: "a committed secret over two lines", files: map[string]string{"portal-secret": "whsec_MfKQ9r8GKYqrTAjgPfnv\nNnRvXgvtdGd6zmoWQpZMHbk=\n"},
			wants: []string{"portalSecrets[0]", "committed to this repository"}},
		{name: "a committed secret without padding", files: map[string]string{"cdpf-event-secret": strings.TrimRight(committed, "=")},
			wants: []string{"departments.cdpf.eventSecrets[0]", "committed"}},
		{name: "a committed key in hex", files: map[string]string{"cdpf-secret": hex.EncodeToString(raw)},
			wants: []string{"departments.cdpf.secret", "committed"}},
		{name: "a committed data key with whitespace", files: map[string]string{"data-key-1": "MfKQ9r8GKYqrTAjg Pfnv\nNnRvXgvtdGd6zmoWQpZMHbk="},
			wants: []string{"dataProtection.keys[0]", "committed"}},
		{name: "a full-width placeholder", files: map[string]string{"admin-token": "ＲＥＰＬＡＣＥ-ＷＩＴＨ-ＡＮ-ＡＤＭＩＮ-ＴＯＫＥＮ-ＰＬＥＡＳＥ"},
			wants: []string{"adminTokens[0].token", "placeholder (REPLACE)"}},
		{name: "a zero-width placeholder", files: map[string]string{"read-token": "CHANGE\u200b.ME-0123456789abcdef0123456789abcdef"},
			wants: []string{"readTokens[0].token", "placeholder (CHANGE.ME)"}},
		{name: "one character repeated", files: map[string]string{"read-token": strings.Repeat("x", 40)},
			wants: []string{"readTokens[0].token", "repeated"}},
		{name: "an all-zero data key", files: map[string]string{"data-key-1": base64.StdEncoding.EncodeToString(make([]byte, 32))},
			wants: []string{"dataProtection.keys[0]", "repeated"}},
		{name: "portalPushUrl not a URL", edit: [2]string{"portalPushUrl: https://portal.example.gov.cn", "portalPushUrl: notaurl"},
			wants: []string{"portalPushUrl", "not an absolute http"}},
		{name: "portalPushUrl ftp", edit: [2]string{"portalPushUrl: https://portal.example.gov.cn", "portalPushUrl: ftp://x"},
			wants: []string{"portalPushUrl", "not an absolute http"}},
		{name: "portalPushUrl without a scheme", edit: [2]string{"portalPushUrl: https://portal.example.gov.cn", "portalPushUrl: portal.example.gov.cn/push?access_token=SEKRIT"},
			wants: []string{"portalPushUrl", "access_token=***"}},
		{name: "a store URL with a second path segment", env: []string{"ONETHING_STORE=redis://:SEKRIT@redis:6379/x"}, wants: []string{"store: ", "database number"}},
		{name: "a store URL with a trailing space", env: []string{"ONETHING_STORE=redis://:SEKRIT@redis:6379/0 "}, wants: []string{"store: ", "database number"}},
		{name: "a store URL with ?password=", env: []string{"ONETHING_STORE=redis://redis:6379/0?password=SEKRIT"}, wants: []string{"store: ", "password"}},
		{name: "a store URL with one slash", env: []string{"ONETHING_STORE=redis:/:SEKRIT@redis:6379/0"}, wants: []string{"store: "}},
		{name: "a store URL without a scheme", env: []string{"ONETHING_STORE=default:SEKRIT@redis:6379/0"}, wants: []string{"store: "}},
		{name: "a store URL with a fragment", env: []string{"ONETHING_STORE=redis://redis:6379/0#SEKRIT"}, wants: []string{"redis://redis:6379/0#***"}, ok: true},
		{name: "a Sentinel store URL", env: []string{"ONETHING_STORE=redis+sentinel://:SEKRIT@s1:26379,s2:26379,s3:26379/onething/0", "ONETHING_REDIS_MIN_REPLICAS=1"},
			wants: []string{"redis+sentinel://:***@s1:26379,s2:26379,s3:26379/onething/0"}, ok: true},
		{name: "a Sentinel store URL without the master", env: []string{"ONETHING_STORE=redis+sentinel://:SEKRIT@s1:26379,s2:26379"},
			wants: []string{"store: ", "names the master"}},
		{name: "a Sentinel store URL with ?password=", env: []string{"ONETHING_STORE=redis+sentinel://s1:26379/onething?password=SEKRIT"},
			wants: []string{"store: ", "password is part of"}},
		{name: "a negative minReplicas", env: []string{"ONETHING_STORE=redis://redis:6379/0", "ONETHING_REDIS_MIN_REPLICAS=-1"},
			wants: []string{"redis.minReplicas"}},
		{name: "a missing Redis password file", env: []string{"ONETHING_STORE=redis+sentinel://s1:26379/onething", "ONETHING_REDIS_SENTINEL_PASSWORD_FILE=/nonexistent/sentinel-password"},
			wants: []string{"redis.sentinelPasswordFile"}},
		{name: "a department baseUrl without a scheme", edit: [2]string{"baseUrl: https://cdpf.example.gov.cn", "baseUrl: u:SEKRIT@cdpf.example.gov.cn"},
			wants: []string{"departments.cdpf.baseUrl", "***@cdpf.example.gov.cn"}},
		{name: "a department baseUrl of https//", edit: [2]string{"baseUrl: https://cdpf.example.gov.cn", "baseUrl: https//u:SEKRIT@cdpf.example.gov.cn"},
			wants: []string{"departments.cdpf.baseUrl"}},
		{name: "a department baseUrl of https:/", edit: [2]string{"baseUrl: https://cdpf.example.gov.cn", "baseUrl: https:/u:SEKRIT@cdpf.example.gov.cn"},
			wants: []string{"departments.cdpf.baseUrl"}},
		{name: "a path parameter", edit: [2]string{"portalPushUrl: https://portal.example.gov.cn", "portalPushUrl: https://portal.example.gov.cn/push;access_token=SEKRIT#SEKRIT"},
			wants: []string{"portalPushUrl: https://portal.example.gov.cn/push;access_token=***#***"}, ok: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			conf := sample
			if tc.edit[0] != "" {
				if !bytes.Contains(conf, []byte(tc.edit[0])) {
					t.Fatalf("the sample has no %q", tc.edit[0])
				}
				conf = bytes.Replace(conf, []byte(tc.edit[0]), []byte(tc.edit[1]), 1)
			}
			if err := os.WriteFile(filepath.Join(dir, "onething.yaml"), conf, 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := service.InitSecrets(filepath.Join(dir, "secrets"), service.SecretsInitOptions{}); err != nil {
				t.Fatal(err)
			}
			for name, v := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, "secrets", name), []byte(v), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command(bin, "config", "check", filepath.Join(dir, "onething.yaml"))
			cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, tc.env...)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			var exit *exec.ExitError
			switch {
			case tc.ok && err != nil:
				t.Errorf("%v, want exit 0:\n%s", err, out.String())
			case !tc.ok && (!errors.As(err, &exit) || exit.ExitCode() != 1):
				t.Errorf("%v, want exit 1", err)
			}
			for _, w := range tc.wants {
				if !strings.Contains(out.String(), w) {
					t.Errorf("no %q in:\n%s", w, out.String())
				}
			}
			for _, hidden := range []string{"SEKRIT", "MfKQ9r8GKYqr", "ＲＥＰＬＡＣＥ", strings.Repeat("x", 40)} {
				if strings.Contains(out.String(), hidden) {
					t.Errorf("%q shows:\n%s", hidden, out.String())
				}
			}
		})
	}
}
