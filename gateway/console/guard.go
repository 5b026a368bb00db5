package console

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"sync"
	"time"

	"onething/gateway/auth"
)

// The console's front door: server-side sessions, sign-in throttling per
// account and per address, and a small pool for the bcrypt work.

const (
	// SessionLifetime is the longest a session lasts; IdleTimeout ends one
	// that was not used for that long.
	SessionLifetime = 8 * time.Hour
	IdleTimeout     = 30 * time.Minute
	// maxSessions bounds the session table (the oldest go first past it).
	maxSessions = 10_000

	// FailureWindow, FreeFailures: after FreeFailures failed sign-ins
	// within FailureWindow, an account (whatever address the attempts come
	// from) and an address (whatever account they name) wait before the
	// next attempt is even checked: FirstDelay after the 5th failure,
	// doubling with each further one, at most MaxDelay.
	FailureWindow = 15 * time.Minute
	FreeFailures  = 5
	FirstDelay    = 30 * time.Second
	MaxDelay      = 15 * time.Minute
	// maxThrottleKeys bounds the throttle's table.
	maxThrottleKeys = 20_000

	// BcryptSlots is how many password checks run at once; a sign-in that
	// finds none free within bcryptWait is answered 503 with Retry-After.
	BcryptSlots = 2
	bcryptWait  = 2 * time.Second
)

// sessionState is what the server keeps of a session: the cookie holds a
// random id only.
type sessionState struct {
	p    *auth.Principal
	csrf string
	// account and version: a password session ends when the account is
	// gone or its password hash changed (version is derived from it).
	account, version string
	// token: a session from the identity provider re-verifies it on every
	// request, so it ends when the token expires.
	token    string
	created  time.Time
	lastSeen time.Time
}

type sessions struct {
	mu sync.Mutex
	m  map[string]*sessionState // by SHA-256 of the cookie's id
}

func sessionKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

func (s *sessions) put(id string, st *sessionState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*sessionState{}
	}
	if len(s.m) >= maxSessions {
		var oldest string
		var at time.Time
		for k, v := range s.m {
			if oldest == "" || v.lastSeen.Before(at) {
				oldest, at = k, v.lastSeen
			}
		}
		delete(s.m, oldest)
	}
	s.m[sessionKey(id)] = st
}

// get returns the session of id if it is still live at now (and, when
// touch, marks it used: a page's own background refresh does not, or an
// open case page would keep an unattended workstation signed in); an
// ended one is forgotten.
func (s *sessions) get(id string, now time.Time, touch bool, live func(*sessionState) bool) *sessionState {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := sessionKey(id)
	st, ok := s.m[k]
	if !ok {
		return nil
	}
	if now.Sub(st.created) >= SessionLifetime || now.Sub(st.lastSeen) >= IdleTimeout || !live(st) {
		delete(s.m, k)
		return nil
	}
	if touch {
		st.lastSeen = now
	}
	return st
}

func (s *sessions) end(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, sessionKey(id))
}

// accountVersion is a per-account version derived from its password hash
// (keyed with the session key, so it says nothing about the hash).
func accountVersion(key []byte, a *Account) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(a.Username + "\x00" + a.PasswordHash + "\x00" + a.Role))
	for _, t := range a.Towns {
		m.Write([]byte("\x00" + t))
	}
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// throttle counts failed sign-ins per key ("account:NAME", "address:IP").
type throttle struct {
	mu sync.Mutex
	m  map[string]*failures
}

type failures struct {
	at    []time.Time // within FailureWindow
	until time.Time   // no attempt is checked before
}

func delayAfter(n int) time.Duration {
	if n < FreeFailures {
		return 0
	}
	d := FirstDelay
	for i := FreeFailures; i < n && d < MaxDelay; i++ {
		d *= 2
	}
	return min(d, MaxDelay)
}

// wait is how long the keys must still wait (the longest of them).
func (t *throttle) wait(now time.Time, keys ...string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	var w time.Duration
	for _, k := range keys {
		f, ok := t.m[k]
		if !ok && len(t.m) >= maxThrottleKeys {
			// A key that found the table full counted in the shared one:
			// filling the table with junk names buys no free guesses.
			f, ok = t.m["overflow"]
		}
		if ok && f.until.After(now) {
			w = max(w, f.until.Sub(now))
		}
	}
	return w
}

// fail records a failure of each key.
func (t *throttle) fail(now time.Time, keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]*failures{}
	}
	for _, k := range keys {
		f, ok := t.m[k]
		if !ok {
			if len(t.m) >= maxThrottleKeys {
				t.prune(now)
			}
			if len(t.m) >= maxThrottleKeys {
				k = "overflow" // one shared key past the bound
				if f, ok = t.m[k]; !ok {
					f = &failures{}
					t.m[k] = f
				}
			} else {
				f = &failures{}
				t.m[k] = f
			}
		}
		kept := f.at[:0]
		for _, at := range f.at {
			if now.Sub(at) < FailureWindow {
				kept = append(kept, at)
			}
		}
		f.at = append(kept, now)
		if d := delayAfter(len(f.at)); d > 0 {
			f.until = now.Add(d)
		}
	}
}

// succeed forgets an account's failures (not the address's: signing in
// to one's own account does not buy guesses at another's).
func (t *throttle) succeed(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, key)
}

func (t *throttle) prune(now time.Time) {
	for k, f := range t.m {
		if f.until.Before(now) && (len(f.at) == 0 || now.Sub(f.at[len(f.at)-1]) >= FailureWindow) {
			delete(t.m, k)
		}
	}
}

// pool bounds the bcrypt work running at once.
type pool chan struct{}

// acquire takes a slot, waiting at most bcryptWait.
func (p pool) acquire(ctx context.Context) bool {
	t := time.NewTimer(bcryptWait)
	defer t.Stop()
	select {
	case p <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

func (p pool) release() { <-p }

// remoteAddr is the request's peer address (without the port).
func remoteAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
