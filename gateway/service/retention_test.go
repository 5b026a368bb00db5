package service

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"onething/civil"
	c "onething/contracts"
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

// The assembled gateway sweeps on its business clock: a final case past
// the default retention is erased once Run starts, counted in
// onething_erasures_total{kind="retention"}, and the start line names
// the periods in force. The erasure is a new version, pushed to the
// portal with its erased mark (outsider: the sweep's erasure kept the
// version and was never pushed, so the portal was not told).
func TestServiceSweepsOnItsClock(t *testing.T) {
	secret := "whsec_MfKQ9r8GKYqrTAjgPfnvNnRvXgvtdGd6zmoWQpZMHbk="
	now := time.Date(2027, 1, 10, 9, 0, 0, 0, civil.Zone)
	pushes := make(chan c.StatusPush, 16)
	portal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p c.StatusPush
		if err := json.NewDecoder(r.Body).Decode(&p); err == nil {
			pushes <- p
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer portal.Close()
	cfg := Config{Listen: "127.0.0.1:0", BaseURL: "http://127.0.0.1:1", DataFile: filepath.Join(t.TempDir(), "o.db"),
		PortalSecrets: []string{secret}, PortalPushURL: portal.URL, PortalPushSecret: secret,
		ReadTokens: []NamedToken{{Subject: "district-office", Token: "a-read-token-of-some-length-0123"}}, Departments: map[c.Dept]Dept{}, DataProtection: testProtection(),
		Clock: civil.At(now)}
	for _, d := range c.Depts {
		cfg.Departments[d] = Dept{BaseURL: "http://127.0.0.1:9", AppKey: "k", Secret: "s", EventSecrets: []string{secret}}
	}
	initStore(t, cfg)
	st, err := OpenStore(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	finished := now.AddDate(0, 0, -int(DefaultRetention)) // the retention ends today
	app := &c.Application{ID: "R1", PortalRef: "ref-R1", ReceivedAt: finished.Add(-48 * time.Hour), Version: 2, PushedVersion: 2, PushedAt: &finished,
		Applicant: c.Applicant{Name: "测试", HouseholdDivision: "511702102001"},
		Tasks:     []*c.Task{{ID: "R1-1", Item: c.ItemMedicalSubsidy, Dept: c.DeptMedical, State: c.TaskApproved, FinishedAt: &finished}},
		Status:    c.Status{State: c.AppCompleted}}
	if _, err := st.Create(context.Background(), app, []string{"ref:R1"}, nil); err != nil {
		t.Fatal(err)
	}
	s, err := Assemble(cfg, st, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(s.StartAttrs()); !strings.Contains(got, "retention 180d auditRetention 365d") {
		t.Errorf("start attributes %s", got)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, ln) }()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		got, err := st.Get(context.Background(), "R1")
		if err != nil {
			t.Fatal(err)
		}
		if got.Erased != nil {
			if got.Erased.Kind != c.ErasureRetention || !got.Erased.At.Equal(now) || got.Applicant.Name != "" || got.Version != 3 {
				t.Errorf("erased %+v, applicant %+v, version %d (want 3)", got.Erased, got.Applicant, got.Version)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the sweep did not erase the case past its retention")
		}
	}
	select {
	case p := <-pushes:
		if p.ApplicationID != "R1" || p.Version != 3 || p.Erased == nil || p.Erased.Kind != c.ErasureRetention || !p.Erased.At.Equal(now) {
			t.Errorf("the erasure's push: %+v, mark %+v", p, p.Erased)
		}
	case <-time.After(20 * time.Second):
		t.Error("the erasure was not pushed to the portal")
	}
	// The sweep counts an erasure once its write returned: the record may
	// be read erased a moment before.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		rec := httptest.NewRecorder()
		s.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		if strings.Contains(rec.Body.String(), `onething_erasures_total{kind="retention"} 1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics:\n%s", grepLines(rec.Body.String(), "erasures"))
		}
	}
}

func grepLines(s, w string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, w) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
