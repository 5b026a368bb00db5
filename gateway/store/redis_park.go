package store

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// deadKey is the hash of parked jobs (dead letters): job id -> JSON. It
// shares the queue's hash slot, so parking is one atomic script.
func (r *Redis) deadKey() string { return r.queueKey("dead") }

// KEYS: 1 jobs, 2 due, 3 leases, 4 dead. ARGV: 1 id, 2 JSON.
var scriptPark = redis.NewScript(`
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[4], ARGV[1], ARGV[2])
return 1
`)

// Park takes a job out of the queue and keeps it as a dead letter.
func (r *Redis) Park(ctx context.Context, job Job) error {
	job.Leased = false
	data, err := marshalJSON(job)
	if err != nil {
		return err
	}
	jk, dk, lk, _ := r.QueueKeys()
	if err := r.runWrite(ctx, scriptPark, []string{jk, dk, lk, r.deadKey()}, job.ID, data).Err(); err != nil {
		return fmt.Errorf("park job: %w", err)
	}
	return nil
}

// Parked lists the dead letters.
func (r *Redis) Parked(ctx context.Context) ([]Job, error) {
	vals, err := r.rdb.HGetAll(ctx, r.deadKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("list parked jobs: %w", err)
	}
	out := make([]Job, 0, len(vals))
	for _, v := range vals {
		var j Job
		if err := unmarshalJSON([]byte(v), &j); err != nil {
			return nil, fmt.Errorf("decode parked job: %w", err)
		}
		out = append(out, j)
	}
	return out, nil
}

// Unpark forgets a parked job.
func (r *Redis) Unpark(ctx context.Context, id string) error {
	return r.rdb.HDel(ctx, r.deadKey(), id).Err()
}
