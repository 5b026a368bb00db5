package contracts_test

import (
	"regexp"
	"strings"
	"testing"

	"onething/contracts"
	"onething/gateway/retention"
	"onething/gateway/store"
)

// The audit actions the gateway writes are named in the gateway
// document's AuditAction and match its pattern: the schema is an open
// string (later versions add actions, console ones among them), so a
// client validating the audit log against it never fails on a new one.
func TestAuditActionsMatchGo(t *testing.T) {
	s := mustSpec(t, "gateway").Components.Schemas["AuditAction"].Value
	if len(s.Enum) > 0 {
		t.Errorf("AuditAction is an enum %v: the audit log holds actions it would refuse (console.…, system ones)", s.Enum)
	}
	pattern := regexp.MustCompile(s.Pattern)
	for _, a := range []string{
		contracts.AuditRecordRead, contracts.AuditSearch, contracts.AuditDeadLetters, contracts.AuditDeadLetter,
		contracts.AuditReplay, contracts.AuditBreakers, contracts.AuditQueryAction, contracts.AuditUnreadable,
		contracts.AuditErase, contracts.AuditSubjectAccess,
		retention.ActionErase, retention.ActionTrimAudit, store.AuditScrub,
		"console.intake", "console.withdraw",
	} {
		if !pattern.MatchString(a) {
			t.Errorf("action %q does not match AuditAction's pattern %q", a, s.Pattern)
		}
		if strings.HasPrefix(a, "console.") {
			a = "console.…"
		}
		if !strings.Contains(s.Description, "`"+a+"`") {
			t.Errorf("AuditAction's description does not name %q", a)
		}
	}
}
