package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"onething/gateway/counties"
)

func init() { register(groupOps, newRulesCmd) }

// newRulesCmd is `onething rules check`: the county rule packs
// (docs/COUNTIES.md).
func newRulesCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "rules",
		Short: "县级规则包：检查并列出各县对通用规则的改动 / county rule packs: check them and list what each changes in the common rules",
		Example: `  onething rules check
  onething rules check /etc/onething/counties`,
	}
	c.AddCommand(newRulesCheckCmd())
	return c
}

// errRulesCheck is the exit status 1 of an invalid pack.
var errRulesCheck = errors.New("规则包检查未通过 / the rule packs are invalid")

// rulesReport is `rules check --json`.
type rulesReport struct {
	Valid    bool               `json:"valid"`
	Dir      string             `json:"dir,omitempty"`
	Counties []counties.Changes `json:"counties"`
	Problems []counties.Problem `json:"problems"`
}

func newRulesCheckCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check [DIR]",
		Short: "检查内置规则包及 DIR 中的规则包，列出各县的改动 / check the built-in packs and those of DIR, and list what each county changes",
		Long: `读取内置的县级规则包（达州市七个县、区、市），以及 DIR 中的每个 *.yaml、*.yml、*.json
规则包（与内置同代码的替换之，其他的新增一个县），逐一校验，并列出每个县相对通用规则的改动：
新增的本地事项、改变的时限、乡镇（街道）是否已核实、窗口。任一规则包无效时，在 stderr 列出
每个问题（文件、字段、原因），退出码为 1。格式见 docs/COUNTIES.md。

Read the built-in county rule packs (the seven counties of 达州市) and every *.yaml, *.yml and
*.json pack of DIR (one with a built-in county's code replaces it, another adds a county), validate
them, and list what each county changes in the common rules: local items added, time limits
changed, whether its towns are verified, its windows. If a pack is invalid, every problem (file,
field, reason) is listed on stderr and the exit status is 1. The format is in docs/COUNTIES.md.`,
		Example: `  onething rules check
  onething rules check /etc/onething/counties
  onething rules check /etc/onething/counties --json | jq '.counties[] | {code, verified}'`,
		Args: maxArgs("DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := ""
			if len(args) == 1 {
				if dir = args[0]; dir == "" {
					return usageErrorf("DIR 不能为空 / DIR must not be empty")
				}
			}
			set, err := counties.Load(dir)
			var probs counties.Problems
			if err != nil && !errors.As(err, &probs) {
				return err
			}
			if asJSON {
				rep := rulesReport{Valid: err == nil, Dir: dir, Counties: []counties.Changes{}, Problems: []counties.Problem(probs)}
				if rep.Problems == nil {
					rep.Problems = []counties.Problem{}
				}
				if set != nil {
					for _, p := range set.Counties() {
						rep.Counties = append(rep.Counties, p.Changes())
					}
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			}
			if err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "规则包无效（%d 个问题）/ invalid rule packs (%d problems):\n", len(probs), len(probs))
				for _, p := range probs {
					fmt.Fprintf(cmd.ErrOrStderr(), "  - %s\n", p.Error())
				}
				return errRulesCheck
			}
			if !asJSON {
				printRulesCheck(cmd.OutOrStdout(), dir, set)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON (stdout is JSON only)")
	return cmd
}

func printRulesCheck(w io.Writer, dir string, set *counties.Set) {
	builtIn, fromDir, verified := 0, 0, 0
	for _, p := range set.Counties() {
		if strings.HasPrefix(p.File, "embedded:") {
			builtIn++
		} else {
			fromDir++
		}
		if p.Verified {
			verified++
		}
	}
	if dir == "" {
		fmt.Fprintf(w, "规则包 / rule packs: 内置 %d 个 / %d built-in\n", builtIn, builtIn)
	} else {
		fmt.Fprintf(w, "规则包 / rule packs: 内置 %d 个，%s 中 %d 个 / %d built-in, %d from %s\n", builtIn, dir, fromDir, builtIn, fromDir, dir)
	}
	common := counties.CommonItems()
	names := make([]string, len(common))
	for i, it := range common {
		names[i] = string(it)
	}
	fmt.Fprintf(w, "通用规则 / common rules: %d 个事项，各县均有 / %d items every county offers: %s\n", len(common), len(common), strings.Join(names, ", "))
	for _, p := range set.Counties() {
		ch := p.Changes()
		status := "未核实 / NOT verified"
		if ch.Verified {
			status = "已核实 / verified"
		}
		fmt.Fprintf(w, "\n%s %s", ch.Code, ch.Name)
		if ch.NameEN != "" {
			fmt.Fprintf(w, " %s", ch.NameEN)
		}
		fmt.Fprintf(w, " · %s %s · %s\n", ch.City.Name, ch.City.Code, status)
		file := ch.File
		if !strings.HasPrefix(file, "embedded:") {
			if _, ok := counties.Default().County(ch.Code); ok {
				file += "（替换内置规则包 / replaces the built-in pack）"
			} else {
				file += "（新增的县 / adds a county）"
			}
		}
		fmt.Fprintf(w, "  文件 / file: %s\n", file)
		fmt.Fprintf(w, "  来源 / source: %s\n", oneLineText(ch.Source))
		if len(ch.LocalItems) == 0 {
			fmt.Fprintf(w, "  本地事项 / local items: 无，仅通用规则 / none: the common rules only\n")
		} else {
			fmt.Fprintf(w, "  本地事项 / local items:\n")
			for _, li := range ch.LocalItems {
				fmt.Fprintf(w, "    + %s %s / %s，%d 个工作日 / %d working days\n", li.Code, li.Name.ZH, li.Name.EN, li.Limit, li.Limit)
				fmt.Fprintf(w, "      依据 / basis: %s\n", oneLineText(li.Basis))
			}
		}
		if len(ch.Limits) == 0 {
			fmt.Fprintf(w, "  时限 / time limits: 同通用规则 / as the common rules\n")
		} else {
			fmt.Fprintf(w, "  时限 / time limits:\n")
			for _, l := range ch.Limits {
				fmt.Fprintf(w, "    ~ %s：%d → %d 个工作日 / %d → %d working days\n", l.Item, l.Common, l.Local, l.Common, l.Local)
			}
		}
		switch {
		case ch.Verified:
			fmt.Fprintf(w, "  乡镇（街道）/ towns: 列出 %d 个，已核实：只受理所列乡镇 / %d listed, verified: only these are accepted\n", ch.Towns, ch.Towns)
		case ch.Towns > 0:
			fmt.Fprintf(w, "  乡镇（街道）/ towns: 列出 %d 个（未核实）：本县内任何格式正确的 9 位代码均受理，未列出的以代码显示 / %d listed (not verified): any well-formed 9-digit code inside %s is accepted, unlisted ones shown by their code\n", ch.Towns, ch.Towns, ch.Code)
		default:
			fmt.Fprintf(w, "  乡镇（街道）/ towns: 未列出（未核实）：本县内任何格式正确的 9 位代码均受理，以代码显示 / none listed (not verified): any well-formed 9-digit code inside %s is accepted, shown by its code\n", ch.Code)
		}
		fmt.Fprintf(w, "  窗口 / windows: %s\n", windowsLine(p, ch))
		for _, n := range ch.Notes {
			if n.EN != "" {
				fmt.Fprintf(w, "  说明 / note: %s / %s\n", oneLineText(n.ZH), oneLineText(n.EN))
			} else {
				fmt.Fprintf(w, "  说明 / note: %s\n", oneLineText(n.ZH))
			}
		}
	}
	fmt.Fprintf(w, "\n合计 / total: %d 个规则包有效，%d 个已核实，%d 个未核实 / %d packs valid, %d verified, %d not verified\n",
		builtIn+fromDir, verified, builtIn+fromDir-verified, builtIn+fromDir, verified, builtIn+fromDir-verified)
}

func windowsLine(p *counties.Pack, ch counties.Changes) string {
	var parts []string
	if m := ch.Windows.Comprehensive; m != nil {
		parts = append(parts, "综合受理 / comprehensive: "+m.ZH)
	}
	if m := ch.Windows.CDPF; m != nil {
		parts = append(parts, "残联 / CDPF: "+m.ZH)
	}
	if ch.TownWindows > 0 {
		parts = append(parts, fmt.Sprintf("%d 个乡镇（街道）有本级窗口 / %d towns have their own windows", ch.TownWindows, ch.TownWindows))
	}
	if len(parts) == 0 {
		return "未知，显示为 / not known, shown as: " + p.ComprehensiveWindow(p.Code).ZH
	}
	return strings.Join(parts, "；")
}

// oneLineText folds a text's line breaks (a YAML block) into spaces.
func oneLineText(s string) string { return strings.Join(strings.Fields(s), " ") }
