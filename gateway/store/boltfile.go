package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"runtime/debug"
)

// The bbolt file's header, read before bbolt maps the file.
//
// bbolt maps the whole file into memory and reads pages straight from the
// map. A page past the end of a truncated file is a SIGBUS, which Go turns
// into a fatal error that no recover catches: a truncated store used to log
// "gateway serving" and then die in the first background walk. So before
// bbolt opens a file, readBoltHeader reads its two meta pages (a few KiB,
// in constant time whatever the file's size) and refuses a file that is
// not a bbolt file, whose meta pages do not validate, or that is shorter
// than its meta says it is. bbolt reads no page at or past the meta's high
// water mark, so a file at least that long cannot be read past its end.
//
// bbolt v1.5 has no public accessor for its meta pages; the layout read
// here is bbolt's on-disk format (internal/common/page.go and meta.go of
// go.etcd.io/bbolt, unchanged since boltdb 1.x, file format version 2),
// in the host's byte order as bbolt writes it:
//
//	page i starts at i*pageSize; meta pages are pages 0 and 1
//	page header (16 bytes): id uint64 | flags uint16 (0x04 meta) | count uint16 | overflow uint32
//	meta, right after the header (64 bytes):
//	  0 magic uint32 (0xED0CDAED)   4 version uint32 (2)   8 pageSize uint32   12 flags uint32
//	 16 root bucket: root pgid uint64, sequence uint64
//	 32 freelist pgid uint64 (^0: none)   40 pgid uint64 (high water mark: pages in use)
//	 48 txid uint64                        56 checksum uint64: FNV-64a of bytes 0-55
//
// bbolt uses the valid meta with the higher txid (DB.meta). The page size
// comes from meta 0; when meta 0 is invalid, bbolt looks for meta 1 at
// 1 KiB, 2 KiB, … 16 MiB, and so does this. TestBoltHeaderMatchesBbolt
// checks the reading against what bbolt itself reports (Tx.ID, Tx.Size,
// DB.Info) on real files.

const (
	boltMagic         = 0xED0CDAED
	boltVersion       = 2
	boltPageHeader    = 16
	boltMetaSize      = 64
	boltMetaChecksum  = 56 // offset of the checksum, and length of what it covers
	boltMetaPageFlag  = 0x04
	boltNoFreelist    = ^uint64(0)
	boltMinPageSize   = 512
	boltMaxPageSize   = 16 << 20
	boltMetaProbeSize = 0x1000
)

// boltMeta is what one meta page says.
type boltMeta struct {
	pageSize uint32
	root     uint64
	freelist uint64
	pgid     uint64 // high water mark: pages 0 … pgid-1 are in the file
	txid     uint64
}

// boltHeader is what readBoltHeader found.
type boltHeader struct {
	size     int64
	pageSize int
	meta     boltMeta // the meta bbolt uses
	// need is the smallest size of a complete file: pgid*pageSize.
	need int64
}

var nativeEndian = binary.NativeEndian

// parseBoltMeta reads the meta in a page's bytes (header included); ok is
// false when the bytes are not a valid meta page (bbolt's Meta.Validate:
// magic, version, checksum; and a sane page size and page ids).
func parseBoltMeta(page []byte) (boltMeta, error) {
	if len(page) < boltPageHeader+boltMetaSize {
		return boltMeta{}, errors.New("short page")
	}
	m := page[boltPageHeader : boltPageHeader+boltMetaSize]
	if nativeEndian.Uint32(m[0:]) != boltMagic {
		return boltMeta{}, errors.New("no bbolt magic")
	}
	if v := nativeEndian.Uint32(m[4:]); v != boltVersion {
		return boltMeta{}, fmt.Errorf("bbolt file format version %d, not %d", v, boltVersion)
	}
	h := fnv.New64a()
	h.Write(m[:boltMetaChecksum])
	if h.Sum64() != nativeEndian.Uint64(m[boltMetaChecksum:]) {
		return boltMeta{}, errors.New("meta page checksum does not match")
	}
	bm := boltMeta{
		pageSize: nativeEndian.Uint32(m[8:]),
		root:     nativeEndian.Uint64(m[16:]),
		freelist: nativeEndian.Uint64(m[32:]),
		pgid:     nativeEndian.Uint64(m[40:]),
		txid:     nativeEndian.Uint64(m[48:]),
	}
	if bm.pageSize < boltMinPageSize || bm.pageSize > boltMaxPageSize || bm.pageSize&(bm.pageSize-1) != 0 {
		return boltMeta{}, fmt.Errorf("page size %d", bm.pageSize)
	}
	if bm.pgid < 2 || bm.pgid > 1<<40 || bm.root >= bm.pgid || (bm.freelist >= bm.pgid && bm.freelist != boltNoFreelist) {
		return boltMeta{}, fmt.Errorf("page ids out of range (root %d, freelist %d, high water mark %d)", bm.root, bm.freelist, bm.pgid)
	}
	return bm, nil
}

// errFileMissing and errFileEmpty are what readBoltHeader says of a path
// with no file, or with an empty one.
var (
	errFileMissing = errors.New("no such file")
	errFileEmpty   = errors.New("empty file")
)

// readBoltHeader reads and checks the meta pages of the bbolt file at
// path (see above). It reads at most a few pages, whatever the file's size.
func readBoltHeader(path string) (*boltHeader, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errFileMissing
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		return nil, fmt.Errorf("%s is a directory", path)
	}
	h := &boltHeader{size: info.Size()}
	if h.size == 0 {
		return nil, errFileEmpty
	}
	read := func(off int64, n int) []byte {
		buf := make([]byte, n)
		k, err := f.ReadAt(buf, off)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil
		}
		return buf[:k]
	}
	meta0, err0 := parseBoltMeta(read(0, boltMetaProbeSize))
	var meta1 boltMeta
	var err1 error
	if err0 == nil {
		h.pageSize = int(meta0.pageSize)
		if h.size < 2*int64(h.pageSize) {
			return h, &damage{fmt.Sprintf("%d bytes, shorter than its two meta pages (%d bytes)", h.size, 2*h.pageSize),
				fmt.Sprintf("仅 %d 字节，不足两个元数据页（%d 字节）", h.size, 2*h.pageSize)}
		}
		meta1, err1 = parseBoltMeta(read(int64(h.pageSize), boltMetaProbeSize))
	} else {
		// bbolt's own search for meta 1 when meta 0 is unreadable.
		err1 = err0
		for i := 0; i <= 14; i++ {
			pos := int64(1024) << i
			if pos >= h.size-1024 {
				break
			}
			if m, err := parseBoltMeta(read(pos, boltMetaProbeSize)); err == nil && int64(m.pageSize) == pos {
				meta1, err1 = m, nil
				h.pageSize = int(m.pageSize)
				break
			}
		}
	}
	switch {
	case err0 != nil && err1 != nil:
		return h, &damage{"no valid bbolt meta page (" + err0.Error() + "): not a bbolt file, or its header is damaged",
			"没有有效的 bbolt 元数据页：不是 bbolt 文件，或文件头已损坏"}
	case err0 != nil:
		h.meta = meta1
	case err1 != nil:
		h.meta = meta0
	case meta1.txid > meta0.txid:
		h.meta = meta1
	default:
		h.meta = meta0
	}
	if int(h.meta.pageSize) != h.pageSize {
		return h, &damage{fmt.Sprintf("the meta pages disagree on the page size (%d, %d)", h.pageSize, h.meta.pageSize),
			"两个元数据页的页大小不一致"}
	}
	h.need = int64(h.meta.pgid) * int64(h.pageSize)
	if h.size < h.need {
		return h, &damage{fmt.Sprintf("truncated: %d bytes, but its meta page says %d pages of %d bytes (%d bytes)", h.size, h.meta.pgid, h.pageSize, h.need),
			fmt.Sprintf("文件被截断：只有 %d 字节，元数据页记载 %d 页、每页 %d 字节（应至少 %d 字节）", h.size, h.meta.pgid, h.pageSize, h.need)}
	}
	return h, nil
}

// damage is a defect readBoltHeader found, in English and Chinese.
type damage struct{ en, zh string }

func (d *damage) Error() string { return d.en }

// readSafely runs fn, which reads the file through bbolt, and turns a
// panic in it into a *damage. bbolt checks what it reads from a page with
// assertions that panic ("page 22: has unexpected type/flags"), and a page
// that cannot be read is a memory fault (made a panic here): either means
// the file is damaged, and the open refuses it with the usual message
// (restore from a backup; store check reports the damage) instead of the
// process dying with a stack trace, again on every restart.
func readSafely(fn func() error) (err error) {
	prev := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(prev)
	defer func() {
		if p := recover(); p != nil {
			text := fmt.Sprint(p)
			if len(text) > 200 {
				text = text[:200] + "…"
			}
			err = &damage{"reading it failed (" + text + "): its pages are damaged",
				"读取文件时出错（" + text + "）：文件页面已损坏"}
		}
	}()
	return fn()
}
