package contracts

import "time"

// SubmissionAccepted is the 202 reply to a submission.
type SubmissionAccepted struct {
	ApplicationID string   `json:"applicationId"`
	PortalRef     string   `json:"portalRef"`
	Status        AppState `json:"status"`
	// Duplicate is true when this delivery or portal reference was seen
	// before: the reply names the first application and nothing new started.
	Duplicate bool        `json:"duplicate"`
	Items     []TaskBrief `json:"items"`
	StatusURL string      `json:"statusUrl"`
}

// TaskBrief is a task as shown to callers.
type TaskBrief struct {
	TaskID      string       `json:"taskId"`
	Item        ItemCode     `json:"item"`
	ItemName    Message      `json:"itemName"`
	Dept        Dept         `json:"dept"`
	State       TaskState    `json:"state"`
	DependsOn   []string     `json:"dependsOn,omitempty"`
	CaseNo      string       `json:"caseNo,omitempty"`
	Reason      *Message     `json:"reason,omitempty"`
	Result      *Result      `json:"result,omitempty"`
	Certificate *Certificate `json:"certificate,omitempty"`
	Milestones  []Milestone  `json:"milestones,omitempty"`
	DueDate     string       `json:"dueDate,omitempty"`
	Overdue     bool         `json:"overdue,omitempty"`
	UpdatedAt   time.Time    `json:"updatedAt"`
}

// ApplicationView is the reply of GET /v1/applications/{id}. The applicant
// appears masked: the view is for following a case, not for reading a record.
type ApplicationView struct {
	ApplicationID string          `json:"applicationId"`
	PortalRef     string          `json:"portalRef"`
	Channel       Channel         `json:"channel"`
	ReceivedAt    time.Time       `json:"receivedAt"`
	Applicant     MaskedApplicant `json:"applicant"`
	Status        Status          `json:"status"`
	Items         []TaskBrief     `json:"items"`
	Timeline      []Entry         `json:"timeline"`
	Version       int64           `json:"version"`
}

// MaskedApplicant shows who the case is about without disclosing them.
type MaskedApplicant struct {
	Name              string `json:"name"`
	IDNumber          string `json:"idNumber"`
	HouseholdDivision string `json:"householdDivision"`
}

// StatusPush is the body of a status webhook to the portal. It carries no
// personal data: the portal knows its applicant by portalRef.
type StatusPush struct {
	Type          string      `json:"type"` // application.status
	ApplicationID string      `json:"applicationId"`
	PortalRef     string      `json:"portalRef"`
	Version       int64       `json:"version"`
	Status        Status      `json:"status"`
	Items         []TaskBrief `json:"items"`
	SentAt        time.Time   `json:"sentAt"`
}

// EventType is what a department reports about one of its tasks.
type EventType string

const (
	EventAccepted           EventType = "accepted"            // 受理
	EventInProgress         EventType = "in_progress"         // under review
	EventAssessed           EventType = "assessed"            // 残疾评定 done (milestone)
	EventPublicised         EventType = "publicised"          // 公示 started (milestone; starts the clock)
	EventSupplementRequired EventType = "supplement_required" // 补正
	EventApproved           EventType = "approved"            // granted / issued
	EventRejected           EventType = "rejected"            // refused
)

// DeptEvent is what a department posts to POST /v1/departments/{dept}/events.
type DeptEvent struct {
	EventID     string       `json:"eventId"` // unique per event; repeats are absorbed
	TaskID      string       `json:"taskId"`
	CaseNo      string       `json:"caseNo,omitempty"`
	Type        EventType    `json:"type"`
	OccurredAt  time.Time    `json:"occurredAt"`
	Reason      *Message     `json:"reason,omitempty"`
	Certificate *Certificate `json:"certificate,omitempty"` // cdpf approved: the certificate issued
	Result      *Result      `json:"result,omitempty"`
}

// EventAck is the reply to a department event.
type EventAck struct {
	EventID   string    `json:"eventId"`
	Outcome   string    `json:"outcome"` // applied | duplicate | stale
	TaskState TaskState `json:"taskState"`
}

// CaseStatus is a department's answer when a case is opened.
type CaseStatus string

const (
	CaseReceived CaseStatus = "received" // delivered; acceptance follows by event
	CaseAccepted CaseStatus = "accepted" // 受理
	CaseApproved CaseStatus = "approved" // done at once (免审即享)
	CaseRejected CaseStatus = "rejected" // refused, with a reason
)

// CaseRequest is what the gateway sends to open a case in a department
// system. Each adapter fills only what its department needs (PIPL data
// minimisation): see the department's OpenAPI document.
type CaseRequest struct {
	TaskID        string    `json:"taskId"`
	ApplicationID string    `json:"applicationId"`
	Item          ItemCode  `json:"item"`
	Channel       Channel   `json:"channel"`
	ReceivedAt    time.Time `json:"receivedAt"`
	CallbackURL   string    `json:"callbackUrl"`
	Person        Person    `json:"person"`
	// Certificate business details (cdpf).
	Business *CertificateRequest `json:"business,omitempty"`
	// Certificate the decision rests on (civil, hrss; cdpf for holders).
	Certificate *Certificate    `json:"certificate,omitempty"`
	Medical     *MedicalRequest `json:"medical,omitempty"`
	Delivery    *Delivery       `json:"delivery,omitempty"`
}

// Person is the applicant as a department sees it: only the fields that
// department needs are filled.
type Person struct {
	Name              string    `json:"name"`
	IDNumber          string    `json:"idNumber"`
	BirthDate         string    `json:"birthDate,omitempty"`
	Ethnicity         string    `json:"ethnicity,omitempty"`
	Mobile            string    `json:"mobile,omitempty"`
	Address           *Address  `json:"address,omitempty"`
	HouseholdDivision string    `json:"householdDivision,omitempty"`
	HouseholdType     string    `json:"householdType,omitempty"`
	Guardian          *Guardian `json:"guardian,omitempty"`
	Dibao             bool      `json:"dibao"`
	Tekun             bool      `json:"tekun"`
	Orphan            bool      `json:"orphan"`
}

// CaseResponse is a department's answer to a CaseRequest.
type CaseResponse struct {
	CaseNo      string       `json:"caseNo"`
	Status      CaseStatus   `json:"status"`
	Reason      *Message     `json:"reason,omitempty"`
	Result      *Result      `json:"result,omitempty"`
	Certificate *Certificate `json:"certificate,omitempty"`
}
