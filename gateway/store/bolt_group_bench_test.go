package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	c "onething/contracts"
	"onething/gateway/seal"
	"onething/gateway/store"
	"onething/gateway/store/redistest"
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

// One application's whole sequence of writes through a sealed bbolt store,
// with many applications in flight at once as in the end-to-end bench: its
// Create (a dispatch queued per task), then per task the dispatch's
// acknowledgement with the case number (UpdateAck), the department's
// event (Update with its once key, a push queued) and the push's
// acknowledgement (Ack): 16 writes. The applications go through each
// step together, 32 writers at a time, so between two writes of one
// application come those of all the others in flight (inflight=64: the
// record cache holds them all; 2000: as many as the end-to-end bench
// keeps). With tasks-together, the five tasks' steps of an application
// run at once (the workers lease its five dispatches together), so
// writes of one application share a transaction. cpu-ms/app is the process's CPU (user and system) per
// application, fsyncs included; compare it, not ns/op, on a shared
// machine. redis/: the same on Redis (cpu-ms/app is this process's, the
// gateway's side, not redis-server's):
//
//	go test -run '^$' -bench BoltLifecycle -benchtime 4000x ./gateway/store/
func BenchmarkBoltLifecycle(b *testing.B) {
	keys, err := seal.New(seal.DevConfig())
	if err != nil {
		b.Fatal(err)
	}
	for _, run := range []struct {
		redis    bool
		inflight int
		together bool
	}{{false, 64, false}, {false, 2000, false}, {false, 2000, true}, {true, 2000, true}} {
		inflight := run.inflight
		name := fmt.Sprintf("inflight=%d", inflight)
		if run.together {
			name += "/tasks-together"
		}
		if run.redis {
			name = "redis/" + name
		}
		b.Run(name, func(b *testing.B) {
			var s store.Store
			var err error
			if run.redis {
				s, err = store.OpenRedis(context.Background(), redistest.Start(b).URL(), store.WithKeys(keys))
			} else {
				s, err = store.OpenBolt(filepath.Join(b.TempDir(), "b.db"), store.WithKeys(keys))
			}
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := processCPU()
			n := b.N // applications, in waves of inflight
			for start := 0; start < n; start += inflight {
				ids := make([]string, 0, inflight)
				for i := start; i < min(n, start+inflight); i++ {
					ids = append(ids, fmt.Sprint("L", i))
				}
				if !run.together {
					for step := range lifecycleSteps {
						parallel(32, ids, func(id string) {
							if err := lifecycleStep(s, id, step); err != nil {
								b.Error(err)
							}
						})
					}
					continue
				}
				// The five tasks' steps of one application at once, as
				// the workers lease its dispatches together.
				parallel(32, ids, func(id string) {
					if err := lifecycleStep(s, id, 0); err != nil {
						b.Error(err)
					}
				})
				var pairs []string
				for _, id := range ids {
					for task := range 5 {
						pairs = append(pairs, fmt.Sprintf("%s|%d", id, task))
					}
				}
				for kind := range 3 {
					parallel(32, pairs, func(pair string) {
						id, task, _ := strings.Cut(pair, "|")
						t, _ := strconv.Atoi(task)
						if err := lifecycleStep(s, id, 1+t*3+kind); err != nil {
							b.Error(err)
						}
					})
				}
			}
			b.ReportMetric(float64(processCPU()-cpu0)/float64(time.Millisecond)/float64(n), "cpu-ms/app")
		})
	}
}

const lifecycleSteps = 1 + 5*3

func lifecycleStep(s store.Store, id string, step int) error {
	ctx := context.Background()
	if step == 0 {
		a := benchApp(id)
		a.Timeline = a.Timeline[:2]
		var jobs []store.Job
		for _, t := range a.Tasks {
			t.State = c.TaskReady
			jobs = append(jobs, store.Job{ID: store.DispatchJobID(t.ID, 1), Kind: store.JobDispatch, AppID: id, TaskID: t.ID, Dept: "civil", NotBefore: time.Now()})
		}
		_, err := s.Create(ctx, a, []string{"delivery:" + id, "ref:" + id}, jobs)
		return err
	}
	task, kind := (step-1)/3, (step-1)%3
	taskID := fmt.Sprintf("%s-%d", id, task+1)
	change := func(to c.TaskState, push bool) store.UpdateFunc {
		return func(a *c.Application) ([]store.Job, error) {
			t := a.Tasks[task]
			a.Timeline = append(a.Timeline, c.Entry{At: time.Now(), TaskID: t.ID, Kind: "state", From: t.State, To: to, Note: &c.Message{ZH: "部门已处理", EN: "the department acted"}})
			t.State = to
			t.CaseNo = "CASE-" + t.ID
			a.Version++
			if !push {
				return nil, nil
			}
			return []store.Job{{ID: store.PushJobID(id, a.Version), Kind: store.JobPush, AppID: id, NotBefore: time.Now()}}, nil
		}
	}
	switch kind {
	case 0:
		job := store.Job{ID: store.DispatchJobID(taskID, 1), Kind: store.JobDispatch, AppID: id, TaskID: taskID}
		return s.UpdateAck(ctx, id, job, change(c.TaskAccepted, false))
	case 1:
		return s.Update(ctx, id, "event:civil:"+taskID, change(c.TaskApproved, true))
	default:
		a, err := s.Get(ctx, id)
		if err != nil {
			return err
		}
		return s.Ack(ctx, store.Job{ID: store.PushJobID(id, a.Version), Kind: store.JobPush, AppID: id})
	}
}

// parallel calls fn with every id, from at most workers goroutines.
func parallel(workers int, ids []string, fn func(string)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, len(ids)) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(ids); i = int(next.Add(1)) - 1 {
				fn(ids[i])
			}
		})
	}
	wg.Wait()
}

// processCPU is the CPU time the process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
