package contracts

// ItemCode names one 办理事项.
type ItemCode string

const (
	ItemCertNew          ItemCode = "cert.new"
	ItemCertRenew        ItemCode = "cert.renew"
	ItemCertMigrate      ItemCode = "cert.migrate"
	ItemCertReissue      ItemCode = "cert.reissue"
	ItemCertCancel       ItemCode = "cert.cancel"
	ItemCertChange       ItemCode = "cert.change"
	ItemSubsidyLiving    ItemCode = "subsidy.living"
	ItemSubsidyNursing   ItemCode = "subsidy.nursing"
	ItemSubsidyNursing34 ItemCode = "subsidy.nursing34"
	ItemPensionSubsidy   ItemCode = "pension.subsidy"
	ItemMedicalSubsidy   ItemCode = "medical.subsidy"
)

// ClockStart says from which day an item's legal time limit runs.
type ClockStart string

const (
	ClockAcceptance ClockStart = "acceptance" // 自受理之日起
	ClockPublicity  ClockStart = "publicity"  // 自评定结果公示之日起
	// ClockAssessment: a minor is assessed without publicity (原则上不予公示),
	// so the clock runs from the day the assessment result is known.
	ClockAssessment ClockStart = "assessment"
)

// ItemInfo is the fixed data of one item, from the seed's 办事指南.
type ItemInfo struct {
	Code       ItemCode
	Dept       Dept
	Name       Message
	LimitDays  int // legal time limit in working days
	ClockStart ClockStart
}

// Items is the catalogue of every item of the one thing.
var Items = map[ItemCode]ItemInfo{
	ItemCertNew:          {ItemCertNew, DeptCDPF, Message{"残疾人证新办", "New disability certificate"}, 15, ClockPublicity},
	ItemCertRenew:        {ItemCertRenew, DeptCDPF, Message{"残疾人证换领", "Certificate renewal"}, 15, ClockAcceptance},
	ItemCertMigrate:      {ItemCertMigrate, DeptCDPF, Message{"残疾人证迁移", "Certificate migration"}, 15, ClockAcceptance},
	ItemCertReissue:      {ItemCertReissue, DeptCDPF, Message{"残疾人证挂失补办", "Lost certificate reissue"}, 15, ClockAcceptance},
	ItemCertCancel:       {ItemCertCancel, DeptCDPF, Message{"残疾人证注销", "Certificate cancellation"}, 15, ClockAcceptance},
	ItemCertChange:       {ItemCertChange, DeptCDPF, Message{"残疾人证类别/等级变更", "Certificate category/grade change"}, 15, ClockPublicity},
	ItemSubsidyLiving:    {ItemSubsidyLiving, DeptCivil, Message{"困难残疾人生活补贴", "Living subsidy for disabled people in hardship"}, 10, ClockAcceptance},
	ItemSubsidyNursing:   {ItemSubsidyNursing, DeptCivil, Message{"重度残疾人护理补贴", "Nursing subsidy for severely disabled people"}, 10, ClockAcceptance},
	ItemSubsidyNursing34: {ItemSubsidyNursing34, DeptCivil, Message{"三、四级智力和精神残疾人护理补贴", "Nursing subsidy for grade 3-4 intellectual and mental disability"}, 10, ClockAcceptance},
	ItemPensionSubsidy:   {ItemPensionSubsidy, DeptHRSS, Message{"城乡居民基本养老保险补助", "Residents' basic pension contribution subsidy"}, 45, ClockAcceptance},
	ItemMedicalSubsidy:   {ItemMedicalSubsidy, DeptMedical, Message{"救助对象参加城乡居民基本医疗保险个人缴费补贴", "Medical insurance individual contribution subsidy"}, 15, ClockAcceptance},
}

// IsCertificateBusiness reports whether c is one of the six cdpf businesses.
func (c ItemCode) IsCertificateBusiness() bool {
	info, ok := Items[c]
	return ok && info.Dept == DeptCDPF
}

// WholeLimitDays is the time limit of the whole one thing (四减: 60 -> 45).
const WholeLimitDays = 45

// Disability categories (残疾类别), the 19th character of a certificate number.
const (
	CategoryVisual       = 1 // 视力
	CategoryHearing      = 2 // 听力
	CategorySpeech       = 3 // 言语
	CategoryPhysical     = 4 // 肢体
	CategoryIntellectual = 5 // 智力
	CategoryMental       = 6 // 精神
	CategoryMultiple     = 7 // 多重
)

// CategoryNames are the Chinese and English names of the categories.
var CategoryNames = map[int]Message{
	1: {"视力残疾", "visual"}, 2: {"听力残疾", "hearing"}, 3: {"言语残疾", "speech"},
	4: {"肢体残疾", "physical"}, 5: {"智力残疾", "intellectual"}, 6: {"精神残疾", "mental"},
	7: {"多重残疾", "multiple"},
}
