package workflow

import (
	c "onething/contracts"
)

// served says whether a task's department serves its county (Serves; nil:
// every county). National platforms (cdpf, civil) serve every county; the
// county HR and medical-security bureaus serve where an endpoint is
// configured.
func (w *Workflow) served(t *c.Task) bool {
	return w == nil || w.Serves == nil || t.County == "" || w.Serves(t.Dept, t.County)
}

// deptOffice names a department's office in a county, for a reason.
var deptOffice = map[c.Dept]c.Message{
	c.DeptHRSS:    {ZH: "人力资源和社会保障局", EN: "HR and social security bureau"},
	c.DeptMedical: {ZH: "医疗保障局", EN: "medical security bureau"},
	c.DeptCivil:   {ZH: "民政局", EN: "civil affairs bureau"},
	c.DeptCDPF:    {ZH: "残疾人联合会", EN: "disabled persons' federation"},
}

// NotServedReason is why a task of a county no endpoint serves is refused:
// it names the county (its name when known, else its code) and says to
// apply there.
func NotServedReason(dept c.Dept, county string) *c.Message {
	n := countyName(county) // with its code, once
	office := deptOffice[dept]
	return &c.Message{
		ZH: "申请人户籍所在地" + n.ZH + "的" + office.ZH + "尚未接入本平台，本平台不能受理该事项（未向任何部门发送）；请向" + n.ZH + office.ZH + "申请",
		EN: "the " + office.EN + " of the applicant's household county, " + n.EN + ", is not connected to this service, which cannot take this item (nothing is sent anywhere): please apply to the " + office.EN + " of " + n.EN,
	}
}

// GuideServed makes a guide answer say what the planner will do for a
// household whose county a per-county department does not serve: an item
// it promised is refused with NotServedReason (no channel, window or due
// date). An item under review stays so: the planner may refuse it on its
// own grounds first (a minor's pension), or else for the county.
func (w *Workflow) GuideServed(ans *c.GuideAnswer, householdDivision string) {
	county := c.CountyOf(householdDivision)
	for i := range ans.Items {
		it := &ans.Items[i]
		if !it.Eligible || w.served(&c.Task{Dept: it.Dept, County: county}) {
			continue
		}
		it.Eligible, it.Review, it.ReviewBy, it.ReviewOf = false, false, nil, nil
		it.Why = *NotServedReason(it.Dept, county)
		it.Channel, it.Window, it.GrantedWithoutReview, it.Automatic = "", nil, false, false
		it.DueDate, it.Provisional = "", false
	}
}
