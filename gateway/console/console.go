// Package console is the web console of the comprehensive windows and the
// departments' staff, in Chinese with an English toggle, served by the
// gateway at /console/: sign-in, the case list and detail (applicant masked
// unless revealed, which is audited), the offline intake form of the seed's
// joint application (附件5), supplements and withdrawals, and operators'
// pages. Pages are rendered on the server and work without script; the
// console's own small scripts (static/: console.js refreshes a case's
// progress in place, intake.js helps the intake form) only help. No inline
// script and no outside asset.
package console

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	c "onething/contracts"
	"onething/gateway/auth"
	"onething/gateway/calendar"
	"onething/gateway/engine"
	"onething/gateway/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Account is a staff or operator sign-in of the console.
type Account struct {
	Username string `json:"username"`
	// PasswordHash is a bcrypt hash (`onething console adduser` makes one).
	PasswordHash string   `json:"passwordHash"`
	Role         string   `json:"role"`  // staff | admin
	Towns        []string `json:"towns"` // staff: 9-digit town codes, or 511702 for the district office
}

// Config is what the console needs from the gateway.
type Config struct {
	Engine   *engine.Engine
	Calendar *calendar.Calendar
	Accounts []Account
	// VerifyToken signs a person in with a token from the identity
	// provider (optional).
	VerifyToken func(token string) (*auth.Principal, error)
	// SessionKey keys the accounts' session versions (an HMAC of each
	// account's entry: a changed password ends its sessions); at least 32
	// bytes.
	SessionKey []byte
	// Lists reads the store's lists (store.Lister): the case list and
	// the to-do list page through them.
	Lists store.Lister
	// Applications walks every application (decrypted), for the SLA
	// figures.
	Applications func(ctx context.Context, yield func(*c.Application) bool) error
	// FindByIDNumber finds applications by ID number through the blind
	// index (optional).
	FindByIDNumber func(ctx context.Context, idNumber string) ([]string, error)
	// Reveal reads a full record for a person with a reason, and audits it
	// first (an error: nothing is shown).
	Reveal func(ctx context.Context, p *auth.Principal, appID, reason string) (*c.Application, error)
	// Audit appends an entry to the audit log (Subject, Role, Method and
	// Route are filled in by the console). Every audited action calls it
	// before it does anything: an error, and the action is not done (nil:
	// audited actions are refused).
	Audit    func(ctx context.Context, e c.AuditEntry) (c.AuditEntry, error)
	Breakers func() map[string]c.BreakerStatus
	// Drafts keeps the intake form's drafts on the server (nil: the form
	// offers none).
	Drafts store.Drafts
	// Secure marks cookies Secure and sends HSTS (behind TLS: the gateway
	// sets it whenever its baseUrl is https).
	Secure bool
	// ClientIP is the caller's address as the API's middleware keys it
	// (trusted proxies); nil: the peer address.
	ClientIP func(*http.Request) string
	Log      *slog.Logger
	// Now is the clock (tests).
	Now func() time.Time
}

// Console serves /console/.
type Console struct {
	cfg      Config
	pages    *template.Template
	mux      *http.ServeMux
	accounts map[string]*Account
	sessions sessions
	throttle throttle
	bcrypt   pool
	// compare checks a password against a bcrypt hash (tests count it).
	compare func(hash, password []byte) error
}

const cookieName = "onething_console"

// CheckUsername is the rule for an account's name: not empty (an account
// without a name signs in as nobody, shows no name on its pages and is
// audited as "console:"), and a valid subject (letters, digits and
// . _ @ # / + -; never an ID or phone number).
func CheckUsername(name string) error {
	if name == "" {
		return errors.New("用户名不能为空 / the username is empty")
	}
	// A name of marks alone (".", "..", "/") or with a colon (the
	// subject's separator) names nobody.
	if strings.Contains(name, ":") || strings.Trim(name, "._@#/+-") == "" {
		return errors.New("用户名须含字母或数字，不能含冒号 / a username needs a letter or digit and no colon")
	}
	if err := auth.ValidSubject("console:" + name); err != nil {
		return fmt.Errorf("用户名无效（字母、数字和 . _ @ # / + -，不能是身份证号或手机号）/ not a valid username: %w", err)
	}
	return nil
}

// New builds the console.
func New(cfg Config) (*Console, error) {
	if len(cfg.SessionKey) < 32 {
		return nil, errors.New("console: session key must have at least 32 bytes")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ClientIP == nil {
		cfg.ClientIP = remoteAddr
	}
	accounts := map[string]*Account{}
	for i, a := range cfg.Accounts {
		if err := CheckUsername(a.Username); err != nil {
			return nil, fmt.Errorf("console: account %q: %w", a.Username, err)
		}
		accounts[a.Username] = &cfg.Accounts[i]
		p := &auth.Principal{Role: auth.Role(a.Role), Towns: a.Towns, Subject: "console:" + a.Username}
		if a.Role != string(auth.RoleStaff) && a.Role != string(auth.RoleAdmin) {
			return nil, errors.New("console: account " + a.Username + ": role must be staff or admin")
		}
		if err := p.Validate(); err != nil {
			return nil, errors.New("console: account " + a.Username + ": " + err.Error())
		}
		if _, err := bcrypt.Cost([]byte(a.PasswordHash)); err != nil {
			return nil, errors.New("console: account " + a.Username + ": passwordHash is not a bcrypt hash")
		}
	}
	pages, err := template.New("").ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	k := &Console{cfg: cfg, pages: pages, mux: http.NewServeMux(), accounts: accounts,
		bcrypt: make(pool, BcryptSlots), compare: bcrypt.CompareHashAndPassword}
	static, _ := fs.Sub(staticFS, "static")
	k.mux.Handle("GET /console/static/", http.StripPrefix("/console/static/", wholeFiles(http.FileServerFS(static))))
	k.mux.HandleFunc("GET /console/login", k.loginPage)
	k.mux.HandleFunc("POST /console/login", k.login)
	k.mux.HandleFunc("POST /console/logout", k.signedIn(k.logout))
	k.mux.HandleFunc("GET /console/{$}", k.signedIn(k.list))
	k.mux.HandleFunc("POST /console/{$}", k.signedIn(k.list)) // the search form
	k.mux.HandleFunc("GET /console/todo", k.signedIn(k.todo))
	k.mux.HandleFunc("GET /console/cases/{id}", k.signedIn(k.detail))
	k.mux.HandleFunc("GET /console/cases/{id}/progress", k.signedIn(k.progress))
	k.mux.HandleFunc("GET /console/cases/{id}/receipt", k.signedIn(k.receipt))
	k.mux.HandleFunc("GET /console/cases/{id}/notice", k.signedIn(k.notice))
	k.mux.HandleFunc("POST /console/cases/{id}/reveal", k.signedIn(k.reveal))
	k.mux.HandleFunc("POST /console/cases/{id}/supplement", k.signedIn(k.supplement))
	k.mux.HandleFunc("POST /console/cases/{id}/withdraw", k.signedIn(k.withdraw))
	k.mux.HandleFunc("POST /console/cases/{id}/erase", k.admin(k.erase))
	k.mux.HandleFunc("GET /console/intake", k.signedIn(k.intakePage))
	k.mux.HandleFunc("POST /console/intake", k.signedIn(k.intake))
	k.mux.HandleFunc("POST /console/intake/draft/delete", k.signedIn(k.discardDraft))
	k.mux.HandleFunc("GET /console/ops/dead-letters", k.admin(k.deadLetters))
	k.mux.HandleFunc("POST /console/ops/dead-letters/{task}/replay", k.admin(k.replay))
	k.mux.HandleFunc("GET /console/ops/health", k.admin(k.health))
	k.mux.HandleFunc("GET /console/ops/subject-access", k.admin(k.subjectAccessPage))
	k.mux.HandleFunc("POST /console/ops/subject-access", k.admin(k.subjectAccess))
	k.mux.HandleFunc("GET /console/ops/sla", k.signedIn(k.sla))
	// Any other address under /console/: the console's own page, in
	// Chinese first, not the Go server's plain "404 page not found".
	k.mux.HandleFunc("GET /console/", func(w http.ResponseWriter, r *http.Request) {
		k.failPage(w, r, k.current(r), http.StatusNotFound, "页面不存在", "no such page")
	})
	return k, nil
}

// ServeHTTP adds the console's security headers to every page.
func (k *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin") // "no-referrer" makes browsers send Origin: null on our own form posts
	h.Set("Cache-Control", "no-store")
	if k.cfg.Secure {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	if lang := r.URL.Query().Get("lang"); lang == "en" || lang == "zh" {
		http.SetCookie(w, &http.Cookie{Name: "lang", Value: lang, Path: "/console/", SameSite: http.SameSiteStrictMode, Secure: k.cfg.Secure, MaxAge: 365 * 86400})
		q := r.URL.Query()
		q.Del("lang")
		r.URL.RawQuery = q.Encode()
		http.Redirect(w, r, r.URL.String(), http.StatusSeeOther)
		return
	}
	k.mux.ServeHTTP(w, r)
}

type request struct {
	p    *auth.Principal
	csrf string
	lang string
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// setSession starts a server-side session; the cookie holds its random id.
func (k *Console) setSession(w http.ResponseWriter, p *auth.Principal, account *Account, token string) {
	now := k.cfg.Now()
	id := randomHex(32)
	st := &sessionState{p: p, csrf: randomHex(16), token: token, created: now, lastSeen: now}
	if account != nil {
		st.account, st.version = account.Username, accountVersion(k.cfg.SessionKey, account)
	}
	k.sessions.put(id, st)
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: id, Path: "/console/", HttpOnly: true, Secure: k.cfg.Secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(SessionLifetime / time.Second)})
}

// current finds the request's session, checked against the server's
// state on every request: nil when absent, signed out, expired, idle too
// long, its account removed or its password changed, or its
// identity-provider token no longer valid.
func (k *Console) current(r *http.Request) *request {
	ck, err := r.Cookie(cookieName)
	if err != nil || len(ck.Value) != 64 {
		return nil
	}
	// console.js refreshes an open case's progress on its own: that is not
	// the person using the console.
	background := r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/progress")
	st := k.sessions.get(ck.Value, k.cfg.Now(), !background, func(st *sessionState) bool {
		if st.token != "" {
			if k.cfg.VerifyToken == nil {
				return false
			}
			q, err := k.cfg.VerifyToken(st.token)
			return err == nil && q.Subject == st.p.Subject && q.Role == st.p.Role
		}
		a, ok := k.accounts[st.account]
		return ok && accountVersion(k.cfg.SessionKey, a) == st.version
	})
	if st == nil {
		return nil
	}
	return &request{p: st.p, csrf: st.csrf}
}

func langOf(r *http.Request) string {
	if ck, err := r.Cookie("lang"); err == nil && ck.Value == "en" {
		return "en"
	}
	return "zh"
}

// signedIn lets a signed-in person through (and checks the CSRF token and
// origin of every form post), or sends them to the sign-in page.
func (k *Console) signedIn(next func(http.ResponseWriter, *http.Request, *request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req := k.current(r)
		if req == nil {
			http.Redirect(w, r, "/console/login", http.StatusSeeOther)
			return
		}
		req.lang = langOf(r)
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
			if err := r.ParseForm(); err != nil || !sameOrigin(r) ||
				subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(req.csrf)) != 1 {
				k.failPage(w, r, req, http.StatusForbidden, "请求已失效，请返回重试", "the form expired or came from elsewhere; go back and try again")
				return
			}
		}
		next(w, r, req)
	}
}

// admin lets operators only.
func (k *Console) admin(next func(http.ResponseWriter, *http.Request, *request)) http.HandlerFunc {
	return k.signedIn(func(w http.ResponseWriter, r *http.Request, req *request) {
		if req.p.Role != auth.RoleAdmin {
			k.failPage(w, r, req, http.StatusForbidden, "仅运维人员可用", "operators only")
			return
		}
		next(w, r, req)
	})
}

// sameOrigin refuses a cross-site form post where the browser says where
// it came from.
func sameOrigin(r *http.Request) bool {
	// A browser that says the request comes from another site is
	// believed, whatever else the request carries (defence in depth
	// beside the CSRF token).
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" {
		if origin == "null" {
			return false
		}
		// No Origin (an older browser, a tool): a Referer, when sent,
		// must be this console's.
		if ref := r.Header.Get("Referer"); ref != "" {
			u, err := url.Parse(ref)
			return err == nil && u.Host == r.Host
		}
		return true
	}
	return strings.TrimPrefix(strings.TrimPrefix(origin, "http://"), "https://") == r.Host
}

// page is what every template gets.
type page struct {
	Title string
	Lang  string
	T     func(zh, en string) string
	User  string
	Admin bool
	CSRF  string
	Flash string
	Error string
	// Todo is the count on the navigation bar's 待办 (-1: not shown).
	Todo int
}

// M is a display name (contracts' table) in the page's language.
func (p page) M(m c.Message) string { return p.T(m.ZH, m.EN) }

func (k *Console) base(r *http.Request, req *request, title string) page {
	lang := langOf(r)
	p := page{Title: title, Lang: lang, Todo: -1, T: func(zh, en string) string {
		if lang == "en" {
			return en
		}
		return zh
	}}
	if en, ok := titlesEN[title]; ok {
		p.Title = p.T(title, en)
	}
	if req != nil {
		p.User = strings.TrimPrefix(req.p.Subject, "console:")
		p.Admin = req.p.Role == auth.RoleAdmin
		p.CSRF = req.csrf
		p.Todo = k.todoCount(r.Context(), req.p)
	}
	// Only the messages of a fixed set of codes: never the caller's text.
	if m, ok := flashes[r.URL.Query().Get("flash")]; ok {
		p.Flash = p.T(m[0], m[1])
	}
	return p
}

func (k *Console) render(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := k.pages.ExecuteTemplate(w, name, data); err != nil {
		k.cfg.Log.Error("console template", "page", name, "err", err)
	}
}

// flashes are the notices a page shows after a redirect (?flash=CODE).
var flashes = map[string][2]string{
	"supplemented": {"已登记补正材料，已转交部门", "supplement recorded and forwarded"},
	"withdrawn":    {"已撤回未办结事项，并通知相关部门", "withdrawn; the departments are told"},
	"accepted":     {"已受理，申请编号见本页", "accepted; the application id is on this page"},
	"replayed":     {"已重新发送", "replayed"},
	"nothing":      {"无需重新发送（部门已答复或已处理）", "nothing to replay (already answered)"},
	"gone":         {"该死信已不在列表中（可能已由他人重新发送或清除）", "that dead letter is gone (replayed or cleared by someone else)"},
	"erasedcleared": {"已清除：该申请的个人信息已删除，不再发送（须已与部门核实并撤销其办件）",
		"cleared: the application's personal data is erased, nothing is sent (settle with the department by hand)"},
	"signedout":    {"已退出", "signed out"},
	"draftdropped": {"草稿已删除", "the draft is deleted"},
}

// titlesEN are the pages' titles in English (base takes the Chinese).
var titlesEN = map[string]string{
	"办件查询": "Cases", "办件详情": "Case", "出错了": "Something went wrong", "删除个人信息": "Erase personal data",
	"本人查阅导出": "Subject-access export", "窗口受理": "Take in an application", "待办": "To do",
	"死信处理": "Dead letters", "部门接口状态": "Department interfaces", "时效统计": "Deadlines",
	"受理回执": "Receipt", "一次性告知书": "Notice of what is missing",
}

func (k *Console) failPage(w http.ResponseWriter, r *http.Request, req *request, status int, zh, en string) {
	p := k.base(r, req, "出错了")
	p.Error = p.T(zh, en)
	k.render(w, status, "error", p)
}

// loginPage shows the sign-in form; its CSRF token is a cookie of its own.
func (k *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	k.renderLogin(w, r, http.StatusOK, "")
}

func (k *Console) renderLogin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	p := k.base(r, nil, "登录")
	p.CSRF = randomHex(16)
	http.SetCookie(w, &http.Cookie{Name: "login_csrf", Value: p.CSRF, Path: "/console/", HttpOnly: true, Secure: k.cfg.Secure, SameSite: http.SameSiteStrictMode, MaxAge: 1800})
	p.Error = msg
	k.render(w, status, "login", p)
}

func (k *Console) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	ck, err := r.Cookie("login_csrf")
	if err != nil || r.ParseForm() != nil || !sameOrigin(r) || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		k.renderLogin(w, r, http.StatusForbidden, k.base(r, nil, "").T("登录页已失效，请重新登录", "the sign-in page expired; try again"))
		return
	}
	t := k.base(r, nil, "").T
	addr := k.cfg.ClientIP(r)
	token := strings.TrimSpace(r.PostFormValue("token"))
	username := r.PostFormValue("username")
	account := logName(username)
	keys := []string{"address:" + addr}
	if token == "" {
		keys = append(keys, "account:"+username)
	} else {
		account = "(token)"
	}
	now := k.cfg.Now()
	// A throttled attempt is answered at once, its password unchecked.
	if wait := k.throttle.wait(now, keys...); wait > 0 {
		secs := int((wait + time.Second - 1) / time.Second)
		k.cfg.Log.Warn("console sign-in throttled", "account", account, "address", addr, "retryAfter", secs)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		k.renderLogin(w, r, http.StatusTooManyRequests, t(fmt.Sprintf("登录失败次数过多，请 %d 秒后再试", secs), fmt.Sprintf("too many failed sign-ins; try again in %d s", secs)))
		return
	}
	var p *auth.Principal
	var acct *Account
	if token != "" {
		if k.cfg.VerifyToken != nil {
			if q, err := k.cfg.VerifyToken(token); err == nil && (q.Role == auth.RoleStaff || q.Role == auth.RoleAdmin) {
				p = q
			}
		}
	} else {
		if !k.bcrypt.acquire(r.Context()) {
			k.cfg.Log.Warn("console sign-in: password checks busy", "account", account, "address", addr)
			w.Header().Set("Retry-After", "1")
			k.renderLogin(w, r, http.StatusServiceUnavailable, t("登录繁忙，请稍后再试", "sign-in is busy; try again in a moment"))
			return
		}
		p, acct = k.checkPassword(username, r.PostFormValue("password"))
		k.bcrypt.release()
	}
	if p == nil {
		k.throttle.fail(now, keys...)
		k.cfg.Log.Warn("console sign-in refused", "account", account, "address", addr)
		k.renderLogin(w, r, http.StatusUnauthorized, t("用户名、密码或令牌不正确", "wrong username, password or token"))
		return
	}
	if token == "" {
		k.throttle.succeed("account:" + username)
	}
	k.setSession(w, p, acct, token)
	k.cfg.Log.Info("console sign-in", "subject", p.Subject, "address", addr)
	http.Redirect(w, r, "/console/", http.StatusSeeOther)
}

// logName is a typed username as logs may show it: at most 64 characters,
// any ID or phone number in it masked (a person may type theirs).
func logName(s string) string {
	if rs := []rune(s); len(rs) > 64 {
		s = string(rs[:64]) + "…"
	}
	return c.MaskFreeText(strings.ToValidUTF8(s, "?"))
}

// checkPassword compares in constant time per account (bcrypt), and spends
// the same work on unknown usernames.
func (k *Console) checkPassword(username, password string) (*auth.Principal, *Account) {
	var match *Account
	for i := range k.cfg.Accounts {
		if subtle.ConstantTimeCompare([]byte(k.cfg.Accounts[i].Username), []byte(username)) == 1 {
			match = &k.cfg.Accounts[i]
		}
	}
	if match == nil {
		k.compare([]byte("$2a$10$7EqJtq98hPqEX7fNZaFWoOhi5BWX4Z2FY9JWKl3M1Nf6C4ixo0Rdu"), []byte(password))
		return nil, nil
	}
	if k.compare([]byte(match.PasswordHash), []byte(password)) != nil {
		return nil, nil
	}
	return &auth.Principal{Role: auth.Role(match.Role), Towns: match.Towns, Subject: "console:" + match.Username, Via: auth.ViaToken}, match
}

// logout ends the session on the server: the cookie, copied or not, no
// longer opens anything.
func (k *Console) logout(w http.ResponseWriter, r *http.Request, req *request) {
	if ck, err := r.Cookie(cookieName); err == nil {
		k.sessions.end(ck.Value)
	}
	k.cfg.Log.Info("console sign-out", "subject", req.p.Subject)
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/console/", HttpOnly: true, Secure: k.cfg.Secure, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, "/console/login?flash=signedout", http.StatusSeeOther)
}

// sees reports whether a person may see an application: operators all,
// staff the applications registered in their towns (the district office
// all of them).
func sees(p *auth.Principal, app *c.Application) bool {
	return p.Role == auth.RoleAdmin || p.SeesHousehold(app.Applicant.HouseholdDivision)
}

// load reads an application the person may see; a case outside their
// towns is "not found", so staff cannot probe for other towns' cases.
func (k *Console) load(w http.ResponseWriter, r *http.Request, req *request) *c.Application {
	app, err := k.cfg.Engine.Store.Get(r.Context(), r.PathValue("id"))
	if err == nil && sees(req.p, app) {
		return app
	}
	if err != nil && !errors.Is(err, engine.ErrNotFound) {
		k.cfg.Log.Error("console read", "err", err)
	}
	k.failPage(w, r, req, http.StatusNotFound, "办件不存在或不在您的辖区", "no such case in your area")
	return nil
}

// wholeFiles serves files without byte ranges: Range and If-Range are
// dropped from the request, so every answer is 200 with the whole file, and
// the answer says Accept-Ranges: none. The static files are a few small
// embedded ones, and parsing a Range header of many ranges costs the server
// CPU on a path anyone may request without signing in (GO-2026-6609;
// docs/VULNERABILITIES.md).
func wholeFiles(files http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Files only: a folder's listing is nobody's business.
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, "404 未找到 / not found", http.StatusNotFound)
			return
		}
		if r.Header.Get("Range") != "" || r.Header.Get("If-Range") != "" {
			r2 := *r
			r2.Header = r.Header.Clone()
			r2.Header.Del("Range")
			r2.Header.Del("If-Range")
			r = &r2
		}
		files.ServeHTTP(&noRanges{ResponseWriter: w}, r)
	})
}

// noRanges sets Accept-Ranges: none as the header is written (the file
// server sets "bytes" just before).
type noRanges struct {
	http.ResponseWriter
	wrote bool
}

func (w *noRanges) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		w.Header().Set("Accept-Ranges", "none")
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *noRanges) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *noRanges) Unwrap() http.ResponseWriter { return w.ResponseWriter }
