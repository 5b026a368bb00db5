package auth_test

import (
	"fmt"
	"testing"
	"time"

	"onething/gateway/auth"
)

func TestReplayCache(t *testing.T) {
	r := auth.NewReplayCache(0, 3)
	a, b := auth.Sum([]byte("a")), auth.Sum([]byte("b"))
	if r.Conflicts("portal|m1", a) {
		t.Error("a new id conflicts")
	}
	r.Remember("portal|m1", a)
	if r.Conflicts("portal|m1", a) {
		t.Error("the same body again conflicts")
	}
	if !r.Conflicts("portal|m1", b) {
		t.Error("another body under the same id does not conflict")
	}
	if r.Conflicts("dept:cdpf|m1", b) {
		t.Error("ids of different senders collide")
	}
	r.Remember("portal|m1", b) // ignored: the first body counts
	if !r.Conflicts("portal|m1", b) {
		t.Error("a later body replaced the first")
	}
	for i := range 5 {
		r.Remember(fmt.Sprint("portal|x", i), a)
	}
	if n := r.Len(); n != 3 {
		t.Errorf("%d ids kept, want the cap of 3", n)
	}
	if r.Conflicts("portal|m1", b) {
		t.Error("the oldest id should have been evicted by the cap")
	}
}

func TestReplayCacheExpires(t *testing.T) {
	r := auth.NewReplayCache(time.Second, 10) // raised to the 5-minute tolerance
	now := time.Now()
	auth.SetReplayClock(r, func() time.Time { return now })
	r.Remember("k", auth.Sum([]byte("a")))
	now = now.Add(4 * time.Minute)
	if !r.Conflicts("k", auth.Sum([]byte("b"))) {
		t.Error("forgot an id within the tolerance")
	}
	now = now.Add(2 * time.Minute)
	if r.Conflicts("k", auth.Sum([]byte("b"))) || r.Len() != 0 {
		t.Error("kept an id past its TTL")
	}
}

func TestRateLimiter(t *testing.T) {
	l := auth.NewRateLimiter(auth.RateLimitConfig{PerSecond: 1, Burst: 3, AnonymousPerSecond: 0.5, AnonymousBurst: 1, MaxKeys: 4})
	now := time.Now()
	auth.SetRateClock(l, func() time.Time { return now })
	for i := range 3 {
		if ok, _ := l.Allow("jwt:a", false); !ok {
			t.Fatalf("request %d within the burst refused", i+1)
		}
	}
	ok, wait := l.Allow("jwt:a", false)
	if ok || wait <= 0 || wait > time.Second {
		t.Errorf("past the burst: %v %v", ok, wait)
	}
	if ok, _ := l.Allow("jwt:b", false); !ok {
		t.Error("another caller was throttled")
	}
	if ok, _ := l.Allow("addr:10.0.0.1", true); !ok {
		t.Error("first anonymous request refused")
	}
	if ok, wait := l.Allow("addr:10.0.0.1", true); ok || wait < time.Second {
		t.Errorf("anonymous past its burst: %v %v", ok, wait)
	}
	now = now.Add(time.Second)
	if ok, _ := l.Allow("jwt:a", false); !ok {
		t.Error("not refilled after a second")
	}
	// Past MaxKeys, callers without a bucket share the overflow bucket.
	l.Allow("jwt:c", false)
	l.Allow("jwt:d", false)
	if ok, _ := l.Allow("jwt:e", false); !ok {
		t.Error("overflow bucket empty at once")
	}
	if ok, _ := l.Allow("jwt:f", false); ok {
		t.Error("the overflow bucket is not shared")
	}
	off := auth.NewRateLimiter(auth.RateLimitConfig{Disabled: true, PerSecond: 1, Burst: 1})
	for range 10 {
		if ok, _ := off.Allow("x", false); !ok {
			t.Fatal("disabled limiter refused")
		}
	}
}
