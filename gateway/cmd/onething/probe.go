package main

// Commands a container runtime runs inside the gateway's container, where
// the distroless image has no shell, curl or sleep: `health` (Docker's
// HEALTHCHECK) and `prestop` (a Kubernetes exec preStop hook; the hook's
// own sleep action needs Kubernetes 1.29+).

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

func init() {
	register(groupOps, newHealthCmd)
	register(groupOps, newPrestopCmd)
}

// maxPrestopWait bounds --wait: a pod's terminationGracePeriodSeconds
// counts the hook too, so a long wait only eats the time serve needs to
// finish its work.
const maxPrestopWait = 2 * time.Minute

func newHealthCmd() *cobra.Command {
	var (
		base    string
		ready   bool
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "health",
		Short: "检查网关是否存活（或就绪）/ check that a gateway is alive (or ready)",
		Long: `检查网关是否存活（或就绪）/ check that a gateway is alive: GET /healthz (with --ready,
GET /readyz) and exit 0 on 200, 1 on anything else or no answer within --timeout.
For a container health check where the image has no shell or curl (deploy/Dockerfile's HEALTHCHECK).`,
		Example: `  onething health
  onething health --url http://127.0.0.1:8080 --ready --timeout 2s`,
		RunE: func(cmd *cobra.Command, args []string) error {
			root, err := gatewayURL(base)
			if err != nil {
				return err
			}
			if timeout <= 0 {
				return usageErrorf("--timeout %s：须大于 0 / must be more than 0", timeout)
			}
			path := "/healthz"
			if ready {
				path = "/readyz"
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, root+path, nil)
			if err != nil {
				return err
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return fmt.Errorf("%s 无应答 / did not answer: %w", path, err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s：HTTP %d", path, resp.StatusCode)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", path)
			return err
		},
	}
	fs := cmd.Flags()
	addURLFlag(fs, &base)
	fs.BoolVar(&ready, "ready", false, "check /readyz (store reachable, consumers running) instead of /healthz")
	fs.DurationVar(&timeout, "timeout", 3*time.Second, "give up after this long")
	return cmd
}

func newPrestopCmd() *cobra.Command {
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "prestop --wait DURATION",
		Short: "等待一段时间后退出（Kubernetes preStop 钩子）/ wait, then exit (a Kubernetes preStop hook)",
		Long: `等待一段时间后退出 / wait for --wait, then exit 0: a Kubernetes exec preStop hook for the
distroless image (no shell, no sleep; the hook's sleep action needs Kubernetes 1.29+). While it
waits, the endpoints drop the pod, so no new request reaches a gateway that has stopped listening;
Kubernetes sends SIGTERM to serve only after the hook returns. terminationGracePeriodSeconds
counts the wait too: keep wait + shutdownGrace within it.`,
		Example: `  onething prestop --wait 5s`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("wait") {
				return usageErrorf("需要 --wait，如 --wait 5s / --wait is required, e.g. --wait 5s")
			}
			if wait <= 0 || wait > maxPrestopWait {
				return usageErrorf("--wait %s：须大于 0 且不超过 %s / must be more than 0 and at most %s", wait, maxPrestopWait, maxPrestopWait)
			}
			t := time.NewTimer(wait)
			defer t.Stop()
			select {
			case <-t.C:
				return nil
			case <-cmd.Context().Done():
				return cmd.Context().Err()
			}
		},
	}
	cmd.Flags().DurationVar(&wait, "wait", 0, "how long to wait, e.g. 5s (more than 0, at most 2m)")
	return cmd
}
