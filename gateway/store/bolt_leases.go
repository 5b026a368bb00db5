package store

import (
	"sync"
	"time"
)

// leaseBook holds the bbolt backend's leases in memory: which jobs a
// worker of this process holds, and until when.
//
// A lease used to be written to the file: the job's record, its due entry
// moved to the lease's end and an entry in the leased index, one more
// write of three buckets for every job a worker took, and another at its
// end (docs/PROFILING.md, tenth round). Only this process can hold the
// file (bbolt locks it), so a lease never outlives the process that took
// it, which is what the file's copy was for: Open handed back the leases
// of a process that died. In memory, they go with the process; its jobs
// stay in the queue, due as they were, and the next process takes them.
// What a lease promises is unchanged: a job is handed to one worker at a
// time until its lease ends or it is acked, retried or parked.
type leaseBook struct {
	// leasing is held by Lease from before it reads the queue until its
	// leases are taken, and by end: so a Lease that read the queue before
	// a job's ack was committed finds the job still held, and one that
	// finds it no longer held read the queue after the ack (the write
	// ends the lease only once committed). It also makes Lease one at a
	// time, so that two cannot both find a job free.
	leasing sync.Mutex
	mu      sync.Mutex
	until   map[string]time.Time
}

// held reports whether the job id is leased at now.
func (l *leaseBook) held(id string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	until, ok := l.until[id]
	return ok && until.After(now)
}

// take leases the jobs ids until then, and forgets leases ended by now.
func (l *leaseBook) take(ids []string, now, until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.until == nil {
		l.until = map[string]time.Time{}
	}
	for id, end := range l.until {
		if !end.After(now) {
			delete(l.until, id)
		}
	}
	for _, id := range ids {
		l.until[id] = until
	}
}

// end ends the lease of job id: called once the write that acked,
// retried or parked the job is committed (before, a Lease reading the
// queue as it was could hand the job out again).
func (l *leaseBook) end(id string) {
	l.leasing.Lock()
	defer l.leasing.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.until, id)
}

// count is how many leases run at now.
func (l *leaseBook) count(now time.Time) (n int, ids map[string]bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ids = map[string]bool{}
	for id, end := range l.until {
		if end.After(now) {
			ids[id] = true
		}
	}
	return len(ids), ids
}
