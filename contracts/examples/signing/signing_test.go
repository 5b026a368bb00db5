// Package signing_test runs the integrators' signing examples (Sign.java,
// sign.py, sign.mjs) against the dev stack: each signs and posts a
// submission, verifies a real status push (LF or CRLF header lines, and in
// Python and JavaScript as /_mock/pushes serves it) and a real
// appKey-signed request captured from the stack, and refuses tampered,
// stale and foreign ones.
package signing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	c "onething/contracts"
	"onething/gateway/devstack"
)

// example is one language's example and the command that runs it
// (command: the tool and file, or how the test runs it after the first time).
type example struct {
	lang, tool, file string
	command          []string
}

var examples = []example{{lang: "java", tool: "java", file: "Sign.java"}, {lang: "python", tool: "python3", file: "sign.py"},
	{lang: "javascript", tool: "node", file: "sign.mjs"}}

// captured is a request a mock received, as it came on the wire.
type captured struct {
	method, path string
	header       http.Header
	body         []byte
}

// wire keeps the pushes the mock portal and the requests the hrss mock received.
type wire struct {
	mu   sync.Mutex
	seen map[string][]captured
}

func (w *wire) wrap(name string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/_mock/") {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			w.mu.Lock()
			w.seen[name] = append(w.seen[name], captured{r.Method, r.URL.EscapedPath(), r.Header.Clone(), body})
			w.mu.Unlock()
		}
		h.ServeHTTP(rw, r)
	})
}

// await waits until a request to mock name satisfies ok and returns the
// newest that does (a wait on a state: the deadline only ends a hung run).
func (w *wire) await(t *testing.T, name string, ok func(captured) bool) captured {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		w.mu.Lock()
		for i := len(w.seen[name]) - 1; i >= 0; i-- {
			if r := w.seen[name][i]; ok(r) {
				w.mu.Unlock()
				return r
			}
		}
		w.mu.Unlock()
	}
	t.Fatalf("no matching request reached the %s mock", name)
	return captured{}
}

// writeMessage writes a request in the examples' file format: "METHOD
// PATH", one "Name: value" header a line, an empty line, the raw body.
func writeMessage(t *testing.T, r captured) string { return writeMessageEOL(t, r, "\n") }

// writeMessageEOL is writeMessage with the header part's lines ended by
// eol: "\r\n" is a request as received off the wire.
func writeMessageEOL(t *testing.T, r captured, eol string) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s%s", r.method, r.path, eol)
	for name, values := range r.header {
		fmt.Fprintf(&b, "%s: %s%s", name, strings.Join(values, " "), eol)
	}
	b.WriteString(eol)
	b.Write(r.body)
	return writeFile(t, "message.http", b.Bytes())
}

func writeFile(t *testing.T, name string, data []byte) string {
	file := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// mockPushes GETs the mock portal's /_mock/pushes as it serves it.
func mockPushes(t *testing.T, st *devstack.Stack) []byte {
	resp, err := http.Get(st.MockURLs["portal"] + "/_mock/pushes")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /_mock/pushes: %d %s", resp.StatusCode, body)
	}
	return body
}

// run runs an example and returns its exit status and output.
func run(t *testing.T, ex example, env []string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	command := ex.command
	if command == nil {
		command = []string{ex.tool, ex.file}
	}
	cmd := exec.CommandContext(ctx, command[0], append(command[1:], args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s %v: %v", ex.file, args, ctx.Err())
	}
	if exit, ok := err.(*exec.ExitError); ok {
		return exit.ExitCode(), string(out)
	} else if err != nil {
		t.Fatalf("%s %v: %v", ex.file, args, err)
	}
	return 0, string(out)
}

// signedPush signs body with the Go Standard Webhooks signer at time at,
// with one signature per secret (as during a rotation).
func signedPush(t *testing.T, body []byte, at time.Time, secrets ...string) captured {
	t.Helper()
	var sigs []string
	for _, s := range secrets {
		wh, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := wh.Sign("msg_go_signed", at, body)
		if err != nil {
			t.Fatal(err)
		}
		sigs = append(sigs, sig)
	}
	h := http.Header{}
	h.Set(standardwebhooks.HeaderWebhookID, "msg_go_signed")
	h.Set(standardwebhooks.HeaderWebhookTimestamp, fmt.Sprint(at.Unix()))
	h.Set(standardwebhooks.HeaderWebhookSignature, strings.Join(sigs, " "))
	return captured{http.MethodPost, "/onething/status", h, body}
}

// quickCommand is how the test runs an example after the first run, which
// ran it as integrators do: Sign.java compiled once (`java Sign.java`
// compiles on every run, seconds on a busy machine), python3 resolved once
// (a version manager's shim can take seconds a start).
func quickCommand(t *testing.T, ex example) []string {
	switch ex.tool {
	case "java":
		if _, err := exec.LookPath("javac"); err != nil {
			return nil
		}
		dir := t.TempDir()
		if out, err := exec.Command("javac", "-d", dir, ex.file).CombinedOutput(); err != nil {
			t.Fatalf("javac: %v\n%s", err, out)
		}
		return []string{"java", "-cp", dir, "Sign"}
	case "python3":
		out, err := exec.Command("python3", "-c", "import sys; print(sys.executable)").Output()
		if err != nil {
			t.Fatalf("python3: %v", err)
		}
		return []string{strings.TrimSpace(string(out)), ex.file}
	}
	return nil
}

func TestSigningExamples(t *testing.T) {
	wire := &wire{seen: map[string][]captured{}}
	st, err := devstack.Start(devstack.Options{
		Dir: t.TempDir(), Delay: 30 * time.Millisecond,
		Log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		WrapMock: wire.wrap,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Stop() })
	deptSecret := st.Config.Departments[c.DeptHRSS].Secret

	for _, ex := range examples {
		t.Run(ex.lang, func(t *testing.T) {
			if _, err := exec.LookPath(ex.tool); err != nil {
				if os.Getenv("CI") == "true" {
					t.Fatalf("%s is required in CI: %v", ex.tool, err)
				}
				t.Skipf("no %s: %v", ex.tool, err)
			}
			env := []string{"ONETHING_URL=" + st.GatewayURL, "ONETHING_PORTAL_SECRET=" + st.PortalSecret,
				"ONETHING_PUSH_SECRET=" + st.PushSecret, "ONETHING_DEPT_SECRET=" + deptSecret}

			// (1) A signed submission: 202, then visible with the read token.
			code, out := run(t, ex, env, "submit", "../submission-full.json")
			first, reply, _ := strings.Cut(out, "\n")
			var acc c.SubmissionAccepted
			if code != 0 || first != "HTTP 202" || json.Unmarshal([]byte(reply), &acc) != nil || acc.ApplicationID == "" {
				t.Fatalf("submit: exit %d\n%s", code, out)
			}
			req, _ := http.NewRequest(http.MethodGet, st.GatewayURL+"/v1/applications/"+acc.ApplicationID, nil)
			req.Header.Set("Authorization", "Bearer "+st.ReadToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var view c.ApplicationView
			json.NewDecoder(resp.Body).Decode(&view)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || view.ApplicationID != acc.ApplicationID || !strings.HasPrefix(view.PortalRef, "DEV-") {
				t.Fatalf("GET the submitted application: HTTP %d %+v", resp.StatusCode, view)
			}
			ex.command = quickCommand(t, ex)

			// (2) A real push of that application verifies; (3) altered ones are refused.
			push := wire.await(t, "portal", func(r captured) bool { return bytes.Contains(r.body, []byte(acc.ApplicationID)) })
			if code, out := run(t, ex, env, "verify", writeMessage(t, push)); code != 0 ||
				!strings.Contains(out, "push verified: ") || !strings.Contains(out, acc.ApplicationID) || !strings.Contains(out, "tampered push refused") {
				t.Errorf("verify a real push: exit %d\n%s", code, out)
			}
			tampered := push
			tampered.body = bytes.Replace(push.body, []byte(acc.ApplicationID), []byte(strings.ToLower(acc.ApplicationID)), 1)
			other := devstack.NewSecret()
			refuse := map[string]captured{
				"tampered body":    tampered,
				"stale timestamp":  signedPush(t, push.body, time.Now().Add(-c.SignatureTolerance-time.Minute), st.PushSecret),
				"future timestamp": signedPush(t, push.body, time.Now().Add(c.SignatureTolerance+time.Minute), st.PushSecret),
				"another secret":   signedPush(t, push.body, time.Now(), other),
			}
			for what, msg := range refuse {
				if code, out := run(t, ex, env, "verify", writeMessage(t, msg)); code == 0 || !strings.Contains(out, "push refused") {
					t.Errorf("%s: exit %d, want refused\n%s", what, code, out)
				}
			}
			// As received off the wire: CRLF ends the header lines (the body
			// stays byte for byte); a tampered body is still refused.
			if code, out := run(t, ex, env, "verify", writeMessageEOL(t, push, "\r\n")); code != 0 || !strings.Contains(out, "push verified: ") {
				t.Errorf("verify a real push with CRLF header lines: exit %d\n%s", code, out)
			}
			if code, out := run(t, ex, env, "verify", writeMessageEOL(t, tampered, "\r\n")); code == 0 || !strings.Contains(out, "push refused") {
				t.Errorf("a tampered push with CRLF header lines: exit %d, want refused\n%s", code, out)
			}
			// A body with CRLF inside is signed as it is: never rewritten.
			crlfBody := signedPush(t, []byte("{\r\n\"applicationId\": \"X\", \"version\": 1, \"status\": {\"state\": \"received\"}\r\n}\r\n"), time.Now(), st.PushSecret)
			if code, out := run(t, ex, env, "verify", writeMessageEOL(t, crlfBody, "\r\n")); code != 0 {
				t.Errorf("a push whose body has CRLF, CRLF header lines: exit %d\n%s", code, out)
			}
			// No Standard Webhooks headers: said so, not "bad signature".
			if code, out := run(t, ex, env, "verify", writeFile(t, "bare.http", append([]byte("POST /x\r\n\r\n"), push.body...))); code == 0 ||
				!strings.Contains(out, "no webhook-id, webhook-timestamp or webhook-signature header") {
				t.Errorf("a push without its headers: exit %d\n%s", code, out)
			}

			// A push as GET /_mock/pushes serves it: one entry, or the whole
			// reply (its newest push). Java reads the .http format only and says so.
			var report struct {
				Pushes []json.RawMessage `json:"pushes"`
			}
			whole := mockPushes(t, st)
			if err := json.Unmarshal(whole, &report); err != nil {
				t.Fatal(err)
			}
			var entry json.RawMessage
			for _, e := range report.Pushes {
				if bytes.Contains(e, []byte(acc.ApplicationID)) {
					entry = e
				}
			}
			if entry == nil {
				t.Fatalf("no push of %s in /_mock/pushes", acc.ApplicationID)
			}
			if ex.lang == "java" {
				if code, out := run(t, ex, env, "verify", writeFile(t, "push.json", entry)); code == 0 || !strings.Contains(out, "reads the .http format only") {
					t.Errorf("Java given a JSON push: exit %d, want a plain refusal\n%s", code, out)
				}
			} else {
				if code, out := run(t, ex, env, "verify", writeFile(t, "push.json", entry)); code != 0 || !strings.Contains(out, acc.ApplicationID) {
					t.Errorf("verify an entry of /_mock/pushes: exit %d\n%s", code, out)
				}
				if code, out := run(t, ex, env, "verify", writeFile(t, "pushes.json", whole)); code != 0 || !strings.Contains(out, "push verified: ") {
					t.Errorf("verify the newest of /_mock/pushes: exit %d\n%s", code, out)
				}
				// Saved by Notepad: a BOM before the JSON.
				if code, out := run(t, ex, env, "verify", writeFile(t, "bom.json", append([]byte("\xef\xbb\xbf"), entry...))); code != 0 || !strings.Contains(out, acc.ApplicationID) {
					t.Errorf("verify an entry saved with a BOM: exit %d\n%s", code, out)
				}
				// Without the secret in the environment: said, not a stack trace.
				var bare []string
				for _, kv := range env {
					if !strings.HasPrefix(kv, "ONETHING_PUSH_SECRET=") {
						bare = append(bare, kv)
					}
				}
				if code, out := run(t, ex, bare, "verify", writeFile(t, "push2.json", entry)); code == 0 || !strings.Contains(out, "ONETHING_PUSH_SECRET is not set") || strings.Contains(out, "Traceback") || strings.Contains(out, "    at ") {
					t.Errorf("verify without the push secret: exit %d\n%s", code, out)
				}
				if code, out := run(t, ex, env, "verify", writeFile(t, "none.json", []byte(`{"received":0,"pushes":[]}`))); code == 0 ||
					!strings.Contains(out, "no webhook-id, webhook-timestamp or webhook-signature header") {
					t.Errorf("an empty /_mock/pushes reply: exit %d, want refused as headerless\n%s", code, out)
				}
				forged := bytes.Replace(entry, []byte(acc.ApplicationID), []byte(strings.ToLower(acc.ApplicationID)), -1)
				if code, out := run(t, ex, env, "verify", writeFile(t, "forged.json", forged)); code == 0 || !strings.Contains(out, "push refused") {
					t.Errorf("a tampered entry of /_mock/pushes: exit %d, want refused\n%s", code, out)
				}
			}

			// During a rotation a push carries several signatures; one good one is enough.
			rotated := signedPush(t, push.body, time.Now(), other, st.PushSecret)
			if code, out := run(t, ex, env, "verify", writeMessage(t, rotated)); code != 0 {
				t.Errorf("two signatures, the second good: exit %d\n%s", code, out)
			}

			// A department system checks the gateway's appKey signature.
			call := wire.await(t, "hrss", func(r captured) bool { return r.header.Get(c.HeaderSignature) != "" })
			if code, out := run(t, ex, env, "verify-appkey", writeMessage(t, call)); code != 0 || !strings.Contains(out, "appKey signature verified: onething-hrss") {
				t.Errorf("verify-appkey on a real request: exit %d\n%s", code, out)
			}
			if code, out := run(t, ex, env, "verify-appkey", writeMessageEOL(t, call, "\r\n")); code != 0 || !strings.Contains(out, "appKey signature verified: onething-hrss") {
				t.Errorf("verify-appkey on a real request with CRLF header lines: exit %d\n%s", code, out)
			}
			call.body = append(bytes.Clone(call.body), ' ')
			if code, out := run(t, ex, env, "verify-appkey", writeMessage(t, call)); code == 0 {
				t.Errorf("verify-appkey on a tampered request: exit 0\n%s", out)
			}
		})
	}
}
