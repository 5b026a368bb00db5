package contracts

import "time"

// UnreadableRecord is an application whose stored record no longer opens:
// its sealed part does not decrypt (a data key missing or replaced, the
// blob altered) or the record is damaged. Retrying cannot help; reading it
// answers 500 record_unreadable until an operator restores the key or the
// record. It holds ids and the store's reason only, never personal data.
type UnreadableRecord struct {
	ApplicationID string `json:"applicationId"`
	// Reason is what the store found, e.g. which key id the record names.
	Reason    string    `json:"reason"`
	FirstSeen time.Time `json:"firstSeen"`
	LastSeen  time.Time `json:"lastSeen"`
}

// UnreadableRecordList is GET /v1/admin/unreadable-records.
type UnreadableRecordList struct {
	Records []UnreadableRecord `json:"records"`
	// Count is how many records are known unreadable (Records holds at
	// most the first 1,000, by application id).
	Count int `json:"count"`
}

// AuditUnreadable is the audit action of listing the unreadable records.
const AuditUnreadable = "unreadable.list"

// ErrorRecordUnreadable is the error code of a read that met a record
// that does not open (HTTP 500): permanent, unlike store_unavailable (503).
const ErrorRecordUnreadable = "record_unreadable"
