// Package chinajson encodes what people read as JSON: as encoding/json
// would (the v1 options keep the bytes integrators already parse), with
// every time in China time with its offset (2026-12-05T07:43:00+08:00),
// wherever it sits. The API's replies and the console's downloads share it,
// so an export reads the same from either door. Stored records keep UTC.
package chinajson

import (
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"

	"onething/civil"
)

// Options are the encoding's options.
var Options = json.JoinOptions(jsonv1.DefaultOptionsV1(), json.WithMarshalers(json.MarshalFunc(func(t time.Time) ([]byte, error) {
	return civil.In(t).MarshalJSON()
})))

// Marshal encodes v.
func Marshal(v any) ([]byte, error) { return json.Marshal(v, Options) }

// MarshalIndent encodes v indented by two spaces (a file for people).
func MarshalIndent(v any) ([]byte, error) {
	return json.Marshal(v, Options, jsontext.Multiline(true), jsontext.WithIndent("  "))
}
