// Package seal protects personal data at rest: a keyring of data keys, each
// named by a key id, that seals (authenticated encryption, AES-256-GCM or
// SM4-GCM) and opens byte strings bound to a context, and a keyed blind
// index (HMAC-SHA256 or HMAC-SM3) that lets the store find a record by an
// identifier it never holds in the clear.
//
// A sealed blob is text, safe inside JSON:
//
//	ot1.KEYID.CIPHER.BASE64URL(nonce || ciphertext || tag)
//
// It names the key that sealed it, so keys rotate: new blobs are sealed
// with the current key, older blobs open with the key they name for as
// long as it stays configured. The associated data binds a blob to its
// header (version, key id, cipher) and to a context the caller gives
// (the id of the application it belongs to): a blob copied into another
// record does not open.
//
// A blind index is KEYID.HEX(HMAC(key, domain || value)); the index key is
// separate from the data keys. Keys come from the configuration (inline,
// for development) or from files (production), base64; a key that is
// missing, malformed or of the wrong length stops the gateway at start.
package seal

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"os"
	"regexp"
	"strings"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"
)

// Ciphers of data keys and hashes of index keys.
const (
	AES256GCM  = "aes-256-gcm" // the default
	SM4GCM     = "sm4-gcm"     // 国密 SM4 in GCM mode
	HMACSHA256 = "hmac-sha256" // the default
	HMACSM3    = "hmac-sm3"    // 国密 SM3 in HMAC
)

const version = "ot1"

// ErrOpen is wrapped by every failure to open a blob: wrong key, wrong
// context, a blob altered or cut.
var ErrOpen = errors.New("sealed data does not open")

// KeySpec configures one key. The key material is base64 (standard
// encoding), inline in Key or in the file KeyFile (whitespace around it is
// ignored); give exactly one.
type KeySpec struct {
	ID string `json:"id"`
	// Algorithm: for a data key aes-256-gcm (default; 32-byte key) or
	// sm4-gcm (16-byte key); for an index key hmac-sha256 (default) or
	// hmac-sm3 (32 bytes or more).
	Algorithm string `json:"algorithm,omitempty"`
	Key       string `json:"key,omitempty"`
	KeyFile   string `json:"keyFile,omitempty"`
}

// Config is the keyring's configuration.
type Config struct {
	// KeyStore is where the store keeps the applications' own data keys,
	// wrapped under these keys (the store reads it; the keyring does not):
	// for the embedded store a file (default: the data file's path with
	// ".keys"), for Redis a redis:// or redis+sentinel:// URL (default:
	// the data Redis, under the store's prefix).
	KeyStore string `json:"keyStore,omitempty"`
	// CurrentKey is the id of the data key new blobs are sealed with.
	CurrentKey string `json:"currentKey"`
	// Keys are every data key that may have sealed stored data: the
	// current one and the older ones still needed to open old blobs.
	Keys []KeySpec `json:"keys"`
	// CurrentIndexKey is the id of the index key new records are indexed
	// with; lookups try every index key.
	CurrentIndexKey string `json:"currentIndexKey"`
	// IndexKeys are the blind-index keys, separate from the data keys.
	IndexKeys []KeySpec `json:"indexKeys"`
}

// Keyring seals and opens with its data keys and computes blind indexes.
// It is safe for concurrent use.
type Keyring struct {
	current   *dataKey
	keys      map[string]*dataKey
	currentIx *indexKey
	indexKeys []*indexKey // the current one first
}

type dataKey struct {
	id, alg string
	aead    cipher.AEAD
}

type indexKey struct {
	id, alg string
	key     []byte
	newHash func() hash.Hash
}

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// New loads and checks every key. It fails when no key is configured, when
// the current key is not among the keys, when a key id repeats or is
// malformed, or when a key cannot be read, is not base64 or has the wrong
// length for its algorithm.
func New(cfg Config) (*Keyring, error) {
	if len(cfg.Keys) == 0 {
		return nil, errors.New("data protection: no data keys configured (keys)")
	}
	if len(cfg.IndexKeys) == 0 {
		return nil, errors.New("data protection: no blind-index keys configured (indexKeys)")
	}
	k := &Keyring{keys: map[string]*dataKey{}}
	for i, spec := range cfg.Keys {
		dk, err := loadDataKey(spec)
		if err != nil {
			return nil, fmt.Errorf("data protection: keys[%d]: %w", i, err)
		}
		if k.keys[dk.id] != nil {
			return nil, fmt.Errorf("data protection: key id %q is configured twice", dk.id)
		}
		k.keys[dk.id] = dk
	}
	if k.current = k.keys[cfg.CurrentKey]; k.current == nil {
		return nil, fmt.Errorf("data protection: currentKey %q is not among the keys", cfg.CurrentKey)
	}
	seen := map[string]bool{}
	for i, spec := range cfg.IndexKeys {
		ik, err := loadIndexKey(spec)
		if err != nil {
			return nil, fmt.Errorf("data protection: indexKeys[%d]: %w", i, err)
		}
		if seen[ik.id] {
			return nil, fmt.Errorf("data protection: index key id %q is configured twice", ik.id)
		}
		if k.keys[ik.id] != nil {
			return nil, fmt.Errorf("data protection: id %q names both a data key and an index key", ik.id)
		}
		seen[ik.id] = true
		if ik.id == cfg.CurrentIndexKey {
			k.currentIx = ik
			k.indexKeys = append([]*indexKey{ik}, k.indexKeys...)
		} else {
			k.indexKeys = append(k.indexKeys, ik)
		}
	}
	if k.currentIx == nil {
		return nil, fmt.Errorf("data protection: currentIndexKey %q is not among the indexKeys", cfg.CurrentIndexKey)
	}
	return k, nil
}

func keyMaterial(spec KeySpec) ([]byte, error) {
	if !keyIDPattern.MatchString(spec.ID) {
		return nil, fmt.Errorf("id %q must be 1-32 letters, digits, - or _", spec.ID)
	}
	text := spec.Key
	switch {
	case spec.Key != "" && spec.KeyFile != "":
		return nil, fmt.Errorf("key %s: give key or keyFile, not both", spec.ID)
	case spec.KeyFile != "":
		data, err := os.ReadFile(spec.KeyFile)
		if err != nil {
			// The path is configuration, not a secret; the error names it.
			return nil, fmt.Errorf("key %s: %w", spec.ID, err)
		}
		text = string(data)
	case spec.Key == "":
		return nil, fmt.Errorf("key %s: no key material (key or keyFile)", spec.ID)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(text))
	if err != nil {
		return nil, fmt.Errorf("key %s: not base64", spec.ID)
	}
	return raw, nil
}

func loadDataKey(spec KeySpec) (*dataKey, error) {
	raw, err := keyMaterial(spec)
	if err != nil {
		return nil, err
	}
	alg := spec.Algorithm
	if alg == "" {
		alg = AES256GCM
	}
	var block cipher.Block
	switch alg {
	case AES256GCM:
		if len(raw) != 32 {
			return nil, fmt.Errorf("key %s: aes-256-gcm needs 32 bytes, got %d", spec.ID, len(raw))
		}
		block, err = aes.NewCipher(raw)
	case SM4GCM:
		if len(raw) != 16 {
			return nil, fmt.Errorf("key %s: sm4-gcm needs 16 bytes, got %d", spec.ID, len(raw))
		}
		block, err = sm4.NewCipher(raw)
	default:
		return nil, fmt.Errorf("key %s: algorithm %q is neither %s nor %s", spec.ID, alg, AES256GCM, SM4GCM)
	}
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", spec.ID, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", spec.ID, err)
	}
	return &dataKey{id: spec.ID, alg: alg, aead: aead}, nil
}

func loadIndexKey(spec KeySpec) (*indexKey, error) {
	raw, err := keyMaterial(spec)
	if err != nil {
		return nil, err
	}
	ik := &indexKey{id: spec.ID, alg: spec.Algorithm, key: raw}
	switch ik.alg {
	case "", HMACSHA256:
		ik.alg, ik.newHash = HMACSHA256, sha256.New
	case HMACSM3:
		ik.newHash = sm3.New
	default:
		return nil, fmt.Errorf("key %s: algorithm %q is neither %s nor %s", spec.ID, spec.Algorithm, HMACSHA256, HMACSM3)
	}
	if len(raw) < 32 {
		return nil, fmt.Errorf("key %s: an index key needs at least 32 bytes, got %d", spec.ID, len(raw))
	}
	return ik, nil
}

// CurrentKey is the id of the key new blobs are sealed with.
func (k *Keyring) CurrentKey() string { return k.current.id }

// HasKey reports whether a data key of that id is configured.
func (k *Keyring) HasKey(id string) bool { return k.keys[id] != nil }

// KeyIDs lists the configured data keys' ids.
func (k *Keyring) KeyIDs() []string {
	out := make([]string, 0, len(k.keys))
	for id := range k.keys {
		out = append(out, id)
	}
	return out
}

func header(dk *dataKey) string { return version + "." + dk.id + "." + dk.alg }

func aad(hdr string, context []byte) []byte {
	b := make([]byte, 0, len(hdr)+1+len(context))
	b = append(b, hdr...)
	b = append(b, 0)
	return append(b, context...)
}

// Seal encrypts plaintext with the current key, bound to context.
func (k *Keyring) Seal(plaintext, context []byte) (string, error) {
	return sealWith(k.current, plaintext, context)
}

func sealWith(dk *dataKey, plaintext, context []byte) (string, error) {
	hdr := header(dk)
	// One buffer holds the additional data, then the nonce and the
	// ciphertext (a record write seals a note per timeline entry it adds).
	ns, ctLen := dk.aead.NonceSize(), len(plaintext)+dk.aead.Overhead()
	buf := make([]byte, 0, len(hdr)+1+len(context)+ns+ctLen)
	buf = append(append(append(buf, hdr...), 0), context...)
	ad := buf[:len(buf):len(buf)]
	nonce := buf[len(buf) : len(buf)+ns]
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	out := dk.aead.Seal(nonce, nonce, plaintext, ad)
	blob := make([]byte, 0, len(hdr)+1+base64.RawURLEncoding.EncodedLen(len(out)))
	blob = append(append(blob, hdr...), '.')
	return string(base64.RawURLEncoding.AppendEncode(blob, out)), nil
}

// IsSealed reports whether s has the form of a sealed blob.
func IsSealed(s string) bool { return strings.HasPrefix(s, version+".") }

// BlobKey returns the id of the key a blob names.
func BlobKey(blob string) (string, error) {
	parts := strings.SplitN(blob, ".", 4)
	if len(parts) != 4 || parts[0] != version {
		return "", fmt.Errorf("%w: not a sealed blob", ErrOpen)
	}
	return parts[1], nil
}

// Open decrypts a blob with the key it names, checking context.
func (k *Keyring) Open(blob string, context []byte) ([]byte, error) {
	parts := strings.SplitN(blob, ".", 4)
	if len(parts) != 4 || parts[0] != version {
		return nil, fmt.Errorf("%w: not a sealed blob", ErrOpen)
	}
	dk := k.keys[parts[1]]
	if dk == nil {
		return nil, fmt.Errorf("%w: sealed with key %q, which is not configured", ErrOpen, parts[1])
	}
	return openWith(dk, parts, context)
}

func openWith(dk *dataKey, parts []string, context []byte) ([]byte, error) {
	if parts[1] != dk.id {
		return nil, fmt.Errorf("%w: sealed with key %q, not %q", ErrOpen, parts[1], dk.id)
	}
	if parts[2] != dk.alg {
		return nil, fmt.Errorf("%w: sealed with %s under key %q, which is configured as %s", ErrOpen, parts[2], dk.id, dk.alg)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[3])
	if err != nil || len(raw) < dk.aead.NonceSize()+dk.aead.Overhead() {
		return nil, fmt.Errorf("%w: blob is malformed", ErrOpen)
	}
	n := dk.aead.NonceSize()
	plain, err := dk.aead.Open(nil, raw[:n], raw[n:], aad(parts[0]+"."+parts[1]+"."+parts[2], context))
	if err != nil {
		return nil, fmt.Errorf("%w: wrong key %q, or the blob was altered or belongs to another record", ErrOpen, dk.id)
	}
	return plain, nil
}

// indexDomain separates the blind index from any other use of its key.
const indexDomain = "onething/blind-index/v1\x00"

func (ik *indexKey) sum(field, value string) string {
	m := hmac.New(ik.newHash, ik.key)
	m.Write([]byte(indexDomain))
	m.Write([]byte(field))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return ik.id + "." + hex.EncodeToString(m.Sum(nil))
}

// Index is the blind index of value (of the kind field, e.g. "idNumber")
// under the current index key.
func (k *Keyring) Index(field, value string) string { return k.currentIx.sum(field, value) }

// Indexes is the blind index of value under every index key, the current
// one first: a lookup finds records indexed before an index-key rotation.
func (k *Keyring) Indexes(field, value string) []string {
	out := make([]string, 0, len(k.indexKeys))
	for _, ik := range k.indexKeys {
		out = append(out, ik.sum(field, value))
	}
	return out
}

// CurrentIndexKey is the id of the index key new records are indexed with.
func (k *Keyring) CurrentIndexKey() string { return k.currentIx.id }

// IndexKeyIDs lists the configured index keys' ids, the current one first.
func (k *Keyring) IndexKeyIDs() []string {
	out := make([]string, 0, len(k.indexKeys))
	for _, ik := range k.indexKeys {
		out = append(out, ik.id)
	}
	return out
}

// IndexKeyOf returns the id of the index key an index value was made with.
func IndexKeyOf(idx string) string {
	id, _, _ := strings.Cut(idx, ".")
	return id
}

// Key checks: a store keeps, per key id it has seen, a check value made
// with that key, so that a start with a wrong key for an id (a typo, the
// wrong file) fails at once instead of at the first read of an old record.

var checkText = []byte("onething key check")

func checkContext(id string) []byte { return []byte("onething/key-check/" + id) }

// KeyCheck makes the check value of data key id (a blob of a fixed text).
func (k *Keyring) KeyCheck(id string) (string, error) {
	dk := k.keys[id]
	if dk == nil {
		return "", fmt.Errorf("data protection: no key %q", id)
	}
	return sealWith(dk, checkText, checkContext(id))
}

// VerifyKeyCheck checks that data key id opens its check value.
func (k *Keyring) VerifyKeyCheck(id, check string) error {
	plain, err := k.Open(check, checkContext(id))
	if err != nil {
		return fmt.Errorf("data protection: key %q does not open data this store holds under that id: wrong key? (%w)", id, err)
	}
	if kid, _ := BlobKey(check); kid != id || !bytes.Equal(plain, checkText) {
		return fmt.Errorf("data protection: the check value of key %q is not its own", id)
	}
	return nil
}

// IndexCheck is the check value of index key id.
func (k *Keyring) IndexCheck(id string) (string, error) {
	for _, ik := range k.indexKeys {
		if ik.id == id {
			return ik.sum("key-check", id), nil
		}
	}
	return "", fmt.Errorf("data protection: no index key %q", id)
}

// VerifyIndexCheck checks that index key id makes the check value stored.
func (k *Keyring) VerifyIndexCheck(id, check string) error {
	want, err := k.IndexCheck(id)
	if err != nil {
		return err
	}
	if !hmac.Equal([]byte(want), []byte(check)) {
		return fmt.Errorf("data protection: index key %q is not the key this store's index was made with: wrong key?", id)
	}
	return nil
}

// NewKey makes a random key for the algorithm, base64 (development
// stacks, tests, and the operator's first key).
func NewKey(alg string) string {
	n := 32
	if alg == SM4GCM {
		n = 16
	}
	b := make([]byte, n)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// DevConfig is a configuration with fresh random inline keys (AES-256-GCM
// data key "dev1", HMAC-SHA256 index key "devidx1"): development stacks
// and tests, never production.
func DevConfig() Config {
	return Config{
		CurrentKey:      "dev1",
		Keys:            []KeySpec{{ID: "dev1", Algorithm: AES256GCM, Key: NewKey(AES256GCM)}},
		CurrentIndexKey: "devidx1",
		IndexKeys:       []KeySpec{{ID: "devidx1", Algorithm: HMACSHA256, Key: NewKey(HMACSHA256)}},
	}
}

// Application keys. Each application's personal part is sealed under a
// data key of its own (an AppKey, a DEK), random, which the store keeps
// wrapped (sealed) under the keyring's current key in a key store apart
// from the data. Destroying the wrapped key leaves every copy of the
// application's sealed part (backups, Redis's AOF, bbolt's free pages)
// unopenable; rotating the keyring rewraps the keys and leaves the data
// alone.

// appKeyID names an application's own key in its blobs: it is never
// looked up in the keyring.
const appKeyID = "app"

// AppKey is one application's own data key, of the algorithm of the
// keyring's current key when it was made.
type AppKey struct{ dk *dataKey }

func appKey(alg string, raw []byte) (*AppKey, error) {
	var block cipher.Block
	var err error
	switch {
	case alg == AES256GCM && len(raw) == 32:
		block, err = aes.NewCipher(raw)
	case alg == SM4GCM && len(raw) == 16:
		block, err = sm4.NewCipher(raw)
	default:
		return nil, fmt.Errorf("%w: an application key of %d bytes for %q", ErrOpen, len(raw), alg)
	}
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	clear(raw) // the AEAD keeps its own schedule
	return &AppKey{dk: &dataKey{id: appKeyID, alg: alg, aead: aead}}, nil
}

// Seal encrypts plaintext with the application key, bound to context.
func (a *AppKey) Seal(plaintext, context []byte) (string, error) {
	return sealWith(a.dk, plaintext, context)
}

// Open decrypts a blob the application key sealed, checking context.
func (a *AppKey) Open(blob string, context []byte) ([]byte, error) {
	parts := strings.SplitN(blob, ".", 4)
	if len(parts) != 4 || parts[0] != version {
		return nil, fmt.Errorf("%w: not a sealed blob", ErrOpen)
	}
	return openWith(a.dk, parts, context)
}

func wrapContext(context []byte) []byte {
	return append([]byte("onething/app-key\x00"), context...)
}

// wrap seals an application key's algorithm and material under the
// current key, bound to context: what the key store keeps.
func (k *Keyring) wrap(alg string, raw, context []byte) (string, error) {
	plain := append(append([]byte(alg), 0), raw...)
	defer clear(plain)
	return k.Seal(plain, wrapContext(context))
}

// NewWrappedAppKey makes a random application key and returns it with
// its wrapped form (sealed under the current key, bound to context).
func (k *Keyring) NewWrappedAppKey(context []byte) (*AppKey, string, error) {
	n := 32
	if k.current.alg == SM4GCM {
		n = 16
	}
	raw := make([]byte, n)
	if _, err := rand.Read(raw); err != nil {
		return nil, "", fmt.Errorf("new application key: %w", err)
	}
	wrapped, err := k.wrap(k.current.alg, raw, context)
	if err != nil {
		return nil, "", err
	}
	a, err := appKey(k.current.alg, raw)
	return a, wrapped, err
}

// UnwrapAppKey opens a wrapped application key (with the keyring key it
// names), checking context.
func (k *Keyring) UnwrapAppKey(wrapped string, context []byte) (*AppKey, error) {
	plain, err := k.Open(wrapped, wrapContext(context))
	if err != nil {
		return nil, err
	}
	alg, raw, ok := bytes.Cut(plain, []byte{0})
	if !ok {
		return nil, fmt.Errorf("%w: not a wrapped application key", ErrOpen)
	}
	return appKey(string(alg), raw)
}

// RewrapAppKey wraps a wrapped application key again under the current
// key (a keyring rotation: the data it sealed stays as it is).
func (k *Keyring) RewrapAppKey(wrapped string, context []byte) (string, error) {
	plain, err := k.Open(wrapped, wrapContext(context))
	if err != nil {
		return "", err
	}
	defer clear(plain)
	alg, raw, ok := bytes.Cut(plain, []byte{0})
	if !ok {
		return "", fmt.Errorf("%w: not a wrapped application key", ErrOpen)
	}
	return k.wrap(string(alg), raw, context)
}
