package store

import (
	"bytes"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// txWritten is what the current write transaction wrote of each
// application, not yet committed, so that a later function of the same
// transaction that reads the record (group commit puts up to 64 in one)
// gets it without decoding. The record cache learns a write only once it
// is committed, so without this every such read was a miss: the five
// dispatches of one application are leased together and their
// acknowledgements, like a department's callbacks, land in one
// transaction; in the end-to-end bench on bolt those decodes were 9 % of
// the gateway's CPU with the cache holding every application in flight.
//
// An entry is used only in the transaction that made it (the *bolt.Tx
// it holds cannot be freed and its address reused while held), and only
// for the very head and personal part that write stored, so a hit
// answers what decoding the uncommitted record would. A transaction that
// is rolled back takes its entries with it: the next one starts empty.
type txWritten struct {
	mu   sync.Mutex
	tx   *bolt.Tx
	recs map[string]writtenRecord
}

type writtenRecord struct {
	head []byte
	pr   *prior // its app never changes
	idx  string
}

// note records that tx wrote head as the record pr of id (pr nil: a
// record that is not cached, which forgets an earlier entry of id).
func (t *txWritten) note(tx *bolt.Tx, id string, head []byte, pr *prior, idx string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tx != tx {
		t.tx, t.recs = tx, map[string]writtenRecord{}
		tx.OnCommit(func() { t.forget(tx) })
	}
	if pr == nil {
		delete(t.recs, id)
		return
	}
	t.recs[id] = writtenRecord{head: head, pr: pr, idx: idx}
}

// get is what tx wrote of id, if head and per are what it wrote.
func (t *txWritten) get(tx *bolt.Tx, id string, head, per []byte) (*prior, string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tx != tx {
		return nil, "", false
	}
	r, ok := t.recs[id]
	if !ok || !bytes.Equal(r.head, head) || (r.pr.parts && string(per) != r.pr.per) {
		return nil, "", false
	}
	return r.pr, r.idx, true
}

// forget drops what tx wrote (committed: the cache has it now).
func (t *txWritten) forget(tx *bolt.Tx) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tx == tx {
		t.tx, t.recs = nil, nil
	}
}

// inFlight holds, for each application, the newest update worked out
// before its transaction (preparedUpdate) that has not come back from
// its commit yet. A later update of the same application is worked out
// on that one's result instead of on the committed record: a
// department's callbacks and the worker's acknowledgements of one
// application come together, group commit puts them in one transaction,
// and each one after the first used to find the record changed there and
// be worked out a second time in the transaction, on the single writer
// (in the end-to-end bench on bolt, half of all updates). When the update
// it was worked out on is not what the transaction holds (it failed, was
// worked out again, or came after), stillHolds says so and the update is
// worked out again in the transaction, as before.
type inFlight struct {
	mu sync.Mutex
	m  map[string]*preparedUpdate
}

// latest is the newest update of id in flight that wrote the record, if
// any.
func (f *inFlight) latest(id string) *preparedUpdate {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.m[id]
}

// start records u as the newest update of id in flight.
func (f *inFlight) start(id string, u *preparedUpdate) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]*preparedUpdate{}
	}
	f.m[id] = u
}

// done forgets u, back from its commit, unless a newer one came since.
func (f *inFlight) done(id string, u *preparedUpdate) {
	if u == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m[id] == u {
		delete(f.m, id)
	}
}

// size is the number of applications with an update in flight (tests).
func (f *inFlight) size() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.m)
}
