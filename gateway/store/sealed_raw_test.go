package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"onething/gateway/store"
	"onething/gateway/store/redistest"
	"onething/gateway/store/storetest"
)

// A sealed blob is bound to its application: copied into another record
// (the whole record, or only its sealed part) it does not open, and the
// other record's reader gets an error, never the first applicant's data.
// The raw records hold none of the personal fields.

var (
	sealedField = regexp.MustCompile(`"sealed":"[^"]*"`)
	psField     = regexp.MustCompile(`"ps":"[^"]*"`)
	tpField     = regexp.MustCompile(`"tp":"[^"]*"`)
)

// swapField returns dst's record with src's field (matched by re) in it.
func swapField(t *testing.T, re *regexp.Regexp, dst, src []byte) []byte {
	t.Helper()
	v := re.Find(src)
	if v == nil || !re.Match(dst) {
		t.Fatalf("no field %s in %s", re, dst)
	}
	return re.ReplaceAllLiteral(dst, v)
}

// swapSealed returns dst's record with src's sealed blob in it, the
// record otherwise byte for byte as the store wrote it.
func swapSealed(t *testing.T, dst, src []byte) []byte {
	t.Helper()
	blob := sealedField.Find(src)
	if blob == nil || !sealedField.Match(dst) {
		t.Fatalf("no sealed field in %s", dst)
	}
	return sealedField.ReplaceAllLiteral(dst, blob)
}

// reordered returns the record with its fields in another order (a record
// the store did not write).
func reordered(t *testing.T, rec []byte) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(rec, &m); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(m)
	return out
}

// checkRaw checks a record's stored bytes: its head (raw; the whole
// record of format 3) and its other parts (format 4: the personal part,
// the timeline's entries) hold no personal data in the clear.
func checkRaw(t *testing.T, raw []byte, parts ...[]byte) {
	t.Helper()
	for _, p := range append([][]byte{raw}, parts...) {
		checkClear(t, p)
	}
	if !strings.Contains(string(raw), `"sealed":"ot1.`) && !(len(parts) > 0 && strings.HasPrefix(string(parts[0]), "ot1.") && strings.Contains(string(raw), `"tp":"ot1.`)) {
		t.Errorf("the raw record is not sealed: %s", raw)
	}
	// The blind index is a short tag: with the index key, a full one in a
	// copy would confirm a guessed ID number.
	if m := indexField.FindSubmatch(raw); m == nil || len(m[1]) != 4 {
		t.Errorf("the raw record's blind index is not a 4-digit tag: %s", raw)
	}
}

func checkClear(t *testing.T, raw []byte) {
	t.Helper()
	for _, s := range []string{storetest.ExampleIDNumber, storetest.ExampleIDNumber[:17], storetest.ExampleName, storetest.ExampleMobile, "龙潭村", "低收入家庭", "右腿受伤", "补交近期免冠照片",
		"迁往成都", "精神残疾二级", "精神科诊断证明", "一件事申请已受理登记"} {
		if strings.Contains(string(raw), s) {
			t.Errorf("the raw record holds %q: %s", s, raw)
		}
	}
	// In the clear they said something about the person after an erasure
	// (a copy of the record outlives the key).
	for _, s := range []string{`"requestedCategory"`, `"gradeBox"`, `"identity":"other"`, `"premiumPaid":true`, `"lastError"`} {
		if strings.Contains(string(raw), s) {
			t.Errorf("the raw record holds %s in the clear: %s", s, raw)
		}
	}
}

var indexField = regexp.MustCompile(`"idx":"[^".]+\.([0-9a-f]+)"`)

func refused(t *testing.T, what string, s store.Store, id string) {
	t.Helper()
	app, err := s.Get(context.Background(), id)
	if err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("%s: Get = %+v, %v; want an error", what, app, err)
	}
	if err != nil && strings.Contains(err.Error(), storetest.ExampleName) {
		t.Errorf("%s: the error shows personal data: %v", what, err)
	}
}

func TestBoltSealedBlobBoundToItsRecord(t *testing.T) {
	ctx := context.Background()
	keys := storetest.NewKeys().Ring(t, "k1", "|", "i1")
	path := filepath.Join(t.TempDir(), "t.db")
	s, err := store.OpenBolt(path, store.WithKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	s.Create(ctx, storetest.PersonalApp("A", storetest.ExampleIDNumber, "ref-A"), nil, nil)
	s.Create(ctx, storetest.PersonalApp("B", "110101199003074514", "ref-B"), nil, nil)
	s.Create(ctx, storetest.PersonalApp("C", "110101199003074514", "ref-C"), nil, nil)
	s.Create(ctx, storetest.PersonalApp("D", "110101199003074514", "ref-D"), nil, nil)
	s.Close()

	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		apps, per, tl := tx.Bucket([]byte("apps")), tx.Bucket([]byte("personal")), tx.Bucket([]byte("timeline"))
		a := append([]byte(nil), apps.Get([]byte("A"))...)
		aPer := append([]byte(nil), per.Get([]byte("A"))...)
		parts := [][]byte{aPer}
		var aTL [][]byte
		tl.ForEach(func(k, v []byte) error {
			if strings.HasPrefix(string(k), "A\x00") {
				parts = append(parts, append([]byte(nil), v...))
				aTL = append(aTL, append([]byte(nil), k[1:]...), append([]byte(nil), v...))
			}
			return nil
		})
		if len(aTL) == 0 {
			t.Error("no timeline entries stored for A")
		}
		checkRaw(t, a, parts...)
		c := append([]byte(nil), apps.Get([]byte("C"))...)
		d := append([]byte(nil), apps.Get([]byte("D"))...)
		// The whole record: head, personal part, timeline.
		if err := apps.Put([]byte("B"), a); err != nil {
			return err
		}
		if err := per.Put([]byte("B"), aPer); err != nil {
			return err
		}
		for i := 0; i < len(aTL); i += 2 {
			if err := tl.Put(append([]byte("B"), aTL[i]...), aTL[i+1]); err != nil {
				return err
			}
		}
		// Only the sealed parts: the personal part (and its tag in the
		// head), the tasks' part.
		if err := per.Put([]byte("C"), aPer); err != nil {
			return err
		}
		if err := apps.Put([]byte("C"), swapField(t, psField, c, a)); err != nil {
			return err
		}
		return apps.Put([]byte("D"), reordered(t, swapField(t, tpField, d, a)))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s, err = store.OpenBolt(path, store.WithKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Get(ctx, "A"); err != nil {
		t.Fatalf("the original: %v", err)
	}
	refused(t, "A's record copied to B", s, "B")
	refused(t, "A's personal part copied into C", s, "C")
	refused(t, "A's tasks' part copied into D, fields reordered", s, "D")
	if got, err := s.Get(ctx, "A"); err != nil || got.Applicant.Name != storetest.ExampleName {
		t.Errorf("A after the meddling: %v", err)
	}
}

func TestRedisSealedBlobBoundToItsRecord(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	keys := storetest.NewKeys().Ring(t, "sm4:k1", "|", "i1")
	s := openRedis(t, srv.URL(), store.WithKeys(keys))
	s.Create(ctx, storetest.PersonalApp("A", storetest.ExampleIDNumber, "ref-A"), nil, nil)
	s.Create(ctx, storetest.PersonalApp("B", "110101199003074514", "ref-B"), nil, nil)
	s.Create(ctx, storetest.PersonalApp("C", "110101199003074514", "ref-C"), nil, nil)
	rdb := srv.Client()
	ah, err := rdb.HGetAll(ctx, s.AppKey("A")).Result()
	if err != nil {
		t.Fatal(err)
	}
	a := []byte(ah["doc"])
	parts := [][]byte{[]byte(ah["per"])}
	for f, v := range ah {
		if strings.HasPrefix(f, "t:") {
			parts = append(parts, []byte(v))
		}
	}
	if len(parts) < 2 {
		t.Errorf("no timeline entries stored for A: %v", ah)
	}
	checkRaw(t, a, parts...)
	c, _ := rdb.HGet(ctx, s.AppKey("C"), "doc").Bytes()
	for f, v := range ah { // the whole record: head, personal part, timeline
		if f != "rev" && f != "op" {
			rdb.HSet(ctx, s.AppKey("B"), f, v)
		}
	}
	// Only the personal part (and its tag in the head).
	rdb.HSet(ctx, s.AppKey("C"), "per", ah["per"], "doc", swapField(t, psField, c, a))
	if _, err := s.Get(ctx, "A"); err != nil {
		t.Fatalf("the original: %v", err)
	}
	refused(t, "A's record copied to B", s, "B")
	refused(t, "A's personal part copied into C", s, "C")
	// The blind index set holds ids, and its name is an HMAC.
	ids, _ := s.FindByIDNumber(ctx, storetest.ExampleIDNumber)
	if len(ids) != 1 || ids[0] != "A" {
		t.Errorf("FindByIDNumber = %v", ids)
	}
	keysFound, _ := rdb.Keys(ctx, "*:idx:*").Result()
	for _, k := range keysFound {
		if strings.Contains(k, storetest.ExampleIDNumber[:17]) || strings.Contains(k, "110101199003074") {
			t.Errorf("index key %s holds the number", k)
		}
	}
}
