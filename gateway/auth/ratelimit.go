package auth

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimitConfig sets the per-caller token buckets. Authenticated callers
// are keyed by their principal's subject, anonymous requests (and requests
// whose credential failed) by remote address.
type RateLimitConfig struct {
	// PerSecond and Burst for each authenticated caller (defaults 200/s,
	// burst 1000).
	PerSecond float64 `json:"perSecond"`
	Burst     int     `json:"burst"`
	// AnonymousPerSecond and AnonymousBurst for each remote address without
	// a valid credential (defaults 50/s, burst 200).
	AnonymousPerSecond float64 `json:"anonymousPerSecond"`
	AnonymousBurst     int     `json:"anonymousBurst"`
	// MaxKeys bounds the buckets kept (default 10,000); past it, callers
	// without a bucket share one overflow bucket.
	MaxKeys int `json:"maxKeys"`
	// Disabled turns rate limiting off.
	Disabled bool `json:"disabled"`
}

// Defaults of RateLimitConfig: generous, so that the portal's and the
// departments' normal bursts (and the tests) are never throttled.
const (
	DefaultPerSecond          = 200
	DefaultBurst              = 1000
	DefaultAnonymousPerSecond = 50
	DefaultAnonymousBurst     = 200
	DefaultMaxKeys            = 10_000
)

func (c RateLimitConfig) withDefaults() RateLimitConfig {
	if c.PerSecond <= 0 {
		c.PerSecond = DefaultPerSecond
	}
	if c.Burst <= 0 {
		c.Burst = DefaultBurst
	}
	if c.AnonymousPerSecond <= 0 {
		c.AnonymousPerSecond = DefaultAnonymousPerSecond
	}
	if c.AnonymousBurst <= 0 {
		c.AnonymousBurst = DefaultAnonymousBurst
	}
	if c.MaxKeys <= 0 {
		c.MaxKeys = DefaultMaxKeys
	}
	return c
}

// RateLimiter holds one token bucket per key (golang.org/x/time/rate), in
// this replica's memory.
type RateLimiter struct {
	cfg RateLimitConfig
	now func() time.Time

	mu       sync.Mutex
	buckets  map[string]*rate.Limiter
	overflow *rate.Limiter
	swept    time.Time
}

// NewRateLimiter makes a limiter; zero fields take the defaults.
func NewRateLimiter(cfg RateLimitConfig) *RateLimiter {
	cfg = cfg.withDefaults()
	return &RateLimiter{cfg: cfg, now: time.Now, buckets: map[string]*rate.Limiter{},
		overflow: rate.NewLimiter(rate.Limit(cfg.AnonymousPerSecond), cfg.AnonymousBurst)}
}

// Allow takes one token from key's bucket (anonymous: the address bucket
// parameters). When there is none it returns false and how long until
// there is.
func (l *RateLimiter) Allow(key string, anonymous bool) (bool, time.Duration) {
	if l == nil || l.cfg.Disabled {
		return true, 0
	}
	now := l.now()
	lim := l.bucket(key, anonymous, now)
	r := lim.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Second
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

func (l *RateLimiter) bucket(key string, anonymous bool, now time.Time) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.buckets[key]; ok {
		return b
	}
	if len(l.buckets) >= l.cfg.MaxKeys {
		// A full bucket is the same as a new one: forget those (at most
		// once a second, so a flood of new keys costs no sweep each).
		if now.Sub(l.swept) >= time.Second {
			l.swept = now
			for k, b := range l.buckets {
				if b.TokensAt(now) >= float64(b.Burst()) {
					delete(l.buckets, k)
				}
			}
		}
		if len(l.buckets) >= l.cfg.MaxKeys {
			return l.overflow
		}
	}
	var b *rate.Limiter
	if anonymous {
		b = rate.NewLimiter(rate.Limit(l.cfg.AnonymousPerSecond), l.cfg.AnonymousBurst)
	} else {
		b = rate.NewLimiter(rate.Limit(l.cfg.PerSecond), l.cfg.Burst)
	}
	l.buckets[key] = b
	return b
}
