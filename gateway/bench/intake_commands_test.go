package bench

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"testing"

	"onething/gateway/store/redistest"
)

// TestIntakeRedisCommands counts what one new submission costs Redis:
// the round trips the gateway makes (commands sent by the client, a
// script call one) and every command run, those the scripts call
// included (INFO commandstats). It fails when a submission takes more
// round trips than the creation's one write, or more script calls.
func TestIntakeRedisCommands(t *testing.T) {
	srv := redistest.Start(t)
	h := intakeHandler(t, srv.URL())
	s, err := newSender("", benchSecret, "c", 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ { // scripts loaded, connections open
		serveOne(t, h, signedPost(t, s, -1-i))
	}
	rdb := srv.Client()
	defer rdb.Close()
	ctx := context.Background()
	before := commandStats(t, rdb.Info(ctx, "commandstats").Val())
	info0 := infoFields(rdb.Info(ctx, "cpu", "persistence").Val())
	const n = 200
	for i := 0; i < n; i++ {
		serveOne(t, h, signedPost(t, s, i))
	}
	info1 := infoFields(rdb.Info(ctx, "cpu", "persistence").Val())
	stats := rdb.Info(ctx, "commandstats").Val()
	after := commandStats(t, stats)
	after["info"] -= 3 // ours
	// Logged, not checked (a shared machine's CPU): the server's CPU and
	// the AOF's growth per submission.
	cpu := func(m map[string]string) float64 {
		u, _ := strconv.ParseFloat(m["used_cpu_user"], 64)
		s, _ := strconv.ParseFloat(m["used_cpu_sys"], 64)
		return u + s
	}
	aof := func(m map[string]string) float64 { v, _ := strconv.ParseFloat(m["aof_current_size"], 64); return v }
	t.Logf("per submission: Redis CPU %.0f µs, AOF grown by %.0f bytes (a rewrite meanwhile makes it less); scripts: %s",
		(cpu(info1)-cpu(info0))*1e6/n, (aof(info1)-aof(info0))/n, infoFields(stats)["cmdstat_evalsha"])
	var names []string
	total, scripts := 0, 0
	for name, v := range after {
		if d := v - before[name]; d > 0 {
			names = append(names, name)
			total += d
			if name == "evalsha" || name == "fcall" {
				scripts += d
			}
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, name := range names {
		b.WriteString(" " + name + "=" + strconv.FormatFloat(float64(after[name]-before[name])/n, 'f', -1, 64))
	}
	t.Logf("per submission: %.1f commands (scripts' included):%s", float64(total)/n, b.String())
	// One round trip: the creation script, and no command outside it (the
	// data key's GET and EVAL used to come before it). Inside, GET reads
	// the two dedupe keys and the data key.
	if scripts != n || after["eval"] != before["eval"] {
		t.Errorf("%d script calls (EVALSHA) and %d EVAL for %d submissions, want one EVALSHA each", scripts, after["eval"]-before["eval"], n)
	}
	if d := after["get"] - before["get"]; d != 3*n {
		t.Errorf("%d GET for %d submissions, want 3 each (the script's: two dedupe keys, the data key)", d, n)
	}
}

// infoFields parses an INFO answer into its fields.
func infoFields(info string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(info, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			out[k] = v
		}
	}
	return out
}

// commandStats parses INFO commandstats into calls by command.
func commandStats(t *testing.T, info string) map[string]int {
	out := map[string]int{}
	for _, line := range strings.Split(info, "\n") {
		line = strings.TrimSpace(line)
		name, rest, ok := strings.Cut(line, ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		calls, _, _ := strings.Cut(strings.TrimPrefix(rest, "calls="), ",")
		v, err := strconv.Atoi(calls)
		if err != nil {
			t.Fatalf("commandstats line %q", line)
		}
		out[strings.TrimPrefix(name, "cmdstat_")] = v
	}
	return out
}
