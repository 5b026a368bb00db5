package api_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	c "onething/contracts"
	"onething/contracts/contracttest"
	"onething/gateway/api"
	"onething/gateway/auth"
	"onething/gateway/calendar"
	"onething/gateway/engine"
	"onething/gateway/seal"
	"onething/gateway/store"
	"onething/gateway/store/redistest"
	"onething/gateway/workflow"
)

const unreadableCDPF = "whsec_dW5yZWFkYWJsZS1jZHBmLXNlY3JldC0wMTIz"

// alterSealed flips one character of a stored record's sealed blob (a
// record of one value, or a record's personal part, which is the blob
// alone), so that it no longer decrypts (as after a key was replaced, or
// tampering).
func alterSealed(t *testing.T, doc []byte) []byte {
	t.Helper()
	i := strings.Index(string(doc), `"sealed":"ot1.`)
	if strings.HasPrefix(string(doc), "ot1.") {
		i = 0
	}
	if i < 0 {
		t.Fatalf("no sealed blob in %s", doc)
	}
	out := append([]byte(nil), doc...)
	i += 40
	if out[i] == 'A' {
		out[i] = 'B'
	} else {
		out[i] = 'A'
	}
	return out
}

// A record whose sealed part no longer opens is a permanent error: 500
// record_unreadable on every read (never 503 store_unavailable, "retry
// later"), listed for admins at /v1/admin/unreadable-records, on both
// backends; the answers are checked against the OpenAPI document.
func TestUnreadableRecordIsPermanent(t *testing.T) {
	keys, err := seal.New(seal.DevConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Run("bolt", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "s.db")
		st, err := store.OpenBolt(path, store.WithKeys(keys))
		if err != nil {
			t.Fatal(err)
		}
		unreadableOverHTTP(t, st, func(sw *auditSwitch, id string) {
			// The file is the process's own: close, alter, open again.
			sw.Store.Close()
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			db.Update(func(tx *bolt.Tx) error {
				b := tx.Bucket([]byte("apps"))
				if p := tx.Bucket([]byte("personal")); p != nil && p.Get([]byte(id)) != nil {
					b = p // a record in parts: its personal part
				}
				return b.Put([]byte(id), alterSealed(t, b.Get([]byte(id))))
			})
			db.Close()
			again, err := store.OpenBolt(path, store.WithKeys(keys))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { again.Close() })
			sw.Store = again
		})
	})
	t.Run("redis", func(t *testing.T) {
		srv := redistest.Start(t)
		st, err := store.OpenRedis(context.Background(), srv.URL(), store.WithKeys(keys))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		rdb := srv.Client()
		unreadableOverHTTP(t, st, func(_ *auditSwitch, id string) {
			ctx := context.Background()
			field := "per" // a record in parts: its personal part
			if n, _ := rdb.HExists(ctx, st.AppKey(id), field).Result(); !n {
				field = "doc"
			}
			doc, err := rdb.HGet(ctx, st.AppKey(id), field).Bytes()
			if err != nil {
				t.Fatal(err)
			}
			rdb.HSet(ctx, st.AppKey(id), field, alterSealed(t, doc))
		})
	})
}

func unreadableOverHTTP(t *testing.T, st store.Store, alter func(*auditSwitch, string)) {
	sw := &auditSwitch{Store: st}
	logs, mu := &strings.Builder{}, &sync.Mutex{}
	eng := &engine.Engine{Store: sw, Flow: workflow.New(calendar.Default())}
	h, err := api.New(api.Config{
		Engine: eng, PortalSecrets: []string{recPortalSecret}, Log: slog.New(slog.NewTextHandler(syncWriter{mu, logs}, nil)),
		DeptSecrets: map[c.Dept][]string{c.DeptCDPF: {unreadableCDPF}},
		ReadTokens:  []string{recDistrict}, AdminTokens: []string{recAdmin},
		Tokens:     []auth.StaticToken{{Token: recPortal, Role: auth.RolePortal, Subject: "portal-reader"}},
		Unreadable: switchedLister{sw},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	checker := contracttest.New(t, "gateway")
	f := &recFixture{t: t, srv: srv, store: sw, logs: logs, mu: mu, http: &http.Client{Transport: checker.Transport(http.DefaultTransport)}}
	id := f.submitExample()
	if status, _ := f.call("GET", recPortal, "/v1/applications/"+id); status != http.StatusOK {
		t.Fatalf("the application before: %d", status)
	}
	alter(sw, id)

	permanent := func(what string, status int, body []byte) {
		t.Helper()
		var e c.Error
		json.Unmarshal(body, &e)
		if status != http.StatusInternalServerError || e.Code != "record_unreadable" || !strings.Contains(e.Message, "重试无效") || e.MessageEn == "" {
			t.Errorf("%s: %d %s, want 500 record_unreadable", what, status, body)
		}
		noPersonalData(t, what, body)
	}
	status, body := f.call("GET", recPortal, "/v1/applications/"+id)
	permanent("the status", status, body)
	status, body = f.call("GET", recAdmin, "/v1/applications/"+id+"/record?reason="+url.QueryEscape("核对材料"))
	permanent("the full record", status, body)
	ev, _ := json.Marshal(c.DeptEvent{EventID: "ev-unreadable", TaskID: id + "-1", CaseNo: "CDPF-1", Type: c.EventAccepted, OccurredAt: time.Now().UTC()})
	status, body = f.send(signed(t, srv.URL+"/v1/departments/cdpf/events", unreadableCDPF, "ev-unreadable", time.Now(), ev))
	permanent("a department's event", status, body)
	// A retry answers the same: it is not "retry later".
	status, body = f.call("GET", recPortal, "/v1/applications/"+id)
	permanent("the status again", status, body)

	// Listed for operators, audited; refused to others.
	status, body = f.call("GET", recAdmin, "/v1/admin/unreadable-records?reason="+url.QueryEscape("每日巡检"))
	var list c.UnreadableRecordList
	if err := json.Unmarshal(body, &list); status != http.StatusOK || err != nil {
		t.Fatalf("unreadable records: %d %s", status, body)
	}
	if list.Count != 1 || len(list.Records) != 1 || list.Records[0].ApplicationID != id || list.Records[0].Reason == "" {
		t.Errorf("unreadable records: %s", body)
	}
	noPersonalData(t, "the list", body)
	if e := f.auditLog()[0]; e.Action != c.AuditUnreadable || e.Reason != "每日巡检" || e.Subject != "token:admin#1" {
		t.Errorf("the listing's audit entry: %+v", e)
	}
	for _, tok := range []string{recDistrict, recPortal} {
		if status, _ := f.call("GET", tok, "/v1/admin/unreadable-records"); status != http.StatusForbidden {
			t.Errorf("the list by a non-admin: %d", status)
		}
	}
	if status, _ := f.call("GET", "", "/v1/admin/unreadable-records"); status != http.StatusUnauthorized {
		t.Errorf("the list without a token: %d", status)
	}
	mu.Lock()
	log := logs.String()
	mu.Unlock()
	if !strings.Contains(log, "stored record does not open") {
		t.Errorf("not logged:\n%s", log)
	}
	noPersonalData(t, "the log", []byte(log))
}

// switchedLister lists through the store the switch holds now.
type switchedLister struct{ sw *auditSwitch }

func (l switchedLister) UnreadableRecords(ctx context.Context, limit int) ([]c.UnreadableRecord, int, error) {
	return l.sw.Store.(store.UnreadableLister).UnreadableRecords(ctx, limit)
}

func (l switchedLister) UnreadableCount(ctx context.Context) (int, error) {
	return l.sw.Store.(store.UnreadableLister).UnreadableCount(ctx)
}
