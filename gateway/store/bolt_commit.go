package store

import (
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
)

// Group commit on bbolt. bbolt has one writer and every transaction ends
// in an fsync, so writes made one after another by the workers and the
// event handlers each paid a whole fsync (docs/PROFILING.md). The
// committer lets concurrent writes share one transaction and one fsync:
// the first writer to arrive while no transaction runs leads, and commits
// itself and whatever has queued behind it; the others wait, and the
// first of those still queued when the leader's commit ends leads next.
// There is no timer: a write that arrives alone is committed at once, in
// its caller's goroutine, as db.Update would. Every caller returns only
// once the transaction that holds its function is committed (fsynced), or
// with its own error, so a 202 or an acknowledged event still means
// written to disk.
//
// bbolt has no savepoints: when one function fails, the whole transaction
// is rolled back and the others run in a fresh one, those before it for
// the second time (bbolt's DB.Batch does the same). The failing function's error is its
// own when it ran first in the transaction (it saw only committed data);
// when it ran after others, it is run again alone, so that the error it
// returns is one the committed data gives. A function that panics makes
// its caller panic with the same value; the others are committed without it.

// maxGroup bounds the functions of one transaction. Updates are worked
// out before it (Bolt.prepare), so a function mostly puts bytes, and the
// commit's wait is bbolt's fsyncs: in the end-to-end bench the leader was
// found in fdatasync with 70 writes queued behind it, so a bound of 64
// cost a second commit's wait for the rest (0.37 of the relay at 64,
// 0.47 at 256, docs/PROFILING.md). 256 event-sized writes put a few MiB
// in one commit.
const maxGroup = 256

// groupCommitter commits the functions of concurrent callers together.
type groupCommitter struct {
	db  *bolt.DB
	max int // functions per transaction at most

	mu      sync.Mutex
	queue   []*groupWrite // waiting, in arrival order; queue[0] leads next
	leading bool          // a leader is taking or committing a batch

	// commits counts the transactions committed (tests, benchmarks).
	commits atomic.Int64
	// beforeBatch, when set (tests), runs in the leader before it takes
	// its batch.
	beforeBatch func()
}

func newGroupCommitter(db *bolt.DB) *groupCommitter {
	return &groupCommitter{db: db, max: maxGroup}
}

// groupWrite is one caller's function, waiting for its transaction.
type groupWrite struct {
	fn   func(*bolt.Tx) error
	done chan groupResult // the leader's answer (one)
	// res is set by the leader that ran it, answered once it is final.
	res      groupResult
	answered bool
}

type groupResult struct {
	err error
	// lead: the caller leads the next batch (its function not yet run).
	lead bool
	// alone: the function failed after others in a transaction that was
	// rolled back; the caller runs it again in a transaction of its own.
	alone bool
	// panicked: the function panicked with this value (and trace).
	panicked *groupPanic
}

type groupPanic struct {
	value any
	stack []byte
}

// commit runs fn in a transaction, possibly shared with other callers'
// functions, and returns once that transaction is committed (or fn's own
// error). See Bolt.commit for what fn may do.
func (g *groupCommitter) commit(fn func(*bolt.Tx) error) error {
	w := &groupWrite{fn: fn, done: make(chan groupResult, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, w)
	if g.leading {
		g.mu.Unlock()
		if r := <-w.done; !r.lead {
			return g.finish(w, r)
		}
	} else {
		g.leading = true
		g.mu.Unlock()
	}
	return g.finish(w, g.lead())
}

// lead commits a batch that starts with the leader's own write, passes
// the lead on, and answers the batch's other callers. Whatever happens
// in between, even a panic of bbolt itself, no caller is left waiting.
func (g *groupCommitter) lead() (own groupResult) {
	if g.beforeBatch != nil {
		g.beforeBatch()
	}
	g.mu.Lock()
	n := min(len(g.queue), g.max)
	batch := make([]*groupWrite, n)
	copy(batch, g.queue)
	rest := copy(g.queue, g.queue[n:])
	clear(g.queue[rest:]) // no write stays reachable from the spare room
	g.queue = g.queue[:rest]
	g.mu.Unlock()
	defer func() {
		p := recover()
		if p != nil {
			// bbolt panicked outside the functions (they are called
			// safely): every write of the batch not answered fails.
			for _, w := range batch {
				if !w.answered {
					w.res = groupResult{err: fmt.Errorf("store: the write transaction failed: %v", p)}
				}
			}
		}
		g.mu.Lock()
		if len(g.queue) > 0 {
			g.queue[0].done <- groupResult{lead: true}
		} else {
			g.leading = false
		}
		g.mu.Unlock()
		for _, w := range batch[1:] {
			w.done <- w.res
		}
		if p != nil {
			panic(p)
		}
	}()
	g.run(batch)
	return batch[0].res
}

// run commits the batch's functions in one transaction, taking out the
// ones that fail (each gets its result) and running the rest again.
func (g *groupCommitter) run(batch []*groupWrite) {
	todo := append([]*groupWrite(nil), batch...)
	for len(todo) > 0 {
		failed := -1
		var fnErr error
		var pv *groupPanic
		err := g.db.Update(func(tx *bolt.Tx) error {
			for i, w := range todo {
				if pv, fnErr = callSafely(w.fn, tx); fnErr != nil || pv != nil {
					failed = i
					if fnErr == nil {
						fnErr = errPanicked
					}
					return fnErr
				}
			}
			return nil
		})
		if failed < 0 {
			if err == nil {
				g.commits.Add(1)
			}
			for _, w := range todo {
				w.res, w.answered = groupResult{err: err}, true
			}
			return
		}
		w := todo[failed]
		switch {
		case pv != nil:
			w.res = groupResult{panicked: pv}
		case failed == 0:
			w.res = groupResult{err: err}
		default:
			w.res = groupResult{alone: true}
		}
		w.answered = true
		todo = append(todo[:failed], todo[failed+1:]...)
	}
}

var errPanicked = errors.New("store: a write function panicked")

// callSafely calls fn, turning a panic into its value and trace.
func callSafely(fn func(*bolt.Tx) error, tx *bolt.Tx) (p *groupPanic, err error) {
	defer func() {
		if v := recover(); v != nil {
			p = &groupPanic{value: v, stack: debug.Stack()}
		}
	}()
	return nil, fn(tx)
}

// finish is what the caller gets of its result: a function run again
// alone, or the panic its function raised.
func (g *groupCommitter) finish(w *groupWrite, r groupResult) error {
	switch {
	case r.panicked != nil:
		// The caller's panic, with its value (readSafely and others look
		// at it). It was caught where it happened, maybe in another
		// goroutine (the leader's): an error carries that trace along.
		if e, ok := r.panicked.value.(error); ok {
			panic(fmt.Errorf("%w\n\n[where it was raised, in a group commit]\n%s", e, r.panicked.stack))
		}
		panic(r.panicked.value)
	case r.alone:
		err := g.db.Update(w.fn)
		if err == nil {
			g.commits.Add(1)
		}
		return err
	}
	return r.err
}
