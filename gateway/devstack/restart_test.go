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

// A stopped gateway leaves no connection open to the departments or the
// portal: a remote's graceful shutdown must not wait on connections it
// kept alive (CI saw `onething dev`'s mocks time out stopping on one).
func TestStoppedGatewayClosesItsConnections(t *testing.T) {
	opts := devstack.Options{Dir: t.TempDir(), Delay: 10 * time.Millisecond, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	st, err := devstack.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	hc := &http.Client{Timeout: 20 * time.Second}
	ref := "SCZW-FCZK-20261205-CONNS01"
	acc := submitBody(t, st, countySubmission(t, "511702001", "达州市", "通川区", ref), "msg_"+ref)
	waitFor(t, st, hc, acc.ApplicationID, c.AppCompleted)
	if st.MockConnections() == 0 {
		t.Fatal("the gateway holds no connection to the mocks after a case: the test would prove nothing")
	}
	if err := st.StopGateway(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for st.MockConnections() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections to the mocks still open after the gateway stopped", st.MockConnections())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
