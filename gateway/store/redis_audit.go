package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"onething/contracts"
)

// The blind index, reseal, audit log and key checks on Redis.

// FindByIDNumber reads the blind index sets of the ID number (one per
// index key).
func (r *Redis) FindByIDNumber(ctx context.Context, idNumber string) ([]string, error) {
	var ids []string
	for _, idx := range r.codec.indexes(idNumber) {
		got, err := r.rdb.SMembers(ctx, r.indexKey(idx)).Result()
		if err != nil {
			return nil, fmt.Errorf("find by ID number: %w", err)
		}
		ids = append(ids, got...)
	}
	return findVerified(ctx, r.Get, NormalizeIDNumber(idNumber), sortedUnique(ids))
}

// AppIDs calls fn with the id of every application (SCAN over the
// application hashes; tools, reseal).
func (r *Redis) AppIDs(ctx context.Context, fn func(id string) error) error {
	head := r.prefix + ":{app:"
	it := r.rdb.Scan(ctx, 0, escapeGlob(head)+"*}", 500).Iterator()
	for it.Next(ctx) {
		k := it.Val()
		id := strings.TrimSuffix(strings.TrimPrefix(k, head), "}")
		if strings.ContainsAny(id, "{}") || k != r.appKey(id) {
			continue // a once key or something else
		}
		if err := fn(id); err != nil {
			return err
		}
	}
	return it.Err()
}

// escapeGlob escapes the glob characters of SCAN's MATCH.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`*?[]\`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Reseal rewrites, each by an Update (optimistic, safe beside running
// replicas), the applications that are plain, sealed under the keyring
// (version 2) or indexed with an older key, then rewraps the
// applications' own keys (codec.finishReseal).
func (r *Redis) Reseal(ctx context.Context) (ResealStats, error) {
	var st ResealStats
	if r.codec.keys == nil {
		return st, nil
	}
	err := r.AppIDs(ctx, func(id string) error {
		st.Scanned++
		doc, err := r.rdb.HGet(ctx, r.appKey(id), "doc").Result()
		if errors.Is(err, redis.Nil) {
			return nil
		}
		if err != nil {
			return err
		}
		if !r.codec.stale([]byte(doc)) {
			return nil
		}
		err = r.Update(ctx, id, "", func(*contracts.Application) ([]Job, error) { return nil, nil })
		if errors.Is(err, ErrUnreadable) {
			st.Unreadable++ // listed for operators; resealing cannot help
			return nil
		}
		if err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("reseal %s: %w", id, err)
		}
		st.Resealed++
		return nil
	})
	if err != nil {
		return st, err
	}
	return r.codec.finishReseal(ctx, r, st)
}

// The audit log is one stream. Redis gives each entry its id, from its own
// clock and never decreasing, so the log's order is the same for every
// replica; the entry's time is its id's. Only the audit retention trims
// it, every entry before a time (TrimAudit, audit_retention.go).

// AppendAudit XADDs the entry; its id and time are the stream id's.
func (r *Redis) AppendAudit(ctx context.Context, e contracts.AuditEntry) (contracts.AuditEntry, error) {
	e.At = time.Time{}
	data, err := encodeAudit(e)
	if err != nil {
		return e, err
	}
	var add *redis.StringCmd
	err = r.writeReplicated(ctx, func(p redis.Pipeliner) {
		add = p.XAdd(ctx, &redis.XAddArgs{Stream: r.auditKey(), Values: []any{"e", data}})
	})
	id := add.Val()
	if err != nil {
		return contracts.AuditEntry{}, fmt.Errorf("append audit entry: %w", err)
	}
	e.ID = id
	e.At, _ = streamTime(id)
	return e, nil
}

var streamID = regexp.MustCompile(`^([0-9]{1,20})-([0-9]{1,20})$`)

// streamTime is the time of a stream id (its milliseconds part).
func streamTime(id string) (time.Time, bool) {
	m := streamID.FindStringSubmatch(id)
	if m == nil {
		return time.Time{}, false
	}
	ms, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.UnixMilli(ms).UTC(), true
}

// Audit walks the stream from the newest entry (or the cursor) back,
// within the time range, in batches, until the page is full.
func (r *Redis) Audit(ctx context.Context, q AuditQuery) ([]contracts.AuditEntry, string, error) {
	end := "+"
	if q.Cursor != "" {
		if _, ok := streamTime(q.Cursor); !ok {
			return nil, "", ErrBadCursor
		}
		end = "(" + q.Cursor
	}
	if !q.To.IsZero() {
		to := strconv.FormatInt(q.To.UnixMilli(), 10)
		if end == "+" || streamBefore(to+"-18446744073709551615", q.Cursor) {
			end = to
		}
	}
	start := "-"
	if !q.From.IsZero() {
		start = strconv.FormatInt(q.From.UnixMilli(), 10)
	}
	limit := q.limit()
	batch := int64(max(limit+1, 200))
	var out []contracts.AuditEntry
	for {
		msgs, err := r.rdb.XRevRangeN(ctx, r.auditKey(), end, start, batch).Result()
		if err != nil {
			return nil, "", fmt.Errorf("read audit log: %w", err)
		}
		for _, m := range msgs {
			data, _ := m.Values["e"].(string)
			e, err := decodeAudit(m.ID, []byte(data))
			if err != nil {
				return nil, "", err
			}
			e.At, _ = streamTime(m.ID)
			if !q.inTime(e.At) || !q.matches(&e) {
				continue
			}
			if len(out) == limit {
				return out, out[len(out)-1].ID, nil
			}
			out = append(out, e)
		}
		if int64(len(msgs)) < batch {
			return out, "", nil
		}
		end = "(" + msgs[len(msgs)-1].ID
	}
}

// streamBefore reports whether stream id a sorts before b.
func streamBefore(a, b string) bool {
	am, bm := streamID.FindStringSubmatch(a), streamID.FindStringSubmatch(b)
	if am == nil || bm == nil {
		return false
	}
	for i := 1; i <= 2; i++ {
		x, _ := strconv.ParseUint(am[i], 10, 64)
		y, _ := strconv.ParseUint(bm[i], 10, 64)
		if x != y {
			return x < y
		}
	}
	return false
}

func (r *Redis) meta(ctx context.Context) (map[string]string, error) {
	return r.rdb.HGetAll(ctx, r.metaKey()).Result()
}

var scriptPutMeta = redis.NewScript(`
redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
return redis.call('HGET', KEYS[1], ARGV[1])
`)

func (r *Redis) putMeta(ctx context.Context, name, value string) (string, error) {
	return r.runWrite(ctx, scriptPutMeta, []string{r.metaKey()}, name, value).Text()
}

func (r *Redis) delMeta(ctx context.Context, name string) error {
	return r.rdb.HDel(ctx, r.metaKey(), name).Err()
}

// The list of unreadable records (unreadable.go): one hash, P:unreadable,
// application id -> JSON of a contracts.UnreadableRecord.

func (r *Redis) unreadableKey() string { return r.prefix + ":unreadable" }

// UnreadableKey names the list's hash (tests, tools).
func (r *Redis) UnreadableKey() string { return r.unreadableKey() }

// KEYS: 1 the list. ARGV: 1 id, 2 JSON, 3 bound. Adds a new entry while
// the list is below its bound; otherwise keeps the first sighting's time.
var scriptPutUnreadable = redis.NewScript(`
local old = redis.call('HGET', KEYS[1], ARGV[1])
if not old and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
local rec = cjson.decode(ARGV[2])
if old then
  local ok, prev = pcall(cjson.decode, old)
  if ok and type(prev) == 'table' and prev['firstSeen'] then
    rec['firstSeen'] = prev['firstSeen']
  end
end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(rec))
return 1
`)

func (r *Redis) putUnreadable(ctx context.Context, rec contracts.UnreadableRecord) error {
	data, err := marshalJSON(rec)
	if err != nil {
		return err
	}
	return scriptPutUnreadable.Run(ctx, r.rdb, []string{r.unreadableKey()}, rec.ApplicationID, data, maxUnreadable).Err()
}

func (r *Redis) allUnreadable(ctx context.Context) ([]contracts.UnreadableRecord, error) {
	m, err := r.rdb.HGetAll(ctx, r.unreadableKey()).Result()
	if err != nil {
		return nil, err
	}
	out := make([]contracts.UnreadableRecord, 0, len(m))
	for id, v := range m {
		var rec contracts.UnreadableRecord
		if unmarshalJSON([]byte(v), &rec) != nil {
			rec = contracts.UnreadableRecord{Reason: ReasonMalformed}
		}
		rec.ApplicationID = id
		out = append(out, rec)
	}
	return out, nil
}

func (r *Redis) delUnreadable(ctx context.Context, id string) error {
	return r.rdb.HDel(ctx, r.unreadableKey(), id).Err()
}

// UnreadableCount is how many applications the list holds.
func (r *Redis) UnreadableCount(ctx context.Context) (int, error) {
	n, err := r.rdb.HLen(ctx, r.unreadableKey()).Result()
	return int(n), err
}

// UnreadableRecords lists the applications whose record does not open.
func (r *Redis) UnreadableRecords(ctx context.Context, limit int) ([]contracts.UnreadableRecord, int, error) {
	return unreadableRecords(ctx, r, &r.notes, limit)
}
