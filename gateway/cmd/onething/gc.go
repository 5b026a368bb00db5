package main

import (
	"os"
	"runtime/debug"
)

// The garbage collector's defaults when the environment sets neither GOGC
// nor GOMEMLIMIT. The gateway keeps little live heap (tens of MiB) and
// allocates on every request; at Go's default of GOGC=100 the collector
// ran every few milliseconds under load and took about 13 % of the
// gateway's CPU at intake saturation (docs/PROFILING.md). At 400 it runs a
// quarter as often, and the soft limit keeps the heap from growing to five
// times the live one: near 256 MiB the collector works harder instead
// (the Kubernetes manifest sets GOMEMLIMIT from the container's limit).
// Every subcommand takes them, so the bench's baseline and mocks run as
// the gateway does.
const (
	defaultGCPercent   = 400
	defaultMemoryLimit = 256 << 20
)

// tuneGC applies the defaults. Either variable set in the environment
// means an operator chose: then the runtime's own handling stands.
func tuneGC() {
	_, gogc := os.LookupEnv("GOGC")
	_, limit := os.LookupEnv("GOMEMLIMIT")
	if gogc || limit {
		return
	}
	debug.SetGCPercent(defaultGCPercent)
	debug.SetMemoryLimit(defaultMemoryLimit)
}
