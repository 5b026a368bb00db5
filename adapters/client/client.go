// Package client is the one outbound HTTP client every adapter uses: resty
// for transport and short in-call retries (network errors, 5xx, 429 with
// Retry-After), a gobreaker circuit breaker per remote system, a timeout, an
// idempotency key on every request and the appKey request signature.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/go-resty/resty/v2"
	"github.com/sony/gobreaker/v2"

	"onething/contracts"
)

// Config describes one remote system.
type Config struct {
	Name    string // breaker and metric name, e.g. "cdpf"
	BaseURL string
	Timeout time.Duration // per attempt
	// AppKey and Secret sign requests (X-App-Key … X-Signature); an empty
	// Secret sends no signature headers.
	AppKey, Secret string
	// Retries is how many times one call is retried in place before the
	// failure goes back to the durable queue (0: default 2; negative: none);
	// RetryWait/RetryMaxWait bound
	// the jittered backoff between them.
	Retries                 int
	RetryWait, RetryMaxWait time.Duration
	// Breaker: trips when at least MinRequests calls in the rolling Window
	// saw a failure ratio of FailureRatio or more, or after
	// ConsecutiveFailures failures in a row (a system that is simply down
	// should not need a high ratio over a busy window); after OpenFor it
	// lets HalfOpenProbes calls through to test the system.
	MinRequests         uint32
	FailureRatio        float64
	ConsecutiveFailures uint32
	Window              time.Duration
	OpenFor             time.Duration
	HalfOpenProbes      uint32
	// OnBreakerChange is told of every breaker state change (metrics, logs).
	OnBreakerChange func(name string, from, to gobreaker.State)
	// Sign replaces the appKey signature when set (other schemes: see
	// NewSigner). It runs on every attempt and may replace the body (an
	// SM4-GCM envelope).
	Sign func(req *http.Request, body []byte) error
}

func (c *Config) defaults() {
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Retries == 0 {
		c.Retries = 2
	}
	if c.RetryWait == 0 {
		c.RetryWait = 100 * time.Millisecond
	}
	if c.RetryMaxWait == 0 {
		c.RetryMaxWait = 2 * time.Second
	}
	if c.MinRequests == 0 {
		c.MinRequests = 10
	}
	if c.FailureRatio == 0 {
		c.FailureRatio = 0.6
	}
	if c.ConsecutiveFailures == 0 {
		c.ConsecutiveFailures = 5
	}
	if c.Window == 0 {
		c.Window = 30 * time.Second
	}
	if c.OpenFor == 0 {
		c.OpenFor = 30 * time.Second
	}
	if c.HalfOpenProbes == 0 {
		c.HalfOpenProbes = 1
	}
}

// Client calls one remote system.
type Client struct {
	cfg     Config
	http    *resty.Client
	breaker *gobreaker.CircuitBreaker[*resty.Response]
	// streak counts the calls that failed in a row, however long ago the
	// first: the breaker's own count of them is kept in its rolling window,
	// and a system that hangs answers too few calls in a window to reach
	// ConsecutiveFailures (an outside tester saw 24 failures in a row at
	// one call per 15 s and a breaker still closed).
	streak atomic.Uint32
}

// Error is a failed call, classified for the caller's retry decision.
type Error struct {
	System string
	Status int // HTTP status, 0 for transport failures
	// Code and Message come from the remote's error body where it has one.
	Code    string
	Message string
	// Retryable is true for failures that may pass later (network, 5xx, 429,
	// open breaker); false for answers that mean "no" (other 4xx).
	Retryable bool
	// RetryAfter is when to try again, where the remote or breaker says so.
	RetryAfter  time.Duration
	BreakerOpen bool
	Err         error
}

func (e *Error) Error() string {
	switch {
	case e.BreakerOpen:
		return fmt.Sprintf("%s: circuit breaker open", e.System)
	case e.Status != 0:
		return fmt.Sprintf("%s: HTTP %d %s", e.System, e.Status, e.Code)
	default:
		return fmt.Sprintf("%s: %v", e.System, e.Err)
	}
}

func (e *Error) Unwrap() error { return e.Err }

// IsRetryable, RetryDelay and IsBreakerOpen tell the gateway's worker how
// to go on after a failed call.
func (e *Error) IsRetryable() bool         { return e.Retryable }
func (e *Error) RetryDelay() time.Duration { return e.RetryAfter }
func (e *Error) IsBreakerOpen() bool       { return e.BreakerOpen }

// idleConnsPerHost is how many kept-alive connections to its system a
// client keeps for reuse. resty's transport keeps GOMAXPROCS+1 (3 on two
// cores), fewer than the calls the workers make to one system at once
// (a quarter of them, 8 of the default 32, plus retries): every call past
// those dialled a new connection, which the system had to accept, and
// closed it after (net/http's dialConn was 2.4 % of the gateway's CPU end
// to end on bolt, docs/PROFILING.md, fourth round). One client talks to
// one system, so this bounds the idle connections to it.
const idleConnsPerHost = 64

// maxAnswerBytes bounds what is read of a remote system's answer. Every
// answer the contracts describe is a few kilobytes; one unbounded was read
// whole into memory, and an outside tester's department answering
// 1.2 GB took the gateway down at every start (the job due again at once,
// no attempt recorded), for every department and the portal alike.
const maxAnswerBytes = 1 << 20

// New builds the client for one remote system.
func New(cfg Config) *Client {
	cfg.defaults()
	r := resty.New().
		SetBaseURL(cfg.BaseURL).
		SetTimeout(cfg.Timeout).
		SetRetryCount(max(cfg.Retries, 0)).
		SetRetryWaitTime(cfg.RetryWait).
		SetRetryMaxWaitTime(cfg.RetryMaxWait).
		AddRetryCondition(func(resp *resty.Response, err error) bool {
			if resp != nil && resp.Request != nil && !contracts.MayResend(resp.Request.Context()) {
				return false // erased meanwhile: the durable queue decides what may go
			}
			if errors.Is(err, resty.ErrResponseBodyTooLarge) {
				return false // the next answer would be as large: one download an attempt
			}
			return err != nil || resp.StatusCode() >= 500 || resp.StatusCode() == http.StatusTooManyRequests
		}).
		SetRetryAfter(func(_ *resty.Client, resp *resty.Response) (time.Duration, error) {
			d := retryAfter(resp.Header())
			if d > cfg.RetryMaxWait {
				// Longer than we wait in a call: hand it to the durable queue.
				return 0, errRetryLater
			}
			return d, nil
		}).
		SetResponseBodyLimit(maxAnswerBytes).
		SetLogger(quiet{}).
		SetHeader("Content-Type", "application/json").
		SetHeader("Accept", "application/json")
	if tr, err := r.Transport(); err == nil {
		tr.MaxIdleConnsPerHost = idleConnsPerHost
	}
	c := &Client{cfg: cfg, http: r}
	// Asked again before each retry, not only when the retry is decided:
	// an erasure may come during the wait between two tries (outsider: a
	// full case request started 46 ms after the erasure's 200).
	r.OnBeforeRequest(func(_ *resty.Client, req *resty.Request) error {
		if req.Attempt > 1 && !contracts.MayResend(req.Context()) {
			return errNoResend
		}
		return nil
	})
	r.SetPreRequestHook(c.sign)
	// The window is at least as long as one call can take with its retries
	// in place (and a bucket more): the breaker drops the result of a call
	// that began before its window, so a system that hangs for longer than
	// the window was never counted as failing.
	window := max(cfg.Window, cfg.callBudget()*11/10)
	c.breaker = gobreaker.NewCircuitBreaker[*resty.Response](gobreaker.Settings{
		Name:         cfg.Name,
		MaxRequests:  cfg.HalfOpenProbes,
		Interval:     window,
		BucketPeriod: window / 10,
		Timeout:      cfg.OpenFor,
		ReadyToTrip: func(n gobreaker.Counts) bool {
			return c.streak.Load() >= cfg.ConsecutiveFailures ||
				n.Requests >= cfg.MinRequests && float64(n.TotalFailures)/float64(n.Requests) >= cfg.FailureRatio
		},
		// A "no" from a working system is not a failure of that system.
		IsSuccessful: func(err error) bool {
			var ce *Error
			return err == nil || errors.As(err, &ce) && !ce.Retryable
		},
		IsExcluded: func(err error) bool {
			return errors.Is(err, context.Canceled)
		},
		OnStateChange: func(name string, from, to gobreaker.State) {
			if cfg.OnBreakerChange != nil {
				cfg.OnBreakerChange(name, from, to)
			}
		},
	})
	return c
}

var errRetryLater = errors.New("remote asked to retry later")

// errNoResend ends a call whose request may not be sent again (the
// application erased meanwhile): the durable queue decides what follows.
var errNoResend = errors.New("not sent again: the application was erased meanwhile")

// traceparent is the W3C traceparent of one outbound call: a new span of
// the trace ctx carries (the inbound request's, or the application's for
// a worker's job), or of a new trace when ctx carries none.
func traceparent(ctx context.Context) string {
	if t, ok := contracts.TraceFrom(ctx); ok {
		return t.Child().String()
	}
	return contracts.NewTrace().String()
}

// quiet silences resty's own logging: the gateway logs failures itself,
// once, in its structured log and without request details.
type quiet struct{}

func (quiet) Errorf(string, ...any) {}
func (quiet) Warnf(string, ...any)  {}
func (quiet) Debugf(string, ...any) {}

// BreakerState is the breaker's current state, for health pages and metrics.
func (c *Client) BreakerState() gobreaker.State { return c.breaker.State() }

// BreakerCounts are the breaker's counts in its current window.
func (c *Client) BreakerCounts() gobreaker.Counts { return c.breaker.Counts() }

// Name is the remote system's name.
func (c *Client) Name() string { return c.cfg.Name }

// halfOpenWait is how long a call refused while the breaker's probes are
// under way is deferred: about when they will have decided.
const halfOpenWait = time.Second

// noteOutcome keeps the streak of calls failed in a row, judged as the
// breaker judges them (IsSuccessful, IsExcluded), before the breaker sees
// the outcome and asks ReadyToTrip.
func (c *Client) noteOutcome(err error) {
	var ce *Error
	switch {
	case errors.Is(err, context.Canceled):
	case err == nil || errors.As(err, &ce) && !ce.Retryable:
		c.streak.Store(0)
	default:
		c.streak.Add(1)
	}
}

// callBudget is the longest one call can take: every attempt to its
// timeout, with the longest wait between them.
func (c Config) callBudget() time.Duration {
	return time.Duration(max(c.Retries, 0)+1)*c.Timeout + time.Duration(max(c.Retries, 0))*c.RetryMaxWait
}

// CloseIdleConnections closes the connections kept open to the remote
// system between calls, once no more calls will be made (at shutdown):
// the remote's server then sees them end instead of waiting on them.
func (c *Client) CloseIdleConnections() { c.http.GetClient().CloseIdleConnections() }

// Do sends one JSON request and decodes a 2xx JSON answer into out. The
// idempotency key goes on every attempt, so the remote applies the effect
// once however often the call is retried.
func (c *Client) Do(ctx context.Context, method, path, idempotencyKey, requestID string, body, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return &Error{System: c.cfg.Name, Err: fmt.Errorf("encode request: %w", err)}
		}
	}
	resp, err := c.breaker.Execute(func() (*resty.Response, error) {
		req := c.http.R().SetContext(ctx)
		if idempotencyKey != "" {
			req.SetHeader(contracts.HeaderIdempotencyKey, idempotencyKey)
		}
		if requestID != "" {
			req.SetHeader(contracts.HeaderRequestID, requestID)
		}
		req.SetHeader(contracts.HeaderTraceparent, traceparent(ctx))
		if payload != nil {
			req.SetBody(payload)
		}
		// Each try's outcome, so that a call stopped before a retry (the
		// application erased meanwhile) reports the try that went out.
		var lastTry error
		req.AddRetryCondition(func(resp *resty.Response, err error) bool {
			if !errors.Is(err, errNoResend) { // asked for the stopped try too
				lastTry = c.classify(resp, err)
			}
			return false // the client's conditions decide
		})
		resp, err := req.Execute(method, path)
		if errors.Is(err, errNoResend) && lastTry != nil {
			resp, err = nil, lastTry
		} else {
			err = c.classify(resp, err)
		}
		c.noteOutcome(err)
		return resp, err
	})
	if err != nil {
		switch {
		case errors.Is(err, gobreaker.ErrOpenState):
			return &Error{System: c.cfg.Name, Retryable: true, BreakerOpen: true, RetryAfter: c.cfg.OpenFor, Err: err}
		case errors.Is(err, gobreaker.ErrTooManyRequests):
			// Half-open, its probes under way: they decide within a call,
			// and a system that recovered should not wait a whole rest
			// more for the work deferred meanwhile (an outside tester saw
			// 27 jobs wait 30 s after the breaker had closed).
			return &Error{System: c.cfg.Name, Retryable: true, BreakerOpen: true, RetryAfter: min(c.cfg.OpenFor, halfOpenWait), Err: err}
		}
		return err
	}
	if out != nil {
		if err := json.Unmarshal(resp.Body(), out); err != nil {
			// A 2xx the contract cannot read: the remote is broken, try later.
			return &Error{System: c.cfg.Name, Status: resp.StatusCode(), Code: "malformed_response", Retryable: true, Err: err}
		}
	}
	return nil
}

// classify turns a finished attempt into nil or an *Error.
func (c *Client) classify(resp *resty.Response, err error) error {
	if errors.Is(err, resty.ErrResponseBodyTooLarge) {
		// Retried like a malformed answer: each call uses an attempt, so
		// a system that keeps doing it ends as a dead letter to look at.
		status := 0
		if resp != nil {
			status = resp.StatusCode()
		}
		return &Error{System: c.cfg.Name, Status: status, Code: "response_too_large", Retryable: true,
			Err: fmt.Errorf("the answer is larger than %d bytes", maxAnswerBytes)}
	}
	if resp == nil || resp.RawResponse == nil {
		if err == nil {
			err = errors.New("no response")
		}
		// Our own cancellation (shutdown) says nothing about the remote.
		retry := !errors.Is(err, context.Canceled)
		return &Error{System: c.cfg.Name, Retryable: retry, Err: err}
	}
	status := resp.StatusCode()
	if status >= 200 && status < 300 {
		return nil
	}
	e := &Error{System: c.cfg.Name, Status: status}
	var body contracts.Error
	if json.Unmarshal(resp.Body(), &body) == nil {
		e.Code, e.Message = body.Code, body.MessageEn
	}
	switch {
	case status == http.StatusTooManyRequests || status >= 500:
		e.Retryable = true
		e.RetryAfter = retryAfter(resp.Header())
	case status == http.StatusRequestTimeout:
		e.Retryable = true
	}
	e.Err = fmt.Errorf("HTTP %d", status)
	return e
}

// retryAfter reads a Retry-After header (seconds or an HTTP date).
func retryAfter(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// sign adds the signature headers to each attempt (fresh timestamp and
// nonce every time, so a retried request is not refused as a replay).
func (c *Client) sign(_ *resty.Client, req *http.Request) error {
	var body []byte
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return err
		}
		body, err = io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	if c.cfg.Sign != nil {
		return c.cfg.Sign(req, body)
	}
	if c.cfg.Secret == "" {
		return nil
	}
	return signHMACSHA256(req, body, c.cfg.AppKey, c.cfg.Secret)
}

// OpenCase posts a case request to a department and returns its answer.
func (c *Client) OpenCase(ctx context.Context, path string, req contracts.CaseRequest, idempotencyKey, requestID string) (*contracts.CaseResponse, error) {
	var resp contracts.CaseResponse
	if err := c.Do(ctx, http.MethodPost, path, idempotencyKey, requestID, req, &resp); err != nil {
		return nil, err
	}
	if !contracts.WellFormedCaseNo(resp.CaseNo) || resp.Status == "" {
		return nil, &Error{System: c.cfg.Name, Code: "malformed_response", Retryable: true, Err: errors.New("case answer lacks a well-formed caseNo or status")}
	}
	return &resp, nil
}

// CaseBase fills the fields every department's case request carries.
func CaseBase(app *contracts.Application, task *contracts.Task, callbackURL string) contracts.CaseRequest {
	return contracts.CaseRequest{
		TaskID:        task.ID,
		ApplicationID: app.ID,
		Item:          task.Item,
		Channel:       app.Channel,
		ReceivedAt:    app.ReceivedAt,
		County:        contracts.TaskCounty(app, task),
		CallbackURL:   callbackURL,
	}
}

// AssistanceCase is the request of a subsidy department that decides from
// the assistance groups and the certificate the task rests on.
func AssistanceCase(app *contracts.Application, task *contracts.Task, callbackURL string) contracts.CaseRequest {
	req := CaseBase(app, task, callbackURL)
	req.Person = AssistancePerson(&app.Applicant)
	req.Certificate = task.Certificate
	return req
}

// AssistancePerson is the applicant as a subsidy department needs them:
// who they are, where registered, and which assistance groups they are in.
func AssistancePerson(a *contracts.Applicant) contracts.Person {
	return contracts.Person{
		Name:              a.Name,
		IDNumber:          a.IDNumber,
		HouseholdDivision: a.HouseholdDivision,
		Dibao:             a.Dibao,
		Tekun:             a.Tekun,
		Orphan:            a.Orphan,
	}
}

// Mapper turns a task into one department's case request.
type Mapper func(app *contracts.Application, task *contracts.Task, callbackURL string) contracts.CaseRequest

// CaseAdapter is a department adapter: its mapping over the shared client.
type CaseAdapter struct {
	c            *Client
	path         string
	callbackPath string
	mapper       Mapper
}

// NewCaseAdapter builds the adapter of one department. callbackPath is
// the gateway's path the department posts its events to; "": the
// department is not given a callback URL (it is polled).
func NewCaseAdapter(c *Client, path, callbackPath string, m Mapper) *CaseAdapter {
	return &CaseAdapter{c: c, path: path, callbackPath: callbackPath, mapper: m}
}

// OpenCase sends a task to the department; its callbackUrl is
// callbackBase (the gateway's public base URL the dispatch was queued
// with) followed by the callback path.
func (a *CaseAdapter) OpenCase(ctx context.Context, app *contracts.Application, task *contracts.Task, callbackBase, key, requestID string) (*contracts.CaseResponse, error) {
	return a.c.OpenCase(ctx, a.path, a.mapper(app, task, a.CallbackURL(callbackBase)), key, requestID)
}

// CallbackURL is the callbackUrl a case request names on a base ("" when
// the department is not called back).
func (a *CaseAdapter) CallbackURL(base string) string {
	if a.callbackPath == "" {
		return ""
	}
	return base + a.callbackPath
}

// Supplement forwards an applicant's supplement to the department's case.
func (a *CaseAdapter) Supplement(ctx context.Context, task *contracts.Task, sub *contracts.SupplementRequest, key, requestID string) (*contracts.CaseResponse, error) {
	return a.follow(ctx, task, "/supplements", sub, key, requestID)
}

// Cancel tells the department the applicant withdrew.
func (a *CaseAdapter) Cancel(ctx context.Context, task *contracts.Task, req *contracts.CancelRequest, key, requestID string) (*contracts.CaseResponse, error) {
	return a.follow(ctx, task, "/cancel", req, key, requestID)
}

func (a *CaseAdapter) follow(ctx context.Context, task *contracts.Task, suffix string, body any, key, requestID string) (*contracts.CaseResponse, error) {
	var resp contracts.CaseResponse
	path := a.path + "/" + url.PathEscape(task.CaseNo) + suffix
	if err := a.c.Do(ctx, http.MethodPost, path, key, requestID, body, &resp); err != nil {
		return nil, err
	}
	if resp.Status == "" {
		return nil, &Error{System: a.c.cfg.Name, Code: "malformed_response", Retryable: true, Err: errors.New("answer lacks status")}
	}
	if resp.CaseNo == "" {
		resp.CaseNo = task.CaseNo
	}
	if !contracts.WellFormedCaseNo(resp.CaseNo) {
		return nil, &Error{System: a.c.cfg.Name, Code: "malformed_response", Retryable: true, Err: errors.New("answer's caseNo is blank or padded")}
	}
	return &resp, nil
}

// Poll reads the department's case with its events, for departments that
// do not call back (or as a fallback when callbacks go missing).
func (a *CaseAdapter) Poll(ctx context.Context, task *contracts.Task, requestID string) (*contracts.CaseView, error) {
	var view contracts.CaseView
	if err := a.c.Do(ctx, http.MethodGet, a.path+"/"+url.PathEscape(task.CaseNo), "", requestID, nil, &view); err != nil {
		return nil, err
	}
	return &view, nil
}

// Client is the transport under the adapter (breaker state, name).
func (a *CaseAdapter) Client() *Client { return a.c }
