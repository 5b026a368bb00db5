package store

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
	"time"

	c "onething/contracts"
	"onething/contracts/contracttest"
	"onething/gateway/seal"
)

// headTaskJSON is what the head holds of t.
func headTaskJSON(t *testing.T, task *c.Task) []byte {
	t.Helper()
	cp := headOf(&c.Application{Tasks: []*c.Task{task}})
	data, err := marshalJSON((*plainTask)(cp.Tasks[0]))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// eachLeafChange calls try once for every change to one leaf of what
// fresh returns (filled: a string, a number, a flag, a time or its zone,
// a pointer made nil, a slice grown, shortened or made nil), with the
// changed value and the leaf's path; it returns how many it made.
func eachLeafChange[T any](t *testing.T, fresh func() *T, try func(path string, changed *T)) int {
	t.Helper()
	var walk func(path string, v reflect.Value, at func(string, func()))
	walk = func(path string, v reflect.Value, at func(string, func())) {
		switch v.Kind() {
		case reflect.Struct:
			if v.Type() == reflect.TypeFor[time.Time]() {
				at(path, func() { v.Set(reflect.ValueOf(v.Interface().(time.Time).Add(time.Nanosecond))) })
				at(path+"(zone)", func() { v.Set(reflect.ValueOf(v.Interface().(time.Time).UTC())) })
				return
			}
			for i := range v.NumField() {
				walk(path+"."+v.Type().Field(i).Name, v.Field(i), at)
			}
		case reflect.Pointer:
			e := v.Elem()
			at(path+"(nil)", func() { v.Set(reflect.Zero(v.Type())) })
			walk(path, e, at)
		case reflect.Slice:
			at(path+"(nil)", func() { v.Set(reflect.Zero(v.Type())) })
			at(path+"(shorter)", func() { v.Set(v.Slice(0, v.Len()-1)) })
			at(path+"(longer)", func() { v.Set(reflect.Append(v, v.Index(0))) })
			for i := range v.Len() {
				walk(fmt.Sprintf("%s[%d]", path, i), v.Index(i), at)
			}
		case reflect.String:
			at(path, func() { v.SetString(v.String() + "x") })
		case reflect.Int, reflect.Int64:
			at(path, func() { v.SetInt(v.Int() + 1) })
		case reflect.Bool:
			at(path, func() { v.SetBool(!v.Bool()) })
		default:
			t.Fatalf("%s: a %s, which the test does not change", path, v.Kind())
		}
	}
	for i := 0; ; i++ {
		q, j, name := fresh(), 0, ""
		walk("", reflect.ValueOf(q).Elem(), func(path string, change func()) {
			if j == i {
				change()
				name = path
			}
			j++
		})
		if name == "" {
			return i
		}
		try(name, q)
	}
}

// A task's JSON is reused only when headTaskEqual finds it unchanged, so
// every change to a field the head keeps must make headTaskEqual false:
// either headTaskEqual sees a change, or the head's JSON of the task is
// the same (a personal field, sealed apart in tp).
func TestHeadTaskEqualSeesEveryField(t *testing.T) {
	var base c.Task
	contracttest.Fill(reflect.ValueOf(&base).Elem())
	if !headTaskEqual(base.Clone(), base.Clone()) {
		t.Fatal("a task's clones differ")
	}
	seen, personal := 0, 0
	eachLeafChange(t, base.Clone, func(name string, q *c.Task) {
		p := base.Clone()
		sameJSON := bytes.Equal(headTaskJSON(t, p), headTaskJSON(t, q))
		switch {
		case headTaskEqual(p, q) && !sameJSON:
			t.Errorf("task%s changed: headTaskEqual says equal, but the head's JSON of the task differs", name)
		case !headTaskEqual(p, q):
			seen++
		default:
			personal++
		}
	})
	if seen < 40 || personal < 10 {
		t.Fatalf("only %d changes seen and %d personal ones tried", seen, personal)
	}
}

// The tasks' personal part is sealed again only when tasksPersonalEqual
// finds it changed: every change to it must be seen.
func TestTasksPersonalEqualSeesEveryField(t *testing.T) {
	var base c.Task
	contracttest.Fill(reflect.ValueOf(&base).Elem())
	app := &c.Application{Tasks: []*c.Task{&base}}
	fresh := func() *map[string]taskPersonal {
		tp := tasksPersonalOf(app.Clone())
		return &tp
	}
	if !tasksPersonalEqual(*fresh(), *fresh()) {
		t.Fatal("equal personal parts differ")
	}
	// A map's entries are not addressable: each is changed in a copy.
	one := func() *taskPersonal { tp := (*fresh())[base.ID]; return &tp }
	changes := eachLeafChange(t, one, func(name string, q *taskPersonal) {
		p, changed := *fresh(), *fresh()
		changed[base.ID] = *q
		pj, _ := marshalJSON(p)
		qj, _ := marshalJSON(changed)
		if tasksPersonalEqual(p, changed) && !bytes.Equal(pj, qj) {
			t.Errorf("taskPersonal%s changed: tasksPersonalEqual says equal, but its JSON differs", name)
		}
	})
	if changes < 25 {
		t.Fatalf("only %d changes tried", changes)
	}
	p, q := *fresh(), *fresh()
	delete(q, base.ID)
	q["other"] = p[base.ID]
	if tasksPersonalEqual(p, q) {
		t.Error("another task's id: tasksPersonalEqual says equal")
	}
}

// A head written with the tasks' JSON reused is the head encoded whole,
// byte for byte, through a run of writes that change one task each time
// (and none, and add one), so a record reads back as it was written.
func TestHeadReusesUnchangedTasks(t *testing.T) {
	keys, err := seal.New(seal.DevConfig())
	if err != nil {
		t.Fatal(err)
	}
	cd := codec{keys: keys, dek: newAppKeys(keys, memKeyStore{}), cache: newRecordCache(1 << 20), parts: true}
	app := benchCodecApp()
	w, _, pr, err := cd.encodePartsRecord(app, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(pr.taskJSON) != len(app.Tasks) {
		t.Fatalf("%d tasks' JSON kept for %d tasks", len(pr.taskJSON), len(app.Tasks))
	}
	changes := []func(a *c.Application){
		func(a *c.Application) { a.Tasks[2].State = c.TaskInProgress },
		func(a *c.Application) {},
		func(a *c.Application) {
			a.Tasks[0].Milestones = append(a.Tasks[0].Milestones, c.Milestone{Kind: "assessed", At: time.Now()})
		},
		func(a *c.Application) { a.Tasks[4].CaseNo = "" },
		func(a *c.Application) { a.Tasks[1].Reason = &c.Message{ZH: "材料不全", EN: "incomplete"} }, // personal: tp
		func(a *c.Application) { a.Tasks = append(a.Tasks, a.Tasks[3].Clone()); a.Tasks[5].ID = "A-6" },
		func(a *c.Application) { a.Tasks[0], a.Tasks[1] = a.Tasks[1], a.Tasks[0] },
		func(a *c.Application) { a.Tasks = a.Tasks[:3] },
	}
	for i, change := range changes {
		pr.app = app.Clone()
		change(app)
		app.Version++
		old := *pr
		old.taskJSON = nil // nothing to reuse: every task encoded
		w, _, pr, err = cd.encodePartsRecord(app, pr)
		if err != nil {
			t.Fatal(err)
		}
		spliceHeadTasks = false // the head encoded whole
		fresh, _, fpr, err := cd.encodePartsRecord(app, &old)
		spliceHeadTasks = true
		if err != nil {
			t.Fatal(err)
		}
		if fpr.tp != "" { // sealed again with another nonce
			fresh.head = bytes.Replace(fresh.head, []byte(fpr.tp), []byte(pr.tp), 1)
		}
		if !bytes.Equal(w.head, fresh.head) {
			t.Fatalf("change %d: the head with tasks reused differs from the head written afresh:\n%s\n%s", i, w.head, fresh.head)
		}
		for k, raw := range pr.taskJSON {
			if want := headTaskJSON(t, app.Tasks[k]); !bytes.Equal(raw, want) {
				t.Fatalf("change %d: task %d kept as %s, want %s", i, k, raw, want)
			}
		}
	}
}
