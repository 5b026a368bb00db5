package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"onething/civil"
	c "onething/contracts"
	"onething/gateway/engine"
	"onething/gateway/store"
)

// The person's rights over what the gateway holds (PIPL arts. 45 and 47):
// erasure on request and access on request, for admins, each audited
// first like every admin action (when the entry cannot be written,
// nothing is erased or shown: 503).

// bodyReason checks a required reason given in a body.
func (s *server) bodyReason(g *gin.Context, raw string, names ...string) (string, bool) {
	return s.reasonOf(g, raw, true, "须说明理由（reason），例如本人申请的编号", "a reason is required (reason), e.g. the reference of the person's request", names...)
}

// erase is POST /v1/admin/applications/{id}/erase {"reason", "force"}:
// the application's personal part is erased and its pseudonymous trace
// kept (engine.Erase). Items open at a department refuse it (409
// open_at_department) unless force. An application erased before
// answers 200 with alreadyErased, so that a retry after a lost reply is
// safe (the first erasure's time and kind).
func (s *server) erase(g *gin.Context) {
	var req c.EraseRequest
	if !s.bindBody(g, &req, "删除请求", "erasure request") {
		return
	}
	ctx := g.Request.Context()
	app, err := s.cfg.Engine.Store.Get(ctx, g.Param("id"))
	if err != nil {
		s.storeFailed(g, err)
		return
	}
	reason, ok := s.bodyReason(g, req.Reason, app.PeopleNames()...)
	if !ok {
		return
	}
	query := fmt.Sprintf("force=%t", req.Force)
	if app.Erased != nil {
		// A repeat changes nothing, and its reason cannot be checked for
		// the person's names any more (they were erased): it is not kept.
		reason, query = "", query+"&alreadyErased=true"
	}
	entry, ok := s.audit(g, c.AuditEntry{Action: c.AuditErase, ApplicationID: app.ID, Reason: reason, Query: query})
	if !ok {
		return
	}
	p := principal(g)
	res, err := s.cfg.Engine.Erase(ctx, app.ID, reason, p.Subject, req.Force)
	var open *engine.OpenItemsError
	switch {
	case errors.As(err, &open):
		n := len(open.Tasks)
		s.fail(g, http.StatusConflict, "open_at_department",
			fmt.Sprintf("该申请仍有 %d 个事项在部门办理中，未删除；确需删除请设置 force: true（将撤回这些事项并通知部门）", n),
			fmt.Sprintf("%d item(s) of this application are still open at a department; nothing was erased. force: true erases all the same (the items are withdrawn and their departments told)", n))
		return
	case errors.Is(err, engine.ErrAlreadyErased):
		again, gerr := s.cfg.Engine.Store.Get(ctx, app.ID)
		if gerr != nil || again.Erased == nil {
			s.storeFailed(g, errors.Join(err, gerr))
			return
		}
		out := erasureResult(again, *again.Erased, entry.ID)
		out.AlreadyErased = true
		s.reply(g, http.StatusOK, out)
		return
	case err != nil:
		// Among them: the record erased but its key not yet destroyed
		// (store.Erase); a retry destroys it (alreadyErased).
		s.storeFailed(g, err)
		return
	}
	s.cfg.Log.Info("application erased on request", "app", app.ID, "caller", p.Subject, "forced", res.Erasure.Forced,
		"cancelled", len(res.Cancelled), "audit", entry.ID, "requestId", g.GetString(ridKey))
	out := erasureResult(res.App, res.Erasure, entry.ID)
	out.Cancelled, out.Notified = res.Cancelled, res.Notified
	s.reply(g, http.StatusOK, out)
}

// erasureResult is the reply about an erased application.
func erasureResult(app *c.Application, e c.Erasure, auditID string) c.ErasureResult {
	return c.ErasureResult{
		ApplicationID: app.ID, ErasedAt: civil.In(e.At), Kind: e.Kind, Forced: e.Forced,
		Removed: c.ErasedCategories, Kept: c.KeptTrace, Cancelled: []string{}, Notified: []string{}, AuditID: auditID,
	}
}

// erased answers 410 for the full record of an erased application.
func (s *server) erased(g *gin.Context, app *c.Application) {
	e := app.Erased
	kind := c.ErasureKindName(e.Kind)
	day := civil.Of(e.At).String()
	s.fail(g, http.StatusGone, "erased",
		fmt.Sprintf("该申请的个人信息已于 %s 删除（%s），完整记录不再提供；办件状态仍可查询", day, kind.ZH),
		fmt.Sprintf("this application's personal data was erased on %s (%s): the full record is gone; its status can still be read", day, kind.EN))
}

// subjectAccess is POST /v1/admin/subject-access {"idNumber", "reason"}:
// every application of one person, as the full-record read gives each,
// in one JSON document to hand to them (PIPL art. 45). The number is in
// the body, never in a URL; the export is audited first with the number
// masked. Erased applications are not linked to the number any more
// (their blind index entry went with the erasure), so they are not found.
func (s *server) subjectAccess(g *gin.Context) {
	var req c.SubjectAccessRequest
	if !s.bindBody(g, &req, "查阅请求", "subject-access request") {
		return
	}
	raw := strings.TrimSpace(req.IDNumber)
	if raw == "" {
		s.invalid(g, []c.FieldError{{Field: "idNumber", Code: "required", Message: "请提供公民身份号码（idNumber）", MessageEn: "idNumber is required"}})
		return
	}
	idn := store.NormalizeIDNumber(raw)
	if _, err := c.ParseIDNumber(idn, s.cfg.Engine.Flow.Today()); err != nil {
		s.invalid(g, []c.FieldError{{Field: "idNumber", Code: "invalid", Message: "公民身份号码不正确（18 位，校验位须正确）", MessageEn: "not a valid citizen ID number (18 characters, correct check character)"}})
		return
	}
	// The person's applications are read before the audit entry (nothing
	// is shown before it) so that a reason naming them is refused.
	names, found, err := s.cfg.Engine.PeopleOf(g.Request.Context(), idn)
	if err != nil {
		s.storeFailed(g, err)
		return
	}
	reason, ok := s.bodyReason(g, req.Reason, names...)
	if !ok {
		return
	}
	masked := c.MaskID(idn)
	query := "idNumber=" + masked
	if found == 0 {
		// No application to check the reason against (none, or all
		// erased): it is not kept, as it might name the person.
		reason, query = "", query+"&found=0"
	}
	entry, ok := s.audit(g, c.AuditEntry{Action: c.AuditSubjectAccess, Query: query, Reason: reason})
	if !ok {
		return
	}
	out, err := s.cfg.Engine.SubjectAccess(g.Request.Context(), idn, entry.ID)
	if err != nil {
		s.storeFailed(g, err)
		return
	}
	s.cfg.Log.Info("subject access export", "applications", len(out.Applications), "caller", entry.Subject, "audit", entry.ID, "requestId", g.GetString(ridKey))
	g.Header("Content-Disposition", `attachment; filename="subject-access-`+entry.ID+`.json"`)
	g.Header("Cache-Control", "no-store")
	s.reply(g, http.StatusOK, out)
}
