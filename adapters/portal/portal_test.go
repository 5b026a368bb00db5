package portal_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"onething/adapters/client"
	"onething/adapters/portal"
	"onething/contracts"
)

// A push that fails is not retried in place, whatever the transport
// settings say: its job retries it, and the job sends only the newest
// version (a receiver must not get version 1 again after version 3).
func TestAFailedPushIsNotRetriedInPlace(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	key := make([]byte, 32)
	rand.Read(key)
	n, err := portal.New(client.Config{Name: "portal", BaseURL: srv.URL, Retries: 3, RetryWait: time.Millisecond, Timeout: 2 * time.Second},
		"/status", "whsec_"+base64.StdEncoding.EncodeToString(key))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := contracts.Example("status-push.json")
	if err != nil {
		t.Fatal(err)
	}
	var push contracts.StatusPush
	if err := json.Unmarshal(raw, &push); err != nil {
		t.Fatal(err)
	}
	if err := n.Push(context.Background(), &push, "req-1"); err == nil {
		t.Fatal("a 500 from the receiver is not an error")
	}
	if got := calls.Load(); got != 1 {
		t.Errorf("the receiver got the push %d times, want once", got)
	}
}
