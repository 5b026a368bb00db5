package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	c "onething/contracts"
)

// A write transaction that reads a record it wrote itself (two functions
// of one group commit on the same application) gets what it wrote without
// decoding it, and exactly what decoding the uncommitted record gives;
// a transaction rolled back leaves nothing behind for the next one.
func TestWriteTransactionReadsItsOwnWrites(t *testing.T) {
	b, err := OpenBolt(filepath.Join(t.TempDir(), "t.db"), WithKeys(devKeys(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	if _, err := b.Create(ctx, richApp("A"), nil, nil); err != nil {
		t.Fatal(err)
	}
	step := func(tx *bolt.Tx, n int) *prior {
		app, idx, pr, err := b.getApp(tx, "A")
		if err != nil {
			t.Fatal(err)
		}
		lists := listEntries(app)
		app.Version++
		app.Tasks[0].State = c.TaskInProgress
		app.Timeline = append(app.Timeline, c.Entry{TaskID: app.Tasks[0].ID, Kind: "state", Note: &c.Message{ZH: "第" + string(rune('0'+n)) + "步", EN: "step"}})
		if err := b.putApp(tx, app, idx, lists, pr); err != nil {
			t.Fatal(err)
		}
		return pr
	}
	var version int64
	errRollBack := errors.New("roll back")
	err = b.db.Update(func(tx *bolt.Tx) error {
		step(tx, 1)
		b.written.mu.Lock()
		noted := b.written.recs["A"].pr
		b.written.mu.Unlock()
		if noted == nil {
			t.Fatal("the write was not noted")
		}
		if got := step(tx, 2); got != noted {
			t.Error("the second write of the transaction decoded the first one's record")
		}
		// What it got is what the uncommitted record decodes to.
		app, _, _, err := b.getApp(tx, "A")
		if err != nil {
			t.Fatal(err)
		}
		v := tx.Bucket(bucketApps).Get([]byte("A"))
		fresh, _, _, err := b.codec.decodePartsUncached("A", partsOf(tx, "A", v))
		if err != nil {
			t.Fatal(err)
		}
		if mustJSON(t, app) != mustJSON(t, fresh) {
			t.Fatalf("the transaction's own write reads as\n%s\nit decodes as\n%s", mustJSON(t, app), mustJSON(t, fresh))
		}
		version = app.Version
		return errRollBack
	})
	if !errors.Is(err, errRollBack) {
		t.Fatal(err)
	}
	// Rolled back: the next transaction reads what is committed.
	err = b.db.Update(func(tx *bolt.Tx) error {
		app, _, _, err := b.getApp(tx, "A")
		if err != nil {
			return err
		}
		if app.Version == version || len(app.Timeline) != len(richApp("A").Timeline) {
			t.Errorf("after a rollback the record reads as version %d with %d entries", app.Version, len(app.Timeline))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Committed: what the transaction noted goes (the cache has it).
	if err := b.Update(ctx, "A", "", func(a *c.Application) ([]Job, error) { a.Version++; return nil, nil }); err != nil {
		t.Fatal(err)
	}
	b.written.mu.Lock()
	left := b.written.recs
	b.written.mu.Unlock()
	if left != nil {
		t.Errorf("a committed transaction's writes are still held: %d", len(left))
	}
}
