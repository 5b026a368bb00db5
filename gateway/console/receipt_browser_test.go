package console_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"onething/civil"
	"onething/gateway/calendar"
	"onething/gateway/devstack"
	"onething/mocks"
)

// popplerTool finds one of poppler-utils' tools (pdftotext, pdfinfo); CI
// installs them (.ci/run) and must not skip.
func popplerTool(t *testing.T, name string) string {
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("no %s: CI must install poppler-utils (.ci/run does)", name)
	}
	t.Skipf("no %s on this machine (apt-get install poppler-utils)", name)
	return ""
}

// TestReceiptPrintsOnA4: a clerk of 罗江镇 takes a case in at the window,
// follows the case page's link to the 受理回执 and prints it with
// Chromium's own print to PDF on A4; pdftotext reads the paper back: one
// A4 page with the title, the application id, the masked ID number, the
// items, 暂定 on the provisional due date, and neither the full ID number
// nor the console's navigation. The case's 一次性告知书 prints on one
// sheet too.
func TestReceiptPrintsOnA4(t *testing.T) {
	exe := chromium(t)
	pdftotext, pdfinfo := popplerTool(t, "pdftotext"), popplerTool(t, "pdfinfo")
	// Late in the last year the holiday data covers: the pension
	// subsidy's 45 working days reach into a year not yet published.
	start := time.Date(calendar.Default().Last(), 11, 20, 10, 0, 0, 0, civil.Zone)
	clock, err := civil.NewShifted(start, 1)
	if err != nil {
		t.Fatal(err)
	}
	// The widest sheet, made deterministic: the certificate waits on a
	// supplement (its due date is a sentence, the subsidies' "counted
	// once…"), while the pension and medical items are done (their names
	// grow a state). A window prints the receipt in any such state.
	const idNumber = "51170219850307123X"
	script := map[string]mocks.CertOutcome{idNumber: {Supplement: "残疾评定所需的近期病历"}}
	st, err := devstack.Start(devstack.Options{Dir: t.TempDir(), Delay: 40 * time.Millisecond, Clock: clock, CertScript: script,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()

	ctx := headless(t, exe)
	step := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, steps...); err != nil {
			page, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
			t.Fatalf("%s: %v; the page says: %.600s", what, err, page)
		}
	}
	// load clicks something that loads a page and waits for its answer.
	load := func(what string, click chromedp.Action[chromedp.Void], then chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if _, err := chromedp.RunResponse(sctx, click); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		step(what, then)
	}

	step("sign in", chromedp.Navigate(st.GatewayURL+"/console/login"),
		chromedp.SendKeys(chromedp.ID("username"), "clerk"), chromedp.SendKeys(chromedp.ID("password"), st.ClerkPassword))
	load("sign in", chromedp.Click(chromedp.CSS("form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("form[role=search]")))
	step("fill the form", append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(st.GatewayURL + "/console/intake")},
		intakeForm(idNumber, chromedp.Click(chromedp.CSS("input[name=pension]")))...)...)
	load("take the case in", chromedp.Click(chromedp.CSS("button[value=submit]")), chromedp.WaitVisible(chromedp.Search(`//h1[contains(., "办件详情")]`)))
	location, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimPrefix(strings.SplitN(location, "?", 2)[0], st.GatewayURL+"/console/cases/")
	if len(id) != 26 {
		t.Fatalf("landed on %s", location)
	}
	load("open the receipt", chromedp.Click(chromedp.Search(`//a[contains(., "回执")]`)), chromedp.WaitVisible(chromedp.Search(`//h1[contains(., "受理回执")]`)))
	// Reload the receipt until the medical item is done (the certificate
	// stays open on its supplement).
	receiptURL, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("article.paper")))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(body, "个人缴费补贴（已办结）") && strings.Contains(body, "前序事项办结后起算") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the receipt never showed the medical item done and the subsidies waiting:\n%s", body)
		}
		time.Sleep(200 * time.Millisecond)
		step("reload the receipt", chromedp.Navigate(receiptURL), chromedp.WaitVisible(chromedp.Search(`//h1[contains(., "受理回执")]`)))
	}

	// printA4 prints the page in the browser to name.pdf and reads it
	// back: one sheet of A4 (595 x 842 points), its text without spacing
	// (table cells wrap).
	printA4 := func(name string) (text, raw string) {
		t.Helper()
		pctx, pcancel := context.WithTimeout(ctx, 30*time.Second)
		defer pcancel()
		pdf, err := chromedp.Run(pctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4)))
		if err != nil {
			t.Fatalf("print %s to PDF: %v", name, err)
		}
		file := filepath.Join(artefacts(t), name+".pdf")
		if err := os.WriteFile(file, pdf, 0o644); err != nil {
			t.Fatal(err)
		}
		info, err := exec.Command(pdfinfo, file).Output()
		if err != nil {
			t.Fatalf("pdfinfo: %v", err)
		}
		if !regexp.MustCompile(`(?m)^Pages:\s+1$`).Match(info) || !regexp.MustCompile(`(?m)^Page size:\s+595\.\d* x 841\.\d*`).Match(info) {
			t.Errorf("the %s is not one A4 page:\n%s", name, info)
		}
		out, err := exec.Command(pdftotext, "-enc", "UTF-8", file, "-").Output()
		if err != nil {
			t.Fatalf("pdftotext: %v", err)
		}
		os.WriteFile(filepath.Join(artefacts(t), name+".txt"), out, 0o644)
		t.Logf("%s PDF in %s", name, file)
		return strings.Join(strings.Fields(string(out)), ""), string(out)
	}
	text, out := printA4("receipt")
	for _, want := range []string{"受理回执", id, "5117**********123X", "张**", "城乡居民基本养老保险补助", "残疾人证新办",
		"通川区人社局", "罗江镇综合受理窗口", "已核对身份证"} {
		if !strings.Contains(text, want) {
			t.Errorf("the printed receipt lacks %q", want)
		}
	}
	// 暂定 on a date (the page's note about 暂定 does not count).
	if !regexp.MustCompile(`\d{4}-\d{2}-\d{2}（暂定）`).MatchString(text) {
		t.Error("no due date on the printed receipt is marked 暂定")
	}
	for _, never := range []string{idNumber, idNumber[:17], "张志明", "办件查询", "返回办件详情", "退出"} {
		if strings.Contains(text, never) {
			t.Errorf("the printed receipt shows %q", never)
		}
	}
	if t.Failed() {
		t.Logf("the printed text (without a CJK font Chromium prints no Chinese: .ci/run installs fonts-wqy-microhei):\n%s", out)
	}

	// The 一次性告知书 of the same case, once the certificate's supplement
	// is asked for: one sheet too, naming what to bring, masked.
	noticeURL := strings.TrimSuffix(receiptURL, "/receipt") + "/notice"
	for deadline := time.Now().Add(30 * time.Second); ; {
		step("open the notice", chromedp.Navigate(noticeURL), chromedp.WaitVisible(chromedp.Search(`//h1[contains(., "一次性告知书")]`)))
		body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("article.paper")))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(body, "残疾评定所需的近期病历") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the notice never named the missing material:\n%s", body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	notice, noticeOut := printA4("notice")
	for _, want := range []string{"一次性告知书", id, "5117**********123X", "残疾评定所需的近期病历", "通川区残联"} {
		if !strings.Contains(notice, want) {
			t.Errorf("the printed notice lacks %q", want)
		}
	}
	for _, never := range []string{idNumber, idNumber[:17], "张志明", "办件查询", "退出"} {
		if strings.Contains(notice, never) {
			t.Errorf("the printed notice shows %q", never)
		}
	}
	if t.Failed() {
		t.Logf("the printed notice:\n%s", noticeOut)
	}
}
