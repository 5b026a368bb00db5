package devstack_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	c "onething/contracts"
	"onething/gateway/devstack"
	"onething/mocks"
)

func item(v c.ApplicationView, code c.ItemCode) *c.TaskBrief {
	for i := range v.Items {
		if v.Items[i].Item == code {
			return &v.Items[i]
		}
	}
	return nil
}

// expect checks each item's final state; items not named must not exist.
func expect(t *testing.T, v c.ApplicationView, want map[c.ItemCode]c.TaskState) {
	t.Helper()
	if len(v.Items) != len(want) {
		t.Errorf("%d items, want %d: %+v", len(v.Items), len(want), v.Items)
	}
	for code, state := range want {
		it := item(v, code)
		if it == nil || it.State != state {
			t.Errorf("%s: %+v, want %s", code, it, state)
			continue
		}
		if state == c.TaskRejected && (it.Reason == nil || it.Reason.ZH == "" || it.Reason.EN == "") {
			t.Errorf("%s rejected without a bilingual reason", code)
		}
	}
}

func casesFor(st *devstack.Stack, d c.Dept, taskPrefix string) []string {
	var items []string
	for _, cs := range st.Depts[d].Cases() {
		if len(cs.Request.TaskID) > len(taskPrefix) && cs.Request.TaskID[:len(taskPrefix)] == taskPrefix {
			items = append(items, string(cs.Request.Item))
		}
	}
	return items
}

func milestones(it *c.TaskBrief) []string {
	var out []string
	for _, m := range it.Milestones {
		out = append(out, m.Kind)
	}
	return out
}

// postPortal sends a portal-signed request and decodes the reply.
func postPortal(t *testing.T, st *devstack.Stack, path, msgID string, body, out any) int {
	t.Helper()
	raw, _ := json.Marshal(body)
	resp, err := devstack.PostSigned(st.GatewayURL+path, st.PortalSecret, msgID, raw)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		json.Unmarshal(b, out)
	}
	return resp.StatusCode
}

// Every path of the seed through the bundled mocks, from the examples in
// contracts/examples (the mocks' script says what each person's
// assessment finds).
func TestSeedScenariosEndToEnd(t *testing.T) {
	st, hc := start(t, 20*time.Millisecond)

	t.Run("grade 3 mental: 三、四级护理补贴 (指南二(二))", func(t *testing.T) {
		acc := submitExample(t, st, hc, "submission-grade3-mental.json", "msg_g3")
		v, _ := waitCompleted(t, st, hc, acc.ApplicationID, 20*time.Second)
		expect(t, v, map[c.ItemCode]c.TaskState{c.ItemCertNew: c.TaskApproved, c.ItemSubsidyLiving: c.TaskRejected, c.ItemSubsidyNursing34: c.TaskApproved})
		if it := item(v, c.ItemCertNew); it.Certificate == nil || it.Certificate.Category != 6 || it.Certificate.Grade != 3 {
			t.Errorf("certificate %+v", it.Certificate)
		}
		if it := item(v, c.ItemSubsidyNursing34); it.Result == nil || it.Result.MonthlyAmount == 0 {
			t.Errorf("nursing34 result %+v", it.Result)
		}
		if got := casesFor(st, c.DeptCivil, acc.ApplicationID); len(got) != 1 || got[0] != string(c.ItemSubsidyNursing34) {
			t.Errorf("civil received %v, want only the nursing34 case (the living subsidy was refused before dispatch)", got)
		}
	})

	t.Run("holder renewing after 9 years (指南二(一)2(1))", func(t *testing.T) {
		acc := submitExample(t, st, hc, "submission-renew-expiry.json", "msg_renew")
		v, _ := waitCompleted(t, st, hc, acc.ApplicationID, 20*time.Second)
		expect(t, v, map[c.ItemCode]c.TaskState{c.ItemCertRenew: c.TaskApproved, c.ItemSubsidyLiving: c.TaskRejected,
			c.ItemSubsidyNursing: c.TaskApproved, c.ItemPensionSubsidy: c.TaskApproved})
		renew := item(v, c.ItemCertRenew)
		if len(renew.Milestones) != 0 {
			t.Errorf("no reassessment expected: %v", milestones(renew))
		}
		today := time.Now().Format(time.DateOnly)
		if renew.Certificate == nil || renew.Certificate.ValidFrom != renew.Certificate.IssuedOn || renew.Certificate.Grade != 2 || renew.Certificate.IssuedOn < today[:8] {
			t.Errorf("renewed certificate %+v: validity must start on the issue date", renew.Certificate)
		}
		if renew.DueDate == "" {
			t.Error("no due date for the renewal")
		}
	})

	t.Run("pre-2018 visual assessment renewal is reassessed (指南二(一)2(1))", func(t *testing.T) {
		acc := submitExample(t, st, hc, "submission-renew-visual.json", "msg_visual")
		v, _ := waitCompleted(t, st, hc, acc.ApplicationID, 20*time.Second)
		expect(t, v, map[c.ItemCode]c.TaskState{c.ItemCertRenew: c.TaskApproved, c.ItemSubsidyLiving: c.TaskApproved,
			c.ItemSubsidyNursing: c.TaskApproved, c.ItemPensionSubsidy: c.TaskApproved, c.ItemMedicalSubsidy: c.TaskApproved})
		renew := item(v, c.ItemCertRenew)
		if m := milestones(renew); len(m) != 2 || m[0] != "assessed" || m[1] != "publicised" {
			t.Errorf("milestones %v, want assessed and publicised", m)
		}
		if renew.Certificate == nil || renew.Certificate.Grade != 2 {
			t.Errorf("reassessed certificate %+v, want grade 2", renew.Certificate)
		}
		if it := item(v, c.ItemSubsidyNursing); it.Result == nil || it.Result.MonthlyAmount != 80 {
			t.Errorf("nursing for grade 2: %+v", it.Result)
		}
		if it := item(v, c.ItemMedicalSubsidy); it.Result == nil || it.Result.Note == nil || it.Result.Note.EN == "" {
			t.Errorf("premium already paid: %+v", it.Result)
		}
	})

	t.Run("a minor is assessed without publicity (指南二(一)1)", func(t *testing.T) {
		acc := submitExample(t, st, hc, "submission-minor.json", "msg_minor")
		v, _ := waitCompleted(t, st, hc, acc.ApplicationID, 20*time.Second)
		expect(t, v, map[c.ItemCode]c.TaskState{c.ItemCertNew: c.TaskApproved, c.ItemSubsidyLiving: c.TaskRejected, c.ItemSubsidyNursing34: c.TaskApproved})
		cert := item(v, c.ItemCertNew)
		if m := milestones(cert); len(m) != 1 || m[0] != "assessed" {
			t.Errorf("milestones %v, want only assessed", m)
		}
		if cert.DueDate == "" {
			t.Error("the clock did not start at the assessment")
		}
	})

	t.Run("an orphan's medical subsidy only (指南二(四))", func(t *testing.T) {
		acc := submitExample(t, st, hc, "submission-orphan-medical.json", "msg_orphan")
		v, _ := waitCompleted(t, st, hc, acc.ApplicationID, 20*time.Second)
		expect(t, v, map[c.ItemCode]c.TaskState{c.ItemMedicalSubsidy: c.TaskApproved})
	})

	t.Run("an ineligible request is refused with reasons and sent nowhere (指南二(二)(三))", func(t *testing.T) {
		acc := submitExample(t, st, hc, "submission-ineligible.json", "msg_inel")
		if acc.Status != c.AppCompleted {
			t.Errorf("202 status %s: every item was refused at once", acc.Status)
		}
		v, _ := waitCompleted(t, st, hc, acc.ApplicationID, 5*time.Second)
		expect(t, v, map[c.ItemCode]c.TaskState{c.ItemSubsidyLiving: c.TaskRejected, c.ItemSubsidyNursing: c.TaskRejected, c.ItemPensionSubsidy: c.TaskRejected})
		time.Sleep(100 * time.Millisecond)
		for _, d := range []c.Dept{c.DeptCivil, c.DeptHRSS} {
			if got := casesFor(st, d, acc.ApplicationID); len(got) != 0 {
				t.Errorf("%s received %v", d, got)
			}
		}
	})

	t.Run("a refused certificate refuses what depends on it", func(t *testing.T) {
		acc := submitExample(t, st, hc, "submission-cert-refused.json", "msg_refused")
		v, _ := waitCompleted(t, st, hc, acc.ApplicationID, 20*time.Second)
		expect(t, v, map[c.ItemCode]c.TaskState{c.ItemCertNew: c.TaskRejected, c.ItemSubsidyLiving: c.TaskRejected, c.ItemSubsidyNursing: c.TaskRejected, c.ItemPensionSubsidy: c.TaskApproved})
		if got := casesFor(st, c.DeptCivil, acc.ApplicationID); len(got) != 0 {
			t.Errorf("civil received %v", got)
		}
	})

	t.Run("supplement round trip (补正)", func(t *testing.T) {
		acc := submitExample(t, st, hc, "submission-supplement.json", "msg_sup")
		var cert *c.TaskBrief
		deadline := time.Now().Add(20 * time.Second)
		for {
			v := view(t, st, hc, acc.ApplicationID)
			if v.Status.State == c.AppSupplementRequired {
				cert = item(v, c.ItemCertNew)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no supplement request: %+v", v.Status)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if cert.State != c.TaskSupplementRequired || cert.Supplement == nil || cert.Supplement.What.ZH == "" || cert.Supplement.Where.ZH == "" {
			t.Fatalf("the status must say what and where: %+v", cert)
		}
		var bad c.Error
		if status := postPortal(t, st, "/v1/applications/"+acc.ApplicationID+"/supplements", "msg_sup_bad",
			c.SupplementSubmission{TaskID: item(view(t, st, hc, acc.ApplicationID), c.ItemMedicalSubsidy).TaskID, Materials: []string{"photos"}}, &bad); status != http.StatusConflict {
			t.Errorf("supplement for a task that asked none: %d %+v", status, bad)
		}
		var after c.ApplicationView
		if status := postPortal(t, st, "/v1/applications/"+acc.ApplicationID+"/supplements", "msg_sup_1",
			c.SupplementSubmission{TaskID: cert.TaskID, Materials: []string{"photos"}, Note: "已补交白底照片"}, &after); status != http.StatusAccepted {
			t.Fatalf("supplement: %d", status)
		}
		v, _ := waitCompleted(t, st, hc, acc.ApplicationID, 20*time.Second)
		// A 低保 recipient: the pension subsidy comes without application.
		expect(t, v, map[c.ItemCode]c.TaskState{c.ItemCertNew: c.TaskApproved, c.ItemMedicalSubsidy: c.TaskApproved, c.ItemPensionSubsidy: c.TaskApproved})
		if s := st.Depts[c.DeptCDPF].Stats(); s.Supplements < 1 {
			t.Errorf("cdpf took no supplement: %+v", s)
		}
	})

	t.Run("withdrawal cancels what is open and tells the departments", func(t *testing.T) {
		// A stack of its own whose cdpf asks this applicant for a
		// supplement and waits: the certificate case is still open at
		// cdpf when the withdrawal comes, however slow the machine. (On
		// the shared stack cdpf decided within some 100 ms, and on a busy
		// machine its decision could come first: it then stands, and
		// there is nothing to tell.)
		raw, err := c.Example("submission-full.json")
		if err != nil {
			t.Fatal(err)
		}
		var person struct {
			Applicant struct {
				IDNumber string `json:"idNumber"`
			} `json:"applicant"`
		}
		if err := json.Unmarshal(raw, &person); err != nil || person.Applicant.IDNumber == "" {
			t.Fatalf("the example's ID number: %v", err)
		}
		st, hc := startWith(t, devstack.Options{Delay: 20 * time.Millisecond,
			CertScript: map[string]mocks.CertOutcome{person.Applicant.IDNumber: {Supplement: "请补交近期白底免冠照片"}}})
		acc := submitExample(t, st, hc, "submission-full.json", "msg_wd")
		// Wait until cdpf holds the certificate case and hrss granted the
		// pension subsidy (a dibao recipient's comes at once).
		deadline := time.Now().Add(10 * time.Second)
		for v := view(t, st, hc, acc.ApplicationID); item(v, c.ItemCertNew).CaseNo == "" || item(v, c.ItemPensionSubsidy).State != c.TaskApproved; v = view(t, st, hc, acc.ApplicationID) {
			if time.Now().After(deadline) {
				t.Fatal("cdpf never took the case, or hrss never granted the pension subsidy")
			}
			time.Sleep(5 * time.Millisecond)
		}
		before := st.Depts[c.DeptCDPF].Stats().Cancelled
		var res c.WithdrawalResult
		if status := postPortal(t, st, "/v1/applications/"+acc.ApplicationID+"/withdraw", "msg_wd_1", c.Withdrawal{Reason: "申请人已迁出"}, &res); status != http.StatusOK {
			t.Fatalf("withdraw: %d", status)
		}
		if len(res.Cancelled) == 0 || res.Status != c.AppWithdrawn {
			t.Errorf("result %+v", res)
		}
		var again c.WithdrawalResult
		if status := postPortal(t, st, "/v1/applications/"+acc.ApplicationID+"/withdraw", "msg_wd_1", c.Withdrawal{Reason: "申请人已迁出"}, &again); status != http.StatusOK {
			t.Errorf("repeat of the same withdrawal: %d", status)
		}
		if status := postPortal(t, st, "/v1/applications/"+acc.ApplicationID+"/withdraw", "msg_wd_2", c.Withdrawal{}, nil); status != http.StatusConflict {
			t.Errorf("a new withdrawal of a finished case: %d, want 409", status)
		}
		deadline = time.Now().Add(10 * time.Second)
		for st.Depts[c.DeptCDPF].Stats().Cancelled == before {
			if time.Now().After(deadline) {
				t.Fatal("cdpf was never told of the withdrawal")
			}
			time.Sleep(5 * time.Millisecond)
		}
		v := view(t, st, hc, acc.ApplicationID)
		if it := item(v, c.ItemCertNew); it.State != c.TaskCancelled {
			t.Errorf("certificate task %s", it.State)
		}
		if v.Status.State != c.AppWithdrawn {
			t.Errorf("status %s, want withdrawn", v.Status.State)
		}
		// The item decided before the withdrawal keeps its state; the
		// application is withdrawn all the same.
		if it := item(v, c.ItemPensionSubsidy); it.State != c.TaskApproved || len(res.AlreadyFinal) == 0 {
			t.Errorf("pension subsidy approved before the withdrawal: now %s; already final %v", it.State, res.AlreadyFinal)
		}
		// The portal is told: its latest push says withdrawn.
		deadline = time.Now().Add(10 * time.Second)
		for {
			latest, ok := st.Portal.Latest(acc.ApplicationID)
			if ok && latest.Status.State == c.AppWithdrawn && latest.Version >= v.Version {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the portal never got the withdrawn status: %+v (version %d wanted)", latest.Status, v.Version)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})

	// Nothing was applied twice anywhere.
	for d, m := range st.Depts {
		for task, n := range m.Stats().Effects {
			if n != 1 {
				t.Errorf("%s applied task %s %d times", d, task, n)
			}
		}
	}
}

func TestGuideEndpoint(t *testing.T) {
	st, hc := start(t, 20*time.Millisecond)
	req := c.GuideRequest{HoldsCertificate: true, HouseholdDivision: "511702003", Dibao: true,
		Certificate: &c.GuideCertificate{Category: 4, Grade: 2, IssuedOn: "2019-05-20", ValidFrom: "2019-05-20", ValidUntil: "2029-05-19"},
		Wants:       c.GuideWants{TwoSubsidies: true, Pension: true, Medical: true}}
	raw, _ := json.Marshal(req)
	r, _ := http.NewRequest(http.MethodPost, st.GatewayURL+"/v1/guide", bytesReader(raw))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+st.ReadToken)
	resp, err := hc.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a c.GuideAnswer
	json.NewDecoder(resp.Body).Decode(&a)
	if resp.StatusCode != 200 || !a.Online.Offered || len(a.Items) != 4 || len(a.Materials) == 0 {
		t.Fatalf("%d %+v", resp.StatusCode, a)
	}
	req.HouseholdDivision = "999"
	raw, _ = json.Marshal(req)
	r, _ = http.NewRequest(http.MethodPost, st.GatewayURL+"/v1/guide", bytesReader(raw))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+st.ReadToken)
	resp2, err := hc.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("bad division: %d", resp2.StatusCode)
	}
}
