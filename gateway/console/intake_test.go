package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// A clerk who types the paper form's reference: the same application again
// is taken once (the same case), another person or other requests under
// the same reference is refused in Chinese with the form kept, and nothing
// of it is stored.
func TestIntakeReferenceReused(t *testing.T) {
	r := newRig(t)
	clerk := r.signIn("luojiang", "pw-luojiang")
	const ref = "WIN-PAPER-20261012-0007"
	f := clerk.form("51170219850307123X")
	f.Set("portalRef", ref)
	id := r.intake2(clerk, f)
	app, err := r.eng.Store.Get(t.Context(), id)
	if err != nil || app.PortalRef != ref {
		t.Fatalf("stored: %+v %v", app, err)
	}
	// The same form again (a double submit a minute later): the same case.
	r.mu.Lock()
	r.now = r.now.Add(time.Minute)
	r.mu.Unlock()
	if again := r.intake2(clerk, f); again != id {
		t.Errorf("the same application again opened %s, want %s", again, id)
	}

	other := clerk.form("511702197208142467")
	other.Set("portalRef", ref)
	other.Set("name", "刘秀英")
	other.Set("birthDate", "1972-08-14")
	fewer := clerk.form("51170219850307123X")
	fewer.Set("portalRef", ref)
	fewer.Del("pension")
	for name, form := range map[string]url.Values{"another person": other, "other requests": fewer} {
		status, page, loc := clerk.post("/console/intake", form)
		if status != http.StatusConflict || loc != "" {
			t.Errorf("%s: %d %s, want 409 and the form", name, status, loc)
			continue
		}
		if !strings.Contains(page, "该办件号已用于另一份申请") || !strings.Contains(page, `value="`+ref+`"`) {
			t.Errorf("%s: the page does not say the reference is taken, or lost the form", name)
		}
	}
	ids, err := r.eng.Store.FindByIDNumber(t.Context(), "51170219850307123X")
	if err != nil || len(ids) != 1 || ids[0] != id {
		t.Errorf("applications of the person: %v %v, want only %s", ids, err, id)
	}
	if ids, err := r.eng.Store.FindByIDNumber(t.Context(), "511702197208142467"); err != nil || len(ids) != 0 {
		t.Errorf("the other person was stored: %v %v", ids, err)
	}
}

// intake2 posts an intake form that must be accepted, and returns the case.
func (r *rig) intake2(b *browser, f url.Values) string {
	r.t.Helper()
	status, _, loc := b.post("/console/intake", f)
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/cases/") {
		r.t.Fatalf("intake: %d %s", status, loc)
	}
	return strings.TrimPrefix(strings.SplitN(loc, "?", 2)[0], "/console/cases/")
}

// A withdrawn case reads 已撤回 in the list and on its page, the list's
// status filter offers it and finds it, and the page no longer offers to
// withdraw.
func TestWithdrawnCaseShown(t *testing.T) {
	r := newRig(t)
	clerk := r.signIn("luojiang", "pw-luojiang")
	id := r.intake(clerk, "51170219850307123X")
	other := r.intake(clerk, "51170219850307123X")
	if status, _, loc := clerk.post("/console/cases/"+id+"/withdraw", url.Values{"csrf": {clerk.csrf}, "reason": {"申请人已迁出"}}); status != http.StatusSeeOther {
		t.Fatalf("withdraw: %d %s", status, loc)
	}
	app, err := r.eng.Store.Get(t.Context(), id)
	if err != nil || app.Status.State != "withdrawn" {
		t.Fatalf("stored: %v %v", app.Status.State, err)
	}
	_, page := clerk.get("/console/cases/" + id)
	if !strings.Contains(page, `<strong class="state-withdrawn">已撤回</strong>`) {
		t.Error("the case page does not show 已撤回")
	}
	if strings.Contains(page, "/console/cases/"+id+"/withdraw") {
		t.Error("a withdrawn case still offers to withdraw")
	}
	_, list := clerk.get("/console/?status=withdrawn")
	if !strings.Contains(list, `<option value="withdrawn" selected>已撤回</option>`) {
		t.Error("the status filter does not offer 已撤回")
	}
	if !strings.Contains(list, id) || strings.Contains(list, other) || !strings.Contains(list, `<td class="state-withdrawn">已撤回`) {
		t.Error("the list filtered by withdrawn does not show the case as 已撤回 (alone)")
	}
	u, _ := url.Parse(r.srv.URL)
	clerk.http.Jar.SetCookies(u, []*http.Cookie{{Name: "lang", Value: "en", Path: "/"}})
	if _, en := clerk.get("/console/cases/" + id); !strings.Contains(en, `<strong class="state-withdrawn">withdrawn</strong>`) {
		t.Error("the English page does not say withdrawn")
	}
}
