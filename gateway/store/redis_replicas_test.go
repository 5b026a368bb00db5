package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	c "onething/contracts"
	"onething/gateway/store"
	"onething/gateway/store/redistest"
	"onething/gateway/store/storetest"
)

// The conformance suite with every write waiting for a replica
// (minReplicas 1): the WAIT path in front of every script changes no
// result.
func TestRedisConformanceMinReplicas(t *testing.T) {
	primary := redistest.Start(t)
	redistest.StartReplica(t, primary)
	storetest.Run(t, func(t *testing.T) store.Store {
		return openRedis(t, primary.URL(), store.WithMinReplicas(1, 2*time.Second))
	})
}

// GetConfirmed, the read of a state about to leave the gateway (a status
// push), answers only what the replica holds: with the replica gone it is
// ErrNotReplicated, where Get still reads the primary. Without
// minReplicas it is Get.
func TestRedisGetConfirmedWaitsForTheReplica(t *testing.T) {
	primary := redistest.Start(t)
	replica := redistest.StartReplica(t, primary)
	url := primary.URL()
	s := openRedis(t, url, store.WithMinReplicas(1, 300*time.Millisecond))
	var _ store.ConfirmedReader = s
	ctx := context.Background()
	if _, err := s.Create(ctx, testApp("A"), nil, nil); err != nil {
		t.Fatal(err)
	}
	if app, err := s.GetConfirmed(ctx, "A"); err != nil || app.ID != "A" {
		t.Fatalf("confirmed read with the replica up = %v, %v", app, err)
	}
	if _, err := s.GetConfirmed(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("confirmed read of no application = %v, want ErrNotFound", err)
	}
	replica.Kill()
	// A write the replica never gets: refused, but on the primary.
	noop := func(a *c.Application) ([]store.Job, error) { a.Version = 7; return nil, nil }
	if err := s.Update(ctx, "A", "", noop); !errors.Is(err, store.ErrNotReplicated) {
		t.Fatalf("update with the replica down = %v, want ErrNotReplicated", err)
	}
	if app, err := s.Get(ctx, "A"); err != nil || app.Version != 7 {
		t.Fatalf("Get after the refused write = %v, %v; want version 7 from the primary", app, err)
	}
	if app, err := s.GetConfirmed(ctx, "A"); !errors.Is(err, store.ErrNotReplicated) {
		t.Errorf("confirmed read of a state the replica does not hold = %v, %v; want ErrNotReplicated", app, err)
	}
	single := openRedis(t, url)
	if app, err := single.GetConfirmed(ctx, "A"); err != nil || app.Version != 7 {
		t.Errorf("confirmed read without minReplicas = %v, %v; want Get's answer", app, err)
	}
}

// With minReplicas a write the replica has not received is refused with
// ErrNotReplicated (the gateway answers 503), stays written on the
// primary, and a retry once the replica is back is a duplicate of it.
func TestRedisMinReplicasRefusesUnreplicatedWrites(t *testing.T) {
	primary := redistest.Start(t)
	replica := redistest.StartReplica(t, primary)
	url := primary.URL()
	s := openRedis(t, url, store.WithMinReplicas(1, 300*time.Millisecond))
	ctx := context.Background()
	if _, err := s.Create(ctx, testApp("A"), []string{"delivery:m1"}, nil); err != nil {
		t.Fatalf("create with the replica up: %v", err)
	}
	if n := replica.Client().Exists(ctx, s.AppKey("A")).Val(); n != 1 {
		t.Fatalf("the replica does not hold A after an acknowledged write")
	}
	noop := func(*c.Application) ([]store.Job, error) { return nil, nil }
	if err := s.Update(ctx, "A", "event:cdpf:e1", noop); err != nil {
		t.Fatalf("an event with the replica up: %v", err)
	}
	replica.Kill()
	// An event applied before is answered from what that write recorded:
	// held back too, since the replica cannot confirm it now.
	if err := s.Update(ctx, "A", "event:cdpf:e1", noop); !errors.Is(err, store.ErrNotReplicated) {
		t.Errorf("a repeated event with the replica down = %v, want ErrNotReplicated", err)
	}
	_, err := s.Create(ctx, testApp("B"), []string{"delivery:m2"}, nil)
	if !errors.Is(err, store.ErrNotReplicated) {
		t.Fatalf("create with the replica down = %v, want ErrNotReplicated", err)
	}
	if _, err := s.AppendAudit(ctx, c.AuditEntry{Action: "test", Subject: "t"}); !errors.Is(err, store.ErrNotReplicated) {
		t.Errorf("audit with the replica down = %v, want ErrNotReplicated", err)
	}
	if n := s.UnreplicatedWrites(); n < 3 {
		t.Errorf("UnreplicatedWrites = %d, want the 3 refusals counted", n)
	}
	// Refused, not undone: the primary has B.
	if app, err := s.Get(ctx, "B"); err != nil || app.ID != "B" {
		t.Fatalf("B after the refused write: %v %v", app, err)
	}
	// A single Redis (minReplicas 0) is today's behaviour: no wait.
	single := openRedis(t, url)
	if _, err := single.Create(ctx, testApp("C"), nil, nil); err != nil {
		t.Errorf("minReplicas 0 with no replica: %v", err)
	}
	replica.Restart()
	var id string
	for i := 0; i < 100; i++ {
		if id, err = s.Create(ctx, testApp("B2"), []string{"delivery:m2"}, nil); !errors.Is(err, store.ErrNotReplicated) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !errors.Is(err, store.ErrDuplicate) || id != "B" {
		t.Fatalf("retry of the refused submission = %q, %v; want a duplicate of B", id, err)
	}
	// The replica may still lag past the wait on a loaded machine: the
	// repeated event is retried as a department would (a 503), and must end
	// as already applied.
	for i := 0; i < 100; i++ {
		if err = s.Update(ctx, "A", "event:cdpf:e1", noop); !errors.Is(err, store.ErrNotReplicated) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !errors.Is(err, store.ErrAlreadyApplied) {
		t.Errorf("the repeated event with the replica back = %v, want ErrAlreadyApplied", err)
	}
}

// The open refuses a wait longer than the client's read timeout: WAIT
// travels in a pipeline read under it.
func TestRedisMinReplicasWaitBelowReadTimeout(t *testing.T) {
	srv := redistest.Start(t)
	_, err := store.OpenRedis(context.Background(), srv.URL()+"&read_timeout=1s", store.WithMinReplicas(1, 2*time.Second))
	if err == nil || !strings.Contains(err.Error(), "read timeout") {
		t.Fatalf("open = %v, want the read timeout named", err)
	}
}

func TestRedisSentinelURLs(t *testing.T) {
	good := []string{
		"redis+sentinel://127.0.0.1:26379,127.0.0.2:26379,127.0.0.3:26379/onething/0?prefix=p",
		"redis+sentinel://:pw@s1:26379/onething",
		"rediss+sentinel://s1:26379,s2:26380/onething/2?dial_timeout=2s",
	}
	for _, u := range good {
		if err := store.CheckRedisURL(u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	bad := map[string]string{
		"redis+sentinel://s1:26379":                        "names the master",
		"redis+sentinel://s1:26379/m/0/1":                  "names the master",
		"redis+sentinel://s1:26379/m/x":                    "database number",
		"redis+sentinel://s1,s2:26379/m":                   `"s1" is not host:port`,
		"redis+sentinel://s1:26379/m?password=secretvalue": "password is part of",
		"redis+sentinel://s1:26379/m?master_name=x":        "master_name is part of",
		"redis+sentinel://s1:26379/m?bogus=1":              "unexpected option",
	}
	for u, want := range bad {
		err := store.CheckRedisURL(u)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", u, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "secretvalue") {
			t.Errorf("%s: the error repeats the password: %v", u, err)
		}
	}
}

// Through Sentinel: a primary, a replica, three sentinels; writes wait
// for the replica. The primary is killed; the sentinels promote the
// replica and the store follows it: every acknowledged write is there,
// and once the old primary is back as a replica, writes are confirmed
// again.
func TestRedisSentinelFailover(t *testing.T) {
	primary := redistest.Start(t)
	redistest.StartReplica(t, primary)
	sentinels := redistest.StartSentinels(t, "onething", primary, 3, time.Second)
	s := openRedis(t, redistest.SentinelURL("onething", sentinels), store.WithMinReplicas(1, 500*time.Millisecond))
	ctx := context.Background()
	var acked []string
	for i := 0; i < 20; i++ {
		id := "S" + string(rune('A'+i))
		if _, err := s.Create(ctx, testApp(id), []string{"ref:" + id}, nil); err != nil {
			t.Fatalf("create %s: %v", id, err)
		}
		acked = append(acked, id)
	}
	primary.Kill()
	killed := time.Now()
	deadline := killed.Add(45 * time.Second)
	for {
		addr, err := sentinels[0].Primary("onething")
		if err == nil && addr != primary.Addr {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failover within 45s (primary %s, %v)", addr, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("failover after %s", time.Since(killed).Round(time.Millisecond))
	// The promoted replica has every acknowledged write.
	for _, id := range acked {
		var err error
		for try := 0; try < 50; try++ { // pooled connections to the dead primary fail once
			if _, err = s.Get(ctx, id); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("acknowledged %s after the failover: %v", id, err)
		}
	}
	// No replica left: writes are refused, not acknowledged.
	if _, err := s.Create(ctx, testApp("LONE"), nil, nil); !errors.Is(err, store.ErrNotReplicated) {
		t.Errorf("create with no replica after the failover = %v, want ErrNotReplicated", err)
	}
	// The old primary comes back; the sentinels make it a replica.
	primary.Restart()
	back := time.Now()
	var err error
	for time.Since(back) < time.Minute {
		// The first tries are written and refused; a retry is their duplicate.
		if _, err = s.Create(ctx, testApp("AFTER"), []string{"ref:AFTER"}, nil); err == nil || errors.Is(err, store.ErrDuplicate) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil && !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("writes not confirmed after the old primary came back: %v", err)
	}
	t.Logf("writes confirmed again %s after the old primary restarted", time.Since(back).Round(time.Millisecond))
}
