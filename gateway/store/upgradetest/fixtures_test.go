// Package upgradetest opens stores written by an earlier version of the
// gateway, committed as fixtures, with this one: every application, list,
// audit entry and dead letter must read back as it was written, and the
// store must take writes afterwards. A change of the stored format (the
// record split of issue 21, a new envelope) keeps these fixtures and
// passes here, or it has no upgrade path.
//
// The fixtures of format v1 were written by this test with -update at the
// commit that added them (the record as one JSON envelope, trace records
// for erased applications); those of v2 at the commit of the record split
// (records of format 4 in parts: head, personal part, timeline entries).
// Do not rewrite them after a format change: add a v3 beside them, and
// point -update at it (latest).
package upgradetest

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	c "onething/contracts"
	"onething/gateway/calendar"
	"onething/gateway/engine"
	"onething/gateway/seal"
	"onething/gateway/store"
	"onething/gateway/store/redistest"
	"onething/gateway/workflow"
)

var update = flag.Bool("update", false, "write the fixtures of the latest format again (only at the commit that makes a format)")

// latest is the only fixture set -update writes.
const latest = "testdata/v2"

// fixtureKeys are the fixtures' keyring: key material derived from fixed
// labels, test-only, so that the committed files open in any checkout.
func fixtureKeys(t *testing.T) *seal.Keyring {
	t.Helper()
	derive := func(label string) string {
		sum := sha256.Sum256([]byte("onething/store-fixtures/" + label))
		return base64.StdEncoding.EncodeToString(sum[:])
	}
	keys, err := seal.New(seal.Config{
		CurrentKey:      "fx1",
		Keys:            []seal.KeySpec{{ID: "fx1", Algorithm: seal.AES256GCM, Key: derive("data")}},
		CurrentIndexKey: "fxidx1",
		IndexKeys:       []seal.KeySpec{{ID: "fxidx1", Algorithm: seal.HMACSHA256, Key: derive("index")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// observed is everything the check compares: what a store holds, as its
// interface reads it.
type observed struct {
	Apps   map[string]json.RawMessage `json:"apps"`
	Lists  map[string][]store.ListEntry
	Found  []string `json:"foundByIdNumber"`
	Audit  []c.AuditEntry
	Parked []store.Job
	Queue  store.QueueStats
}

// idNumber is the applicant's in the full submission example.
func idNumber(t *testing.T) string {
	t.Helper()
	var sub c.Submission
	raw, err := c.Example("submission-full.json")
	if err == nil {
		err = json.Unmarshal(raw, &sub)
	}
	if err != nil {
		t.Fatal(err)
	}
	return sub.Applicant.IDNumber
}

func observe(t *testing.T, ctx context.Context, st store.Store, ids []string) observed {
	t.Helper()
	o := observed{Apps: map[string]json.RawMessage{}, Lists: map[string][]store.ListEntry{}}
	for _, id := range ids {
		app, err := st.Get(ctx, id)
		if err != nil {
			t.Fatalf("read %s: %v", id, err)
		}
		b, err := json.Marshal(app)
		if err != nil {
			t.Fatal(err)
		}
		o.Apps[id] = b
	}
	l, ok := st.(store.Lister)
	if !ok {
		t.Fatalf("%T has no lists", st)
	}
	for _, list := range []string{store.ListReceived, store.ListDue, store.ListSupplement, store.ListRetention} {
		es, err := l.ReadList(ctx, store.ListRead{List: list, Scope: store.ScopeAll, N: 100})
		if err != nil {
			t.Fatal(err)
		}
		o.Lists[list] = es
	}
	var err error
	if o.Found, err = st.FindByIDNumber(ctx, idNumber(t)); err != nil {
		t.Fatal(err)
	}
	if o.Audit, _, err = st.Audit(ctx, store.AuditQuery{Limit: 100}); err != nil {
		t.Fatal(err)
	}
	if o.Parked, err = st.Parked(ctx); err != nil {
		t.Fatal(err)
	}
	if o.Queue, err = st.QueueStats(ctx); err != nil {
		t.Fatal(err)
	}
	return o
}

// populate writes what the fixtures hold, through the engine as the
// gateway does: a case just received (its dispatches queued), one
// completed and pushed, one completed and erased on request (a trace),
// one withdrawn, one of its jobs parked as a dead letter, and audit
// entries. It returns the applications' ids.
func populate(t *testing.T, ctx context.Context, st store.Store, keys *seal.Keyring) []string {
	t.Helper()
	at := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	flow := workflow.New(calendar.Default())
	flow.Now = func() time.Time { return at }
	eng := &engine.Engine{Store: st, Flow: flow, Keys: keys}
	raw, err := c.Example("submission-full.json")
	if err != nil {
		t.Fatal(err)
	}
	submit := func(n int) string {
		var sub c.Submission
		if err := json.Unmarshal(raw, &sub); err != nil {
			t.Fatal(err)
		}
		sub.PortalRef = fmt.Sprintf("FX-%d", n)
		app, _, err := eng.Submit(ctx, fmt.Sprintf("msg_fx_%d", n), &sub)
		if err != nil {
			t.Fatal(err)
		}
		return app.ID
	}
	complete := func(id string) {
		done := at.Add(2 * time.Hour)
		err := st.Update(ctx, id, "", func(a *c.Application) ([]store.Job, error) {
			for i, tk := range a.Tasks {
				accepted := done.Add(-time.Hour)
				tk.CaseNo = fmt.Sprintf("%s-FX-%d", strings.ToUpper(string(tk.Dept)), i)
				from := tk.State
				tk.State, tk.Step, tk.Attempts, tk.AcceptedAt, tk.FinishedAt, tk.UpdatedAt = c.TaskApproved, 1, 1, &accepted, &done, done
				tk.Result = &c.Result{Note: &c.Message{ZH: "经审核，符合条件，予以办理", EN: "approved"}}
				a.Timeline = append(a.Timeline,
					c.Entry{At: accepted, TaskID: tk.ID, Kind: "state", From: from, To: c.TaskInProgress, Source: string(tk.Dept)},
					c.Entry{At: done, TaskID: tk.ID, Kind: "state", From: c.TaskInProgress, To: c.TaskApproved, Source: string(tk.Dept),
						Note: &c.Message{ZH: "经审核，符合条件，予以办理", EN: "approved"}})
			}
			flow.Recompute(a)
			a.Version++
			pushed := done.Add(time.Minute)
			a.PushedVersion, a.PushedAt = a.Version, &pushed
			return nil, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	received, completed, erased, withdrawn := submit(1), submit(2), submit(3), submit(4)
	complete(completed)
	complete(erased)
	if _, err := eng.Erase(ctx, erased, "本人申请删除", "admin:fixture", false); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Withdraw(ctx, withdrawn, "msg_fx_4_w", "不再需要"); err != nil {
		t.Fatal(err)
	}
	jobs, err := st.Lease(ctx, time.Now().Add(24*time.Hour), 1, time.Minute)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("lease: %v, %v", jobs, err)
	}
	jobs[0].LastError = "fixture: the department refused the request"
	if err := st.Park(ctx, jobs[0]); err != nil {
		t.Fatal(err)
	}
	for _, e := range []c.AuditEntry{
		{Action: c.AuditSubjectAccess, Subject: "admin:fixture", Role: "admin", Query: "idNumber=" + c.MaskID(idNumber(t)), Reason: "本人申请查阅"},
		{Action: "application.read", Subject: "clerk:fixture", Role: "clerk", ApplicationID: received},
	} {
		if _, err := st.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	return []string{received, completed, erased, withdrawn}
}

// fixtureFile is the check's golden file: the ids and what was observed.
type fixtureFile struct {
	IDs      []string `json:"ids"`
	Observed observed `json:"observed"`
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// check compares a store opened on the fixture with what was observed
// when it was written, then writes to it.
func check(t *testing.T, ctx context.Context, st store.Store, golden string) {
	t.Helper()
	var want fixtureFile
	readJSON(t, golden, &want)
	got := observe(t, ctx, st, want.IDs)
	for _, id := range want.IDs {
		if !jsonEqual(t, got.Apps[id], want.Observed.Apps[id]) {
			t.Errorf("application %s reads as\n%s\nwritten as\n%s", id, got.Apps[id], want.Observed.Apps[id])
		}
	}
	got.Apps, want.Observed.Apps = nil, nil
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want.Observed)
	if !jsonEqual(t, g, w) {
		t.Errorf("the store reads as\n%s\nwritten as\n%s", g, w)
	}
	// It takes writes: an event on the received case, a new submission.
	id := want.IDs[0]
	note := c.Entry{At: time.Now(), Kind: "note", Source: "fixture-check"}
	if err := st.Update(ctx, id, "", func(a *c.Application) ([]store.Job, error) {
		a.Timeline = append(a.Timeline, note)
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	app, err := st.Get(ctx, id)
	if err != nil || app.Timeline[len(app.Timeline)-1].Source != "fixture-check" || app.Applicant.IDNumber != idNumber(t) {
		t.Errorf("after a write the application reads as %+v, %v", app, err)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestBoltFixturesV1(t *testing.T) { boltFixtures(t, "testdata/v1") }
func TestBoltFixturesV2(t *testing.T) { boltFixtures(t, "testdata/v2") }

func boltFixtures(t *testing.T, fixtures string) {
	ctx := context.Background()
	keys := fixtureKeys(t)
	dir := filepath.Join(fixtures, "bolt")
	if *update && fixtures == latest {
		os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		st, err := store.OpenBolt(filepath.Join(dir, "onething.db"), store.WithKeys(keys))
		if err != nil {
			t.Fatal(err)
		}
		ids := populate(t, ctx, st, keys)
		writeJSON(t, filepath.Join(fixtures, "bolt.json"), fixtureFile{IDs: ids, Observed: observe(t, ctx, st, ids)})
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
	tmp := t.TempDir()
	for _, f := range []string{"onething.db", "onething.db" + store.KeyStoreSuffix} {
		copyFile(t, filepath.Join(dir, f), filepath.Join(tmp, f))
	}
	st, err := store.OpenBolt(filepath.Join(tmp, "onething.db"), store.WithKeys(keys), store.Strict())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	check(t, ctx, st, filepath.Join(fixtures, "bolt.json"))
}

// redisKey is one key of the Redis fixture: its DUMP and time to live.
type redisKey struct {
	Key  string `json:"key"`
	TTL  int64  `json:"pttl"` // ms; 0 none
	Dump string `json:"dump"` // hex
}

func TestRedisFixturesV1(t *testing.T) { redisFixtures(t, "testdata/v1") }
func TestRedisFixturesV2(t *testing.T) { redisFixtures(t, "testdata/v2") }

func redisFixtures(t *testing.T, fixtures string) {
	ctx := context.Background()
	keys := fixtureKeys(t)
	srv := redistest.Start(t)
	rdb := srv.Client()
	if *update && fixtures == latest {
		st, err := store.OpenRedis(ctx, srv.BaseURL(), store.WithKeys(keys))
		if err != nil {
			t.Fatal(err)
		}
		ids := populate(t, ctx, st, keys)
		writeJSON(t, filepath.Join(fixtures, "redis.json"), fixtureFile{IDs: ids, Observed: observe(t, ctx, st, ids)})
		st.Close()
		var dump []redisKey
		iter := rdb.Scan(ctx, 0, "onething:*", 1000).Iterator()
		for iter.Next(ctx) {
			k := iter.Val()
			d, err := rdb.Dump(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			ttl, err := rdb.PTTL(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			dump = append(dump, redisKey{Key: k, TTL: max(ttl.Milliseconds(), 0), Dump: hex.EncodeToString([]byte(d))})
		}
		if err := iter.Err(); err != nil {
			t.Fatal(err)
		}
		writeJSON(t, filepath.Join(fixtures, "redis-keys.json"), dump)
		if err := rdb.FlushDB(ctx).Err(); err != nil {
			t.Fatal(err)
		}
	}
	var dump []redisKey
	readJSON(t, filepath.Join(fixtures, "redis-keys.json"), &dump)
	for _, k := range dump {
		d, err := hex.DecodeString(k.Dump)
		if err != nil {
			t.Fatal(err)
		}
		if err := rdb.RestoreReplace(ctx, k.Key, time.Duration(k.TTL)*time.Millisecond, string(d)).Err(); err != nil {
			t.Fatalf("restore %s: %v", k.Key, err)
		}
	}
	st, err := store.OpenRedis(ctx, srv.BaseURL(), store.WithKeys(keys), store.Strict())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	check(t, ctx, st, filepath.Join(fixtures, "redis.json"))
}
