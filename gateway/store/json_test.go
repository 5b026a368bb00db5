package store

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	c "onething/contracts"
	"onething/contracts/contracttest"
)

// TestRecordBytesUnchanged: what the store writes through the v2 JSON
// implementation is byte for byte what encoding/json wrote, and reads back
// to the same value, for every type it stores, both with every field set
// (so each omitempty and each nested type is exercised) and with none.
func TestRecordBytesUnchanged(t *testing.T) {
	for _, v := range []any{&c.Application{}, &envelope{}, &personal{}, &Job{}, &c.AuditEntry{}} {
		typ := reflect.TypeOf(v).Elem()
		for _, fill := range []bool{false, true} {
			val := reflect.New(typ)
			if fill {
				contracttest.Fill(val.Elem())
			}
			want, err := json.Marshal(val.Interface())
			if err != nil {
				t.Fatal(err)
			}
			got, err := marshalJSON(val.Interface())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s (filled %v):\nv2: %s\nv1: %s", typ, fill, got, want)
			}
			back := reflect.New(typ)
			if err := unmarshalJSON(want, back.Interface()); err != nil {
				t.Fatalf("%s: %v", typ, err)
			}
			viaV1 := reflect.New(typ)
			if err := json.Unmarshal(want, viaV1.Interface()); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back.Interface(), viaV1.Interface()) {
				t.Fatalf("%s (filled %v): v2 read %+v, v1 read %+v", typ, fill, back.Elem(), viaV1.Elem())
			}
		}
	}
}
