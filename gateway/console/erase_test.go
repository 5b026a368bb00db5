package console

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	c "onething/contracts"
)

// Erasure on request through the console's form: admins only (a clerk
// never sees the form and is refused if they post it), the CSRF token
// checked, a confirmation step that does nothing, audited first, then
// the case page shows 已删除个人信息 with its date and kind.
func TestEraseFromTheConsole(t *testing.T) {
	r := newRig(t)
	clerk := r.signIn("luojiang", "pw-luojiang")
	ops := r.signIn("ops", "pw-ops")
	id := clerk.takeIn(withCheck("123"))
	path := "/console/cases/" + id + "/erase"
	erased := func() bool {
		app, err := r.eng.Store.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return app.Erased != nil
	}
	audited := func() int {
		r.mu.Lock()
		defer r.mu.Unlock()
		n := 0
		for _, e := range r.entries {
			if e.Action == c.AuditErase {
				n++
			}
		}
		return n
	}

	// A clerk's case page has no erasure form; an admin's has, with force
	// offered (the items are on their way to departments).
	if _, page := clerk.get("/console/cases/" + id); strings.Contains(page, path) || strings.Contains(page, "删除个人信息") {
		t.Error("a clerk is offered the erasure form")
	}
	_, page := ops.get("/console/cases/" + id)
	if !strings.Contains(page, `action="`+path+`"`) || !strings.Contains(page, `name="force"`) {
		t.Error("an admin is not offered the erasure form with force")
	}
	if found := codesShown(t, page); len(found) > 0 {
		t.Errorf("the admin's case page shows codes: %v", found)
	}
	form := func(b *browser, extra url.Values) url.Values {
		f := url.Values{"csrf": {b.csrf}, "reason": {"本人书面申请删除，受理编号 QX-2026-118"}}
		for k, v := range extra {
			f[k] = v
		}
		return f
	}
	// A clerk posting the form, a post without the session's CSRF token,
	// a reason naming the applicant: refused, nothing erased or audited.
	if status, _, _ := clerk.post(path, form(clerk, url.Values{"force": {"1"}, "confirm": {"1"}})); status != http.StatusForbidden {
		t.Errorf("a clerk's erasure: %d, want 403", status)
	}
	if status, _, _ := ops.post(path, url.Values{"reason": {"x"}, "force": {"1"}, "confirm": {"1"}}); status != http.StatusForbidden {
		t.Errorf("an erasure without the CSRF token: %d, want 403", status)
	}
	if status, _, _ := ops.post(path, form(ops, url.Values{"reason": {"张志明本人申请"}, "force": {"1"}, "confirm": {"1"}})); status != http.StatusUnprocessableEntity {
		t.Errorf("a reason naming the applicant: %d, want 422", status)
	}
	if status, _, _ := ops.post(path, form(ops, url.Values{"reason": {""}, "force": {"1"}, "confirm": {"1"}})); status != http.StatusUnprocessableEntity {
		t.Errorf("no reason: %d, want 422", status)
	}
	// The first step only asks again.
	status, page, _ := ops.post(path, form(ops, url.Values{"force": {"1"}}))
	if status != http.StatusOK || !strings.Contains(page, `name="confirm" value="1"`) || !strings.Contains(page, "确认删除") {
		t.Errorf("the confirmation step: %d", status)
	}
	if found := codesShown(t, page); len(found) > 0 {
		t.Errorf("the confirmation page shows codes: %v", found)
	}
	if erased() || audited() != 0 {
		t.Fatal("refused or unconfirmed erasures erased or were audited")
	}
	// Confirmed without force: refused, items still open (audited: it was tried).
	if status, page, _ := ops.post(path, form(ops, url.Values{"confirm": {"1"}})); status != http.StatusConflict || !strings.Contains(visibleText(t, page), "照样删除") {
		t.Errorf("confirmed without force: %d", status)
	}
	// The audit log cannot be written: nothing erased.
	r.mu.Lock()
	r.auditDown = true
	r.mu.Unlock()
	status, _, _ = ops.post(path, form(ops, url.Values{"force": {"1"}, "confirm": {"1"}}))
	r.mu.Lock()
	r.auditDown = false
	r.mu.Unlock()
	if status != http.StatusServiceUnavailable || erased() {
		t.Fatalf("with the audit log down: %d, erased %v", status, erased())
	}
	// Confirmed with force: erased.
	status, page, _ = ops.post(path, form(ops, url.Values{"force": {"1"}, "confirm": {"1"}}))
	if status != http.StatusOK || !strings.Contains(visibleText(t, page), "已删除个人信息") || !erased() {
		t.Fatalf("confirmed with force: %d erased %v", status, erased())
	}
	if found := codesShown(t, page); len(found) > 0 {
		t.Errorf("the result page shows codes: %v", found)
	}
	if n := audited(); n != 2 {
		t.Errorf("erasure audit entries: %d, want 2 (refused without force, then done)", n)
	}
	// The case page, to the clerk too: the mark, its date and kind, no form.
	for _, b := range []*browser{clerk, ops} {
		_, page := b.get("/console/cases/" + id)
		text := visibleText(t, page)
		if !strings.Contains(text, "已删除个人信息") || !strings.Contains(text, c.ErasureKindNames[c.ErasureRequest].ZH) || strings.Contains(page, path) ||
			strings.Contains(page, "/reveal") || strings.Contains(page, "/receipt") || strings.Contains(text, "张志明") {
			t.Errorf("the erased case's page: %s", text)
		}
		if found := codesShown(t, page); len(found) > 0 {
			t.Errorf("the erased case's page shows codes: %v", found)
		}
	}
	if status, _, _ := clerk.post("/console/cases/"+id+"/reveal", form(clerk, nil)); status != http.StatusGone {
		t.Errorf("reveal after erasure: %d, want 410", status)
	}
	// The printed forms are the applicant's: gone with the data.
	for _, p := range []string{"/receipt", "/notice"} {
		if status, page := clerk.get("/console/cases/" + id + p); status != http.StatusGone || !strings.Contains(visibleText(t, page), "已删除个人信息") {
			t.Errorf("%s after erasure: %d, want 410 saying so", p, status)
		}
	}
	if status, _, _ := ops.post(path, form(ops, url.Values{"force": {"1"}, "confirm": {"1"}})); status != http.StatusConflict {
		t.Errorf("a second erasure: %d, want 409", status)
	}
}

// The console's subject-access export: operators only, CSRF, audited
// first with the number masked (nothing exported when the audit log is
// down), a JSON attachment with the person's full records.
func TestSubjectAccessFromTheConsole(t *testing.T) {
	r := newRig(t)
	clerk := r.signIn("luojiang", "pw-luojiang")
	ops := r.signIn("ops", "pw-ops")
	idn := withCheck("123")
	id := clerk.takeIn(idn)
	const path = "/console/ops/subject-access"
	if status, _ := clerk.get(path); status != http.StatusForbidden {
		t.Errorf("a clerk's export page: %d", status)
	}
	status, page := ops.get(path)
	if status != http.StatusOK || !strings.Contains(page, `action="`+path+`"`) {
		t.Fatalf("the export page: %d", status)
	}
	if found := codesShown(t, page); len(found) > 0 {
		t.Errorf("the export page shows codes: %v", found)
	}
	form := func(b *browser) url.Values {
		return url.Values{"csrf": {b.csrf}, "idNumber": {idn}, "reason": {"本人申请查阅复制"}}
	}
	if status, body, _ := clerk.post(path, form(clerk)); status != http.StatusForbidden || strings.Contains(body, idn) {
		t.Errorf("a clerk's export: %d", status)
	}
	if status, body, _ := ops.post(path, url.Values{"idNumber": {idn}, "reason": {"x"}}); status != http.StatusForbidden || strings.Contains(body, idn) {
		t.Errorf("an export without the CSRF token: %d", status)
	}
	r.mu.Lock()
	r.auditDown = true
	r.mu.Unlock()
	status, body, _ := ops.post(path, form(ops))
	r.mu.Lock()
	r.auditDown = false
	n := len(r.entries)
	r.mu.Unlock()
	if status != http.StatusServiceUnavailable || strings.Contains(body, idn) {
		t.Errorf("export with the audit log down: %d", status)
	}

	resp, err := ops.http.PostForm(r.srv.URL+path, form(ops))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var x c.SubjectAccessExport
	if err := json.Unmarshal(raw, &x); err != nil {
		t.Fatal(err)
	}
	// Every time the person reads is China time with its offset, as the
	// API's export gives it (outsider: most ended in Z, a day off before
	// 08:00).
	times := regexp.MustCompile(`"\d{4}-\d\d-\d\dT[0-9:.]+(Z|[+-]\d\d:\d\d)"`).FindAllStringSubmatch(string(raw), -1)
	if len(times) == 0 {
		t.Fatalf("no time in the export: %s", raw)
	}
	for _, m := range times {
		if m[1] != "+08:00" {
			t.Fatalf("a time not in China time: %s", m[0])
		}
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") ||
		len(x.Applications) != 1 || x.Applications[0].ApplicationID != id || x.Applications[0].Applicant.IDNumber != idn {
		t.Errorf("export: %d %q %+v", resp.StatusCode, resp.Header.Get("Content-Disposition"), x)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.entries) != n+1 {
		t.Fatalf("audit entries: %d, want %d", len(r.entries), n+1)
	}
	if e := r.entries[n]; e.Action != c.AuditSubjectAccess || e.Query != "idNumber="+c.MaskID(idn) || strings.Contains(e.Query+e.Reason, idn) {
		t.Errorf("audit entry %+v", e)
	}
	if x.AuditID == "" || x.AuditID != r.entries[n].ID {
		t.Errorf("the export names the audit entry %q, want %q", x.AuditID, r.entries[n].ID)
	}
	r.mu.Unlock()
	// A reason naming the applicant is refused, not audited.
	name := x.Applications[0].Applicant.Name
	named := url.Values{"csrf": {ops.csrf}, "idNumber": {idn}, "reason": {name + "本人查阅"}}
	if status, body, _ := ops.post(path, named); status != http.StatusUnprocessableEntity || strings.Contains(body, idn) {
		t.Errorf("an export whose reason names the applicant: %d", status)
	}
	r.mu.Lock()
	if len(r.entries) != n+1 {
		t.Errorf("the refused export was audited: %d entries, want %d", len(r.entries), n+1)
	}
}
