package contracts_test

import (
	"slices"
	"testing"

	"onething/contracts"
)

// Every code of the wire's enums has a name in both languages: a state
// added to the contract without one would show as its code on the pages.
func TestEveryCodeHasAName(t *testing.T) {
	doc := mustSpec(t, "gateway")
	check := func(kind string, codes []string, name func(string) contracts.Message) {
		t.Helper()
		if len(codes) == 0 {
			t.Fatalf("%s: no codes to check", kind)
		}
		for _, code := range codes {
			n := name(code)
			if n.ZH == "" || n.EN == "" || n.ZH == code {
				t.Errorf("%s %q has no name: %+v", kind, code, n)
			}
		}
	}
	check("task state", enumOf(doc, "TaskState"), func(s string) contracts.Message { return contracts.TaskStateName(contracts.TaskState(s)) })
	check("app state", enumOf(doc, "AppState"), func(s string) contracts.Message { return contracts.AppStateName(contracts.AppState(s)) })
	check("dept", enumOf(doc, "Dept"), func(s string) contracts.Message { return contracts.DeptName(contracts.Dept(s), "") })
	check("channel", enumOf(doc, "Channel"), func(s string) contracts.Message { return contracts.ChannelName(contracts.Channel(s)) })
	check("event type", enumOf(mustSpec(t, "dept-cdpf"), "EventType"), func(s string) contracts.Message { return contracts.EventTypeName(contracts.EventType(s)) })
	check("breaker state", []string{"closed", "half-open", "open"}, contracts.BreakerStateName)
	check("job kind", []string{"dispatch", "push", "resume", "cancel", "poll"}, contracts.JobKindName)
	check("timeline source", []string{"gateway", "portal", "operator", "cdpf", "civil", "hrss", "medical"}, func(s string) contracts.Message { return contracts.SourceName(s, "") })
	check("timeline kind", []string{"received", "planned", "state", "note", "milestone", "supplement_provided", "department_notified", "stale_report"}, contracts.EntryKindName)
	check("milestone", []string{"assessed", "publicised"}, contracts.MilestoneName)
	keys := contracts.DisplayKeys()
	for _, k := range []string{"processing", "dead_letter", "cdpf", "offline", "half-open", "department_notified", "cert.new", "breaker_open"} {
		if !slices.Contains(keys, k) {
			t.Errorf("DisplayKeys lacks %q", k)
		}
	}
}

func TestDeptNameWithCounty(t *testing.T) {
	for _, c := range []struct {
		dept   contracts.Dept
		county string
		want   string
	}{
		{contracts.DeptHRSS, "511703", "达川区人社局"},
		{contracts.DeptCDPF, "511702", "通川区残联"},
		{contracts.DeptMedical, "511781", "万源市医保局"},
		{contracts.DeptCivil, "", "区民政局"},
		{contracts.DeptCivil, "999999", "区民政局"}, // a county nobody names: the district office
	} {
		if got := contracts.DeptName(c.dept, c.county).ZH; got != c.want {
			t.Errorf("DeptName(%s, %q) = %q, want %q", c.dept, c.county, got, c.want)
		}
	}
	if got := contracts.SystemName("hrss:511703").ZH; got != "达川区人社局" {
		t.Errorf("SystemName(hrss:511703) = %q", got)
	}
	if got := contracts.SystemName("portal").ZH; got != "省一体化政务服务平台" {
		t.Errorf("SystemName(portal) = %q", got)
	}
}

// The client's error texts (adapters/client Error) and the store's
// quarantine get names; only an unknown text is shown, without its
// system prefix.
func TestDispatchErrorName(t *testing.T) {
	for _, c := range []struct{ in, zh, detail string }{
		{"cdpf: HTTP 503 down_for_maintenance", "部门系统维护中", "HTTP 503"},
		{"hrss:511703: HTTP 502 ", "部门系统内部错误", "HTTP 502"},
		{"civil: HTTP 502", "部门系统内部错误", "HTTP 502"},
		{"civil: HTTP 422 invalid_request", "请求不符合部门接口规范", "HTTP 422"},
		{"civil: HTTP 404 weird_code", "部门系统拒收", "HTTP 404"},
		{"medical: HTTP 429 ", "请求过于频繁", "HTTP 429"},
		{"cdpf: circuit breaker open", "部门系统已熔断，暂停发送", ""},
		{`cdpf: Post "http://127.0.0.1:1/cases": dial tcp 127.0.0.1:1: connect: connection refused`, "无法连接部门系统", ""},
		{"cdpf: context deadline exceeded (Client.Timeout exceeded while awaiting headers)", "连接部门系统超时", ""},
		{"quarantined: bad json; the record as stored: {}", "任务记录损坏，已隔离", ""},
		{"cdpf: something new", "其他错误", "something new"},
		{contracts.ErasedUnsettled, "个人信息已删除，派单可能已送达部门，须与部门核实撤销", ""},
		{contracts.ErasedUnsettledAfter("medical: HTTP 500 internal_error"), "个人信息已删除，派单可能已送达部门，须与部门核实撤销", "medical: HTTP 500 internal_error"},
	} {
		name, detail := contracts.DispatchErrorName(c.in)
		if name.ZH != c.zh || detail != c.detail {
			t.Errorf("DispatchErrorName(%q) = %q, %q; want %q, %q", c.in, name.ZH, detail, c.zh, c.detail)
		}
	}
}
