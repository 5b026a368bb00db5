package service

import (
	"fmt"
	"time"
)

// The status push's settle time (Config.PushSettle): by default 200 ms,
// long enough for a department's burst of answers (the case answers of
// several tasks, an accepted and an approved event) to go out as one
// push, short against the portal's wait; never more than 5 s, so that a
// status never lags far behind its application.
const (
	DefaultPushSettle = 200 * time.Millisecond
	MaxPushSettle     = 5 * time.Second
)

// PushSettleOrDefault is the settle time serve runs with: the configured
// one, or DefaultPushSettle when absent.
func (cfg Config) PushSettleOrDefault() time.Duration {
	if cfg.PushSettle == nil {
		return DefaultPushSettle
	}
	return time.Duration(*cfg.PushSettle)
}

// PushSettleProblem says what is wrong with pushSettle ("" when nothing):
// config check, start-up and `onething dev --push-settle`.
func PushSettleProblem(cfg Config) string { return pushSettleProblem(cfg) }

// pushSettleProblem says what is wrong with pushSettle ("" when nothing).
func pushSettleProblem(cfg Config) string {
	switch d := cfg.PushSettleOrDefault(); {
	case d < 0:
		return fmt.Sprintf("pushSettle: %s 不能为负（\"0\" 为立即推送） / must not be negative (\"0\" pushes at once)", d)
	case d > MaxPushSettle:
		return fmt.Sprintf("pushSettle: %s 太长，至多 %s（不填为 %s），否则省平台看到的状态滞后 / is too long: at most %s (absent: %s), or the portal's status lags behind",
			d, MaxPushSettle, DefaultPushSettle, MaxPushSettle, DefaultPushSettle)
	}
	return ""
}
