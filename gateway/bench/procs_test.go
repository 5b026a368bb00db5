package bench

import (
	"os"
	"testing"
	"time"
)

// The CPU accounting reads real figures: this process's own time grows
// while it works, and so does the machine's.
func TestCPUAccounting(t *testing.T) {
	pids := map[string]int{"self": os.Getpid(), "gone": 1 << 30}
	from := sampleCPU(pids)
	// A test binary just started may not have used a clock tick (10 ms)
	// yet: self may read 0 here; it must grow below.
	if from.machine <= 0 {
		t.Fatalf("nothing read: %+v", from)
	}
	if from.procs["gone"] != 0 {
		t.Fatalf("a process that does not exist used %v", from.procs["gone"])
	}
	x := 0
	for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); {
		x++ // busy, so that at least a few clock ticks pass on this process
	}
	to := sampleCPU(pids)
	if to.procs["self"] <= from.procs["self"] || to.machine <= from.machine {
		t.Fatalf("CPU time did not grow over %d busy loops: %v → %v, machine %v → %v", x, from.procs["self"], to.procs["self"], from.machine, to.machine)
	}
}

func TestCPUCostPerApplication(t *testing.T) {
	from := cpuSample{procs: map[string]time.Duration{"gateway": time.Second}, machine: 10 * time.Second}
	to := cpuSample{procs: map[string]time.Duration{"gateway": 3 * time.Second}, machine: 14 * time.Second}
	c := cpuCost(from, to, 400, 2)
	if c.Procs["gateway"] != 5 || c.Machine != 10 || c.Ceiling != 200 {
		t.Fatalf("cost = %+v; want gateway 5 ms, machine 10 ms, ceiling 200/s", c)
	}
	if cpuCost(from, from, 400, 2) != nil || cpuCost(from, to, 0, 2) != nil {
		t.Fatal("a cost without time or without applications")
	}
}
