package main

import (
	"fmt"
	"os"
	"regexp"

	"github.com/spf13/cobra"

	"onething/gateway/service"
	"onething/gateway/store"
)

func init() { register(groupOps, newAuditCmd) }

// newAuditCmd is `onething audit scrub`: the one allowed rewrite of the
// audit log (gateway/store/audit_scrub.go).
func newAuditCmd() *cobra.Command {
	c := &cobra.Command{
		Use:     "audit",
		Short:   "审计日志维护 / audit log maintenance",
		Example: `  onething audit scrub --config /etc/onething/onething.yaml --operator ops-zhang`,
	}
	c.AddCommand(newAuditScrubCmd())
	return c
}

// operatorName: an account name, never personal data.
var operatorName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._-]{0,63}$`)

func newAuditScrubCmd() *cobra.Command {
	var path, storeURL, operator string
	cmd := &cobra.Command{
		Use:   "scrub",
		Short: "遮蔽审计日志中已写入的个人信息（唯一允许的改写）/ mask personal data already written to the audit log (the one allowed rewrite)",
		Long: `审计日志只追加、不修改；唯一的例外是本命令：把旧版本写入的含个人信息的审计记录（事由或查询中的
身份证号、证件号、电话号码、申请人等人员姓名）改写为遮蔽后的文本（contracts.MaskFreeText），
其余字段、编号、时间和顺序不变，不删除任何记录。改写前先写入一条本次操作的审计记录
（audit.scrub，主体 cli:操作员，改写条数）；无法写入则不改写。再次运行不会再有改动。
可在网关运行时执行（bbolt 需先停止网关：文件被锁定）。
The audit log is append-only; this command is the one exception. It rewrites, once, the entries
an older version wrote with personal data (an ID, certificate or phone number, or a name of the
application's people, in the reason or the query), masking them with contracts.MaskFreeText; every
other field, the ids, times and order stay, no entry is removed. It first appends its own entry
(audit.scrub, subject cli:OPERATOR, how many entries it rewrites): if that cannot be written,
nothing is rewritten. Run again, it changes nothing. On Redis it may run beside the gateway (one
atomic script rebuilds the stream); a bbolt file is locked by a running gateway: stop it first.`,
		Example: `  onething audit scrub --config /etc/onething/onething.yaml --operator ops-zhang
  onething audit scrub --config onething.yaml --store redis://redis:6379/0 --operator ops-zhang`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if operator == "" {
				operator = os.Getenv("USER")
			}
			if !operatorName.MatchString(operator) {
				return usageErrorf("--operator 须为账号名（字母开头，最多 64 个字母、数字、. _ -）/ --operator must be an account name (a letter, then up to 63 letters, digits, . _ -)")
			}
			cfg, err := storeConfig(path, storeURL)
			if err != nil {
				return err
			}
			st, err := service.OpenStore(cfg, quietLog(cmd))
			if err != nil {
				return err
			}
			defer st.Close()
			stats, err := store.ScrubAudit(cmd.Context(), st, "cli:"+operator)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "审计日志：读取 %d 条，改写 %d 条；本次操作的审计记录 %s\naudit log: %d entries read, %d rewritten; this scrub's own entry %s\n",
				stats.Scanned, stats.Rewritten, stats.AuditID, stats.Scanned, stats.Rewritten, stats.AuditID)
			return nil
		},
	}
	addConfigFlag(cmd, &path)
	cmd.Flags().StringVar(&storeURL, "store", "", "store to scrub instead of the file's: bolt:///path/onething.db, redis://host:6379/0 or redis+sentinel://s1:26379,s2:26379,s3:26379/MASTER")
	cmd.Flags().StringVar(&operator, "operator", "", "the operator's account name, for the scrub's own audit entry (default $USER)")
	return cmd
}
