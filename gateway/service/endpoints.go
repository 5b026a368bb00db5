package service

import (
	"context"
	"fmt"
	"sort"
	"time"

	c "onething/contracts"
	"onething/gateway/auth"
	"onething/gateway/engine"
	"onething/gateway/secrets"
)

// HomeCounty is the county a deployment served before it served several:
// departments.hrss and departments.medical serve it when they list no
// counties (通川区, the seed's county).
const HomeCounty = c.DivisionTongchuan

// PerCounty says whether a department has an endpoint per county (or per
// city): the county HR and medical-security bureaus. cdpf and civil are
// national platforms, one endpoint each, the county travelling in the case.
func PerCounty(d c.Dept) bool { return d == c.DeptHRSS || d == c.DeptMedical }

// CountyDept is one more endpoint of a per-county department
// (countyDepartments): the system of the counties it lists. A 6-digit code
// is a county; a 4-digit code is a city, the default of its counties that
// no 6-digit code names.
//
//	countyDepartments:
//	  - dept: hrss
//	    counties: ["511703"]
//	    baseUrl: https://hrss.dachuan.example.gov.cn
//	    appKey: onething
//	    secret: ${file:secrets/hrss-511703-secret}
//	    eventSecrets: ["${file:secrets/hrss-511703-event-secret}"]
type CountyDept struct {
	Dept c.Dept `json:"dept"`
	// Name names the endpoint in breakers, metrics and logs (default
	// dept:first code, e.g. hrss:511703).
	Name string `json:"name,omitempty"`
	DeptLink
}

// DeptLink is a department link as countyDepartments entries spell it.
type DeptLink = Dept

// Endpoint is one department system the gateway calls: the national cdpf
// and civil, the home hrss and medical (departments.*), and each entry of
// countyDepartments.
type Endpoint struct {
	Name string // breaker and metric label: "hrss" (home), "hrss:511703"
	Dept c.Dept
	// Codes are the counties (6 digits) and cities (4) it serves; none
	// for a national platform.
	Codes []string
	// Path is its place in the configuration (departments.hrss,
	// countyDepartments[0]).
	Path string
	Link Dept
}

// Routes finds the endpoint of a (department, county): a national
// platform's one endpoint; else the endpoint naming the county, else the
// one naming its city; else none (the county is not served).
type Routes struct {
	list   []*Endpoint
	byCode map[c.Dept]map[string]*Endpoint
	nation map[c.Dept]*Endpoint
}

// Endpoint is the endpoint serving a department's tasks in a county.
func (r *Routes) Endpoint(d c.Dept, county string) (*Endpoint, bool) {
	if e, ok := r.nation[d]; ok {
		return e, true
	}
	codes := r.byCode[d]
	if e, ok := codes[county]; ok && len(county) == 6 {
		return e, true
	}
	if len(county) >= 4 {
		if e, ok := codes[county[:4]]; ok {
			return e, true
		}
	}
	return nil, false
}

// Serves says whether some endpoint serves the department in the county.
func (r *Routes) Serves(d c.Dept, county string) bool {
	_, ok := r.Endpoint(d, county)
	return ok
}

// Endpoints lists every endpoint, national and home first.
func (r *Routes) Endpoints() []*Endpoint { return append([]*Endpoint(nil), r.list...) }

// countyCode says whether s is a county (6 digits) or city (4 digits)
// code in Sichuan, the gateway's province (as staff scopes and rule packs
// are).
func countyCode(s string) bool {
	return (len(s) == 4 || len(s) == 6) && auth.ValidTown(s)
}

// Routing reads the department endpoints of a configuration and checks
// how they fit together: codes well formed, no county or city served twice
// for one department, unique names, a baseUrl for every countyDepartments
// entry (Check adds LinkProblems: every endpoint complete). problems name
// the settings, never a secret.
func Routing(cfg Config) (*Routes, []string) {
	var problems []string
	bad := func(f string, a ...any) { problems = append(problems, fmt.Sprintf(f, a...)) }
	r := &Routes{byCode: map[c.Dept]map[string]*Endpoint{}, nation: map[c.Dept]*Endpoint{}}
	names := map[string]string{}
	add := func(e *Endpoint) {
		if other, ok := names[e.Name]; ok {
			bad("%s.name: %q 已用于 %s / is the name of %s too", e.Path, e.Name, other, other)
		}
		names[e.Name] = e.Path
		r.list = append(r.list, e)
		if !PerCounty(e.Dept) {
			r.nation[e.Dept] = e
			return
		}
		if r.byCode[e.Dept] == nil {
			r.byCode[e.Dept] = map[string]*Endpoint{}
		}
		for _, code := range e.Codes {
			if !countyCode(code) {
				bad("%s.counties: %q 不是四川省的县（6 位）或市（4 位）区划代码 / is not a county (6-digit) or city (4-digit) division code in Sichuan", e.Path, code)
				continue
			}
			if other, ok := r.byCode[e.Dept][code]; ok {
				bad("%s.counties: %s 已由 %s 服务（一个部门每个区划只能有一个系统）/ %s is served by %s already (one system per division and department)",
					e.Path, code, other.Path, code, other.Path)
				continue
			}
			r.byCode[e.Dept][code] = e
		}
	}
	for _, d := range c.Depts {
		dc, ok := cfg.Departments[d]
		if !ok {
			continue // Check reports the missing department
		}
		e := &Endpoint{Name: string(d), Dept: d, Path: "departments." + string(d), Link: dc}
		if PerCounty(d) {
			e.Codes = dc.Counties
			if len(e.Codes) == 0 {
				e.Codes = []string{HomeCounty}
			}
		} else if len(dc.Counties) > 0 {
			bad("departments.%s.counties: %s 是全国平台，只有一个端点，县随办件传递 / is a national platform, one endpoint for every county (the county travels in the case)", d, d)
		}
		add(e)
	}
	for i, cd := range cfg.CountyDepartments {
		path := fmt.Sprintf("countyDepartments[%d]", i)
		if !PerCounty(cd.Dept) {
			bad("%s.dept: %q 不是按县设置的部门（hrss、medical）/ is not a per-county department (hrss, medical); cdpf and civil are national", path, cd.Dept)
			continue
		}
		if len(cd.Counties) == 0 {
			bad("%s.counties: 必填，该系统服务的县或市 / required: the counties or cities the system serves", path)
			continue
		}
		name := cd.Name
		if name == "" {
			name = string(cd.Dept) + ":" + cd.Counties[0]
		}
		add(&Endpoint{Name: name, Dept: cd.Dept, Codes: cd.Counties, Path: path, Link: cd.DeptLink})
	}
	sort.Strings(problems)
	return r, problems
}

// LinkProblems checks that every endpoint is complete: an absolute
// baseUrl, event secrets unless noCallback, pollEvery with noCallback.
func (r *Routes) LinkProblems() []string {
	var problems []string
	bad := func(f string, a ...any) { problems = append(problems, fmt.Sprintf(f, a...)) }
	for _, e := range r.list {
		checkLink(e.Path, e.Link, bad)
	}
	return problems
}

// checkLink checks that an endpoint is complete.
func checkLink(path string, l Dept, bad func(string, ...any)) {
	switch {
	case l.BaseURL == "":
		bad("%s.baseUrl: 必填 / required", path)
	case !absoluteURL(l.BaseURL):
		bad("%s.baseUrl: %q is not an absolute URL", path, secrets.RedactURL(l.BaseURL))
	}
	if len(l.EventSecrets) == 0 && !l.NoCallback {
		bad("%s.eventSecrets: 必填（除非 noCallback），用于验证该系统的事件 / required unless noCallback (its events are verified with them)", path)
	}
	if l.NoCallback && l.PollEvery <= 0 {
		bad("%s.pollEvery: 设置 noCallback 时必填（改为轮询读取办件）/ required with noCallback (the case is read back instead)", path)
	}
	if l.Timeout < 0 || l.PollEvery < 0 {
		bad("%s: timeout and pollEvery must not be negative", path)
	}
}

// timeoutOf is a link's call timeout (default 10 s).
func timeoutOf(l Dept) time.Duration {
	if l.Timeout == 0 {
		return 10 * time.Second
	}
	return time.Duration(l.Timeout)
}

// systemOf is the name of the remote system a task's jobs call: its
// endpoint's (bulkheads keep one county's system from taking every slot of
// its department), or the department when no endpoint serves it.
func (r *Routes) systemOf(d c.Dept, county string) string {
	if e, ok := r.Endpoint(d, county); ok {
		return e.Name
	}
	return string(d)
}

// servedBy says, for an endpoint's events, which counties' tasks it may
// report on: those it is the endpoint of (a national platform: all).
func (r *Routes) servedBy(e *Endpoint) func(county string) bool {
	if !PerCounty(e.Dept) {
		return nil
	}
	return func(county string) bool {
		if county == "" {
			// A task from before tasks carried their county: the home
			// endpoint's, as it was then.
			return e.Name == string(e.Dept)
		}
		got, ok := r.Endpoint(e.Dept, county)
		return ok && got == e
	}
}

// routed is a per-county department: each call goes to the endpoint of
// the task's county. A task whose county no endpoint serves is refused
// (not retried): nothing is sent to another county's system.
type routed struct {
	dept     c.Dept
	routes   *Routes
	adapters map[string]engine.Department
}

// NotServedError is a call for a task of a county no endpoint serves.
type NotServedError struct {
	Dept   c.Dept
	County string
}

func (e *NotServedError) Error() string {
	return fmt.Sprintf("no %s endpoint serves county %s (countyDepartments)", e.Dept, e.County)
}

// IsRetryable is false: the configuration, not the remote system, decides.
func (e *NotServedError) IsRetryable() bool { return false }

// RetryDelay is 0 (never retried).
func (e *NotServedError) RetryDelay() time.Duration { return 0 }

// IsBreakerOpen is false: no system was called.
func (e *NotServedError) IsBreakerOpen() bool { return false }

// to is the adapter of a task's county: a task without one (from before
// tasks carried their county) stays with the home endpoint.
func (r *routed) to(county string) (engine.Department, error) {
	if county == "" {
		return r.adapters[string(r.dept)], nil
	}
	e, ok := r.routes.Endpoint(r.dept, county)
	if !ok {
		return nil, &NotServedError{Dept: r.dept, County: county}
	}
	return r.adapters[e.Name], nil
}

func (r *routed) OpenCase(ctx context.Context, app *c.Application, task *c.Task, base, key, rid string) (*c.CaseResponse, error) {
	d, err := r.to(task.County)
	if err != nil {
		return nil, err
	}
	return d.OpenCase(ctx, app, task, base, key, rid)
}

func (r *routed) Supplement(ctx context.Context, task *c.Task, sub *c.SupplementRequest, key, rid string) (*c.CaseResponse, error) {
	d, err := r.to(task.County)
	if err != nil {
		return nil, err
	}
	return d.Supplement(ctx, task, sub, key, rid)
}

func (r *routed) Cancel(ctx context.Context, task *c.Task, req *c.CancelRequest, key, rid string) (*c.CaseResponse, error) {
	d, err := r.to(task.County)
	if err != nil {
		return nil, err
	}
	return d.Cancel(ctx, task, req, key, rid)
}

// Poll reads the case where it was opened: the task's own endpoint.
func (r *routed) Poll(ctx context.Context, task *c.Task, rid string) (*c.CaseView, error) {
	d, err := r.to(task.County)
	if err != nil {
		return nil, err
	}
	return d.Poll(ctx, task, rid)
}
