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
	pr   *prior // its app never changes
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
	pr, idx, ok := rc.getPrior(id, data)
	if !ok {
		return nil, "", false
	}
	return pr.app.Clone(), idx, true
}

// getPrior is get for a write: what the record is, its app shared (the
// caller must not change it).
func (rc *recordCache) getPrior(id string, data []byte) (*prior, string, bool) {
	if rc == nil {
		return nil, "", false
	}
	e, ok := rc.lru.Get(id)
	if !ok || !bytes.Equal(e.data, data) {
		return nil, "", false
	}
	return e.pr, e.idx, true
}

// put records that data (a whole record, or the head of one in parts),
// stored under id, is the record pr. data must not change afterwards, nor
// pr.
func (rc *recordCache) put(id string, data []byte, pr *prior, idx string) {
	if rc == nil {
		return
	}
	rc.lru.Add(id, cachedRecord{data: data, pr: pr, idx: idx})
}

// drop forgets what the cache holds of id (its data key was destroyed).
func (rc *recordCache) drop(id string) {
	if rc != nil {
		rc.lru.Remove(id)
	}
}
