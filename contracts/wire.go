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
	TaskID   string   `json:"taskId"`
	Item     ItemCode `json:"item"`
	ItemName Message  `json:"itemName"`
	Dept     Dept     `json:"dept"`
	// DeptName is the office that handles the task, with its county
	// (达川区人社局; DeptName).
	DeptName Message `json:"deptName"`
	// County handles the task (six-digit code) and CountyName names it.
	County      string       `json:"county,omitempty"`
	CountyName  *Message     `json:"countyName,omitempty"`
	State       TaskState    `json:"state"`
	StateName   Message      `json:"stateName"` // State for people (TaskStateName)
	DependsOn   []string     `json:"dependsOn,omitempty"`
	CaseNo      string       `json:"caseNo,omitempty"`
	Reason      *Message     `json:"reason,omitempty"`
	Result      *Result      `json:"result,omitempty"`
	Certificate *Certificate `json:"certificate,omitempty"`
	Milestones  []Milestone  `json:"milestones,omitempty"`
	Supplement  *Supplement  `json:"supplement,omitempty"`
	DueDate     string       `json:"dueDate,omitempty"`
	Overdue     bool         `json:"overdue,omitempty"`
	// Provisional: DueDate reaches past the published holiday schedule
	// (counted by the statutory rule; it may move when the year is
	// published).
	Provisional bool      `json:"provisional,omitempty"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// ApplicationView is the reply of GET /v1/applications/{id}. The applicant
// appears masked: the view is for following a case, not for reading a record.
type ApplicationView struct {
	ApplicationID string    `json:"applicationId"`
	PortalRef     string    `json:"portalRef"`
	Channel       Channel   `json:"channel"`
	ReceivedAt    time.Time `json:"receivedAt"`
	// AcceptedOn is the civil date in China the application was accepted:
	// the day ages and validity were judged on and due dates count from.
	AcceptedOn string          `json:"acceptedOn"`
	Applicant  MaskedApplicant `json:"applicant"`
	Status     Status          `json:"status"`
	Items      []TaskBrief     `json:"items"`
	Timeline   []Entry         `json:"timeline"`
	Version    int64           `json:"version"`
	// Erased is set once the personal part was erased: what the view
	// shows is the pseudonymous trace (the applicant's name and number
	// are empty).
	Erased *ErasureMark `json:"erased,omitempty"`
}

// ErasureMark says, in a view, that an application's personal part was
// erased: when (China time) and why.
type ErasureMark struct {
	At       time.Time `json:"at"`
	Kind     string    `json:"kind"` // request | retention
	KindName Message   `json:"kindName"`
	// Name is 已删除个人信息 / personal data erased.
	Name Message `json:"name"`
}

// OpenSupplements are the items waiting for a supplement the applicant has
// not yet provided: what the window must tell them, all at once.
func (v ApplicationView) OpenSupplements() []TaskBrief {
	var out []TaskBrief
	for _, it := range v.Items {
		if it.State == TaskSupplementRequired && it.Supplement != nil && it.Supplement.ProvidedAt == nil {
			out = append(out, it)
		}
	}
	return out
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
	// Erased is set once the application's personal part was erased (the
	// erasure's own push and every later one), so that the portal knows
	// to erase what it keeps of the person too.
	Erased *ErasureMark `json:"erased,omitempty"`
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
	// Answers to a supplement and to a cancellation of an open case.
	CaseInProgress CaseStatus = "in_progress" // resumed after a supplement
	CaseCancelled  CaseStatus = "cancelled"   // withdrawn by the applicant
)

// SupplementRequest forwards the applicant's supplement (补正) to the
// department that asked for it: POST {cases}/{caseNo}/supplements.
type SupplementRequest struct {
	TaskID string `json:"taskId"`
	// Materials are codes of the material checklist (e.g. photos).
	Materials []string `json:"materials"`
	Note      string   `json:"note,omitempty"`
}

// CancelRequest tells a department that the applicant withdrew:
// POST {cases}/{caseNo}/cancel.
type CancelRequest struct {
	TaskID string  `json:"taskId"`
	Reason Message `json:"reason"`
}

// SupplementSubmission is the portal's (or window's) resubmission of what a
// department asked for: POST /v1/applications/{id}/supplements.
type SupplementSubmission struct {
	TaskID    string   `json:"taskId"`
	Materials []string `json:"materials"`
	Note      string   `json:"note,omitempty"`
}

// Withdrawal is POST /v1/applications/{id}/withdraw.
type Withdrawal struct {
	Reason string `json:"reason"`
}

// WithdrawalResult says what a withdrawal did.
type WithdrawalResult struct {
	ApplicationID string   `json:"applicationId"`
	Status        AppState `json:"status"`
	// Cancelled are the tasks withdrawn; Notified those whose department
	// had the case open and is being told.
	Cancelled    []string `json:"cancelled"`
	Notified     []string `json:"notified"`
	AlreadyFinal []string `json:"alreadyFinal"`
}

// CaseRequest is what the gateway sends to open a case in a department
// system. Each adapter fills only what its department needs (PIPL data
// minimisation): see the department's OpenAPI document.
type CaseRequest struct {
	TaskID        string    `json:"taskId"`
	ApplicationID string    `json:"applicationId"`
	Item          ItemCode  `json:"item"`
	Channel       Channel   `json:"channel"`
	ReceivedAt    time.Time `json:"receivedAt"`
	// County is the six-digit code of the county whose office handles the
	// case (the applicant's household county): a national platform routes
	// it there.
	County      string `json:"county,omitempty"`
	CallbackURL string `json:"callbackUrl"`
	Person      Person `json:"person"`
	// Certificate business details (cdpf), and how the rules say it is
	// handled (assessment, publicity, validity of the new certificate).
	Business  *CertificateRequest `json:"business,omitempty"`
	Procedure *Procedure          `json:"procedure,omitempty"`
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

// CaseView is a department's case as GET {cases}/{caseNo} shows it, for
// the gateway to poll where a department does not call back: the events
// are the same (same ids) as the ones it would post.
type CaseView struct {
	CaseNo string      `json:"caseNo"`
	Status string      `json:"status"`
	Events []DeptEvent `json:"events"`
}

// CaseResponse is a department's answer to a CaseRequest.
type CaseResponse struct {
	CaseNo      string       `json:"caseNo"`
	Status      CaseStatus   `json:"status"`
	Reason      *Message     `json:"reason,omitempty"`
	Result      *Result      `json:"result,omitempty"`
	Certificate *Certificate `json:"certificate,omitempty"`
}

// Procedure is how cdpf handles one certificate business, as the seed's
// rules decide it (gateway/rules).
type Procedure struct {
	Clause string `json:"clause"`
	// Assessment: a designated institution assesses the applicant (the one
	// trip of the whole one thing).
	Assessment bool `json:"assessment"`
	// Publicity: the town CDPF publicises the assessment result; never for
	// minors (原则上不予公示).
	Publicity bool `json:"publicity"`
	// ClockStart: from which day the 15 working days run.
	ClockStart ClockStart `json:"clockStart"`
	// NewCertificate: the result is a new certificate, not only a notice.
	NewCertificate bool `json:"newCertificate"`
	// KeepValidity: the new certificate keeps the old validity period
	// (残损换新 and the other reprints); otherwise ten years from issue.
	KeepValidity bool `json:"keepValidity"`
	// RecallOld: the old certificate is recalled (类别/等级变更).
	RecallOld bool     `json:"recallOld,omitempty"`
	Note      *Message `json:"note,omitempty"`
}

// GuideRequest is the portal's 专项问答 (and a window clerk's first
// questions): the applicant's situation and what they want. It carries no
// identity: the guide needs none.
type GuideRequest struct {
	HoldsCertificate bool `json:"holdsCertificate"`
	// Certificate held: category, grade, dates, visual assessment (number
	// not needed).
	Certificate       *GuideCertificate `json:"certificate,omitempty"`
	HouseholdDivision string            `json:"householdDivision"`
	Dibao             bool              `json:"dibao"`
	Tekun             bool              `json:"tekun"`
	Orphan            bool              `json:"orphan"`
	Minor             bool              `json:"minor"`
	PremiumPaid       bool              `json:"premiumPaid"`
	Wants             GuideWants        `json:"wants"`
}

// GuideCertificate is the held certificate as the guide needs it.
type GuideCertificate struct {
	Category         int    `json:"category"`
	Grade            int    `json:"grade"`
	IssuedOn         string `json:"issuedOn"`
	ValidFrom        string `json:"validFrom"`
	ValidUntil       string `json:"validUntil"`
	VisualAssessment bool   `json:"visualAssessment,omitempty"`
}

// GuideWants is what the applicant wants to apply for.
type GuideWants struct {
	Certificate  *CertificateRequest `json:"certificate,omitempty"`
	TwoSubsidies bool                `json:"twoSubsidies"`
	Pension      bool                `json:"pension"`
	Medical      bool                `json:"medical"`
}

// GuideAnswer is what the guide tells the applicant.
type GuideAnswer struct {
	// Online says whether the online channel opens for this applicant
	// (holds a certificate and is a Sichuan 低保 recipient) and why.
	Online    GuideOnline `json:"online"`
	Items     []GuideItem `json:"items"`
	Materials []Material  `json:"materials"`
	// WholeLimitDays and WholeDueDate: the whole one thing, if applied today.
	WholeLimitDays int    `json:"wholeLimitDays"`
	WholeDueDate   string `json:"wholeDueDate,omitempty"`
	// WholeDueProvisional: WholeDueDate reaches past the published holiday
	// schedule (counted by the statutory rule).
	WholeDueProvisional bool `json:"wholeDueProvisional,omitempty"`
	// Trips is how often the applicant must come in person (最多跑一次):
	// 0 when every item they can have (eligible or under review) goes
	// online, otherwise 1: the visit to the window, which includes the
	// assessment at a designated institution where a certificate business
	// needs one (指南一(九)(十)).
	Trips int `json:"trips"`
	// Notes: anything else the applicant should know (e.g. a calendar gap).
	Notes []Message `json:"notes,omitempty"`
}

// GuideOnline is the online channel's verdict.
type GuideOnline struct {
	Offered bool    `json:"offered"`
	Why     Message `json:"why"`
}

// GuideItem is one item: may they have it, why, where, how long.
type GuideItem struct {
	Item ItemCode `json:"item"`
	Name Message  `json:"name"`
	Dept Dept     `json:"dept"`
	// Eligible: the gateway promises the item: a submission of the same
	// situation gets it unless the applicant's materials are found wrong.
	Eligible bool `json:"eligible"`
	// Review: not promised either way: a department decides by reviewing
	// what the guide does not know (ReviewOf), e.g. an assessment or an
	// "other" assisted group; Eligible is then false. An item neither
	// eligible nor under review is refused and carries no channel.
	Review   bool     `json:"review,omitempty"`
	ReviewBy *Message `json:"reviewBy,omitempty"` // who decides (review only)
	ReviewOf *Message `json:"reviewOf,omitempty"` // what they look at (review only)
	Why      Message  `json:"why"`
	Clause   string   `json:"clause"`
	// Channel: online (on the portal) or offline (at Window); only for
	// an item eligible or under review.
	Channel Channel  `json:"channel,omitempty"`
	Window  *Message `json:"window,omitempty"`
	// GrantedWithoutReview: 免审即享 (pension, medical online).
	GrantedWithoutReview bool `json:"grantedWithoutReview,omitempty"`
	// Automatic: granted from shared data without applying (pension).
	Automatic  bool       `json:"automatic,omitempty"`
	Procedure  *Procedure `json:"procedure,omitempty"`
	LimitDays  int        `json:"limitDays"`
	ClockStart ClockStart `json:"clockStart"`
	// DueDate if accepted today (acceptance clocks only; publicity and
	// assessment clocks start later).
	DueDate string `json:"dueDate,omitempty"`
	// Provisional: DueDate reaches past the published holiday schedule.
	Provisional bool `json:"provisional,omitempty"`
}

// Material is one item of the material checklist (申报材料).
type Material struct {
	Code  string     `json:"code"`
	Name  Message    `json:"name"`
	Note  *Message   `json:"note,omitempty"`
	Items []ItemCode `json:"items,omitempty"` // the items that need it; empty: all
}

// DeadLetter is a task parked for an operator: what failed, how often, and
// where it stands (GET /v1/admin/dead-letters).
type DeadLetter struct {
	TaskID        string    `json:"taskId"`
	ApplicationID string    `json:"applicationId"`
	JobID         string    `json:"jobId"` // also the idempotency key a replay sends again
	Dept          Dept      `json:"dept"`
	Item          ItemCode  `json:"item,omitempty"`      // empty if the application is gone
	TaskState     TaskState `json:"taskState,omitempty"` // empty if the application is gone
	Attempts      int       `json:"attempts"`
	LastError     string    `json:"lastError"`
	CaseDueDate   string    `json:"caseDueDate,omitempty"`
}

// DeadLetterList is the reply of GET /v1/admin/dead-letters.
type DeadLetterList struct {
	DeadLetters []DeadLetter `json:"deadLetters"`
}

// ReplayResult is the reply of a replay: the tasks sent again, and those
// that needed nothing (a department answered meanwhile).
type ReplayResult struct {
	Replayed []string `json:"replayed"`
	Resolved []string `json:"resolved"`
}

// BreakerStatus is one remote system's circuit breaker, for operators.
type BreakerStatus struct {
	State    string `json:"state"` // closed | half-open | open
	Requests uint32 `json:"requests"`
	Failures uint32 `json:"failures"`
	// Transitions are the most recent state changes, oldest first.
	Transitions []BreakerTransition `json:"transitions"`
}

// BreakerTransition is one change of a breaker's state.
type BreakerTransition struct {
	At   time.Time `json:"at"`
	From string    `json:"from"`
	To   string    `json:"to"`
}

// ApplicationSummary is one application of a person, as a search by ID
// number (GET /v1/applications?idNumber=…) lists it: the applicant masked.
type ApplicationSummary struct {
	ApplicationID string    `json:"applicationId"`
	PortalRef     string    `json:"portalRef"`
	Channel       Channel   `json:"channel"`
	ReceivedAt    time.Time `json:"receivedAt"`
	// AcceptedOn is the civil date in China the application was accepted:
	// the day ages and validity were judged on and due dates count from.
	AcceptedOn string          `json:"acceptedOn"`
	Applicant  MaskedApplicant `json:"applicant"`
	Status     AppState        `json:"status"`
	Items      []ItemCode      `json:"items"`
	Version    int64           `json:"version"`
}

// ApplicationSearch is the body of POST /v1/applications/search: a search
// by ID number with the number in the body, not in the URL (where proxies
// and access logs would keep it).
type ApplicationSearch struct {
	IDNumber string `json:"idNumber"`
	// Reason, optional, goes to the audit log with the search.
	Reason string `json:"reason,omitempty"`
}

// ApplicationList is the reply of a search by ID number, oldest first.
type ApplicationList struct {
	Applications []ApplicationSummary `json:"applications"`
}

// ApplicationRecord is the full, unmasked record of an application
// (GET /v1/applications/{id}/record?reason=…), for authorised staff; every
// such read is in the audit log, under AuditID.
type ApplicationRecord struct {
	ApplicationID string    `json:"applicationId"`
	PortalRef     string    `json:"portalRef"`
	Channel       Channel   `json:"channel"`
	ReceivedAt    time.Time `json:"receivedAt"`
	AcceptedOn    string    `json:"acceptedOn"` // civil date in China
	Applicant     Applicant `json:"applicant"`
	Requests      Requests  `json:"requests"`
	Delivery      Delivery  `json:"delivery"`
	Tasks         []*Task   `json:"tasks"`
	Timeline      []Entry   `json:"timeline"`
	Status        Status    `json:"status"`
	Version       int64     `json:"version"`
	AuditID       string    `json:"auditId"`
}

// EraseRequest is the body of POST /v1/admin/applications/{id}/erase.
type EraseRequest struct {
	// Reason is why (the person's request, its reference): required, at
	// most AuditReasonMaxRunes characters, no personal data; it goes to
	// the audit log and stays with the trace.
	Reason string `json:"reason"`
	// Force erases even while items are open at a department: they are
	// cancelled, and the departments holding a case told.
	Force bool `json:"force"`
}

// ErasureResult is the reply of an erasure on request: what was erased
// and what is kept.
type ErasureResult struct {
	ApplicationID string    `json:"applicationId"`
	ErasedAt      time.Time `json:"erasedAt"` // China time (+08:00)
	Kind          string    `json:"kind"`
	Forced        bool      `json:"forced"`
	// AlreadyErased: it was erased before (this request changed nothing;
	// erasedAt, kind and forced are the first erasure's).
	AlreadyErased bool `json:"alreadyErased"`
	// Removed are the categories of personal data removed (ErasedCategories).
	Removed []string `json:"removed"`
	// Kept is the pseudonymous trace kept (KeptTrace).
	Kept []string `json:"kept"`
	// Cancelled are the items the erasure ended; Notified those whose
	// department is told to stop.
	Cancelled []string `json:"cancelled"`
	Notified  []string `json:"notified"`
	AuditID   string   `json:"auditId"`
}

// ErasedCategories are what an erasure removes (store.ErasePersonal).
// The applicant covers name, ID number, contacts, address, guardian and
// the disability, poverty and health facts given.
var ErasedCategories = []string{"applicant", "delivery", "requests", "tasks.certificates", "tasks.results", "tasks.supplements", "tasks.reasons", "tasks.errors", "timeline.notes"}

// KeptTrace is the pseudonymous trace an erasure keeps.
// The portal can link portalRef back to the person: the trace is
// pseudonymous, not anonymous.
var KeptTrace = []string{"applicationId", "portalRef", "channel", "receivedAt", "acceptedOn", "householdDivision", "items", "states", "dates", "caseNumbers", "timeline"}

// SubjectAccessRequest is the body of POST /v1/admin/subject-access.
type SubjectAccessRequest struct {
	IDNumber string `json:"idNumber"`
	// Reason is required (the request's reference): to the audit log.
	Reason string `json:"reason"`
}

// SubjectAccessExport is one person's applications as the gateway holds
// them (PIPL art. 45), for a subject-access request: each the full record
// as GET /v1/applications/{id}/record gives it.
type SubjectAccessExport struct {
	GeneratedAt    time.Time           `json:"generatedAt"` // China time (+08:00)
	IDNumberMasked string              `json:"idNumberMasked"`
	Applications   []ApplicationRecord `json:"applications"`
	AuditID        string              `json:"auditId"`
}

// Audit actions: what an audit entry records.
const (
	AuditErase          = "application.erase"   // an application's personal part was erased on request
	AuditSubjectAccess  = "subject.access"      // one person's applications were exported
	AuditRecordRead     = "record.read"         // a full (unmasked) record was read
	AuditSearch         = "applications.search" // applications were looked up by ID number
	AuditDeadLetters    = "deadletters.list"    // dead letters were listed
	AuditDeadLetter     = "deadletter.read"     // one dead letter was inspected
	AuditReplay         = "deadletters.replay"  // dead letters were replayed
	AuditBreakers       = "breakers.read"       // the circuit breakers were read
	AuditQueryAction    = "audit.query"         // the audit log itself was queried
	AuditReasonMaxRunes = 200                   // longest reason accepted
)

// AuditEntry is one line of the append-only audit log: who read a full
// record or took an admin action, when, what, and why. It holds no
// personal data in the clear: a searched ID number appears masked.
type AuditEntry struct {
	ID            string    `json:"id"`
	At            time.Time `json:"at"`
	Subject       string    `json:"subject"` // the caller's account (auth principal), never a person's data
	Role          string    `json:"role"`
	Action        string    `json:"action"`
	Method        string    `json:"method"`
	Route         string    `json:"route"` // the route template, e.g. /v1/applications/:id/record
	ApplicationID string    `json:"applicationId,omitempty"`
	TaskID        string    `json:"taskId,omitempty"`
	Dept          Dept      `json:"dept,omitempty"`
	Reason        string    `json:"reason,omitempty"`
	// Query is what was asked for, personal data masked (e.g. the ID number
	// of a search, the filters of an audit query).
	Query     string `json:"query,omitempty"`
	RequestID string `json:"requestId,omitempty"`
}

// AuditPage is the reply of GET /v1/admin/audit: entries newest first, and
// the cursor of the next (older) page when there is one.
type AuditPage struct {
	Entries []AuditEntry `json:"entries"`
	Next    string       `json:"next,omitempty"`
}
