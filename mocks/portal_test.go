package mocks

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"onething/adapters/client"
	"onething/adapters/portal"
	"onething/contracts"
	"onething/contracts/contracttest"
)

func newWhsec(t *testing.T) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// VerifyReceived checks a kept push the way an integrator's Standard
// Webhooks library would: the served headers and body, nothing else.
func verifyReceived(secret string, p ReceivedPush) error {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return err
	}
	h := http.Header{}
	for k, v := range p.Headers {
		h.Set(k, v)
	}
	return wh.Verify([]byte(p.Body), h)
}

// The portal mock keeps the last pushes as they arrived and serves them at
// GET /_mock/pushes, newest last: each one's headers and body verify with
// the push secret (and not with another), ?limit= gives the newest few,
// and the reply conforms to mocks-admin.yaml.
func TestPortalServesPushesAsReceived(t *testing.T) {
	pushSecret := newWhsec(t)
	p, err := NewPortal(pushSecret)
	if err != nil {
		t.Fatal(err)
	}
	p.Keep(2)
	receiver := httptest.NewServer(contracttest.New(t, "portal-receiver").Middleware(p.Handler()))
	defer receiver.Close()
	admin := httptest.NewServer(contracttest.New(t, "mocks-admin").Middleware(p.Handler()))
	defer admin.Close()

	raw, err := contracts.Example("status-push.json")
	if err != nil {
		t.Fatal(err)
	}
	var push contracts.StatusPush
	if err := json.Unmarshal(raw, &push); err != nil {
		t.Fatal(err)
	}
	n, err := portal.New(client.Config{Name: "portal", BaseURL: receiver.URL, Retries: -1, Timeout: 2 * time.Second}, PortalPath, pushSecret)
	if err != nil {
		t.Fatal(err)
	}
	for v := int64(1); v <= 3; v++ {
		push.Version = v
		if err := n.Push(context.Background(), &push, "req"); err != nil {
			t.Fatalf("push version %d: %v", v, err)
		}
	}

	get := func(query string) (int, PushesReport) {
		resp, err := http.Get(admin.URL + "/_mock/pushes" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var r PushesReport
		if resp.StatusCode == http.StatusOK {
			if err := json.Unmarshal(body, &r); err != nil {
				t.Fatalf("GET /_mock/pushes%s: %v\n%s", query, err, body)
			}
		}
		return resp.StatusCode, r
	}
	status, all := get("")
	if status != http.StatusOK || all.Received != 3 || len(all.Pushes) != 2 {
		t.Fatalf("GET /_mock/pushes: %d, received %d, kept %d; want 200, 3 and the last 2", status, all.Received, len(all.Pushes))
	}
	// People read the times in China time (+08:00), as the example shows.
	for i, kept := range all.Pushes {
		if _, off := kept.ReceivedAt.Zone(); off != 8*3600 {
			t.Errorf("kept push %d received at %s, want +08:00", i, kept.ReceivedAt.Format(time.RFC3339))
		}
	}
	other := newWhsec(t)
	for i, kept := range all.Pushes {
		var got contracts.StatusPush
		if err := json.Unmarshal([]byte(kept.Body), &got); err != nil || got.Version != int64(i+2) {
			t.Errorf("kept push %d is version %d (%v), want %d: newest last", i, got.Version, err, i+2)
		}
		if err := verifyReceived(pushSecret, kept); err != nil {
			t.Errorf("kept push %d does not verify with the push secret: %v (headers %v)", i, err, kept.Headers)
		}
		if verifyReceived(other, kept) == nil {
			t.Errorf("kept push %d verifies with another secret", i)
		}
		if kept.Headers["webhook-id"] != portal.MessageID(&got) || kept.Headers["content-type"] == "" {
			t.Errorf("kept push %d headers: %v", i, kept.Headers)
		}
	}
	if status, last := get("?limit=1"); status != http.StatusOK || len(last.Pushes) != 1 || last.Pushes[0].Body != all.Pushes[1].Body {
		t.Errorf("?limit=1: %d, %d pushes; want the newest alone", status, len(last.Pushes))
	}
	// Any positive integer of digits is "at most that many", however large;
	// anything else (empty, signed, repeated, zero) is 400 bad_limit.
	for _, q := range []string{"?limit=2", "?limit=3", "?limit=002", "?limit=99999999999999999999", "?limit=9223372036854775807"} {
		if status, r := get(q); status != http.StatusOK || len(r.Pushes) != 2 || r.Pushes[1].Body != all.Pushes[1].Body {
			t.Errorf("%s: %d, %d pushes; want 200 and both kept", q, status, len(r.Pushes))
		}
	}
	for _, bad := range []string{"?limit=0", "?limit=00", "?limit=-1", "?limit=ten", "?limit=", "?limit", "?limit=+2", "?limit=-0",
		"?limit=2&limit=5", "?limit=2&limit=2", "?limit=%202", "?limit=2.0", "?limit=1e3", "?limit=0x2", "?limit=%EF%BC%92"} {
		resp, err := http.Get(admin.URL + "/_mock/pushes" + bad)
		if err != nil {
			t.Fatal(err)
		}
		var e struct{ Code string }
		json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || e.Code != "bad_limit" {
			t.Errorf("%s: %d %q, want 400 bad_limit", bad, resp.StatusCode, e.Code)
		}
	}
}
