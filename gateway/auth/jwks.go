package auth

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"sync"
	"time"
)

// Key is one verification key of a JWKS.
type Key struct {
	ID string
	// Alg is the one JWT algorithm the key verifies: RS256, ES256 or EdDSA.
	Alg    string
	Public crypto.PublicKey
}

// jwk is a JSON Web Key (RFC 7517/7518/8037) as far as the gateway reads it.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	// D (and the RSA private members) mark a private key: refused, a JWKS
	// for verification must hold public keys only.
	D  string `json:"d"`
	P  string `json:"p"`
	Q  string `json:"q"`
	DP string `json:"dp"`
	DQ string `json:"dq"`
	QI string `json:"qi"`
}

// MinRSABits is the smallest RSA modulus accepted.
const MinRSABits = 2048

// ParseJWKS reads a JWK Set ({"keys": […]}) of RSA (RS256), EC P-256
// (ES256) and Ed25519 (EdDSA) public keys. Keys for encryption or of other
// types and curves are skipped and named in skipped; a malformed key, a
// private key, a duplicate or missing kid is an error, and so is a set with
// no usable key.
func ParseJWKS(data []byte) (keys map[string]Key, skipped []string, err error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, nil, fmt.Errorf("jwks: %w", err)
	}
	keys = map[string]Key{}
	for i, raw := range set.Keys {
		var k jwk
		if err := json.Unmarshal(raw, &k); err != nil {
			return nil, nil, fmt.Errorf("jwks: key %d: %w", i, err)
		}
		if k.Kid == "" {
			return nil, nil, fmt.Errorf("jwks: key %d has no kid", i)
		}
		if _, dup := keys[k.Kid]; dup {
			return nil, nil, fmt.Errorf("jwks: kid %q appears twice", k.Kid)
		}
		if k.D != "" || k.P != "" || k.Q != "" || k.DP != "" || k.DQ != "" || k.QI != "" {
			return nil, nil, fmt.Errorf("jwks: key %q is a private key; publish only public keys", k.Kid)
		}
		if k.Use != "" && k.Use != "sig" {
			skipped = append(skipped, k.Kid+" (use "+k.Use+")")
			continue
		}
		key, ok, err := parseJWK(&k)
		if err != nil {
			return nil, nil, fmt.Errorf("jwks: key %q: %w", k.Kid, err)
		}
		if !ok {
			skipped = append(skipped, fmt.Sprintf("%s (kty %s crv %s alg %s not supported)", k.Kid, k.Kty, k.Crv, k.Alg))
			continue
		}
		keys[k.Kid] = key
	}
	if len(keys) == 0 {
		return nil, skipped, errors.New("jwks: no usable key (RSA RS256, EC P-256 ES256, Ed25519 EdDSA)")
	}
	return keys, skipped, nil
}

func b64(field, s string, size int) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%s is not base64url: %w", field, err)
	}
	if size > 0 && len(b) != size {
		return nil, fmt.Errorf("%s has %d bytes, want %d", field, len(b), size)
	}
	return b, nil
}

// parseJWK makes the public key; ok is false for a type the gateway does
// not verify with.
func parseJWK(k *jwk) (Key, bool, error) {
	switch k.Kty {
	case "RSA":
		if k.Alg != "" && k.Alg != "RS256" {
			return Key{}, false, nil
		}
		n, err := b64("n", k.N, 0)
		if err != nil {
			return Key{}, false, err
		}
		e, err := b64("e", k.E, 0)
		if err != nil {
			return Key{}, false, err
		}
		mod := new(big.Int).SetBytes(n)
		if mod.BitLen() < MinRSABits {
			return Key{}, false, fmt.Errorf("RSA modulus of %d bits; at least %d", mod.BitLen(), MinRSABits)
		}
		exp := new(big.Int).SetBytes(e)
		if !exp.IsInt64() || exp.Int64() < 3 || exp.Int64() > 1<<31-1 || exp.Bit(0) == 0 {
			return Key{}, false, errors.New("RSA exponent must be odd, at least 3 and fit 31 bits")
		}
		return Key{ID: k.Kid, Alg: "RS256", Public: &rsa.PublicKey{N: mod, E: int(exp.Int64())}}, true, nil
	case "EC":
		if k.Crv != "P-256" || (k.Alg != "" && k.Alg != "ES256") {
			return Key{}, false, nil
		}
		x, err := b64("x", k.X, 32)
		if err != nil {
			return Key{}, false, err
		}
		y, err := b64("y", k.Y, 32)
		if err != nil {
			return Key{}, false, err
		}
		// ParseUncompressedPublicKey checks that the point is on the curve.
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			return Key{}, false, fmt.Errorf("EC point: %w", err)
		}
		return Key{ID: k.Kid, Alg: "ES256", Public: pub}, true, nil
	case "OKP":
		if k.Crv != "Ed25519" || (k.Alg != "" && k.Alg != "EdDSA" && k.Alg != "Ed25519") {
			return Key{}, false, nil
		}
		x, err := b64("x", k.X, ed25519.PublicKeySize)
		if err != nil {
			return Key{}, false, err
		}
		return Key{ID: k.Kid, Alg: "EdDSA", Public: ed25519.PublicKey(x)}, true, nil
	}
	return Key{}, false, nil
}

// KeySet is a JWKS file, read again when it changes (checked at most every
// Recheck), so an identity provider's key rotation needs no restart. A file
// that no longer parses keeps the last good keys (and is logged).
type KeySet struct {
	path    string
	recheck time.Duration
	log     *slog.Logger
	now     func() time.Time

	mu      sync.Mutex
	keys    map[string]Key
	stamp   string
	checked time.Time
}

// DefaultRecheck is how often a KeySet looks at its file.
const DefaultRecheck = 10 * time.Second

// LoadKeySet reads the JWKS file at path; recheck 0 means DefaultRecheck.
func LoadKeySet(path string, recheck time.Duration, log *slog.Logger) (*KeySet, error) {
	if recheck <= 0 {
		recheck = DefaultRecheck
	}
	if log == nil {
		log = slog.Default()
	}
	ks := &KeySet{path: path, recheck: recheck, log: log, now: time.Now}
	if err := ks.load(); err != nil {
		return nil, err
	}
	return ks, nil
}

func fileStamp(fi os.FileInfo) string {
	return fmt.Sprint(fi.ModTime().UnixNano(), "/", fi.Size())
}

func (ks *KeySet) load() error {
	fi, err := os.Stat(ks.path)
	if err != nil {
		return fmt.Errorf("jwks file: %w", err)
	}
	data, err := os.ReadFile(ks.path)
	if err != nil {
		return fmt.Errorf("jwks file: %w", err)
	}
	keys, skipped, err := ParseJWKS(bytes.TrimSpace(data))
	if err != nil {
		return fmt.Errorf("%s: %w", ks.path, err)
	}
	if len(skipped) > 0 {
		ks.log.Warn("jwks: keys skipped", "file", ks.path, "keys", skipped)
	}
	ks.keys, ks.stamp, ks.checked = keys, fileStamp(fi), ks.now()
	return nil
}

// Key returns the key named kid.
func (ks *KeySet) Key(kid string) (Key, bool) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if now := ks.now(); now.Sub(ks.checked) >= ks.recheck {
		ks.checked = now
		if fi, err := os.Stat(ks.path); err != nil {
			ks.log.Error("jwks file unreadable; keeping the keys loaded before", "file", ks.path, "err", err)
		} else if fileStamp(fi) != ks.stamp {
			if err := ks.load(); err != nil {
				ks.log.Error("jwks file changed but does not load; keeping the keys loaded before", "err", err)
			} else {
				ks.log.Info("jwks reloaded", "file", ks.path, "keys", len(ks.keys))
			}
		}
	}
	k, ok := ks.keys[kid]
	return k, ok
}
