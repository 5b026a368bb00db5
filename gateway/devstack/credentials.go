package devstack

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"onething/gateway/service"
)

// Credentials are every development credential of a running stack, as
// `onething dev` prints them and writes them with --print-config: one
// type, so the banner and the file cannot disagree. Its JSON shape is
// stable (README "Development credentials"); fields are only ever added.
type Credentials struct {
	GatewayURL  string            `json:"gatewayUrl"`
	ConsoleURL  string            `json:"consoleUrl"`
	Portal      PortalCredentials `json:"portal"`
	Departments []DeptCredentials `json:"departments"`
	Tokens      TokenCredentials  `json:"tokens"`
	Console     []ConsoleLogin    `json:"console"`
}

// PortalCredentials are the portal's side: the secret submissions are
// signed with, and where status pushes go and the secret they are signed
// with (both the Standard Webhooks way).
type PortalCredentials struct {
	SigningSecret string `json:"signingSecret"`
	SubmitURL     string `json:"submitUrl"`
	PushSecret    string `json:"pushSecret"`
	// ReceiverURL is where the gateway posts status pushes: the mock
	// portal's receiver, or the URL given with --portal-url.
	ReceiverURL string `json:"receiverUrl"`
	// MockPushesURL serves the pushes the mock portal received (empty
	// when they go to another receiver, the mock then receiving none).
	MockPushesURL string `json:"mockPushesUrl"`
}

// DeptCredentials are one department system's (one endpoint's): the
// secret its events to the gateway are signed with, and the appKey and
// secret the gateway signs its requests to the system with.
type DeptCredentials struct {
	Dept string `json:"dept"`
	// County is the county a per-county system (hrss, medical) serves;
	// empty for a national platform (cdpf, civil).
	County string `json:"county"`
	// Endpoint is the gateway's name for it: "cdpf", "hrss" (the home
	// county's), "hrss:511703".
	Endpoint string `json:"endpoint"`
	// BaseURL is the mock system's base URL.
	BaseURL string `json:"baseUrl"`
	// EventsURL is where the system posts its events to the gateway.
	EventsURL   string `json:"eventsUrl"`
	EventSecret string `json:"eventSecret"`
	AppKey      string `json:"appKey"`
	AppSecret   string `json:"appSecret"`
}

// TokenCredentials are the bearer tokens.
type TokenCredentials struct {
	// Read is the district office's: reads every application, asks the guide.
	Read string `json:"read"`
	// Admin is the operators': dead letters, breakers (/v1/admin/…).
	Admin string `json:"admin"`
}

// ConsoleLogin is a development account of the window console.
type ConsoleLogin struct {
	Username string   `json:"username"`
	Password string   `json:"password"`
	Towns    []string `json:"towns"`
	Role     string   `json:"role"`
}

// Credentials collects the stack's credentials from its configuration.
func (s *Stack) Credentials() Credentials {
	cr := Credentials{
		GatewayURL: s.GatewayURL, ConsoleURL: s.GatewayURL + "/console/",
		Portal: PortalCredentials{SigningSecret: s.PortalSecret, SubmitURL: s.GatewayURL + "/v1/portal/submissions",
			PushSecret: s.PushSecret, ReceiverURL: strings.TrimSuffix(s.Config.PortalPushURL, "/") + s.Config.PortalPushPath},
		Tokens:      TokenCredentials{Read: s.ReadToken, Admin: s.AdminToken},
		Departments: []DeptCredentials{}, Console: []ConsoleLogin{},
	}
	if s.opts.PortalURL == "" {
		cr.Portal.MockPushesURL = s.MockURLs["portal"] + "/_mock/pushes"
	}
	routes, _ := service.Routing(s.Config)
	for _, e := range routes.Endpoints() {
		d := DeptCredentials{Dept: string(e.Dept), Endpoint: e.Name, BaseURL: e.Link.BaseURL,
			EventsURL: s.GatewayURL + "/v1/departments/" + string(e.Dept) + "/events", AppKey: e.Link.AppKey, AppSecret: e.Link.Secret}
		if service.PerCounty(e.Dept) && len(e.Codes) > 0 {
			d.County = e.Codes[0]
		}
		if len(e.Link.EventSecrets) > 0 {
			d.EventSecret = e.Link.EventSecrets[0]
		}
		cr.Departments = append(cr.Departments, d)
	}
	passwords := map[string]string{"clerk": s.ClerkPassword, "ops": s.OpsPassword}
	if s.Config.Console != nil {
		for _, a := range s.Config.Console.Accounts {
			cr.Console = append(cr.Console, ConsoleLogin{Username: a.Username, Password: passwords[a.Username],
				Towns: append([]string{}, a.Towns...), Role: a.Role})
		}
	}
	return cr
}

// ReceiverURL splits the URL of a portal's status receiver (`onething dev
// --portal-url`) into the gateway's portalPushUrl and portalPushPath: an
// absolute http:// or https:// URL with a host and, if any, a port of
// 1-65535 (url.Parse takes any digits), no user:password, no fragment (a
// query stays with the path).
func ReceiverURL(raw string) (base, path string, err error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.Opaque != "" {
		return "", "", fmt.Errorf("须为绝对的 http:// 或 https:// 地址 / must be an absolute http:// or https:// URL")
	}
	if strings.HasSuffix(u.Host, ":") {
		return "", "", fmt.Errorf("端口为空 / the port is empty")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", "", fmt.Errorf("端口 %q 不在 1-65535 之内 / the port %q is not in 1-65535", p, p)
		}
	}
	if u.User != nil {
		return "", "", fmt.Errorf("不能带用户名或密码 / must carry no user:password")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return "", "", fmt.Errorf("不能带 # 片段 / must have no #fragment")
	}
	path = u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	return u.Scheme + "://" + u.Host, path, nil
}
