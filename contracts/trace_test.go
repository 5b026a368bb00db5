package contracts

import (
	"context"
	"testing"
)

func TestTraceparent(t *testing.T) {
	const h = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	tc, ok := ParseTraceparent(h)
	if !ok || tc.String() != h || tc.TraceIDString() != "4bf92f3577b34da6a3ce929d0e0e4736" || tc.Flags != 1 {
		t.Fatalf("parse %s: %+v %v", h, tc, ok)
	}
	for _, bad := range []string{
		"", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
		"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
		"0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	} {
		if _, ok := ParseTraceparent(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
	// A later version may add fields after a dash.
	if _, ok := ParseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-later"); !ok {
		t.Error("a later version's header was refused")
	}
	n := NewTrace()
	if p, ok := ParseTraceparent(n.String()); !ok || p != n {
		t.Errorf("new trace %s does not round-trip", n)
	}
	a, b := TraceForID("APP1"), TraceForID("APP1")
	if a.TraceID != b.TraceID || a.SpanID == b.SpanID || TraceForID("APP2").TraceID == a.TraceID {
		t.Error("an application's trace id must be stable and its own, its spans fresh")
	}
	if ch := a.Child(); ch.TraceID != a.TraceID || ch.SpanID == a.SpanID {
		t.Error("child span")
	}
	ctx := WithTrace(context.Background(), a)
	if got, ok := TraceFrom(ctx); !ok || got != a {
		t.Error("context round trip")
	}
	if _, ok := TraceFrom(context.Background()); ok {
		t.Error("empty context has a trace")
	}
}
