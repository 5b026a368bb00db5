package main

import (
	"fmt"
	"net/http"
	"net/url"
	c "onething/contracts"

	"github.com/spf13/cobra"
)

func init() { register(groupClient, newDeadlettersCmd) }

// deadletterFlags are deadletters' flags. They are on the group, so they
// may come before the verb as well as after it (`deadletters --dept
// civil list`, as the command line before cobra took them).
type deadletterFlags struct {
	base, token, dept string
	all               bool
}

// newDeadlettersCmd lists, shows and replays dead letters through the
// admin API.
func newDeadlettersCmd() *cobra.Command {
	var f deadletterFlags
	cmd := &cobra.Command{
		Use:   "deadletters",
		Short: "列出、查看、重放死信（运维）/ list, inspect and replay dead letters (operators)",
		Long: `列出、查看、重放死信（运维）/ list, inspect and replay dead letters through the gateway's
admin API (/v1/admin/dead-letters), with the admin token.`,
		Example: `  onething deadletters --token ADMIN_TOKEN list --dept civil
  onething deadletters show TASK_ID --token ADMIN_TOKEN
  ONETHING_ADMIN_TOKEN=… onething deadletters replay --all`,
	}
	pf := cmd.PersistentFlags()
	addURLFlag(pf, &f.base)
	pf.StringVar(&f.token, "token", "", "admin token")
	envDefault(pf, "token", "ONETHING_ADMIN_TOKEN")
	pf.StringVar(&f.dept, "dept", "", "list, replay: only this department (cdpf, civil, hrss, medical)")
	pf.BoolVar(&f.all, "all", false, "replay: every dead letter")

	// A department not one of the four is the caller's mistake: said here,
	// exit 2, without asking the gateway.
	cmd.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if f.dept != "" && !c.Dept(f.dept).Valid() {
			return usageErrorf("--dept %q：部门须为 cdpf、civil、hrss 或 medical / the department must be cdpf, civil, hrss or medical", f.dept)
		}
		return nil
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "列出死信 / list the dead letters",
		Example: `  onething deadletters list --token ADMIN_TOKEN
  onething deadletters list --dept civil`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.all {
				return usageErrorf("list 不接受 --all / list takes no --all")
			}
			q := ""
			if f.dept != "" {
				q = "?dept=" + url.QueryEscape(f.dept)
			}
			return f.call(cmd, http.MethodGet, q)
		},
	}, &cobra.Command{
		Use:     "show TASK_ID",
		Short:   "查看一条死信 / show one dead letter",
		Example: `  onething deadletters show TASK_ID --token ADMIN_TOKEN`,
		Args:    exactArgs("TASK_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.all || f.dept != "" {
				return usageErrorf("show 不接受 --dept 或 --all / show takes no --dept or --all")
			}
			return f.call(cmd, http.MethodGet, "/"+url.PathEscape(args[0]))
		},
	}, &cobra.Command{
		Use:   "replay [TASK_ID]",
		Short: "重放死信 / replay one dead letter, a department's, or all",
		Long: `重放死信 / replay dead letters: one (TASK_ID), a department's (--dept DEPT) or all (--all);
exactly one of the three.`,
		Example: `  onething deadletters replay TASK_ID
  onething deadletters replay --dept civil
  onething deadletters replay --all --token ADMIN_TOKEN`,
		Args: maxArgs("TASK_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			given := 0
			for _, b := range []bool{len(args) == 1, f.dept != "", f.all} {
				if b {
					given++
				}
			}
			if given != 1 {
				return usageErrorf("replay 需要且只需要 TASK_ID、--dept 或 --all 之一 / replay takes exactly one of TASK_ID, --dept or --all")
			}
			switch {
			case len(args) == 1:
				return f.call(cmd, http.MethodPost, "/"+url.PathEscape(args[0])+"/replay")
			case f.dept != "":
				return f.call(cmd, http.MethodPost, "/replay?dept="+url.QueryEscape(f.dept))
			default:
				return f.call(cmd, http.MethodPost, "/replay?all=true")
			}
		},
	})
	return cmd
}

// call sends one admin request to /v1/admin/dead-letters+rest and prints
// the answer.
func (f *deadletterFlags) call(cmd *cobra.Command, method, rest string) error {
	root, err := gatewayURL(f.base)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(cmd.Context(), method, root+"/v1/admin/dead-letters"+rest, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+f.token)
	resp, err := httpClient.Do(req)
	if err != nil {
		return unreachable(err)
	}
	defer resp.Body.Close()
	body, err := readAnswer(resp)
	if err != nil {
		return err
	}
	fmt.Fprintln(cmd.OutOrStdout(), indent(body))
	if resp.StatusCode >= 300 {
		return fmt.Errorf("网关拒绝了请求 / the gateway refused the request: HTTP %d", resp.StatusCode)
	}
	return nil
}

// unreachable says, Chinese first, that the gateway could not be reached.
func unreachable(err error) error {
	return fmt.Errorf("无法连接网关（地址是否正确、网关是否在运行？）/ cannot reach the gateway (is the address right, is it running?): %w", err)
}
