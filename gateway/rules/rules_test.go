package rules

import (
	"strings"
	"testing"

	"onething/civil"
	c "onething/contracts"
	"onething/gateway/calendar"
)

// today is Monday 2026-11-30 in China.
var today = civil.MustParse("2026-11-30")

func held(cat, grade int, from string, visual bool) *c.Certificate {
	f := civil.MustParse(from)
	return &c.Certificate{Category: cat, Grade: grade, IssuedOn: from, ValidFrom: from,
		ValidUntil: f.Anniversary(10).AddDays(-1).String(), VisualAssessment: visual}
}

func tongchuan(mod func(*Facts)) Facts {
	f := Facts{Today: today, HouseholdDivision: "511702102"}
	if mod != nil {
		mod(&f)
	}
	return f
}

func TestCertificateBusinesses(t *testing.T) {
	cases := []struct {
		clause  string
		facts   Facts
		req     c.CertificateRequest
		refused bool
		want    c.Procedure // Clause is checked against the row's clause
	}{
		{ClauseCertNew, tongchuan(nil), c.CertificateRequest{Business: c.ItemCertNew, RequestedCategory: 4}, false,
			c.Procedure{Assessment: true, Publicity: true, ClockStart: c.ClockPublicity, NewCertificate: true}},
		{ClauseCertNew + " (未成年人原则上不予公示)", tongchuan(func(f *Facts) { f.Minor = true }), c.CertificateRequest{Business: c.ItemCertNew, RequestedCategory: 5}, false,
			c.Procedure{Assessment: true, Publicity: false, ClockStart: c.ClockAssessment, NewCertificate: true}},
		{ClauseCertNew + " (已持证不能新办)", tongchuan(func(f *Facts) { f.Certificate = held(4, 2, "2020-01-01", false) }), c.CertificateRequest{Business: c.ItemCertNew}, true, c.Procedure{}},
		{ClauseRenewExpiry + " (满九年)", tongchuan(func(f *Facts) { f.Certificate = held(4, 2, "2017-11-30", false) }), c.CertificateRequest{Business: c.ItemCertRenew, SubKind: "expiry"}, false,
			c.Procedure{ClockStart: c.ClockAcceptance, NewCertificate: true}},
		{ClauseRenewExpiry + " (未满九年)", tongchuan(func(f *Facts) { f.Certificate = held(4, 2, "2017-12-01", false) }), c.CertificateRequest{Business: c.ItemCertRenew, SubKind: "expiry"}, true, c.Procedure{}},
		{ClauseRenewExpiry + " (2018 年前目测评定须重新评定)", tongchuan(func(f *Facts) { f.Certificate = held(4, 3, "2016-03-10", true) }), c.CertificateRequest{Business: c.ItemCertRenew, SubKind: "expiry"}, false,
			c.Procedure{Assessment: true, Publicity: true, ClockStart: c.ClockPublicity, NewCertificate: true}},
		{ClauseRenewExpiry + " (2018 年后目测不重评)", tongchuan(func(f *Facts) { f.Certificate = held(4, 3, "2016-03-10", true); f.Certificate.IssuedOn = "2018-01-01" }), c.CertificateRequest{Business: c.ItemCertRenew, SubKind: "expiry"}, false,
			c.Procedure{ClockStart: c.ClockAcceptance, NewCertificate: true}},
		{ClauseRenewDamaged + " (有效期起始日期与原证一致)", tongchuan(func(f *Facts) { f.Certificate = held(4, 2, "2022-01-01", false) }), c.CertificateRequest{Business: c.ItemCertRenew, SubKind: "damaged"}, false,
			c.Procedure{ClockStart: c.ClockAcceptance, NewCertificate: true, KeepValidity: true}},
		{ClauseRenewInfo, tongchuan(func(f *Facts) { f.Certificate = held(4, 2, "2022-01-01", false) }), c.CertificateRequest{Business: c.ItemCertRenew, SubKind: "info_update"}, false,
			c.Procedure{ClockStart: c.ClockAcceptance, NewCertificate: true, KeepValidity: true}},
		{ClauseMigrate + " (迁入通川)", tongchuan(func(f *Facts) { f.Certificate = held(4, 2, "2022-01-01", false) }), c.CertificateRequest{Business: c.ItemCertMigrate}, false,
			c.Procedure{ClockStart: c.ClockAcceptance, NewCertificate: true, KeepValidity: true}},
		{ClauseMigrate + " (迁入达川区：迁入地县级残联办理，全省一个网关)", Facts{Today: today, HouseholdDivision: "511703", Certificate: held(4, 2, "2022-01-01", false)}, c.CertificateRequest{Business: c.ItemCertMigrate}, false,
			c.Procedure{ClockStart: c.ClockAcceptance, NewCertificate: true, KeepValidity: true}},
		{ClauseMigrate + " (迁入成都，无规则包)", Facts{Today: today, HouseholdDivision: "510104001", Certificate: held(4, 2, "2022-01-01", false)}, c.CertificateRequest{Business: c.ItemCertMigrate}, false,
			c.Procedure{ClockStart: c.ClockAcceptance, NewCertificate: true, KeepValidity: true}},
		{ClauseMigrate + " (迁入省外：向迁入地残联申请)", Facts{Today: today, HouseholdDivision: "500101", Certificate: held(4, 2, "2022-01-01", false)}, c.CertificateRequest{Business: c.ItemCertMigrate}, true, c.Procedure{}},
		{ClauseReissue, tongchuan(func(f *Facts) { f.Certificate = held(4, 2, "2022-01-01", false) }), c.CertificateRequest{Business: c.ItemCertReissue}, false,
			c.Procedure{ClockStart: c.ClockAcceptance, NewCertificate: true, KeepValidity: true}},
		{ClauseCancelFull + " (结果告知)", tongchuan(func(f *Facts) { f.Certificate = held(4, 2, "2022-01-01", false) }), c.CertificateRequest{Business: c.ItemCertCancel, SubKind: "full"}, false,
			c.Procedure{ClockStart: c.ClockAcceptance, NewCertificate: false}},
		{ClauseCancelPartial + " (出具新证)", tongchuan(func(f *Facts) { f.Certificate = held(7, 2, "2022-01-01", false) }), c.CertificateRequest{Business: c.ItemCertCancel, SubKind: "partial", RequestedCategory: 4}, false,
			c.Procedure{ClockStart: c.ClockAcceptance, NewCertificate: true, KeepValidity: true}},
		{ClauseChange + " (评定、公示、收回原证)", tongchuan(func(f *Facts) { f.Certificate = held(4, 3, "2022-01-01", false) }), c.CertificateRequest{Business: c.ItemCertChange, RequestedCategory: 4}, false,
			c.Procedure{Assessment: true, Publicity: true, ClockStart: c.ClockPublicity, NewCertificate: true, RecallOld: true}},
		{"换领须持证", tongchuan(nil), c.CertificateRequest{Business: c.ItemCertRenew, SubKind: "damaged"}, true, c.Procedure{}},
	}
	for _, tc := range cases {
		t.Run(tc.clause, func(t *testing.T) {
			got, why := Certificate(tc.facts, &tc.req)
			if (why != nil) != tc.refused {
				t.Fatalf("refusal %v, want refused=%v", why, tc.refused)
			}
			if why != nil {
				if why.ZH == "" || why.EN == "" {
					t.Error("a refusal needs a Chinese and an English reason")
				}
				return
			}
			got.Note = nil
			want := tc.want
			want.Clause = got.Clause
			if got != want {
				t.Errorf("procedure %+v, want %+v", got, want)
			}
			if got.Clause == "" {
				t.Error("no clause cited")
			}
		})
	}
}

func TestSubsidyEligibility(t *testing.T) {
	valid := func(cat, grade int) *c.Certificate { return held(cat, grade, "2020-05-01", false) }
	expired := held(4, 1, "2015-01-01", false)
	cases := []struct {
		clause     string
		facts      Facts
		cert       *c.Certificate
		living     bool
		nursing    c.ItemCode // "" = refused
		pension    bool
		medicalNow bool
	}{
		{ClauseTwoSubsidies + " 低保+一级", tongchuan(func(f *Facts) { f.Dibao = true }), valid(4, 1), true, c.ItemSubsidyNursing, true, true},
		{ClauseTwoSubsidies + " 二级非低保", tongchuan(nil), valid(1, 2), false, c.ItemSubsidyNursing, true, false},
		{ClauseTwoSubsidies + " 三级智力", tongchuan(nil), valid(5, 3), false, c.ItemSubsidyNursing34, false, false},
		{ClauseTwoSubsidies + " 四级精神", tongchuan(nil), valid(6, 4), false, c.ItemSubsidyNursing34, false, false},
		{ClauseTwoSubsidies + " 三级肢体", tongchuan(nil), valid(4, 3), false, "", false, false},
		{ClauseTwoSubsidies + " 达川区低保一级：通用规则", Facts{Today: today, HouseholdDivision: "511703", Dibao: true}, valid(4, 1), true, c.ItemSubsidyNursing, true, true},
		{ClauseTwoSubsidies + " 达川区三级智力：无三、四级护理补贴", Facts{Today: today, HouseholdDivision: "511703101", Dibao: true}, valid(5, 3), true, "", true, true},
		{ClauseTwoSubsidies + " 成都（无规则包）二级：通用规则", Facts{Today: today, HouseholdDivision: "510104"}, valid(1, 2), false, c.ItemSubsidyNursing, true, false},
		{ClauseTwoSubsidies + " 成都（无规则包）四级精神：无三、四级护理补贴", Facts{Today: today, HouseholdDivision: "510104", Dibao: true}, valid(6, 4), true, "", true, true},
		{ClauseTwoSubsidies + " 省外户籍", Facts{Today: today, HouseholdDivision: "500101", Dibao: true}, valid(4, 1), false, "", true, true},
		{ClauseTwoSubsidies + " 无证", tongchuan(func(f *Facts) { f.Dibao = true }), nil, false, "", true, true},
		{ClauseTwoSubsidies + " 证件过期", tongchuan(func(f *Facts) { f.Dibao = true }), expired, false, "", true, true},
		{ClausePension + " 特困", tongchuan(func(f *Facts) { f.Tekun = true }), nil, false, "", true, true},
		{ClauseMedical + " 孤儿", tongchuan(func(f *Facts) { f.Orphan = true }), nil, false, "", false, true},
		{ClausePension + " 未满16周岁不参保", tongchuan(func(f *Facts) { f.Dibao, f.Minor, f.Under16 = true, true, true }), valid(5, 1), true, c.ItemSubsidyNursing, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.clause, func(t *testing.T) {
			if got := Living(tc.facts, tc.cert) == nil; got != tc.living {
				t.Errorf("living %v, want %v", got, tc.living)
			}
			item, why := Nursing(tc.facts, tc.cert)
			if tc.nursing == "" && why == nil || tc.nursing != "" && (why != nil || item != tc.nursing) {
				t.Errorf("nursing %s %v, want %q", item, why, tc.nursing)
			}
			if got := Pension(tc.facts, tc.cert) == nil; got != tc.pension {
				t.Errorf("pension %v, want %v", got, tc.pension)
			}
			if got := MedicalGranted(tc.facts); got != tc.medicalNow {
				t.Errorf("medical granted without review %v, want %v", got, tc.medicalNow)
			}
		})
	}
}

// The reasons of the county rules: outside Sichuan the two subsidies are
// refused as not Sichuan's; a grade 3-4 intellectual or mental applicant of
// a county without the 三、四级 nursing subsidy is told the county has none
// (naming it); a grade 3 physical one there that grade 1-2 is needed.
func TestCountyNursingReasons(t *testing.T) {
	valid := held(5, 3, "2020-05-01", false)
	for _, tc := range []struct {
		div  string
		cert *c.Certificate
		want string // in the Chinese reason
		item c.ItemCode
	}{
		{"511702102", valid, "", c.ItemSubsidyNursing34},
		{"511703", valid, "达川区（511703）未设立", c.ItemSubsidyNursing},
		{"511781101", held(6, 4, "2020-05-01", false), "万源市（511781）未设立", c.ItemSubsidyNursing},
		{"510104", valid, "户籍地县（区划代码 510104）未设立", c.ItemSubsidyNursing},
		{"511703", held(4, 3, "2020-05-01", false), MsgNursingGrade12.ZH, c.ItemSubsidyNursing},
		{"511702", held(4, 3, "2020-05-01", false), MsgNursingGrade.ZH, c.ItemSubsidyNursing},
		{"500101", valid, MsgNotSichuan.ZH, c.ItemSubsidyNursing},
	} {
		f := Facts{Today: today, HouseholdDivision: tc.div, Dibao: true}
		item, why := Nursing(f, tc.cert)
		switch {
		case item != tc.item:
			t.Errorf("%s: %s, want %s", tc.div, item, tc.item)
		case tc.want == "" && why != nil:
			t.Errorf("%s: refused %v", tc.div, why)
		case tc.want != "" && (why == nil || !strings.Contains(why.ZH, tc.want) || why.EN == ""):
			t.Errorf("%s: reason %v, want one saying %q", tc.div, why, tc.want)
		}
		// The guide says the same.
		a := Guide(Facts{Today: today, HouseholdDivision: tc.div, Dibao: true, Certificate: tc.cert}, c.GuideWants{TwoSubsidies: true}, false, calendar.Default())
		it := guideItem(a, tc.item)
		if it == nil || (why == nil) != it.Eligible || (why != nil && it.Why != *why) {
			t.Errorf("%s: the guide says %+v, the rules %s %v", tc.div, it, item, why)
		}
	}
	if why := Living(Facts{Today: today, HouseholdDivision: "500101", Dibao: true}, valid); why != MsgNotSichuan {
		t.Errorf("living outside Sichuan: %v", why)
	}
}

// The guide's reviews name the applicant's county's offices; 通川区's
// texts are unchanged.
func TestReviewersOfTheCounty(t *testing.T) {
	newCert := c.GuideWants{Certificate: &c.CertificateRequest{Business: c.ItemCertNew, RequestedCategory: 5}, TwoSubsidies: true, Medical: true}
	for div, want := range map[string][3]string{
		"511702102": {"通川区残联（依据指定机构的残疾评定结论）", "通川区民政局（依据残联核发的残疾人证）", "the Tongchuan Medical Security bureau"},
		"511703":    {"达川区残联（依据指定机构的残疾评定结论）", "达川区民政局（依据残联核发的残疾人证）", "the Dachuan Medical Security bureau"},
		"510104":    {"户籍地县（区划代码 510104）残联", "户籍地县（区划代码 510104）民政局", "the county 510104 Medical Security bureau"},
	} {
		a := Guide(Facts{Today: today, HouseholdDivision: div, Dibao: true}, newCert, false, calendar.Default())
		cert, living, medical := guideItem(a, c.ItemCertNew), guideItem(a, c.ItemSubsidyLiving), guideItem(a, c.ItemMedicalSubsidy)
		if cert == nil || living == nil || medical == nil || cert.ReviewBy == nil || living.ReviewBy == nil {
			t.Fatalf("%s: %+v", div, a.Items)
		}
		if !strings.HasPrefix(cert.ReviewBy.ZH, want[0]) || !strings.HasPrefix(living.ReviewBy.ZH, want[1]) {
			t.Errorf("%s: reviewed by %q and %q, want %q and %q", div, cert.ReviewBy.ZH, living.ReviewBy.ZH, want[0], want[1])
		}
		// medical is granted to a 低保 recipient: ask for an "other" group.
		b := Guide(Facts{Today: today, HouseholdDivision: div}, c.GuideWants{Medical: true}, false, calendar.Default())
		if m := guideItem(b, c.ItemMedicalSubsidy); m == nil || m.ReviewBy == nil || m.ReviewBy.EN != want[2] {
			t.Errorf("%s: medical reviewed by %+v, want %q", div, m, want[2])
		}
	}
	// 达川区 has no 三、四级 nursing subsidy: a certificate under assessment
	// decides the nursing subsidy by its grade alone.
	a := Guide(Facts{Today: today, HouseholdDivision: "511703", Dibao: true}, newCert, false, calendar.Default())
	if n := guideItem(a, c.ItemSubsidyNursing); n == nil || !n.Review || n.ReviewOf == nil || *n.ReviewOf != ReviewOfNursing12 {
		t.Errorf("达川区 nursing under assessment: %+v", n)
	}
	a = Guide(Facts{Today: today, HouseholdDivision: "511702001", Dibao: true}, newCert, false, calendar.Default())
	if n := guideItem(a, c.ItemSubsidyNursing); n == nil || !n.Review || n.ReviewOf == nil || *n.ReviewOf != ReviewOfNursing {
		t.Errorf("通川区 nursing under assessment: %+v", n)
	}
}

func guideItem(a c.GuideAnswer, item c.ItemCode) *c.GuideItem {
	for i := range a.Items {
		if a.Items[i].Item == item {
			return &a.Items[i]
		}
	}
	return nil
}

func TestChannels(t *testing.T) {
	cal := calendar.Default()
	holder := held(4, 2, "2020-05-01", false)
	all := c.GuideWants{TwoSubsidies: true, Pension: true, Medical: true}
	cases := []struct {
		clause  string
		facts   Facts
		wants   c.GuideWants
		online  bool
		channel map[c.ItemCode]c.Channel
		window  map[c.ItemCode]string // expected Chinese window text
		granted map[c.ItemCode]bool
	}{
		{ClauseOnline + " 持证+四川低保", tongchuan(func(f *Facts) { f.Certificate, f.Dibao = holder, true }), all, true,
			map[c.ItemCode]c.Channel{c.ItemSubsidyLiving: c.ChannelOnline, c.ItemSubsidyNursing: c.ChannelOnline, c.ItemPensionSubsidy: c.ChannelOnline, c.ItemMedicalSubsidy: c.ChannelOnline},
			nil, map[c.ItemCode]bool{c.ItemPensionSubsidy: true, c.ItemMedicalSubsidy: true}},
		{ClauseOnline + " 四川外县低保持证：线上开通，两项补贴按本县规则", Facts{Today: today, HouseholdDivision: "511703", Certificate: holder, Dibao: true}, all, true,
			map[c.ItemCode]c.Channel{c.ItemSubsidyLiving: c.ChannelOnline, c.ItemSubsidyNursing: c.ChannelOnline, c.ItemPensionSubsidy: c.ChannelOnline, c.ItemMedicalSubsidy: c.ChannelOnline}, nil, nil},
		{ClauseOffline + " 达川区持证非低保：本县窗口（规则包未核实，无窗口）", Facts{Today: today, HouseholdDivision: "511703101", Certificate: holder}, all, false,
			map[c.ItemCode]c.Channel{c.ItemSubsidyNursing: c.ChannelOffline, c.ItemPensionSubsidy: c.ChannelOffline},
			map[c.ItemCode]string{c.ItemSubsidyNursing: "户籍地达川区（511703）“扶残助困一件事”综合受理窗口", c.ItemMedicalSubsidy: "户籍地达川区（511703）“扶残助困一件事”综合受理窗口"}, nil},
		{ClauseOffline + " 达川区未持证：本县残联窗口", Facts{Today: today, HouseholdDivision: "511703101", Dibao: true}, c.GuideWants{Certificate: &c.CertificateRequest{Business: c.ItemCertNew, RequestedCategory: 4}, TwoSubsidies: true}, false,
			map[c.ItemCode]c.Channel{c.ItemCertNew: c.ChannelOffline, c.ItemSubsidyLiving: c.ChannelOffline},
			map[c.ItemCode]string{c.ItemCertNew: "户籍地达川区（511703）残联窗口", c.ItemSubsidyLiving: "户籍地达川区（511703）残联窗口"}, nil},
		{ClauseOffline + " 成都（无规则包）：户籍地县级窗口", Facts{Today: today, HouseholdDivision: "510104001", Certificate: holder}, all, false,
			map[c.ItemCode]c.Channel{c.ItemSubsidyNursing: c.ChannelOffline},
			map[c.ItemCode]string{c.ItemSubsidyNursing: "户籍地县级（区划代码 510104）“扶残助困一件事”综合受理窗口"}, nil},
		{ClauseOffline + " 通川区（区级代码）：区政务服务中心、区残联或乡镇残联窗口", Facts{Today: today, HouseholdDivision: "511702"}, c.GuideWants{Certificate: &c.CertificateRequest{Business: c.ItemCertNew, RequestedCategory: 4}, Medical: true}, false,
			map[c.ItemCode]c.Channel{c.ItemCertNew: c.ChannelOffline, c.ItemMedicalSubsidy: c.ChannelOffline},
			map[c.ItemCode]string{c.ItemCertNew: "通川区残联或乡镇（街道）残联窗口", c.ItemMedicalSubsidy: "通川区政务服务中心“扶残助困一件事”综合受理窗口"}, nil},
		{ClauseOffline + " 未持证低保：残联窗口", tongchuan(func(f *Facts) { f.Dibao = true }), c.GuideWants{Certificate: &c.CertificateRequest{Business: c.ItemCertNew, RequestedCategory: 4}, TwoSubsidies: true, Medical: true}, false,
			map[c.ItemCode]c.Channel{c.ItemCertNew: c.ChannelOffline, c.ItemSubsidyLiving: c.ChannelOffline, c.ItemMedicalSubsidy: c.ChannelOffline},
			map[c.ItemCode]string{c.ItemCertNew: "通川区残联或罗江镇残联窗口", c.ItemMedicalSubsidy: "罗江镇便民服务中心“扶残助困一件事”综合受理窗口（或通川区政务服务中心综合受理窗口）"}, nil},
		{ClauseOffline + " 持证非低保：户籍地综合窗口", tongchuan(func(f *Facts) { f.Certificate = holder }), all, false,
			map[c.ItemCode]c.Channel{c.ItemSubsidyNursing: c.ChannelOffline, c.ItemPensionSubsidy: c.ChannelOffline, c.ItemMedicalSubsidy: c.ChannelOffline},
			map[c.ItemCode]string{c.ItemSubsidyNursing: "罗江镇便民服务中心“扶残助困一件事”综合受理窗口（或通川区政务服务中心综合受理窗口）"}, nil},
		{ClauseOffline + " 持证低保换证：证件业务须线下", tongchuan(func(f *Facts) { f.Certificate, f.Dibao = held(4, 2, "2016-01-01", false), true }), c.GuideWants{Certificate: &c.CertificateRequest{Business: c.ItemCertRenew, SubKind: "expiry"}, TwoSubsidies: true}, true,
			map[c.ItemCode]c.Channel{c.ItemCertRenew: c.ChannelOffline, c.ItemSubsidyLiving: c.ChannelOffline, c.ItemSubsidyNursing: c.ChannelOffline}, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.clause, func(t *testing.T) {
			a := Guide(tc.facts, tc.wants, false, cal)
			if a.Online.Offered != tc.online || a.Online.Why.ZH == "" {
				t.Errorf("online %v (%s), want %v", a.Online.Offered, a.Online.Why.ZH, tc.online)
			}
			for item, ch := range tc.channel {
				it := guideItem(a, item)
				if it == nil || !(it.Eligible || it.Review) || it.Channel != ch {
					t.Errorf("%s: %+v, want eligible or under review via %s", item, it, ch)
				}
				if it != nil && ch == c.ChannelOffline && (it.Window == nil || it.Window.ZH == "") {
					t.Errorf("%s: offline without a window", item)
				}
			}
			for item, w := range tc.window {
				if it := guideItem(a, item); it == nil || it.Window == nil || it.Window.ZH != w {
					t.Errorf("%s window %+v, want %s", item, it, w)
				}
			}
			for item, g := range tc.granted {
				if it := guideItem(a, item); it == nil || it.GrantedWithoutReview != g {
					t.Errorf("%s granted without review: %+v, want %v", item, it, g)
				}
			}
			for _, it := range a.Items {
				if it.Why.ZH == "" || it.Why.EN == "" || it.Clause == "" {
					t.Errorf("%s lacks a bilingual reason or clause: %+v", it.Item, it)
				}
			}
		})
	}
}

func TestGuideRefusesWithReasons(t *testing.T) {
	// 指南二(二)(三): a grade 3 physical holder without 低保 gets none of
	// the subsidies; each refusal says why.
	f := tongchuan(func(f *Facts) { f.Certificate = held(4, 3, "2020-06-01", false) })
	a := Guide(f, c.GuideWants{TwoSubsidies: true, Pension: true}, false, calendar.Default())
	want := map[c.ItemCode]*c.Message{c.ItemSubsidyLiving: MsgLivingNeedsDibao, c.ItemSubsidyNursing: MsgNursingGrade, c.ItemPensionSubsidy: MsgPensionNotEligible}
	for item, why := range want {
		it := guideItem(a, item)
		if it == nil || it.Eligible || it.Why != *why {
			t.Errorf("%s: %+v, want refused with %q", item, it, why.ZH)
		}
	}
}

func codes(ms []c.Material) map[string]bool {
	out := map[string]bool{}
	for _, m := range ms {
		out[m.Code] = true
	}
	return out
}

func TestMaterials(t *testing.T) {
	base := []string{"joint_form", "id_card", "household_register", "social_security_card"}
	h := held(4, 2, "2016-01-01", false)
	cases := []struct {
		clause string
		facts  Facts
		req    *c.CertificateRequest
		extra  []string
	}{
		{ClauseMaterials + " 仅补贴", tongchuan(func(f *Facts) { f.Certificate = h }), nil, nil},
		{ClauseMaterials + " 新办", tongchuan(nil), &c.CertificateRequest{Business: c.ItemCertNew, RequestedCategory: 4},
			[]string{"certificate_application_form", "assessment_form", "photos"}},
		{ClauseMaterials + " 新办智力（监护人）", tongchuan(nil), &c.CertificateRequest{Business: c.ItemCertNew, RequestedCategory: 5},
			[]string{"certificate_application_form", "assessment_form", "photos", "guardian_proof"}},
		{ClauseMaterials + " 未成年人新办（监护人）", tongchuan(func(f *Facts) { f.Minor = true }), &c.CertificateRequest{Business: c.ItemCertNew, RequestedCategory: 4},
			[]string{"certificate_application_form", "assessment_form", "photos", "guardian_proof"}},
		{ClauseMaterials + " 到期换证", tongchuan(func(f *Facts) { f.Certificate = h }), &c.CertificateRequest{Business: c.ItemCertRenew, SubKind: "expiry"},
			[]string{"certificate_application_form", "photos"}},
		{ClauseMaterials + " 资料更新（书面申请）", tongchuan(func(f *Facts) { f.Certificate = h }), &c.CertificateRequest{Business: c.ItemCertRenew, SubKind: "info_update"},
			[]string{"certificate_application_form", "photos", "written_request"}},
		{ClauseMaterials + " 迁移", tongchuan(func(f *Facts) { f.Certificate = h }), &c.CertificateRequest{Business: c.ItemCertMigrate},
			[]string{"certificate_application_form", "photos", "migration_proof"}},
		{ClauseMaterials + " 挂失补办", tongchuan(func(f *Facts) { f.Certificate = h }), &c.CertificateRequest{Business: c.ItemCertReissue},
			[]string{"certificate_application_form", "photos", "void_declaration"}},
		{ClauseMaterials + " 注销", tongchuan(func(f *Facts) { f.Certificate = h }), &c.CertificateRequest{Business: c.ItemCertCancel, SubKind: "full"},
			[]string{"certificate_application_form", "written_request", "death_or_condition_proof"}},
		{ClauseMaterials + " 部分注销", tongchuan(func(f *Facts) { f.Certificate = held(7, 2, "2020-01-01", false) }), &c.CertificateRequest{Business: c.ItemCertCancel, SubKind: "partial", RequestedCategory: 4},
			[]string{"certificate_application_form", "photos", "assessment_conclusion"}},
		{ClauseMaterials + " 变更（收回原证）", tongchuan(func(f *Facts) { f.Certificate = h }), &c.CertificateRequest{Business: c.ItemCertChange, RequestedCategory: 4},
			[]string{"certificate_application_form", "assessment_form", "photos", "old_certificate"}},
	}
	for _, tc := range cases {
		t.Run(tc.clause, func(t *testing.T) {
			var procs []c.Procedure
			if tc.req != nil {
				p, why := Certificate(tc.facts, tc.req)
				if why != nil {
					t.Fatalf("refused: %v", why)
				}
				procs = append(procs, p)
			}
			got := codes(Materials(tc.facts, tc.req, procs))
			want := append(append([]string{}, base...), tc.extra...)
			if len(got) != len(want) {
				t.Errorf("materials %v, want %v", got, want)
			}
			for _, w := range want {
				if !got[w] {
					t.Errorf("missing %s", w)
				}
			}
		})
	}
}

func TestGuideDeadlines(t *testing.T) {
	// 指南一(十三): subsidies 10, pension 45, medical 15 working days from
	// acceptance; cert.new from the publicity day (no date yet).
	f := tongchuan(func(f *Facts) { f.Dibao = true })
	f.Today = civil.MustParse("2026-09-18") // Friday before 中秋 and 国庆
	a := Guide(f, c.GuideWants{Certificate: &c.CertificateRequest{Business: c.ItemCertNew, RequestedCategory: 4}, TwoSubsidies: true, Pension: true, Medical: true}, false, calendar.Default())
	// From 2026-09-18: Sun 9-20 (调休) 1, 9-21..24 5, 9-28..30 8, 10-8/9 10,
	// Sat 10-10 (调休) 11, 10-12..15 15.
	if it := guideItem(a, c.ItemMedicalSubsidy); it == nil || it.LimitDays != 15 || it.DueDate != "2026-10-15" {
		t.Errorf("medical: %+v, want 15 days due 2026-10-15", it)
	}
	if it := guideItem(a, c.ItemCertNew); it == nil || it.LimitDays != 15 || it.ClockStart != c.ClockPublicity || it.DueDate != "" {
		t.Errorf("cert.new: %+v, want the clock from publicity and no date yet", it)
	}
	if it := guideItem(a, c.ItemPensionSubsidy); it == nil || it.LimitDays != 45 {
		t.Errorf("pension: %+v", it)
	}
	if it := guideItem(a, c.ItemSubsidyLiving); it == nil || it.LimitDays != 10 {
		t.Errorf("living: %+v", it)
	}
	if a.WholeLimitDays != 45 || a.WholeDueDate == "" {
		t.Errorf("whole: %d %s", a.WholeLimitDays, a.WholeDueDate)
	}
	// 2027 is published: a date reaching into it is not provisional.
	f.Today = civil.MustParse("2026-12-20")
	a = Guide(f, c.GuideWants{Pension: true}, false, calendar.Default())
	if it := guideItem(a, c.ItemPensionSubsidy); it.DueDate < "2027-01-01" || it.Provisional || a.WholeDueProvisional {
		t.Errorf("2027 from the published schedule: %+v %s", it, a.WholeDueDate)
	}
	// A due date in a year not yet published is counted by the statutory
	// rule and says so (and a note explains it), never left empty.
	f.Today = civil.MustParse("2027-12-20")
	a = Guide(f, c.GuideWants{Pension: true}, false, calendar.Default())
	if it := guideItem(a, c.ItemPensionSubsidy); it.DueDate < "2028-01-01" || !it.Provisional || !a.WholeDueProvisional || a.WholeDueDate == "" || len(a.Notes) == 0 {
		t.Errorf("2028 dates not marked provisional: %+v %s %v", it, a.WholeDueDate, a.Notes)
	}
}
