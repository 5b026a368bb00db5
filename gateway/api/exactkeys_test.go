package api_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestKeysMatchExactly: a key is taken only as documented, so `IDNUMBER`
// and `houſeholdDivision` (long s) are unknown fields, not idNumber and
// householdDivision; and a key given twice is still a duplicate, however
// it is escaped.
func TestKeysMatchExactly(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name, from, to string
		code, field    string
	}{
		{"upper-case idNumber", `"idNumber":`, `"IDNUMBER":`, "unknown_field", "applicant.IDNUMBER"},
		{"capitalised name", `"name":`, `"Name":`, "unknown_field", "applicant.Name"},
		{"long s", `"householdDivision":`, `"houſeholdDivision":`, "unknown_field", "applicant.houſeholdDivision"},
		{"long s escaped", `"householdDivision":`, `"hou\u017feholdDivision":`, "unknown_field", "applicant.houſeholdDivision"},
		{"escaped duplicate", `"channel":`, `"\u0063hannel":"x","channel":`, "duplicate_key", "channel"},
		{"case duplicate of portalRef", `"channel":`, `"PORTALREF":"x","channel":`, "unknown_field", "PORTALREF"},
		// Who took a case in at a window is the console's to record, never
		// a portal's to claim (the receipt shows it).
		{"window intake", `"channel":`, `"intake":{"window":"511702102","clerk":"luojiang","attested":true},"channel":`, "unknown_field", "intake"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := bytes.Replace(example(t), []byte(tc.from), []byte(tc.to), 1)
			if bytes.Equal(body, example(t)) {
				t.Fatalf("example layout changed: no %s", tc.from)
			}
			status, resp, _ := f.postRaw("msg_exact_"+string(rune('a'+i)), body)
			e := decodeError(t, resp)
			if status != http.StatusBadRequest || len(e.Details) != 1 || e.Details[0].Code != tc.code || e.Details[0].Field != tc.field {
				t.Fatalf("%d %s; want 400 %s %s", status, resp, tc.code, tc.field)
			}
			if e.Details[0].Message == "" || e.Details[0].MessageEn == "" {
				t.Errorf("undescribed: %+v", e.Details[0])
			}
		})
	}
	// The same through the guide, the search and an event.
	for _, tc := range []struct {
		path, token, body, field string
	}{
		{"/v1/guide", readToken, `{"householdDivision":"511702102","WANTS":{"medical":true}}`, "WANTS"},
		{"/v1/guide", readToken, `{"houſeholdDivision":"511702102"}`, "houſeholdDivision"},
		{"/v1/applications/search", readToken, `{"idnumber":"51170219850307123X"}`, "idnumber"},
	} {
		req, _ := http.NewRequest(http.MethodPost, f.srv.URL+tc.path, strings.NewReader(tc.body))
		req.Header.Set("Authorization", "Bearer "+tc.token)
		req.Header.Set("Content-Type", "application/json")
		status, resp := f.do(req)
		e := decodeError(t, resp)
		if status != 400 || len(e.Details) != 1 || e.Details[0].Code != "unknown_field" || e.Details[0].Field != tc.field {
			t.Errorf("%s %s: %d %s", tc.path, tc.body, status, resp)
		}
	}
	ev := `{"eventId":"e-x","TaskId":"T-1","type":"accepted","occurredAt":"2026-11-29T08:00:00+08:00"}`
	status, resp := f.do(signed(t, f.srv.URL+"/v1/departments/cdpf/events", cdpfSecret, "ev-exact", time.Now(), []byte(ev)))
	if e := decodeError(t, resp); status != 400 || e.Details[0].Code != "unknown_field" || e.Details[0].Field != "TaskId" {
		t.Errorf("event: %d %s", status, resp)
	}
	if f.queued() != 0 {
		t.Error("a refused body queued work")
	}
}
