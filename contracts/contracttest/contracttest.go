// Package contracttest checks real HTTP traffic in tests against the OpenAPI
// documents in contracts/openapi: the gateway's tests wrap its handler, the
// adapters' tests wrap their client, the mocks' tests wrap the mock.
//
//	c := contracttest.New(t, "gateway")
//	srv := httptest.NewServer(c.Middleware(handler))
//	client := &http.Client{Transport: contracttest.New(t, "dept-cdpf").Transport(nil)}
//
// The checker checks shapes, not authentication: signatures and tokens are
// the server's business (openapi3filter.NoopAuthenticationFunc), but headers
// the document marks required (webhook-id, Idempotency-Key, X-Signature, …)
// must be there.
//
// A request that breaks the contract is acceptable only if the server refused
// it with a 4xx the operation declares: tests that send bad input on purpose
// (to see a 400, 401, 413, 415 or 422) pass, and a server that accepts what
// the contract forbids fails. StrictRequests turns that leniency off.
package contracttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"onething/contracts"
)

// The console's pages, stylesheet and script are text: check them as plain
// strings.
func init() {
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("text/css", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("text/javascript", openapi3filter.PlainBodyDecoder)
}

// Checker checks HTTP exchanges against one OpenAPI document.
type Checker struct {
	t      testing.TB
	spec   string
	router routers.Router
	strict bool
	ignore []string
}

// New returns a checker for the document spec ("gateway", "dept-cdpf",
// "dept-civil", "dept-hrss", "dept-medical", "mocks-admin", "portal-receiver"). It stops the
// test if the document does not load.
func New(t testing.TB, spec string) *Checker {
	t.Helper()
	doc, err := contracts.Spec(spec)
	if err != nil {
		t.Fatalf("contracttest: %v", err)
	}
	// The documents name relative servers; match requests to any host and
	// port (httptest servers listen on 127.0.0.1:<random>). The shared
	// document is not changed: the router gets a shallow copy.
	d := *doc
	d.Servers = nil
	router, err := gorillamux.NewRouter(&d)
	if err != nil {
		t.Fatalf("contracttest: router for %s: %v", spec, err)
	}
	return &Checker{t: t, spec: spec, router: router}
}

// StrictRequests makes every request that breaks the contract an error, even
// when the server refused it with a 4xx. Use it where the client under test
// must never send a bad request (adapters).
func (c *Checker) StrictRequests() *Checker {
	c.strict = true
	return c
}

// Ignore skips requests whose path starts with one of prefixes (e.g.
// "/console/"): surfaces the document does not describe. Any other request
// to an undocumented path or method is an error.
func (c *Checker) Ignore(prefixes ...string) *Checker {
	c.ignore = append(c.ignore, prefixes...)
	return c
}

// Check validates the request (path, parameters, required headers, body) and
// the response (status declared, headers, content type, body schema) against
// the document, and reports every problem with t.Errorf, naming the method,
// the path and the schema error. Bodies are passed in because they have been
// read already.
func (c *Checker) Check(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) {
	c.t.Helper()
	for _, p := range c.Problems(req, reqBody, resp, respBody) {
		c.t.Errorf("%s", p)
	}
}

// Problems is Check without the test: it returns the problems found, one
// message each, or nil when the exchange conforms.
func (c *Checker) Problems(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) []string {
	path := req.URL.Path
	for _, p := range c.ignore {
		if strings.HasPrefix(path, p) {
			return nil
		}
	}
	where := fmt.Sprintf("contract %s: %s %s", c.spec, req.Method, path)
	if resp == nil {
		return []string{where + ": no response"}
	}
	// The check may run as the server finishes the request: do not let a
	// cancelled request context cut it short.
	ctx := context.WithoutCancel(req.Context())

	route, pathParams, err := c.router.FindRoute(req)
	if err != nil {
		var rerr *routers.RouteError
		if errors.As(err, &rerr) {
			err = errors.New(rerr.Reason)
		}
		return []string{fmt.Sprintf("%s: not in %s.yaml: %v (answered %d)", where, c.spec, err, resp.StatusCode)}
	}
	where = fmt.Sprintf("contract %s: %s %s (%s)", c.spec, req.Method, path, route.Path)

	r := req.Clone(ctx)
	r.Body = io.NopCloser(bytes.NewReader(reqBody))
	r.ContentLength = int64(len(reqBody))
	opts := &openapi3filter.Options{
		AuthenticationFunc:      openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus:   true,
		MultiError:              true,
		SkipSettingDefaults:     true,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()},
	}
	in := &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: pathParams,
		Route:      route,
		Options:    opts,
	}

	var problems []string
	if reqErr := openapi3filter.ValidateRequest(ctx, in); reqErr != nil {
		refused := resp.StatusCode >= 400 && resp.StatusCode < 500
		switch {
		case c.strict:
			for _, m := range flatten(reqErr) {
				problems = append(problems, fmt.Sprintf("%s: request: %s", where, m))
			}
		case !refused:
			for _, m := range flatten(reqErr) {
				problems = append(problems, fmt.Sprintf("%s: request breaks the contract but was answered %d, not a 4xx: %s", where, resp.StatusCode, m))
			}
		}
	}

	header := resp.Header
	if header == nil {
		header = http.Header{}
	}
	rin := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 header,
		Options:                opts,
	}
	rin.SetBodyBytes(respBody)
	if respErr := openapi3filter.ValidateResponse(ctx, rin); respErr != nil {
		for _, m := range flatten(respErr) {
			problems = append(problems, fmt.Sprintf("%s: response %d: %s", where, resp.StatusCode, m))
		}
	}
	return problems
}

// flatten turns kin-openapi's nested errors into one line per problem.
func flatten(err error) []string {
	if me, ok := err.(openapi3.MultiError); ok {
		var out []string
		for _, e := range me {
			out = append(out, flatten(e)...)
		}
		return out
	}
	switch e := err.(type) {
	case *openapi3filter.RequestError:
		prefix := e.Reason
		switch {
		case e.Parameter != nil:
			prefix = fmt.Sprintf("%s parameter %q", e.Parameter.In, e.Parameter.Name)
			if e.Reason != "" && (e.Err == nil || e.Reason != e.Err.Error()) {
				prefix += ": " + e.Reason
			}
		case e.RequestBody != nil:
			prefix = "body"
			if e.Reason != "" && e.Reason != "doesn't match schema" {
				prefix += ": " + e.Reason
			}
		}
		return withPrefix(prefix, e.Err)
	case *openapi3filter.ResponseError:
		return withPrefix(e.Reason, e.Err)
	}
	return []string{oneLine(err.Error())}
}

func withPrefix(prefix string, inner error) []string {
	if inner == nil {
		return []string{oneLine(prefix)}
	}
	msgs := flatten(inner)
	if prefix == "" {
		return msgs
	}
	for i, m := range msgs {
		if m != prefix {
			msgs[i] = prefix + ": " + m
		}
	}
	return msgs
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// Transport returns an http.RoundTripper that checks every exchange going
// through it (next, or http.DefaultTransport when nil), for an http.Client in
// tests. The response body is read and handed on intact.
func (c *Checker) Transport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{c: c, next: next}
}

type transport struct {
	c    *Checker
	next http.RoundTripper
}

func (tr *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("contracttest: read request body: %w", err)
		}
		body = b
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		req.ContentLength = int64(len(body))
	}
	resp, err := tr.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	rb, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(rb))
	if err != nil {
		return nil, fmt.Errorf("contracttest: read response body: %w", err)
	}
	tr.c.Check(req, body, resp, rb)
	return resp, nil
}

// Middleware wraps a server handler so that every request it serves and
// every reply it writes is checked (for mocks and servers under test). The
// reply streams through unchanged; the check runs when the handler returns.
func (c *Checker) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		if r.Body != nil && r.Body != http.NoBody {
			b, err := io.ReadAll(r.Body)
			r.Body.Close()
			if err != nil {
				c.t.Errorf("contracttest: %s %s: read request body: %v", r.Method, r.URL.Path, err)
			}
			body = b
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		checked := r.Clone(r.Context())
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if !rec.wrote {
			rec.WriteHeader(http.StatusOK)
		}
		h := rec.header
		if h.Get("Content-Type") == "" && rec.body.Len() > 0 {
			// net/http sniffs a type for the client; check what it sees.
			h.Set("Content-Type", http.DetectContentType(rec.body.Bytes()))
		}
		resp := &http.Response{StatusCode: rec.status, Header: h, Request: checked}
		c.Check(checked, body, resp, rec.body.Bytes())
	})
}

// recorder passes a reply through while keeping a copy to check.
type recorder struct {
	http.ResponseWriter
	wrote  bool
	status int
	header http.Header // as sent with the status line
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if r.wrote {
		return
	}
	r.wrote = true
	r.status = code
	r.header = r.ResponseWriter.Header().Clone()
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.WriteHeader(http.StatusOK)
	}
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// Flush lets streaming handlers flush through the recorder.
func (r *recorder) Flush() {
	if !r.wrote {
		r.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(r.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
