package api

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	c "onething/contracts"
	"onething/gateway/engine"
	"onething/gateway/store"
)

// Signed deliveries (submissions aside: see Engine.Submit) are recorded
// durably with what they acted on and the reply they got (store.Deliver):
// a delivery id is unique per sender (the portal, each department) across
// every path and application for the dedupe lifetime. The same request
// again is answered the first reply, byte for byte; the same id with
// another path, application or body is 409 replayed_webhook and changes
// nothing. The signature covers id, timestamp and body but not the path,
// so this is what keeps a withdrawal signed for one application from
// acting on another.

// delivery makes the record of the request's signed delivery: its keys
// (the sender's webhook id, and extra ones such as a department's event
// id), and its fingerprint over method, path and body. answer makes the
// reply from the action's result or a refusal (see engine.Delivered).
func (s *server) delivery(g *gin.Context, answer func(result any, refusal error) (store.Reply, bool), extra ...string) engine.Delivered {
	sender := "-"
	if p := principal(g); p != nil {
		sender = p.Subject
	}
	id := g.GetHeader(standardwebhooks.HeaderWebhookID)
	d := store.Delivery{Keys: []string{sender + "|id|" + id}}
	for _, k := range extra {
		d.Keys = append(d.Keys, sender+"|"+k)
	}
	if sender == "webhook:portal" {
		// A submission's delivery id (Create's dedupe key) is the portal's
		// too.
		d.Taken = []string{"delivery:" + id}
	}
	body, _ := g.Get(bodyKey)
	raw, _ := body.([]byte)
	d.Fingerprint = store.Fingerprint(g.Request.Method, g.Request.URL.EscapedPath(), raw)
	return engine.Delivered{Delivery: d, Answer: answer}
}

// jsonReply is a reply as reply would send it, to record.
func jsonReply(status int, v any) store.Reply {
	b, err := EncodeReply(v)
	if err != nil {
		return store.Reply{Status: http.StatusInternalServerError, Body: []byte(`{"code":"internal_error"}`)}
	}
	return store.Reply{Status: status, Body: b}
}

// errorReply is the one error shape, as a reply to record.
func (s *server) errorReply(g *gin.Context, status int, code, zh, en string) store.Reply {
	return jsonReply(status, c.Error{Code: code, Message: zh, MessageEn: en, RequestID: g.GetString(ridKey)})
}

const (
	replayedZH = "该投递编号（webhook-id）或部门事件编号（eventId）已用于另一请求（其他地址、其他申请或其他内容），未作任何处理；新的投递或事件（包括更正后重报的事件）须使用新的编号"
	replayedEN = "this webhook-id (or a department event's eventId) was used before for another request (another path, application or body); nothing was done. A new delivery or event (a corrected event too) needs a new id"
)

// sendDelivered answers a delivery: its reply, or the refusal of a
// replayed id, or the store's failure.
func (s *server) sendDelivered(g *gin.Context, reply store.Reply, err error) {
	switch {
	case errors.Is(err, store.ErrReplayed):
		s.cfg.Log.Warn("webhook id replayed for another request: refused", "route", g.FullPath(), "caller", caller(g), "requestId", g.GetString(ridKey))
		s.fail(g, http.StatusConflict, "replayed_webhook", replayedZH, replayedEN)
	case err != nil:
		s.storeFailed(g, err)
	default:
		g.Data(reply.Status, "application/json; charset=utf-8", reply.Body)
	}
}
