package service

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"onething/gateway/seal"
)

// testProtection is a dataProtection section with fresh inline keys.
func testProtection() *seal.Config {
	cfg := seal.DevConfig()
	return &cfg
}

// The store never opens without keys, with a key it cannot load, or with
// a key that is not the one its data was sealed with.
func TestStoreNeedsItsKeys(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.db")
	if s, err := OpenStore(Config{DataFile: path}, nil); err == nil {
		s.Close()
		t.Fatal("opened without dataProtection")
	} else if !strings.Contains(err.Error(), "dataProtection") {
		t.Errorf("the error should name the setting: %v", err)
	}
	if problems, _ := Check(Config{DataFile: path}); !strings.Contains(strings.Join(problems, "\n"), "dataProtection") {
		t.Errorf("config check does not report the missing keys: %q", problems)
	}

	keyFile := filepath.Join(dir, "data-1.key")
	if err := os.WriteFile(keyFile, []byte(seal.NewKey(seal.SM4GCM)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	idx := seal.NewKey(seal.HMACSM3)
	dp := &seal.Config{CurrentKey: "d1", Keys: []seal.KeySpec{{ID: "d1", Algorithm: seal.SM4GCM, KeyFile: keyFile}},
		CurrentIndexKey: "x1", IndexKeys: []seal.KeySpec{{ID: "x1", Algorithm: seal.HMACSM3, Key: idx}}}
	if _, err := InitStore(t.Context(), Config{DataFile: path, DataProtection: dp}, nil); err != nil {
		t.Fatalf("init with an SM4 key from a file: %v", err)
	}
	s, err := OpenStore(Config{DataFile: path, DataProtection: dp}, nil)
	if err != nil {
		t.Fatalf("SM4 key from a file: %v", err)
	}
	s.Close()

	missing := *dp
	missing.Keys = []seal.KeySpec{{ID: "d1", Algorithm: seal.SM4GCM, KeyFile: filepath.Join(dir, "gone.key")}}
	if s, err := OpenStore(Config{DataFile: path, DataProtection: &missing}, nil); err == nil {
		s.Close()
		t.Error("opened with a key file that does not exist")
	}
	wrong := *dp
	wrong.Keys = []seal.KeySpec{{ID: "d1", Algorithm: seal.SM4GCM, Key: seal.NewKey(seal.SM4GCM)}}
	if s, err := OpenStore(Config{DataFile: path, DataProtection: &wrong}, nil); err == nil {
		s.Close()
		t.Error("opened with the wrong key under the store's key id")
	}
	other := *dp
	other.CurrentKey, other.Keys = "d2", []seal.KeySpec{{ID: "d2", Key: seal.NewKey(seal.AES256GCM)}}
	if s, err := OpenStore(Config{DataFile: path, DataProtection: &other}, nil); err == nil {
		s.Close()
		t.Error("opened without the key the store's data was sealed with")
	}
}

// `config check` and the masked configuration never show key material.
func TestDataProtectionMasked(t *testing.T) {
	dp := testProtection()
	m, err := Masked(Config{DataProtection: dp})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(m)
	for _, k := range append(dp.Keys, dp.IndexKeys...) {
		if strings.Contains(string(out), k.Key) {
			t.Errorf("key %s shows in %s", k.ID, out)
		}
	}
}

// The keys can come from the environment and from files, like every
// other secret of the configuration.
func TestDataProtectionFromFiles(t *testing.T) {
	dir := t.TempDir()
	key, idx := seal.NewKey(seal.AES256GCM), seal.NewKey(seal.HMACSHA256)
	os.WriteFile(filepath.Join(dir, "idx.key"), []byte(idx), 0o600)
	doc := `
dataProtection:
  currentKey: k1
  keys: [{id: k1, keyFile: ` + filepath.Join(dir, "k1.key") + `}]
  currentIndexKey: i1
  indexKeys: [{id: i1, key: "${file:idx.key}"}]
`
	os.WriteFile(filepath.Join(dir, "k1.key"), []byte(key), 0o600)
	l, err := LoadConfigBytes([]byte(doc), dir, []string{"ONETHING_DATA_PROTECTION_CURRENT_KEY=k1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Keyring(l.Config); err != nil {
		t.Fatal(err)
	}
	if got := l.Config.DataProtection.IndexKeys[0].Key; got != idx {
		t.Errorf("index key from ${file:}: %q", got)
	}
}
