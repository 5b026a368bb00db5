package store

import (
	"fmt"
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
	app := &c.Application{ID: "A", PortalRef: "ref-A", Version: 1,
		Applicant: c.Applicant{Name: "张志明", IDNumber: "51170219850307123X", Mobile: "13881801234", HouseholdDivision: "511702102",
			Address: c.Address{Province: "四川省", City: "达州市", County: "通川区", Town: "罗江镇", Village: "龙潭村", Detail: "4组27号"}},
		Requests: c.Requests{Certificate: &c.CertificateRequest{Business: c.ItemCertNew, Note: "右腿受伤"}}}
	for i, it := range []c.ItemCode{c.ItemCertNew, c.ItemSubsidyLiving, c.ItemSubsidyNursing, c.ItemPensionSubsidy, c.ItemMedicalSubsidy} {
		app.Tasks = append(app.Tasks, &c.Task{ID: fmt.Sprintf("A-%d", i+1), Item: it, Dept: c.DeptCivil, State: c.TaskAccepted})
	}
	for i := 0; i < 20; i++ {
		app.Timeline = append(app.Timeline, c.Entry{At: time.Now(), Kind: "state", From: c.TaskReady, To: c.TaskDispatched, Note: &c.Message{ZH: "已受理", EN: "accepted"}})
	}
	for _, k := range []struct {
		name string
		keys *seal.Keyring
	}{{"plain", nil}, {"sealed", keys}} {
		cd := codec{keys: k.keys, dek: newAppKeys(keys, memKeyStore{})}
		data, _, _ := cd.encode(app)
		b.Run(k.name+"/encode", func(b *testing.B) {
			for b.Loop() {
				cd.encode(app)
			}
		})
		b.Run(k.name+"/decode", func(b *testing.B) {
			for b.Loop() {
				if _, _, err := cd.decode("A", data); err != nil {
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
	cd := codec{keys: keys, dek: newAppKeys(keys, memKeyStore{}), cache: newRecordCache(16)}
	base, _, err := cd.encode(app)
	if err != nil {
		b.Fatal(err)
	}
	cur, written := base, 0
	for i := 0; b.Loop(); i++ {
		if i%20 == 0 {
			cur = base
		}
		a, _, err := cd.decode("A", cur)
		if err != nil {
			b.Fatal(err)
		}
		a.Version++
		a.Tasks[i%5].State = c.TaskInProgress
		a.Timeline = append(a.Timeline, c.Entry{At: time.Now(), TaskID: a.Tasks[i%5].ID, Kind: "state", From: c.TaskAccepted, To: c.TaskInProgress, Note: &c.Message{ZH: "审核中", EN: "in review"}})
		if cur, _, err = cd.encode(a); err != nil {
			b.Fatal(err)
		}
		written += len(cur)
	}
	b.ReportMetric(float64(written)/float64(b.N), "B/write")
}

func benchCodecApp() *c.Application {
	app := &c.Application{ID: "A", PortalRef: "ref-A", Version: 1,
		Applicant: c.Applicant{Name: "张志明", IDNumber: "51170219850307123X", Mobile: "13881801234", HouseholdDivision: "511702102",
			Address: c.Address{Province: "四川省", City: "达州市", County: "通川区", Town: "罗江镇", Village: "龙潭村", Detail: "4组27号"}},
		Requests: c.Requests{Certificate: &c.CertificateRequest{Business: c.ItemCertNew, Note: "右腿受伤"}}}
	for i, it := range []c.ItemCode{c.ItemCertNew, c.ItemSubsidyLiving, c.ItemSubsidyNursing, c.ItemPensionSubsidy, c.ItemMedicalSubsidy} {
		app.Tasks = append(app.Tasks, &c.Task{ID: fmt.Sprintf("A-%d", i+1), Item: it, Dept: c.DeptCivil, State: c.TaskAccepted})
	}
	for i := 0; i < 20; i++ {
		app.Timeline = append(app.Timeline, c.Entry{At: time.Now(), Kind: "state", From: c.TaskReady, To: c.TaskDispatched, Note: &c.Message{ZH: "已受理", EN: "accepted"}})
	}
	return app
}
