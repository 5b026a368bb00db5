package api

import (
	"errors"
	"strings"
	"testing"
)

func TestDuplicateKeys(t *testing.T) {
	cases := []struct {
		body, path string // path "" means no duplicate
	}{
		{`{"a":1,"b":2}`, ""},
		{`{"a":1,"a":2}`, "a"},
		{`{"applicant":{"name":"x","idNumber":"1","idNumber":"2"}}`, "applicant.idNumber"},
		{`{"applicant":{"name":"x"},"applicant":{}}`, "applicant"},
		{`{"name":"x","Name":"y"}`, ""}, // two keys: Name is unknown to the decoder
		{`{"name":"x","NAME":"y"}`, ""},
		{`{"s":1,"ſ":2}`, ""},                       // U+017F is not s
		{`{"k":1,"\u212a":2}`, ""},                  // nor is the Kelvin sign k
		{`{"a":1,"\u0061":2}`, "a"},                 // the same key, escaped
		{`{"ſ":1,"\u017f":2}`, "?"},                 // a key that is not plain shows as ?
		{`{"2":{"0":[{"x":1,"x":2}]}}`, "?.?[0].x"}, // keys like indexes are keys
		{`{"list":[{"a":1},{"a":1,"a":2}]}`, "list[1].a"},
		{`[{"a":1},{"b":1,"b":2}]`, "[1].b"},
		{`{"a":{"b":{"c":[1,2,{"d":1,"d":1}]}}}`, "a.b.c[2].d"},
		{`{"a":[],"b":{},"c":[[],[{}]],"d":null}`, ""},
		{`{"":1,"":2}`, "?"},
		{`{"x":{"a":1},"y":{"a":1}}`, ""}, // the same key in two objects is fine
		{`"just a string"`, ""},
		{`{"a":1,"a"`, "a"}, // found before the syntax error
		{`{"a":1`, ""},      // a syntax error, not a duplicate
	}
	for _, tc := range cases {
		err := checkStrict([]byte(tc.body))
		var dup *DuplicateKeyError
		isDup := errors.As(err, &dup)
		switch {
		case tc.path == "" && isDup:
			t.Errorf("%s: %v", tc.body, err)
		case tc.path != "" && (!isDup || dup.Path != tc.path):
			t.Errorf("%s: %v, want duplicate %s", tc.body, err, tc.path)
		}
	}
}

func TestStrictDecoding(t *testing.T) {
	type small struct {
		Name string `json:"name"`
		List []int  `json:"list"`
		Any  any    `json:"any"` // takes any nesting: only the depth check refuses it
	}
	deep := strings.Repeat(`{"a":`, MaxJSONDepth+1) + "1" + strings.Repeat("}", MaxJSONDepth+1)
	// {"any":[[…]]} nesting n deep, the outer object counted.
	nested := func(n int) string {
		return `{"any":` + strings.Repeat("[", n-1) + strings.Repeat("]", n-1) + "}"
	}
	cases := []struct {
		name, body string
		code       string // "" accepted
	}{
		{"fine", `{"name":"张志明","list":[1,2]}`, ""},
		{"white space after", "{\"name\":\"x\"}\n\t ", ""},
		{"duplicate", `{"name":"a","name":"b"}`, "duplicate_key"},
		{"trailing object", `{"name":"x"}{}`, "trailing_data"},
		{"trailing bracket", `{"name":"x"}]`, "trailing_data"},
		{"trailing brace", `{"name":"x"}}`, "trailing_data"},
		{"unknown field", `{"nam":"x"}`, "unknown_field"},
		{"too deep", deep, "too_deep"},
		{"as deep as allowed, decodable", nested(MaxJSONDepth), ""},
		{"too deep, decodable", nested(MaxJSONDepth + 1), "too_deep"},
		{"brackets in strings", `{"name":"[[{\"[{","any":["]]}}\\",{"x":"{{"}]}`, ""},
		{"not UTF-8", "{\"name\":\"\xff\xfe\"}", "not_utf8"},
		{"syntax", `{"name":}`, "syntax"},
		{"cut short", `{"name":`, "malformed"},
		{"empty", ``, "malformed"},
		{"wrong type", `{"list":"x"}`, "wrong_type"},
		{"other case", `{"Name":"x"}`, "unknown_field"},
		{"upper case", `{"NAME":"x"}`, "unknown_field"},
		{"long s", `{"liſt":[1]}`, "unknown_field"},
		{"escaped duplicate", `{"name":"x","\u006eame":"y"}`, "duplicate_key"},
		{"lone surrogate", `{"name":"\ud800"}`, "syntax"},
		{"not UTF-8 in a key", "{\"na\xffme\":\"x\"}", "not_utf8"},
	}
	for _, tc := range cases {
		var v small
		err := decodeStrict([]byte(tc.body), &v)
		if tc.code == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		if fe := jsonProblem(err); fe.Code != tc.code {
			t.Errorf("%s: code %s (%v), want %s", tc.name, fe.Code, err, tc.code)
		}
	}
	// The tokenizer is iterative: a megabyte of brackets is refused, not a
	// stack overflow.
	huge := strings.Repeat("[", 1<<20)
	if err := checkStrict([]byte(huge)); !errors.Is(err, errTooDeep) {
		t.Errorf("a megabyte of [: %v", err)
	}
	var anything any
	if err := decodeStrict([]byte(huge), &anything); err == nil {
		t.Error("decoded a megabyte of [")
	}
}
