package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	c "onething/contracts"
	"onething/gateway/seal"
	"onething/gateway/store"
)

// OpenKeyed makes a fresh, empty store for one test and returns a function
// that opens it (the same data on every call) with the given keys (nil:
// none). The test closes each handle before it opens the next.
type OpenKeyed func(t *testing.T) func(keys *seal.Keyring) (store.Store, error)

// RunSealed runs the personal-data and audit part of the suite: sealed
// round trips, key rotation and reseal, the blind index, key checks at
// open, and the append-only audit log.
func RunSealed(t *testing.T, open OpenKeyed) {
	t.Run("SealedRoundTrip", func(t *testing.T) { testSealedRoundTrip(t, open(t)) })
	t.Run("KeyRotationAndReseal", func(t *testing.T) { testRotation(t, open(t)) })
	t.Run("KeysCheckedAtOpen", func(t *testing.T) { testKeyChecks(t, open(t)) })
	t.Run("BlindIndex", func(t *testing.T) { testBlindIndex(t, open(t)) })
	t.Run("BlindIndexKeyRotation", func(t *testing.T) { testIndexRotation(t, open(t)) })
	t.Run("AuditAppendAndQuery", func(t *testing.T) { testAudit(t, open(t)) })
	t.Run("AuditPaging", func(t *testing.T) { testAuditPaging(t, open(t)) })
	t.Run("AuditIsAppendOnly", func(t *testing.T) { testAuditAppendOnly(t) })
}

// Keys makes a keyring of the named data keys (the first current) and
// index keys (the first current), with the key material of material (a
// key id not yet there gets fresh random material).
type Keys struct {
	material map[string]string
	algs     map[string]string
}

// NewKeys starts an empty set of key material.
func NewKeys() *Keys { return &Keys{material: map[string]string{}, algs: map[string]string{}} }

// Ring builds a keyring: data key ids, then "|", then index key ids; an id
// "sm4:x" makes x an SM4-GCM key, "sm3:x" an HMAC-SM3 index key.
func (k *Keys) Ring(t *testing.T, ids ...string) *seal.Keyring {
	t.Helper()
	var cfg seal.Config
	index := false
	for _, id := range ids {
		if id == "|" {
			index = true
			continue
		}
		alg := ""
		if a, rest, ok := strings.Cut(id, ":"); ok {
			id = rest
			alg = map[string]string{"sm4": seal.SM4GCM, "sm3": seal.HMACSM3}[a]
		}
		if alg == "" {
			alg = seal.AES256GCM
			if index {
				alg = seal.HMACSHA256
			}
		}
		if _, ok := k.material[id]; !ok {
			k.material[id], k.algs[id] = seal.NewKey(alg), alg
		}
		spec := seal.KeySpec{ID: id, Algorithm: k.algs[id], Key: k.material[id]}
		if index {
			cfg.IndexKeys = append(cfg.IndexKeys, spec)
		} else {
			cfg.Keys = append(cfg.Keys, spec)
		}
	}
	if len(cfg.Keys) > 0 {
		cfg.CurrentKey = cfg.Keys[0].ID
	}
	if len(cfg.IndexKeys) > 0 {
		cfg.CurrentIndexKey = cfg.IndexKeys[0].ID
	}
	ring, err := seal.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return ring
}

// Replace gives key id new random material (a wrong key under a known id).
func (k *Keys) Replace(id string) { k.material[id] = seal.NewKey(k.algs[id]) }

// Clone copies the key material.
func (k *Keys) Clone() *Keys {
	out := NewKeys()
	for id, m := range k.material {
		out.material[id], out.algs[id] = m, k.algs[id]
	}
	return out
}

// The example applicant of contracts/examples/submission-full.json.
const (
	ExampleIDNumber = "51170219850307123X"
	ExampleName     = "张志明"
	ExampleMobile   = "13881801234"
)

// PersonalApp is an application with every personal field filled: the
// applicant of the main example, a guardian, delivery by post, notes, and
// a task holding the issued certificate and a supplement note.
func PersonalApp(id, idNumber, ref string) *c.Application {
	a := app(id)
	a.PortalRef = ref
	a.Applicant = c.Applicant{
		Name: ExampleName, IDNumber: idNumber, BirthDate: "1985-03-07", Ethnicity: "汉族", Mobile: ExampleMobile,
		Address:       c.Address{Province: "四川省", City: "达州市", County: "通川区", Town: "罗江镇", Village: "龙潭村", Detail: "4组27号", DivisionCode: "511702102"},
		HouseholdType: c.HouseholdAgricultural, HouseholdDivision: "511702102", ContactPhone: "0818-2381234",
		Guardian: &c.Guardian{Name: "张红", Relation: "配偶", Phone: "13981801235"}, Dibao: true,
		Certificate: &c.Certificate{Number: idNumber + "42", Category: 4, Grade: 2, IssuedOn: "2020-01-01", ValidFrom: "2020-01-01", ValidUntil: "2030-01-01"},
	}
	a.Requests = c.Requests{
		Certificate:  &c.CertificateRequest{Business: c.ItemCertRenew, SubKind: "expiry", RequestedCategory: 4, Note: "右腿受伤，行走困难"},
		TwoSubsidies: &c.TwoSubsidiesRequest{GradeBox: "一档"},
		Medical:      &c.MedicalRequest{Identity: "other", IdentityOther: "低收入家庭", PremiumPaid: true},
	}
	a.Delivery = c.Delivery{Method: "post", Address: "通川区罗江镇龙潭村4组27号", Recipient: "张红", Phone: "13981801235"}
	a.Tasks[0].Certificate = &c.Certificate{Number: idNumber + "42", Category: 4, Grade: 2, IssuedOn: "2026-10-20", ValidFrom: "2026-10-20", ValidUntil: "2036-10-20"}
	a.Tasks[0].SupplementNote = "补交近期免冠照片，联系电话 13881801234"
	a.Tasks[0].LastError = "对方系统：申请人 " + ExampleName + " 的残疾证已注销"
	a.Tasks[0].CaseNo = "MEDICAL-20261012-000001"
	a.Tasks[0].Reason = &c.Message{ZH: "申请人撤回申请：本人已迁往成都市", EN: "withdrawn by the applicant: moved to Chengdu"}
	a.Tasks[0].Result = &c.Result{Note: &c.Message{ZH: "精神残疾二级", EN: "mental, grade 2"}, MonthlyAmount: 90}
	a.Tasks[0].Supplement = &c.Supplement{What: c.Message{ZH: "补交精神科诊断证明", EN: "the psychiatric diagnosis"}, Where: c.Message{ZH: "罗江镇残联", EN: "Luojiang CDPF"},
		RequestedAt: time.Date(2026, 10, 13, 9, 0, 0, 0, time.UTC), Round: 1}
	a.Timeline = []c.Entry{
		{At: time.Date(2026, 10, 12, 9, 30, 0, 0, time.UTC), Kind: "received", Source: "portal", Note: &c.Message{ZH: "一件事申请已受理登记", EN: "application received"}},
		{At: time.Date(2026, 10, 13, 9, 0, 0, 0, time.UTC), TaskID: id + "-1", Kind: "state", From: c.TaskAccepted, To: c.TaskSupplementRequired},
		{At: time.Date(2026, 10, 14, 9, 0, 0, 0, time.UTC), TaskID: id + "-1", Kind: "state", To: c.TaskCancelled, Note: a.Tasks[0].Reason},
	}
	return a
}

func mustOpen(t *testing.T, open func(*seal.Keyring) (store.Store, error), keys *seal.Keyring) store.Store {
	t.Helper()
	s, err := open(keys)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return s
}

func same(t *testing.T, what string, got, want *c.Application) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func testSealedRoundTrip(t *testing.T, open func(*seal.Keyring) (store.Store, error)) {
	keys := NewKeys()
	s := mustOpen(t, open, keys.Ring(t, "k1", "|", "i1"))
	defer s.Close()
	want := PersonalApp("A", ExampleIDNumber, "ref-A")
	if _, err := s.Create(ctx, want, []string{"ref:ref-A"}, nil); err != nil {
		t.Fatal(err)
	}
	if want.Applicant.Name != ExampleName || want.Tasks[0].Certificate == nil || want.Requests.Certificate.Note == "" {
		t.Fatal("Create changed the caller's application")
	}
	got, err := s.Get(ctx, "A")
	if err != nil {
		t.Fatal(err)
	}
	same(t, "Get after Create", got, want)
	// An update sees and keeps every personal field.
	err = s.Update(ctx, "A", "event:e1", func(a *c.Application) ([]store.Job, error) {
		if a.Applicant.IDNumber != ExampleIDNumber || a.Delivery.Phone == "" || a.Tasks[0].SupplementNote == "" {
			return nil, errors.New("update saw the application without its personal fields")
		}
		a.Version++
		a.Tasks[0].SupplementNote = "第二次补正"
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = s.Get(ctx, "A")
	want.Version++
	want.Tasks[0].SupplementNote = "第二次补正"
	same(t, "Get after Update", got, want)
	// An application without personal data round-trips too.
	if _, err := s.Create(ctx, app("B"), nil, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, "B"); err != nil {
		t.Fatal(err)
	} else {
		same(t, "Get of an application without personal data", got, app("B"))
	}
}

// Rotation: data written with key 1 still opens after the current key
// becomes key 2, new data is written with key 2; key 1 must stay
// configured until a reseal has moved its data to key 2, then it may go.
func testRotation(t *testing.T, open func(*seal.Keyring) (store.Store, error)) {
	keys := NewKeys()
	s := mustOpen(t, open, keys.Ring(t, "k1", "|", "i1"))
	a := PersonalApp("A", ExampleIDNumber, "ref-A")
	if _, err := s.Create(ctx, a, nil, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = mustOpen(t, open, keys.Ring(t, "sm4:k2", "k1", "|", "i1"))
	b := PersonalApp("B", "110101199003074514", "ref-B")
	if _, err := s.Create(ctx, b, nil, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []*c.Application{a, b} {
		got, err := s.Get(ctx, want.ID)
		if err != nil {
			t.Fatalf("Get %s after rotation: %v", want.ID, err)
		}
		same(t, "after rotation", got, want)
	}
	s.Close()

	// Key 1 dropped while the store still holds data sealed with it.
	if s, err := open(keys.Ring(t, "k2", "|", "i1")); err == nil {
		s.Close()
		t.Fatal("opened without a key the store has data of")
	} else if !strings.Contains(err.Error(), `"k1"`) {
		t.Errorf("the error should name the missing key: %v", err)
	}

	s = mustOpen(t, open, keys.Ring(t, "k2", "k1", "|", "i1"))
	st, err := s.Reseal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The data is sealed under the applications' own keys: the rotation
	// rewraps A's key (the only one under key 1) and reseals no record.
	if st.Scanned != 2 || st.Resealed != 0 || st.Keys.Keys != 2 || st.Keys.Rewrapped != 1 {
		t.Errorf("reseal %+v: want 2 scanned, none resealed, 2 keys of which 1 (A's, the only one under key 1) rewrapped", st)
	}
	if st, _ := s.Reseal(ctx); st.Resealed != 0 || st.Keys.Rewrapped != 0 {
		t.Errorf("a second reseal rewrote %d records, %d keys", st.Resealed, st.Keys.Rewrapped)
	}
	s.Close()

	s = mustOpen(t, open, keys.Ring(t, "k2", "|", "i1"))
	defer s.Close()
	for _, want := range []*c.Application{a, b} {
		got, err := s.Get(ctx, want.ID)
		if err != nil {
			t.Fatalf("Get %s after the reseal with key 1 gone: %v", want.ID, err)
		}
		same(t, "after reseal", got, want)
	}
}

func testKeyChecks(t *testing.T, open func(*seal.Keyring) (store.Store, error)) {
	keys := NewKeys()
	// A plain store takes keys (its records are sealed by a reseal).
	s := mustOpen(t, open, nil)
	plain := PersonalApp("P", ExampleIDNumber, "ref-P")
	s.Create(ctx, plain, nil, nil)
	s.Close()
	s = mustOpen(t, open, keys.Ring(t, "k1", "|", "i1"))
	if got, err := s.Get(ctx, "P"); err != nil {
		t.Fatalf("a plain record with keys configured: %v", err)
	} else {
		same(t, "plain record", got, plain)
	}
	if ids, _ := s.FindByIDNumber(ctx, ExampleIDNumber); len(ids) != 0 {
		t.Errorf("a plain record is indexed before a reseal: %v", ids)
	}
	if st, err := s.Reseal(ctx); err != nil || st.Resealed != 1 {
		t.Errorf("reseal of a plain record: %+v, %v", st, err)
	}
	if ids, _ := s.FindByIDNumber(ctx, ExampleIDNumber); !slices.Equal(ids, []string{"P"}) {
		t.Errorf("after the reseal the record is found: %v", ids)
	}
	s.Close()

	// Sealed data: no keys, or a wrong key under the same id, fail at open.
	if s, err := open(nil); err == nil {
		s.Close()
		t.Error("a store with sealed data opened without keys")
	}
	wrong := keys.Clone()
	wrong.Replace("k1")
	if s, err := open(wrong.Ring(t, "k1", "|", "i1")); err == nil {
		s.Close()
		t.Error("a store opened with a wrong data key")
	}
	wrong = keys.Clone()
	wrong.Replace("i1")
	if s, err := open(wrong.Ring(t, "k1", "|", "i1")); err == nil {
		s.Close()
		t.Error("a store opened with a wrong index key")
	}
	// The right keys still open it.
	s = mustOpen(t, open, keys.Ring(t, "k1", "|", "i1"))
	s.Close()
}

func testBlindIndex(t *testing.T, open func(*seal.Keyring) (store.Store, error)) {
	keys := NewKeys()
	s := mustOpen(t, open, keys.Ring(t, "k1", "|", "sm3:i1"))
	defer s.Close()
	other := "110101199003074514"
	for _, a := range []*c.Application{
		PersonalApp("A1", ExampleIDNumber, "ref-1"),
		PersonalApp("A2", strings.ToLower(ExampleIDNumber), "ref-2"),
		PersonalApp("B1", other, "ref-3"),
		app("N1"), // no ID number: not indexed
	} {
		if _, err := s.Create(ctx, a, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	find := func(id string) []string {
		t.Helper()
		ids, err := s.FindByIDNumber(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	if got := find(ExampleIDNumber); !slices.Equal(got, []string{"A1", "A2"}) {
		t.Errorf("FindByIDNumber = %v, want [A1 A2] (the check character in any case)", got)
	}
	if got := find(" 51170219850307123x "); !slices.Equal(got, []string{"A1", "A2"}) {
		t.Errorf("FindByIDNumber of the lower-case form = %v", got)
	}
	if got := find(other); !slices.Equal(got, []string{"B1"}) {
		t.Errorf("FindByIDNumber(other) = %v", got)
	}
	if got := find("11010119900307451X"); len(got) != 0 {
		t.Errorf("FindByIDNumber(nobody) = %v", got)
	}
	if got := find(""); len(got) != 0 {
		t.Errorf("FindByIDNumber(\"\") = %v", got)
	}
	// Updates keep the index (once); a changed ID number moves it.
	for i := 0; i < 2; i++ {
		s.Update(ctx, "A1", "", func(a *c.Application) ([]store.Job, error) { a.Version++; return nil, nil })
	}
	if got := find(ExampleIDNumber); !slices.Equal(got, []string{"A1", "A2"}) {
		t.Errorf("after updates = %v", got)
	}
	s.Update(ctx, "A2", "", func(a *c.Application) ([]store.Job, error) { a.Applicant.IDNumber = other; return nil, nil })
	if got := find(ExampleIDNumber); !slices.Equal(got, []string{"A1"}) {
		t.Errorf("after A2's ID number changed: %v", got)
	}
	if got := find(other); !slices.Equal(got, []string{"A2", "B1"}) {
		t.Errorf("A2 under its new ID number: %v", got)
	}
}

func testIndexRotation(t *testing.T, open func(*seal.Keyring) (store.Store, error)) {
	keys := NewKeys()
	s := mustOpen(t, open, keys.Ring(t, "k1", "|", "i1"))
	s.Create(ctx, PersonalApp("A", ExampleIDNumber, "ref-A"), nil, nil)
	s.Close()
	s = mustOpen(t, open, keys.Ring(t, "k1", "|", "i2", "i1"))
	s.Create(ctx, PersonalApp("B", ExampleIDNumber, "ref-B"), nil, nil)
	if ids, _ := s.FindByIDNumber(ctx, ExampleIDNumber); !slices.Equal(ids, []string{"A", "B"}) {
		t.Errorf("after the index key rotated: %v, want A (old index) and B (new)", ids)
	}
	s.Close()
	if s, err := open(keys.Ring(t, "k1", "|", "i2")); err == nil {
		s.Close()
		t.Error("opened without an index key the store's index was made with")
	}
	s = mustOpen(t, open, keys.Ring(t, "k1", "|", "i2", "i1"))
	if st, err := s.Reseal(ctx); err != nil || st.Resealed != 1 {
		t.Errorf("reseal: %+v, %v; want A re-indexed", st, err)
	}
	s.Close()
	s = mustOpen(t, open, keys.Ring(t, "k1", "|", "i2"))
	defer s.Close()
	if ids, _ := s.FindByIDNumber(ctx, ExampleIDNumber); !slices.Equal(ids, []string{"A", "B"}) {
		t.Errorf("with the old index key gone: %v", ids)
	}
}

func entry(subject, appID string) c.AuditEntry {
	return c.AuditEntry{Subject: subject, Role: "staff", Action: c.AuditRecordRead, Method: "GET",
		Route: "/v1/applications/:id/record", ApplicationID: appID, Reason: "核对申请材料", RequestID: "r-" + appID}
}

func ids(es []c.AuditEntry) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.ApplicationID)
	}
	return out
}

func testAudit(t *testing.T, open func(*seal.Keyring) (store.Store, error)) {
	s := mustOpen(t, open, NewKeys().Ring(t, "k1", "|", "i1"))
	defer s.Close()
	if got, next, err := s.Audit(ctx, store.AuditQuery{}); err != nil || len(got) != 0 || next != "" {
		t.Fatalf("empty log: %v %q %v", got, next, err)
	}
	var appended []c.AuditEntry
	for i, subj := range []string{"jwt:staff-1", "jwt:staff-2", "jwt:staff-1", "token:admin", "jwt:staff-1"} {
		e := entry(subj, fmt.Sprint("A", i))
		e.At = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC) // the store's clock decides
		got, err := s.AppendAudit(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID == "" || time.Since(got.At) > time.Minute || got.Subject != subj || got.Reason != e.Reason {
			t.Fatalf("AppendAudit = %+v", got)
		}
		if i > 0 && (got.At.Before(appended[i-1].At) || got.ID == appended[i-1].ID) {
			t.Errorf("entry %d (%s, %s) not after entry %d (%s, %s)", i, got.ID, got.At, i-1, appended[i-1].ID, appended[i-1].At)
		}
		appended = append(appended, got)
		time.Sleep(3 * time.Millisecond)
	}
	all, next, err := s.Audit(ctx, store.AuditQuery{})
	if err != nil || next != "" {
		t.Fatal(err, next)
	}
	if got := ids(all); !slices.Equal(got, []string{"A4", "A3", "A2", "A1", "A0"}) {
		t.Fatalf("Audit = %v, want newest first", got)
	}
	for i, e := range all {
		want := appended[len(appended)-1-i]
		if !reflect.DeepEqual(e, want) {
			t.Errorf("entry read back %+v, appended %+v", e, want)
		}
	}
	check := func(name string, q store.AuditQuery, want ...string) {
		t.Helper()
		got, _, err := s.Audit(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !slices.Equal(ids(got), want) {
			t.Errorf("%s: %v, want %v", name, ids(got), want)
		}
	}
	check("by subject", store.AuditQuery{Subject: "jwt:staff-1"}, "A4", "A2", "A0")
	check("by application", store.AuditQuery{ApplicationID: "A3"}, "A3")
	check("by subject and application", store.AuditQuery{Subject: "jwt:staff-2", ApplicationID: "A3"})
	check("from", store.AuditQuery{From: appended[3].At}, "A4", "A3")
	check("to", store.AuditQuery{To: appended[1].At}, "A1", "A0")
	check("from-to", store.AuditQuery{From: appended[1].At, To: appended[3].At}, "A3", "A2", "A1")
	check("from-to and subject", store.AuditQuery{From: appended[1].At, To: appended[3].At, Subject: "jwt:staff-1"}, "A2")
	check("empty range", store.AuditQuery{From: appended[4].At.Add(time.Hour)})
	if _, _, err := s.Audit(ctx, store.AuditQuery{Cursor: "nonsense"}); !errors.Is(err, store.ErrBadCursor) {
		t.Errorf("bad cursor: %v", err)
	}
}

func testAuditPaging(t *testing.T, open func(*seal.Keyring) (store.Store, error)) {
	s := mustOpen(t, open, nil)
	defer s.Close()
	for i := 0; i < 23; i++ {
		subj := "jwt:a"
		if i%3 == 0 {
			subj = "jwt:b"
		}
		if _, err := s.AppendAudit(ctx, entry(subj, fmt.Sprintf("A%02d", i))); err != nil {
			t.Fatal(err)
		}
	}
	walk := func(q store.AuditQuery) (pages int, got []string) {
		for {
			page, next, err := s.Audit(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) > q.Limit {
				t.Fatalf("page of %d, limit %d", len(page), q.Limit)
			}
			pages++
			got = append(got, ids(page)...)
			if next == "" {
				return pages, got
			}
			q.Cursor = next
		}
	}
	pages, got := walk(store.AuditQuery{Limit: 5})
	var want []string
	for i := 22; i >= 0; i-- {
		want = append(want, fmt.Sprintf("A%02d", i))
	}
	if !slices.Equal(got, want) || pages != 5 {
		t.Errorf("paging by 5: %d pages %v, want 5 pages %v", pages, got, want)
	}
	pages, got = walk(store.AuditQuery{Limit: 2, Subject: "jwt:b"})
	if !slices.Equal(got, []string{"A21", "A18", "A15", "A12", "A09", "A06", "A03", "A00"}) || pages != 4 {
		t.Errorf("paging a filter by 2: %d pages %v", pages, got)
	}
	// A limit above the maximum is capped.
	if page, _, _ := s.Audit(ctx, store.AuditQuery{Limit: 100000}); len(page) != 23 {
		t.Errorf("large limit: %d entries", len(page))
	}
}

// The audit log is append-only in the store's API: the only methods that
// touch it append and read.
func testAuditAppendOnly(t *testing.T) {
	typ := reflect.TypeOf((*store.Store)(nil)).Elem()
	var audit []string
	for i := 0; i < typ.NumMethod(); i++ {
		if name := typ.Method(i).Name; strings.Contains(strings.ToLower(name), "audit") {
			audit = append(audit, name)
		}
	}
	if !slices.Equal(audit, []string{"AppendAudit", "Audit"}) {
		t.Errorf("audit methods of store.Store: %v, want only AppendAudit and Audit", audit)
	}
}

// SealedBolt opens an empty embedded store in the test's directory,
// sealing personal data with the development keys as the gateway does
// (so a search by ID number goes through the blind index); the test's
// cleanup closes it.
func SealedBolt(t testing.TB) *store.Bolt {
	t.Helper()
	keys, err := seal.New(seal.DevConfig())
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenBolt(filepath.Join(t.TempDir(), "sealed.db"), store.WithKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
