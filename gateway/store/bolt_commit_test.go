package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	c "onething/contracts"
	"onething/gateway/store"
	"onething/gateway/store/storetest"
)

// Group commit (bolt_commit.go): concurrent writes share a transaction
// and its fsync. Coalescing is shown without timing: HoldLeader keeps the
// leader from taking its batch until the writers under test are queued.

func openGroupBolt(t *testing.T) *store.Bolt {
	t.Helper()
	keys := storetest.NewKeys()
	s, err := store.OpenBolt(filepath.Join(t.TempDir(), "t.db"), store.WithKeys(keys.Ring(t, "k1", "|", "i1")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func groupApp(id string) *c.Application {
	return storetest.PersonalApp(id, storetest.ExampleIDNumber, "ref-"+id)
}

// startInOrder starts the writers one after another, each once the one
// before is queued, so they queue in this order (HoldLeader(s,
// len(writers)) keeps them queued until the last comes); wait waits for
// all.
func startInOrder(s *store.Bolt, writers []func()) (wait func()) {
	var wg sync.WaitGroup
	for i, w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w()
		}()
		for i < len(writers)-1 && store.Queued(s) < i+1 {
			time.Sleep(50 * time.Microsecond)
		}
	}
	return wg.Wait
}

// Many writers at once: every write lands and reads back.
func TestBoltGroupCommitManyWriters(t *testing.T) {
	s := openGroupBolt(t)
	ctx := context.Background()
	const writers, events = 48, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprint("W", w)
			if _, err := s.Create(ctx, groupApp(id), []string{"delivery:" + id}, nil); err != nil {
				errs <- err
				return
			}
			for e := range events {
				err := s.Update(ctx, id, fmt.Sprintf("event:%s:%d", id, e), func(a *c.Application) ([]store.Job, error) {
					a.Version++
					return []store.Job{{ID: store.PushJobID(id, a.Version), Kind: store.JobPush, AppID: id, NotBefore: time.Now()}}, nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for w := range writers {
		id := fmt.Sprint("W", w)
		a, err := s.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if a.Version != groupApp(id).Version+events || a.Applicant.Name != groupApp(id).Applicant.Name {
			t.Errorf("%s: version %d, name %q; want %d events applied, the name kept", id, a.Version, a.Applicant.Name, events)
		}
		if got, err := s.Lookup(ctx, "delivery:"+id); err != nil || got != id {
			t.Errorf("%s: dedupe key -> %q, %v", id, got, err)
		}
		err = s.Update(ctx, id, fmt.Sprintf("event:%s:%d", id, events-1), func(*c.Application) ([]store.Job, error) { return nil, nil })
		if !errors.Is(err, store.ErrAlreadyApplied) {
			t.Errorf("%s: the last event again: %v, want ErrAlreadyApplied (its once key stored)", id, err)
		}
	}
	// Every push job queued (each version's; none replaced, none lost).
	jobs, err := s.Lease(ctx, time.Now().Add(time.Minute), writers*events+1, time.Minute)
	if err != nil || len(jobs) != writers*events {
		t.Errorf("%d jobs queued (%v), want %d", len(jobs), err, writers*events)
	}
}

// Writers that arrive while a commit runs share the next transaction: K
// writes, one commit (counted by the committer and by bbolt's own
// transaction ids).
func TestBoltGroupCommitShares(t *testing.T) {
	s := openGroupBolt(t)
	ctx := context.Background()
	const k = 16
	commits, txid := s.CommitCount(), store.LastTxID(s)
	store.HoldLeader(s, k)
	var wg sync.WaitGroup
	errs := make([]error, k)
	for i := range k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.Create(ctx, groupApp(fmt.Sprint("S", i)), nil, nil)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	if got := s.CommitCount() - commits; got != 1 {
		t.Errorf("%d writes made %d commits, want 1", k, got)
	}
	if got := store.LastTxID(s) - txid; got != 1 {
		t.Errorf("%d writes made %d bbolt transactions, want 1", k, got)
	}
	for i := range k {
		if _, err := s.Get(ctx, fmt.Sprint("S", i)); err != nil {
			t.Errorf("S%d: %v", i, err)
		}
	}
	// A write alone is a transaction of its own, at once.
	if _, err := s.Create(ctx, groupApp("alone"), nil, nil); err != nil {
		t.Fatal(err)
	}
	if got := s.CommitCount() - commits; got != 2 {
		t.Errorf("after one more write alone, %d commits, want 2", got)
	}
}

// A transaction holds at most MaxGroup functions; the rest go in the next.
func TestBoltGroupCommitBounded(t *testing.T) {
	s := openGroupBolt(t)
	n := store.MaxGroup + 10
	commits := s.CommitCount()
	store.HoldLeader(s, n)
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Enqueue(context.Background(), store.Job{ID: fmt.Sprint("j", i), Kind: store.JobPush, AppID: "A", NotBefore: time.Now()}); err != nil {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d writes failed", failed.Load())
	}
	if got := s.CommitCount() - commits; got != 2 {
		t.Errorf("%d writes (at most %d a transaction) made %d commits, want 2", n, store.MaxGroup, got)
	}
}

// One function's error fails only its own write: the others, run before
// it in the transaction that was rolled back, run again and commit; its
// changes are absent; it gets its own error.
func TestBoltGroupCommitFailureIsolated(t *testing.T) {
	s := openGroupBolt(t)
	store.WorkInTransaction(s) // the runs counted are the transaction's
	ctx := context.Background()
	for _, id := range []string{"A0", "A1", "F", "A3"} {
		if _, err := s.Create(ctx, groupApp(id), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	boom := errors.New("boom")
	runs := map[string]*atomic.Int32{"A0": {}, "A1": {}, "F": {}, "A3": {}}
	errs := map[string]error{}
	var mu sync.Mutex
	write := func(id string) func() {
		return func() {
			err := s.Update(ctx, id, "once:"+id, func(a *c.Application) ([]store.Job, error) {
				n := runs[id].Add(1)
				a.Version++
				a.Timeline = append(a.Timeline, c.Entry{Kind: "note", Source: fmt.Sprint("run ", n)})
				if id == "F" {
					return nil, boom
				}
				return []store.Job{{ID: "job:" + id, Kind: store.JobPush, AppID: id, NotBefore: time.Now()}}, nil
			})
			mu.Lock()
			errs[id] = err
			mu.Unlock()
		}
	}
	commits := s.CommitCount()
	store.HoldLeader(s, 4)
	startInOrder(s, []func(){write("A0"), write("A1"), write("F"), write("A3")})()

	if !errors.Is(errs["F"], boom) {
		t.Errorf("the failing write returned %v, want its own error", errs["F"])
	}
	for _, id := range []string{"A0", "A1", "A3"} {
		if errs[id] != nil {
			t.Errorf("%s failed with %v: another write's error", id, errs[id])
		}
	}
	// A0 and A1 ran before F in the transaction rolled back, and again;
	// F ran there and again alone (its error is what committed data
	// gives); A3 came after F and ran once.
	want := map[string]int32{"A0": 2, "A1": 2, "F": 2, "A3": 1}
	for id, n := range want {
		if got := runs[id].Load(); got != n {
			t.Errorf("%s ran %d times, want %d", id, got, n)
		}
	}
	if got := s.CommitCount() - commits; got != 1 {
		t.Errorf("%d commits, want 1 (the others together; the failing one commits nothing)", got)
	}
	f, err := s.Get(ctx, "F")
	if err != nil || f.Version != groupApp("F").Version || len(f.Timeline) != len(groupApp("F").Timeline) {
		t.Errorf("the failing write's changes are stored: %+v, %v", f, err)
	}
	if err := s.Update(ctx, "F", "once:F", func(*c.Application) ([]store.Job, error) { return nil, nil }); err != nil {
		t.Errorf("the failing write's once key is stored: %v", err)
	}
	for id, n := range want {
		if id == "F" {
			continue
		}
		a, err := s.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		// Only the run that was committed left its mark.
		last := a.Timeline[len(a.Timeline)-1].Source
		if a.Version != groupApp(id).Version+1 || last != fmt.Sprint("run ", n) || len(a.Timeline) != len(groupApp(id).Timeline)+1 {
			t.Errorf("%s: version %d, last entry %q, %d entries: want one change, by run %d", id, a.Version, last, len(a.Timeline), n)
		}
		if cached := store.CachedRecord(s, id); cached != nil && !bytes.Equal(cached, store.RawRecord(t, s, id)) {
			t.Errorf("%s: the record cache holds bytes that were never committed", id)
		}
	}
}

// A duplicate in the same transaction as the write it repeats gets the
// error and the id committed data gives.
func TestBoltGroupCommitDuplicateInBatch(t *testing.T) {
	s := openGroupBolt(t)
	ctx := context.Background()
	ids := make([]string, 3)
	errs := make([]error, 3)
	create := func(i int, id, key string) func() {
		return func() { ids[i], errs[i] = s.Create(ctx, groupApp(id), []string{key}, nil) }
	}
	store.HoldLeader(s, 3)
	startInOrder(s, []func(){create(0, "first", "ref:X"), create(1, "second", "ref:X"), create(2, "other", "ref:Y")})()
	if errs[0] != nil || errs[2] != nil {
		t.Fatalf("the first and the unrelated write failed: %v, %v", errs[0], errs[2])
	}
	if !errors.Is(errs[1], store.ErrDuplicate) || ids[1] != "first" {
		t.Errorf("the repeat: %q, %v; want ErrDuplicate naming first", ids[1], errs[1])
	}
	if _, err := s.Get(ctx, "second"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the repeat was stored: %v", err)
	}
}

// A function that panics makes its own caller panic with its value; the
// others commit, and nobody is left waiting (whether the panicking one
// leads the transaction or not).
func TestBoltGroupCommitPanic(t *testing.T) {
	for _, at := range []int{0, 1} {
		t.Run(fmt.Sprint("at ", at), func(t *testing.T) {
			s := openGroupBolt(t)
			var recovered any
			errs := make([]error, 3)
			writer := func(i int) func() {
				return func() {
					if i == at {
						defer func() { recovered = recover() }()
					}
					errs[i] = store.Commit(s, func(tx *bolt.Tx) error {
						if i == at {
							panic("kaboom")
						}
						return tx.Bucket([]byte("meta")).Put(fmt.Appendf(nil, "test:%d", i), []byte("x"))
					})
				}
			}
			store.HoldLeader(s, 3)
			startInOrder(s, []func(){writer(0), writer(1), writer(2)})()
			if s, _ := recovered.(string); !bytes.HasPrefix([]byte(s), []byte("kaboom")) {
				t.Errorf("the panicking write's caller recovered %v, want its panic", recovered)
			}
			for i, err := range errs {
				if i != at && err != nil {
					t.Errorf("write %d: %v", i, err)
				}
			}
			var stored []string
			store.Commit(s, func(tx *bolt.Tx) error {
				for i := range 3 {
					if tx.Bucket([]byte("meta")).Get(fmt.Appendf(nil, "test:%d", i)) != nil {
						stored = append(stored, fmt.Sprint(i))
					}
				}
				return nil
			})
			if want := fmt.Sprint(without([]string{"0", "1", "2"}, at)); fmt.Sprint(stored) != want {
				t.Errorf("stored %v, want %v", stored, want)
			}
		})
	}
}

func without(s []string, i int) []string { return append(append([]string(nil), s[:i]...), s[i+1:]...) }

// A write that is rolled back leaves nothing of itself in the record
// cache: the cache learns a record's bytes only once they are committed.
func TestBoltRolledBackWriteLeavesCacheAlone(t *testing.T) {
	s := openGroupBolt(t)
	ctx := context.Background()
	if _, err := s.Create(ctx, groupApp("A"), nil, nil); err != nil {
		t.Fatal(err)
	}
	committed := store.RawRecord(t, s, "A")
	if !bytes.Equal(store.CachedRecord(s, "A"), committed) {
		t.Fatal("the cache does not hold the committed record after a create")
	}
	boom := errors.New("boom")
	err := store.Commit(s, func(tx *bolt.Tx) error {
		a := groupApp("A")
		a.Applicant.Name = "张三改"
		if err := store.PutApp(s, tx, a); err != nil {
			return err
		}
		return boom // after the record was written in tx
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if !bytes.Equal(store.RawRecord(t, s, "A"), committed) {
		t.Fatal("the rolled-back write is stored")
	}
	if cached := store.CachedRecord(s, "A"); !bytes.Equal(cached, committed) {
		t.Errorf("the cache holds the rolled-back write's bytes (%d bytes), not the committed record", len(cached))
	}
	a, err := s.Get(ctx, "A")
	if err != nil || a.Applicant.Name != groupApp("A").Applicant.Name {
		t.Errorf("read back %v, %v; want the committed record", a.Applicant.Name, err)
	}
}

// Create makes the application's own key ahead of its transaction, and
// none for a repeat (a key no record would use).
func TestBoltCreateMakesKeysOnlyForNewApplications(t *testing.T) {
	s := openGroupBolt(t)
	ctx := context.Background()
	if _, err := s.Create(ctx, groupApp("A"), []string{"ref:A"}, nil); err != nil {
		t.Fatal(err)
	}
	if n := store.AppKeyCount(s); n != 1 {
		t.Fatalf("%d keys after one application", n)
	}
	id, err := s.Create(ctx, groupApp("A-again"), []string{"ref:A"}, nil)
	if !errors.Is(err, store.ErrDuplicate) || id != "A" {
		t.Fatalf("the repeat: %q, %v", id, err)
	}
	if n := store.AppKeyCount(s); n != 1 {
		t.Errorf("%d keys after a repeat, want 1", n)
	}
	const k = 8
	store.HoldLeader(s, k)
	var wg sync.WaitGroup
	for i := range k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Create(ctx, groupApp(fmt.Sprint("K", i)), nil, nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := store.AppKeyCount(s); n != 1+k {
		t.Errorf("%d keys, want %d", n, 1+k)
	}
	for i := range k {
		if a, err := s.Get(ctx, fmt.Sprint("K", i)); err != nil || a.Applicant.Name != storetest.ExampleName {
			t.Errorf("K%d: %v", i, err)
		}
	}
}
