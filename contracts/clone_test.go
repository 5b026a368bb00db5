package contracts_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	. "onething/contracts"
	"onething/contracts/contracttest"
)

var timeType = reflect.TypeFor[time.Time]()

// shared lists the places where a and b (equal values) share memory.
func shared(a, b reflect.Value, path string) []string {
	if a.Type() == timeType {
		return nil // a value; its location is meant to be shared
	}
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() {
			return nil
		}
		// Every pointer to a zero-size value may be the same one.
		if a.Pointer() == b.Pointer() && a.Type().Elem().Size() > 0 {
			return []string{path}
		}
		return shared(a.Elem(), b.Elem(), path)
	case reflect.Struct:
		var out []string
		for i := range a.NumField() {
			if a.Type().Field(i).IsExported() {
				out = append(out, shared(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name)...)
			}
		}
		return out
	case reflect.Slice:
		if a.Len() == 0 {
			return nil
		}
		if a.Pointer() == b.Pointer() {
			return []string{path}
		}
		var out []string
		for i := range a.Len() {
			out = append(out, shared(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	case reflect.Map:
		if a.Len() > 0 && a.Pointer() == b.Pointer() {
			return []string{path}
		}
		return nil // keys and values here are plain values
	}
	return nil
}

func TestCloneSharesNothing(t *testing.T) {
	var a Application
	contracttest.Fill(reflect.ValueOf(&a).Elem())
	c := a.Clone()
	if !reflect.DeepEqual(&a, c) {
		t.Fatalf("the clone differs from the original")
	}
	if s := shared(reflect.ValueOf(&a).Elem(), reflect.ValueOf(c).Elem(), "Application"); len(s) > 0 {
		t.Fatalf("the clone shares memory with the original at %v", s)
	}
	// The check can fail: a clone that forgot one nested pointer is caught.
	bad := a.Clone()
	bad.Tasks[1].Procedure.Note = a.Tasks[1].Procedure.Note
	if s := shared(reflect.ValueOf(&a).Elem(), reflect.ValueOf(bad).Elem(), "Application"); !reflect.DeepEqual(s, []string{"Application.Tasks[1].Procedure.Note"}) {
		t.Fatalf("the sharing check found %v in a clone sharing one note", s)
	}
	// And changing the clone leaves the original as it was.
	c.Tasks[0].Result.Note.ZH = "changed"
	c.Timeline[1].Note.EN = "changed"
	c.Status.Counts[TaskApproved] = -1
	if a.Tasks[0].Result.Note.ZH == "changed" || a.Timeline[1].Note.EN == "changed" || a.Status.Counts[TaskApproved] == -1 {
		t.Fatalf("a change to the clone reached the original")
	}
	if (*Application)(nil).Clone() != nil || (*Task)(nil).Clone() != nil {
		t.Fatalf("the clone of nil is not nil")
	}
}

// An empty application clones to an equal one: nil stays nil (the store's
// records compare equal after a round trip).
func TestCloneKeepsNil(t *testing.T) {
	a := &Application{ID: "A", Tasks: []*Task{{ID: "A-1"}}}
	if c := a.Clone(); !reflect.DeepEqual(a, c) {
		t.Fatalf("clone = %+v, want %+v", c, a)
	}
}

func BenchmarkClone(b *testing.B) {
	var a Application
	contracttest.Fill(reflect.ValueOf(&a).Elem())
	for len(a.Timeline) < 26 { // a finished application's timeline
		a.Timeline = append(a.Timeline, a.Timeline[0])
	}
	for b.Loop() {
		a.Clone()
	}
}
