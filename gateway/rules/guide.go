package rules

import (
	c "onething/contracts"
	"onething/gateway/calendar"
)

// OnlineOffered: the online channel opens for an applicant who holds a
// certificate and is a Sichuan 低保 recipient (指南三(二)).
func OnlineOffered(f Facts) (bool, c.Message) {
	switch {
	case f.Certificate == nil:
		return false, c.Message{ZH: "未持有残疾人证，须到残联窗口线下办理", EN: "no certificate held: apply offline at a CDPF window"}
	case !f.Dibao:
		return false, c.Message{ZH: "非低保对象，须到户籍地综合受理窗口线下办理", EN: "not a dibao recipient: apply offline at the comprehensive window"}
	case !c.InSichuan(f.HouseholdDivision):
		return false, c.Message{ZH: "非四川省户籍，须线下办理", EN: "not registered in Sichuan: apply offline"}
	}
	return true, c.Message{ZH: "持有残疾人证且为四川省户籍低保对象，可在线办理", EN: "certificate holder and Sichuan dibao recipient: online channel open"}
}

// ComprehensiveWindow is the 综合受理窗口 of the household-registration
// town (or the county's centre) (指南三(一)), from the county's rule pack;
// for a county without a pack, the household county's window by its code.
func ComprehensiveWindow(f Facts) c.Message {
	if p, ok := f.Pack(); ok {
		return p.ComprehensiveWindow(f.HouseholdDivision)
	}
	code := c.CountyOf(f.HouseholdDivision)
	return c.Message{ZH: "户籍地县级（区划代码 " + code + "）“扶残助困一件事”综合受理窗口", EN: "the comprehensive window of the household-registration county (division code " + code + ")"}
}

// CDPFWindow is where a first certificate is applied for, together with the
// joint application (指南三(一)), from the county's rule pack as
// ComprehensiveWindow.
func CDPFWindow(f Facts) c.Message {
	if p, ok := f.Pack(); ok {
		return p.CDPFWindow(f.HouseholdDivision)
	}
	code := c.CountyOf(f.HouseholdDivision)
	return c.Message{ZH: "户籍地县级（区划代码 " + code + "）残联窗口", EN: "the CDPF window of the household-registration county (division code " + code + ")"}
}

// Guide answers the 专项问答 for the applicant's county: every item wanted
// (and the pension subsidy, which needs no application), eligible or not
// and why (the county's items), the channel and window (the county's), the
// legal time limit (the county's) and due date if accepted today, and the
// material checklist of this case.
//
// Eligible is a promise: the planner and the mocks' documented rules give
// the same situation the item. What a department decides by a review the
// guide cannot foresee (an assessment, the grade it will find, an "other"
// assisted group, the age of a minor) is answered eligible: false,
// review: true with who decides and what they look at. A refused item has
// no channel, window or due date.
func Guide(f Facts, w c.GuideWants, premiumPaid bool, cal *calendar.Calendar) c.GuideAnswer {
	online, why := OnlineOffered(f)
	ans := c.GuideAnswer{Online: c.GuideOnline{Offered: online, Why: why}, WholeLimitDays: c.WholeLimitDays}
	today := f.Today
	due := func(it *c.GuideItem) {
		if it.ClockStart != c.ClockAcceptance || !(it.Eligible || it.Review) {
			return
		}
		if d, provisional, err := cal.Due(today, it.LimitDays); err == nil {
			it.DueDate, it.Provisional = d.String(), provisional
		}
	}
	item := func(code c.ItemCode, eligible bool, why c.Message, clause string) c.GuideItem {
		info := c.Items[code]
		return c.GuideItem{Item: code, Name: info.Name, Dept: info.Dept, Eligible: eligible, Why: why, Clause: clause,
			LimitDays: LimitDays(f.HouseholdDivision, code), ClockStart: info.ClockStart}
	}
	refuse := func(it *c.GuideItem, why c.Message) { it.Eligible, it.Why = false, why }
	review := func(it *c.GuideItem, by, of, why c.Message) {
		it.Eligible, it.Review, it.ReviewBy, it.ReviewOf, it.Why = false, true, &by, &of, why
	}
	offline := func(it *c.GuideItem, window c.Message) {
		it.Channel, it.Window = c.ChannelOffline, &window
	}
	var procs []c.Procedure
	// The certificate the subsidies decide from: the one held, unless a
	// business is under way that will change it: then the certificate cdpf
	// will issue, known in advance (same grade, validity kept or renewed)
	// unless an assessment (or the conclusion of a partial cancellation)
	// decides it.
	cert := f.Certificate
	pending, assessed, fullCancel := false, false, false
	if req := w.Certificate; req != nil {
		p, refusal := Certificate(f, req)
		it := item(req.Business, true, c.Message{ZH: "符合受理条件", EN: "can be accepted"}, p.Clause)
		switch {
		case refusal != nil:
			refuse(&it, *refusal)
		default:
			procs = append(procs, p)
			it.Procedure = &p
			it.ClockStart = p.ClockStart
			partial := req.Business == c.ItemCertCancel && req.SubKind == "partial"
			switch {
			case p.Assessment:
				review(&it, ReviewByCDPF(f), ReviewOfAssessed, c.Message{
					ZH: "须到指定机构进行残疾评定（唯一一次跑动），是否核发残疾人证及类别、等级依评定结论",
					EN: "assessment at a designated institution (the one trip); the certificate, its category and grade follow from the assessment"})
			case partial:
				review(&it, ReviewByCDPF(f), ReviewOfCondition, c.Message{
					ZH: "区残联依据所附评定结论审核，注销部分类别/等级后核发新证",
					EN: "the CDPF reviews the assessment conclusion attached and issues the new certificate"})
			}
			fullCancel = req.Business == c.ItemCertCancel && !partial
			// A card that keeps an expired validity decides nothing: the
			// subsidies are decided from the one held (as the planner does).
			pending = p.NewCertificate && !KeepsExpired(f, p)
			assessed = p.Assessment || partial
			switch {
			case fullCancel:
				cert = nil
			case pending && !assessed:
				cert = issued(f, p)
			}
			if req.Business == c.ItemCertNew {
				offline(&it, CDPFWindow(f))
			} else {
				offline(&it, ComprehensiveWindow(f))
			}
		}
		due(&it)
		ans.Items = append(ans.Items, it)
	}
	unknown := pending && assessed // the new certificate's grade is not known yet

	// The window for the subsidies: online when open, otherwise the CDPF
	// window takes the joint application with a first certificate, the
	// comprehensive window in every other case.
	subsidyChannel := func(it *c.GuideItem) {
		switch {
		case online && w.Certificate == nil:
			it.Channel = c.ChannelOnline
		case w.Certificate != nil && w.Certificate.Business == c.ItemCertNew:
			offline(it, CDPFWindow(f))
		default:
			offline(it, ComprehensiveWindow(f))
		}
	}
	reviewBy := ReviewByCivil(f)
	if unknown && w.Certificate.Business == c.ItemCertCancel {
		reviewBy = ReviewByCDPFAndCivil(f)
	}
	if w.TwoSubsidies {
		eligible := c.Message{ZH: "符合条件", EN: "eligible"}
		living := item(c.ItemSubsidyLiving, true, eligible, ClauseTwoSubsidies)
		nursing := item(c.ItemSubsidyNursing, true, eligible, ClauseTwoSubsidies)
		switch {
		case fullCancel:
			refuse(&living, *MsgCancelNoSubsidy)
			refuse(&nursing, *MsgCancelNoSubsidy)
		case unknown:
			// What does not rest on the certificate is decided now.
			if why := LivingApartFromCertificate(f); why != nil {
				refuse(&living, *why)
			} else {
				review(&living, reviewBy, ReviewOfIssued, c.Message{ZH: "核发残疾人证后即可办理；未核发的不予办理", EN: "granted once a certificate is issued; refused if none is"})
			}
			switch {
			case NursingApartFromCertificate(f) != nil:
				refuse(&nursing, *NursingApartFromCertificate(f))
			case f.Offers(c.ItemSubsidyNursing34):
				review(&nursing, reviewBy, ReviewOfNursing, c.Message{ZH: "残疾人证办结后，按证载等级、类别确定护理补贴种类，或不予办理", EN: "the nursing subsidy's kind, or a refusal, follows from the grade and category of the certificate to be issued"})
			default:
				review(&nursing, reviewBy, ReviewOfNursing12, c.Message{ZH: "残疾人证办结后，按证载等级确定是否办理", EN: "granted or refused by the grade of the certificate to be issued"})
			}
		default:
			if why := Living(f, cert); why != nil {
				refuse(&living, *why)
			} else if pending {
				living.Why = c.Message{ZH: "残疾人证办结后办理", EN: "handled once the certificate business is done"}
			}
			code, why := Nursing(f, cert)
			nursing = item(code, why == nil, eligible, ClauseTwoSubsidies)
			if why != nil {
				refuse(&nursing, *why)
			} else if pending {
				nursing.Why = c.Message{ZH: "残疾人证办结后办理", EN: "handled once the certificate business is done"}
			}
		}
		for _, it := range []*c.GuideItem{&living, &nursing} {
			if it.Eligible || it.Review {
				subsidyChannel(it)
			}
			due(it)
			ans.Items = append(ans.Items, *it)
		}
	}
	// The pension subsidy needs no application (免审即享): it is listed
	// whenever the applicant qualifies or may qualify, and when asked about.
	// The guide knows only "minor": the age (enrolment from 16) is read
	// from the ID number at submission.
	adult := f
	adult.Under16 = false
	pensionWhy := Pension(adult, cert)
	pensionReview := pensionWhy != nil && unknown // the grade of the new certificate decides
	pensionAge := (pensionWhy == nil || pensionReview) && f.Minor
	if w.Pension || pensionWhy == nil || pensionReview {
		it := item(c.ItemPensionSubsidy, pensionWhy == nil, c.Message{ZH: "无需申请，根据民政、残联共享数据核实后由政府代缴", EN: "no application needed: paid by the government after checking shared data"}, ClausePension)
		it.Automatic = true
		switch {
		case pensionAge:
			of := ReviewOfAge
			if pensionReview {
				of = c.Message{ZH: ReviewOfPension.ZH + "；" + ReviewOfAge.ZH, EN: ReviewOfPension.EN + "; " + ReviewOfAge.EN}
			}
			review(&it, ReviewByHRSS(f), of, c.Message{ZH: "未成年人年满 16 周岁方可参保；符合条件的由政府代缴", EN: "a minor is insured from 16; paid by the government if eligible"})
		case pensionReview:
			review(&it, reviewBy, ReviewOfPension, c.Message{ZH: "新证为一、二级的，无需申请由政府代缴", EN: "paid by the government without application if the new certificate is grade 1-2"})
		case pensionWhy != nil:
			refuse(&it, *pensionWhy)
		}
		switch {
		case !it.Eligible && !it.Review:
		case it.Eligible && online && w.Certificate == nil:
			it.Channel, it.GrantedWithoutReview = c.ChannelOnline, true
		default:
			offline(&it, ComprehensiveWindow(f))
		}
		due(&it)
		ans.Items = append(ans.Items, it)
	}
	if w.Medical {
		it := item(c.ItemMedicalSubsidy, true, c.Message{ZH: "低保对象、特困人员、孤儿可享受资助", EN: "dibao, tekun and orphans are subsidised"}, ClauseMedical)
		granted := MedicalGranted(f)
		if !granted {
			review(&it, ReviewByMedical(f), ReviewOfMedical, c.Message{ZH: "其他困难群体由医保部门审核是否符合资助条件", EN: "other groups are reviewed by the medical security bureau"})
		}
		if online && granted {
			it.Channel, it.GrantedWithoutReview = c.ChannelOnline, true
		} else {
			offline(&it, ComprehensiveWindow(f))
		}
		if premiumPaid {
			ans.Notes = append(ans.Notes, c.Message{ZH: "已全额缴纳城乡居民基本医疗保险费的，资助资金退还至本人账户", EN: "if the premium was paid in full, the subsidy is refunded to the person"})
		}
		due(&it)
		ans.Items = append(ans.Items, it)
	}

	ans.Materials = Materials(f, w.Certificate, procs)
	for _, it := range ans.Items {
		if (it.Eligible || it.Review) && it.Channel == c.ChannelOffline {
			ans.Trips = 1 // 最多跑一次
		}
	}
	if d, provisional, err := cal.Due(today, c.WholeLimitDays); err == nil {
		ans.WholeDueDate, ans.WholeDueProvisional = d.String(), provisional
		if provisional {
			ans.Notes = append(ans.Notes, c.Message{ZH: "下一年度节假日安排尚未公布，标为“暂定”的办结日期按法定节假日推算，公布后可能调整",
				EN: "next year's holiday schedule is not yet published: due dates marked provisional are counted by the statutory holidays and may move once it is"})
		}
	} else {
		ans.Notes = append(ans.Notes, c.Message{ZH: "节假日安排尚未公布，部分办结日期暂无法计算", EN: "the holiday calendar is not yet published for part of the period: some due dates cannot be computed"})
	}
	return ans
}

// issued is the certificate cdpf issues on a business without assessment:
// the held one's category and grade, its validity kept (残损换新 and the
// other reprints) or ten years from today.
func issued(f Facts, p c.Procedure) *c.Certificate {
	if f.Certificate == nil {
		return nil
	}
	n := *f.Certificate
	if !p.KeepValidity {
		n.IssuedOn, n.ValidFrom = f.Today.String(), f.Today.String()
		n.ValidUntil = f.Today.Anniversary(10).AddDays(-1).String()
	}
	return &n
}

// The seed's materials (指南四), by code.
var (
	matJointForm  = c.MaterialJointForm
	matCertForm   = c.MaterialCertForm
	matAssessForm = c.MaterialAssessForm
	matIDCard     = c.MaterialIDCard
	matHousehold  = c.MaterialHousehold
	matSocialCard = c.MaterialSocialCard
	matPhotos     = c.MaterialPhotos
	matGuardian   = c.MaterialGuardian
	matMigration  = c.MaterialMigration
	matVoid       = c.MaterialVoid
	matWritten    = c.MaterialWritten
	matDeathProof = c.MaterialDeathProof
	matConclusion = c.MaterialConclusion
	matOldCert    = c.MaterialOldCert
)

// Materials is the checklist of this case (指南四): the joint form and the
// identity documents always; the certificate forms, photos and the proofs
// only where a certificate business needs them; guardian proof for minors
// and for intellectual or mental disability.
func Materials(f Facts, cert *c.CertificateRequest, procs []c.Procedure) []c.Material {
	out := []c.Material{matJointForm, matIDCard, matHousehold, matSocialCard}
	if cert == nil {
		return out
	}
	with := func(m c.Material, note *c.Message) {
		m.Items, m.Note = []c.ItemCode{cert.Business}, note
		out = append(out, m)
	}
	with(matCertForm, nil)
	var proc c.Procedure
	if len(procs) > 0 {
		proc = procs[0]
	}
	if proc.Assessment {
		with(matAssessForm, nil)
	}
	if proc.NewCertificate {
		with(matPhotos, nil)
	}
	category := cert.RequestedCategory
	if category == 0 && f.Certificate != nil {
		category = f.Certificate.Category
	}
	if f.Minor || category == c.CategoryIntellectual || category == c.CategoryMental {
		note := &c.Message{ZH: "申请人为未成年人", EN: "the applicant is a minor"}
		if !f.Minor {
			note = &c.Message{ZH: "智力、精神类残疾", EN: "intellectual or mental disability"}
		}
		with(matGuardian, note)
	}
	switch {
	case cert.Business == c.ItemCertMigrate:
		with(matMigration, nil)
	case cert.Business == c.ItemCertReissue:
		with(matVoid, nil)
	case cert.Business == c.ItemCertRenew && cert.SubKind == "info_update":
		with(matWritten, nil)
	case cert.Business == c.ItemCertCancel && cert.SubKind == "partial":
		with(matConclusion, nil)
	case cert.Business == c.ItemCertCancel:
		with(matWritten, nil)
		with(matDeathProof, nil)
	case cert.Business == c.ItemCertChange:
		with(matOldCert, nil)
	}
	return out
}
