package mocks

import (
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Faults is what a mock department does wrong on purpose, so integrators
// and the chaos test can see the gateway ride through it. Rates are
// probabilities from 0 to 1. Set them with flags, or at run time:
//
//	GET  /_mock/faults                  the current faults
//	PUT  /_mock/faults                  replace them (JSON below)
//	POST /_mock/faults/outage?for=30s   full outage from now on, for a while
type Faults struct {
	// Latency is added to every answer; Jitter adds up to that much more.
	Latency Duration `json:"latency,omitempty"`
	Jitter  Duration `json:"jitter,omitempty"`
	// ErrorRate answers 500: half of them before applying the request, half
	// after (the effect happened but the answer is lost, as in real life).
	ErrorRate float64 `json:"errorRate,omitempty"`
	// TimeoutRate holds the request without answering for Hang (default
	// 30s), so the gateway's timeout fires.
	TimeoutRate float64  `json:"timeoutRate,omitempty"`
	Hang        Duration `json:"hang,omitempty"`
	// RateLimitRate answers 429 with Retry-After: RetryAfter seconds.
	RateLimitRate float64 `json:"rateLimitRate,omitempty"`
	RetryAfter    int     `json:"retryAfter,omitempty"`
	// MalformedRate answers 200 with a body that is not JSON.
	MalformedRate float64 `json:"malformedRate,omitempty"`
	// RefuseRate answers 422 to a case request, as a system that finds it
	// malformed would (the gateway parks the task as a dead letter).
	RefuseRate float64 `json:"refuseRate,omitempty"`
	// DownUntil: a full outage (503 to everything) until then.
	DownUntil time.Time `json:"downUntil,omitempty"`

	// Events: DuplicateRate posts an event twice; Shuffle posts a case's
	// events with random extra delays so they may overtake each other;
	// EventDelay makes every event late; NoCallbacks posts none at all
	// (the gateway must poll).
	DuplicateRate float64  `json:"duplicateRate,omitempty"`
	Shuffle       bool     `json:"shuffle,omitempty"`
	EventDelay    Duration `json:"eventDelay,omitempty"`
	NoCallbacks   bool     `json:"noCallbacks,omitempty"`
}

// Duration is a time.Duration written as in Go ("250ms", "30s") in JSON,
// so that faults are easy to type on a command line.
type Duration time.Duration

// MarshalJSON writes "250ms".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "250ms".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New(`a duration is a string such as "250ms"`)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Check refuses rates outside 0..1 and negative durations.
func (f Faults) Check() error {
	for name, r := range map[string]float64{"errorRate": f.ErrorRate, "timeoutRate": f.TimeoutRate, "rateLimitRate": f.RateLimitRate,
		"malformedRate": f.MalformedRate, "refuseRate": f.RefuseRate, "duplicateRate": f.DuplicateRate} {
		if r < 0 || r > 1 {
			return errors.New(name + " must be between 0 and 1")
		}
	}
	for name, d := range map[string]Duration{"latency": f.Latency, "jitter": f.Jitter, "hang": f.Hang, "eventDelay": f.EventDelay} {
		if d < 0 {
			return errors.New(name + " must not be negative")
		}
	}
	if f.RetryAfter < 0 {
		return errors.New("retryAfter must not be negative")
	}
	return nil
}

// faultState guards a department's faults and counts what they did.
type faultState struct {
	mu     sync.Mutex
	f      Faults
	counts map[string]int
}

func (s *faultState) get() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.f
}

func (s *faultState) set(f Faults) {
	s.mu.Lock()
	s.f = f
	s.mu.Unlock()
}

func (s *faultState) count(kind string) {
	s.mu.Lock()
	if s.counts == nil {
		s.counts = map[string]int{}
	}
	s.counts[kind]++
	s.mu.Unlock()
}

// Injected counts the faults injected so far, by kind.
func (d *Dept) Injected() map[string]int {
	d.faults.mu.Lock()
	defer d.faults.mu.Unlock()
	out := make(map[string]int, len(d.faults.counts))
	for k, v := range d.faults.counts {
		out[k] = v
	}
	return out
}

// SetFaults replaces the department's faults.
func (d *Dept) SetFaults(f Faults) { d.faults.set(f) }

// Outage takes the department fully down for a while, from now.
func (d *Dept) Outage(for_ time.Duration) {
	f := d.faults.get()
	f.DownUntil = time.Now().Add(for_)
	d.faults.set(f)
}

func roll(p float64) bool { return p > 0 && rand.Float64() < p }

// inject wraps the department API: outage, latency, 429, timeouts, errors
// and malformed bodies, as configured at the moment of the request.
func (d *Dept) inject(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := d.faults.get()
		if time.Now().Before(f.DownUntil) {
			d.faults.count("outage")
			writeError(w, http.StatusServiceUnavailable, "down_for_maintenance", "系统维护中", "down for maintenance")
			return
		}
		if wait := time.Duration(f.Latency) + time.Duration(rand.Int64N(int64(f.Jitter)+1)); wait > 0 {
			select {
			case <-time.After(wait):
			case <-r.Context().Done():
				return
			}
		}
		switch {
		case roll(f.RateLimitRate):
			d.faults.count("rate_limited")
			w.Header().Set("Retry-After", strconv.Itoa(max(f.RetryAfter, 0)))
			writeError(w, http.StatusTooManyRequests, "rate_limited", "请求过于频繁", "too many requests")
			return
		case roll(f.TimeoutRate):
			d.faults.count("timeout")
			hang := time.Duration(f.Hang)
			if hang == 0 {
				hang = 30 * time.Second
			}
			select {
			case <-time.After(hang):
			case <-r.Context().Done():
			case <-d.ctx.Done():
			}
			return
		case roll(f.ErrorRate):
			if rand.IntN(2) == 0 {
				d.faults.count("error_before")
				writeError(w, http.StatusInternalServerError, "internal_error", "系统内部错误", "internal error")
				return
			}
			// Apply the request, then lose the answer.
			d.faults.count("error_after")
			next.ServeHTTP(discard{}, r)
			writeError(w, http.StatusInternalServerError, "internal_error", "系统内部错误", "internal error")
			return
		case r.Method == http.MethodPost && roll(f.RefuseRate):
			d.faults.count("refused")
			writeError(w, http.StatusUnprocessableEntity, "invalid_request", "请求内容不符合接口规范", "request does not match the contract")
			return
		case roll(f.MalformedRate):
			d.faults.count("malformed")
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"caseNo": "oops`)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// discard is a ResponseWriter that drops the answer.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

// faultsAPI serves /_mock/faults.
func (d *Dept) faultsAPI(mux *http.ServeMux) {
	mux.HandleFunc("GET /_mock/faults", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"faults": d.faults.get(), "injected": d.Injected()})
	})
	mux.HandleFunc("PUT /_mock/faults", func(w http.ResponseWriter, r *http.Request) {
		var f Faults
		dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			writeError(w, http.StatusBadRequest, "malformed_json", "故障配置不是有效的 JSON", "faults must be JSON: "+err.Error())
			return
		}
		if err := f.Check(); err != nil {
			writeError(w, http.StatusBadRequest, "malformed_json", "故障配置取值超出范围", err.Error())
			return
		}
		d.faults.set(f)
		writeJSON(w, http.StatusOK, map[string]any{"faults": f})
	})
	mux.HandleFunc("POST /_mock/faults/outage", func(w http.ResponseWriter, r *http.Request) {
		dur, err := time.ParseDuration(r.URL.Query().Get("for"))
		if err != nil || dur <= 0 {
			writeError(w, http.StatusBadRequest, "bad_duration", "请用 ?for=30s 指定时长", "give the outage length as ?for=30s")
			return
		}
		d.Outage(dur)
		writeJSON(w, http.StatusOK, map[string]any{"faults": d.faults.get()})
	})
}

// eventFaults decides how one event is delivered: extra delay, twice, or
// not at all.
func (d *Dept) eventFaults() (extra time.Duration, twice, none bool) {
	f := d.faults.get()
	extra = time.Duration(f.EventDelay)
	if f.Shuffle {
		extra += time.Duration(rand.Int64N(int64(100*time.Millisecond) + 1))
	}
	if f.NoCallbacks {
		d.faults.count("no_callback")
		return extra, false, true
	}
	if roll(f.DuplicateRate) {
		d.faults.count("duplicate_event")
		twice = true
	}
	return extra, twice, false
}
