package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	c "onething/contracts"
	"onething/gateway/seal"
	"onething/gateway/store"
	"onething/gateway/store/redistest"
)

// onBothSealed runs a test on bolt and on Redis, each sealed with keys as
// the gateway runs them.
func onBothSealed(t *testing.T, test func(t *testing.T, st store.Store, keys *seal.Keyring)) {
	mkKeys := func(t *testing.T) *seal.Keyring {
		keys, err := seal.New(seal.DevConfig())
		if err != nil {
			t.Fatal(err)
		}
		return keys
	}
	t.Run("bolt", func(t *testing.T) {
		keys := mkKeys(t)
		st, err := store.OpenBolt(filepath.Join(t.TempDir(), "api.db"), store.WithKeys(keys))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		test(t, st, keys)
	})
	t.Run("redis", func(t *testing.T) {
		keys := mkKeys(t)
		srv := redistest.Start(t)
		st, err := store.OpenRedis(context.Background(), srv.URL(), store.WithKeys(keys))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		test(t, st, keys)
	})
}

// On both stores, through two replicas (each with its own replay cache,
// so the store decides): the same submission under a used reference is a
// duplicate; another person, or the same person with other requests, is
// 409 portal_ref_conflict and stored nowhere; a delivery id used again
// for another submission is 409 replayed_webhook. After the applicant's
// personal data is erased, the kept digest still tells them apart.
func TestPortalRefConflictOnBothStores(t *testing.T) {
	onBothSealed(t, func(t *testing.T, st store.Store, keys *seal.Keyring) {
		a, b := replicas(t, st)
		a.engine.Keys = keys
		const ref = "SCZW-FCZK-20261012-BOTH"
		full := withRef(t, "submission-full.json", ref, nil)
		status, resp := a.submit("msg_both_1", full)
		if status != http.StatusAccepted {
			t.Fatalf("first: %d %s", status, resp)
		}
		first := decodeAccepted(t, resp)
		jobs := a.queued()

		restamped := withRef(t, "submission-full.json", ref, func(m map[string]any) { m["submittedAt"] = "2026-10-12T11:00:00+08:00" })
		if status, resp := b.submit("msg_both_2", restamped); status != http.StatusOK || decodeAccepted(t, resp).ApplicationID != first.ApplicationID {
			t.Errorf("the same submission on the other replica: %d %s", status, resp)
		}
		conflicts := map[string][]byte{
			"another person": withRef(t, "submission-minor.json", ref, nil),
			"other requests": withRef(t, "submission-full.json", ref, func(m map[string]any) {
				delete(m["requests"].(map[string]any), "medical")
			}),
		}
		for name, body := range conflicts {
			status, resp := b.submit("msg_both_"+strings.ReplaceAll(name, " ", "_"), body)
			if status != http.StatusConflict || decodeError(t, resp).Code != "portal_ref_conflict" {
				t.Errorf("%s: %d %s", name, status, resp)
			}
		}
		// The first delivery id, on the replica that never saw it, with
		// another person under another reference.
		status, resp = b.submit("msg_both_1", withRef(t, "submission-minor.json", "SCZW-FCZK-20261116-BOTH", nil))
		if status != http.StatusConflict || decodeError(t, resp).Code != "replayed_webhook" {
			t.Errorf("delivery id used again for another submission: %d %s", status, resp)
		}
		if n := a.queued(); n != jobs {
			t.Errorf("refused submissions queued work: %d jobs, want %d", n, jobs)
		}
		var stored []*c.Application
		st.(store.Scanner).Scan(t.Context(), func(app *c.Application) bool { stored = append(stored, app); return true })
		if len(stored) != 1 || stored[0].ID != first.ApplicationID {
			t.Fatalf("stored %d applications, want only the first", len(stored))
		}
		if ids, err := st.FindByIDNumber(t.Context(), "511702201506050711"); err != nil || len(ids) != 0 {
			t.Errorf("the second person is in the store: %v %v", ids, err)
		}
		if !strings.HasPrefix(stored[0].SubmissionDigest, keys.CurrentIndexKey()+".") {
			t.Errorf("digest %q not keyed", stored[0].SubmissionDigest)
		}

		// Erase the applicant (as retention will): the digest decides alone.
		err := st.Update(t.Context(), first.ApplicationID, "", func(app *c.Application) ([]store.Job, error) {
			app.Applicant, app.Delivery = c.Applicant{}, c.Delivery{}
			return nil, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if status, resp := a.submit("msg_both_3", restamped); status != http.StatusOK || decodeAccepted(t, resp).ApplicationID != first.ApplicationID {
			t.Errorf("after erasure, the same submission: %d %s", status, resp)
		}
		if status, resp := a.submit("msg_both_4", conflicts["another person"]); status != http.StatusConflict || decodeError(t, resp).Code != "portal_ref_conflict" {
			t.Errorf("after erasure, another person: %d %s", status, resp)
		}
	})
}

func decodeAccepted(t *testing.T, body []byte) c.SubmissionAccepted {
	t.Helper()
	var acc c.SubmissionAccepted
	if err := json.Unmarshal(body, &acc); err != nil || acc.ApplicationID == "" {
		t.Fatalf("not an acceptance: %s", body)
	}
	return acc
}
