package store

import (
	"bytes"
	"context"
	"errors"

	bolt "go.etcd.io/bbolt"

	"onething/contracts"
)

// The lists on bbolt (lists.go): one bucket, keys list 0x00 scope 0x00
// sort|id, so a page is one cursor walk.

func listKey(list, scope, member string) []byte {
	return []byte(list + "\x00" + scope + "\x00" + member)
}

func listPrefix(list, scope string) []byte { return []byte(list + "\x00" + scope + "\x00") }

// writeLists moves an application's entries from old to cur.
func writeLists(tx *bolt.Tx, old, cur []listEntry) error {
	lb := tx.Bucket(bucketLists)
	del, add := diffLists(old, cur)
	for _, e := range del {
		if err := lb.Delete(listKey(e.list, e.scope, e.member)); err != nil {
			return err
		}
	}
	for _, e := range add {
		if err := lb.Put(listKey(e.list, e.scope, e.member), nil); err != nil {
			return err
		}
	}
	return nil
}

// fillLists puts every application in the lists (once, for a file
// written before they existed; Open runs it, and bbolt lets one process
// hold the file, so no write comes in between). A record that does not
// open is left out: it is listed for operators (unreadable.go).
func (b *Bolt) fillLists() error {
	return b.commit(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketApps).ForEach(func(k, v []byte) error {
			app, _, _, err := b.codec.decodePartsUncached(string(k), partsOf(tx, string(k), v))
			if errors.Is(err, ErrUnreadable) {
				return nil
			}
			if err != nil {
				return err
			}
			return writeLists(tx, nil, listEntries(app))
		})
	})
}

// ReadList reads a page of a list (Lister).
func (b *Bolt) ReadList(ctx context.Context, q ListRead) ([]ListEntry, error) {
	var out []ListEntry
	prefix := listPrefix(q.List, q.Scope)
	err := b.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketLists).Cursor()
		var k []byte
		switch {
		case q.Desc && q.After == "":
			// The last key of the prefix: seek past it and step back.
			if k, _ = c.Seek(append(bytes.Clone(prefix[:len(prefix)-1]), 0x01)); k == nil {
				k, _ = c.Last()
			} else {
				k, _ = c.Prev()
			}
		case q.Desc:
			// The greatest key below the cursor.
			if k, _ = c.Seek(append(bytes.Clone(prefix), q.After...)); k == nil {
				k, _ = c.Last()
			} else {
				k, _ = c.Prev()
			}
		default:
			k, _ = c.Seek(append(bytes.Clone(prefix), q.After...))
			if k != nil && q.After != "" && string(k[len(prefix):]) == q.After {
				k, _ = c.Next()
			}
		}
		for k != nil && bytes.HasPrefix(k, prefix) && len(out) < q.N {
			member := string(k[len(prefix):])
			if !q.Desc && q.Before != "" && member >= q.Before {
				break
			}
			out = append(out, entryOf(member))
			if q.Desc {
				k, _ = c.Prev()
			} else {
				k, _ = c.Next()
			}
		}
		return ctx.Err()
	})
	return out, err
}

// CountList counts a list's entries below before (Lister). It walks the
// keys, not the records: the lists it counts (to-do) are short.
func (b *Bolt) CountList(ctx context.Context, list, scope, before string) (int, error) {
	n := 0
	prefix := listPrefix(list, scope)
	err := b.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketLists).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if before != "" && string(k[len(prefix):]) >= before {
				break
			}
			n++
		}
		return ctx.Err()
	})
	return n, err
}

// Bulk writes applications with their lists, in transactions of a
// thousand, without dedupe keys, jobs or the blind index: the bench's
// loader of a large store (`onething bench`), never a live one.
func (b *Bolt) Bulk(ctx context.Context, apps []*contracts.Application) error {
	for len(apps) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(len(apps), 1000)
		err := b.commit(func(tx *bolt.Tx) error {
			for _, app := range apps[:n] {
				if err := b.putApp(tx, app, "", nil, nil); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		apps = apps[n:]
	}
	return nil
}
