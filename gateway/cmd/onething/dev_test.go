package main

// onething dev's credentials as an integrator meets them: printed in the
// banner, written by --print-config, and each one working against the
// running stack; --portal-url sends the pushes to the integrator's own
// receiver.

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	c "onething/contracts"
	"onething/gateway/devstack"
	"onething/mocks"
)

// bannerValue is the value of a labelled banner line ("  label   value …").
func bannerValue(t *testing.T, banner, label string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(label) + ` +(\S+)`).FindStringSubmatch(banner)
	if m == nil {
		t.Fatalf("no %q line in the banner:\n%s", label, banner)
	}
	return m[1]
}

// bannerDepts reads the banner's department systems: per endpoint name,
// its event secret, appKey and appKey secret.
func bannerDepts(banner string) map[string][3]string {
	re := regexp.MustCompile(`(?m)^  (\S+) +\S+ .*\n    event secret +(\S+)\n    appKey secret +(\S+) / (\S+)$`)
	got := map[string][3]string{}
	for _, m := range re.FindAllStringSubmatch(banner, -1) {
		got[m[1]] = [3]string{m[2], m[3], m[4]}
	}
	return got
}

// submitExample sends the bundled example with `onething submit`, signed
// with secret, and returns its application id.
func submitExample(t *testing.T, gw, secret string) string {
	t.Helper()
	r := onething(t, nil, "submit", "--url", gw, "--secret", secret, "--new-ref", "../../../contracts/examples/submission-full.json")
	m := regexp.MustCompile(`"applicationId": "(\w+)"`).FindStringSubmatch(r.stdout)
	if r.code != 0 || m == nil || !strings.Contains(r.stdout, "202") {
		t.Fatalf("submit signed with the printed portal secret: %s", r)
	}
	return m[1]
}

// getJSONAs GETs url with a bearer token into v and returns the status.
func getJSONAs(t *testing.T, url, token string, v any) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK && v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %v\n%s", url, err, body)
		}
	}
	return resp.StatusCode
}

// waitFor polls cond until it holds; a generous deadline only ends a hung
// run (the assertion is the state reached, not the time taken).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// verifyPush checks a push the way an integrator's Standard Webhooks
// library does, from the headers and the body alone.
func verifyPush(secret string, headers map[string]string, body string) error {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return err
	}
	h := http.Header{}
	for k, v := range headers {
		h.Set(k, v)
	}
	return wh.Verify([]byte(body), h)
}

// dev prints every development credential and --print-config writes the
// same values; each one works: the portal secret signs a submission, the
// pushes the mock portal keeps verify with the push secret, an event
// signed with an endpoint's event secret is taken (and refused with
// another county's), the appKey secret signs a call to the mock system,
// the tokens read and administer, the console logins sign in.
func TestDevPrintsEveryCredential(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole development stack")
	}
	file := filepath.Join(t.TempDir(), "dev-credentials.json")
	postmanEnv := filepath.Join(t.TempDir(), "dev.postman_environment.json")
	d := startDev(t, "--print-config", file, "--postman-env", postmanEnv, "--keep-pushes", "500")
	go func() {
		for range d.lines {
		}
	}()
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatalf("--print-config wrote nothing: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("--print-config file mode %v, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(file)
	var cr devstack.Credentials
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cr); err != nil {
		t.Fatalf("--print-config: %v\n%s", err, data)
	}

	checkPostmanEnv(t, postmanEnv, cr)
	if !strings.Contains(d.banner, postmanEnv+" (--postman-env)") {
		t.Errorf("the banner does not name the --postman-env file:\n%s", d.banner)
	}

	// The banner and the file agree, credential by credential.
	b := d.banner
	for label, want := range map[string]string{
		"gateway": cr.GatewayURL, "portal signing secret": cr.Portal.SigningSecret, "push secret": cr.Portal.PushSecret,
		"status pushes to": cr.Portal.ReceiverURL, "read token": cr.Tokens.Read, "admin token": cr.Tokens.Admin,
	} {
		if got := bannerValue(t, b, label); got != want || want == "" {
			t.Errorf("banner %s %q, file %q", label, got, want)
		}
	}
	if got := bannerValue(t, b, "retention"); got != "180d" {
		t.Errorf("banner retention %q, want the default 180d", got)
	}
	printed := bannerDepts(b)
	endpoints := map[string]devstack.DeptCredentials{}
	for _, dc := range cr.Departments {
		endpoints[dc.Endpoint] = dc
		if got := printed[dc.Endpoint]; got != [3]string{dc.EventSecret, dc.AppKey, dc.AppSecret} || dc.EventSecret == "" || dc.AppSecret == "" {
			t.Errorf("endpoint %s: banner %q, file %+v", dc.Endpoint, got, dc)
		}
	}
	// cdpf and civil national, hrss and medical in each of the 7 counties.
	if len(cr.Departments) != 2+2*len(devstack.DazhouCounties) || len(printed) != len(cr.Departments) {
		t.Errorf("%d endpoints in the file, %d in the banner; want %d", len(cr.Departments), len(printed), 2+2*len(devstack.DazhouCounties))
	}
	for _, name := range []string{"cdpf", "civil", "hrss", "medical", "hrss:511703", "medical:511781"} {
		if _, ok := endpoints[name]; !ok {
			t.Errorf("no endpoint %s", name)
		}
	}
	if e := endpoints["hrss:511703"]; e.County != "511703" || e.Dept != "hrss" {
		t.Errorf("hrss:511703: %+v", e)
	}
	logins := map[string]devstack.ConsoleLogin{}
	for _, l := range cr.Console {
		logins[l.Username] = l
		if !regexp.MustCompile(`(?m)^  .+ +`+regexp.QuoteMeta(l.Username+" / "+l.Password)+`$`).MatchString(b) || l.Password == "" {
			t.Errorf("console login %s is not in the banner as the file has it", l.Username)
		}
	}
	if logins["clerk"].Role != "staff" || len(logins["clerk"].Towns) != 1 || logins["ops"].Role != "admin" {
		t.Errorf("console logins: %+v", cr.Console)
	}

	// The portal signing secret signs a submission (202).
	gw := cr.GatewayURL
	id := submitExample(t, gw, bannerValue(t, b, "portal signing secret"))

	// The read token reads it; wait until every item is final.
	var app c.ApplicationView
	waitFor(t, "the application completed", func() bool {
		return getJSONAs(t, gw+"/v1/applications/"+id, cr.Tokens.Read, &app) == http.StatusOK && app.Status.State == c.AppCompleted
	})
	if s := getJSONAs(t, gw+"/v1/admin/breakers", cr.Tokens.Admin, nil); s != http.StatusOK {
		t.Errorf("admin token: GET /v1/admin/breakers %d", s)
	}
	if s := getJSONAs(t, gw+"/v1/admin/breakers", cr.Tokens.Read, nil); s == http.StatusOK {
		t.Errorf("the read token administers")
	}

	// The mock portal kept the pushes; each verifies with the push secret
	// (and not with the portal's signing secret).
	var report mocks.PushesReport
	waitFor(t, "the completed status pushed", func() bool {
		getJSONAs(t, cr.Portal.MockPushesURL, "", &report)
		p, ok := report.Latest[id]
		return ok && p.Status.State == c.AppCompleted
	})
	getJSONAs(t, cr.Portal.MockPushesURL, "", &report)
	if len(report.Pushes) == 0 || len(report.Pushes) != report.Received {
		t.Fatalf("the mock portal kept %d pushes of %d received", len(report.Pushes), report.Received)
	}
	for i, p := range report.Pushes {
		if err := verifyPush(cr.Portal.PushSecret, p.Headers, p.Body); err != nil {
			t.Errorf("push %d does not verify with the printed push secret: %v", i, err)
		}
		if verifyPush(cr.Portal.SigningSecret, p.Headers, p.Body) == nil {
			t.Errorf("push %d verifies with the portal signing secret", i)
		}
	}

	// A department event signed with the home hrss system's event secret is
	// taken (the item is approved already: stale, 200); signed with the
	// 511703 system's, it is refused (403: another county's task); with
	// cdpf's, not hrss's at all (401).
	var hrss c.TaskBrief
	for _, it := range app.Items {
		if it.Dept == c.DeptHRSS {
			hrss = it
		}
	}
	if hrss.County != "511702" || hrss.CaseNo == "" {
		t.Fatalf("the example's hrss item: %+v", hrss)
	}
	event := func(endpoint string) (int, string) {
		ev := c.DeptEvent{EventID: "it-" + randomHex(8), TaskID: hrss.TaskID, CaseNo: hrss.CaseNo, Type: c.EventInProgress, OccurredAt: time.Now()}
		body, _ := json.Marshal(ev)
		resp, err := devstack.PostSigned(endpoints["hrss"].EventsURL, endpoints[endpoint].EventSecret, ev.EventID, body)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		rb, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(rb)
	}
	if s, body := event("hrss"); s != http.StatusOK || !strings.Contains(body, `"outcome"`) {
		t.Errorf("event signed with hrss's printed event secret: %d %s", s, body)
	}
	if s, body := event("hrss:511703"); s != http.StatusForbidden {
		t.Errorf("event signed with hrss:511703's event secret on a 511702 task: %d %s, want 403", s, body)
	}
	if s, body := event("cdpf"); s != http.StatusUnauthorized {
		t.Errorf("hrss event signed with cdpf's event secret: %d %s, want 401", s, body)
	}

	// The appKey secret signs a call to the mock system (the gateway's side
	// of the link): the case view answers; another county's secret does not.
	caseView := func(endpoint string) int {
		path := "/api/v1/pension-subsidy-cases/" + url.PathEscape(hrss.CaseNo)
		req, _ := http.NewRequest(http.MethodGet, endpoints["hrss"].BaseURL+path, nil)
		ts, nonce := strconv.FormatInt(time.Now().Unix(), 10), randomHex(8)
		req.Header.Set(c.HeaderAppKey, endpoints[endpoint].AppKey)
		req.Header.Set(c.HeaderTimestamp, ts)
		req.Header.Set(c.HeaderNonce, nonce)
		req.Header.Set(c.HeaderSignature, c.DeptSignature(endpoints[endpoint].AppSecret, http.MethodGet, path, ts, nonce, nil))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := caseView("hrss"); s != http.StatusOK {
		t.Errorf("case view signed with hrss's printed appKey secret: %d", s)
	}
	if s := caseView("hrss:511703"); s != http.StatusUnauthorized {
		t.Errorf("case view signed with hrss:511703's appKey secret: %d, want 401", s)
	}

	// The console logins sign in (and a wrong password does not).
	for _, l := range cr.Console {
		if s := consoleSignIn(t, cr.ConsoleURL, l.Username, l.Password); s != http.StatusSeeOther {
			t.Errorf("console login %s: %d, want 303", l.Username, s)
		}
	}
	if s := consoleSignIn(t, cr.ConsoleURL, "clerk", "not-"+logins["clerk"].Password); s == http.StatusSeeOther {
		t.Errorf("console sign-in with a wrong password: %d", s)
	}
}

// checkPostmanEnv reads the environment --postman-env wrote: mode 0600,
// exactly the variables of the collection in contracts/collections, each
// enabled and filled with dev's credential (hrss, medical: the home
// county's system) or, for what is none, the collection's default.
func checkPostmanEnv(t *testing.T, file string, cr devstack.Credentials) {
	t.Helper()
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("--postman-env %s: %v, want a file of mode 0600", file, err)
	}
	var col, env struct {
		Values   []struct{ Key, Value, Type string } `json:"values"`
		Variable []struct{ Key, Value string }       `json:"variable"`
	}
	data, _ := os.ReadFile(file)
	colData, err := os.ReadFile("../../../contracts/collections/onething.postman_collection.json")
	if err != nil || json.Unmarshal(data, &env) != nil || json.Unmarshal(colData, &col) != nil {
		t.Fatalf("--postman-env: %v\n%s", err, data)
	}
	endpoint := map[string]devstack.DeptCredentials{}
	for _, d := range cr.Departments {
		endpoint[d.Endpoint] = d
	}
	want := map[string]string{"baseUrl": cr.GatewayURL, "portalSecret": cr.Portal.SigningSecret, "readToken": cr.Tokens.Read,
		"adminToken": cr.Tokens.Admin, "cdpfUrl": endpoint["cdpf"].BaseURL, "cdpfAppKey": endpoint["cdpf"].AppKey,
		"cdpfAppSecret": endpoint["cdpf"].AppSecret, "pollLimit": "150"}
	for _, d := range c.Depts {
		want[string(d)+"EventSecret"] = endpoint[string(d)].EventSecret
	}
	got := map[string]string{}
	for _, v := range env.Values {
		got[v.Key] = v.Value
	}
	if len(env.Values) != len(col.Variable) {
		t.Errorf("--postman-env has %d variables, the collection %d", len(env.Values), len(col.Variable))
	}
	for _, v := range col.Variable {
		if w, ok := want[v.Key]; !ok || got[v.Key] != w || w == "" {
			t.Errorf("--postman-env %s = %q, want %q (dev's value for the collection's variable)", v.Key, got[v.Key], w)
		}
	}
}

// consoleSignIn signs in to the console with a password and returns the
// sign-in's status (303 on success).
func consoleSignIn(t *testing.T, consoleURL, username, password string) int {
	t.Helper()
	resp, err := http.Get(consoleURL + "login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var csrf string
	for _, ck := range resp.Cookies() {
		if ck.Name == "login_csrf" {
			csrf = ck.Value
		}
	}
	form := url.Values{"username": {username}, "password": {password}, "csrf": {csrf}}
	req, _ := http.NewRequest(http.MethodPost, consoleURL+"login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "login_csrf", Value: csrf})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// dev --portal-url sends the status pushes to the integrator's receiver,
// signed with the printed push secret; the mock portal receives none.
func TestDevPortalURL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole development stack")
	}
	type received struct {
		path    string
		headers map[string]string
		body    string
	}
	got := make(chan received, 1000)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h := map[string]string{}
		for _, k := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
			h[k] = r.Header.Get(k)
		}
		got <- received{path: r.URL.RequestURI(), headers: h, body: string(body)}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()
	target := receiver.URL + "/hooks/onething?team=portal"
	d := startDev(t, "--portal-url", target)
	go func() {
		for range d.lines {
		}
	}()
	if to := bannerValue(t, d.banner, "status pushes to"); to != target {
		t.Errorf("the banner says pushes go to %s, want %s", to, target)
	}
	pushSecret := bannerValue(t, d.banner, "push secret")
	id := submitExample(t, bannerValue(t, d.banner, "gateway"), bannerValue(t, d.banner, "portal signing secret"))
	for {
		select {
		case p := <-got:
			if p.path != "/hooks/onething?team=portal" {
				t.Errorf("pushed to %s", p.path)
			}
			if err := verifyPush(pushSecret, p.headers, p.body); err != nil {
				t.Fatalf("a push to --portal-url does not verify with the printed push secret: %v", err)
			}
			var push c.StatusPush
			if err := json.Unmarshal([]byte(p.body), &push); err != nil || push.ApplicationID != id {
				t.Fatalf("pushed %v: %s", err, p.body)
			}
			var report mocks.PushesReport
			// The banner says the mock portal receives none, and it does not.
			mock := regexp.MustCompile(`mock portal\s+(\S+)\s+\(.*none here\)`).FindStringSubmatch(d.banner)
			if mock == nil || getJSONAs(t, mock[1]+"/_mock/pushes", "", &report) != http.StatusOK || report.Received != 0 {
				t.Errorf("the mock portal received %d pushes too", report.Received)
			}
			return
		case <-time.After(2 * time.Minute): // ends a hung run only
			t.Fatal("no push reached the --portal-url receiver")
		}
	}
}
