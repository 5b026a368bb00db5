package store

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	c "onething/contracts"
	"onething/contracts/contracttest"
	"onething/gateway/seal"
)

func cachedCodec(t *testing.T) codec {
	t.Helper()
	keys, err := seal.New(seal.DevConfig())
	if err != nil {
		t.Fatal(err)
	}
	return codec{keys: keys, cache: newRecordCache(1 << 20), dek: newAppKeys(keys, memKeyStore{})}
}

// memKeyStore is a key store in memory (tests of the codec alone).
type memKeyStore map[string]string

func (m memKeyStore) get(_ context.Context, id string) (string, error) {
	if v, ok := m[id]; ok {
		return v, nil
	}
	return "", ErrNotFound
}

func (m memKeyStore) add(_ context.Context, id, w string) (string, error) {
	if v, ok := m[id]; ok {
		return v, nil
	}
	m[id] = w
	return w, nil
}

func (m memKeyStore) swap(_ context.Context, id, old, w string) error {
	if m[id] == old {
		m[id] = w
	}
	return nil
}

func (m memKeyStore) remove(_ context.Context, id string) error { delete(m, id); return nil }

func (m memKeyStore) each(_ context.Context, fn func(id, w string) error) error {
	for id, w := range m {
		if err := fn(id, w); err != nil {
			return err
		}
	}
	return nil
}

func (m memKeyStore) close() error { return nil }

// richApp has every field set, and times as the workflow makes them
// (time.Now: a monotonic reading, the local zone).
func richApp(id string) *c.Application {
	var app c.Application
	contracttest.Fill(reflect.ValueOf(&app).Elem())
	app.ID = id
	app.Applicant.IDNumber = "51170219850307123X"
	app.Erased = nil // a live application: an erased one keeps no personal part
	now := time.Now()
	app.ReceivedAt = now
	for i := range app.Timeline {
		app.Timeline[i].At = now
	}
	for i, tk := range app.Tasks {
		tk.ID = id + "-" + string(rune('1'+i))
		tk.UpdatedAt, tk.AcceptedAt = now, &now
	}
	return &app
}

// A read served from the cache is what decoding the bytes gives: the
// same JSON and the same values, time stamps compared as instants.
func TestCachedReadsDecodeAlike(t *testing.T) {
	for _, sealed := range []bool{true, false} {
		cd := cachedCodec(t)
		if !sealed {
			cd.keys = nil
		}
		app := richApp("A")
		data, idx, err := cd.encode(app)
		if err != nil {
			t.Fatal(err)
		}
		hit, hitIdx, ok := cd.cache.get("A", data)
		if !ok {
			t.Fatalf("sealed %v: the record just written is not cached", sealed)
		}
		fresh, freshIdx, err := cd.decodeUncached("A", data)
		if err != nil {
			t.Fatal(err)
		}
		if hitIdx != idx || freshIdx != idx {
			t.Errorf("sealed %v: blind index cached %q, decoded %q, written %q", sealed, hitIdx, freshIdx, idx)
		}
		hj, _ := marshalJSON(hit)
		fj, _ := marshalJSON(fresh)
		if !bytes.Equal(hj, fj) {
			t.Fatalf("sealed %v: cached read differs from a decode:\n%s\n%s", sealed, hj, fj)
		}
		if !hit.ReceivedAt.Equal(fresh.ReceivedAt) || !hit.Tasks[1].AcceptedAt.Equal(*fresh.Tasks[1].AcceptedAt) {
			t.Errorf("sealed %v: times differ", sealed)
		}
		// Through decode, the same (and decode fills the cache too).
		cd.cache.purge()
		got, _, err := cd.decode("A", data)
		if err != nil {
			t.Fatal(err)
		}
		if gj, _ := marshalJSON(got); !bytes.Equal(gj, fj) {
			t.Fatalf("sealed %v: decode differs from decodeUncached", sealed)
		}
		if _, _, ok := cd.cache.get("A", data); !ok {
			t.Fatalf("sealed %v: a decoded record is not cached", sealed)
		}
	}
}

// Only the very bytes an entry was made from are answered from it; other
// bytes are decoded, and a record stored under another id still fails.
func TestCacheAnswersOnlyItsOwnBytes(t *testing.T) {
	cd := cachedCodec(t)
	v1 := richApp("A")
	d1, _, _ := cd.encode(v1)
	v2 := richApp("A")
	v2.Version = 2
	v2.Tasks[0].State = c.TaskApproved
	d2, _, _ := cd.encode(v2) // the cache now holds version 2
	got, _, err := cd.decode("A", d1)
	if err != nil || got.Version != v1.Version || got.Tasks[0].State != v1.Tasks[0].State {
		t.Fatalf("decode of the older bytes = version %d, %v; want version %d", got.Version, err, v1.Version)
	}
	got, _, err = cd.decode("A", d2)
	if err != nil || got.Version != 2 || got.Tasks[0].State != c.TaskApproved {
		t.Fatalf("decode of the newer bytes = %+v, %v", got, err)
	}
	if _, _, err := cd.decode("B", d2); err == nil {
		t.Fatal("A's record decoded as B's")
	}
	// The cache is what answers: an entry planted for these bytes is
	// what decode returns (so the tests above exercise it).
	planted := richApp("A")
	planted.PortalRef = "planted"
	cd.cache.put("A", d2, &prior{app: planted}, "")
	if got, _, _ := cd.decode("A", d2); got.PortalRef != "planted" {
		t.Fatalf("decode did not use the cache: portalRef %q", got.PortalRef)
	}
}

// Neither what put is given nor what get hands out is shared with the
// cache: a caller changing its application changes nobody else's.
func TestCacheSharesNothing(t *testing.T) {
	cd := cachedCodec(t)
	app := richApp("A")
	data, _, _ := cd.encode(app)
	app.Tasks[0].State = c.TaskRejected // the writer goes on using its copy
	first, _, _ := cd.decode("A", data)
	if first.Tasks[0].State == c.TaskRejected {
		t.Fatal("a change after encode reached the cache")
	}
	first.Tasks[0].State = c.TaskCancelled
	first.Timeline[0].Note.ZH = "changed"
	second, _, _ := cd.decode("A", data)
	if second.Tasks[0].State == c.TaskCancelled || second.Timeline[0].Note.ZH == "changed" {
		t.Fatal("a change to one read reached the next")
	}
}

// The cache stays within its size in bytes (by recordCost), dropping the
// least recently used entries first.
func TestCacheIsBounded(t *testing.T) {
	cd := cachedCodec(t)
	if _, _, err := cd.encode(richApp("A")); err != nil {
		t.Fatal(err)
	}
	_, one := cd.cache.len()
	room := 4*one + one/2
	cd.cache = newRecordCache(room)
	for _, id := range []string{"A", "B", "C", "D", "E", "F"} {
		if _, _, err := cd.encode(richApp(id)); err != nil {
			t.Fatal(err)
		}
		if id == "C" {
			cd.cache.getPrior("A", nil) // a miss (other bytes) does not count as a use
		}
	}
	n, used := cd.cache.len()
	if n != 4 || used > room {
		t.Fatalf("%d records cached (%d bytes), want the 4 that fit in %d", n, used, room)
	}
	for id, want := range map[string]bool{"A": false, "B": false, "C": true, "F": true} {
		if _, ok := cd.cache.peek(id); ok != want {
			t.Errorf("%s cached: %v, want %v", id, ok, want)
		}
	}
	// A use keeps an entry: C read, then two more written, D and E go.
	data, _ := cd.cache.peek("C")
	if _, _, ok := cd.cache.getPrior("C", data); !ok {
		t.Fatal("C's own bytes missed")
	}
	for _, id := range []string{"G", "H"} {
		if _, _, err := cd.encode(richApp(id)); err != nil {
			t.Fatal(err)
		}
	}
	for id, want := range map[string]bool{"C": true, "D": false, "E": false, "F": true, "H": true} {
		if _, ok := cd.cache.peek(id); ok != want {
			t.Errorf("after C was used: %s cached: %v, want %v", id, ok, want)
		}
	}
	// Rewriting an entry counts its new size, not both.
	if _, _, err := cd.encode(richApp("H")); err != nil {
		t.Fatal(err)
	}
	if n, used := cd.cache.len(); n != 4 || used > room {
		t.Fatalf("after a rewrite: %d records, %d bytes", n, used)
	}
	// An entry bigger than the whole cache is kept alone (the newest).
	cd.cache = newRecordCache(1)
	if _, _, err := cd.encode(richApp("A")); err != nil {
		t.Fatal(err)
	}
	if n, _ := cd.cache.len(); n != 1 {
		t.Fatalf("%d records in a cache smaller than one", n)
	}
	cd.cache.drop("A")
	if n, used := cd.cache.len(); n != 0 || used != 0 {
		t.Fatalf("after drop: %d records, %d bytes", n, used)
	}
}

// The cache holds the set of applications the gateway has in flight (the
// end-to-end bench keeps some 2,000), which a cache of 1,024 entries did
// not: every write then decoded its record again.
func TestCacheHoldsTheInFlightSet(t *testing.T) {
	keys, err := seal.New(seal.DevConfig())
	if err != nil {
		t.Fatal(err)
	}
	cd := codec{keys: keys, dek: newAppKeys(keys, memKeyStore{}), cache: newRecordCache(recordCacheBytes), parts: true}
	const inFlight = 4000
	app := benchCodecApp() // 5 tasks, 20 timeline entries
	for range 10 {
		app.Timeline = append(app.Timeline, app.Timeline[0])
	}
	heads := make([][]byte, inFlight)
	for i := range inFlight {
		app.ID = fmt.Sprint("A", i)
		w, _, err := cd.encodeParts(app, nil)
		if err != nil {
			t.Fatal(err)
		}
		heads[i] = w.head
	}
	for i := range inFlight {
		if _, _, ok := cd.cache.getPrior(fmt.Sprint("A", i), heads[i]); !ok {
			n, used := cd.cache.len()
			t.Fatalf("application %d of %d in flight is not cached (%d entries, %d bytes)", i, inFlight, n, used)
		}
	}
}

// A write over a record this process wrote reuses its blind index while
// the ID number stays, and makes it again when the number changes or
// the record was only read (it may carry an earlier index key's).
func TestWriteReusesTheBlindIndexOnlyForTheSameNumber(t *testing.T) {
	cd := cachedCodec(t)
	cd.parts = true
	app := richApp("A")
	want := func(app *c.Application) string {
		return shortIndex(cd.keys.Index(IDNumberField, NormalizeIDNumber(app.Applicant.IDNumber)))
	}
	w, idx, pr, err := cd.encodePartsRecord(app, nil)
	if err != nil || idx != want(app) || pr.index != idx {
		t.Fatalf("first write: index %q (prior %q), %v; want %q", idx, pr.index, err, want(app))
	}
	pr.app = app.Clone()
	app.Version++
	if _, idx2, pr2, err := cd.encodePartsRecord(app, pr); err != nil || idx2 != idx || pr2.index != idx {
		t.Fatalf("same number: index %q, %v; want %q", idx2, err, idx)
	}
	// A planted index is what is reused: the HMAC is not made again.
	planted := *pr
	planted.index = "planted"
	if _, idx2, _, _ := cd.encodePartsRecord(app, &planted); idx2 != "planted" {
		t.Fatalf("the index was made again for the same number: %q", idx2)
	}
	app.Applicant.IDNumber = "510104199001011234"
	if _, idx2, _, err := cd.encodePartsRecord(app, &planted); err != nil || idx2 != want(app) || idx2 == idx {
		t.Fatalf("new number: index %q, %v; want %q", idx2, err, want(app))
	}
	// Over a record read back, the index is made afresh.
	var m memParts
	m.apply(w)
	_, _, read, err := cd.decodePartsUncached("A", m.s)
	if err != nil || read.index != "" {
		t.Fatalf("a decode sets the index %q, %v", read.index, err)
	}
	if _, idx2, _, _ := cd.encodePartsRecord(app, read); idx2 != want(app) {
		t.Fatalf("over a read record: index %q, want %q", idx2, want(app))
	}
}
