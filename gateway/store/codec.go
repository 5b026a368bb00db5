package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"onething/contracts"
	"onething/gateway/seal"
)

// Personal data at rest. Both backends write an application through the
// one codec below, so what reaches bbolt or Redis is the same: with a
// keyring (WithKeys), the applicant's personal fields are sealed, bound to
// the application's id (in parts, parts.go: the personal part, the tasks'
// part, each timeline note), and the ID number is kept only as a keyed
// blind index. Without one (tests of other packages), applications
// are plain JSON; a store that has ever held sealed data refuses to open
// without its keys.
//
// What is sealed (the rest of the record is the workflow's state: task
// states, case numbers, deadlines, the timeline):
//
//   - the applicant: name, ID number, birth date, ethnicity, mobile, contact
//     phone, address, household registration, guardian, assistance groups,
//     the certificate held (its number holds the ID number);
//   - the delivery: method, address, recipient, phone;
//   - the free text of the requests (certificate note, other identity);
//   - per task: the certificate it decides from or cdpf issued, the
//     applicant's supplement note, and the free text about it (the reason it
//     was refused, cancelled or waits, which holds the applicant's own words
//     for a withdrawal; the result's note; what a department asked to
//     supplement);
//   - the notes of the timeline (the same texts, as they happened).

// Option configures a backend.
type Option func(*options)

type options struct {
	keys *seal.Keyring
	mode openMode
	// keyStore is where the applications' own keys are kept (appkeys.go):
	// a file (bbolt) or a Redis URL; "" the default.
	keyStore string
	// Redis only (redis_conn.go).
	redisPassword, sentinelPassword string
	minReplicas                     int
	waitTimeout                     time.Duration
}

// openMode is how an open treats a store that is not there yet.
type openMode int

const (
	// modeCreate (OpenBolt, OpenRedis and NewRedis without Strict: tests)
	// makes the store, identity included, when there is none.
	modeCreate openMode = iota
	// modeStrict (Strict: the gateway) opens only a store init made.
	modeStrict
	// modeInit (InitBolt, InitRedis) makes the store, adopts one an
	// earlier onething made, and changes nothing in one made before.
	modeInit
)

// Strict opens only a store that `onething store init` made (InitBolt,
// InitRedis) and creates nothing: a missing or empty file, a file or key
// prefix without onething's identity (another program's, or one an earlier
// onething made before stores had one), a store of another format, or a
// damaged file is refused with an *OpenError naming the command to run.
// Every production open is strict (service.OpenStore); without it, the
// constructors make what is missing, for tests.
func Strict() Option { return func(o *options) { o.mode = modeStrict } }

// WithKeys seals personal data with the keyring's current key, opens it
// with the key each blob names, and indexes ID numbers with its index key.
// At open, the backend checks the keys against the store (see checkKeys).
func WithKeys(k *seal.Keyring) Option { return func(o *options) { o.keys = k } }

func buildOptions(opts []Option) options {
	var o options
	for _, f := range opts {
		f(&o)
	}
	return o
}

// codec turns applications into what a backend stores, and back.
type codec struct {
	keys *seal.Keyring
	// dek holds the applications' own data keys (appkeys.go); with keys,
	// nil only where nothing is written (a check without its key store).
	dek *appKeys
	// cache holds recently decoded and encoded records (nil: none).
	cache *recordCache
	// parts: the backend stores sealed records in parts (format 4,
	// parts.go); a record of format 3 is then stale.
	parts bool
}

// envelopeVersion marks a sealed record; a plain one (no "v") is an
// Application as JSON. Version 3: the personal part is sealed under the
// application's own data key (appkeys.go); an erased record has none.
// Version 2 (sealed directly under the keyring) still opens; Reseal
// moves it to 3.
const (
	envelopeVersion   = 3
	envelopeKeyring   = 2
	errNoKeyStoreText = "no key store: the applications' own data keys cannot be read"
)

// envelope is a sealed application as stored: the workflow's part in the
// clear, the personal part sealed, the ID number's blind index.
type envelope struct {
	V      int                    `json:"v"`
	App    *contracts.Application `json:"app"`
	Sealed string                 `json:"sealed,omitempty"`
	Index  string                 `json:"idx,omitempty"`
	// Layout is personalLayout for a record whose sealed part holds the
	// requests' personal fields (absent: written before, with them in the
	// clear; Reseal rewrites it).
	Layout int `json:"p,omitempty"`
	// Format 4 (parts.go): the personal part's tag, the tasks' personal
	// fields sealed, the timeline's entries and its generation.
	PS  string `json:"ps,omitempty"`
	TP  string `json:"tp,omitempty"`
	TL  int    `json:"tl,omitempty"`
	Gen int    `json:"tg,omitempty"`
}

// personalLayout 2: the disability category asked for, the subsidy grade
// box, the medical assistance identity and premium, and the departments'
// error texts are sealed too. In the clear they said something about the
// person, and a copy of the record (bbolt's free pages, the AOF, a
// backup) kept them after an erasure had destroyed the key.
const personalLayout = 2

// personal is the sealed part of an application.
type personal struct {
	Applicant    contracts.Applicant     `json:"applicant"`
	Delivery     contracts.Delivery      `json:"delivery"`
	CertNote     string                  `json:"certNote,omitempty"`
	MedicalOther string                  `json:"medicalOther,omitempty"`
	CertCategory int                     `json:"certCategory,omitempty"`
	GradeBox     string                  `json:"gradeBox,omitempty"`
	Medical      *medicalPersonal        `json:"medical,omitempty"`
	Tasks        map[string]taskPersonal `json:"tasks,omitempty"`
	// Notes are the timeline's notes, by position (nil: none).
	Notes []*contracts.Message `json:"notes,omitempty"`
}

// medicalPersonal is the medical request's assistance identity and
// whether the premium was paid.
type medicalPersonal struct {
	Identity    string `json:"identity,omitempty"`
	PremiumPaid bool   `json:"premiumPaid,omitempty"`
}

type taskPersonal struct {
	LastError      string                 `json:"lastError,omitempty"`
	Certificate    *contracts.Certificate `json:"certificate,omitempty"`
	SupplementNote string                 `json:"supplementNote,omitempty"`
	Reason         *contracts.Message     `json:"reason,omitempty"`
	Result         *contracts.Result      `json:"result,omitempty"`
	Supplement     *contracts.Supplement  `json:"supplement,omitempty"`
}

// IDNumberField names the ID number's blind index (the HMAC's domain).
const IDNumberField = "idNumber"

// NormalizeIDNumber is the form of an ID number the blind index is made
// of: trimmed, the check character upper case.
func NormalizeIDNumber(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

func appContext(id string) []byte { return []byte("onething/application/" + id) }

// encode returns what the backend stores for app, and the blind index of
// its ID number ("" without keys or without an ID number). It does not
// change app.
func (c codec) encode(app *contracts.Application) ([]byte, string, error) {
	data, idx, err := c.encodeRecord(app)
	// An erased application's bytes drop what a change put in its
	// personal part: app is not what they decode to, so it is not cached.
	if err == nil && app.Erased == nil {
		// The next read of these bytes, usually this process's next
		// change of the application, is spared a decode. What they decode
		// to is app (TestCachedReadsDecodeAlike).
		c.cache.put(app.ID, data, &prior{app: app.Clone()}, idx)
	}
	return data, idx, err
}

// makeKey makes app's own data key, if it has none, ahead of the write
// that seals app (encode would make it there).
func (c codec) makeKey(ctx context.Context, app *contracts.Application) error {
	if c.keys == nil || c.dek == nil || app.Erased != nil {
		return nil
	}
	_, err := c.dek.getOrMake(ctx, app.ID)
	return err
}

func (c codec) encodeRecord(app *contracts.Application) ([]byte, string, error) {
	if app.Erased != nil {
		// The personal part was erased (ErasePersonal): nothing is sealed
		// for an erased application any more, and no key made. Whatever a
		// later change put in the personal part (a timeline note, a
		// department's late text) is dropped: its key would outlive the
		// erasure. The household division is the trace's. What stays is
		// stored as a trace record (trace.go).
		cp, _ := splitPersonal(app)
		cp.Applicant = contracts.Applicant{HouseholdDivision: app.Applicant.HouseholdDivision}
		data, err := encodeTrace(&cp)
		return data, "", err
	}
	if c.keys == nil {
		data, err := marshalJSON(app)
		return data, "", err
	}
	cp, p := splitPersonal(app)
	if c.dek == nil {
		return nil, "", errors.New(errNoKeyStoreText)
	}
	ak, err := c.dek.getOrMake(context.Background(), app.ID)
	if err != nil {
		return nil, "", err
	}
	plain, err := marshalJSON(p)
	if err != nil {
		return nil, "", err
	}
	blob, err := ak.Seal(plain, appContext(app.ID))
	if err != nil {
		return nil, "", err
	}
	env := envelope{V: envelopeVersion, App: &cp, Sealed: blob, Layout: personalLayout}
	if n := NormalizeIDNumber(app.Applicant.IDNumber); n != "" {
		env.Index = shortIndex(c.keys.Index(IDNumberField, n))
	}
	data, err := marshalJSON(env)
	return data, env.Index, err
}

// splitPersonal is app without what the codec seals (cp, sharing
// nothing the caller changes with app) and the part it seals (p).
func splitPersonal(app *contracts.Application) (contracts.Application, personal) {
	cp := *app
	p := personal{Applicant: app.Applicant, Delivery: app.Delivery}
	cp.Applicant, cp.Delivery = contracts.Applicant{}, contracts.Delivery{}
	if r := app.Requests.Certificate; r != nil {
		p.CertNote, p.CertCategory = r.Note, r.RequestedCategory
		rc := *r
		rc.Note, rc.RequestedCategory = "", 0
		cp.Requests.Certificate = &rc
	}
	if r := app.Requests.TwoSubsidies; r != nil {
		p.GradeBox = r.GradeBox
		cp.Requests.TwoSubsidies = &contracts.TwoSubsidiesRequest{}
	}
	if m := app.Requests.Medical; m != nil {
		p.MedicalOther = m.IdentityOther
		if m.Identity != "" || m.PremiumPaid {
			p.Medical = &medicalPersonal{Identity: m.Identity, PremiumPaid: m.PremiumPaid}
		}
		cp.Requests.Medical = &contracts.MedicalRequest{}
	}
	cp.Tasks = make([]*contracts.Task, len(app.Tasks))
	for i, t := range app.Tasks {
		tc := *t
		tp := taskPersonal{LastError: t.LastError, Certificate: t.Certificate, SupplementNote: t.SupplementNote, Reason: t.Reason, Result: t.Result, Supplement: t.Supplement}
		if tp != (taskPersonal{}) {
			if p.Tasks == nil {
				p.Tasks = map[string]taskPersonal{}
			}
			p.Tasks[t.ID] = tp
			tc.LastError, tc.Certificate, tc.SupplementNote, tc.Reason, tc.Result, tc.Supplement = "", nil, "", nil, nil, nil
		}
		cp.Tasks[i] = &tc
	}
	if len(app.Timeline) > 0 {
		cp.Timeline = make([]contracts.Entry, len(app.Timeline))
		p.Notes = make([]*contracts.Message, len(app.Timeline))
		for i, e := range app.Timeline {
			p.Notes[i], e.Note = e.Note, nil
			cp.Timeline[i] = e
		}
	}
	return cp, p
}

// sealedPrefix starts every sealed record (encode writes the envelope's
// version first); a plain record is an Application, which starts with its
// id. Telling them apart by it spares a second parse of every read.
var sealedPrefix = []byte(`{"v":`)

func isEnvelope(data []byte) bool { return bytes.HasPrefix(data, sealedPrefix) }

// ErrSealedNoKeys: a sealed record met a store opened without keys.
var ErrSealedNoKeys = errors.New("the record is sealed and no data keys are configured")

// decode opens what the backend stored under id. A sealed record opens
// only under its own id (the blob's associated data). A plain record (one
// written before sealing was configured) decodes as it is; Reseal seals it.
func (c codec) decode(id string, data []byte) (*contracts.Application, string, error) {
	if app, idx, ok := c.cache.get(id, data); ok {
		return app, idx, nil
	}
	app, idx, err := c.decodeUncached(id, data)
	if err == nil {
		c.cache.put(id, bytes.Clone(data), &prior{app: app.Clone()}, idx)
	}
	return app, idx, err
}

// decodeUncached is decode without the cache, for a walk through the
// whole store, which would only push out the records in use. A record
// that is there but does not decode is an *UnreadableError (unreadable.go).
func (c codec) decodeUncached(id string, data []byte) (*contracts.Application, string, error) {
	app, idx, err := c.decodeRecord(id, data)
	if err != nil {
		return nil, "", err
	}
	return app, idx, nil
}

// decodeRecord's error is an *UnreadableError, or (the key store did
// not answer) another.
func (c codec) decodeRecord(id string, data []byte) (*contracts.Application, string, error) {
	bad := func(reason string, err error) (*contracts.Application, string, error) {
		return nil, "", &UnreadableError{ID: id, Reason: reason, err: err}
	}
	if isTrace(data) {
		app, err := decodeTrace(data)
		if err != nil || app.Erased == nil {
			return bad(ReasonMalformed, nil)
		}
		if app.ID != id {
			return bad(ReasonOtherRecord, nil)
		}
		return app, "", nil
	}
	if !isEnvelope(data) {
		var app contracts.Application
		if err := unmarshalJSON(data, &app); err != nil {
			return bad(ReasonMalformed, nil)
		}
		if app.ID != id {
			// Not a plain record of this application: another one's, an
			// envelope not written by encode, or junk.
			return bad(ReasonOtherRecord, nil)
		}
		return &app, "", nil
	}
	if c.keys == nil {
		return bad(ReasonNoKeys, ErrSealedNoKeys)
	}
	var env envelope
	if err := unmarshalJSON(data, &env); err != nil || env.App == nil {
		return bad(ReasonMalformed, nil)
	}
	if env.V == envelopeParts {
		// In parts: only the head is here.
		return bad(ReasonMalformed, nil)
	}
	return c.decodeEnvelope(id, &env)
}

// decodeEnvelope opens a sealed record of format 2 or 3 (one value).
func (c codec) decodeEnvelope(id string, env *envelope) (*contracts.Application, string, error) {
	bad := func(reason string, err error) (*contracts.Application, string, error) {
		return nil, "", &UnreadableError{ID: id, Reason: reason, err: err}
	}
	if env.V != envelopeVersion && env.V != envelopeKeyring {
		return bad(fmt.Sprintf("unknown record version %d", env.V), nil)
	}
	app := env.App
	if app.ID != id {
		return bad(ReasonOtherRecord, nil)
	}
	var plain []byte
	var err error
	switch {
	case env.V == envelopeKeyring:
		plain, err = c.keys.Open(env.Sealed, appContext(id))
	case env.Sealed == "" && app.Erased != nil:
		return app, "", nil // erased: no personal part
	case env.Sealed == "":
		return bad(ReasonMalformed, nil)
	case c.dek == nil:
		return nil, "", errors.New(errNoKeyStoreText)
	default:
		var ak *seal.AppKey
		ak, err = c.dek.get(context.Background(), id)
		if errors.Is(err, ErrKeyDestroyed) {
			return bad(ReasonKeyDestroyed, err)
		}
		if err != nil && !errors.Is(err, seal.ErrOpen) {
			return nil, "", fmt.Errorf("read application %s: %w", id, err)
		}
		if err == nil {
			plain, err = ak.Open(env.Sealed, appContext(id))
		}
	}
	if err != nil {
		// The keyring's messages name key ids and algorithms only.
		return bad(err.Error(), err)
	}
	var p personal
	if err := unmarshalJSON(plain, &p); err != nil {
		return bad("the sealed part is not what the gateway seals", nil)
	}
	if len(p.Notes) == len(app.Timeline) {
		for i := range app.Timeline {
			app.Timeline[i].Note = p.Notes[i]
		}
	} else if len(p.Notes) > 0 {
		return bad("the sealed notes do not match the timeline", nil)
	}
	mergePersonal(app, &p)
	return app, env.Index, nil
}

// mergePersonal puts the personal part p (but its notes) back into app.
func mergePersonal(app *contracts.Application, p *personal) {
	app.Applicant, app.Delivery = p.Applicant, p.Delivery
	// A record of an earlier layout has the requests' fields in the clear
	// and not in p: only what p holds replaces them.
	if r := app.Requests.Certificate; r != nil {
		r.Note = p.CertNote
		if p.CertCategory != 0 {
			r.RequestedCategory = p.CertCategory
		}
	}
	if r := app.Requests.TwoSubsidies; r != nil && p.GradeBox != "" {
		r.GradeBox = p.GradeBox
	}
	if m := app.Requests.Medical; m != nil {
		m.IdentityOther = p.MedicalOther
		if p.Medical != nil {
			m.Identity, m.PremiumPaid = p.Medical.Identity, p.Medical.PremiumPaid
		}
	}
	for _, t := range app.Tasks {
		if tp, ok := p.Tasks[t.ID]; ok {
			t.Certificate, t.SupplementNote, t.Reason, t.Result, t.Supplement = tp.Certificate, tp.SupplementNote, tp.Reason, tp.Result, tp.Supplement
			if tp.LastError != "" {
				t.LastError = tp.LastError
			}
		}
	}
}

// stale reports whether a stored record should be sealed again: it is
// plain, or sealed with a key that is no longer the current one, or its
// index was made with an index key that is no longer the current one.
func (c codec) stale(data []byte) bool {
	if c.keys == nil || isTrace(data) {
		return false
	}
	if !isEnvelope(data) {
		return true
	}
	var pr struct {
		V      int    `json:"v"`
		Sealed string `json:"sealed"`
		Index  string `json:"idx"`
		Layout int    `json:"p"`
	}
	if unmarshalJSON(data, &pr) != nil {
		return false // Get reports it; resealing cannot help
	}
	if pr.V == envelopeVersion && pr.Sealed == "" {
		return true // an erased application written before trace records
	}
	if pr.V == envelopeVersion && c.parts {
		return true // one value: moves to parts
	}
	if pr.V == envelopeVersion || pr.V == envelopeParts {
		// Under the application's own key, which a rewrap keeps under the
		// current keyring key: an earlier layout, a full-length index or
		// an old index key calls for a rewrite.
		return pr.Layout < personalLayout || (pr.Index != "" && (!isShortIndex(pr.Index) || seal.IndexKeyOf(pr.Index) != c.keys.CurrentIndexKey()))
	}
	if pr.V == envelopeKeyring {
		return true // moves to its own key
	}
	kid, err := seal.BlobKey(pr.Sealed)
	if err != nil {
		return false // Get reports it; resealing cannot help
	}
	if kid != c.keys.CurrentKey() {
		return true
	}
	return pr.Index != "" && seal.IndexKeyOf(pr.Index) != c.keys.CurrentIndexKey()
}

// indexes are the blind indexes an ID number may be stored under: per
// index key (the current first) the short tag, then the full value of a
// record written before tags were short (until Reseal rewrites it).
func (c codec) indexes(idNumber string) []string {
	n := NormalizeIDNumber(idNumber)
	if c.keys == nil || n == "" {
		return nil
	}
	full := c.keys.Indexes(IDNumberField, n)
	out := make([]string, 0, 2*len(full))
	for _, f := range full {
		out = append(out, shortIndex(f))
	}
	return append(out, full...)
}

// Key checks. A backend keeps, per data key and index key it has written
// with, a check value (meta "datakey:ID", "indexkey:ID"). Opened with keys,
// it refuses to start when a key it has data of is not configured or is
// not the same key (the check value does not open); it records the
// current keys. Opened without keys, it refuses a store that holds sealed
// data.

const (
	metaDataKey  = "datakey:"
	metaIndexKey = "indexkey:"
)

// metaStore is what checkKeys needs of a backend.
type metaStore interface {
	meta(ctx context.Context) (map[string]string, error)
	// putMeta sets name to value unless it is set; it returns the value
	// name has afterwards.
	putMeta(ctx context.Context, name, value string) (string, error)
	delMeta(ctx context.Context, name string) error
}

// checkKeys checks the keys against the store's key checks; with record,
// it also records the checks of the current keys where the store has none
// (an open that will write; an init of a store made before only verifies).
func checkKeys(ctx context.Context, m metaStore, keys *seal.Keyring, record bool) error {
	meta, err := m.meta(ctx)
	if err != nil {
		return fmt.Errorf("read key checks: %w", err)
	}
	if keys == nil {
		for name := range meta {
			if strings.HasPrefix(name, metaDataKey) {
				return errors.New("this store holds sealed personal data: configure its keys (dataProtection)")
			}
		}
		return nil
	}
	var names []string
	for name := range meta {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := verifyCheck(keys, name, meta[name]); err != nil {
			return err
		}
	}
	if !record {
		return nil
	}
	for _, want := range []struct{ name, id string }{
		{metaDataKey + keys.CurrentKey(), keys.CurrentKey()},
		{metaIndexKey + keys.CurrentIndexKey(), keys.CurrentIndexKey()},
	} {
		if _, ok := meta[want.name]; ok {
			continue
		}
		var check string
		if strings.HasPrefix(want.name, metaDataKey) {
			check, err = keys.KeyCheck(want.id)
		} else {
			check, err = keys.IndexCheck(want.id)
		}
		if err != nil {
			return err
		}
		got, err := m.putMeta(ctx, want.name, check)
		if err != nil {
			return fmt.Errorf("record key check: %w", err)
		}
		if got != check { // another process recorded it first
			if err := verifyCheck(keys, want.name, got); err != nil {
				return err
			}
		}
	}
	return nil
}

func verifyCheck(keys *seal.Keyring, name, value string) error {
	switch {
	case strings.HasPrefix(name, metaDataKey):
		id := strings.TrimPrefix(name, metaDataKey)
		if !keys.HasKey(id) {
			return fmt.Errorf("data protection: this store holds data sealed with key %q, which is not configured (keep an old key among the keys until a reseal has moved its data to the current key)", id)
		}
		return keys.VerifyKeyCheck(id, value)
	case strings.HasPrefix(name, metaIndexKey):
		id := strings.TrimPrefix(name, metaIndexKey)
		for _, have := range keys.IndexKeyIDs() {
			if have == id {
				return keys.VerifyIndexCheck(id, value)
			}
		}
		return fmt.Errorf("data protection: this store's ID-number index was made with index key %q, which is not configured (keep it among the indexKeys until a reseal has re-indexed with the current one)", id)
	}
	return nil
}

// forgetOldKeys drops the key checks of every key but the current ones,
// after a reseal left no data under them: the old keys may then leave the
// configuration.
func forgetOldKeys(ctx context.Context, m metaStore, keys *seal.Keyring) error {
	meta, err := m.meta(ctx)
	if err != nil {
		return err
	}
	for name := range meta {
		if (strings.HasPrefix(name, metaDataKey) && name != metaDataKey+keys.CurrentKey()) ||
			(strings.HasPrefix(name, metaIndexKey) && name != metaIndexKey+keys.CurrentIndexKey()) {
			if err := m.delMeta(ctx, name); err != nil {
				return err
			}
		}
	}
	return nil
}

// ResealStats says what a reseal did.
type ResealStats struct {
	Scanned  int // applications looked at
	Resealed int // applications sealed again with the current keys
	// Unreadable: stale records that did not open, left as they are and
	// listed for operators (UnreadableRecords).
	Unreadable int
	// Keys says what the rewrap of the applications' own keys did (a key
	// wrapped under an older keyring key is wrapped again under the
	// current one; the data stays as it is).
	Keys RewrapStats
}

// finishReseal ends a reseal whose records are done: it rewraps the
// applications' own keys under the current keyring key and then, when
// neither a record nor a key is left under an older one, forgets the
// older keys' checks (they may leave the configuration).
func (c codec) finishReseal(ctx context.Context, m metaStore, st ResealStats) (ResealStats, error) {
	if c.dek != nil {
		ks, err := c.dek.rewrap(ctx)
		st.Keys = ks
		if err != nil {
			return st, fmt.Errorf("rewrap the applications' keys: %w", err)
		}
	}
	if st.Unreadable > 0 || st.Keys.Unreadable > 0 {
		return st, nil // keep every key check while anything is left behind
	}
	return st, forgetOldKeys(ctx, m, c.keys)
}

// WithKeyStore names the key store of the applications' own data keys
// (appkeys.go): for the embedded store a file (default: the data file's
// path with KeyStoreSuffix), for Redis a redis:// or redis+sentinel://
// URL (default: the data Redis, under the store's prefix).
func WithKeyStore(where string) Option { return func(o *options) { o.keyStore = where } }

// Audit log.

// AuditQuery selects audit entries; zero fields do not filter.
type AuditQuery struct {
	ApplicationID string
	Subject       string
	From, To      time.Time // inclusive bounds on the entry's time
	// Limit is the page size (default DefaultAuditLimit, at most MaxAuditLimit).
	Limit int
	// Cursor continues after the last entry of a previous page (its Next).
	Cursor string
}

// Page sizes of audit queries.
const (
	DefaultAuditLimit = 50
	MaxAuditLimit     = 500
)

// ErrBadCursor: an audit cursor this store did not hand out.
var ErrBadCursor = errors.New("malformed audit cursor")

func (q AuditQuery) limit() int {
	switch {
	case q.Limit <= 0:
		return DefaultAuditLimit
	case q.Limit > MaxAuditLimit:
		return MaxAuditLimit
	}
	return q.Limit
}

// matches applies the filters that are not the time range.
func (q AuditQuery) matches(e *contracts.AuditEntry) bool {
	return (q.ApplicationID == "" || e.ApplicationID == q.ApplicationID) && (q.Subject == "" || e.Subject == q.Subject)
}

func (q AuditQuery) inTime(at time.Time) bool {
	return (q.From.IsZero() || !at.Before(q.From)) && (q.To.IsZero() || !at.After(q.To))
}

// encodeAudit is an entry as stored: without its id (the store's key).
func encodeAudit(e contracts.AuditEntry) ([]byte, error) {
	e.ID = ""
	return marshalJSON(e)
}

func decodeAudit(id string, data []byte) (contracts.AuditEntry, error) {
	var e contracts.AuditEntry
	if err := unmarshalJSON(data, &e); err != nil {
		return e, fmt.Errorf("decode audit entry %s: %w", id, err)
	}
	e.ID = id
	return e, nil
}

var (
	_ Store = (*Bolt)(nil)
	_ Store = (*Redis)(nil)
)
