package contracts

import (
	"reflect"
	"time"
)

// KindName names, in Chinese and in English, the kind of JSON (or YAML)
// value a Go type takes, in the words of the contracts and the
// configuration, never the Go type's own name: a refused request body
// and a refused configuration say what the value should have been.
func KindName(t reflect.Type) (zh, en string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[time.Time]() {
		return "带时区的日期时间（如 2026-12-05T09:30:00+08:00）", "a date-time with its offset (e.g. 2026-12-05T09:30:00+08:00)"
	}
	switch t.Kind() {
	case reflect.Bool:
		return " true 或 false", "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "整数", "an integer"
	case reflect.Float32, reflect.Float64:
		return "数字", "a number"
	case reflect.String:
		return "文本（字符串）", "a string"
	case reflect.Slice, reflect.Array:
		return "数组（列表）", "an array (list)"
	default:
		return "对象（映射）", "an object (mapping)"
	}
}
