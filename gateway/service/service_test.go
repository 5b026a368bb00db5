package service

import (
	"encoding/json"
	"os"
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
	if err := decodeConfig([]byte(`{"listen":"x","colour":"red"}`), &cfg); err == nil {
		t.Error("an unknown field (a typo) was accepted")
	}
	var d Duration
	if err := json.Unmarshal([]byte(`300000`), &d); err == nil {
		t.Error("a bare number was taken as a duration")
	}
}
