package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-json-experiment/json"
	jsonv1 "github.com/go-json-experiment/json/v1"

	"onething/civil"
	c "onething/contracts"
)

// ReplyOptions encode every reply as encoding/json would (the v1 options
// keep the bytes integrators already parse) with one difference: a time is
// written in China time with its offset (2026-12-05T07:43:00+08:00), as
// people read it, wherever it sits in the reply. Stored records keep UTC.
var ReplyOptions = json.JoinOptions(jsonv1.DefaultOptionsV1(), json.WithMarshalers(json.MarshalFunc(func(t time.Time) ([]byte, error) {
	return civil.In(t).MarshalJSON()
})))

// EncodeReply is a reply body as the gateway sends it (ReplyOptions).
func EncodeReply(v any) ([]byte, error) { return json.Marshal(v, ReplyOptions) }

// reply sends v as JSON (EncodeReply).
func (s *server) reply(g *gin.Context, status int, v any) {
	b, err := EncodeReply(v)
	if err != nil {
		s.cfg.Log.Error("reply could not be encoded", "route", g.FullPath(), "err", err.Error())
		status, b = http.StatusInternalServerError, []byte(`{"code":"internal_error","message":"服务内部错误","messageEn":"internal error"}`)
	}
	g.Data(status, "application/json; charset=utf-8", b)
}

// abortReply is reply for a refusal: nothing after it runs.
func (s *server) abortReply(g *gin.Context, status int, e c.Error) {
	g.Abort()
	s.reply(g, status, e)
}
