package mocks

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"onething/contracts"
)

const secret = "s3cret"

func newCivil(t *testing.T) (*Dept, *httptest.Server) {
	d, err := NewDept(Config{Dept: contracts.DeptCivil, Path: "/api/v1/subsidy-cases", AppKey: "k", Secret: secret,
		EventSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", Delay: time.Hour}, Civil(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d.Handler())
	t.Cleanup(func() { srv.Close(); d.Close() })
	return d, srv
}

func post(t *testing.T, url, key, nonce string, body []byte, sign bool) (int, contracts.CaseResponse) {
	req, _ := http.NewRequest(http.MethodPost, url+"/api/v1/subsidy-cases", bytes.NewReader(body))
	req.Header.Set(contracts.HeaderIdempotencyKey, key)
	if sign {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set(contracts.HeaderAppKey, "k")
		req.Header.Set(contracts.HeaderTimestamp, ts)
		req.Header.Set(contracts.HeaderNonce, nonce)
		req.Header.Set(contracts.HeaderSignature, contracts.DeptSignature(secret, "POST", "/api/v1/subsidy-cases", ts, nonce, body))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out contracts.CaseResponse
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

func caseBody(taskID string) []byte {
	b, _ := json.Marshal(contracts.CaseRequest{TaskID: taskID, ApplicationID: "A", Item: contracts.ItemSubsidyLiving,
		CallbackURL: "http://127.0.0.1:1/events", Person: contracts.Person{Name: "张志明", IDNumber: "51170219850307123X", HouseholdDivision: "511702102", Dibao: true},
		Certificate: &contracts.Certificate{Number: "51170219850307123X41", Category: 4, Grade: 1, ValidUntil: "2036-01-01"}})
	return b
}

func TestMockAbsorbsRepeats(t *testing.T) {
	d, srv := newCivil(t)
	status, first := post(t, srv.URL, "A-1:1", "n1", caseBody("A-1"), true)
	if status != 200 || first.Status != contracts.CaseAccepted || first.CaseNo == "" {
		t.Fatalf("first: %d %+v", status, first)
	}
	status, again := post(t, srv.URL, "A-1:1", "n2", caseBody("A-1"), true)
	if status != 200 || again != first {
		t.Errorf("repeat: %d %+v, want the first answer %+v", status, again, first)
	}
	if status, _ := post(t, srv.URL, "A-1:1", "n3", caseBody("A-2"), true); status != http.StatusConflict {
		t.Errorf("same key, other body: %d, want 409", status)
	}
	s := d.Stats()
	if s.Requests != 3 || s.Repeats != 2 || s.Conflicts != 1 || s.Cases != 1 || s.Effects["A-1"] != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestMockRefusesBadSignaturesAndReplays(t *testing.T) {
	d, srv := newCivil(t)
	if status, _ := post(t, srv.URL, "k1", "n1", caseBody("A-1"), false); status != http.StatusUnauthorized {
		t.Errorf("unsigned: %d", status)
	}
	if status, _ := post(t, srv.URL, "k2", "n2", caseBody("A-2"), true); status != 200 {
		t.Errorf("signed: %d", status)
	}
	if status, _ := post(t, srv.URL, "k3", "n2", caseBody("A-3"), true); status != http.StatusUnauthorized {
		t.Errorf("replayed nonce: %d", status)
	}
	if d.Stats().Cases != 1 {
		t.Errorf("cases %d, want 1", d.Stats().Cases)
	}
}

func TestCivilRules(t *testing.T) {
	now := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	cert := func(cat, grade int) *contracts.Certificate {
		return &contracts.Certificate{Category: cat, Grade: grade, ValidUntil: "2030-01-01"}
	}
	cases := []struct {
		item   contracts.ItemCode
		cert   *contracts.Certificate
		dibao  bool
		div    string
		amount int // 0: refused
	}{
		{contracts.ItemSubsidyLiving, cert(4, 3), true, "511702102", 100},
		{contracts.ItemSubsidyLiving, cert(4, 3), false, "511702102", 0},
		{contracts.ItemSubsidyLiving, cert(4, 3), true, "511703", livingAmount}, // any Sichuan county
		{contracts.ItemSubsidyNursing, cert(4, 1), false, "510104", nursingGrade1},
		{contracts.ItemSubsidyLiving, cert(4, 3), true, "500101", 0}, // outside Sichuan
		{contracts.ItemSubsidyNursing, cert(4, 1), false, "511702", 110},
		{contracts.ItemSubsidyNursing, cert(4, 2), false, "511702", 80},
		{contracts.ItemSubsidyNursing, cert(4, 3), false, "511702", 0},
		{contracts.ItemSubsidyNursing34, cert(5, 3), false, "511702", nursing34Amount},
		{contracts.ItemSubsidyNursing34, cert(6, 4), false, "511702", nursing34Amount},
		{contracts.ItemSubsidyNursing34, cert(4, 3), false, "511702", 0},
		{contracts.ItemSubsidyLiving, &contracts.Certificate{Category: 4, Grade: 1, ValidUntil: "2026-11-28"}, true, "511702", 0}, // expired
		{contracts.ItemSubsidyLiving, nil, true, "511702", 0},
	}
	for i, tc := range cases {
		req := &contracts.CaseRequest{Item: tc.item, Certificate: tc.cert, Person: contracts.Person{Dibao: tc.dibao, HouseholdDivision: tc.div}}
		why, amount := civilRule(req, now)
		if amount != tc.amount || (amount == 0) != (why != nil) {
			t.Errorf("case %d (%s): amount %d reason %v, want %d", i, tc.item, amount, why, tc.amount)
		}
	}
}

func TestHRSSAndMedicalRules(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		p    contracts.Person
		cert *contracts.Certificate
		want contracts.CaseStatus
	}{
		{contracts.Person{Dibao: true}, nil, contracts.CaseApproved},
		{contracts.Person{Tekun: true}, nil, contracts.CaseApproved},
		{contracts.Person{}, &contracts.Certificate{Grade: 2}, contracts.CaseApproved},
		{contracts.Person{}, &contracts.Certificate{Grade: 3}, contracts.CaseRejected},
		{contracts.Person{Orphan: true}, nil, contracts.CaseRejected},
	} {
		d := HRSS()(&contracts.CaseRequest{Person: tc.p, Certificate: tc.cert}, "C", now)
		if d.Reply.Status != tc.want || (tc.want == contracts.CaseRejected) != (d.Reply.Reason != nil) {
			t.Errorf("hrss %+v %+v: %+v", tc.p, tc.cert, d.Reply)
		}
	}
	for _, tc := range []struct {
		p    contracts.Person
		m    *contracts.MedicalRequest
		want contracts.EventType
	}{
		{contracts.Person{Orphan: true}, &contracts.MedicalRequest{Identity: "orphan"}, contracts.EventApproved},
		{contracts.Person{Dibao: true}, &contracts.MedicalRequest{Identity: "dibao", PremiumPaid: true}, contracts.EventApproved},
		{contracts.Person{}, &contracts.MedicalRequest{Identity: "other", IdentityOther: "低保边缘"}, contracts.EventRejected},
		// The documented review of an "other" group: one of MedicalOtherGroups, named exactly.
		{contracts.Person{}, &contracts.MedicalRequest{Identity: "other", IdentityOther: "低保边缘家庭成员"}, contracts.EventApproved},
		{contracts.Person{}, &contracts.MedicalRequest{Identity: "other", IdentityOther: "防止返贫监测对象"}, contracts.EventApproved},
		{contracts.Person{}, &contracts.MedicalRequest{Identity: "other", IdentityOther: " 重度残疾人 "}, contracts.EventApproved}, // padded as forms send it
		{contracts.Person{}, &contracts.MedicalRequest{Identity: "other", IdentityOther: "退役军人"}, contracts.EventRejected},
		{contracts.Person{}, &contracts.MedicalRequest{Identity: "tekun"}, contracts.EventRejected},
	} {
		d := Medical(time.Millisecond)(&contracts.CaseRequest{Person: tc.p, Medical: tc.m}, "C", now)
		if d.Reply.Status != contracts.CaseAccepted || len(d.Steps) != 1 || d.Steps[0].Event.Type != tc.want {
			t.Errorf("medical %+v %+v: %+v", tc.p, tc.m, d)
		}
	}
}

func TestFaultsAdminAndInjection(t *testing.T) {
	d, srv := newCivil(t)
	put := func(body string) int {
		req, _ := http.NewRequest(http.MethodPut, srv.URL+"/_mock/faults", strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if status := put(`{"errorRate": 1, "latency": "1ms"}`); status != 200 {
		t.Fatalf("PUT faults: %d", status)
	}
	if status := put(`{"errorRatio": 1}`); status != 400 {
		t.Errorf("misspelt fault accepted: %d", status)
	}
	if status := put(`{"latency": 5}`); status != 400 {
		t.Errorf("a bare number as a duration accepted: %d", status)
	}
	// Every request now fails; about half of them after applying it.
	for i := 0; i < 20; i++ {
		if status, _ := post(t, srv.URL, "k"+strconv.Itoa(i), "n"+strconv.Itoa(i), caseBody("A-"+strconv.Itoa(i)), true); status != 500 {
			t.Fatalf("request %d: %d, want 500", i, status)
		}
	}
	inj := d.Injected()
	if inj["error_before"]+inj["error_after"] != 20 || inj["error_after"] == 0 || d.Stats().Cases != inj["error_after"] {
		t.Errorf("injected %v, cases %d", inj, d.Stats().Cases)
	}
	// An outage answers 503 to everything until it ends.
	put(`{}`)
	resp, err := http.Post(srv.URL+"/_mock/faults/outage?for=1h", "", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("outage: %v %v", err, resp)
	}
	resp.Body.Close()
	if status, _ := post(t, srv.URL, "k-down", "n-down", caseBody("B-1"), true); status != 503 {
		t.Errorf("during the outage: %d", status)
	}
	// 429 with Retry-After.
	d.SetFaults(Faults{RateLimitRate: 1, RetryAfter: 7})
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/subsidy-cases/X", nil)
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != 429 || r2.Header.Get("Retry-After") != "7" {
		t.Errorf("rate limit: %d %q", r2.StatusCode, r2.Header.Get("Retry-After"))
	}
}

// The examples of contracts/openapi/mocks-admin.yaml are what these types
// read and write (the contracts package cannot import mocks to check it).
func TestMockAdminExamplesDecode(t *testing.T) {
	for name, v := range map[string]any{"faults.json": &Faults{}, "mock-stats.json": &Stats{}, "mock-pushes.json": &PushesReport{}} {
		raw, err := contracts.Example(name)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	var f Faults
	json.Unmarshal([]byte(`{"jitter":"-5ms"}`), &f)
	if f.Check() == nil {
		t.Error("a negative jitter passed the check")
	}
}

// A county's system takes its own county's cases only: a case of another
// county is refused (422 wrong_county) and not counted as served.
func TestCountySystemRefusesAnotherCounty(t *testing.T) {
	d, err := NewDept(Config{Dept: contracts.DeptCivil, Path: "/api/v1/subsidy-cases", AppKey: "k", Secret: secret, County: "511722",
		EventSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", Delay: time.Hour}, Civil(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d.Handler())
	t.Cleanup(func() { srv.Close(); d.Close() })
	body := func(task, county string) []byte {
		var req contracts.CaseRequest
		json.Unmarshal(caseBody(task), &req)
		req.County = county
		b, _ := json.Marshal(req)
		return b
	}
	if status, _ := post(t, srv.URL, "B-1:1", "w1", body("B-1", "511703"), true); status != http.StatusUnprocessableEntity {
		t.Errorf("another county's case: %d, want 422", status)
	}
	if status, _ := post(t, srv.URL, "B-2:1", "w2", body("B-2", "511722"), true); status != http.StatusOK {
		t.Errorf("its own county's case: %d, want 200", status)
	}
	if s := d.Stats(); s.Counties["511703"] != 0 || s.Counties["511722"] != 1 || s.Cases != 1 {
		t.Errorf("stats %+v", s)
	}
}
