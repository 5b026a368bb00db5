package console

import (
	"fmt"
	"html"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"time"

	"onething/civil"
	c "onething/contracts"
	"onething/gateway/engine"
	"onething/gateway/rules"
)

func (k *Console) deadLetters(w http.ResponseWriter, r *http.Request, req *request) {
	if !k.audit(w, r, req, c.AuditEntry{Action: c.AuditDeadLetters}) {
		return
	}
	list, err := k.cfg.Engine.DeadLetters(r.Context(), "")
	if err != nil {
		k.failPage(w, r, req, http.StatusServiceUnavailable, "暂时无法读取死信", "cannot read the dead letters now")
		return
	}
	p := k.base(r, req, "死信处理")
	rows := make([]deadLetterRow, 0, len(list))
	for _, dl := range list {
		county := ""
		if app, err := k.cfg.Engine.Store.Get(r.Context(), dl.ApplicationID); err == nil {
			if t := app.Task(dl.TaskID); t != nil {
				county = c.TaskCounty(app, t)
			}
		}
		kind, _, _ := strings.Cut(dl.JobID, ":")
		name, detail := c.DispatchErrorName(dl.LastError)
		row := deadLetterRow{DeadLetter: dl, Dept: p.M(c.DeptName(dl.Dept, county)), Job: p.M(c.JobKindName(kind)), Error: p.M(name), ErrorDetail: detail,
			Erased: strings.HasPrefix(dl.LastError, c.ErasedUnsettled)}
		if info, ok := c.Items[dl.Item]; ok {
			row.ItemName = p.M(info.Name)
		}
		rows = append(rows, row)
	}
	k.render(w, http.StatusOK, "deadletters", struct {
		page
		DeadLetters []deadLetterRow
	}{p, rows})
}

// deadLetterRow is a dead letter named for people: its office, item, job
// and error from the display table (the error's HTTP status, or the text
// of an error the table does not know, beside it).
type deadLetterRow struct {
	c.DeadLetter
	Dept, ItemName, Job, Error, ErrorDetail string
	// Erased: nothing may be sent for it; its button only clears it.
	Erased bool
}

func (k *Console) replay(w http.ResponseWriter, r *http.Request, req *request) {
	task := r.PathValue("task")
	e := c.AuditEntry{Action: c.AuditReplay, TaskID: task}
	if i := strings.LastIndexByte(task, '-'); i > 0 {
		e.ApplicationID = task[:i]
	}
	if !k.audit(w, r, req, e) {
		return
	}
	res, err := k.cfg.Engine.Replay(r.Context(), "", task)
	if err != nil && err != engine.ErrUnknownTask {
		k.failPage(w, r, req, http.StatusServiceUnavailable, "暂时无法重新发送", "cannot replay now")
		return
	}
	flash := "replayed"
	if err == engine.ErrUnknownTask {
		// Not parked any more: another replay took it first (outsider:
		// "部门已答复" shown when it had been queued again).
		flash = "gone"
	} else if len(res.Replayed) == 0 {
		flash = "nothing"
		if app, err := k.cfg.Engine.Store.Get(r.Context(), e.ApplicationID); err == nil && app.Erased != nil {
			flash = "erasedcleared" // not "answered": nothing may be sent for it
		}
	}
	http.Redirect(w, r, "/console/ops/dead-letters?flash="+flash, http.StatusSeeOther)
}

type breakerRow struct {
	Name, State, StateName, Rate string
	Requests, Failures           uint32
}

func (k *Console) health(w http.ResponseWriter, r *http.Request, req *request) {
	if !k.audit(w, r, req, c.AuditEntry{Action: c.AuditBreakers}) {
		return
	}
	p := k.base(r, req, "部门接口状态")
	var rows []breakerRow
	if k.cfg.Breakers != nil {
		for name, b := range k.cfg.Breakers() {
			rate := "—"
			if b.Requests > 0 {
				rate = fmt.Sprintf("%.1f%%", 100*float64(b.Failures)/float64(b.Requests))
			}
			rows = append(rows, breakerRow{Name: p.M(k.systemName(name)), State: b.State, StateName: p.M(c.BreakerStateName(b.State)),
				Requests: b.Requests, Failures: b.Failures, Rate: rate})
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
	q, _ := k.cfg.Engine.Store.QueueStats(r.Context())
	oldest := ""
	if !q.OldestDue.IsZero() {
		oldest = civil.Display(q.OldestDue)
	}
	k.render(w, http.StatusOK, "health", struct {
		page
		Breakers  []breakerRow
		Queue     any
		OldestDue string
	}{p, rows, q, oldest})
}

type durationRow struct {
	Name               c.Message
	Count              int
	Median, P90, Limit int
}

// percentile of sorted values (nearest rank).
func percentile(sorted []int, p float64) int {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// sla gathers the figures of the cases the person may see.
func (k *Console) sla(w http.ResponseWriter, r *http.Request, req *request) {
	p := k.base(r, req, "时效统计")
	byState := map[c.TaskState]int{}
	overdue := map[c.Dept]int{}
	days := map[c.ItemCode][]int{}
	var whole, materials, trips []int
	flow := k.cfg.Engine.Flow
	cal := k.cfg.Calendar
	if k.cfg.Applications != nil {
		k.cfg.Applications(r.Context(), func(app *c.Application) bool {
			if !sees(req.p, app) {
				return true
			}
			var last time.Time
			for _, t := range app.Tasks {
				byState[t.State]++
				if flow.Overdue(t) {
					overdue[t.Dept]++
				}
				if t.State.Final() && t.FinishedAt != nil {
					if t.FinishedAt.After(last) {
						last = *t.FinishedAt
					}
					if t.AcceptedAt != nil && cal != nil {
						if n, err := cal.WorkingDaysBetween(*t.AcceptedAt, *t.FinishedAt); err == nil {
							days[t.Item] = append(days[t.Item], n)
						}
					}
				}
			}
			flow.Recompute(app)
			if app.Status.State == c.AppCompleted && !last.IsZero() && cal != nil {
				if n, err := cal.WorkingDaysBetween(app.ReceivedAt, last); err == nil {
					whole = append(whole, n)
				}
				materials = append(materials, len(materialsOf(app)))
				if app.Channel == c.ChannelOnline {
					trips = append(trips, 0)
				} else {
					trips = append(trips, 1)
				}
			}
			return true
		})
	}
	var stateBars, overdueBars, durBars []bar
	for _, s := range []c.TaskState{c.TaskWaiting, c.TaskReady, c.TaskDispatched, c.TaskAccepted, c.TaskInProgress, c.TaskSupplementRequired, c.TaskApproved, c.TaskRejected, c.TaskCancelled, c.TaskDeadLetter} {
		stateBars = append(stateBars, bar{p.M(c.TaskStateName(s)), float64(byState[s]), ""})
	}
	for _, d := range c.Depts {
		overdueBars = append(overdueBars, bar{p.M(c.DeptName(d, "")), float64(overdue[d]), ""})
	}
	var rows []durationRow
	for _, code := range itemOrder {
		v := days[code]
		sort.Ints(v)
		info := c.Items[code]
		row := durationRow{Name: info.Name, Count: len(v), Median: percentile(v, 0.5), P90: percentile(v, 0.9), Limit: info.LimitDays}
		rows = append(rows, row)
		if len(v) > 0 {
			durBars = append(durBars, bar{p.T(info.Name.ZH, info.Name.EN), float64(row.P90), fmt.Sprintf("%d / %d", row.P90, row.Limit)})
		}
	}
	avg := func(v []int) string {
		if len(v) == 0 {
			return "—"
		}
		sum := 0
		for _, x := range v {
			sum += x
		}
		return fmt.Sprintf("%.1f", float64(sum)/float64(len(v)))
	}
	sort.Ints(whole)
	// The achieved figures, from the finished cases; the number of
	// 环节 is not something the gateway records, so it has none.
	achieved := map[string]string{"days": "—", "steps": "—", "materials": avg(materials), "trips": avg(trips)}
	if len(whole) > 0 {
		achieved["days"] = fmt.Sprintf("%s (P90 %d)", avg(whole), percentile(whole, 0.9))
	}
	var four []fourRow
	for _, t := range planTargets {
		four = append(four, fourRow{Name: p.M(t.Name), Before: t.Before, Target: t.Target, Achieved: achieved[t.Key]})
	}
	k.render(w, http.StatusOK, "sla", struct {
		page
		StateChart, OverdueChart, DurationChart template.HTML
		Durations                               []durationRow
		Four                                    []fourRow
		Finished                                int
	}{page: p, StateChart: barChart(p.T("事项状态分布", "Items by state"), stateBars), OverdueChart: barChart(p.T("各部门超期事项", "Overdue by department"), overdueBars),
		DurationChart: barChart(p.T("P90 办理工作日 / 法定时限", "P90 working days / legal limit"), durBars), Durations: rows, Four: four, Finished: len(whole)})
}

// planTargets are the "四减" of the district's implementation plan
// (通区民发〔2022〕50号, ../shared/DOMAIN.md): the figure before the reform
// and the plan's target. They are the plan's words, not measurements; the
// page labels them so, beside what the finished cases show.
var planTargets = []struct {
	Key            string
	Name           c.Message
	Before, Target int
}{
	{"days", c.Message{ZH: "办理时限（工作日）", EN: "Time limit (working days)"}, 60, c.WholeLimitDays},
	{"steps", c.Message{ZH: "环节数", EN: "Steps"}, 16, 13},
	{"materials", c.Message{ZH: "申报材料（份）", EN: "Materials"}, 14, 7},
	{"trips", c.Message{ZH: "跑动次数", EN: "Trips"}, 6, 1},
}

// fourRow is one of the "four reductions": the plan's figures and the
// achieved one ("—" where the data has none).
type fourRow struct {
	Name           string
	Before, Target int
	Achieved       string
}

type bar struct {
	Label string
	Value float64
	Note  string
}

// barChart draws a horizontal bar chart as inline SVG (server side, no
// script), with a text alternative for screen readers.
func barChart(title string, bars []bar) template.HTML {
	if len(bars) == 0 {
		return template.HTML("<p class=\"muted\">—</p>")
	}
	maxV := 1.0
	for _, b := range bars {
		maxV = max(maxV, b.Value)
	}
	// The label column fits the longest label (a CJK character is about
	// twice as wide as a Latin one at the chart's 13px), so none is clipped.
	const barW, rowH = 420, 26
	labelW, noteW := 40, 40
	for _, b := range bars {
		labelW = max(labelW, textWidth(b.Label)+16)
		noteW = max(noteW, textWidth(b.Note)+16)
	}
	hgt := len(bars)*rowH + 10
	var sb strings.Builder
	var alt []string
	fmt.Fprintf(&sb, `<svg role="img" aria-label="%s" width="%d" height="%d" viewBox="0 0 %d %d" xmlns="http://www.w3.org/2000/svg">`,
		html.EscapeString(title), labelW+barW+noteW, hgt, labelW+barW+noteW, hgt)
	for i, b := range bars {
		y := i*rowH + 5
		w := int(b.Value / maxV * barW)
		note := b.Note
		if note == "" {
			note = fmt.Sprintf("%g", b.Value)
		}
		fmt.Fprintf(&sb, `<text x="%d" y="%d" text-anchor="end">%s</text><rect x="%d" y="%d" width="%d" height="%d" fill="#0b5394"></rect><text x="%d" y="%d">%s</text>`,
			labelW-8, y+17, html.EscapeString(b.Label), labelW, y+3, max(w, 1), rowH-8, labelW+w+6, y+17, html.EscapeString(note))
		alt = append(alt, b.Label+": "+note)
	}
	sb.WriteString(`</svg><p class="muted">` + html.EscapeString(strings.Join(alt, "；")) + `</p>`)
	return template.HTML(sb.String())
}

// textWidth estimates the width in pixels of a text at 13px: CJK and
// full-width characters about 14px, others about 8px (generous, so the
// estimate errs towards room to spare).
func textWidth(s string) int {
	w := 0
	for _, r := range s {
		if r >= 0x2E80 {
			w += 14
		} else {
			w += 8
		}
	}
	return w
}

// systemName names a remote system for people: with its county's name
// where one county's cases go to it alone (the home system "hrss" serves
// 通川区: 通川区人社局), else as the table names it (区残联).
func (k *Console) systemName(system string) c.Message {
	dept, county, _ := strings.Cut(system, ":")
	if county != "" || k.cfg.Engine.SystemOf == nil {
		return c.SystemName(system)
	}
	only := ""
	for _, pk := range rules.Counties().Counties() {
		if k.cfg.Engine.SystemOf(c.Dept(dept), pk.Code) == system {
			if only != "" {
				return c.SystemName(system) // several counties: the district's name
			}
			only = pk.Code
		}
	}
	if only == "" {
		return c.SystemName(system)
	}
	return c.DeptName(c.Dept(dept), only)
}
