package store

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"time"

	"github.com/redis/go-redis/v9"
)

// ReplyKey names the record of a delivery key (tests, tools).
func (r *Redis) ReplyKey(key string) string { return r.prefix + ":" + replyKey(key) }

// KEYS: as scriptUpdate (1 app, 2 jobs, 3 due, 4 open, 5 done, 6 once key,
// 7 old blind index set, 8 new one, 9 leases), then the delivery's record
// keys (hashes: fp, reply), then its taken keys, then the list sets.
// ARGV: 1-13 as scriptUpdate, 14 fingerprint, 15 the sealed reply,
// 16 number of record keys, 17 number of taken keys, 18 refused ('1':
// record the delivery only, leave the application), 19 the parts
// (luaParts), 20… the jobs, then the lists' members (luaLists).
// Records are checked before anything else: a delivery id recorded for
// another request is refused whether or not this application exists.
var scriptDeliver = redis.NewScript(luaEnqueue + luaAck + luaWriteApp + luaRecorded + `
local nrec, ntaken = tonumber(ARGV[16]), tonumber(ARGV[17])
local found = recorded(10, 9 + nrec, ARGV[14], ARGV[7])
if found then
  return found
end
for i = 10 + nrec, 9 + nrec + ntaken do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    return {'replayed'}
  end
end
local rev = redis.call('HGET', KEYS[1], 'rev')
if not rev then
  return {'missing'}
end
if rev ~= ARGV[2] then
  return {'conflict'}
end
if ARGV[8] == '1' and redis.call('EXISTS', KEYS[6]) == 1 then
  return {'applied'}
end
for i = 10, 9 + nrec do
  redis.call('HSET', KEYS[i], 'fp', ARGV[14], 'reply', ARGV[15])
  redis.call('PEXPIRE', KEYS[i], ARGV[7])
end
if ARGV[18] == '1' then
  return {'ok'}
end
if ARGV[8] == '1' then
  redis.call('SET', KEYS[6], ARGV[1], 'PX', ARGV[7])
end
write_app(ARGV[19])
enqueue(20, false)
return {'ok'}
`)

// luaRecorded is shared by the scripts that check a delivery's records
// (KEYS[first..last], hashes fp and reply): {'replayed'} when one is
// recorded for another request (fingerprint fp), nil when none is
// recorded, else {'same', reply}, having recorded the same reply under
// the keys without a record (the same request under a key not seen
// before, such as an event sent again under a new webhook-id, takes it,
// for ttl ms).
const luaRecorded = `
local function recorded(first, last, fp, ttl)
  local same = nil
  for i = first, last do
    local f = redis.call('HGET', KEYS[i], 'fp')
    if f then
      if f ~= fp then
        return {'replayed'}
      end
      if not same then
        same = redis.call('HGET', KEYS[i], 'reply')
      end
    end
  end
  if not same then
    return nil
  end
  for i = first, last do
    if redis.call('EXISTS', KEYS[i]) == 0 then
      redis.call('HSET', KEYS[i], 'fp', fp, 'reply', same)
      redis.call('PEXPIRE', KEYS[i], ttl)
    end
  end
  return {'same', same}
end
`

// KEYS: the delivery's record keys. ARGV: 1 fingerprint, 2 TTL (ms).
var scriptRecorded = redis.NewScript(luaRecorded + `
return recorded(1, #KEYS, ARGV[1], ARGV[2]) or {'none'}
`)

// Deliver is Update for a signed delivery: one script checks the
// delivery's records, the revision and the once key, and writes the
// records with the application and its jobs. A script go-redis re-sends
// after a network error finds its own records (same fingerprint) and
// answers the reply it recorded, so it neither acts twice nor loses the
// reply.
func (r *Redis) Deliver(ctx context.Context, id, onceKey string, d Delivery, fn DeliverFunc) (Reply, error) {
	done, err := r.takeTurn(ctx, id)
	if err != nil {
		return Reply{}, err
	}
	defer done()
	rkeys := r.writeKeys(id)
	if onceKey != "" {
		rkeys = append(rkeys, r.onceKey(id, onceKey))
	} else {
		rkeys = append(rkeys, rkeys[0])
	}
	recKeys := make([]string, len(d.Keys))
	for i, k := range d.Keys {
		recKeys[i] = r.ReplyKey(k)
	}
	taken := make([]string, len(d.Taken))
	for i, k := range d.Taken {
		taken[i] = r.dedupeKey(k)
	}
	tok := token()
	for attempt := 0; ; attempt++ {
		// Read first what the script checks again, so that fn does not
		// run for a delivery that is answered already.
		pipe := r.rdb.Pipeline()
		recs := make([]*redis.SliceCmd, len(recKeys))
		for i, k := range recKeys {
			recs[i] = pipe.HMGet(ctx, k, "fp", "reply")
		}
		var takenN, once *redis.IntCmd
		if len(taken) > 0 {
			takenN = pipe.Exists(ctx, taken...)
		}
		if onceKey != "" {
			once = pipe.Exists(ctx, rkeys[5])
		}
		get := pipe.HMGet(ctx, rkeys[0], headFields...)
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return Reply{}, fmt.Errorf("read application: %w", err)
		}
		recordedN := 0
		for _, rc := range recs {
			fp, _ := rc.Val()[0].(string)
			if fp == "" {
				continue
			}
			if fp != d.Fingerprint {
				return Reply{}, ErrReplayed
			}
			recordedN++
		}
		if recordedN > 0 {
			if recordedN == len(recs) {
				v, _ := recs[0].Val()[1].(string)
				if err := r.confirmed(ctx); err != nil {
					return Reply{}, fmt.Errorf("update application: %w", err)
				}
				return r.recorded(d.Fingerprint, v)
			}
			// Answered from its record, and its other keys recorded
			// with it (luaRecorded).
			if rep, ok, err := r.answerRecorded(ctx, recKeys, d.Fingerprint); ok {
				return rep, err
			}
			continue // the record expired meanwhile: read again
		}
		if takenN != nil && takenN.Val() > 0 {
			return Reply{}, ErrReplayed
		}
		if once != nil && once.Val() == 1 {
			if err := r.confirmed(ctx); err != nil {
				return Reply{}, fmt.Errorf("update application: %w", err)
			}
			return Reply{}, ErrAlreadyApplied
		}
		app, rev, oldIdx, pr, err := r.readApp(ctx, id, get.Val())
		if err != nil {
			r.notes.note(r, err)
			return Reply{}, err
		}
		lists := listEntries(app) // before fn changes it
		out, err := fn(app)
		if err != nil {
			return Reply{}, err
		}
		sealed, err := r.codec.sealReply(d.Fingerprint, out.Reply)
		if err != nil {
			return Reply{}, err
		}
		w, idx, err := r.codec.encodeParts(app, pr)
		if err != nil {
			return Reply{}, err
		}
		jargs, err := jobArgs(out.Jobs)
		if err != nil {
			return Reply{}, err
		}
		ikeys, iflags := r.indexMove(rkeys[0], oldIdx, idx)
		now := time.Now()
		args := append([]any{id, rev, w.head, tok, flag(open(app)), ms(now), r.dedupeTTL.Milliseconds(), flag(onceKey != ""), iflags}, ackArgs(nil, now)...)
		args = append(args, d.Fingerprint, sealed, len(recKeys), len(taken), flag(out.Refused), partsArg(w))
		_, _, leases, _ := r.QueueKeys()
		keys := append(append(append(append(rkeys[:6:6], ikeys...), leases), recKeys...), taken...)
		lkeys, largs := r.listArgs(lists, listEntries(app))
		res, err := r.runWrite(ctx, scriptDeliver, append(keys, lkeys...), append(append(args, jargs...), largs...)...).StringSlice()
		if err != nil {
			return Reply{}, fmt.Errorf("update application: %w", err)
		}
		switch res[0] {
		case "ok":
			return out.Reply, nil
		case "same":
			// Ours, re-sent after a network error, or a twin delivery
			// that came first: either way the recorded reply.
			return r.recorded(d.Fingerprint, res[1])
		case "replayed":
			return Reply{}, ErrReplayed
		case "missing":
			return Reply{}, ErrNotFound
		case "applied":
			return Reply{}, ErrAlreadyApplied
		}
		if attempt+1 >= r.maxRetries {
			return Reply{}, fmt.Errorf("update application: still conflicting after %d attempts", attempt+1)
		}
		wait := time.Duration(mrand.N(int64(1+min(attempt, 6)))) * time.Millisecond
		select {
		case <-ctx.Done():
			return Reply{}, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// answerRecorded answers a delivery recorded under some of its keys (the
// record keys recKeys) with the recorded reply, recording it under the
// others; not ok when no key holds a record any more (expired since
// they were read).
func (r *Redis) answerRecorded(ctx context.Context, recKeys []string, fp string) (rep Reply, ok bool, err error) {
	res, err := r.runWrite(ctx, scriptRecorded, recKeys, fp, r.dedupeTTL.Milliseconds()).StringSlice()
	if err != nil {
		return Reply{}, true, fmt.Errorf("record delivery: %w", err)
	}
	switch res[0] {
	case "same":
		rep, err = r.recorded(fp, res[1])
		return rep, true, err
	case "replayed":
		return Reply{}, true, ErrReplayed
	}
	return Reply{}, false, nil
}

// recorded opens a recorded reply (sealed to the fingerprint).
func (r *Redis) recorded(fp, v string) (Reply, error) {
	rep, err := r.codec.openReply(fp, v)
	if err != nil {
		return Reply{}, err
	}
	return rep, ErrAlreadyApplied
}
