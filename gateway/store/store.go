// Package store is the gateway's one port to durable state: applications,
// dedupe keys and the work queue, written together so that the state and the
// work it implies can never disagree, and the append-only audit log. Bolt
// (embedded, single node) is the default backend, Redis the shared one; both
// seal personal data through the same codec (codec.go).
package store

import (
	"context"
	"errors"
	"strconv"
	"time"

	"onething/contracts"
)

var (
	// ErrNotFound: no application (or key) by that id.
	ErrNotFound = errors.New("not found")
	// ErrDuplicate: a dedupe key of a new application is already taken.
	ErrDuplicate = errors.New("duplicate")
	// ErrAlreadyApplied: the once-key of an update was recorded before.
	ErrAlreadyApplied = errors.New("already applied")
)

// Job kinds.
const (
	JobDispatch = "dispatch" // open a task's case in its department
	JobPush     = "push"     // push the consolidated status to the portal
	JobResume   = "resume"   // forward an applicant's supplement to the department
	JobCancel   = "cancel"   // tell a department the applicant withdrew
	JobPoll     = "poll"     // read a department's case where callbacks may not come
)

// RecordOwes reports whether, for jobs of a kind, the application's record
// alone says whether the job is owed: a dispatch is owed while its task is
// ready at its step, a push while its version is not pushed, and the
// worker acks one without changing the record only when the record says
// it is not owed. The reconciler then restores such a job whenever the
// record owes it, finished id or not: an id among the finished ones
// (Redis's done set) next to a record that owes the work is an ack
// decided on a record the store no longer holds (read on one side of a
// Sentinel failover, acked on the other). For the other kinds (a
// follow-up a department refused leaves the record as it was) the
// finished ids are what keeps the work from being done again.
func RecordOwes(kind string) bool { return kind == JobDispatch || kind == JobPush }

// Job is one unit of durable work. Its ID is unique: enqueueing a job whose
// ID is queued already changes nothing, which makes enqueueing idempotent.
type Job struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	AppID  string `json:"appId"`
	TaskID string `json:"taskId,omitempty"`
	// Dept is the remote system the job calls (a department, or "portal"),
	// so workers can keep one system's trouble from taking every slot.
	Dept    string `json:"dept,omitempty"`
	Attempt int    `json:"attempt"`
	// NotBefore is when the job becomes due.
	NotBefore time.Time `json:"notBefore"`
	// Leased is set while a worker holds the job; a lease that is neither
	// acked nor retried before it ends makes the job due again.
	Leased bool `json:"leased,omitempty"`
	// Retaken is set on a job handed out after an earlier lease of it
	// ended with neither an ack nor a retry (its holder died, or hung past
	// the lease): that holder may have made the job's call, so a dispatch
	// whose task no longer waits for it is still settled with the
	// department (engine: mayHaveReached). Kept with the job once set.
	Retaken bool `json:"retaken,omitempty"`
	// Due is the job's current position in the due index (NotBefore, or the
	// end of its lease); backends keep it to find the index entry.
	Due time.Time `json:"due"`
	// LastError is the error of the last attempt, for operators.
	LastError string `json:"lastError,omitempty"`
	// Replaces names an earlier job this one makes unnecessary (the status
	// push of the version before): enqueueing this job removes that one in
	// the same write if it is waiting, and leaves it alone if a worker
	// holds it. A burst of changes so queues one push, not one per version.
	Replaces string `json:"replaces,omitempty"`
	// BaseURL, on a dispatch job, is the gateway's public base URL the
	// case request's callbackUrl is built on, fixed when the job is first
	// queued: a retry, a lease another replica takes over or a replay
	// sends the same body under the same idempotency key, whichever
	// replica sends it. Empty (a job queued by an earlier version, or
	// rebuilt by the reconciler): the sending replica's baseUrl.
	BaseURL string `json:"baseUrl,omitempty"`
	// Quarantined, on a job Lease hands out, says the job's stored record
	// was damaged (it does not decode, or its id is not the one it is
	// stored under): the store has parked it as a dead letter instead of
	// leasing it, and the worker only reports it. Never stored.
	Quarantined string `json:"-"`
}

// DispatchJobID is the id of the job that dispatches one step of a task.
func DispatchJobID(taskID string, step int) string {
	return JobDispatch + ":" + taskID + ":" + strconv.Itoa(step)
}

// ResumeJobID is the id of the job that forwards supplement round n.
func ResumeJobID(taskID string, round int) string {
	return JobResume + ":" + taskID + ":" + strconv.Itoa(round)
}

// CancelJobID is the id of the job that tells a department of a withdrawal.
func CancelJobID(taskID string) string { return JobCancel + ":" + taskID }

// PollJobID is the id of a task's polling job (one per task, rescheduled).
func PollJobID(taskID string) string { return JobPoll + ":" + taskID }

// PushJobID is the id of the status push for one version of an
// application. Each version has its own job, so a change made while an
// older push is under way is never lost; the worker sends the newest
// version and skips jobs of versions already sent. Each push job replaces
// (Job.Replaces) the previous version's while that one still waits, so a
// burst of changes costs one push.
func PushJobID(appID string, version int64) string {
	return JobPush + ":" + appID + ":" + strconv.FormatInt(version, 10)
}

// ConfirmedReader is a backend whose reads can show writes a failover may
// still lose (Redis with replicas, WithMinReplicas): GetConfirmed reads an
// application only once its replicas hold it, else ErrNotReplicated. What
// leaves the gateway for good (a status push: the portal keeps the newest
// version it took) is read this way. A backend without replicas has no
// such reads and need not implement it.
type ConfirmedReader interface {
	GetConfirmed(ctx context.Context, id string) (*contracts.Application, error)
}

// UpdateFunc changes an application in place and returns the jobs the change
// implies; returning an error aborts the update and writes nothing. A
// backend that commits optimistically (Redis) runs it again on the fresh
// application when another writer came first, so it must change nothing
// but the application it is given.
type UpdateFunc func(app *contracts.Application) ([]Job, error)

// Store is implemented by every backend; storetest holds the suite they pass.
type Store interface {
	// Create stores a new application, its dedupe keys and its first jobs in
	// one atomic write. If a key is taken it writes nothing and returns the
	// id of the application holding the key, with ErrDuplicate.
	Create(ctx context.Context, app *contracts.Application, keys []string, jobs []Job) (string, error)
	// Get returns a copy of an application.
	Get(ctx context.Context, id string) (*contracts.Application, error)
	// Update runs fn on the current application and writes the result and
	// the returned jobs atomically. With a non-empty onceKey it first checks
	// the key: if recorded before, fn is not run and ErrAlreadyApplied is
	// returned; otherwise the key is recorded in the same write.
	Update(ctx context.Context, id, onceKey string, fn UpdateFunc) error
	// UpdateAck is Update without a once key that also acks job in the
	// same atomic write: a worker records what its job did and finishes
	// the job in one durable write instead of two. As with Ack, a job
	// whose lease another worker took over is not acked; the update is
	// written all the same. The ack comes before the jobs fn returns, so
	// a job queued again under the acked id stays queued.
	UpdateAck(ctx context.Context, id string, job Job, fn UpdateFunc) error
	// Deliver is Update for a signed delivery d (delivery.go). If one of
	// d's keys was recorded with d's fingerprint, fn is not run and the
	// recorded reply comes back with ErrAlreadyApplied; recorded with
	// another fingerprint, or one of d.Taken present, fn is not run,
	// nothing changes and the error is ErrReplayed (checked before the
	// application is read: an id used for application A is refused on B
	// even if B does not exist). Otherwise, as Update with onceKey, fn
	// runs and d's keys are recorded with its reply in the same atomic
	// write as the application and the jobs (for the dedupe lifetime),
	// so the action and its reply are never one without the other.
	Deliver(ctx context.Context, id, onceKey string, d Delivery, fn DeliverFunc) (Reply, error)
	// Lookup returns the application id a dedupe key points to.
	Lookup(ctx context.Context, key string) (string, error)
	// FindByIDNumber returns the ids of every application of the person
	// with this ID number, in id order (oldest first), found through the
	// keyed blind index; the store never holds the number in the clear.
	// Without keys (WithKeys) nothing is indexed and nothing is found.
	FindByIDNumber(ctx context.Context, idNumber string) ([]string, error)
	// Reseal writes again, with the current keys, every application that
	// is plain (written before keys were configured), sealed directly
	// under the keyring (envelope version 2, before the applications' own
	// keys) or indexed with an older key, then rewraps under the current
	// key every application key wrapped under an older one (appkeys.go;
	// the data stays as it is); when neither a record nor a key is left
	// under an older key, the store forgets that key's check, so the key
	// may leave the configuration. Safe while the gateway runs (each
	// rewrite is an Update, each rewrap a compare-and-set).
	Reseal(ctx context.Context) (ResealStats, error)

	// AppendAudit adds an entry to the audit log and returns it with the
	// id and time the store gave it (times never decrease). The log is
	// append-only: the store has no way to change or remove an entry; the
	// only removal is trimming, past the audit retention, every entry
	// before a time (AuditTrimmer), never a single one.
	AppendAudit(ctx context.Context, e contracts.AuditEntry) (contracts.AuditEntry, error)
	// Audit returns the entries q selects, newest first, at most q's limit,
	// and the cursor of the next (older) page, "" when there is none.
	Audit(ctx context.Context, q AuditQuery) ([]contracts.AuditEntry, string, error)

	// Enqueue adds jobs whose ids are not queued yet (and removes the
	// waiting jobs they replace).
	Enqueue(ctx context.Context, jobs ...Job) error
	// Lease hands out up to n due jobs for the duration d.
	Lease(ctx context.Context, now time.Time, n int, d time.Duration) ([]Job, error)
	// Ack removes a finished job.
	Ack(ctx context.Context, job Job) error
	// Retry makes a leased job due again at the given time.
	Retry(ctx context.Context, job Job, at time.Time) error
	// Park takes a leased job out of the queue and keeps it, with its id,
	// as a dead letter for an operator.
	Park(ctx context.Context, job Job) error
	// Parked lists the parked jobs.
	Parked(ctx context.Context) ([]Job, error)
	// Unpark forgets a parked job (after a replay re-enqueued it by id).
	Unpark(ctx context.Context, id string) error
	// QueueStats reports the queue's size and the oldest due time.
	QueueStats(ctx context.Context) (QueueStats, error)

	// Ping reports whether the backend answers.
	Ping(ctx context.Context) error
	Close() error
}

// QueueStats is what operators watch about the queue.
type QueueStats struct {
	Jobs      int
	Leased    int
	OldestDue time.Time // zero when empty
}
