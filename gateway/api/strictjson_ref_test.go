package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"testing"

	c "onething/contracts"
)

// The reference for checkDuplicateKeys: the walk with Decoder.Token that
// the scanner replaced (slow, but plainly right, since the decoder itself
// tokenizes). On valid JSON the two must agree exactly.

// refFrame is one open object or array during the scan.
type refFrame struct {
	path   string
	object bool
	keys   map[string]bool // object: folded keys seen
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

// FuzzDuplicateKeys compares the scanner with the reference on every
// input that is valid JSON (on invalid input either may stop first; the
// decoder refuses the body anyway).
func FuzzDuplicateKeys(f *testing.F) {
	for _, s := range []string{`{"a":1,"a":2}`, `{"x":[{"a":1},{"A":2,"a":3}]}`, `[{"k":1,"\u212a":2}]`,
		`{"a":{"b":{"c":[1,"x",{"d":null,"d":true}]}}}`, `{"":1," ":2,"\"":3,"\\":{}}`, `{"a" : [ ] , "b" : { } }`} {
		f.Add([]byte(s))
	}
	for _, n := range []string{"submission-full.json", "event-cdpf-approved.json"} {
		if b, err := c.Example(n); err == nil {
			f.Add(b)
			f.Add(bytes.Replace(b, []byte(`{`), []byte(`{"portalRef":"dup",`), 1))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got := checkDuplicateKeys(body) // never panics, whatever the input
		if !json.Valid(body) {
			return
		}
		want := referenceDuplicateKeys(body)
		var gd, wd *DuplicateKeyError
		switch {
		case errors.As(want, &wd):
			if !errors.As(got, &gd) || gd.Path != wd.Path {
				t.Fatalf("%q: scanner %v, reference %v", body, got, want)
			}
		case errors.Is(want, errTooDeep) != errors.Is(got, errTooDeep), want == nil && got != nil:
			t.Fatalf("%q: scanner %v, reference %v", body, got, want)
		}
	})
}

// BenchmarkDuplicateKeys: the scanner against the reference walk, on the
// full example submission.
func BenchmarkDuplicateKeys(b *testing.B) {
	body, err := c.Example("submission-full.json")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("scanner", func(b *testing.B) {
		for b.Loop() {
			if checkDuplicateKeys(body) != nil {
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
