package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"onething/contracts"
)

// TestEntryBytes: the hand-written encoding of timeline entries and notes
// is byte for byte marshalJSON's (and encoding/json's, TestRecordBytesUnchanged),
// for plain values and for every kind of string and time that needs the
// fallback.
func TestEntryBytes(t *testing.T) {
	plainVals := []string{"", "cert.new", "已受理 一件事", "e\u0301", "😀", "ÿ", "\ufffd", "\x7f", "01M8K1R8JCF8NRBM110VQDJGVB-3",
		"v3.k1.AbC-_xyz012.nonce0123456789abcdef"}
	odd := []string{"a<b", "a>b", "a&b", `a"b`, `a\b`, "a\nb", "a\tb", "\x00", "\x1f", "\x7f",
		"\u2028", "\u2029", "\xff", "a\xc3"}
	shanghai := time.FixedZone("CST", 8*3600)
	times := []time.Time{
		time.Date(2026, 12, 5, 14, 30, 0, 0, time.UTC),
		time.Date(2026, 12, 5, 14, 30, 0, 123456789, time.UTC),
		time.Date(2026, 12, 5, 14, 30, 0, 120000000, shanghai),
		time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("odd", -(5*3600+30*60))),
		time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("secs", 3600+7)),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		{},
		time.Now(),
	}
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func() string {
		s := plainVals[rng.IntN(len(plainVals))]
		if rng.IntN(40) == 0 {
			s += odd[rng.IntN(len(odd))]
		}
		if rng.IntN(4) == 0 {
			s += plainVals[rng.IntN(len(plainVals))]
		}
		return s
	}
	check := func(what string, got []byte, gotErr error, v any) {
		t.Helper()
		want, err := marshalJSON(v)
		if (err != nil) != (gotErr != nil) {
			t.Fatalf("%s: error %v, marshalJSON's %v", what, gotErr, err)
		}
		if err != nil {
			return
		}
		v1, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) || !bytes.Equal(got, v1) {
			t.Fatalf("%s:\ngot          %s\nmarshalJSON  %s\nencoding/json %s", what, got, want, v1)
		}
	}
	plain := 0
	for i := range 5000 {
		se := storedEntry{Entry: contracts.Entry{At: times[i%len(times)], TaskID: pick(), Kind: pick(),
			From: contracts.TaskState(pick()), To: contracts.TaskState(pick()), Source: pick()}, N: pick()}
		if i%7 == 0 {
			se.Note = &contracts.Message{ZH: pick(), EN: pick()}
		}
		got, err := marshalEntry(&se)
		check("entry", got, err, &se)
		if _, ok := appendEntry(nil, &se); ok {
			plain++
		}
		m := contracts.Message{ZH: pick(), EN: pick()}
		got, err = marshalNote(&m)
		check("note", got, err, &m)
	}
	if plain < 500 || plain > 4500 {
		t.Errorf("%d of 5000 entries took the hand-written path: the test does not exercise both", plain)
	}
}

// BenchmarkEntryEncode: a planned task's entry, by the reflective encoder
// and by hand.
func BenchmarkEntryEncode(b *testing.B) {
	se := storedEntry{Entry: contracts.Entry{At: time.Now(), TaskID: "01M8K1R8JCF8NRBM110VQDJGVB-3", Kind: "planned",
		To: contracts.TaskPlanned, Source: "gateway"}, N: "v3.k1.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdEfGhIjKlMnOpQrStUvWxYz.nonce0123456789abcdef"}
	b.Run("marshalJSON", func(b *testing.B) {
		for b.Loop() {
			marshalJSON(&se)
		}
	})
	b.Run("marshalEntry", func(b *testing.B) {
		for b.Loop() {
			marshalEntry(&se)
		}
	})
}

// TestNoteContext: the notes' sealing context is the one they were always
// sealed under (records on disk open with it).
func TestNoteContext(t *testing.T) {
	for _, i := range []int{0, 1, 9, 10, 99999, 100000, 1 << 40} {
		want := fmt.Sprintf("onething/application/%s/timeline/%d", "01M8K1R8JCF8NRBM110VQDJGVB", i)
		if got := string(noteContext("01M8K1R8JCF8NRBM110VQDJGVB", i)); got != want {
			t.Errorf("noteContext(…, %d) = %q, want %q", i, got, want)
		}
	}
}

// TestTimelineField: a timeline entry's field in a Redis hash, as always
// named.
func TestTimelineField(t *testing.T) {
	for _, i := range []int{0, 1, 9, 10, 12345, 99999, 100000, 1234567, -1} {
		if got, want := timelineField(i), fmt.Sprintf("t:%05d", i); got != want {
			t.Errorf("timelineField(%d) = %q, want %q", i, got, want)
		}
	}
}
