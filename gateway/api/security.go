package api

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	c "onething/contracts"
	"onething/gateway/auth"
)

// The gateway's one access policy. Every route is in the table below;
// the middleware `secure` enforces it before any handler runs:
//
//  1. authenticate: on a signed route, a webhook-signature header is
//     verified against the route's secrets (the portal's, or those of the
//     department named in the path); otherwise an Authorization bearer is
//     a static token or a JWT;
//  2. rate-limit: by the principal's subject, or by remote address when
//     there is no valid credential (429 with Retry-After);
//  3. authorize: no credential, or a bad one, is 401; a role the route is
//     not for is 403; a signed route reached with a bearer token is 401
//     (the operation needs the signature: it binds the body and carries the
//     delivery id); a department on another department's path is 403;
//  4. replay: a webhook id taken before with another body is 409.
//
// Scopes within a route are checked by the handler once it has loaded
// the application, through inScope and the table's scope function: a
// record outside the caller's scope is 404, as if it did not exist, so
// that ids cannot be probed.

// signer says which secrets verify a signed route.
type signer int

const (
	bearerOnly signer = iota // Authorization: Bearer (static token or JWT)
	signedByPortal
	signedByPathDept // the department named by :dept
)

// rule is one route's access.
type rule struct {
	public bool        // no credential needed (health, readiness, metrics)
	probe  bool        // health, readiness, metrics: never rate-limited
	roles  []auth.Role // roles allowed
	signer signer
	// scope, when set, says whether the principal may see this
	// application; the handler asks through inScope.
	scope func(p *auth.Principal, app *c.Application) bool
}

var (
	portalOnly = []auth.Role{auth.RolePortal}
	adminOnly  = []auth.Role{auth.RoleAdmin}
	// staffOrAdmin: the personal-data routes of records.go.
	staffOrAdmin = []auth.Role{auth.RoleStaff, auth.RoleAdmin}
)

// policy maps "METHOD /route/:param" (gin's full path) to its rule. A
// route missing here is refused with 403 and logged as an error; a test
// checks that every registered route has a rule.
var policy = map[string]rule{
	"POST /v1/portal/submissions":              {roles: portalOnly, signer: signedByPortal},
	"POST /v1/applications/:id/supplements":    {roles: portalOnly, signer: signedByPortal},
	"POST /v1/applications/:id/withdraw":       {roles: portalOnly, signer: signedByPortal},
	"GET /v1/applications/:id":                 {roles: []auth.Role{auth.RolePortal, auth.RoleStaff}, scope: readScope},
	"GET /v1/applications":                     {roles: staffOrAdmin, scope: recordScope}, // search by ID number (records.go)
	"POST /v1/applications/search":             {roles: staffOrAdmin, scope: recordScope}, // the same, the number in the body
	"GET /v1/applications/:id/record":          {roles: staffOrAdmin, scope: recordScope}, // full record, audited (records.go)
	"POST /v1/guide":                           {roles: []auth.Role{auth.RolePortal, auth.RoleStaff}},
	"POST /v1/departments/:dept/events":        {roles: []auth.Role{auth.RoleDepartment}, signer: signedByPathDept},
	"GET /v1/admin/breakers":                   {roles: adminOnly},
	"GET /v1/admin/dead-letters":               {roles: adminOnly},
	"GET /v1/admin/dead-letters/:task":         {roles: adminOnly},
	"POST /v1/admin/dead-letters/:task/replay": {roles: adminOnly},
	"POST /v1/admin/dead-letters/replay":       {roles: adminOnly},
	"GET /v1/admin/audit":                      {roles: adminOnly},
	"GET /v1/admin/unreadable-records":         {roles: adminOnly},
	"POST /v1/admin/applications/:id/erase":    {roles: adminOnly}, // erasure on request, audited first (erasure.go)
	"POST /v1/admin/subject-access":            {roles: adminOnly}, // one person's applications exported, audited first
	"GET /healthz":                             {public: true, probe: true},
	"GET /readyz":                              {public: true, probe: true},
	"GET /metrics":                             {public: true, probe: true},
	"GET /openapi/:name":                       {public: true}, // the OpenAPI documents (openapi.go); rate-limited by address
	"HEAD /openapi/:name":                      {public: true},
}

// consolePrefix: the window console (gateway/console) signs its users in
// itself (session cookies) and checks their role and towns on every page;
// to this table its routes are public (rate-limited by address).
const consolePrefix = "/console/"

// ruleOf finds a route's rule.
func ruleOf(method, route string) (rule, bool) {
	if r, ok := policy[method+" "+route]; ok {
		return r, true
	}
	if strings.HasPrefix(route, consolePrefix) || route == strings.TrimSuffix(consolePrefix, "/") {
		return rule{public: true}, true
	}
	return rule{}, false
}

// readScope: the portal owns every application (there is one portal
// client, and every submission comes through it); window staff see the
// applications registered in their towns (applicant.householdDivision,
// first 9 digits), the district office all of them.
func readScope(p *auth.Principal, app *c.Application) bool {
	switch p.Role {
	case auth.RolePortal:
		return true
	case auth.RoleStaff:
		return p.SeesHousehold(app.Applicant.HouseholdDivision)
	}
	return false
}

// DeptEndpoint is one department system that posts events: its secrets,
// and the counties whose tasks it may report on.
type DeptEndpoint struct {
	Dept c.Dept
	// Name tells it from the department's other systems ("hrss:511703");
	// its principal acts as webhook:dept:NAME. Default: the department.
	Name    string
	Secrets []string
	// Serves says whether it may report on a task of a county (the task's
	// six-digit code; "" for a task from before tasks carried one). Nil:
	// every county (a national platform).
	Serves func(county string) bool
}

// deptSender is a DeptEndpoint ready to verify.
type deptSender struct {
	verifier *auth.WebhookVerifier
	who      *auth.Principal
	name     string
	serves   func(county string) bool
}

const (
	servesCtx = "eventServes"
	senderCtx = "eventSender"
)

// eventServes is what the verified sender of an event may report on (nil:
// every county).
func eventServes(g *gin.Context) func(county string) bool {
	f, _ := g.Get(servesCtx)
	fn, _ := f.(func(string) bool)
	return fn
}

// security is what the policy middleware needs.
type security struct {
	portal  *auth.WebhookVerifier
	depts   map[c.Dept][]deptSender
	bearer  *auth.Bearer
	replay  *auth.ReplayCache
	limiter *auth.RateLimiter
}

func newSecurity(cfg Config) (*security, error) {
	sec := &security{depts: map[c.Dept][]deptSender{}}
	var err error
	if sec.portal, err = auth.NewWebhookVerifier(cfg.PortalSecrets); err != nil {
		return nil, fmt.Errorf("portal secret: %w", err)
	}
	endpoints := cfg.DeptEndpoints
	if endpoints == nil {
		for d, secrets := range cfg.DeptSecrets {
			endpoints = append(endpoints, DeptEndpoint{Dept: d, Secrets: secrets})
		}
	}
	for _, e := range endpoints {
		if !e.Dept.Valid() {
			return nil, fmt.Errorf("event secrets for unknown department %q", e.Dept)
		}
		name := e.Name
		if name == "" {
			name = string(e.Dept)
		}
		v, err := auth.NewWebhookVerifier(e.Secrets)
		if err != nil {
			return nil, fmt.Errorf("%s secret: %w", name, err)
		}
		sec.depts[e.Dept] = append(sec.depts[e.Dept], deptSender{verifier: v, serves: e.Serves, name: name,
			who: &auth.Principal{Role: auth.RoleDepartment, Dept: e.Dept, Subject: "webhook:dept:" + name, Via: auth.ViaSignature}})
	}
	// The read and admin tokens of the configuration keep working: a read
	// token is the district office (reads every application, asks the
	// guide), an admin token an operator.
	var static []auth.StaticToken
	for i, t := range cfg.ReadTokens {
		static = append(static, auth.StaticToken{Token: t, Role: auth.RoleStaff, Towns: []string{auth.ProvinceOffice}, Subject: "read#" + strconv.Itoa(i+1)})
	}
	for i, t := range cfg.AdminTokens {
		static = append(static, auth.StaticToken{Token: t, Role: auth.RoleAdmin, Subject: "admin#" + strconv.Itoa(i+1)})
	}
	static = append(static, cfg.Tokens...)
	tokens, err := auth.NewTokens(static)
	if err != nil {
		return nil, fmt.Errorf("bearer tokens: %w", err)
	}
	sec.bearer = &auth.Bearer{Tokens: tokens}
	if cfg.JWT != nil {
		if sec.bearer.JWT, err = auth.NewJWTVerifier(*cfg.JWT, cfg.Log); err != nil {
			return nil, err
		}
	}
	sec.replay = auth.NewReplayCache(cfg.ReplayTTL, cfg.ReplaySize)
	sec.limiter = auth.NewRateLimiter(cfg.RateLimit)
	return sec, nil
}

const (
	principalKey = "principal"
	bodyKey      = "body"
)

// principal is the caller of an authorized request (nil on public routes
// called without a credential).
func principal(g *gin.Context) *auth.Principal {
	p, _ := g.Get(principalKey)
	pr, _ := p.(*auth.Principal)
	return pr
}

// caller names the caller for the request log.
func caller(g *gin.Context) string {
	if p := principal(g); p != nil {
		return p.Subject
	}
	return "-"
}

// inScope reports whether the caller may see app under the route's scope;
// the handler answers 404 when not.
func (s *server) inScope(g *gin.Context, app *c.Application) bool {
	r, ok := ruleOf(g.Request.Method, g.FullPath())
	if !ok || r.scope == nil {
		return ok
	}
	p := principal(g)
	return p != nil && r.scope(p, app)
}

// ConsoleCSP is the Content-Security-Policy for the window console's pages
// (/console/): only the gateway's own scripts, styles, images and API; no
// framing, no plugins, no inline script.
const ConsoleCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// apiCSP is the Content-Security-Policy of API replies: nothing loads.
const apiCSP = "default-src 'none'; frame-ancestors 'none'"

// securityHeaders sets the security headers on every response, refusals
// included.
func (s *server) securityHeaders(g *gin.Context) {
	h := g.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	if strings.HasPrefix(g.Request.URL.Path, "/console/") {
		h.Set("Content-Security-Policy", ConsoleCSP)
	} else {
		h.Set("Content-Security-Policy", apiCSP)
	}
	g.Next()
}

// secure enforces the policy table (see the top of this file).
func (s *server) secure(g *gin.Context) {
	route := g.FullPath()
	if route == "" { // no such route or method: 404/405 follow, rate-limited by address
		if s.limit(g, nil) {
			g.Next()
		}
		return
	}
	r, ok := ruleOf(g.Request.Method, route)
	if !ok {
		s.cfg.Log.Error("route without an access rule: refused", "method", g.Request.Method, "route", route, "requestId", g.GetString(ridKey))
		s.fail(g, http.StatusForbidden, "forbidden", "无权访问", "no access rule for this operation")
		return
	}
	// Probes answer whoever asks, no credential looked at and no bucket
	// taken from: a kubelet or Prometheus behind the NAT of an address
	// that used up its anonymous bucket must still see the pod alive.
	if r.probe {
		g.Next()
		return
	}

	var (
		p         *auth.Principal
		credErr   error
		replayKey string
		sum       [32]byte
	)
	if r.signer != bearerOnly && g.GetHeader(standardwebhooks.HeaderWebhookSignature) != "" {
		senders, found := s.signerOf(g, r)
		if !found {
			s.fail(g, http.StatusNotFound, "not_found", "部门不存在", "no such department")
			return
		}
		body, ok := s.readBody(g)
		if !ok {
			return
		}
		g.Set(bodyKey, body)
		// A department may have several systems (one per county): the
		// one whose secret verifies is the sender.
		for _, snd := range senders {
			if credErr = snd.verifier.Verify(body, g.Request.Header); credErr == nil {
				p = snd.who
				replayKey = snd.who.Subject + "|" + g.GetHeader(standardwebhooks.HeaderWebhookID)
				sum = auth.Sum(body)
				if snd.serves != nil {
					g.Set(servesCtx, snd.serves)
				}
				g.Set(senderCtx, snd.name)
				break
			}
		}
	} else if h := g.GetHeader("Authorization"); h != "" {
		token, isBearer := cutBearer(h)
		if !isBearer {
			credErr = fmt.Errorf("%w: Authorization is not a bearer token", auth.ErrUnauthenticated)
		} else {
			p, credErr = s.sec.bearer.Verify(token)
		}
	}

	if !s.limit(g, p) {
		return
	}
	if r.public {
		s.setPrincipal(g, p)
		g.Next()
		return
	}
	switch {
	case p == nil:
		reason := "no credential"
		if credErr != nil {
			reason = strings.TrimPrefix(credErr.Error(), auth.ErrUnauthenticated.Error()+": ")
		}
		s.refuse(g, http.StatusUnauthorized, r, nil, reason)
		return
	case r.signer != bearerOnly && p.Via != auth.ViaSignature:
		// Before the role: a token of any role is the wrong credential
		// here (the signature binds the body and the delivery id).
		s.refuse(g, http.StatusUnauthorized, r, p, "this operation must be signed (Standard Webhooks), a bearer token is not enough")
		return
	case !slices.Contains(r.roles, p.Role):
		s.refuse(g, http.StatusForbidden, r, p, "role "+string(p.Role)+" may not use this operation")
		return
	case r.signer == signedByPathDept && c.Dept(g.Param("dept")) != p.Dept:
		s.refuse(g, http.StatusForbidden, r, p, "department on another department's path")
		return
	}
	if replayKey != "" && s.sec.replay.Conflicts(replayKey, sum) {
		s.cfg.Log.Warn("webhook id replayed with another body: refused", "route", route, "caller", p.Subject, "requestId", g.GetString(ridKey))
		s.fail(g, http.StatusConflict, "replayed_webhook", "该投递编号（webhook-id）已用于另一份内容，请使用新的编号",
			"this webhook-id was delivered before with another body; a new delivery needs a new id")
		return
	}
	s.setPrincipal(g, p)
	g.Next()
	if replayKey != "" && g.Writer.Status() < 300 {
		s.sec.replay.Remember(replayKey, sum)
	}
}

func (s *server) setPrincipal(g *gin.Context, p *auth.Principal) {
	if p == nil {
		return
	}
	g.Set(principalKey, p)
	g.Request = g.Request.WithContext(auth.NewContext(g.Request.Context(), p))
}

// cutBearer takes the token of "Bearer <token>" (scheme case-insensitive).
func cutBearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// signerOf returns the secrets that verify a signed route, each with the
// principal it stands for; found is false for an unknown department.
func (s *server) signerOf(g *gin.Context, r rule) ([]deptSender, bool) {
	if r.signer == signedByPortal {
		return []deptSender{{verifier: s.sec.portal, who: &auth.Principal{Role: auth.RolePortal, Subject: "webhook:portal", Via: auth.ViaSignature}}}, true
	}
	d := c.Dept(g.Param("dept"))
	if !d.Valid() {
		return nil, false
	}
	senders := s.sec.depts[d]
	if len(senders) == 0 {
		// No secrets configured: nothing verifies (as an empty verifier).
		v, _ := auth.NewWebhookVerifier(nil)
		senders = []deptSender{{verifier: v, who: &auth.Principal{Role: auth.RoleDepartment, Dept: d, Subject: "webhook:dept:" + string(d), Via: auth.ViaSignature}}}
	}
	return senders, true
}

// refuse answers 401 or 403 and logs why (never the credential).
func (s *server) refuse(g *gin.Context, status int, r rule, p *auth.Principal, reason string) {
	who := "-"
	if p != nil {
		who = p.Subject
	}
	s.cfg.Log.Warn("request refused", "status", status, "route", g.FullPath(), "caller", who, "reason", reason, "requestId", g.GetString(ridKey))
	if status == http.StatusUnauthorized {
		if r.signer == bearerOnly {
			g.Header("WWW-Authenticate", `Bearer realm="onething"`)
			s.fail(g, status, "unauthorized", "缺少或无效的访问令牌", "missing or invalid bearer token")
			return
		}
		s.fail(g, status, "unauthorized", "签名无效或已过期", "missing, invalid or expired webhook signature")
		return
	}
	s.fail(g, status, "forbidden", "无权执行该操作", "your role may not do this")
}

// limit takes a token from the caller's bucket, or answers 429 with
// Retry-After (whole seconds, at least 1).
func (s *server) limit(g *gin.Context, p *auth.Principal) bool {
	key, anonymous := "addr:"+g.ClientIP(), true
	if p != nil {
		key, anonymous = p.Subject, false
	}
	ok, wait := s.sec.limiter.Allow(key, anonymous)
	if ok {
		return true
	}
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	who := "-"
	if p != nil {
		who = p.Subject
	}
	s.cfg.Log.Warn("rate limited", "route", g.FullPath(), "caller", who, "retryAfter", secs, "requestId", g.GetString(ridKey))
	g.Header("Retry-After", strconv.Itoa(secs))
	s.fail(g, http.StatusTooManyRequests, "rate_limited",
		fmt.Sprintf("请求过于频繁，请 %d 秒后重试", secs), fmt.Sprintf("too many requests; retry in %d s", secs))
	return false
}
