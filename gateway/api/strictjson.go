package api

import (
	"bytes"
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

// frame is one open object or array during the scan.
type frame struct {
	path   string
	object bool
	keys   map[string]bool // object: folded keys seen
	key    string          // object: the key whose value comes next
	keyed  bool            // object: key holds the key of the next value
	index  int             // array: index of the next element
}

// checkDuplicateKeys walks the first JSON value of body with
// Decoder.Token, iteratively (no recursion, whatever the input), and
// returns a *DuplicateKeyError for the first key repeated in an object,
// or errTooDeep.
func checkDuplicateKeys(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var stack []*frame
	expectKey := func() bool {
		return len(stack) > 0 && stack[len(stack)-1].object && !stack[len(stack)-1].keyed
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // a syntax error or the end: the decoder says which
		}
		if expectKey() {
			top := stack[len(stack)-1]
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				if len(stack) == 0 {
					return nil
				}
				stack[len(stack)-1].valueDone()
				continue
			}
			k, ok := tok.(string)
			if !ok {
				return nil
			}
			f := foldKey(k)
			if top.keys[f] {
				return &DuplicateKeyError{Path: joinPath(top.path, k)}
			}
			top.keys[f] = true
			top.key, top.keyed = k, true
			continue
		}
		// A value: in an object after its key, in an array, or at the top.
		here := ""
		if n := len(stack); n > 0 {
			top := stack[n-1]
			if top.object {
				here = joinPath(top.path, top.key)
			} else {
				if d, ok := tok.(json.Delim); ok && d == ']' {
					stack = stack[:n-1]
					if len(stack) == 0 {
						return nil
					}
					stack[len(stack)-1].valueDone()
					continue
				}
				here = top.path + "[" + strconv.Itoa(top.index) + "]"
			}
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if len(stack) >= MaxJSONDepth {
				return errTooDeep
			}
			fr := &frame{path: here, object: tok == json.Delim('{')}
			if fr.object {
				fr.keys = map[string]bool{}
			}
			stack = append(stack, fr)
		default:
			if len(stack) == 0 {
				return nil // a scalar at the top: nothing to check
			}
			stack[len(stack)-1].valueDone()
		}
	}
}

// valueDone moves past one value of the frame.
func (f *frame) valueDone() {
	if f.object {
		f.key, f.keyed = "", false
	} else {
		f.index++
	}
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

// badJSON answers a body that did not decode: 400 duplicate_key for a
// repeated key, 400 malformed_json otherwise, with the problem in details.
func (s *server) badJSON(g *gin.Context, zh, en string, err error) {
	var dup *DuplicateKeyError
	if errors.As(err, &dup) {
		s.fail(g, http.StatusBadRequest, "duplicate_key", "请求体中有重复的字段："+dup.Path,
			"the body has a duplicate key: "+dup.Path, jsonProblem(err))
		return
	}
	s.fail(g, http.StatusBadRequest, "malformed_json", zh, en, jsonProblem(err))
}

// strictProblem describes the strict checks' errors for jsonProblem.
func strictProblem(err error) (c.FieldError, bool) {
	var dup *DuplicateKeyError
	switch {
	case errors.As(err, &dup):
		return c.FieldError{Field: dup.Path, Code: "duplicate_key", Message: "字段重复出现：" + dup.Path, MessageEn: "key appears more than once: " + dup.Path}, true
	case errors.Is(err, errTooDeep):
		return c.FieldError{Code: "too_deep", Message: fmt.Sprintf("JSON 嵌套超过 %d 层", MaxJSONDepth), MessageEn: err.Error()}, true
	case errors.Is(err, errNotUTF8):
		return c.FieldError{Code: "not_utf8", Message: "请求体不是有效的 UTF-8 编码", MessageEn: err.Error()}, true
	case errors.Is(err, errTrailing):
		return c.FieldError{Code: "trailing_data", Message: "JSON 对象之后还有多余内容", MessageEn: err.Error()}, true
	}
	return c.FieldError{}, false
}
