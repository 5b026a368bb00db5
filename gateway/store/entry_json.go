package store

import (
	"time"
	"unicode/utf8"

	"onething/contracts"
)

// A timeline entry is encoded on every write that appends one (a dozen at
// intake, each with its note), which through the reflective JSON encoder
// was a tenth of the intake's CPU (docs/PROFILING.md). marshalEntry and
// marshalNote write the same bytes by hand where that is plain (strings
// that need no escaping, a time encoding/json writes as RFC 3339), and
// fall back to marshalJSON for anything else; TestEntryBytes checks them
// against both encoders.

// marshalEntry is marshalJSON(se).
func marshalEntry(se *storedEntry) ([]byte, error) {
	if se.Note == nil {
		n := 96 + len(se.TaskID) + len(se.Kind) + len(se.From) + len(se.To) + len(se.Source) + len(se.N)
		if b, ok := appendEntry(make([]byte, 0, n), se); ok {
			return b, nil
		}
	}
	return marshalJSON(se)
}

func appendEntry(b []byte, se *storedEntry) ([]byte, bool) {
	b = append(b, `{"at":`...)
	b, ok := appendTime(b, se.At)
	if !ok {
		return b, false
	}
	for _, f := range [...]struct {
		name, v   string
		omitEmpty bool
	}{
		{`,"taskId":`, se.TaskID, true},
		{`,"kind":`, se.Kind, false},
		{`,"from":`, string(se.From), true},
		{`,"to":`, string(se.To), true},
		{`,"source":`, se.Source, true},
		{`,"n":`, se.N, true},
	} {
		if f.omitEmpty && f.v == "" {
			continue
		}
		b = append(b, f.name...)
		if b, ok = appendPlainString(b, f.v); !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}

// marshalNote is marshalJSON(m).
func marshalNote(m *contracts.Message) ([]byte, error) {
	b := make([]byte, 0, 17+len(m.ZH)+len(m.EN))
	b = append(b, `{"zh":`...)
	b, ok := appendPlainString(b, m.ZH)
	if ok {
		b = append(b, `,"en":`...)
		b, ok = appendPlainString(b, m.EN)
	}
	if !ok {
		return marshalJSON(m)
	}
	return append(b, '}'), nil
}

// appendTime appends t quoted as time.Time's MarshalJSON writes it, when
// that is plain RFC 3339 (a year of four digits, an offset of whole
// minutes under a day).
func appendTime(b []byte, t time.Time) ([]byte, bool) {
	_, off := t.Zone()
	if y := t.Year(); y < 0 || y > 9999 || off%60 != 0 || off <= -24*3600 || off >= 24*3600 {
		return b, false
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), true
}

// appendPlainString appends s quoted, when the store's JSON writes it
// without escapes: valid UTF-8 without control characters, quotes,
// backslashes, the HTML-sensitive <, > and &, and U+2028 and U+2029.
func appendPlainString(b []byte, s string) ([]byte, bool) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				return b, false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == '\u2028' || r == '\u2029' {
			return b, false
		}
		i += size
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), true
}
