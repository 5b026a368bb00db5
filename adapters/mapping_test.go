// Package adapters_test checks what each department adapter sends: the
// fields of the task step and no more personal data than that department
// needs (PIPL data minimisation).
package adapters_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"onething/adapters/cdpf"
	"onething/adapters/civil"
	"onething/adapters/hrss"
	"onething/adapters/medical"
	c "onething/contracts"
)

func application() *c.Application {
	return &c.Application{
		ID: "APP", Channel: c.ChannelOffline, ReceivedAt: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC),
		Applicant: c.Applicant{
			Name: "张志明", IDNumber: "51170219850307123X", BirthDate: "1985-03-07", Ethnicity: "汉族", Mobile: "13881801234",
			Address:       c.Address{Province: "四川省", City: "达州市", County: "通川区", Town: "罗江镇", Village: "龙潭村"},
			HouseholdType: c.HouseholdAgricultural, HouseholdDivision: "511702102", Dibao: true,
			Guardian: &c.Guardian{Name: "张大山", Relation: "父亲", Phone: "13881800000"},
		},
		Requests: c.Requests{Certificate: &c.CertificateRequest{Business: c.ItemCertNew, RequestedCategory: 4},
			Medical: &c.MedicalRequest{Identity: "dibao"}},
		Delivery: c.Delivery{Method: "pickup"},
	}
}

var issued = &c.Certificate{Number: "51170219850307123X41", Category: 4, Grade: 1, IssuedOn: "2026-12-01", ValidFrom: "2026-12-01", ValidUntil: "2036-11-30"}

func TestEachDepartmentGetsOnlyWhatItNeeds(t *testing.T) {
	app := application()
	cases := []struct {
		dept    c.Dept
		req     c.CaseRequest
		has     []string // JSON that must be present
		hasNot  []string // personal data that must be absent
		section string
	}{
		{c.DeptCDPF, cdpf.Request(app, &c.Task{ID: "APP-1", Item: c.ItemCertNew}, "cb"),
			[]string{"13881801234", "龙潭村", "张大山", `"business"`, `"delivery"`}, nil, "business"},
		{c.DeptCivil, civil.Request(app, &c.Task{ID: "APP-2", Item: c.ItemSubsidyLiving, Certificate: issued}, "cb"),
			[]string{`"certificate"`, "51170219850307123X41", `"dibao":true`}, []string{"13881801234", "龙潭村", "张大山", "1985-03-07", `"business"`}, "certificate"},
		{c.DeptHRSS, hrss.Request(app, &c.Task{ID: "APP-4", Item: c.ItemPensionSubsidy}, "cb"),
			[]string{`"dibao":true`}, []string{"13881801234", "龙潭村", "张大山", `"medical"`}, ""},
		{c.DeptMedical, medical.Request(app, &c.Task{ID: "APP-5", Item: c.ItemMedicalSubsidy}, "cb"),
			[]string{`"medical"`, `"identity":"dibao"`}, []string{"13881801234", "龙潭村", "张大山", `"certificate"`}, "medical"},
	}
	for _, tc := range cases {
		t.Run(string(tc.dept), func(t *testing.T) {
			if tc.req.TaskID == "" || tc.req.ApplicationID != "APP" || tc.req.CallbackURL != "cb" || tc.req.Person.IDNumber != app.Applicant.IDNumber {
				t.Errorf("common fields: %+v", tc.req)
			}
			raw, _ := json.Marshal(tc.req)
			for _, s := range tc.has {
				if !strings.Contains(string(raw), s) {
					t.Errorf("missing %s", s)
				}
			}
			for _, s := range tc.hasNot {
				if strings.Contains(string(raw), s) {
					t.Errorf("sends %s, which %s does not need", s, tc.dept)
				}
			}
		})
	}
}
