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
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"unicode"
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
// whsec_ prefix, with whitespace anywhere in it (a value split over two
// lines), and as the bytes it decodes to, so the same key in base64 with
// or without its = padding, in URL-safe base64 or in hex is the same
// value.
func Committed(v string) bool {
	for _, d := range digests(v) {
		if committed[d] {
			return true
		}
	}
	return false
}

// digests are the SHA-256 digests a value is listed and looked up by in
// committed.txt: of the value without whitespace, without and with the
// whsec_ prefix, and of the bytes it decodes to from base64 (any of the
// four alphabets, padded or not) or hex, when they are 8 bytes or more.
func digests(v string) []string {
	v = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, v)
	bare := strings.TrimPrefix(v, WebhookPrefix)
	if bare == "" {
		return nil
	}
	out := []string{Digest(v), Digest(bare), Digest(WebhookPrefix + bare)}
	seen := map[string]bool{}
	for _, raw := range decodings(bare) {
		if d := Digest(string(raw)); !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}

// decodings are the byte strings of 8 bytes or more a value decodes to
// from base64 (standard or URL alphabet, padded or not) or hex.
func decodings(v string) [][]byte {
	var out [][]byte
	t := strings.TrimRight(v, "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if raw, err := enc.DecodeString(t); err == nil && len(raw) >= 8 {
			out = append(out, raw)
		}
	}
	if raw, err := hex.DecodeString(v); err == nil && len(raw) >= 8 {
		out = append(out, raw)
	}
	return out
}

// LowEntropy reports a value that is one character repeated
// ("xxxxxxxx…", "0000…") or that decodes to one byte repeated (an
// all-zero key in base64 or hex): not a secret, whatever its length.
func LowEntropy(v string) bool {
	v = strings.TrimPrefix(strings.Join(strings.Fields(Normalize(v)), ""), WebhookPrefix)
	if v == "" {
		return false
	}
	if strings.Count(v, v[:1]) == len(v) {
		return true
	}
	for _, raw := range decodings(v) {
		if bytes.Count(raw, raw[:1]) == len(raw) {
			return true
		}
	}
	return false
}

// Normalize is how a value is read for placeholders: full-width ASCII
// folded to ASCII (Ｒ → R, the ideographic space → a space) and invisible
// format characters (zero-width spaces and joiners, the BOM, soft hyphens)
// taken out.
func Normalize(v string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			return r - 0xFEE0
		case r == 0x3000:
			return ' '
		case unicode.Is(unicode.Cf, r):
			return -1
		}
		return r
	}, v)
}

// placeholders are held anywhere in a value (case does not matter);
// placeholderWords only as a word of their own (between characters that
// are not letters or digits), because random base64 holds "todo" in about
// one value in 25,000 but almost never with a + or / on each side.
var (
	placeholders     = []string{"replace", "example", "placeholder", "…"}
	placeholderWords = []string{"todo", "fixme", "tbd"}
	// change me, change-me, CHANGE.ME, change_me, changeme …
	reChangeMe = regexp.MustCompile(`change[\s._\-]*me`)
)

// Placeholder returns the placeholder a value holds, in upper case
// ("REPLACE", "TODO", "EXAMPLE" …), or "" when it holds none. A value that is the base64 of
// text (the samples' whsec_ of "REPLACE-ME-…") is read as that text too;
// the base64 of random bytes almost never is text.
func Placeholder(v string) string {
	v = Normalize(v)
	if p := placeholderIn(v); p != "" {
		return p
	}
	bare := strings.TrimPrefix(strings.Join(strings.Fields(v), ""), WebhookPrefix)
	if len(bare) >= 8 {
		if raw, err := base64.StdEncoding.DecodeString(bare); err == nil && printable(raw) {
			return placeholderIn(string(raw))
		}
	}
	return ""
}

func placeholderIn(v string) string {
	lower := strings.ToLower(v)
	if m := reChangeMe.FindString(lower); m != "" {
		return strings.ToUpper(m)
	}
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
		if v := draw(); Placeholder(v) == "" && !Committed(v) && !LowEntropy(v) {
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
// https://***@host); the values of query and path parameters whose name
// says they hold a credential (access_token, token, key, secret,
// password, sig …; ?name=value, &name=value, ;name=value) replaced by
// ***; and the fragment entirely (#***). A value that is not a well-formed
// URL (no scheme, one slash, a password holding @, # or a space, host and
// password without a scheme …) has everything from its start, or from
// after its first //, to its last @ redacted, since where its credentials
// end cannot be known. A value with none of @ ? # ; is returned as it is.
func RedactURL(s string) string {
	if !strings.ContainsAny(s, "@?#;") {
		return s
	}
	if u, err := url.Parse(s); err == nil && u.Scheme != "" && u.Opaque == "" && strings.HasPrefix(s, u.Scheme+"://") &&
		strings.Count(s, "@") == boolInt(u.User != nil) && !strings.ContainsAny(u.Host, " ") {
		var b strings.Builder
		b.WriteString(u.Scheme)
		b.WriteString("://")
		if u.User != nil {
			if _, has := u.User.Password(); has && u.User.Username() != "" {
				b.WriteString(url.User(u.User.Username()).String())
				b.WriteString(":***@")
			} else if has {
				b.WriteString(":***@")
			} else {
				b.WriteString("***@")
			}
		}
		b.WriteString(u.Host)
		b.WriteString(redactParams(u.EscapedPath(), ";"))
		if u.ForceQuery || u.RawQuery != "" {
			b.WriteString("?")
			b.WriteString(redactParams(u.RawQuery, ""))
		}
		if strings.Contains(s, "#") {
			b.WriteString("#***")
		}
		return b.String()
	}
	head, rest := "", s
	if at := strings.LastIndex(s, "@"); at >= 0 {
		start := 0
		if i := strings.Index(s, "//"); i >= 0 && i < at {
			start = i + 2
		}
		head, rest = s[:start]+"***", s[at:]
	}
	frag := ""
	if i := strings.Index(rest, "#"); i >= 0 {
		rest, frag = rest[:i], "#***"
	}
	query, hasQuery := "", false
	if i := strings.Index(rest, "?"); i >= 0 {
		rest, query, hasQuery = rest[:i], rest[i+1:], true
	}
	out := head + redactParams(rest, ";")
	if hasQuery {
		out += "?" + redactParams(query, "")
	}
	return out + frag
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// redactParams redacts the values of the credential parameters of a
// query (name=value pairs between & or ;), keeping the rest as written.
// With lead ";" it is a path: only the ;name=value parameters after a
// segment count, each up to the next / or ;.
func redactParams(q, lead string) string {
	var b strings.Builder
	for i := 0; i < len(q); {
		// One parameter: from i to the next separator.
		seps := "&;"
		if lead != "" {
			seps = ";/"
		}
		j := strings.IndexAny(q[i:], seps)
		if j < 0 {
			j = len(q)
		} else {
			j += i
		}
		p := q[i:j]
		param := lead == "" || (i > 0 && q[i-1] == ';')
		if name, _, has := strings.Cut(p, "="); param && has {
			if n, err := url.QueryUnescape(name); err == nil {
				name = n
			}
			if CredentialParam(name) {
				p = p[:strings.Index(p, "=")+1] + "***"
			}
		}
		b.WriteString(p)
		if j < len(q) {
			b.WriteByte(q[j])
		}
		i = j + 1
	}
	return b.String()
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
