package secrets

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

func TestPlaceholder(t *testing.T) {
	for v, want := range map[string]string{
		"REPLACE-WITH-A-LONG-RANDOM-TOKEN":                 "REPLACE",
		"whsec_REPLACE_WITH_THE_PORTAL_SECRET":             "REPLACE",
		"please-Change-Me-now-0123456789abcdef":            "CHANGE-ME",
		"changeme0123456789abcdef0123456789":               "CHANGEME",
		"TODO":                                             "TODO",
		"todo-put-the-token-here-0123456789":               "TODO",
		"an-Example-token-0123456789abcdef0123":            "EXAMPLE",
		"<32 hex digits>":                                  "<…>",
		"whsec_…":                                          "…",
		"whsec_" + b64("REPLACE-ME-REPLACE-ME-REPLACE-ME"): "REPLACE", // the base64 of text is read as text
		b64("a data key that says TODO in it!"):            "TODO",
		"FIXME":                                            "FIXME",
		// Not placeholders: "todo" inside a word, random values.
		"mytodolist-is-a-fine-value-0123":       "",
		"0123456789abcdef0123456789abcdef":      "",
		"whsec_MfKQ9r8GKYqrTAjgPfnvNnRvXgvtdGd": "",
	} {
		if got := Placeholder(v); got != want {
			t.Errorf("Placeholder(%q) = %q, want %q", v, got, want)
		}
	}
	// Random secrets never hold one (a whole run of draws).
	for range 2000 {
		for _, v := range []string{Token(), WebhookSecret(), Key(32), Key(16)} {
			if p := Placeholder(v); p != "" {
				t.Fatalf("a random secret holds %q", p)
			}
		}
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestRandomSecrets(t *testing.T) {
	tok, wh, k := Token(), WebhookSecret(), Key(16)
	if len(tok) != 64 || strings.Trim(tok, "0123456789abcdef") != "" {
		t.Errorf("token %d characters", len(tok))
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(wh, WebhookPrefix))
	if !strings.HasPrefix(wh, WebhookPrefix) || err != nil || len(raw) != 32 {
		t.Errorf("webhook secret: %v, %d bytes", err, len(raw))
	}
	if raw, err := base64.StdEncoding.DecodeString(k); err != nil || len(raw) != 16 {
		t.Errorf("key: %v, %d bytes", err, len(raw))
	}
	if Token() == tok || WebhookSecret() == wh {
		t.Error("two draws alike")
	}
}

func TestCommitted(t *testing.T) {
	// The samples' old values, as they were in deploy/ (the file holds
	// only their digests; these are long public).
	for _, v := range []string{
		"whsec_UkVQTEFDRS1NRS1SRVBMQUNFLU1FLVJFUExBQ0UtTUU=",
		"UkVQTEFDRS1NRS1SRVBMQUNFLU1FLVJFUExBQ0UtTUU=", // the same without the prefix: the samples' data and index key
		"REPLACE-WITH-A-LONG-RANDOM-TOKEN",
		"whsec_MfKQ9r8GKYqrTAjgPfnvNnRvXgvtdGd6zmoWQpZMHbk=",
		"compose-read-token-0123456789\n", // as a file holds it
		"0123456789abcdeffedcba9876543210",
	} {
		if !Committed(v) {
			t.Errorf("%q is not listed", v)
		}
	}
	for _, v := range []string{Token(), WebhookSecret(), "", "whsec_"} {
		if Committed(v) {
			t.Errorf("%q is listed", v)
		}
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"redis://:hunter2@redis:6379/0":                       "redis://:***@redis:6379/0",
		"redis://default:hunter2@redis:6379/0?prefix=ot":      "redis://default:***@redis:6379/0?prefix=ot",
		"https://s3cr3t-token@cdpf.example.gov.cn/api":        "https://***@cdpf.example.gov.cn/api",
		"https://user:pa%20ss@cdpf.example.gov.cn":            "https://user:***@cdpf.example.gov.cn",
		"https://cdpf.example/api?access_token=abc&page=2":    "https://cdpf.example/api?access_token=***&page=2",
		"https://x/y?token=a&key=b&secret=c&password=d&sig=e": "https://x/y?token=***&key=***&secret=***&password=***&sig=***",
		"https://x/y?X-Amz-Signature=abc&api_key=k&db=0":      "https://x/y?X-Amz-Signature=***&api_key=***&db=0",
		"https://x/cb#access_token=abc&state=s":               "https://x/cb#***",
		"redis://redis:6379/0?dedupe_ttl=24h":                 "redis://redis:6379/0?dedupe_ttl=24h",
		// Unparseable: everything before the last @ goes.
		"redis://:pa ss@redis:6379/0":   "redis://***@redis:6379/0",
		"redis://:pa#ss@redis:6379/0":   "redis://***@redis:6379/0",
		"redis://:p%zz@redis:6379/0":    "redis://***@redis:6379/0",
		"redis://u:a@b@c d/0?token=x y": "redis://***@c d/0?token=***",
		// Not URLs, or no credentials: as they are.
		"0.0.0.0:8080":                    "0.0.0.0:8080",
		"https://onething.example.gov.cn": "https://onething.example.gov.cn",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseURL(t *testing.T) {
	for raw, parts := range map[string][]string{
		"redis://:sek r3t@host:6379/0":    {"sek", "r3t"},
		"redis://:qz%zzqj@host":           {"qz", "qj"},
		"redis://:sek#r3t@host:6379/0":    {"sek", "r3t"},
		"redis://qzuser:sek/r3t@host/0":   {"sek", "r3t"},
		"redis://qzuser:sek?r3t@host/0":   {"sek", "r3t"},
		"redis://:sek\x01r3t@host:6379/0": {"sek", "r3t"},
	} {
		_, err := ParseURL(raw)
		if err == nil {
			t.Errorf("%q parsed", raw)
			continue
		}
		msg := err.Error()
		for _, part := range parts {
			if strings.Contains(msg, part) {
				t.Errorf("%q: the error shows %q: %s", raw, part, msg)
			}
		}
		if !strings.Contains(msg, "host") {
			t.Errorf("%q: the error should show the rest of the URL: %s", raw, msg)
		}
	}
	if u, err := ParseURL("redis://:pw@host:6379/0"); err != nil || u.Host != "host:6379" {
		t.Errorf("a good URL: %v %v", u, err)
	}
}

// URLs that parse oddly or not at all show nothing of their credentials.
func TestRedactOddURLs(t *testing.T) {
	for in, want := range map[string]string{
		"redis:/:SEKRIT@redis:6379/0":                           "***@redis:6379/0",
		"default:SEKRIT@redis:6379/0":                           "***@redis:6379/0",
		"redis//:SEKRIT@redis:6379/0":                           "redis//***@redis:6379/0",
		"u:SEKRIT@cdpf.example.gov.cn":                          "***@cdpf.example.gov.cn",
		"https//u:SEKRIT@cdpf.example.gov.cn/api":               "https//***@cdpf.example.gov.cn/api",
		"https:/u:SEKRIT@cdpf.example.gov.cn/api":               "***@cdpf.example.gov.cn/api",
		"portal.example.gov.cn/push?access_token=SEKRIT&a=b":    "portal.example.gov.cn/push?access_token=***&a=b",
		"redis://redis:6379/0#SEKRIT":                           "redis://redis:6379/0#***",
		"https://portal.example/push;access_token=SEKRIT/x?y=1": "https://portal.example/push;access_token=***/x?y=1",
		"portal.example/push;jsessionid=SEKRIT;v=1":             "portal.example/push;jsessionid=***;v=1",
		"https://portal.example/push?a=1;token=SEKRIT":          "https://portal.example/push?a=1;token=***",
		"https://u:p@x@portal.example/#SEKRIT":                  "https://***@portal.example/#***",
	} {
		got := RedactURL(in)
		if got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
		if strings.Contains(got, "SEKRIT") {
			t.Errorf("RedactURL(%q) shows the secret: %q", in, got)
		}
	}
}

// A committed value is recognised however it is written: split over
// lines, without its padding, in hex, with whitespace around and inside.
func TestCommittedForms(t *testing.T) {
	const v = "whsec_MfKQ9r8GKYqrTAjgPfnvNnRvXgvtdGd6zmoWQpZMHbk=" // deploy/docker-compose.yml's, once
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(v, WebhookPrefix))
	if err != nil {
		t.Fatal(err)
	}
	for _, form := range []string{
		v,
		"whsec_MfKQ9r8GKYqrTAjgPfnv\nNnRvXgvtdGd6zmoWQpZMHbk=\n",
		strings.TrimRight(v, "="),
		strings.TrimPrefix(strings.TrimRight(v, "="), WebhookPrefix),
		hex.EncodeToString(raw),
		strings.ToUpper(hex.EncodeToString(raw)),
		base64.RawURLEncoding.EncodeToString(raw),
		"  " + v[:20] + " \t" + v[20:] + "\r\n",
		v[:10] + "\u200b" + v[10:],
	} {
		if !Committed(form) {
			t.Errorf("Committed(%q) = false", form)
		}
	}
	if Committed(Key(32)) || Committed(WebhookSecret()) {
		t.Error("a fresh value is committed")
	}
}

func TestPlaceholderEdges(t *testing.T) {
	for _, v := range []string{"change me please 0123456789abcdef", "CHANGE.ME-0123456789abcdef0123", "Change_Me", "change  me",
		"ＲＥＰＬＡＣＥ-ＷＩＴＨ-Ａ-ＴＯＫＥＮ-0123456789abcdef", "REP\u200bLACE-with-a-token-0123456789", "TO\u200dDO", "ＴＯＤＯ", "<ｓｅｃｒｅｔ>"} {
		if Placeholder(v) == "" {
			t.Errorf("Placeholder(%q) = \"\"", v)
		}
	}
	for _, v := range []string{strings.Repeat("a", 40), strings.Repeat("0", 32), base64.StdEncoding.EncodeToString(make([]byte, 32)),
		"whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 32)), hex.EncodeToString(make([]byte, 16)),
		base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, 16))} {
		if !LowEntropy(v) {
			t.Errorf("LowEntropy(%q) = false", v)
		}
	}
	for _, v := range []string{Token(), WebhookSecret(), Key(16), Key(32), "aab"} {
		if LowEntropy(v) {
			t.Errorf("LowEntropy(%q) = true", v)
		}
	}
}
