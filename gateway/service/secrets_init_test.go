package service

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// sampleWithSecrets copies a deploy/ sample into a directory with the
// secrets onething secrets init writes beside it, and returns its path.
func sampleWithSecrets(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join("../../deploy", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := InitSecrets(filepath.Join(dir, "secrets"), SecretsInitOptions{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// secrets init beside a copy of the sample gives a configuration that
// passes config check as it is; the JSON sample says the same.
func TestSampleWithInitSecretsPasses(t *testing.T) {
	dir := sampleWithSecrets(t, "onething.example.yaml", "onething.example.json")
	var loaded []Config
	for _, name := range []string{"onething.example.yaml", "onething.example.json"} {
		l, err := LoadConfig(filepath.Join(dir, name), []string{})
		if err != nil {
			t.Fatal(err)
		}
		if problems, _ := Check(l.Config); len(problems) > 0 {
			t.Errorf("%s: %q", name, problems)
		}
		if len(l.FromFiles) < 12 {
			t.Errorf("%s: only %d secrets from files: %q", name, len(l.FromFiles), l.FromFiles)
		}
		loaded = append(loaded, l.Config)
	}
	if !reflect.DeepEqual(loaded[0], loaded[1]) {
		t.Errorf("the YAML and the JSON sample differ:\n%+v\n%+v", loaded[0], loaded[1])
	}
	// A key file named relative to the configuration is found from there.
	if kf := loaded[0].DataProtection.Keys[0].KeyFile; kf != filepath.Join(dir, "secrets", "data-key-1") {
		t.Errorf("keyFile %s", kf)
	}
}

// The samples as shipped hold no usable value: without secrets/ they do
// not load, and every secret they read is a file secrets init writes.
func TestSamplesReadEverySecretFromSecretsInit(t *testing.T) {
	written := map[string]bool{}
	for _, f := range SecretFiles() {
		written[f.Name] = true
	}
	for _, name := range []string{"onething.example.yaml", "onething.example.json"} {
		dir := t.TempDir()
		data, err := os.ReadFile(filepath.Join("../../deploy", name))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadConfig(path, []string{}); err == nil {
			t.Errorf("%s loads without its secrets", name)
		}
		var code []string // the sample without its comments
		for _, line := range strings.Split(string(data), "\n") {
			if !strings.HasPrefix(strings.TrimSpace(line), "#") {
				code = append(code, line)
			}
		}
		refs := regexp.MustCompile(`\$\{file:([^}]+)\}|"?(?:keyFile|KeyFile|accountsFile)"?:\s*"?([^",}\s]+)`).FindAllStringSubmatch(strings.Join(code, "\n"), -1)
		used := map[string]bool{}
		for _, r := range refs {
			ref := r[1] + r[2]
			name, ok := strings.CutPrefix(ref, "secrets/")
			if !ok || !written[name] {
				t.Errorf("%s reads %s, which onething secrets init does not write", path, ref)
			}
			used[name] = true
		}
		for n := range written {
			if !used[n] && n != "redis-password" {
				t.Errorf("%s does not read %s", name, n)
			}
		}
		// Every secret setting of the sample is a file reference.
		var doc map[string]any
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		blankFileRefs(doc)
		maskNode(doc, false)
		walkStrings(doc, "", func(p, v string) {
			if v == "***" {
				t.Errorf("%s: %s is masked, so a secret, but not read from a file", name, p)
			}
		})
	}
}

// blankFileRefs empties every ${file:…} of a document, so that what
// maskNode then masks is a secret written in the document itself.
func blankFileRefs(node any) {
	switch v := node.(type) {
	case map[string]any:
		for k, c := range v {
			if s, ok := c.(string); ok && strings.HasPrefix(s, "${file:") {
				v[k] = ""
			}
			blankFileRefs(c)
		}
	case []any:
		for i, c := range v {
			if s, ok := c.(string); ok && strings.HasPrefix(s, "${file:") {
				v[i] = ""
			}
			blankFileRefs(c)
		}
	}
}

// walkStrings calls fn on every string of a document.
func walkStrings(node any, path string, fn func(path, v string)) {
	switch v := node.(type) {
	case map[string]any:
		for k, c := range v {
			walkStrings(c, path+"."+k, fn)
		}
	case []any:
		for _, c := range v {
			walkStrings(c, path+"[]", fn)
		}
	case string:
		fn(path, v)
	}
}

func TestInitSecrets(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "secrets")
	written, err := InitSecrets(dir, SecretsInitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	files := SecretFiles()
	if len(written) != len(files)+1 {
		t.Errorf("wrote %d files, want %d", len(written), len(files)+1)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v %v", st.Mode(), err)
	}
	values := map[string]string{}
	for _, p := range written {
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v %v", p, st.Mode(), err)
		}
		b, _ := os.ReadFile(p)
		values[filepath.Base(p)] = strings.TrimSpace(string(b))
	}

	// The manifest is the Secret deploy/k8s mounts: every file and store-url.
	var sec struct {
		Kind     string            `json:"kind"`
		Metadata map[string]any    `json:"metadata"`
		Data     map[string]string `json:"stringData"`
	}
	if err := yaml.Unmarshal([]byte(values[SecretsManifest]), &sec); err != nil {
		t.Fatal(err)
	}
	if sec.Kind != "Secret" || sec.Metadata["name"] != SecretsName || sec.Metadata["namespace"] != "onething" {
		t.Errorf("manifest %s %v", sec.Kind, sec.Metadata)
	}
	var keys []string
	for k, v := range sec.Data {
		keys = append(keys, k)
		if k != "store-url" && v != values[k] {
			t.Errorf("manifest %s differs from the file", k)
		}
	}
	sort.Strings(keys)
	if len(keys) != len(files)+1 || sec.Data["store-url"] != "redis://:"+values["redis-password"]+"@onething-redis:6379/0" {
		t.Errorf("manifest keys %q, store-url %v", keys, sec.Data["store-url"] != "")
	}
	// All different, none short, none refused.
	seen := map[string]string{}
	if values[ConsoleAccountsFile] != "[]" {
		t.Errorf("the accounts file starts as %q, want an empty list", values[ConsoleAccountsFile])
	}
	for _, f := range files {
		v := values[f.Name]
		if f.Name == ConsoleAccountsFile {
			continue
		}
		if len(v) < 32 {
			t.Errorf("%s: %d characters", f.Name, len(v))
		}
		if other, dup := seen[v]; dup {
			t.Errorf("%s and %s alike", f.Name, other)
		}
		seen[v] = f.Name
	}

	// Again: refused, nothing changed.
	if _, err := InitSecrets(dir, SecretsInitOptions{}); err == nil || !strings.Contains(err.Error(), "already") {
		t.Errorf("a second init: %v", err)
	}
	for _, f := range files {
		if b, _ := os.ReadFile(filepath.Join(dir, f.Name)); strings.TrimSpace(string(b)) != values[f.Name] {
			t.Errorf("%s changed by a refused init", f.Name)
		}
	}
	// Keep: only what is missing, and the manifest again.
	os.Remove(filepath.Join(dir, "read-token"))
	again, err := InitSecrets(dir, SecretsInitOptions{Keep: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 2 || filepath.Base(again[0]) != "read-token" || filepath.Base(again[1]) != SecretsManifest {
		t.Errorf("keep wrote %q", again)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "admin-token")); strings.TrimSpace(string(b)) != values["admin-token"] {
		t.Error("keep changed a file")
	}
	if none, err := InitSecrets(dir, SecretsInitOptions{Keep: true}); err != nil || len(none) != 0 {
		t.Errorf("keep with everything there wrote %q %v", none, err)
	}
	// Keep after an account was added: the manifest again, with it.
	accounts := `[{"username":"clerk","passwordHash":"$2a$10$x","role":"staff","towns":["511702102"]}]`
	if err := os.WriteFile(filepath.Join(dir, ConsoleAccountsFile), []byte(accounts+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if again, err := InitSecrets(dir, SecretsInitOptions{Keep: true}); err != nil || len(again) != 1 || filepath.Base(again[0]) != SecretsManifest {
		t.Errorf("keep after an account was added wrote %q %v", again, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, SecretsManifest)); !strings.Contains(string(b), `"username":"clerk"`) {
		t.Errorf("the manifest lacks the added account:\n%s", b)
	}
	// Force: everything new but the accounts operators added.
	if _, err := InitSecrets(dir, SecretsInitOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, ConsoleAccountsFile)); strings.TrimSpace(string(b)) != accounts {
		t.Errorf("force replaced the console's accounts: %s", b)
	}
	for _, f := range files {
		if f.Name == ConsoleAccountsFile {
			continue
		}
		if b, _ := os.ReadFile(filepath.Join(dir, f.Name)); strings.TrimSpace(string(b)) == values[f.Name] && f.Name != "read-token" {
			t.Errorf("%s not replaced", f.Name)
		}
		if st, _ := os.Stat(filepath.Join(dir, f.Name)); st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v after force", f.Name, st.Mode())
		}
	}
	if _, err := InitSecrets(dir, SecretsInitOptions{Force: true, Keep: true}); err == nil {
		t.Error("force and keep together")
	}
	// An existing directory open to others is closed.
	open := filepath.Join(parent, "open")
	os.Mkdir(open, 0o755)
	if _, err := InitSecrets(open, SecretsInitOptions{}); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(open); st.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v", st.Mode())
	}
}
