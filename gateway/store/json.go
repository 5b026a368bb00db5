package store

import (
	jsonv2 "github.com/go-json-experiment/json"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// Records and jobs go through the JSON v2 implementation (the one that
// became encoding/json/v2, here as its module) rather than encoding/json:
// every job and department event reads its application, and the
// end-to-end profile showed about 40 % of the gateway's CPU decoding them
// with encoding/json; v2 decodes the same record in about half the time
// (BenchmarkCodec). The v1 options keep the bytes written, and what is
// accepted on reading, those of encoding/json, so records written before
// read as they did (TestRecordBytesUnchanged).
var v1Options = jsonv1.DefaultOptionsV1()

func marshalJSON(v any) ([]byte, error) { return jsonv2.Marshal(v, v1Options) }

func unmarshalJSON(data []byte, v any) error { return jsonv2.Unmarshal(data, v, v1Options) }
