package store

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"
	"time"

	c "onething/contracts"
	"onething/gateway/seal"
)

// The CPU cost of sealing, apart from the disk or network (the store's
// benchmarks include the fsync):
//
//	go test -run '^$' -bench Codec ./gateway/store/
func BenchmarkCodec(b *testing.B) {
	keys, err := seal.New(seal.DevConfig())
	if err != nil {
		b.Fatal(err)
	}
	app := benchCodecApp()
	for _, k := range []struct {
		name string
		keys *seal.Keyring
	}{{"plain", nil}, {"sealed", keys}} {
		cd := codec{keys: k.keys, dek: newAppKeys(keys, memKeyStore{}), parts: true}
		w, _, _ := cd.encodeParts(app, nil)
		var m memParts
		m.apply(w)
		b.Run(k.name+"/encode", func(b *testing.B) {
			for b.Loop() {
				cd.encodeParts(app, nil)
			}
		})
		b.Run(k.name+"/decode", func(b *testing.B) {
			for b.Loop() {
				if _, _, _, err := cd.decodeParts("A", m.s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCodecEvent is what an event costs the codec in the gateway: the
// record read back (the decode cache's hit), a task's state and the
// version changed, an entry appended to the timeline, the record written;
// "B/write" is what the backend writes. Every 20 events the record starts
// again from 20 entries (a miss of the cache, as after a restart).
func BenchmarkCodecEvent(b *testing.B) {
	keys, err := seal.New(seal.DevConfig())
	if err != nil {
		b.Fatal(err)
	}
	app := benchCodecApp()
	cd := codec{keys: keys, dek: newAppKeys(keys, memKeyStore{}), cache: newRecordCache(1 << 20), parts: true}
	w, _, err := cd.encodeParts(app, nil)
	if err != nil {
		b.Fatal(err)
	}
	var base memParts
	base.apply(w)
	cur, written := base, 0
	for i := 0; b.Loop(); i++ {
		if i%20 == 0 {
			cur = memParts{stored{head: base.s.head, per: base.s.per, tl: append([][]byte(nil), base.s.tl...)}}
		}
		a, _, pr, err := cd.decodeParts("A", cur.s)
		if err != nil {
			b.Fatal(err)
		}
		a.Version++
		a.Tasks[i%5].State = c.TaskInProgress
		a.Timeline = append(a.Timeline, c.Entry{At: time.Now(), TaskID: a.Tasks[i%5].ID, Kind: "state", From: c.TaskAccepted, To: c.TaskInProgress, Note: &c.Message{ZH: "审核中", EN: "in review"}})
		w, _, err := cd.encodeParts(a, pr)
		if err != nil {
			b.Fatal(err)
		}
		cur.apply(w)
		written += len(w.head) + len(w.per)
		for _, e := range w.tl {
			written += len(e)
		}
	}
	b.ReportMetric(float64(written)/float64(b.N), "B/write")
}

func benchCodecApp() *c.Application {
	app := &c.Application{ID: "A", PortalRef: "ref-A", Version: 1,
		Applicant: c.Applicant{Name: "张志明", IDNumber: "51170219850307123X", Mobile: "13881801234", HouseholdDivision: "511702102",
			Address: c.Address{Province: "四川省", City: "达州市", County: "通川区", Town: "罗江镇", Village: "龙潭村", Detail: "4组27号"}},
		Requests: c.Requests{Certificate: &c.CertificateRequest{Business: c.ItemCertNew, Note: "右腿受伤"}}}
	// Tasks as a department's work leaves them (the end-to-end bench's).
	at := time.Date(2026, 12, 6, 3, 3, 30, 606989832, time.FixedZone("CST", 8*3600))
	for i, it := range []c.ItemCode{c.ItemCertNew, c.ItemSubsidyLiving, c.ItemSubsidyNursing, c.ItemPensionSubsidy, c.ItemMedicalSubsidy} {
		accepted, updated := at.Add(time.Duration(i)*time.Second), at.Add(time.Duration(i)*time.Minute)
		t := &c.Task{ID: fmt.Sprintf("A-%d", i+1), Item: it, Dept: c.DeptCivil, County: "511702", State: c.TaskAccepted,
			CaseNo: fmt.Sprintf("CIVIL-20261206-%06d", i+1), AcceptedAt: &accepted, DueDate: "2026-12-25", Step: 1, UpdatedAt: updated}
		if i == 0 {
			t.Procedure = &c.Procedure{Clause: "指南二(一)1 残疾人证新办", Assessment: true, Publicity: true, ClockStart: "publicity", NewCertificate: true}
			t.Milestones = []c.Milestone{{Kind: "assessed", At: accepted}, {Kind: "publicised", At: updated}}
		} else if i < 3 {
			t.DependsOn = []string{"A-1"}
		}
		app.Tasks = append(app.Tasks, t)
	}
	for i := 0; i < 20; i++ {
		app.Timeline = append(app.Timeline, c.Entry{At: time.Now(), Kind: "state", From: c.TaskReady, To: c.TaskDispatched, Note: &c.Message{ZH: "已受理", EN: "accepted"}})
	}
	return app
}

// What an entry of the record cache costs: the live heap per cached
// application as measured ("heap-B/entry": the decoded application, its
// sealed parts and the head's bytes) against what recordCost counts for
// it ("est-B/entry", which the cache's 64 MiB bound is in), for a fresh
// application (5 timeline entries) and a finished one (30):
//
//	go test -run '^$' -bench RecordCacheEntry -benchtime 2000x ./gateway/store/
func BenchmarkRecordCacheEntry(b *testing.B) {
	keys, err := seal.New(seal.DevConfig())
	if err != nil {
		b.Fatal(err)
	}
	for _, entries := range []int{5, 30} {
		b.Run(fmt.Sprint("timeline=", entries), func(b *testing.B) {
			cd := codec{keys: keys, dek: newAppKeys(keys, memKeyStore{}), parts: true}
			app := benchCodecApp()
			app.Timeline = app.Timeline[:0]
			for range entries {
				app.Timeline = append(app.Timeline, c.Entry{At: time.Now(), TaskID: "A-1", Kind: "state", From: c.TaskReady, To: c.TaskDispatched, Note: &c.Message{ZH: "已受理，请等待审核结果", EN: "accepted, wait for the review"}})
			}
			w, _, err := cd.encodeParts(app, nil)
			if err != nil {
				b.Fatal(err)
			}
			var m memParts
			m.apply(w)
			rc := newRecordCache(1 << 40)
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			n := 0
			for b.Loop() {
				_, idx, pr, err := cd.decodePartsUncached("A", m.s)
				if err != nil {
					b.Fatal(err)
				}
				rc.put(fmt.Sprint("A", n), bytes.Clone(m.s.head), pr, idx)
				n++
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			_, used := rc.len()
			b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "heap-B/entry")
			b.ReportMetric(float64(used)/float64(n), "est-B/entry")
			runtime.KeepAlive(rc)
		})
	}
}
