package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"onething/civil"
	c "onething/contracts"
	"onething/gateway/calendar"
	"onething/gateway/devstack"
	"onething/gateway/secrets"
	"onething/gateway/service"
	"onething/mocks"
)

func init() { register(groupRun, newDevCmd) }

func newDevCmd() *cobra.Command {
	var (
		dir            string
		port, mockPort int
		delay          time.Duration
		faults         string
		now            string
		clockRate      float64
		printConfig    string
		postmanEnv     string
		portalURL      string
		keepPushes     int
		pushSettle     time.Duration
	)
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "开发环境：网关 + 全部模拟部门 + 内嵌存储，一个进程 / gateway + all mocks + embedded store, one process",
		Long: `开发环境：网关 + 全部模拟部门 + 模拟省平台 + 内嵌存储，一个进程 / the gateway, the four mock
departments, the mock portal and an embedded store in one process, with development secrets
new each run. It prints the addresses and every development credential (the portal's
signing and push secrets, each department system's event secret and appKey secret, the
tokens, the console logins; the banner's labelled lines are stable: scripts read them, and
--print-config writes the same as JSON; --postman-env a Postman environment for the
request collection in contracts/collections), then runs until Ctrl-C.`,
		Example: `  onething dev
  onething dev --port 0 --mock-port 0 --data /tmp/onething-dev
  onething dev --faults '{"errorRate":0.2,"duplicateRate":0.1}'
  onething dev --now 2026-12-05T07:43:00+08:00
  onething dev --now 2026-12-05T07:43:00+08:00 --clock-rate 3600
  onething dev --print-config dev-credentials.json
  onething dev --postman-env dev.postman_environment.json
  onething dev --portal-url http://127.0.0.1:9000/onething/status-events
  onething dev --push-settle 0                  # pushes without waiting`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := devstack.Options{Dir: dir, GatewayPort: port, MockBasePort: mockPort, Delay: delay, PortalURL: portalURL, KeepPushes: keepPushes}
			// Given, even empty, it must name a receiver: an empty value
			// (an unset shell variable) would quietly mean the mock portal.
			if cmd.Flags().Changed("portal-url") {
				if portalURL == "" {
					return usageErrorf("--portal-url 不能为空（推送发往模拟省平台时不给此参数）/ must not be empty (leave it out to send the pushes to the mock portal)")
				}
				if _, _, err := devstack.ReceiverURL(portalURL); err != nil {
					return usageErrorf("--portal-url %q: %v", secrets.RedactURL(portalURL), err)
				}
			}
			if keepPushes < 1 {
				return usageErrorf("--keep-pushes: 须至少为 1 / must be at least 1")
			}
			if cmd.Flags().Changed("push-settle") {
				settle := service.Duration(pushSettle)
				if p := service.PushSettleProblem(service.Config{PushSettle: &settle}); p != "" {
					return usageErrorf("--push-settle: %s", strings.TrimPrefix(p, "pushSettle: "))
				}
				opts.Tune = func(cfg *service.Config) { cfg.PushSettle = &settle }
			}
			clock, err := businessClock(now, clockRate, cmd.Flags().Changed("now"), cmd.Flags().Changed("clock-rate"))
			if err != nil {
				return err
			}
			if clock != nil {
				opts.Clock = clock
			}
			if faults != "" {
				f, err := parseFaults(faults)
				if err != nil {
					return err
				}
				opts.Faults = map[c.Dept]mocks.Faults{}
				for _, d := range c.Depts {
					opts.Faults[d] = f
				}
			}
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return err
			}
			opts.Log = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), logOptions(slog.LevelInfo)))
			// The signal handler first: a SIGTERM as soon as the banner is
			// out (a script that read what it needed) stops cleanly.
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
			defer stop()
			st, err := devstack.Start(opts)
			if err != nil {
				return err
			}
			creds := st.Credentials()
			if printConfig != "" {
				data, err := json.MarshalIndent(creds, "", "  ")
				if err == nil {
					err = writeWhole(printConfig, append(data, '\n'))
				}
				if err != nil {
					st.Stop()
					return fmt.Errorf("--print-config %s: %w", printConfig, err)
				}
			}
			if postmanEnv != "" {
				data, err := creds.PostmanEnvironment()
				if err == nil {
					err = writeWhole(postmanEnv, append(data, '\n'))
				}
				if err != nil {
					st.Stop()
					return fmt.Errorf("--postman-env %s: %w", postmanEnv, err)
				}
			}
			self := selfCommand()
			fmt.Fprintf(cmd.OutOrStdout(), `
onething dev is running (gateway + mock departments + mock portal, embedded store in %s)
onething dev 已启动（网关 + 模拟部门 + 模拟省平台，内嵌存储在 %s）

  gateway          %s
  mock cdpf        %s
  mock civil       %s
  mock hrss        %s
  mock medical     %s
  mock portal      %s   %s

development secrets (new each run, for this machine only):
开发用密钥（每次运行重新生成，仅限本机）。省平台签名密钥 portal signing secret：省平台提交申请、补正、撤回时用它签名。
  portal signing secret   %s
  push secret             %s   (推送签名密钥：状态推送用它签名，接收端用它验签 / status pushes are signed with it: verify them with it)
  status pushes to        %s   (状态推送发往 / where status pushes go%s)
  read token              %s   (查询令牌，全省范围：查看全部申请、使用办事指引 / province scope: reads every application, asks the guide)
  admin token             %s   (运维：死信、熔断、删除个人信息、本人查阅导出 / dead letters, breakers, erasure, subject access: /v1/admin/…)
  retention               %s   (保存期限：办结且末次推送送达后保留个人信息的天数，到期由清理删除 / personal data is kept this long after a case is final and pushed, then erased by the sweep)

%s
窗口控制台 / the window console: %s/console/
窗口控制台账户（用户名 / 密码）/ the window console's accounts (name / password):
  clerk of 罗江镇         clerk / %s
  operator                ops / %s

提交自带的示例申请（实施方案的主要情形）并跟踪进度（在仓库根目录运行）/ send the bundled example (the seed's main case) from the repository's root, then watch it:
  %s submit --url %s --secret %s --new-ref %s
  %s status --url %s --token %s --watch APPLICATION_ID

%s%s%s按 Ctrl-C 全部停止 / Ctrl-C stops everything.
`, dir, dir, st.GatewayURL, st.MockURLs["cdpf"], st.MockURLs["civil"], st.MockURLs["hrss"], st.MockURLs["medical"],
				st.MockURLs["portal"], mockPortalNote(portalURL, st.MockURLs["portal"]), st.PortalSecret, st.PushSecret, creds.Portal.ReceiverURL, receiverNote(portalURL),
				st.ReadToken, st.AdminToken, service.DefaultRetention, departmentsBanner(creds), st.GatewayURL, st.ClerkPassword, st.OpsPassword,
				self, st.GatewayURL, st.PortalSecret, exampleSubmission(), self, st.GatewayURL, st.ReadToken, countiesBanner(st), clockBanner(clock),
				printConfigBanner(printConfig, postmanEnv))
			<-ctx.Done()
			fmt.Fprintln(cmd.OutOrStdout(), "stopping…")
			return st.Stop()
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&dir, "data", ".onething-dev", "data directory for the embedded store")
	fs.IntVar(&port, "port", 8080, "gateway port (0: any free port)")
	fs.IntVar(&mockPort, "mock-port", 8081, "first of five mock ports: cdpf, civil, hrss, medical, portal (0: any)")
	fs.DurationVar(&delay, "delay", 300*time.Millisecond, "mock departments' delay between events")
	fs.StringVar(&now, "now", "", "business clock start, RFC 3339 with offset (e.g. 2026-12-05T07:43:00+08:00): today, validity, ages, due dates and overdue flags of gateway and mocks run from it; signatures, tokens, sessions and rate limits stay on the real clock")
	fs.Float64Var(&clockRate, "clock-rate", 1, "business seconds per real second (3600: an hour each second); with --now, or from the real time")
	fs.StringVar(&printConfig, "print-config", "", "also write every development credential to this file as JSON (mode 0600; README: Development credentials)")
	fs.StringVar(&postmanEnv, "postman-env", "", "also write a Postman environment for contracts/collections' request collection to this file: its variables filled from these credentials (mode 0600; import it, or newman run … -e FILE)")
	fs.StringVar(&portalURL, "portal-url", "", "send the status pushes to your own receiver at this absolute http(s) URL instead of the mock portal (signed with the push secret)")
	fs.DurationVar(&pushSettle, "push-settle", service.DefaultPushSettle, "how long a status push waits for the next change of its application (config pushSettle; 0: no wait, though a version changed again before a worker takes its push is still replaced; at most 5s)")
	fs.IntVar(&keepPushes, "keep-pushes", mocks.DefaultKeepPushes, "how many pushes the mock portal keeps with their headers and bodies (GET /_mock/pushes)")
	fs.StringVar(&faults, "faults", "", `faults every mock department injects, as JSON, e.g. '{"errorRate":0.2,"duplicateRate":0.1}' (see README)`)
	return cmd
}

// parseFaults reads a --faults flag (strict JSON; empty: none). A bad value
// is a usage error.
func parseFaults(flagValue string) (mocks.Faults, error) {
	var f mocks.Faults
	if flagValue == "" {
		return f, nil
	}
	dec := json.NewDecoder(strings.NewReader(flagValue))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return f, usageErrorf("--faults: %v", err)
	}
	if err := f.Check(); err != nil {
		return f, usageErrorf("--faults: %v", err)
	}
	return f, nil
}

// selfCommand is how dev's banner tells to run this program again, from
// another terminal while dev runs.
func selfCommand() string {
	exe, err := os.Executable()
	if err != nil {
		exe = ""
	}
	cwd, err := os.Getwd()
	if err != nil {
		cwd = ""
	}
	return selfCommandFor(exe, cwd, runtime.Version())
}

// selfCommandFor: a built binary runs as itself (relative to the working
// directory when it is below it, e.g. ./bin/onething); a temporary build of
// `go run` (`make dev`) is rebuilt with `go run` and the toolchain running
// now, since go.mod pins a release the machine's own go may not be (and
// the go command fetches it when GOTOOLCHAIN names it).
func selfCommandFor(exe, cwd, goVersion string) string {
	slash := filepath.ToSlash(exe)
	if exe == "" || (strings.Contains(slash, "/go-build") && strings.HasSuffix(filepath.ToSlash(filepath.Dir(exe)), "/exe")) {
		goVersion, _, _ = strings.Cut(goVersion, " ")
		if strings.HasPrefix(goVersion, "go1") {
			return "GOTOOLCHAIN=" + goVersion + " go run ./gateway/cmd/onething"
		}
		return "go run ./gateway/cmd/onething"
	}
	if cwd != "" {
		if rel, err := filepath.Rel(cwd, exe); err == nil && filepath.IsLocal(rel) {
			exe = "." + string(filepath.Separator) + rel
		}
	}
	return shellQuote(exe)
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./+:,@%=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// exampleSubmission is the bundled example's path for the banner's submit
// command: absolute when dev runs in the repository (so the command works
// pasted in any folder), else as the README names it.
func exampleSubmission() string {
	const rel = "contracts/examples/submission-full.json"
	if abs, err := filepath.Abs(rel); err == nil {
		if _, err := os.Stat(abs); err == nil {
			return abs
		}
	}
	return rel
}

// lastBusinessYear bounds --now: lunar data for the statutory rule reaches
// this far, and no integrator needs a later one.
const lastBusinessYear = 2099

// businessClock is dev's business clock from --now and --clock-rate: nil
// (the real clock) when neither is given. A bad value is a usage error.
func businessClock(now string, rate float64, nowSet, rateSet bool) (*civil.Shifted, error) {
	if !nowSet && !rateSet {
		return nil, nil
	}
	start := time.Now()
	if nowSet {
		t, err := time.Parse(time.RFC3339, now)
		if err != nil {
			return nil, usageErrorf("--now %q: 须为带时区偏移的 RFC 3339 时间 / want RFC 3339 with an offset, e.g. 2026-12-05T07:43:00+08:00", now)
		}
		start = t
	}
	// Business dates before the working-day data have no calendar at all
	// (due dates would be empty), and far ahead nothing is meant to run.
	first := calendar.Default().Years()[0]
	if y := civil.Of(start).Year(); y < first || y > lastBusinessYear {
		return nil, usageErrorf("--now %q: 年份须在 %d 到 %d 之间（工作日历自 %d 年起）/ the year must be %d to %d (the working-day calendar starts in %d)",
			now, first, lastBusinessYear, first, first, lastBusinessYear, first)
	}
	clock, err := civil.NewShifted(start, rate)
	if err != nil {
		return nil, usageErrorf("--clock-rate: 须在 1 到 %d 之间 / must be between 1 and %d", civil.MaxRate, civil.MaxRate)
	}
	return clock, nil
}

// countiesBanner is the banner's paragraph on the counties served: hrss
// and medical per county (the mocks serve the other counties by path),
// cdpf and civil national.
func countiesBanner(st *devstack.Stack) string {
	var b strings.Builder
	b.WriteString("达州市各县（人社、医保按县设系统；残联、民政为全国系统）/ counties of 达州市 (hrss and medical per county; cdpf and civil are national):\n")
	for _, code := range devstack.DazhouCounties {
		hrss, medical := st.MockURLs["hrss:"+code], st.MockURLs["medical:"+code]
		if hrss == "" {
			hrss, medical = st.MockURLs["hrss"]+" (home)", st.MockURLs["medical"]+" (home)"
		}
		fmt.Fprintf(&b, "  %s %-6s hrss %s   medical %s\n", code, c.Divisions[code], hrss, medical)
	}
	return b.String() + "\n"
}

// clockBanner is the banner's paragraph on a business clock ("" on the
// real one).
func clockBanner(clock *civil.Shifted) string {
	if clock == nil {
		return ""
	}
	return fmt.Sprintf(`business clock (--now/--clock-rate): %s, %g× real time; today %s
  drives only business dates (today, validity, ages, due dates, overdue); signatures, tokens,
  sessions, replay windows and rate limits stay on the real clock

`, civil.Format(clock.Now()), clock.Rate(), civil.Today(clock))
}

// deptNames are the departments' short Chinese names, for the banner.
var deptNames = map[c.Dept]string{c.DeptCDPF: "残联", c.DeptCivil: "民政", c.DeptHRSS: "人社", c.DeptMedical: "医保"}

// departmentsBanner is the banner's paragraph on the department systems:
// per endpoint, its event secret and its appKey with the appKey secret.
func departmentsBanner(cr devstack.Credentials) string {
	var b strings.Builder
	b.WriteString(`department systems (per endpoint: events are posted to ` + cr.GatewayURL + `/v1/departments/{dept}/events
signed with the event secret, Standard Webhooks; the gateway's requests to a system carry its appKey,
signed with the appKey secret):
部门系统（每个端点：事件发往上述地址，用事件签名密钥 event secret 按 Standard Webhooks 签名；网关调用部门系统时
带 appKey，用 appKey 密钥签名）:
`)
	for _, d := range cr.Departments {
		where := "全国 / national"
		if d.County != "" {
			where = d.County + " " + c.Divisions[d.County]
		}
		fmt.Fprintf(&b, "  %-15s %s %s   %s\n", d.Endpoint, deptNames[c.Dept(d.Dept)], where, d.BaseURL)
		fmt.Fprintf(&b, "    event secret    %s\n", d.EventSecret)
		fmt.Fprintf(&b, "    appKey secret   %s / %s\n", d.AppKey, d.AppSecret)
	}
	return b.String()
}

// mockPortalNote is the banner's note beside the mock portal: where it
// keeps the pushes it received, or that --portal-url sends them elsewhere.
func mockPortalNote(portalURL, mock string) string {
	if portalURL != "" {
		return "(模拟省平台；推送发往 --portal-url，此处不接收 / the mock portal; pushes go to --portal-url, none here)"
	}
	return "(模拟省平台；收到的推送 / received pushes: " + mock + "/_mock/pushes)"
}

// receiverNote says where --portal-url sent the pushes, for the banner.
func receiverNote(portalURL string) string {
	if portalURL != "" {
		return ", --portal-url: 模拟省平台收不到推送 / the mock portal receives none"
	}
	return ": 模拟省平台 / the mock portal"
}

// printConfigBanner is the banner's lines on --print-config and
// --postman-env ("" without).
func printConfigBanner(path, postmanEnv string) string {
	var b strings.Builder
	if path != "" {
		fmt.Fprintf(&b, "全部开发凭据已写入 / every development credential written to %s (--print-config)\n", path)
	}
	if postmanEnv != "" {
		fmt.Fprintf(&b, "Postman 环境已写入（导入 Postman，或 newman run … -e 此文件）/ the Postman environment written to %s (--postman-env): import it, or newman run … -e FILE\n", postmanEnv)
	}
	if b.Len() == 0 {
		return ""
	}
	return b.String() + "\n"
}
