package calendar

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"onething/civil"
)

// Year is one year's arrangement as a notice (or a holiday-cn file) gives
// it, before it is merged into a holiday data file.
type Year struct {
	Year   int
	Source string
	Off    []Range      // named ranges of days off, in date order
	Work   []civil.Date // 调休 working days (weekend days worked)
}

// Range is an inclusive range of days off for one break; Name is the
// festival, or two joined by "、" for a combined break.
type Range struct {
	From, To civil.Date
	Name     string
}

// Problem is one thing wrong with an imported year, said in Chinese and in
// English, naming the day and the festival where there is one.
type Problem struct {
	Date     civil.Date // zero if the problem is not about one day
	Festival string
	ZH, EN   string
}

func (p Problem) Error() string { return p.ZH + " / " + p.EN }

// Problems is the error of a failed check: every problem found, one a line.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

var weekdayZH = [...]string{"星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"}

// festivalLabel is "端午节 (Dragon Boat Festival)" for the English side.
func festivalLabel(name string) string {
	var en []string
	for _, n := range strings.Split(name, "、") {
		if e := FestivalEN(n); e != "" {
			en = append(en, e)
		}
	}
	if len(en) == 0 {
		return name
	}
	return name + " (" + strings.Join(en, ", ") + ")"
}

// Check is what an imported year must pass before it is merged: every day
// the statutory rule gives off (statutory days and their 补休) is off; every
// 调休 working day is a Saturday or Sunday; no day is both off and worked;
// every date lies in the year (or, for 元旦, in the last days of the one
// before); all seven festivals are there. It returns Problems, or nil.
func (y Year) Check() error {
	var ps Problems
	add := func(p Problem) { ps = append(ps, p) }
	if y.Year < RuleFrom || y.Year > 9999 {
		add(Problem{ZH: fmt.Sprintf("不能导入 %d 年：法定假日规则（2024 年修订）自 %d 年起适用，更早的年份已在内置数据中", y.Year, RuleFrom),
			EN: fmt.Sprintf("cannot import %d: the statutory rule (as amended in 2024) applies from %d; earlier years are in the built-in data", y.Year, RuleFrom)})
		return ps
	}
	lo, hi := civil.New(y.Year-1, time.December, 31-newYearSpill+1), civil.New(y.Year, time.December, 31)
	inYear := func(d civil.Date, what, whatEN, name string) {
		if d.Before(lo) || d.After(hi) {
			zhName, enName := "", ""
			if name != "" {
				zhName, enName = "（"+name+"）", " ("+festivalLabel(name)+")"
			}
			add(Problem{Date: d, Festival: name,
				ZH: fmt.Sprintf("%s%s%s不在 %d 年内（允许 %s 至 %s）", d, zhName, what, y.Year, lo, hi),
				EN: fmt.Sprintf("%s%s %s lies outside %d (allowed %s to %s)", d, enName, whatEN, y.Year, lo, hi)})
		}
	}

	off := map[civil.Date]string{}
	present := map[string]Range{} // festival → its break
	for _, r := range y.Off {
		for _, n := range strings.Split(r.Name, "、") {
			if FestivalEN(n) == "" {
				add(Problem{Festival: n, ZH: fmt.Sprintf("“%s”不是法定节日（应为元旦、春节、清明节、劳动节、端午节、中秋节、国庆节之一）", n),
					EN: fmt.Sprintf("%q is not a statutory festival (want one of 元旦, 春节, 清明节, 劳动节, 端午节, 中秋节, 国庆节)", n)})
				continue
			}
			if prev, ok := present[n]; ok {
				add(Problem{Date: r.From, Festival: n,
					ZH: fmt.Sprintf("%s有两项放假安排（%s 至 %s 与 %s 至 %s）：每个节日只有一项", n, prev.From, prev.To, r.From, r.To),
					EN: fmt.Sprintf("%s has two breaks (%s to %s and %s to %s): a festival has one", festivalLabel(n), prev.From, prev.To, r.From, r.To)})
				continue
			}
			present[n] = r
		}
		if r.From.After(r.To) {
			add(Problem{Date: r.From, Festival: r.Name, ZH: fmt.Sprintf("%s：放假起始日 %s 晚于结束日 %s", r.Name, r.From, r.To),
				EN: fmt.Sprintf("%s: the break starts on %s, after its end %s", festivalLabel(r.Name), r.From, r.To)})
			continue
		}
		inYear(r.From, "放假起始日", "start of the break", r.Name)
		inYear(r.To, "放假结束日", "end of the break", r.Name)
		if n := daysBetween(r.From, r.To) + 1; n > maxOffRange {
			add(Problem{Date: r.From, Festival: r.Name, ZH: fmt.Sprintf("%s：%s 至 %s 共 %d 天，超过 %d 天，是否写错？", r.Name, r.From, r.To, n, maxOffRange),
				EN: fmt.Sprintf("%s: %s to %s is %d days, more than %d; a typo?", festivalLabel(r.Name), r.From, r.To, n, maxOffRange)})
			continue
		}
		for d := r.From; !d.After(r.To); d = d.AddDays(1) {
			if prev, ok := off[d]; ok {
				add(Problem{Date: d, Festival: r.Name,
					ZH: fmt.Sprintf("%s 同时在%s和%s的放假期间：放假安排重叠", d, prev, r.Name),
					EN: fmt.Sprintf("%s is in the breaks of both %s and %s: the breaks overlap", d, festivalLabel(prev), festivalLabel(r.Name))})
				break
			}
			off[d] = r.Name
		}
	}
	for _, f := range Festivals {
		if _, ok := present[f]; !ok {
			add(Problem{Festival: f, ZH: fmt.Sprintf("%d 年缺少%s的放假安排：通知总是列出全部七个节日，文件是否完整？", y.Year, f),
				EN: fmt.Sprintf("%d lacks %s: the notice always names all seven festivals; is the file complete?", y.Year, festivalLabel(f))})
		}
	}

	work := map[civil.Date]bool{}
	for _, d := range y.Work {
		inYear(d, "调休上班日", "make-up working day", "")
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			add(Problem{Date: d, ZH: fmt.Sprintf("%s（%s）列为调休上班日，但调休上班日必须是周六或周日", d, weekdayZH[wd]),
				EN: fmt.Sprintf("%s is a %s: a make-up working day must be a Saturday or Sunday", d, wd)})
		}
		if name, ok := off[d]; ok {
			add(Problem{Date: d, Festival: name, ZH: fmt.Sprintf("%s 既在%s放假期间，又是调休上班日", d, name),
				EN: fmt.Sprintf("%s is both a day off (%s) and a make-up working day", d, festivalLabel(name))})
		}
		work[d] = true
	}

	r, err := ruleFor(y.Year)
	if err != nil {
		add(Problem{ZH: "无法计算法定假日：" + err.Error(), EN: "cannot compute the statutory days: " + err.Error()})
		return ps
	}
	statutory := map[day]bool{}
	for _, s := range r.statutory {
		statutory[dayFromDate(s.Date.Year(), s.Date.Month(), s.Date.Day())] = true
	}
	rule := make([]day, 0, len(r.off))
	for x := range r.off {
		rule = append(rule, x)
	}
	slices.Sort(rule)
	for _, x := range rule {
		d := civil.New(x.utc().Date())
		if _, ok := off[d]; ok {
			continue
		}
		name := r.off[x]
		if statutory[x] {
			add(Problem{Date: d, Festival: name, ZH: fmt.Sprintf("%s（%s）是%s的法定假日，但未放假", d, weekdayZH[d.Weekday()], name),
				EN: fmt.Sprintf("%s (%s) is a statutory day of %s but is not off", d, d.Weekday(), festivalLabel(name))})
		} else {
			add(Problem{Date: d, Festival: name, ZH: fmt.Sprintf("%s（%s）是%s法定假日逢周末（或重叠）应补休的日子，但未放假", d, weekdayZH[d.Weekday()], name),
				EN: fmt.Sprintf("%s (%s) is the substitute day off (补休) for a statutory day of %s on a weekend (or sharing a date), but is not off", d, d.Weekday(), festivalLabel(name))})
		}
	}
	if len(ps) > 0 {
		return ps
	}
	return nil
}

func daysBetween(a, b civil.Date) int {
	return int(dayFromDate(b.Year(), b.Month(), b.Day()) - dayFromDate(a.Year(), a.Month(), a.Day()))
}

// ParseHolidayCN reads one year in the holiday-cn format, a JSON file
// commonly used for China's holiday data:
//
//	{"year": 2027, "papers": ["https://…"], "days": [
//	  {"name": "元旦", "date": "2027-01-01", "isOffDay": true}, …,
//	  {"name": "春节", "date": "2027-01-31", "isOffDay": false}, …]}
//
// Days off are grouped into ranges of consecutive days with one name;
// isOffDay false marks a 调休 working day. Other top-level fields ($schema,
// $id) are allowed; unknown fields of a day are not.
func ParseHolidayCN(data []byte) (Year, error) {
	var f struct {
		Schema string   `json:"$schema"`
		ID     string   `json:"$id"`
		Year   int      `json:"year"`
		Papers []string `json:"papers"`
		Days   []struct {
			Name     string `json:"name"`
			Date     string `json:"date"`
			IsOffDay *bool  `json:"isOffDay"`
		} `json:"days"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return Year{}, wrapBi(jsonError(data, err), "holiday-cn 文件无效：", "not a valid holiday-cn file: ")
	}
	if _, err := dec.Token(); err != io.EOF {
		return Year{}, errors.New("holiday-cn 文件在顶层对象之后还有内容 / holiday-cn file: data after the top-level object")
	}
	if f.Year < 1000 || f.Year > 9999 {
		return Year{}, fmt.Errorf("holiday-cn 文件缺少有效的 year / holiday-cn file: no valid \"year\" (got %d)", f.Year)
	}
	if len(f.Days) == 0 {
		return Year{}, errors.New("holiday-cn 文件没有 days / holiday-cn file: no \"days\"")
	}
	y := Year{Year: f.Year, Source: fmt.Sprintf("国务院办公厅关于%d年部分节假日安排的通知", f.Year)}
	if len(f.Papers) > 0 {
		y.Source += "（holiday-cn: " + strings.Join(f.Papers, " ") + "）"
	}
	type offDay struct {
		d    civil.Date
		name string
	}
	var offs []offDay
	seen := map[civil.Date]bool{}
	for i, dd := range f.Days {
		d, err := civil.Parse(dd.Date)
		if err != nil {
			return Year{}, fmt.Errorf("days[%d]：日期 %q 无效，应为 YYYY-MM-DD 格式的实有日期 / days[%d]: bad date %q, want YYYY-MM-DD", i, dd.Date, i, dd.Date)
		}
		if dd.IsOffDay == nil {
			return Year{}, fmt.Errorf("days[%d]（%s）缺少 isOffDay / days[%d] (%s): no \"isOffDay\"", i, dd.Date, i, dd.Date)
		}
		if seen[d] {
			return Year{}, fmt.Errorf("days[%d]：%s 出现两次 / days[%d]: %s is listed twice", i, d, i, d)
		}
		seen[d] = true
		name := normalizeNames(dd.Name)
		if *dd.IsOffDay {
			offs = append(offs, offDay{d, name})
		} else {
			y.Work = append(y.Work, d)
		}
	}
	slices.SortFunc(offs, func(a, b offDay) int { return a.d.Compare(b.d) })
	slices.SortFunc(y.Work, func(a, b civil.Date) int { return a.Compare(b) })
	for _, o := range offs {
		if n := len(y.Off); n > 0 && y.Off[n-1].Name == o.name && y.Off[n-1].To.AddDays(1) == o.d {
			y.Off[n-1].To = o.d
			continue
		}
		y.Off = append(y.Off, Range{From: o.d, To: o.d, Name: o.name})
	}
	return y, nil
}

// normalizeNames writes a break's name as the notices do: "清明" is
// "清明节", names joined by "、".
func normalizeNames(s string) string {
	parts := strings.FieldsFunc(strings.TrimSpace(s), func(r rune) bool { return r == '、' || r == ',' || r == '，' || r == '/' })
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if FestivalEN(p) == "" && FestivalEN(p+"节") != "" {
			p += "节"
		}
		parts[i] = p
	}
	return strings.Join(parts, "、")
}

// The notice grammar (see docs/CALENDAR.md). Full-width and half-width
// punctuation and digits are both accepted, spaces are ignored, and anything
// in parentheses (星期, 农历) is skipped.
var (
	reTitle   = regexp.MustCompile(`国务院办公厅关于(\d{4})年部分节假日安排的通知`)
	reYear    = regexp.MustCompile(`(\d{4})年`)
	reDocNo   = regexp.MustCompile(`国办发明?电?〔\d{4}〕\d+号`)
	reItem    = regexp.MustCompile(`^([一二三四五六七八九十]+)、([^:]+):(.*)$`)
	reParen   = regexp.MustCompile(`\([^)]*\)`)
	reDate    = `(?:(\d{4})年)?(?:(\d{1,2})月)?(\d{1,2})日`
	reOff     = regexp.MustCompile(`^` + reDate + `(?:至` + reDate + `)?放假(.*)$`)
	reWork    = regexp.MustCompile(`^(` + reDate + `(?:、` + reDate + `)*)上班$`)
	reOneDate = regexp.MustCompile(reDate)
	reCount   = regexp.MustCompile(`(?:共|^)(\d+)天`)
	reCont    = regexp.MustCompile(`^(?:\d{4}年)?\d{1,2}月\d{1,2}日`)
	// reSigned is the date line under the issuer that ends the notice
	// ("国务院办公厅" / "2026年11月12日"): a full date and nothing else.
	reSigned = regexp.MustCompile(`^\d{4}年\d{1,2}月\d{1,2}日$`)
)

var fold = strings.NewReplacer(
	"（", "(", "）", ")", "：", ":", "，", ",", "；", ";", "．", ".",
	"０", "0", "１", "1", "２", "2", "３", "3", "４", "4", "５", "5", "６", "6", "７", "7", "８", "8", "９", "9",
	"　", "", " ", "", "\t", "", "\r", "", "\u00a0", "", "\u2002", "", "\u2003", "", "\u200b", "", "\ufeff", "",
)

// ParseNotice reads the State Council's annual notice
// (国务院办公厅关于YYYY年部分节假日安排的通知) as text, as copied from the
// published page. It needs the year (from the title, or the first "YYYY年"
// before the items) and one item per festival:
//
//	一、元旦：1月1日至3日放假调休，共3天。
//	二、春节：2月5日（农历腊月二十九）至13日（农历正月初七）放假调休，共9天。1月31日（星期日）、2月14日（星期日）上班。
//	五、端午节：6月9日（星期三）放假，共1天。
//	六、国庆节、中秋节：10月1日（周三）至8日（周三）放假调休，共8天。9月28日（周日）、10月11日（周六）上班。
//
// Other lines (the page's header, title, salutation, preamble, closing
// paragraph, issuer) are skipped; a line that starts with a date continues
// the item above it; a line that is only a full date (the date under the
// issuer, "2026年11月12日") ends the notice, and what follows it (such as
// "（此件公开发布）") is not read. A festival may have only one item.
// Errors name the line, in Chinese and in English.
func ParseNotice(text []byte) (Year, error) {
	lines := strings.Split(string(text), "\n")
	y := Year{}
	type item struct {
		line        int
		names, body string
	}
	var items []item
	var docNo string
	firstYear := 0 // the first "YYYY年" before the items, if there is no title
	for i, raw := range lines {
		l := fold.Replace(raw)
		if l == "" {
			continue
		}
		if m := reItem.FindStringSubmatch(l); m != nil {
			items = append(items, item{i + 1, m[2], m[3]})
			continue
		}
		if len(items) > 0 && reSigned.MatchString(l) {
			break // the date under the issuer: the notice ends here
		}
		if len(items) > 0 && reCont.MatchString(reParen.ReplaceAllString(l, "")) {
			items[len(items)-1].body += l
			continue
		}
		if len(items) > 0 {
			continue // closing text, the issuer
		}
		// Before the items: a page header (its 成文日期 is the year before),
		// the title, the 文号, the salutation, the preamble.
		if m := reTitle.FindStringSubmatch(l); m != nil && y.Source == "" {
			y.Year, _ = strconv.Atoi(m[1])
			y.Source = m[0]
		} else if m := reYear.FindStringSubmatch(l); m != nil && firstYear == 0 {
			firstYear, _ = strconv.Atoi(m[1])
		}
		if m := reDocNo.FindString(l); m != "" && docNo == "" {
			docNo = m
		}
	}
	if y.Year == 0 {
		y.Year = firstYear
	}
	if y.Year == 0 {
		return Year{}, errors.New("通知中找不到年份（标题“国务院办公厅关于YYYY年部分节假日安排的通知”）/ the notice names no year (title: 国务院办公厅关于YYYY年部分节假日安排的通知)")
	}
	if len(items) == 0 {
		return Year{}, errors.New("通知中没有“一、元旦：……”这样的条目 / the notice has no items such as \"一、元旦：1月1日放假，共1天。\"")
	}
	if y.Source == "" {
		y.Source = fmt.Sprintf("国务院办公厅关于%d年部分节假日安排的通知", y.Year)
	}
	if docNo != "" {
		y.Source += "（" + docNo + "）"
	}

	lo, hi := civil.New(y.Year-1, time.December, 31-newYearSpill+1), civil.New(y.Year, time.December, 31)
	listed := map[string]int{} // festival → the line of its item
	for _, it := range items {
		name := normalizeNames(it.names)
		bad := func(zh, en string) error {
			return fmt.Errorf("第 %d 行（%s）：%s / line %d (%s): %s", it.line, name, zh, it.line, festivalLabel(name), en)
		}
		for _, n := range strings.Split(name, "、") {
			if prev, ok := listed[n]; ok {
				return Year{}, fmt.Errorf("第 %d 行和第 %d 行都列出了%s：每个节日只有一项放假安排，请删去重复的一项 / lines %d and %d both list %s: a festival has one arrangement; remove the repeated item",
					prev, it.line, n, prev, it.line, festivalLabel(n))
			}
			listed[n] = it.line
		}
		date := func(ys, ms, ds string, inherit time.Month) (civil.Date, error) {
			d, err := noticeDate(y.Year, name, ys, ms, ds, inherit)
			if err != nil {
				return d, err
			}
			if d.Before(lo) || d.After(hi) {
				return d, bad(fmt.Sprintf("%s 不在 %d 年内（允许 %s 至 %s）", d, y.Year, lo, hi),
					fmt.Sprintf("%s lies outside %d (allowed %s to %s)", d, y.Year, lo, hi))
			}
			return d, nil
		}
		body := reParen.ReplaceAllString(it.body, "")
		var haveOff bool
		for _, sentence := range strings.FieldsFunc(body, func(r rune) bool { return r == '。' || r == ';' }) {
			sentence = strings.TrimRight(sentence, ",")
			if sentence == "" {
				continue
			}
			if m := reOff.FindStringSubmatch(sentence); m != nil {
				if haveOff {
					return Year{}, bad(fmt.Sprintf("一项中有两句放假安排：“%s”", sentence), fmt.Sprintf("two off sentences in one item: %q", sentence))
				}
				haveOff = true
				from, err := date(m[1], m[2], m[3], 0)
				if err != nil {
					return Year{}, wrapDateErr(bad, err)
				}
				to := from
				if m[6] != "" {
					if to, err = date(m[4], m[5], m[6], from.Month()); err != nil {
						return Year{}, wrapDateErr(bad, err)
					}
				}
				if from.After(to) {
					return Year{}, bad(fmt.Sprintf("放假起始日 %s 晚于结束日 %s", from, to), fmt.Sprintf("the break starts on %s, after its end %s", from, to))
				}
				if c := reCount.FindStringSubmatch(strings.TrimPrefix(m[7], ",")); c != nil {
					n, _ := strconv.Atoi(c[1])
					if got := daysBetween(from, to) + 1; got != n {
						return Year{}, bad(fmt.Sprintf("%s 至 %s 是 %d 天，通知写的是“共%d天”", from, to, got, n),
							fmt.Sprintf("%s to %s is %d days, the notice says %d (共%d天)", from, to, got, n, n))
					}
				}
				y.Off = append(y.Off, Range{From: from, To: to, Name: name})
				continue
			}
			if m := reWork.FindStringSubmatch(sentence); m != nil {
				var month time.Month
				for _, dm := range reOneDate.FindAllStringSubmatch(m[1], -1) {
					d, err := date(dm[1], dm[2], dm[3], month)
					if err != nil {
						return Year{}, wrapDateErr(bad, err)
					}
					month = d.Month()
					y.Work = append(y.Work, d)
				}
				continue
			}
			return Year{}, bad(fmt.Sprintf("应为“M月D日[至[M月]D日]放假……”或“M月D日、M月D日上班”，读到“%s”", sentence),
				fmt.Sprintf("expected \"M月D日[至[M月]D日]放假…\" or \"M月D日、M月D日上班\", got %q", sentence))
		}
		if !haveOff {
			return Year{}, bad("没有放假日期（“……放假”）", "no days off (\"…放假\")")
		}
	}
	slices.SortFunc(y.Off, func(a, b Range) int { return a.From.Compare(b.From) })
	slices.SortFunc(y.Work, func(a, b civil.Date) int { return a.Compare(b) })
	return y, nil
}

// dateError is a date of a notice that does not exist, said in both
// languages; ParseNotice adds the line.
type dateError struct{ zh, en string }

func (e *dateError) Error() string { return e.zh + " / " + e.en }

// wrapDateErr puts the line on a dateError; other errors already have it.
func wrapDateErr(bad func(zh, en string) error, err error) error {
	var de *dateError
	if errors.As(err, &de) {
		return bad(de.zh, de.en)
	}
	return err
}

// noticeDate is a date of the notice of year: a month left out is
// inherited (the "13日" of "2月5日至13日"); December in a 元旦 item is the
// year before. A date that does not exist is a *dateError.
func noticeDate(year int, name, ys, ms, ds string, inherit time.Month) (civil.Date, error) {
	month := inherit
	if ms != "" {
		m, _ := strconv.Atoi(ms)
		month = time.Month(m)
	}
	if month < 1 || month > 12 {
		return civil.Date{}, &dateError{fmt.Sprintf("日期缺少有效的月份（%s月%s日）", ms, ds), fmt.Sprintf("a date without a valid month (%s月%s日)", ms, ds)}
	}
	if ys != "" {
		year, _ = strconv.Atoi(ys)
	} else if month == time.December && strings.Contains(name, NewYear) {
		year--
	}
	s := fmt.Sprintf("%04d-%02d-%s", year, month, pad2(ds))
	d, err := civil.Parse(s)
	if err != nil {
		return civil.Date{}, &dateError{fmt.Sprintf("日期 %s 不存在（%d年%d月%s日）", s, year, month, ds), fmt.Sprintf("no such date %s", s)}
	}
	return d, nil
}

func pad2(s string) string {
	if len(s) == 1 {
		return "0" + s
	}
	return s
}

// Embedded returns the built-in holiday data file (a copy).
func Embedded() []byte { return bytes.Clone(embedded) }

// ErrYearExists is returned by Merge when the file already has the year
// with a different arrangement and replace is false.
var ErrYearExists = errors.New("calendar: the year is already in the file")

// Merge puts y into the holiday data file data and returns the new file,
// written in the file's hand-edited layout, and whether anything changed.
// The year must pass Check, and the merged file must pass Parse. A year
// already in the file is replaced only with replace; the same arrangement
// again is no change.
func Merge(data []byte, y Year, replace bool) ([]byte, bool, error) {
	if err := y.Check(); err != nil {
		return nil, false, err
	}
	var f fileJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if _, err := parse(data); err != nil {
		return nil, false, fmt.Errorf("calendar: %w", wrapBi(err, "要并入的日历文件：", "the file to merge into: "))
	}
	if err := dec.Decode(&f); err != nil { // parse has decoded it already
		return nil, false, fmt.Errorf("calendar: %w", jsonError(data, err))
	}
	yj := yearJSON{Source: y.Source, Work: []string{}}
	for _, r := range y.Off {
		yj.Off = append(yj.Off, rangeJSON{From: r.From.String(), To: r.To.String(), Name: r.Name})
	}
	for _, d := range y.Work {
		yj.Work = append(yj.Work, d.String())
	}
	key := strconv.Itoa(y.Year)
	if old, ok := f.Years[key]; ok {
		if sameYear(old, yj) {
			return data, false, nil
		}
		if !replace {
			return nil, false, &bilingual{ZH: fmt.Sprintf("%d 年已在文件中且安排不同，核对后用 --replace 替换", y.Year),
				EN: fmt.Sprintf("%d is in the file with a different arrangement; check it, then use --replace to replace it", y.Year), Err: ErrYearExists}
		}
	}
	f.Years[key] = yj
	out := format(f)
	if _, err := parse(out); err != nil {
		return nil, false, fmt.Errorf("calendar: %w", wrapBi(err, "合并后的文件：", "the merged file: "))
	}
	return out, true, nil
}

func sameYear(a, b yearJSON) bool {
	return slices.Equal(a.Off, b.Off) && slices.Equal(a.Work, b.Work)
}

// format writes the file as holidays.json is laid out: a range a line, the
// working days on one line, years in order.
func format(f fileJSON) []byte {
	var b bytes.Buffer
	b.WriteString("{\n")
	if f.Note != "" {
		fmt.Fprintf(&b, "  \"note\": %s,\n", jsonString(f.Note))
	}
	b.WriteString("  \"years\": {\n")
	keys := make([]string, 0, len(f.Years))
	for k := range f.Years {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		yd := f.Years[k]
		fmt.Fprintf(&b, "    %s: {\n", jsonString(k))
		if yd.Source != "" {
			fmt.Fprintf(&b, "      \"source\": %s,\n", jsonString(yd.Source))
		}
		b.WriteString("      \"off\": [\n")
		for j, r := range yd.Off {
			fmt.Fprintf(&b, "        {\"from\": %s, \"to\": %s", jsonString(r.From), jsonString(r.To))
			if r.Name != "" {
				fmt.Fprintf(&b, ", \"name\": %s", jsonString(r.Name))
			}
			b.WriteString("}")
			if j < len(yd.Off)-1 {
				b.WriteString(",")
			}
			b.WriteString("\n")
		}
		b.WriteString("      ],\n")
		work := make([]string, len(yd.Work))
		for j, w := range yd.Work {
			work[j] = jsonString(w)
		}
		fmt.Fprintf(&b, "      \"work\": [%s]\n", strings.Join(work, ", "))
		b.WriteString("    }")
		if i < len(keys)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("  }\n}\n")
	return b.Bytes()
}

func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// YearInfo is what Inspect reports of one year of a data file.
type YearInfo struct {
	Year        int
	Source      string
	OffDays     int
	WorkDays    int
	Problems    Problems // the import checks, for years from RuleFrom on
	Provisional bool     // not in the file: answered by the statutory rule
}

// Inspect parses a holiday data file strictly and runs the import checks
// on each of its years from RuleFrom on. It lists the covered years and,
// last, the provisional year after them. err is set only when the file
// does not parse; problems of a year are in its YearInfo.
func Inspect(data []byte) ([]YearInfo, error) {
	c, err := Parse(data)
	if err != nil {
		return nil, err
	}
	var f fileJSON
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, err
	}
	var out []YearInfo
	for _, year := range c.Years() {
		yd := f.Years[strconv.Itoa(year)]
		info := YearInfo{Year: year, Source: yd.Source, WorkDays: len(yd.Work)}
		y := Year{Year: year, Source: yd.Source}
		for _, r := range yd.Off {
			from, _ := civil.Parse(r.From)
			to, _ := civil.Parse(r.To)
			info.OffDays += daysBetween(from, to) + 1
			y.Off = append(y.Off, Range{From: from, To: to, Name: r.Name})
		}
		for _, w := range yd.Work {
			d, _ := civil.Parse(w)
			y.Work = append(y.Work, d)
		}
		if year >= RuleFrom {
			var ps Problems
			if errors.As(y.Check(), &ps) {
				info.Problems = ps
			}
		}
		out = append(out, info)
	}
	if next := c.Last() + 1; c.Provisional(next) {
		out = append(out, YearInfo{Year: next, Source: RuleSource, Provisional: true})
	}
	return out, nil
}
