package contracts

import "time"

// TaskState is where one item stands. The legal moves between states are a
// table in gateway/workflow; nothing else changes a state.
type TaskState string

const (
	TaskPlanned            TaskState = "planned"             // created by the planner
	TaskWaiting            TaskState = "waiting"             // on a dependency (e.g. the certificate)
	TaskReady              TaskState = "ready"               // queued for dispatch to its department
	TaskDispatched         TaskState = "dispatched"          // delivered; department has not yet accepted
	TaskAccepted           TaskState = "accepted"            // 受理: the legal clock runs
	TaskInProgress         TaskState = "in_progress"         // assessment, publicity, review …
	TaskSupplementRequired TaskState = "supplement_required" // 补正: back to the applicant
	TaskApproved           TaskState = "approved"            // granted / certificate issued
	TaskRejected           TaskState = "rejected"            // refused or not eligible, with a reason
	TaskCancelled          TaskState = "cancelled"           // withdrawn
	TaskDeadLetter         TaskState = "dead_letter"         // needs an operator
)

// Final reports whether no further change can happen to a task in s.
func (s TaskState) Final() bool {
	return s == TaskApproved || s == TaskRejected || s == TaskCancelled
}

// AppState is the consolidated status of a whole application.
type AppState string

const (
	AppReceived           AppState = "received"
	AppProcessing         AppState = "processing"
	AppSupplementRequired AppState = "supplement_required"
	AppCompleted          AppState = "completed" // every item final
	// AppWithdrawn: the applicant withdrew and every item is final. Items
	// a department had decided before the withdrawal keep their own state
	// (approved, rejected); the application as a whole is withdrawn.
	AppWithdrawn AppState = "withdrawn"
)

// AppStates lists the consolidated states, in the order a list shows them.
var AppStates = []AppState{AppReceived, AppProcessing, AppSupplementRequired, AppCompleted, AppWithdrawn}

// Application is the stored record of one accepted submission.
type Application struct {
	ID         string    `json:"id"`
	PortalRef  string    `json:"portalRef"`
	DeliveryID string    `json:"deliveryId"` // webhook-id of the first delivery
	Channel    Channel   `json:"channel"`
	ReceivedAt time.Time `json:"receivedAt"`
	// AcceptedOn is the civil date in China the application was accepted
	// (YYYY-MM-DD): ages and validity are judged on it, and due dates
	// counted from it.
	AcceptedOn string    `json:"acceptedOn,omitempty"`
	Applicant  Applicant `json:"applicant"`
	Requests   Requests  `json:"requests"`
	Delivery   Delivery  `json:"delivery"`
	Tasks      []*Task   `json:"tasks"`
	Timeline   []Entry   `json:"timeline"`
	Status     Status    `json:"status"`
	// Version grows by one on every change; status pushes carry it so the
	// portal can drop an older push that arrives after a newer one.
	Version       int64 `json:"version"`
	PushedVersion int64 `json:"pushedVersion"`
	// WithdrawnAt is when the applicant withdrew (nil: never); once every
	// item is final the application is then withdrawn, not completed.
	WithdrawnAt *time.Time `json:"withdrawnAt,omitempty"`
	// SubmissionDigest is a keyed digest (HMAC) of the submission as
	// decoded: a portal reference repeated with the same submission is a
	// duplicate, with another one a conflict. Not personal data, and kept
	// in the clear so it outlives an erasure of the applicant.
	SubmissionDigest string `json:"submissionDigest,omitempty"`
	// Intake is who took the application in at a window (nil: it came
	// from the portal), for the window's receipt: not in the view, the
	// pushes or the API's full record.
	Intake *Intake `json:"intake,omitempty"`
	// PushedAt is when the portal took the push of PushedVersion (nil:
	// never): the retention of a final case counts from it.
	PushedAt *time.Time `json:"pushedAt,omitempty"`
	// Erased is set when the personal part was erased (on request or at
	// the end of its retention); what is left is the pseudonymous trace.
	Erased *Erasure `json:"erased,omitempty"`
}

// PeopleNames are the names of an application's people (the applicant,
// a guardian, the delivery's recipient): an audit reason naming one of
// them is refused (CheckAuditReason).
func (a *Application) PeopleNames() []string {
	names := []string{a.Applicant.Name}
	if g := a.Applicant.Guardian; g != nil {
		names = append(names, g.Name)
	}
	if a.Delivery.Recipient != "" {
		names = append(names, a.Delivery.Recipient)
	}
	return names
}

// Erasure records that an application's personal part was erased.
type Erasure struct {
	At time.Time `json:"at"`
	// Kind is ErasureRequest (an admin, on the person's request) or
	// ErasureRetention (the sweep, at the end of the retention period).
	Kind string `json:"kind"`
	// By is the subject who asked (an admin's account; "system:retention"
	// for the sweep), never a person's data.
	By string `json:"by"`
	// Reason is the admin's reason (masked free text); empty for the sweep.
	Reason string `json:"reason,omitempty"`
	// Forced: items were still open at a department and the admin erased
	// all the same.
	Forced bool `json:"forced,omitempty"`
}

// The kinds of erasure.
const (
	ErasureRequest   = "request"
	ErasureRetention = "retention"
)

// Intake records a window's intake of an application.
type Intake struct {
	// Window is the division code of the clerk's window: a town (9
	// digits), or a county office (6 digits); "" for an operator.
	Window string `json:"window,omitempty"`
	Clerk  string `json:"clerk"` // the console username
	// Attested: the clerk confirmed checking the originals and taking the
	// photos (the intake form requires it).
	Attested bool `json:"attested"`
}

// TaskCounty is the county that handles a task: its own, or for a record
// from before tasks carried one, the applicant's household county.
func TaskCounty(app *Application, t *Task) string {
	if t.County != "" {
		return t.County
	}
	return CountyOf(app.Applicant.HouseholdDivision)
}

// Task returns the task with the given id, or nil.
func (a *Application) Task(id string) *Task {
	for _, t := range a.Tasks {
		if t.ID == id {
			return t
		}
	}
	return nil
}

// Task is one item of an application, handled by one department.
type Task struct {
	ID   string   `json:"id"`
	Item ItemCode `json:"item"`
	Dept Dept     `json:"dept"`
	// County is the six-digit code of the county (县/区/市) whose office
	// handles the task: the applicant's household county.
	County    string    `json:"county,omitempty"`
	State     TaskState `json:"state"`
	DependsOn []string  `json:"dependsOn,omitempty"`
	CaseNo    string    `json:"caseNo,omitempty"` // the department's own case number
	Reason    *Message  `json:"reason,omitempty"` // why rejected, cancelled, or what to supplement
	// Certificate is the certificate this task works on: for a subsidy the
	// one it decides from (the one cdpf just issued, or the one held); for a
	// certificate business the one cdpf issued.
	Certificate *Certificate `json:"certificate,omitempty"`
	Result      *Result      `json:"result,omitempty"`
	// Supplement is the last 补正 the department asked for.
	Supplement *Supplement `json:"supplement,omitempty"`
	// SupplementNote is the applicant's note with a supplement: forwarded
	// to the department, never shown in views or pushes (it is free text).
	SupplementNote string `json:"supplementNote,omitempty"`
	// Procedure of a certificate business (cdpf tasks).
	Procedure  *Procedure  `json:"procedure,omitempty"`
	Milestones []Milestone `json:"milestones,omitempty"`
	AcceptedAt *time.Time  `json:"acceptedAt,omitempty"`
	DueDate    string      `json:"dueDate,omitempty"` // YYYY-MM-DD, legal deadline in working days
	// DueProvisional: the due date reaches past the published holiday
	// schedule, so it was counted by the statutory rule (weekends and the
	// statutory days, no make-up days) and is recomputed when the year is
	// loaded.
	DueProvisional bool       `json:"dueProvisional,omitempty"`
	FinishedAt     *time.Time `json:"finishedAt,omitempty"`
	// Step counts dispatches of this task (a supplement or a replay starts a
	// new step); the idempotency key sent to the department is ID + step, so
	// every retry of one step carries the same key.
	Step      int       `json:"step"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"lastError,omitempty"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Supplement is a department's request for a missing or unclear material,
// where to provide it, and when it was provided.
type Supplement struct {
	What        Message    `json:"what"`
	Where       Message    `json:"where"`
	RequestedAt time.Time  `json:"requestedAt"`
	ProvidedAt  *time.Time `json:"providedAt,omitempty"`
	Materials   []string   `json:"materials,omitempty"`
	Round       int        `json:"round"`
}

// Milestone records a step inside a department, e.g. assessment or publicity.
type Milestone struct {
	Kind string    `json:"kind"` // assessed | publicised
	At   time.Time `json:"at"`
}

// Result is what a department granted.
type Result struct {
	Note          *Message `json:"note,omitempty"`
	MonthlyAmount int      `json:"monthlyAmount,omitempty"` // yuan per month, subsidies
}

// Entry is one line of an application's timeline.
type Entry struct {
	At     time.Time `json:"at"`
	TaskID string    `json:"taskId,omitempty"`
	Kind   string    `json:"kind"` // received, planned, state, milestone, event_ignored, …
	From   TaskState `json:"from,omitempty"`
	To     TaskState `json:"to,omitempty"`
	Note   *Message  `json:"note,omitempty"`
	Source string    `json:"source,omitempty"` // gateway | cdpf | civil | hrss | medical | portal
}

// Status is the consolidated status of an application.
type Status struct {
	State AppState `json:"state"`
	// StateName is State for people (AppStateName), filled in with it.
	StateName Message `json:"stateName,omitzero"`
	// Counts maps a task state to how many tasks are in it.
	Counts map[TaskState]int `json:"counts"`
	// NextDue is the earliest due date among unfinished tasks.
	NextDue string `json:"nextDue,omitempty"`
	// Overdue lists unfinished tasks past their due date.
	Overdue []string `json:"overdue,omitempty"`
	// DueDate is the due date of the whole one thing (45 working days).
	DueDate string `json:"dueDate,omitempty"`
	// Provisional: DueDate reaches past the published holiday schedule and
	// was counted by the statutory rule; it may move when the State
	// Council publishes that year's schedule.
	Provisional bool `json:"provisional,omitempty"`
}
