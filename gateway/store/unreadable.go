package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"onething/contracts"
)

// Records that do not open. A record whose sealed part no longer decrypts
// (a data key missing or replaced, the blob altered) or that is damaged
// will not open on any retry: it is a permanent error, not the store being
// unavailable. Every read that meets one returns an *UnreadableError
// (ErrUnreadable), and the backend notes the application in a list of its
// own (bbolt bucket "unreadable", Redis hash P:unreadable) that operators
// read (UnreadableRecords; GET /v1/admin/unreadable-records). Walks through
// the store (Scan, Reseal) skip such a record, note it, and go on.

// ErrUnreadable: the application is stored but its record does not open.
var ErrUnreadable = errors.New("the stored record cannot be read")

// Reasons a record does not open (besides the keyring's own messages,
// which name key ids and algorithms). None holds personal data.
const (
	ReasonMalformed   = "the stored record is not a well-formed application record"
	ReasonOtherRecord = "the stored record is not this application's"
	ReasonNoKeys      = "the record is sealed and no data keys are configured"
	// ReasonKeyDestroyed: the application's own data key is not in the
	// key store: an erasure destroyed it (a copy of the record from
	// before the erasure), or the key store is not the data's.
	ReasonKeyDestroyed = "the application's data key is not in the key store (destroyed by an erasure?)"
)

// UnreadableError is a stored record that does not open.
type UnreadableError struct {
	ID     string // the application's id
	Reason string // what is wrong, without personal data
	err    error
}

func (e *UnreadableError) Error() string {
	return fmt.Sprintf("application %s: the stored record cannot be read: %s", e.ID, e.Reason)
}

func (e *UnreadableError) Unwrap() []error {
	if e.err != nil {
		return []error{ErrUnreadable, e.err}
	}
	return []error{ErrUnreadable}
}

// maxUnreadable bounds the list a backend keeps (a store where every
// record fails has a key problem, which the open's key checks catch).
const maxUnreadable = 10_000

// MaxUnreadableListed is the most records UnreadableRecords returns.
const MaxUnreadableListed = 1000

// UnreadableLister is offered by both backends.
type UnreadableLister interface {
	// UnreadableRecords returns the applications known not to open, by
	// id, at most limit (and MaxUnreadableListed), and how many there are.
	// Each is read again first: one that opens now (its key is back) or
	// is gone leaves the list.
	UnreadableRecords(ctx context.Context, limit int) ([]contracts.UnreadableRecord, int, error)
	// UnreadableCount is how many are listed (one read; the metric).
	UnreadableCount(ctx context.Context) (int, error)
}

// unreadableList is what a backend keeps of the list.
type unreadableList interface {
	// putUnreadable adds rec, or moves an entry's LastSeen and Reason.
	putUnreadable(ctx context.Context, rec contracts.UnreadableRecord) error
	allUnreadable(ctx context.Context) ([]contracts.UnreadableRecord, error)
	delUnreadable(ctx context.Context, id string) error
	UnreadableCount(ctx context.Context) (int, error)
	Get(ctx context.Context, id string) (*contracts.Application, error)
}

// unreadableNotes spares the store a write per read of one bad record:
// each application is noted at most every noteEvery by one process.
type unreadableNotes struct {
	mu    sync.Mutex
	noted map[string]time.Time
}

const noteEvery = 10 * time.Minute

func (n *unreadableNotes) due(id string, now time.Time) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.noted == nil || len(n.noted) > maxUnreadable {
		n.noted = map[string]time.Time{}
	}
	if at, ok := n.noted[id]; ok && now.Sub(at) < noteEvery {
		return false
	}
	n.noted[id] = now
	return true
}

func (n *unreadableNotes) forget(id string) {
	n.mu.Lock()
	delete(n.noted, id)
	n.mu.Unlock()
}

// note records, if err is an unreadable record, that it was met. It never
// changes err; a failure to note is not the caller's.
func (n *unreadableNotes) note(l unreadableList, err error) {
	var ue *UnreadableError
	if !errors.As(err, &ue) {
		return
	}
	now := time.Now().UTC().Truncate(time.Second)
	if !n.due(ue.ID, now) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if l.putUnreadable(ctx, contracts.UnreadableRecord{ApplicationID: ue.ID, Reason: ue.Reason, FirstSeen: now, LastSeen: now}) != nil {
		n.forget(ue.ID) // try again at the next read
	}
}

// merge is an entry after another sighting.
func merge(old, rec contracts.UnreadableRecord) contracts.UnreadableRecord {
	if !old.FirstSeen.IsZero() {
		rec.FirstSeen = old.FirstSeen
	}
	return rec
}

// unreadableRecords is UnreadableRecords over a backend's list.
func unreadableRecords(ctx context.Context, l unreadableList, n *unreadableNotes, limit int) ([]contracts.UnreadableRecord, int, error) {
	if limit <= 0 || limit > MaxUnreadableListed {
		limit = MaxUnreadableListed
	}
	all, err := l.allUnreadable(ctx)
	if err != nil {
		return nil, 0, err
	}
	sort.Slice(all, func(i, k int) bool { return all[i].ApplicationID < all[k].ApplicationID })
	out := []contracts.UnreadableRecord{}
	count := 0
	for _, rec := range all {
		_, err := l.Get(ctx, rec.ApplicationID)
		var ue *UnreadableError
		switch {
		case err == nil, errors.Is(err, ErrNotFound):
			// It opens again (its key is back), or it is gone.
			if err := l.delUnreadable(ctx, rec.ApplicationID); err != nil {
				return nil, 0, err
			}
			n.forget(rec.ApplicationID)
			continue
		case errors.As(err, &ue):
			rec.Reason = ue.Reason
		default:
			return nil, 0, err
		}
		count++
		if len(out) < limit {
			out = append(out, rec)
		}
	}
	return out, count, nil
}

var (
	_ UnreadableLister = (*Bolt)(nil)
	_ UnreadableLister = (*Redis)(nil)
)
