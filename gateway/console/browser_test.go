package console_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	c "onething/contracts"
	"onething/gateway/console"
	"onething/gateway/devstack"
	"onething/gateway/store"
	"onething/mocks"
)

// chromium finds the browser; CI installs Debian's chromium and must not
// skip these tests.
func chromium(t *testing.T) string {
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium: CI must install it (.ci/run does)")
	}
	t.Skip("no chromium on this machine (apt-get install chromium)")
	return ""
}

// artefacts is where the printed receipt and other by-products go:
// $ONETHING_ARTEFACTS, or a temp dir.
func artefacts(t *testing.T) string {
	dir := os.Getenv("ONETHING_ARTEFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "onething-console-artefacts")
	}
	os.MkdirAll(dir, 0o755)
	return dir
}

// screenshots is where the pages' screenshots go: docs/screenshots, which
// every run refreshes ($ONETHING_SCREENSHOTS elsewhere).
func screenshots(t *testing.T) string {
	dir := os.Getenv("ONETHING_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "docs", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// intakeForm fills the intake form of 张志明 of 罗江镇 with this ID number
// (birth date 1985-03-07): a new certificate of category 4, the two
// subsidies, the medical insurance subsidy, the originals attested; more
// actions may tick further boxes.
func intakeForm(id string, more ...chromedp.Action[chromedp.Void]) []chromedp.Action[chromedp.Void] {
	return append([]chromedp.Action[chromedp.Void]{
		chromedp.SendKeys(chromedp.ID("name"), "张志明"),
		chromedp.SetValue(chromedp.ID("idNumber"), id),
		chromedp.SetValue(chromedp.ID("birthDate"), "1985-03-07"),
		chromedp.SendKeys(chromedp.ID("mobile"), "13881801234"),
		chromedp.SendKeys(chromedp.ID("village"), "龙潭村"),
		chromedp.Click(chromedp.CSS("input[name=dibao]")),
		chromedp.SetValue(chromedp.ID("business"), "cert.new"),
		chromedp.SetValue(chromedp.ID("category"), "4"),
		chromedp.Click(chromedp.CSS("input[name=twoSubsidies]")),
		chromedp.Click(chromedp.CSS("input[name=medical]")),
		chromedp.Click(chromedp.CSS("input[name=attest]")),
	}, more...)
}

// headless starts a headless Chromium with a profile of its own and the
// window of a window PC (1366×768), stopped when the test ends.
func headless(t *testing.T, exe string) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 768))
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	// The first run starts the browser: no deadline on it (it would stop
	// the browser); the steps after it get one each.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// The whole console in a real browser: sign in, a refused and an accepted
// offline intake, the case in the list, its progress to completed, and the
// replay of a dead letter.
func TestConsoleInABrowser(t *testing.T) {
	exe := chromium(t)
	st, err := devstack.Start(devstack.Options{Dir: t.TempDir(), Delay: 40 * time.Millisecond, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	// The console as the gateway serves it (devstack turns it on with a
	// clerk of 罗江镇 and an operator).
	srv := struct{ URL string }{st.GatewayURL}
	// browser is a Chromium of its own (its own cookies).
	browser := func() context.Context { return headless(t, exe) }
	// bounded gives one step a deadline, and on failure shows the page.
	bounded := func(ctx context.Context) (context.Context, context.CancelFunc) {
		return context.WithTimeout(ctx, 20*time.Second)
	}
	dir := screenshots(t)
	// shot saves the visible part of the page (1366×768, a window PC's
	// screen) for the README, after checking that the page shows no code
	// of the display-name table as text (the Chinese pages).
	shot := func(ctx context.Context, name string) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		page, err := chromedp.Run(sctx, chromedp.OuterHTML(chromedp.CSS("html")))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if codes := console.CodesShown(t, page); len(codes) > 0 {
			t.Errorf("%s shows codes as text: %v", name, codes)
		}
		buf, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	do := func(ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := bounded(ctx)
		defer cancel()
		if err := chromedp.Do(sctx, steps...); err != nil {
			page, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
			t.Fatalf("%v; the page says: %.600s", err, page)
		}
	}
	// submit clicks something that sends a form (or follows a link) and
	// waits until the page the server answers with has loaded, then runs the checks on that
	// page. Waiting on an element alone is not enough: when the element is
	// also on the page the form was sent from (a case link on the list the
	// search starts from), the wait can find it there just as the page is
	// replaced, and fails with "Could not find node with given id".
	submit := func(ctx context.Context, click chromedp.Action[chromedp.Void], then ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := bounded(ctx)
		defer cancel()
		if _, err := chromedp.RunResponse(sctx, click); err != nil {
			page, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
			t.Fatalf("the form's answer did not load: %v; the page says: %.600s", err, page)
		}
		do(ctx, then...)
	}
	text := func(ctx context.Context, css string) string {
		t.Helper()
		sctx, cancel := bounded(ctx)
		defer cancel()
		s, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS(css)))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	signIn := func(ctx context.Context, user, pw string) {
		do(ctx, chromedp.Navigate(srv.URL+"/console/login"),
			chromedp.SendKeys(chromedp.ID("username"), user), chromedp.SendKeys(chromedp.ID("password"), pw))
		submit(ctx, chromedp.Click(chromedp.CSS("form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("form[role=search]")))
	}
	fill := func(ctx context.Context, id string) {
		do(ctx, append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(srv.URL + "/console/intake")}, intakeForm(id)...)...)
	}

	clerk := browser()
	signIn(clerk, "clerk", st.ClerkPassword)
	shot(clerk, "01-case-list")
	// A wrong check character: the page says which field, in Chinese.
	fill(clerk, "511702198503071231")
	submit(clerk, chromedp.Click(chromedp.CSS("button[value=submit]")), chromedp.WaitVisible(chromedp.CSS(".field-error")))
	if errText := text(clerk, ".field-error"); !strings.Contains(errText, "校验码") {
		t.Errorf("field error %q", errText)
	}
	shot(clerk, "02-intake-field-error")
	// Corrected: the checklist for this case, then accepted.
	do(clerk, chromedp.SetValue(chromedp.ID("idNumber"), "51170219850307123X"))
	submit(clerk, chromedp.Click(chromedp.CSS("button[value=checklist]")),
		chromedp.WaitVisible(chromedp.Search(`//legend[contains(., "材料清单")]`)))
	shot(clerk, "03-intake-checklist")
	submit(clerk, chromedp.Click(chromedp.CSS("button[value=submit]")), chromedp.WaitVisible(chromedp.Search(`//h1[contains(., "办件详情")]`)))
	lctx, lcancel := bounded(clerk)
	defer lcancel()
	location, err := chromedp.Run(lctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimPrefix(strings.SplitN(location, "?", 2)[0], srv.URL+"/console/cases/")
	if len(id) != 26 {
		t.Fatalf("landed on %s", location)
	}
	// The case is found by ID number through the (posted) search form:
	// the number is not in the address afterwards. Open it and watch it
	// reach completed.
	link := chromedp.CSS(fmt.Sprintf(`a[href="/console/cases/%s"]`, id))
	do(clerk, chromedp.Navigate(srv.URL+"/console/"), chromedp.SetValue(chromedp.CSS(`input[name="q"]`), "51170219850307123X"))
	submit(clerk, chromedp.Click(chromedp.CSS(`form.filters button[type="submit"]`)), chromedp.WaitVisible(link))
	if here, err := chromedp.Run(lctx, chromedp.Location()); err != nil || strings.Contains(here, "51170219850307123") {
		t.Errorf("after the search the address is %q (%v)", here, err)
	}
	submit(clerk, chromedp.Click(link), chromedp.WaitVisible(chromedp.Search(`//h1[contains(., "办件详情")]`)))
	// The case page refreshes its items in place while one is not final:
	// a mark set on the page now survives until every item is final (no
	// reload), and the steps reach 办结.
	do(clerk, chromedp.Evaluate[chromedp.Void](`window.sameCasePage = true`))
	shot(clerk, "04-case-page")
	wctx, wcancel := context.WithTimeout(clerk, 60*time.Second)
	defer wcancel()
	if err := chromedp.Do(wctx, chromedp.Poll[chromedp.Void](`window.sameCasePage === true && document.querySelector("[data-live]") !== null &&
		document.querySelector("[data-live]").getAttribute("data-live") === "false"`, chromedp.WithPollingInterval(200*time.Millisecond))); err != nil {
		live, _ := chromedp.Run(clerk, chromedp.Evaluate[string](`String(window.sameCasePage) + " " + (document.querySelector("[data-live]") || {outerHTML: "no items"}).outerHTML.slice(0, 400)`))
		t.Fatalf("the case page did not refresh itself to the end: %v; %s", err, live)
	}
	if steps := text(clerk, "[data-live]"); !strings.Contains(steps, "办结") {
		t.Errorf("the items after the refresh: %q", steps)
	}
	do(clerk, chromedp.Reload(), chromedp.WaitVisible(chromedp.Search(`//strong[contains(., "已办结")]`)))
	shot(clerk, "05-case-completed")
	// The receipt, as the case page links it.
	submit(clerk, chromedp.Click(chromedp.Search(`//a[contains(., "回执")]`)), chromedp.WaitVisible(chromedp.Search(`//h1[contains(., "受理回执")]`)))
	shot(clerk, "06-receipt")
	do(clerk, chromedp.Navigate(srv.URL+"/console/cases/"+id), chromedp.WaitVisible(chromedp.ID("reason")))
	// Revealing the applicant needs a reason, and lands in the audit log.
	do(clerk, chromedp.SendKeys(chromedp.ID("reason"), "申请人来电核对信息"))
	submit(clerk, chromedp.Click(chromedp.Search(`//form[contains(@action, "/reveal")]//button`)),
		chromedp.WaitVisible(chromedp.Search(`//p[contains(., "审计日志")]`)))
	if page := text(clerk, "main"); !strings.Contains(page, "51170219850307123X") {
		t.Error("the reveal does not show the full ID number")
	}
	audit, err := st.Service.Engine.AuditLog(context.Background(), store.AuditQuery{ApplicationID: id})
	if err != nil {
		t.Fatal(err)
	}
	reads := 0
	for _, e := range audit.Entries {
		if e.Action == "record.read" && e.Subject == "console:clerk" && e.Reason == "申请人来电核对信息" {
			reads++
		}
	}
	if reads != 1 {
		t.Errorf("audit entries for the case %+v: want the one reveal", audit.Entries)
	}

	// A dead letter: medical refuses the next case as malformed; the
	// operator replays it once medical is fixed, and the case completes.
	st.Depts[c.DeptMedical].SetFaults(mocks.Faults{RefuseRate: 1})
	body, _ := c.Example("submission-orphan-medical.json")
	resp, err := devstack.PostSigned(st.GatewayURL+"/v1/portal/submissions", st.PortalSecret, "browser-dl", body)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("submission: %v %v", err, resp)
	}
	resp.Body.Close()
	ops := browser()
	signIn(ops, "ops", st.OpsPassword)
	deadline := time.Now().Add(20 * time.Second)
	var taskCell string
	for !strings.Contains(taskCell, "-1") {
		if time.Now().After(deadline) {
			t.Fatal("no dead letter appeared")
		}
		time.Sleep(200 * time.Millisecond)
		do(ops, chromedp.Navigate(srv.URL+"/console/ops/dead-letters"))
		taskCell = text(ops, "tbody tr td")
	}
	st.Depts[c.DeptMedical].SetFaults(mocks.Faults{})
	// The operator's to-do list names the dead letter too.
	do(ops, chromedp.Navigate(srv.URL+"/console/todo"), chromedp.WaitVisible(chromedp.Search(`//h1[contains(., "待办")]`)))
	if todo := text(ops, "main"); !strings.Contains(todo, taskCell[:strings.LastIndex(taskCell, "-")]) {
		t.Errorf("the to-do page does not list the dead letter's case: %.400s", todo)
	}
	shot(ops, "07-todo")
	do(ops, chromedp.Navigate(srv.URL+"/console/ops/dead-letters"), chromedp.WaitVisible(chromedp.CSS("tbody form button")))
	shot(ops, "08-dead-letters")
	submit(ops, chromedp.Click(chromedp.CSS("tbody form button")), chromedp.WaitVisible(chromedp.CSS("p.notice")))
	if flash := text(ops, "p.notice"); !strings.Contains(flash, "已重新发送") {
		t.Errorf("after replay: %q", flash)
	}
	appID := strings.TrimSpace(taskCell[:strings.LastIndex(taskCell, "-")])
	deadline = time.Now().Add(20 * time.Second)
	for {
		app, err := st.Service.Store.Get(context.Background(), appID)
		if err == nil && app.Status.State == c.AppCompleted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replayed case never completed: %+v", app)
		}
		time.Sleep(100 * time.Millisecond)
	}
	do(ops, chromedp.Navigate(srv.URL+"/console/ops/health"))
	shot(ops, "09-health")
	do(ops, chromedp.Navigate(srv.URL+"/console/ops/sla"))
	shot(ops, "10-sla")
	t.Logf("screenshots in %s", dir)
}
