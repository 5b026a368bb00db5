package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"onething/contracts"
)

// Every outbound call carries a W3C traceparent next to X-Request-Id: a
// new span of the trace the context carries, or of a new trace.
func TestTraceparentOnEveryCall(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	var rids []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get(contracts.HeaderTraceparent))
		rids = append(rids, r.Header.Get(contracts.HeaderRequestID))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"caseNo":"C1","status":"accepted"}`))
	}))
	defer srv.Close()
	cl := newClient(srv.URL, nil)

	trace := contracts.TraceForID("01JAPPLICATION")
	ctx := contracts.WithTrace(context.Background(), trace)
	for i := 0; i < 2; i++ {
		if err := cl.Do(ctx, http.MethodPost, "/x", "k", "rid-1", map[string]int{"a": 1}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.Do(context.Background(), http.MethodGet, "/x", "", "rid-2", nil, nil); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 3 {
		t.Fatalf("%d calls", len(seen))
	}
	var parsed []contracts.TraceContext
	for i, h := range seen {
		tc, ok := contracts.ParseTraceparent(h)
		if !ok {
			t.Fatalf("call %d: traceparent %q is not valid", i, h)
		}
		parsed = append(parsed, tc)
	}
	if parsed[0].TraceID != trace.TraceID || parsed[1].TraceID != trace.TraceID {
		t.Errorf("the context's trace was not propagated: %s, %s want trace %s", seen[0], seen[1], trace.TraceIDString())
	}
	if parsed[0].SpanID == parsed[1].SpanID || parsed[0].SpanID == trace.SpanID {
		t.Errorf("each call should be its own span: %s, %s", seen[0], seen[1])
	}
	if parsed[2].TraceID == trace.TraceID {
		t.Error("a call without a trace in its context reused another trace")
	}
	if rids[0] != "rid-1" || rids[2] != "rid-2" {
		t.Errorf("X-Request-Id not kept: %v", rids)
	}
}
