package collections_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode"

	c "onething/contracts"
	"onething/contracts/contracttest"
	"onething/gateway/devstack"
)

const collectionFile = "onething.postman_collection.json"

// The Postman v2.1 format, as much of it as the collection uses.
type collection struct {
	Info struct {
		Name        string `json:"name"`
		Description string `json:"description"`
		Schema      string `json:"schema"`
	} `json:"info"`
	Event    []event    `json:"event"`
	Variable []variable `json:"variable"`
	Item     []item     `json:"item"`
}

type variable struct {
	Key         string `json:"key"`
	Value       string `json:"value"`
	Type        string `json:"type"`
	Description string `json:"description"`
}

type event struct {
	Listen string `json:"listen"`
	Script struct {
		Type string   `json:"type"`
		Exec []string `json:"exec"`
	} `json:"script"`
}

type item struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Item        []item   `json:"item"` // a folder
	Request     *request `json:"request"`
	Event       []event  `json:"event"`
}

type request struct {
	Method      string `json:"method"`
	URL         string `json:"url"`
	Description string `json:"description"`
	Header      []struct {
		Key         string `json:"key"`
		Value       string `json:"value"`
		Description string `json:"description"`
	} `json:"header"`
	Body *struct {
		Mode    string          `json:"mode"`
		Raw     string          `json:"raw"`
		Options json.RawMessage `json:"options"`
	} `json:"body"`
}

func load(t *testing.T) collection {
	t.Helper()
	data, err := os.ReadFile(collectionFile)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	var col collection
	if err := dec.Decode(&col); err != nil {
		t.Fatalf("%s is not the Postman v2.1 shape this test knows: %v", collectionFile, err)
	}
	return col
}

// requests lists every request with its folder path.
func requests(items []item, folder string, out *[]item, names *[]string) {
	for _, it := range items {
		name := it.Name
		if folder != "" {
			name = folder + " › " + it.Name
		}
		if it.Request != nil {
			*out = append(*out, it)
			*names = append(*names, name)
		}
		requests(it.Item, name, out, names)
	}
}

var han = regexp.MustCompile(`\p{Han}`)

// bilingual: Chinese first, English beside it ("中文 / English"; the
// slash may follow a full-width bracket directly).
func bilingual(s string) bool {
	zh, en, ok := strings.Cut(s, "/ ")
	return ok && han.MatchString(zh) && !han.MatchString(en) &&
		strings.IndexFunc(en, func(r rune) bool { return r < unicode.MaxASCII && unicode.IsLetter(r) }) >= 0
}

// The collection is Postman v2.1: the schema named, every item a folder or
// a request with a method and a URL, every script JavaScript lines, names
// in Chinese with English beside them, and no secret committed.
func TestCollectionIsPostmanV21(t *testing.T) {
	col := load(t)
	if col.Info.Schema != "https://schema.getpostman.com/json/collection/v2.1.0/collection.json" {
		t.Errorf("info.schema = %q, want the v2.1.0 schema", col.Info.Schema)
	}
	if !bilingual(col.Info.Name) {
		t.Errorf("the collection's name %q is not 中文 / English", col.Info.Name)
	}
	var check func(items []item)
	checkEvents := func(where string, evs []event) {
		for _, e := range evs {
			if (e.Listen != "prerequest" && e.Listen != "test") || e.Script.Type != "text/javascript" || len(e.Script.Exec) == 0 {
				t.Errorf("%s: a script that is not a prerequest or test script in JavaScript: %+v", where, e)
			}
		}
	}
	checkEvents("collection", col.Event)
	check = func(items []item) {
		for _, it := range items {
			if !bilingual(it.Name) {
				t.Errorf("%q is not named 中文 / English", it.Name)
			}
			switch {
			case it.Request != nil && len(it.Item) > 0:
				t.Errorf("%q is both a request and a folder", it.Name)
			case it.Request != nil:
				if it.Request.Method == "" || !strings.HasPrefix(it.Request.URL, "{{") || it.Request.Description == "" {
					t.Errorf("%q: a request needs a method, a URL from a variable ({{baseUrl}} …) and a description", it.Name)
				}
				if !han.MatchString(it.Request.Description) {
					t.Errorf("%q: the description has no Chinese", it.Name)
				}
				if b := it.Request.Body; b != nil && b.Mode != "raw" {
					t.Errorf("%q: body mode %q: the signing script signs raw bodies", it.Name, b.Mode)
				}
				tests := false
				for _, e := range it.Event {
					tests = tests || e.Listen == "test" && strings.Contains(strings.Join(e.Script.Exec, "\n"), "pm.test(")
				}
				if !tests {
					t.Errorf("%q checks nothing (no pm.test)", it.Name)
				}
			case len(it.Item) == 0:
				t.Errorf("%q is an empty folder", it.Name)
			}
			checkEvents(it.Name, it.Event)
			check(it.Item)
		}
	}
	check(col.Item)
	for _, v := range col.Variable {
		if !han.MatchString(v.Description) {
			t.Errorf("variable %s: no Chinese description", v.Key)
		}
		if (strings.HasSuffix(v.Key, "Secret") || strings.HasSuffix(v.Key, "Token")) && v.Value != "" {
			t.Errorf("variable %s carries a value: secrets are passed at run time, never committed", v.Key)
		}
	}
}

// The Postman environment of the dev credentials (`onething dev
// --postman-env`) has exactly the collection's variables, in the v2.1
// environment shape, each enabled and filled: the credentials from the
// stack (hrss and medical the home county's system), secrets and tokens
// typed secret, and what is no credential (pollLimit) the collection's
// own default.
func TestPostmanEnvironmentFillsEveryVariable(t *testing.T) {
	col := load(t)
	st, err := devstack.Start(devstack.Options{Dir: t.TempDir(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Stop() })
	data, err := st.Credentials().PostmanEnvironment()
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Name   string `json:"name"`
		Values []struct {
			Key     string `json:"key"`
			Value   string `json:"value"`
			Type    string `json:"type"`
			Enabled bool   `json:"enabled"`
		} `json:"values"`
		Scope string `json:"_postman_variable_scope"`
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		t.Fatalf("not a Postman environment: %v\n%s", err, data)
	}
	if !bilingual(env.Name) || env.Scope != "environment" {
		t.Errorf("name %q, scope %q", env.Name, env.Scope)
	}
	links := st.Config.Departments
	want := map[string]string{
		"baseUrl": st.GatewayURL, "portalSecret": st.PortalSecret, "readToken": st.ReadToken, "adminToken": st.AdminToken,
		"cdpfUrl": st.MockURLs["cdpf"], "cdpfAppKey": links[c.DeptCDPF].AppKey, "cdpfAppSecret": links[c.DeptCDPF].Secret,
	}
	for _, d := range c.Depts {
		want[string(d)+"EventSecret"] = links[d].EventSecrets[0]
	}
	var keys, colKeys []string
	for _, v := range env.Values {
		keys = append(keys, v.Key)
		secret := strings.HasSuffix(v.Key, "Secret") || strings.HasSuffix(v.Key, "Token")
		if v.Value == "" || !v.Enabled || (secret && v.Type != "secret") || (!secret && v.Type != "default") {
			t.Errorf("%s: %+v, want enabled, filled, type secret for a secret or token, else default", v.Key, v)
		}
		if w, ok := want[v.Key]; ok && v.Value != w {
			t.Errorf("%s = %q, want the stack's %q", v.Key, v.Value, w)
		}
	}
	for _, v := range col.Variable {
		colKeys = append(colKeys, v.Key)
		if _, ok := want[v.Key]; !ok {
			for _, e := range env.Values {
				if e.Key == v.Key && e.Value != v.Value {
					t.Errorf("%s = %q, want the collection's default %q", v.Key, e.Value, v.Value)
				}
			}
		}
	}
	if strings.Join(keys, " ") != strings.Join(colKeys, " ") {
		t.Errorf("the environment's variables\n  %v\nthe collection's\n  %v", keys, colKeys)
	}
}

// gatewayOps are the operations of gateway.yaml, "METHOD /path/{param}".
func gatewayOps(t *testing.T) map[string]bool {
	t.Helper()
	doc, err := c.Spec("gateway")
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			ops[method+" "+path] = false
		}
	}
	return ops
}

// notInCollection are the gateway's operations the collection leaves out, and why.
var notInCollection = map[string]string{
	"HEAD /openapi/{name}": "the headers of GET /openapi/{name}, which the collection has",
}

var (
	variableSegment = regexp.MustCompile(`\{\{[^}]+\}\}`)
	paramSegment    = regexp.MustCompile(`\{[^}]+\}`)
)

// The collection has a request for every operation of gateway.yaml (the
// portal's, the departments', the read and admin tokens', the probes'),
// bar those notInCollection names with a reason.
func TestCollectionCoversGatewayYAML(t *testing.T) {
	col := load(t)
	ops := gatewayOps(t)
	var reqs []item
	var names []string
	requests(col.Item, "", &reqs, &names)
	templates := map[string]*regexp.Regexp{}
	for op := range ops {
		method, path, _ := strings.Cut(op, " ")
		quoted := regexp.QuoteMeta(paramSegment.ReplaceAllString(path, "PARAM"))
		templates[op] = regexp.MustCompile("^" + method + " " + strings.ReplaceAll(quoted, "PARAM", `[^/]+`) + "$")
	}
	for i, r := range reqs {
		u, ok := strings.CutPrefix(r.Request.URL, "{{baseUrl}}")
		if !ok {
			continue // a department system's request (dept-*.yaml)
		}
		u, _, _ = strings.Cut(u, "?")
		u = variableSegment.ReplaceAllString(u, "X")
		found := false
		for op, re := range templates {
			if re.MatchString(r.Request.Method + " " + u) {
				ops[op], found = true, true
			}
		}
		if !found {
			t.Errorf("%s: %s %s is no operation of gateway.yaml", names[i], r.Request.Method, r.Request.URL)
		}
	}
	var missing []string
	for op, covered := range ops {
		if _, excused := notInCollection[op]; !covered && !excused {
			missing = append(missing, op)
		}
		if _, excused := notInCollection[op]; covered && excused {
			t.Errorf("%s is in the collection: take it off notInCollection", op)
		}
	}
	sort.Strings(missing)
	for _, op := range missing {
		t.Errorf("gateway.yaml's %s has no request in the collection (add one, or say why in notInCollection)", op)
	}
}

// newman is the pinned runner `npm ci` installs next to the collection.
func newman(t *testing.T) string {
	t.Helper()
	bin, err := filepath.Abs(filepath.Join("node_modules", ".bin", "newman"))
	if err != nil {
		t.Fatal(err)
	}
	_, errNode := exec.LookPath("node")
	_, errBin := os.Stat(bin)
	if errNode != nil || errBin != nil {
		msg := "node or the pinned newman is missing: run `npm ci` in contracts/collections"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " (CI must run the collection)")
		}
		t.Skip(msg)
	}
	return bin
}

// newman's JSON report, as much as the test reads.
type report struct {
	Run struct {
		Stats map[string]struct {
			Total  int `json:"total"`
			Failed int `json:"failed"`
		} `json:"stats"`
		Executions []struct {
			Item struct {
				Name string `json:"name"`
			} `json:"item"`
			Response *struct {
				Code int `json:"code"`
			} `json:"response"`
			Assertions []struct {
				Assertion string `json:"assertion"`
				Error     *struct {
					Message string `json:"message"`
				} `json:"error"`
			} `json:"assertions"`
		} `json:"executions"`
		Failures []struct {
			Error struct {
				Name    string `json:"name"`
				Message string `json:"message"`
				Test    string `json:"test"`
			} `json:"error"`
			Source struct {
				Name string `json:"name"`
			} `json:"source"`
		} `json:"failures"`
	} `json:"run"`
}

// The collection runs against the dev stack: every request is sent, every
// pm.test passes, and every exchange with the gateway and with the cdpf
// mock conforms to its OpenAPI document (the checkers sit in between).
func TestCollectionAgainstDev(t *testing.T) {
	bin := newman(t)
	col := load(t)
	var reqs []item
	var names []string
	requests(col.Item, "", &reqs, &names)

	st, err := devstack.Start(devstack.Options{
		// The mocks' pace (200 ms a step) makes the collection's status
		// requests poll more than once, so its wait loops are exercised.
		Dir: t.TempDir(), Delay: 200 * time.Millisecond, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		WrapMock: func(name string, h http.Handler) http.Handler {
			if name != "cdpf" {
				return h
			}
			return contracttest.New(t, "dept-cdpf").Ignore("/_mock/").Middleware(h)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Stop() })
	target, err := url.Parse(st.GatewayURL)
	if err != nil {
		t.Fatal(err)
	}
	gw := httptest.NewServer(contracttest.New(t, "gateway").Middleware(httputil.NewSingleHostReverseProxy(target)))
	t.Cleanup(gw.Close)

	// The variables come from the Postman environment `onething dev
	// --postman-env` writes, run with -e as an integrator would; only the
	// gateway's address is the contract checker's in front of it.
	creds := st.Credentials()
	creds.GatewayURL = gw.URL
	env, err := creds.PostmanEnvironment()
	if err != nil {
		t.Fatal(err)
	}
	envFile := filepath.Join(t.TempDir(), "dev.postman_environment.json")
	if err := os.WriteFile(envFile, env, 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "newman.json")
	args := []string{"run", collectionFile, "-e", envFile, "--reporters", "cli,json", "--reporter-json-export", out,
		"--timeout-request", "15000", "--timeout", "180000", "--color", "off", "--disable-unicode"}
	cmd := exec.Command(bin, args...)
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	runErr := cmd.Run()

	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("newman wrote no report (%v): %v\n%s", runErr, err, log.String())
	}
	var rep report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Run.Failures {
		t.Errorf("%s: %s %s: %s", f.Source.Name, f.Error.Name, f.Error.Test, f.Error.Message)
	}
	// Every request was sent and answered, and its checks ran: a run that
	// stopped early or checked nothing fails here.
	sent := map[string]bool{}
	assertions := 0
	for _, e := range rep.Run.Executions {
		if e.Response != nil {
			sent[e.Item.Name] = true
		}
		assertions += len(e.Assertions)
	}
	for i, r := range reqs {
		if !sent[r.Name] {
			t.Errorf("%s was not sent (or not answered)", names[i])
		}
	}
	if assertions < 2*len(reqs) {
		t.Errorf("%d assertions for %d requests: the checks did not run", assertions, len(reqs))
	}
	if runErr != nil && len(rep.Run.Failures) == 0 {
		t.Errorf("newman: %v", runErr)
	}
	if t.Failed() {
		t.Logf("newman's output:\n%s", log.String())
	} else {
		t.Logf("newman: %d requests, %d assertions, all passed", len(rep.Run.Executions), assertions)
	}
}
