package service

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	c "onething/contracts"
)

// The JSON example and the same settings written as YAML load alike; the
// YAML goes through the same JSON field names and the same strictness.
func TestYAMLAndJSONLoadAlike(t *testing.T) {
	data, err := os.ReadFile("../../deploy/onething.example.json")
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := LoadConfigBytes(data, "", []string{})
	if err != nil {
		t.Fatal(err)
	}
	y, err := yaml.JSONToYAML(data)
	if err != nil {
		t.Fatal(err)
	}
	fromYAML, err := LoadConfigBytes(y, "", []string{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromJSON.Config, fromYAML.Config) {
		t.Errorf("YAML and JSON differ:\n%+v\n%+v", fromJSON.Config, fromYAML.Config)
	}
	if time.Duration(fromYAML.Config.MaxBackoff) != 5*time.Minute || len(fromYAML.Config.Departments) != 4 {
		t.Errorf("loaded %+v", fromYAML.Config)
	}
	if _, err := LoadConfigBytes([]byte("listen: x\ncolour: red\n"), "", []string{}); err == nil || !strings.Contains(err.Error(), "colour") {
		t.Errorf("an unknown YAML field was accepted: %v", err)
	}
	if _, err := LoadConfigBytes([]byte("baseBackoff: 300000\n"), "", []string{}); err == nil {
		t.Error("a bare number was taken as a duration")
	}
	if _, err := LoadConfigBytes([]byte("- a\n- b\n"), "", []string{}); err == nil {
		t.Error("a list was taken as a configuration")
	}
}

func TestEnvironmentOverridesAndSecretFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("push.secret", "whsec_pushFromFile\n")
	civil := write("civil.secret", "civil-secret\n")
	portal := write("portal.secrets", "whsec_one\nwhsec_two\n")
	doc := `
listen: 127.0.0.1:8080
baseUrl: https://gw.example
workers: 8
portalPushSecret: ${file:push.secret}
departments:
  cdpf: {baseUrl: "https://cdpf.example", timeout: 10s}
  civil: {baseUrl: "https://civil.example"}
`
	env := []string{
		"ONETHING_WORKERS=32",
		"ONETHING_STORE=redis://:pw@redis:6379/0",
		"ONETHING_DATA_FILE=/data/x.db",
		"ONETHING_READ_TOKENS=t1, t2",
		"ONETHING_PORTAL_SECRETS_FILE=" + portal,
		"ONETHING_DEPARTMENTS_CDPF_TIMEOUT=15s",
		"ONETHING_DEPARTMENTS_CIVIL_SECRET_FILE=" + civil,
		"ONETHING_DEPARTMENTS_HRSS_BASE_URL=https://hrss.example",
		"ONETHING_DEPARTMENTS_CDPF_NO_CALLBACK=true",
		"ONETHING_JOB_LEASE=2m",
		"ONETHING_COLOUR=red",
		"ONETHING_LOG_LEVEL=debug",
		"OTHER=1",
	}
	l, err := LoadConfigBytes([]byte(doc), dir, env)
	if err != nil {
		t.Fatal(err)
	}
	cfg := l.Config
	if cfg.Workers != 32 || cfg.Store != "redis://:pw@redis:6379/0" || cfg.DataFile != "/data/x.db" || time.Duration(cfg.JobLease) != 2*time.Minute {
		t.Errorf("scalars: %+v", cfg)
	}
	if !reflect.DeepEqual(cfg.ReadTokens, []string{"t1", "t2"}) || !reflect.DeepEqual(cfg.PortalSecrets, []string{"whsec_one", "whsec_two"}) {
		t.Errorf("lists: %q %q", cfg.ReadTokens, cfg.PortalSecrets)
	}
	if cfg.PortalPushSecret != "whsec_pushFromFile" {
		t.Errorf("${file:} reference: %q", cfg.PortalPushSecret)
	}
	cd, cv, hr := cfg.Departments[c.DeptCDPF], cfg.Departments[c.DeptCivil], cfg.Departments[c.DeptHRSS]
	if time.Duration(cd.Timeout) != 15*time.Second || cd.BaseURL != "https://cdpf.example" || !cd.NoCallback {
		t.Errorf("cdpf: %+v", cd)
	}
	if cv.Secret != "civil-secret" || cv.BaseURL != "https://civil.example" || hr.BaseURL != "https://hrss.example" {
		t.Errorf("civil %+v hrss %+v", cv, hr)
	}
	if len(l.Warnings) != 1 || !strings.Contains(l.Warnings[0], "ONETHING_COLOUR") {
		t.Errorf("warnings %q", l.Warnings)
	}
	if len(l.Overrides) != 10 || len(l.FromFiles) != 1 {
		t.Errorf("overrides %q, from files %q", l.Overrides, l.FromFiles)
	}

	for _, bad := range []string{"ONETHING_WORKERS=many", "ONETHING_PORTAL_PUSH_SECRET_FILE=/nonexistent/x", "ONETHING_DEPARTMENTS=notjson"} {
		if _, err := LoadConfigBytes([]byte(doc), dir, []string{bad}); err == nil {
			t.Errorf("%s was accepted", bad)
		}
	}
	if _, err := LoadConfigBytes([]byte("portalPushSecret: ${file:missing}\n"), dir, []string{}); err == nil {
		t.Error("a missing secret file was accepted")
	}
}

func TestMaskedHidesSecrets(t *testing.T) {
	cfg := Config{Store: "redis://:hunter2@redis:6379/0", PortalSecrets: []string{"whsec_a"}, PortalPushSecret: "whsec_b",
		ReadTokens: []string{"tok"}, BaseURL: "https://gw.example",
		Departments: map[c.Dept]Dept{c.DeptCDPF: {BaseURL: "https://cdpf", AppKey: "onething", Secret: "s3cret", EventSecrets: []string{"whsec_c"}}}}
	m, err := Masked(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(m)
	out := string(b)
	for _, secret := range []string{"hunter2", "whsec_a", "whsec_b", "tok\"", "s3cret", "whsec_c"} {
		if strings.Contains(out, secret) {
			t.Errorf("%s shows in %s", secret, out)
		}
	}
	for _, shown := range []string{`"appKey":"onething"`, `"baseUrl":"https://gw.example"`, `redis://:***@redis:6379/0`, `"adminTokens":null`} {
		if !strings.Contains(out, shown) {
			t.Errorf("%s missing from %s", shown, out)
		}
	}
	for name, want := range map[string]bool{"secret": true, "eventSecrets": true, "readTokens": true, "sm4Key": true, "jwtKey": true,
		"hs256Secrets": true, "appKey": false, "jwtKeyFile": false, "jwtKeyId": false, "baseUrl": false, "publicKeys": false, "password": true} {
		if SecretSetting(name) != want {
			t.Errorf("SecretSetting(%s) = %v", name, !want)
		}
	}
}

func TestSnakeTokens(t *testing.T) {
	for in, want := range map[string]string{"portalPushSecret": "PORTAL_PUSH_SECRET", "baseUrl": "BASE_URL", "sm4KeyId": "SM4_KEY_ID",
		"jwtURL": "JWT_URL", "JWTAlg": "JWT_ALG", "listen": "LISTEN", "hs256Secrets": "HS256_SECRETS"} {
		if got := strings.Join(snakeTokens(in), "_"); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}

func TestCheck(t *testing.T) {
	good := Config{Listen: "127.0.0.1:0", BaseURL: "http://127.0.0.1:8080", DataFile: "/tmp/x.db",
		PortalSecrets: []string{"whsec_MfKQ9r8GKYqrTAjgPfnvNnRvXgvtdGd6zmoWQpZMHbk="}, PortalPushURL: "http://127.0.0.1:8085",
		PortalPushSecret: "whsec_MfKQ9r8GKYqrTAjgPfnvNnRvXgvtdGd6zmoWQpZMHbk=", ReadTokens: []string{"a-read-token-of-some-length-0123"}, Departments: map[c.Dept]Dept{},
		DataProtection: testProtection()}
	for _, d := range c.Depts {
		good.Departments[d] = Dept{BaseURL: "http://127.0.0.1:9/" + string(d), AppKey: "k", Secret: "s",
			EventSecrets: []string{"whsec_MfKQ9r8GKYqrTAjgPfnvNnRvXgvtdGd6zmoWQpZMHbk="}}
	}
	if problems, _ := Check(good); len(problems) != 0 {
		t.Fatalf("a good configuration: %q", problems)
	}
	bad := good
	bad.Listen, bad.Store, bad.PortalSecrets, bad.Workers = "nowhere", "mysql://x", nil, -1
	bad.Departments = map[c.Dept]Dept{c.DeptCDPF: good.Departments[c.DeptCDPF], "police": {BaseURL: "http://x"}}
	problems, _ := Check(bad)
	joined := strings.Join(problems, "\n")
	for _, want := range []string{"listen", "store", "portalSecrets", "workers", "departments.civil.baseUrl", "departments.police"} {
		if !strings.Contains(joined, want) {
			t.Errorf("no problem about %s in:\n%s", want, joined)
		}
	}
	// A secret the assembly refuses (not a webhook secret) is found too.
	worse := good
	worse.PortalPushSecret = "not base64 !!"
	if problems, _ := Check(worse); len(problems) == 0 {
		t.Error("an unusable push secret passed the check")
	}
}
