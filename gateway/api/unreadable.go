package api

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	c "onething/contracts"
	"onething/gateway/store"
)

// Records that do not open. A stored record whose sealed part no longer
// decrypts (a data key missing or replaced, the blob altered) or that is
// damaged will not open on a retry: it is answered 500 record_unreadable,
// not 503 store_unavailable ("retry later"), and operators list such
// records at GET /v1/admin/unreadable-records.

// unreadable answers a read that met a record that does not open, and
// reports whether err was one.
func (s *server) unreadable(g *gin.Context, err error) bool {
	var ue *store.UnreadableError
	if !errors.As(err, &ue) {
		return false
	}
	// The reason names key ids and algorithms, never personal data.
	s.cfg.Log.Error("stored record does not open: permanent until the key or the record is restored", "app", ue.ID,
		"reason", ue.Reason, "route", g.FullPath(), "requestId", g.GetString(ridKey))
	s.fail(g, http.StatusInternalServerError, c.ErrorRecordUnreadable,
		"该申请的存储记录无法读取（无法解密或已损坏），重试无效；请联系运维人员处理",
		"the application's stored record cannot be read (it does not decrypt, or it is damaged); retrying will not help, ask the operators")
	return true
}

// unreadableRecords is GET /v1/admin/unreadable-records: the applications
// whose stored record does not open (audited first).
func (s *server) unreadableRecords(g *gin.Context) {
	if !s.adminAudit(g, c.AuditUnreadable, "", "") {
		return
	}
	out := c.UnreadableRecordList{Records: []c.UnreadableRecord{}}
	l := s.cfg.Unreadable
	if l == nil {
		l, _ = s.cfg.Engine.Store.(store.UnreadableLister)
	}
	if l != nil {
		list, n, err := l.UnreadableRecords(g.Request.Context(), store.MaxUnreadableListed)
		if err != nil {
			s.storeFailed(g, err)
			return
		}
		out.Records, out.Count = list, n
	}
	s.reply(g, http.StatusOK, out)
}
