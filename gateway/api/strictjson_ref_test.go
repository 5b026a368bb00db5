package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"unicode/utf8"

	c "onething/contracts"
)

// An independent reference for checkStrict's duplicate and depth checks:
// a walk with encoding/json's Decoder.Token (another tokenizer than the v2
// module's), comparing keys exactly as decoded. On valid JSON in UTF-8 the
// two must agree on every duplicate and on the depth.

// refFrame is one open object or array during the scan.
type refFrame struct {
	path   string
	object bool
	keys   map[string]bool // object: keys seen
	key    string          // object: the key whose value comes next
	keyed  bool            // object: key holds the key of the next value
	index  int             // array: index of the next element
}

// referenceDuplicateKeys walks the first JSON value of body with
// Decoder.Token, iteratively (no recursion, whatever the input), and
// returns a *DuplicateKeyError for the first key repeated in an object,
// or errTooDeep.
func referenceDuplicateKeys(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var stack []*refFrame
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
			if top.keys[k] {
				return &DuplicateKeyError{Path: joinPath(top.path, k)}
			}
			top.keys[k] = true
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
			fr := &refFrame{path: here, object: tok == json.Delim('{')}
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
func (f *refFrame) valueDone() {
	if f.object {
		f.key, f.keyed = "", false
	} else {
		f.index++
	}
}

// FuzzDuplicateKeys compares checkStrict with the reference on every input
// that encoding/json calls valid and that is UTF-8: checkStrict finds every
// duplicate the reference finds, at the same path, reports none it does
// not, and refuses the same nesting. (The v2 tokenizer is stricter: a lone
// surrogate escape, which encoding/json turns into U+FFFD, is refused as a
// syntax error, and that is all it may refuse besides.)
func FuzzDuplicateKeys(f *testing.F) {
	for _, s := range []string{`{"a":1,"a":2}`, `{"x":[{"a":1},{"A":2,"a":3}]}`, `[{"k":1,"\u212a":2}]`,
		`{"a":{"b":{"c":[1,"x",{"d":null,"d":true}]}}}`, `{"":1," ":2,"\"":3,"\\":{}}`, `{"a" : [ ] , "b" : { } }`,
		`{"a":1,"\u0061":2}`, `{"s":1,"ſ":2,"\u017f":3}`, `{"2":{"0":[{"x":1,"x":2}]}}`} {
		f.Add([]byte(s))
	}
	for _, n := range []string{"submission-full.json", "event-cdpf-approved.json"} {
		if b, err := c.Example(n); err == nil {
			f.Add(b)
			f.Add(bytes.Replace(b, []byte(`{`), []byte(`{"portalRef":"dup",`), 1))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got := checkStrict(body) // never panics, whatever the input
		if !json.Valid(body) || !utf8.Valid(body) {
			return
		}
		want := referenceDuplicateKeys(body)
		var gd, wd *DuplicateKeyError
		gotDup, wantDup := errors.As(got, &gd), errors.As(want, &wd)
		switch {
		case gotDup && (!wantDup || gd.Path != wd.Path),
			wantDup && got == nil,
			errors.Is(want, errTooDeep) && got == nil,
			errors.Is(got, errTooDeep) && !errors.Is(want, errTooDeep):
			t.Fatalf("%q: checkStrict %v, reference %v", body, got, want)
		case got != nil && !gotDup && !errors.Is(got, errTooDeep) && !bytes.Contains(body, []byte(`\u`)):
			t.Fatalf("%q: valid JSON refused: %v", body, got)
		case got == nil && nesting(body) > MaxJSONDepth, errors.Is(got, errTooDeep) && nesting(body) <= MaxJSONDepth:
			// decodeStrict counts the nesting of what decoded with nesting.
			t.Fatalf("%q: checkStrict %v, nesting %d", body, got, nesting(body))
		}
	})
}

// BenchmarkDuplicateKeys: checkStrict (the v2 tokenizer) against the
// reference walk, on the full example submission.
func BenchmarkDuplicateKeys(b *testing.B) {
	body, err := c.Example("submission-full.json")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("checkStrict", func(b *testing.B) {
		for b.Loop() {
			if checkStrict(body) != nil {
				b.Fatal("duplicate")
			}
		}
	})
	b.Run("reference", func(b *testing.B) {
		for b.Loop() {
			if referenceDuplicateKeys(body) != nil {
				b.Fatal("duplicate")
			}
		}
	})
}
