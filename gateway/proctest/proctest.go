// Package proctest builds the onething command once per test binary, for
// the tests that run it as real processes (replicas, shutdown, bench).
package proctest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var (
	once   sync.Once
	dir    string
	binary string
	err    error
)

// Binary returns the path of the onething command, building it the first
// time.
func Binary(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		if dir, err = os.MkdirTemp("", "onething-proctest-"); err != nil {
			return
		}
		goBin, lookErr := exec.LookPath("go")
		if lookErr != nil {
			goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		binary = filepath.Join(dir, "onething")
		if out, buildErr := exec.Command(goBin, "build", "-o", binary, "onething/gateway/cmd/onething").CombinedOutput(); buildErr != nil {
			err = fmt.Errorf("go build: %v\n%s", buildErr, out)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return binary
}

// Cleanup removes the build; call it from TestMain after m.Run.
func Cleanup() {
	if dir != "" {
		os.RemoveAll(dir)
	}
}
