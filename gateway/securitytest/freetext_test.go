package securitytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	c "onething/contracts"
	"onething/gateway/devstack"
	"onething/gateway/service"
	"onething/mocks"
)

// pushTap keeps the raw bodies the gateway posts to the mock portal.
type pushTap struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (p *pushTap) wrap(name string, h http.Handler) http.Handler {
	if name != "portal" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			b, _ := io.ReadAll(r.Body)
			p.mu.Lock()
			p.bodies = append(p.bodies, b)
			p.mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		h.ServeHTTP(w, r)
	})
}

func (p *pushTap) all() [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([][]byte(nil), p.bodies...)
}

// TestFreeTextMaskedEndToEnd: the applicant's and cdpf's free text, full of
// personal data (the issue's withdrawal reason, a supplement request and a
// refusal naming the applicant with phone and ID numbers, a supplement
// note), runs through the whole chain. The masked views, the replies and
// every push the portal received show none of it in the clear (the raw
// bytes are searched), nor does any log line; the audited full-record read
// shows all of it.
func TestFreeTextMaskedEndToEnd(t *testing.T) {
	const (
		idNumber  = "51170219850307123X" // the example applicant's
		name      = "张志明"
		mobile    = "13881801234"
		landline  = "0818-2212345"
		issueID   = "511702198002025569"
		issuePhon = "13698765432"
	)
	supplementAsk := "请" + name + "本人携带身份证" + idNumber + "原件到窗口，咨询电话" + landline
	refusal := "经评定未达到残疾标准；" + name + "如有异议请致电 136-9876-5432"
	note := name + "已补交照片，电话" + mobile + "，身份证" + idNumber
	withdrawal := "本人" + name + "（身份证" + issueID + "，电话" + issuePhon + "）已迁居外地，不再申请"
	secrets := []string{idNumber, idNumber[:17], issueID, issueID[:17], mobile, issuePhon, "9876-5432", "2212345", name, "志明"}

	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	tap := &pushTap{}
	st, err := devstack.Start(devstack.Options{
		Dir: t.TempDir(), Delay: 10 * time.Millisecond, Log: log, WrapMock: tap.wrap,
		CertScript: map[string]mocks.CertOutcome{idNumber: {Supplement: supplementAsk, Reject: refusal}},
		Tune: func(cfg *service.Config) {
			cfg.BaseBackoff, cfg.MaxBackoff = service.Duration(20*time.Millisecond), service.Duration(200*time.Millisecond)
			// Every state pushed, not one push per burst: the scan below
			// wants the intermediate states' texts too.
			atOnce := service.Duration(0)
			cfg.PushSettle = &atOnce
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	rec := &recorder{t: t}
	full, err := c.Example("submission-full.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(full, []byte(idNumber)) || !bytes.Contains(full, []byte(name)) || !bytes.Contains(full, []byte(mobile)) {
		t.Fatal("the example no longer holds the applicant this test plants")
	}
	submit := func(ref string) string {
		body := bytes.Replace(full, []byte("SCZW-FCZK-20261012-000318"), []byte(ref), 1)
		status, resp := rec.signed("submission "+ref, st, "/v1/portal/submissions", st.PortalSecret, "msg_"+ref, body)
		if status != http.StatusAccepted {
			t.Fatalf("submission %s: %d %s", ref, status, resp)
		}
		var acc c.SubmissionAccepted
		json.Unmarshal(resp, &acc)
		return acc.ApplicationID
	}
	view := func(id string) c.ApplicationView {
		_, body := rec.get("view", st.GatewayURL+"/v1/applications/"+id, st.ReadToken)
		var v c.ApplicationView
		json.Unmarshal(body, &v)
		return v
	}
	waitFor := func(id, what string, ok func(c.ApplicationView) bool) c.ApplicationView {
		deadline := time.Now().Add(60 * time.Second)
		for {
			if v := view(id); ok(v) {
				return v
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %s did not happen", id, what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	asked := func(v c.ApplicationView) bool {
		return len(v.Items) > 0 && v.Items[0].State == c.TaskSupplementRequired
	}

	// A: cdpf asks for a supplement; the applicant provides it with a
	// note; cdpf refuses; the rest runs to the end.
	a := submit("SCZW-FCZK-20261012-000901")
	waitFor(a, "the supplement request", asked)
	sub, _ := json.Marshal(c.SupplementSubmission{TaskID: a + "-1", Materials: []string{"photos"}, Note: note})
	if status, resp := rec.signed("supplement", st, "/v1/applications/"+a+"/supplements", st.PortalSecret, "msg_sup_a", sub); status != http.StatusAccepted {
		t.Fatalf("supplement: %d %s", status, resp)
	}
	// B: the applicant withdraws while cdpf waits for the supplement.
	b := submit("SCZW-FCZK-20261012-000902")
	waitFor(b, "the supplement request", asked)
	w, _ := json.Marshal(c.Withdrawal{Reason: withdrawal})
	if status, resp := rec.signed("withdrawal", st, "/v1/applications/"+b+"/withdraw", st.PortalSecret, "msg_wd_b", w); status != http.StatusOK {
		t.Fatalf("withdrawal: %d %s", status, resp)
	}
	pushed := func(id string, state c.AppState) func(c.ApplicationView) bool {
		return func(v c.ApplicationView) bool {
			p, ok := st.Portal.Latest(id)
			return v.Status.State == state && ok && p.Version == v.Version
		}
	}
	va := waitFor(a, "completion, pushed", pushed(a, c.AppCompleted))
	vb := waitFor(b, "withdrawal, pushed", pushed(b, c.AppWithdrawn))
	if va.Items[0].State != c.TaskRejected || vb.Items[0].State != c.TaskCancelled {
		t.Fatalf("A's certificate %s, B's %s", va.Items[0].State, vb.Items[0].State)
	}
	// The masked texts are there, readable.
	for what, v := range map[string]c.ApplicationView{"A": va, "B": vb} {
		raw, _ := json.Marshal(v)
		for _, want := range map[string][]string{
			"A": {"请张**本人携带身份证51**************3X原件到窗口，咨询电话08**-*****45", "如有异议请致电 13*-****-**32"},
			"B": {"本人张**（身份证51**************69，电话13*******32）已迁居外地，不再申请", "请张**本人携带身份证"},
		}[what] {
			if !bytes.Contains(raw, []byte(want)) {
				t.Errorf("%s's view lacks %q: %s", what, want, raw)
			}
		}
	}

	// The full records, audited, hold every text whole.
	for id, wants := range map[string][]string{a: {supplementAsk, refusal, note}, b: {supplementAsk, withdrawal}} {
		status, body := rec.get("full record", st.GatewayURL+"/v1/applications/"+id+"/record?reason="+url.QueryEscape("核对办件"), st.ReadToken)
		rec.all[len(rec.all)-1].fullRecord = true
		if status != http.StatusOK {
			t.Fatalf("full record: %d %s", status, body)
		}
		var r c.ApplicationRecord
		json.Unmarshal(body, &r)
		var texts strings.Builder
		for _, task := range r.Tasks {
			if task.Reason != nil {
				fmt.Fprintln(&texts, task.Reason.ZH)
			}
			if task.Supplement != nil {
				fmt.Fprintln(&texts, task.Supplement.What.ZH)
			}
			fmt.Fprintln(&texts, task.SupplementNote)
		}
		for _, e := range r.Timeline {
			if e.Note != nil {
				fmt.Fprintln(&texts, e.Note.ZH)
			}
		}
		for _, want := range wants {
			if !strings.Contains(texts.String(), want) {
				t.Errorf("the full record of %s lacks %q", id, want)
			}
		}
	}
	if err := st.Stop(); err != nil {
		t.Logf("stop: %v", err)
	}

	// The scan: pushes (raw), replies, logs.
	pushes := tap.all()
	if len(pushes) < 4 {
		t.Fatalf("only %d pushes reached the portal", len(pushes))
	}
	masked := 0
	for i, p := range pushes {
		for _, s := range secrets {
			if bytes.Contains(p, []byte(s)) {
				t.Errorf("push %d of %d shows %q: %.400s", i+1, len(pushes), s, p)
			}
		}
		if bytes.Contains(p, []byte("13*******32")) || bytes.Contains(p, []byte("08**-*****45")) {
			masked++
		}
	}
	if masked == 0 {
		t.Error("no push carried the masked free text: the scan proves nothing")
	}
	scanned := 0
	for _, ex := range rec.all {
		if ex.fullRecord {
			continue
		}
		scanned++
		for _, s := range secrets {
			if bytes.Contains(ex.body, []byte(s)) {
				t.Errorf("%s (%d) shows %q: %.400s", ex.what, ex.status, s, ex.body)
			}
		}
	}
	for i, line := range strings.Split(logs.String(), "\n") {
		for _, s := range secrets {
			if strings.Contains(line, s) {
				t.Errorf("log line %d shows %q: %s", i+1, s, line)
			}
		}
	}
	t.Logf("scanned %d pushes, %d replies, %d log bytes", len(pushes), scanned, len(logs.String()))
}
