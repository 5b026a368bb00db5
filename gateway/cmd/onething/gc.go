package main

import (
	"os"
	"runtime/debug"
)

// defaultGCPercent is the garbage collector's target when the environment
// sets neither GOGC nor GOMEMLIMIT. The gateway keeps little live heap
// (some tens of MiB: the records it used last, the bounded replay cache of
// webhook ids) and allocates on every request; at Go's default of
// GOGC=100 the collector took about 13 % of the gateway's CPU at intake
// saturation (docs/PROFILING.md). At 200 it runs half as often and the
// heap stays near three times the live one. 400, and a default soft
// memory limit of 256 MiB, were tried and left out: at 400 the heap
// reached 330 MiB under sustained load; with the limit the collector
// worked at the limit through the bench's growth phase and intake on bolt
// no longer stayed flat (docs/PROFILING.md). In Kubernetes the manifest
// sets GOMEMLIMIT from the container's limit. Every subcommand takes the
// default, so the bench's baseline and mocks run as the gateway does.
const defaultGCPercent = 200

// tuneGC applies defaultGCPercent. Either variable set in the environment
// means an operator chose: then the runtime's own handling stands.
func tuneGC() {
	_, gogc := os.LookupEnv("GOGC")
	_, limit := os.LookupEnv("GOMEMLIMIT")
	if !gogc && !limit {
		debug.SetGCPercent(defaultGCPercent)
	}
}
