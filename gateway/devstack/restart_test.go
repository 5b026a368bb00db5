package devstack_test

import (
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	c "onething/contracts"
	"onething/gateway/devstack"
)

// The whole chain started twice on one data directory (`onething dev
// --data D`, stopped, started again) goes on taking cases to the end. The
// restarted mock departments number their cases from 1 again; their
// events must not be taken for replays of the first run's (an outside
// tester found the second run's case stuck: 409 "webhook id replayed").
func TestRestartOnTheSameDataTakesNewCases(t *testing.T) {
	opts := devstack.Options{Dir: t.TempDir(), Delay: 10 * time.Millisecond, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	hc := &http.Client{Timeout: 20 * time.Second}
	for _, ref := range []string{"SCZW-FCZK-20261205-RESTART1", "SCZW-FCZK-20261205-RESTART2"} {
		st, err := devstack.Start(opts)
		if err != nil {
			t.Fatal(err)
		}
		acc := submitBody(t, st, countySubmission(t, "511702001", "达州市", "通川区", ref), "msg_"+ref)
		waitFor(t, st, hc, acc.ApplicationID, c.AppCompleted)
		if err := st.Stop(); err != nil {
			t.Fatal(err)
		}
	}
}
