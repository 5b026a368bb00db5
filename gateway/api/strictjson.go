package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	c "onething/contracts"
)

// Strict JSON, on top of decodeStrict's unknown-field and trailing-data
// checks: a key may appear once per object (compared as encoding/json
// matches keys to fields, i.e. case-insensitively, so `"name"` and
// `"Name"` are the same key), the body must be valid UTF-8 (encoding/json
// would silently replace bad bytes), and objects and arrays nest at most
// MaxJSONDepth deep. Two parsers that disagree on which of two "idNumber"
// keys counts are how a signed body comes to mean two things.

// MaxJSONDepth bounds nesting in request bodies (the deepest real body,
// a submission, nests 4 deep).
const MaxJSONDepth = 32

// DuplicateKeyError names the JSON path of a key that appears twice in one
// object, e.g. "applicant.idNumber" or "materials[2].code".
type DuplicateKeyError struct{ Path string }

func (e *DuplicateKeyError) Error() string { return "duplicate key " + e.Path }

var (
	errTooDeep  = fmt.Errorf("JSON nests deeper than %d levels", MaxJSONDepth)
	errNotUTF8  = errors.New("the body is not valid UTF-8")
	errTrailing = errors.New("unexpected data after the JSON object")
	plainKey    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)
)

// checkStrict checks the body's encoding, its first value's nesting and
// duplicate keys. Syntax errors are left to the decoder, which reports
// them with their offset.
func checkStrict(body []byte) error {
	if !utf8.Valid(body) {
		return errNotUTF8
	}
	return checkDuplicateKeys(body)
}

// frame is one open object or array during the scan. Paths are built only
// when a duplicate is found, from the frames' keys and indexes.
type frame struct {
	object bool
	keys   []string            // object: folded keys seen (few: a slice)
	many   map[string]struct{} // object: the same, once there are many
	key    string              // object: the key whose value is being read
	index  int                 // array: index of the element being read
}

// manyKeys is where an object's key set moves from a slice to a map, so
// that a body with a huge object costs linear time, not quadratic.
const manyKeys = 16

// seen records a folded key and reports whether it was there already.
func (f *frame) seen(k string) bool {
	if f.many != nil {
		if _, ok := f.many[k]; ok {
			return true
		}
		f.many[k] = struct{}{}
		return false
	}
	for _, s := range f.keys {
		if s == k {
			return true
		}
	}
	f.keys = append(f.keys, k)
	if len(f.keys) > manyKeys {
		f.many = make(map[string]struct{}, 2*manyKeys)
		for _, s := range f.keys {
			f.many[s] = struct{}{}
		}
		f.keys = nil
	}
	return false
}

// checkDuplicateKeys scans the first JSON value of body byte by byte,
// iteratively (no recursion, whatever the input), and returns a
// *DuplicateKeyError for the first key repeated in an object, or
// errTooDeep. It is a scanner, not a parser: where the input is not JSON
// it stops and returns nil, and the decoder that runs next reports the
// syntax error with its offset. (It replaced a walk with Decoder.Token
// that cost a fifth of intake's CPU; the tests keep that walk as the
// reference the fuzz target compares this scanner against.)
func checkDuplicateKeys(body []byte) error {
	const (
		wantValue = iota
		wantKey   // in an object, after '{' or ','
		wantMore  // after a value: ',' or the closer of the frame
	)
	var stack []frame
	state, i := wantValue, 0
	for {
		i = skipSpace(body, i)
		if i >= len(body) {
			return nil
		}
		switch state {
		case wantValue:
			switch body[i] {
			case '{', '[':
				if len(stack) >= MaxJSONDepth {
					return errTooDeep
				}
				obj := body[i] == '{'
				stack = append(stack, frame{object: obj})
				i = skipSpace(body, i+1)
				switch {
				case i < len(body) && (obj && body[i] == '}' || !obj && body[i] == ']'):
					state = wantMore // empty: wantMore closes it
				case obj:
					state = wantKey
				}
				continue
			case '"':
				if i = skipString(body, i); i < 0 {
					return nil
				}
			default:
				end := skipLiteral(body, i)
				if end == i {
					return nil
				}
				i = end
			}
			state = wantMore
		case wantKey:
			if body[i] != '"' {
				return nil
			}
			end := skipString(body, i)
			if end < 0 {
				return nil
			}
			key, folded, ok := readKey(body[i:end])
			if !ok {
				return nil
			}
			top := &stack[len(stack)-1]
			if top.seen(folded) {
				return &DuplicateKeyError{Path: joinPath(stackPath(stack[:len(stack)-1]), key)}
			}
			top.key = key
			if i = skipSpace(body, end); i >= len(body) || body[i] != ':' {
				return nil
			}
			i++
			state = wantValue
		case wantMore:
			if len(stack) == 0 {
				return nil // the first value is complete
			}
			top := &stack[len(stack)-1]
			switch b := body[i]; {
			case b == ',':
				if top.object {
					state = wantKey
				} else {
					top.index++
					state = wantValue
				}
			case top.object && b == '}', !top.object && b == ']':
				stack = stack[:len(stack)-1]
				if len(stack) == 0 {
					return nil
				}
			default:
				return nil // not JSON: the decoder says where
			}
			i++
		}
	}
}

// stackPath is the JSON path of the value being read in the innermost of
// frames, e.g. "applicant" or "materials[2]".
func stackPath(frames []frame) string {
	path := ""
	for _, f := range frames {
		if f.object {
			path = joinPath(path, f.key)
		} else {
			path += "[" + strconv.Itoa(f.index) + "]"
		}
	}
	return path
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the string that starts at b[i]
// (a quote), or -1 if it does not end.
func skipString(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// skipLiteral returns the index just past a number, true, false or null.
func skipLiteral(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ':', '"', '{', '[', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// readKey returns a quoted key (as found, with its quotes) decoded, and
// its folded form. Plain ASCII keys, all of the real ones, fold by upper
// casing (the least rune of every ASCII letter's fold class is its upper
// case, which is what foldKey picks); others are unquoted by encoding/json
// and folded rune by rune.
func readKey(quoted []byte) (key, folded string, ok bool) {
	inner := quoted[1 : len(quoted)-1]
	plain := true
	for _, c := range inner {
		if c == '\\' || c >= utf8.RuneSelf || c < ' ' {
			plain = false
			break
		}
	}
	if plain {
		key = string(inner)
		up := []byte(key)
		for k, c := range up {
			if 'a' <= c && c <= 'z' {
				up[k] = c - ('a' - 'A')
			}
		}
		return key, string(up), true
	}
	if err := json.Unmarshal(quoted, &key); err != nil {
		return "", "", false
	}
	return key, foldKey(key), true
}

// joinPath appends key to a path, showing keys that are not plain
// identifiers as "?" (a key is input and could be anything).
func joinPath(path, key string) string {
	if !plainKey.MatchString(key) {
		key = "?"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// foldKey maps s to one representative of its case-folding class, so two
// keys that encoding/json would match to the same field (bytes.EqualFold)
// fold to the same string.
func foldKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		min := r
		for x := unicode.SimpleFold(r); x != r; x = unicode.SimpleFold(x) {
			if x < min {
				min = x
			}
		}
		b.WriteRune(min)
	}
	return b.String()
}

// endOfInput reports whether dec has nothing but white space left (More
// alone would let a stray `]` or `}` through).
func endOfInput(dec *json.Decoder) bool {
	_, err := dec.Token()
	return err == io.EOF
}

// MaxEchoedField is the most characters of a key (or a path of keys) an
// error repeats.
const MaxEchoedField = 64

// echoField is how an error names a key the caller sent (an unknown or
// duplicate field, the path of a wrong type): at most MaxEchoedField
// characters, "…" after, with any ID, certificate or phone number in it
// masked (contracts.MaskFreeText), so a key can make the gateway repeat
// neither personal data nor a huge text. A number running past the cut
// is masked whole: the cut is made after masking.
func echoField(f string) string {
	const context = 32 // characters after the cut that masking sees
	f = strings.ToValidUTF8(f, "\uFFFD")
	n, cut := 0, len(f)
	for i := range f {
		if n == MaxEchoedField+context {
			cut = i
			break
		}
		n++
	}
	masked := c.MaskFreeText(f[:cut])
	if utf8.RuneCountInString(masked) <= MaxEchoedField && cut == len(f) {
		return masked
	}
	rs := []rune(masked)
	if len(rs) > MaxEchoedField {
		rs = rs[:MaxEchoedField]
	}
	return string(rs) + "…"
}

// unknownField is the key named in encoding/json's "unknown field" error
// (quoted with %q), as echoField shows it.
func unknownField(quoted string) string {
	f, err := strconv.Unquote(quoted)
	if err != nil {
		f = strings.Trim(quoted, `"`)
	}
	return echoField(f)
}

// badJSON answers a body that did not decode: 400 duplicate_key for a
// repeated key, 400 malformed_json otherwise, with the problem in details.
func (s *server) badJSON(g *gin.Context, zh, en string, err error) {
	var dup *DuplicateKeyError
	if errors.As(err, &dup) {
		path := echoField(dup.Path)
		s.fail(g, http.StatusBadRequest, "duplicate_key", "请求体中有重复的字段："+path,
			"the body has a duplicate key: "+path, jsonProblem(err))
		return
	}
	s.fail(g, http.StatusBadRequest, "malformed_json", zh, en, jsonProblem(err))
}

// strictProblem describes the strict checks' errors for jsonProblem.
func strictProblem(err error) (c.FieldError, bool) {
	var dup *DuplicateKeyError
	switch {
	case errors.As(err, &dup):
		path := echoField(dup.Path)
		return c.FieldError{Field: path, Code: "duplicate_key", Message: "字段重复出现：" + path, MessageEn: "key appears more than once: " + path}, true
	case errors.Is(err, errTooDeep):
		return c.FieldError{Code: "too_deep", Message: fmt.Sprintf("JSON 嵌套超过 %d 层", MaxJSONDepth), MessageEn: err.Error()}, true
	case errors.Is(err, errNotUTF8):
		return c.FieldError{Code: "not_utf8", Message: "请求体不是有效的 UTF-8 编码", MessageEn: err.Error()}, true
	case errors.Is(err, errTrailing):
		return c.FieldError{Code: "trailing_data", Message: "JSON 对象之后还有多余内容", MessageEn: err.Error()}, true
	}
	return c.FieldError{}, false
}
