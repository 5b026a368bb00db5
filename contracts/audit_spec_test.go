package contracts_test

import (
	"testing"

	"onething/contracts"
)

// The audit actions of the gateway document are the Go constants.
func TestAuditActionsMatchGo(t *testing.T) {
	enumIs(t, mustSpec(t, "gateway"), "AuditAction", []string{
		contracts.AuditRecordRead, contracts.AuditSearch, contracts.AuditDeadLetters, contracts.AuditDeadLetter,
		contracts.AuditReplay, contracts.AuditBreakers, contracts.AuditQueryAction, contracts.AuditUnreadable,
		contracts.AuditErase, contracts.AuditSubjectAccess,
	})
}
