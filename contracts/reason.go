package contracts

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CheckAuditReason is the one rule for a reason a caller gives for an
// audited action (the API's ?reason= and body reasons, the console's
// forms): at most AuditReasonMaxRunes characters, no control characters,
// and nothing HasPersonalData finds: an ID, certificate or phone number
// in any spelling (full-width, grouped, Chinese numerals) or one of names
// (the application's people, where the caller knows them). A reason goes
// to the audit log as written, so such a reason is refused, not masked.
// An empty reason is refused when required. It returns the trimmed reason,
// or the problem as a field error of "reason".
func CheckAuditReason(raw string, required bool, names ...string) (string, *FieldError) {
	reason := strings.TrimSpace(raw)
	switch {
	case reason == "" && required:
		return "", &FieldError{Field: "reason", Code: "required", Message: "须说明理由", MessageEn: "a reason is required"}
	case !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > AuditReasonMaxRunes:
		return "", &FieldError{Field: "reason", Code: "too_long", Message: fmt.Sprintf("理由最多 %d 个字符", AuditReasonMaxRunes),
			MessageEn: fmt.Sprintf("reason must be at most %d characters", AuditReasonMaxRunes)}
	case strings.IndexFunc(reason, unicode.IsControl) >= 0:
		return "", &FieldError{Field: "reason", Code: "invalid_characters", Message: "理由含有控制字符", MessageEn: "reason contains control characters"}
	case HasPersonalData(reason, names...):
		return "", &FieldError{Field: "reason", Code: "personal_data",
			Message:   "理由中不得包含身份证号码、电话号码或申请人等人员的姓名",
			MessageEn: "reason must not contain an ID number, a phone number or the name of the applicant or their people"}
	}
	return reason, nil
}
