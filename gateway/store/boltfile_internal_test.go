package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"onething/contracts"
)

// boltFacts is what bbolt itself says of a file: the meta it uses (Tx.ID
// is its txid, Tx.Size its high water mark times the page size) and the
// page size.
func boltFacts(t *testing.T, path string) (txid, size int64, pageSize int) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.View(func(tx *bolt.Tx) error {
		txid, size = int64(tx.ID()), tx.Size()
		return nil
	})
	return txid, size, db.Info().PageSize
}

func sameAsBbolt(t *testing.T, what, path string) *boltHeader {
	t.Helper()
	h, err := readBoltHeader(path)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	txid, size, pageSize := boltFacts(t, path)
	if int64(h.meta.txid) != txid || h.need != size || h.pageSize != pageSize {
		t.Errorf("%s: header says txid %d, %d bytes needed, pages of %d; bbolt says %d, %d, %d",
			what, h.meta.txid, h.need, h.pageSize, txid, size, pageSize)
	}
	if h.size < h.need {
		t.Errorf("%s: a whole file (%d bytes) shorter than it needs (%d)", what, h.size, h.need)
	}
	return h
}

// The layout readBoltHeader relies on is bbolt's: on real files (new,
// grown, other page sizes, meta 0 damaged) it reads what bbolt reports.
func TestBoltHeaderMatchesBbolt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.db")
	b, err := OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	sameAsBbolt(t, "a new store", path)

	b, err = OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		id := fmt.Sprintf("A%04d", i)
		app := &contracts.Application{ID: id, PortalRef: "ref-" + id, Version: 1, Tasks: []*contracts.Task{{ID: id + "-1", State: contracts.TaskReady}}}
		if _, err := b.Create(t.Context(), app, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	b.Close()
	h := sameAsBbolt(t, "a grown store", path)
	if h.meta.pgid < 20 {
		t.Errorf("the grown store has %d pages only", h.meta.pgid)
	}

	for _, ps := range []int{1024, 8192, 65536} {
		p := filepath.Join(dir, fmt.Sprintf("p%d.db", ps))
		db, err := bolt.Open(p, 0o600, &bolt.Options{PageSize: ps})
		if err != nil {
			t.Fatal(err)
		}
		db.Update(func(tx *bolt.Tx) error {
			bk, _ := tx.CreateBucket([]byte("x"))
			for i := range 500 {
				bk.Put(fmt.Appendf(nil, "k%05d", i), make([]byte, 100))
			}
			return nil
		})
		db.Close()
		sameAsBbolt(t, fmt.Sprintf("page size %d", ps), p)
	}

	// Meta 0 damaged: bbolt finds meta 1, and so does the header.
	data, _ := os.ReadFile(path)
	data[boltPageHeader+20] ^= 0xff // inside meta 0, under its checksum
	broken := filepath.Join(dir, "meta0.db")
	os.WriteFile(broken, data, 0o600)
	if _, err := parseBoltMeta(data); err == nil {
		t.Fatal("meta 0 still validates")
	}
	sameAsBbolt(t, "meta 0 damaged", broken)
}

// Damage the header finds, before anything maps the file.
func TestBoltHeaderRefusesDamage(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.db")
	b, err := OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		id := fmt.Sprintf("A%04d", i)
		b.Create(t.Context(), &contracts.Application{ID: id, PortalRef: "ref-" + id, Version: 1}, nil, nil)
	}
	b.Close()
	good, _ := os.ReadFile(path)
	h, err := readBoltHeader(path)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o600)
		return p
	}
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"truncated by one page", good[:h.need-int64(h.pageSize)]},
		{"truncated to half", good[:len(good)/2]},
		{"one meta page only", good[:h.pageSize+100]},
		{"not bbolt", []byte("this is not a database, it is a text file that happens to be here\n")},
		{"both meta pages damaged", append(make([]byte, 2*h.pageSize), good[2*h.pageSize:]...)},
	} {
		_, err := readBoltHeader(write("c.db", c.data))
		var d *damage
		if !errors.As(err, &d) {
			t.Errorf("%s: %v, want damage", c.name, err)
		} else {
			t.Logf("%s: %s / %s", c.name, d.en, d.zh)
		}
	}
	if _, err := readBoltHeader(write("e.db", nil)); !errors.Is(err, errFileEmpty) {
		t.Errorf("empty: %v", err)
	}
	if _, err := readBoltHeader(filepath.Join(dir, "none.db")); !errors.Is(err, errFileMissing) {
		t.Errorf("missing: %v", err)
	}
	// Longer than needed is fine (bbolt grows files ahead).
	if _, err := readBoltHeader(write("long.db", append(append([]byte(nil), good...), make([]byte, 1<<16)...))); err != nil {
		t.Errorf("a longer file: %v", err)
	}
}
