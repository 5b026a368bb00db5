package devstack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"onething/gateway/seal"
)

// DevKeysFile is where a development stack keeps the keys that seal its
// store's personal data, beside the store: made at the first start, read
// at every later one (the store refuses other keys). Development only.
const DevKeysFile = "dev-keys.json"

// DevKeys reads the development keys of the data directory dir, or makes
// them (AES-256-GCM data key, HMAC-SHA256 index key) on first use.
func DevKeys(dir string) (*seal.Config, error) {
	path := filepath.Join(dir, DevKeysFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		cfg := seal.DevConfig()
		if data, err = json.MarshalIndent(cfg, "", "  "); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return nil, fmt.Errorf("development keys: %w", err)
		}
		return &cfg, nil
	}
	if err != nil {
		return nil, fmt.Errorf("development keys: %w", err)
	}
	var cfg seal.Config
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("development keys %s: %w", path, err)
	}
	return &cfg, nil
}
