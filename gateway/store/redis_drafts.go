package store

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

func (r *Redis) draftKey(owner string) string { return r.prefix + ":draft:" + owner }

// PutDraft keeps owner's draft with Redis's own expiry (SET … EX), so an
// abandoned draft goes without a sweep; reads check the stored expiry too.
func (r *Redis) PutDraft(ctx context.Context, owner string, d Draft) error {
	data, err := r.codec.encodeDraft(owner, d)
	if err != nil {
		return err
	}
	return r.rdb.Set(ctx, r.draftKey(owner), data, DraftLifetime).Err()
}

func (r *Redis) Draft(ctx context.Context, owner string, now time.Time) (Draft, error) {
	data, err := r.rdb.Get(ctx, r.draftKey(owner)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Draft{}, ErrNotFound
	}
	if err != nil {
		return Draft{}, err
	}
	d, ok := r.codec.decodeDraft(owner, data, now)
	if !ok {
		if err := r.DeleteDraft(ctx, owner); err != nil {
			return Draft{}, err
		}
		return Draft{}, ErrNotFound
	}
	return d, nil
}

func (r *Redis) DeleteDraft(ctx context.Context, owner string) error {
	return r.rdb.Del(ctx, r.draftKey(owner)).Err()
}
