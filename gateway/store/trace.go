package store

import (
	"bytes"
	"compress/flate"
	_ "embed"
	"errors"
	"io"
	"sync"

	"onething/contracts"
)

// The trace record. An erased application keeps only its pseudonymous
// trace (ErasePersonal), and it is kept for as long as the store is: it is
// what stays of every case past its retention, so its size is what the
// store still grows by once retention runs (docs/CAPACITY.md). The JSON of
// a trace is about 3.5 KB, most of it the field names and the states the
// trace shares with every other; deflated against a preset dictionary of
// those (tracedict1.json) it takes about a sixth of that.
//
// A trace is stored as tracePrefix followed by the raw deflate stream of
// the application's JSON. It holds nothing personal, so it is neither
// sealed nor under a key of its own (the key was destroyed by the
// erasure). The dictionary is part of the format: records written with it
// are read with it for as long as they exist, so it never changes; a
// better one would be "trace2:" beside it.

// tracePrefix starts every trace record (a sealed record starts with
// `{"v":`, a plain one with `{"id":`).
var tracePrefix = []byte("trace1:")

//go:embed tracedict1.json
var traceDict1 []byte

// maxTraceJSON bounds what a trace record may inflate to (a trace is a few
// kilobytes; a damaged or foreign record must not take the memory).
const maxTraceJSON = 1 << 20

func isTrace(data []byte) bool { return bytes.HasPrefix(data, tracePrefix) }

// Deflating at the best compression allocates about 1 MB of state; the
// writers are kept for the next erasure (the sweep erases thousands).
var traceWriters = sync.Pool{New: func() any {
	w, err := flate.NewWriterDict(io.Discard, flate.BestCompression, traceDict1)
	if err != nil {
		panic(err) // only for an invalid level
	}
	return w
}}

// encodeTrace is the trace record of an erased application (whose
// personal part encodeRecord has already left out).
func encodeTrace(app *contracts.Application) ([]byte, error) {
	js, err := marshalJSON(app)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(len(js) / 4)
	buf.Write(tracePrefix)
	w := traceWriters.Get().(*flate.Writer)
	defer func() { w.Reset(io.Discard); traceWriters.Put(w) }()
	w.Reset(&buf)
	if _, err := w.Write(js); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var errTraceTooLarge = errors.New("the trace inflates past its bound")

// decodeTrace reads a trace record (isTrace) back into the application.
func decodeTrace(data []byte) (*contracts.Application, error) {
	r := flate.NewReaderDict(bytes.NewReader(data[len(tracePrefix):]), traceDict1)
	defer r.Close()
	js, err := io.ReadAll(io.LimitReader(r, maxTraceJSON+1))
	if err != nil {
		return nil, err
	}
	if len(js) > maxTraceJSON {
		return nil, errTraceTooLarge
	}
	var app contracts.Application
	if err := unmarshalJSON(js, &app); err != nil {
		return nil, err
	}
	return &app, nil
}
