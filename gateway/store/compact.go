package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// CompactResult is what CompactBolt did.
type CompactResult struct {
	Path          string
	Before, After int64 // file sizes in bytes
}

func (r CompactResult) String() string {
	return fmt.Sprintf("%s: %d → %d bytes / 已压缩 %d → %d 字节", r.Path, r.Before, r.After, r.Before, r.After)
}

// CompactBolt rewrites a store's bbolt file without its free pages
// (`onething store compact`, offline). bbolt reuses the pages freed by
// deletions (an erased application, a finished job) but never gives them
// back to the file system, and they keep the bytes they held until reused;
// a compacted copy holds the live data only. The copy is written beside
// the file, synced, and renamed over it while the original stays open
// read-only: its shared lock keeps a gateway from opening the file until
// the rename is done (and the compaction refuses a file a gateway has
// open). It refuses a file that is not an initialised onething store.
func CompactBolt(path string) (CompactResult, error) {
	res := CompactResult{Path: path}
	if _, err := readBoltHeader(path); err != nil {
		var d *damage
		switch {
		case errors.As(err, &d):
			return res, damaged(path, d)
		case errors.Is(err, errFileMissing):
			return res, notInitialised(path, "文件不存在", "the file does not exist")
		case errors.Is(err, errFileEmpty):
			return res, notInitialised(path, "文件为空（0 字节），不是存储", "the file is empty (0 bytes), not a store")
		}
		return res, fmt.Errorf("compact store %s: %w", path, err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return res, fmt.Errorf("compact store %s: %w", path, err)
	}
	res.Before = info.Size()
	src, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 2 * time.Second, OpenFile: noCreate})
	if errors.Is(err, berrors.ErrTimeout) {
		return res, fmt.Errorf("compact store %s: 文件正在使用（网关在运行？），请先停止网关 / the file is in use (a gateway running on it?): stop it first", path)
	}
	if err != nil {
		return res, fmt.Errorf("compact store %s: %w", path, err)
	}
	defer src.Close()
	var has bool
	err = readSafely(func() error {
		return src.View(func(tx *bolt.Tx) error {
			var err error
			_, has, err = identityOf(boltMetaMap(tx))
			return err
		})
	})
	if err != nil {
		return res, fmt.Errorf("compact store %s: %w", path, err)
	}
	if !has {
		return res, notInitialised(path, "没有 onething 存储标识", "it has no onething store identity")
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".compact-*")
	if err != nil {
		return res, fmt.Errorf("compact store %s: %w", path, err)
	}
	name := tmp.Name()
	tmp.Close()
	os.Remove(name) // bbolt makes it
	defer os.Remove(name)
	dst, err := bolt.Open(name, info.Mode().Perm(), nil)
	if err != nil {
		return res, fmt.Errorf("compact store %s: %w", path, err)
	}
	if err := readSafely(func() error { return bolt.Compact(dst, src, 64<<20) }); err != nil {
		dst.Close()
		return res, fmt.Errorf("compact store %s: %w", path, err)
	}
	if err := dst.Close(); err != nil {
		return res, fmt.Errorf("compact store %s: %w", path, err)
	}
	if err := os.Rename(name, path); err != nil {
		return res, fmt.Errorf("compact store %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	if info, err := os.Stat(path); err == nil {
		res.After = info.Size()
	}
	return res, nil
}

// BytesInUse is the bbolt file's size as far as its last page less its
// free pages: what a compaction would keep (the bench's "pages in use").
// Read in a transaction of the open store, so it is consistent while it
// writes.
func (b *Bolt) BytesInUse() (int64, error) {
	var live int64
	err := b.db.View(func(tx *bolt.Tx) error {
		st := b.db.Stats()
		live = tx.Size() - int64(st.FreePageN+st.PendingPageN)*int64(b.db.Info().PageSize)
		return nil
	})
	return live, err
}

// CopyFile writes a consistent copy of the open store's bbolt file to
// path (in a read transaction: a plain copy of a file being written may be
// torn). Not its key store.
func (b *Bolt) CopyFile(path string) error {
	// bbolt opens the copy with the store's OpenFile, which never creates
	// (noCreate): make it first.
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	return b.db.View(func(tx *bolt.Tx) error { return tx.CopyFile(path, 0o600) })
}
