package contracts_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"onething/civil"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/sony/gobreaker/v2"

	"onething/contracts"
)

var wantSpecs = []string{"console", "dept-cdpf", "dept-civil", "dept-hrss", "dept-medical", "gateway", "mocks-admin", "portal-receiver"}

func TestSpecsLoadAndValidate(t *testing.T) {
	if got := contracts.SpecNames(); !slices.Equal(got, wantSpecs) {
		t.Fatalf("SpecNames() = %v, want %v", got, wantSpecs)
	}
	for _, name := range wantSpecs {
		doc, err := contracts.Spec(name)
		if err != nil {
			t.Errorf("Spec(%q): %v", name, err)
			continue
		}
		// Spec validated it once; a second, explicit pass guards the cache.
		if err := doc.Validate(t.Context()); err != nil {
			t.Errorf("%s: Validate: %v", name, err)
		}
		again, _ := contracts.Spec(name)
		if again != doc {
			t.Errorf("%s: Spec does not cache", name)
		}
	}
	if _, err := contracts.Spec("nope"); err == nil {
		t.Error(`Spec("nope") did not fail`)
	}
	if _, err := contracts.Spec("../spec"); err == nil {
		t.Error(`Spec("../spec") did not fail`)
	}
	if _, err := contracts.Example("../spec.go"); err == nil {
		t.Error(`Example("../spec.go") did not fail`)
	}
}

var han = regexp.MustCompile(`\p{Han}`)

// TestSpecConventions checks what every document promises: bilingual
// descriptions, a relative server, and on the gateway an X-Request-Id header
// on every response.
func TestSpecConventions(t *testing.T) {
	for _, name := range wantSpecs {
		doc := mustSpec(t, name)
		if doc.OpenAPI != "3.0.3" {
			t.Errorf("%s: openapi %q, want 3.0.3", name, doc.OpenAPI)
		}
		d := doc.Info.Description
		if !han.MatchString(d) || !strings.Contains(d, " the ") {
			t.Errorf("%s: info.description should be in Chinese and English", name)
		}
		if len(doc.Servers) == 0 {
			t.Errorf("%s: no servers", name)
		}
		for _, s := range doc.Servers {
			if strings.Contains(s.URL, "://") {
				t.Errorf("%s: server %q pins a host; use a relative URL", name, s.URL)
			}
		}
		for path, item := range doc.Paths.Map() {
			for method, op := range item.Operations() {
				if op.Summary == "" {
					t.Errorf("%s: %s %s: no summary", name, method, path)
				}
				if name != "gateway" {
					continue
				}
				for status, resp := range op.Responses.Map() {
					if h := resp.Value.Headers["X-Request-Id"]; h == nil || !h.Value.Required {
						t.Errorf("%s: %s %s %s: response lacks a required X-Request-Id header", name, method, path, status)
					}
				}
			}
		}
	}
}

// TestSharedSchemasAgree: a schema of the same name means the same thing in
// every document. Only the department's own request differs.
func TestSharedSchemasAgree(t *testing.T) {
	perDept := map[string]bool{"CaseRequest": true, "Person": true}
	first := map[string]string{}
	firstDoc := map[string]string{}
	for _, name := range wantSpecs {
		doc := mustSpec(t, name)
		for sname, s := range doc.Components.Schemas {
			if perDept[sname] {
				continue
			}
			b, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			if prev, ok := first[sname]; !ok {
				first[sname], firstDoc[sname] = string(b), name
			} else if prev != string(b) {
				t.Errorf("schema %s differs between %s.yaml and %s.yaml", sname, firstDoc[sname], name)
			}
		}
	}
}

// schemaTypes pairs component schemas with the Go types they describe. With
// subset, the schema may leave Go fields out (data minimisation).
var schemaTypes = map[string]struct {
	typ    any
	subset bool
}{
	"Submission":           {contracts.Submission{}, false},
	"Applicant":            {contracts.Applicant{}, false},
	"Address":              {contracts.Address{}, false},
	"Guardian":             {contracts.Guardian{}, false},
	"Certificate":          {contracts.Certificate{}, false},
	"Requests":             {contracts.Requests{}, false},
	"CertificateRequest":   {contracts.CertificateRequest{}, false},
	"TwoSubsidiesRequest":  {contracts.TwoSubsidiesRequest{}, false},
	"PensionRequest":       {contracts.PensionRequest{}, false},
	"MedicalRequest":       {contracts.MedicalRequest{}, false},
	"Delivery":             {contracts.Delivery{}, false},
	"Message":              {contracts.Message{}, false},
	"SubmissionAccepted":   {contracts.SubmissionAccepted{}, false},
	"TaskBrief":            {contracts.TaskBrief{}, false},
	"Result":               {contracts.Result{}, false},
	"Milestone":            {contracts.Milestone{}, false},
	"ApplicationView":      {contracts.ApplicationView{}, false},
	"MaskedApplicant":      {contracts.MaskedApplicant{}, false},
	"Status":               {contracts.Status{}, false},
	"Entry":                {contracts.Entry{}, false},
	"StatusPush":           {contracts.StatusPush{}, false},
	"DeptEvent":            {contracts.DeptEvent{}, false},
	"EventAck":             {contracts.EventAck{}, false},
	"Error":                {contracts.Error{}, false},
	"FieldError":           {contracts.FieldError{}, false},
	"CaseRequest":          {contracts.CaseRequest{}, true},
	"Person":               {contracts.Person{}, true},
	"CaseResponse":         {contracts.CaseResponse{}, false},
	"Supplement":           {contracts.Supplement{}, false},
	"SupplementSubmission": {contracts.SupplementSubmission{}, false},
	"Withdrawal":           {contracts.Withdrawal{}, false},
	"WithdrawalResult":     {contracts.WithdrawalResult{}, false},
	"SupplementRequest":    {contracts.SupplementRequest{}, false},
	"CancelRequest":        {contracts.CancelRequest{}, false},
	"Procedure":            {contracts.Procedure{}, false},
	"GuideRequest":         {contracts.GuideRequest{}, false},
	"GuideCertificate":     {contracts.GuideCertificate{}, false},
	"GuideWants":           {contracts.GuideWants{}, false},
	"GuideAnswer":          {contracts.GuideAnswer{}, false},
	"GuideOnline":          {contracts.GuideOnline{}, false},
	"GuideItem":            {contracts.GuideItem{}, false},
	"Material":             {contracts.Material{}, false},
	"CaseView":             {contracts.CaseView{}, false},
	"DeadLetter":           {contracts.DeadLetter{}, false},
	"DeadLetterList":       {contracts.DeadLetterList{}, false},
	"ReplayResult":         {contracts.ReplayResult{}, false},
	"BreakerStatus":        {contracts.BreakerStatus{}, false},
	"BreakerTransition":    {contracts.BreakerTransition{}, false},
	"BreakerReport":        {breakerReport{}, false},
	"ApplicationSummary":   {contracts.ApplicationSummary{}, false},
	"ApplicationList":      {contracts.ApplicationList{}, false},
	"ApplicationSearch":    {contracts.ApplicationSearch{}, false},
	"ApplicationRecord":    {contracts.ApplicationRecord{}, false},
	"Task":                 {contracts.Task{}, false},
	"AuditEntry":           {contracts.AuditEntry{}, false},
	"AuditPage":            {contracts.AuditPage{}, false},
	"UnreadableRecord":     {contracts.UnreadableRecord{}, false},
	"UnreadableRecordList": {contracts.UnreadableRecordList{}, false},
}

// breakerReport mirrors what GET /v1/admin/breakers writes:
// gin.H{"breakers": map[string]contracts.BreakerStatus}.
type breakerReport struct {
	Breakers map[string]contracts.BreakerStatus `json:"breakers"`
}

// TestSchemasMatchGoTypes: property names are exactly the Go json tags, and
// required properties are ones Go always writes or a request must carry.
func TestSchemasMatchGoTypes(t *testing.T) {
	for _, name := range wantSpecs {
		doc := mustSpec(t, name)
		for sname, s := range doc.Components.Schemas {
			st, ok := schemaTypes[sname]
			if !ok {
				continue
			}
			tags := jsonTags(reflect.TypeOf(st.typ))
			for p := range s.Value.Properties {
				if _, ok := tags[p]; !ok {
					t.Errorf("%s: %s.%s has no Go field in %T", name, sname, p, st.typ)
				}
			}
			if !st.subset {
				for tag := range tags {
					if _, ok := s.Value.Properties[tag]; !ok {
						t.Errorf("%s: %s lacks property %q of %T", name, sname, tag, st.typ)
					}
				}
			}
			for _, r := range s.Value.Required {
				if _, ok := s.Value.Properties[r]; !ok {
					t.Errorf("%s: %s requires %q but has no such property", name, sname, r)
				}
			}
			if ap := s.Value.AdditionalProperties.Has; ap == nil || *ap {
				t.Errorf("%s: %s should say additionalProperties: false", name, sname)
			}
		}
	}
}

func jsonTags(t reflect.Type) map[string]bool {
	tags := map[string]bool{}
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		n, _, _ := strings.Cut(tag, ",")
		if n == "" {
			n = f.Name
		}
		tags[n] = true
	}
	return tags
}

// TestEnumsMatchGo: every enum the Go code knows is the schema's enum.
func TestEnumsMatchGo(t *testing.T) {
	gw := mustSpec(t, "gateway")
	var items []string
	for c := range contracts.Items {
		items = append(items, string(c))
	}
	enumIs(t, gw, "ItemCode", items)
	enumIs(t, gw, "Dept", strs(contracts.Depts))
	enumIs(t, gw, "TaskState", strs([]contracts.TaskState{
		contracts.TaskPlanned, contracts.TaskWaiting, contracts.TaskReady, contracts.TaskDispatched,
		contracts.TaskAccepted, contracts.TaskInProgress, contracts.TaskSupplementRequired,
		contracts.TaskApproved, contracts.TaskRejected, contracts.TaskCancelled, contracts.TaskDeadLetter,
	}))
	enumIs(t, gw, "AppState", strs([]contracts.AppState{
		contracts.AppReceived, contracts.AppProcessing, contracts.AppSupplementRequired, contracts.AppCompleted, contracts.AppWithdrawn,
	}))
	enumIs(t, gw, "AppState", strs(contracts.AppStates))
	for _, s := range contracts.AppStates {
		if n := contracts.AppStateNames[s]; n.ZH == "" || n.EN == "" {
			t.Errorf("AppState %s has no display name", s)
		}
	}
	enumIs(t, gw, "EventType", strs([]contracts.EventType{
		contracts.EventAccepted, contracts.EventInProgress, contracts.EventAssessed, contracts.EventPublicised,
		contracts.EventSupplementRequired, contracts.EventApproved, contracts.EventRejected,
	}))
	enumIs(t, gw, "Channel", strs([]contracts.Channel{contracts.ChannelOnline, contracts.ChannelOffline}))
	clockStarts := strs([]contracts.ClockStart{contracts.ClockAcceptance, contracts.ClockPublicity, contracts.ClockAssessment})
	enumIs(t, gw, "ClockStart", clockStarts)
	enumIs(t, mustSpec(t, "dept-cdpf"), "ClockStart", clockStarts)
	var certItems []string
	for c := range contracts.Items {
		if c.IsCertificateBusiness() {
			certItems = append(certItems, string(c))
		}
	}
	if got := propEnum(gw, "CertificateRequest", "business"); !sameSet(got, certItems) {
		t.Errorf("CertificateRequest.business enum %v, want %v", got, certItems)
	}
	// Status.counts: one property per task state.
	counts := gw.Components.Schemas["TaskCounts"].Value
	var keys []string
	for k := range counts.Properties {
		keys = append(keys, k)
	}
	if want := enumOf(gw, "TaskState"); !sameSet(keys, want) {
		t.Errorf("TaskCounts properties %v, want the task states %v", keys, want)
	}
	// The {dept} path parameter of the events endpoint.
	p := gw.Components.Parameters["Dept"].Value.Schema.Value.Enum
	if !sameSet(anyStrs(p), strs(contracts.Depts)) {
		t.Errorf("dept path parameter enum %v", p)
	}
	// The admin API: breaker states are gobreaker's, the systems are the
	// departments and the portal, ?dept= takes the departments.
	enumIs(t, gw, "BreakerState", []string{gobreaker.StateClosed.String(), gobreaker.StateHalfOpen.String(), gobreaker.StateOpen.String()})
	var systems []string
	for k := range gw.Components.Schemas["BreakerReport"].Value.Properties["breakers"].Value.Properties {
		systems = append(systems, k)
	}
	if want := append(strs(contracts.Depts), "portal"); !sameSet(systems, want) {
		t.Errorf("BreakerReport.breakers properties %v, want %v", sorted(systems), sorted(want))
	}
	if p := gw.Components.Parameters["DeptFilter"].Value.Schema.Value; !sameSet(anyStrs(p.Enum), strs(contracts.Depts)) {
		t.Errorf("dept query parameter enum %v", p.Enum)
	}
	if got := enumOf(mustSpec(t, "mocks-admin"), "Dept"); !sameSet(got, strs(contracts.Depts)) {
		t.Errorf("mocks-admin: Dept enum %v", got)
	}
	caseStatus := strs([]contracts.CaseStatus{contracts.CaseReceived, contracts.CaseAccepted, contracts.CaseApproved, contracts.CaseRejected,
		contracts.CaseInProgress, contracts.CaseCancelled})
	for _, d := range contracts.Depts {
		doc := mustSpec(t, "dept-"+string(d))
		if got := propEnum(doc, "CaseResponse", "status"); !sameSet(got, caseStatus) {
			t.Errorf("dept-%s: CaseResponse.status enum %v, want %v", d, got, caseStatus)
		}
		view := propEnum(doc, "CaseView", "status")
		for _, s := range caseStatus {
			if !slices.Contains(view, s) {
				t.Errorf("dept-%s: CaseView.status lacks %q", d, s)
			}
		}
		// The department's items are the catalogue's items of that department.
		var want []string
		for c, info := range contracts.Items {
			if info.Dept == d {
				want = append(want, string(c))
			}
		}
		if got := propEnum(doc, "CaseRequest", "item"); !sameSet(got, want) {
			t.Errorf("dept-%s: CaseRequest.item enum %v, want %v", d, got, want)
		}
	}
}

// TestAdminOperations: every operation of the operators' API takes the
// admin token (not the read token) and declares its 401 and 503.
func TestAdminOperations(t *testing.T) {
	gw := mustSpec(t, "gateway")
	if s := gw.Components.SecuritySchemes["adminToken"]; s == nil || s.Value.Type != "http" || s.Value.Scheme != "bearer" {
		t.Fatal("gateway: no adminToken bearer security scheme")
	}
	n := 0
	for path, item := range gw.Paths.Map() {
		if !strings.HasPrefix(path, "/v1/admin/") {
			continue
		}
		for method, op := range item.Operations() {
			n++
			if op.Security == nil || len(*op.Security) != 1 || len((*op.Security)[0]) != 1 || (*op.Security)[0]["adminToken"] == nil {
				t.Errorf("%s %s: security should be adminToken alone", method, path)
			}
			for _, status := range []int{401, 503} {
				if op.Responses.Status(status) == nil {
					t.Errorf("%s %s: no %d response", method, path, status)
				}
			}
		}
	}
	if n != 9 {
		t.Errorf("gateway: %d admin operations, want 9 (breakers, dead letters, one dead letter, two replays, audit log, unreadable records, erasure, subject access)", n)
	}
}

// TestDataMinimisation: each department's request carries what its document
// says and nothing more.
func TestDataMinimisation(t *testing.T) {
	minimal := []string{"name", "idNumber", "householdDivision", "dibao", "tekun", "orphan"}
	cases := []struct {
		dept            string
		person          []string
		requiredExtra   []string
		forbiddenFields []string
	}{
		{"cdpf", []string{"name", "idNumber", "birthDate", "ethnicity", "mobile", "address", "householdDivision", "householdType", "guardian", "dibao", "tekun", "orphan"}, []string{"business"}, []string{"medical"}},
		{"civil", minimal, []string{"certificate"}, []string{"business", "procedure", "medical", "delivery"}},
		{"hrss", minimal, nil, []string{"business", "procedure", "medical", "delivery"}},
		{"medical", minimal, []string{"medical"}, []string{"business", "procedure", "certificate", "delivery"}},
	}
	for _, c := range cases {
		doc := mustSpec(t, "dept-"+c.dept)
		person := doc.Components.Schemas["Person"].Value
		var props []string
		for p := range person.Properties {
			props = append(props, p)
		}
		if !sameSet(props, c.person) {
			t.Errorf("dept-%s: Person has %v, want %v", c.dept, sorted(props), sorted(c.person))
		}
		req := doc.Components.Schemas["CaseRequest"].Value
		for _, r := range c.requiredExtra {
			if !slices.Contains(req.Required, r) {
				t.Errorf("dept-%s: CaseRequest should require %q", c.dept, r)
			}
		}
		for _, f := range c.forbiddenFields {
			if _, ok := req.Properties[f]; ok {
				t.Errorf("dept-%s: CaseRequest should not carry %q", c.dept, f)
			}
		}
	}
}

type manifestEntry struct {
	Spec        string `json:"spec"`
	Path        string `json:"path"`
	Method      string `json:"method"`
	Part        string `json:"part"`
	Status      int    `json:"status,omitempty"`
	Callback    string `json:"callback,omitempty"`
	SchemaValid *bool  `json:"schemaValid,omitempty"`
	Note        string `json:"note,omitempty"`
	GoType      string `json:"goType"`
}

func readManifest(t *testing.T) map[string]manifestEntry {
	t.Helper()
	data, err := contracts.Example("manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m map[string]manifestEntry
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	return m
}

func TestManifestCoversExamples(t *testing.T) {
	m := readManifest(t)
	files, err := fs.Glob(contracts.ExamplesFS, "*.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f == "manifest.json" {
			continue
		}
		if _, ok := m[f]; !ok {
			t.Errorf("%s is not in manifest.json", f)
		}
	}
	for f := range m {
		if _, err := contracts.Example(f); err != nil {
			t.Errorf("manifest.json names %s: %v", f, err)
		}
	}
	for _, f := range []string{
		"submission-full.json", "submission-holder-online.json", "submission-minor.json",
		"submission-orphan-medical.json", "submission-invalid.json", "submission-accepted.json",
		"application-view.json", "error-validation.json", "error-unauthorized.json",
		"event-cdpf-approved.json", "event-civil-rejected.json", "event-ack.json",
		"case-request-cdpf.json", "case-request-civil.json", "case-request-hrss.json",
		"case-request-medical.json", "case-response-received.json", "case-response-approved.json",
		"status-push.json",
		"submission-renew-expiry.json", "submission-renew-visual.json", "submission-ineligible.json",
		"submission-supplement.json", "submission-cert-refused.json", "submission-grade3-mental.json",
		"guide-request.json", "guide-answer.json", "supplement-submission.json", "withdrawal.json",
		"withdrawal-result.json", "case-supplement-request.json", "case-cancel-request.json",
		"case-response-in-progress.json", "error-conflict.json",
		"case-view.json", "dead-letters.json", "replay-result.json", "breakers.json",
		"faults.json", "mock-stats.json", "mock-pushes.json",
	} {
		if _, ok := m[f]; !ok {
			t.Errorf("required example %s is missing", f)
		}
	}
}

// goTypes makes a fresh value of each goType named in the manifest.
var goTypes = map[string]func() any{
	"Submission":         func() any { return new(contracts.Submission) },
	"SubmissionAccepted": func() any { return new(contracts.SubmissionAccepted) },
	"ApplicationView":    func() any { return new(contracts.ApplicationView) },
	"Error":              func() any { return new(contracts.Error) },
	"DeptEvent":          func() any { return new(contracts.DeptEvent) },
	"EventAck":           func() any { return new(contracts.EventAck) },
	"CaseRequest":        func() any { return new(contracts.CaseRequest) },
	"CaseResponse":       func() any { return new(contracts.CaseResponse) },
	"StatusPush":         func() any { return new(contracts.StatusPush) },

	"SupplementSubmission": func() any { return new(contracts.SupplementSubmission) },
	"Withdrawal":           func() any { return new(contracts.Withdrawal) },
	"WithdrawalResult":     func() any { return new(contracts.WithdrawalResult) },
	"GuideRequest":         func() any { return new(contracts.GuideRequest) },
	"GuideAnswer":          func() any { return new(contracts.GuideAnswer) },
	"SupplementRequest":    func() any { return new(contracts.SupplementRequest) },
	"CancelRequest":        func() any { return new(contracts.CancelRequest) },

	"CaseView":       func() any { return new(contracts.CaseView) },
	"DeadLetterList": func() any { return new(contracts.DeadLetterList) },
	"ReplayResult":   func() any { return new(contracts.ReplayResult) },
	"BreakerReport":  func() any { return new(breakerReport) },

	"ApplicationList":   func() any { return new(contracts.ApplicationList) },
	"ApplicationSearch": func() any { return new(contracts.ApplicationSearch) },
	"ApplicationRecord": func() any { return new(contracts.ApplicationRecord) },
	"AuditPage":         func() any { return new(contracts.AuditPage) },

	"UnreadableRecordList": func() any { return new(contracts.UnreadableRecordList) },

	"EraseRequest":         func() any { return new(contracts.EraseRequest) },
	"ErasureResult":        func() any { return new(contracts.ErasureResult) },
	"SubjectAccessRequest": func() any { return new(contracts.SubjectAccessRequest) },
	"SubjectAccessExport":  func() any { return new(contracts.SubjectAccessExport) },
}

// schemaOnly are the goTypes of examples of the mocks' admin API: contracts
// must not import mocks, so those examples are checked against their schema
// only (their manifest note says so), and only in mocks-admin.yaml.
var schemaOnly = map[string]bool{"mocks.Faults": true, "mocks.Stats": true, "mocks.PushesReport": true}

// TestExamples checks each example against the schema of its operation,
// decodes it strictly into its Go type, and checks that what Go writes back
// still conforms and keeps every value.
func TestExamples(t *testing.T) {
	for file, e := range readManifest(t) {
		t.Run(file, func(t *testing.T) {
			data, err := contracts.Example(file)
			if err != nil {
				t.Fatal(err)
			}
			schema, asResponse := exampleSchema(t, e)
			var value any
			if err := json.Unmarshal(data, &value); err != nil {
				t.Fatalf("not JSON: %v", err)
			}
			err = visit(schema, value, asResponse)
			wantValid := e.SchemaValid == nil || *e.SchemaValid
			switch {
			case wantValid && err != nil:
				t.Errorf("does not match %s %s %s %s: %v", e.Spec, strings.ToUpper(e.Method), e.Path, e.Part, err)
			case !wantValid && err == nil:
				t.Errorf("marked schemaValid=false but matches the schema")
			}

			if schemaOnly[e.GoType] {
				if e.Spec != "mocks-admin" || !strings.HasPrefix(e.Note, "schema only") || !wantValid {
					t.Errorf("goType %s is checked against the schema only: it belongs to a valid mocks-admin example whose note starts \"schema only\"", e.GoType)
				}
				return
			}
			newT, ok := goTypes[e.GoType]
			if !ok {
				t.Fatalf("unknown goType %q", e.GoType)
			}
			v := newT()
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.DisallowUnknownFields()
			if err := dec.Decode(v); err != nil {
				t.Fatalf("decode into %s: %v", e.GoType, err)
			}
			if _, err := dec.Token(); err != io.EOF {
				t.Errorf("trailing data after the JSON value")
			}
			if !wantValid {
				return
			}
			out, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			var back any
			if err := json.Unmarshal(out, &back); err != nil {
				t.Fatal(err)
			}
			if err := visit(schema, back, asResponse); err != nil {
				t.Errorf("%s as Go writes it does not match the schema: %v\n%s", e.GoType, err, out)
			}
			if p := lost(value, back, ""); p != "" {
				t.Errorf("%s loses or changes %s on a round trip through Go", e.GoType, p)
			}
		})
	}
}

// exampleSchema finds the schema of a manifest entry's body.
func exampleSchema(t *testing.T, e manifestEntry) (*openapi3.SchemaRef, bool) {
	t.Helper()
	doc := mustSpec(t, e.Spec)
	item := doc.Paths.Value(e.Path)
	if item == nil {
		t.Fatalf("%s has no path %s", e.Spec, e.Path)
	}
	op := item.GetOperation(strings.ToUpper(e.Method))
	if op == nil {
		t.Fatalf("%s has no %s %s", e.Spec, e.Method, e.Path)
	}
	var content openapi3.Content
	asResponse := false
	switch e.Part {
	case "request":
		content = op.RequestBody.Value.Content
	case "response":
		r := op.Responses.Status(e.Status)
		if r == nil {
			t.Fatalf("%s %s %s declares no %d response", e.Spec, e.Method, e.Path, e.Status)
		}
		content, asResponse = r.Value.Content, true
	case "callback":
		cb := op.Callbacks[e.Callback]
		if cb == nil || cb.Value.Len() != 1 {
			t.Fatalf("%s %s %s has no single callback %q", e.Spec, e.Method, e.Path, e.Callback)
		}
		for _, pi := range cb.Value.Map() {
			content = pi.Post.RequestBody.Value.Content
		}
	default:
		t.Fatalf("unknown part %q", e.Part)
	}
	mt := content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		t.Fatalf("%s %s %s %s has no application/json schema", e.Spec, e.Method, e.Path, e.Part)
	}
	return mt.Schema, asResponse
}

func visit(s *openapi3.SchemaRef, v any, asResponse bool) error {
	opts := []openapi3.SchemaValidationOption{openapi3.MultiErrors(), openapi3.DisableSchemaErrorDetails()}
	if asResponse {
		opts = append(opts, openapi3.VisitAsResponse())
	} else {
		opts = append(opts, openapi3.VisitAsRequest())
	}
	return s.Value.VisitJSON(v, opts...)
}

// lost reports the first value of a that b does not have.
func lost(a, b any, path string) string {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			return path
		}
		for k, x := range av {
			if p := lost(x, bv[k], path+"."+k); p != "" {
				return p
			}
		}
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			return path
		}
		for i := range av {
			if p := lost(av[i], bv[i], fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	default:
		if !reflect.DeepEqual(a, b) {
			return path
		}
	}
	return ""
}

// TestSubmissionExamplesValidate runs the server's own rules on the
// submission examples.
func TestSubmissionExamplesValidate(t *testing.T) {
	today := civil.Today(nil)
	for _, f := range []string{"submission-full.json", "submission-holder-online.json", "submission-minor.json", "submission-orphan-medical.json",
		"submission-renew-expiry.json", "submission-renew-visual.json", "submission-ineligible.json",
		"submission-supplement.json", "submission-cert-refused.json", "submission-grade3-mental.json"} {
		s := decodeExample[contracts.Submission](t, f)
		if errs := s.Validate(today); len(errs) > 0 {
			t.Errorf("%s: %+v", f, errs)
		}
	}
	// The other requests the gateway validates.
	if errs := decodeExample[contracts.GuideRequest](t, "guide-request.json").Validate(civil.MustParse("2026-09-14")); len(errs) > 0 {
		t.Errorf("guide-request.json: %+v", errs)
	}
	if errs := decodeExample[contracts.SupplementSubmission](t, "supplement-submission.json").Validate(); len(errs) > 0 {
		t.Errorf("supplement-submission.json: %+v", errs)
	}

	s := decodeExample[contracts.Submission](t, "submission-invalid.json")
	got := s.Validate(today)
	want := map[string]string{"applicant.name": "required", "applicant.idNumber": "invalid_checksum"}
	if len(got) != len(want) {
		t.Errorf("submission-invalid.json: %d problems, want %d: %+v", len(got), len(want), got)
	}
	for _, fe := range got {
		if want[fe.Field] != fe.Code {
			t.Errorf("submission-invalid.json: unexpected problem %s %s", fe.Field, fe.Code)
		}
	}
	// error-validation.json is the 422 answer to submission-invalid.json.
	ev := decodeExample[contracts.Error](t, "error-validation.json")
	if len(ev.Details) != len(got) {
		t.Fatalf("error-validation.json has %d details, Validate finds %d", len(ev.Details), len(got))
	}
	for i, fe := range got {
		if ev.Details[i] != fe {
			t.Errorf("error-validation.json details[%d] = %+v, Validate says %+v", i, ev.Details[i], fe)
		}
	}
}

// TestMainCase pins the seed's main scenario in submission-full.json.
func TestMainCase(t *testing.T) {
	s := decodeExample[contracts.Submission](t, "submission-full.json")
	a := s.Applicant
	switch {
	case a.HouseholdDivision != "511702102" || a.Address.Town != "罗江镇":
		t.Error("main case should live in 罗江镇, Tongchuan (511702102)")
	case !a.Dibao || a.Certificate != nil:
		t.Error("main case is a dibao recipient without a certificate")
	case s.Channel != contracts.ChannelOffline || s.Delivery.Method != "pickup":
		t.Error("main case is offline with pickup")
	case s.Requests.Certificate == nil || s.Requests.Certificate.Business != contracts.ItemCertNew || s.Requests.Certificate.RequestedCategory != contracts.CategoryPhysical:
		t.Error("main case asks for a new certificate, physical disability")
	case s.Requests.TwoSubsidies == nil || s.Requests.Pension == nil || s.Requests.Medical == nil ||
		s.Requests.Medical.Identity != "dibao" || s.Requests.Medical.PremiumPaid:
		t.Error("main case asks for the two subsidies, pension and medical (dibao, premium not paid)")
	}
	id, err := contracts.ParseIDNumber(a.IDNumber, civil.Today(nil))
	if err != nil || id.Birth.Year() < 1980 || id.Birth.Year() > 1989 {
		t.Errorf("main case should be born in the 1980s: %v %v", id.Birth, err)
	}
	// application-view.json is the same case, masked.
	v := decodeExample[contracts.ApplicationView](t, "application-view.json")
	if v.Applicant.Name != contracts.MaskName(a.Name) || v.Applicant.IDNumber != contracts.MaskID(a.IDNumber) {
		t.Errorf("application-view.json applicant %+v is not the main case masked (%s, %s)", v.Applicant, contracts.MaskName(a.Name), contracts.MaskID(a.IDNumber))
	}
	if v.PortalRef != s.PortalRef {
		t.Error("application-view.json is not the main case")
	}
}

var idLike = regexp.MustCompile(`"([1-9][0-9]{16}[0-9X])([1-7][1-4])?"`)

// TestExampleIdentifiers: every ID and certificate number in the examples is
// valid, except the one submission-invalid.json gets wrong on purpose, and
// certificates agree with their category and grade.
func TestExampleIdentifiers(t *testing.T) {
	files, _ := fs.Glob(contracts.ExamplesFS, "*.json")
	seen := 0
	for _, f := range files {
		data, _ := contracts.Example(f)
		for _, m := range idLike.FindAllStringSubmatch(string(data), -1) {
			seen++
			_, err := contracts.ParseIDNumber(m[1], civil.Today(nil))
			if f == "submission-invalid.json" {
				if err == nil {
					t.Errorf("%s: %s should have a wrong check character", f, m[1])
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: %s: %v", f, m[1], err)
			}
			if m[2] != "" {
				if _, err := contracts.ParseCertificateNumber(m[1]+m[2], civil.Today(nil)); err != nil {
					t.Errorf("%s: certificate %s%s: %v", f, m[1], m[2], err)
				}
			}
		}
	}
	if seen < 10 {
		t.Errorf("found only %d ID numbers in the examples", seen)
	}
	// Status views and pushes carry masked certificate numbers.
	push, _ := contracts.Example("status-push.json")
	var masked []contracts.Certificate
	collectCerts(t, push, &masked)
	for _, c := range masked {
		if c.Number != contracts.MaskID(c.Number) {
			t.Errorf("status-push.json: certificate number %s is not masked", c.Number)
		}
	}
	for _, f := range []string{"event-cdpf-approved.json", "submission-holder-online.json", "case-request-civil.json"} {
		data, _ := contracts.Example(f)
		var certs []contracts.Certificate
		collectCerts(t, data, &certs)
		if len(certs) == 0 {
			t.Errorf("%s: no certificate", f)
		}
		for _, c := range certs {
			n, err := contracts.ParseCertificateNumber(c.Number, civil.Today(nil))
			if err != nil || n.Category != c.Category || n.Grade != c.Grade {
				t.Errorf("%s: certificate %s disagrees with category %d grade %d (%v)", f, c.Number, c.Category, c.Grade, err)
			}
			from, _ := time.Parse(time.DateOnly, c.ValidFrom)
			until, _ := time.Parse(time.DateOnly, c.ValidUntil)
			if !until.Equal(from.AddDate(10, 0, -1)) {
				t.Errorf("%s: certificate valid %s..%s is not 10 years", f, c.ValidFrom, c.ValidUntil)
			}
		}
	}
}

// TestDeptEventExamples: the events a department posts are also what the
// gateway's events endpoint takes, and pass the event rules.
func TestDeptEventExamples(t *testing.T) {
	gw := mustSpec(t, "gateway")
	schema := gw.Paths.Value("/v1/departments/{dept}/events").Post.RequestBody.Value.Content.Get("application/json").Schema
	for file, e := range readManifest(t) {
		if e.GoType != "DeptEvent" {
			continue
		}
		data, _ := contracts.Example(file)
		var v any
		_ = json.Unmarshal(data, &v)
		if err := visit(schema, v, false); err != nil {
			t.Errorf("%s does not match the gateway's events request: %v", file, err)
		}
		ev := decodeExample[contracts.DeptEvent](t, file)
		if errs := ev.Validate(ev.OccurredAt); len(errs) > 0 { // as the gateway would when it happened
			t.Errorf("%s: %+v", file, errs)
		}
	}
}

func collectCerts(t *testing.T, data []byte, out *[]contracts.Certificate) {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			for k, y := range x {
				if k == "certificate" {
					if m, ok := y.(map[string]any); ok {
						if _, ok := m["number"]; ok {
							b, _ := json.Marshal(m)
							var c contracts.Certificate
							if err := json.Unmarshal(b, &c); err != nil {
								t.Fatal(err)
							}
							*out = append(*out, c)
							continue
						}
					}
				}
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(v)
}

func decodeExample[T any](t *testing.T, name string) *T {
	t.Helper()
	data, err := contracts.Example(name)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	v := new(T)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

func mustSpec(t *testing.T, name string) *openapi3.T {
	t.Helper()
	doc, err := contracts.Spec(name)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func enumOf(doc *openapi3.T, schema string) []string {
	return anyStrs(doc.Components.Schemas[schema].Value.Enum)
}

func enumIs(t *testing.T, doc *openapi3.T, schema string, want []string) {
	t.Helper()
	if got := enumOf(doc, schema); !sameSet(got, want) {
		t.Errorf("%s enum %v, want %v", schema, sorted(got), sorted(want))
	}
}

func propEnum(doc *openapi3.T, schema, prop string) []string {
	return anyStrs(doc.Components.Schemas[schema].Value.Properties[prop].Value.Enum)
}

func anyStrs(xs []any) []string {
	var out []string
	for _, x := range xs {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

func strs[S ~string](xs []S) []string {
	var out []string
	for _, x := range xs {
		out = append(out, string(x))
	}
	return out
}

func sameSet(a, b []string) bool {
	return slices.Equal(sorted(a), sorted(b))
}

func sorted(xs []string) []string {
	out := slices.Clone(xs)
	sort.Strings(out)
	return out
}

// The contract lists the checklist's codes a supplement may name: the ones
// the gateway takes, no more, no fewer.
func TestSupplementMaterialsAreTheChecklist(t *testing.T) {
	gw := mustSpec(t, "gateway")
	items := gw.Components.Schemas["SupplementSubmission"].Value.Properties["materials"].Value.Items.Value
	var listed []string
	for _, v := range items.Enum {
		listed = append(listed, v.(string))
	}
	slices.Sort(listed)
	if !slices.Equal(listed, contracts.MaterialCodes()) {
		t.Fatalf("contract %v, gateway %v", listed, contracts.MaterialCodes())
	}
}
