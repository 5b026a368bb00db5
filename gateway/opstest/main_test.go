package opstest

import (
	"os"
	"testing"

	"onething/gateway/proctest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	proctest.Cleanup()
	os.Exit(code)
}

// build compiles the onething command once.
func build(t *testing.T) string { return proctest.Binary(t) }
