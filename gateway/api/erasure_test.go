package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	c "onething/contracts"
	"onething/gateway/seal"
	"onething/gateway/store"
	"onething/gateway/store/redistest"
)

// Erasure and access on request over HTTP (erasure.go): admins only,
// audited first, 409 while items are open at a department unless forced,
// and afterwards the full record 410, the view the trace, a search
// nothing. Every reply is checked against the contract (the fixture's
// transport).

// postJSON posts a JSON body with a bearer token ("" none).
func (f *recFixture) postJSON(token, path, body string) (int, []byte) {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return f.send(req)
}

// postSigned posts a body signed with the portal's secret.
func (f *recFixture) postSigned(path, body string) (int, []byte) {
	f.t.Helper()
	wh, _ := standardwebhooks.NewWebhook(recPortalSecret)
	now := time.Now()
	sig, _ := wh.Sign("msg_erase_sig", now, []byte(body))
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", "msg_erase_sig")
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	return f.send(req)
}

func (f *recFixture) erasedNow(id string) bool {
	f.t.Helper()
	app, err := f.store.Get(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	if app.Erased != nil && app.Applicant.IDNumber != "" {
		f.t.Fatalf("marked erased with the ID number kept")
	}
	return app.Erased != nil
}

func (f *recFixture) setAuditDown(down bool) {
	f.store.mu.Lock()
	f.store.down = down
	f.store.mu.Unlock()
}

// sealedRedis is a sealed Redis store on a redis-server of its own.
func sealedRedis(t *testing.T) store.Store {
	t.Helper()
	keys, err := seal.New(seal.DevConfig())
	if err != nil {
		t.Fatal(err)
	}
	srv := redistest.Start(t)
	st, err := store.OpenRedis(context.Background(), srv.URL(), store.WithKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestBoltErasureOverHTTP(t *testing.T) {
	t.Run("erase", func(t *testing.T) { testEraseOnRequest(t, newRecFixture(t)) })
	t.Run("subject access", func(t *testing.T) { testSubjectAccessExport(t, newRecFixture(t)) })
}

func TestRedisErasureOverHTTP(t *testing.T) {
	t.Run("erase", func(t *testing.T) { testEraseOnRequest(t, newRecFixtureOn(t, sealedRedis(t))) })
	t.Run("subject access", func(t *testing.T) { testSubjectAccessExport(t, newRecFixtureOn(t, sealedRedis(t))) })
}

func testEraseOnRequest(t *testing.T, f *recFixture) {
	id := f.submitExample()
	path := "/v1/admin/applications/" + id + "/erase"
	body := `{"reason":"本人书面申请删除，受理编号 QX-2026-118","force":true}`

	// Anyone but an admin is refused, and nothing is erased or audited.
	for _, tc := range []struct {
		who, token string
		want       int
	}{
		{"no credential", "", http.StatusUnauthorized},
		{"a bad token", "not-a-configured-token-at-all", http.StatusUnauthorized},
		{"the district office's read token", recDistrict, http.StatusForbidden},
		{"window staff of the town", recLuojiang, http.StatusForbidden},
		{"the portal's bearer", recPortal, http.StatusForbidden},
	} {
		if status, out := f.postJSON(tc.token, path, body); status != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.who, status, out, tc.want)
		}
	}
	if status, _ := f.postSigned(path, body); status != http.StatusUnauthorized {
		t.Errorf("a portal signature: %d, want 401", status)
	}
	// Bodies that are not a good erasure request: refused before the audit.
	for _, bad := range []string{`{}`, `{"reason":"  "}`, `{"reason":"核对 ` + exampleID + `"}`, `{"reason":"回电 ` + examplePhone + `"}`,
		`{"reason":"` + exampleName + `本人申请"}`, `{"reason":"` + strings.Repeat("长", 201) + `"}`,
		`{"reason":"x","force":true,"extra":1}`, `{"reason":"x","reason":"y"}`, `not json`} {
		status, out := f.postJSON(recAdmin, path, bad)
		if status != http.StatusUnprocessableEntity && status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 422 or 400", bad, status)
		}
		noPersonalData(t, "a refused erasure", out)
	}
	if f.erasedNow(id) || len(f.auditLog()) != 0 {
		t.Fatalf("a refused request erased or was audited: %d entries", len(f.auditLog()))
	}

	// The audit log cannot be written: 503, nothing erased.
	f.setAuditDown(true)
	status, out := f.postJSON(recAdmin, path, body)
	f.setAuditDown(false)
	if status != http.StatusServiceUnavailable || !strings.Contains(string(out), "audit_unavailable") {
		t.Errorf("erasure with the audit log down: %d %s", status, out)
	}
	if f.erasedNow(id) {
		t.Fatal("erased with the audit log down")
	}

	// The items are on their way to departments: refused without force.
	status, out = f.postJSON(recAdmin, path, `{"reason":"本人书面申请删除","force":false}`)
	var e c.Error
	json.Unmarshal(out, &e)
	if status != http.StatusConflict || e.Code != "open_at_department" || !strings.Contains(e.Message, "force") || !strings.Contains(e.MessageEn, "force") {
		t.Errorf("without force: %d %s", status, out)
	}
	if f.erasedNow(id) {
		t.Fatal("erased without force while items are open")
	}

	// Forced: erased, the open items withdrawn.
	status, out = f.postJSON(recAdmin, path, body)
	if status != http.StatusOK {
		t.Fatalf("forced erasure: %d %s", status, out)
	}
	var res c.ErasureResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	if res.ApplicationID != id || res.Kind != c.ErasureRequest || !res.Forced || res.AlreadyErased || len(res.Cancelled) != 5 ||
		len(res.Removed) == 0 || len(res.Kept) == 0 || res.AuditID == "" {
		t.Errorf("erasure result %s", out)
	}
	if !strings.Contains(string(out), `+08:00"`) {
		t.Errorf("erasedAt is not in China time: %s", out)
	}
	noPersonalData(t, "the erasure result", out)
	if !f.erasedNow(id) {
		t.Fatal("not erased")
	}
	log := f.auditLog()
	if len(log) != 2 { // the refused one (force false) and this one
		t.Fatalf("audit entries: %+v", log)
	}
	if a := log[0]; a.ID != res.AuditID || a.Action != c.AuditErase || a.ApplicationID != id || a.Role != "admin" ||
		a.Reason != "本人书面申请删除，受理编号 QX-2026-118" || a.Query != "force=true" || a.Route != "/v1/admin/applications/:id/erase" {
		t.Errorf("audit entry %+v", a)
	}

	// Afterwards: the full record is gone (410), to staff and admins alike.
	for _, tok := range []string{recAdmin, recLuojiang} {
		status, out := f.call("GET", tok, "/v1/applications/"+id+"/record?reason=incident")
		json.Unmarshal(out, &e)
		if status != http.StatusGone || e.Code != "erased" || !strings.Contains(e.Message, "已") {
			t.Errorf("full record after erasure: %d %s", status, out)
		}
		noPersonalData(t, "the 410", out)
	}
	// The view shows the trace, marked.
	status, out = f.call("GET", recLuojiang, "/v1/applications/"+id)
	var view c.ApplicationView
	json.Unmarshal(out, &view)
	if status != http.StatusOK || view.Erased == nil || view.Erased.Kind != c.ErasureRequest || view.Erased.Name.ZH != "已删除个人信息" ||
		view.Applicant.Name != "" || view.Applicant.IDNumber != "" || view.Applicant.HouseholdDivision == "" || len(view.Items) != 5 ||
		view.Status.State != c.AppWithdrawn {
		t.Errorf("view after erasure: %d %s", status, out)
	}
	noPersonalData(t, "the view after erasure", out)
	// A search by the ID number finds nothing.
	status, out = f.postJSON(recAdmin, "/v1/applications/search", `{"idNumber":"`+exampleID+`"}`)
	var list c.ApplicationList
	json.Unmarshal(out, &list)
	if status != http.StatusOK || len(list.Applications) != 0 {
		t.Errorf("search after erasure: %d %s", status, out)
	}
	// Again: 200, already erased, the first erasure's time. Its reason
	// could name the erased person (the names to check it against are
	// gone): the audit entry keeps none.
	status, out = f.postJSON(recAdmin, path, `{"reason":"`+exampleName+`再次要求删除"}`)
	var again c.ErasureResult
	json.Unmarshal(out, &again)
	if status != http.StatusOK || !again.AlreadyErased || !again.ErasedAt.Equal(res.ErasedAt) || !again.Forced {
		t.Errorf("a second erasure: %d %s", status, out)
	}
	if log := f.auditLog(); log[0].ID != again.AuditID || log[0].Reason != "" || log[0].Query != "force=false&alreadyErased=true" ||
		strings.Contains(string(mustJSON(log[0])), exampleName) {
		t.Errorf("the second erasure's audit entry: %+v", log[0])
	}
	// An unknown application: 404.
	if status, _ := f.postJSON(recAdmin, "/v1/admin/applications/01NOSUCHAPPLICATION0000000/erase", body); status != http.StatusNotFound {
		t.Errorf("unknown application: %d", status)
	}
}

func testSubjectAccessExport(t *testing.T, f *recFixture) {
	id := f.submitExample()
	const path = "/v1/admin/subject-access"
	body := `{"idNumber":"` + exampleID + `","reason":"本人申请查阅复制，受理编号 QX-2026-119"}`

	for _, tok := range []string{"", recDistrict, recLuojiang, recPortal} {
		if status, _ := f.postJSON(tok, path, body); status != http.StatusUnauthorized && status != http.StatusForbidden {
			t.Errorf("%q exported: %d", tok, status)
		}
	}
	for _, bad := range []string{`{"idNumber":"` + exampleID + `"}`, `{"idNumber":"511702198503071230","reason":"x"}`,
		`{"idNumber":"` + exampleID + `","reason":"回电 ` + examplePhone + `"}`, `{"idNumber":"` + exampleID + `","reason":"x","extra":1}`,
		// A reason naming the person is refused: the applications are read
		// for their names before anything is audited.
		`{"idNumber":"` + exampleID + `","reason":"` + exampleName + `本人查阅"}`} {
		status, out := f.postJSON(recAdmin, path, bad)
		if status != http.StatusUnprocessableEntity && status != http.StatusBadRequest {
			t.Errorf("%s: %d", bad, status)
		}
		noPersonalData(t, "a refused export", out)
	}
	f.setAuditDown(true)
	status, out := f.postJSON(recAdmin, path, body)
	f.setAuditDown(false)
	if status != http.StatusServiceUnavailable {
		t.Errorf("export with the audit log down: %d", status)
	}
	noPersonalData(t, "an export with the audit log down", out)
	if n := len(f.auditLog()); n != 0 {
		t.Fatalf("refused exports were audited: %d", n)
	}

	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+recAdmin)
	resp, err := f.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var x c.SubjectAccessExport
	json.NewDecoder(resp.Body).Decode(&x)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(x.Applications) != 1 || x.Applications[0].ApplicationID != id ||
		x.Applications[0].Applicant.IDNumber != exampleID || x.IDNumberMasked != "5117**********123X" || x.AuditID == "" {
		t.Fatalf("export: %d %+v", resp.StatusCode, x)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || strings.Contains(cd, exampleID) {
		t.Errorf("Content-Disposition %q", cd)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	if _, off := x.GeneratedAt.Zone(); off != 8*3600 {
		t.Errorf("generatedAt not in China time: %v", x.GeneratedAt)
	}
	log := f.auditLog()
	if len(log) != 1 || log[0].Action != c.AuditSubjectAccess || log[0].Query != "idNumber=5117**********123X" || log[0].ID != x.AuditID {
		t.Fatalf("audit log %+v", log)
	}
	noPersonalData(t, "the audit entry", mustJSON(log[0]))

	// Once erased, the number finds nothing any more.
	if status, out := f.postJSON(recAdmin, "/v1/admin/applications/"+id+"/erase", `{"reason":"本人申请删除","force":true}`); status != http.StatusOK {
		t.Fatalf("erase: %d %s", status, out)
	}
	status, out = f.postJSON(recAdmin, path, `{"idNumber":"`+exampleID+`","reason":"`+exampleName+`本人查阅"}`)
	json.Unmarshal(out, &x)
	if status != http.StatusOK || len(x.Applications) != 0 {
		t.Errorf("export after erasure: %d %s", status, out)
	}
	// Nothing found to check the reason against: it is not kept.
	if log := f.auditLog(); log[0].ID != x.AuditID || log[0].Reason != "" || log[0].Query != "idNumber=5117**********123X&found=0" ||
		strings.Contains(string(mustJSON(log[0])), exampleName) {
		t.Errorf("the audit entry of an export that found nothing: %+v", log[0])
	}
}
