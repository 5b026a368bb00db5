package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	c "onething/contracts"
)

// TestOpenAPIDocumentsServed: the integrators' OpenAPI documents come from
// the gateway as embedded, without a credential, cacheable with an ETag
// that revalidates; nothing else under /openapi/ is reachable.
func TestOpenAPIDocumentsServed(t *testing.T) {
	f := newFixture(t)
	get := func(client *http.Client, path string, header ...string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}

	for _, name := range []string{"gateway", "dept-cdpf", "dept-civil", "dept-hrss", "dept-medical", "portal-receiver"} {
		want, err := c.SpecYAML(name)
		if err != nil {
			t.Fatal(err)
		}
		resp, body := get(f.http, "/openapi/"+name+".yaml")
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, want) {
			t.Errorf("%s: %d, %d bytes; want 200 and the embedded %d bytes", name, resp.StatusCode, len(body), len(want))
			continue
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/yaml; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", name, ct)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=3600" {
			t.Errorf("%s: Cache-Control %q, want the documents' exception to no-store", name, cc)
		}
		etag := resp.Header.Get("ETag")
		if etag == "" {
			t.Errorf("%s: no ETag", name)
			continue
		}
		if again, body := get(f.http, "/openapi/"+name+".yaml", "If-None-Match", etag); again.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Errorf("%s with If-None-Match of its ETag: %d, %d bytes; want 304, empty", name, again.StatusCode, len(body))
		}
		if stale, _ := get(f.http, "/openapi/"+name+".yaml", "If-None-Match", `"stale"`); stale.StatusCode != http.StatusOK {
			t.Errorf("%s with a stale If-None-Match: %d, want 200", name, stale.StatusCode)
		}
	}

	// Unknown names, documents not for integrators, a listing and
	// traversal: the one error shape, not cacheable.
	for _, path := range []string{
		"/openapi/nothing.yaml", "/openapi/gateway", "/openapi/console.yaml", "/openapi/mocks-admin.yaml",
		"/openapi/", "/openapi", "/openapi/../go.mod", "/openapi/..%2Fspec.go", "/openapi/%2e%2e%2fgo.mod",
		"/openapi/gateway.yaml/..",
	} {
		client := http.DefaultClient // some of these are off the contract on purpose
		if path == "/openapi/nothing.yaml" {
			client = f.http
		}
		resp, body := get(client, path)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, resp.StatusCode)
			continue
		}
		var e c.Error
		if err := json.Unmarshal(body, &e); err != nil || e.Code != "not_found" || e.Message == "" || e.MessageEn == "" || e.RequestID == "" {
			t.Errorf("%s: not the error shape: %s", path, body)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control %q on a 404, want no-store", path, cc)
		}
	}
}

// HEAD answers a document's headers without its body, and a path with a
// trailing slash is the JSON 404 with every answer's headers, not a bare
// redirect.
func TestOpenAPIHeadAndNoTrailingSlashRedirect(t *testing.T) {
	f := newFixture(t)
	req, _ := http.NewRequest(http.MethodHead, f.srv.URL+"/openapi/gateway.yaml", nil)
	resp, err := f.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(body) != 0 || resp.Header.Get("ETag") == "" || resp.Header.Get("Cache-Control") != "public, max-age=3600" {
		t.Errorf("HEAD: %d, %d bytes, ETag %q, Cache-Control %q", resp.StatusCode, len(body), resp.Header.Get("ETag"), resp.Header.Get("Cache-Control"))
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/openapi/dept-cdpf.yaml/", "/healthz/", "/v1/portal/submissions/"} {
		method := http.MethodGet
		if path == "/v1/portal/submissions/" {
			method = http.MethodPost
		}
		req, _ := http.NewRequest(method, f.srv.URL+path, nil)
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e c.Error
		err = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || err != nil || e.Code != "not_found" {
			t.Errorf("%s %s: %d %v %+v, want the JSON 404", method, path, resp.StatusCode, err, e)
		}
		if resp.Header.Get("X-Request-Id") == "" || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s %s: headers %v", method, path, resp.Header)
		}
	}
}
