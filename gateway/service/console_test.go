package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/bcrypt"

	c "onething/contracts"
	"onething/gateway/console"
	"onething/gateway/store"
)

// auditSwitch is the store with an audit log that can be broken (and
// its drafts, as the gateway's backends have them).
type auditSwitch struct {
	store.Store
	store.Drafts
	down *atomic.Bool
}

func (a auditSwitch) AppendAudit(ctx context.Context, e c.AuditEntry) (c.AuditEntry, error) {
	if a.down.Load() {
		return c.AuditEntry{}, errors.New("audit stream broken")
	}
	return a.Store.AppendAudit(ctx, e)
}

// Scan lists the applications, as the store under it does (the console's
// case list).
func (a auditSwitch) Scan(ctx context.Context, yield func(*c.Application) bool) error {
	return a.Store.(store.Scanner).Scan(ctx, yield)
}

func consoleGateway(t *testing.T, baseURL string) (*httptest.Server, store.Store, *atomic.Bool) {
	t.Helper()
	pw, _ := bcrypt.GenerateFromPassword([]byte("pw-luojiang"), bcrypt.MinCost)
	return serveConsole(t, consoleConfig(t, baseURL, &ConsoleConfig{SessionKey: strings.Repeat("s", 32), Accounts: []console.Account{
		{Username: "luojiang", PasswordHash: string(pw), Role: "staff", Towns: []string{"511702102"}}}}))
}

// consoleConfig is a gateway's configuration with the console cc.
func consoleConfig(t *testing.T, baseURL string, cc *ConsoleConfig) Config {
	secret := "whsec_MfKQ9r8GKYqrTAjgPfnvNnRvXgvtdGd6zmoWQpZMHbk="
	cfg := Config{Listen: "127.0.0.1:0", BaseURL: baseURL, DataFile: filepath.Join(t.TempDir(), "o.db"),
		PortalSecrets: []string{secret}, PortalPushURL: "http://127.0.0.1:9", PortalPushSecret: secret,
		Departments: map[c.Dept]Dept{}, DataProtection: testProtection(), Console: cc}
	for _, d := range c.Depts {
		cfg.Departments[d] = Dept{BaseURL: "http://127.0.0.1:9", AppKey: "k", Secret: "s", EventSecrets: []string{secret}}
	}
	return cfg
}

// serveConsole assembles the gateway of cfg on a new store and serves it.
func serveConsole(t *testing.T, cfg Config) (*httptest.Server, store.Store, *atomic.Bool) {
	t.Helper()
	initStore(t, cfg)
	st, err := OpenStore(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	down := &atomic.Bool{}
	s, err := Assemble(cfg, auditSwitch{st, st.(store.Drafts), down}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler)
	t.Cleanup(srv.Close)
	return srv, st, down
}

var csrfInPage = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// On the assembled gateway, with the audit log broken, the console's
// withdrawal is refused (503, a message to the clerk) and nothing is
// withdrawn; the console's pages carry the API's headers.
func TestConsoleWithdrawNeedsTheAuditLog(t *testing.T) {
	srv, st, down := consoleGateway(t, "http://127.0.0.1:1")
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (*http.Response, string) {
		resp, err := cl.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	post := func(path string, form url.Values) (*http.Response, string) {
		resp, err := cl.PostForm(srv.URL+path, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, page := get("/console/login")
	if resp.Header.Get("X-Request-Id") == "" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("the console's page lacks the API's headers")
	}
	if resp.Header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS over http")
	}
	if resp, _ := post("/console/login", url.Values{"csrf": {csrfInPage.FindStringSubmatch(page)[1]}, "username": {"luojiang"}, "password": {"pw-luojiang"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	_, page = get("/console/")
	csrf := csrfInPage.FindStringSubmatch(page)[1]
	form := url.Values{"csrf": {csrf}, "name": {"张志明"}, "idNumber": {"51170219850307123X"}, "birthDate": {"1985-03-07"}, "ethnicity": {"汉族"},
		"mobile": {"13881801234"}, "town": {"511702102"}, "village": {"龙潭村"}, "householdDivision": {"511702102"}, "householdType": {"agricultural"},
		"dibao": {"1"}, "business": {"cert.new"}, "category": {"4"}, "twoSubsidies": {"1"}, "pension": {"1"}, "medical": {"1"},
		"medicalIdentity": {"dibao"}, "delivery": {"pickup"}, "attest": {"1"}, "action": {"draft"}}
	// The gateway's store keeps the console's drafts: saved, offered,
	// and gone once the application is submitted.
	if resp, page := post("/console/intake", form); resp.StatusCode != http.StatusOK || !strings.Contains(page, "草稿已保存在服务器上") {
		t.Fatalf("draft: %d", resp.StatusCode)
	}
	if _, page := get("/console/intake"); !strings.Contains(page, "/console/intake?draft=resume") {
		t.Error("the saved draft is not offered")
	}
	form.Set("action", "submit")
	resp, _ = post("/console/intake", form)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/cases/") {
		t.Fatalf("intake: %d %s", resp.StatusCode, loc)
	}
	id := strings.TrimPrefix(strings.SplitN(loc, "?", 2)[0], "/console/cases/")
	if _, page := get("/console/intake"); strings.Contains(page, "/console/intake?draft=resume") {
		t.Error("the draft is still offered after the submit")
	}
	// The console's audit entries carry the request id, as the API's do.
	rid := resp.Header.Get("X-Request-Id")
	entries, _, err := st.Audit(context.Background(), store.AuditQuery{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range entries {
		if e.Action == "console.intake" {
			found = true
			if rid == "" || e.RequestID != rid {
				t.Errorf("the console's intake entry has request id %q, the reply said %q", e.RequestID, rid)
			}
		}
	}
	if !found {
		t.Error("the console's intake was not audited")
	}

	down.Store(true)
	resp, page = post("/console/cases/"+id+"/withdraw", url.Values{"csrf": {csrf}, "reason": {"申请人不再申请"}})
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(page, "审计日志") {
		t.Errorf("withdraw with the audit log down: %d", resp.StatusCode)
	}
	app, err := st.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range app.Tasks {
		if task.State == c.TaskCancelled {
			t.Errorf("task %s cancelled with the audit log down", task.ID)
		}
	}
}

// With an https baseUrl the console's cookies are Secure and every answer
// has HSTS.
func TestConsoleSecureOnHTTPS(t *testing.T) {
	srv, _, _ := consoleGateway(t, "https://gateway.example.gov.cn")
	for _, path := range []string{"/console/login", "/healthz"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("Strict-Transport-Security") == "" {
			t.Errorf("%s: no HSTS", path)
		}
		for _, ck := range resp.Cookies() {
			if !ck.Secure {
				t.Errorf("%s: cookie %s is not Secure", path, ck.Name)
			}
		}
	}
}

// The console's accounts read from console.accountsFile (a JSON array, or
// a YAML list, of the entries onething console adduser prints): the
// gateway assembled with it signs its clerk in and shows the clerk's
// cases; a wrong password is refused. A file that is not a list of
// accounts, a misspelt field, an account listed twice and accounts given
// both inline and in a file stop the gateway with a message in Chinese and
// English.
func TestConsoleAccountsFile(t *testing.T) {
	dir := t.TempDir()
	raw := make([]byte, 16)
	rand.Read(raw)
	password := hex.EncodeToString(raw)
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	entry := `{"username":"luojiang","passwordHash":"` + string(hash) + `","role":"staff","towns":["511702102"]}`
	key := hex.EncodeToString(raw) + hex.EncodeToString(raw)

	for _, tc := range []struct{ name, content string }{{"json", "[" + entry + "]\n"}, {"yaml", "# 罗江镇\n- " + entry + "\n"}} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _, _ := serveConsole(t, consoleConfig(t, "http://127.0.0.1:1", &ConsoleConfig{SessionKey: key, AccountsFile: write("accounts."+tc.name, tc.content)}))
			jar, _ := cookiejar.New(nil)
			cl := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			signIn := func(pw string) int {
				resp, err := cl.Get(srv.URL + "/console/login")
				if err != nil {
					t.Fatal(err)
				}
				page, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				m := csrfInPage.FindStringSubmatch(string(page))
				if m == nil {
					t.Fatalf("no CSRF token on the sign-in page:\n%s", page)
				}
				resp, err = cl.PostForm(srv.URL+"/console/login", url.Values{"csrf": {m[1]}, "username": {"luojiang"}, "password": {pw}})
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			if code := signIn(password + "x"); code == http.StatusSeeOther {
				t.Error("a wrong password signed in")
			}
			if code := signIn(password); code != http.StatusSeeOther {
				t.Fatalf("sign-in with the file's account: %d", code)
			}
			resp, err := cl.Get(srv.URL + "/console/")
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "luojiang") {
				t.Errorf("the case list after sign-in: %d\n%s", resp.StatusCode, page)
			}
		})
	}

	for _, tc := range []struct {
		name  string
		cc    *ConsoleConfig
		wants []string
	}{
		{"both", &ConsoleConfig{SessionKey: key, AccountsFile: write("both.json", "["+entry+"]"),
			Accounts: []console.Account{{Username: "other", PasswordHash: string(hash), Role: "admin"}}}, []string{"只能给一个", "not both"}},
		{"not a list", &ConsoleConfig{SessionKey: key, AccountsFile: write("one.json", entry)}, []string{"不是账户列表", "not a list of accounts"}},
		{"misspelt field", &ConsoleConfig{SessionKey: key, AccountsFile: write("typo.json", `[{"username":"luojiang","password":"x"}]`)},
			[]string{"not a list of accounts", `unknown field "password"`}},
		{"twice", &ConsoleConfig{SessionKey: key, AccountsFile: write("twice.json", "["+entry+","+entry+"]")}, []string{"出现两次", "listed twice"}},
		{"missing", &ConsoleConfig{SessionKey: key, AccountsFile: filepath.Join(dir, "none.json")}, []string{"读不到账户文件", "cannot read"}},
		{"no name", &ConsoleConfig{SessionKey: key, AccountsFile: write("noname.json", "["+strings.Replace(entry, `"luojiang"`, `""`, 1)+"]")},
			[]string{"用户名不能为空", "the username is empty"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := consoleConfig(t, "http://127.0.0.1:1", tc.cc)
			problems, _ := Check(cfg)
			joined := strings.Join(problems, "\n")
			for _, w := range tc.wants {
				if !strings.Contains(joined, w) {
					t.Errorf("config check: no %q in %q", w, problems)
				}
			}
			if strings.Contains(joined, string(hash)) {
				t.Error("a password hash shows in the problems")
			}
			if _, err := Assemble(cfg, inertStore{}, slog.New(slog.DiscardHandler)); err == nil {
				t.Error("the gateway assembled")
			}
		})
	}
}
