package contracts

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"onething/civil"
)

// Normalize writes what has two spellings in its one form: an ID number's
// check character x as X (in the applicant's ID number and the
// certificate number), as portals and card readers send both.
func (s *Submission) Normalize() {
	s.Applicant.IDNumber = NormalizeIDNumber(s.Applicant.IDNumber)
	if cert := s.Applicant.Certificate; cert != nil {
		cert.Number = NormalizeCertificateNumber(cert.Number)
	}
}

// Validate normalizes the submission (Normalize), then checks it completely
// and returns every problem found, so the caller can fix them all in one
// go. today is the civil date in China on which it is accepted.
func (s *Submission) Validate(today civil.Date) []FieldError {
	s.Normalize()
	v := &validator{}
	v.portalRef("portalRef", s.PortalRef, today)
	switch s.Channel {
	case ChannelOnline, ChannelOffline:
	default:
		v.add("channel", "invalid_choice", "办理渠道须为 online 或 offline", "channel must be online or offline")
	}
	if s.SubmittedAt.IsZero() {
		v.add("submittedAt", "required", "缺少提交时间", "submittedAt is required")
	}
	id := v.applicant(&s.Applicant, today)
	v.requests(&s.Requests, &s.Applicant, id, today)
	if s.Channel == ChannelOnline {
		v.online(s)
	}
	v.delivery(&s.Delivery)
	return v.errs
}

type validator struct{ errs []FieldError }

func (v *validator) add(field, code, zh, en string) {
	v.errs = append(v.errs, FieldError{Field: field, Code: code, Message: zh, MessageEn: en})
}

func (v *validator) required(field, value, zhName string) bool {
	if strings.TrimSpace(value) == "" {
		v.add(field, "required", "缺少必填项："+zhName, field+" is required")
		return false
	}
	return true
}

func (v *validator) maxLen(field, value string, n int) bool {
	if utf8.RuneCountInString(value) > n {
		v.add(field, "too_long", fmt.Sprintf("内容过长，最多 %d 个字符", n), fmt.Sprintf("%s must be at most %d characters", field, n))
		return false
	}
	return true
}

// validPortalRef: 1-64 of [A-Za-z0-9_.:-], the first a letter or digit.
func validPortalRef(ref string) bool {
	if len(ref) == 0 || len(ref) > 64 || !isASCIIAlnum(ref[0]) {
		return false
	}
	for i := 1; i < len(ref); i++ {
		if b := ref[i]; !isASCIIAlnum(b) && b != '_' && b != '.' && b != ':' && b != '-' {
			return false
		}
	}
	return true
}

func isASCIIAlnum(b byte) bool {
	return b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9'
}

func (v *validator) portalRef(field, ref string, today civil.Date) {
	if !v.required(field, ref, "平台办件编号") {
		return
	}
	switch {
	case !validPortalRef(ref):
		v.add(field, "invalid_format", "平台办件编号只能由字母、数字和 _ . : - 组成，最多 64 位", "portalRef must be 1-64 letters, digits, _ . : -")
	case personalInRef(ref, today):
		// A reference is echoed in replies, pushes and the console, and
		// outlives an erasure: it must not be a person's number.
		v.add(field, "invalid_format", "平台办件编号不得含有公民身份号码、残疾人证号或手机号码", "portalRef must not hold an ID, certificate or mobile number")
	}
}

// personalInRef reports whether a reference holds a citizen ID number (a
// run of 17 digits and a check character that is one, alone or as the
// start of a certificate number) or a mobile number standing alone. Longer
// runs of digits (a portal's sequence numbers) are not read as either.
func personalInRef(ref string, today civil.Date) bool {
	return personalRunIn(ref, today) || personalRunIn(JoinDigitGroups(ref), today)
}

// JoinDigitGroups drops every . _ : or - that stands between two groups of
// digits only (a group of a UUID or hash, letters and digits, is not one),
// so that 138-8180-1234 and 511702-19850307-123X read as the numbers they
// are (request ids, portal references).
func JoinDigitGroups(id string) string {
	isSep := func(c byte) bool { return c == '.' || c == '_' || c == '-' || c == ':' }
	b := make([]byte, 0, len(id))
	for i := 0; i < len(id); i++ {
		if isSep(id[i]) && i > 0 && i+1 < len(id) && isDigitByte(id[i-1]) && isDigitByte(id[i+1]) {
			l, r := i-1, i+1
			for l > 0 && isDigitByte(id[l-1]) {
				l--
			}
			for r < len(id) && isDigitByte(id[r]) {
				r++
			}
			if r < len(id) && (id[r] == 'X' || id[r] == 'x') && (r+1 == len(id) || isSep(id[r+1])) {
				r++ // an ID number's check character
			}
			if (l == 0 || isSep(id[l-1])) && (r == len(id) || isSep(id[r])) {
				continue
			}
		}
		b = append(b, id[i])
	}
	return string(b)
}

func isDigitByte(b byte) bool { return b >= '0' && b <= '9' }

// personalRunIn is personalInRef on ref as it is: its runs of digits.
func personalRunIn(ref string, today civil.Date) bool {
	for i := 0; i < len(ref); {
		if !isDigitByte(ref[i]) {
			i++
			continue
		}
		j := i
		for j < len(ref) && (isDigitByte(ref[j]) || j-i == 17 && (ref[j] == 'X' || ref[j] == 'x')) {
			j++
		}
		run := ref[i:j]
		if len(run) == 18 || len(run) == 20 {
			if _, err := ParseIDNumber(NormalizeIDNumber(run[:18]), today); err == nil {
				return true
			}
		}
		mobile := func(d string) bool { return len(d) == 11 && d[0] == '1' && d[1] >= '3' }
		if mobile(run) || len(run) == 13 && run[:2] == "86" && mobile(run[2:]) {
			return true
		}
		if len(run) == 15 && validProvince(run[:2]) {
			// An ID number of the first generation: its birth date is
			// YYMMDD of the 1900s.
			if _, err := civil.Parse("19" + run[6:8] + "-" + run[8:10] + "-" + run[10:12]); err == nil {
				return true
			}
		}
		i = j
	}
	return false
}

// validPersonName accepts Chinese names (with the middle dot of minority
// names, e.g. 阿卜杜·热合曼) and Latin-script names.
func validPersonName(s string) bool {
	if s != strings.TrimSpace(s) {
		return false
	}
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Han, r), unicode.IsLetter(r):
		case r == '·' || r == '•' || r == ' ' || r == '-' || r == '.':
		default:
			return false
		}
	}
	return true
}

func (v *validator) personName(field, name, zhName string) {
	if !v.required(field, name, zhName) || !v.maxLen(field, name, 50) {
		return
	}
	if !validPersonName(name) {
		v.add(field, "invalid_characters", zhName+"含有不允许的字符", field+" contains characters a name cannot have")
	}
}

// validMobile: 1, then 3-9, then nine digits.
func validMobile(s string) bool {
	return len(s) == 11 && s[0] == '1' && s[1] >= '3' && s[1] <= '9' && allDigits(s[2:])
}

// validPhone: a mobile number, or a landline: 0, an area code's two or
// three digits, an optional -, and seven or eight digits.
func validPhone(s string) bool {
	if validMobile(s) {
		return true
	}
	if len(s) < 1 || s[0] != '0' {
		return false
	}
	rest := s[1:]
	if area, number, dashed := strings.Cut(rest, "-"); dashed {
		return (len(area) == 2 || len(area) == 3) && allDigits(area) && (len(number) == 7 || len(number) == 8) && allDigits(number)
	}
	return len(rest) >= 9 && len(rest) <= 11 && allDigits(rest)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (v *validator) phone(field, value, zhName string, mobileOnly bool) {
	if !v.required(field, value, zhName) {
		return
	}
	valid := validPhone
	if mobileOnly {
		valid = validMobile
	}
	if !valid(value) {
		v.add(field, "invalid_phone", zhName+"格式不正确", field+" is not a valid phone number")
	}
}

func (v *validator) applicant(a *Applicant, today civil.Date) *IDNumber {
	v.personName("applicant.name", a.Name, "申请人姓名")
	var id *IDNumber
	if v.required("applicant.idNumber", a.IDNumber, "公民身份号码") {
		parsed, err := ParseIDNumber(a.IDNumber, today)
		if err != nil {
			v.idError("applicant.idNumber", err)
		} else {
			id = &parsed
		}
	}
	if v.required("applicant.birthDate", a.BirthDate, "出生日期") {
		b, err := civil.Parse(a.BirthDate)
		switch {
		case err != nil:
			v.add("applicant.birthDate", "invalid_date", "出生日期格式应为 YYYY-MM-DD", "birthDate must be YYYY-MM-DD")
		case b.After(today):
			v.add("applicant.birthDate", "future_date", "出生日期不能晚于今天（"+today.String()+"）", "birthDate is after today ("+today.String()+")")
		case id != nil && b != id.Birth:
			v.add("applicant.birthDate", "mismatch", "出生日期与公民身份号码不一致", "birthDate does not match the ID number")
		}
	}
	switch {
	case a.Sex == "":
	case a.Sex != SexMale && a.Sex != SexFemale:
		v.add("applicant.sex", "invalid_choice", "性别须为男（male）或女（female）", "sex must be male or female")
	case id != nil && (a.Sex == SexMale) != id.Male:
		v.add("applicant.sex", "mismatch", "性别与公民身份号码不一致（第 17 位奇数为男、偶数为女）", "sex does not match the ID number (its 17th digit is odd for men, even for women)")
	}
	if v.required("applicant.ethnicity", a.Ethnicity, "民族") {
		v.maxLen("applicant.ethnicity", a.Ethnicity, 20)
	}
	v.phone("applicant.mobile", a.Mobile, "手机号码", true)
	v.address("applicant.address", &a.Address)
	switch a.HouseholdType {
	case HouseholdAgricultural, HouseholdNonAgricultural:
	default:
		v.add("applicant.householdType", "invalid_choice", "户籍类别须为农业或非农业", "householdType must be agricultural or non_agricultural")
	}
	if v.required("applicant.householdDivision", a.HouseholdDivision, "户籍地区划代码") && !ValidDivisionCode(a.HouseholdDivision) {
		v.add("applicant.householdDivision", "invalid_division", "户籍地区划代码不存在", "householdDivision is not a known division code")
	}
	if a.Guardian != nil {
		v.personName("applicant.guardian.name", a.Guardian.Name, "监护人姓名")
		if v.required("applicant.guardian.relation", a.Guardian.Relation, "与监护人关系") {
			v.maxLen("applicant.guardian.relation", a.Guardian.Relation, 20)
		}
		v.phone("applicant.guardian.phone", a.Guardian.Phone, "监护人联系电话", false)
	} else if id != nil && id.AgeOn(today) < 18 {
		v.add("applicant.guardian", "required", "申请人未满 18 周岁，须填写监护人信息", "applicant is a minor: guardian is required")
	}
	if a.ContactPhone != "" {
		v.phone("applicant.contactPhone", a.ContactPhone, "联系电话", false)
	}
	if a.Certificate != nil {
		v.certificate("applicant.certificate", a.Certificate, a.IDNumber, today)
	}
	return id
}

func (v *validator) idError(field string, err error) {
	switch {
	case errors.Is(err, ErrIDLength):
		v.add(field, "invalid_length", "公民身份号码应为 18 位", "ID number must have 18 characters")
	case errors.Is(err, ErrIDChars):
		v.add(field, "invalid_characters", "公民身份号码应为 17 位数字加 1 位数字或大写 X", "ID number must be 17 digits then a digit or X")
	case errors.Is(err, ErrIDDivision):
		v.add(field, "invalid_division", "公民身份号码的地址码不存在", "ID number has an unknown division code")
	case errors.Is(err, ErrIDBirth):
		v.add(field, "invalid_birth_date", "公民身份号码中的出生日期不正确", "ID number has an impossible birth date")
	case errors.Is(err, ErrIDChecksum):
		v.add(field, "invalid_checksum", "公民身份号码校验码不正确，请核对", "ID number check character is wrong")
	case errors.Is(err, ErrCertLength):
		v.add(field, "invalid_length", "残疾人证号至少 20 位", "certificate number must have at least 20 characters")
	case errors.Is(err, ErrCertCategory):
		v.add(field, "invalid_category", "残疾人证号第 19 位（残疾类别）应为 1-7", "certificate number: category digit must be 1-7")
	case errors.Is(err, ErrCertGrade):
		v.add(field, "invalid_grade", "残疾人证号第 20 位（残疾等级）应为 1-4", "certificate number: grade digit must be 1-4")
	default:
		v.add(field, "invalid_format", "号码格式不正确", "the number is malformed")
	}
}

func (v *validator) address(field string, a *Address) {
	for _, f := range []struct{ name, value, zh string }{
		{"province", a.Province, "省"}, {"city", a.City, "市"}, {"county", a.County, "县（区）"},
		{"town", a.Town, "乡镇（街道）"}, {"village", a.Village, "村（社区）"},
	} {
		if strings.TrimSpace(f.value) != "" && utf8.RuneCountInString(f.value) <= 50 {
			continue // fine: no field path to build
		}
		if v.required(field+"."+f.name, f.value, "现住址"+f.zh) {
			v.maxLen(field+"."+f.name, f.value, 50)
		}
	}
	if utf8.RuneCountInString(a.Detail) > 200 {
		v.maxLen(field+".detail", a.Detail, 200)
	}
	if a.DivisionCode != "" && !ValidDivisionCode(a.DivisionCode) {
		v.add(field+".divisionCode", "invalid_division", "现住址区划代码不存在", "address.divisionCode is not a known division code")
	}
}

func (v *validator) certificate(field string, c *Certificate, idNumber string, today civil.Date) {
	// The category and grade are judged on their own fields first, so an
	// out-of-range value is named where it is, whatever the number says.
	catOK, gradeOK := c.Category >= 1 && c.Category <= 7, c.Grade >= 1 && c.Grade <= 4
	if !catOK {
		v.add(field+".category", "invalid_choice", "残疾类别应为 1-7", "category must be 1-7")
	}
	if !gradeOK {
		v.add(field+".grade", "invalid_choice", "残疾等级应为 1-4", "grade must be 1-4")
	}
	v.certificateDates(field, c.IssuedOn, c.ValidFrom, c.ValidUntil, today)
	if !v.required(field+".number", c.Number, "残疾人证号") {
		return
	}
	n, err := ParseCertificateNumber(c.Number, today)
	if err != nil {
		v.idError(field+".number", err)
		return
	}
	if idNumber != "" && n.IDNumber != idNumber {
		v.add(field+".number", "mismatch", "残疾人证号与申请人公民身份号码不一致", "certificate number does not belong to the applicant's ID number")
	}
	if catOK && c.Category != n.Category {
		v.add(field+".category", "mismatch", "残疾类别与残疾人证号第 19 位不一致", "category does not match the certificate number's 19th character")
	}
	if gradeOK && c.Grade != n.Grade {
		v.add(field+".grade", "mismatch", "残疾等级与残疾人证号第 20 位不一致", "grade does not match the certificate number's 20th character")
	}
}

// certificateDates checks a certificate's three dates: each a date, none
// of issue or validity start after today (the civil date in China), and a
// validity that ends after it starts and lasts at most ten years (残疾人证
// 有效期为十年).
func (v *validator) certificateDates(field, issuedOn, validFrom, validUntil string, today civil.Date) {
	var parsed [3]civil.Date
	ok := true
	for i, d := range []struct{ name, value string }{{"issuedOn", issuedOn}, {"validFrom", validFrom}, {"validUntil", validUntil}} {
		t, err := civil.Parse(d.value)
		if err != nil {
			v.add(field+"."+d.name, "invalid_date", "日期格式应为 YYYY-MM-DD", d.name+" must be YYYY-MM-DD")
			ok = false
		}
		parsed[i] = t
	}
	if !ok {
		return
	}
	issued, from, until := parsed[0], parsed[1], parsed[2]
	if issued.After(today) {
		v.add(field+".issuedOn", "future_date", "发证日期不能晚于今天（"+today.String()+"）", "issuedOn is after today ("+today.String()+")")
	}
	if from.After(today) {
		v.add(field+".validFrom", "future_date", "有效期起始日期不能晚于今天（"+today.String()+"）", "validFrom is after today ("+today.String()+")")
	}
	switch longest := from.Anniversary(10); {
	case until.Before(from):
		v.add(field+".validUntil", "before_valid_from", "有效期截止日期早于起始日期", "validUntil is before validFrom")
	case until.After(longest):
		v.add(field+".validUntil", "too_long", "残疾人证有效期为十年，截止日期不应晚于 "+longest.String(), "a certificate is valid for ten years: validUntil may be "+longest.String()+" at the latest")
	}
}

// subKinds lists the sub-kinds each certificate business takes.
var subKinds = map[ItemCode][]string{
	ItemCertRenew:  {"expiry", "damaged", "info_update"},
	ItemCertCancel: {"full", "partial"},
}

func (v *validator) requests(r *Requests, a *Applicant, id *IDNumber, today civil.Date) {
	if r.Empty() {
		v.add("requests", "required", "请至少选择一项办理事项", "at least one item must be requested")
		return
	}
	if c := r.Certificate; c != nil {
		info, ok := Items[c.Business]
		switch {
		case !ok || info.Dept != DeptCDPF:
			v.add("requests.certificate.business", "invalid_choice", "残疾人证业务类型不正确", "certificate business must be one of cert.new, cert.renew, cert.migrate, cert.reissue, cert.cancel, cert.change")
		case c.Business == ItemCertNew && a.Certificate != nil:
			v.add("requests.certificate.business", "conflict", "已持有残疾人证，不能新办；请选择换领、变更等业务", "the applicant already holds a certificate: choose renew, change, … instead of new")
		case c.Business != ItemCertNew && a.Certificate == nil:
			v.add("applicant.certificate", "required", "办理该残疾人证业务须填写现持残疾人证信息", "this certificate business needs the certificate the applicant holds")
		}
		if kinds, ok := subKinds[c.Business]; ok {
			if !contains(kinds, c.SubKind) {
				v.add("requests.certificate.subKind", "invalid_choice", "请选择业务细类："+strings.Join(kinds, "、"), "subKind must be one of "+strings.Join(kinds, ", "))
			}
		} else if c.SubKind != "" {
			v.add("requests.certificate.subKind", "not_allowed", "该业务没有细类", "this business takes no subKind")
		}
		if c.Business == ItemCertNew || c.Business == ItemCertChange {
			if c.RequestedCategory < 1 || c.RequestedCategory > 7 {
				v.add("requests.certificate.requestedCategory", "invalid_choice", "请选择申请的残疾类别（1-7）", "requestedCategory must be 1-7")
			}
		}
		v.maxLen("requests.certificate.note", c.Note, 500)
	}
	if t := r.TwoSubsidies; t != nil && t.GradeBox != "" && !contains([]string{"grade1", "grade2", "grade34_intellectual_mental", "other"}, t.GradeBox) {
		v.add("requests.twoSubsidies.gradeBox", "invalid_choice", "残疾人证等级勾选项不正确", "gradeBox must be grade1, grade2, grade34_intellectual_mental or other")
	}
	// The two subsidies without any certificate (held or applied for) are
	// accepted and refused at once with the guide's reason, like every item
	// the applicant cannot have: a whole submission is not turned away
	// for one item, so the pension and medical subsidies go ahead.
	if m := r.Medical; m != nil {
		if !contains([]string{"dibao", "tekun", "orphan", "other"}, m.Identity) {
			v.add("requests.medical.identity", "invalid_choice", "申请人身份类别须为低保对象、特困人员、孤儿或其他", "medical.identity must be dibao, tekun, orphan or other")
		} else if m.Identity == "other" && !v.required("requests.medical.identityOther", m.IdentityOther, "其他身份类别说明") {
		} else if (m.Identity == "dibao" && !a.Dibao) || (m.Identity == "tekun" && !a.Tekun) || (m.Identity == "orphan" && !a.Orphan) {
			v.add("requests.medical.identity", "mismatch", "医保身份类别与申请人低保、特困、孤儿情况不一致", "medical.identity contradicts the applicant's dibao/tekun/orphan flags")
		}
		v.maxLen("requests.medical.identityOther", m.IdentityOther, 50)
	}
}

// online: the portal opens the online channel only to a certificate holder
// who is a Sichuan 低保 recipient, and certificate businesses always go
// through a window (指南三(二)).
func (v *validator) online(s *Submission) {
	a := &s.Applicant
	if a.Certificate == nil || !a.Dibao || !InSichuan(a.HouseholdDivision) {
		v.add("channel", "online_not_allowed", "在线办理仅限持有残疾人证的四川省户籍低保对象，请到窗口线下办理",
			"online applications are open only to certificate holders who are Sichuan dibao recipients")
	}
	if s.Requests.Certificate != nil {
		v.add("requests.certificate", "online_not_allowed", "残疾人证业务须到窗口线下办理", "certificate businesses are handled offline at a window")
	}
}

func (v *validator) delivery(d *Delivery) {
	switch d.Method {
	case "pickup":
	case "post":
		if v.required("delivery.address", d.Address, "邮寄地址") {
			v.maxLen("delivery.address", d.Address, 200)
		}
		v.personName("delivery.recipient", d.Recipient, "收件人")
		v.phone("delivery.phone", d.Phone, "收件人联系电话", false)
	default:
		v.add("delivery.method", "invalid_choice", "送达方式须为邮寄送达（post）或自行领取（pickup）", "delivery.method must be post or pickup")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ValidateEvent checks a department event's shape (not whether it fits the
// task's state: that is the workflow's call).
// EventClockSkew is how far after the gateway's clock a department's
// occurredAt may be (the clocks of two systems differ a little; a
// signature's timestamp has the same tolerance).
const EventClockSkew = 5 * time.Minute

// Validate checks a department event at the gateway's time now (what a
// certificate must satisfy is judged on the civil date in China): the
// event as the contract describes it, whatever task it is about. What
// depends on the application (whose certificate, which item) the workflow
// checks.
func (e *DeptEvent) Validate(now time.Time) []FieldError {
	v := &validator{}
	today := civil.Of(now)
	if v.required("eventId", e.EventID, "事件编号") && v.maxLen("eventId", e.EventID, 128) {
		v.plainID("eventId", e.EventID)
	}
	if v.required("taskId", e.TaskID, "任务编号") {
		v.maxLen("taskId", e.TaskID, 64)
	}
	if v.maxLen("caseNo", e.CaseNo, 64) {
		v.plainID("caseNo", e.CaseNo)
		if e.CaseNo != "" && !WellFormedCaseNo(e.CaseNo) {
			v.add("caseNo", "invalid_format", "办件编号首尾不得有空白", "caseNo must not begin or end with white space")
		}
	}
	switch e.Type {
	case EventAccepted, EventInProgress, EventAssessed, EventPublicised, EventApproved:
	case EventRejected, EventSupplementRequired:
		if e.Reason == nil || e.Reason.ZH == "" {
			v.add("reason", "required", "驳回或补正须说明原因", "rejected and supplement_required events need a reason")
		}
	default:
		v.add("type", "invalid_choice", "事件类型不正确", "type must be one of accepted, in_progress, assessed, publicised, supplement_required, approved, rejected")
	}
	switch {
	case e.OccurredAt.IsZero():
		v.add("occurredAt", "required", "缺少事件发生时间", "occurredAt is required")
	case e.OccurredAt.After(now.Add(EventClockSkew)):
		v.add("occurredAt", "out_of_range", "事件发生时间晚于当前时间", "occurredAt is in the future")
	}
	if e.Reason != nil {
		v.message("reason", e.Reason)
	}
	if cert := e.Certificate; cert != nil {
		cert.Number = NormalizeCertificateNumber(cert.Number)
		// (A reprint keeps the old validity, so a certificate issued may
		// have expired already: the subsidies' rules judge that.)
		v.certificate("certificate", cert, "", today)
	}
	if r := e.Result; r != nil {
		if r.MonthlyAmount < 0 {
			v.add("result.monthlyAmount", "out_of_range", "补贴金额不能为负数", "monthlyAmount cannot be negative")
		}
		if r.Note != nil {
			v.message("result.note", r.Note)
		}
	}
	return v.errs
}

// message checks a department's text in Chinese and English: its lengths,
// and no control characters other than line breaks and tabs (a NUL or an
// escape would reach the clerk's screen and the citizen's status).
func (v *validator) message(field string, m *Message) {
	for _, part := range []struct {
		name, text string
		max        int
	}{{"zh", m.ZH, 500}, {"en", m.EN, 1000}} {
		if !v.maxLen(field+"."+part.name, part.text, part.max) {
			continue
		}
		if strings.IndexFunc(part.text, hiddenRune) >= 0 {
			v.add(field+"."+part.name, "invalid_characters", "文字含有控制字符或不可见的格式字符", field+"."+part.name+" contains control or invisible format characters")
		}
	}
}

// hiddenRune is a character a text shown to people may not hold: a
// control character other than a line break or tab, an invisible format
// character (a right-to-left override reorders what the clerk reads; zero
// widths hide), or a line or paragraph separator.
func hiddenRune(r rune) bool {
	return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}

// WellFormedCaseNo reports whether s can be a department's case number:
// not empty, no white space at either end (" " or "C1 " would be taken as
// a number that no later report matches, and a cancel sent to no case).
func WellFormedCaseNo(s string) bool {
	return s != "" && strings.TrimSpace(s) == s
}

// plainID checks an identifier a department gives (an event id, a case
// number): no control, format or separator characters at all, as it is
// echoed and shown.
func (v *validator) plainID(field, value string) {
	if strings.IndexFunc(value, func(r rune) bool { return hiddenRune(r) || unicode.IsControl(r) }) >= 0 {
		v.add(field, "invalid_characters", "编号含有控制字符或不可见的格式字符", field+" contains control or invisible format characters")
	}
}

// Validate checks a guide request on a day (the civil date in China) and
// returns every problem found.
func (g *GuideRequest) Validate(today civil.Date) []FieldError {
	v := &validator{}
	if v.required("householdDivision", g.HouseholdDivision, "户籍地区划代码") && !ValidDivisionCode(g.HouseholdDivision) {
		v.add("householdDivision", "invalid_division", "户籍地区划代码不存在", "householdDivision is not a known division code")
	}
	switch {
	case g.HoldsCertificate && g.Certificate == nil:
		v.add("certificate", "required", "持有残疾人证的，请填写证件类别、等级和有效期", "a held certificate needs its category, grade and validity")
	case !g.HoldsCertificate && g.Certificate != nil:
		v.add("certificate", "not_allowed", "未持有残疾人证时不应填写证件信息", "certificate given but holdsCertificate is false")
	case g.Certificate != nil:
		c := g.Certificate
		if c.Category < 1 || c.Category > 7 {
			v.add("certificate.category", "invalid_choice", "残疾类别应为 1-7", "category must be 1-7")
		}
		if c.Grade < 1 || c.Grade > 4 {
			v.add("certificate.grade", "invalid_choice", "残疾等级应为 1-4", "grade must be 1-4")
		}
		v.certificateDates("certificate", c.IssuedOn, c.ValidFrom, c.ValidUntil, today)
	}
	w := &g.Wants
	if w.Certificate == nil && !w.TwoSubsidies && !w.Pension && !w.Medical {
		v.add("wants", "required", "请至少选择一项想办理的事项", "choose at least one item")
	}
	if cr := w.Certificate; cr != nil {
		if info, ok := Items[cr.Business]; !ok || info.Dept != DeptCDPF {
			v.add("wants.certificate.business", "invalid_choice", "残疾人证业务类型不正确", "certificate business must be one of cert.new, cert.renew, cert.migrate, cert.reissue, cert.cancel, cert.change")
		} else if kinds, ok := subKinds[cr.Business]; ok && !contains(kinds, cr.SubKind) {
			v.add("wants.certificate.subKind", "invalid_choice", "请选择业务细类："+strings.Join(kinds, "、"), "subKind must be one of "+strings.Join(kinds, ", "))
		}
		if (cr.Business == ItemCertNew || cr.Business == ItemCertChange) && (cr.RequestedCategory < 1 || cr.RequestedCategory > 7) {
			v.add("wants.certificate.requestedCategory", "invalid_choice", "请选择申请的残疾类别（1-7）", "requestedCategory must be 1-7")
		}
	}
	return v.errs
}

// Validate checks a supplement submission.
func (s *SupplementSubmission) Validate() []FieldError {
	v := &validator{}
	v.required("taskId", s.TaskID, "任务编号")
	v.maxLen("taskId", s.TaskID, 64)
	if len(s.Materials) == 0 && strings.TrimSpace(s.Note) == "" {
		v.add("materials", "required", "请说明补正了哪些材料", "name the materials provided, or add a note")
	}
	if len(s.Materials) > 20 {
		v.add("materials", "too_many", "材料项过多（最多 20 项）", "at most 20 materials")
	}
	seen := map[string]bool{}
	for i, m := range s.Materials {
		field := fmt.Sprintf("materials[%d]", i)
		switch {
		case !IsMaterialCode(m):
			// A code not on the checklist would be forwarded to the
			// department as it is, and the round taken by it.
			v.add(field, "invalid_choice", "不是材料清单中的编码（见办事指南的材料清单；其他材料请在 note 中说明）",
				"not a code of the material checklist (see the guide's materials; describe any other in note)")
		case seen[m]:
			v.add(field, "conflict", "材料编码重复", "a material is named twice")
		}
		seen[m] = true
	}
	if v.maxLen("note", s.Note, 500) && strings.IndexFunc(s.Note, hiddenRune) >= 0 {
		v.add("note", "invalid_characters", "说明含有控制字符或不可见的格式字符", "note contains control or invisible format characters")
	}
	return v.errs
}

// Validate checks a withdrawal: its reason (told to the departments, shown
// to the window) at most 200 characters, with no control or invisible
// format characters but line breaks and tabs.
func (w *Withdrawal) Validate() []FieldError {
	v := &validator{}
	if utf8.RuneCountInString(w.Reason) > 200 {
		v.add("reason", "too_long", "撤回原因最多 200 个字符", "reason must be at most 200 characters")
	} else if strings.IndexFunc(w.Reason, hiddenRune) >= 0 {
		v.add("reason", "invalid_characters", "撤回原因含有控制字符或不可见的格式字符", "reason contains control or invisible format characters")
	}
	return v.errs
}
