package store

import (
	"bytes"

	lru "github.com/hashicorp/golang-lru/v2"

	"onething/contracts"
)

// recordCacheSize bounds the decoded records a backend keeps: about 20 KB
// each (the stored bytes and the decoded form of a finished application),
// so at most some 20 MiB, whatever the store holds.
const recordCacheSize = 1024

// recordCache keeps the decoded form of the records this process wrote or
// read last. Every event, dispatch and push reads an application whole
// and writes it back; decoding the ~10 KB record (JSON and the sealed part)
// was 28 % of the gateway's CPU end to end. An entry is used only when the
// bytes read are exactly the bytes it was made from, and what a record
// decodes to depends only on its bytes and the backend's keys (fixed for
// its life), so a hit answers what decoding would, whoever wrote the
// record. An entry made at a write holds the application written, which
// is what its bytes decode to (TestCachedReadsDecodeAlike: the same JSON;
// a time stamp may keep its monotonic clock reading and its zone, which
// only make durations between in-process times more exact and print the
// same). Entries and answers are clones: no caller shares memory with the
// cache.
type recordCache struct {
	lru *lru.Cache[string, cachedRecord]
}

type cachedRecord struct {
	data []byte
	app  *contracts.Application
	idx  string
}

func newRecordCache(size int) *recordCache {
	c, err := lru.New[string, cachedRecord](size)
	if err != nil {
		panic(err) // only for a size below one
	}
	return &recordCache{lru: c}
}

// get returns a clone of what data, stored under id, decodes to, if the
// cache holds it.
func (rc *recordCache) get(id string, data []byte) (*contracts.Application, string, bool) {
	if rc == nil {
		return nil, "", false
	}
	e, ok := rc.lru.Get(id)
	if !ok || !bytes.Equal(e.data, data) {
		return nil, "", false
	}
	return e.app.Clone(), e.idx, true
}

// put records that data, stored under id, decodes to app. data must not
// change afterwards; app is cloned.
func (rc *recordCache) put(id string, data []byte, app *contracts.Application, idx string) {
	if rc == nil {
		return
	}
	rc.lru.Add(id, cachedRecord{data: data, app: app.Clone(), idx: idx})
}

// adopt is put of an app the caller cloned for the cache and no longer
// uses.
func (rc *recordCache) adopt(id string, data []byte, app *contracts.Application, idx string) {
	if rc == nil {
		return
	}
	rc.lru.Add(id, cachedRecord{data: data, app: app, idx: idx})
}

// drop forgets what the cache holds of id (its data key was destroyed).
func (rc *recordCache) drop(id string) {
	if rc != nil {
		rc.lru.Remove(id)
	}
}
