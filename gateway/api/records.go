package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	c "onething/contracts"
	"onething/gateway/auth"
	"onething/gateway/store"
)

// Personal data and audit: the search by ID number (masked summaries),
// the full-record read (unmasked, a reason required, audited), the audit
// log for admins, and the audit entry every admin action writes first.
// Each audited operation writes its entry before it does anything; when
// the entry cannot be written, nothing is done or shown (503).

// recordScope: admins see every record, window staff those registered in
// their towns (the district office all); a record outside the scope is 404.
func recordScope(p *auth.Principal, app *c.Application) bool {
	switch p.Role {
	case auth.RoleAdmin:
		return true
	case auth.RoleStaff:
		return p.SeesHousehold(app.Applicant.HouseholdDivision)
	}
	return false
}

// reasonParam reads ?reason=: why the caller needs what it asks for.
// Required for a full-record read, optional elsewhere.
func (s *server) reasonParam(g *gin.Context, required bool) (string, bool) {
	return s.checkReason(g, g.Query("reason"), required)
}

// checkReason checks an audit reason (from the query or a body): the
// limits of reasonParam.
func (s *server) checkReason(g *gin.Context, reason string, required bool) (string, bool) {
	return s.reasonOf(g, reason, required, "查看完整记录须说明理由（?reason=）", "reading a full record needs a reason (?reason=)")
}

// reasonOf checks an audit reason against contracts.CheckAuditReason (and
// the names of the application's people); a missing required one is
// refused with the message given, any other problem with the rule's own.
func (s *server) reasonOf(g *gin.Context, reason string, required bool, missingZH, missingEN string, names ...string) (string, bool) {
	reason, fe := c.CheckAuditReason(reason, required, names...)
	if fe != nil {
		if fe.Code == "required" {
			fe.Message, fe.MessageEn = missingZH, missingEN
		}
		s.invalid(g, []c.FieldError{*fe})
		return "", false
	}
	return reason, true
}

// audit appends the entry of this request (who, when, which route) to the
// audit log; on failure it answers 503 and the caller must stop.
func (s *server) audit(g *gin.Context, e c.AuditEntry) (c.AuditEntry, bool) {
	e.Subject = "anonymous"
	if p := principal(g); p != nil {
		e.Subject, e.Role = p.Subject, string(p.Role)
	}
	e.Method, e.Route, e.RequestID = g.Request.Method, g.FullPath(), g.GetString(ridKey)
	saved, err := s.cfg.Engine.Audit(g.Request.Context(), e)
	if err != nil {
		s.cfg.Log.Error("audit log unavailable: request refused", "route", e.Route, "caller", e.Subject, "requestId", e.RequestID, "err", err)
		s.fail(g, http.StatusServiceUnavailable, "audit_unavailable", "暂时无法写入审计日志，本次操作未执行，请稍后重试",
			"cannot write the audit log now; nothing was done; retry later")
		return saved, false
	}
	return saved, true
}

// adminAudit writes the audit entry of an admin action (with the
// caller's optional ?reason=).
func (s *server) adminAudit(g *gin.Context, action, taskID string, dept c.Dept) bool {
	reason, ok := s.reasonParam(g, false)
	if !ok {
		return false
	}
	appID := ""
	if taskID != "" {
		if id, ok := appIDOfTask(taskID); ok {
			appID = id
		}
	}
	_, ok = s.audit(g, c.AuditEntry{Action: action, TaskID: taskID, ApplicationID: appID, Dept: dept, Reason: reason})
	return ok
}

func appIDOfTask(taskID string) (string, bool) {
	i := strings.LastIndexByte(taskID, '-')
	if i <= 0 {
		return "", false
	}
	return taskID[:i], true
}

// record is GET /v1/applications/{id}/record?reason=…: the decrypted
// application, unmasked, for staff of its town and admins; the read is
// audited first.
func (s *server) record(g *gin.Context) {
	reason, ok := s.reasonParam(g, true)
	if !ok {
		return
	}
	app, err := s.cfg.Engine.Store.Get(g.Request.Context(), g.Param("id"))
	if err == nil && !s.inScope(g, app) {
		err = store.ErrNotFound
	}
	if err != nil {
		s.storeFailed(g, err)
		return
	}
	if app.Erased != nil {
		s.erased(g, app) // nothing personal is left to read
		return
	}
	entry, ok := s.audit(g, c.AuditEntry{Action: c.AuditRecordRead, ApplicationID: app.ID, Reason: reason})
	if !ok {
		return
	}
	s.cfg.Log.Info("full record read", "app", app.ID, "caller", entry.Subject, "audit", entry.ID, "requestId", g.GetString(ridKey))
	s.reply(g, http.StatusOK, s.cfg.Engine.Record(app, entry.ID))
}

// searchApplications is GET /v1/applications?idNumber=…: every
// application of a person the caller may see, masked. The store finds
// them by the ID number's keyed blind index; the search is audited with
// the number masked.
func (s *server) searchApplications(g *gin.Context) {
	s.findPerson(g, g.Query("idNumber"), g.Query("reason"))
}

// searchApplicationsPosted is POST /v1/applications/search: the same
// search with the number in the body, out of URLs and access logs.
func (s *server) searchApplicationsPosted(g *gin.Context) {
	var q c.ApplicationSearch
	if !s.bindBody(g, &q, "查询", "search") {
		return
	}
	s.findPerson(g, q.IDNumber, q.Reason)
}

// findPerson answers a search by ID number, from the query or a body.
func (s *server) findPerson(g *gin.Context, rawID, rawReason string) {
	raw := strings.TrimSpace(rawID)
	if raw == "" {
		s.invalid(g, []c.FieldError{{Field: "idNumber", Code: "required", Message: "请提供公民身份号码（idNumber）", MessageEn: "idNumber is required"}})
		return
	}
	idn := store.NormalizeIDNumber(raw)
	if _, err := c.ParseIDNumber(idn, s.cfg.Engine.Flow.Today()); err != nil {
		s.invalid(g, []c.FieldError{{Field: "idNumber", Code: "invalid", Message: "公民身份号码不正确（18 位，校验位须正确）", MessageEn: "not a valid citizen ID number (18 characters, correct check character)"}})
		return
	}
	reason, ok := s.checkReason(g, rawReason, false)
	if !ok {
		return
	}
	if _, ok := s.audit(g, c.AuditEntry{Action: c.AuditSearch, Query: "idNumber=" + c.MaskID(idn), Reason: reason}); !ok {
		return
	}
	apps, err := s.cfg.Engine.FindByIDNumber(g.Request.Context(), idn)
	if err != nil {
		s.storeFailed(g, err)
		return
	}
	out := c.ApplicationList{Applications: []c.ApplicationSummary{}}
	for _, app := range apps {
		if s.inScope(g, app) {
			out.Applications = append(out.Applications, s.cfg.Engine.Summary(app))
		}
	}
	s.reply(g, http.StatusOK, out)
}

// auditLog is GET /v1/admin/audit: the audit log, newest first, filtered
// by application, subject and time range, a page at a time. The query is
// itself audited (it is the first entry it may show).
func (s *server) auditLog(g *gin.Context) {
	q := store.AuditQuery{ApplicationID: g.Query("applicationId"), Subject: g.Query("subject"), Cursor: g.Query("cursor")}
	var problems []c.FieldError
	for _, f := range []struct {
		name string
		to   *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		if v := g.Query(f.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				problems = append(problems, c.FieldError{Field: f.name, Code: "invalid_time", Message: "时间格式须为 RFC 3339，例如 2026-10-12T09:30:00+08:00", MessageEn: "time must be RFC 3339, e.g. 2026-10-12T09:30:00+08:00"})
				continue
			}
			*f.to = t
		}
	}
	if v := g.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxAuditLimit {
			problems = append(problems, c.FieldError{Field: "limit", Code: "out_of_range", Message: fmt.Sprintf("limit 须为 1 到 %d", store.MaxAuditLimit), MessageEn: fmt.Sprintf("limit must be 1 to %d", store.MaxAuditLimit)})
		}
		q.Limit = n
	}
	if len(q.Cursor) > 64 {
		problems = append(problems, badCursor)
	}
	if q.ApplicationID != "" && !appIDPattern.MatchString(q.ApplicationID) {
		problems = append(problems, c.FieldError{Field: "applicationId", Code: "invalid", Message: "申请编号格式不正确", MessageEn: "not an application id"})
	}
	if q.Subject != "" && auth.ValidSubject(q.Subject) != nil {
		problems = append(problems, c.FieldError{Field: "subject", Code: "invalid", Message: "subject 须为账号名（不得为个人信息）", MessageEn: "subject must be an account name (never personal data)"})
	}
	if s.invalid(g, problems) {
		return
	}
	reason, ok := s.reasonParam(g, false)
	if !ok {
		return
	}
	filters := url.Values{}
	for _, k := range []string{"applicationId", "subject", "from", "to", "limit", "cursor"} {
		if v := g.Query(k); v != "" {
			filters.Set(k, v)
		}
	}
	if _, ok := s.audit(g, c.AuditEntry{Action: c.AuditQueryAction, ApplicationID: q.ApplicationID, Query: filters.Encode(), Reason: reason}); !ok {
		return
	}
	page, err := s.cfg.Engine.AuditLog(g.Request.Context(), q)
	if errors.Is(err, store.ErrBadCursor) {
		s.invalid(g, []c.FieldError{badCursor})
		return
	}
	if err != nil {
		s.storeFailed(g, err)
		return
	}
	s.reply(g, http.StatusOK, page)
}

var appIDPattern = regexp.MustCompile(`^[0-9A-Za-z_-]{1,64}$`)

var badCursor = c.FieldError{Field: "cursor", Code: "invalid", Message: "cursor 须取自上一页的 next", MessageEn: "cursor must be the next of a previous page"}
