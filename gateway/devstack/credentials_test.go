package devstack

import "testing"

// A receiver URL for --portal-url becomes the gateway's portalPushUrl and
// portalPushPath; anything not an absolute http(s) URL is refused.
func TestReceiverURL(t *testing.T) {
	for raw, want := range map[string][2]string{
		"http://127.0.0.1:9000/hooks/onething":     {"http://127.0.0.1:9000", "/hooks/onething"},
		"https://portal.example.cn":                {"https://portal.example.cn", "/"},
		"http://localhost:9000/in?team=portal&x=1": {"http://localhost:9000", "/in?team=portal&x=1"},
		"http://localhost:9000/a%20b":              {"http://localhost:9000", "/a%20b"},
		"http://[::1]:65535/in":                    {"http://[::1]:65535", "/in"},
	} {
		base, path, err := ReceiverURL(raw)
		if err != nil || base != want[0] || path != want[1] {
			t.Errorf("ReceiverURL(%q) = %q, %q, %v; want %q, %q", raw, base, path, err, want[0], want[1])
		}
	}
	for _, raw := range []string{"", "/hooks", "127.0.0.1:9000/hooks", "ftp://host/x", "http://", "http:host/x",
		"http://host/x#frag", "http://host/x#", "http://127.0.0.1:/x", "http://u@host/x", "mailto:a@b",
		"http://127.0.0.1:99999/x", "http://127.0.0.1:0/x", "http://127.0.0.1:65536", "http://:9000/x", "http://[::1]:70000/"} {
		if _, _, err := ReceiverURL(raw); err == nil {
			t.Errorf("ReceiverURL(%q) accepted", raw)
		}
	}
}
