package opstest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"onething/gateway/service"
)

// `onething config check` takes the retention in days ("180d", "0" to
// keep forever) and refuses, naming the setting in Chinese and English,
// any other way of writing it and an audit retention below 180 days.
func TestConfigCheckRetention(t *testing.T) {
	bin := build(t)
	sample, err := os.ReadFile(filepath.Join(root, "deploy/onething.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const ret, audit = "retention: 180d", "auditRetention: 365d"
	for _, tc := range []struct {
		name     string
		old, new string
		env      []string
		ok       bool
		wants    []string
		masked   string // the value config check shows, when it passes
	}{
		{name: "the sample", old: ret, new: ret, ok: true, masked: "retention: 180d"},
		{name: "keep forever", old: ret, new: `retention: "0"`, ok: true, masked: "retention: \"0\""},
		{name: "absent: the default", old: ret, new: "", ok: true, masked: "retention: 180d"},
		{name: "the sweep's pace absent: the default", old: "retentionSweepEvery: 1h", new: "", ok: true, masked: "retentionSweepEvery: 1h0m0s"},
		{name: "the sweep's pace too long", old: "retentionSweepEvery: 1h", new: "retentionSweepEvery: 12h", wants: []string{"retentionSweepEvery: 12h0m0s", "至多 6h0m0s", "at most 6h0m0s"}},
		{name: "the sweep's pace too short", old: "retentionSweepEvery: 1h", new: "retentionSweepEvery: 1ms", wants: []string{"retentionSweepEvery: 1ms", "至少 1m0s", "at least 1m0s"}},
		{name: "from the environment", old: ret, new: "", env: []string{"ONETHING_RETENTION=90d"}, ok: true, masked: "retention: 90d"},
		{name: "no unit", old: ret, new: "retention: 180", wants: []string{"retention: ", "须写成天数", "must be days"}},
		{name: "months", old: ret, new: "retention: 6m", wants: []string{"retention: ", "须写成天数", "the unit d is missing"}},
		{name: "negative", old: ret, new: "retention: -5d", wants: []string{"retention: ", "not a positive whole number"}},
		{name: "huge", old: ret, new: "retention: 99999999999999999999d", wants: []string{"retention: ", "more than 36500 days"}},
		{name: "0d", old: ret, new: "retention: 0d", wants: []string{"retention: ", "write \"0\" to keep forever"}},
		{name: "a number in the environment", old: ret, new: "", env: []string{"ONETHING_RETENTION=180"}, wants: []string{"retention: ", "must be days"}},
		{name: "audit below the floor", old: audit, new: "auditRetention: 90d", wants: []string{"auditRetention: 90d", "网络安全法", "at least six months"}},
		{name: "audit at the floor", old: audit, new: "auditRetention: 180d", ok: true},
		{name: "audit forever", old: audit, new: `auditRetention: "0"`, ok: true},
		{name: "audit in hours", old: audit, new: "auditRetention: 4380h", wants: []string{"auditRetention: ", "须写成天数"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if !bytes.Contains(sample, []byte(tc.old)) {
				t.Fatalf("the sample has no %q", tc.old)
			}
			conf := bytes.Replace(sample, []byte(tc.old), []byte(tc.new), 1)
			if err := os.WriteFile(filepath.Join(dir, "onething.yaml"), conf, 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := service.InitSecrets(filepath.Join(dir, "secrets"), service.SecretsInitOptions{}); err != nil {
				t.Fatal(err)
			}
			env := append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, tc.env...)
			code, out := runIn(t, bin, "", env, "config", "check", filepath.Join(dir, "onething.yaml"))
			if tc.ok != (code == 0) {
				t.Fatalf("exit %d, want ok=%v:\n%s", code, tc.ok, out)
			}
			if !tc.ok && code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			for _, w := range tc.wants {
				if !strings.Contains(out, w) {
					t.Errorf("no %q in:\n%s", w, out)
				}
			}
			if tc.masked != "" && !strings.Contains(out, tc.masked) {
				t.Errorf("the configuration shown has no %q:\n%s", tc.masked, out)
			}
		})
	}
}
