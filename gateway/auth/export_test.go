package auth

import "time"

func SetReplayClock(r *ReplayCache, now func() time.Time) { r.now = now }
func SetRateClock(l *RateLimiter, now func() time.Time)   { l.now = now }
