package api

import (
	stdjson "encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	c "onething/contracts"
	"onething/gateway/chinajson"
)

// ReplyOptions encode every reply as encoding/json would, every time in
// China time with its offset, as people read it (chinajson).
var ReplyOptions = chinajson.Options

// EncodeReply is a reply body as the gateway sends it (ReplyOptions).
func EncodeReply(v any) ([]byte, error) { return chinajson.Marshal(v) }

// EncodeChinaTimed is EncodeReply for a value whose times are all in China
// time already (the workflow's briefs and views convert them): the same
// bytes, made by encoding/json without ReplyOptions' marshaler lookup on
// every value (TestChinaTimedRepliesAlike). A 202 to a submission costs
// about half the CPU to encode.
func EncodeChinaTimed(v any) ([]byte, error) { return stdjson.Marshal(v) }

// reply sends v as JSON (EncodeReply).
func (s *server) reply(g *gin.Context, status int, v any) {
	b, err := EncodeReply(v)
	if err != nil {
		s.cfg.Log.Error("reply could not be encoded", "route", g.FullPath(), "err", err.Error())
		status, b = http.StatusInternalServerError, []byte(`{"code":"internal_error","message":"服务内部错误","messageEn":"internal error"}`)
	}
	g.Data(status, "application/json; charset=utf-8", b)
}

// replyChinaTimed is reply for a value EncodeChinaTimed may encode.
func (s *server) replyChinaTimed(g *gin.Context, status int, v any) {
	b, err := EncodeChinaTimed(v)
	if err != nil {
		s.reply(g, status, v)
		return
	}
	g.Data(status, "application/json; charset=utf-8", b)
}

// abortReply is reply for a refusal: nothing after it runs.
func (s *server) abortReply(g *gin.Context, status int, e c.Error) {
	g.Abort()
	s.reply(g, status, e)
}
