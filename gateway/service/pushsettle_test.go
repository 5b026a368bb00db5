package service

import (
	"strings"
	"testing"
	"time"
)

// Absent, pushSettle is 200ms; "0" (explicit) pushes at once; a negative
// or a too long one is a problem of `config check` and of start-up, in
// Chinese and English.
func TestPushSettleSetting(t *testing.T) {
	load := func(doc string, env ...string) Config {
		t.Helper()
		l, err := LoadConfigBytes([]byte(doc), "", env)
		if err != nil {
			t.Fatal(err)
		}
		return l.Config
	}
	for doc, want := range map[string]time.Duration{`{}`: DefaultPushSettle, `pushSettle: "0"`: 0, `pushSettle: 1.5s`: 1500 * time.Millisecond} {
		if got := load(doc).PushSettleOrDefault(); got != want {
			t.Errorf("%s: %s, want %s", doc, got, want)
		}
	}
	if got := load(`{}`, "ONETHING_PUSH_SETTLE=50ms").PushSettleOrDefault(); got != 50*time.Millisecond {
		t.Errorf("ONETHING_PUSH_SETTLE=50ms: %s", got)
	}
	for doc, ok := range map[string]bool{`{}`: true, `pushSettle: "0"`: true, `pushSettle: 5s`: true, `pushSettle: -1ms`: false, `pushSettle: 6s`: false} {
		p := pushSettleProblem(load(doc))
		if (p == "") != ok {
			t.Errorf("%s: problem %q", doc, p)
		}
		if !ok && (!strings.HasPrefix(p, "pushSettle: ") || !strings.Contains(p, " / ") || !strings.ContainsAny(p, "不太")) {
			t.Errorf("%s: not a bilingual problem naming the key: %q", doc, p)
		}
		problems, _ := Check(load(doc))
		if found := strings.Contains(strings.Join(problems, "\n"), "pushSettle: "); found == ok {
			t.Errorf("%s: config check problems %v", doc, problems)
		}
		if !ok {
			if _, err := Assemble(load(doc), nil, nil); err == nil || !strings.Contains(err.Error(), "pushSettle") {
				t.Errorf("%s: assembled: %v", doc, err)
			}
		}
	}
}

// A duration setting written as the bare number 0 (YAML's `0`, or
// ONETHING_…=0) is zero; a malformed one, at the top or nested in a
// department, is refused with its path named, in Chinese and English.
func TestDurationSettingsReadAndNamed(t *testing.T) {
	for _, tc := range []struct {
		doc string
		env []string
	}{{doc: `pushSettle: 0`}, {doc: `{"pushSettle": 0}`}, {doc: `{}`, env: []string{"ONETHING_PUSH_SETTLE=0"}}} {
		l, err := LoadConfigBytes([]byte(tc.doc), "", tc.env)
		if err != nil {
			t.Fatalf("%s %v: %v", tc.doc, tc.env, err)
		}
		if got := l.Config.PushSettleOrDefault(); got != 0 {
			t.Errorf("%s %v: pushSettle %s, want 0", tc.doc, tc.env, got)
		}
	}
	for doc, key := range map[string]string{
		`pushSettle: abc`:                                   "pushSettle: ",
		`pushSettle: 200`:                                   "pushSettle: ",
		`pushSettle: ""`:                                    "pushSettle: ",
		`jobLease: 1e3ms`:                                   "jobLease: ",
		`departments: {cdpf: {timeout: "ten"}}`:             "departments.cdpf.timeout: ",
		`departments: {civil: {pollEvery: 30}}`:             "departments.civil.pollEvery: ",
		`countyDepartments: [{dept: hrss, pollEvery: abc}]`: "countyDepartments.0.pollEvery: ",
	} {
		_, err := LoadConfigBytes([]byte(doc), "", []string{})
		if err == nil {
			t.Errorf("%s: read", doc)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, key) || !strings.Contains(msg, "时长") || !strings.Contains(msg, " / ") || !strings.Contains(msg, "duration") {
			t.Errorf("%s: not a bilingual problem naming %q: %q", doc, key, msg)
		}
	}
}
