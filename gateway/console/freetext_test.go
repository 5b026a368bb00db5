package console

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	c "onething/contracts"
)

// TestCaseDetailMasksFreeText: a department's reason and the applicant's
// withdrawal, written with ID and phone numbers and the applicant's name,
// show masked on the case page.
func TestCaseDetailMasksFreeText(t *testing.T) {
	r := newRig(t)
	clerk := r.signIn("luojiang", "pw-luojiang")
	status, _, loc := clerk.post("/console/intake", clerk.form("51170219850307123X"))
	if status != http.StatusSeeOther {
		t.Fatalf("intake: %d", status)
	}
	id := strings.TrimPrefix(strings.SplitN(loc, "?", 2)[0], "/console/cases/")
	ctx := context.Background()
	now := time.Now().UTC()
	for _, ev := range []c.DeptEvent{
		{EventID: "e1", TaskID: id + "-1", CaseNo: "CDPF-20261129-000001", Type: c.EventAccepted, OccurredAt: now},
		{EventID: "e2", TaskID: id + "-1", Type: c.EventSupplementRequired, OccurredAt: now.Add(time.Second),
			Reason: &c.Message{ZH: "请张志明本人携带身份证51170219850307123X到窗口，电话 0818-2212345", EN: "bring the ID card"}},
	} {
		if _, _, err := r.eng.ApplyEvent(ctx, c.DeptCDPF, &ev); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.eng.Withdraw(ctx, id, "w1", "本人张志明（身份证511702198002025569，电话13698765432）已迁居外地"); err != nil {
		t.Fatal(err)
	}
	_, page := clerk.get("/console/cases/" + id)
	for _, s := range []string{"51170219850307123X", "511702198002025569", "13698765432", "2212345", "张志明", "志明"} {
		if strings.Contains(page, s) {
			t.Errorf("the case page shows %q", s)
		}
	}
	for _, want := range []string{"本人张**（身份证51**************69，电话13*******32）已迁居外地", "请张**本人携带身份证51**************3X到窗口", "CDPF-20261129-000001"} {
		if !strings.Contains(page, want) {
			t.Errorf("the case page lacks %q", want)
		}
	}
}
