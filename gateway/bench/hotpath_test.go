package bench

import (
	"encoding/json"
	"net/http"
	"onething/civil"
	"strconv"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	c "onething/contracts"
	"onething/gateway/auth"
	"onething/gateway/calendar"
	"onething/gateway/workflow"
)

// The hot paths of intake and of every change, one at a time:
//
//	go test -run '^$' -bench . -benchmem ./gateway/bench/
//
// (store writes: go test -run '^$' -bench Store ./gateway/store/).

func example(b *testing.B) ([]byte, *c.Submission) {
	raw, err := c.Example("submission-full.json")
	if err != nil {
		b.Fatal(err)
	}
	var sub c.Submission
	if err := json.Unmarshal(raw, &sub); err != nil {
		b.Fatal(err)
	}
	return raw, &sub
}

// BenchmarkDecodeSubmission: the body into the canonical type.
func BenchmarkDecodeSubmission(b *testing.B) {
	raw, _ := example(b)
	for b.Loop() {
		var sub c.Submission
		if err := json.Unmarshal(raw, &sub); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidate: every field of the main example (ID number checksum,
// division codes, certificate, the channel rule …).
func BenchmarkValidate(b *testing.B) {
	_, sub := example(b)
	today := civil.Today(nil)
	for b.Loop() {
		if p := sub.Validate(today); len(p) != 0 {
			b.Fatal(p)
		}
	}
}

// BenchmarkSignatureCheck: the Standard Webhooks signature of a submission
// as intake verifies it (two secrets configured, as during a rotation).
func BenchmarkSignatureCheck(b *testing.B) {
	raw, _ := example(b)
	secret, other := newSecret(), newSecret()
	v, err := auth.NewWebhookVerifier([]string{other, secret})
	if err != nil {
		b.Fatal(err)
	}
	wh, _ := standardwebhooks.NewWebhook(secret)
	now := time.Now()
	sig, err := wh.Sign("msg_bench", now, raw)
	if err != nil {
		b.Fatal(err)
	}
	h := http.Header{}
	h.Set(standardwebhooks.HeaderWebhookID, "msg_bench")
	h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
	h.Set(standardwebhooks.HeaderWebhookSignature, sig)
	for b.Loop() {
		if err := v.Verify(raw, h); err != nil {
			b.Fatal(err)
		}
	}
}

func newApp(sub *c.Submission) *c.Application {
	return &c.Application{ID: "01BENCH", PortalRef: sub.PortalRef, Channel: sub.Channel, ReceivedAt: time.Now().UTC(),
		Applicant: sub.Applicant, Requests: sub.Requests, Delivery: sub.Delivery, Version: 1}
}

// BenchmarkPlan: the tasks of the main example (five items, a certificate
// the subsidies wait for).
func BenchmarkPlan(b *testing.B) {
	_, sub := example(b)
	flow := workflow.New(calendar.Default())
	for b.Loop() {
		app := newApp(sub)
		if ready := flow.Plan(app); len(app.Tasks) != 5 || len(ready) == 0 {
			b.Fatal(len(app.Tasks), len(ready))
		}
	}
}

// BenchmarkStatus: the consolidated status and due dates (working days)
// recomputed, as after every change.
func BenchmarkStatus(b *testing.B) {
	_, sub := example(b)
	flow := workflow.New(calendar.Default())
	app := newApp(sub)
	flow.Plan(app)
	for b.Loop() {
		flow.Recompute(app)
	}
}

// BenchmarkView: GET /v1/applications/{id}'s body (status, masking, items).
func BenchmarkView(b *testing.B) {
	_, sub := example(b)
	flow := workflow.New(calendar.Default())
	app := newApp(sub)
	flow.Plan(app)
	for b.Loop() {
		v := flow.View(app)
		if _, err := json.Marshal(v); err != nil {
			b.Fatal(err)
		}
	}
}
