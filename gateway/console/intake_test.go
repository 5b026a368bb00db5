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
