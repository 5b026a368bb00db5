package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"onething/contracts"
)

var (
	bucketApps = []byte("apps") // application id -> JSON
	bucketKeys = []byte("keys") // dedupe / once key -> application id
	bucketJobs = []byte("jobs") // job id -> JSON
	bucketDue  = []byte("due")  // 8-byte due time (unix ns, big endian) + job id -> nothing
	bucketDead = []byte("dead") // job id -> JSON of a parked job (dead letter)
	// bucketIdx is the blind index of ID numbers: index + 0x00 + application id -> nothing.
	bucketIdx = []byte("idx")
	// bucketAudit is the audit log: 8-byte sequence (big endian) -> entry JSON.
	bucketAudit = []byte("audit")
	// bucketMeta holds the key checks (codec.go): name -> value.
	bucketMeta = []byte("meta")
	// bucketOpen indexes the applications with work left (open): id ->
	// nothing, kept in the write that changes the application, so the
	// operators' scan (overdue tasks, pending pushes) reads only those.
	bucketOpen = []byte("open")
	// bucketUnreadable lists the applications whose record does not open
	// (unreadable.go): id -> JSON of a contracts.UnreadableRecord.
	bucketUnreadable = []byte("unreadable")
	// bucketLists holds the lists (lists.go): list + 0x00 + scope + 0x00 +
	// sort + "|" + id -> nothing. A file without it is from before the
	// lists: Open fills it once (fillLists).
	bucketLists = []byte("lists")
	// bucketLeased indexes the jobs a worker holds: job id -> nothing,
	// kept by every write that leases a job or ends its lease, so the open
	// hands back a dead process's leases without reading every job. A
	// file without it is from before the index: Open builds it once.
	bucketLeased = []byte("leased")
	// bucketPersonal and bucketTimeline hold the parts of a record of
	// format 4 (parts.go): id -> the sealed personal part; id + 0x00 +
	// 4-byte index (big endian) -> a timeline entry. A file without them
	// is from before the parts: Open makes them.
	bucketPersonal = []byte("personal")
	bucketTimeline = []byte("timeline")
)

// Bolt is the embedded backend: one bbolt file, one writer at a time,
// every change in an fsynced transaction (concurrent changes share one:
// bolt_commit.go). bbolt locks the file, so one process owns it; that
// lets Open hand back leases a crashed process held.
type Bolt struct {
	db       *bolt.DB
	group    *groupCommitter // every write goes through it (commit)
	keyStore *boltKeyStore   // with keys: the applications' own keys (bolt_keys.go)
	codec    codec
	identity Identity
	notes    unreadableNotes
	// written holds the records the current write transaction wrote
	// (bolt_written.go), so that another write of the same application
	// in that transaction is spared a decode.
	written txWritten
	// inflight holds the updates worked out and not yet committed, for a
	// later update of the same application to build on (bolt_written.go).
	inflight inFlight
	// noPrepare: updates are worked out in their transaction only
	// (tests of what group commit does with the functions it runs).
	noPrepare bool
}

// ourBuckets are every bucket an onething store has; a file with any
// other is not onething's.
var ourBuckets = [][]byte{bucketApps, bucketKeys, bucketJobs, bucketDue, bucketDead, bucketIdx, bucketAudit, bucketMeta, bucketOpen, bucketUnreadable, bucketLists, bucketDrafts, bucketLeased, bucketPersonal, bucketTimeline}

// OpenBolt opens the data file at path. With Strict (the gateway) it opens
// only a store InitBolt made; without (tests), it makes the file and the
// store when they are missing. Either way it first checks the file's meta
// pages and length in constant time (boltfile.go) and refuses an empty,
// damaged or truncated file, or another program's bbolt file. With
// WithKeys it seals personal data, and refuses to open when a key the file
// has data of is missing or wrong; without, it refuses a file that holds
// sealed data.
func OpenBolt(path string, opts ...Option) (*Bolt, error) {
	b, _, err := openBolt(path, boltOptions(path, opts))
	return b, err
}

// boltOptions are the options with the key store file's default (the data
// file's path with KeyStoreSuffix).
func boltOptions(path string, opts []Option) options {
	o := buildOptions(opts)
	if o.keyStore == "" {
		o.keyStore = path + KeyStoreSuffix
	}
	return o
}

// InitBolt makes the bbolt file at path a store (`onething store init`):
// a new file, written complete under a temporary name beside it and then
// linked into place, so that a crash leaves no half-made store; its
// identity and the key checks of the keys are recorded in its meta. On a
// file an earlier onething made (its buckets, no identity) it records the
// identity and leaves the data as it is (Adopted). On a store initialised
// before it checks the keys and changes nothing, so it is safe to run
// before every start. It refuses an empty or damaged file, another
// program's bbolt file and a store of another format.
func InitBolt(path string, opts ...Option) (InitResult, error) {
	o := boltOptions(path, opts)
	o.mode = modeInit
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		res, err := createBolt(path, o)
		if !errors.Is(err, fs.ErrExist) {
			return res, err
		}
		// Another init made it meanwhile: take it as it is.
	}
	b, res, err := openBolt(path, o)
	if err != nil {
		return res, err
	}
	return res, b.Close()
}

// createBolt makes a new store at a temporary name in path's directory
// and links it into place (failing with fs.ErrExist if path appeared).
func createBolt(path string, o options) (InitResult, error) {
	dir := filepath.Dir(path)
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return InitResult{}, fmt.Errorf("init store %s: the directory %s does not exist", path, dir)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".init-*")
	if err != nil {
		return InitResult{}, fmt.Errorf("init store %s: %w", path, err)
	}
	name := tmp.Name()
	tmp.Close()
	os.Remove(name) // bbolt makes it (an empty file is refused, on purpose)
	defer os.Remove(name)
	o.mode = modeCreate
	b, res, err := openBolt(name, o)
	if err != nil {
		return res, fmt.Errorf("init store %s: %w", path, err)
	}
	if err := b.Close(); err != nil {
		return res, fmt.Errorf("init store %s: %w", path, err)
	}
	if err := os.Link(name, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return res, err
		}
		// A file system without hard links: rename, having looked first.
		if _, serr := os.Lstat(path); !errors.Is(serr, fs.ErrNotExist) {
			return res, fs.ErrExist
		}
		if err := os.Rename(name, path); err != nil {
			return res, fmt.Errorf("init store %s: %w", path, err)
		}
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return res, nil
}

// boltKind is what a bbolt file without an identity holds.
type boltKind int

const (
	boltEmpty   boltKind = iota // no bucket at all
	boltEarlier                 // onething's buckets: an earlier onething made it
	boltForeign                 // a bucket onething never makes
	boltDamaged                 // onething's buckets and another, or a name of garbage: a damaged root
)

func classifyBolt(tx *bolt.Tx) (boltKind, string) {
	ours, other, readable := false, "", true
	tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
		for _, b := range ourBuckets {
			if bytes.Equal(name, b) {
				ours = true
				return nil
			}
		}
		if other == "" {
			other = fmt.Sprintf("%q", name)
		}
		readable = readable && utf8.Valid(name) && bytes.IndexFunc(name, unicode.IsControl) < 0
		return nil
	})
	switch {
	case other != "" && (ours || !readable):
		// onething's buckets beside one it never makes, or a name no
		// program would give: the root's page is damaged, not another
		// program's file (restore it, do not make a new store there).
		return boltDamaged, other
	case other != "":
		return boltForeign, other
	case ours:
		return boltEarlier, ""
	}
	return boltEmpty, ""
}

var errStop = errors.New("stop")

// lookAtRoots reads each bucket's first entry: its root page and the path
// down to it, a few pages whatever the file's size. The open walks no
// bucket, so this is where it meets a damaged root page (bbolt panics on
// it, and readSafely turns that into a refusal) instead of a worker
// meeting it later.
func lookAtRoots(tx *bolt.Tx) {
	for _, name := range ourBuckets {
		if b := tx.Bucket(name); b != nil {
			b.Cursor().First()
		}
	}
}

func boltMetaMap(tx *bolt.Tx) map[string]string {
	out := map[string]string{}
	if mb := tx.Bucket(bucketMeta); mb != nil {
		mb.ForEach(func(k, v []byte) error {
			out[string(k)] = string(v)
			return nil
		})
	}
	return out
}

// noCreate opens a file without ever creating it.
func noCreate(name string, flag int, perm os.FileMode) (*os.File, error) {
	return os.OpenFile(name, flag&^os.O_CREATE, perm)
}

func openBolt(path string, o options) (*Bolt, InitResult, error) {
	var res InitResult
	if _, err := readBoltHeader(path); err != nil {
		var d *damage
		switch {
		case errors.As(err, &d):
			return nil, res, damaged(path, d)
		case errors.Is(err, errFileEmpty):
			return nil, res, &OpenError{Kind: ErrNotInitialised, Where: path,
				ZH: "文件为空（0 字节），不是存储。若它原本是存储，请从备份恢复；否则删除该文件，再运行 " + InitCommand,
				EN: "the file is empty (0 bytes), not a store: if it was one, restore it from a backup; if not, delete it and run `" + InitCommand + "`"}
		case errors.Is(err, errFileMissing):
			if o.mode != modeCreate {
				return nil, res, notInitialised(path, "文件不存在", "the file does not exist")
			}
		default:
			return nil, res, fmt.Errorf("open store %s: %w", path, err)
		}
	}
	bopts := &bolt.Options{Timeout: 5 * time.Second}
	if o.mode != modeCreate {
		bopts.OpenFile = noCreate
	}
	var db *bolt.DB
	err := readSafely(func() (err error) {
		db, err = bolt.Open(path, 0o600, bopts)
		return err
	})
	var d *damage
	if errors.As(err, &d) {
		return nil, res, damaged(path, d)
	}
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, res, fmt.Errorf("open store %s: the file is locked by another process (a gateway running on it?)", path)
	}
	if err != nil {
		return nil, res, fmt.Errorf("open store %s: %w", path, err)
	}
	fail := func(err error) (*Bolt, InitResult, error) {
		db.Close()
		if errors.As(err, &d) {
			// bbolt panicked on a damaged page (readSafely): refuse.
			return nil, res, damaged(path, d)
		}
		return nil, res, err
	}
	var kind boltKind
	var other string
	has := false
	err = readSafely(func() error {
		return db.View(func(tx *bolt.Tx) error {
			var err error
			res.Identity, has, err = identityOf(boltMetaMap(tx))
			if err != nil {
				return err
			}
			lookAtRoots(tx)
			if !has {
				kind, other = classifyBolt(tx)
			}
			return nil
		})
	})
	if err != nil {
		return fail(fmt.Errorf("open store %s: %w", path, err))
	}
	switch {
	case has && res.Identity.Format != FormatVersion:
		return fail(otherFormat(path, res.Identity.Format))
	case !has && kind == boltDamaged:
		return fail(damagedRoot(path, other))
	case !has && kind == boltForeign:
		return fail(foreign(path, "这是其他程序的 bbolt 文件（含有 onething 不使用的桶 "+other+"），不是 onething 存储",
			"another program's bbolt file (it has a bucket "+other+" onething never makes), not an onething store"))
	case !has && o.mode == modeStrict && kind == boltEmpty:
		return fail(notInitialised(path, "这是空的 bbolt 文件，没有 onething 存储", "an empty bbolt file, with no onething store in it"))
	case !has && o.mode == modeStrict:
		return fail(earlierStore(path))
	case !has:
		res.Identity = newIdentity()
		res.Created, res.Adopted = kind == boltEmpty, kind == boltEarlier
	}
	// An init of a store made before changes nothing.
	unchanged := o.mode == modeInit && has
	indexOpen := false  // a file from before the open index: build it
	indexLists := false // a file from before the lists: fill them
	if !unchanged {
		err = readSafely(func() error {
			return db.Update(func(tx *bolt.Tx) error {
				indexOpen = tx.Bucket(bucketOpen) == nil && !res.Created
				indexLists = tx.Bucket(bucketLists) == nil && !res.Created
				indexLeased := tx.Bucket(bucketLeased) == nil && !res.Created
				for _, b := range ourBuckets {
					if _, err := tx.CreateBucketIfNotExists(b); err != nil {
						return err
					}
				}
				if !has {
					mb := tx.Bucket(bucketMeta)
					for k, v := range res.Identity.fields() {
						if err := mb.Put([]byte(k), []byte(v)); err != nil {
							return err
						}
					}
				}
				if indexLeased {
					// Once, on a file from before the index.
					if err := indexLeases(tx); err != nil {
						return err
					}
				}
				if o.mode == modeInit {
					return nil // the gateway hands back leases when it opens
				}
				return releaseLeases(tx)
			})
		})
		if err != nil {
			return fail(fmt.Errorf("prepare store %s: %w", path, err))
		}
	}
	b := &Bolt{db: db, group: newGroupCommitter(db), identity: res.Identity, codec: codec{keys: o.keys, cache: newRecordCache(recordCacheBytes), parts: true}}
	if err := readSafely(func() error { return checkKeys(context.Background(), b, o.keys, !unchanged) }); err != nil {
		return fail(fmt.Errorf("open store %s: %w", path, err))
	}
	if o.keys != nil {
		ks, err := b.attachKeyStore(path, o.keyStore)
		if err != nil {
			return fail(err)
		}
		b.keyStore, b.codec.dek = ks, newAppKeys(o.keys, ks)
		fail = func(err error) (*Bolt, InitResult, error) {
			ks.close()
			db.Close()
			if errors.As(err, &d) {
				return nil, res, damaged(path, d)
			}
			return nil, res, err
		}
	}
	if indexOpen {
		if err := readSafely(b.indexOpenApps); err != nil {
			return fail(fmt.Errorf("open store %s: index open applications: %w", path, err))
		}
	}
	if indexLists {
		if err := readSafely(b.fillLists); err != nil {
			return fail(fmt.Errorf("open store %s: fill the lists: %w", path, err))
		}
	}
	return b, res, nil
}

// Identity is the store's identity (see InitBolt).
func (b *Bolt) Identity() Identity { return b.identity }

// indexOpenApps fills the open index from every application (once, for a
// file written before the index existed).
func (b *Bolt) indexOpenApps() error {
	return b.commit(func(tx *bolt.Tx) error {
		ob := tx.Bucket(bucketOpen)
		return tx.Bucket(bucketApps).ForEach(func(k, v []byte) error {
			app, _, _, err := b.codec.decodePartsUncached(string(k), partsOf(tx, string(k), v))
			if errors.Is(err, ErrUnreadable) {
				return ob.Put(k, nil) // it may need work, once it opens again
			}
			if err != nil {
				return err
			}
			if open(app) {
				return ob.Put(k, nil)
			}
			return nil
		})
	})
}

// OpenApps calls fn with the id of every application that may still need
// work (see open), in id order. The ids are read first, so fn may use the
// store.
func (b *Bolt) OpenApps(ctx context.Context, fn func(id string) error) error {
	var ids []string
	err := b.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOpen).ForEach(func(k, _ []byte) error {
			ids = append(ids, string(k))
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(id); err != nil {
			return err
		}
	}
	return nil
}

// releaseLeases makes every leased job due now: only this process can hold
// the file, so any lease found at start belongs to a process that died.
// It reads the leased index, not the jobs: an open costs the same on a
// queue of ten jobs or of millions.
func releaseLeases(tx *bolt.Tx) error {
	lb := tx.Bucket(bucketLeased)
	var ids []string
	if err := lb.ForEach(func(k, _ []byte) error {
		ids = append(ids, string(k))
		return nil
	}); err != nil {
		return err
	}
	now := time.Now()
	for _, id := range ids {
		j, err := getJob(tx, id)
		if err != nil || j.ID != id || !j.Leased {
			// Gone, no longer leased (an earlier version wrote it) or
			// damaged (Lease parks it when its due entry comes up, and
			// store check lists it): nothing to hand back.
			if err := lb.Delete([]byte(id)); err != nil {
				return err
			}
			continue
		}
		j.Leased, j.Retaken = false, true // its holder died: it may have made the call
		if err := schedule(tx, &j, now); err != nil {
			return err
		}
	}
	return nil
}

// indexLeases fills the leased index once, for a file written before it.
// A lease matters to the open only while it runs (a job whose lease has
// ended is due, and a worker takes it like any other), and a running lease
// is a due entry after now: so it reads the due index from now on and the
// jobs it names (the future: leases, retries waiting out a backoff, polls),
// not every job.
func indexLeases(tx *bolt.Tx) error {
	var ids []string
	c := tx.Bucket(bucketDue).Cursor()
	for k, _ := c.Seek(dueKey(time.Now(), "")); k != nil; k, _ = c.Next() {
		if len(k) > 8 {
			ids = append(ids, string(k[8:]))
		}
	}
	lb := tx.Bucket(bucketLeased)
	for _, id := range ids {
		j, err := getJob(tx, id)
		if err != nil || j.ID != id || !j.Leased {
			continue // a damaged record: Lease parks it, store check lists it
		}
		if err := lb.Put([]byte(id), nil); err != nil {
			return err
		}
	}
	return nil
}

// commit runs fn in a write transaction and returns once that is
// committed and fsynced, or with fn's error (nothing of fn written).
// Every write of the store goes through it: concurrent calls share one
// transaction and one fsync (group commit, bolt_commit.go).
//
// So fn may run more than once, and a run may be rolled back after fn
// returned nil (another function of its transaction failed). fn
//   - may read and write in tx; each run starts from committed data (and
//     the writes of the functions committed with it, ahead of it);
//   - must set every result it hands out of the transaction afresh on
//     each run (reset at its start), never add to one of a previous run;
//   - must leave anything outside tx (the record cache, metrics, logs,
//     wake-ups, the caller's state) as it was, or change it only in a way
//     that is harmless if repeated or rolled back: a cache entry made
//     only on commit (tx.OnCommit), a key in the key store that is added
//     once and then found again (appkeys.go: a key without a record seals
//     nothing). Whatever must happen once, after the write, the caller
//     does when commit returned nil;
//   - must not call commit itself, nor wait for another caller of commit
//     (its transaction may be the one that caller waits for).
//
// A write that arrives while no other runs is committed at once, in the
// caller's goroutine (no delay is added), which readSafely at open relies
// on (a memory fault is a panic only in its own goroutine).
func (b *Bolt) commit(fn func(tx *bolt.Tx) error) error { return b.group.commit(fn) }

func (b *Bolt) Close() error {
	err := b.db.Close()
	if b.keyStore != nil {
		err = errors.Join(err, b.keyStore.close())
	}
	return err
}

func (b *Bolt) Ping(context.Context) error {
	return b.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketApps) == nil {
			return errors.New("store not initialised")
		}
		return nil
	})
}

func (b *Bolt) Create(ctx context.Context, app *contracts.Application, keys []string, jobs []Job) (string, error) {
	// The application's own data key is made before its transaction, not
	// in it: concurrent submissions then share the key store's fsync as
	// well, and the transaction does not wait for it. Not for a repeat
	// (its keys taken): it would leave a key no record uses.
	if !b.taken(keys) {
		if err := b.codec.makeKey(ctx, app); err != nil {
			return "", err
		}
	}
	var existing string
	err := b.commit(func(tx *bolt.Tx) error {
		existing = ""
		kb := tx.Bucket(bucketKeys)
		for _, k := range keys {
			if v := kb.Get([]byte(k)); v != nil {
				existing = string(v)
				return ErrDuplicate
			}
		}
		if tx.Bucket(bucketApps).Get([]byte(app.ID)) != nil {
			return fmt.Errorf("application %s exists", app.ID)
		}
		for _, k := range keys {
			if err := kb.Put([]byte(k), []byte(app.ID)); err != nil {
				return err
			}
		}
		if err := b.putApp(tx, app, "", nil, nil); err != nil {
			return err
		}
		return enqueue(tx, jobs)
	})
	if errors.Is(err, ErrDuplicate) {
		return existing, ErrDuplicate
	}
	return app.ID, err
}

// appendFill is the fill of a bucket's pages where keys come in order
// (bbolt's default, half, suits keys that come in any order).
const appendFill = 0.9

// taken reports whether one of the dedupe keys is stored.
func (b *Bolt) taken(keys []string) bool {
	found := false
	b.db.View(func(tx *bolt.Tx) error {
		kb := tx.Bucket(bucketKeys)
		for _, k := range keys {
			if kb.Get([]byte(k)) != nil {
				found = true
				break
			}
		}
		return nil
	})
	return found
}

// putApp writes an application through the codec over the record old
// (nil: none) and moves its blind index entry from oldIdx (what the
// stored record had) to the new one.
func (b *Bolt) putApp(tx *bolt.Tx, app *contracts.Application, oldIdx string, oldLists []listEntry, old *prior) error {
	e, err := b.encodeApp(app, old)
	if err != nil {
		return err
	}
	return b.writeApp(tx, e, oldIdx, oldLists)
}

// encodedApp is an application encoded for a write over a record: what
// writeApp puts in the transaction.
type encodedApp struct {
	app      *contracts.Application
	w        recordWrite
	idx      string // the blind index the new record carries
	pr       *prior // what a later read of w.head is (nil: not cached)
	remember func() // tells the cache, once committed
}

// encodeApp encodes app for a write over the record old (nil: none).
func (b *Bolt) encodeApp(app *contracts.Application, old *prior) (encodedApp, error) {
	w, idx, pr, remember, err := b.codec.encodePartsUncommitted(app, old)
	return encodedApp{app: app, w: w, idx: idx, pr: pr, remember: remember}, err
}

// writeApp writes an encoded application and moves its blind index entry
// from oldIdx and its list entries from oldLists (what the stored record
// had).
func (b *Bolt) writeApp(tx *bolt.Tx, e encodedApp, oldIdx string, oldLists []listEntry) error {
	app, w, idx := e.app, e.w, e.idx
	tx.OnCommit(e.remember) // not before: the transaction may be rolled back
	b.written.note(tx, app.ID, w.head, e.pr, idx)
	var err error
	if idx != oldIdx {
		ib := tx.Bucket(bucketIdx)
		if oldIdx != "" {
			if err := ib.Delete(idxKey(oldIdx, app.ID)); err != nil {
				return err
			}
		}
		if idx != "" {
			if err := ib.Put(idxKey(idx, app.ID), nil); err != nil {
				return err
			}
		}
	}
	// bbolt rewrites a page that a Put touched even when the value is the
	// same (and its branch pages, up to the root): most writes leave an
	// application open, so the open index is written only when it changes.
	// (A Delete of a missing key touches nothing.)
	if ob := tx.Bucket(bucketOpen); open(app) {
		if ob.Get([]byte(app.ID)) == nil {
			err = ob.Put([]byte(app.ID), nil)
		}
	} else {
		err = ob.Delete([]byte(app.ID))
	}
	if err != nil {
		return err
	}
	if err := writeLists(tx, oldLists, listEntries(app)); err != nil {
		return err
	}
	if err := writeParts(tx, app.ID, w); err != nil {
		return err
	}
	ab := tx.Bucket(bucketApps)
	if isTrace(w.head) {
		// A trace replaces a record of several pages by one of a few
		// hundred bytes, and bbolt merges a page that has become small
		// only after a delete from it: without one, every trace kept a
		// page of its own (about 3.5 KB each in the retention bench).
		// The sweep erases neighbours (the ids of one day), whose traces
		// then share pages, filled as the audit log's.
		if err := ab.Delete([]byte(app.ID)); err != nil {
			return err
		}
		ab.FillPercent = appendFill
	}
	return ab.Put([]byte(app.ID), w.head)
}

// writeParts writes what w changes in the record's parts (parts.go).
func writeParts(tx *bolt.Tx, id string, w recordWrite) error {
	pb, tb := tx.Bucket(bucketPersonal), tx.Bucket(bucketTimeline)
	if w.dropParts {
		if err := pb.Delete([]byte(id)); err != nil {
			return err
		}
		return deleteTimeline(tb, id)
	}
	if w.per != nil {
		if err := pb.Put([]byte(id), w.per); err != nil {
			return err
		}
	}
	for i, e := range w.tl {
		if err := tb.Put(timelineKey(id, w.tlFrom+i), e); err != nil {
			return err
		}
	}
	for i := w.tlCount; i < w.tlOld; i++ {
		if err := tb.Delete(timelineKey(id, i)); err != nil {
			return err
		}
	}
	return nil
}

// deleteTimeline deletes every timeline entry of id.
func deleteTimeline(tb *bolt.Bucket, id string) error {
	prefix := timelinePrefix(id)
	c := tb.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

func timelinePrefix(id string) []byte { return append([]byte(id), 0) }

func timelineKey(id string, i int) []byte {
	return binary.BigEndian.AppendUint32(timelinePrefix(id), uint32(i))
}

func idxKey(idx, appID string) []byte { return []byte(idx + "\x00" + appID) }

// partsHead starts the head of a record in parts.
var partsHead = []byte(`{"v":4,`)

// partsOf is the record whose head (the apps bucket's value) is head:
// with its parts when it is in parts. The bytes are the transaction's.
func partsOf(tx *bolt.Tx, id string, head []byte) stored {
	s := stored{head: head}
	if !bytes.HasPrefix(head, partsHead) {
		return s
	}
	if pb := tx.Bucket(bucketPersonal); pb != nil {
		s.per = pb.Get([]byte(id))
	}
	tb := tx.Bucket(bucketTimeline)
	if tb == nil {
		return s
	}
	prefix := timelinePrefix(id)
	c := tb.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if len(k) != len(prefix)+4 {
			continue
		}
		i := int(binary.BigEndian.Uint32(k[len(prefix):]))
		if i > len(s.tl) && i > 1<<16 {
			break // not an index the gateway writes
		}
		for len(s.tl) <= i {
			s.tl = append(s.tl, nil)
		}
		s.tl[i] = v
	}
	return s
}

// getApp reads an application, the blind index its record carries and
// what a write over it needs (prior).
func (b *Bolt) getApp(tx *bolt.Tx, id string) (*contracts.Application, string, *prior, error) {
	v, per := headAndPersonal(tx, id)
	if v == nil {
		return nil, "", nil, ErrNotFound
	}
	if pr, idx, ok := b.codec.cached(id, v, per); ok {
		return pr.app.Clone(), idx, pr, nil
	}
	if tx.Writable() {
		// What a write transaction reads may be another function's
		// uncommitted write (group commit): the cache is not told of it,
		// but the transaction knows what it wrote.
		if pr, idx, ok := b.written.get(tx, id, v, per); ok {
			return pr.app.Clone(), idx, pr, nil
		}
		return b.codec.decodePartsUncommitted(id, partsOf(tx, id, v))
	}
	return b.codec.decodeParts(id, partsOf(tx, id, v))
}

func (b *Bolt) Get(_ context.Context, id string) (*contracts.Application, error) {
	var app *contracts.Application
	err := b.db.View(func(tx *bolt.Tx) error {
		var err error
		app, _, _, err = b.getApp(tx, id)
		return err
	})
	b.notes.note(b, err)
	return app, err
}

func (b *Bolt) FindByIDNumber(ctx context.Context, idNumber string) ([]string, error) {
	var ids []string
	err := b.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketIdx).Cursor()
		for _, idx := range b.codec.indexes(idNumber) {
			prefix := []byte(idx + "\x00")
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				ids = append(ids, string(k[len(prefix):]))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return findVerified(ctx, b.Get, NormalizeIDNumber(idNumber), sortedUnique(ids))
}

func sortedUnique(ids []string) []string {
	sort.Strings(ids)
	out := ids[:0]
	for i, id := range ids {
		if i == 0 || id != ids[i-1] {
			out = append(out, id)
		}
	}
	return out
}

// Reseal seals again, in batches of one transaction each, the records
// that are plain, sealed under the keyring (version 2) or indexed with an
// older key, then rewraps the applications' own keys (codec.finishReseal).
//
// It runs at every start, beside the serving gateway, so it reads the
// applications resealChunk at a time, each chunk its own read transaction,
// and rewrites that chunk's stale records before reading on: a read
// transaction over the whole file would hold bbolt's remap lock for the
// whole walk (a write that grows the file, and every read queued behind
// it, /readyz's included, would wait for its end), and a stop ends the
// walk between two chunks instead of after it.
func (b *Bolt) Reseal(ctx context.Context) (ResealStats, error) {
	var st ResealStats
	if b.codec.keys == nil {
		return st, nil
	}
	var after []byte // the last key read; nil: from the first
	for {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		var stale []string
		n := 0
		err := b.db.View(func(tx *bolt.Tx) error {
			c := tx.Bucket(bucketApps).Cursor()
			k, v := c.First()
			if after != nil {
				k, v = c.Seek(after)
				if bytes.Equal(k, after) {
					k, v = c.Next()
				}
			}
			for ; k != nil && n < resealChunk; k, v = c.Next() {
				n++
				if b.codec.stale(v) {
					stale = append(stale, string(k))
				}
				after = append(after[:0], k...)
			}
			return nil
		})
		if err != nil {
			return st, err
		}
		st.Scanned += n
		if err := b.resealBatch(ctx, stale, &st); err != nil {
			return st, err
		}
		if n < resealChunk {
			break
		}
	}
	return b.codec.finishReseal(ctx, b, st)
}

// resealChunk is how many applications one read transaction of the
// reseal looks at.
const resealChunk = 1000

// resealBatch writes the stale applications again, 200 to a transaction.
func (b *Bolt) resealBatch(ctx context.Context, stale []string, st *ResealStats) error {
	const batch = 200
	for len(stale) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(batch, len(stale))
		var bad []error
		done := 0
		err := b.commit(func(tx *bolt.Tx) error {
			bad, done = bad[:0], 0
			for _, id := range stale[:n] {
				app, idx, pr, err := b.getApp(tx, id)
				if errors.Is(err, ErrUnreadable) {
					bad = append(bad, err) // listed for operators; resealing cannot help
					continue
				}
				if errors.Is(err, ErrNotFound) {
					continue // erased or gone since it was read
				}
				if err != nil {
					return err
				}
				if err := b.putApp(tx, app, idx, listEntries(app), pr); err != nil {
					return err
				}
				done++
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("reseal: %w", err)
		}
		for _, e := range bad {
			b.notes.note(b, e)
		}
		st.Resealed += done
		st.Unreadable += len(bad)
		stale = stale[n:]
	}
	return nil
}

func (b *Bolt) Lookup(_ context.Context, key string) (string, error) {
	var id string
	err := b.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketKeys).Get([]byte(key))
		if v == nil {
			return ErrNotFound
		}
		id = string(v)
		return nil
	})
	return id, err
}

func (b *Bolt) Update(_ context.Context, id, onceKey string, fn UpdateFunc) error {
	return b.update(id, onceKey, nil, fn)
}

// UpdateAck is Update that also acks job in the same transaction.
func (b *Bolt) UpdateAck(_ context.Context, id string, job Job, fn UpdateFunc) error {
	return b.update(id, "", &job, fn)
}

func (b *Bolt) update(id, onceKey string, ack *Job, fn UpdateFunc) error {
	deliver := func(app *contracts.Application) (Outcome, error) {
		jobs, err := fn(app)
		return Outcome{Jobs: jobs}, err
	}
	p := b.prepare(id, onceKey, Delivery{}, deliver)
	defer b.inflight.done(id, p)
	err := b.commit(func(tx *bolt.Tx) error {
		if onceKey != "" && tx.Bucket(bucketKeys).Get([]byte(onceKey)) != nil {
			return ErrAlreadyApplied
		}
		u, err := b.prepared(tx, &p, id, Delivery{}, deliver)
		if err != nil {
			return err
		}
		if onceKey != "" {
			if err := tx.Bucket(bucketKeys).Put([]byte(onceKey), []byte(id)); err != nil {
				return err
			}
		}
		if err := b.writeApp(tx, u.enc, u.oldIdx, u.lists); err != nil {
			return err
		}
		if ack != nil {
			// Before the new jobs: one queued again under the acked id
			// is work still to do.
			if err := ackJob(tx, ack.ID); err != nil {
				return err
			}
		}
		return enqueue(tx, u.jobs)
	})
	b.notes.note(b, err)
	return err
}

// preparedUpdate is an update worked out before its transaction: fn run
// on the committed record and its result encoded. bbolt has one writer,
// and group commit runs the functions of a transaction one after another
// on it: decoding, fn, sealing and encoding there kept the other core
// idle while the department callbacks queued for the writer
// (docs/PROFILING.md). Worked out before, the transaction only checks that
// the record is still the one it was made from and puts the bytes, as
// Redis's optimistic update does; when another write came first (the
// callbacks of one application often arrive together) it is worked out
// again in the transaction, as before. UpdateFunc and DeliverFunc may run
// more than once, and the last run is the one written.
type preparedUpdate struct {
	base   *prior // the record it was made from, as the cache holds it
	oldIdx string
	lists  []listEntry
	jobs   []Job
	enc    encodedApp
	// A delivery's reply, and its record for each of the delivery's keys.
	reply   Reply
	record  []byte // nil without keys
	refused bool   // only the records are written
}

// prepare works out fn's update over the committed record id, or returns
// nil: the delivery d or onceKey is recorded (fn is not run), the record
// is not in the cache (decoding it here and again in the transaction
// would cost more than it saves), or fn refused (the transaction runs it
// again and returns its error on the record it reads).
func (b *Bolt) prepare(id, onceKey string, d Delivery, fn DeliverFunc) *preparedUpdate {
	if b.noPrepare {
		return nil
	}
	var base *prior
	var idx string
	b.db.View(func(tx *bolt.Tx) error {
		kb := tx.Bucket(bucketKeys)
		for _, k := range d.Keys {
			if kb.Get([]byte(replyKey(k))) != nil {
				return nil
			}
		}
		for _, k := range d.Taken {
			if kb.Get([]byte(k)) != nil {
				return nil
			}
		}
		if onceKey != "" && kb.Get([]byte(onceKey)) != nil {
			return nil // applied: fn is not run
		}
		if f := b.inflight.latest(id); f != nil {
			// Another update of id is on its way to the writer: build
			// on its result (inFlight).
			base, idx = f.enc.pr, f.enc.idx
			return nil
		}
		head, per := headAndPersonal(tx, id)
		if head != nil {
			if pr, i, ok := b.codec.cached(id, head, per); ok {
				base, idx = pr, i
			}
		}
		return nil
	})
	if base == nil || base.app == nil {
		return nil
	}
	u, err := b.work(base.app.Clone(), idx, base, d, fn)
	if err != nil {
		return nil
	}
	u.base = base
	if !u.refused && u.enc.pr != nil {
		b.inflight.start(id, u)
	}
	return u
}

// prepared is the update the transaction writes: *p when the record is
// still the one it was worked out from, else worked out on the record tx
// reads (and *p dropped, so that a run of the transaction again after a
// rollback does not take a result older than fn's last run).
func (b *Bolt) prepared(tx *bolt.Tx, p **preparedUpdate, id string, d Delivery, fn DeliverFunc) (*preparedUpdate, error) {
	if *p != nil && b.stillHolds(tx, id, (*p).base) {
		return *p, nil
	}
	*p = nil
	app, idx, pr, err := b.getApp(tx, id)
	if err != nil {
		return nil, err
	}
	return b.work(app, idx, pr, d, fn)
}

// work runs fn on app, read as the record pr with the blind index idx,
// and makes what its transaction writes: the delivery's records and,
// unless fn refused, the application encoded.
func (b *Bolt) work(app *contracts.Application, idx string, pr *prior, d Delivery, fn DeliverFunc) (*preparedUpdate, error) {
	u := &preparedUpdate{oldIdx: idx, lists: listEntries(app)} // before fn changes it
	out, err := fn(app)
	if err != nil {
		return nil, err
	}
	u.jobs, u.reply, u.refused = out.Jobs, out.Reply, out.Refused
	if len(d.Keys) > 0 {
		// One record, sealed once, under each of the delivery's keys
		// (as the Redis backend writes it).
		if u.record, err = b.codec.record(d.Fingerprint, out.Reply, time.Now()); err != nil {
			return nil, err
		}
	}
	if out.Refused {
		return u, nil
	}
	if u.enc, err = b.encodeApp(app, pr); err != nil {
		return nil, err
	}
	return u, nil
}

// stillHolds reports whether tx reads the record id as base: the cache's
// entry for what tx holds is base itself, or what tx wrote of id earlier
// is (base being that write's result: inFlight). Anything else written
// since base was made is a miss.
func (b *Bolt) stillHolds(tx *bolt.Tx, id string, base *prior) bool {
	head, per := headAndPersonal(tx, id)
	if head == nil {
		return false
	}
	if pr, _, ok := b.codec.cached(id, head, per); ok {
		return pr == base
	}
	// Written earlier in this transaction: base may be that write's
	// result (an update built on one in flight).
	pr, _, ok := b.written.get(tx, id, head, per)
	return ok && pr == base
}

// headAndPersonal are the stored head of id (nil: none) and its sealed
// personal part when the record is in parts.
func headAndPersonal(tx *bolt.Tx, id string) (head, per []byte) {
	head = tx.Bucket(bucketApps).Get([]byte(id))
	if head == nil {
		return nil, nil
	}
	if pb := tx.Bucket(bucketPersonal); pb != nil && bytes.HasPrefix(head, partsHead) {
		per = pb.Get([]byte(id))
	}
	return head, per
}

// Deliver is Update for a signed delivery: the delivery's records are
// checked and written in the update's transaction.
func (b *Bolt) Deliver(_ context.Context, id, onceKey string, d Delivery, fn DeliverFunc) (Reply, error) {
	p := b.prepare(id, onceKey, d, fn)
	defer b.inflight.done(id, p)
	var reply Reply
	var answered bool // from a record, the delivery's other keys now recorded
	err := b.commit(func(tx *bolt.Tx) error {
		reply, answered = Reply{}, false
		kb := tx.Bucket(bucketKeys)
		rec, missing, err := recordedDelivery(kb, d)
		if err != nil {
			return err
		}
		if rec != nil {
			if reply, err = b.codec.openReply(rec.Fingerprint, rec.Reply); err != nil {
				return err
			}
			if len(missing) == 0 {
				return ErrAlreadyApplied
			}
			// The same request under a key not recorded yet (an event
			// sent again under a new webhook-id): that key is taken by it
			// from now on, as if it had come with it the first time.
			again, err := json.Marshal(deliveryRecord{Fingerprint: rec.Fingerprint, Reply: rec.Reply, At: time.Now().UnixMilli()})
			if err != nil {
				return err
			}
			for _, k := range missing {
				if err := kb.Put(k, again); err != nil {
					return err
				}
			}
			answered = true
			return nil
		}
		for _, k := range d.Taken {
			if kb.Get([]byte(k)) != nil {
				return ErrReplayed
			}
		}
		if onceKey != "" && kb.Get([]byte(onceKey)) != nil {
			return ErrAlreadyApplied
		}
		u, err := b.prepared(tx, &p, id, d, fn)
		if err != nil {
			return err
		}
		reply = u.reply
		for _, k := range d.Keys {
			if err := kb.Put([]byte(replyKey(k)), u.record); err != nil {
				return err
			}
		}
		if u.refused {
			return nil
		}
		if onceKey != "" {
			if err := kb.Put([]byte(onceKey), []byte(id)); err != nil {
				return err
			}
		}
		if err := b.writeApp(tx, u.enc, u.oldIdx, u.lists); err != nil {
			return err
		}
		return enqueue(tx, u.jobs)
	})
	b.notes.note(b, err)
	if err == nil && answered {
		err = ErrAlreadyApplied
	}
	if err != nil && !errors.Is(err, ErrAlreadyApplied) {
		return Reply{}, err
	}
	return reply, err
}

// recordedDelivery finds the record of the delivery d under its keys: nil
// when none has one, ErrReplayed when one is recorded for another request.
// missing are the keys (as stored) without a record.
func recordedDelivery(kb *bolt.Bucket, d Delivery) (*deliveryRecord, [][]byte, error) {
	var found *deliveryRecord
	var missing [][]byte
	for _, k := range d.Keys {
		rk := []byte(replyKey(k))
		v := kb.Get(rk)
		if v == nil {
			missing = append(missing, rk)
			continue
		}
		var rec deliveryRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return nil, nil, fmt.Errorf("delivery record: %w", err)
		}
		if rec.Fingerprint != d.Fingerprint {
			return nil, nil, ErrReplayed
		}
		if found == nil {
			found = &rec
		}
	}
	return found, missing, nil
}

func dueKey(at time.Time, id string) []byte {
	k := make([]byte, 8, 8+len(id))
	binary.BigEndian.PutUint64(k, uint64(at.UnixNano()))
	return append(k, id...)
}

// schedule (re)places a job in the due index at the given time.
func schedule(tx *bolt.Tx, j *Job, at time.Time) error {
	due := tx.Bucket(bucketDue)
	if !j.Due.IsZero() {
		if err := due.Delete(dueKey(j.Due, j.ID)); err != nil {
			return err
		}
	}
	j.Due = at
	if err := due.Put(dueKey(at, j.ID), nil); err != nil {
		return err
	}
	if err := markLeased(tx, j.ID, j.Leased); err != nil {
		return err
	}
	data, err := marshalJSON(j)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketJobs).Put([]byte(j.ID), data)
}

// markLeased keeps the leased index in step with a job's lease.
func markLeased(tx *bolt.Tx, id string, leased bool) error {
	lb := tx.Bucket(bucketLeased)
	if leased {
		return lb.Put([]byte(id), nil)
	}
	return lb.Delete([]byte(id))
}

func enqueue(tx *bolt.Tx, jobs []Job) error {
	jb := tx.Bucket(bucketJobs)
	for _, j := range jobs {
		if j.Replaces != "" {
			// The replaced job goes only while it waits: a leased one is
			// a worker's.
			old, err := getJob(tx, j.Replaces)
			if err == nil && !old.Leased {
				if err := tx.Bucket(bucketDue).Delete(dueKey(old.Due, old.ID)); err != nil {
					return err
				}
				if err := jb.Delete([]byte(old.ID)); err != nil {
					return err
				}
			} else if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		if jb.Get([]byte(j.ID)) != nil {
			continue
		}
		j.Due, j.Leased = time.Time{}, false
		if err := schedule(tx, &j, j.NotBefore); err != nil {
			return err
		}
	}
	return nil
}

func (b *Bolt) Enqueue(_ context.Context, jobs ...Job) error {
	return b.commit(func(tx *bolt.Tx) error { return enqueue(tx, jobs) })
}

func (b *Bolt) Lease(_ context.Context, now time.Time, n int, d time.Duration) ([]Job, error) {
	if n <= 0 || !b.anyDue(now) {
		// Nothing to lease: no write transaction. Every job a worker
		// finishes wakes it to lease again, and a write transaction with
		// nothing in it still took the writer and an fsync.
		return nil, nil
	}
	var out []Job
	err := b.commit(func(tx *bolt.Tx) error {
		out = out[:0]
		limit := dueKey(now, "")
		c := tx.Bucket(bucketDue).Cursor()
		var keys [][]byte
		for k, _ := c.First(); k != nil && len(keys) < n && bytes.Compare(k[:8], limit[:8]) <= 0; k, _ = c.Next() {
			keys = append(keys, bytes.Clone(k))
		}
		for _, k := range keys {
			id := string(k[8:])
			j, err := getJob(tx, id)
			if err != nil || j.ID != id {
				q, err := quarantineJob(tx, k, j, err)
				if err != nil {
					return err
				}
				out = append(out, q)
				continue
			}
			if j.Leased {
				j.Retaken = true // its lease ended unacked: its holder may have made the call
			}
			j.Leased = true
			if err := schedule(tx, &j, now.Add(d)); err != nil {
				return err
			}
			out = append(out, j)
		}
		return nil
	})
	return out, err
}

// quarantineJob takes a job whose record is damaged out of the queue:
// the record does not decode (bad), its id is not the key it is stored
// under, or the due index names a job that is not stored. Workers could
// neither run, defer nor ack such a job (it used to be leased again and
// again, hundreds of times a second), so it is parked as a dead letter
// under its key, the damaged record kept in its LastError for the
// operators (GET /v1/admin/dead-letters; store check lists it too).
// The job returned carries Quarantined, for the worker to report.
func quarantineJob(tx *bolt.Tx, dueEntry []byte, j Job, bad error) (Job, error) {
	id := string(dueEntry[8:])
	jb, due := tx.Bucket(bucketJobs), tx.Bucket(bucketDue)
	// The due entry that named the job goes (and below the one its record
	// names, if another).
	if err := due.Delete(dueEntry); err != nil {
		return j, err
	}
	raw := bytes.Clone(jb.Get([]byte(id)))
	if raw == nil {
		if errors.Is(bad, ErrNotFound) {
			bad = nil
		}
		j = Job{ID: id, Quarantined: "the due index names job " + id + ", which is not stored: nothing to run; the index entry was removed"}
		return j, nil
	}
	var why string
	switch {
	case bad != nil:
		why = fmt.Sprintf("the stored job record does not decode (%v)", bad)
		j = jobFromID(id)
	default:
		why = fmt.Sprintf("the stored job record names id %q but is stored as %q", j.ID, id)
		if !j.Due.IsZero() && j.ID != "" {
			if err := due.Delete(dueKey(j.Due, j.ID)); err != nil {
				return j, err
			}
		}
	}
	rec := string(raw)
	if len(rec) > 4096 {
		rec = rec[:4096] + "…"
	}
	j.ID, j.Leased, j.Due = id, false, time.Time{}
	j.LastError = "quarantined: " + why + "; the record as stored: " + rec
	j.Quarantined = why
	data, err := marshalJSON(j)
	if err != nil {
		return j, err
	}
	if err := jb.Delete([]byte(id)); err != nil {
		return j, err
	}
	if err := markLeased(tx, id, false); err != nil {
		return j, err
	}
	return j, tx.Bucket(bucketDead).Put([]byte(id), data)
}

// jobFromID is what a job's id says of it (kind, task, application),
// for a job whose record does not decode.
func jobFromID(id string) Job {
	j := Job{ID: id}
	kind, rest, _ := strings.Cut(id, ":")
	j.Kind = kind
	switch kind {
	case JobPush:
		if i := strings.LastIndexByte(rest, ':'); i > 0 {
			j.AppID = rest[:i]
		}
	case JobDispatch, JobResume, JobCancel, JobPoll:
		task, _, _ := strings.Cut(rest, ":")
		j.TaskID = task
		if i := strings.LastIndexByte(task, '-'); i > 0 {
			j.AppID = task[:i]
		}
	}
	return j
}

func getJob(tx *bolt.Tx, id string) (Job, error) {
	var j Job
	v := tx.Bucket(bucketJobs).Get([]byte(id))
	if v == nil {
		return j, ErrNotFound
	}
	err := unmarshalJSON(v, &j)
	return j, err
}

func (b *Bolt) Ack(_ context.Context, job Job) error {
	return b.commit(func(tx *bolt.Tx) error { return ackJob(tx, job.ID) })
}

// anyDue reports whether a job is due at now, as the committed queue
// says (a job queued since is found at the next lease, as it would be if
// it had been queued just after a lease).
func (b *Bolt) anyDue(now time.Time) bool {
	limit := dueKey(now, "")
	due := false
	b.db.View(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bucketDue).Cursor().First()
		due = k != nil && bytes.Compare(k[:8], limit[:8]) <= 0
		return nil
	})
	return due
}

func ackJob(tx *bolt.Tx, id string) error {
	cur, err := getJob(tx, id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := tx.Bucket(bucketDue).Delete(dueKey(cur.Due, cur.ID)); err != nil {
		return err
	}
	if err := markLeased(tx, id, false); err != nil {
		return err
	}
	return tx.Bucket(bucketJobs).Delete([]byte(id))
}

func (b *Bolt) Retry(_ context.Context, job Job, at time.Time) error {
	return b.commit(func(tx *bolt.Tx) error {
		cur, err := getJob(tx, job.ID)
		if err != nil {
			return err
		}
		cur.Leased = false
		cur.Attempt = job.Attempt
		cur.LastError = job.LastError
		cur.Retaken = cur.Retaken || job.Retaken
		return schedule(tx, &cur, at)
	})
}

func (b *Bolt) QueueStats(context.Context) (QueueStats, error) {
	var s QueueStats
	err := b.db.View(func(tx *bolt.Tx) error {
		s.Jobs = tx.Bucket(bucketJobs).Stats().KeyN
		err := tx.Bucket(bucketJobs).ForEach(func(_, v []byte) error {
			// Only the two fields the figures need are decoded (a scrape
			// reads every job; the rest of each is skipped).
			var j struct {
				Leased bool      `json:"leased"`
				Due    time.Time `json:"due"`
			}
			if err := unmarshalJSON(v, &j); err != nil {
				return nil // damaged: Lease quarantines it when it is due
			}
			if j.Leased {
				s.Leased++
			} else if s.OldestDue.IsZero() || j.Due.Before(s.OldestDue) {
				s.OldestDue = j.Due
			}
			return nil
		})
		return err
	})
	return s, err
}

func (b *Bolt) Park(_ context.Context, job Job) error {
	return b.commit(func(tx *bolt.Tx) error {
		if cur, err := getJob(tx, job.ID); err == nil {
			if err := tx.Bucket(bucketDue).Delete(dueKey(cur.Due, cur.ID)); err != nil {
				return err
			}
			if err := tx.Bucket(bucketJobs).Delete([]byte(job.ID)); err != nil {
				return err
			}
		}
		if err := markLeased(tx, job.ID, false); err != nil {
			return err
		}
		job.Leased, job.Due = false, time.Time{}
		data, err := marshalJSON(job)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketDead).Put([]byte(job.ID), data)
	})
}

func (b *Bolt) Parked(context.Context) ([]Job, error) {
	var out []Job
	err := b.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDead).ForEach(func(_, v []byte) error {
			var j Job
			if err := unmarshalJSON(v, &j); err != nil {
				return err
			}
			out = append(out, j)
			return nil
		})
	})
	return out, err
}

func (b *Bolt) Unpark(_ context.Context, id string) error {
	return b.commit(func(tx *bolt.Tx) error { return tx.Bucket(bucketDead).Delete([]byte(id)) })
}

// AppendAudit appends an entry under the next sequence number. Its time is
// the store's clock, never before the previous entry's, so the log is in
// time order and a time range can stop early.
func (b *Bolt) AppendAudit(_ context.Context, e contracts.AuditEntry) (contracts.AuditEntry, error) {
	err := b.commit(func(tx *bolt.Tx) error {
		ab := tx.Bucket(bucketAudit)
		// Entries are only appended (keys in order): pages split at 90 %
		// instead of bbolt's half keep the log at nearly its size.
		ab.FillPercent = appendFill
		at := time.Now().UTC().Truncate(time.Millisecond)
		if k, v := ab.Cursor().Last(); k != nil {
			last, err := decodeAudit("", v)
			if err != nil {
				return err
			}
			if at.Before(last.At) {
				at = last.At
			}
		}
		seq, err := ab.NextSequence()
		if err != nil {
			return err
		}
		e.ID, e.At = auditID(seq), at
		data, err := encodeAudit(e)
		if err != nil {
			return err
		}
		return ab.Put(auditKey(seq), data)
	})
	if err != nil {
		return contracts.AuditEntry{}, fmt.Errorf("append audit entry: %w", err)
	}
	return e, nil
}

func auditKey(seq uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, seq)
	return k
}

// auditID is the entry's id: its sequence number, 20 digits, so ids sort
// in log order.
func auditID(seq uint64) string { return fmt.Sprintf("%020d", seq) }

func (b *Bolt) Audit(_ context.Context, q AuditQuery) ([]contracts.AuditEntry, string, error) {
	var start []byte // newest entry to consider; nil: the last
	if q.Cursor != "" {
		seq, err := strconv.ParseUint(q.Cursor, 10, 64)
		if err != nil || len(q.Cursor) != 20 || seq == 0 {
			return nil, "", ErrBadCursor
		}
		start = auditKey(seq - 1)
	}
	limit := q.limit()
	var out []contracts.AuditEntry
	more := false
	err := b.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketAudit).Cursor()
		var k, v []byte
		if start == nil {
			k, v = c.Last()
		} else {
			// The greatest key not after start.
			if k, v = c.Seek(start); k == nil {
				k, v = c.Last()
			} else if bytes.Compare(k, start) > 0 {
				k, v = c.Prev()
			}
		}
		for ; k != nil; k, v = c.Prev() {
			e, err := decodeAudit(auditID(binary.BigEndian.Uint64(k)), v)
			if err != nil {
				return err
			}
			if !q.To.IsZero() && e.At.After(q.To) {
				continue
			}
			if !q.From.IsZero() && e.At.Before(q.From) {
				break // times never decrease along the log
			}
			if !q.matches(&e) {
				continue
			}
			if len(out) == limit {
				more = true
				break
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if more {
		next = out[len(out)-1].ID
	}
	return out, next, nil
}

func (b *Bolt) meta(context.Context) (map[string]string, error) {
	out := map[string]string{}
	err := b.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).ForEach(func(k, v []byte) error {
			out[string(k)] = string(v)
			return nil
		})
	})
	return out, err
}

func (b *Bolt) putMeta(_ context.Context, name, value string) (string, error) {
	var got string
	err := b.commit(func(tx *bolt.Tx) error {
		got = value
		mb := tx.Bucket(bucketMeta)
		if v := mb.Get([]byte(name)); v != nil {
			got = string(v)
			return nil
		}
		return mb.Put([]byte(name), []byte(value))
	})
	return got, err
}

func (b *Bolt) delMeta(_ context.Context, name string) error {
	return b.commit(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete([]byte(name)) })
}

// The list of unreadable records (unreadable.go).

func (b *Bolt) putUnreadable(_ context.Context, rec contracts.UnreadableRecord) error {
	return b.commit(func(tx *bolt.Tx) error {
		ub, err := tx.CreateBucketIfNotExists(bucketUnreadable)
		if err != nil {
			return err
		}
		put := rec
		if v := ub.Get([]byte(rec.ApplicationID)); v != nil {
			var old contracts.UnreadableRecord
			if unmarshalJSON(v, &old) == nil {
				put = merge(old, rec)
			}
		} else if ub.Stats().KeyN >= maxUnreadable {
			return nil
		}
		data, err := marshalJSON(put)
		if err != nil {
			return err
		}
		return ub.Put([]byte(rec.ApplicationID), data)
	})
}

func (b *Bolt) allUnreadable(context.Context) ([]contracts.UnreadableRecord, error) {
	var out []contracts.UnreadableRecord
	err := b.db.View(func(tx *bolt.Tx) error {
		ub := tx.Bucket(bucketUnreadable)
		if ub == nil {
			return nil
		}
		return ub.ForEach(func(k, v []byte) error {
			var rec contracts.UnreadableRecord
			if unmarshalJSON(v, &rec) != nil {
				rec = contracts.UnreadableRecord{Reason: ReasonMalformed}
			}
			rec.ApplicationID = string(k)
			out = append(out, rec)
			return nil
		})
	})
	return out, err
}

func (b *Bolt) delUnreadable(_ context.Context, id string) error {
	return b.commit(func(tx *bolt.Tx) error {
		if ub := tx.Bucket(bucketUnreadable); ub != nil {
			return ub.Delete([]byte(id))
		}
		return nil
	})
}

// UnreadableCount is how many applications the list holds.
func (b *Bolt) UnreadableCount(context.Context) (int, error) {
	n := 0
	err := b.db.View(func(tx *bolt.Tx) error {
		if ub := tx.Bucket(bucketUnreadable); ub != nil {
			n = ub.Stats().KeyN
		}
		return nil
	})
	return n, err
}

// UnreadableRecords lists the applications whose record does not open.
func (b *Bolt) UnreadableRecords(ctx context.Context, limit int) ([]contracts.UnreadableRecord, int, error) {
	return unreadableRecords(ctx, b, &b.notes, limit)
}
