package main

import (
	"log/slog"

	"onething/civil"
)

// logOptions are every log's handler options: the level, and every time
// (the record's own and any attribute's) in China time with its offset, as
// the people who read these logs read times.
func logOptions(level slog.Leveler) *slog.HandlerOptions {
	return &slog.HandlerOptions{Level: level, ReplaceAttr: chinaTimes}
}

func chinaTimes(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindTime {
		a.Value = slog.TimeValue(civil.In(a.Value.Time()))
	}
	return a
}
