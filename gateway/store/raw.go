package store

import (
	"context"

	"github.com/redis/go-redis/v9"
	bolt "go.etcd.io/bbolt"
)

// The raw writes are for the end-to-end baseline of `onething bench` (a
// relay that makes one small durable write per step, gateway/bench): each
// goes through the same committer as the store's own writes, so that a
// change to how writes are committed (one fsync each, or several
// together) moves both sides of the comparison alike. The gateway never
// writes or reads them.

// RawBucketPrefix begins the name of every bucket PutRaw writes: no
// bucket of the store's own begins so.
const RawBucketPrefix = "raw:"

// PutRaw writes value under key in the bucket RawBucketPrefix+bucket
// (made when missing), in one commit of the store's committer.
func (b *Bolt) PutRaw(bucket, key string, value []byte) error {
	name := []byte(RawBucketPrefix + bucket)
	return b.commit(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists(name)
		if err != nil {
			return err
		}
		return bk.Put([]byte(key), value)
	})
}

// PutRaw sets field of the hash PREFIX:raw:key to value, through the
// write path of the store's own writes (writeReplicated: with
// WithMinReplicas it waits for the replicas as they do).
func (r *Redis) PutRaw(ctx context.Context, key, field string, value []byte) error {
	k := r.prefix + ":" + RawBucketPrefix + key
	return r.writeReplicated(ctx, func(p redis.Pipeliner) { p.HSet(ctx, k, field, value) })
}
