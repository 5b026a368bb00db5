package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"onething/contracts"
)

var (
	bucketApps = []byte("apps") // application id -> JSON
	bucketKeys = []byte("keys") // dedupe / once key -> application id
	bucketJobs = []byte("jobs") // job id -> JSON
	bucketDue  = []byte("due")  // 8-byte due time (unix ns, big endian) + job id -> nothing
	bucketDead = []byte("dead") // job id -> JSON of a parked job (dead letter)
)

// Bolt is the embedded backend: one bbolt file, one writer at a time, every
// change one fsynced transaction. bbolt locks the file, so one process owns
// it; that lets Open hand back leases a crashed process held.
type Bolt struct {
	db *bolt.DB
}

// OpenBolt opens (or creates) the data file at path.
func OpenBolt(path string) (*Bolt, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketApps, bucketKeys, bucketJobs, bucketDue, bucketDead} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return releaseLeases(tx)
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("prepare store %s: %w", path, err)
	}
	return &Bolt{db: db}, nil
}

// releaseLeases makes every leased job due now: only this process can hold
// the file, so any lease found at start belongs to a process that died.
func releaseLeases(tx *bolt.Tx) error {
	jobs := tx.Bucket(bucketJobs)
	var leased []Job
	err := jobs.ForEach(func(_, v []byte) error {
		var j Job
		if err := json.Unmarshal(v, &j); err != nil {
			return err
		}
		if j.Leased {
			leased = append(leased, j)
		}
		return nil
	})
	if err != nil {
		return err
	}
	now := time.Now()
	for _, j := range leased {
		j.Leased = false
		if err := schedule(tx, &j, now); err != nil {
			return err
		}
	}
	return nil
}

func (b *Bolt) Close() error { return b.db.Close() }

func (b *Bolt) Ping(context.Context) error {
	return b.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketApps) == nil {
			return errors.New("store not initialised")
		}
		return nil
	})
}

func (b *Bolt) Create(_ context.Context, app *contracts.Application, keys []string, jobs []Job) (string, error) {
	var existing string
	err := b.db.Update(func(tx *bolt.Tx) error {
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
		if err := putApp(tx, app); err != nil {
			return err
		}
		return enqueue(tx, jobs)
	})
	if errors.Is(err, ErrDuplicate) {
		return existing, ErrDuplicate
	}
	return app.ID, err
}

func putApp(tx *bolt.Tx, app *contracts.Application) error {
	data, err := json.Marshal(app)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketApps).Put([]byte(app.ID), data)
}

func getApp(tx *bolt.Tx, id string) (*contracts.Application, error) {
	v := tx.Bucket(bucketApps).Get([]byte(id))
	if v == nil {
		return nil, ErrNotFound
	}
	var app contracts.Application
	if err := json.Unmarshal(v, &app); err != nil {
		return nil, fmt.Errorf("decode application: %w", err)
	}
	return &app, nil
}

func (b *Bolt) Get(_ context.Context, id string) (*contracts.Application, error) {
	var app *contracts.Application
	err := b.db.View(func(tx *bolt.Tx) error {
		var err error
		app, err = getApp(tx, id)
		return err
	})
	return app, err
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
	return b.db.Update(func(tx *bolt.Tx) error {
		if onceKey != "" && tx.Bucket(bucketKeys).Get([]byte(onceKey)) != nil {
			return ErrAlreadyApplied
		}
		app, err := getApp(tx, id)
		if err != nil {
			return err
		}
		jobs, err := fn(app)
		if err != nil {
			return err
		}
		if onceKey != "" {
			if err := tx.Bucket(bucketKeys).Put([]byte(onceKey), []byte(id)); err != nil {
				return err
			}
		}
		if err := putApp(tx, app); err != nil {
			return err
		}
		return enqueue(tx, jobs)
	})
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
	data, err := json.Marshal(j)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketJobs).Put([]byte(j.ID), data)
}

func enqueue(tx *bolt.Tx, jobs []Job) error {
	jb := tx.Bucket(bucketJobs)
	for _, j := range jobs {
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
	return b.db.Update(func(tx *bolt.Tx) error { return enqueue(tx, jobs) })
}

func (b *Bolt) Lease(_ context.Context, now time.Time, n int, d time.Duration) ([]Job, error) {
	var out []Job
	err := b.db.Update(func(tx *bolt.Tx) error {
		out = out[:0]
		limit := dueKey(now, "")
		c := tx.Bucket(bucketDue).Cursor()
		var ids []string
		for k, _ := c.First(); k != nil && len(ids) < n && bytes.Compare(k[:8], limit[:8]) <= 0; k, _ = c.Next() {
			ids = append(ids, string(k[8:]))
		}
		for _, id := range ids {
			j, err := getJob(tx, id)
			if err != nil {
				return err
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

func getJob(tx *bolt.Tx, id string) (Job, error) {
	var j Job
	v := tx.Bucket(bucketJobs).Get([]byte(id))
	if v == nil {
		return j, ErrNotFound
	}
	err := json.Unmarshal(v, &j)
	return j, err
}

func (b *Bolt) Ack(_ context.Context, job Job) error {
	return b.db.Update(func(tx *bolt.Tx) error {
		cur, err := getJob(tx, job.ID)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketDue).Delete(dueKey(cur.Due, cur.ID)); err != nil {
			return err
		}
		return tx.Bucket(bucketJobs).Delete([]byte(job.ID))
	})
}

func (b *Bolt) Retry(_ context.Context, job Job, at time.Time) error {
	return b.db.Update(func(tx *bolt.Tx) error {
		cur, err := getJob(tx, job.ID)
		if err != nil {
			return err
		}
		cur.Leased = false
		cur.Attempt = job.Attempt
		cur.LastError = job.LastError
		return schedule(tx, &cur, at)
	})
}

func (b *Bolt) QueueStats(context.Context) (QueueStats, error) {
	var s QueueStats
	err := b.db.View(func(tx *bolt.Tx) error {
		s.Jobs = tx.Bucket(bucketJobs).Stats().KeyN
		err := tx.Bucket(bucketJobs).ForEach(func(_, v []byte) error {
			var j Job
			if err := json.Unmarshal(v, &j); err != nil {
				return err
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
	return b.db.Update(func(tx *bolt.Tx) error {
		if cur, err := getJob(tx, job.ID); err == nil {
			if err := tx.Bucket(bucketDue).Delete(dueKey(cur.Due, cur.ID)); err != nil {
				return err
			}
			if err := tx.Bucket(bucketJobs).Delete([]byte(job.ID)); err != nil {
				return err
			}
		}
		job.Leased, job.Due = false, time.Time{}
		data, err := json.Marshal(job)
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
			if err := json.Unmarshal(v, &j); err != nil {
				return err
			}
			out = append(out, j)
			return nil
		})
	})
	return out, err
}

func (b *Bolt) Unpark(_ context.Context, id string) error {
	return b.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketDead).Delete([]byte(id)) })
}
