package service

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"onething/gateway/retention"
	"onething/gateway/store"
)

// Days is a number of days in the configuration, written "180d" (Go
// durations have no day unit), or "0" (keep forever).
type Days int

// The retention settings' defaults and bounds.
const (
	// DefaultRetention keeps a final application's personal part half a
	// year after its retention starts.
	DefaultRetention Days = 180
	// DefaultAuditRetention keeps the audit log a year.
	DefaultAuditRetention Days = 365
	// MinAuditRetention is the floor of the audit retention: the
	// 网络安全法 (art. 21) asks for at least six months of logs.
	MinAuditRetention Days = 180
	// MaxDays bounds a retention: beyond a century, "0" says what is meant.
	MaxDays Days = 36500
)

// ParseDays reads "Nd" (N a whole number of days, 1 to MaxDays) or "0".
func ParseDays(s string) (Days, error) {
	bad := func(why string) (Days, error) {
		return 0, fmt.Errorf("%q: 须写成天数如 \"180d\"，或 \"0\" 表示永久保存（%s） / must be days such as \"180d\", or \"0\" to keep forever (%s)", s, why, whyEN[why])
	}
	if s == "0" {
		return 0, nil
	}
	num, ok := strings.CutSuffix(s, "d")
	if !ok {
		return bad("缺少单位 d")
	}
	if num == "" || strings.TrimLeft(num, "0123456789") != "" {
		return bad("不是正整数")
	}
	n, err := strconv.Atoi(num)
	if err != nil || n > int(MaxDays) {
		return bad("超过 36500 天")
	}
	if n == 0 {
		return bad("0d 含义不清")
	}
	return Days(n), nil
}

var whyEN = map[string]string{
	"缺少单位 d":     "the unit d is missing",
	"不是正整数":      "not a positive whole number",
	"超过 36500 天": "more than 36500 days",
	"0d 含义不清":    "0d is ambiguous: write \"0\" to keep forever",
}

// UnmarshalJSON takes "180d" or "0" (a string, or the number 0).
func (d *Days) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		if string(b) == "0" {
			*d = 0
			return nil
		}
		return fmt.Errorf("须写成天数如 \"180d\" / must be days written as a string such as \"180d\": %s", b)
	}
	v, err := ParseDays(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalJSON writes "180d", or "0".
func (d Days) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

func (d Days) String() string {
	if d == 0 {
		return "0"
	}
	return strconv.Itoa(int(d)) + "d"
}

// daysSettings are the settings written in days.
var daysSettings = []string{"retention", "auditRetention"}

// daysProblems adds an error, named by its key, for each setting in days
// of the document that does not read.
func daysProblems(root map[string]any, errs *[]error) {
	for _, k := range daysSettings {
		v, ok := root[k]
		if !ok {
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			continue
		}
		var d Days
		if err := d.UnmarshalJSON(b); err != nil {
			*errs = append(*errs, fmt.Errorf("%s: %w", k, err))
		}
	}
}

// RetentionDays is the configured retention of applications (the
// default when absent; 0: forever).
func (c Config) RetentionDays() Days {
	if c.Retention == nil {
		return DefaultRetention
	}
	return *c.Retention
}

// AuditRetentionDays is the configured retention of the audit log (the
// default when absent; 0: forever).
func (c Config) AuditRetentionDays() Days {
	if c.AuditRetention == nil {
		return DefaultAuditRetention
	}
	return *c.AuditRetention
}

// checkRetention is Check's part for the retention settings (their form
// is checked as they are read).
func checkRetention(cfg Config, bad func(string, ...any)) {
	if a := cfg.AuditRetentionDays(); a != 0 && a < MinAuditRetention {
		bad("auditRetention: %s 少于 %d 天，网络安全法要求日志至少保存六个月（\"0\" 为永久） / %s is below the floor of %d days: the Cybersecurity Law asks for at least six months of logs (\"0\" keeps them forever)",
			a, MinAuditRetention, a, MinAuditRetention)
	}
	if e := time.Duration(cfg.RetentionSweepEvery); e != 0 && e < MinRetentionSweepEvery {
		bad("retentionSweepEvery: %s 太短，至少 %s（不填为 %s） / is too short: at least %s (absent: %s)", e, MinRetentionSweepEvery, DefaultRetentionSweepEvery, MinRetentionSweepEvery, DefaultRetentionSweepEvery)
	} else if e > MaxRetentionSweepEvery {
		// The alert OnethingRetentionSweepStale fires after 8 hours without one.
		bad("retentionSweepEvery: %s 太长，至多 %s / is too long: at most %s (the alert OnethingRetentionSweepStale fires after 8h without a sweep)", e, MaxRetentionSweepEvery, MaxRetentionSweepEvery)
	}
}

// The retention sweep's pace: by default hourly, never more often than
// once a minute (each pass takes the store's lock and reads the list) nor
// less often than every 6 hours (the staleness alert's 8 hours).
const (
	DefaultRetentionSweepEvery = time.Hour
	MinRetentionSweepEvery     = time.Minute
	MaxRetentionSweepEvery     = 6 * time.Hour
)

// WithRetentionDefaults fills the retention settings left out with their
// defaults, as serve runs them: what `config check` prints.
func WithRetentionDefaults(cfg Config) Config {
	r, a := cfg.RetentionDays(), cfg.AuditRetentionDays()
	cfg.Retention, cfg.AuditRetention = &r, &a
	if cfg.RetentionSweepEvery == 0 {
		cfg.RetentionSweepEvery = Duration(DefaultRetentionSweepEvery)
	}
	return cfg
}

// runRetention starts the retention sweep: one pass at start, then every
// retentionSweepEvery, on the business clock.
func (s *Service) runRetention(ctx context.Context, wg *sync.WaitGroup) {
	sw := &retention.Sweeper{
		Store:          s.Store,
		Retention:      int(s.cfg.RetentionDays()),
		AuditRetention: time.Duration(s.cfg.AuditRetentionDays()) * 24 * time.Hour,
		Every:          time.Duration(WithRetentionDefaults(s.cfg).RetentionSweepEvery),
		Now:            s.Engine.Flow.Now,
		NewVersion:     s.Engine.ErasureVersion,
		Log:            s.log,
		OnError:        func(error) { s.taskFailed("retention", "error") },
		Erased:         func() { s.Metrics.Erased("retention") },
		OnPass: func(r retention.Result) {
			if !r.Skipped {
				s.Metrics.RetentionSwept(time.Now())
			}
		},
	}
	if _, ok := s.Store.(store.TaskLocker); !ok {
		s.log.Warn("the store cannot lock the retention sweep; it does not run", "store", fmt.Sprintf("%T", s.Store))
		return
	}
	s.goTask(ctx, wg, "retention", true, sw.Run)
}
