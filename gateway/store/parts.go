package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"onething/contracts"
	"onething/gateway/seal"
)

// Record format 4: a sealed application in parts, so that an event
// writes what it changed instead of the whole record (every event,
// dispatch acknowledgement and push used to read and rewrite ~10 KB and
// seal the whole personal part again):
//
//   - the head (bbolt "apps", Redis field doc): the envelope of the
//     workflow's part without the timeline, with the tasks' personal
//     fields sealed in it ("tp", changed by department decisions), the
//     number of timeline entries ("tl") and the tag of the personal part;
//   - the personal part (bbolt "personal", Redis field per): applicant,
//     delivery and the requests' personal fields, sealed; written at
//     intake and again only when its plain text changes;
//   - the timeline's entries (bbolt "timeline" id+0x00+index, Redis fields
//     t:00000…), each with its note sealed on its own, bound to the id and
//     the index; an event appends its entries.
//
// The head says everything the parts are: "ps" changes with every sealing
// of the personal part (it is the blob's nonce), "tl" with every entry
// appended and "tg" with every rewrite of the timeline. So equal head bytes
// mean an equal record, which the decode cache relies on.
//
// A record of format 3 (one value) still reads; its first write writes
// the parts. Plain records (no keys) and traces (erased) stay one value.
const envelopeParts = 4

// stored is an application's record as a backend read it.
type stored struct {
	head []byte
	// per is the sealed personal part (nil: none stored).
	per []byte
	// tl holds the timeline's entries by index (a missing one nil).
	tl [][]byte
}

// prior is what a write needs of the record it replaces: what is stored
// of it, and the application it decodes to (never changed: compared with
// what the write brings; nil when no cache holds it, so the write seals
// every part again).
type prior struct {
	app *contracts.Application
	// parts: the record is of format 4 (per, tp, tl and gen say what its
	// parts hold).
	parts   bool
	per, tp string
	tl, gen int
	// taskJSON is each task's JSON in the head this write made (aligned
	// with app.Tasks; nil: not known, as after a read), for marshalHead.
	taskJSON [][]byte
	// index is the blind index this process computed, with its keyring,
	// for app's ID number at the write that made the record ("": none
	// computed here; a read does not set it, since a record may carry an
	// index made with an earlier index key).
	index string
}

// recordWrite is what a write of an application changes in its parts.
type recordWrite struct {
	head []byte
	// per is the personal part to store (nil: the stored one stays).
	per []byte
	// dropParts: the record is no longer in parts (a trace): the personal
	// part goes, and every timeline entry (dropTL says how many there were).
	dropParts bool
	// tlFrom is the index of the first entry in tl (the ones before are
	// stored already); tlCount the entries the record has; entries from
	// tlCount to tlOld are deleted.
	tlFrom, tlCount, tlOld int
	tl                     [][]byte
}

// storedEntry is a timeline entry as stored: its note sealed.
type storedEntry struct {
	contracts.Entry
	N string `json:"n,omitempty"`
}

func personalContext(id string) []byte { return []byte("onething/application/" + id + "/personal") }
func tasksContext(id string) []byte    { return []byte("onething/application/" + id + "/tasks") }
func noteContext(id string, i int) []byte {
	b := make([]byte, 0, len("onething/application//timeline/")+len(id)+8)
	b = append(append(append(b, "onething/application/"...), id...), "/timeline/"...)
	return strconv.AppendInt(b, int64(i), 10)
}

// blobTag is what a head says of its personal part: the blob's nonce
// (random per sealing), so a new sealing changes the head.
func blobTag(blob string) string {
	i := strings.LastIndexByte(blob, '.')
	if i < 0 || len(blob)-i-1 < 16 {
		return blob
	}
	return blob[i+1 : i+17]
}

// personalOf is the part of app's personal data that the personal part
// holds (neither the tasks' nor the timeline's).
func personalOf(app *contracts.Application) personal {
	p := personal{Applicant: app.Applicant, Delivery: app.Delivery}
	if r := app.Requests.Certificate; r != nil {
		p.CertNote, p.CertCategory = r.Note, r.RequestedCategory
	}
	if r := app.Requests.TwoSubsidies; r != nil {
		p.GradeBox = r.GradeBox
	}
	if m := app.Requests.Medical; m != nil {
		p.MedicalOther = m.IdentityOther
		if m.Identity != "" || m.PremiumPaid {
			p.Medical = &medicalPersonal{Identity: m.Identity, PremiumPaid: m.PremiumPaid}
		}
	}
	return p
}

// personalEqual is reflect.DeepEqual for what personalOf returns, without
// reflection (which was 3 % of a write's CPU in BenchmarkBoltLifecycle).
// The applicant, the delivery and the medical part are compared with ==,
// what their pointers point to likewise: a field added to them that ==
// cannot compare stops the build, and a pointer added compares by
// identity (a difference, so the part is sealed again: never a change
// missed). TestPersonalEqual guards personal's own fields.
func personalEqual(a, b personal) bool {
	if a.Tasks != nil || b.Tasks != nil || a.Notes != nil || b.Notes != nil {
		return reflect.DeepEqual(a, b) // not personalOf's
	}
	return applicantEqual(a.Applicant, b.Applicant) && a.Delivery == b.Delivery &&
		a.CertNote == b.CertNote && a.MedicalOther == b.MedicalOther && a.CertCategory == b.CertCategory &&
		a.GradeBox == b.GradeBox && ptrEqual(a.Medical, b.Medical)
}

func applicantEqual(a, b contracts.Applicant) bool {
	if !ptrEqual(a.Guardian, b.Guardian) || !ptrEqual(a.Certificate, b.Certificate) {
		return false
	}
	a.Guardian, a.Certificate, b.Guardian, b.Certificate = nil, nil, nil, nil
	return a == b
}

func ptrEqual[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func tasksPersonalOf(app *contracts.Application) map[string]taskPersonal {
	var out map[string]taskPersonal
	for _, t := range app.Tasks {
		tp := taskPersonal{LastError: t.LastError, Certificate: t.Certificate, SupplementNote: t.SupplementNote, Reason: t.Reason, Result: t.Result, Supplement: t.Supplement}
		if tp != (taskPersonal{}) {
			if out == nil {
				out = map[string]taskPersonal{}
			}
			out[t.ID] = tp
		}
	}
	return out
}

func entryEqual(a, b *contracts.Entry) bool {
	if a.At != b.At || a.TaskID != b.TaskID || a.Kind != b.Kind || a.From != b.From || a.To != b.To || a.Source != b.Source {
		return false
	}
	if a.Note == nil || b.Note == nil {
		return a.Note == b.Note
	}
	return *a.Note == *b.Note
}

// encodeParts is encode for a backend that stores records in parts: what
// to write of app over the record old (nil: none, a creation).
func (c codec) encodeParts(app *contracts.Application, old *prior) (recordWrite, string, error) {
	w, idx, pr, err := c.encodePartsRecord(app, old)
	if err == nil && pr != nil && c.cache != nil {
		pr.app = app.Clone()
		c.cache.put(app.ID, w.head, pr, idx)
	}
	return w, idx, err
}

// encodePartsUncommitted is encodeParts for a write that may yet be
// rolled back or run again (bbolt's group commit): the cache learns the
// record only when the caller calls remember, once it is committed.
// The prior it returns (nil: the record is not one to cache) is what a
// later read of w.head in the same transaction is.
func (c codec) encodePartsUncommitted(app *contracts.Application, old *prior) (recordWrite, string, *prior, func(), error) {
	w, idx, pr, err := c.encodePartsRecord(app, old)
	if err != nil || pr == nil || c.cache == nil {
		return w, idx, nil, func() {}, err
	}
	pr.app = app.Clone() // app may change before the commit; these bytes do not
	return w, idx, pr, func() { c.cache.put(app.ID, w.head, pr, idx) }, nil
}

// decodePartsUncommitted is decodeParts for what a write transaction
// reads, which may be another function's uncommitted write: it uses the
// cache and leaves it as it was (the write that follows puts its own
// record in it once committed).
func (c codec) decodePartsUncommitted(id string, s stored) (*contracts.Application, string, *prior, error) {
	if pr, idx, ok := c.cached(id, s.head, s.per); ok {
		return pr.app.Clone(), idx, pr, nil
	}
	return c.decodePartsUncached(id, s)
}

func (c codec) encodePartsRecord(app *contracts.Application, old *prior) (recordWrite, string, *prior, error) {
	return c.encodePartsWith(app, old, nil)
}

// encodePartsNew is encodeParts for a creation whose write stores the
// application's data key itself (the Redis backend when its keys live in
// the data Redis: one script writes the key and the record): ak is that
// key, made by the caller and not in the key store yet.
func (c codec) encodePartsNew(app *contracts.Application, ak *seal.AppKey) (recordWrite, string, error) {
	w, idx, pr, err := c.encodePartsWith(app, nil, ak)
	if err == nil && pr != nil && c.cache != nil {
		pr.app = app.Clone()
		c.cache.put(app.ID, w.head, pr, idx)
	}
	return w, idx, err
}

// encodePartsWith is encodePartsRecord under the application key ak (nil:
// the key store's, made there when the application has none).
func (c codec) encodePartsWith(app *contracts.Application, old *prior, ak *seal.AppKey) (recordWrite, string, *prior, error) {
	if old == nil {
		old = &prior{}
	}
	if app.Erased != nil || c.keys == nil {
		data, idx, err := c.encodeRecord(app)
		w := recordWrite{head: data, dropParts: old.parts, tlOld: old.tl}
		if err != nil || app.Erased != nil {
			return w, idx, nil, err
		}
		return w, idx, &prior{}, nil
	}
	if ak == nil {
		if c.dek == nil {
			return recordWrite{}, "", nil, errors.New(errNoKeyStoreText)
		}
		var err error
		if ak, err = c.dek.getOrMake(context.Background(), app.ID); err != nil {
			return recordWrite{}, "", nil, err
		}
	}
	pr := &prior{parts: true, per: old.per, tp: old.tp, gen: old.gen, tl: len(app.Timeline)}
	w := recordWrite{tlCount: len(app.Timeline), tlOld: old.tl}

	// The personal part is sealed again only when its plain text changed.
	same := old.parts && old.app != nil // what was stored can be compared
	p := personalOf(app)
	if !same || old.per == "" || !personalEqual(personalOf(old.app), p) {
		plain, err := marshalJSON(p)
		if err != nil {
			return w, "", nil, err
		}
		if pr.per, err = ak.Seal(plain, personalContext(app.ID)); err != nil {
			return w, "", nil, err
		}
		w.per = []byte(pr.per)
	}
	tp := tasksPersonalOf(app)
	switch {
	case len(tp) == 0:
		pr.tp = ""
	case same && old.tp != "" && tasksPersonalEqual(tasksPersonalOf(old.app), tp):
	default:
		plain, err := marshalJSON(tp)
		if err != nil {
			return w, "", nil, err
		}
		if pr.tp, err = ak.Seal(plain, tasksContext(app.ID)); err != nil {
			return w, "", nil, err
		}
	}

	// The timeline: the entries after the stored ones, when those stay as
	// they are; else all of them, under a new generation.
	if same && old.tl <= len(app.Timeline) && len(old.app.Timeline) == old.tl {
		w.tlFrom = old.tl
		for i := range old.tl {
			if !entryEqual(&old.app.Timeline[i], &app.Timeline[i]) {
				w.tlFrom = 0
				break
			}
		}
	}
	if w.tlFrom == 0 && old.parts && old.tl > 0 {
		pr.gen++
	}
	for i := w.tlFrom; i < len(app.Timeline); i++ {
		se := storedEntry{Entry: app.Timeline[i]}
		se.Note = nil
		if n := app.Timeline[i].Note; n != nil {
			plain, err := marshalNote(n)
			if err != nil {
				return w, "", nil, err
			}
			if se.N, err = ak.Seal(plain, noteContext(app.ID, i)); err != nil {
				return w, "", nil, err
			}
		}
		data, err := marshalEntry(&se)
		if err != nil {
			return w, "", nil, err
		}
		w.tl = append(w.tl, data)
	}

	cp := headOf(app)
	env := envelope{V: envelopeParts, App: &cp, Layout: personalLayout, PS: blobTag(pr.per), TP: pr.tp, TL: len(app.Timeline), Gen: pr.gen}
	if n := NormalizeIDNumber(app.Applicant.IDNumber); n != "" {
		// The HMAC is made again only when the ID number changed since
		// this process last indexed it (every event used to make it).
		if same && old.index != "" && NormalizeIDNumber(old.app.Applicant.IDNumber) == n {
			env.Index = old.index
		} else {
			env.Index = shortIndex(c.keys.Index(IDNumberField, n))
		}
	}
	pr.index = env.Index
	data, tasks, err := marshalHead(&env, app, old)
	if err != nil {
		return w, "", nil, err
	}
	w.head, pr.taskJSON = data, tasks
	return w, env.Index, pr, nil
}

// headOf is app without its personal part and its timeline (sharing
// nothing the caller changes with app).
func headOf(app *contracts.Application) contracts.Application {
	shallow := *app
	shallow.Timeline = nil
	if app.Timeline != nil {
		// An empty timeline reads back empty, not absent.
		shallow.Timeline = []contracts.Entry{}
	}
	cp, _ := splitPersonal(&shallow)
	return cp
}

// decodeParts opens an application stored in parts (or as one value: a
// record of format 3, a plain record, a trace), through the cache.
func (c codec) decodeParts(id string, s stored) (*contracts.Application, string, *prior, error) {
	if pr, idx, ok := c.cached(id, s.head, s.per); ok {
		return pr.app.Clone(), idx, pr, nil
	}
	app, idx, pr, err := c.decodePartsUncached(id, s)
	if err != nil {
		return nil, "", nil, err
	}
	c.cache.put(id, append([]byte(nil), s.head...), pr, idx)
	return app, idx, pr, nil
}

// cached is what the cache holds of the record whose head and personal
// part are these. The head names every part (ps, tp, tl, tg), so equal
// heads are equal records as the store writes them; the personal part is
// compared too, so that one altered or damaged behind the store's back
// is found at once, as a record of one value was.
func (c codec) cached(id string, head, per []byte) (*prior, string, bool) {
	pr, idx, ok := c.cache.getPrior(id, head)
	if !ok || (pr.parts && string(per) != pr.per) {
		return nil, "", false
	}
	return pr, idx, true
}

// decodePartsUncached is decodeParts without the cache (a walk through
// the whole store).
func (c codec) decodePartsUncached(id string, s stored) (*contracts.Application, string, *prior, error) {
	app, idx, pr, err := c.decodeRecordParts(id, s)
	if err != nil {
		return nil, "", nil, err
	}
	pr.app = app.Clone()
	return app, idx, pr, nil
}

// decodeRecordParts is decodeRecord for a record that may be in parts;
// the prior it returns has no app yet.
func (c codec) decodeRecordParts(id string, s stored) (*contracts.Application, string, *prior, error) {
	if !isEnvelope(s.head) || c.keys == nil {
		app, idx, err := c.decodeRecord(id, s.head)
		return app, idx, &prior{}, err
	}
	var env envelope
	if err := unmarshalJSON(s.head, &env); err != nil || env.App == nil {
		return nil, "", nil, &UnreadableError{ID: id, Reason: ReasonMalformed}
	}
	if env.V != envelopeParts {
		app, idx, err := c.decodeEnvelope(id, &env)
		return app, idx, &prior{}, err
	}
	bad := func(reason string, err error) (*contracts.Application, string, *prior, error) {
		return nil, "", nil, &UnreadableError{ID: id, Reason: reason, err: err}
	}
	app := env.App
	if app.ID != id {
		return bad(ReasonOtherRecord, nil)
	}
	if s.per == nil || env.TL < 0 {
		return bad(ReasonMalformed, nil)
	}
	if c.dek == nil {
		return nil, "", nil, errors.New(errNoKeyStoreText)
	}
	ak, err := c.dek.get(context.Background(), id)
	if errors.Is(err, ErrKeyDestroyed) {
		return bad(ReasonKeyDestroyed, err)
	}
	if err != nil && !errors.Is(err, seal.ErrOpen) {
		return nil, "", nil, fmt.Errorf("read application %s: %w", id, err)
	}
	if err != nil {
		return bad(err.Error(), err)
	}
	per := string(s.per)
	if blobTag(per) != env.PS {
		return bad("the personal part is not the one the record names", nil)
	}
	open := func(blob string, ctx []byte, v any) (string, error) {
		plain, err := ak.Open(blob, ctx)
		if err != nil {
			return err.Error(), err
		}
		if unmarshalJSON(plain, v) != nil {
			return "the sealed part is not what the gateway seals", errors.New("malformed")
		}
		return "", nil
	}
	var p personal
	if reason, err := open(per, personalContext(id), &p); err != nil {
		return bad(reason, err)
	}
	var tp map[string]taskPersonal
	if env.TP != "" {
		if reason, err := open(env.TP, tasksContext(id), &tp); err != nil {
			return bad(reason, err)
		}
	}
	p.Tasks = tp
	if env.TL > len(s.tl) {
		return bad("the timeline is incomplete", nil)
	}
	if env.TL > 0 {
		app.Timeline = make([]contracts.Entry, env.TL)
	}
	for i := range env.TL {
		if s.tl[i] == nil {
			return bad("the timeline is incomplete", nil)
		}
		var se storedEntry
		if unmarshalJSON(s.tl[i], &se) != nil {
			return bad(ReasonMalformed, nil)
		}
		se.Entry.Note = nil
		if se.N != "" {
			var m contracts.Message
			if reason, err := open(se.N, noteContext(id, i), &m); err != nil {
				return bad(reason, err)
			}
			se.Entry.Note = &m
		}
		app.Timeline[i] = se.Entry
	}
	mergePersonal(app, &p)
	return app, env.Index, &prior{parts: true, per: per, tp: env.TP, tl: env.TL, gen: env.Gen}, nil
}
