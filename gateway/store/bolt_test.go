package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	c "onething/contracts"
	"onething/gateway/seal"
	"onething/gateway/store"
	"onething/gateway/store/storetest"
)

func TestBoltConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := store.OpenBolt(filepath.Join(t.TempDir(), "t.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// The suite again with personal data sealed, and its sealed part.
func TestBoltConformanceSealed(t *testing.T) {
	keys := storetest.NewKeys()
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := store.OpenBolt(filepath.Join(t.TempDir(), "t.db"), store.WithKeys(keys.Ring(t, "k1", "|", "i1")))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
	storetest.RunSealed(t, func(t *testing.T) func(*seal.Keyring) (store.Store, error) {
		path := filepath.Join(t.TempDir(), "t.db")
		return func(k *seal.Keyring) (store.Store, error) {
			if k == nil {
				return store.OpenBolt(path)
			}
			return store.OpenBolt(path, store.WithKeys(k))
		}
	})
}

// A process that dies holding leases: on reopen its jobs are due at once,
// not only when the leases would have run out.
func TestBoltReopenReleasesLeases(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	ctx := context.Background()
	s, err := store.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	s.Enqueue(ctx, store.Job{ID: "j", Kind: store.JobDispatch, AppID: "A", NotBefore: now})
	if got, _ := s.Lease(ctx, now, 1, time.Hour); len(got) != 1 {
		t.Fatal("not leased")
	}
	s.Close()
	s, err = store.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, _ := s.Lease(ctx, time.Now().Add(time.Second), 1, time.Hour)
	if len(got) != 1 || got[0].ID != "j" || !got[0].Retaken {
		t.Errorf("after reopen: %+v, want the job again, marked retaken (the dead process may have made its call)", got)
	}
}

// The open hands back leases from the leased index, not by reading every
// job: a leased job the index does not name (taken out behind the store's
// back) stays leased until its lease ends, while one it names is due at
// once. Reading every job, as the open did, took some 30 s on a queue of
// a million applications' jobs.
func TestBoltOpenReadsTheLeasedIndexNotTheJobs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	ctx := context.Background()
	s, err := store.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, id := range []string{"indexed", "unindexed", "waiting"} {
		nb := now
		if id == "waiting" {
			nb = now.Add(time.Hour)
		}
		if err := s.Enqueue(ctx, store.Job{ID: id, Kind: store.JobDispatch, AppID: "A", NotBefore: nb}); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := s.Lease(ctx, now, 2, time.Hour); len(got) != 2 {
		t.Fatalf("leased %+v, want 2 jobs", got)
	}
	s.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	var indexed []string
	db.Update(func(tx *bolt.Tx) error {
		lb := tx.Bucket([]byte("leased"))
		lb.ForEach(func(k, _ []byte) error { indexed = append(indexed, string(k)); return nil })
		return lb.Delete([]byte("unindexed"))
	})
	db.Close()
	if !slices.Equal(indexed, []string{"indexed", "unindexed"}) {
		t.Fatalf("the leased index held %v, want [indexed unindexed]", indexed)
	}
	s, err = store.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, _ := s.Lease(ctx, time.Now().Add(time.Second), 10, time.Hour)
	if len(got) != 1 || got[0].ID != "indexed" {
		t.Errorf("due after reopen: %+v, want the indexed job only", got)
	}
	if q, err := s.QueueStats(ctx); err != nil || q.Jobs != 3 || q.Leased != 2 {
		t.Errorf("queue after reopen: %+v, %v; want 3 jobs, 2 leased (the one handed back leased again, the unindexed one)", q, err)
	}
}

// A file written before the leased index: the open builds the index from
// the running leases (the due index after now, not every job) and hands
// them back; a job whose lease had ended is due as it was.
func TestBoltReleasesLeasesOfAnOlderFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	ctx := context.Background()
	s, err := store.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	s.Enqueue(ctx, store.Job{ID: "running", Kind: store.JobDispatch, AppID: "A", NotBefore: now.Add(-2 * time.Hour)},
		store.Job{ID: "ended", Kind: store.JobDispatch, AppID: "A", NotBefore: now.Add(-time.Hour)},
		store.Job{ID: "later", Kind: store.JobDispatch, AppID: "A", NotBefore: now.Add(time.Hour)})
	if got, _ := s.Lease(ctx, now.Add(-2*time.Hour), 1, 3*time.Hour); len(got) != 1 || got[0].ID != "running" {
		t.Fatalf("leased %+v, want the job leased until an hour from now", got)
	}
	if got, _ := s.Lease(ctx, now.Add(-time.Hour), 1, time.Minute); len(got) != 1 || got[0].ID != "ended" {
		t.Fatalf("leased %+v, want the job whose lease ended 59 minutes ago", got)
	}
	s.Close()
	s = reopenWithout(t, path, "leased")
	got, _ := s.Lease(ctx, time.Now().Add(time.Second), 10, time.Hour)
	var ids []string
	for _, j := range got {
		ids = append(ids, j.ID)
	}
	if slices.Sort(ids); !slices.Equal(ids, []string{"ended", "running"}) {
		t.Errorf("due after reopening an older file: %v, want [ended running]", ids)
	}
	s.Close()
	// The index names the leases just taken: the next open hands them
	// back too.
	s, err = store.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, _ := s.Lease(ctx, time.Now().Add(time.Second), 10, time.Hour); len(got) != 2 {
		t.Errorf("due after the next reopen: %+v, want both jobs again", got)
	}
}

// A file written before the open index existed gets it at open.
func TestBoltBuildsOpenIndexOfAnOlderFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	s, err := store.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, id := range []string{"A", "B"} {
		a := &c.Application{ID: id, PortalRef: "ref-" + id, Version: 1, Tasks: []*c.Task{{ID: id + "-1", Item: c.ItemMedicalSubsidy, Dept: c.DeptMedical, State: c.TaskReady}}}
		if id == "B" {
			a.Tasks[0].State, a.PushedVersion = c.TaskApproved, 1 // finished and pushed
		}
		if _, err := s.Create(ctx, a, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s = reopenWithout(t, path, "open")
	defer s.Close()
	var ids []string
	s.OpenApps(ctx, func(id string) error { ids = append(ids, id); return nil })
	if len(ids) != 1 || ids[0] != "A" {
		t.Errorf("open applications after reopening an older file: %v, want [A]", ids)
	}
}

// A file written before the lists existed gets them at open.
func TestBoltFillsListsOfAnOlderFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	s, err := store.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i, id := range []string{"A", "B", "C"} {
		if _, err := s.Create(ctx, storetest.ListApp(id, "511702102001", t0.Add(time.Duration(i)*time.Minute), "2026-04-10"), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s = reopenWithout(t, path, "lists")
	defer s.Close()
	got := storetest.ReadAll(t, s, store.ListRead{List: store.ListReceived, Scope: "511702102", Desc: true, N: 2})
	if !slices.Equal(got, []string{"C", "B", "A"}) {
		t.Errorf("the town's list after reopening an older file: %v, want [C B A]", got)
	}
	if n, err := s.CountList(ctx, store.ListDue, store.ScopeAll, ""); err != nil || n != 3 {
		t.Errorf("due list after the fill: %d, %v; want 3", n, err)
	}
}

// reopenWithout drops a bucket from a closed bbolt file, as a file written
// before that bucket existed lacks it, and opens the file as the store.
func reopenWithout(t *testing.T, path, bucket string) *store.Bolt {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte(bucket)) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := store.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// An update that leaves an application open does not write the open
// index: bbolt rewrites every page a Put touches, same value or not, and
// with it the branch pages above (an index write per update, some 5,000
// pages in an end-to-end bench phase). The application's own record is
// written (its root moves); the open index's root stays on its page.
func TestBoltUpdateLeavesTheOpenIndexAlone(t *testing.T) {
	s := openGroupBolt(t)
	ctx := context.Background()
	for i := range 300 {
		if _, err := s.Create(ctx, groupApp(fmt.Sprintf("O%03d", i)), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	openRoot, appsRoot := store.BucketRoot(s, "open"), store.BucketRoot(s, "apps")
	if openRoot == 0 {
		t.Fatal("the open index is inline: too few applications for the test")
	}
	if err := s.Update(ctx, "O150", "", func(a *c.Application) ([]store.Job, error) {
		a.Version++
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := store.BucketRoot(s, "apps"); got == appsRoot {
		t.Fatal("the records' root did not move: the update wrote nothing")
	}
	if got := store.BucketRoot(s, "open"); got != openRoot {
		t.Errorf("the open index's root moved from page %d to %d: the update rewrote it", openRoot, got)
	}
	ids := map[string]bool{}
	if err := s.OpenApps(ctx, func(id string) error { ids[id] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 300 || !ids["O150"] {
		t.Errorf("%d open applications (O150 among them: %v), want all 300", len(ids), ids["O150"])
	}
}
