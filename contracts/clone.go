package contracts

import (
	"maps"
	"slices"
	"time"
)

// Clone returns a deep copy of a: nothing reachable from the copy is
// shared with a, so either can be changed without the other seeing it.
// The store keeps decoded records and hands out clones of them; a typed
// copy costs a fraction of decoding the record again (or of a reflective
// deep copy). TestCloneSharesNothing fills every field by reflection, so
// a field added to these types and not copied here fails it.
func (a *Application) Clone() *Application {
	if a == nil {
		return nil
	}
	c := *a
	c.Applicant = a.Applicant.clone()
	c.Requests = a.Requests.clone()
	// The tasks, and the timeline's notes, each in one allocation rather
	// than one apiece (a record is cloned at every read and write, some
	// 30 notes and 5 tasks for a finished application).
	if a.Tasks != nil {
		c.Tasks = make([]*Task, len(a.Tasks))
		tasks := make([]Task, len(a.Tasks))
		for i, t := range a.Tasks {
			if t != nil {
				t.cloneInto(&tasks[i])
				c.Tasks[i] = &tasks[i]
			}
		}
	}
	if a.Timeline != nil {
		c.Timeline = make([]Entry, len(a.Timeline))
		n := 0
		for _, e := range a.Timeline {
			if e.Note != nil {
				n++
			}
		}
		notes := make([]Message, 0, n) // its capacity is never exceeded: the pointers stay
		for i, e := range a.Timeline {
			if e.Note != nil {
				notes = append(notes, *e.Note)
				e.Note = &notes[len(notes)-1]
			}
			c.Timeline[i] = e
		}
	}
	c.WithdrawnAt = clonePtr(a.WithdrawnAt)
	c.PushedAt = clonePtr(a.PushedAt)
	c.Erased = clonePtr(a.Erased)
	c.Intake = clonePtr(a.Intake)
	c.PushedAt = clonePtr(a.PushedAt)
	c.Erased = clonePtr(a.Erased)
	c.Status.Counts = maps.Clone(a.Status.Counts)
	c.Status.Overdue = slices.Clone(a.Status.Overdue)
	return &c
}

func (p Applicant) clone() Applicant {
	p.Guardian = clonePtr(p.Guardian)
	p.Certificate = clonePtr(p.Certificate)
	return p
}

func (r Requests) clone() Requests {
	r.Certificate = clonePtr(r.Certificate)
	r.TwoSubsidies = clonePtr(r.TwoSubsidies)
	r.Pension = clonePtr(r.Pension)
	r.Medical = clonePtr(r.Medical)
	return r
}

// Clone returns a deep copy of t.
func (t *Task) Clone() *Task {
	if t == nil {
		return nil
	}
	var c Task
	t.cloneInto(&c)
	return &c
}

// cloneInto makes *dst a deep copy of t.
func (t *Task) cloneInto(dst *Task) {
	*dst = *t
	c := dst
	c.DependsOn = slices.Clone(t.DependsOn)
	c.Reason = clonePtr(t.Reason)
	c.Certificate = clonePtr(t.Certificate)
	if t.Result != nil {
		r := *t.Result
		r.Note = clonePtr(r.Note)
		c.Result = &r
	}
	if t.Supplement != nil {
		s := *t.Supplement
		s.ProvidedAt = clonePtr(s.ProvidedAt)
		s.Materials = slices.Clone(s.Materials)
		c.Supplement = &s
	}
	if t.Procedure != nil {
		pr := *t.Procedure
		pr.Note = clonePtr(pr.Note)
		c.Procedure = &pr
	}
	c.Milestones = slices.Clone(t.Milestones)
	c.AcceptedAt = clonePtr(t.AcceptedAt)
	c.FinishedAt = clonePtr(t.FinishedAt)
}

// clonePtr copies what p points to; only for types without pointers,
// slices or maps of their own (a time.Time's location is shared, as every
// copy of a time.Time shares it).
func clonePtr[T Message | Guardian | Certificate | CertificateRequest | TwoSubsidiesRequest | PensionRequest | MedicalRequest | Intake | Erasure | time.Time](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
