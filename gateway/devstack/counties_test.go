package devstack_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	c "onething/contracts"
	"onething/gateway/devstack"
	"onething/mocks"
)

// countySubmission is the online holder of the examples registered in
// another county: household and address in division (9 digits).
func countySubmission(t *testing.T, division, city, county, ref string) []byte {
	t.Helper()
	body, err := c.Example("submission-holder-online.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	doc["portalRef"] = ref
	a := doc["applicant"].(map[string]any)
	a["householdDivision"] = division
	addr := a["address"].(map[string]any)
	addr["city"], addr["county"], addr["divisionCode"] = city, county, division
	addr["town"], addr["village"] = "某镇", "某村"
	delete(doc, "delivery")
	doc["delivery"] = map[string]any{"method": "pickup"}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func submitBody(t *testing.T, st *devstack.Stack, body []byte, msgID string) c.SubmissionAccepted {
	t.Helper()
	resp, err := devstack.PostSigned(st.GatewayURL+"/v1/portal/submissions", st.PortalSecret, msgID, body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("submission: %d %s", resp.StatusCode, b)
	}
	var acc c.SubmissionAccepted
	if err := json.Unmarshal(b, &acc); err != nil {
		t.Fatal(err)
	}
	return acc
}

func mockStats(t *testing.T, url string) mocks.Stats {
	t.Helper()
	resp, err := http.Get(url + "/_mock/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s mocks.Stats
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func itemOf(v c.ApplicationView, item c.ItemCode) (c.TaskBrief, bool) {
	for _, it := range v.Items {
		if it.Item == item {
			return it, true
		}
	}
	return c.TaskBrief{}, false
}

// waitFinal polls until every item of the given kinds is final.
func waitFinal(t *testing.T, st *devstack.Stack, hc *http.Client, id string, items ...c.ItemCode) c.ApplicationView {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		v := view(t, st, hc, id)
		done := true
		for _, item := range items {
			it, ok := itemOf(v, item)
			done = done && ok && it.State.Final()
		}
		if done {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("items %v not final: %+v", items, v.Items)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A 达川区 (511703) applicant's pension and medical items are handled by
// 达川区's systems: county 511703, approved, and the mocks say which
// county's system took them; 通川区's systems saw nothing of them.
func TestDachuanApplicantGoesToDachuanSystems(t *testing.T) {
	st, hc := start(t, 10*time.Millisecond)
	for _, d := range []c.Dept{c.DeptHRSS, c.DeptMedical} {
		if st.CountyMocks[d] == nil || len(st.CountyMocks[d].Codes()) != 6 {
			t.Fatalf("%s: the dev stack mocks six more counties", d)
		}
	}
	acc := submitBody(t, st, countySubmission(t, "511703101", "达州市", "达川区", "SCZW-FCZK-20261109-511703"), "msg_county_dachuan")
	v := waitFinal(t, st, hc, acc.ApplicationID, c.ItemPensionSubsidy, c.ItemMedicalSubsidy)
	for _, item := range []c.ItemCode{c.ItemPensionSubsidy, c.ItemMedicalSubsidy} {
		it, _ := itemOf(v, item)
		if it.County != "511703" || it.State != c.TaskApproved {
			t.Errorf("%s: county %q state %s (%v), want 511703 approved", item, it.County, it.State, it.Reason)
		}
		if it.CountyName == nil || !strings.Contains(it.CountyName.ZH, "达川区") {
			t.Errorf("%s: county name %v", item, it.CountyName)
		}
	}
	for _, d := range []c.Dept{c.DeptHRSS, c.DeptMedical} {
		root := mockStats(t, st.MockURLs[string(d)])
		if root.Counties["511703"] != 1 || root.Counties["511702"] != 0 {
			t.Errorf("%s mock counties %v, want 511703: 1", d, root.Counties)
		}
		if n := st.CountyMocks[d].County("511703").Stats().Cases; n != 1 {
			t.Errorf("%s: 达川区's system opened %d cases, want 1", d, n)
		}
		if n := st.Depts[d].Stats().Requests; n != 0 {
			t.Errorf("%s: 通川区's system got %d requests for a 达川区 applicant", d, n)
		}
		if one := mockStats(t, st.MockURLs[string(d)+":511703"]); one.Counties["511703"] != 1 {
			t.Errorf("%s /511703/_mock/stats: %v", d, one.Counties)
		}
	}
	// The breaker of each endpoint is its own.
	if _, ok := st.Service.BreakerStates()["hrss:511703"]; !ok {
		t.Errorf("no breaker for hrss:511703: %v", st.Service.BreakerStates())
	}
}

// A 成都市武侯区 (510107) applicant, with no Chengdu system configured:
// the per-county items are refused with a reason naming the county and
// saying where to apply; nothing reached any county's system.
func TestUnconfiguredCountyRefusedNothingSent(t *testing.T) {
	st, hc := start(t, 10*time.Millisecond)
	acc := submitBody(t, st, countySubmission(t, "510107001", "成都市", "武侯区", "SCZW-FCZK-20261109-510107"), "msg_county_chengdu")
	for _, item := range []c.ItemCode{c.ItemPensionSubsidy, c.ItemMedicalSubsidy} {
		var it c.TaskBrief
		for _, x := range acc.Items {
			if x.Item == item {
				it = x
			}
		}
		if it.State != c.TaskRejected || it.County != "510107" || it.Reason == nil {
			t.Fatalf("%s in the 202: %+v", item, it)
		}
		if !strings.Contains(it.Reason.ZH, "510107") || !strings.Contains(it.Reason.ZH, "申请") ||
			!strings.Contains(it.Reason.EN, "510107") || !strings.Contains(it.Reason.EN, "apply") {
			t.Errorf("%s reason does not name the county and where to apply: %+v", item, it.Reason)
		}
	}
	// The guide says the same before anyone submits.
	greq := `{"holdsCertificate":true,"certificate":{"category":4,"grade":2,"issuedOn":"2019-05-20","validFrom":"2019-05-20","validUntil":"2029-05-19"},` +
		`"householdDivision":"510107001","dibao":true,"tekun":false,"orphan":false,"minor":false,"premiumPaid":false,` +
		`"wants":{"twoSubsidies":false,"pension":true,"medical":true}}`
	req, _ := http.NewRequest(http.MethodPost, st.GatewayURL+"/v1/guide", strings.NewReader(greq))
	req.Header.Set("Authorization", "Bearer "+st.ReadToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var ans c.GuideAnswer
	json.NewDecoder(resp.Body).Decode(&ans)
	resp.Body.Close()
	found := 0
	for _, it := range ans.Items {
		if it.Dept == c.DeptHRSS || it.Dept == c.DeptMedical {
			found++
			if it.Eligible || it.Channel != "" || !strings.Contains(it.Why.ZH, "510107") {
				t.Errorf("guide for 510107: %s eligible %v channel %q why %q", it.Item, it.Eligible, it.Channel, it.Why.ZH)
			}
		}
	}
	if resp.StatusCode != http.StatusOK || found != 2 {
		t.Errorf("guide: %d, %d per-county items", resp.StatusCode, found)
	}
	// The national items still go (cdpf, civil); let them finish, then
	// check that no hrss or medical system heard of the applicant.
	v := waitFinal(t, st, hc, acc.ApplicationID, c.ItemPensionSubsidy, c.ItemMedicalSubsidy)
	for _, item := range []c.ItemCode{c.ItemPensionSubsidy, c.ItemMedicalSubsidy} {
		if it, _ := itemOf(v, item); it.State != c.TaskRejected || it.CaseNo != "" {
			t.Errorf("%s: %s case %q", item, it.State, it.CaseNo)
		}
	}
	time.Sleep(100 * time.Millisecond)
	for _, d := range []c.Dept{c.DeptHRSS, c.DeptMedical} {
		if s := mockStats(t, st.MockURLs[string(d)]); s.Requests != 0 || len(s.Counties) != 0 {
			t.Errorf("%s mocks received %d requests (%v) for an unconfigured county", d, s.Requests, s.Counties)
		}
	}
}

func taskEntries(v c.ApplicationView, taskID string) int {
	n := 0
	for _, e := range v.Timeline {
		if e.TaskID == taskID {
			n++
		}
	}
	return n
}

// Events per county: 达川区's hrss system may not report on a 通川区 task,
// nor 通川区's on a 达川区 task (403, the one error shape, nothing
// changes); a national platform's secret is no hrss secret either.
func TestCountyEventsOnlyForTheirCounty(t *testing.T) {
	st, hc := start(t, 10*time.Millisecond)
	dachuan := submitBody(t, st, countySubmission(t, "511703101", "达州市", "达川区", "SCZW-FCZK-20261109-703EV"), "msg_ev_703")
	tongchuan := submitBody(t, st, countySubmission(t, "511702003", "达州市", "通川区", "SCZW-FCZK-20261109-702EV"), "msg_ev_702")
	vd := waitFinal(t, st, hc, dachuan.ApplicationID, c.ItemPensionSubsidy)
	vt := waitFinal(t, st, hc, tongchuan.ApplicationID, c.ItemPensionSubsidy)
	pd, _ := itemOf(vd, c.ItemPensionSubsidy)
	pt, _ := itemOf(vt, c.ItemPensionSubsidy)
	if pd.County != "511703" || pt.County != "511702" {
		t.Fatalf("counties %s %s", pd.County, pt.County)
	}
	secret703 := ""
	for _, cd := range st.Config.CountyDepartments {
		if cd.Dept == c.DeptHRSS && cd.Counties[0] == "511703" {
			secret703 = cd.EventSecrets[0]
		}
	}
	secret702 := st.Config.Departments[c.DeptHRSS].EventSecrets[0]
	for i, tc := range []struct {
		secret string
		task   c.TaskBrief
		view   c.ApplicationView
	}{{secret703, pt, vt}, {secret702, pd, vd}} {
		ev := c.DeptEvent{EventID: fmt.Sprintf("HRSS-EVT-X-%d", i), TaskID: tc.task.TaskID, CaseNo: tc.task.CaseNo,
			Type: c.EventRejected, OccurredAt: time.Now(), Reason: &c.Message{ZH: "测试", EN: "test"}}
		body, _ := json.Marshal(ev)
		resp, err := devstack.PostSigned(st.GatewayURL+"/v1/departments/hrss/events", tc.secret, ev.EventID, body)
		if err != nil {
			t.Fatal(err)
		}
		var e c.Error
		json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || e.Code != "forbidden" || e.MessageEn == "" {
			t.Errorf("case %d: another county's event: %d %+v", i, resp.StatusCode, e)
		}
		// Nothing changed for the task (other items may move meanwhile).
		after := view(t, st, hc, tc.view.ApplicationID)
		if it, _ := itemOf(after, c.ItemPensionSubsidy); it.State != tc.task.State || !it.UpdatedAt.Equal(tc.task.UpdatedAt) {
			t.Errorf("case %d: the task changed: %s → %s", i, tc.task.State, it.State)
		}
		if n, m := taskEntries(tc.view, tc.task.TaskID), taskEntries(after, tc.task.TaskID); n != m {
			t.Errorf("case %d: the task's timeline grew from %d to %d entries", i, n, m)
		}
	}
	// The civil platform's secret does not sign for hrss at all.
	ev := c.DeptEvent{EventID: "HRSS-EVT-Y", TaskID: pd.TaskID, Type: c.EventRejected, OccurredAt: time.Now(), Reason: &c.Message{ZH: "测试", EN: "test"}}
	body, _ := json.Marshal(ev)
	resp, err := devstack.PostSigned(st.GatewayURL+"/v1/departments/hrss/events", st.Config.Departments[c.DeptCivil].EventSecrets[0], ev.EventID, body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("civil's secret on hrss events: %d", resp.StatusCode)
	}
}
