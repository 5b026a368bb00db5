package store

import (
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	c "onething/contracts"
	"onething/gateway/seal"
)

// erasedApp is richApp after an erasure, and a note a later change put on
// a kept timeline entry (the codec must drop it: it would be personal).
func erasedApp(id string) *c.Application {
	app := richApp(id)
	ErasePersonal(app)
	app.Erased = &c.Erasure{At: time.Now(), Kind: c.ErasureRequest, By: "admin:test", Reason: "本人申请"}
	app.Timeline = append(app.Timeline, c.Entry{At: time.Now(), Kind: "erased", Source: "gateway",
		Note: &c.Message{ZH: "张三 51170219850307123X", EN: "late"}})
	return app
}

// An erased application is stored as a trace record, with and without
// keys: a fraction of its JSON, nothing personal in it, and it reads back
// as the application without the personal part.
func TestTraceRecord(t *testing.T) {
	for name, cd := range map[string]codec{"sealed": cachedCodec(t), "plain": {cache: newRecordCache(1 << 20)}} {
		t.Run(name, func(t *testing.T) {
			app := erasedApp("A1")
			data, idx, err := cd.encode(app)
			if err != nil {
				t.Fatal(err)
			}
			if !isTrace(data) || idx != "" {
				t.Fatalf("an erased application is stored as %.20q (index %q), want a trace record", data, idx)
			}
			js, err := marshalJSON(app)
			if err != nil {
				t.Fatal(err)
			}
			if len(data)*3 > len(js) {
				t.Errorf("the trace record takes %d bytes, its JSON %d: want at most a third", len(data), len(js))
			}
			got, gidx, err := cd.decodeUncached("A1", data)
			if err != nil {
				t.Fatal(err)
			}
			want := *app
			want.Timeline = append([]c.Entry(nil), app.Timeline...)
			want.Timeline[len(want.Timeline)-1].Note = nil
			want.Delivery = c.Delivery{}
			if gidx != "" || !reflect.DeepEqual(mustJSON(t, got), mustJSON(t, &want)) {
				t.Errorf("the trace reads back as\n%s\nwant\n%s", mustJSON(t, got), mustJSON(t, &want))
			}
			inflated := mustJSON(t, got)
			for _, personal := range []string{"51170219850307123X", "张三"} {
				if strings.Contains(inflated, personal) {
					t.Errorf("the trace holds %q", personal)
				}
			}
			if cd.keys != nil && cd.stale(data) {
				t.Error("a trace record is stale: a reseal would rewrite every trace")
			}
		})
	}
}

func mustJSON(t *testing.T, app *c.Application) string {
	t.Helper()
	b, err := marshalJSON(app)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A trace record that is another application's, damaged, or inflates
// without bound is unreadable, with the reason, not a crash or an
// allocation of what it claims.
func TestTraceRecordDamaged(t *testing.T) {
	cd := cachedCodec(t)
	data, _, err := cd.encode(erasedApp("A1"))
	if err != nil {
		t.Fatal(err)
	}
	var bomb bytes.Buffer
	bomb.Write(tracePrefix)
	w, err := flate.NewWriterDict(&bomb, flate.BestCompression, traceDict1)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(`{"id":"A1","x":"`))
	w.Write(bytes.Repeat([]byte{'a'}, 4*maxTraceJSON))
	w.Write([]byte(`","erased":{"kind":"request"}}`))
	w.Close()
	live, _, err := cd.encode(richApp("A1"))
	if err != nil {
		t.Fatal(err)
	}
	notErased, err := encodeTrace(richApp("A1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, id string
		data     []byte
		reason   string
	}{
		{"another application's", "A2", data, ReasonOtherRecord},
		{"truncated", "A1", data[:len(data)/2], ReasonMalformed},
		{"a byte changed", "A1", flip(data, len(tracePrefix)+10), ReasonMalformed},
		{"inflating past its bound", "A1", bomb.Bytes(), ReasonMalformed},
		{"no erasure in it", "A1", notErased, ReasonMalformed},
	} {
		_, _, err := cd.decodeUncached(tc.id, tc.data)
		var ue *UnreadableError
		if !errors.As(err, &ue) || ue.Reason != tc.reason {
			t.Errorf("%s: %v, want the reason %q", tc.name, err, tc.reason)
		}
	}
	if isTrace(live) {
		t.Error("a live application is stored as a trace")
	}
}

func flip(data []byte, i int) []byte {
	out := bytes.Clone(data)
	out[i] ^= 0xff
	return out
}

// An erased application written before trace records (a v3 envelope
// with nothing sealed) still reads, and a reseal rewrites it as a trace.
func TestErasedEnvelopeBecomesTrace(t *testing.T) {
	cd := cachedCodec(t)
	app := erasedApp("A1")
	cp, _ := splitPersonal(app)
	cp.Applicant = c.Applicant{HouseholdDivision: app.Applicant.HouseholdDivision}
	old, err := marshalJSON(envelope{V: envelopeVersion, App: &cp})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := cd.decodeUncached("A1", old)
	if err != nil || got.Erased == nil || got.Applicant.IDNumber != "" {
		t.Fatalf("the earlier form reads as %+v, %v", got, err)
	}
	if !cd.stale(old) {
		t.Fatal("the earlier form is not stale: a reseal would leave it")
	}
	again, _, err := cd.encode(got)
	if err != nil || !isTrace(again) || len(again) >= len(old)/3 {
		t.Errorf("rewritten: trace %v, %d bytes against %d, %v", isTrace(again), len(again), len(old), err)
	}
}

// On bbolt the traces of applications erased together share pages: a
// live record spans pages of its own, and a trace written over it in
// place kept one of them each (about 3.5 KB a trace in the retention
// bench) until the erasure deleted the record first.
func TestBoltTracesSharePages(t *testing.T) {
	keys, err := seal.New(seal.DevConfig())
	if err != nil {
		t.Fatal(err)
	}
	b, err := OpenBolt(filepath.Join(t.TempDir(), "t.db"), WithKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	const n = 200
	for i := range n {
		app := richApp(fmt.Sprintf("A%04d", i))
		app.Applicant.HouseholdDivision = "511702102"
		if _, err := b.Create(ctx, app, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		e := c.Erasure{At: time.Now(), Kind: c.ErasureRetention, By: "system:retention"}
		if _, err := Erase(ctx, b, fmt.Sprintf("A%04d", i), e, nil); err != nil {
			t.Fatal(err)
		}
	}
	var st bolt.BucketStats
	var traces int
	err = b.db.View(func(tx *bolt.Tx) error {
		st = tx.Bucket(bucketApps).Stats()
		return tx.Bucket(bucketApps).ForEach(func(_, v []byte) error {
			traces += len(v)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	pages := st.LeafAlloc + st.BranchAlloc
	t.Logf("%d bytes of pages hold %d bytes of traces", pages, traces)
	if pages > 3*traces {
		t.Errorf("%d bytes of pages hold %d erased applications (%d bytes of traces): the traces do not share pages", pages, n, traces)
	}
}
