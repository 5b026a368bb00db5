package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	c "onething/contracts"
)

// sender posts signed submissions of the bundled example, each under its
// own portal reference and webhook id, as the portal would.
type sender struct {
	url    string
	wh     *standardwebhooks.Webhook
	client *http.Client
	before []byte // the body up to the portal reference
	after  []byte // and after it
	run    string
	seq    atomic.Int64
}

func newSender(baseURL, secret, run string, conns int) (*sender, error) {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return nil, err
	}
	raw, err := c.Example("submission-full.json")
	if err != nil {
		return nil, err
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	m["portalRef"] = "@@REF@@"
	body, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	before, after, ok := bytes.Cut(body, []byte("@@REF@@"))
	if !ok {
		return nil, fmt.Errorf("no portalRef in the example")
	}
	tr := &http.Transport{MaxIdleConns: conns * 2, MaxIdleConnsPerHost: conns * 2, MaxConnsPerHost: 0, IdleConnTimeout: time.Minute}
	return &sender{url: baseURL + "/v1/portal/submissions", wh: wh, client: &http.Client{Transport: tr, Timeout: 30 * time.Second},
		before: before, after: after, run: run}, nil
}

type acceptedResp struct {
	ApplicationID string `json:"applicationId"`
}

// send posts one submission; it returns the HTTP status and, if wantID,
// the application id of a 202 (reading it costs the load generator a JSON
// decode of the reply, which the phases that need no id skip: the load
// generator shares the cores with what it measures).
func (s *sender) send(ctx context.Context, wantID bool) (int, string, error) {
	n := s.seq.Add(1)
	ref := "BENCH-" + s.run + "-" + strconv.FormatInt(n, 10)
	body := make([]byte, 0, len(s.before)+len(ref)+len(s.after))
	body = append(append(append(body, s.before...), ref...), s.after...)
	id := "msg_" + s.run + "_" + strconv.FormatInt(n, 10)
	now := time.Now()
	sig, err := s.wh.Sign(id, now, body)
	if err != nil {
		return 0, "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(standardwebhooks.HeaderWebhookID, id)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var acc acceptedResp
	if wantID && resp.StatusCode == http.StatusAccepted {
		json.Unmarshal(data, &acc)
	}
	return resp.StatusCode, acc.ApplicationID, nil
}

// Load is one load phase's outcome.
type Load struct {
	Mode        string  `json:"mode"` // "saturation" (closed loop) or "fixed-rate" (open loop)
	Clients     int     `json:"clients,omitempty"`
	OfferedRate float64 `json:"offeredPerSec,omitempty"`
	Seconds     float64 `json:"seconds"`
	Sent        int     `json:"sent"`
	Accepted    int     `json:"accepted"`
	Failed      int     `json:"failed"`
	// Rate is accepted submissions per second.
	Rate float64 `json:"acceptedPerSec"`
	P50  float64 `json:"p50Ms"`
	P99  float64 `json:"p99Ms"`
	Max  float64 `json:"maxMs"`
	// Late is how many requests the open loop could not send on time
	// (every client busy): the offered rate was not met.
	Late int `json:"late,omitempty"`
	// CPU is the CPU time per accepted submission at saturation.
	CPU *CPUCost `json:"cpuPerRequest,omitempty"`
	// RedisForks is how many AOF rewrites or RDB saves Redis started (or
	// had running) during the measurement.
	RedisForks int64 `json:"redisForks,omitempty"`
}

type recorder struct {
	mu       sync.Mutex
	lat      []time.Duration
	sent     atomic.Int64
	accepted atomic.Int64
	failed   atomic.Int64
	late     atomic.Int64
	onAccept func(appID string, at time.Time)
	firstErr atomic.Value
}

func (r *recorder) record(status int, appID string, err error, lat time.Duration) {
	r.sent.Add(1)
	if err != nil || status != http.StatusAccepted {
		r.failed.Add(1)
		if err == nil {
			err = fmt.Errorf("HTTP %d", status)
		}
		r.firstErr.CompareAndSwap(nil, err.Error())
		return
	}
	r.accepted.Add(1)
	if r.onAccept != nil {
		r.onAccept(appID, time.Now())
	}
	r.mu.Lock()
	r.lat = append(r.lat, lat)
	r.mu.Unlock()
}

func (r *recorder) result(mode string, took time.Duration) Load {
	r.mu.Lock()
	lat := slices.Clone(r.lat)
	r.mu.Unlock()
	slices.Sort(lat)
	l := Load{Mode: mode, Seconds: took.Seconds(), Sent: int(r.sent.Load()), Accepted: int(r.accepted.Load()),
		Failed: int(r.failed.Load()), Late: int(r.late.Load())}
	if took > 0 {
		l.Rate = float64(l.Accepted) / took.Seconds()
	}
	l.P50, l.P99, l.Max = ms(pct(lat, 0.50)), ms(pct(lat, 0.99)), ms(pct(lat, 1))
	return l
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// pct is the q-quantile of sorted durations (nearest rank).
func pct(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// closedLoop keeps clients requests in flight, each client sending its
// next request as soon as the last is answered, for dur or until limit
// submissions are accepted (0: no limit): the saturation throughput.
func closedLoop(ctx context.Context, s *sender, clients int, dur time.Duration, limit int, prog *progress, onAccept func(string, time.Time)) (Load, error) {
	rec := &recorder{onAccept: onAccept}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	deadline := time.Now().Add(dur)
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && (dur == 0 || time.Now().Before(deadline)) {
				if limit > 0 && rec.accepted.Load() >= int64(limit) {
					return
				}
				t0 := time.Now()
				status, id, err := s.send(ctx, onAccept != nil)
				if ctx.Err() != nil {
					return
				}
				rec.record(status, id, err, time.Since(t0))
				prog.add(1)
				if f := rec.failed.Load(); f > 100 && f > rec.accepted.Load() {
					cancel() // the target is failing: stop, report
				}
			}
		}()
	}
	wg.Wait()
	l := rec.result("saturation", time.Since(start))
	l.Clients = clients
	return l, failure(rec)
}

// openLoop offers rate submissions per second for dur, whatever the
// answers (an open loop: a slow answer does not slow the offer down), with
// at most maxInFlight outstanding; latency is counted from when each
// request was due, so a backlog shows in it.
func openLoop(ctx context.Context, s *sender, rate float64, dur time.Duration, maxInFlight int, prog *progress) (Load, error) {
	rec := &recorder{}
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	start := time.Now()
	n := int(rate * dur.Seconds())
	interval := time.Duration(float64(time.Second) / rate)
	for i := 0; i < n && ctx.Err() == nil; i++ {
		due := start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		select {
		case sem <- struct{}{}:
		default:
			rec.late.Add(1)
			sem <- struct{}{}
		}
		wg.Add(1)
		go func(due time.Time) {
			defer func() { <-sem; wg.Done() }()
			status, id, err := s.send(ctx, false)
			rec.record(status, id, err, time.Since(due))
			prog.add(1)
		}(due)
	}
	wg.Wait()
	l := rec.result("fixed-rate", time.Since(start))
	l.OfferedRate = rate
	return l, failure(rec)
}

func failure(rec *recorder) error {
	if rec.accepted.Load() == 0 || rec.failed.Load() > rec.accepted.Load()/100 {
		if e, ok := rec.firstErr.Load().(string); ok {
			return fmt.Errorf("%d of %d submissions failed (first: %s)", rec.failed.Load(), rec.sent.Load(), e)
		}
	}
	return nil
}

// progress draws a progress bar on a terminal, a line every few seconds
// elsewhere.
type progress struct {
	w      io.Writer
	tty    bool
	phase  atomic.Value
	done   atomic.Int64
	total  atomic.Int64
	start  atomic.Int64
	stopCh chan struct{}
	wg     sync.WaitGroup
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, stopCh: make(chan struct{})}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	if w == nil {
		return p
	}
	p.wg.Add(1)
	go p.loop()
	return p
}

// begin starts a phase of total steps (0: unknown).
func (p *progress) begin(phase string, total int) {
	if p == nil {
		return
	}
	p.finishLine()
	p.phase.Store(phase)
	p.done.Store(0)
	p.total.Store(int64(total))
	p.start.Store(time.Now().UnixNano())
}

func (p *progress) add(n int) {
	if p != nil {
		p.done.Add(int64(n))
	}
}

func (p *progress) set(n, total int) {
	if p != nil {
		p.done.Store(int64(n))
		p.total.Store(int64(total))
	}
}

func (p *progress) line() string {
	phase, _ := p.phase.Load().(string)
	done, total := p.done.Load(), p.total.Load()
	el := time.Since(time.Unix(0, p.start.Load()))
	rate := float64(done) / max(el.Seconds(), 0.001)
	bar := ""
	if total > 0 {
		frac := min(float64(done)/float64(total), 1)
		filled := int(frac * 30)
		bar = fmt.Sprintf("[%s%s] %3.0f%% ", strings.Repeat("#", filled), strings.Repeat(".", 30-filled), frac*100)
	}
	return fmt.Sprintf("%-34s %s%d (%.0f/s) %s", phase, bar, done, rate, el.Round(time.Second))
}

func (p *progress) loop() {
	defer p.wg.Done()
	every := 200 * time.Millisecond
	if !p.tty {
		every = 5 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.stopCh:
			p.finishLine()
			return
		case <-t.C:
			if ph, _ := p.phase.Load().(string); ph == "" {
				continue
			}
			if p.tty {
				fmt.Fprintf(p.w, "\r\033[K%s", p.line())
			} else {
				fmt.Fprintln(p.w, p.line())
			}
		}
	}
}

func (p *progress) finishLine() {
	if p == nil || p.w == nil {
		return
	}
	if ph, _ := p.phase.Load().(string); ph != "" && p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s\n", p.line())
	}
}

// note prints a message between progress lines.
func (p *progress) note(format string, a ...any) {
	if p == nil || p.w == nil {
		return
	}
	p.finishLine()
	p.phase.Store("")
	fmt.Fprintf(p.w, format+"\n", a...)
}

func (p *progress) stop() {
	if p == nil || p.w == nil {
		return
	}
	close(p.stopCh)
	p.wg.Wait()
}
