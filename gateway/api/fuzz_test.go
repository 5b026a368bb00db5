package api

import (
	"bytes"
	"encoding/json"
	"onething/civil"
	"regexp"
	"strings"
	"testing"
	"time"

	c "onething/contracts"
)

// The parsers and validators of what callers send: any input is decoded
// or refused with a described problem, never a panic; what decodes
// survives a round trip; and no reply text echoes an ID or phone number
// the body carried.

var personalNumber = regexp.MustCompile(`[0-9]{17}[0-9Xx]|1[3-9][0-9]{9}`)

// noEcho fails when text repeats an ID or mobile number found in body.
func noEcho(t *testing.T, body []byte, texts ...string) {
	t.Helper()
	all := strings.Join(texts, "\n")
	for _, n := range personalNumber.FindAll(body, -1) {
		if strings.Contains(all, string(n)) {
			t.Fatalf("a reply text echoes %q from the body: %s", n, all)
		}
	}
}

func problemsText(ps []c.FieldError) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Field, p.Message, p.MessageEn)
	}
	return out
}

func seedExamples(f *testing.F, names ...string) {
	for _, n := range names {
		b, err := c.Example(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		// Variants that exercise the strict checks.
		f.Add(bytes.Replace(b, []byte(`{`), []byte(`{"portalRef":"dup",`), 1))
		f.Add(append(bytes.Clone(b), ']'))
		f.Add(bytes.Replace(b, []byte(`"`), []byte("\"\xff"), 1))
	}
}

// checkDecoded checks a value decodeStrict accepted: it re-encodes to JSON
// that decodes strictly to the same thing.
func checkDecoded[T any](t *testing.T, v *T) {
	t.Helper()
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("re-encode: %v", err)
	}
	var again T
	if err := decodeStrict(out, &again); err != nil {
		t.Fatalf("what decoded does not decode again: %v\n%s", err, out)
	}
	out2, _ := json.Marshal(&again)
	if !bytes.Equal(out, out2) {
		t.Fatalf("round trip changed the value:\n%s\n%s", out, out2)
	}
}

func FuzzSubmission(f *testing.F) {
	seedExamples(f, "submission-full.json", "submission-minor.json", "submission-grade3-mental.json",
		"submission-holder-online.json", "submission-invalid.json", "submission-renew-visual.json")
	f.Add([]byte(`{"applicant":{"name":"阿卜杜·热合曼","idNumber":"51170219850307123X","idNumber":"51170219850307123X"}}`))
	f.Add([]byte(strings.Repeat(`{"a":`, 40)))
	f.Add([]byte(`{"submittedAt":"2026-13-45T99:00:00Z"}`))
	f.Add([]byte(`{"applicant":{"mobile":13881801234}}`))
	today := civil.Today(nil)
	f.Fuzz(func(t *testing.T, body []byte) {
		var sub c.Submission
		if err := decodeStrict(body, &sub); err != nil {
			fe := jsonProblem(err)
			if fe.Code == "" || fe.Message == "" || fe.MessageEn == "" {
				t.Fatalf("undescribed problem %+v for %v", fe, err)
			}
			noEcho(t, body, fe.Field, fe.Message, fe.MessageEn)
			return
		}
		if err := checkStrict(body); err != nil {
			t.Fatalf("decoded a body with %v", err)
		}
		checkDecoded(t, &sub)
		problems := sub.Validate(today)
		for _, p := range problems {
			if p.Field == "" || p.Code == "" || p.Message == "" || p.MessageEn == "" {
				t.Fatalf("undescribed problem %+v", p)
			}
		}
		noEcho(t, body, problemsText(problems)...)
	})
}

func FuzzEvent(f *testing.F) {
	seedExamples(f, "event-cdpf-approved.json", "event-civil-rejected.json")
	f.Add([]byte(`{"eventId":"e1","taskId":"T-1","type":"approved","occurredAt":"2026-11-29T08:00:00+08:00","eventId":"e2"}`))
	f.Add([]byte(`{"eventId":"e1","taskId":"T-1","type":"rejected","occurredAt":"2026-11-29T08:00:00Z","reason":{"zh":"","en":""}}`))
	f.Add([]byte(`{"eventId":"51170219850307123X","taskId":"13881801234","type":"nope","occurredAt":"0001-01-01T00:00:00Z"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var ev c.DeptEvent
		if err := decodeStrict(body, &ev); err != nil {
			fe := jsonProblem(err)
			if fe.Code == "" || fe.Message == "" || fe.MessageEn == "" {
				t.Fatalf("undescribed problem %+v for %v", fe, err)
			}
			noEcho(t, body, fe.Field, fe.Message, fe.MessageEn)
			return
		}
		if err := checkStrict(body); err != nil {
			t.Fatalf("decoded a body with %v", err)
		}
		checkDecoded(t, &ev)
		problems := ev.Validate(time.Now())
		for _, p := range problems {
			if p.Field == "" || p.Code == "" {
				t.Fatalf("undescribed problem %+v", p)
			}
		}
		noEcho(t, body, problemsText(problems)...)
	})
}
