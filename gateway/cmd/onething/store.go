package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"onething/gateway/service"
	"onething/gateway/store"
)

func init() { register(groupOps, newStoreCmd) }

// newStoreCmd is `onething store init|check`: serve never creates a
// store, init does (and records its identity); check reads a store whole,
// offline, for damage.
func newStoreCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "store",
		Short: "创建与检查存储 / make and check the store",
		Example: `  onething store init --config /etc/onething/onething.yaml
  onething store check --config /etc/onething/onething.yaml --records
  onething store compact --config /etc/onething/onething.yaml`,
	}
	c.AddCommand(newStoreInitCmd(), newStoreCheckCmd(), newStoreCompactCmd())
	return c
}

// storeConfig loads the configuration as serve does, with --store over
// the file's store. Only the store and dataProtection are used: the
// departments' settings are not needed to make or check a store.
func storeConfig(path, storeURL string) (service.Config, error) {
	if path == "" {
		return service.Config{}, usageErrorf("需要 --config（或环境变量 ONETHING_CONFIG）/ --config (or ONETHING_CONFIG) is required")
	}
	loaded, err := service.LoadConfig(path, nil)
	if err != nil {
		return service.Config{}, err
	}
	cfg := loaded.Config
	if storeURL != "" {
		cfg.Store = storeURL
	}
	// The store URL's check of config check and serve, so a URL the store
	// cannot parse is refused without its password in the message.
	if problems := service.CheckStoreURL(cfg); len(problems) > 0 {
		return cfg, errors.New(strings.Join(problems, "; "))
	}
	return cfg, nil
}

func newStoreInitCmd() *cobra.Command {
	var path, storeURL string
	cmd := &cobra.Command{
		Use:   "init",
		Short: "创建存储（已创建则不变）/ make the store (an initialised one is left as it is)",
		Long: `创建配置所指的存储（bbolt 文件或 Redis 前缀），记录其身份和密钥校验；serve 从不创建存储。
对已初始化的同一存储再次运行不做任何改动，可作为每次启动前的步骤。
Make the store the configuration names (the bbolt file, or the Redis prefix) and record its
identity and key checks; "serve" never makes one. Run again on an initialised store it changes
nothing, so it is safe as a step before every start (the Kubernetes initContainer). It refuses an
empty, foreign, damaged or other-format store, and keys that do not fit the data.`,
		Example: `  onething store init --config /etc/onething/onething.yaml
  onething store init --config onething.yaml --store bolt:///data/onething.db`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := storeConfig(path, storeURL)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			defer cancel()
			res, err := service.InitStore(ctx, cfg, quietLog(cmd))
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), res.String())
			return nil
		},
	}
	addConfigFlag(cmd, &path)
	cmd.Flags().StringVar(&storeURL, "store", "", "store to make instead of the file's: bolt:///path/onething.db, redis://host:6379/0 or redis+sentinel://s1:26379,s2:26379,s3:26379/MASTER")
	return cmd
}

// errStoreProblems is the exit status 1 of a check that found damage.
var errStoreProblems = errors.New("存储检查发现问题 / the store check found problems")

func newStoreCheckCmd() *cobra.Command {
	var path, storeURL string
	var records, asJSON bool
	cmd := &cobra.Command{
		Use:   "check",
		Short: "离线检查存储的一致性 / check the store's consistency, offline",
		Long: `离线检查存储：bbolt 文件做完整的一致性检查（需先停止网关），Redis 检查身份、密钥校验和计数。
--records 逐条打开每个申请并列出无法打开的记录（遍历整个存储）。
Check the store offline: the bbolt file gets bbolt's full consistency check (stop the gateway
first: the file is locked while it runs); Redis gets its identity, key checks and counts.
--records also opens every application and lists those that do not open (a walk of the whole
store). Exit 0: no problem; 1: problems found, or the store could not be checked.`,
		Example: `  onething store check --config /etc/onething/onething.yaml
  onething store check --config onething.yaml --records --json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := storeConfig(path, storeURL)
			if err != nil {
				return err
			}
			rep, err := service.CheckStore(cmd.Context(), cfg, store.CheckOptions{Records: records}, quietLog(cmd))
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				b, err := json.MarshalIndent(rep, "", "  ")
				if err != nil {
					return err
				}
				fmt.Fprintln(out, string(b))
			} else {
				fmt.Fprint(out, rep.String())
			}
			if !rep.OK() {
				return errStoreProblems
			}
			return nil
		},
	}
	addConfigFlag(cmd, &path)
	fs := cmd.Flags()
	fs.StringVar(&storeURL, "store", "", "store to check instead of the file's: bolt:///path/onething.db, redis://host:6379/0 or redis+sentinel://s1:26379,s2:26379,s3:26379/MASTER")
	fs.BoolVar(&records, "records", false, "also open every application and list those that do not open (walks the whole store)")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

// quietLog is the log of the store commands: warnings and errors only.
func quietLog(cmd *cobra.Command) *slog.Logger {
	return slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), logOptions(slog.LevelWarn)))
}

func newStoreCompactCmd() *cobra.Command {
	var path, storeURL string
	cmd := &cobra.Command{
		Use:   "compact",
		Short: "离线压缩 bbolt 存储文件 / compact the bbolt store file, offline",
		Long: `重写 bbolt 存储文件，去掉空闲页（删除的数据留下的页面及其旧内容），文件随之缩小；须先停止网关。
Redis 自行释放内存，无需压缩（AOF 由 Redis 重写）。
Rewrite the bbolt store file without its free pages (the pages deletions left, with the bytes they
held), so the file shrinks: stop the gateway first (the file is locked while it runs). Redis frees
its memory itself and rewrites its AOF: there is nothing to compact.`,
		Example: `  onething store compact --config /etc/onething/onething.yaml
  onething store compact --config onething.yaml --store bolt:///data/onething.db`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := storeConfig(path, storeURL)
			if err != nil {
				return err
			}
			t, err := service.StoreTarget(cfg)
			if err != nil {
				return err
			}
			if t.Backend != "bolt" {
				return errors.New("Redis 存储无需压缩：Redis 自行释放内存并重写 AOF / a Redis store needs no compaction: Redis frees its memory and rewrites its AOF itself")
			}
			res, err := store.CompactBolt(t.Path)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), res.String())
			return nil
		},
	}
	addConfigFlag(cmd, &path)
	cmd.Flags().StringVar(&storeURL, "store", "", "store to compact instead of the file's: bolt:///path/onething.db")
	return cmd
}
