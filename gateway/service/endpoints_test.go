package service

import (
	"encoding/json"
	"strings"
	"testing"

	c "onething/contracts"
	"onething/gateway/secrets"
)

// countyLink is a complete endpoint with fresh secrets.
func countyLink(d c.Dept, url string, counties ...string) CountyDept {
	return CountyDept{Dept: d, DeptLink: Dept{BaseURL: url, AppKey: "onething-" + string(d), Secret: secrets.Token(),
		EventSecrets: []string{secrets.WebhookSecret()}, Counties: counties}}
}

// The routing table: a county's own endpoint, else its city's, else none;
// the national platforms serve everywhere; the home endpoints serve the
// home county by default.
func TestRoutingTable(t *testing.T) {
	cfg := goodSecrets(t)
	cfg.CountyDepartments = []CountyDept{
		countyLink(c.DeptHRSS, "http://127.0.0.1:9/hrss-dachuan", "511703"),
		countyLink(c.DeptHRSS, "http://127.0.0.1:9/hrss-dazhou", "5117"),
		countyLink(c.DeptMedical, "http://127.0.0.1:9/medical-xuanhan", "511722", "511723"),
	}
	routes, problems := Routing(cfg)
	if len(problems) > 0 {
		t.Fatalf("problems: %q", problems)
	}
	for _, tc := range []struct {
		dept   c.Dept
		county string
		want   string // endpoint name; "" none
	}{
		{c.DeptHRSS, "511702", "hrss"},        // home county, by default
		{c.DeptHRSS, "511703", "hrss:511703"}, // its own
		{c.DeptHRSS, "511722", "hrss:5117"},   // the city's default
		{c.DeptHRSS, "511781", "hrss:5117"},   // the city's default
		{c.DeptHRSS, "510107", ""},            // Chengdu: none
		{c.DeptMedical, "511702", "medical"},  // home
		{c.DeptMedical, "511723", "medical:511722"},
		{c.DeptMedical, "511703", ""},    // no city default for medical
		{c.DeptCDPF, "510107", "cdpf"},   // national
		{c.DeptCivil, "511703", "civil"}, // national
	} {
		e, ok := routes.Endpoint(tc.dept, tc.county)
		got := ""
		if ok {
			got = e.Name
		}
		if got != tc.want {
			t.Errorf("%s in %s: endpoint %q, want %q", tc.dept, tc.county, got, tc.want)
		}
		if routes.Serves(tc.dept, tc.county) != (tc.want != "") {
			t.Errorf("%s in %s: Serves disagrees", tc.dept, tc.county)
		}
	}
	// An endpoint's events may report on its own counties only.
	var dachuan, home *Endpoint
	for _, e := range routes.Endpoints() {
		switch e.Name {
		case "hrss:511703":
			dachuan = e
		case "hrss":
			home = e
		}
	}
	if s := routes.servedBy(dachuan); !s("511703") || s("511702") || s("511722") || s("") {
		t.Error("达川区's hrss may report on other counties' tasks")
	}
	if s := routes.servedBy(home); !s("511702") || s("511703") || !s("") {
		t.Error("the home hrss serves the wrong counties")
	}
}

// What Check refuses: a county served twice, malformed codes, a national
// department per county, an incomplete endpoint; each problem names the
// setting, and the secret policy covers the new secrets.
func TestCountyDepartmentsChecked(t *testing.T) {
	good := goodSecrets(t)
	good.Console, good.JWT, good.Tokens = nil, nil, nil
	good.CountyDepartments = []CountyDept{countyLink(c.DeptHRSS, "http://127.0.0.1:9/hrss-dachuan", "511703")}
	if problems, _ := Check(good); len(problems) != 0 {
		t.Fatalf("a good configuration: %q", problems)
	}
	incomplete := countyLink(c.DeptMedical, "", "511703")
	incomplete.EventSecrets = nil
	bad := good
	bad.CountyDepartments = []CountyDept{
		good.CountyDepartments[0],
		countyLink(c.DeptHRSS, "http://127.0.0.1:9/again", "511703"),
		countyLink(c.DeptHRSS, "http://127.0.0.1:9/odd", "51170", "abcdef", "991703", "520102"),
		countyLink(c.DeptCDPF, "http://127.0.0.1:9/cdpf", "511703"),
		incomplete,
		countyLink(c.DeptMedical, "http://127.0.0.1:9/none"),
	}
	problems, _ := Check(bad)
	joined := strings.Join(problems, "\n")
	for _, want := range []string{
		"countyDepartments[1].counties: 511703 已由 countyDepartments[0]",
		`countyDepartments[2].counties: "51170"`, `countyDepartments[2].counties: "abcdef"`, `countyDepartments[2].counties: "991703"`, `countyDepartments[2].counties: "520102"`,
		"countyDepartments[3].dept", "countyDepartments[4].baseUrl: 必填 / required", "countyDepartments[4].eventSecrets: 必填",
		"countyDepartments[5].counties: 必填",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("no problem %q in:\n%s", want, joined)
		}
	}
	// The home endpoint and a county entry naming the same county.
	twice := good
	h := twice.Departments[c.DeptHRSS]
	h.Counties = []string{"511702", "511703"}
	twice.Departments = map[c.Dept]Dept{}
	for d, l := range good.Departments {
		twice.Departments[d] = l
	}
	twice.Departments[c.DeptHRSS] = h
	if problems, _ := Check(twice); !strings.Contains(strings.Join(problems, "\n"), "511703 已由 departments.hrss") {
		t.Errorf("a county served by the home and a county endpoint: %q", problems)
	}
	// A county's secret shared with another principal is refused, by path.
	shared := good
	cd := countyLink(c.DeptHRSS, "http://127.0.0.1:9/hrss-dachuan", "511703")
	cd.EventSecrets = []string{good.Departments[c.DeptHRSS].EventSecrets[0]}
	shared.CountyDepartments = []CountyDept{cd}
	if p := strings.Join(CheckSecrets(shared), "\n"); !strings.Contains(p, "countyDepartments[0].eventSecrets[0]") || !strings.Contains(p, "departments.hrss.eventSecrets[0]") {
		t.Errorf("a county sharing the home system's event secret: %q", p)
	}
	short := good
	cd = countyLink(c.DeptHRSS, "http://127.0.0.1:9/hrss-dachuan", "511703")
	cd.Secret = strings.ToUpper("replace-me-") + secrets.Token() // a placeholder, made at run time
	short.CountyDepartments = []CountyDept{cd}
	if p := strings.Join(CheckSecrets(short), "\n"); !strings.Contains(p, "countyDepartments[0].secret") {
		t.Errorf("a placeholder county secret: %q", p)
	}
}

// config check shows the county endpoints with their secrets masked.
func TestCountyDepartmentsMasked(t *testing.T) {
	cfg := goodSecrets(t)
	cfg.CountyDepartments = []CountyDept{countyLink(c.DeptHRSS, "http://127.0.0.1:9/hrss-dachuan", "511703")}
	m, err := Masked(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(m["countyDepartments"])
	out := string(b)
	for _, want := range []string{`"dept":"hrss"`, `"counties":["511703"]`, `"secret":"***"`, `"eventSecrets":["***"]`, `"appKey":"onething-hrss"`} {
		if !strings.Contains(out, want) {
			t.Errorf("masked countyDepartments lacks %s: %s", want, out)
		}
	}
	if strings.Contains(out, cfg.CountyDepartments[0].Secret) || strings.Contains(out, cfg.CountyDepartments[0].EventSecrets[0]) {
		t.Error("a county secret shows")
	}
}

// The configuration file reads countyDepartments flat (the link's fields
// beside dept), and a 4-digit city code.
func TestCountyDepartmentsLoad(t *testing.T) {
	doc := `{"countyDepartments":[{"dept":"medical","counties":["5117"],"baseUrl":"https://medical.dazhou.example","appKey":"k","timeout":"5s"}]}`
	l, err := LoadConfigBytes([]byte(doc), "", []string{})
	if err != nil {
		t.Fatal(err)
	}
	cd := l.Config.CountyDepartments
	if len(cd) != 1 || cd[0].Dept != c.DeptMedical || cd[0].Counties[0] != "5117" || cd[0].BaseURL != "https://medical.dazhou.example" || cd[0].AppKey != "k" {
		t.Errorf("loaded %+v", cd)
	}
	if _, err := LoadConfigBytes([]byte(`{"countyDepartments":[{"dept":"hrss","county":"511703"}]}`), "", []string{}); err == nil {
		t.Error("a misspelt county setting was accepted")
	}
}
