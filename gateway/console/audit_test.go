package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	c "onething/contracts"
)

// intake takes the seed's main case through the form and returns its id.
func (r *rig) intake(b *browser, idNumber string) string {
	status, _, loc := b.post("/console/intake", b.form(idNumber))
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/cases/") {
		r.t.Fatalf("intake: %d %s", status, loc)
	}
	id := strings.TrimPrefix(strings.SplitN(loc, "?", 2)[0], "/console/cases/")
	r.mu.Lock()
	r.ids = append(r.ids, id)
	r.mu.Unlock()
	return id
}

func (r *rig) auditLog() []c.AuditEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]c.AuditEntry(nil), r.entries...)
}

func (r *rig) cancelled(id string) int {
	app, err := r.eng.Store.Get(context.Background(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	n := 0
	for _, t := range app.Tasks {
		if t.State == c.TaskCancelled {
			n++
		}
	}
	return n
}

// The reveal and withdraw forms refuse a reason holding an ID number, a
// phone number or the name of the applicant: nothing is shown, withdrawn
// or audited.
func TestReasonsWithPersonalDataRefused(t *testing.T) {
	r := newRig(t)
	clerk := r.signIn("luojiang", "pw-luojiang")
	id := r.intake(clerk, "51170219850307123X")
	for _, reason := range []string{"核对身份证511702198002025569", "回电13698765432", "张志明本人来电", "志明来电核对"} {
		_, page, _ := clerk.post("/console/cases/"+id+"/reveal", url.Values{"csrf": {clerk.csrf}, "reason": {reason}})
		if strings.Contains(page, "51170219850307123X") {
			t.Errorf("revealed with the reason %q", reason)
		}
		if status, _, _ := clerk.post("/console/cases/"+id+"/withdraw", url.Values{"csrf": {clerk.csrf}, "reason": {reason}}); status != http.StatusUnprocessableEntity {
			t.Errorf("withdraw with the reason %q: %d, want 422", reason, status)
		}
	}
	r.mu.Lock()
	if len(r.audits) != 0 {
		t.Errorf("reveals audited: %v", r.audits)
	}
	r.mu.Unlock()
	if n := r.cancelled(id); n != 0 {
		t.Errorf("%d items withdrawn", n)
	}
	for _, e := range r.auditLog() {
		if e.Action == "console.withdraw" || e.Action == c.AuditRecordRead {
			t.Errorf("audited: %+v", e)
		}
	}
}

// A withdrawal is audited before it is done, without its reason (the
// applicant's words): the audit log never holds it.
func TestWithdrawAuditedWithoutItsReason(t *testing.T) {
	r := newRig(t)
	clerk := r.signIn("luojiang", "pw-luojiang")
	id := r.intake(clerk, "51170219850307123X")
	const reason = "申请人表示家中已另行安排照护，暂不申请"
	status, _, loc := clerk.post("/console/cases/"+id+"/withdraw", url.Values{"csrf": {clerk.csrf}, "reason": {reason}})
	if status != http.StatusSeeOther || !strings.HasSuffix(loc, "?flash=withdrawn") {
		t.Fatalf("withdraw: %d %s", status, loc)
	}
	if r.cancelled(id) == 0 {
		t.Fatal("nothing withdrawn")
	}
	found := false
	for _, e := range r.auditLog() {
		if strings.Contains(e.Reason+e.Query, "照护") {
			t.Errorf("the applicant's reason is in the audit log: %+v", e)
		}
		if e.Action == "console.withdraw" && e.ApplicationID == id && e.Subject == "console:luojiang" && e.Route == "/console/cases/{id}/withdraw" {
			found = true
		}
	}
	if !found {
		t.Errorf("the withdrawal is not audited: %+v", r.auditLog())
	}
}

// A search by ID number is audited as the API's is (the number masked).
func TestSearchByIDNumberAudited(t *testing.T) {
	r := newRig(t)
	clerk := r.signIn("luojiang", "pw-luojiang")
	id := r.intake(clerk, "51170219850307123X")
	status, list, _ := clerk.post("/console/", url.Values{"csrf": {clerk.csrf}, "q": {"51170219850307123x"}})
	if status != http.StatusOK || !strings.Contains(list, id) {
		t.Fatalf("search: %d", status)
	}
	var got *c.AuditEntry
	for _, e := range r.auditLog() {
		if strings.Contains(e.Query, "51170219850307123") {
			t.Errorf("the number in the clear: %+v", e)
		}
		if e.Action == c.AuditSearch {
			got = &e
		}
	}
	if got == nil || got.Query != "idNumber="+c.MaskID("51170219850307123X") || got.Subject != "console:luojiang" {
		t.Errorf("search audit entry %+v", got)
	}
	// Through the address bar the search is not run, nor audited: the
	// number is already in the history (outsider: GET ?q= worked).
	n := len(r.auditLog())
	for _, q := range []string{"51170219850307123X", "13881801234", "abc&q=51170219850307123X"} {
		status, page := clerk.get("/console/?q=" + q)
		if status != http.StatusBadRequest || strings.Contains(page, id) || !strings.Contains(page, "搜索框") {
			t.Errorf("GET ?q=%s: %d", q, status)
		}
	}
	if len(r.auditLog()) != n {
		t.Errorf("a search from the address bar was audited: %+v", r.auditLog()[n:])
	}
	if status, _ := clerk.get("/console/?q=" + id); status != http.StatusOK {
		t.Errorf("a search by application id from a link: %d", status)
	}
}

// With the audit log down, nothing audited is done: the withdrawal, the
// search, the reveal and the operators' pages answer 503 with a message
// to the clerk.
func TestNoAuditNoAction(t *testing.T) {
	r := newRig(t)
	clerk := r.signIn("luojiang", "pw-luojiang")
	ops := r.signIn("ops", "pw-ops")
	id := r.intake(clerk, "51170219850307123X")
	r.mu.Lock()
	r.auditDown = true
	r.mu.Unlock()
	status, page, _ := clerk.post("/console/cases/"+id+"/withdraw", url.Values{"csrf": {clerk.csrf}, "reason": {"申请人不再申请"}})
	if status != http.StatusServiceUnavailable || !strings.Contains(page, "审计日志") {
		t.Errorf("withdraw with the audit log down: %d", status)
	}
	if n := r.cancelled(id); n != 0 {
		t.Errorf("withdrawn (%d items) with the audit log down", n)
	}
	status, page, _ = clerk.post("/console/", url.Values{"csrf": {clerk.csrf}, "q": {"51170219850307123X"}})
	if status != http.StatusServiceUnavailable || strings.Contains(page, id) {
		t.Errorf("search with the audit log down: %d", status)
	}
	if status, _ := ops.get("/console/ops/dead-letters"); status != http.StatusServiceUnavailable {
		t.Errorf("dead letters with the audit log down: %d", status)
	}
	if status, _ := ops.get("/console/ops/health"); status != http.StatusServiceUnavailable {
		t.Errorf("health with the audit log down: %d", status)
	}
	f := clerk.form("51170219850307123X")
	if status, _, _ := clerk.post("/console/intake", f); status != http.StatusServiceUnavailable {
		t.Errorf("intake with the audit log down: %d", status)
	}
}
