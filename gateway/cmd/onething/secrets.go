package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"onething/gateway/service"
)

func init() { register(groupOps, newSecretsCmd) }

// newSecretsCmd is `onething secrets init DIR`: a complete random set of
// the gateway's secrets, one file each (mode 0600), and the Kubernetes
// Secret made of them. It never prints a value.
func newSecretsCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "secrets",
		Short: "生成网关的密钥 / make the gateway's secrets",
		Example: `  onething secrets init deploy/secrets
  onething secrets init --keep /run/onething/secrets`,
	}
	var opt service.SecretsInitOptions
	initCmd := &cobra.Command{
		Use:   "init DIR",
		Short: "在 DIR 中生成一套随机密钥 / write a complete random set of secrets to DIR",
		Long: `在 DIR 中生成一套随机密钥（每个文件权限 0600）和 Kubernetes Secret 清单；
示例配置 deploy/onething.example.yaml 以 ${file:secrets/NAME} 读取它们。
Write a complete random set of secrets to DIR, one file each (mode 0600), and the Kubernetes
Secret manifest made of them (` + service.SecretsManifest + `). deploy/onething.example.yaml reads
them as ${file:secrets/NAME}: "secrets init" in a "secrets" folder beside a copy of the sample
gives a configuration that passes "onething config check". Existing files are not replaced
unless --force (never force over a data key in use: what it sealed would no longer open;
the console's accounts, ` + service.ConsoleAccountsFile + `, are kept even then); --keep writes only the
missing ones, and the manifest again when a file changed (after "onething console adduser").
No value is printed.`,
		Example: `  cp deploy/onething.example.yaml /etc/onething/onething.yaml
  onething secrets init /etc/onething/secrets
  onething config check /etc/onething/onething.yaml`,
		Args: exactArgs("DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opt.Force && opt.Keep {
				return usageErrorf("--force 与 --keep 不能同时使用 / --force and --keep exclude each other")
			}
			dir := args[0]
			written, err := service.InitSecrets(dir, opt)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if len(written) == 0 {
				fmt.Fprintf(out, "没有写入文件：%s 中的密钥齐全 / nothing written: %s holds every secret\n", dir, dir)
			}
			for _, p := range written {
				fmt.Fprintln(out, "已写入 / wrote", p)
			}
			fmt.Fprintln(out, "\n谁还需要哪个文件 / who else needs which file:")
			for _, f := range service.SecretFiles() {
				fmt.Fprintf(out, "  %-22s %s\n", f.Name, f.Holder)
			}
			fmt.Fprintf(out, "\n下一步 / next:\n  onething config check FILE\n  kubectl apply -f %s\n",
				filepath.Join(dir, service.SecretsManifest))
			return nil
		},
	}
	fs := initCmd.Flags()
	fs.BoolVar(&opt.Force, "force", false, "replace files that exist but the console's accounts (every holder must get the new values)")
	fs.BoolVar(&opt.Keep, "keep", false, "keep files that exist, write only the missing ones and the manifest when a file changed (a start-up step)")
	fs.StringVar(&opt.Namespace, "namespace", "onething", "namespace of the Kubernetes Secret")
	fs.StringVar(&opt.RedisAddr, "redis-addr", "onething-redis:6379", "host:port of Redis in the manifest's store-url")
	c.AddCommand(initCmd)
	return c
}
