package mocks

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

//go:embed script.json
var defaultScript []byte

// DefaultScript is the cdpf script for the people of contracts/examples.
func DefaultScript() map[string]CertOutcome {
	s, err := parseScript(defaultScript)
	if err != nil {
		panic("mocks: embedded script.json: " + err.Error())
	}
	return s
}

// LoadScript reads a script file of the same shape (integrators script
// their own test people).
func LoadScript(path string) (map[string]CertOutcome, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := parseScript(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func parseScript(data []byte) (map[string]CertOutcome, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	out := map[string]CertOutcome{}
	for id, v := range raw {
		if strings.HasPrefix(id, "_") {
			continue
		}
		var o CertOutcome
		if err := json.Unmarshal(v, &o); err != nil {
			return nil, fmt.Errorf("%s: %w", id, err)
		}
		out[id] = o
	}
	return out, nil
}
