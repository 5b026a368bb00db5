package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// sampleWithSecrets is the shipped sample beside a fresh secrets init, in
// a temporary directory, its store a bolt file there.
func sampleWithSecrets(t *testing.T) (cfg, dataFile string) {
	t.Helper()
	dir := t.TempDir()
	sample, err := os.ReadFile("../../../deploy/onething.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg = filepath.Join(dir, "onething.yaml")
	if err := os.WriteFile(cfg, sample, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := onething(t, nil, "secrets", "init", filepath.Join(dir, "secrets")); r.code != 0 {
		t.Fatalf("secrets init:\n%s", r)
	}
	return cfg, filepath.Join(dir, "onething.db")
}

// store init makes the store serve refuses to make; a second init leaves
// it byte for byte; store check passes it and fails an empty or missing
// one, naming the command to run.
func TestStoreInitAndCheck(t *testing.T) {
	cfg, db := sampleWithSecrets(t)
	env := []string{"ONETHING_DATA_FILE=" + db, "ONETHING_LISTEN=127.0.0.1:0"}

	r := onething(t, env, "serve", "--config", cfg, "--log-format", "text")
	if r.code != 1 || !strings.Contains(r.stderr, "onething store init") {
		t.Fatalf("serve on a missing store should refuse, naming store init:\n%s", r)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Fatalf("serve created the store file (%v)", err)
	}
	if r := onething(t, env, "store", "check", "--config", cfg); r.code != 1 || !strings.Contains(r.stderr, "store init") {
		t.Errorf("store check on a missing store should fail, naming store init:\n%s", r)
	}

	r = onething(t, env, "store", "init", "--config", cfg)
	// The creation time people read is China time with its offset
	// (outsider: it was UTC, another day before 08:00).
	if r.code != 0 || !regexp.MustCompile(`created 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00`).MatchString(r.stdout) {
		t.Fatalf("store init:\n%s", r)
	}
	first, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if r := onething(t, env, "store", "init", "--config", cfg); r.code != 0 {
		t.Fatalf("a second store init should succeed and change nothing:\n%s", r)
	}
	if again, _ := os.ReadFile(db); string(again) != string(first) {
		t.Error("a second store init changed the file")
	}
	r = onething(t, env, "store", "check", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "identity") || !strings.Contains(r.stdout, "+08:00") {
		t.Errorf("store check on a fresh store:\n%s", r)
	}
	if r := onething(t, env, "store", "check", "--config", cfg, "--records", "--json"); r.code != 0 || !strings.HasPrefix(strings.TrimSpace(r.stdout), "{") {
		t.Errorf("store check --records --json:\n%s", r)
	}

	// A zero-byte file is not a store: neither init nor serve takes it.
	empty := filepath.Join(t.TempDir(), "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := onething(t, env, "store", "init", "--config", cfg, "--store", "bolt://"+empty); r.code != 1 {
		t.Errorf("store init should refuse a zero-byte file:\n%s", r)
	}
	if r := onething(t, env, "serve", "--config", cfg, "--store", "bolt://"+empty); r.code != 1 || !strings.Contains(r.stderr, "store init") {
		t.Errorf("serve should refuse a zero-byte file, naming store init:\n%s", r)
	}
	// A Redis URL that does not parse is refused without its password.
	r = onething(t, env, "store", "init", "--config", cfg, "--store", "redis://:SEKRIT#x@127.0.0.1:6379/0")
	if r.code != 1 || strings.Contains(r.stdout+r.stderr, "SEKRIT") {
		t.Errorf("store init with an unparseable store URL:\n%s", r)
	}
	if r := onething(t, nil, "store", "init"); r.code != 2 {
		t.Errorf("store init without --config is a usage error:\n%s", r)
	}
	if r := onething(t, nil, "store"); r.code != 2 {
		t.Errorf("store without a subcommand is a usage error:\n%s", r)
	}
}

// store compact rewrites a stopped gateway's bbolt file; it refuses a
// Redis store and a missing --config.
func TestStoreCompact(t *testing.T) {
	cfg, db := sampleWithSecrets(t)
	env := []string{"ONETHING_DATA_FILE=" + db}
	if r := onething(t, env, "store", "init", "--config", cfg); r.code != 0 {
		t.Fatalf("store init:\n%s", r)
	}
	r := onething(t, env, "store", "compact", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "→") || !strings.Contains(r.stdout, db) {
		t.Fatalf("store compact:\n%s", r)
	}
	if r := onething(t, env, "store", "check", "--config", cfg); r.code != 0 {
		t.Errorf("store check after compact:\n%s", r)
	}
	r = onething(t, env, "store", "compact", "--config", cfg, "--store", "redis://127.0.0.1:1/0")
	if r.code != 1 || !strings.Contains(r.stderr, "needs no compaction") {
		t.Errorf("store compact on Redis:\n%s", r)
	}
	if r := onething(t, env, "store", "compact"); r.code != 2 {
		t.Errorf("store compact without --config:\n%s", r)
	}
}
