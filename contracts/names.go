package contracts

import (
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
)

// The display names: every code a clerk can read (states, departments,
// channels, timeline sources and kinds, event types, milestones, breaker
// states, job kinds, dispatch errors) named once, in Chinese with its
// English twin. The console's pages and the pushes' display texts
// (stateName, deptName) read them from here, so a name is changed in one
// place; DisplayKeys lists every code so a test can check that no page
// shows one as text.

// TaskStateNames are the states of one item as people read them.
var TaskStateNames = map[TaskState]Message{
	TaskPlanned:            {ZH: "已登记", EN: "planned"},
	TaskWaiting:            {ZH: "等待前序事项", EN: "waiting for another item"},
	TaskReady:              {ZH: "待推送", EN: "ready to send"},
	TaskDispatched:         {ZH: "已推送部门", EN: "sent to the department"},
	TaskAccepted:           {ZH: "部门已受理", EN: "accepted by the department"},
	TaskInProgress:         {ZH: "部门办理中", EN: "in progress"},
	TaskSupplementRequired: {ZH: "待补正", EN: "supplement required"},
	TaskApproved:           {ZH: "已办结（准予）", EN: "approved"},
	TaskRejected:           {ZH: "已办结（不予）", EN: "rejected"},
	TaskCancelled:          {ZH: "已撤回", EN: "withdrawn"},
	TaskDeadLetter:         {ZH: "发送失败，待运维处理", EN: "sending failed; with an operator"},
}

// AppStateNames are the consolidated states as people read them.
var AppStateNames = map[AppState]Message{
	AppReceived:           {ZH: "已受理", EN: "received"},
	AppProcessing:         {ZH: "办理中", EN: "processing"},
	AppSupplementRequired: {ZH: "待补正", EN: "supplement required"},
	AppCompleted:          {ZH: "已办结", EN: "completed"},
	AppWithdrawn:          {ZH: "已撤回", EN: "withdrawn"},
}

// deptNames: the office of each department, without and with its county
// ("区残联"; "达川区" + "残联").
var deptNames = map[Dept]struct{ district, office Message }{
	DeptCDPF:    {Message{"区残联", "district Disabled Persons' Federation"}, Message{"残联", "Disabled Persons' Federation"}},
	DeptCivil:   {Message{"区民政局", "district Civil Affairs Bureau"}, Message{"民政局", "Civil Affairs Bureau"}},
	DeptHRSS:    {Message{"区人社局", "district Human Resources and Social Security Bureau"}, Message{"人社局", "Human Resources and Social Security Bureau"}},
	DeptMedical: {Message{"区医保局", "district Healthcare Security Bureau"}, Message{"医保局", "Healthcare Security Bureau"}},
}

// ChannelNames are the ways an application comes in.
var ChannelNames = map[Channel]Message{
	ChannelOffline: {ZH: "窗口", EN: "window"},
	ChannelOnline:  {ZH: "网上", EN: "online"},
}

// SourceNames are who made a timeline entry, besides a department (whose
// entries carry its code and are named by DeptName).
var SourceNames = map[string]Message{
	"gateway":  {ZH: "一件事平台", EN: "the gateway"},
	"portal":   {ZH: "申请渠道（网上或窗口）", EN: "the application channel (online or window)"},
	"operator": {ZH: "运维人员", EN: "an operator"},
}

// EntryKindNames are the kinds of timeline entries (gateway/workflow and
// gateway/engine write them).
var EntryKindNames = map[string]Message{
	"received":            {ZH: "受理申请", EN: "application received"},
	"planned":             {ZH: "生成办理事项", EN: "item planned"},
	"state":               {ZH: "状态变化", EN: "state change"},
	"note":                {ZH: "说明", EN: "note"},
	"milestone":           {ZH: "部门办理节点", EN: "department milestone"},
	"supplement_provided": {ZH: "已补正材料", EN: "supplement provided"},
	"department_notified": {ZH: "已通知部门", EN: "department notified"},
	"stale_report":        {ZH: "部门迟到的回报（未采用）", EN: "late department report (not applied)"},
	"event_ignored":       {ZH: "部门回报（未采用）", EN: "department report (ignored)"},
	"follow_up_refused":   {ZH: "部门拒收转交（请核实）", EN: "follow-up refused by the department (to check)"},
	"replayed":            {ZH: "运维人员重新发送", EN: "replayed by an operator"},
	"erased":              {ZH: "已删除个人信息", EN: "personal data erased"},
}

// ErasedName is what an erased application shows in place of its
// applicant: its personal part was erased, the trace is kept.
var ErasedName = Message{ZH: "已删除个人信息", EN: "personal data erased"}

// ErasureKindNames are why an application's personal part was erased.
var ErasureKindNames = map[string]Message{
	ErasureRequest:   {ZH: "依本人申请删除", EN: "erased at the person's request"},
	ErasureRetention: {ZH: "保存期限届满删除", EN: "erased at the end of its retention period"},
}

// EventTypeNames are what a department reports about a task.
var EventTypeNames = map[EventType]Message{
	EventAccepted:           {ZH: "部门受理", EN: "accepted"},
	EventInProgress:         {ZH: "部门审核中", EN: "in progress"},
	EventAssessed:           {ZH: "残疾评定完成", EN: "assessed"},
	EventPublicised:         {ZH: "评定结果公示", EN: "publicised"},
	EventSupplementRequired: {ZH: "要求补正", EN: "supplement required"},
	EventApproved:           {ZH: "准予", EN: "approved"},
	EventRejected:           {ZH: "不予", EN: "rejected"},
}

// MilestoneNames are the steps inside a department a task records.
var MilestoneNames = map[string]Message{
	"assessed":   {ZH: "已评定", EN: "assessed"},
	"publicised": {ZH: "公示中", EN: "publicised"},
}

// BreakerStateNames are a remote system's circuit breaker states.
var BreakerStateNames = map[string]Message{
	"closed":    {ZH: "正常", EN: "closed (normal)"},
	"half-open": {ZH: "试探恢复中", EN: "half-open (probing)"},
	"open":      {ZH: "已熔断（暂停发送）", EN: "open (paused)"},
}

// JobKindNames are the kinds of the gateway's queued jobs (gateway/store).
var JobKindNames = map[string]Message{
	"dispatch": {ZH: "推送至部门", EN: "send to the department"},
	"push":     {ZH: "状态推送至省平台", EN: "status push to the portal"},
	"resume":   {ZH: "转交补正材料", EN: "forward a supplement"},
	"cancel":   {ZH: "通知部门撤回", EN: "tell the department of a withdrawal"},
	"poll":     {ZH: "查询部门办理进度", EN: "read the department's case"},
}

// systemPortal is the remote system name of the portal's status receiver.
const systemPortal = "portal"

var portalName = Message{ZH: "省一体化政务服务平台", EN: "the provincial portal"}

// RemoteErrorNames are the error codes a department system (or the
// gateway's client calling it) gives in its error body, and the client's
// own failures, as an operator reads them.
var RemoteErrorNames = map[string]Message{
	"breaker_open":             {ZH: "部门系统已熔断，暂停发送", EN: "the department's breaker is open; sending paused"},
	"timeout":                  {ZH: "连接部门系统超时", EN: "the department's system timed out"},
	"connection_refused":       {ZH: "无法连接部门系统", EN: "cannot connect to the department's system"},
	"network":                  {ZH: "网络错误", EN: "network error"},
	"quarantined":              {ZH: "任务记录损坏，已隔离", EN: "the job record was damaged and quarantined"},
	"http_5xx":                 {ZH: "部门系统内部错误", EN: "the department's system failed"},
	"http_4xx":                 {ZH: "部门系统拒收", EN: "the department's system refused the request"},
	"malformed_response":       {ZH: "部门系统答复无法解析", EN: "the department's answer cannot be read"},
	"malformed_body":           {ZH: "部门系统无法读取请求", EN: "the department cannot read the request"},
	"malformed_json":           {ZH: "部门系统认为请求不是有效的 JSON", EN: "the department found the request not valid JSON"},
	"invalid_request":          {ZH: "请求不符合部门接口规范", EN: "the request does not match the department's contract"},
	"idempotency_key_required": {ZH: "缺少幂等键", EN: "idempotency key missing"},
	"idempotency_conflict":     {ZH: "幂等键已用于不同的请求", EN: "idempotency key reused for another request"},
	"wrong_county":             {ZH: "案件不属于该部门系统所辖县", EN: "the case is not of this system's county"},
	"not_found":                {ZH: "部门系统中没有该办件", EN: "no such case in the department's system"},
	"conflict":                 {ZH: "办件当前状态不能办理该操作", EN: "the case cannot take this now"},
	"unauthorized":             {ZH: "签名校验失败", EN: "signature refused"},
	"forbidden":                {ZH: "无权访问部门系统", EN: "forbidden by the department's system"},
	"down_for_maintenance":     {ZH: "部门系统维护中", EN: "the department's system is down for maintenance"},
	"rate_limited":             {ZH: "请求过于频繁", EN: "too many requests"},
	"internal_error":           {ZH: "部门系统内部错误", EN: "the department's system failed"},
	"unavailable":              {ZH: "部门系统暂不可用", EN: "the department's system is unavailable"},
	"erased_unsettled":         {ZH: "个人信息已删除，派单可能已送达部门，须与部门核实撤销", EN: "personal data erased; the case request may have reached the department: settle it by hand"},
}

// unknownError names an error the table does not know (its text is shown
// beside it, for the operator).
var unknownError = Message{ZH: "其他错误", EN: "other error"}

// countyNamer names a county by its code (the gateway's county rule packs
// install one: this package knows no packs).
var countyNamer atomic.Pointer[func(code string) (Message, bool)]

// SetCountyNamer installs how CountyName names a county beyond
// Divisions (gateway/rules installs its packs' names; nil: none).
func SetCountyNamer(f func(code string) (Message, bool)) {
	if f == nil {
		countyNamer.Store(nil)
		return
	}
	countyNamer.Store(&f)
}

// CountyName is a county's name (达川区), from the installed county
// packs, else Divisions; ok is false for a county named by neither.
func CountyName(code string) (Message, bool) {
	if f := countyNamer.Load(); f != nil {
		if m, ok := (*f)(code); ok {
			return m, true
		}
	}
	if n, ok := Divisions[code]; ok && len(code) == 6 {
		return Message{ZH: n, EN: n}, true
	}
	return Message{}, false
}

// TaskStateName is an item's state for people.
func TaskStateName(s TaskState) Message { return named(TaskStateNames, s) }

// AppStateName is a consolidated state for people.
func AppStateName(s AppState) Message { return named(AppStateNames, s) }

// ChannelName is how an application came in, for people.
func ChannelName(ch Channel) Message { return named(ChannelNames, ch) }

// ErasureKindName is why an application's personal part was erased, for
// people.
func ErasureKindName(kind string) Message { return named(ErasureKindNames, kind) }

// EntryKindName is a timeline entry's kind for people.
func EntryKindName(kind string) Message { return named(EntryKindNames, kind) }

// EventTypeName is a department event's type for people.
func EventTypeName(t EventType) Message { return named(EventTypeNames, t) }

// MilestoneName is a department milestone for people.
func MilestoneName(kind string) Message { return named(MilestoneNames, kind) }

// BreakerStateName is a breaker state for people.
func BreakerStateName(state string) Message { return named(BreakerStateNames, state) }

// JobKindName is a queued job's kind for people.
func JobKindName(kind string) Message { return named(JobKindNames, kind) }

// named looks a code up; a code without a name (a newer one than this
// table) is shown as itself rather than hidden.
func named[K ~string](table map[K]Message, k K) Message {
	if m, ok := table[k]; ok {
		return m
	}
	return Message{ZH: string(k), EN: string(k)}
}

// DeptName is a department's office: with its county, the county's name
// and the office (hrss of 511703: 达川区人社局); without one (or a county
// nobody names), the district office (区人社局).
func DeptName(d Dept, county string) Message {
	n, ok := deptNames[d]
	if !ok {
		return Message{ZH: string(d), EN: string(d)}
	}
	if cn, ok := CountyName(county); ok && county != "" {
		return Message{ZH: cn.ZH + n.office.ZH, EN: cn.EN + " " + n.office.EN}
	}
	return n.district
}

// SourceName is who made a timeline entry: a department (of the task's
// county), the gateway, the application channel or an operator.
func SourceName(source, county string) Message {
	if d := Dept(source); d.Valid() {
		return DeptName(d, county)
	}
	return named(SourceNames, source)
}

// SystemName is a remote system the gateway calls, by its name in the
// gateway ("cdpf", "hrss:511703", "portal").
func SystemName(system string) Message {
	if system == systemPortal {
		return portalName
	}
	dept, county, _ := strings.Cut(system, ":")
	return DeptName(Dept(dept), county)
}

var (
	httpError   = regexp.MustCompile(`^HTTP (\d{3})(?: ([a-z_]+))?$`)
	errorSystem = regexp.MustCompile(`^[a-z]+(?::\d{6})?: `)
)

// DispatchErrorName names a job's last error (contracts.DeadLetter's
// LastError, adapters/client's Error text: "SYSTEM: HTTP 503 CODE",
// "SYSTEM: circuit breaker open", "SYSTEM: <network error>", or the
// store's "quarantined: …"). detail is what the name leaves out and an
// operator may need: the HTTP status, or the text of an error the table
// does not know (its system prefix removed: the page names the system).
func DispatchErrorName(lastError string) (name Message, detail string) {
	if rest, ok := strings.CutPrefix(lastError, ErasedUnsettled); ok {
		// The earlier error as it was (the same in either language).
		return RemoteErrorNames["erased_unsettled"], strings.TrimSuffix(strings.TrimPrefix(rest, "（此前 / before: "), "）")
	}
	if strings.HasPrefix(lastError, "quarantined: ") {
		return RemoteErrorNames["quarantined"], ""
	}
	rest := strings.TrimSpace(errorSystem.ReplaceAllString(lastError, ""))
	if rest == "circuit breaker open" {
		return RemoteErrorNames["breaker_open"], ""
	}
	if m := httpError.FindStringSubmatch(rest); m != nil {
		status, _ := strconv.Atoi(m[1])
		if n, ok := RemoteErrorNames[m[2]]; ok {
			return n, "HTTP " + m[1]
		}
		switch {
		case status == 429:
			return RemoteErrorNames["rate_limited"], "HTTP " + m[1]
		case status == 408:
			return RemoteErrorNames["timeout"], "HTTP " + m[1]
		case status >= 500:
			return RemoteErrorNames["http_5xx"], "HTTP " + m[1]
		}
		return RemoteErrorNames["http_4xx"], "HTTP " + m[1]
	}
	low := strings.ToLower(rest)
	switch {
	case strings.Contains(low, "timeout") || strings.Contains(low, "deadline exceeded"):
		return RemoteErrorNames["timeout"], ""
	case strings.Contains(low, "connection refused"):
		return RemoteErrorNames["connection_refused"], ""
	case strings.Contains(low, "dial tcp") || strings.Contains(low, "no such host") || strings.Contains(low, "connection reset") || strings.Contains(low, "eof"):
		return RemoteErrorNames["network"], ""
	}
	return unknownError, rest
}

// DisplayKeys are every code the tables name: none of them may appear as
// text on a page in Chinese (the console's tests check every page).
func DisplayKeys() []string {
	var keys []string
	add := func(k string) { keys = append(keys, k) }
	for k := range TaskStateNames {
		add(string(k))
	}
	for k := range AppStateNames {
		add(string(k))
	}
	for k := range deptNames {
		add(string(k))
	}
	for k := range ChannelNames {
		add(string(k))
	}
	for _, t := range []map[string]Message{SourceNames, EntryKindNames, MilestoneNames, BreakerStateNames, JobKindNames, RemoteErrorNames, ErasureKindNames} {
		for k := range t {
			add(k)
		}
	}
	for k := range EventTypeNames {
		add(string(k))
	}
	for k := range Items {
		add(string(k))
	}
	sort.Strings(keys)
	return slices.Compact(keys)
}
