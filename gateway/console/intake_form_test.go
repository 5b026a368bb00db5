package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	c "onething/contracts"
	"onething/gateway/counties"
	"onething/gateway/rules"
)

// refused posts a form that must come back 422 with the form, and returns
// the page.
func (b *browser) refused(f url.Values) string {
	b.t.Helper()
	status, page, loc := b.post("/console/intake", f)
	if status != http.StatusUnprocessableEntity || loc != "" {
		b.t.Fatalf("intake: %d %s, want 422 and the form", status, loc)
	}
	return page
}

// Birth date and sex are checked against the ID number on the server (the
// script only fills them): a disagreeing one is refused at its field, in
// Chinese, and nothing is stored; the sex the number says is kept.
func TestIntakeChecksBirthDateAndSexAgainstTheID(t *testing.T) {
	r := newRig(t)
	clerk := r.signIn("luojiang", "pw-luojiang")
	const id = "51170219850307123X" // 17th digit 3: a man, born 1985-03-07

	f := clerk.form(id)
	f.Set("sex", "female")
	page := clerk.refused(f)
	if !strings.Contains(page, `</select><span class="field-error" role="alert">性别与公民身份号码不一致`) {
		t.Error("a sex the ID number contradicts is not refused at the sex field")
	}
	f = clerk.form(id)
	f.Set("birthDate", "1985-03-08")
	f.Set("sex", "male")
	page = clerk.refused(f)
	if !strings.Contains(page, `name="birthDate" type="date" value="1985-03-08" autocomplete="off"><span class="field-error" role="alert">出生日期与公民身份号码不一致`) {
		t.Error("a birth date the ID number contradicts is not refused at its field")
	}
	if ids, _ := r.eng.Store.FindByIDNumber(t.Context(), id); len(ids) != 0 {
		t.Fatalf("a refused form was stored: %v", ids)
	}

	f = clerk.form(id)
	f.Set("sex", "male")
	app, err := r.eng.Store.Get(t.Context(), r.intake2(clerk, f))
	if err != nil || app.Applicant.Sex != c.SexMale || app.Applicant.BirthDate != "1985-03-07" {
		t.Fatalf("stored: %+v %v", app, err)
	}
}

var ethnicitySelect = regexp.MustCompile(`(?s)<select id="ethnicity" name="ethnicity"[^>]*>(.*?)</select>`)

// 民族 is a list of the 56 groups in GB/T 3304's order, 汉族 chosen at
// first; a value from outside it is refused and nothing is stored. (The
// portal API still takes any non-empty ethnicity, as before.)
func TestIntakeEthnicityIsTheList(t *testing.T) {
	r := newRig(t)
	clerk := r.signIn("luojiang", "pw-luojiang")
	_, page := clerk.get("/console/intake")
	m := ethnicitySelect.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no ethnicity select on the form")
	}
	options := regexp.MustCompile(`<option value="([^"]+)"`).FindAllStringSubmatch(m[1], -1)
	if len(options) != 56 || options[0][1] != "汉族" || options[55][1] != "基诺族" {
		t.Fatalf("%d options (%v…), want the 56 groups from 汉族 to 基诺族", len(options), options[:min(3, len(options))])
	}
	if !strings.Contains(m[1], `<option value="汉族" selected>汉族</option>`) {
		t.Error("汉族 is not chosen on a new form")
	}

	u, _ := url.Parse(r.srv.URL)
	clerk.http.Jar.SetCookies(u, []*http.Cookie{{Name: "lang", Value: "en", Path: "/"}})
	if _, en := clerk.get("/console/intake"); !strings.Contains(en, `<option value="彝族">Yi</option>`) || !strings.Contains(en, `<option value="female">female</option>`) ||
		!strings.Contains(en, "</html>") {
		t.Error("the English form does not name the groups and sexes in English (or did not render whole)")
	}
	clerk.http.Jar.SetCookies(u, []*http.Cookie{{Name: "lang", Value: "zh", Path: "/"}})

	f := clerk.form("51170219850307123X")
	f.Set("ethnicity", "汉")
	if page := clerk.refused(f); !strings.Contains(page, "民族须从 56 个民族中选择") {
		t.Error("an ethnicity outside the list is not refused at its field")
	}
	if ids, _ := r.eng.Store.FindByIDNumber(t.Context(), "51170219850307123X"); len(ids) != 0 {
		t.Fatalf("stored: %v", ids)
	}
	f.Set("ethnicity", "彝族")
	if app, err := r.eng.Store.Get(t.Context(), r.intake2(clerk, f)); err != nil || app.Applicant.Ethnicity != "彝族" {
		t.Fatalf("stored: %+v %v", app, err)
	}
}

// dachuanPack is a verified 达川区 pack with two towns, for the tests.
const dachuanPack = `
code: "511703"
name: 达川区
nameEn: Dachuan District
city: {code: "5117", name: 达州市}
verified: true
source: a test pack
windows:
  comprehensive: {zh: 达川区政务服务中心综合受理窗口, en: the Dachuan centre's comprehensive window}
  cdpf: {zh: 达川区残联窗口, en: the Dachuan CDPF window}
towns:
  - {code: "511703001", name: 甲街道}
  - {code: "511703101", name: 乙镇}
localItems: []
limits: {}
`

// withDachuan puts the embedded packs and the test's 达川区 pack in force.
func withDachuan(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "511703.yaml"), []byte(dachuanPack), 0o600); err != nil {
		t.Fatal(err)
	}
	set, err := counties.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	rules.UseCounties(set)
	t.Cleanup(func() { rules.UseCounties(counties.Default()) })
}

var townSelect = regexp.MustCompile(`(?s)<select id="town" name="town"[^>]*>(.*?)</select>`)

// The towns are the clerk's county's, from the counties' packs: a clerk of
// a 达川区 town sees 达川区's towns (not 通川区's), the address says
// 达州市 达川区 and the town's name, and a town of another county is
// refused. An operator picks among every county, grouped.
func TestIntakeTownsOfTheClerksCounty(t *testing.T) {
	withDachuan(t)
	accounts := append(rigAccounts(t), Account{Username: "yizhen", PasswordHash: hash(t, "pw-yizhen"), Role: "staff", Towns: []string{"511703101"}})
	r := newRigWith(t, accounts, nil)
	clerk := r.signIn("yizhen", "pw-yizhen")
	_, page := clerk.get("/console/intake")
	m := townSelect.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no town select")
	}
	if !strings.Contains(m[1], `<option value="511703001">甲街道</option>`) || !strings.Contains(m[1], `<option value="511703101" selected>乙镇</option>`) ||
		strings.Contains(m[1], "511702") || strings.Contains(m[1], "<optgroup") {
		t.Errorf("the town list of a 达川区 clerk: %s", m[1])
	}

	f := clerk.form("51170219850307123X")
	f.Set("town", "511703001")
	f.Set("householdDivision", "511703101")
	app, err := r.eng.Store.Get(t.Context(), r.intake2(clerk, f))
	if err != nil {
		t.Fatal(err)
	}
	if a := app.Applicant.Address; a.Province != "四川省" || a.City != "达州市" || a.County != "达川区" || a.Town != "甲街道" || a.DivisionCode != "511703001" {
		t.Errorf("the address: %+v", a)
	}

	f = clerk.form("51170219850307123X")
	f.Set("town", "511702102") // 罗江镇, another county
	f.Set("householdDivision", "511703101")
	if page := clerk.refused(f); !strings.Contains(page, "现住址乡镇（街道）须从列表中选择") {
		t.Error("a town outside the clerk's county is not refused at its field")
	}

	ops := r.signIn("ops", "pw-ops")
	_, page = ops.get("/console/intake")
	m = townSelect.FindStringSubmatch(page)
	if m == nil || !strings.Contains(m[1], `<optgroup label="通川区"><option value="511702001">`) || !strings.Contains(m[1], `<optgroup label="达川区"><option value="511703001">甲街道</option>`) {
		t.Errorf("the operator's towns are not grouped by county: %.400s", m)
	}
}

// draftOffered reports whether the form offers to resume a draft.
func (b *browser) draftOffered() bool {
	b.t.Helper()
	_, page := b.get("/console/intake")
	return strings.Contains(page, `href="/console/intake?draft=resume"`)
}

// A draft is kept on the server for the clerk who saved it: offered on
// the form, resumed with its values, audited without personal data, gone
// after a day, when deleted, and when the application is submitted.
func TestIntakeDraft(t *testing.T) {
	r := newRig(t)
	clerk := r.signIn("luojiang", "pw-luojiang")
	other := r.signIn("dongcheng", "pw-dongcheng")
	if clerk.draftOffered() {
		t.Fatal("a draft offered before any was saved")
	}
	f := clerk.form("51170219850307123X")
	f.Set("action", "draft")
	status, page, _ := clerk.post("/console/intake", f)
	if status != http.StatusOK || !strings.Contains(page, "草稿已保存在服务器上") || !strings.Contains(page, `value="13881801234"`) {
		t.Fatalf("save: %d, the form and its notice not shown", status)
	}
	r.mu.Lock()
	var saved []c.AuditEntry
	for _, e := range r.entries {
		if e.Action == "console.intake.draft" {
			saved = append(saved, e)
		}
	}
	r.mu.Unlock()
	if len(saved) != 1 || saved[0].Subject != "console:luojiang" {
		t.Fatalf("audit entries of the save: %+v", saved)
	}
	if b, _ := json.Marshal(saved[0]); strings.Contains(string(b), "张志明") || strings.Contains(string(b), "51170219850307") || strings.Contains(string(b), "13881801234") {
		t.Errorf("the audit entry holds personal data: %s", b)
	}

	if !clerk.draftOffered() {
		t.Fatal("the saved draft is not offered")
	}
	if other.draftOffered() {
		t.Error("another clerk is offered the draft")
	}
	_, page = clerk.get("/console/intake?draft=resume")
	for _, want := range []string{`value="张志明"`, `value="51170219850307123X"`, `value="龙潭村"`, `name="dibao" value="1" checked`} {
		if !strings.Contains(page, want) {
			t.Errorf("the resumed form lacks %s", want)
		}
	}
	if _, page := other.get("/console/intake?draft=resume"); strings.Contains(page, "张志明") {
		t.Error("another clerk resumed the draft")
	}

	// Submitted: the draft is gone.
	f.Set("action", "submit")
	r.intake2(clerk, f)
	if clerk.draftOffered() {
		t.Error("the draft is still offered after the application was submitted")
	}

	// Deleted by the clerk.
	f.Set("action", "draft")
	clerk.post("/console/intake", f)
	if status, _, loc := clerk.post("/console/intake/draft/delete", url.Values{"csrf": {clerk.csrf}}); status != http.StatusSeeOther || loc != "/console/intake?flash=draftdropped" {
		t.Fatalf("delete: %d %s", status, loc)
	}
	if clerk.draftOffered() {
		t.Error("the deleted draft is still offered")
	}

	// Left alone: there for the day, gone after it (signed in again
	// each time: an idle session ends long before).
	clerk.post("/console/intake", f)
	r.advance(24*time.Hour - time.Minute)
	clerk = r.signIn("luojiang", "pw-luojiang")
	if !clerk.draftOffered() {
		t.Fatal("the draft is gone before its day is over")
	}
	r.advance(time.Minute)
	clerk = r.signIn("luojiang", "pw-luojiang")
	if clerk.draftOffered() {
		t.Error("the draft is offered after a day")
	}
	if _, page := clerk.get("/console/intake?draft=resume"); strings.Contains(page, "张志明") {
		t.Error("the expired draft was resumed")
	}
}

// The form is for the keyboard: Enter in a field presses the form's first
// submit button, which must be the harmless checklist (the script moves to
// the next field instead); no positive tabindex reorders Tab; every
// control has its label; the personal fields are not remembered by the
// browser.
func TestIntakeFormForTheKeyboard(t *testing.T) {
	r := newRig(t)
	clerk := r.signIn("luojiang", "pw-luojiang")
	_, page := clerk.get("/console/intake")
	i := strings.Index(page, `<form id="intake"`)
	if i < 0 {
		t.Fatal("no intake form")
	}
	form := page[i : i+strings.Index(page[i:], "</form>")]
	if !strings.Contains(form[:strings.Index(form, ">")], `autocomplete="off"`) {
		t.Error("the form does not turn autocomplete off")
	}
	first := regexp.MustCompile(`<button type="submit"[^>]*>`).FindString(form)
	if !strings.Contains(first, `value="checklist"`) {
		t.Errorf("the default button (Enter) is %s, want the checklist", first)
	}
	if regexp.MustCompile(`tabindex="[1-9]`).MatchString(page) {
		t.Error("a positive tabindex reorders the Tab key")
	}
	controls := regexp.MustCompile(`(<label class="check">)?<(input|select)\b([^>]*)>`).FindAllStringSubmatch(form, -1)
	if len(controls) < 30 {
		t.Fatalf("only %d controls found", len(controls))
	}
	idAttr := regexp.MustCompile(`\bid="([^"]+)"`)
	for _, m := range controls {
		switch id := idAttr.FindStringSubmatch(m[3]); {
		case strings.Contains(m[3], `type="hidden"`):
		case m[1] != "": // wrapped in its label
		case id == nil:
			t.Errorf("control without a label: %s", m[0])
		case !strings.Contains(form, `<label for="`+id[1]+`">`):
			t.Errorf("no label for #%s", id[1])
		}
	}
	for _, id := range []string{"name", "idNumber", "birthDate", "sex", "ethnicity", "mobile", "village", "detail", "guardianName", "guardianPhone", "certNumber", "postAddress", "recipient", "recipientPhone"} {
		if !regexp.MustCompile(`<(input|select) id="` + id + `"[^>]*autocomplete="off"`).MatchString(form) {
			t.Errorf("#%s does not say autocomplete=off", id)
		}
	}
	if !strings.Contains(page, `<script src="/console/static/intake.js" defer></script>`) {
		t.Error("the form does not load its script")
	}
}

// The console's scripts keep nothing in the browser (a window PC is
// shared), and are served under a policy that runs only the console's own.
func TestScriptsKeepNothingInTheBrowser(t *testing.T) {
	files, err := staticFS.ReadDir("static")
	if err != nil {
		t.Fatal(err)
	}
	scripts := 0
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ".js") {
			continue
		}
		scripts++
		body, _ := staticFS.ReadFile("static/" + f.Name())
		for _, api := range []string{"localStorage", "sessionStorage", "indexedDB", "document.cookie", "caches.open"} {
			if strings.Contains(string(body), api) {
				t.Errorf("%s uses %s", f.Name(), api)
			}
		}
	}
	if scripts == 0 {
		t.Fatal("no script found to check")
	}
	r := newRig(t)
	resp, body := get(t, r.srv.Client(), r.srv.URL+"/console/static/intake.js", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "javascript") || !strings.Contains(body, "idNumber") {
		t.Errorf("intake.js: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("policy %q", csp)
	}
}

// The case list's town filter offers the towns a person may see, of the
// counties they serve: a 达川区 town clerk their own town only, an
// operator every county's towns, grouped.
func TestListTownFilterOfTheCounties(t *testing.T) {
	withDachuan(t)
	accounts := append(rigAccounts(t), Account{Username: "yizhen", PasswordHash: hash(t, "pw-yizhen"), Role: "staff", Towns: []string{"511703101"}})
	r := newRigWith(t, accounts, nil)
	filter := regexp.MustCompile(`(?s)<select name="town">(.*?)</select>`)
	_, page := r.signIn("yizhen", "pw-yizhen").get("/console/")
	m := filter.FindStringSubmatch(page)
	if m == nil || !strings.Contains(m[1], `<option value="511703101" >乙镇</option>`) || strings.Contains(m[1], "511703001") || strings.Contains(m[1], "511702") {
		t.Errorf("the town filter of a 乙镇 clerk: %v", m)
	}
	// The household town on the intake form: the clerk's own towns only
	// (the address may be anywhere in the county).
	_, page = r.signIn("yizhen", "pw-yizhen").get("/console/intake")
	household := regexp.MustCompile(`(?s)<select id="householdDivision"[^>]*>(.*?)</select>`).FindStringSubmatch(page)
	if household == nil || !strings.Contains(household[1], `value="511703101"`) || strings.Contains(household[1], "511703001") {
		t.Errorf("the household towns of a 乙镇 clerk: %v", household)
	}
	_, page = r.signIn("ops", "pw-ops").get("/console/")
	m = filter.FindStringSubmatch(page)
	if m == nil || !strings.Contains(m[1], `<optgroup label="通川区"><option value="511702001" >`) || !strings.Contains(m[1], `<optgroup label="达川区"><option value="511703001" >甲街道</option>`) {
		t.Errorf("the operator's town filter is not every county's, grouped: %.400v", m)
	}
}
