package store

import (
	"bytes"
	"context"
	"errors"
	"onething/contracts/contracttest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	c "onething/contracts"
	"onething/gateway/seal"
	"onething/gateway/store/redistest"
)

func devKeys(t *testing.T) *seal.Keyring {
	t.Helper()
	keys, err := seal.New(seal.DevConfig())
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// memParts applies writes as a backend does (parts.go), for the codec's
// tests.
type memParts struct{ s stored }

func (m *memParts) apply(w recordWrite) {
	m.s.head = w.head
	if w.dropParts {
		m.s.per, m.s.tl = nil, nil
		return
	}
	if w.per != nil {
		m.s.per = w.per
	}
	for i, e := range w.tl {
		for len(m.s.tl) <= w.tlFrom+i {
			m.s.tl = append(m.s.tl, nil)
		}
		m.s.tl[w.tlFrom+i] = e
	}
	for i := w.tlCount; i < w.tlOld && i < len(m.s.tl); i++ {
		m.s.tl[i] = nil
	}
}

// A write stores what changed: an appended entry alone, the personal
// part only when it changed, the whole timeline when an old entry
// changed; every stored state decodes (cached or not) to what was
// written, and the head changes whenever a part does.
func TestPartsWriteWhatChanged(t *testing.T) {
	cd := cachedCodec(t)
	cd.parts = true
	app := richApp("A")
	var m memParts
	var old *prior
	heads := map[string]bool{}
	write := func(what string, a *c.Application) recordWrite {
		t.Helper()
		w, _, err := cd.encodeParts(a, old)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		m.apply(w)
		if heads[string(w.head)] {
			t.Fatalf("%s: a head written before", what)
		}
		heads[string(w.head)] = true
		fresh, _, _, err := cd.decodePartsUncached("A", m.s)
		if err != nil {
			t.Fatalf("%s: decode: %v", what, err)
		}
		if mustJSON(t, fresh) != mustJSON(t, a) {
			t.Fatalf("%s: decodes to\n%s\nwant\n%s", what, mustJSON(t, fresh), mustJSON(t, a))
		}
		got, _, pr, err := cd.decodeParts("A", m.s)
		if err != nil || mustJSON(t, got) != mustJSON(t, a) {
			t.Fatalf("%s: the cached read differs: %v", what, err)
		}
		old = pr
		return w
	}
	w := write("create", app)
	if w.per == nil || w.tlFrom != 0 || len(w.tl) != len(app.Timeline) {
		t.Fatalf("create: per %v, entries from %d: %d", w.per != nil, w.tlFrom, len(w.tl))
	}
	n := len(app.Timeline)

	app = app.Clone()
	app.Version++
	app.Timeline = append(app.Timeline, c.Entry{At: time.Now(), Kind: "state", To: c.TaskApproved, Note: &c.Message{ZH: "通过", EN: "approved"}})
	if w = write("an event", app); w.per != nil || w.tlFrom != n || len(w.tl) != 1 {
		t.Errorf("an event wrote per %v, entries from %d: %d; want the new entry alone", w.per != nil, w.tlFrom, len(w.tl))
	}

	app = app.Clone()
	app.Tasks[0].Result = &c.Result{Note: &c.Message{ZH: "新结果", EN: "new"}}
	if w = write("a decision", app); w.per != nil || len(w.tl) != 0 {
		t.Errorf("a decision wrote per %v, %d entries", w.per != nil, len(w.tl))
	}

	app = app.Clone()
	app.Applicant.Mobile = "13900000000"
	if w = write("a new mobile", app); w.per == nil || len(w.tl) != 0 {
		t.Errorf("a new mobile wrote per %v, %d entries", w.per != nil, len(w.tl))
	}

	app = app.Clone()
	app.Timeline[0].Note = &c.Message{ZH: "改", EN: "changed"}
	if w = write("an old entry changed", app); w.tlFrom != 0 || len(w.tl) != n+1 {
		t.Errorf("an old entry changed: entries from %d: %d; want all", w.tlFrom, len(w.tl))
	}

	app = app.Clone()
	app.Timeline = app.Timeline[:1]
	if w = write("a shorter timeline", app); w.tlCount != 1 || w.tlOld != n+1 {
		t.Errorf("a shorter timeline: count %d, old %d", w.tlCount, w.tlOld)
	}

	app = app.Clone()
	app.Timeline = []c.Entry{}
	write("an empty timeline", app)
	app = app.Clone()
	app.Timeline = nil
	write("no timeline", app)

	app = app.Clone()
	app.Erased = &c.Erasure{At: time.Now(), Kind: c.ErasureRetention}
	w, _, err := cd.encodeParts(app, old)
	if err != nil || !w.dropParts || !isTrace(w.head) {
		t.Errorf("an erasure: drop %v, trace %v, %v", w.dropParts, isTrace(w.head), err)
	}
}

// A part that is not the record's does not open: another application's
// entry, an entry moved to another index, a personal part the head does
// not name.
func TestPartsBoundToTheirPlace(t *testing.T) {
	cd := cachedCodec(t)
	cd.parts = true
	var a, b memParts
	ra, rb := richApp("A"), richApp("B")
	for _, r := range []*c.Application{ra, rb} {
		for len(r.Timeline) < 3 {
			r.Timeline = append(r.Timeline, c.Entry{At: time.Now(), Kind: "milestone", Note: &c.Message{ZH: "第" + r.ID, EN: r.ID}})
		}
	}
	wa, _, _ := cd.encodeParts(ra, nil)
	wb, _, _ := cd.encodeParts(rb, nil)
	a.apply(wa)
	b.apply(wb)
	for name, s := range map[string]stored{
		"B's entry":        {head: a.s.head, per: a.s.per, tl: [][]byte{b.s.tl[0], a.s.tl[1], a.s.tl[2]}},
		"entries swapped":  {head: a.s.head, per: a.s.per, tl: [][]byte{a.s.tl[2], a.s.tl[1], a.s.tl[0]}},
		"B's personal":     {head: a.s.head, per: b.s.per, tl: a.s.tl},
		"a missing entry":  {head: a.s.head, per: a.s.per, tl: a.s.tl[:2]},
		"no personal part": {head: a.s.head, tl: a.s.tl},
	} {
		if _, _, _, err := cd.decodePartsUncached("A", s); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
	if _, _, _, err := cd.decodePartsUncached("A", a.s); err != nil {
		t.Fatal(err)
	}
}

// A record of format 3 (one value) reads; the first write of it, or a
// reseal, writes it in parts; an erasure leaves no part. On both backends.
func TestBoltPartsUpgradeAndErasure(t *testing.T) {
	keys := devKeys(t)
	b, err := OpenBolt(filepath.Join(t.TempDir(), "t.db"), WithKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	partsOfID := func(id string) (per []byte, tl int) {
		b.db.View(func(tx *bolt.Tx) error {
			per = tx.Bucket(bucketPersonal).Get([]byte(id))
			prefix := timelinePrefix(id)
			c := tx.Bucket(bucketTimeline).Cursor()
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				tl++
			}
			return nil
		})
		return per, tl
	}
	head := func(id string) []byte {
		var out []byte
		b.db.View(func(tx *bolt.Tx) error { out = bytes.Clone(tx.Bucket(bucketApps).Get([]byte(id))); return nil })
		return out
	}
	putV3 := func(app *c.Application) {
		v3 := codec{keys: keys, dek: b.codec.dek}
		data, idx, err := v3.encode(app)
		if err != nil {
			t.Fatal(err)
		}
		err = b.db.Update(func(tx *bolt.Tx) error {
			if err := tx.Bucket(bucketIdx).Put(idxKey(idx, app.ID), nil); err != nil {
				return err
			}
			return tx.Bucket(bucketApps).Put([]byte(app.ID), data)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	upgradeAndErase(t, b, putV3, func(id string) (string, int, bool) {
		per, tl := partsOfID(id)
		return string(head(id)), tl, per != nil
	})
}

func TestRedisPartsUpgradeAndErasure(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	keys := devKeys(t)
	r, err := OpenRedis(ctx, srv.URL(), WithKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	putV3 := func(app *c.Application) {
		v3 := codec{keys: keys, dek: r.codec.dek}
		data, idx, err := v3.encode(app)
		if err != nil {
			t.Fatal(err)
		}
		r.rdb.HSet(ctx, r.appKey(app.ID), "doc", data, "rev", 1)
		r.rdb.SAdd(ctx, r.indexKey(idx), app.ID)
	}
	upgradeAndErase(t, r, putV3, func(id string) (string, int, bool) {
		h := r.rdb.HGetAll(ctx, r.appKey(id)).Val()
		tl := 0
		for f := range h {
			if strings.HasPrefix(f, "t:") {
				tl++
			}
		}
		_, per := h["per"]
		return h["doc"], tl, per
	})
}

func upgradeAndErase(t *testing.T, s Store, putV3 func(*c.Application), parts func(id string) (head string, tl int, per bool)) {
	ctx := context.Background()
	a, b := richApp("A"), richApp("B")
	for _, r := range []*c.Application{a, b} {
		r.Timeline = r.Timeline[:1]
		r.Timeline = append(r.Timeline, r.Timeline[0], r.Timeline[0])
	}
	name, note, idn := a.Applicant.Name, a.Timeline[0].Note.ZH, a.Applicant.IDNumber
	putV3(a)
	putV3(b)
	for _, id := range []string{"A", "B"} {
		if head, tl, per := parts(id); !strings.HasPrefix(head, `{"v":3,`) || tl != 0 || per {
			t.Fatalf("%s planted as %.8s…, %d entries, per %v", id, head, tl, per)
		}
		got, err := s.Get(ctx, id)
		if err != nil || got.Applicant.Name != name || len(got.Timeline) != 3 || got.Timeline[0].Note == nil {
			t.Fatalf("a record of format 3: %+v, %v", got, err)
		}
	}
	err := s.Update(ctx, "A", "", func(app *c.Application) ([]Job, error) {
		app.Timeline = append(app.Timeline, c.Entry{At: time.Now(), Kind: "milestone", Note: &c.Message{ZH: "里程碑", EN: "milestone"}})
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if head, tl, per := parts("A"); !strings.HasPrefix(head, `{"v":4,`) || tl != 4 || !per {
		t.Errorf("A after a write: %.8s…, %d entries, per %v; want in parts", head, tl, per)
	}
	st, err := s.(interface {
		Reseal(context.Context) (ResealStats, error)
	}).Reseal(ctx)
	if err != nil || st.Resealed != 1 {
		t.Errorf("reseal: %+v, %v; want B moved to parts", st, err)
	}
	if head, tl, per := parts("B"); !strings.HasPrefix(head, `{"v":4,`) || tl != 3 || !per {
		t.Errorf("B after the reseal: %.8s…, %d entries, per %v; want in parts", head, tl, per)
	}
	for _, id := range []string{"A", "B"} {
		got, err := s.Get(ctx, id)
		if err != nil || got.Applicant.Name != name || got.Timeline[0].Note == nil || got.Timeline[0].Note.ZH != note {
			t.Fatalf("%s in parts: %+v, %v", id, got, err)
		}
		if ids, _ := s.FindByIDNumber(ctx, idn); len(ids) != 2 {
			t.Errorf("FindByIDNumber = %v", ids)
		}
	}
	if _, err := Erase(ctx, s, "A", c.Erasure{At: time.Now(), Kind: c.ErasureRetention}, nil); err != nil {
		t.Fatal(err)
	}
	if head, tl, per := parts("A"); !isTrace([]byte(head)) || tl != 0 || per {
		t.Errorf("A erased: %.8s…, %d entries, per %v; want a trace alone", head, tl, per)
	}
	if got, err := s.Get(ctx, "A"); err != nil || got.Erased == nil {
		t.Errorf("A erased reads %+v, %v", got, err)
	}
}

// A personal part altered behind a running store's back is found at the
// next read, though the head (and so the cache's entry) is unchanged.
func TestPartsAlteredPersonalPartFound(t *testing.T) {
	ctx := context.Background()
	flip := func(blob []byte) []byte {
		out := bytes.Clone(blob)
		i := len(out) - 5
		out[i] ^= 0x01
		return out
	}
	b, r := sealedPair(t)
	for name, tc := range map[string]struct {
		s     Store
		alter func()
	}{
		"bolt": {b, func() {
			b.db.Update(func(tx *bolt.Tx) error {
				pb := tx.Bucket(bucketPersonal)
				return pb.Put([]byte("A"), flip(pb.Get([]byte("A"))))
			})
		}},
		"redis": {r, func() {
			per, _ := r.rdb.HGet(ctx, r.appKey("A"), "per").Bytes()
			r.rdb.HSet(ctx, r.appKey("A"), "per", flip(per))
		}},
	} {
		if _, err := tc.s.Create(ctx, richApp("A"), nil, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := tc.s.Get(ctx, "A"); err != nil {
			t.Fatal(err)
		}
		tc.alter()
		if _, err := tc.s.Get(ctx, "A"); !errors.Is(err, ErrUnreadable) {
			t.Errorf("%s: Get after the personal part was altered: %v, want ErrUnreadable", name, err)
		}
		err := tc.s.Update(ctx, "A", "", func(*c.Application) ([]Job, error) { return nil, nil })
		if !errors.Is(err, ErrUnreadable) {
			t.Errorf("%s: Update after the personal part was altered: %v, want ErrUnreadable", name, err)
		}
	}
}

// The bench's loader (Bulk) writes records in parts that read back whole.
func TestPartsBulk(t *testing.T) {
	ctx := context.Background()
	b, r := sealedPair(t)
	for name, s := range map[string]interface {
		Store
		Bulk(context.Context, []*c.Application) error
	}{"bolt": b, "redis": r} {
		apps := []*c.Application{richApp("A"), richApp("B")}
		if err := s.Bulk(ctx, apps); err != nil {
			t.Fatal(err)
		}
		b.codec.cache.purge() // read what is stored
		r.codec.cache.purge()
		for _, want := range apps {
			got, err := s.Get(ctx, want.ID)
			if err != nil || mustJSON(t, got) != mustJSON(t, want) {
				t.Errorf("%s: %s reads as %v, %v", name, want.ID, got, err)
			}
		}
	}
}

// sealedPair is a bbolt store and a Redis store (its own server), sealed
// under the same dev keys, both closed at the test's end.
func sealedPair(t *testing.T) (*Bolt, *Redis) {
	t.Helper()
	keys := devKeys(t)
	b, err := OpenBolt(filepath.Join(t.TempDir(), "t.db"), WithKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	srv := redistest.Start(t)
	r, err := OpenRedis(context.Background(), srv.URL(), WithKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return b, r
}

// personalEqual answers as reflect.DeepEqual for every field of what
// personalOf returns: a change to any one of them, or a pointer made nil,
// is a difference.
func TestPersonalEqual(t *testing.T) {
	if n := reflect.TypeOf(personal{}).NumField(); n != 9 {
		t.Fatalf("personal has %d fields; personalEqual compares 9: compare the new one", n)
	}
	var app c.Application
	contracttest.Fill(reflect.ValueOf(&app).Elem())
	fresh := func() personal {
		p := personalOf(app.Clone())
		p.Medical = &medicalPersonal{Identity: "x", PremiumPaid: true}
		return p
	}
	if !personalEqual(fresh(), fresh()) {
		t.Fatal("equal personal parts differ")
	}
	var walk func(path string, v reflect.Value, at func(func()))
	walk = func(path string, v reflect.Value, at func(func())) {
		switch v.Kind() {
		case reflect.Struct:
			for i := range v.NumField() {
				walk(path+"."+v.Type().Field(i).Name, v.Field(i), at)
			}
		case reflect.Pointer:
			if v.IsNil() {
				t.Fatalf("%s: left nil", path)
			}
			e := v.Elem() // walked on if made nil, to count the same changes
			at(func() { v.Set(reflect.Zero(v.Type())) })
			walk(path, e, at)
		case reflect.Map, reflect.Slice:
			if !v.IsNil() {
				t.Fatalf("%s: personalOf does not set it", path)
			}
		case reflect.String:
			at(func() { v.SetString(v.String() + "x") })
		case reflect.Int, reflect.Int64:
			at(func() { v.SetInt(v.Int() + 1) })
		case reflect.Bool:
			at(func() { v.SetBool(!v.Bool()) })
		default:
			t.Fatalf("%s: a %s, which the test does not change", path, v.Kind())
		}
	}
	changes := 0
	for i := 0; ; i++ {
		q, j, made := fresh(), 0, false
		walk("personal", reflect.ValueOf(&q).Elem(), func(change func()) {
			if j == i {
				change()
				made = true
			}
			j++
		})
		if !made {
			break
		}
		p := fresh()
		if got, want := personalEqual(p, q), reflect.DeepEqual(p, q); got || want {
			t.Errorf("change %d: personalEqual %v, reflect.DeepEqual %v; want both false", i, got, want)
		}
		changes++
	}
	if changes < 25 {
		t.Fatalf("only %d changes tried", changes)
	}
}
