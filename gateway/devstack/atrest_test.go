package devstack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	c "onething/contracts"
	"onething/contracts/contracttest"
	"onething/gateway/devstack"
	"onething/gateway/service"
	"onething/gateway/store/redistest"
)

// What must never reach the store in the clear: the main example's
// applicant (submission-full.json) and the supplement example's, with the
// supplement note the portal sends for it.
var atRestNeedles = map[string]string{
	"ID number":                     "51170219850307123X",
	"ID number without check char":  "51170219850307123",
	"mobile":                        "13881801234",
	"name":                          "张志明",
	"contact phone":                 "0818-2381234",
	"address":                       "龙潭村",
	"address detail":                "4组27号",
	"certificate request note":      "右腿受伤",
	"supplement applicant ID":       "51170219880521367",
	"supplement applicant name":     "周小军",
	"supplement applicant mobile":   "13882803456",
	"supplement note":               "白底照片补交",
	"certificate number (ID + 4 2)": "51170219850307123X4",
	"withdrawal reason":             "迁往成都",
}

// After a whole run with the example submissions — fan-out, a supplement
// round trip, a withdrawal with a reason, completion, an authorised
// full-record read, a search by ID number, admin actions — the raw store
// holds none of the personal data: the bbolt file's bytes; on Redis every
// key's name and value (by type) and the AOF files.
func TestNoPlaintextAtRest(t *testing.T) {
	for _, backend := range []string{"bolt", "redis"} {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			var srv *redistest.Server
			var storeURL string
			if backend == "redis" {
				srv = redistest.Start(t)
				storeURL = srv.URL()
			}
			st, err := devstack.Start(devstack.Options{
				Dir: dir, Delay: 20 * time.Millisecond, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
				Tune: func(cfg *service.Config) {
					cfg.BaseBackoff, cfg.MaxBackoff = service.Duration(20*time.Millisecond), service.Duration(200*time.Millisecond)
					cfg.Store = storeURL
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Stop() })
			hc := &http.Client{Transport: contracttest.New(t, "gateway").Transport(http.DefaultTransport), Timeout: 10 * time.Second}

			main := submitExample(t, st, hc, "submission-full.json", "msg_atrest_1")
			sup := submitExample(t, st, hc, "submission-supplement.json", "msg_atrest_2")
			waitFor(t, st, hc, sup.ApplicationID, c.AppSupplementRequired)
			var certTask string
			for _, it := range view(t, st, hc, sup.ApplicationID).Items {
				if it.Item == c.ItemCertNew {
					certTask = it.TaskID
				}
			}
			if status := postPortal(t, st, "/v1/applications/"+sup.ApplicationID+"/supplements", "msg_atrest_3",
				c.SupplementSubmission{TaskID: certTask, Materials: []string{"photos"}, Note: "白底照片补交，联系 13882803456"}, nil); status != http.StatusAccepted {
				t.Fatalf("supplement: %d", status)
			}
			// A withdrawal: the applicant's own words become the tasks' reason.
			wd := submitExample(t, st, hc, "submission-orphan-medical.json", "msg_atrest_4")
			if status := postPortal(t, st, "/v1/applications/"+wd.ApplicationID+"/withdraw", "msg_atrest_5",
				c.Withdrawal{Reason: "本人已迁往成都市"}, nil); status != http.StatusOK && status != http.StatusConflict {
				t.Fatalf("withdrawal: %d", status)
			}
			waitCompleted(t, st, hc, main.ApplicationID, 30*time.Second)
			waitCompleted(t, st, hc, sup.ApplicationID, 30*time.Second)

			// The authorised reads: the record is whole, the search masked.
			var rec c.ApplicationRecord
			get(t, hc, st, st.ReadToken, "/v1/applications/"+main.ApplicationID+"/record?reason="+url.QueryEscape("核对申请材料"), &rec)
			if rec.Applicant.Name != "张志明" || rec.Applicant.IDNumber != "51170219850307123X" || rec.AuditID == "" {
				t.Fatalf("full record: %+v", rec.Applicant)
			}
			var supRec c.ApplicationRecord
			get(t, hc, st, st.AdminToken, "/v1/applications/"+sup.ApplicationID+"/record?reason=incident", &supRec)
			note := ""
			for _, task := range supRec.Tasks {
				if task.ID == certTask {
					note = task.SupplementNote
				}
			}
			if !strings.Contains(note, "白底照片补交") {
				t.Errorf("the supplement note did not survive sealing: %q", note)
			}
			var list c.ApplicationList
			get(t, hc, st, st.ReadToken, "/v1/applications?idNumber=51170219850307123X", &list)
			if len(list.Applications) != 1 || list.Applications[0].ApplicationID != main.ApplicationID {
				t.Errorf("search by ID number: %+v", list)
			}
			var dl c.DeadLetterList
			get(t, hc, st, st.AdminToken, "/v1/admin/dead-letters", &dl)
			var page c.AuditPage
			get(t, hc, st, st.AdminToken, "/v1/admin/audit", &page)
			if len(page.Entries) != 5 {
				t.Errorf("audit log: %d entries, want 5 (two record reads, a search, a dead-letter listing, this query)", len(page.Entries))
			}
			if err := st.StopGateway(); err != nil {
				t.Fatal(err)
			}

			var raw []byte
			if backend == "bolt" {
				raw, err = os.ReadFile(filepath.Join(dir, "onething.db"))
				if err != nil {
					t.Fatal(err)
				}
			} else {
				raw = dumpRedis(t, srv)
			}
			// Not vacuous: the records are there, sealed.
			for _, want := range []string{main.ApplicationID, sup.ApplicationID, "ot1.dev1.aes-256-gcm.", "核对申请材料"} {
				if !bytes.Contains(raw, []byte(want)) {
					t.Errorf("the raw store lacks %q: the scan sees nothing", want)
				}
			}
			for what, needle := range atRestNeedles {
				if i := bytes.Index(raw, []byte(needle)); i >= 0 {
					lo, hi := max(0, i-80), min(len(raw), i+len(needle)+80)
					t.Errorf("%s %q in plaintext in the raw %s store: …%q…", what, needle, backend, raw[lo:hi])
				}
			}
		})
	}
}

func waitFor(t *testing.T, st *devstack.Stack, hc *http.Client, id string, state c.AppState) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for view(t, st, hc, id).Status.State != state {
		if time.Now().After(deadline) {
			t.Fatalf("%s never reached %s", id, state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func get(t *testing.T, hc *http.Client, st *devstack.Stack, token, path string, out any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, st.GatewayURL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
}

// dumpRedis is everything Redis holds: every key's name and its value as
// its type requires (GET, HGETALL, LRANGE, SMEMBERS, ZRANGE, XRANGE), then
// the bytes of every file in its data directory (the AOF).
func dumpRedis(t *testing.T, srv *redistest.Server) []byte {
	t.Helper()
	ctx := context.Background()
	rdb := srv.Client()
	var out bytes.Buffer
	types := map[string]int{}
	it := rdb.Scan(ctx, 0, "*", 1000).Iterator()
	for it.Next(ctx) {
		key := it.Val()
		typ, err := rdb.Type(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		types[typ]++
		fmt.Fprintf(&out, "\n%s %s ", typ, key)
		var v any
		switch typ {
		case "string":
			v, err = rdb.Get(ctx, key).Result()
		case "hash":
			v, err = rdb.HGetAll(ctx, key).Result()
		case "list":
			v, err = rdb.LRange(ctx, key, 0, -1).Result()
		case "set":
			v, err = rdb.SMembers(ctx, key).Result()
		case "zset":
			v, err = rdb.ZRangeWithScores(ctx, key, 0, -1).Result()
		case "stream":
			v, err = rdb.XRange(ctx, key, "-", "+").Result()
		default:
			t.Fatalf("key %s of type %s: the scan does not know how to read it", key, typ)
		}
		if err != nil && err != redis.Nil {
			t.Fatal(err)
		}
		// Raw strings, not JSON-escaped: a needle must match as stored.
		fmt.Fprintf(&out, "%v", v)
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"hash", "string", "set", "zset", "stream"} {
		if types[typ] == 0 {
			t.Errorf("no %s key in Redis: the scan misses part of the store (%v)", typ, types)
		}
	}
	err := filepath.WalkDir(srv.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		out.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
