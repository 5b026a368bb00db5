// Package rules is the seed's rules as code: who may have which item, how a
// certificate business is handled, which channel and window, which
// materials, which time limit. The planner and the Q&A guide both decide
// from here, so what the guide promises is what the gateway does.
//
// Clause references (Clause…) point into the seed: 通区民发〔2022〕50号,
// 附件2 “扶残助困一件事”办事指南, e.g. "指南二(一)2(1)" is section 二
// (受理条件), (一) 残疾人证办理, item 2 换领, (1) 到期换证.
package rules

import (
	"onething/civil"
	c "onething/contracts"
)

// Seed clauses cited by the rules and their tests.
const (
	ClauseCertNew        = "指南二(一)1 残疾人证新办"
	ClauseRenewExpiry    = "指南二(一)2(1) 到期换证"
	ClauseRenewDamaged   = "指南二(一)2(2) 残损换新"
	ClauseRenewInfo      = "指南二(一)2(3) 资料更新换证"
	ClauseMigrate        = "指南二(一)3 残疾人证迁移"
	ClauseReissue        = "指南二(一)4 挂失补办"
	ClauseCancelFull     = "指南二(一)5(1) 残疾人证注销"
	ClauseCancelPartial  = "指南二(一)5(2) 注销部分残疾类别/等级"
	ClauseChange         = "指南二(一)6 类别/等级变更"
	ClauseTwoSubsidies   = "指南二(二) 残疾人两项补贴"
	ClausePension        = "指南二(三) 城乡居民基本养老保险补助"
	ClauseMedical        = "指南二(四) 医疗保险个人缴费补贴"
	ClauseOffline        = "指南三(一) 线下办理"
	ClauseOnline         = "指南三(二) 线上办理"
	ClauseMaterials      = "指南四 申报材料"
	ClauseTimeLimits     = "指南一(十三) 办理时限"
	ClauseSpecialProcess = "指南一(十七) 特别程序"
)

// Facts are what the rules decide from: the applicant's situation, not who
// they are. Today is the civil date in China the case is judged on: the
// acceptance day (ages and validity are judged then).
type Facts struct {
	Today             civil.Date
	Certificate       *c.Certificate // held, if any
	HouseholdDivision string
	Dibao             bool
	Tekun             bool
	Orphan            bool
	Minor             bool
	// Under16: the residents' pension insures people from 16 (国发〔2014〕8号:
	// 年满16周岁，不含在校学生); the seed is silent, so a child is not
	// enrolled for the pension subsidy.
	Under16 bool
}

// FactsOf reads the facts of an application on a civil date.
func FactsOf(a *c.Applicant, today civil.Date) Facts {
	f := Facts{Today: today, Certificate: a.Certificate, HouseholdDivision: a.HouseholdDivision, Dibao: a.Dibao, Tekun: a.Tekun, Orphan: a.Orphan}
	if id, err := c.ParseIDNumber(a.IDNumber, today); err == nil {
		f.Minor = id.AgeOn(today) < 18
		f.Under16 = id.AgeOn(today) < 16
	}
	return f
}

// visualCutoff: certificates issued before 2018 from visual assessment
// (目测评定) must be reassessed on expiry renewal.
var visualCutoff = civil.MustParse("2018-01-01")

// RenewalOpens is the first day an expiry renewal may be applied for: nine
// years after validFrom (a validFrom of 29 February gives 28 February in a
// common year, civil.Date.Anniversary).
func RenewalOpens(validFrom civil.Date) civil.Date { return validFrom.Anniversary(9) }

// Certificate decides one certificate business: its procedure, or why it
// cannot be accepted.
func Certificate(f Facts, req *c.CertificateRequest) (c.Procedure, *c.Message) {
	held := f.Certificate
	p := c.Procedure{ClockStart: c.ClockAcceptance, NewCertificate: true}
	if req.Business == c.ItemCertNew && held != nil {
		return p, &c.Message{ZH: "已持有残疾人证，不能新办；请选择换领、变更等业务", EN: "a certificate is held already: choose renewal, change, … instead"}
	}
	if req.Business != c.ItemCertNew && held == nil {
		return p, &c.Message{ZH: "办理该业务须持有残疾人证", EN: "this business needs a certificate held"}
	}
	switch req.Business {
	case c.ItemCertNew:
		p.Clause, p.Assessment = ClauseCertNew, true
	case c.ItemCertRenew:
		switch req.SubKind {
		case "expiry":
			p.Clause = ClauseRenewExpiry
			from, err := civil.Parse(held.ValidFrom)
			if opens := RenewalOpens(from); err == nil && f.Today.Before(opens) {
				return p, &c.Message{
					ZH: "残疾人证有效期满九年后方可申请到期换证（可于 " + opens.String() + " 起申请）",
					EN: "an expiry renewal is possible only after nine years of validity (from " + opens.String() + ")"}
			}
			issued, err := civil.Parse(held.IssuedOn)
			if held.VisualAssessment && (err != nil || issued.Before(visualCutoff)) {
				p.Assessment = true
				p.Note = &c.Message{ZH: "2018 年以前目测评定核发的残疾人证，到期换证须重新评定", EN: "pre-2018 visual-assessment certificates are reassessed on renewal"}
			}
		case "damaged":
			p.Clause, p.KeepValidity = ClauseRenewDamaged, true
		default:
			p.Clause, p.KeepValidity = ClauseRenewInfo, true
		}
	case c.ItemCertMigrate:
		p.Clause, p.KeepValidity = ClauseMigrate, true
		// The CDPF of the county moved to takes it (the national CDPF
		// platform, the county travelling in the case): any county of
		// the province the gateway serves.
		if !f.Sichuan() {
			return p, MsgMigrateNotSichuan
		}
	case c.ItemCertReissue:
		p.Clause, p.KeepValidity = ClauseReissue, true
	case c.ItemCertCancel:
		if req.SubKind == "partial" {
			p.Clause, p.KeepValidity = ClauseCancelPartial, true
		} else {
			p.Clause, p.NewCertificate = ClauseCancelFull, false
		}
	case c.ItemCertChange:
		p.Clause, p.Assessment, p.RecallOld = ClauseChange, true, true
	}
	if p.Assessment {
		p.Publicity = !f.Minor
		p.ClockStart = c.ClockPublicity
		if f.Minor {
			p.ClockStart = c.ClockAssessment
		}
	}
	return p, nil
}

// Refusals of the subsidies, each with the clause it comes from.
var (
	MsgNotSichuan         = &c.Message{ZH: "残疾人两项补贴须为四川省户籍（本平台办理四川省的“扶残助困一件事”，请向户籍地申请）", EN: "the two subsidies require Sichuan household registration (this gateway serves Sichuan: apply where the household is registered)"}
	MsgMigrateNotSichuan  = &c.Message{ZH: "残疾人证迁移由迁入地县级残联办理，迁入地不在四川省的，请向新户籍地残联申请", EN: "migration is handled by the CDPF of the county moved to; outside Sichuan, apply there"}
	MsgLivingNeedsDibao   = &c.Message{ZH: "困难残疾人生活补贴须为低保对象", EN: "the living subsidy requires a minimum-living-guarantee (dibao) recipient"}
	MsgNeedsCertificate   = &c.Message{ZH: "须持有有效的残疾人证", EN: "a valid disability certificate is required"}
	MsgCertExpired        = &c.Message{ZH: "残疾人证已过有效期，请先办理换证", EN: "the certificate has expired; renew it first"}
	MsgNursingGrade       = &c.Message{ZH: "护理补贴须为一、二级残疾，或三、四级智力、精神残疾", EN: "the nursing subsidy requires grade 1-2, or grade 3-4 intellectual or mental disability"}
	MsgNursingGrade12     = &c.Message{ZH: "护理补贴须为一、二级残疾", EN: "the nursing subsidy requires grade 1-2"}
	MsgPensionNotEligible = &c.Message{ZH: "养老保险补助适用于重度残疾人、低保对象、特困人员等缴费困难群体", EN: "the pension subsidy is for severely disabled, dibao, tekun and similar groups"}
	MsgPensionAge         = &c.Message{ZH: "城乡居民基本养老保险须年满 16 周岁参保，未成年人暂不适用养老保险补助", EN: "the residents' pension insures people from age 16: not applicable to this child"}
	MsgCancelNoSubsidy    = &c.Message{ZH: "申请注销残疾人证的，不能同时申请残疾人两项补贴", EN: "the two subsidies cannot be granted while the certificate is being cancelled"}
	MsgDependencyFailed   = &c.Message{ZH: "所依赖的残疾人证业务未办成，本事项无法办理", EN: "the certificate business this item depends on did not succeed"}
)

// ValidOn reports whether a certificate is valid on a civil date: through
// the whole of its validUntil day, not a day after. A validUntil that does
// not parse was refused at validation; it counts as valid here so the
// department, not a typo, decides.
func ValidOn(cert *c.Certificate, day civil.Date) bool {
	until, err := civil.Parse(cert.ValidUntil)
	return err != nil || !day.After(until)
}

// KeepsExpired reports whether a certificate business issues a card that
// keeps the validity of an expired one (残损换新, 挂失补办, partial
// cancellation, …): the subsidies cannot rest on it, so they are decided
// at once from the card held, not after the business.
func KeepsExpired(f Facts, p c.Procedure) bool {
	return p.NewCertificate && p.KeepValidity && f.Certificate != nil && !ValidOn(f.Certificate, f.Today)
}

// Living decides 困难残疾人生活补贴: valid certificate, Sichuan household,
// 低保 (指南二(二); the national two-subsidy system, the county's civil
// affairs office deciding).
func Living(f Facts, cert *c.Certificate) *c.Message {
	if why := LivingApartFromCertificate(f); why != nil {
		return why
	}
	switch {
	case cert == nil:
		return MsgNeedsCertificate
	case !ValidOn(cert, f.Today):
		return MsgCertExpired
	}
	return nil
}

// LivingApartFromCertificate checks what the living subsidy needs besides
// the certificate (Sichuan household, 低保), so that it can be refused at
// once while a certificate is still being issued.
func LivingApartFromCertificate(f Facts) *c.Message {
	switch {
	case !f.Sichuan():
		return MsgNotSichuan
	case !f.Dibao:
		return MsgLivingNeedsDibao
	}
	return nil
}

// MsgNursing34NotOffered refuses the nursing subsidy to a grade 3-4
// intellectual or mental applicant of a county whose pack has no 三、四级
// nursing subsidy (a county's own policy: 通川区's).
func MsgNursing34NotOffered(f Facts) *c.Message {
	county := f.County()
	return &c.Message{ZH: "护理补贴须为一、二级残疾；三、四级智力、精神残疾人护理补贴为县（区）地方政策，" + county.ZH + "未设立",
		EN: "the nursing subsidy requires grade 1-2; the grade 3-4 intellectual and mental nursing subsidy is a county's own policy, which " + county.EN + " does not have"}
}

// NursingApartFromCertificate checks what the nursing subsidy needs
// besides the certificate (a Sichuan household), so that it can be
// refused at once while a certificate is still being issued.
func NursingApartFromCertificate(f Facts) *c.Message {
	if !f.Sichuan() {
		return MsgNotSichuan
	}
	return nil
}

// Nursing decides which nursing subsidy applies: grade 1-2 重度残疾人护理补贴,
// grade 3-4 intellectual or mental 三、四级 护理补贴 where the county's pack
// offers it (指南二(二); 通川区's policy).
func Nursing(f Facts, cert *c.Certificate) (c.ItemCode, *c.Message) {
	switch {
	case !f.Sichuan():
		return c.ItemSubsidyNursing, MsgNotSichuan
	case cert == nil:
		return c.ItemSubsidyNursing, MsgNeedsCertificate
	case !ValidOn(cert, f.Today):
		return c.ItemSubsidyNursing, MsgCertExpired
	case cert.Grade == 1 || cert.Grade == 2:
		return c.ItemSubsidyNursing, nil
	case (cert.Grade == 3 || cert.Grade == 4) && (cert.Category == c.CategoryIntellectual || cert.Category == c.CategoryMental):
		if !f.Offers(c.ItemSubsidyNursing34) {
			return c.ItemSubsidyNursing, MsgNursing34NotOffered(f)
		}
		return c.ItemSubsidyNursing34, nil
	}
	if !f.Offers(c.ItemSubsidyNursing34) {
		return c.ItemSubsidyNursing, MsgNursingGrade12
	}
	return c.ItemSubsidyNursing, MsgNursingGrade
}

// Pension decides 城乡居民基本养老保险补助: severely disabled (grade 1-2),
// 低保 or 特困 (指南二(三)); granted from shared data without application.
// The group is checked before the age, so that a person in no group is
// refused for that whatever their age (the guide knows only "minor").
func Pension(f Facts, cert *c.Certificate) *c.Message {
	if !(f.Dibao || f.Tekun || (cert != nil && cert.Grade <= 2 && ValidOn(cert, f.Today))) {
		return MsgPensionNotEligible
	}
	if f.Under16 {
		return MsgPensionAge
	}
	return nil
}

// MedicalGranted reports whether the medical subsidy is granted without
// review (低保, 特困, 孤儿: 指南二(四)); an "other" identity is for the
// medical bureau to review, so it is forwarded, not refused here.
func MedicalGranted(f Facts) bool { return f.Dibao || f.Tekun || f.Orphan }

// Reviews: who decides an item the guide cannot promise (the applicant's
// county's office), and what they look at.

// ReviewByCDPF: the county CDPF, deciding from the assessment.
func ReviewByCDPF(f Facts) c.Message {
	return f.office("残联（依据指定机构的残疾评定结论）", func(n string) string { return "the " + n + " CDPF, from the assessment of a designated institution" })
}

// ReviewByCivil: the county's civil affairs office (via the national
// two-subsidy system), from the certificate issued.
func ReviewByCivil(f Facts) c.Message {
	return f.office("民政局（依据残联核发的残疾人证）", func(n string) string { return n + " Civil Affairs, from the certificate the CDPF issues" })
}

// ReviewByCDPFAndCivil: after a partial cancellation, the county CDPF and
// civil affairs office, from the certificate issued on the conclusion.
func ReviewByCDPFAndCivil(f Facts) c.Message {
	return f.office("残联、民政局（依据评定结论核发的新证）", func(n string) string {
		return "the " + n + " CDPF and Civil Affairs, from the certificate issued on the conclusion"
	})
}

// ReviewByHRSS: the county's human resources and social security bureau.
func ReviewByHRSS(f Facts) c.Message {
	return f.office("人社局", func(n string) string { return n + " Human Resources and Social Security" })
}

// ReviewByMedical: the county's medical security bureau.
func ReviewByMedical(f Facts) c.Message {
	return f.office("医疗保障局", func(n string) string { return "the " + n + " Medical Security bureau" })
}

var (
	ReviewOfAssessed  = c.Message{ZH: "残疾评定结论：是否达到残疾标准，评定的残疾类别、等级", EN: "the assessment: whether the disability standard is met, and the category and grade found"}
	ReviewOfIssued    = c.Message{ZH: "能否核发残疾人证（残疾评定结论）", EN: "whether a certificate is issued (the assessment)"}
	ReviewOfNursing   = c.Message{ZH: "新证的残疾等级、类别：一、二级，或三、四级智力、精神残疾", EN: "grade and category of the new certificate: grade 1-2, or grade 3-4 intellectual or mental"}
	ReviewOfNursing12 = c.Message{ZH: "新证的残疾等级：一、二级（本县未设立三、四级智力、精神残疾人护理补贴）", EN: "grade of the new certificate: grade 1-2 (the county has no grade 3-4 nursing subsidy)"}
	ReviewOfPension   = c.Message{ZH: "新证的残疾等级（一、二级为重度残疾人）", EN: "grade of the new certificate (grade 1-2 is severe)"}
	ReviewOfAge       = c.Message{ZH: "年龄（以公民身份号码为准）：城乡居民基本养老保险年满 16 周岁参保", EN: "age (from the ID number): the residents' pension insures people from 16"}
	ReviewOfMedical   = c.Message{ZH: "申报的其他困难群体身份是否属于医疗救助资助对象（如低保边缘家庭成员、防止返贫监测对象）", EN: "whether the declared other group is assisted by medical assistance (e.g. near-dibao households, people monitored against relapse into poverty)"}
	ReviewOfCondition = c.Message{ZH: "所附评定结论：注销部分类别/等级后的残疾类别、等级", EN: "the assessment conclusion attached: category and grade after the partial cancellation"}
)
