package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	c "onething/contracts"
	"onething/gateway/calendar"
	"onething/gateway/console"
	"onething/gateway/engine"
	"onething/gateway/seal"
	"onething/gateway/service"
	"onething/gateway/store"
	"onething/gateway/workflow"
)

// ConsoleList is the console phase: the store filled with Stored
// applications of the county's towns, then pages of the case list of one
// town read by its clerk through the console handler.
type ConsoleList struct {
	Stored    int     `json:"stored"`
	Towns     int     `json:"towns"`
	Town      string  `json:"town"`
	TownCases int     `json:"townCases"`
	FillS     float64 `json:"fillSeconds"`
	Requests  int     `json:"requests"`
	// First page, the page after it (by cursor) and the to-do list, in ms.
	P50     float64 `json:"p50Ms"`
	P95     float64 `json:"p95Ms"`
	Max     float64 `json:"maxMs"`
	NextP50 float64 `json:"nextPageP50Ms"`
	NextP95 float64 `json:"nextPageP95Ms"`
	TodoP50 float64 `json:"todoP50Ms"`
	TodoP95 float64 `json:"todoP95Ms"`
	// StoreSize is the bbolt file's size, RedisUsed Redis's used memory.
	StoreSize    int64  `json:"storeBytes,omitempty"`
	RedisUsed    uint64 `json:"redisUsedBytes,omitempty"`
	Rows         int    `json:"rowsOnAPage"`
	LoadAvg      string `json:"loadAvg"`
	LoadAvgAfter string `json:"loadAvgAfter"`
}

// bulkStore is the bench's loader of a large store (both backends).
type bulkStore interface {
	store.Store
	store.Lister
	Bulk(ctx context.Context, apps []*c.Application) error
}

// consoleList fills a store with ConsoleApps applications (bulk: bbolt
// in transactions of a thousand, Redis pipelined; records like the real
// ones, sealed, spread over the towns of 通川区 and over two years) and
// reads GET /console/ as the clerk of one town, signed in, through the
// console handler on loopback HTTP: the page of 50 newest, the page after
// it, and the to-do list.
func (r *runner) consoleList(ctx context.Context, be *Backend) error {
	cfg, opened, err := r.phaseStore(ctx, be)
	if err != nil {
		return err
	}
	defer opened.Close()
	st, ok := opened.(bulkStore)
	if !ok {
		return fmt.Errorf("the %s store has no bulk loader", be.Name)
	}
	var towns []string
	for code := range c.Divisions {
		if len(code) == 9 && c.InTongchuan(code) {
			towns = append(towns, code)
		}
	}
	sort.Strings(towns)
	flow := workflow.New(calendar.Default())
	n := r.o.ConsoleApps
	res := &ConsoleList{Stored: n, Towns: len(towns), Town: towns[0], LoadAvg: loadAvg()}
	started := time.Now()
	r.prog.begin(fmt.Sprintf("%s console: fill %d", be.Name, n), n)
	const chunk = 5000
	now := time.Now()
	span := 2 * 365 * 24 * time.Hour
	for from := 0; from < n && ctx.Err() == nil; from += chunk {
		apps := make([]*c.Application, 0, chunk)
		for i := from; i < min(from+chunk, n); i++ {
			town := towns[i%len(towns)]
			if town == res.Town {
				res.TownCases++
			}
			received := now.Add(-span + time.Duration(int64(span)/int64(n)*int64(i)))
			apps = append(apps, benchApp(flow, i, town, received, now))
		}
		if err := st.Bulk(ctx, apps); err != nil {
			return err
		}
		r.prog.add(len(apps))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	res.FillS = time.Since(started).Seconds()
	if be.Name == "redis" {
		res.RedisUsed = redisMemory(r.rurl)
	} else if fi, err := os.Stat(strings.TrimPrefix(cfg.Store, "bolt://")); err == nil {
		res.StoreSize = fi.Size()
	}

	password := randHex(16)
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		return err
	}
	key := make([]byte, 32)
	rand.Read(key)
	k, err := console.New(console.Config{Engine: &engine.Engine{Store: st, Flow: flow}, Calendar: calendar.Default(),
		Accounts:   []console.Account{{Username: "clerk", PasswordHash: string(hash), Role: "staff", Towns: []string{res.Town}}},
		SessionKey: key, Lists: st, FindByIDNumber: st.FindByIDNumber, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	srv := httptest.NewServer(k)
	defer srv.Close()
	cl, err := signIn(srv.URL, "clerk", password)
	if err != nil {
		return err
	}
	get := func(path string) (string, time.Duration, error) {
		t0 := time.Now()
		resp, err := cl.Get(srv.URL + path)
		if err != nil {
			return "", 0, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(t0)
		if resp.StatusCode != http.StatusOK {
			return "", d, fmt.Errorf("GET %s: %d", path, resp.StatusCode)
		}
		return string(body), d, err
	}
	const requests = 200
	res.Requests = requests
	r.prog.begin(fmt.Sprintf("%s console: %d pages", be.Name, 3*requests), 3*requests)
	var first, next, todo []time.Duration
	var nextPath string
	for i := range requests + 10 { // the first 10 warm up
		page, d, err := get("/console/")
		if err != nil {
			return err
		}
		if i == 0 {
			res.Rows = strings.Count(page, `<a href="/console/cases/`)
			m := nextPage.FindStringSubmatch(page)
			if m == nil {
				return fmt.Errorf("the first page of %s has no next page", res.Town)
			}
			nextPath = strings.ReplaceAll(m[1], "&amp;", "&")
		}
		_, dn, err := get(nextPath)
		if err != nil {
			return err
		}
		_, dt, err := get("/console/todo")
		if err != nil {
			return err
		}
		if i >= 10 {
			first, next, todo = append(first, d), append(next, dn), append(todo, dt)
			r.prog.add(3)
		}
	}
	for _, d := range [][]time.Duration{first, next, todo} {
		slices.Sort(d)
	}
	res.P50, res.P95, res.Max = ms(pct(first, 0.5)), ms(pct(first, 0.95)), ms(pct(first, 1))
	res.NextP50, res.NextP95 = ms(pct(next, 0.5)), ms(pct(next, 0.95))
	res.TodoP50, res.TodoP95 = ms(pct(todo, 0.5)), ms(pct(todo, 0.95))
	res.LoadAvgAfter = loadAvg()
	be.Console = res
	return nil
}

var nextPage = regexp.MustCompile(`<a href="([^"]+)">下一页</a>`)

// signIn signs in at the console and returns the client with its session.
func signIn(base, user, password string) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar, Timeout: time.Minute}
	resp, err := cl.Get(base + "/console/login")
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindStringSubmatch(string(body))
	if m == nil {
		return nil, fmt.Errorf("no csrf field on the sign-in page")
	}
	resp, err = cl.PostForm(base+"/console/login", url.Values{"csrf": {m[1]}, "username": {user}, "password": {password}})
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK { // the redirect to the list, followed
		return nil, fmt.Errorf("sign-in: %d", resp.StatusCode)
	}
	return cl, nil
}

// benchApp is an application like the intake makes of the main example:
// the certificate and four benefits, sealed personal data, a timeline;
// older ones finished, the last months' in progress with due dates.
func benchApp(flow *workflow.Workflow, i int, town string, received, now time.Time) *c.Application {
	id := fmt.Sprintf("CDPF-%s-%07d", received.In(calendar.Zone).Format("20060102"), i)
	a := &c.Application{ID: id, PortalRef: fmt.Sprintf("BENCH%09d", i), Channel: c.ChannelOnline, ReceivedAt: received,
		AcceptedOn: received.In(calendar.Zone).Format(time.DateOnly), Version: 3, PushedVersion: 3,
		Applicant: c.Applicant{Name: "张志明", IDNumber: "51170219850307123X", BirthDate: "1985-03-07", Ethnicity: "汉族", Mobile: "13881801234",
			Address:       c.Address{Province: "四川省", City: "达州市", County: "通川区", Town: c.Divisions[town], Village: "龙潭村", Detail: "4组27号", DivisionCode: town},
			HouseholdType: c.HouseholdAgricultural, HouseholdDivision: town + "001", Dibao: true},
		Delivery: c.Delivery{Method: "pickup"}}
	finished := now.Sub(received) > 60*24*time.Hour
	for n, it := range []struct {
		item c.ItemCode
		dept c.Dept
	}{{c.ItemCertNew, c.DeptCDPF}, {c.ItemSubsidyLiving, c.DeptCivil}, {c.ItemSubsidyNursing, c.DeptCivil}, {c.ItemPensionSubsidy, c.DeptHRSS}, {c.ItemMedicalSubsidy, c.DeptMedical}} {
		t := &c.Task{ID: fmt.Sprintf("%s-%d", id, n+1), Item: it.item, Dept: it.dept, State: c.TaskInProgress,
			CaseNo: fmt.Sprintf("%s-%07d-%d", strings.ToUpper(string(it.dept)), i, n), County: c.DivisionTongchuan,
			DueDate: received.AddDate(0, 0, 30+7*n).In(calendar.Zone).Format(time.DateOnly)}
		if finished {
			t.State = c.TaskApproved
			done := received.AddDate(0, 0, 20+n)
			t.FinishedAt = &done
		}
		a.Tasks = append(a.Tasks, t)
	}
	a.Timeline = []c.Entry{
		{At: received, Kind: "received", Source: "portal", Note: &c.Message{ZH: "一件事申请已受理登记", EN: "application received"}},
		{At: received.Add(time.Minute), TaskID: id + "-1", Kind: "state", From: c.TaskReady, To: c.TaskDispatched, Source: "gateway"},
		{At: received.Add(time.Hour), TaskID: id + "-1", Kind: "state", From: c.TaskDispatched, To: c.TaskInProgress, Source: "cdpf"},
	}
	flow.Recompute(a)
	return a
}

// phaseStore makes a new store of the backend for a phase and opens it as
// the gateway does, with the keys its gateways use (seal.DevConfig); the
// configuration names it.
func (r *runner) phaseStore(ctx context.Context, be *Backend) (service.Config, store.Store, error) {
	su, err := r.storeURL(be.Name)
	if err != nil {
		return service.Config{}, nil, err
	}
	cfg := service.Config{Store: su}
	dp := seal.DevConfig()
	cfg.DataProtection = &dp
	if _, err := service.InitStore(ctx, cfg, nil); err != nil {
		return cfg, nil, fmt.Errorf("init the store: %w", err)
	}
	st, err := service.OpenStore(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return cfg, st, err
}
