package service

import (
	"context"
	"errors"
	"sync"

	"onething/gateway/seal"
)

// Keyring loads the keys of the configuration's dataProtection: every data
// key (inline base64 or a keyFile), the current one, and the blind-index
// keys. A missing section, a missing or unreadable key file, a key of the
// wrong length or an unknown algorithm is an error: the gateway does not
// start rather than store personal data in the clear.
func Keyring(cfg Config) (*seal.Keyring, error) {
	if cfg.DataProtection == nil {
		return nil, errors.New("dataProtection: required (the keys that seal personal data at rest; see deploy/onething.example.json)")
	}
	return seal.New(*cfg.DataProtection)
}

// runReseal seals again, in the background, what the store holds plain
// (written before keys were configured) or directly under the keyring
// (before the applications' own keys), and rewraps the applications'
// keys wrapped under an older key, so that a rotated-out key can leave
// the configuration once the log says so.
func (s *Service) runReseal(ctx context.Context, wg *sync.WaitGroup) {
	s.goTask(ctx, wg, "reseal", false, func(ctx context.Context) {
		st, err := s.Store.Reseal(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Error("reseal of stored applications failed; it runs again at the next start", "err", err)
			s.taskFailed("reseal", "error")
		case st.Resealed > 0 || st.Unreadable > 0 || st.Keys.Rewrapped > 0 || st.Keys.Unreadable > 0:
			s.log.Info("stored applications sealed again with the current keys", "resealed", st.Resealed, "scanned", st.Scanned,
				"unreadable", st.Unreadable, "keysRewrapped", st.Keys.Rewrapped, "keys", st.Keys.Keys, "keysUnreadable", st.Keys.Unreadable)
		}
	})
}
