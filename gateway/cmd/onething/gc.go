package main

import (
	"os"
	"runtime/debug"
)

// The garbage collector's defaults when the environment sets neither GOGC
// nor GOMEMLIMIT. The gateway keeps little live heap (some tens of MiB:
// the records it used last, the replay cache of webhook ids) and
// allocates on every request; at Go's default of GOGC=100 the collector
// took about 13 % of the gateway's CPU at intake saturation
// (docs/PROFILING.md). At 200 it runs half as often and the heap stays
// near three times the live one, about 120 MiB under the bench's load;
// the soft limit is a backstop: near 256 MiB the collector works harder
// instead of the heap growing (the Kubernetes manifest sets GOMEMLIMIT
// from the container's limit). 400 was tried: the heap then reached the
// limit under sustained load, and the collector working at the limit
// cost more than it saved. Every subcommand takes them, so the bench's
// baseline and mocks run as the gateway does.
const (
	defaultGCPercent   = 200
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
