package console

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"onething/contracts/contracttest"
	"onething/gateway/auth"
)

// attempt signs in as a browser from addr would (the sign-in page, then
// the form): the status and Retry-After of the form's answer.
func (r *rig) attempt(addr, user, pw string) (int, string) {
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodGet, r.srv.URL+"/console/login", nil)
	req.Header.Set("X-Test-Addr", addr)
	resp, err := cl.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	resp.Body.Close()
	m := csrfField.FindStringSubmatch(body.String())
	if m == nil {
		r.t.Fatal("no CSRF field on the sign-in page")
	}
	form := url.Values{"csrf": {m[1]}, "username": {user}, "password": {pw}}
	req, _ = http.NewRequest(http.MethodPost, r.srv.URL+"/console/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Test-Addr", addr)
	resp, err = cl.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

func (r *rig) bcrypts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.compares
}

// syncBuffer is a log sink for the tests.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A brute force on one account, from many addresses, is throttled: after
// 5 failures in 15 minutes the account waits, the attempt is answered 429
// with Retry-After at once without a bcrypt check, the right password is
// refused too until the wait is over, and the wait grows. Every failure
// is logged with the account and the address, never the password.
func TestSignInThrottledPerAccount(t *testing.T) {
	var logs syncBuffer
	r := newRigWith(t, nil, slog.New(slog.NewTextHandler(&logs, nil)))
	r.k.cfg.ClientIP = func(req *http.Request) string { return req.Header.Get("X-Test-Addr") }
	for i := range FreeFailures {
		if status, _ := r.attempt("10.0.0."+strconv.Itoa(i+1), "luojiang", "guess-"+strconv.Itoa(i)); status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, status)
		}
	}
	before := r.bcrypts()
	status, retry := r.attempt("10.0.9.9", "luojiang", "pw-luojiang")
	if status != http.StatusTooManyRequests || retry == "" {
		t.Fatalf("the right password after 5 failures from other addresses: %d, Retry-After %q; want 429 with Retry-After", status, retry)
	}
	if secs, _ := strconv.Atoi(retry); secs < 1 || time.Duration(secs)*time.Second > FirstDelay {
		t.Errorf("Retry-After %q, want 1…%v", retry, FirstDelay)
	}
	if got := r.bcrypts(); got != before {
		t.Errorf("a throttled attempt ran %d bcrypt checks, want none", got-before)
	}
	// Another account from those addresses is not held back by this one.
	if status, _ := r.attempt("10.0.9.9", "dongcheng", "pw-dongcheng"); status != http.StatusSeeOther {
		t.Errorf("another account: %d", status)
	}
	// Once the wait is over, one more failure makes a longer wait.
	r.advance(FirstDelay)
	if status, _ := r.attempt("10.0.9.8", "luojiang", "guess-6"); status != http.StatusUnauthorized {
		t.Fatalf("after the wait, a wrong password: %d", status)
	}
	if status, retry := r.attempt("10.0.9.8", "luojiang", "pw-luojiang"); status != http.StatusTooManyRequests {
		t.Fatalf("after the 6th failure: %d", status)
	} else if secs, _ := strconv.Atoi(retry); time.Duration(secs)*time.Second <= FirstDelay {
		t.Errorf("the wait did not grow: Retry-After %s", retry)
	}
	r.advance(2 * FirstDelay)
	if status, _ := r.attempt("10.0.9.8", "luojiang", "pw-luojiang"); status != http.StatusSeeOther {
		t.Errorf("the right password after the wait: %d", status)
	}
	out := logs.String()
	if strings.Count(out, "console sign-in refused") != FreeFailures+1 || !strings.Contains(out, "account=luojiang") || !strings.Contains(out, "address=10.0.0.3") {
		t.Errorf("failures not logged with account and address:\n%s", out)
	}
	if strings.Contains(out, "guess-") || strings.Contains(out, "pw-luojiang") {
		t.Error("a password is in the log")
	}
}

// An address trying many accounts is throttled the same way.
func TestSignInThrottledPerAddress(t *testing.T) {
	r := newRig(t)
	r.k.cfg.ClientIP = func(req *http.Request) string { return req.Header.Get("X-Test-Addr") }
	for i := range FreeFailures {
		if status, _ := r.attempt("192.0.2.7", "user"+strconv.Itoa(i), "pw"); status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, status)
		}
	}
	before := r.bcrypts()
	if status, retry := r.attempt("192.0.2.7", "ops", "pw-ops"); status != http.StatusTooManyRequests || retry == "" {
		t.Errorf("the address after 5 failures: %d %q, want 429", status, retry)
	}
	if r.bcrypts() != before {
		t.Error("a throttled attempt ran bcrypt")
	}
	if status, _ := r.attempt("192.0.2.8", "ops", "pw-ops"); status != http.StatusSeeOther {
		t.Errorf("another address: %d", status)
	}
}

// The bcrypt work is bounded: with every slot taken, a sign-in is
// answered 503 with Retry-After and checks nothing.
func TestSignInBcryptPool(t *testing.T) {
	r := newRig(t)
	for range BcryptSlots {
		r.k.bcrypt <- struct{}{}
	}
	before := r.bcrypts()
	status, retry := r.attempt("127.0.0.1", "luojiang", "pw-luojiang")
	for range BcryptSlots {
		<-r.k.bcrypt
	}
	if status != http.StatusServiceUnavailable || retry == "" || r.bcrypts() != before {
		t.Errorf("pool full: %d Retry-After %q, %d bcrypt checks; want 503, none", status, retry, r.bcrypts()-before)
	}
	if status, _ := r.attempt("127.0.0.1", "luojiang", "pw-luojiang"); status != http.StatusSeeOther {
		t.Errorf("pool free again: %d", status)
	}
}

// copy is another browser holding a copy of b's session cookie.
func (b *browser) copy() *browser {
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(b.r.srv.URL + "/console/")
	jar.SetCookies(u, b.http.Jar.Cookies(u))
	return &browser{t: b.t, r: b.r, csrf: b.csrf, http: &http.Client{Jar: jar, CheckRedirect: b.http.CheckRedirect}}
}

func signedIn(b *browser) bool {
	status, _ := b.get("/console/")
	return status == http.StatusOK
}

// Signing out ends the session on the server: a copied cookie no longer
// opens anything.
func TestLogoutEndsTheSessionForGood(t *testing.T) {
	r := newRig(t)
	b := r.signIn("luojiang", "pw-luojiang")
	stolen := b.copy()
	if !signedIn(stolen) {
		t.Fatal("the copied cookie does not work before the sign-out")
	}
	if status, _, loc := b.post("/console/logout", url.Values{"csrf": {b.csrf}}); status != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/login") {
		t.Fatalf("logout: %d %s", status, loc)
	}
	if signedIn(stolen) {
		t.Error("the copied cookie still works after the sign-out")
	}
	if status, _, _ := stolen.post("/console/cases/x/withdraw", url.Values{"csrf": {b.csrf}}); status != http.StatusSeeOther {
		t.Errorf("a form posted with the copied cookie: %d, want 303 to the sign-in", status)
	}
}

// Changing an account's password or removing it ends its sessions: on
// the running console (the per-account version) and on a console started
// with the new configuration (same session key).
func TestPasswordChangeEndsSessions(t *testing.T) {
	r := newRig(t)
	clerk := r.signIn("luojiang", "pw-luojiang")
	other := r.signIn("dongcheng", "pw-dongcheng")
	ops := r.signIn("ops", "pw-ops")
	changed := *r.k.accounts["luojiang"]
	changed.PasswordHash = hash(t, "new-password")
	r.k.accounts["luojiang"] = &changed
	delete(r.k.accounts, "ops")
	if signedIn(clerk) {
		t.Error("a session outlived its account's password change")
	}
	if signedIn(ops) {
		t.Error("a session outlived its account's removal")
	}
	if !signedIn(other) {
		t.Error("another account's session ended")
	}

	// The gateway restarted with the new password: the old cookie, sent
	// to it, opens nothing.
	r2 := newRigWith(t, []Account{{Username: "luojiang", PasswordHash: hash(t, "new-password"), Role: "staff", Towns: []string{"511702102"}}}, nil)
	r3 := newRig(t)
	b := r3.signIn("luojiang", "pw-luojiang")
	u, _ := url.Parse(r3.srv.URL + "/console/")
	moved := &browser{t: t, r: r2, http: &http.Client{CheckRedirect: b.http.CheckRedirect}}
	jar, _ := cookiejar.New(nil)
	u2, _ := url.Parse(r2.srv.URL + "/console/")
	jar.SetCookies(u2, b.http.Jar.Cookies(u))
	moved.http.Jar = jar
	if signedIn(moved) {
		t.Error("a session of the old password works on the gateway with the new one")
	}
}

// A session ends after IdleTimeout without a request.
func TestIdleSessionEnds(t *testing.T) {
	r := newRig(t)
	b := r.signIn("luojiang", "pw-luojiang")
	r.advance(IdleTimeout - time.Minute)
	if !signedIn(b) {
		t.Fatal("the session ended before the idle timeout")
	}
	r.advance(IdleTimeout - time.Minute) // used a minute ago … then idle
	if !signedIn(b) {
		t.Fatal("a used session ended")
	}
	r.advance(IdleTimeout)
	if signedIn(b) {
		t.Error("an idle session still works")
	}
}

// A session started with an identity-provider token ends when the token
// expires.
func TestTokenSessionEndsWithTheToken(t *testing.T) {
	r := newRig(t)
	expires := r.clock().Add(10 * time.Minute)
	r.k.cfg.VerifyToken = func(token string) (*auth.Principal, error) {
		if token != "idp-token" {
			return nil, errors.New("unknown token")
		}
		if !r.clock().Before(expires) {
			return nil, errors.New("token expired")
		}
		return &auth.Principal{Role: auth.RoleStaff, Towns: []string{"511702102"}, Subject: "jwt:staff-7", Via: auth.ViaJWT}, nil
	}
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, r: r, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	_, page := b.get("/console/login")
	status, _, loc := b.post("/console/login", url.Values{"csrf": {csrfField.FindStringSubmatch(page)[1]}, "token": {"idp-token"}})
	if status != http.StatusSeeOther || loc != "/console/" {
		t.Fatalf("token sign-in: %d %s", status, loc)
	}
	if !signedIn(b) {
		t.Fatal("not signed in with the token")
	}
	r.advance(11 * time.Minute)
	if signedIn(b) {
		t.Error("the session outlived its token")
	}
}

// With baseUrl https the cookies are Secure and HSTS is sent.
func TestSecureCookiesAndHSTS(t *testing.T) {
	r := newRig(t)
	r.k.cfg.Secure = true
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.Get(r.srv.URL + "/console/login")
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS")
	}
	var csrf string
	for _, ck := range resp.Cookies() {
		if ck.Name == "login_csrf" {
			csrf = ck.Value
			if !ck.Secure {
				t.Error("login_csrf is not Secure")
			}
		}
	}
	req, _ := http.NewRequest(http.MethodPost, r.srv.URL+"/console/login",
		strings.NewReader(url.Values{"csrf": {csrf}, "username": {"luojiang"}, "password": {"pw-luojiang"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "login_csrf", Value: csrf})
	resp, err = http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	found := false
	for _, ck := range resp.Cookies() {
		if ck.Name == cookieName {
			found = true
			if !ck.Secure || !ck.HttpOnly {
				t.Error("the session cookie is not Secure and HttpOnly")
			}
		}
	}
	if resp.StatusCode != http.StatusSeeOther || !found {
		t.Errorf("sign-in: %d, session cookie %v", resp.StatusCode, found)
	}
}

// ?flash= shows only the notices of a fixed set of codes, never the
// caller's text.
func TestFlashShowsOnlyKnownCodes(t *testing.T) {
	r := newRig(t)
	b := &browser{t: t, r: r, http: &http.Client{}}
	for _, text := range []string{"您的账号已冻结，请拨打13698765432联系管理员", "signedout<script>", "请访问 evil.example 重新登录"} {
		_, page := b.get("/console/login?flash=" + url.QueryEscape(text))
		if strings.Contains(page, "13698765432") || strings.Contains(page, "evil.example") || strings.Contains(page, "冻结") || strings.Contains(page, `class="notice"`) {
			t.Errorf("flash %q shown", text)
		}
	}
	if _, page := b.get("/console/login?flash=signedout"); !strings.Contains(page, "已退出") {
		t.Error("a known code shows no notice")
	}
	_ = context.Background
}

// With the throttle's table full (an attacker's junk names), an
// account's failures still make it wait.
func TestThrottleFullTable(t *testing.T) {
	var th throttle
	now := time.Now()
	th.m = map[string]*failures{}
	for i := range maxThrottleKeys {
		th.m["account:junk"+strconv.Itoa(i)] = &failures{at: []time.Time{now}}
	}
	for range FreeFailures {
		th.fail(now, "account:luojiang")
	}
	if th.wait(now, "account:luojiang") <= 0 {
		t.Error("the full table let an account's failures go uncounted")
	}
}

// An open case page refreshes its progress on its own: that keeps nobody
// signed in (outsider: a session whose only requests were the page's
// progress refreshes was still signed in after 31 minutes).
func TestProgressRefreshesDoNotKeepTheSessionAlive(t *testing.T) {
	r := newRig(t)
	b := r.signIn("luojiang", "pw-luojiang")
	id := b.takeIn(withCheck("123"))
	for range int(IdleTimeout/time.Minute) - 1 {
		r.advance(time.Minute)
		if status, _ := b.get("/console/cases/" + id + "/progress"); status != http.StatusOK {
			t.Fatalf("a progress refresh within the idle time: %d", status)
		}
	}
	r.advance(2 * time.Minute)
	if signedIn(b) {
		t.Fatal("the page's own refreshes kept the session alive past the idle timeout")
	}
}

// A form post the browser marks as cross-site, or whose Referer is another
// site's when it sends no Origin, is refused even with the right token
// (outsider: with the token, such posts recorded a supplement); the same
// post from the console's own page goes through.
func TestCrossSitePostsRefusedWithoutOrigin(t *testing.T) {
	r := newRig(t)
	b := r.signIn("luojiang", "pw-luojiang")
	id := b.takeIn(withCheck("123"))
	post := func(headers map[string]string) int {
		req, _ := http.NewRequest(http.MethodPost, r.srv.URL+"/console/cases/"+id+"/withdraw", strings.NewReader(url.Values{"csrf": {b.csrf}, "reason": {"不再需要"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := b.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for name, h := range map[string]map[string]string{
		"marked cross-site":      {"Sec-Fetch-Site": "cross-site"},
		"marked same-site":       {"Sec-Fetch-Site": "same-site"},
		"another site's Referer": {"Referer": "http://evil.example/page"},
		"a null Origin":          {"Origin": "null"},
		"another site's Origin":  {"Origin": "http://evil.example"},
	} {
		if status := post(h); status != http.StatusForbidden {
			t.Errorf("%s: %d", name, status)
		}
	}
	app, _ := r.eng.Store.Get(context.Background(), id)
	if app.WithdrawnAt != nil {
		t.Fatal("a refused post withdrew the case")
	}
	if status := post(map[string]string{"Sec-Fetch-Site": "same-origin", "Referer": r.srv.URL + "/console/cases/" + id}); status != http.StatusSeeOther {
		t.Fatalf("the console's own post: %d", status)
	}
}

// An address the console does not have answers its own page, Chinese
// first (outsider: Go's plain "404 page not found").
func TestUnknownConsolePage(t *testing.T) {
	r := newRig(t)
	// Outside the contract on purpose: these addresses are in no contract.
	r.srv.Config.Handler = contracttest.New(t, "console").Ignore("/console/xyz", "/console/cases/x/").Middleware(r.k)
	resp, err := http.Get(r.srv.URL + "/console/xyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "页面不存在") || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("signed out: %d %s", resp.StatusCode, body)
	}
	b := r.signIn("luojiang", "pw-luojiang")
	if status, page := b.get("/console/cases/x/y/z"); status != http.StatusNotFound || !strings.Contains(page, "页面不存在") {
		t.Fatalf("signed in: %d", status)
	}
}
