package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	bolt "go.etcd.io/bbolt"

	"onething/contracts"
)

// Scrubbing the audit log: the one rewrite of it ever allowed.
//
// Entries written before the console applied the reason rule may hold
// personal data: a clerk's reason naming the applicant or their ID or
// phone number, a withdrawal's reason (the applicant's own words). The
// scrub rewrites those entries once, every ID, certificate and phone
// number and every name of the application's people masked
// (contracts.MaskFreeText), in the reason and the query; it changes
// nothing else of any entry, removes none and adds one: its own, written
// first (AuditScrub, the number of entries it is about to rewrite), so
// that no scrub goes unrecorded. Run again, it finds nothing to change.

// AuditScrub is the audit action of a scrub of the audit log.
const AuditScrub = "audit.scrub"

// ScrubStats is what a scrub did.
type ScrubStats struct {
	Scanned   int    // entries read
	Rewritten int    // entries rewritten
	AuditID   string // the scrub's own entry
}

// auditRewriter is a backend whose audit entries can be rewritten in
// place (same id, same time, same order): Bolt and Redis.
type auditRewriter interface {
	rewriteAudit(ctx context.Context, fn func(e *contracts.AuditEntry) bool) (int, error)
}

// ScrubAudit masks the personal data of the audit entries (see above),
// auditing itself first as subject.
func ScrubAudit(ctx context.Context, st Store, subject string) (ScrubStats, error) {
	var stats ScrubStats
	rw, ok := st.(auditRewriter)
	if !ok {
		return stats, fmt.Errorf("this store (%T) cannot scrub its audit log", st)
	}
	names := map[string][]string{}
	namesOf := func(appID string) []string {
		if appID == "" {
			return nil
		}
		if n, ok := names[appID]; ok {
			return n
		}
		var n []string
		if app, err := st.Get(ctx, appID); err == nil {
			n = append(n, app.Applicant.Name)
			if app.Applicant.Guardian != nil {
				n = append(n, app.Applicant.Guardian.Name)
			}
			if app.Delivery.Recipient != "" {
				n = append(n, app.Delivery.Recipient)
			}
		}
		names[appID] = n
		return n
	}
	scrub := func(e *contracts.AuditEntry) bool {
		n := namesOf(e.ApplicationID)
		reason, query := contracts.MaskFreeText(e.Reason, n...), contracts.MaskFreeText(e.Query, n...)
		if reason == e.Reason && query == e.Query {
			return false
		}
		e.Reason, e.Query = reason, query
		return true
	}
	// Count first, to say in the scrub's own entry what it rewrites.
	todo := 0
	q := AuditQuery{Limit: MaxAuditLimit}
	for {
		page, next, err := st.Audit(ctx, q)
		if err != nil {
			return stats, err
		}
		for i := range page {
			stats.Scanned++
			if scrub(&page[i]) {
				todo++
			}
		}
		if next == "" {
			break
		}
		q.Cursor = next
	}
	own, err := st.AppendAudit(ctx, contracts.AuditEntry{Subject: subject, Role: "operator", Action: AuditScrub,
		Method: "CLI", Route: "onething audit scrub", Query: "entries=" + strconv.Itoa(todo)})
	if err != nil {
		return stats, fmt.Errorf("audit the scrub (nothing rewritten): %w", err)
	}
	stats.AuditID = own.ID
	if todo == 0 {
		return stats, nil
	}
	stats.Rewritten, err = rw.rewriteAudit(ctx, scrub)
	return stats, err
}

// rewriteAudit rewrites, in one transaction, the entries fn changes.
func (b *Bolt) rewriteAudit(_ context.Context, fn func(e *contracts.AuditEntry) bool) (int, error) {
	n := 0
	err := b.commit(func(tx *bolt.Tx) error {
		n = 0
		ab := tx.Bucket(bucketAudit)
		type put struct{ k, v []byte }
		var puts []put
		err := ab.ForEach(func(k, v []byte) error {
			e, err := decodeAudit("", v)
			if err != nil {
				return err
			}
			if !fn(&e) {
				return nil
			}
			data, err := encodeAudit(e)
			if err != nil {
				return err
			}
			puts = append(puts, put{append([]byte(nil), k...), data})
			return nil
		})
		if err != nil {
			return err
		}
		for _, p := range puts {
			if err := ab.Put(p.k, p.v); err != nil {
				return err
			}
		}
		n = len(puts)
		return nil
	})
	return n, err
}

// KEYS: 1 the audit stream. ARGV: id, entry, id, entry … of the entries
// to replace. A stream entry cannot be changed, so the script builds the
// stream again, atomically: every entry with its own id (replaced ones
// with their new value), then the stream's last id as it was, so later
// ids keep growing.
var scriptRewriteAudit = redis.NewScript(`
local repl = {}
for i = 1, #ARGV, 2 do repl[ARGV[i]] = ARGV[i + 1] end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local last
for i = 1, #info, 2 do
  if info[i] == 'last-generated-id' then last = info[i + 1] end
end
local all = redis.call('XRANGE', KEYS[1], '-', '+')
redis.call('DEL', KEYS[1])
local n = 0
for _, m in ipairs(all) do
  local id, f = m[1], m[2]
  local vals = {}
  for j = 1, #f, 2 do
    local v = f[j + 1]
    if f[j] == 'e' and repl[id] then
      v = repl[id]
      n = n + 1
    end
    vals[#vals + 1] = f[j]
    vals[#vals + 1] = v
  end
  redis.call('XADD', KEYS[1], id, unpack(vals))
end
if last then redis.call('XSETID', KEYS[1], last) end
return n
`)

// rewriteAudit rewrites the entries fn changes (one script, atomic beside
// the replicas' appends).
func (r *Redis) rewriteAudit(ctx context.Context, fn func(e *contracts.AuditEntry) bool) (int, error) {
	msgs, err := r.rdb.XRange(ctx, r.auditKey(), "-", "+").Result()
	if err != nil {
		return 0, fmt.Errorf("read audit log: %w", err)
	}
	var args []any
	for _, m := range msgs {
		data, _ := m.Values["e"].(string)
		e, err := decodeAudit(m.ID, []byte(data))
		if err != nil {
			return 0, err
		}
		if !fn(&e) {
			continue
		}
		e.At = time.Time{} // the stream id's, as AppendAudit writes it
		out, err := encodeAudit(e)
		if err != nil {
			return 0, err
		}
		args = append(args, m.ID, string(out))
	}
	if len(args) == 0 {
		return 0, nil
	}
	n, err := r.runWrite(ctx, scriptRewriteAudit, []string{r.auditKey()}, args...).Int()
	if err != nil && !errors.Is(err, redis.Nil) {
		return 0, fmt.Errorf("rewrite audit log: %w", err)
	}
	return n, nil
}
