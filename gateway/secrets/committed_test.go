package secrets

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// How committed.txt is made: every text file of every commit of the
// repository (git rev-list --all --objects, each blob read once) goes
// through candidates, which picks the literal values of secret settings
// (whsec_…, URL passwords, the values of names ending in secret, token,
// password, key, of --secret/--token flags, of stringData entries …), and
// committed.txt gets the SHA-256 of each, with the first path it was seen
// at. Entries are never dropped: a secret once committed stays public.
//
//	go test ./gateway/secrets -run TestCommittedList -update
//
// Without -update the test checks that every secret ever committed to a
// sample (deploy/, the Markdown documents, contracts/examples and
// contracts/openapi, whatever an operator copies from) is listed, and
// TestSamplesListed checks the samples as they are now.
var update = flag.Bool("update", false, "rewrite committed.txt from the repository's history")

const root = "../.."

// sample says whether a path is one operators copy values from.
func sample(path string) bool {
	return strings.HasPrefix(path, "deploy/") || strings.HasSuffix(path, ".md") ||
		strings.HasPrefix(path, "contracts/examples/") || strings.HasPrefix(path, "contracts/openapi/")
}

var (
	reWhsec    = regexp.MustCompile(`whsec_[A-Za-z0-9+/=]+`)
	reUserinfo = regexp.MustCompile(`[a-z][a-z0-9+.-]*://([^\s/@"'` + "`" + `<>\[\]]*)@`)
	reFlag     = regexp.MustCompile(`--(?:secret|token|password|key)[= ]+["']?([^\s"']+)`)
	// A name, then : or = or :=, then a quoted value, a bare value, or a
	// list of them ([…], []string{…}, []byte(…)).
	reField = regexp.MustCompile(`(?i)([A-Za-z][A-Za-z0-9_-]*)["']?\s*(?::=|=|:)\s*(\[)?\s*("(?:[^"\\]|\\.)*"|'[^']*'|[^\s,\[\]\{\}\)#"'` + "`" + `]+)`)
	// In Go only a quoted value is a literal.
	reFieldGo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9_]*)\s*(?::=|=|:)\s*(\[\]string\{|\[\]byte\()?\s*("(?:[^"\\]|\\.)*"|` + "`[^`]*`" + `)`)
	// In Go, a literal that looks like key material (32 or more hex
	// digits, or padded base64 of 16 bytes or more) whatever its name, and
	// the literal argument of a function named for a key or a secret
	// (ParseSM4Key("…")).
	reKeyLiteral   = regexp.MustCompile(`"(?:[0-9a-fA-F]{32,}|[A-Za-z0-9+/]{22,}={1,2})"`)
	reKeyCall      = regexp.MustCompile(`Parse[A-Za-z0-9_]*(?:Key|Secret|Token)\(\s*"([^"]+)"`)
	reQuoted       = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'[^']*'|` + "`[^`]*`")
	reBlockName    = regexp.MustCompile(`^\s*["']?([A-Za-z][A-Za-z0-9_-]*)["']?\s*:\s*(#.*)?$`)
	reBlockItem    = regexp.MustCompile(`^\s*-\s+["']?([^\s"'#]+)`)
	reBlockMapItem = regexp.MustCompile(`^\s*-\s+["']?[A-Za-z][A-Za-z0-9_-]*["']?\s*:(\s|$)`)
)

// secretName says whether a setting, field, variable or Secret key of
// that name holds a secret value (and not an id, a file, a header name).
func secretName(name string) bool {
	n := strings.ToLower(strings.TrimRight(name, "0123456789-_"))
	for _, not := range []string{"file", "header", "idempot", "trace", "bucket", "dedupe", "body", "once", "cache", "prefix", "lease",
		"appkey", "app-key", "app_key", "currentkey", "currentindexkey", "current_key", "current_index_key", "public", "max", "many",
		"kid", "rid", "sort", "queue", "meta", "redis_key", "idx"} {
		if strings.Contains(n, not) {
			return false
		}
	}
	for _, end := range []string{"secret", "secrets", "token", "tokens", "password", "passwd", "key", "keys", "pass", "pwd", "passwordhash"} {
		if strings.HasSuffix(n, end) {
			return true
		}
	}
	return false
}

// candidates are the literal secret values a file's text holds. In Go
// files only quoted values count (a bare word there is an identifier).
func candidates(path, text string) []string {
	goFile := strings.HasSuffix(path, ".go")
	var out []string
	add := func(v string) {
		v = strings.TrimSpace(v)
		if u, err := strconv.Unquote(v); err == nil {
			v = u
		} else if len(v) >= 2 && (v[0] == '\'' && v[len(v)-1] == '\'') {
			v = v[1 : len(v)-1]
		}
		v = strings.TrimSpace(v)
		if len(v) < 6 || v == WebhookPrefix || strings.Contains(v, "${") || strings.Contains(v, "%s") || strings.Contains(v, "%v") || strings.Contains(v, "%q") ||
			strings.Contains(v, "…") || strings.Contains(v, "***") || strings.ContainsAny(v, " \t") {
			return
		}
		out = append(out, v)
	}
	block := false
	for _, line := range strings.Split(text, "\n") {
		for _, m := range reWhsec.FindAllString(line, -1) {
			add(m)
		}
		for _, m := range reUserinfo.FindAllStringSubmatch(line, -1) {
			user, pass, has := strings.Cut(m[1], ":")
			if !has {
				pass = user
			}
			if p, err := unescape(pass); err == nil {
				pass = p
			}
			add(pass)
		}
		for _, m := range reFlag.FindAllStringSubmatch(line, -1) {
			add(m[1])
		}
		if goFile {
			for _, m := range reKeyLiteral.FindAllStringSubmatch(line, -1) {
				add(m[0])
			}
			for _, m := range reKeyCall.FindAllStringSubmatch(line, -1) {
				add(m[1])
			}
		}
		re := reField
		if goFile {
			re = reFieldGo
		}
		if trimmed := strings.TrimSpace(line); strings.HasPrefix(trimmed, "#") || strings.HasPrefix(trimmed, "//") {
			continue
		}
		for _, m := range re.FindAllStringSubmatchIndex(line, -1) {
			name, opener, value := line[m[2]:m[3]], "", line[m[6]:m[7]]
			if m[4] >= 0 {
				opener = line[m[4]:m[5]]
			}
			if !secretName(name) {
				continue
			}
			if opener == "" {
				if after := strings.TrimSpace(line[m[7]:]); goFile && strings.HasPrefix(after, "+") {
					continue // the start of a concatenation, not a value
				}
				add(value)
				continue
			}
			// A list: every item up to the closing bracket.
			rest := line[m[4]+len(opener):]
			if i := strings.IndexAny(rest, "]})"); i >= 0 {
				rest = rest[:i]
			}
			if goFile {
				for _, q := range reQuoted.FindAllString(rest, -1) {
					add(q)
				}
			} else {
				for _, item := range strings.Split(rest, ",") {
					add(item)
				}
			}
		}
		// YAML block lists under a secret name: "readTokens:" then "- x".
		if m := reBlockName.FindStringSubmatch(line); m != nil {
			block = !goFile && secretName(m[1])
			continue
		}
		if m := reBlockItem.FindStringSubmatch(line); block && m != nil {
			// "- subject: x" is an object in the list: its fields were
			// read above, each by its own name ("token: …").
			if !reBlockMapItem.MatchString(line) {
				add(m[1])
			}
			continue
		}
		block = false
	}
	return out
}

func unescape(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	return strconv.Unquote(`"` + strings.ReplaceAll(s, `"`, `\"`) + `"`)
}

// historyBlobs yields every text file of every commit once, with the
// first path it was seen at.
func historyBlobs(t *testing.T, yield func(path, text string)) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git here")
	}
	if err := exec.Command("git", "-C", root, "rev-parse", "--git-dir").Run(); err != nil {
		t.Skip("not a git checkout (a container build has no .git)")
	}
	list, err := exec.Command("git", "-C", root, "rev-list", "--all", "--objects").Output()
	if err != nil {
		t.Fatal(err)
	}
	paths := map[string]string{}
	var order []string
	for _, line := range strings.Split(string(list), "\n") {
		id, path, ok := strings.Cut(line, " ")
		if !ok || path == "" {
			continue
		}
		if _, seen := paths[id]; !seen {
			paths[id] = path
			order = append(order, id)
		}
	}
	cmd := exec.Command("git", "-C", root, "cat-file", "--batch")
	cmd.Stdin = strings.NewReader(strings.Join(order, "\n") + "\n")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReaderSize(out, 1<<20)
	for range order {
		header, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		f := strings.Fields(header)
		if len(f) != 3 {
			t.Fatalf("git cat-file: %q", header)
		}
		size, _ := strconv.Atoi(f[2])
		body := make([]byte, size+1)
		if _, err := io.ReadFull(r, body); err != nil {
			t.Fatal(err)
		}
		if f[1] != "blob" || size > 4<<20 || bytes.IndexByte(body[:size], 0) >= 0 {
			continue
		}
		yield(paths[f[0]], string(body[:size]))
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
}

func TestCommittedList(t *testing.T) {
	found := map[string]string{} // digest → first path
	var missing []string
	collect := func(path, text string) {
		for _, v := range candidates(path, text) {
			if _, ok := found[Digest(v)]; !ok && sample(path) && !Committed(v) {
				missing = append(missing, path)
			}
			for _, d := range digests(v) {
				if _, ok := found[d]; !ok {
					found[d] = path
				}
			}
		}
	}
	historyBlobs(t, collect)
	if *update {
		// And the tree as it is now, committed or not yet.
		trackedFiles(t, collect)
		writeList(t, found)
		return
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		t.Errorf("secrets committed to samples are not in committed.txt (seen in %q): run go test ./gateway/secrets -run TestCommittedList -update", missing)
	}
}

// trackedFiles yields every text file git tracks, as it is in the working
// tree.
func trackedFiles(t *testing.T, yield func(path, text string)) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git here")
	}
	if err := exec.Command("git", "-C", root, "rev-parse", "--git-dir").Run(); err != nil {
		t.Skip("not a git checkout (a container build has no .git)")
	}
	list, err := exec.Command("git", "-C", root, "ls-files", "-z").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range strings.Split(string(list), "\x00") {
		if path == "" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(path)))
		if err != nil || len(data) > 4<<20 || bytes.IndexByte(data, 0) >= 0 {
			continue // deleted in the working tree, large or binary
		}
		yield(path, string(data))
	}
}

// Every secret-like literal of the tree as it is now (every tracked text
// file, tests included) is listed: one added to a test or a sample since
// the list was made would otherwise be accepted by config check and serve.
func TestCommittedTree(t *testing.T) {
	if *update {
		t.Skip("-update rewrites the list")
	}
	missing := map[string]int{}
	trackedFiles(t, func(path, text string) {
		for _, v := range candidates(path, text) {
			if !Committed(v) {
				missing[path]++
			}
		}
	})
	var files []string
	for f, n := range missing {
		files = append(files, fmt.Sprintf("%s (%d)", f, n))
	}
	sort.Strings(files)
	for _, f := range files {
		t.Errorf("%s holds secret-like values committed.txt does not list: run go test ./gateway/secrets -run TestCommittedList -update", f)
	}
}

// writeList rewrites committed.txt with what it held and what was found.
func writeList(t *testing.T, found map[string]string) {
	old, err := os.ReadFile("committed.txt")
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(old))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		d, where, _ := strings.Cut(line, " ")
		entries[d] = strings.TrimSpace(where)
	}
	for d, path := range found {
		if _, ok := entries[d]; !ok {
			entries[d] = path
		}
	}
	digests := make([]string, 0, len(entries))
	for d := range entries {
		digests = append(digests, d)
	}
	sort.Strings(digests)
	var b bytes.Buffer
	b.WriteString(`# SHA-256 (hex) of every secret value ever committed to this repository,
# each with the first file it was seen in: samples, documentation, tests.
# They are public, so config check and serve refuse them in any secret
# setting (gateway/secrets.Committed). Made from the whole history by
#   go test ./gateway/secrets -run TestCommittedList -update
# (committed_test.go says how); entries are never removed.
`)
	for _, d := range digests {
		fmt.Fprintf(&b, "%s %s\n", d, entries[d])
	}
	if err := os.WriteFile("committed.txt", b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("committed.txt: %d digests (%d found now)", len(entries), len(found))
}

// Every secret the samples hold now is listed (the samples should hold
// none: they name files that onething secrets init writes).
func TestSamplesListed(t *testing.T) {
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			// node_modules: packages npm installed (contracts/collections'
			// Newman), untracked and not ours.
			if strings.HasPrefix(d.Name(), ".") && rel != "." || d.Name() == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		if !sample(rel) {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, v := range candidates(rel, string(data)) {
			if !Committed(v) {
				t.Errorf("%s holds a secret that committed.txt does not list (SHA-256 %s…): take it out of the sample, then run go test ./gateway/secrets -run TestCommittedList -update", rel, Digest(v)[:12])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The extraction finds the secrets of each form the repository has used.
func TestCandidates(t *testing.T) {
	for _, tc := range []struct {
		path, text string
		want       []string
	}{
		{"deploy/k8s/secret.yaml", "stringData:\n  store-url: redis://:a-redis-password@onething-redis:6379/0\n  data-key-1: QUJDREVGR0hJSktMTU5PUA==\n  read-token: a-read-token-value\n",
			[]string{"a-redis-password", "QUJDREVGR0hJSktMTU5PUA==", "a-read-token-value"}},
		{"deploy/x.yaml", "portalSecrets:\n  - whsec_QUJDREVGR0g=\nreadTokens: [tok-one-xyz, \"tok-two-xyz\"]\nadminTokens:\n  - admin-token-xyz\nlisten: 0.0.0.0:8080\n",
			[]string{"whsec_QUJDREVGR0g=", "whsec_QUJDREVGR0g=", "tok-one-xyz", "tok-two-xyz", "admin-token-xyz"}},
		{"deploy/named.yaml", "readTokens:\n  - subject: district-office\n    token: named-token-1\n  - token: named-token-2\n    subject: records-desk\n",
			[]string{"named-token-1", "named-token-2"}},
		{"deploy/x.json", `{"readTokens": ["json-token-1"], "keys": [{"id": "k1", "key": "QUJDREVGR0g="}], "currentKey": "data-2026"}`,
			[]string{"json-token-1", "QUJDREVGR0g="}},
		{"a_test.go", "cfg := Config{Secret: \"s3cret-go\", ReadTokens: []string{\"go-token-1\", \"go-token-2\"}, Key: good, AppKey: \"onething\"}\nconst pushSecret = \"go-push-secret\"\n",
			[]string{"s3cret-go", "go-token-1", "go-token-2", "go-push-secret"}},
		{"README.md", "onething status --token md-token-123 --secret whsec_…\nONETHING_PORTAL_SECRETS=env-one1,env-two2\n",
			[]string{"md-token-123", "env-one1"}},
	} {
		got := candidates(tc.path, tc.text)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%s: %q, want %q", tc.path, got, tc.want)
		}
	}
}
