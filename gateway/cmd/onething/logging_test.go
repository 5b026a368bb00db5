package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// Logs are read by people in China: the record's time and any time
// attribute are written in China time with the +08:00 offset.
func TestLogTimesAreChinaTime(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, logOptions(slog.LevelInfo)))
	log.Info("x", "due", time.Date(2026, 12, 4, 23, 43, 0, 0, time.UTC))
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["due"] != "2026-12-05T07:43:00+08:00" {
		t.Errorf("attribute time %v", rec["due"])
	}
	if s, _ := rec["time"].(string); !strings.HasSuffix(s, "+08:00") {
		t.Errorf("record time %q is not China time", s)
	}
}
