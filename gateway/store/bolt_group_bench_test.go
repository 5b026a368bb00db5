package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	c "onething/contracts"
	"onething/gateway/seal"
	"onething/gateway/store"
)

// Concurrent writes to one bbolt store, as the gateway's workers and
// event handlers make them (each an event's Update with its once key and
// a push queued, on an application of its own), sealed as deployed:
//
//	go test -run '^$' -bench BoltConcurrent -benchtime 4000x ./gateway/store/
//
// ns/op is the time per write with 32 writers (2 cores: SetParallelism
// 16); commits/op is bbolt's transactions per write (1 without group
// commit).
func BenchmarkBoltConcurrent(b *testing.B) {
	keys, err := seal.New(seal.DevConfig())
	if err != nil {
		b.Fatal(err)
	}
	const apps = 64
	for _, writers := range []int{1, 32} {
		b.Run(fmt.Sprintf("UpdateEvent/writers=%d", writers), func(b *testing.B) {
			s, err := store.OpenBolt(filepath.Join(b.TempDir(), "b.db"), store.WithKeys(keys))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			for i := range apps {
				if _, err := s.Create(ctx, benchApp(fmt.Sprint("A", i)), nil, nil); err != nil {
					b.Fatal(err)
				}
			}
			var next atomic.Int64
			before := s.CommitCount()
			b.SetParallelism(max(1, writers/2))
			if writers == 1 {
				b.SetParallelism(1)
			}
			b.ResetTimer()
			if writers == 1 {
				for i := 0; i < b.N; i++ {
					benchEvent(b, s, int(next.Add(1)), apps)
				}
			} else {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						benchEvent(b, s, int(next.Add(1)), apps)
					}
				})
			}
			b.StopTimer()
			b.ReportMetric(float64(s.CommitCount()-before)/float64(b.N), "commits/op")
		})
	}
}

// Concurrent submissions: each a Create of a new application, sealed
// (its own data key made and kept in the key store file first).
func BenchmarkBoltConcurrentCreate(b *testing.B) {
	keys, err := seal.New(seal.DevConfig())
	if err != nil {
		b.Fatal(err)
	}
	s, err := store.OpenBolt(filepath.Join(b.TempDir(), "b.db"), store.WithKeys(keys))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var next atomic.Int64
	before := s.CommitCount()
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := fmt.Sprint("C", next.Add(1))
			job := store.Job{ID: store.DispatchJobID(id+"-1", 1), Kind: store.JobDispatch, AppID: id, TaskID: id + "-1", NotBefore: time.Now()}
			if _, err := s.Create(context.Background(), benchApp(id), []string{"delivery:" + id, "ref:" + id}, []store.Job{job}); err != nil {
				b.Error(err)
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(s.CommitCount()-before)/float64(b.N), "commits/op")
}

func benchEvent(b *testing.B, s *store.Bolt, n, apps int) {
	id := fmt.Sprint("A", n%apps)
	err := s.Update(context.Background(), id, fmt.Sprint("event:cdpf:", n), func(a *c.Application) ([]store.Job, error) {
		a.Version++
		return []store.Job{{ID: store.PushJobID(id, a.Version), Kind: store.JobPush, AppID: id, NotBefore: time.Now()}}, nil
	})
	if err != nil {
		b.Error(err)
	}
}
