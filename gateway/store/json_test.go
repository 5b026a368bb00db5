package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	c "onething/contracts"
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
				fillValue(val.Elem(), 0)
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

// fillValue sets every field reachable from v to a non-zero value.
func fillValue(v reflect.Value, depth int) {
	if depth > 6 {
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d-<&>\u2028汉", depth))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(depth + 7))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(depth + 3))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillValue(v.Elem(), depth+1)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fillValue(s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for i := range 2 {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fillValue(k, depth+i+1)
			fillValue(e, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Date(2026, 11, 29, 9, 30, 2, 184000000, time.FixedZone("CST", 8*3600))))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillValue(v.Field(i), depth+1)
			}
		}
	}
}
