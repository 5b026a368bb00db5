package service

import (
	"strings"
	"testing"

	"onething/gateway/secrets"
)

// Store URLs are read as the store reads them; their problems are the
// URL's, apart from CheckSecrets, and show no credential.
func TestCheckStoreURL(t *testing.T) {
	// A password made now: a literal one would be in the committed list,
	// and CheckSecrets would rightly refuse it as such.
	pw := secrets.Token()
	for _, s := range []string{"redis://:" + pw + "@redis:6379/x", "redis://:" + pw + "@redis:6379/0 ", "redis://redis:6379/0?password=" + pw,
		"redis://:" + pw + "@redis:6379/0/1", "redis://:SEK RIT@redis:6379/0"} {
		p := CheckStoreURL(Config{Store: s})
		if len(p) != 1 || strings.Contains(p[0], pw) || strings.Contains(p[0], "SEK RIT") || !strings.HasPrefix(p[0], "store: ") {
			t.Errorf("%q: %q", s, p)
		}
		for _, q := range CheckSecrets(Config{Store: s}) {
			if strings.HasPrefix(q, "store") {
				t.Errorf("%q: CheckSecrets reports the URL: %q", s, q)
			}
		}
	}
	// A URL that does not parse (TestCheckSecretsRefuses had it when
	// CheckSecrets reported it).
	if p := CheckStoreURL(Config{Store: "redis://:sek ret-pass@redis:6379/0"}); len(p) != 1 || strings.Contains(p[0], "sek ret") ||
		!strings.Contains(p[0], "redis://***@redis:6379/0") || !strings.Contains(p[0], "percent-encoded") || !strings.Contains(p[0], "不是") {
		t.Errorf("%q", p)
	}
	for _, s := range []string{"redis://:pw-0123@redis:6379/0", "rediss://redis:6380/2?prefix=ot&dedupe_ttl=24h&pool_size=5", "bolt:///x", ""} {
		if p := CheckStoreURL(Config{Store: s}); len(p) != 0 {
			t.Errorf("%q: %q", s, p)
		}
	}
}

// An all-zero SM4 key is refused, whatever its size says.
func TestAllZeroSM4Key(t *testing.T) {
	var got []string
	checkValue(secretUse{path: "departments.cdpf.signing.sm4Key", kind: kindSM4Hex, value: strings.Repeat("0", 32)},
		func(f string, a ...any) { got = append(got, f) })
	if len(got) != 1 || !strings.Contains(got[0], "repeated") {
		t.Errorf("%q", got)
	}
}
