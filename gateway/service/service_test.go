package service

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

// The sample configuration in deploy/ must load as `onething serve` loads it.
func TestExampleConfigLoads(t *testing.T) {
	data, err := os.ReadFile("../../deploy/onething.example.json")
	if err != nil {
		t.Fatal(err)
	}
	var cfg Config
	if err := decodeConfig(data, &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Departments) != 4 || time.Duration(cfg.MaxBackoff) != 5*time.Minute || time.Duration(cfg.BreakerOpenFor) != 30*time.Second {
		t.Errorf("loaded %+v", cfg)
	}
	if err := decodeConfig([]byte(`{"listen":"x","colour":"red"}`), &cfg); err == nil || !strings.HasPrefix(err.Error(), "不认识的设置 \"colour\"") {
		t.Errorf("an unknown field (a typo): %v", err)
	}
	// Named in the configuration's words, Chinese first, no Go type
	// (outsider: "json: cannot unmarshal number into Go struct field
	// Config.listen of type string").
	err = decodeConfig([]byte(`{"listen":5}`), &cfg)
	if err == nil || !strings.HasPrefix(err.Error(), "设置 listen 的值类型不正确，应为文本") || strings.Contains(err.Error(), "Go ") || strings.Contains(err.Error(), "Config.") {
		t.Errorf("a number for a string: %v", err)
	}
	var d Duration
	if err := json.Unmarshal([]byte(`300000`), &d); err == nil {
		t.Error("a bare number was taken as a duration")
	}
}
