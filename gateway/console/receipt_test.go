package console

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"onething/civil"
	c "onething/contracts"
	"onething/gateway/calendar"
)

// takeIn accepts the rig's joint application at the window as clerk and
// returns its id.
func (b *browser) takeIn(idNumber string) string {
	b.t.Helper()
	status, _, loc := b.post("/console/intake", b.form(idNumber))
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/cases/") {
		b.t.Fatalf("intake: %d %s", status, loc)
	}
	id := strings.TrimPrefix(strings.SplitN(loc, "?", 2)[0], "/console/cases/")
	b.r.mu.Lock()
	b.r.ids = append(b.r.ids, id)
	b.r.mu.Unlock()
	return id
}

// lateInLastYear puts the business clock on 20 November of the last year
// the holiday data covers: 15 working days end that year, 45 reach into
// the next one, whose due dates are provisional.
func lateInLastYear(r *rig) time.Time {
	at := time.Date(calendar.Default().Last(), 11, 20, 10, 30, 0, 0, civil.Zone)
	r.eng.Flow.Now = func() time.Time { return at }
	return at
}

// receiptRow is an item's row on the receipt: its name, department and due.
var receiptRow = regexp.MustCompile(`<tr><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td></tr>`)

func receiptRows(page string) map[string][2]string {
	rows := map[string][2]string{}
	for _, m := range receiptRow.FindAllStringSubmatch(page, -1) {
		rows[m[1]] = [2]string{m[2], m[3]}
	}
	return rows
}

// TestReceipt: the 受理回执 of a case taken in at 罗江镇's window, linked
// from the case page: the applicant masked, each item with its county
// department and due date (暂定 where the year's holidays are not
// published), the checklist received and the attestation, the window and
// clerk, the date in China time and a QR code of the id; not audited;
// another town's clerk gets 404, as for the case page.
func TestReceipt(t *testing.T) {
	r := newRig(t)
	at := lateInLastYear(r)
	clerk := r.signIn("luojiang", "pw-luojiang")
	id := clerk.takeIn("51170219850307123X")

	app, err := r.eng.Store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if app.Intake == nil || *app.Intake != (c.Intake{Window: "511702102", Clerk: "luojiang", Attested: true}) {
		t.Errorf("stored intake %+v, want 罗江镇's window, luojiang, attested", app.Intake)
	}
	// (A portal's body cannot set it: gateway/api TestKeysMatchExactly.)

	_, detail := clerk.get("/console/cases/" + id)
	if !regexp.MustCompile(`<a href="/console/cases/` + id + `/receipt">[^<]*回执[^<]*</a>`).MatchString(detail) {
		t.Error("the case page has no link to the receipt")
	}
	if strings.Contains(detail, "/notice") {
		t.Error("the case page links a notice while nothing is missing")
	}

	r.mu.Lock()
	audited := len(r.entries)
	r.mu.Unlock()
	status, page := clerk.get("/console/cases/" + id + "/receipt")
	if status != http.StatusOK {
		t.Fatalf("receipt: %d", status)
	}
	for _, want := range []string{"受理回执", id, app.PortalRef, "张**", "5117**********123X", "罗江镇",
		"罗江镇综合受理窗口", "luojiang", civil.Of(at).String(), strings.ReplaceAll(civil.Display(at), "+", "&#43;"), // html/template writes + as &#43;
		"已核对身份证、居民户口簿、社保卡原件", "《中华人民共和国残疾人证评定表》", "三张两寸近期免冠白底照片",
		`<svg class="qr"`, `href="/console/static/print.css"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the receipt lacks %q", want)
		}
	}
	for _, never := range []string{"51170219850307123X", "张志明", "13881801234", "龙潭村"} {
		if strings.Contains(page, never) {
			t.Errorf("the receipt shows %q", never)
		}
	}
	rows := receiptRows(page)
	pension, medical := rows["城乡居民基本养老保险补助"], rows["救助对象参加城乡居民基本医疗保险个人缴费补贴"]
	if pension[0] != "通川区人社局" || !strings.HasSuffix(pension[1], "（暂定）") || !strings.HasPrefix(pension[1], strconv.Itoa(calendar.Default().Last()+1)) {
		t.Errorf("pension row %q: want 通川区人社局, a due date next year marked 暂定", pension)
	}
	if medical[0] != "通川区医保局" || strings.Contains(medical[1], "暂定") || !strings.HasPrefix(medical[1], strconv.Itoa(calendar.Default().Last())) {
		t.Errorf("medical row %q: want 通川区医保局, a due date this year, not provisional", medical)
	}
	if cert := rows["残疾人证新办"]; cert[0] != "通川区残联" || !strings.Contains(cert[1], "自评定结果公示") {
		t.Errorf("certificate row %q: want 通川区残联 and the limit from the publicity", cert)
	}
	r.mu.Lock()
	if len(r.entries) != audited {
		t.Errorf("reading the receipt wrote %d audit entries; the masked receipt is not audited, as the case page is not", len(r.entries)-audited)
	}
	r.mu.Unlock()

	css, err := staticFS.ReadFile("static/print.css")
	if err != nil || !strings.Contains(string(css), "size: A4") || !strings.Contains(string(css), "@media print") {
		t.Errorf("print.css: A4 page and print rules missing (%v)", err)
	}

	// In English too, with the id and the masked applicant.
	clerk.get("/console/cases/" + id + "/receipt?lang=en") // sets the language
	if _, en := clerk.get("/console/cases/" + id + "/receipt"); !strings.Contains(en, "<h1>Receipt of acceptance") || !strings.Contains(en, "5117**********123X") || strings.Contains(en, "<h1>扶残助困一件事 受理回执") {
		t.Error("the English receipt lacks its title or the masked ID, or keeps the Chinese title")
	}

	// The case page's access rule.
	other := r.signIn("dongcheng", "pw-dongcheng")
	for _, path := range []string{"/receipt", "/notice"} {
		if status, page := other.get("/console/cases/" + id + path); status != http.StatusNotFound || strings.Contains(page, "5117") {
			t.Errorf("a clerk of 东城街道 opens %s of a 罗江镇 case: %d", path, status)
		}
	}
	ops := r.signIn("ops", "pw-ops")
	if status, _ := ops.get("/console/cases/" + id + "/receipt"); status != http.StatusOK {
		t.Errorf("an operator's receipt: %d", status)
	}
	anon := &browser{t: t, r: r, http: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if status, _ := anon.get("/console/cases/" + id + "/receipt"); status != http.StatusSeeOther {
		t.Errorf("an anonymous receipt: %d", status)
	}
}

// TestOneTimeNotice: the 一次性告知书 lists exactly the supplements asked
// for and not yet provided, masked, with item, department, what, where
// and date; the case page links it only then; with nothing missing it
// says so.
func TestOneTimeNotice(t *testing.T) {
	r := newRig(t)
	lateInLastYear(r)
	clerk := r.signIn("luojiang", "pw-luojiang")
	id := clerk.takeIn("51170219850307123X")
	ctx := context.Background()

	if status, page := clerk.get("/console/cases/" + id + "/notice"); status != http.StatusOK || !strings.Contains(page, "没有需要补正的材料") || strings.Contains(page, "<th>需补正材料</th>") {
		t.Errorf("notice with nothing missing: %d", status)
	}

	app, err := r.eng.Store.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	task := map[c.ItemCode]*c.Task{}
	for _, tk := range app.Tasks {
		task[tk.Item] = tk
	}
	// cdpf and hrss ask for something; medical asks too, and it is brought.
	asks := map[c.ItemCode]string{
		c.ItemCertNew:        "补交精神科诊断证明（张志明，51170219850307123X）",
		c.ItemPensionSubsidy: "补交户口簿首页复印件",
		c.ItemMedicalSubsidy: "补交低保证复印件",
	}
	when := r.eng.Flow.Now()
	for item, what := range asks {
		tk := task[item]
		for i, ev := range []c.DeptEvent{
			{EventID: tk.ID + "-a", TaskID: tk.ID, Type: c.EventAccepted, OccurredAt: when},
			{EventID: tk.ID + "-s", TaskID: tk.ID, Type: c.EventSupplementRequired, OccurredAt: when.Add(time.Second), Reason: &c.Message{ZH: what, EN: "a supplement"}},
		} {
			if _, _, err := r.eng.ApplyEvent(ctx, tk.Dept, &ev); err != nil {
				t.Fatalf("event %d on %s: %v", i, item, err)
			}
		}
	}
	if status, _, _ := clerk.post("/console/cases/"+id+"/supplement", map[string][]string{"csrf": {clerk.csrf}, "task": {task[c.ItemMedicalSubsidy].ID}, "note": {"低保证复印件一份"}}); status != http.StatusSeeOther {
		t.Fatalf("recording the medical supplement: %d", status)
	}
	// The same round again is not "done" a second time (outsider: 303
	// supplemented, while nothing was recorded or forwarded).
	if status, body, _ := clerk.post("/console/cases/"+id+"/supplement", map[string][]string{"csrf": {clerk.csrf}, "task": {task[c.ItemMedicalSubsidy].ID}, "note": {"再次补交"}}); status != http.StatusConflict || !strings.Contains(body, "本轮补正已登记") {
		t.Fatalf("recording the same round again: %d", status)
	}

	_, detail := clerk.get("/console/cases/" + id)
	if !regexp.MustCompile(`<a href="/console/cases/` + id + `/notice">[^<]*一次性告知书[^<]*</a>`).MatchString(detail) {
		t.Error("the case page does not link the notice while supplements are missing")
	}
	status, page := clerk.get("/console/cases/" + id + "/notice")
	if status != http.StatusOK {
		t.Fatalf("notice: %d", status)
	}
	row := regexp.MustCompile(`<tr><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td></tr>`)
	got := map[string][]string{}
	for _, m := range row.FindAllStringSubmatch(page, -1) {
		got[m[1]] = m[2:]
	}
	day := civil.Of(when).String()
	want := map[string][]string{
		"残疾人证新办":       {"通川区残联", "补交精神科诊断证明（张**，51**************3X）", "", day},
		"城乡居民基本养老保险补助": {"通川区人社局", "补交户口簿首页复印件", "", day},
	}
	if len(got) != len(want) {
		t.Errorf("the notice lists %d items %v, want exactly the 2 open supplements", len(got), got)
	}
	for item, w := range want {
		g, ok := got[item]
		if !ok {
			t.Errorf("the notice lacks %s", item)
			continue
		}
		if g[0] != w[0] || g[1] != w[1] || g[2] == "" || g[3] != w[3] {
			t.Errorf("%s: %q, want department %s, what %s, a place, asked on %s", item, g, w[0], w[1], w[3])
		}
	}
	for _, wantText := range []string{"一次性告知书", id, "张**", "5117**********123X", "罗江镇综合受理窗口", "luojiang"} {
		if !strings.Contains(page, wantText) {
			t.Errorf("the notice lacks %q", wantText)
		}
	}
	for _, never := range []string{"51170219850307123X", "张志明", "补交低保证复印件"} {
		if strings.Contains(page, never) {
			t.Errorf("the notice shows %q", never)
		}
	}
}

// The receipt and the case page give an item that no department has
// started the same due date (counted from the window's acceptance), an
// item waiting on another no date on either (its clock starts later), and
// a withdrawn item is 已撤回 on the receipt, never 已办结.
func TestReceiptAndCasePageAgree(t *testing.T) {
	r := newRig(t)
	lateInLastYear(r)
	clerk := r.signIn("luojiang", "pw-luojiang")
	id := clerk.takeIn("51170219850307123X")
	_, receipt := clerk.get("/console/cases/" + id + "/receipt")
	_, detail := clerk.get("/console/cases/" + id)
	rows := receiptRows(receipt)
	pension := rows["城乡居民基本养老保险补助"][1]
	date := strings.TrimSuffix(pension, "（暂定）")
	if _, err := civil.Parse(date); err != nil {
		t.Fatalf("the receipt's pension due %q", pension)
	}
	if !strings.Contains(detail, date) || !strings.Contains(detail, "按窗口受理日计算") {
		t.Errorf("the case page does not give the receipt's pension due date %s, counted from the window's acceptance", date)
	}
	if living := rows["困难残疾人生活补贴"][1]; living != "前序事项办结后起算" {
		t.Errorf("the living subsidy waiting on the certificate has a due %q on the receipt", living)
	}
	if !strings.Contains(detail, "前序事项办结后起算") {
		t.Error("the case page gives a waiting item a date")
	}

	if _, err := r.eng.Withdraw(context.Background(), id, "test-withdraw", "不再需要"); err != nil {
		t.Fatal(err)
	}
	_, receipt = clerk.get("/console/cases/" + id + "/receipt")
	if !strings.Contains(receipt, "已撤回") || strings.Contains(receipt, "已办结") {
		t.Errorf("the receipt of a withdrawn case: %s", visibleText(t, receipt))
	}
}
