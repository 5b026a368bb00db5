package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	c "onething/contracts"
	"onething/gateway/seal"
	"onething/gateway/store"
	"onething/gateway/store/redistest"
	"onething/gateway/store/storetest"
)

// The cost of the writes the gateway makes, on both backends (both fsync
// every write: bbolt per transaction, Redis with appendfsync always),
// plain and with personal data sealed (what the gateway runs):
//
//	go test -run '^$' -bench Store -benchtime 2000x ./gateway/store/
func BenchmarkStore(b *testing.B) {
	keys, err := seal.New(seal.DevConfig())
	if err != nil {
		b.Fatal(err)
	}
	bolted := func(o ...store.Option) func(b *testing.B) store.Store {
		return func(b *testing.B) store.Store {
			s, err := store.OpenBolt(filepath.Join(b.TempDir(), "b.db"), o...)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s
		}
	}
	redised := func(o ...store.Option) func(b *testing.B) store.Store {
		return func(b *testing.B) store.Store {
			srv := redistest.Start(b)
			s, err := store.OpenRedis(context.Background(), srv.URL(), o...)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s
		}
	}
	// A primary with a replica, every write waiting for it (WAIT 1):
	// what redis.minReplicas 1 costs.
	replicated := func(o ...store.Option) func(b *testing.B) store.Store {
		return func(b *testing.B) store.Store {
			srv := redistest.Start(b)
			redistest.StartReplica(b, srv)
			s, err := store.OpenRedis(context.Background(), srv.URL(), append(o, store.WithMinReplicas(1, time.Second))...)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s
		}
	}
	backends := map[string]func(b *testing.B) store.Store{
		"bolt": bolted(), "redis": redised(),
		"bolt-sealed": bolted(store.WithKeys(keys)), "redis-sealed": redised(store.WithKeys(keys)),
		"redis-sealed-wait1": replicated(store.WithKeys(keys)),
	}
	for _, name := range []string{"bolt", "redis", "bolt-sealed", "redis-sealed", "redis-sealed-wait1"} {
		open := backends[name]
		b.Run(name+"/Create", func(b *testing.B) {
			s := open(b)
			ctx := context.Background()
			for i := 0; b.Loop(); i++ {
				id := fmt.Sprint("A", i)
				a := benchApp(id)
				job := store.Job{ID: store.DispatchJobID(id+"-1", 1), Kind: store.JobDispatch, AppID: id, TaskID: id + "-1", NotBefore: time.Now()}
				if _, err := s.Create(ctx, a, []string{"delivery:" + id, "ref:" + id}, []store.Job{job}); err != nil {
					b.Fatal(err)
				}
			}
		})
		// An event: once key, the application rewritten, a push queued.
		b.Run(name+"/UpdateEvent", func(b *testing.B) {
			s := open(b)
			ctx := context.Background()
			s.Create(ctx, benchApp("A"), nil, nil)
			for i := 0; b.Loop(); i++ {
				err := s.Update(ctx, "A", fmt.Sprint("event:cdpf:", i), func(a *c.Application) ([]store.Job, error) {
					a.Version++
					return []store.Job{{ID: store.PushJobID("A", a.Version), Kind: store.JobPush, AppID: "A", NotBefore: time.Now()}}, nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/LeaseAck", func(b *testing.B) {
			s := open(b)
			ctx := context.Background()
			for i := 0; b.Loop(); i++ {
				s.Enqueue(ctx, store.Job{ID: fmt.Sprint("j", i), Kind: store.JobPush, AppID: "A", NotBefore: time.Now()})
				jobs, err := s.Lease(ctx, time.Now(), 1, time.Minute)
				if err != nil || len(jobs) != 1 {
					b.Fatal(jobs, err)
				}
				s.Ack(ctx, jobs[0])
			}
		})
	}
}

// benchApp is an application of realistic size: five tasks and a timeline.
func benchApp(id string) *c.Application {
	a := storetest.PersonalApp(id, storetest.ExampleIDNumber, "ref-"+id)
	a.Tasks = nil
	for i, it := range []c.ItemCode{c.ItemCertNew, c.ItemSubsidyLiving, c.ItemSubsidyNursing, c.ItemPensionSubsidy, c.ItemMedicalSubsidy} {
		a.Tasks = append(a.Tasks, &c.Task{ID: fmt.Sprintf("%s-%d", id, i+1), Item: it, Dept: c.DeptCivil, State: c.TaskAccepted})
	}
	for i := 0; i < 20; i++ {
		a.Timeline = append(a.Timeline, c.Entry{At: time.Now(), Kind: "state", From: c.TaskReady, To: c.TaskDispatched, Note: &c.Message{ZH: "已受理", EN: "accepted"}})
	}
	return a
}
