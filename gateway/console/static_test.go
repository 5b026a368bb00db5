package console

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T, client *http.Client, url string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// TestStaticFilesIgnoreRange: the stylesheet is served whole, whatever
// Range asks for (GO-2026-6609: many small ranges cost the server CPU, on a
// path open to anyone). Through the running console, contract-checked.
func TestStaticFilesIgnoreRange(t *testing.T) {
	r := newRig(t)
	want, err := staticFS.ReadFile("static/console.css")
	if err != nil {
		t.Fatal(err)
	}
	var many []string
	for i := 0; i < 1000; i++ {
		many = append(many, fmt.Sprintf("%d-%d", i%len(want), i%len(want)))
	}
	for name, h := range map[string]http.Header{
		"no range":     {},
		"one range":    {"Range": {"bytes=0-9"}},
		"three ranges": {"Range": {"bytes=0-1,5-6,10-20"}}, // multipart/byteranges before
		"many ranges":  {"Range": {"bytes=" + strings.Join(many, ",")}},
		"suffix range": {"Range": {"bytes=-10"}},
		"if-range":     {"Range": {"bytes=0-1,5-6"}, "If-Range": {`"x"`}},
		"bad range":    {"Range": {"bytes=999999-"}},
	} {
		t.Run(name, func(t *testing.T) {
			resp, body := get(t, r.srv.Client(), r.srv.URL+"/console/static/console.css", h)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", resp.StatusCode)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
				t.Errorf("Content-Type %q, want text/css (no multipart/byteranges)", ct)
			}
			if ar := resp.Header.Get("Accept-Ranges"); ar != "none" {
				t.Errorf("Accept-Ranges %q, want none", ar)
			}
			if cr := resp.Header.Get("Content-Range"); cr != "" {
				t.Errorf("Content-Range %q on a whole file", cr)
			}
			if body != string(want) {
				t.Errorf("body of %d bytes, want the whole file of %d", len(body), len(want))
			}
		})
	}
}

// TestStaticFilesStayInside: no path leaves the embedded static directory
// (the templates beside it, or the sources). The console alone, without the
// contract check: these answers are refusals the contract need not list.
func TestStaticFilesStayInside(t *testing.T) {
	k, err := New(Config{SessionKey: []byte(strings.Repeat("k", 32)), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(k)
	t.Cleanup(srv.Close)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	login, err := templateFS.ReadFile("templates/login.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		"/console/static/../templates/login.html",
		"/console/static/%2e%2e/templates/login.html",
		"/console/static/..%2ftemplates%2flogin.html",
		"/console/static/%2e%2e%2ftemplates%2flogin.html",
		"/console/static/..%5ctemplates%5clogin.html",
		"/console/static//../templates/login.html",
		"/console/static/./../templates/login.html",
		"/console/static/../console.go",
		"/console/static/../../console/console.go",
		"/console/static/%2e%2e%2f%2e%2e%2fgo.mod",
		"/console/static/..",
		"/console/static/templates/login.html",
		"/console/static/", // no folder listing
	} {
		resp, body := get(t, client, srv.URL+path, http.Header{"Range": {"bytes=0-1,2-3"}})
		t.Logf("GET %s: %d %s", path, resp.StatusCode, resp.Header.Get("Location"))
		switch {
		case resp.StatusCode == http.StatusOK:
			t.Errorf("GET %s answered 200 (%d bytes)", path, len(body))
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			// The mux cleans the path and redirects to it, out of
			// /console/static/: that is not a file.
			if loc := resp.Header.Get("Location"); strings.HasPrefix(loc, "/console/static/") {
				t.Errorf("GET %s redirects to %s, inside the static files", path, loc)
			}
		}
		if strings.Contains(body, string(login[:min(len(login), 200)])) || strings.Contains(body, "package console") {
			t.Errorf("GET %s answered %d with a file from outside the static directory", path, resp.StatusCode)
		}
	}
}
