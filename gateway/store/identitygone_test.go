package store_test

import (
	"context"
	"strings"
	"testing"

	c "onething/contracts"
	"onething/gateway/store"
	"onething/gateway/store/redistest"
	"onething/gateway/store/storetest"
)

// After a FLUSHALL under a running gateway /readyz turned 503 but
// submissions still got 202 and were written into a store with no
// identity. The writing scripts check the identity: nothing is written.
func TestRedisWritesRefusedWhenTheIdentityIsGone(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	url := srv.URL()
	if _, err := store.InitRedis(ctx, url); err != nil {
		t.Fatal(err)
	}
	s, err := store.OpenRedis(ctx, url, store.Strict())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Create(ctx, storetest.PersonalApp("01JIDENTITYGONE00000000001", "110101199003077777", "ref-1"), []string{"ref:1"}, nil); err != nil {
		t.Fatal(err)
	}
	doc := s.Client().HGet(ctx, s.AppKey("01JIDENTITYGONE00000000001"), "doc").Val()
	if err := srv.Client().FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	_, err = s.Create(ctx, storetest.PersonalApp("01JIDENTITYGONE00000000002", "110101199003077777", "ref-2"), []string{"ref:2"},
		[]store.Job{{ID: "push:01JIDENTITYGONE00000000002:1", Kind: store.JobPush, AppID: "01JIDENTITYGONE00000000002"}})
	if err == nil || !strings.Contains(err.Error(), "identity") {
		t.Errorf("a creation after the store's identity went: %v, want a refusal", err)
	}
	if n, _ := srv.Client().DBSize(ctx).Result(); n != 0 {
		t.Errorf("the refused creation wrote %d keys", n)
	}
	if err := s.Ping(ctx); err == nil {
		t.Error("Ping (readiness) does not see the identity gone")
	}
	// An application put back behind the store's back (another store in
	// its place): its update is refused too.
	s.Client().HSet(ctx, s.AppKey("01JIDENTITYGONE00000000001"), "doc", doc, "rev", 1)
	err = s.Update(ctx, "01JIDENTITYGONE00000000001", "", func(*c.Application) ([]store.Job, error) { return nil, nil })
	if err == nil || !strings.Contains(err.Error(), "identity") {
		t.Errorf("an update after the store's identity went: %v, want a refusal", err)
	}
}
