package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"onething/civil"
	"onething/gateway/calendar"
)

func init() { register(groupOps, newCalendarCmd) }

// newCalendarCmd is `onething calendar import|check`: the working-day
// calendar's yearly upkeep (docs/CALENDAR.md).
func newCalendarCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "calendar",
		Short: "工作日日历：导入国务院放假安排、检查日历文件 / the working-day calendar: import the State Council's holiday notice, check a calendar file",
		Example: `  onething calendar import notice-2028.txt --calendar /etc/onething/holidays.json
  onething calendar check --calendar /etc/onething/holidays.json`,
	}
	c.AddCommand(newCalendarImportCmd(), newCalendarCheckCmd())
	return c
}

// errCalendarCheck is the exit status 1 of a failed import or file check.
var errCalendarCheck = errors.New("日历检查未通过 / the calendar check failed")

func newCalendarImportCmd() *cobra.Command {
	var format, calPath, out string
	var replace bool
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "导入一年的放假安排（通知全文或 holiday-cn JSON）/ import a year's arrangement (the notice as text, or holiday-cn JSON)",
		Long: `读取国务院办公厅关于某年部分节假日安排的通知（文本），或 holiday-cn 格式的 JSON，
检查后并入日历文件：该年每个法定假日（及逢周末的补休）都放假；调休上班日都是周六或周日；
没有哪一天既放假又上班；七个节日齐全。检查不通过则不写文件（退出码 1）。
以 --calendar 的文件为基础（默认内置数据），写到 --out（默认即 --calendar 的文件，原子替换）。
然后把网关的 calendarFile 指向该文件并重启（或滚动发布）。

Read the State Council's notice of a year's holidays (as text), or a holiday-cn JSON file, check
it and merge it into a calendar file: every statutory day of that year (and the substitute day off
of one on a weekend) is off, every make-up working day is a Saturday or Sunday, no day is both off
and worked, all seven festivals are there. A failed check writes nothing (exit 1). The base is the
--calendar file (default: the built-in data); the result goes to --out (default: the --calendar
file, replaced atomically). Then point the gateway's calendarFile at it and restart (or roll out).
The notice grammar is in docs/CALENDAR.md.`,
		Example: `  onething calendar import notice-2028.txt --calendar /etc/onething/holidays.json
  onething calendar import 2028.json --format holiday-cn --out /etc/onething/holidays.json
  onething calendar import notice-2028.txt --calendar holidays.json --out holidays.new.json`,
		Args: exactArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "" && format != "notice" && format != "holiday-cn" {
				return usageErrorf("--format 只能是 notice 或 holiday-cn / --format must be notice or holiday-cn, got %q", format)
			}
			if out == "" {
				out = calPath
			}
			if out == "" {
				return usageErrorf("需要 --out（或 --calendar）：内置数据不能改写 / --out (or --calendar) is required: the built-in data cannot be rewritten")
			}
			input, err := os.ReadFile(args[0])
			if err != nil {
				return calendar.FileError("读取", "read", args[0], err)
			}
			base := calendar.Embedded()
			if calPath != "" {
				if base, err = os.ReadFile(calPath); err != nil {
					return calendar.FileError("读取", "read", calPath, err)
				}
			}
			if format == "" {
				format = "notice"
				if t := bytes.TrimSpace(bytes.TrimPrefix(input, []byte("\ufeff"))); len(t) > 0 && t[0] == '{' {
					format = "holiday-cn"
				}
			}
			var y calendar.Year
			if format == "holiday-cn" {
				y, err = calendar.ParseHolidayCN(input)
			} else {
				y, err = calendar.ParseNotice(input)
			}
			if err != nil {
				return fmt.Errorf("%s：%w", args[0], err)
			}
			stderr := cmd.ErrOrStderr()
			var problems calendar.Problems
			if err := y.Check(); errors.As(err, &problems) {
				fmt.Fprintf(stderr, "%d 年的安排未通过检查，未写入 / %d failed the checks, nothing written:\n", y.Year, y.Year)
				for _, p := range problems {
					fmt.Fprintf(stderr, "  - %s\n", p.Error())
				}
				return errCalendarCheck
			} else if err != nil {
				return err
			}
			merged, changed, err := calendar.Merge(base, y, replace)
			if err != nil {
				return calendar.Wrap(err, "", "")
			}
			w := cmd.OutOrStdout()
			offDays := 0
			for _, r := range y.Off {
				offDays += int(r.To.Midnight().Sub(r.From.Midnight()).Hours()/24) + 1
			}
			if !changed && out == calPath {
				fmt.Fprintf(w, "%d 年已在 %s 中，安排相同，未改动 / %d is already in %s with the same arrangement; nothing changed\n", y.Year, out, y.Year, out)
				return nil
			}
			if err := writeAtomic(out, merged); err != nil {
				return calendar.FileError("写入", "write", out, err)
			}
			fmt.Fprintf(w, "已导入 %d 年（%s）：放假 %d 天，调休上班 %d 天，写入 %s\n", y.Year, y.Source, offDays, len(y.Work), out)
			fmt.Fprintf(w, "imported %d: %d days off, %d make-up working days, written to %s\n", y.Year, offDays, len(y.Work), out)
			fmt.Fprintf(w, "下一步 / next: calendarFile: %s，然后重启网关 / then restart the gateway (onething calendar check --calendar %s)\n", out, out)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&format, "format", "", "input format: notice (the notice as text) or holiday-cn (JSON); default: detected (JSON if it starts with '{')")
	fs.StringVar(&calPath, "calendar", "", "calendar file to merge into (default: the built-in data)")
	fs.StringVar(&out, "out", "", "file to write (default: the --calendar file, replaced atomically)")
	fs.BoolVar(&replace, "replace", false, "replace the year if the file already has it with a different arrangement")
	return cmd
}

func newCalendarCheckCmd() *cobra.Command {
	var calPath string
	cmd := &cobra.Command{
		Use:   "check",
		Short: "检查日历文件，列出覆盖的年份及来源 / check a calendar file and list the years it covers and their sources",
		Long: `解析日历文件（默认内置数据），对 2025 年起的每一年做导入时的检查，列出覆盖的年份、来源，
以及最后一年之后按法定假日规则暂定（provisional）的年份。文件无效或检查不通过时退出码为 1。

Parse a calendar file (default: the built-in data), run the import checks on each year from 2025,
and list the years covered with their sources, and the year after the last one, whose due dates
are provisional (the statutory rule, no 调休). Exit 1 if the file is invalid or a check fails.`,
		Example: `  onething calendar check
  onething calendar check --calendar /etc/onething/holidays.json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			data, name := calendar.Embedded(), "内置数据 / built-in data"
			if calPath != "" {
				var err error
				if data, err = os.ReadFile(calPath); err != nil {
					return calendar.FileError("读取", "read", calPath, err)
				}
				name = calPath
			}
			infos, err := calendar.Inspect(data)
			if err != nil {
				return calendar.Wrap(err, name+"：日历文件无效：", name+": the calendar file is invalid: ")
			}
			return printCalendarCheck(cmd.OutOrStdout(), cmd.ErrOrStderr(), name, infos, civil.Today(civil.Real))
		},
	}
	cmd.Flags().StringVar(&calPath, "calendar", "", "calendar file to check (default: the built-in data)")
	return cmd
}

func printCalendarCheck(w, stderr io.Writer, name string, infos []calendar.YearInfo, today civil.Date) error {
	fmt.Fprintf(w, "日历 / calendar: %s\n", name)
	failed := false
	covered := map[int]bool{}
	for _, in := range infos {
		if in.Provisional {
			fmt.Fprintf(w, "  %d  暂定 / provisional: %s\n", in.Year, in.Source)
			continue
		}
		covered[in.Year] = true
		status := "ok"
		if len(in.Problems) > 0 {
			status, failed = "检查未通过 / FAILED", true
		}
		fmt.Fprintf(w, "  %d  %s（放假 %d 天，调休上班 %d 天 / %d days off, %d make-up working days）%s\n",
			in.Year, in.Source, in.OffDays, in.WorkDays, in.OffDays, in.WorkDays, status)
		for _, p := range in.Problems {
			fmt.Fprintf(w, "        - %s\n", p.Error())
		}
	}
	if next := today.Year() + 1; today.Month() >= time.November && !covered[next] {
		fmt.Fprintf(w, "提示 / note: 今天 %s，%d 年的安排尚未导入；国务院通知发布后运行 onething calendar import / it is %s and %d is not imported; once the notice is out run onething calendar import\n",
			today, next, today, next)
	}
	if !covered[today.Year()] {
		fmt.Fprintf(w, "警告 / warning: 日历不含今年 %d，截止日期均为暂定 / the calendar lacks this year, %d: due dates are provisional\n", today.Year(), today.Year())
	}
	if failed {
		fmt.Fprintln(stderr, strings.TrimSpace(errCalendarCheck.Error()))
		return errCalendarCheck
	}
	return nil
}

// writeAtomic replaces path with data: a temporary file in the same
// directory, synced, then renamed over it, so a reader (a gateway starting)
// sees the old file or the new one, never half of one. The mode of an
// existing file is kept (0644 for a new one).
func writeAtomic(path string, data []byte) error {
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename, a no-op
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
