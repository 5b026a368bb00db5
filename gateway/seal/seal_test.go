package seal_test

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"onething/gateway/seal"
)

func keyring(t *testing.T, cfg seal.Config) *seal.Keyring {
	t.Helper()
	k, err := seal.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpenBothCiphers(t *testing.T) {
	for _, alg := range []string{seal.AES256GCM, seal.SM4GCM} {
		t.Run(alg, func(t *testing.T) {
			cfg := seal.DevConfig()
			cfg.Keys[0].Algorithm, cfg.Keys[0].Key = alg, seal.NewKey(alg)
			k := keyring(t, cfg)
			blob, err := k.Seal([]byte("张志明 51170219850307123X"), []byte("app:A"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(blob, "ot1.dev1."+alg+".") || strings.Contains(blob, "5117") {
				t.Errorf("blob %q: want the header ot1.dev1.%s. and no plaintext", blob, alg)
			}
			plain, err := k.Open(blob, []byte("app:A"))
			if err != nil || string(plain) != "张志明 51170219850307123X" {
				t.Fatalf("Open = %q, %v", plain, err)
			}
			// Bound to its context: a blob copied to another record does not open.
			if _, err := k.Open(blob, []byte("app:B")); !errors.Is(err, seal.ErrOpen) {
				t.Errorf("Open under another context = %v, want ErrOpen", err)
			}
			// Bound to its header: relabelled or altered, it does not open.
			other := seal.AES256GCM
			if alg == seal.AES256GCM {
				other = seal.SM4GCM
			}
			for name, bad := range map[string]string{
				"cipher relabelled": strings.Replace(blob, "."+alg+".", "."+other+".", 1),
				"byte flipped":      blob[:len(blob)-3] + flip(blob[len(blob)-3]) + blob[len(blob)-2:],
				"cut":               blob[:len(blob)-10],
				"not a blob":        "hello",
			} {
				if _, err := k.Open(bad, []byte("app:A")); !errors.Is(err, seal.ErrOpen) {
					t.Errorf("%s: Open = %v, want ErrOpen", name, err)
				}
			}
		})
	}
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

// Rotation: blobs name their key; after the current key changes, old
// blobs open with the old key and new ones are sealed with the new key.
// A key dropped from the configuration fails loudly, naming the key.
func TestRotation(t *testing.T) {
	k1 := seal.NewKey(seal.AES256GCM)
	k2 := seal.NewKey(seal.SM4GCM)
	ix := seal.NewKey(seal.HMACSHA256)
	before := keyring(t, seal.Config{CurrentKey: "k1", Keys: []seal.KeySpec{{ID: "k1", Key: k1}},
		CurrentIndexKey: "i1", IndexKeys: []seal.KeySpec{{ID: "i1", Key: ix}}})
	old, _ := before.Seal([]byte("old"), []byte("A"))
	after := keyring(t, seal.Config{CurrentKey: "k2",
		Keys:            []seal.KeySpec{{ID: "k2", Algorithm: seal.SM4GCM, Key: k2}, {ID: "k1", Key: k1}},
		CurrentIndexKey: "i1", IndexKeys: []seal.KeySpec{{ID: "i1", Key: ix}}})
	fresh, _ := after.Seal([]byte("new"), []byte("A"))
	if id, _ := seal.BlobKey(fresh); id != "k2" {
		t.Errorf("new blob sealed with %q, want k2", id)
	}
	if p, err := after.Open(old, []byte("A")); err != nil || string(p) != "old" {
		t.Errorf("old blob after rotation: %q, %v", p, err)
	}
	if p, err := after.Open(fresh, []byte("A")); err != nil || string(p) != "new" {
		t.Errorf("new blob: %q, %v", p, err)
	}
	if _, err := before.Open(fresh, []byte("A")); err == nil || !strings.Contains(err.Error(), `"k2"`) {
		t.Errorf("a blob of a key not configured: %v, want an error naming k2", err)
	}
	// Same id, other key material: the key check tells at once.
	check, _ := before.KeyCheck("k1")
	wrong := keyring(t, seal.Config{CurrentKey: "k1", Keys: []seal.KeySpec{{ID: "k1", Key: seal.NewKey(seal.AES256GCM)}},
		CurrentIndexKey: "i1", IndexKeys: []seal.KeySpec{{ID: "i1", Key: ix}}})
	if err := after.VerifyKeyCheck("k1", check); err != nil {
		t.Errorf("right key refused: %v", err)
	}
	if err := wrong.VerifyKeyCheck("k1", check); err == nil {
		t.Error("a wrong key passed the key check")
	}
}

func TestBlindIndex(t *testing.T) {
	ix1, ix2 := seal.NewKey(seal.HMACSHA256), seal.NewKey(seal.HMACSM3)
	cfg := seal.DevConfig()
	cfg.CurrentIndexKey, cfg.IndexKeys = "i1", []seal.KeySpec{{ID: "i1", Key: ix1}}
	k := keyring(t, cfg)
	a, b := k.Index("idNumber", "51170219850307123X"), k.Index("idNumber", "51170219850307123X")
	if a != b || !strings.HasPrefix(a, "i1.") || len(a) != len("i1.")+64 || strings.Contains(a, "5117") {
		t.Errorf("index %q / %q: want stable, i1.+64 hex, no plaintext", a, b)
	}
	if k.Index("idNumber", "511702198503071230") == a || k.Index("phone", "51170219850307123X") == a {
		t.Error("different values or fields share an index")
	}
	// Another key: another index; after rotating the index key the old
	// index is still among the lookups.
	cfg.CurrentIndexKey = "i2"
	cfg.IndexKeys = []seal.KeySpec{{ID: "i1", Key: ix1}, {ID: "i2", Algorithm: seal.HMACSM3, Key: ix2}}
	k2 := keyring(t, cfg)
	all := k2.Indexes("idNumber", "51170219850307123X")
	if len(all) != 2 || !strings.HasPrefix(all[0], "i2.") || all[1] != a {
		t.Errorf("Indexes after rotation = %v; want the i2 index first, then %s", all, a)
	}
	check, _ := k.IndexCheck("i1")
	if err := k2.VerifyIndexCheck("i1", check); err != nil {
		t.Error(err)
	}
	cfg.IndexKeys[0].Key = seal.NewKey(seal.HMACSHA256)
	if err := keyring(t, cfg).VerifyIndexCheck("i1", check); err == nil {
		t.Error("a wrong index key passed its check")
	}
}

// Every bad configuration stops the start, and the message never holds
// the key.
func TestConfigFailsLoudly(t *testing.T) {
	dir := t.TempDir()
	good := seal.NewKey(seal.AES256GCM)
	file := filepath.Join(dir, "k1.key")
	os.WriteFile(file, []byte(good+"\n"), 0o600)
	ix := []seal.KeySpec{{ID: "i1", Key: seal.NewKey(seal.HMACSHA256)}}
	ok := seal.Config{CurrentKey: "k1", Keys: []seal.KeySpec{{ID: "k1", KeyFile: file}}, CurrentIndexKey: "i1", IndexKeys: ix}
	if _, err := seal.New(ok); err != nil {
		t.Fatalf("key from a file: %v", err)
	}
	short := base64.StdEncoding.EncodeToString(make([]byte, 16))
	bad := map[string]seal.Config{
		"nothing":              {},
		"no index key":         {CurrentKey: "k1", Keys: []seal.KeySpec{{ID: "k1", Key: good}}},
		"current missing":      {CurrentKey: "k9", Keys: []seal.KeySpec{{ID: "k1", Key: good}}, CurrentIndexKey: "i1", IndexKeys: ix},
		"index current":        {CurrentKey: "k1", Keys: []seal.KeySpec{{ID: "k1", Key: good}}, CurrentIndexKey: "i9", IndexKeys: ix},
		"missing file":         {CurrentKey: "k1", Keys: []seal.KeySpec{{ID: "k1", KeyFile: filepath.Join(dir, "none")}}, CurrentIndexKey: "i1", IndexKeys: ix},
		"no material":          {CurrentKey: "k1", Keys: []seal.KeySpec{{ID: "k1"}}, CurrentIndexKey: "i1", IndexKeys: ix},
		"both":                 {CurrentKey: "k1", Keys: []seal.KeySpec{{ID: "k1", Key: good, KeyFile: file}}, CurrentIndexKey: "i1", IndexKeys: ix},
		"aes short":            {CurrentKey: "k1", Keys: []seal.KeySpec{{ID: "k1", Key: short}}, CurrentIndexKey: "i1", IndexKeys: ix},
		"sm4 long":             {CurrentKey: "k1", Keys: []seal.KeySpec{{ID: "k1", Algorithm: seal.SM4GCM, Key: good}}, CurrentIndexKey: "i1", IndexKeys: ix},
		"unknown cipher":       {CurrentKey: "k1", Keys: []seal.KeySpec{{ID: "k1", Algorithm: "des", Key: good}}, CurrentIndexKey: "i1", IndexKeys: ix},
		"not base64":           {CurrentKey: "k1", Keys: []seal.KeySpec{{ID: "k1", Key: "not base64!"}}, CurrentIndexKey: "i1", IndexKeys: ix},
		"duplicate id":         {CurrentKey: "k1", Keys: []seal.KeySpec{{ID: "k1", Key: good}, {ID: "k1", Key: good}}, CurrentIndexKey: "i1", IndexKeys: ix},
		"bad id":               {CurrentKey: "k.1", Keys: []seal.KeySpec{{ID: "k.1", Key: good}}, CurrentIndexKey: "i1", IndexKeys: ix},
		"index short":          {CurrentKey: "k1", Keys: []seal.KeySpec{{ID: "k1", Key: good}}, CurrentIndexKey: "i1", IndexKeys: []seal.KeySpec{{ID: "i1", Key: short}}},
		"index unknown hash":   {CurrentKey: "k1", Keys: []seal.KeySpec{{ID: "k1", Key: good}}, CurrentIndexKey: "i1", IndexKeys: []seal.KeySpec{{ID: "i1", Algorithm: "md5", Key: good}}},
		"index id is data key": {CurrentKey: "k1", Keys: []seal.KeySpec{{ID: "k1", Key: good}}, CurrentIndexKey: "k1", IndexKeys: []seal.KeySpec{{ID: "k1", Key: good}}},
	}
	for name, cfg := range bad {
		_, err := seal.New(cfg)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), good) {
			t.Errorf("%s: the error shows the key: %v", name, err)
		}
	}
}

// An application key seals under its own key, of the current key's
// algorithm; its wrapped form opens only with the keyring, under the same
// context; a rewrap under a new current key opens to the same key, with
// the old keyring key gone.
func TestAppKeys(t *testing.T) {
	for _, alg := range []string{seal.AES256GCM, seal.SM4GCM} {
		t.Run(alg, func(t *testing.T) {
			cfg := seal.DevConfig()
			cfg.Keys[0].Algorithm, cfg.Keys[0].Key = alg, seal.NewKey(alg)
			k := keyring(t, cfg)
			ak, wrapped, err := k.NewWrappedAppKey([]byte("A"))
			if err != nil {
				t.Fatal(err)
			}
			if kid, _ := seal.BlobKey(wrapped); kid != "dev1" || !strings.Contains(wrapped, "."+alg+".") {
				t.Errorf("wrapped under %q: %s", kid, wrapped)
			}
			blob, err := ak.Seal([]byte("张志明"), []byte("app:A"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(blob, "."+alg+".") {
				t.Errorf("an application key of %s sealed %s", alg, blob)
			}
			if _, err := k.Open(blob, []byte("app:A")); err == nil {
				t.Error("the keyring opened what an application key sealed")
			}
			if _, err := k.UnwrapAppKey(wrapped, []byte("B")); !errors.Is(err, seal.ErrOpen) {
				t.Errorf("unwrapped under another context: %v", err)
			}
			if _, err := ak.Open(blob, []byte("app:B")); !errors.Is(err, seal.ErrOpen) {
				t.Errorf("opened under another context: %v", err)
			}
			other, _, _ := k.NewWrappedAppKey([]byte("A"))
			if _, err := other.Open(blob, []byte("app:A")); !errors.Is(err, seal.ErrOpen) {
				t.Errorf("another application key opened the blob: %v", err)
			}

			// Rotation: a new current key rewraps; the old one may go.
			cfg2 := cfg
			cfg2.CurrentKey = "dev2"
			cfg2.Keys = append([]seal.KeySpec{{ID: "dev2", Algorithm: seal.AES256GCM, Key: seal.NewKey(seal.AES256GCM)}}, cfg.Keys...)
			k2 := keyring(t, cfg2)
			again, err := k2.RewrapAppKey(wrapped, []byte("A"))
			if err != nil {
				t.Fatal(err)
			}
			if kid, _ := seal.BlobKey(again); kid != "dev2" {
				t.Errorf("rewrapped under %q", kid)
			}
			cfg3 := cfg2
			cfg3.Keys = cfg2.Keys[:1]
			k3 := keyring(t, cfg3)
			back, err := k3.UnwrapAppKey(again, []byte("A"))
			if err != nil {
				t.Fatal(err)
			}
			if plain, err := back.Open(blob, []byte("app:A")); err != nil || string(plain) != "张志明" {
				t.Errorf("after the rewrap: %q, %v", plain, err)
			}
			if _, err := k3.UnwrapAppKey(wrapped, []byte("A")); !errors.Is(err, seal.ErrOpen) {
				t.Errorf("the old wrapping opened without its key: %v", err)
			}
		})
	}
}
