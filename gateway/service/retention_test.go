package service

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseDays(t *testing.T) {
	for in, want := range map[string]Days{"180d": 180, "1d": 1, "0": 0, "36500d": 36500, "0365d": 365} {
		if got, err := ParseDays(in); err != nil || got != want {
			t.Errorf("ParseDays(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"180", "6m", "180h", "-5d", "+5d", "1.5d", "0d", "36501d", "99999999999999999999d", "", "d", " 180d", "180D"} {
		if got, err := ParseDays(in); err == nil {
			t.Errorf("ParseDays(%q) = %v, want an error", in, got)
		} else if !strings.Contains(err.Error(), "须写成天数") || !strings.Contains(err.Error(), "must be days") {
			t.Errorf("ParseDays(%q): %v is not in Chinese and English", in, err)
		}
	}
}

func TestDaysJSON(t *testing.T) {
	var cfg struct {
		R *Days `json:"r"`
		Z *Days `json:"z"`
		N *Days `json:"n"`
	}
	if err := json.Unmarshal([]byte(`{"r":"30d","z":"0","n":0}`), &cfg); err != nil {
		t.Fatal(err)
	}
	if *cfg.R != 30 || *cfg.Z != 0 || *cfg.N != 0 {
		t.Errorf("decoded %v %v %v", *cfg.R, *cfg.Z, *cfg.N)
	}
	b, _ := json.Marshal(cfg)
	if string(b) != `{"r":"30d","z":"0","n":"0"}` {
		t.Errorf("encoded %s", b)
	}
	if err := json.Unmarshal([]byte(`{"r":180}`), &cfg); err == nil {
		t.Error("a bare number of days decoded")
	}
}

// Absent, the retentions take their defaults; "0" (explicit) keeps
// forever; a bad value is refused by its key; the audit retention has
// its floor.
func TestRetentionSettings(t *testing.T) {
	load := func(doc string) (Config, error) {
		l, err := LoadConfigBytes([]byte(doc), "", []string{})
		return l.Config, err
	}
	cfg, err := load(`{}`)
	if err != nil || cfg.RetentionDays() != DefaultRetention || cfg.AuditRetentionDays() != DefaultAuditRetention {
		t.Fatalf("defaults: %v %v (%v)", cfg.RetentionDays(), cfg.AuditRetentionDays(), err)
	}
	cfg, err = load("retention: \"0\"\nauditRetention: \"0\"\n")
	if err != nil || cfg.RetentionDays() != 0 || cfg.AuditRetentionDays() != 0 {
		t.Fatalf("explicit 0: %v %v (%v)", cfg.RetentionDays(), cfg.AuditRetentionDays(), err)
	}
	if _, err := load("retention: 6m\n"); err == nil || !strings.HasPrefix(err.Error(), "retention: ") {
		t.Errorf("6m: %v", err)
	}
	if _, err := load("auditRetention: 180\n"); err == nil || !strings.HasPrefix(err.Error(), "auditRetention: ") {
		t.Errorf("a bare 180: %v", err)
	}
	if l, err := LoadConfigBytes([]byte(`{}`), "", []string{"ONETHING_RETENTION=30d"}); err != nil || l.Config.RetentionDays() != 30 {
		t.Errorf("ONETHING_RETENTION=30d: %v (%v)", l.Config.RetentionDays(), err)
	}
	for days, ok := range map[Days]bool{179: false, 1: false, 180: true, 365: true, 0: true} {
		d := days
		var problems []string
		checkRetention(Config{AuditRetention: &d}, func(f string, a ...any) { problems = append(problems, f) })
		if (len(problems) == 0) != ok {
			t.Errorf("auditRetention %s: problems %v", d, problems)
		}
	}
}
