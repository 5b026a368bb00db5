package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	c "onething/contracts"
)

// Strict JSON: request bodies are decoded by the JSON v2 module (the one
// that became encoding/json/v2) with every leniency of encoding/json
// turned off. A key is taken only with its documented spelling (no
// case-insensitive or Unicode-folding match: `IDNUMBER` and
// `houſeholdDivision` are unknown fields, not idNumber and
// householdDivision), a key may appear once per object (after unescaping:
// `"\u0061"` is `"a"`), the body must be valid UTF-8, unknown fields and
// anything after the first value are refused, and objects and arrays nest
// at most MaxJSONDepth deep. Two parsers that disagree on which of two
// "idNumber" keys counts, or on whether "IDNUMBER" is one, are how a
// signed body comes to mean two things.
//
// Stored records are not read here: the store keeps reading them with the
// options they were written with (gateway/store/json.go).

// MaxJSONDepth bounds nesting in request bodies (the deepest real body,
// a submission, nests 4 deep).
const MaxJSONDepth = 32

// requestOptions are the decoding options of every request body.
var requestOptions = json.JoinOptions(
	json.RejectUnknownMembers(true),
	json.MatchCaseInsensitiveNames(false),
	jsontext.AllowDuplicateNames(false),
	jsontext.AllowInvalidUTF8(false),
)

// DuplicateKeyError names the JSON path of a key that appears twice in one
// object, e.g. "applicant.idNumber" or "materials[2].code".
type DuplicateKeyError struct{ Path string }

func (e *DuplicateKeyError) Error() string { return "duplicate key " + e.Path }

var (
	errTooDeep  = fmt.Errorf("JSON nests deeper than %d levels", MaxJSONDepth)
	errNotUTF8  = errors.New("the body is not valid UTF-8")
	errTrailing = errors.New("unexpected data after the JSON object")
	errEmpty    = errors.New("the body is empty")
	plainKey    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)
)

// decodeStrict decodes a request body into v with the v2 decoder and
// requestOptions, and refuses it if it nests deeper than MaxJSONDepth. An
// error is a *bodyError: jsonProblem describes it.
//
// The decoder refuses everything checkStrict does (duplicate names,
// invalid UTF-8, trailing data, bad syntax) but deep nesting, so a body
// that decodes is walked again only to count its nesting, and checkStrict
// runs only on a body refused, to name the problem as it always has (its
// error first, then the decoder's): no second parse of every body.
func decodeStrict(body []byte, v any) error {
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) > 0 && t[0] != '{' && jsontext.Value(body).IsValid() {
		// null, [], "…", 1: every body the gateway takes is an object (null
		// would decode as an empty one and be judged field by field).
		return &bodyError{err: errNotObject, problem: c.FieldError{Code: "wrong_type", Message: "请求体应为 JSON 对象（{…}）", MessageEn: "the body must be a JSON object ({…})"}}
	}
	err := json.Unmarshal(body, v, requestOptions)
	if err == nil && nesting(body) <= MaxJSONDepth {
		return nil
	}
	if serr := checkStrict(body); serr != nil {
		err = serr
	}
	return &bodyError{err: err, problem: describe(body, err)}
}

// nesting is how deep the objects and arrays of a valid JSON text nest
// (the tokenizer's stack depth at its deepest), counted up to one past
// MaxJSONDepth.
func nesting(body []byte) int {
	depth, deepest := 0, 0
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '"':
			i = stringEnd(body, i)
		case '{', '[':
			if depth++; depth > deepest {
				if deepest = depth; deepest > MaxJSONDepth {
					return deepest
				}
			}
		case '}', ']':
			depth--
		}
	}
	return deepest
}

// stringEnd is the index of the quote that closes the string opened at
// open: the next one not escaped (after an even run of backslashes).
func stringEnd(body []byte, open int) int {
	for j := open + 1; ; j++ {
		k := bytes.IndexByte(body[j:], '"')
		if k < 0 {
			return len(body)
		}
		j += k
		n := 0
		for b := j - 1; b > open && body[b] == '\\'; b-- {
			n++
		}
		if n%2 == 0 {
			return j
		}
	}
}

// bodyError is a decode error with its description, made while the body
// (which says whether a pointer's token is a key or an index) is at hand.
type bodyError struct {
	err     error
	problem c.FieldError
}

func (e *bodyError) Error() string { return e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

// checkStrict reads the body's first value token by token with the v2
// tokenizer (duplicate names and invalid UTF-8 refused) and returns a
// *DuplicateKeyError, errTooDeep, errNotUTF8, errTrailing, errEmpty or the
// tokenizer's syntax error. The tokenizer is iterative: a megabyte of `[`
// costs 33 tokens.
func checkStrict(body []byte) error {
	dec := jsontext.NewDecoder(bytes.NewReader(body), jsontext.AllowDuplicateNames(false), jsontext.AllowInvalidUTF8(false))
	for {
		if _, err := dec.ReadToken(); err != nil {
			return tokenError(body, err)
		}
		depth := dec.StackDepth()
		if depth > MaxJSONDepth {
			return errTooDeep
		}
		if depth == 0 {
			break
		}
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return errTrailing
	}
	return nil
}

// tokenError names what the tokenizer refused.
func tokenError(body []byte, err error) error {
	var syn *jsontext.SyntacticError
	switch {
	case err == io.EOF:
		return errEmpty
	case errors.As(err, &syn) && syn.Err == jsontext.ErrDuplicateName:
		parent, last := pointerPath(body, syn.JSONPointer)
		return &DuplicateKeyError{Path: joinPath(parent, last)}
	case !utf8.Valid(body):
		return errNotUTF8
	}
	return err
}

// pointerPath turns a JSON pointer into the path errors show: the path of
// the value holding the last token (e.g. "materials[2]", keys that are not
// plain identifiers shown as "?") and that token, when it is an object key,
// as sent (it may be anything: echoField shows it). Whether a token is a
// key or an index is read from the body (a key may be "2").
func pointerPath(body []byte, ptr jsontext.Pointer) (parent, last string) {
	dec := jsontext.NewDecoder(bytes.NewReader(body), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	var toks []string
	for tok := range ptr.Tokens() {
		toks = append(toks, tok)
	}
	for i, tok := range toks {
		switch dec.PeekKind() {
		case '[':
			dec.ReadToken()
			n, _ := strconv.Atoi(tok)
			for range n {
				if dec.SkipValue() != nil {
					break
				}
			}
			parent += "[" + tok + "]"
			continue
		case '{':
			if i == len(toks)-1 {
				return parent, tok
			}
			dec.ReadToken()
			for dec.PeekKind() == '"' {
				name, err := dec.ReadToken()
				if err != nil || name.String() == tok {
					break
				}
				if dec.SkipValue() != nil {
					break
				}
			}
		default:
			if i == len(toks)-1 {
				return parent, tok
			}
		}
		parent = joinPath(parent, tok)
	}
	return parent, ""
}

// joinPath appends key to a path, showing keys that are not plain
// identifiers as "?" (a key is input and could be anything).
func joinPath(path, key string) string {
	if key == "" && path != "" {
		return path
	}
	if !plainKey.MatchString(key) {
		key = "?"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// jsonProblem describes a decode error without echoing the input: a key the
// caller sent is named only as echoField shows it.
func jsonProblem(err error) c.FieldError {
	var be *bodyError
	if errors.As(err, &be) {
		return be.problem
	}
	return describe(nil, err)
}

// describe is jsonProblem for an error of decoding body.
func describe(body []byte, err error) c.FieldError {
	if fe, ok := strictProblem(err); ok {
		return fe
	}
	var syn *jsontext.SyntacticError
	var sem *json.SemanticError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return c.FieldError{Code: "malformed", Message: "JSON 不完整", MessageEn: "the JSON ends too early"}
	case errors.As(err, &syn):
		return c.FieldError{Code: "syntax", Message: fmt.Sprintf("JSON 语法错误（第 %d 字节）", syn.ByteOffset), MessageEn: fmt.Sprintf("JSON syntax error at byte %d", syn.ByteOffset)}
	case errors.As(err, &sem) && errors.Is(err, json.ErrUnknownName):
		parent, last := pointerPath(body, sem.JSONPointer)
		f := last
		if parent != "" {
			f = parent + "." + last
		}
		f = echoField(f)
		return c.FieldError{Field: f, Code: "unknown_field", Message: "不认识的字段：" + f, MessageEn: "unknown field " + f}
	case errors.As(err, &sem) && sem.GoType != nil:
		f := echoField(joinPath(pointerPath(body, sem.JSONPointer)))
		zh, en := c.KindName(sem.GoType)
		return c.FieldError{Field: f, Code: "wrong_type", Message: "字段类型不正确，应为" + zh, MessageEn: "wrong type, expected " + en}
	default:
		return c.FieldError{Code: "malformed", Message: "JSON 格式不正确", MessageEn: "malformed JSON"}
	}
}

var errNotObject = errors.New("the body is not a JSON object")

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
