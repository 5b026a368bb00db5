package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"onething/gateway/calendar"
	"onething/gateway/devstack"
)

func init() { register(groupClient, newSubmitCmd) }

func newSubmitCmd() *cobra.Command {
	var (
		base, secret, id, path string
		newRef                 bool
	)
	cmd := &cobra.Command{
		Use:   "submit FILE.json",
		Short: "以门户的签名发送申请（或补正、撤回）/ send a submission (or supplement, withdrawal), signed as the portal signs it",
		Long: `以门户的签名发送申请（或补正、撤回）/ send a submission, a supplement or a withdrawal, signed as the
portal signs it (Standard Webhooks, the portal signing secret), and print the gateway's answer.

Exit status 1 when the gateway refuses it (HTTP 300 or more).`,
		Example: `  onething submit --secret whsec_… --new-ref contracts/examples/submission-full.json
  ONETHING_PORTAL_SECRET=whsec_… onething submit --url http://127.0.0.1:8080 contracts/examples/submission-full.json
  onething submit --path /v1/applications/APP_ID/withdraw withdrawal.json --secret whsec_…`,
		Args: exactArgs("FILE.json"),
		RunE: func(cmd *cobra.Command, args []string) error {
			root, err := gatewayURL(base)
			if err != nil {
				return err
			}
			if secret == "" {
				return usageErrorf("需要 --secret（或环境变量 ONETHING_PORTAL_SECRET）/ --secret (or ONETHING_PORTAL_SECRET) is required")
			}
			if _, err := standardwebhooks.NewWebhook(secret); err != nil || !strings.HasPrefix(secret, "whsec_") {
				return usageErrorf("--secret 不是有效的签名密钥 / is not a usable signing secret (whsec_ and base64)")
			}
			if !strings.HasPrefix(path, "/") {
				return usageErrorf("--path %q 须以 / 开头 / must start with /", path)
			}
			file := args[0]
			body, err := os.ReadFile(file)
			if err != nil {
				return fmt.Errorf("无法读取请求文件 / cannot read the request file: %w", err)
			}
			if newRef {
				var m map[string]any
				if err := json.Unmarshal(body, &m); err != nil {
					return fmt.Errorf("%s: %w", file, err)
				}
				m["portalRef"] = "DEV-" + time.Now().In(calendar.Zone).Format("20060102150405") + "-" + randomHex(3)
				m["submittedAt"] = time.Now().UTC().Format(time.RFC3339)
				if body, err = json.Marshal(m); err != nil {
					return fmt.Errorf("%s: %w", file, err)
				}
			}
			if id == "" {
				id = "msg_" + randomHex(12)
			}
			resp, err := devstack.PostSigned(root+path, secret, id, body)
			if err != nil {
				return unreachable(err)
			}
			defer resp.Body.Close()
			out, err := readAnswer(resp)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "HTTP %d (webhook-id %s)\n%s\n", resp.StatusCode, id, indent(out))
			if resp.StatusCode >= 300 {
				return fmt.Errorf("被拒绝 / refused: HTTP %d", resp.StatusCode)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	addURLFlag(fs, &base)
	fs.StringVar(&secret, "secret", "", "portal signing secret (whsec_…)")
	envDefault(fs, "secret", "ONETHING_PORTAL_SECRET")
	fs.StringVar(&id, "id", "", "webhook-id (default: a new one; repeat one to test deduplication)")
	fs.BoolVar(&newRef, "new-ref", false, "give the submission a fresh portalRef and submittedAt (send the same example many times)")
	fs.StringVar(&path, "path", "/v1/portal/submissions", "where to post: also /v1/applications/ID/supplements or /v1/applications/ID/withdraw")
	return cmd
}
