package mocks

import (
	"fmt"
	"time"

	c "onething/contracts"
)

// CertOutcome scripts what the cdpf mock's assessment finds for one person
// (by ID number); people not scripted get the category they applied for at
// DefaultGrade.
type CertOutcome struct {
	Category int    `json:"category"`
	Grade    int    `json:"grade"`
	Reject   string `json:"reject,omitempty"` // refuse the certificate with this reason
}

// CDPF decides certificate cases: accepted -> assessed -> publicised ->
// approved with the certificate (number = ID number + category + grade,
// valid ten years from the issue day).
func CDPF(script map[string]CertOutcome, defaultGrade int, unit time.Duration) Decider {
	if defaultGrade == 0 {
		defaultGrade = 1
	}
	return func(req *c.CaseRequest, caseNo string, now time.Time) Decision {
		out, ok := script[req.Person.IDNumber]
		if !ok {
			out = CertOutcome{Grade: defaultGrade}
			if req.Business != nil {
				out.Category = req.Business.RequestedCategory
			}
			if out.Category == 0 && req.Certificate != nil {
				out.Category, out.Grade = req.Certificate.Category, req.Certificate.Grade
			}
			if out.Category == 0 {
				out.Category = c.CategoryPhysical
			}
		}
		steps := []Step{{After: unit, Event: c.DeptEvent{TaskID: req.TaskID, Type: c.EventAccepted}}}
		if out.Reject != "" {
			steps = append(steps, Step{After: unit, Event: c.DeptEvent{TaskID: req.TaskID, Type: c.EventRejected,
				Reason: &c.Message{ZH: out.Reject, EN: "refused by the disability federation"}}})
			return Decision{Reply: c.CaseResponse{Status: c.CaseReceived}, Steps: steps}
		}
		issued := now.Format(time.DateOnly)
		cert := &c.Certificate{
			Number:     fmt.Sprintf("%s%d%d", req.Person.IDNumber, out.Category, out.Grade),
			Category:   out.Category,
			Grade:      out.Grade,
			IssuedOn:   issued,
			ValidFrom:  issued,
			ValidUntil: now.AddDate(10, 0, -1).Format(time.DateOnly),
		}
		if req.Item == c.ItemCertNew || req.Item == c.ItemCertChange {
			steps = append(steps,
				Step{After: unit, Event: c.DeptEvent{TaskID: req.TaskID, Type: c.EventAssessed}},
				Step{After: unit, Event: c.DeptEvent{TaskID: req.TaskID, Type: c.EventPublicised}})
		}
		steps = append(steps, Step{After: unit, Event: c.DeptEvent{TaskID: req.TaskID, Type: c.EventApproved, Certificate: cert,
			Result: &c.Result{Note: &c.Message{ZH: "残疾人证已核发", EN: "certificate issued"}}}})
		return Decision{Reply: c.CaseResponse{Status: c.CaseReceived}, Steps: steps}
	}
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
	if cert == nil || cert.ValidUntil < now.Format(time.DateOnly) {
		return &c.Message{ZH: "未持有有效残疾人证", EN: "no valid disability certificate"}, 0
	}
	if !c.InTongchuan(p.HouseholdDivision) {
		return &c.Message{ZH: "非通川区户籍", EN: "not registered in Tongchuan"}, 0
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

// Medical grants the contribution subsidy to 低保, 特困 and 孤儿; where the
// premium was already paid in full the subsidy is refunded to the person.
func Medical(unit time.Duration) Decider {
	return func(req *c.CaseRequest, _ string, _ time.Time) Decision {
		p, m := req.Person, req.Medical
		ok := m != nil && ((m.Identity == "dibao" && p.Dibao) || (m.Identity == "tekun" && p.Tekun) || (m.Identity == "orphan" && p.Orphan))
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
