package console_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"onething/gateway/devstack"
)

// A clerk takes a form in with the keyboard only: Tab from the top of the
// page reaches the name field, Enter there moves on to the ID number
// instead of sending half a form, and leaving the ID field fills birth date
// and sex from it (the console's own script), the next Tab landing on the
// birth date as the form reads.
func TestIntakeByKeyboard(t *testing.T) {
	exe := chromium(t)
	st, err := devstack.Start(devstack.Options{Dir: t.TempDir(), Delay: 40 * time.Millisecond, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	ctx := headless(t, exe)
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, steps...); err != nil {
			here, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`"focus #" + document.activeElement.id + ", ID " + (document.getElementById("idNumber") || {}).value + ", birth " + (document.getElementById("birthDate") || {}).value + ", sex " + (document.getElementById("sex") || {}).value`))
			t.Fatalf("%s: %v; %s", what, err, here)
		}
	}
	focused := func(id string) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](`document.activeElement && document.activeElement.id === "` + id + `"`)
	}

	do("sign in", chromedp.Navigate(st.GatewayURL+"/console/login"),
		chromedp.SendKeys(chromedp.ID("username"), "clerk"), chromedp.SendKeys(chromedp.ID("password"), st.ClerkPassword+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("form[role=search]")))
	do("open the form", chromedp.Navigate(st.GatewayURL+"/console/intake"), chromedp.WaitVisible(chromedp.ID("name")),
		// A mark on this page: a form sent or a page reloaded loses it.
		chromedp.Evaluate[chromedp.Void](`window.sameIntakePage = true`))

	// Tab from the top of the page (skip link, menu, language, sign-out)
	// until the name field has the focus; the form comes first after them.
	var reached bool
	for i := 0; i < 20 && !reached; i++ {
		do("tab", chromedp.KeyEvent(kb.Tab))
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		reached, err = chromedp.Run(sctx, chromedp.Evaluate[bool](`document.activeElement.id === "name"`))
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	if !reached {
		t.Fatal("20 Tabs from the top of the page did not reach the name field")
	}

	do("type the name and press Enter", chromedp.KeyEvent("张志明"), chromedp.KeyEvent(kb.Enter), focused("idNumber"))
	do("type the ID number and leave the field", chromedp.KeyEvent("51170219850307123X"), chromedp.KeyEvent(kb.Tab), focused("birthDate"),
		chromedp.Poll[chromedp.Void](`document.getElementById("birthDate").value === "1985-03-07" && document.getElementById("sex").value === "male"`))

	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	state, err := chromedp.Run(sctx, chromedp.Evaluate[struct {
		Same     bool   `json:"same"`
		Name     string `json:"name"`
		Location string `json:"location"`
		Errors   int    `json:"errors"`
	}](`({same: window.sameIntakePage === true, name: document.getElementById("name").value, location: location.pathname + location.search,
	     errors: document.querySelectorAll(".field-error").length})`))
	if err != nil {
		t.Fatal(err)
	}
	if !state.Same || state.Location != "/console/intake" || state.Errors != 0 {
		t.Errorf("Enter in the name field sent the form: %+v", state)
	}
	if state.Name != "张志明" {
		t.Errorf("the name field holds %q", state.Name)
	}
	if ids, err := st.Service.Store.FindByIDNumber(context.Background(), "51170219850307123X"); err != nil || len(ids) != 0 {
		t.Errorf("an application was stored: %v %v", ids, err)
	}
}
