package mocks

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"onething/civil"
	c "onething/contracts"
)

// CertOutcome scripts what the cdpf mock finds for one person (by ID
// number). People not scripted get the category they applied for (or hold)
// at the default grade, and the procedure the gateway sent.
type CertOutcome struct {
	Category int `json:"category,omitempty"`
	Grade    int `json:"grade,omitempty"`
	// Reject refuses the business with this reason (after assessment
	// where there is one: e.g. no longer meeting the standard).
	Reject string `json:"reject,omitempty"`
	// Supplement asks once for this missing material before going on.
	Supplement string `json:"supplement,omitempty"`
	// Reassess makes cdpf reassess on an expiry renewal although the rules
	// did not require it (指南二(一)2(1): 认为残疾状况发生明显变化的).
	Reassess bool `json:"reassess,omitempty"`
}

// CDPF decides certificate cases following the procedure the gateway's
// rules sent: accepted, then assessment and publicity where required
// (never publicity for a minor), then the new certificate (or, for a full
// cancellation, the notice). A renewal that keeps the validity keeps the
// old certificate's dates; otherwise the new one runs ten years from issue.
func CDPF(script map[string]CertOutcome, defaultGrade int, unit time.Duration) Decider {
	if defaultGrade == 0 {
		defaultGrade = 1
	}
	return func(req *c.CaseRequest, caseNo string, now time.Time) Decision {
		out := script[req.Person.IDNumber]
		held := req.Certificate
		proc := c.Procedure{Assessment: req.Item == c.ItemCertNew || req.Item == c.ItemCertChange, Publicity: true, NewCertificate: true}
		if req.Procedure != nil {
			proc = *req.Procedure
		}
		if out.Reassess && !proc.Assessment {
			proc.Assessment, proc.Publicity = true, true
		}
		step := func(t c.EventType) Step { return Step{After: unit, Event: c.DeptEvent{TaskID: req.TaskID, Type: t}} }
		steps := []Step{step(c.EventAccepted)}
		if out.Supplement != "" {
			s := step(c.EventSupplementRequired)
			s.Event.Reason = &c.Message{ZH: out.Supplement, EN: "a material is missing or unclear"}
			steps = append(steps, s)
		}
		if proc.Assessment {
			steps = append(steps, step(c.EventAssessed))
			if proc.Publicity || minorOn(req.Person.IDNumber, now) {
				// Publicity is decided on the day of the assessment
				// result: a minor then is not publicised (原则上不予公示),
				// someone who has turned 18 since acceptance is.
				pub := step(c.EventPublicised)
				pub.Unless = func(at time.Time) bool { return minorOn(req.Person.IDNumber, at) }
				steps = append(steps, pub)
			}
		}
		if out.Reject != "" {
			s := step(c.EventRejected)
			s.Event.Reason = &c.Message{ZH: out.Reject, EN: "refused by the disability federation"}
			return Decision{Reply: c.CaseResponse{Status: c.CaseReceived}, Steps: append(steps, s)}
		}
		done := step(c.EventApproved)
		if !proc.NewCertificate {
			done.Event.Result = &c.Result{Note: &c.Message{ZH: "残疾人证已注销", EN: "certificate cancelled"}}
			return Decision{Reply: c.CaseResponse{Status: c.CaseReceived}, Steps: append(steps, done)}
		}
		category, grade := out.Category, out.Grade
		if category == 0 && req.Business != nil {
			category = req.Business.RequestedCategory
		}
		if category == 0 && held != nil {
			category = held.Category
		}
		if category == 0 {
			category = c.CategoryPhysical
		}
		if grade == 0 && held != nil && !proc.Assessment {
			grade = held.Grade
		}
		if grade == 0 {
			grade = defaultGrade
		}
		issued := civil.Of(now) // ten years, through the day before the tenth anniversary
		cert := &c.Certificate{Number: fmt.Sprintf("%s%d%d", req.Person.IDNumber, category, grade), Category: category, Grade: grade,
			IssuedOn: issued.String(), ValidFrom: issued.String(), ValidUntil: issued.Anniversary(10).AddDays(-1).String()}
		if proc.KeepValidity && held != nil {
			cert.ValidFrom, cert.ValidUntil = held.ValidFrom, held.ValidUntil
		}
		note := &c.Message{ZH: "残疾人证已核发", EN: "certificate issued"}
		if proc.RecallOld {
			note = &c.Message{ZH: "新证已核发，原证收回", EN: "new certificate issued; the old one is recalled"}
		}
		done.Event.Certificate, done.Event.Result = cert, &c.Result{Note: note}
		return Decision{Reply: c.CaseResponse{Status: c.CaseReceived}, Steps: append(steps, done)}
	}
}

// minorOn reports whether the holder of idNumber is under 18 on the China
// date of the business instant at.
func minorOn(idNumber string, at time.Time) bool {
	day := civil.Of(at)
	id, err := c.ParseIDNumber(idNumber, day)
	return err == nil && id.AgeOn(day) < 18
}

// Sichuan standard amounts (yuan per month), for the mocks only.
const (
	livingAmount    = 100
	nursingGrade1   = 110
	nursingGrade2   = 80
	nursing34Amount = 50 // set by the district; a placeholder for the mock
)

// Civil decides the two subsidies from the certificate face data, the
// household registration and 低保 status, as the seed's 受理条件 say.
func Civil(unit time.Duration) Decider {
	return func(req *c.CaseRequest, _ string, now time.Time) Decision {
		why, amount := civilRule(req, now)
		ev := c.DeptEvent{TaskID: req.TaskID, Type: c.EventApproved, Result: &c.Result{MonthlyAmount: amount,
			Note: &c.Message{ZH: "资格认定通过", EN: "eligibility confirmed"}}}
		if why != nil {
			ev = c.DeptEvent{TaskID: req.TaskID, Type: c.EventRejected, Reason: why}
		}
		return Decision{Reply: c.CaseResponse{Status: c.CaseAccepted}, Steps: []Step{{After: unit, Event: ev}}}
	}
}

func civilRule(req *c.CaseRequest, now time.Time) (*c.Message, int) {
	cert, p := req.Certificate, req.Person
	if cert == nil || cert.ValidUntil < civil.Of(now).String() {
		return &c.Message{ZH: "未持有有效残疾人证", EN: "no valid disability certificate"}, 0
	}
	// The national two-subsidy system takes any Sichuan county (its
	// civil-affairs office deciding); 三、四级 nursing comes only from a
	// county whose pack offers it, which the gateway decides.
	if !c.InSichuan(p.HouseholdDivision) {
		return &c.Message{ZH: "非四川省户籍", EN: "not registered in Sichuan"}, 0
	}
	switch req.Item {
	case c.ItemSubsidyLiving:
		if !p.Dibao {
			return &c.Message{ZH: "非低保对象", EN: "not a dibao recipient"}, 0
		}
		return nil, livingAmount
	case c.ItemSubsidyNursing:
		switch cert.Grade {
		case 1:
			return nil, nursingGrade1
		case 2:
			return nil, nursingGrade2
		}
		return &c.Message{ZH: "残疾等级非一、二级", EN: "grade is not 1 or 2"}, 0
	case c.ItemSubsidyNursing34:
		if (cert.Grade == 3 || cert.Grade == 4) && (cert.Category == c.CategoryIntellectual || cert.Category == c.CategoryMental) {
			return nil, nursing34Amount
		}
		return &c.Message{ZH: "非三、四级智力或精神残疾", EN: "not grade 3-4 intellectual or mental"}, 0
	}
	return &c.Message{ZH: "本系统不办理该事项", EN: "this system does not handle the item"}, 0
}

// HRSS grants the pension subsidy at once from shared data (免审即享) to the
// severely disabled, 低保 and 特困; others are refused with the reason.
func HRSS() Decider {
	return func(req *c.CaseRequest, _ string, _ time.Time) Decision {
		p, cert := req.Person, req.Certificate
		if p.Dibao || p.Tekun || (cert != nil && cert.Grade <= 2) {
			return Decision{Reply: c.CaseResponse{Status: c.CaseApproved, Result: &c.Result{
				Note: &c.Message{ZH: "由政府按最低缴费标准代缴城乡居民基本养老保险费", EN: "the government pays the minimum contribution"}}}}
		}
		return Decision{Reply: c.CaseResponse{Status: c.CaseRejected, Reason: &c.Message{
			ZH: "不属于重度残疾人、低保对象、特困人员等缴费困难群体", EN: "not in a contribution-hardship group"}}}
	}
}

// MedicalOtherGroups are the "other" groups the medical mock assists (the
// review of 指南二(四) "等符合资助条件的救助对象"): an applicant ticking
// "other" is approved when identityOther names one of them (spaces around
// it aside), and
// refused otherwise. The guide cannot know this (it answers review: true);
// the rule is the mock's, documented here and in the README.
var MedicalOtherGroups = []string{"低保边缘家庭成员", "防止返贫监测对象", "重度残疾人"}

// Medical grants the contribution subsidy to 低保, 特困 and 孤儿, and to an
// "other" group of MedicalOtherGroups; where the premium was already paid
// in full the subsidy is refunded to the person.
func Medical(unit time.Duration) Decider {
	return func(req *c.CaseRequest, _ string, _ time.Time) Decision {
		p, m := req.Person, req.Medical
		ok := m != nil && ((m.Identity == "dibao" && p.Dibao) || (m.Identity == "tekun" && p.Tekun) || (m.Identity == "orphan" && p.Orphan) ||
			(m.Identity == "other" && slices.Contains(MedicalOtherGroups, strings.TrimSpace(m.IdentityOther))))
		ev := c.DeptEvent{TaskID: req.TaskID, Type: c.EventRejected, Reason: &c.Message{
			ZH: "经核实不属于资助参保对象", EN: "not in an assisted group"}}
		if ok {
			note := &c.Message{ZH: "个人缴费部分由医疗救助资金资助", EN: "the individual contribution is paid by medical assistance"}
			if m.PremiumPaid {
				note = &c.Message{ZH: "已全额缴纳，资助资金退还至本人账户", EN: "premium already paid: the subsidy is refunded to the person"}
			}
			ev = c.DeptEvent{TaskID: req.TaskID, Type: c.EventApproved, Result: &c.Result{Note: note}}
		}
		return Decision{Reply: c.CaseResponse{Status: c.CaseAccepted}, Steps: []Step{{After: unit, Event: ev}}}
	}
}

// CasePaths are where the mock departments take their cases.
var CasePaths = map[c.Dept]string{
	c.DeptCDPF: "/api/v1/certificate-cases", c.DeptCivil: "/api/v1/subsidy-cases",
	c.DeptHRSS: "/api/v1/pension-subsidy-cases", c.DeptMedical: "/api/v1/medical-subsidy-cases",
}

// Deciders are the four mock departments' behaviour: cdpf follows
// DefaultScript (the people of contracts/examples) with extra on top.
// `onething dev`, `onething mocks` (docker-compose) and the tests all take
// this one set, so an example is decided alike everywhere (e.g.
// submission-cert-refused.json is refused under each).
func Deciders(extra map[string]CertOutcome, unit time.Duration) map[c.Dept]Decider {
	script := DefaultScript()
	for id, o := range extra {
		script[id] = o
	}
	return map[c.Dept]Decider{
		c.DeptCDPF:    CDPF(script, 1, unit),
		c.DeptCivil:   Civil(unit),
		c.DeptHRSS:    HRSS(),
		c.DeptMedical: Medical(unit),
	}
}
