package contracts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// HeaderTraceparent carries the W3C Trace Context (traceparent) on every
// call the gateway makes, next to X-Request-Id.
const HeaderTraceparent = "traceparent"

// TraceContext is a W3C trace context: the trace, the calling span, flags.
type TraceContext struct {
	TraceID [16]byte
	SpanID  [8]byte
	Flags   byte
}

// String is the traceparent header value: 00-TRACEID-SPANID-FLAGS.
func (t TraceContext) String() string {
	var b [55]byte
	copy(b[:], "00-")
	hex.Encode(b[3:35], t.TraceID[:])
	b[35] = '-'
	hex.Encode(b[36:52], t.SpanID[:])
	b[52] = '-'
	hex.Encode(b[53:55], []byte{t.Flags})
	return string(b[:])
}

// TraceIDString is the trace id in hex (for logs).
func (t TraceContext) TraceIDString() string { return hex.EncodeToString(t.TraceID[:]) }

// ParseTraceparent reads a traceparent header; ok is false for anything
// the W3C recommendation says to ignore (bad length, upper-case or non-hex
// digits, an all-zero trace or span id, version ff). A later version's
// header is read by its first four fields.
func ParseTraceparent(s string) (t TraceContext, ok bool) {
	s = strings.TrimSpace(s)
	if len(s) < 55 || (len(s) > 55 && (s[:2] == "00" || s[55] != '-')) || s[2] != '-' || s[35] != '-' || s[52] != '-' {
		return t, false
	}
	if !lowerHex(s[:2]) || s[:2] == "ff" || !lowerHex(s[3:35]) || !lowerHex(s[36:52]) || !lowerHex(s[53:55]) {
		return t, false
	}
	var flags [1]byte
	hex.Decode(t.TraceID[:], []byte(s[3:35]))
	hex.Decode(t.SpanID[:], []byte(s[36:52]))
	hex.Decode(flags[:], []byte(s[53:55]))
	t.Flags = flags[0]
	if t.TraceID == [16]byte{} || t.SpanID == [8]byte{} {
		return TraceContext{}, false
	}
	return t, true
}

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !('0' <= s[i] && s[i] <= '9' || 'a' <= s[i] && s[i] <= 'f') {
			return false
		}
	}
	return true
}

// NewTrace starts a trace: random ids, sampled.
func NewTrace() TraceContext {
	var t TraceContext
	rand.Read(t.TraceID[:])
	rand.Read(t.SpanID[:])
	t.Flags = 1
	return t
}

// TraceForID is the trace of everything done for one application: its
// trace id is derived from the application id (SHA-256, first 16 bytes),
// so every department call and status push made for it, by any worker of
// any replica and across restarts, shares one trace id without storing
// one. The span id is fresh.
func TraceForID(id string) TraceContext {
	sum := sha256.Sum256([]byte("onething/trace/" + id))
	var t TraceContext
	copy(t.TraceID[:], sum[:16])
	rand.Read(t.SpanID[:])
	t.Flags = 1
	return t
}

// Child is a new span of the same trace (the id an outgoing call sends as
// its parent-id).
func (t TraceContext) Child() TraceContext {
	rand.Read(t.SpanID[:])
	return t
}

type traceKey struct{}

// WithTrace carries a trace context in ctx (to every outbound call made
// with it).
func WithTrace(ctx context.Context, t TraceContext) context.Context {
	return context.WithValue(ctx, traceKey{}, t)
}

// TraceFrom returns the trace context ctx carries.
func TraceFrom(ctx context.Context) (TraceContext, bool) {
	t, ok := ctx.Value(traceKey{}).(TraceContext)
	return t, ok
}
