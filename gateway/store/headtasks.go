package store

import (
	"bytes"
	"slices"

	"onething/contracts"
)

// An event changes one task of five, but every write encoded all five
// into the head again: the tasks were two thirds of the head's encoding,
// and the head's encoding the largest single part of the gateway's CPU
// in the end-to-end profile (docs/PROFILING.md, tenth round). So a write
// copies the JSON of each task whose head fields are unchanged from the
// head it replaces, and encodes only the others.

// plainTask is contracts.Task encoded on its own (the JSON of a *Task in
// the head's "tasks" array).
type plainTask contracts.Task

// tasksHole is where the head's tasks go in the head encoded without
// them: "tasks" is the application's field before "timeline", and the
// bytes cannot occur inside a string (its quotes would be escaped).
var (
	tasksHole     = []byte(`,"tasks":null,"timeline":`)
	tasksHoleHead = len(`,"tasks":`)
)

// spliceHeadTasks is off only in tests, to encode the head whole and
// compare.
var spliceHeadTasks = true

// marshalHead encodes env, whose App.Tasks are the head-form copies of
// app.Tasks (headOf), reusing old's JSON of every task headTaskEqual
// finds unchanged. It returns the head and each task's JSON in it (nil
// when the head was encoded whole), for the next write.
func marshalHead(env *envelope, app *contracts.Application, old *prior) ([]byte, [][]byte, error) {
	tasks := env.App.Tasks
	if !spliceHeadTasks || tasks == nil || slices.Contains(tasks, nil) || len(tasks) != len(app.Tasks) {
		data, err := marshalJSON(env)
		return data, nil, err
	}
	reusable := old.app != nil && len(old.taskJSON) == len(old.app.Tasks)
	raws := make([][]byte, len(tasks))
	size := 2
	for i, t := range tasks {
		if reusable && i < len(old.app.Tasks) && headTaskEqual(old.app.Tasks[i], app.Tasks[i]) {
			raws[i] = old.taskJSON[i]
		} else {
			raw, err := marshalJSON((*plainTask)(t))
			if err != nil {
				return nil, nil, err
			}
			raws[i] = raw
		}
		size += len(raws[i]) + 1
	}
	env.App.Tasks = nil
	rest, err := marshalJSON(env)
	env.App.Tasks = tasks
	if err != nil {
		return nil, nil, err
	}
	at := bytes.Index(rest, tasksHole)
	if at < 0 || bytes.Contains(rest[at+1:], tasksHole) {
		data, err := marshalJSON(env) // not where it should be: whole
		return data, nil, err
	}
	out := make([]byte, 0, len(rest)+size)
	out = append(out, rest[:at+tasksHoleHead]...)
	out = append(out, '[')
	spans := make([][2]int, len(tasks))
	for i, raw := range raws {
		if i > 0 {
			out = append(out, ',')
		}
		spans[i] = [2]int{len(out), len(out) + len(raw)}
		out = append(out, raw...)
	}
	out = append(out, ']')
	out = append(out, rest[at+len(`,"tasks":null`):]...)
	kept := make([][]byte, len(tasks))
	for i, s := range spans {
		kept[i] = out[s[0]:s[1]:s[1]]
	}
	return out, kept, nil
}

// headTaskEqual reports whether a and b are alike in every field the
// head keeps of a task (the personal ones are sealed apart, in tp, and
// compared there). Fields are compared with ==, what pointers point to
// likewise: a field added that == cannot compare stops the build, and
// TestHeadTaskEqualSeesEveryField fails for a field added to Task and
// not compared here, unless splitPersonal takes it out of the head.
func headTaskEqual(a, b *contracts.Task) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.ID == b.ID && a.Item == b.Item && a.Dept == b.Dept && a.County == b.County &&
		a.State == b.State && slices.Equal(a.DependsOn, b.DependsOn) && a.CaseNo == b.CaseNo &&
		procedureEqual(a.Procedure, b.Procedure) && slices.Equal(a.Milestones, b.Milestones) &&
		ptrEqual(a.AcceptedAt, b.AcceptedAt) && a.DueDate == b.DueDate &&
		a.DueProvisional == b.DueProvisional && ptrEqual(a.FinishedAt, b.FinishedAt) &&
		a.Step == b.Step && a.Attempts == b.Attempts && a.UpdatedAt == b.UpdatedAt &&
		(a.DependsOn == nil) == (b.DependsOn == nil) && (a.Milestones == nil) == (b.Milestones == nil)
}

func procedureEqual(a, b *contracts.Procedure) bool {
	if a == nil || b == nil {
		return a == b
	}
	x, y := *a, *b
	x.Note, y.Note = nil, nil
	return x == y && ptrEqual(a.Note, b.Note)
}

// tasksPersonalEqual is reflect.DeepEqual for what tasksPersonalOf
// returns, without reflection (which cost what the tasks' encoding in
// the head cost in the end-to-end profile, on every write); ==
// compares what it can, so a field added that == cannot compare stops
// the build, and TestTasksPersonalEqualSeesEveryField guards the rest.
func tasksPersonalEqual(a, b map[string]taskPersonal) bool {
	if len(a) != len(b) {
		return false
	}
	for id, x := range a {
		y, ok := b[id]
		if !ok || !taskPersonalEqual(x, y) {
			return false
		}
	}
	return true
}

func taskPersonalEqual(a, b taskPersonal) bool {
	return a.LastError == b.LastError && a.SupplementNote == b.SupplementNote &&
		ptrEqual(a.Certificate, b.Certificate) && ptrEqual(a.Reason, b.Reason) &&
		resultEqual(a.Result, b.Result) && supplementEqual(a.Supplement, b.Supplement)
}

func resultEqual(a, b *contracts.Result) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.MonthlyAmount == b.MonthlyAmount && ptrEqual(a.Note, b.Note)
}

func supplementEqual(a, b *contracts.Supplement) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.What == b.What && a.Where == b.Where && a.RequestedAt == b.RequestedAt &&
		ptrEqual(a.ProvidedAt, b.ProvidedAt) && slices.Equal(a.Materials, b.Materials) &&
		(a.Materials == nil) == (b.Materials == nil) && a.Round == b.Round
}
