package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"onething/contracts"
)

// The lists on Redis (lists.go): a sorted set per list and scope,
// P:list:LIST:SCOPE, every member "sort|id" at score 0, so members sort
// by their bytes and a page is one ZRANGEBYLEX (a count one ZLEXCOUNT).
// The writing scripts (Create, Update, Deliver) take an application's
// changed entries as their last keys and last arguments (luaLists).

func (r *Redis) listKey(list, scope string) string { return r.prefix + ":list:" + list + ":" + scope }

// ListKey names the sorted set of a list in a scope (tests, tools).
func (r *Redis) ListKey(list, scope string) string { return r.listKey(list, scope) }

// luaLists is shared by the writing scripts: the last n KEYS are list
// sets, and ARGV ends with n members, each "+" (add) or "-" (remove)
// then "sort|id", and n itself. list_count() is n (0: nothing to do),
// for a script that counts its other keys from the end.
const luaLists = `
local function list_count()
  return tonumber(ARGV[#ARGV])
end
local function write_lists()
  local n = list_count()
  for i = 1, n do
    local key = KEYS[#KEYS - n + i]
    local m = ARGV[#ARGV - n - 1 + i]
    if string.sub(m, 1, 1) == '+' then
      redis.call('ZADD', key, 0, string.sub(m, 2))
    else
      redis.call('ZREM', key, string.sub(m, 2))
    end
  end
end
`

// listArgs are the keys and trailing arguments of a write that moves an
// application's entries from old to cur (see luaLists).
func (r *Redis) listArgs(old, cur []listEntry) ([]string, []any) {
	del, add := diffLists(old, cur)
	keys := make([]string, 0, len(del)+len(add))
	args := make([]any, 0, len(del)+len(add)+1)
	for _, e := range del {
		keys = append(keys, r.listKey(e.list, e.scope))
		args = append(args, "-"+e.member)
	}
	for _, e := range add {
		keys = append(keys, r.listKey(e.list, e.scope))
		args = append(args, "+"+e.member)
	}
	return keys, append(args, len(keys))
}

// ReadList reads a page of a list (Lister).
func (r *Redis) ReadList(ctx context.Context, q ListRead) ([]ListEntry, error) {
	key := r.listKey(q.List, q.Scope)
	by := &redis.ZRangeBy{Min: "-", Max: "+", Count: int64(q.N)}
	var members []string
	var err error
	if q.Desc {
		if q.After != "" {
			by.Max = "(" + q.After
		}
		members, err = r.rdb.ZRevRangeByLex(ctx, key, by).Result()
	} else {
		if q.After != "" {
			by.Min = "(" + q.After
		}
		if q.Before != "" {
			by.Max = "(" + q.Before
		}
		members, err = r.rdb.ZRangeByLex(ctx, key, by).Result()
	}
	if err != nil {
		return nil, fmt.Errorf("read list: %w", err)
	}
	out := make([]ListEntry, len(members))
	for i, m := range members {
		out[i] = entryOf(m)
	}
	return out, nil
}

// CountList counts a list's entries below before (Lister): one ZLEXCOUNT.
func (r *Redis) CountList(ctx context.Context, list, scope, before string) (int, error) {
	hi := "+"
	if before != "" {
		hi = "(" + before
	}
	n, err := r.rdb.ZLexCount(ctx, r.listKey(list, scope), "-", hi).Result()
	if err != nil {
		return 0, fmt.Errorf("count list: %w", err)
	}
	return int(n), nil
}

// KEYS: 1 app, 2… list sets. ARGV: 1 the revision read, 2… the members
// (one per list set). Adds only if the application is still at that
// revision: a write in between moved its entries itself.
var scriptFillLists = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'rev') ~= ARGV[1] then
  return 0
end
for i = 2, #KEYS do
  redis.call('ZADD', KEYS[i], 0, ARGV[i])
end
return 1
`)

// fillLists puts every application in the lists, once, for a store
// written before they existed, then marks the store's meta
// (metaListsBuilt). It is safe beside running replicas of this version:
// each application's entries are added only if its revision is still the
// one read (else it is read again), and their writes move the entries
// themselves. Replicas of an earlier version write no entries: upgrade
// them all before; to fill again, remove the mark (HDEL P:meta
// lists:built) and restart one replica.
func (r *Redis) fillLists(ctx context.Context) error {
	head := r.appKey("")
	head = head[:len(head)-1] // "…:{app:"
	iter := r.rdb.Scan(ctx, 0, escapeGlob(head)+"*", 1000).Iterator()
	for iter.Next(ctx) {
		key := iter.Val()
		if !strings.HasSuffix(key, "}") {
			continue // an application's other keys (once keys, …)
		}
		if err := r.fillOne(ctx, strings.TrimSuffix(strings.TrimPrefix(key, head), "}")); err != nil {
			return err
		}
	}
	if err := iter.Err(); err != nil {
		return err
	}
	return r.rdb.HSet(ctx, r.metaKey(), metaListsBuilt, "1").Err()
}

func (r *Redis) fillOne(ctx context.Context, id string) error {
	for attempt := 0; attempt < r.maxRetries; attempt++ {
		h, err := r.rdb.HGetAll(ctx, r.appKey(id)).Result()
		if err != nil {
			return err
		}
		app, rev, _, _, err := r.decodeApp(id, h, true)
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrUnreadable) {
			r.notes.note(r, err)
			return nil // gone, or listed for operators
		}
		if err != nil {
			return err
		}
		keys := []string{r.appKey(id)}
		args := []any{rev}
		for _, e := range listEntries(app) {
			keys = append(keys, r.listKey(e.list, e.scope))
			args = append(args, e.member)
		}
		ok, err := r.runWrite(ctx, scriptFillLists, keys, args...).Int()
		if err != nil {
			return fmt.Errorf("fill lists: %w", err)
		}
		if ok == 1 {
			return nil
		}
	}
	return fmt.Errorf("fill lists: application %s still changing after %d attempts", id, r.maxRetries)
}

// Bulk writes applications with their lists, pipelined, without dedupe
// keys, jobs or the blind index: the bench's loader of a large store
// (`onething bench`), never a live one.
func (r *Redis) Bulk(ctx context.Context, apps []*contracts.Application) error {
	_, _, _, openKey := r.QueueKeys()
	for len(apps) > 0 {
		n := min(len(apps), 500)
		pipe := r.rdb.Pipeline()
		for _, app := range apps[:n] {
			w, _, err := r.codec.encodeParts(app, nil)
			if err != nil {
				return err
			}
			fields := []any{"doc", w.head, "rev", 1, "op", "bulk"}
			if w.per != nil {
				fields = append(fields, "per", w.per)
			}
			for i, e := range w.tl {
				fields = append(fields, timelineField(w.tlFrom+i), e)
			}
			pipe.HSet(ctx, r.appKey(app.ID), fields...)
			if open(app) {
				pipe.ZAdd(ctx, openKey, redis.Z{Score: float64(ms(app.ReceivedAt)), Member: app.ID})
			}
			for _, e := range listEntries(app) {
				pipe.ZAdd(ctx, r.listKey(e.list, e.scope), redis.Z{Member: e.member})
			}
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("bulk write: %w", err)
		}
		apps = apps[n:]
	}
	return nil
}

// prepareLists marks a new store's lists complete, and fills them on
// the first open of a store written before them (not by `store init`,
// which changes no data).
func (r *Redis) prepareLists(ctx context.Context, created bool, mode openMode) error {
	if created {
		return r.rdb.HSet(ctx, r.metaKey(), metaListsBuilt, "1").Err()
	}
	if mode == modeInit {
		return nil
	}
	built, err := r.rdb.HExists(ctx, r.metaKey(), metaListsBuilt).Result()
	if err != nil || built {
		return err
	}
	if err := r.fillLists(ctx); err != nil {
		return fmt.Errorf("fill the lists: %w", err)
	}
	return nil
}
