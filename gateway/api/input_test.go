package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	c "onething/contracts"
)

// Content types, through HTTP.

// TestContentTypeRequired: every JSON-body route answers 415 to a body
// without a Content-Type, of another type or in another charset than
// UTF-8; application/json, with or without charset=utf-8 (any case), is
// taken.
func TestContentTypeRequired(t *testing.T) {
	f := newFixture(t)
	_, body := f.submit("msg_ct", example(t))
	appID := applicationID(t, body)
	queued := f.queued()
	withdrawal := []byte(`{"reason":"不再需要"}`)
	event := []byte(`{"eventId":"e-ct","taskId":"NOPE-1","type":"accepted","occurredAt":"2026-11-29T08:00:00+08:00"}`)
	routes := []struct {
		name  string
		build func(id string, body []byte) *http.Request
		body  []byte
	}{
		{"submission", func(id string, b []byte) *http.Request {
			return signed(t, f.srv.URL+"/v1/portal/submissions", portalSecret, id, time.Now(), b)
		}, example(t)},
		{"supplement", func(id string, b []byte) *http.Request {
			return signed(t, f.srv.URL+"/v1/applications/"+appID+"/supplements", portalSecret, id, time.Now(), b)
		}, []byte(`{"taskId":"NOPE-1","materials":["photos"]}`)},
		{"withdrawal", func(id string, b []byte) *http.Request {
			return signed(t, f.srv.URL+"/v1/applications/NOPE/withdraw", portalSecret, id, time.Now(), b)
		}, withdrawal},
		{"event", func(id string, b []byte) *http.Request {
			return signed(t, f.srv.URL+"/v1/departments/cdpf/events", cdpfSecret, id, time.Now(), b)
		}, event},
		{"guide", func(_ string, b []byte) *http.Request {
			req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/v1/guide", bytes.NewReader(b))
			req.Header.Set("Authorization", "Bearer "+readToken)
			return req
		}, []byte(`{"householdDivision":"511702102"}`)},
		{"search", func(_ string, b []byte) *http.Request {
			req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/v1/applications/search", bytes.NewReader(b))
			req.Header.Set("Authorization", "Bearer "+readToken)
			return req
		}, []byte(`{"idNumber":"51170219850307123X","reason":"窗口核对"}`)},
	}
	refused := []string{"", "text/plain", "application/json; charset=iso-8859-1", "application/json; charset=GBK",
		"application/json; charset=utf-16", "application/x-www-form-urlencoded", "application/jsonx", "json", "text/json"}
	accepted := []string{"application/json", "application/json; charset=utf-8", "Application/JSON; Charset=UTF-8", "application/json;charset=\"utf-8\""}
	n := 0
	for _, r := range routes {
		for _, ct := range refused {
			n++
			req := r.build("ct-"+strings.Repeat("x", n%7)+string(rune('a'+n%26))+time.Now().Format("150405.000000000"), r.body)
			req.Header.Del("Content-Type")
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			status, resp := plainDo(t, req)
			if status != http.StatusUnsupportedMediaType || decodeError(t, resp).Code != "unsupported_media_type" {
				t.Errorf("%s with Content-Type %q: %d %.200s, want 415", r.name, ct, status, resp)
			}
		}
		for _, ct := range accepted {
			n++
			req := r.build("ok-"+string(rune('a'+n%26))+time.Now().Format("150405.000000000"), r.body)
			req.Header.Set("Content-Type", ct)
			status, resp := plainDo(t, req)
			if status == http.StatusUnsupportedMediaType || status == http.StatusBadRequest {
				t.Errorf("%s with Content-Type %q: %d %.200s", r.name, ct, status, resp)
			}
		}
	}
	if f.queued() != queued {
		t.Errorf("%d jobs queued, want the %d of the one submission", f.queued(), queued)
	}
}

func applicationID(t *testing.T, body []byte) string {
	t.Helper()
	var acc c.SubmissionAccepted
	if err := json.Unmarshal(body, &acc); err != nil || acc.ApplicationID == "" {
		t.Fatalf("no application id in %s", body)
	}
	return acc.ApplicationID
}
