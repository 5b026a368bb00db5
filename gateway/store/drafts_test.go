package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"onething/gateway/store"
	"onething/gateway/store/redistest"
	"onething/gateway/store/storetest"
)

func TestBoltDrafts(t *testing.T) {
	keys := storetest.NewKeys()
	storetest.RunDrafts(t, func(t *testing.T) storetest.DraftStore {
		b, err := store.OpenBolt(filepath.Join(t.TempDir(), "drafts.db"), store.WithKeys(keys.Ring(t, "sm4:k1", "|", "sm3:i1")))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		raw := func(owner string) []byte { return store.RawDraft(b, owner) }
		return storetest.DraftStore{Drafts: b, Raw: raw, Going: func(owner string) bool { return raw(owner) == nil }}
	})
}

func TestRedisDrafts(t *testing.T) {
	srv := redistest.Start(t)
	keys := storetest.NewKeys()
	rdb := srv.Client()
	n := 0
	storetest.RunDrafts(t, func(t *testing.T) storetest.DraftStore {
		n++
		prefix := "drafts" + string(rune('a'+n))
		r := openRedis(t, srv.BaseURL()+"?prefix="+prefix, store.WithKeys(keys.Ring(t, "sm4:k1", "|", "sm3:i1")))
		key := func(owner string) string { return prefix + ":draft:" + owner }
		return storetest.DraftStore{Drafts: r,
			Raw: func(owner string) []byte { b, _ := rdb.Get(context.Background(), key(owner)).Bytes(); return b },
			Going: func(owner string) bool {
				ttl, err := rdb.TTL(context.Background(), key(owner)).Result()
				return err == nil && ttl > 0 && ttl <= store.DraftLifetime || ttl == -2*time.Nanosecond
			}}
	})
}
