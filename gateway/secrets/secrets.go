// Package secrets is what the gateway knows about secret values themselves,
// whatever setting holds them: the placeholders that must never run, the
// digests of every secret ever committed to this repository (public, so
// anyone may sign or read with them), URLs with their credentials redacted,
// and random secrets that pass every one of these checks.
//
// The configuration's policy (which setting holds which kind of secret, how
// long it must be, who may share it) is gateway/service's CheckSecrets.
package secrets

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
)

// WebhookPrefix starts a Standard Webhooks secret: whsec_ and the base64
// of the key.
const WebhookPrefix = "whsec_"

//go:embed committed.txt
var committedText string

// committed is the set of SHA-256 digests (hex) of committed.txt.
var committed = func() map[string]bool {
	set := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(committedText))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		d, _, _ := strings.Cut(line, " ")
		set[d] = true
	}
	return set
}()

// Digest is the SHA-256 of a value, in hex: how committed.txt lists it.
func Digest(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}

// Committed reports whether v is a value that was once committed to this
// repository (a sample, a test, the documentation): with or without its
// whsec_ prefix, and with the whitespace a file adds around it.
func Committed(v string) bool {
	v = strings.TrimSpace(v)
	if v == "" {
		return false
	}
	bare := strings.TrimPrefix(v, WebhookPrefix)
	if bare == "" {
		return false
	}
	for _, form := range []string{v, bare, WebhookPrefix + bare} {
		if committed[Digest(form)] {
			return true
		}
	}
	return false
}

// placeholders are held anywhere in a value (case does not matter);
// placeholderWords only as a word of their own (between characters that
// are not letters or digits), because random base64 holds "todo" in about
// one value in 25,000 but almost never with a + or / on each side.
var (
	placeholders     = []string{"replace", "change-me", "changeme", "change_me", "example", "placeholder", "…"}
	placeholderWords = []string{"todo", "fixme", "tbd"}
)

// Placeholder returns the placeholder a value holds, in upper case
// ("REPLACE", "TODO", "EXAMPLE" …), or "" when it holds none. A value that is the base64 of
// text (the samples' whsec_ of "REPLACE-ME-…") is read as that text too;
// the base64 of random bytes almost never is text.
func Placeholder(v string) string {
	if p := placeholderIn(v); p != "" {
		return p
	}
	bare := strings.TrimPrefix(strings.TrimSpace(v), WebhookPrefix)
	if len(bare) >= 8 {
		if raw, err := base64.StdEncoding.DecodeString(bare); err == nil && printable(raw) {
			return placeholderIn(string(raw))
		}
	}
	return ""
}

func placeholderIn(v string) string {
	lower := strings.ToLower(v)
	for _, p := range placeholders {
		if strings.Contains(lower, p) {
			return strings.ToUpper(p)
		}
	}
	for _, w := range placeholderWords {
		for i := 0; ; {
			j := strings.Index(lower[i:], w)
			if j < 0 {
				break
			}
			j += i
			end := j + len(w)
			if (j == 0 || !alnum(lower[j-1])) && (end == len(lower) || !alnum(lower[end])) {
				return strings.ToUpper(w)
			}
			i = j + 1
		}
	}
	if t := strings.TrimSpace(v); len(t) > 2 && t[0] == '<' && t[len(t)-1] == '>' {
		return "<…>"
	}
	return ""
}

func alnum(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return len(b) > 0
}

// Token is a random opaque token: 32 random bytes in hex (64 characters,
// safe in a header, a URL, a shell and a YAML file).
func Token() string { return fresh(func() string { return hex.EncodeToString(random(32)) }) }

// WebhookSecret is a random Standard Webhooks secret: whsec_ and the
// base64 of 32 random bytes.
func WebhookSecret() string {
	return fresh(func() string { return WebhookPrefix + base64.StdEncoding.EncodeToString(random(32)) })
}

// Key is n random bytes in standard base64, as the data and index keys
// are written.
func Key(n int) string {
	return fresh(func() string { return base64.StdEncoding.EncodeToString(random(n)) })
}

// fresh draws values until one passes Placeholder and Committed (a draw
// fails about once in tens of millions).
func fresh(draw func() string) string {
	for {
		if v := draw(); Placeholder(v) == "" && !Committed(v) {
			return v
		}
	}
}

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// RedactURL returns a URL fit to print: the password of its user
// information (redis://:PASSWORD@host → redis://:***@host), or the whole
// user information when it has no password (https://TOKEN@host →
// https://***@host), and the values of query or fragment parameters whose
// name says they hold a credential (access_token, token, key, secret,
// password, sig …) replaced by ***. A URL that does not parse has
// everything before its last @ redacted, since where its credentials end
// cannot be known. A string that is not a URL is returned as it is.
func RedactURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" {
		if i := strings.LastIndex(rest, "@"); i >= 0 {
			rest = "***" + rest[i:]
		}
		if i := strings.IndexAny(rest, "?#"); i >= 0 {
			rest = rest[:i+1] + redactParams(rest[i+1:])
		}
		return scheme + "://" + rest
	}
	var b strings.Builder
	b.WriteString(u.Scheme)
	b.WriteString("://")
	if u.User != nil {
		if _, has := u.User.Password(); has {
			b.WriteString(url.User(u.User.Username()).String())
			b.WriteString(":***@")
		} else {
			b.WriteString("***@")
		}
	}
	b.WriteString(u.Host)
	b.WriteString(u.EscapedPath())
	if u.ForceQuery || u.RawQuery != "" {
		b.WriteString("?")
		b.WriteString(redactParams(u.RawQuery))
	}
	if u.Fragment != "" {
		b.WriteString("#")
		b.WriteString(redactParams(u.EscapedFragment()))
	}
	return b.String()
}

// redactParams redacts the values of the credential parameters of a
// query (or a fragment of name=value pairs), keeping the rest as written.
func redactParams(q string) string {
	parts := strings.Split(q, "&")
	for i, p := range parts {
		name, _, has := strings.Cut(p, "=")
		if !has {
			continue
		}
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		if CredentialParam(name) {
			parts[i] = p[:strings.Index(p, "=")+1] + "***"
		}
	}
	return strings.Join(parts, "&")
}

// CredentialParam says whether a URL parameter of that name holds a
// credential: access_token, token, key, api_key, secret, password, pwd,
// sig, signature, auth, credential, session, jwt, code …
func CredentialParam(name string) bool {
	n := strings.ToLower(strings.NewReplacer("_", "", "-", "", ".", "").Replace(name))
	for _, w := range []string{"token", "secret", "passw", "pwd", "credential", "signature", "auth", "session", "jwt", "apikey", "privatekey"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	switch n {
	case "pass", "sig", "code", "key", "hmac", "otp":
		return true
	}
	return strings.HasSuffix(n, "key") || strings.HasSuffix(n, "sig")
}

// ParseURL is url.Parse with an error that can be printed: url.Parse's own
// error holds the whole URL, password included, and its reason may quote a
// piece of the password; this one holds the redacted URL and a reason in
// words.
func ParseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err == nil {
		return u, nil
	}
	reason := "malformed"
	var ue *url.Error
	if errors.As(err, &ue) {
		switch msg := ue.Err.Error(); {
		case strings.Contains(msg, "userinfo"):
			reason = "its user or password holds a character that must be percent-encoded (space, #, /, ?, @, % …)"
		case strings.Contains(msg, "escape"):
			reason = "a % not followed by two hex digits (percent-encode a % in a password as %25)"
		case strings.Contains(msg, "port"):
			reason = "what follows the host is not a port (a password holding #, / or ? must be percent-encoded)"
		case strings.Contains(msg, "host"):
			reason = "a character that is not allowed in the host"
		case strings.Contains(msg, "control character"):
			reason = "a control character"
		case strings.Contains(msg, "missing protocol scheme"):
			reason = "no scheme"
		}
	}
	return nil, &URLError{URL: RedactURL(raw), Reason: reason}
}

// URLError is ParseURL's error: the URL redacted and a reason.
type URLError struct{ URL, Reason string }

func (e *URLError) Error() string { return "not a valid URL: " + e.URL + ": " + e.Reason }
