package devstack_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	c "onething/contracts"
	"onething/gateway/devstack"
)

// An erasure is pushed to the portal with its mark, and so is every push
// after it (outsider: the erasure's push looked like any other version,
// so the portal could not know to erase its own copy of the person). The
// mock portal checks every push against portal-receiver.yaml.
func TestErasureIsPushedWithItsMark(t *testing.T) {
	st, hc := start(t, 5*time.Millisecond)
	acc := submitExample(t, st, hc, "submission-full.json", "msg_erase_push_1")
	done, _ := waitCompleted(t, st, hc, acc.ApplicationID, 30*time.Second)
	latest := waitPushed(t, st, acc.ApplicationID, done.Version)
	if latest.Erased != nil {
		t.Fatalf("a push before any erasure carries the mark: %+v", latest.Erased)
	}

	body, _ := json.Marshal(c.EraseRequest{Reason: "本人书面申请删除，受理编号 QX-2026-201"})
	req, _ := http.NewRequest(http.MethodPost, st.GatewayURL+"/v1/admin/applications/"+acc.ApplicationID+"/erase", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+st.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("erase: %d %s", resp.StatusCode, raw)
	}
	erased := view(t, st, hc, acc.ApplicationID)
	if erased.Erased == nil || erased.Version <= done.Version {
		t.Fatalf("the view after the erasure: version %d, mark %+v", erased.Version, erased.Erased)
	}
	pushed := waitPushed(t, st, acc.ApplicationID, erased.Version)
	m := pushed.Erased
	if m == nil || m.Kind != c.ErasureRequest || m.Name.ZH == "" || m.KindName.ZH == "" || !m.At.Equal(erased.Erased.At) {
		t.Fatalf("the erasure's push: %+v", m)
	}
	if _, off := m.At.Zone(); off != 8*3600 {
		t.Errorf("the mark's time is not China time: %s", m.At)
	}
}

// waitPushed waits for the portal's newest push of id to reach version.
func waitPushed(t *testing.T, st *devstack.Stack, id string, version int64) c.StatusPush {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		p, ok := st.Portal.Latest(id)
		if ok && p.Version >= version {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("the portal never got version %d of %s (latest %d)", version, id, p.Version)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
