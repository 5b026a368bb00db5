package main

import (
	"os"
	"runtime/debug"
)

// defaultGCPercent is the garbage collector's target when GOGC is not
// set. The gateway keeps little live heap (tens of MiB) and allocates on
// every request; at Go's default of 100 the collector ran every few
// milliseconds under load and took about 13 % of the gateway's CPU at
// intake saturation (docs/PROFILING.md). At 400 it runs a quarter as often
// for a heap up to five times the live one, still far below the 512 MiB
// the deployment allows, and GOMEMLIMIT (deploy/k8s) makes it collect
// harder before that. Every subcommand takes it, so the bench's baseline
// and mocks run as the gateway does.
const defaultGCPercent = 400

// tuneGC applies defaultGCPercent unless the environment sets GOGC, which
// keeps the last word for an operator.
func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
}
