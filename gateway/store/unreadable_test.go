package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	c "onething/contracts"
	"onething/gateway/seal"
	"onething/gateway/store"
	"onething/gateway/store/redistest"
	"onething/gateway/store/storetest"
)

// raw reads and writes a stored record behind the store's back.
type raw struct {
	get func(id string) []byte
	put func(id string, data []byte)
}

// A record whose sealed part no longer opens is a permanent, distinct
// error (ErrUnreadable, not a store outage) on every read path, is listed
// for operators, is skipped by walks, and leaves the list once it opens
// again.
func unreadable(t *testing.T, s store.Store, r raw) {
	ctx := context.Background()
	for _, id := range []string{"A", "B", "C"} {
		if _, err := s.Create(ctx, storetest.PersonalApp(id, storetest.ExampleIDNumber, "ref-"+id), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	good := r.get("B")
	// Flip a character inside B's sealed blob: it no longer decrypts.
	// (A record in parts has the tasks' personal part in its head.)
	i := strings.Index(string(good), `"sealed":"ot1.`) + 40
	if i < 40 {
		i = strings.Index(string(good), `"tp":"ot1.`) + 40
	}
	bad := append([]byte(nil), good...)
	if bad[i] == 'A' {
		bad[i] = 'B'
	} else {
		bad[i] = 'A'
	}
	r.put("B", bad)

	_, err := s.Get(ctx, "B")
	if !errors.Is(err, store.ErrUnreadable) || !errors.Is(err, seal.ErrOpen) || errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get of a record that does not open: %v, want ErrUnreadable", err)
	}
	if strings.Contains(err.Error(), storetest.ExampleName) || strings.Contains(err.Error(), storetest.ExampleIDNumber) {
		t.Errorf("the error shows personal data: %v", err)
	}
	err = s.Update(ctx, "B", "", func(*c.Application) ([]store.Job, error) { return nil, nil })
	if !errors.Is(err, store.ErrUnreadable) {
		t.Errorf("Update: %v, want ErrUnreadable", err)
	}
	// Walks skip it and go on.
	var seen []string
	if err := s.(store.Scanner).Scan(ctx, func(a *c.Application) bool { seen = append(seen, a.ID); return true }); err != nil {
		t.Errorf("Scan stopped at the record: %v", err)
	}
	if strings.Join(seen, ",") != "A,C" && strings.Join(seen, ",") != "C,A" {
		t.Errorf("Scan saw %v, want A and C", seen)
	}
	if _, err := s.Reseal(ctx); err != nil {
		t.Errorf("Reseal stopped at the record: %v", err)
	}
	// Listed for operators.
	l := s.(store.UnreadableLister)
	list, n, err := l.UnreadableRecords(ctx, 0)
	if err != nil || n != 1 || len(list) != 1 || list[0].ApplicationID != "B" || list[0].FirstSeen.IsZero() || list[0].LastSeen.Before(list[0].FirstSeen) {
		t.Fatalf("UnreadableRecords = %+v, %d, %v", list, n, err)
	}
	if !strings.Contains(list[0].Reason, "does not open") {
		t.Errorf("the reason does not say the sealed part does not open: %q", list[0].Reason)
	}
	if cnt, err := l.UnreadableCount(ctx); cnt != 1 || err != nil {
		t.Errorf("UnreadableCount = %d, %v", cnt, err)
	}
	// Restored (the key or the record back): it leaves the list.
	r.put("B", good)
	if list, n, err := l.UnreadableRecords(ctx, 0); err != nil || n != 0 || len(list) != 0 {
		t.Errorf("after the record opens again: %+v, %d, %v", list, n, err)
	}
	if cnt, _ := l.UnreadableCount(ctx); cnt != 0 {
		t.Errorf("UnreadableCount after = %d", cnt)
	}
}

func TestBoltUnreadableRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	keys := storetest.NewKeys().Ring(t, "k1", "|", "i1")
	s, err := store.OpenBolt(path, store.WithKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	unreadable(t, s, raw{
		get: func(id string) []byte { return store.RawRecord(t, s, id) },
		put: func(id string, data []byte) { store.PutRawRecord(t, s, id, data) },
	})
}

func TestRedisUnreadableRecords(t *testing.T) {
	srv := redistest.Start(t)
	keys := storetest.NewKeys().Ring(t, "k1", "|", "i1")
	s := openRedis(t, srv.URL(), store.WithKeys(keys))
	rdb := srv.Client()
	ctx := context.Background()
	unreadable(t, s, raw{
		get: func(id string) []byte { b, _ := rdb.HGet(ctx, s.AppKey(id), "doc").Bytes(); return b },
		put: func(id string, data []byte) { rdb.HSet(ctx, s.AppKey(id), "doc", data) },
	})
}
