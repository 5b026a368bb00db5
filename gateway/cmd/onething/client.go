package main

// What the client commands (submit, status, deadletters) share: the
// gateway's --url, the HTTP client, and reading an answer.

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// defaultGatewayURL is where `onething dev` serves the gateway.
const defaultGatewayURL = "http://127.0.0.1:8080"

// httpClient makes the client commands' calls: a gateway that stops
// answering fails the command instead of hanging it.
var httpClient = &http.Client{Timeout: time.Minute}

// addURLFlag is the client commands' --url flag; check it with gatewayURL.
func addURLFlag(fs *pflag.FlagSet, u *string) {
	fs.StringVar(u, "url", defaultGatewayURL, "gateway base URL: http://HOST:PORT or https://HOST[/PATH]")
}

// gatewayURL checks a --url value: an absolute http:// or https:// URL
// without query or fragment, returned without its final slash. Anything
// else is a usage error that says what was expected.
func gatewayURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Hostname() != "" && u.RawQuery == "" && u.Fragment == "" && !u.ForceQuery {
		if p := u.Port(); p != "" {
			if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
				return "", usageErrorf("--url 的端口 %q 不在 1-65535 之内 / --url's port %q is not in 1-65535", p, p)
			}
		}
		return strings.TrimRight(raw, "/"), nil
	}
	shown := redactURL(raw)
	if len(shown) > 200 {
		shown = shown[:200] + "…"
	}
	switch {
	case err == nil && (u.RawQuery != "" || u.Fragment != "" || u.ForceQuery):
		return "", usageErrorf("--url %q 不得带查询或片段（? #）/ must have no query or fragment (? #)", shown)
	case raw != "" && !strings.Contains(raw, "://"):
		hint := "http://" + strings.TrimLeft(shown, "/")
		return "", usageErrorf("--url %q 不是 http:// 或 https:// 开头的绝对地址（是否想用 / did you mean --url %s）/ is not an absolute http:// or https:// URL", shown, hint)
	}
	return "", usageErrorf("--url %q 不是 http:// 或 https:// 开头的绝对地址 / is not an absolute http:// or https:// URL", shown)
}

// redactURL hides the user information of a URL (user:password@) that
// may not parse: everything before the last "@" of the authority.
func redactURL(raw string) string {
	rest, scheme := raw, ""
	if i := strings.Index(raw, "://"); i >= 0 {
		scheme, rest = raw[:i+3], raw[i+3:]
	}
	authority, path := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		authority = "xxxxx@" + authority[i+1:]
	}
	// A query or fragment may carry a token (?access_token=…): not shown.
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i+1] + "xxxxx"
	}
	return scheme + authority + path
}

// readAnswer reads a response's body (the caller closes it).
func readAnswer(resp *http.Response) ([]byte, error) {
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("读取应答 / reading the answer (HTTP %d): %w", resp.StatusCode, err)
	}
	return body, nil
}

// indent pretty-prints a JSON answer (anything else as it is).
func indent(b []byte) string {
	var buf bytes.Buffer
	if json.Indent(&buf, b, "", "  ") != nil {
		return string(b)
	}
	return buf.String()
}

// randomHex is n random bytes in hex. crypto/rand.Read does not fail: it
// crashes the program rather than return an error (Go 1.24).
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
