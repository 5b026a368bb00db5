package api

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	c "onething/contracts"
	"onething/contracts/contracttest"
	"onething/gateway/calendar"
	"onething/gateway/workflow"
)

// Every time in a reply is China time with its offset, wherever it sits:
// a field, a pointer, a slice element; the zero time stays as it was.
func TestRepliesShowChinaTime(t *testing.T) {
	at := time.Date(2026, 12, 4, 23, 43, 0, 0, time.UTC)
	provided := at.Add(time.Hour)
	v := c.ApplicationView{ReceivedAt: at, Items: []c.TaskBrief{{UpdatedAt: at,
		Supplement: &c.Supplement{RequestedAt: at, ProvidedAt: &provided}}}, Timeline: []c.Entry{{At: at}}}
	b, err := EncodeReply(v)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if n := strings.Count(s, `"2026-12-05T07:43:00+08:00"`); n != 4 {
		t.Errorf("want 4 times at 07:43 China time, got %d in %s", n, s)
	}
	if !strings.Contains(s, `"2026-12-05T08:43:00+08:00"`) || strings.Contains(s, "Z\"") {
		t.Errorf("a time is not in China time: %s", s)
	}
	z, _ := EncodeReply(struct{ T time.Time }{})
	if string(z) != `{"T":"0001-01-01T00:00:00Z"}` {
		t.Errorf("zero time: %s", z)
	}
}

// A reply made of the workflow's briefs (the submission's 202) is encoded
// by EncodeChinaTimed: every field of every brief set, its times in UTC in
// the record, gives the bytes EncodeReply gives.
func TestChinaTimedRepliesAlike(t *testing.T) {
	var app c.Application
	contracttest.Fill(reflect.ValueOf(&app).Elem())
	for _, tk := range app.Tasks {
		tk.UpdatedAt = tk.UpdatedAt.UTC()
		for i := range tk.Milestones {
			tk.Milestones[i].At = tk.Milestones[i].At.UTC()
		}
		if sp := tk.Supplement; sp != nil {
			sp.RequestedAt = sp.RequestedAt.UTC()
			at := sp.ProvidedAt.UTC()
			sp.ProvidedAt = &at
		}
	}
	app.Tasks = append(app.Tasks, &c.Task{ID: "T-0"}) // and one with nothing set
	flow := workflow.New(calendar.Default())
	v := c.SubmissionAccepted{ApplicationID: app.ID, PortalRef: app.PortalRef, Status: app.Status.State,
		Items: flow.Briefs(&app), StatusURL: "https://gw.example/v1/applications/" + app.ID}
	want, err := EncodeReply(v)
	if err != nil {
		t.Fatal(err)
	}
	got, err := EncodeChinaTimed(v)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("EncodeChinaTimed:\n%s\nEncodeReply:\n%s", got, want)
	}
	if !bytes.Contains(got, []byte("+08:00")) || !bytes.Contains(got, []byte(`\u003c`)) {
		t.Errorf("the value does not exercise China time and escaping: %s", got)
	}
}
