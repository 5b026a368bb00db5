package api

import (
	"context"

	"github.com/gin-gonic/gin"
)

// The window console (gateway/console) is served behind the same
// middleware as the API: request id, security headers, panic recovery,
// the request log and metrics, and the policy's rate limit (to the
// policy table its routes are public, limited by address; the console
// signs its people in itself and throttles its sign-ins).

type clientIPKey struct{}

type requestIDKey struct{}

// RequestID is the request id of a console request (the caller's
// X-Request-Id when plain, or a fresh one), so the console's audit
// entries carry it as the API's do; "" outside a request the API served.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// ClientIP is the caller's address of a console request, as the API's
// middleware keys it (the peer, or the X-Forwarded-For of a trusted
// proxy); "" outside a request the API served.
func ClientIP(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey{}).(string)
	return ip
}

// mountConsole routes /console/ to the console handler.
func (s *server) mountConsole(r *gin.Engine) {
	if s.cfg.Console == nil {
		return
	}
	h := func(g *gin.Context) {
		ctx := context.WithValue(g.Request.Context(), clientIPKey{}, g.ClientIP())
		ctx = context.WithValue(ctx, requestIDKey{}, g.GetString(ridKey))
		s.cfg.Console.ServeHTTP(g.Writer, g.Request.WithContext(ctx))
	}
	r.Any(consolePrefix+"*path", h)
}

// hsts sends Strict-Transport-Security on every response when the
// gateway is served over https (its baseUrl).
func (s *server) hsts(g *gin.Context) {
	if s.cfg.HSTS {
		g.Writer.Header().Set("Strict-Transport-Security", "max-age=31536000")
	}
	g.Next()
}
