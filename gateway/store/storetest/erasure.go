package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	c "onething/contracts"
	"onething/gateway/store"
)

// ErasureStore is one store for RunErasure, sealed with the gateway's
// keys and its key store.
type ErasureStore struct {
	// Open opens the store (the same data on every call); the test closes
	// each handle before it opens the next.
	Open func(t *testing.T) store.Store
	// CopyData copies the store's data, and not its key store, as it is
	// now (no handle is open): the whole bbolt file, or the data Redis's
	// AOF directory. The copy is opened by the function it returns, with
	// every key the gateway holds at that time: the keyring and the
	// current key store (not a copy of it).
	CopyData func(t *testing.T) (openCopy func(t *testing.T) store.Store)
	// WrappedKey reads an application's wrapped key from the key store
	// (no handle open), and KeyFilesHold reports whether the key store's
	// files hold those bytes (bbolt: the key file, free pages too; Redis:
	// a key-store Redis's AOF and snapshot, once the rewrite asked for is
	// done). With them the case also shows that store.PurgeShredded
	// leaves no copy of a destroyed key in the key store's own files.
	WrappedKey   func(t *testing.T, id string) string
	KeyFilesHold func(t *testing.T, wrapped string) bool
}

// OpenErasure makes a fresh, empty store for one test.
type OpenErasure func(t *testing.T) ErasureStore

// RunErasure runs the erasure cases: an erasure keeps the trace and
// removes the personal part, the search by ID number and the retention
// list forget it, a second one is ErrErased, it survives a reopen, it
// leaves another application of the same person alone; and the real
// shredding test: a copy of the data taken before the erasure no longer
// opens the erased application's personal part once its key is destroyed
// (and still does before, so the test can fail).
func RunErasure(t *testing.T, open OpenErasure) {
	t.Run("KeepsTraceRemovesPersonal", func(t *testing.T) { testErase(t, open(t)) })
	t.Run("CopiesDoNotOpenAfterShredding", func(t *testing.T) { testShredding(t, open(t)) })
}

// finalApp is an application of the example person, final, its last
// push delivered: in the retention list.
func finalApp(id string) *c.Application {
	a := PersonalApp(id, ExampleIDNumber, "ref-"+id)
	done := time.Date(2026, 10, 20, 9, 0, 0, 0, time.UTC)
	a.Status.State = c.AppCompleted
	a.Tasks[0].State, a.Tasks[0].FinishedAt = c.TaskApproved, &done
	a.Version, a.PushedVersion, a.PushedAt = 3, 3, &done
	return a
}

func create(t *testing.T, s store.Store, apps ...*c.Application) {
	t.Helper()
	for _, a := range apps {
		if _, err := s.Create(ctx, a, []string{"ref:" + a.PortalRef}, nil); err != nil {
			t.Fatal(err)
		}
	}
}

func erasure() c.Erasure {
	return c.Erasure{At: time.Date(2027, 1, 5, 10, 0, 0, 0, time.UTC), Kind: c.ErasureRequest, By: "admin:test", Reason: "本人申请删除"}
}

func retained(t *testing.T, s store.Store) []string {
	t.Helper()
	l, ok := s.(store.Lister)
	if !ok {
		t.Fatal("the store has no lists")
	}
	ids := ReadAll(t, l, store.ListRead{List: store.ListRetention, Scope: store.ScopeAll, N: 10})
	slices.Sort(ids)
	return ids
}

// checkTrace checks that got is want's pseudonymous trace.
func checkTrace(t *testing.T, got, want *c.Application) {
	t.Helper()
	if got.Erased == nil || got.Erased.Kind != c.ErasureRequest || got.Erased.By != "admin:test" {
		t.Errorf("the erasure is not recorded: %+v", got.Erased)
	}
	if got.Applicant.Name != "" || got.Applicant.IDNumber != "" || got.Applicant.Mobile != "" || got.Applicant.Guardian != nil || got.Applicant.Certificate != nil ||
		got.Applicant.Address != (c.Address{}) || got.Delivery != (c.Delivery{}) {
		t.Errorf("the personal part is still there: %+v %+v", got.Applicant, got.Delivery)
	}
	if got.Requests.Certificate == nil || got.Requests.Certificate.Note != "" || got.Requests.Medical == nil || got.Requests.Medical.IdentityOther != "" {
		t.Errorf("the requests' free text is still there, or the requests are gone: %+v", got.Requests)
	}
	for _, tk := range got.Tasks {
		if tk.Certificate != nil || tk.SupplementNote != "" || tk.Reason != nil || tk.Result != nil || tk.Supplement != nil {
			t.Errorf("task %s keeps personal data: %+v", tk.ID, tk)
		}
	}
	for _, e := range got.Timeline {
		if e.Note != nil {
			t.Errorf("the timeline keeps a note: %+v", e)
		}
	}
	// The trace.
	if got.ID != want.ID || got.PortalRef != want.PortalRef || got.Applicant.HouseholdDivision != want.Applicant.HouseholdDivision ||
		!got.ReceivedAt.Equal(want.ReceivedAt) || got.Status.State != want.Status.State || got.Version != want.Version {
		t.Errorf("the trace is not kept: got %+v", got)
	}
	if len(got.Tasks) != len(want.Tasks) {
		t.Fatalf("tasks: %d, want %d", len(got.Tasks), len(want.Tasks))
	}
	for i, tk := range got.Tasks {
		w := want.Tasks[i]
		if tk.ID != w.ID || tk.Item != w.Item || tk.Dept != w.Dept || tk.State != w.State || tk.CaseNo != w.CaseNo || tk.FinishedAt == nil || !tk.FinishedAt.Equal(*w.FinishedAt) {
			t.Errorf("task trace: got %+v, want %+v", tk, w)
		}
	}
	// The timeline keeps the receipt and the items' ends (not the steps
	// between: PersonalApp's accepted → supplement_required goes), then
	// the erasure.
	var kinds []string
	for _, e := range got.Timeline {
		kinds = append(kinds, e.Kind+":"+string(e.To))
	}
	if !slices.Equal(kinds, []string{"received:", "state:cancelled", "erased:"}) {
		t.Errorf("timeline: %v, want the receipt, the item's end and the erasure", kinds)
	}
}

func testErase(t *testing.T, es ErasureStore) {
	s := es.Open(t)
	a, b := finalApp("A"), finalApp("B")
	create(t, s, a, b)
	if ids := retained(t, s); !slices.Equal(ids, []string{"A", "B"}) {
		t.Fatalf("retention list before: %v, want A and B", ids)
	}
	out, err := store.Erase(ctx, s, "A", erasure(), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkTrace(t, out, a)
	got, err := s.Get(ctx, "A")
	if err != nil {
		t.Fatalf("Get of the erased application: %v", err)
	}
	checkTrace(t, got, a)
	if ids, err := s.FindByIDNumber(ctx, ExampleIDNumber); err != nil || !slices.Equal(ids, []string{"B"}) {
		t.Errorf("FindByIDNumber after the erasure: %v, %v; want B only", ids, err)
	}
	if ids := retained(t, s); !slices.Equal(ids, []string{"B"}) {
		t.Errorf("retention list after: %v, want B only", ids)
	}
	if _, err := store.Erase(ctx, s, "A", erasure(), nil); !errors.Is(err, store.ErrErased) {
		t.Errorf("a second erasure: %v, want ErrErased", err)
	}
	// The same person's other application is untouched and opens.
	if got, err := s.Get(ctx, "B"); err != nil {
		t.Fatal(err)
	} else {
		same(t, "the other application", got, b)
	}
	// A later change of the erased application keeps it erased.
	if err := s.Update(ctx, "A", "", func(x *c.Application) ([]store.Job, error) { x.PushedVersion = x.Version; return nil, nil }); err != nil {
		t.Errorf("Update of the erased application: %v", err)
	}
	// A later change that puts personal text back (a timeline note, a
	// phone number) does not keep it: an erased application seals nothing,
	// so no key is made that no erasure would destroy.
	err = s.Update(ctx, "A", "", func(x *c.Application) ([]store.Job, error) {
		x.Applicant.Mobile = "13800000000"
		x.Timeline[0].Note = &c.Message{ZH: "迟到的部门说明", EN: "a late note"}
		return nil, nil
	})
	if err != nil {
		t.Errorf("Update adding personal text to the erased application: %v", err)
	}
	if got, err := s.Get(ctx, "A"); err != nil {
		t.Errorf("Get after personal text was added: %v", err)
	} else if got.Applicant.Mobile != "" || got.Timeline[0].Note != nil {
		t.Errorf("the erased application kept personal text written after the erasure: %q %+v", got.Applicant.Mobile, got.Timeline[0].Note)
	}
	s.Close()

	s = es.Open(t)
	defer s.Close()
	got, err = s.Get(ctx, "A")
	if err != nil {
		t.Fatalf("Get after reopening: %v", err)
	}
	checkTrace(t, got, a)
	if got, err := s.Get(ctx, "B"); err != nil {
		t.Fatal(err)
	} else {
		same(t, "the other application after reopening", got, b)
	}
	if ids, _ := s.FindByIDNumber(ctx, ExampleIDNumber); !slices.Equal(ids, []string{"B"}) {
		t.Errorf("FindByIDNumber after reopening: %v, want B only", ids)
	}
	if _, err := store.Erase(ctx, s, "A", erasure(), nil); !errors.Is(err, store.ErrErased) {
		t.Errorf("an erasure after reopening: %v, want ErrErased", err)
	}
}

// noShredder hides the backend's ShredKey: store.Erase then erases in
// place only.
type noShredder struct{ store.Store }

func testShredding(t *testing.T, es ErasureStore) {
	s := es.Open(t)
	a, b := finalApp("A"), finalApp("B")
	create(t, s, a, b)
	s.Close()
	openCopy := es.CopyData(t) // a backup, or the AOF, from before the erasure

	opens := func(what string, wantA bool) {
		t.Helper()
		cp := openCopy(t)
		defer cp.Close()
		got, err := cp.Get(ctx, "A")
		switch {
		case wantA && err != nil:
			t.Fatalf("%s: the copy's A does not open: %v", what, err)
		case wantA:
			same(t, what+": the copy's A", got, a)
		case err == nil:
			t.Fatalf("%s: the copy's A opens: %s, %s", what, got.Applicant.Name, got.Applicant.IDNumber)
		case !errors.Is(err, store.ErrUnreadable):
			t.Errorf("%s: the copy's A: %v, want ErrUnreadable", what, err)
		}
		// The same person's other application opens from the copy.
		if got, err := cp.Get(ctx, "B"); err != nil {
			t.Errorf("%s: the copy's B: %v", what, err)
		} else {
			same(t, what+": the copy's B", got, b)
		}
		// And the copy's blind index, with the index key the gateway
		// holds, finds the person's applications that still open, not
		// the shredded one.
		found := []string{"B"}
		if wantA {
			found = []string{"A", "B"}
		}
		if ids, err := cp.FindByIDNumber(ctx, ExampleIDNumber); err != nil || !slices.Equal(ids, found) {
			t.Errorf("%s: the copy finds %v by the ID number (%v), want %v", what, ids, err, found)
		}
	}
	// The controls: the copy opens with the keys the gateway holds, and
	// erasing in place alone leaves it opening.
	opens("before the erasure", true)
	s = es.Open(t)
	if _, ok := s.(store.KeyShredder); !ok {
		t.Fatal("the backend cannot destroy an application's key (store.KeyShredder)")
	}
	if _, err := store.Erase(ctx, noShredder{s}, "A", erasure(), nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	opens("erased in place, the key kept", true)

	// The key destroyed: the copy's A no longer opens, B still does.
	s = es.Open(t)
	if err := s.(store.KeyShredder).ShredKey(ctx, "A"); err != nil {
		t.Fatal(err)
	}
	if err := s.(store.KeyShredder).ShredKey(ctx, "A"); err != nil {
		t.Errorf("ShredKey again: %v", err)
	}
	if got, err := s.Get(ctx, "A"); err != nil {
		t.Errorf("the erased record after shredding: %v", err)
	} else {
		checkTrace(t, got, a)
	}
	s.Close()
	opens("after shredding", false)

	// And through store.Erase, which shreds: B erased, its copy dead too;
	// and, purged, no copy of its key left in the key store's files.
	var wrapped string
	if es.WrappedKey != nil {
		wrapped = es.WrappedKey(t, "B")
		if wrapped == "" || !es.KeyFilesHold(t, wrapped) {
			t.Fatalf("the control: the key store's files do not hold B's wrapped key %q", wrapped)
		}
	}
	s = es.Open(t)
	if _, err := store.Erase(ctx, s, "B", erasure(), nil); err != nil {
		t.Fatal(err)
	}
	if err := store.PurgeShredded(ctx, s); err != nil {
		t.Fatalf("PurgeShredded: %v", err)
	}
	if got, err := s.Get(ctx, "B"); err != nil {
		t.Errorf("the erased B after the purge: %v", err)
	} else {
		checkTrace(t, got, b)
	}
	s.Close()
	if wrapped != "" && es.KeyFilesHold(t, wrapped) {
		t.Error("after the erasure and the purge, the key store's files still hold B's destroyed key")
	}
	cp := openCopy(t)
	defer cp.Close()
	if _, err := cp.Get(ctx, "B"); !errors.Is(err, store.ErrUnreadable) {
		t.Errorf("the copy's B after store.Erase: %v, want ErrUnreadable", err)
	}
	if ids, err := cp.FindByIDNumber(ctx, ExampleIDNumber); err != nil || len(ids) != 0 {
		t.Errorf("the copy finds %v by the ID number after both erasures (%v), want none", ids, err)
	}
}
