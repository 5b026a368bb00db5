package api

import (
	"strings"
	"testing"
	"time"

	c "onething/contracts"
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
