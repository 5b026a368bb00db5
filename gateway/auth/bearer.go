package auth

import (
	"errors"
	"fmt"
)

// Bearer authenticates `Authorization: Bearer …`: a static token first,
// then (when configured) a JWT.
type Bearer struct {
	Tokens *Tokens
	JWT    *JWTVerifier
}

// Reasons a bearer token is refused (no input in them).
var (
	ErrNoBearer      = errors.New("no bearer token")
	ErrUnknownBearer = errors.New("unknown bearer token")
)

// Verify returns the principal of token; errors wrap ErrUnauthenticated.
func (b *Bearer) Verify(token string) (*Principal, error) {
	if token == "" {
		return nil, fmt.Errorf("%w: %w", ErrUnauthenticated, ErrNoBearer)
	}
	if b.Tokens != nil {
		if p, ok := b.Tokens.Lookup(token); ok {
			return p, nil
		}
	}
	if b.JWT != nil && LooksLikeJWT(token) {
		return b.JWT.Verify(token)
	}
	return nil, fmt.Errorf("%w: %w", ErrUnauthenticated, ErrUnknownBearer)
}
