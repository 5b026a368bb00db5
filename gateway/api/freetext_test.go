package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	c "onething/contracts"
	"onething/gateway/store"
)

// Free text over HTTP: what the applicant and the departments write reaches
// the masked view with every ID and phone number and the applicant's name
// masked, and the audited full record whole; keys and request ids sent by
// callers are not repeated as they came.

// The issue's withdrawal reason, with the example applicant's name.
const issueReason = "本人张志明（身份证511702198002025569，电话13698765432）已迁居外地，不再申请"

var freeTextSecrets = []string{exampleID, exampleID[:17], "511702198002025569", "51170219800202556", "13698765432",
	examplePhone, "2212345", exampleName, "志明"}

func noFreeTextSecrets(t *testing.T, what string, body []byte) {
	t.Helper()
	for _, s := range freeTextSecrets {
		if bytes.Contains(body, []byte(s)) {
			t.Errorf("%s shows %q: %.600s", what, s, body)
		}
	}
}

func TestFreeTextMaskedInViewsWholeInTheRecord(t *testing.T) {
	f := newFixture(t)
	status, body := f.submit("msg_free_1", example(t))
	if status != http.StatusAccepted {
		t.Fatalf("submit: %d %s", status, body)
	}
	var acc c.SubmissionAccepted
	json.Unmarshal(body, &acc)
	cert := acc.Items[0].TaskID // cdpf
	now := time.Now().UTC()
	post := func(path, id string, v any) (int, []byte) {
		raw, _ := json.Marshal(v)
		return f.do(signed(t, f.srv.URL+path, portalSecret, id, time.Now(), raw))
	}
	base := "/v1/applications/" + acc.ApplicationID

	// cdpf accepts and asks for a supplement, naming the applicant, the ID
	// number and a phone number.
	for _, ev := range []c.DeptEvent{
		{EventID: "free-ev1", TaskID: cert, CaseNo: "CDPF-20261129-000001", Type: c.EventAccepted, OccurredAt: now},
		{EventID: "free-ev2", TaskID: cert, Type: c.EventSupplementRequired, OccurredAt: now.Add(time.Second),
			Reason: &c.Message{ZH: "请张志明本人携带身份证（" + exampleID + "）原件到窗口，咨询电话 0818-2212345 或 " + examplePhone,
				EN: "Zhang Zhiming: bring ID " + exampleID + "; call 0818-2212345"}},
	} {
		if status, resp := f.event(c.DeptCDPF, cdpfSecret, ev); status != http.StatusOK {
			t.Fatalf("event %s: %d %s", ev.EventID, status, resp)
		}
	}
	status, view := f.get(base, readToken)
	if status != http.StatusOK || !bytes.Contains(view, []byte("08**-*****45")) || !bytes.Contains(view, []byte("CDPF-20261129-000001")) {
		t.Fatalf("view with the supplement request: %d %s", status, view)
	}
	noFreeTextSecrets(t, "the view of the supplement request", view)

	// The applicant's supplement, with a note; the reply is the view.
	status, resp := post(base+"/supplements", "msg_free_2", c.SupplementSubmission{TaskID: cert, Materials: []string{"photos"},
		Note: "张志明已补交照片，电话" + examplePhone + "，身份证" + exampleID})
	if status != http.StatusAccepted {
		t.Fatalf("supplement: %d %s", status, resp)
	}
	noFreeTextSecrets(t, "the reply to the supplement", resp)

	// cdpf refuses, with a phone number in its reason; the two subsidies
	// waiting on the certificate go with it.
	if status, resp := f.event(c.DeptCDPF, cdpfSecret, c.DeptEvent{EventID: "free-ev3", TaskID: cert, Type: c.EventRejected, OccurredAt: now.Add(2 * time.Second),
		Reason: &c.Message{ZH: "经评定未达到残疾标准；张志明如有异议请致电 136-9876-5432", EN: "not disabled per the standard; call 136-9876-5432"}}); status != http.StatusOK {
		t.Fatalf("rejection: %d %s", status, resp)
	}

	// The applicant withdraws the rest, in the issue's words.
	status, resp = post(base+"/withdraw", "msg_free_3", c.Withdrawal{Reason: issueReason})
	if status != http.StatusOK {
		t.Fatalf("withdraw: %d %s", status, resp)
	}
	noFreeTextSecrets(t, "the reply to the withdrawal", resp)

	status, view = f.get(base, readToken)
	if status != http.StatusOK {
		t.Fatalf("view: %d %s", status, view)
	}
	noFreeTextSecrets(t, "the view", view)
	var v c.ApplicationView
	if err := json.Unmarshal(view, &v); err != nil {
		t.Fatal(err)
	}
	reasons, notes := 0, 0
	for _, it := range v.Items {
		if it.Reason != nil && strings.Contains(it.Reason.ZH, "本人张**（身份证51**************69，电话13*******32）已迁居外地") {
			reasons++
		}
	}
	for _, e := range v.Timeline {
		if e.Note != nil && strings.Contains(e.Note.ZH, "已迁居外地") {
			notes++
		}
	}
	if reasons == 0 || notes == 0 {
		t.Errorf("the masked reason is not in the view (items %d, timeline %d): %s", reasons, notes, view)
	}

	// The audited full-record read has everything as it was written.
	status, record := f.get(base+"/record?reason="+url.QueryEscape("核对撤回原因"), readToken)
	if status != http.StatusOK {
		t.Fatalf("record: %d %s", status, record)
	}
	var rec c.ApplicationRecord
	if err := json.Unmarshal(record, &rec); err != nil {
		t.Fatal(err)
	}
	var full strings.Builder
	for _, task := range rec.Tasks {
		if task.Reason != nil {
			full.WriteString(task.Reason.ZH + "\n")
		}
		if task.Supplement != nil {
			full.WriteString(task.Supplement.What.ZH + "\n")
		}
		full.WriteString(task.SupplementNote + "\n")
	}
	for _, e := range rec.Timeline {
		if e.Note != nil {
			full.WriteString(e.Note.ZH + "\n")
		}
	}
	for _, want := range []string{issueReason, "致电 136-9876-5432", "0818-2212345", "张志明已补交照片，电话" + examplePhone} {
		if !strings.Contains(full.String(), want) {
			t.Errorf("the full record lacks %q", want)
		}
	}
}

// postRaw posts a signed submission body as it is.
func (f *fixture) postRaw(id string, body []byte) (int, []byte, http.Header) {
	f.t.Helper()
	resp, err := f.http.Do(signed(f.t, f.srv.URL+"/v1/portal/submissions", portalSecret, id, time.Now(), body))
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.Bytes(), resp.Header
}

func TestUnknownAndDuplicateKeysAreNotEchoed(t *testing.T) {
	f := newFixture(t)
	withKey := func(key string) []byte {
		return bytes.Replace(example(t), []byte(`"channel"`), []byte(`"`+key+`": 1, "channel"`), 1)
	}
	huge := strings.Repeat("k", 500<<10)
	cases := []struct {
		name, key string
		body      []byte
		code      string
		// what the reply must not hold
		secret string
		field  string
	}{
		{"a 500 KB key", huge, withKey(huge), "malformed_json", strings.Repeat("k", 65), strings.Repeat("k", 64) + "…"},
		{"an ID number as the key", "511702198002025569", withKey("511702198002025569"), "malformed_json", "1170219800202556", "51**************69"},
		{"an ID number escaped", `\u0035\u0031\u0031\u0037\u0030\u0032198002025569`, withKey(`\u0035\u0031\u0031\u0037\u0030\u0032198002025569`), "malformed_json", "198002025569", "51**************69"},
		{"a phone number in a word", "tel13698765432", withKey("tel13698765432"), "malformed_json", "13698765432", "tel13*******32"},
		{"an ID number past the cut", strings.Repeat("k", 60) + "511702198002025569", withKey(strings.Repeat("k", 60) + "511702198002025569"), "malformed_json", "5117", strings.Repeat("k", 60) + "51**…"},
		{"a duplicate key named like a phone number", "a13698765432",
			bytes.Replace(example(t), []byte(`"channel"`), []byte(`"a13698765432": 1, "a13698765432": 2, "channel"`), 1), "duplicate_key", "13698765432", "a13*******32"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body, hdr := f.postRaw("msg_key_"+string(rune('a'+i)), tc.body)
			if status != http.StatusBadRequest {
				t.Fatalf("status %d: %.300s", status, body)
			}
			if len(body) > 2048 {
				t.Errorf("a %d-byte reply", len(body))
			}
			e := decodeError(t, body)
			if e.Code != tc.code || len(e.Details) != 1 {
				t.Fatalf("error %+v", e)
			}
			d := e.Details[0]
			if d.Field != tc.field {
				t.Errorf("field %q, want %q", d.Field, tc.field)
			}
			if n := utf8.RuneCountInString(d.Field); n > 65 {
				t.Errorf("field of %d characters", n)
			}
			var all strings.Builder
			hdr.Write(&all)
			all.Write(body)
			for _, text := range []string{all.String(), d.Message, d.MessageEn, e.Message, e.MessageEn} {
				if strings.Contains(text, tc.secret) {
					t.Errorf("the reply repeats %q: %.300s", tc.secret, text)
				}
			}
		})
	}
	if f.queued() != 0 {
		t.Error("a refused body queued work")
	}
}

var freshID = regexp.MustCompile(`^[0-9a-f]{16}$`)

func TestRequestIDTakenOnlyWhenPlain(t *testing.T) {
	f := newFixture(t)
	get := func(id string) string {
		req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/healthz", nil)
		req.Header.Set("X-Request-Id", id)
		resp, err := f.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("X-Request-Id")
	}
	for _, id := range []string{"req-01HX.abc_1", strings.Repeat("a", 64), "550e8400-e29b-41d4-a716-446655440000", "01ARZ3NDEKTSV4RRFFQ69G5FAV",
		"4bf92f3577b34da6a3ce929d0e0e4736", "0838-22"} {
		if got := get(id); got != id {
			t.Errorf("X-Request-Id %q came back as %q", id, got)
		}
	}
	for _, id := range []string{strings.Repeat("a", 65), "with space", "请求编号", "511702198002025569", "51170219850307123X",
		"req-51170219850307123X", "13698765432", "86-136-9876-5432", "136.9876.5432", "136_9876_5432", "5117.0219.8503.0712.3X", "id-8613698765432", "0838-2212345", "tel08382212345", "tab\there", "a/b", "a:b", "req%0A1"} {
		got := get(id)
		if got == id || !freshID.MatchString(got) {
			t.Errorf("X-Request-Id %q came back as %q, want a fresh id", id, got)
		}
	}

	// What Go's client will not send: control characters and a folded
	// line. Either net/http refuses the request, or the id is a fresh one.
	for _, raw := range []string{"X-Request-Id: abc\x0bdef\r\n", "X-Request-Id: abc\r\n def\r\n", "X-Request-Id: abc\x7f\r\n"} {
		conn, err := net.Dial("tcp", f.srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n" + raw + "Connection: close\r\n\r\n"))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		conn.Close()
		if err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("X-Request-Id"); strings.Contains(got, "abc") || resp.StatusCode == http.StatusOK && !freshID.MatchString(got) {
			t.Errorf("%q: %d, X-Request-Id %q", raw, resp.StatusCode, got)
		}
	}

	// The audit log records the id the gateway answered with, never the
	// caller's improper one.
	_, body := f.submit("msg_rid_1", example(t))
	var acc c.SubmissionAccepted
	json.Unmarshal(body, &acc)
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/v1/applications/"+acc.ApplicationID+"/record?reason=rid", nil)
	req.Header.Set("Authorization", "Bearer "+readToken)
	req.Header.Set("X-Request-Id", "511702198002025569")
	resp, err := f.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	answered := resp.Header.Get("X-Request-Id")
	entries, _, err := f.store.Audit(context.Background(), store.AuditQuery{Limit: 10})
	if err != nil || len(entries) == 0 {
		t.Fatalf("audit: %v %d", err, len(entries))
	}
	if entries[0].RequestID != answered || !freshID.MatchString(answered) {
		t.Errorf("audit entry has request id %q, the reply %q", entries[0].RequestID, answered)
	}
}
