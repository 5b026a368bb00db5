package main

import (
	"math"
	"os"
	"runtime/debug"
	"testing"
)

// gcSettings reads the collector's settings (setting them back as they
// were).
func gcSettings() (percent int, limit int64) {
	percent = debug.SetGCPercent(100)
	debug.SetGCPercent(percent)
	return percent, debug.SetMemoryLimit(-1) // -1 reads without changing
}

// unsetenv removes key for the test and puts it back after.
func unsetenv(t *testing.T, key string) {
	if v, set := os.LookupEnv(key); set {
		os.Unsetenv(key)
		t.Cleanup(func() { os.Setenv(key, v) })
	}
}

func resetGC(t *testing.T) {
	p, l := gcSettings()
	debug.SetGCPercent(100)
	debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetGCPercent(p); debug.SetMemoryLimit(l) })
}

func TestTuneGCDefaults(t *testing.T) {
	resetGC(t)
	unsetenv(t, "GOGC")
	unsetenv(t, "GOMEMLIMIT")
	tuneGC()
	if p, l := gcSettings(); p != defaultGCPercent || l != math.MaxInt64 {
		t.Fatalf("without GOGC and GOMEMLIMIT: GC percent %d, memory limit %d; want %d and no limit", p, l, defaultGCPercent)
	}
}

// Either variable set, even empty, is an operator's choice: left alone.
func TestTuneGCLeavesTheOperatorsSetting(t *testing.T) {
	for _, env := range [][2]string{{"GOGC", "150"}, {"GOMEMLIMIT", "1GiB"}, {"GOGC", ""}} {
		resetGC(t)
		unsetenv(t, "GOGC")
		unsetenv(t, "GOMEMLIMIT")
		t.Setenv(env[0], env[1])
		tuneGC()
		if p, l := gcSettings(); p != 100 || l != math.MaxInt64 {
			t.Fatalf("with %s=%q: GC percent %d, memory limit %d; want them untouched", env[0], env[1], p, l)
		}
	}
}
