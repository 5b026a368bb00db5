// Package contracts is the language the gateway, the adapters, the mocks and
// the integrators share: the canonical model of a "扶残助困一件事" application,
// the department and portal payloads, and the validation rules for the
// identifiers in them. The OpenAPI documents in contracts/openapi describe the
// same shapes on the wire; spec_test.go keeps the two in step.
package contracts

import "time"

// Message is a text for people in Chinese with an English twin for integrators.
type Message struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

// Dept is one of the four department systems behind the gateway.
type Dept string

const (
	DeptCDPF    Dept = "cdpf"    // 区残联: 全国残联信息化服务平台
	DeptCivil   Dept = "civil"   // 区民政局: 全国残疾人两项补贴信息系统
	DeptHRSS    Dept = "hrss"    // 区人社局: 城乡居民养老保险系统
	DeptMedical Dept = "medical" // 区医保局: 医疗保障信息系统
)

// Depts lists every department in a stable order.
var Depts = []Dept{DeptCDPF, DeptCivil, DeptHRSS, DeptMedical}

// Valid reports whether d names a known department.
func (d Dept) Valid() bool {
	for _, k := range Depts {
		if d == k {
			return true
		}
	}
	return false
}

// Channel is how the application reached the gateway.
type Channel string

const (
	ChannelOnline  Channel = "online"  // 四川省一体化政务服务平台 "扶残助困一件事" 专区
	ChannelOffline Channel = "offline" // 综合受理窗口
)

// Sexes of Applicant.Sex.
const (
	SexMale   = "male"   // 男
	SexFemale = "female" // 女
)

// HouseholdType is 户籍类别 on the joint form.
type HouseholdType string

const (
	HouseholdAgricultural    HouseholdType = "agricultural"     // 农业
	HouseholdNonAgricultural HouseholdType = "non_agricultural" // 非农业
)

// Submission is the joint application (附件5 申请表) as the portal or the
// comprehensive window sends it: accepted once, fanned out to four departments.
type Submission struct {
	// PortalRef is the portal's own case reference; the same submission
	// again under it returns the first application, another submission
	// under it is refused (portal_ref_conflict).
	PortalRef   string    `json:"portalRef"`
	Channel     Channel   `json:"channel"`
	SubmittedAt time.Time `json:"submittedAt"`
	Applicant   Applicant `json:"applicant"`
	Requests    Requests  `json:"requests"`
	Delivery    Delivery  `json:"delivery"`
	// Intake is set by the window console only: never read from a
	// portal's body.
	Intake *Intake `json:"-"`
}

// Applicant is 申请人基本情况 plus the facts the items depend on.
type Applicant struct {
	Name      string `json:"name"`
	IDNumber  string `json:"idNumber"`
	BirthDate string `json:"birthDate"` // YYYY-MM-DD, must agree with the ID number
	// Sex is 性别 of the joint form (附件5): SexMale or SexFemale, or empty
	// where the sender does not give it; given, it must agree with the ID
	// number (its 17th digit: odd for men).
	Sex           string        `json:"sex,omitempty"`
	Ethnicity     string        `json:"ethnicity"`
	Mobile        string        `json:"mobile"`
	Address       Address       `json:"address"`
	HouseholdType HouseholdType `json:"householdType"`
	// HouseholdDivision is the division code (6, 9 or 12 digits) of the
	// household registration (户籍地); Tongchuan registration is 511702….
	HouseholdDivision string    `json:"householdDivision"`
	Guardian          *Guardian `json:"guardian,omitempty"`
	ContactPhone      string    `json:"contactPhone,omitempty"`
	// Assistance groups the applicant belongs to, as declared on the form and
	// confirmed by Civil Affairs (低保对象, 特困人员, 孤儿).
	Dibao  bool `json:"dibao"`
	Tekun  bool `json:"tekun"`
	Orphan bool `json:"orphan"`
	// Certificate is the disability certificate the applicant already holds.
	Certificate *Certificate `json:"certificate,omitempty"`
}

// Address is 现住址.
type Address struct {
	Province     string `json:"province"`
	City         string `json:"city"`
	County       string `json:"county"`
	Town         string `json:"town"`
	Village      string `json:"village"`
	Detail       string `json:"detail,omitempty"`
	DivisionCode string `json:"divisionCode,omitempty"` // town/street code (9 digits) where known
}

// Guardian is 监护人; required for minors.
type Guardian struct {
	Name     string `json:"name"`
	Relation string `json:"relation"`
	Phone    string `json:"phone"`
}

// Certificate is the face data of a 中华人民共和国残疾人证.
type Certificate struct {
	Number     string `json:"number"`
	Category   int    `json:"category"` // 1 视力 … 7 多重
	Grade      int    `json:"grade"`    // 1 (most severe) … 4
	IssuedOn   string `json:"issuedOn"` // YYYY-MM-DD
	ValidFrom  string `json:"validFrom"`
	ValidUntil string `json:"validUntil"`
	// VisualAssessment marks a pre-2018 certificate issued from 目测评定.
	VisualAssessment bool `json:"visualAssessment,omitempty"`
}

// Requests is 办理事项: what the applicant ticked on the form.
type Requests struct {
	Certificate  *CertificateRequest  `json:"certificate,omitempty"`
	TwoSubsidies *TwoSubsidiesRequest `json:"twoSubsidies,omitempty"`
	Pension      *PensionRequest      `json:"pension,omitempty"`
	Medical      *MedicalRequest      `json:"medical,omitempty"`
}

// Empty reports whether nothing was requested.
func (r Requests) Empty() bool {
	return r.Certificate == nil && r.TwoSubsidies == nil && r.Pension == nil && r.Medical == nil
}

// CertificateRequest is one of the six certificate businesses (all through cdpf).
type CertificateRequest struct {
	Business ItemCode `json:"business"` // cert.new, cert.renew, …
	// SubKind: renew: expiry | damaged | info_update; cancel: full | partial.
	SubKind string `json:"subKind,omitempty"`
	// RequestedCategory is the disability category applied for (new, change).
	RequestedCategory int    `json:"requestedCategory,omitempty"`
	Note              string `json:"note,omitempty"`
}

// TwoSubsidiesRequest is the "残疾人两项补贴" box; which of the three kinds
// apply follows from grade, category and 低保 status.
type TwoSubsidiesRequest struct {
	// GradeBox is what window staff ticked from the assessment:
	// grade1 | grade2 | grade34_intellectual_mental | other (optional).
	GradeBox string `json:"gradeBox,omitempty"`
}

// PensionRequest is the pension-subsidy box: no application is needed, it is
// granted from shared data (免审即享).
type PensionRequest struct{}

// MedicalRequest is the medical-insurance contribution subsidy box.
type MedicalRequest struct {
	Identity      string `json:"identity"` // dibao | tekun | orphan | other
	IdentityOther string `json:"identityOther,omitempty"`
	PremiumPaid   bool   `json:"premiumPaid"` // 是否已全额缴纳
}

// Delivery is 送达方式.
type Delivery struct {
	Method    string `json:"method"` // post | pickup
	Address   string `json:"address,omitempty"`
	Recipient string `json:"recipient,omitempty"`
	Phone     string `json:"phone,omitempty"`
}
