package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	c "onething/contracts"
	"onething/gateway/calendar"
)

func init() { register(groupClient, newStatusCmd) }

func newStatusCmd() *cobra.Command {
	var (
		base, token string
		watch       bool
	)
	cmd := &cobra.Command{
		Use:   "status APPLICATION_ID",
		Short: "查看（或跟踪）申请的汇总状态 / show (or watch) an application's consolidated status",
		Long: `查看（或跟踪）申请的汇总状态 / show an application's consolidated status and its items;
with --watch, print each new version until the application is completed or withdrawn.`,
		Example: `  onething status --token READ_TOKEN APP_ID
  ONETHING_READ_TOKEN=… onething status --url https://onething.example --watch APP_ID
  onething status APP_ID --watch --token READ_TOKEN`,
		Args: exactArgs("APPLICATION_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			root, err := gatewayURL(base)
			if err != nil {
				return err
			}
			target := root + "/v1/applications/" + url.PathEscape(args[0])
			out := cmd.OutOrStdout()
			last := int64(-1)
			for {
				req, err := http.NewRequestWithContext(cmd.Context(), http.MethodGet, target, nil)
				if err != nil {
					return err
				}
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := httpClient.Do(req)
				if err != nil {
					return unreachable(err)
				}
				body, err := readAnswer(resp)
				resp.Body.Close()
				if err != nil {
					return err
				}
				if resp.StatusCode != http.StatusOK {
					return fmt.Errorf("网关拒绝了请求 / the gateway refused the request: HTTP %d: %s", resp.StatusCode, body)
				}
				var v c.ApplicationView
				if err := json.Unmarshal(body, &v); err != nil {
					return fmt.Errorf("应答不是申请视图 / the answer is not an application view: %w", err)
				}
				if v.Version != last {
					last = v.Version
					fmt.Fprintf(out, "%s  %s  version %d  status %s\n", time.Now().In(calendar.Zone).Format("15:04:05"), v.ApplicationID, v.Version, v.Status.State)
					for _, it := range v.Items {
						fmt.Fprintf(out, "    %-18s %-8s %-20s %s\n", it.Item, it.Dept, it.State, it.CaseNo)
					}
				}
				if !watch || v.Status.State == c.AppCompleted || v.Status.State == c.AppWithdrawn {
					return nil
				}
				time.Sleep(300 * time.Millisecond)
			}
		},
	}
	fs := cmd.Flags()
	addURLFlag(fs, &base)
	fs.StringVar(&token, "token", "", "read token")
	envDefault(fs, "token", "ONETHING_READ_TOKEN")
	fs.BoolVar(&watch, "watch", false, "poll until the application is completed or withdrawn")
	return cmd
}
