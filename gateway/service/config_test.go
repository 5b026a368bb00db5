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

	"onething/adapters/client"
	c "onething/contracts"
	"onething/gateway/auth"
	"onething/gateway/console"
	"onething/gateway/seal"
)

// The JSON example and the same settings written as YAML load alike; the
// YAML goes through the same JSON field names and the same strictness.
func TestYAMLAndJSONLoadAlike(t *testing.T) {
	dir := sampleWithSecrets(t, "onething.example.json")
	data, err := os.ReadFile(filepath.Join(dir, "onething.example.json"))
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := LoadConfigBytes(data, dir, []string{})
	if err != nil {
		t.Fatal(err)
	}
	y, err := yaml.JSONToYAML(data)
	if err != nil {
		t.Fatal(err)
	}
	fromYAML, err := LoadConfigBytes(y, dir, []string{})
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
	if !reflect.DeepEqual(cfg.ReadTokens, []NamedToken{{Token: "t1"}, {Token: "t2"}}) || !reflect.DeepEqual(cfg.PortalSecrets, []string{"whsec_one", "whsec_two"}) {
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
		ReadTokens: []NamedToken{{Subject: "district-office", Token: "tok"}}, BaseURL: "https://gw.example",
		PortalPushURL: "https://portal.example/push?access_token=qs-token-1&mode=x",
		Tokens:        []auth.StaticToken{{Token: "static-tok-1", Role: auth.RoleStaff, Towns: []string{"511702102"}, Subject: "luojiang-window"}},
		JWT:           &JWTConfig{Issuer: "https://idp.example", JWKSFile: "/etc/onething/jwks.json", HS256Secrets: []string{"hs-secret-1"}},
		Console:       &ConsoleConfig{SessionKey: "session-key-1", SessionKeyFile: "/run/secrets/session", Accounts: []console.Account{{Username: "clerk", PasswordHash: "$2a$10$hash", Role: "staff"}}},
		DataProtection: &seal.Config{CurrentKey: "data-1", Keys: []seal.KeySpec{{ID: "data-1", Algorithm: seal.SM4GCM, KeyFile: "/run/secrets/data-key-1"},
			{ID: "data-0", Algorithm: seal.AES256GCM, Key: "inline-data-key"}},
			CurrentIndexKey: "index-1", IndexKeys: []seal.KeySpec{{ID: "index-1", Algorithm: seal.HMACSM3, KeyFile: "/run/secrets/index-key-1"}}},
		Departments: map[c.Dept]Dept{
			c.DeptCDPF: {BaseURL: "https://cdpf", AppKey: "onething", Secret: "s3cret", EventSecrets: []string{"whsec_c"},
				Signing: &client.Signing{Scheme: "sm3", SM4Key: "sm4-material", SM4KeyID: "cdpf-2026-01"}},
			c.DeptCivil: {BaseURL: "https://gw-user:url-pass-1@civil.example/api", Signing: &client.Signing{Scheme: "jwt", JWTKeyFile: "/etc/onething/civil.pem", JWTKeyID: "gw-2026-01", JWTKey: "pem-material"}},
			c.DeptHRSS:  {BaseURL: "https://url-token-1@hrss.example/api?key=qs-key-1&page=1"},
		}}
	m, err := Masked(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(m)
	out := string(b)
	for _, secret := range []string{"hunter2", "whsec_a", "whsec_b", "tok\"", "s3cret", "whsec_c", "qs-token-1", "static-tok-1", "hs-secret-1",
		"session-key-1", "$2a$10$hash", "inline-data-key", "sm4-material", "pem-material", "url-pass-1", "url-token-1", "qs-key-1"} {
		if strings.Contains(out, secret) {
			t.Errorf("%s shows in %s", secret, out)
		}
	}
	// Ids, algorithms, files, who a token is for: not secrets, shown.
	for _, shown := range []string{`"appKey":"onething"`, `"baseUrl":"https://gw.example"`, `redis://:***@redis:6379/0`, `"adminTokens":null`,
		`"currentKey":"data-1"`, `"currentIndexKey":"index-1"`, `"id":"data-1"`, `"algorithm":"sm4-gcm"`, `"keyFile":"/run/secrets/data-key-1"`,
		`"keyFile":"/run/secrets/index-key-1"`, `"algorithm":"hmac-sm3"`, `"id":"data-0"`, `"key":"***"`,
		`"sm4KeyId":"cdpf-2026-01"`, `"jwtKeyFile":"/etc/onething/civil.pem"`, `"jwtKeyId":"gw-2026-01"`, `"jwksFile":"/etc/onething/jwks.json"`,
		`"sessionKeyFile":"/run/secrets/session"`, `"username":"clerk"`, `"subject":"luojiang-window"`, `"subject":"district-office"`, `"role":"staff"`, `"towns":["511702102"]`,
		`"token":"***"`, `https://portal.example/push?access_token=***\u0026mode=x`, `https://gw-user:***@civil.example/api`,
		`https://***@hrss.example/api?key=***\u0026page=1`} {
		if !strings.Contains(out, shown) {
			t.Errorf("%s missing from %s", shown, out)
		}
	}
	for name, want := range map[string]bool{"secret": true, "eventSecrets": true, "readTokens": true, "sm4Key": true, "jwtKey": true,
		"hs256Secrets": true, "appKey": false, "jwtKeyFile": false, "jwtKeyId": false, "baseUrl": false, "publicKeys": false, "password": true,
		"currentKey": false, "currentIndexKey": false, "keyFile": false, "sm4KeyId": false, "id": false, "algorithm": false, "sessionKey": true,
		"sessionKeyFile": false, "passwordHash": true, "key": true, "tokens": true} {
		if SecretSetting(name) != want {
			t.Errorf("SecretSetting(%s) = %v", name, !want)
		}
	}
}

// A store URL that does not parse is reported, and printed, without its
// password (url.Parse's own error holds the whole URL).
func TestStoreURLErrorsHideThePassword(t *testing.T) {
	cfg := goodSecrets(t)
	cfg.Console = nil
	for _, store := range []string{"redis://:pa ss-sekrit@redis:6379/0", "redis://:pa#ss-sekrit@redis:6379/0", "redis://:p%zz-sekrit@redis:6379/0", "redis://u:pa/ss-sekrit@redis:6379/0"} {
		cfg.Store = store
		dept(&cfg, c.DeptHRSS, func(d *Dept) { d.BaseURL = strings.Replace(store, "redis://", "https://", 1) })
		problems, _ := Check(cfg)
		joined := strings.Join(problems, "\n")
		if !strings.Contains(joined, "store: ") || !strings.Contains(joined, "departments.hrss.baseUrl") {
			t.Errorf("%s: no store or baseUrl problem in %q", store, problems)
		}
		m, err := Masked(cfg)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(m)
		for _, out := range append(problems, string(b)) {
			if strings.Contains(out, "sekrit") || strings.Contains(out, "pa ss") {
				t.Errorf("%s: the password shows: %s", store, out)
			}
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
	good := goodSecrets(t)
	good.Console, good.JWT, good.Tokens = nil, nil, nil
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

// serve never runs on a fake business clock: no configuration key (nor
// environment variable) sets one.
func TestNoClockInTheConfiguration(t *testing.T) {
	for _, key := range []string{"clock", "Clock", "now", "clockRate"} {
		_, err := LoadConfigBytes([]byte(key+": 2026-12-05T07:43:00+08:00\n"), t.TempDir(), []string{})
		if err == nil {
			t.Errorf("a configuration with %q loaded", key)
		}
	}
	l, err := LoadConfigBytes([]byte("listen: 127.0.0.1:0\n"), t.TempDir(), []string{"ONETHING_CLOCK=2026-12-05T07:43:00+08:00", "ONETHING_NOW=2026-12-05T07:43:00+08:00"})
	if err == nil && l.Config.Clock != nil {
		t.Error("the environment set a business clock")
	}
}

// dataProtection.keyStore: a Redis store without a key store of its own
// is warned about (an erasure does not shred the AOF's copies of a key);
// a key store that does not fit the store is a problem.
func TestCheckKeyStore(t *testing.T) {
	good := goodSecrets(t)
	good.Console, good.JWT, good.Tokens = nil, nil, nil
	dp := *good.DataProtection
	good.DataProtection = &dp
	check := func(storeURL, keyStore string) ([]string, []string) {
		cfg := good
		d := dp
		d.KeyStore = keyStore
		cfg.Store, cfg.DataProtection = storeURL, &d
		return Check(cfg)
	}
	shared := "AOF/RDB"
	if p, w := check("redis://127.0.0.1:6379/0", ""); len(p) != 0 || !strings.Contains(strings.Join(w, "\n"), shared) || !strings.Contains(strings.Join(w, "\n"), "密钥库") {
		t.Errorf("Redis, key store shared: %q, %q; want a warning in Chinese and English", p, w)
	}
	if p, w := check("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6380/0"); len(p) != 0 || strings.Contains(strings.Join(w, "\n"), shared) {
		t.Errorf("Redis, a key store of its own: %q, %q", p, w)
	}
	if p, w := check("", ""); len(p) != 0 || strings.Contains(strings.Join(w, "\n"), shared) {
		t.Errorf("bbolt, the default key store file: %q, %q", p, w)
	}
	for _, tc := range [][2]string{
		{"redis://127.0.0.1:6379/0", "/var/lib/onething/keys.db"},
		{"", "redis://127.0.0.1:6380/0"},
		{"bolt:///var/lib/onething/onething.db", "/var/lib/onething/onething.db"},
	} {
		if p, _ := check(tc[0], tc[1]); !strings.Contains(strings.Join(p, "\n"), "dataProtection.keyStore") {
			t.Errorf("store %q, key store %q: %q, want a problem", tc[0], tc[1], p)
		}
	}
}
