// Package api is the gateway's HTTP surface (gin): the portal's submission
// webhook, case status, department events, health and metrics. Every error
// has the one JSON shape of contracts.Error.
package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	c "onething/contracts"
	"onething/gateway/auth"
	"onething/gateway/calendar"
	"onething/gateway/engine"
	"onething/gateway/rules"
	"onething/gateway/store"
	"onething/gateway/workflow"
)

// MaxBody is the largest request body accepted.
const MaxBody = 1 << 20

// Config is what the HTTP layer needs.
type Config struct {
	Engine *engine.Engine
	// PortalSecrets verify submissions (several during a key rotation).
	PortalSecrets []string
	// DeptSecrets verify each department's events.
	DeptSecrets map[c.Dept][]string
	// DeptEndpoints are the department systems that post events, each
	// with its own secrets and the counties whose tasks it may report on
	// (a per-county system); when set, they replace DeptSecrets.
	DeptEndpoints []DeptEndpoint
	// ReadTokens are bearer tokens of the district office, acting as
	// token:read#1, #2 …: a shorthand for tests and embedders. The gateway
	// (gateway/service) passes its read tokens as Tokens, each with the
	// subject the configuration names, so audit says whose token read.
	ReadTokens []string
	// Ready reports readiness checks (store, calendar, workers).
	Ready   func(ctx context.Context) map[string]Check
	Metrics http.Handler
	Log     *slog.Logger
	// BaseURL is the public base of the gateway, for links in replies.
	BaseURL string
	// Calendar computes the guide's due dates.
	Calendar *calendar.Calendar
	// AdminTokens are bearer tokens of operators (dead letters, breakers),
	// acting as token:admin#1 …: the same shorthand as ReadTokens.
	AdminTokens []string
	// Breakers reports each remote system's circuit breaker.
	Breakers func() map[string]c.BreakerStatus
	// ObserveHTTP is told of every request served (metrics): method, route
	// template ("" when no route matched), status and time taken.
	ObserveHTTP func(method, route string, status int, elapsed time.Duration)
	// InFlight is called as a request starts; what it returns, as it ends.
	InFlight func() func()

	// Tokens are further static bearer tokens, each with its principal
	// (ReadTokens are district-office staff, AdminTokens admins).
	Tokens []auth.StaticToken
	// JWT, when set, accepts bearer JWTs (see gateway/auth).
	JWT *auth.JWTConfig
	// RateLimit sets the per-caller token buckets (zero: generous defaults).
	RateLimit auth.RateLimitConfig
	// ReplayTTL and ReplaySize bound the cache of webhook ids (zero: 10m,
	// 100,000).
	ReplayTTL  time.Duration
	ReplaySize int
	// Unreadable lists the stored records that do not open
	// (GET /v1/admin/unreadable-records); nil: Engine.Store, if it can.
	Unreadable store.UnreadableLister
	// TrustedProxies are the addresses (CIDRs) of proxies whose
	// X-Forwarded-For is believed when keying anonymous callers; none by
	// default (the peer address counts).
	TrustedProxies []string
	// Console, when set, is served at /console/ behind this middleware
	// (console.go).
	Console http.Handler
	// HSTS sends Strict-Transport-Security (the gateway is served over
	// https).
	HSTS bool
}

// Check is one readiness check.
type Check struct {
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

type server struct {
	cfg Config
	sec *security
}

// New builds the HTTP handler.
func New(cfg Config) (http.Handler, error) {
	s := &server{cfg: cfg}
	if cfg.Log == nil {
		s.cfg.Log = slog.Default()
	}
	var err error
	if s.sec, err = newSecurity(s.cfg); err != nil {
		return nil, err
	}
	if cfg.Metrics == nil {
		s.cfg.Metrics = promhttp.Handler()
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	// No redirects for a trailing slash: gin's are bare (a 301 or 307
	// without the headers every answer carries); such a path is the
	// JSON 404 like any other unknown address.
	r.RedirectTrailingSlash = false
	if err := r.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, fmt.Errorf("trusted proxies: %w", err)
	}
	// secure enforces the one access policy (security.go) on every route.
	r.Use(s.requestID, s.securityHeaders, s.hsts, s.recover, s.logRequests, s.secure)
	r.NoRoute(func(g *gin.Context) {
		s.fail(g, http.StatusNotFound, "not_found", "请求的地址不存在", "no such endpoint")
	})
	r.NoMethod(func(g *gin.Context) {
		s.fail(g, http.StatusMethodNotAllowed, "method_not_allowed", "不支持该请求方法", "method not allowed")
	})
	r.POST("/v1/portal/submissions", s.submit)
	r.GET("/v1/applications", s.searchApplications)
	r.POST("/v1/applications/search", s.searchApplicationsPosted)
	r.GET("/v1/applications/:id", s.application)
	r.GET("/v1/applications/:id/record", s.record)
	r.POST("/v1/applications/:id/supplements", s.supplement)
	r.POST("/v1/applications/:id/withdraw", s.withdraw)
	r.POST("/v1/guide", s.guide)
	admin := r.Group("/v1/admin")
	admin.GET("/breakers", s.breakers)
	admin.GET("/dead-letters", s.deadLetters)
	admin.GET("/dead-letters/:task", s.deadLetter)
	admin.POST("/dead-letters/:task/replay", s.replayOne)
	admin.POST("/dead-letters/replay", s.replayDept)
	admin.GET("/audit", s.auditLog)
	admin.GET("/unreadable-records", s.unreadableRecords)
	admin.POST("/applications/:id/erase", s.erase)
	admin.POST("/subject-access", s.subjectAccess)
	r.POST("/v1/departments/:dept/events", s.event)
	r.GET("/healthz", func(g *gin.Context) { g.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", s.ready)
	r.GET("/metrics", gin.WrapH(s.cfg.Metrics))
	r.GET("/openapi/:name", s.openapi)
	r.HEAD("/openapi/:name", s.openapi) // caches and link checkers ask HEAD
	s.mountConsole(r)
	return r, nil
}

const ridKey = "requestId"

// requestID takes the caller's X-Request-Id (when validRequestID) or makes
// one, and returns it on every response. It also takes the caller's W3C
// traceparent (or starts a trace) into the request's context, so any call
// made on the request's behalf carries it, and it measures every request
// (metrics), panics included.
func (s *server) requestID(g *gin.Context) {
	start := time.Now()
	if s.cfg.InFlight != nil {
		defer s.cfg.InFlight()()
	}
	rid := g.GetHeader(c.HeaderRequestID)
	if !validRequestID(rid) {
		b := make([]byte, 8)
		rand.Read(b)
		rid = hex.EncodeToString(b)
	}
	g.Set(ridKey, rid)
	g.Header(c.HeaderRequestID, rid)
	tc, ok := c.ParseTraceparent(g.GetHeader(c.HeaderTraceparent))
	if !ok {
		tc = c.NewTrace()
	}
	g.Set(traceKey, tc.TraceIDString())
	g.Request = g.Request.WithContext(c.WithTrace(g.Request.Context(), tc))
	g.Next()
	if s.cfg.ObserveHTTP != nil {
		s.cfg.ObserveHTTP(g.Request.Method, g.FullPath(), g.Writer.Status(), time.Since(start))
	}
}

const traceKey = "traceId"

// validRequestID reports whether a caller's X-Request-Id may be used: 1 to
// 64 characters of [A-Za-z0-9._-], with no run of digits shaped like an ID
// or certificate number (15, 17, 18 or 20 and more digits, X after the
// 17th), a mobile number (1[3-9] and 9 digits, 86 before it) or a landline
// with its area code (0 and 9-11 digits, or 0 and 2-3 digits, -, 7-8
// digits), also with its digit groups joined by . _ or - (136.9876.5432).
// The id goes into every log line and audit entry of the request,
// so anything else (spaces, line breaks, Chinese, an ID or phone number, a
// long text) is replaced by a fresh id. UUIDs, ULIDs and trace ids pass.
func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch b := id[i]; {
		case b >= 'A' && b <= 'Z', b >= 'a' && b <= 'z', b >= '0' && b <= '9', b == '.', b == '_', b == '-':
		default:
			return false
		}
	}
	// Digit groups joined by . _ - are read once as they are and once
	// joined (86-136-9876-5432, 136.9876.5432 are phone numbers too).
	return !personalRuns(id) && !personalRuns(c.JoinDigitGroups(id))
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// personalRuns reports whether a run of digits of id is personalDigits, or
// an area code, a dash and a landline's 7-8 digits.
func personalRuns(id string) bool {
	prev, run := "", 0 // prev: the run before, if only a - came after it
	for i := 0; i <= len(id); i++ {
		if i < len(id) && (id[i] >= '0' && id[i] <= '9' || run == 17 && (id[i] == 'X' || id[i] == 'x')) {
			run++
			continue
		}
		d := id[i-run : i]
		if personalDigits(d) || len(prev) >= 3 && len(prev) <= 4 && prev[0] == '0' && len(d) >= 7 && len(d) <= 8 {
			return true
		}
		prev = ""
		if run > 0 && i < len(id) && id[i] == '-' {
			prev = d
		}
		run = 0
	}
	return false
}

// personalDigits reports whether a run of digits has the length of an ID or
// certificate number or the shape of a mobile number or of a landline with
// its area code.
func personalDigits(d string) bool {
	mobile := func(d string) bool { return len(d) == 11 && d[0] == '1' && d[1] >= '3' }
	n := len(d)
	return n == 15 || n == 17 || n == 18 || n >= 20 || mobile(d) || n == 13 && d[:2] == "86" && mobile(d[2:]) ||
		n >= 10 && n <= 12 && d[0] == '0'
}

// recover turns a panic into the JSON 500, without a stack trace or input
// in the reply or the log.
func (s *server) recover(g *gin.Context) {
	defer func() {
		if p := recover(); p != nil {
			s.cfg.Log.Error("panic in handler", "route", g.FullPath(), "requestId", g.GetString(ridKey), "panic", fmt.Sprintf("%T", p))
			s.fail(g, http.StatusInternalServerError, "internal_error", "服务内部错误，请稍后重试", "internal error; please retry later")
			g.Abort()
		}
	}()
	g.Next()
}

// logRequests logs method, route, status and time: never bodies or query
// strings, which can hold personal data.
func (s *server) logRequests(g *gin.Context) {
	start := time.Now()
	g.Next()
	s.cfg.Log.Info("http", "method", g.Request.Method, "route", g.FullPath(), "status", g.Writer.Status(),
		"ms", time.Since(start).Milliseconds(), "caller", caller(g), "requestId", g.GetString(ridKey), "traceId", g.GetString(traceKey))
}

func (s *server) fail(g *gin.Context, status int, code, zh, en string, details ...c.FieldError) {
	s.abortReply(g, status, c.Error{Code: code, Message: zh, MessageEn: en, Details: details, RequestID: g.GetString(ridKey)})
}

// readBody reads a JSON body of at most MaxBody bytes (once: a signed
// route's body was read to check its signature).
func (s *server) readBody(g *gin.Context) ([]byte, bool) {
	if b, ok := g.Get(bodyKey); ok {
		return b.([]byte), true
	}
	if !jsonContentType(g.GetHeader("Content-Type")) {
		s.fail(g, http.StatusUnsupportedMediaType, "unsupported_media_type", "请求体须为 UTF-8 编码的 JSON（Content-Type: application/json）",
			"the body must be JSON in UTF-8 (Content-Type: application/json)")
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(g.Writer, g.Request.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.fail(g, http.StatusRequestEntityTooLarge, "body_too_large", "请求体过大（上限 1 MiB）", "the body exceeds 1 MiB")
		} else {
			s.fail(g, http.StatusBadRequest, "malformed_body", "请求体读取失败", "the body could not be read")
		}
		return nil, false
	}
	return body, true
}

// jsonContentType reports whether a request's Content-Type is
// application/json in UTF-8: the type (any case), no charset or
// charset=utf-8 (any case). A missing type is refused: a body is only
// read as JSON when its sender says it is.
func jsonContentType(ct string) bool {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return false
	}
	cs, ok := params["charset"]
	return !ok || strings.EqualFold(cs, "utf-8")
}

func (s *server) submit(g *gin.Context) {
	var sub c.Submission
	if !s.bindBody(g, &sub, "申请", "submission") {
		return
	}
	if problems := sub.Validate(s.cfg.Engine.Flow.Today()); len(problems) > 0 {
		s.fail(g, http.StatusUnprocessableEntity, "validation_failed",
			fmt.Sprintf("申请内容有 %d 处问题，请修改后重新提交", len(problems)),
			fmt.Sprintf("the submission has %d problem(s)", len(problems)), problems...)
		return
	}
	app, dup, err := s.cfg.Engine.Submit(g.Request.Context(), g.GetHeader(standardwebhooks.HeaderWebhookID), &sub)
	switch {
	case errors.Is(err, engine.ErrPortalRefConflict):
		s.cfg.Log.Warn("portal reference used before for another submission: refused", "requestId", g.GetString(ridKey))
		s.fail(g, http.StatusConflict, "portal_ref_conflict", engine.PortalRefConflict.ZH, engine.PortalRefConflict.EN)
		return
	case errors.Is(err, engine.ErrDeliveryReplayed):
		s.cfg.Log.Warn("webhook id replayed for another submission: refused", "route", g.FullPath(), "caller", caller(g), "requestId", g.GetString(ridKey))
		s.fail(g, http.StatusConflict, "replayed_webhook", replayedZH, replayedEN)
		return
	case err != nil && s.unreadable(g, err):
		return
	}
	if err != nil {
		s.cfg.Log.Error("store submission", "requestId", g.GetString(ridKey), "err", err)
		s.fail(g, http.StatusServiceUnavailable, "store_unavailable", "暂时无法受理，请稍后重试", "cannot store the submission now; retry later")
		return
	}
	status := http.StatusAccepted
	if dup {
		status = http.StatusOK
	} else {
		// appTraceId is the trace every department call for it carries.
		s.cfg.Log.Info("application received", "app", app.ID, "tasks", len(app.Tasks), "requestId", g.GetString(ridKey),
			"traceId", g.GetString(traceKey), "appTraceId", c.TraceForID(app.ID).TraceIDString())
	}
	// Briefs are in China time.
	s.replyChinaTimed(g, status, c.SubmissionAccepted{
		ApplicationID: app.ID, PortalRef: app.PortalRef, Status: app.Status.State, Duplicate: dup,
		Items: s.cfg.Engine.Flow.Briefs(app), StatusURL: s.cfg.BaseURL + "/v1/applications/" + app.ID,
	})
}

func (s *server) application(g *gin.Context) {
	app, err := s.cfg.Engine.Store.Get(g.Request.Context(), g.Param("id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !s.inScope(g, app)) {
		s.fail(g, http.StatusNotFound, "not_found", "申请不存在", "no such application")
		return
	}
	if err != nil && s.unreadable(g, err) {
		return
	}
	if err != nil {
		s.cfg.Log.Error("read application", "requestId", g.GetString(ridKey), "err", err)
		s.fail(g, http.StatusServiceUnavailable, "store_unavailable", "暂时无法查询，请稍后重试", "cannot read now; retry later")
		return
	}
	s.reply(g, http.StatusOK, s.cfg.Engine.Flow.View(app))
}

func (s *server) event(g *gin.Context) {
	dept := c.Dept(g.Param("dept"))
	if !dept.Valid() {
		s.fail(g, http.StatusNotFound, "not_found", "部门不存在", "no such department")
		return
	}
	var ev c.DeptEvent
	if !s.bindBody(g, &ev, "事件", "event") {
		return
	}
	if problems := ev.Validate(s.cfg.Engine.Flow.Now()); len(problems) > 0 {
		s.fail(g, http.StatusUnprocessableEntity, "validation_failed", "事件内容不正确", "the event is invalid", problems...)
		return
	}
	// The event id is the department's too: one id, one request (delivery.go).
	d := s.delivery(g, func(res any, err error) (store.Reply, bool) {
		var illegal *workflow.IllegalTransitionError
		var invalid *workflow.InvalidEventError
		switch {
		case errors.As(err, &invalid):
			return jsonReply(http.StatusUnprocessableEntity, c.Error{Code: "validation_failed", Message: "事件内容与申请或本事项的办件不符", MessageEn: "the event contradicts its application or the item's case",
				Details: invalid.Problems, RequestID: g.GetString(ridKey)}), true
		case errors.Is(err, engine.ErrUnknownTask):
			return s.errorReply(g, http.StatusNotFound, "not_found", "任务不存在", "no such task"), true
		case errors.Is(err, workflow.ErrWrongDept):
			s.cfg.Log.Warn("department reported on another's task", "dept", dept, "task", ev.TaskID, "requestId", g.GetString(ridKey))
			return s.errorReply(g, http.StatusForbidden, "forbidden", "无权处理其他部门的任务", "the task belongs to another department"), true
		case errors.Is(err, engine.ErrWrongCounty):
			s.cfg.Log.Warn("department system reported on another county's task", "dept", dept, "caller", caller(g), "task", ev.TaskID, "requestId", g.GetString(ridKey))
			return s.errorReply(g, http.StatusForbidden, "forbidden", "无权处理其他县（市、区）的任务", "the task belongs to a county this system does not serve"), true
		case errors.As(err, &illegal):
			return s.errorReply(g, http.StatusConflict, "illegal_transition",
				fmt.Sprintf("任务状态为“%s”（%s），不能变为“%s”（%s）", c.TaskStateName(illegal.From).ZH, illegal.From, c.TaskStateName(illegal.To).ZH, illegal.To),
				fmt.Sprintf("task is %s and cannot become %s", illegal.From, illegal.To)), true
		case err != nil:
			return store.Reply{}, false
		}
		r := res.(engine.EventResult)
		return jsonReply(http.StatusOK, c.EventAck{EventID: ev.EventID, Outcome: string(r.Outcome), TaskState: r.State}), true
	}, "event|"+ev.EventID)
	d.Serves, d.Sender = eventServes(g), g.GetString(senderCtx)
	reply, err := s.cfg.Engine.EventDelivered(g.Request.Context(), dept, d, &ev)
	if errors.Is(err, engine.ErrWrongCounty) {
		s.cfg.Log.Warn("department system reported on another county's task", "dept", dept, "caller", caller(g), "task", ev.TaskID, "requestId", g.GetString(ridKey))
		s.fail(g, http.StatusForbidden, "forbidden", "无权处理其他县（市、区）的任务", "the task belongs to a county this system does not serve")
		return
	}
	s.sendDelivered(g, reply, err)
}

func (s *server) ready(g *gin.Context) {
	checks := map[string]Check{}
	if s.cfg.Ready != nil {
		checks = s.cfg.Ready(g.Request.Context())
	}
	ok := true
	for _, ch := range checks {
		ok = ok && ch.OK
	}
	status := http.StatusOK
	if !ok {
		status = http.StatusServiceUnavailable
	}
	s.reply(g, status, gin.H{"ready": ok, "checks": checks})
}

// bindBody reads a JSON request body (the policy has checked its
// signature, where it needs one) and decodes it strictly into v; on
// failure it answers (413, or 400 with what, in Chinese and English, the
// body should have been) and returns false.
func (s *server) bindBody(g *gin.Context, v any, whatZH, whatEN string) bool {
	body, ok := s.readBody(g)
	if !ok {
		return false
	}
	if err := decodeStrict(body, v); err != nil {
		s.badJSON(g, "请求体不是有效的"+whatZH+" JSON", "the body is not a valid "+whatEN+" JSON", err)
		return false
	}
	return true
}

func (s *server) invalid(g *gin.Context, problems []c.FieldError) bool {
	if len(problems) == 0 {
		return false
	}
	s.fail(g, http.StatusUnprocessableEntity, "validation_failed",
		fmt.Sprintf("请求内容有 %d 处问题，请修改后重新提交", len(problems)),
		fmt.Sprintf("the request has %d problem(s)", len(problems)), problems...)
	return true
}

// storeFailed answers the errors every application action shares.
func (s *server) storeFailed(g *gin.Context, err error) {
	switch {
	case errors.Is(err, engine.ErrNotFound):
		s.fail(g, http.StatusNotFound, "not_found", "申请不存在", "no such application")
	case errors.Is(err, engine.ErrUnknownTask):
		s.fail(g, http.StatusNotFound, "not_found", "任务不存在", "no such task")
	case s.unreadable(g, err):
	default:
		s.cfg.Log.Error("store", "route", g.FullPath(), "requestId", g.GetString(ridKey), "err", err)
		s.fail(g, http.StatusServiceUnavailable, "store_unavailable", "暂时无法处理，请稍后重试", "cannot process now; retry later")
	}
}

// supplement takes the applicant's resubmission of what a department asked
// for (补正) and forwards it; the department resumes the task.
func (s *server) supplement(g *gin.Context) {
	var sub c.SupplementSubmission
	if !s.bindBody(g, &sub, "补正", "supplement") || s.invalid(g, sub.Validate()) {
		return
	}
	reply, err := s.cfg.Engine.SupplementDelivered(g.Request.Context(), g.Param("id"), s.delivery(g, func(res any, err error) (store.Reply, bool) {
		switch {
		case errors.Is(err, workflow.ErrNoSupplementDue):
			return s.errorReply(g, http.StatusConflict, "no_supplement_due", "该事项当前无需补正", "the task is not waiting for a supplement"), true
		case err != nil:
			return store.Reply{}, false
		}
		return jsonReply(http.StatusAccepted, s.cfg.Engine.Flow.View(res.(*c.Application))), true
	}), &sub)
	s.sendDelivered(g, reply, err)
}

// withdraw cancels what has not finished and tells the departments.
func (s *server) withdraw(g *gin.Context) {
	var req c.Withdrawal
	if !s.bindBody(g, &req, "撤回", "withdrawal") {
		return
	}
	if s.invalid(g, req.Validate()) {
		return
	}
	reply, err := s.cfg.Engine.WithdrawDelivered(g.Request.Context(), g.Param("id"), s.delivery(g, func(res any, err error) (store.Reply, bool) {
		switch {
		case errors.Is(err, workflow.ErrNothingToWithdraw):
			return s.errorReply(g, http.StatusConflict, "nothing_to_withdraw", "所有事项均已办结，无法撤回", "every item is finished: nothing to withdraw"), true
		case err != nil:
			return store.Reply{}, false
		}
		return jsonReply(http.StatusOK, res), true
	}), g.GetHeader(standardwebhooks.HeaderWebhookID), req.Reason)
	s.sendDelivered(g, reply, err)
}

// guide answers the portal's 专项问答.
func (s *server) guide(g *gin.Context) {
	var req c.GuideRequest
	if !s.bindBody(g, &req, "问答", "guide request") {
		return
	}
	if s.invalid(g, req.Validate(s.cfg.Engine.Flow.Today())) {
		return
	}
	f := rules.Facts{Today: s.cfg.Engine.Flow.Today(), HouseholdDivision: req.HouseholdDivision,
		Dibao: req.Dibao, Tekun: req.Tekun, Orphan: req.Orphan, Minor: req.Minor,
		// The guide knows only "minor": for one in an assisted group the
		// pension (enrolment from 16) is answered as a review, and the
		// planner decides from the ID number.
		Under16: req.Minor}
	if gc := req.Certificate; gc != nil {
		f.Certificate = &c.Certificate{Category: gc.Category, Grade: gc.Grade, IssuedOn: gc.IssuedOn,
			ValidFrom: gc.ValidFrom, ValidUntil: gc.ValidUntil, VisualAssessment: gc.VisualAssessment}
	}
	cal := s.cfg.Calendar
	if cal == nil {
		cal = s.cfg.Engine.Flow.Cal
	}
	ans := rules.Guide(f, req.Wants, req.PremiumPaid, cal)
	s.cfg.Engine.Flow.GuideServed(&ans, req.HouseholdDivision) // a county no system serves
	s.reply(g, http.StatusOK, ans)
}

func (s *server) breakers(g *gin.Context) {
	if !s.adminAudit(g, c.AuditBreakers, "", "") {
		return
	}
	out := map[string]c.BreakerStatus{}
	if s.cfg.Breakers != nil {
		out = s.cfg.Breakers()
	}
	s.reply(g, http.StatusOK, gin.H{"breakers": out})
}

// deptParam reads ?dept=, empty for all; an unknown name is an error.
func (s *server) deptParam(g *gin.Context) (c.Dept, bool) {
	d := c.Dept(g.Query("dept"))
	if d != "" && !d.Valid() {
		s.fail(g, http.StatusUnprocessableEntity, "validation_failed", "部门不存在", "no such department",
			c.FieldError{Field: "dept", Code: "invalid_choice", Message: "部门须为 cdpf、civil、hrss 或 medical", MessageEn: "dept must be cdpf, civil, hrss or medical"})
		return "", false
	}
	return d, true
}

func (s *server) deadLetters(g *gin.Context) {
	d, ok := s.deptParam(g)
	if !ok || !s.adminAudit(g, c.AuditDeadLetters, "", d) {
		return
	}
	list, err := s.cfg.Engine.DeadLetters(g.Request.Context(), d)
	if err != nil {
		s.storeFailed(g, err)
		return
	}
	s.reply(g, http.StatusOK, c.DeadLetterList{DeadLetters: list})
}

func (s *server) deadLetter(g *gin.Context) {
	if !s.adminAudit(g, c.AuditDeadLetter, g.Param("task"), "") {
		return
	}
	list, err := s.cfg.Engine.DeadLetters(g.Request.Context(), "")
	if err != nil {
		s.storeFailed(g, err)
		return
	}
	for _, dl := range list {
		if dl.TaskID == g.Param("task") {
			s.reply(g, http.StatusOK, dl)
			return
		}
	}
	s.fail(g, http.StatusNotFound, "not_found", "没有该死信任务", "no such dead letter")
}

func (s *server) replayOne(g *gin.Context) {
	if !s.adminAudit(g, c.AuditReplay, g.Param("task"), "") {
		return
	}
	res, err := s.cfg.Engine.Replay(g.Request.Context(), "", g.Param("task"))
	if errors.Is(err, engine.ErrUnknownTask) {
		s.fail(g, http.StatusNotFound, "not_found", "没有该死信任务", "no such dead letter")
		return
	}
	if err != nil {
		s.storeFailed(g, err)
		return
	}
	msg := "dead letter replayed"
	if len(res.Replayed) == 0 {
		msg = "dead letter cleared: nothing to send" // answered meanwhile, or erased
	}
	s.cfg.Log.Info(msg, "task", g.Param("task"), "requestId", g.GetString(ridKey))
	s.reply(g, http.StatusAccepted, res)
}

func (s *server) replayDept(g *gin.Context) {
	d, ok := s.deptParam(g)
	if !ok {
		return
	}
	// Only the literal true, given once (contract; outsider: all=TRUE,
	// all=1 and all=true&all=false replayed everything).
	if all := g.QueryArray("all"); d == "" && (len(all) != 1 || all[0] != "true") {
		s.fail(g, http.StatusUnprocessableEntity, "validation_failed", "请指定部门（?dept=），或用 ?all=true 重发全部", "name a department (?dept=) or replay everything with ?all=true",
			c.FieldError{Field: "dept", Code: "required", Message: "请指定部门", MessageEn: "dept is required unless all=true"})
		return
	}
	if !s.adminAudit(g, c.AuditReplay, "", d) {
		return
	}
	res, err := s.cfg.Engine.Replay(g.Request.Context(), d, "")
	if err != nil {
		s.storeFailed(g, err)
		return
	}
	s.cfg.Log.Info("dead letters replayed", "dept", d, "count", len(res.Replayed), "cleared", len(res.Resolved), "requestId", g.GetString(ridKey))
	s.reply(g, http.StatusAccepted, res)
}
