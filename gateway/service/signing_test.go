package service

import (
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"onething/adapters/client"
	c "onething/contracts"
)

// A department's "signing" object is read strictly, and a scheme that cannot
// sign as configured stops the gateway at start, naming the department.
func TestDepartmentSigningConfig(t *testing.T) {
	var cfg Config
	ok := `{"departments":{"cdpf":{"baseUrl":"http://x","appKey":"k","secret":"s",
		"signing":{"scheme":"sm3","sm4Key":"0123456789abcdeffedcba9876543210","sm4KeyId":"cdpf-1"}}}}`
	if err := decodeConfig([]byte(ok), &cfg); err != nil {
		t.Fatal(err)
	}
	if s := cfg.Departments[c.DeptCDPF].Signing; s == nil || s.Scheme != "sm3" || s.SM4KeyID != "cdpf-1" {
		t.Errorf("signing read as %+v", s)
	}
	if err := decodeConfig([]byte(`{"departments":{"cdpf":{"baseUrl":"http://x","signing":{"schem":"sm3"}}}}`), &cfg); err == nil {
		t.Error("a misspelt signing field was accepted")
	}

	base := func() Config {
		cfg := Config{DataFile: filepath.Join(t.TempDir(), "onething.db"), BaseURL: "http://127.0.0.1:1",
			PortalPushSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", Departments: map[c.Dept]Dept{}, DataProtection: testProtection()}
		for _, d := range c.Depts {
			cfg.Departments[d] = Dept{BaseURL: "http://127.0.0.1:1", AppKey: "onething", Secret: "a-department-secret-of-32-bytes-or-more"}
		}
		initStore(t, cfg)
		return cfg
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	bad := base()
	civil := bad.Departments[c.DeptCivil]
	civil.Signing = &client.Signing{Scheme: "jwt", SM4Key: "0123456789abcdeffedcba9876543210"}
	bad.Departments[c.DeptCivil] = civil
	if _, err := New(bad, log); err == nil || !strings.Contains(err.Error(), "department civil: signing") {
		t.Errorf("a jwt scheme with an SM4 key: %v", err)
	}

	good := base()
	for d, s := range map[c.Dept]*client.Signing{
		c.DeptCDPF:  {Scheme: "sm3", SM4Key: "0123456789abcdeffedcba9876543210"},
		c.DeptCivil: {Scheme: "jwt", JWTAlg: "HS256"},
		c.DeptHRSS:  {Scheme: "hmac-sha256"},
	} {
		dc := good.Departments[d]
		dc.Signing = s
		good.Departments[d] = dc
	}
	svc, err := New(good, log)
	if err != nil {
		t.Fatal(err)
	}
	svc.Store.Close()
}
