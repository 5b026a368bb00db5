package store

import (
	"context"
	"errors"
	"strings"

	"onething/contracts"
)

// The blind index of ID numbers is short on purpose. A full keyed hash
// of the number, kept in the clear beside a record and in the index,
// stays in every copy of the store (bbolt's free pages, the AOF, RDB
// snapshots, backups) after an erasure has destroyed the application's
// key; with the index key, which the gateway keeps for the others, an
// ID number (a region, a birth date, a few digits) is found again by
// trying the candidates. A tag of shortIndexHex hex digits (16 bits) is
// shared by about one in 65,536 numbers: a copy says no more of a person
// than that, and a search reads the applications of its tag and keeps
// those whose sealed number is the one asked (findVerified): about one
// application more per 65,536 stored. (Truncated blind indexes, as
// CipherSweet recommends for the same reason.)

// shortIndexHex is how many hex digits of the keyed hash a tag keeps.
const shortIndexHex = 4

// shortIndex is the tag of a blind index value "KEYID.HEX".
func shortIndex(full string) string {
	id, sum, ok := strings.Cut(full, ".")
	if !ok || len(sum) <= shortIndexHex {
		return full
	}
	return id + "." + sum[:shortIndexHex]
}

func isShortIndex(idx string) bool {
	_, sum, ok := strings.Cut(idx, ".")
	return ok && len(sum) == shortIndexHex
}

// findVerified keeps, of the candidates an index tag names (sorted, no
// repeats), the applications whose sealed ID number is n: a tag is
// shared, and an entry may outlive its record's number (a copy, a record
// that does not open). get reads an application.
func findVerified(ctx context.Context, get func(context.Context, string) (*contracts.Application, error), n string, candidates []string) ([]string, error) {
	var out []string
	for _, id := range candidates {
		app, err := get(ctx, id)
		switch {
		case errors.Is(err, ErrNotFound), errors.Is(err, ErrUnreadable):
			continue
		case err != nil:
			return nil, err
		}
		if NormalizeIDNumber(app.Applicant.IDNumber) == n {
			out = append(out, id)
		}
	}
	return out, nil
}
