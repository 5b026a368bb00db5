package store

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// A store is created on purpose. `onething store init` makes it (InitBolt,
// InitRedis) and records its identity in its meta, beside the key checks
// (codec.go): a random store id, the store's format version and when it
// was made. The gateway's own open (Strict, what `onething serve` uses)
// never creates anything: it refuses a store that is missing, empty, not
// onething's, of another format or damaged, with the command to run. A
// store that was made by an earlier onething (its data is there, its
// identity is not) is refused too until `store init` records its identity;
// that leaves its data as it is.

// FormatVersion is the format of the stores this build reads and writes:
// the buckets or keys, and the records (codec.go). A store of another
// format is refused at open.
const FormatVersion = 1

// Meta names of the identity (in bbolt's meta bucket, in Redis's P:meta hash).
const (
	metaStoreID      = "store:id"
	metaStoreFormat  = "store:format"
	metaStoreCreated = "store:created"
)

// Identity is who a store is: recorded once, by InitBolt or InitRedis.
type Identity struct {
	// ID is random, made at init: two replicas (or a replica and a backup
	// restored elsewhere) on the same store see the same id.
	ID      string    `json:"id"`
	Format  int       `json:"format"`
	Created time.Time `json:"created"`
}

func newIdentity() Identity {
	b := make([]byte, 16)
	rand.Read(b)
	return Identity{ID: hex.EncodeToString(b), Format: FormatVersion, Created: time.Now().UTC().Truncate(time.Second)}
}

func (id Identity) fields() map[string]string {
	return map[string]string{
		metaStoreID: id.ID, metaStoreFormat: strconv.Itoa(id.Format), metaStoreCreated: id.Created.Format(time.RFC3339),
	}
}

// identityOf reads the identity in meta; ok is false when there is none.
func identityOf(meta map[string]string) (Identity, bool, error) {
	format, ok := meta[metaStoreFormat]
	if !ok {
		return Identity{}, false, nil
	}
	n, err := strconv.Atoi(format)
	if err != nil {
		return Identity{}, true, fmt.Errorf("store format %q is not a number", format)
	}
	id := Identity{ID: meta[metaStoreID], Format: n}
	id.Created, _ = time.Parse(time.RFC3339, meta[metaStoreCreated])
	return id, true, nil
}

// InitResult says what an init did.
type InitResult struct {
	Identity Identity `json:"identity"`
	// Created: a new, empty store was made. Adopted: the store held
	// onething's data without an identity (made by an earlier onething),
	// which was recorded; the data is unchanged. Neither: the store was
	// initialised before, and nothing was changed.
	Created bool `json:"created"`
	Adopted bool `json:"adopted"`
}

// Errors of opening a store, each wrapped in an *OpenError that says, in
// Chinese and English, what was found and what to do.
var (
	// ErrNotInitialised: no store there (a missing or empty file, an empty
	// prefix, a store without an identity): run `onething store init`.
	ErrNotInitialised = errors.New("store not initialised")
	// ErrForeign: what is there is not an onething store (another
	// program's bbolt file, keys under the prefix that onething did not write).
	ErrForeign = errors.New("not an onething store")
	// ErrOtherFormat: an onething store of another format version.
	ErrOtherFormat = errors.New("store of another format version")
	// ErrDamaged: the file is damaged (meta pages invalid, truncated).
	ErrDamaged = errors.New("store damaged")
	// ErrKeyStoreMissing: the key store that holds the applications' own
	// data keys (appkeys.go) is missing, empty or another store's.
	ErrKeyStoreMissing = errors.New("key store missing")
)

// InitCommand is the command that makes a store; every refusal to open
// names it (FILE is the configuration file).
const InitCommand = "onething store init --config FILE"

// CheckCommand runs the offline consistency check.
const CheckCommand = "onething store check --config FILE"

// OpenError is a refusal to open a store: Chinese first, English beside.
type OpenError struct {
	Kind  error  // ErrNotInitialised, ErrForeign, ErrOtherFormat, ErrDamaged or ErrKeyStoreMissing
	Where string // the file, or the Redis database and prefix
	ZH    string // what is wrong and what to do, in Chinese
	EN    string // the same in English
}

func (e *OpenError) Error() string {
	return "存储 " + e.Where + "：" + e.ZH + " / store " + e.Where + ": " + e.EN
}

func (e *OpenError) Unwrap() error { return e.Kind }

func notInitialised(where, zh, en string) error {
	return &OpenError{Kind: ErrNotInitialised, Where: where,
		ZH: zh + "。请先运行 " + InitCommand + " 创建存储（serve 从不自行创建存储）",
		EN: en + "; create it with `" + InitCommand + "` (serve never creates a store)"}
}

func foreign(where, zh, en string) error {
	return &OpenError{Kind: ErrForeign, Where: where,
		ZH: zh + "。请检查配置中的存储位置；若确需在此新建，请先移走它，再运行 " + InitCommand,
		EN: en + "; check the store the configuration names, or move this away and run `" + InitCommand + "`"}
}

func otherFormat(where string, format int) error {
	return &OpenError{Kind: ErrOtherFormat, Where: where,
		ZH: fmt.Sprintf("存储格式版本为 %d，本程序只能读写版本 %d：请使用与之匹配的 onething 版本", format, FormatVersion),
		EN: fmt.Sprintf("the store's format version is %d and this build reads version %d: run the onething release that matches it", format, FormatVersion)}
}

func damaged(where string, d *damage) error {
	return &OpenError{Kind: ErrDamaged, Where: where,
		ZH: d.zh + "。存储已损坏，拒绝打开：请停止使用该文件，从备份恢复；" + CheckCommand + " 可报告损坏情况",
		EN: d.en + ". The store is damaged and is not opened: restore it from a backup; `" + CheckCommand + "` reports the damage"}
}

// damagedRoot is the refusal of a file whose list of buckets is damaged:
// no identity, and a bucket name beside onething's that it never makes.
func damagedRoot(where, name string) error {
	return damaged(where, &damage{
		zh: "存储的桶目录已损坏（找不到存储标识，且出现 onething 从不创建的桶 " + name + "）",
		en: "the store's list of buckets is damaged (no store identity, and a bucket " + name + " onething never makes)"})
}

// earlierStore is the refusal of a store an earlier onething made.
func earlierStore(where string) error {
	return &OpenError{Kind: ErrNotInitialised, Where: where,
		ZH: "存有早期版本 onething 的数据，但没有存储标识。请运行 " + InitCommand + " 记录其标识（数据保持不变）",
		EN: "holds the data of an earlier onething but no store identity; record one with `" + InitCommand + "` (the data is left as it is)"}
}
