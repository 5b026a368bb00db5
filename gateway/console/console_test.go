package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	c "onething/contracts"
	"onething/contracts/contracttest"
	"onething/gateway/auth"
	"onething/gateway/calendar"
	"onething/gateway/engine"
	"onething/gateway/store"
	"onething/gateway/store/storetest"
	"onething/gateway/workflow"
)

type rig struct {
	t      *testing.T
	srv    *httptest.Server
	eng    *engine.Engine
	k      *Console
	mu     sync.Mutex
	ids    []string
	audits []string
	// entries is the audit log the console wrote; auditDown makes writing
	// it fail.
	entries   []c.AuditEntry
	auditDown bool
	// now is the console's clock.
	now time.Time
	// compares counts the bcrypt checks.
	compares int
}

func (r *rig) clock() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.now
}

func (r *rig) advance(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.now = r.now.Add(d)
}

func hash(t *testing.T, pw string) string {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func newRig(t *testing.T) *rig {
	return newRigWith(t, nil, nil)
}

// rigAccounts are the rig's sign-ins.
func rigAccounts(t *testing.T) []Account {
	return []Account{
		{Username: "luojiang", PasswordHash: hash(t, "pw-luojiang"), Role: "staff", Towns: []string{"511702102"}},
		{Username: "dongcheng", PasswordHash: hash(t, "pw-dongcheng"), Role: "staff", Towns: []string{"511702001"}},
		{Username: "ops", PasswordHash: hash(t, "pw-ops"), Role: "admin"},
	}
}

// newRigWith builds the rig with these accounts (nil: rigAccounts) and
// log (nil: discarded).
func newRigWith(t *testing.T, accounts []Account, log *slog.Logger) *rig {
	// Sealed, as the gateway runs it: the search by ID number goes through
	// the blind index.
	st := storetest.SealedBolt(t)
	r := &rig{t: t, eng: &engine.Engine{Store: st, Flow: workflow.New(calendar.Default())}, now: time.Now()}
	if accounts == nil {
		accounts = rigAccounts(t)
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	k, err := New(Config{
		Engine: r.eng, Calendar: calendar.Default(), SessionKey: []byte(strings.Repeat("k", 32)),
		Log: log, Now: r.clock, Accounts: accounts,
		Audit: func(ctx context.Context, e c.AuditEntry) (c.AuditEntry, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			if r.auditDown {
				return c.AuditEntry{}, errors.New("audit stream broken")
			}
			e.ID = fmt.Sprintf("audit-%d", len(r.entries)+1)
			r.entries = append(r.entries, e)
			return e, nil
		},
		FindByIDNumber: st.FindByIDNumber,
		Drafts:         st,
		Lists:          st,
		Applications: func(ctx context.Context, yield func(*c.Application) bool) error {
			r.mu.Lock()
			ids := append([]string(nil), r.ids...)
			r.mu.Unlock()
			for _, id := range ids {
				app, err := st.Get(ctx, id)
				if err != nil {
					return err
				}
				if !yield(app) {
					return nil
				}
			}
			return nil
		},
		Reveal: func(ctx context.Context, p *auth.Principal, id, reason string) (*c.Application, error) {
			r.mu.Lock()
			r.audits = append(r.audits, p.Subject+"|"+id+"|"+reason)
			r.mu.Unlock()
			return st.Get(ctx, id)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	r.k = k
	compare := k.compare
	k.compare = func(hash, pw []byte) error {
		r.mu.Lock()
		r.compares++
		r.mu.Unlock()
		return compare(hash, pw)
	}
	// Every page and form post is checked against contracts/openapi/console.yaml.
	r.srv = httptest.NewServer(contracttest.New(t, "console").Middleware(k))
	t.Cleanup(r.srv.Close)
	return r
}

// browser is one signed-in person: a cookie jar, no redirects followed.
type browser struct {
	t    *testing.T
	r    *rig
	http *http.Client
	csrf string
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func (r *rig) signIn(user, pw string) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{t: r.t, r: r, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	_, body := b.get("/console/login")
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		r.t.Fatal("no CSRF field on the sign-in page")
	}
	status, _, loc := b.post("/console/login", url.Values{"csrf": {m[1]}, "username": {user}, "password": {pw}})
	if status != http.StatusSeeOther || loc != "/console/" {
		return nil
	}
	_, page := b.get("/console/")
	b.csrf = csrfField.FindStringSubmatch(page)[1]
	return b
}

func (b *browser) get(path string) (int, string) {
	resp, err := b.http.Get(b.r.srv.URL + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (b *browser) post(path string, form url.Values) (int, string, string) {
	resp, err := b.http.PostForm(b.r.srv.URL+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header.Get("Location")
}

// form is the joint application of the seed's main case, for 罗江镇.
func (b *browser) form(idNumber string) url.Values {
	return url.Values{"csrf": {b.csrf}, "name": {"张志明"}, "idNumber": {idNumber}, "birthDate": {"1985-03-07"}, "ethnicity": {"汉族"},
		"mobile": {"13881801234"}, "town": {"511702102"}, "village": {"龙潭村"}, "householdDivision": {"511702102"}, "householdType": {"agricultural"},
		"dibao": {"1"}, "business": {"cert.new"}, "category": {"4"}, "twoSubsidies": {"1"}, "pension": {"1"}, "medical": {"1"},
		"medicalIdentity": {"dibao"}, "delivery": {"pickup"}, "attest": {"1"}, "action": {"submit"}}
}

func TestSignIn(t *testing.T) {
	r := newRig(t)
	if r.signIn("luojiang", "wrong") != nil {
		t.Error("a wrong password signed in")
	}
	if r.signIn("nobody", "pw") != nil {
		t.Error("an unknown user signed in")
	}
	b := r.signIn("luojiang", "pw-luojiang")
	if b == nil {
		t.Fatal("could not sign in")
	}
	// A form post without the session's CSRF token is refused.
	f := b.form("51170219850307123X")
	f.Set("csrf", "0000")
	if status, _, _ := b.post("/console/intake", f); status != http.StatusForbidden {
		t.Errorf("post without CSRF: %d", status)
	}
	anon := &browser{t: t, r: r, http: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if status, _ := anon.get("/console/"); status != http.StatusSeeOther {
		t.Errorf("anonymous list: %d", status)
	}
}

func TestOfflineIntakeScopesAndReveal(t *testing.T) {
	r := newRig(t)
	clerk := r.signIn("luojiang", "pw-luojiang")
	// A wrong ID check character: the form comes back with the field error.
	status, page, _ := clerk.post("/console/intake", clerk.form("511702198503071231"))
	if status != http.StatusUnprocessableEntity || !strings.Contains(page, "公民身份号码校验码不正确") {
		t.Fatalf("invalid ID: %d", status)
	}
	// Without the attestation it is refused too.
	f := clerk.form("51170219850307123X")
	f.Del("attest")
	if status, page, _ := clerk.post("/console/intake", f); status != http.StatusUnprocessableEntity || !strings.Contains(page, "请确认已核对证件原件") {
		t.Fatalf("no attestation: %d", status)
	}
	// The checklist for this case comes from the guide's rules.
	f = clerk.form("51170219850307123X")
	f.Set("action", "checklist")
	if _, page, _ := clerk.post("/console/intake", f); !strings.Contains(page, "《中华人民共和国残疾人证评定表》") || !strings.Contains(page, "三张两寸近期免冠白底照片") {
		t.Error("the checklist lacks the certificate materials")
	}
	status, _, loc := clerk.post("/console/intake", clerk.form("51170219850307123X"))
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/cases/") {
		t.Fatalf("intake: %d %s", status, loc)
	}
	id := strings.TrimPrefix(strings.SplitN(loc, "?", 2)[0], "/console/cases/")
	r.mu.Lock()
	r.ids = append(r.ids, id)
	r.mu.Unlock()
	app, err := r.eng.Store.Get(context.Background(), id)
	if err != nil || app.Channel != c.ChannelOffline || len(app.Tasks) != 5 {
		t.Fatalf("stored: %+v %v", app, err)
	}
	// The clerk finds it in the list (masked) and opens it.
	_, list := clerk.get("/console/?q=" + id)
	if !strings.Contains(list, id) || !strings.Contains(list, "5117**********123X") || strings.Contains(list, "51170219850307123X") {
		t.Error("the list does not show the case masked")
	}
	// Found by ID number through the search form, which is posted: the
	// number is in no URL the list makes (a page of a longer list posts
	// too), and a search without the CSRF token is refused.
	_, form := clerk.get("/console/")
	if !strings.Contains(form, `<form class="filters" method="post" action="/console/"`) {
		t.Error("the search form is not posted")
	}
	status, list, _ = clerk.post("/console/", url.Values{"csrf": {clerk.csrf}, "q": {"51170219850307123x"}})
	if status != http.StatusOK || !strings.Contains(list, id) || strings.Contains(list, "q=51170219850307123") {
		t.Errorf("search by ID number: %d, found %v, number in a link %v", status, strings.Contains(list, id), strings.Contains(list, "q=51170219850307123"))
	}
	if status, _, _ := clerk.post("/console/", url.Values{"q": {"51170219850307123X"}}); status != http.StatusForbidden {
		t.Errorf("a search without the CSRF token: %d, want 403", status)
	}
	_, detail := clerk.get("/console/cases/" + id)
	if strings.Contains(detail, "51170219850307123X") || strings.Contains(detail, "13881801234") {
		t.Error("the detail page shows personal data before a reveal")
	}
	// A clerk of another town neither lists nor opens it.
	other := r.signIn("dongcheng", "pw-dongcheng")
	if _, list := other.get("/console/"); strings.Contains(list, id) {
		t.Error("a clerk of 东城街道 lists a 罗江镇 case")
	}
	if status, _ := other.get("/console/cases/" + id); status != http.StatusNotFound {
		t.Errorf("a clerk of 东城街道 opens a 罗江镇 case: %d", status)
	}
	if status, _, _ := other.post("/console/cases/"+id+"/reveal", url.Values{"csrf": {other.csrf}, "reason": {"好奇"}}); status != http.StatusNotFound {
		t.Errorf("a clerk of 东城街道 reveals a 罗江镇 applicant: %d", status)
	}
	// A reveal needs a reason, and every reveal is audited.
	if _, page, _ := clerk.post("/console/cases/"+id+"/reveal", url.Values{"csrf": {clerk.csrf}, "reason": {""}}); strings.Contains(page, "51170219850307123X") {
		t.Error("revealed without a reason")
	}
	_, page, _ = clerk.post("/console/cases/"+id+"/reveal", url.Values{"csrf": {clerk.csrf}, "reason": {"申请人来电核对信息"}})
	if !strings.Contains(page, "51170219850307123X") {
		t.Error("the reveal does not show the full ID number")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.audits) != 1 || r.audits[0] != "console:luojiang|"+id+"|申请人来电核对信息" {
		t.Errorf("audit %v, want exactly the one reveal", r.audits)
	}
}

// A dead letter whose application was erased while its case request may
// have reached the department is named as such on the operators' page, and
// its replay says it was cleared without sending, not that the department
// answered (outsider: "其他错误", then "部门已答复或已处理").
func TestAnErasedDeadLetterOnTheOperatorsPage(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	id := r.intake(r.signIn("luojiang", "pw-luojiang"), "51170219850307123X")
	jobs, err := r.eng.Store.Lease(ctx, time.Now(), 20, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var parked *store.Job
	for i := range jobs {
		if jobs[i].Kind == store.JobDispatch && parked == nil {
			parked = &jobs[i]
			continue
		}
		r.eng.Store.Ack(ctx, jobs[i])
	}
	if parked == nil {
		t.Fatal("no dispatch queued")
	}
	parked.Attempt, parked.LastError = 1, "medical: HTTP 500 internal_error" // its request may have reached the department
	if err := r.eng.Store.Park(ctx, *parked); err != nil {
		t.Fatal(err)
	}
	if _, err := r.eng.Withdraw(ctx, id, "w1", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := r.eng.Erase(ctx, id, "本人申请删除", "admin#1", false); err != nil {
		t.Fatal(err)
	}
	ops := r.signIn("ops", "pw-ops")
	if _, page := ops.get("/console/ops/dead-letters"); !strings.Contains(page, "个人信息已删除，派单可能已送达部门，须与部门核实撤销") ||
		!strings.Contains(page, "medical: HTTP 500 internal_error") || !strings.Contains(page, "清除（不再发送）</button>") {
		t.Fatalf("the dead letter is not named as erased: %s", page)
	}
	status, _, loc := ops.post("/console/ops/dead-letters/"+parked.TaskID+"/replay", url.Values{"csrf": {ops.csrf}})
	if status != http.StatusSeeOther {
		t.Fatalf("replay: %d", status)
	}
	if _, page := ops.get(loc); !strings.Contains(page, "已清除：该申请的个人信息已删除，不再发送") || strings.Contains(page, "部门已答复") {
		t.Fatalf("after the replay (%s): %s", loc, page)
	}
	// The same form sent again (a second operator, a double click): the
	// dead letter is gone, which is what the page says.
	_, _, loc = ops.post("/console/ops/dead-letters/"+parked.TaskID+"/replay", url.Values{"csrf": {ops.csrf}})
	if _, page := ops.get(loc); !strings.Contains(page, "该死信已不在列表中") || strings.Contains(page, "部门已答复") {
		t.Fatalf("a second replay (%s): %s", loc, page)
	}
}

func TestOperatorsPages(t *testing.T) {
	r := newRig(t)
	clerk := r.signIn("luojiang", "pw-luojiang")
	if status, _ := clerk.get("/console/ops/dead-letters"); status != http.StatusForbidden {
		t.Errorf("a clerk opens the dead letters: %d", status)
	}
	ops := r.signIn("ops", "pw-ops")
	if status, page := ops.get("/console/ops/dead-letters"); status != 200 || !strings.Contains(page, "没有死信") {
		t.Errorf("dead letters page: %d", status)
	}
	if status, page := ops.get("/console/ops/sla"); status != 200 || !strings.Contains(page, "<svg") {
		t.Errorf("SLA page: %d", status)
	}
	if status, _ := ops.get("/console/ops/health"); status != 200 {
		t.Errorf("health page: %d", status)
	}
	// English toggle.
	resp, err := ops.http.Get(r.srv.URL + "/console/?lang=en")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, page := ops.get("/console/"); !strings.Contains(page, "Cases") {
		t.Error("the English toggle did not stick")
	}
	// An error page in English has an English heading and title.
	if status, page := ops.get("/console/cases/01NOSUCHAPPLICATION0000000"); status != http.StatusNotFound ||
		!strings.Contains(page, "<h1>Something went wrong</h1>") || strings.Contains(page, "出错了") {
		t.Errorf("an English error page: %d %s", status, page)
	}
}
