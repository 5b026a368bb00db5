package zh_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	c "onething/contracts"
	"onething/gateway/service"
	"onething/gateway/workflow"
)

// The English README and the Chinese docs must name the same endpoints,
// onething commands and error codes, and the Chinese docs every
// configuration key the README names: a change that touches one of these
// updates both (README, "Contributing"). Each list is taken from the text
// that matters (code spans and code blocks) and checked against what the
// code defines, so the test cannot be satisfied by prose alone.

const root = "../.."

func TestChineseDocsMatchReadme(t *testing.T) {
	en := codeText(t, []string{filepath.Join(root, "README.md")})
	zhFiles, err := filepath.Glob("*.md")
	if err != nil || len(zhFiles) == 0 {
		t.Fatalf("no Chinese docs in docs/zh: %v", err)
	}
	zh := codeText(t, zhFiles)

	t.Run("endpoints", func(t *testing.T) {
		same(t, "endpoint", endpoints(en), endpoints(zh))
	})
	t.Run("commands", func(t *testing.T) {
		names := commandNames(t)
		same(t, "command", commands(en, names), commands(zh, names))
	})
	t.Run("error codes", func(t *testing.T) {
		codes := errorCodes(t)
		same(t, "error code", named(en, codes), named(zh, codes))
	})
	t.Run("configuration keys", func(t *testing.T) {
		keys := configKeys(reflect.TypeFor[service.Config](), map[string]bool{})
		enKeys, zhKeys := named(en, keys), named(zh, keys)
		if missing := minus(enKeys, zhKeys); len(missing) > 0 {
			t.Errorf("configuration keys the README names and docs/zh does not: %s", strings.Join(missing, ", "))
		}
	})
}

// The README names at least what it documents today: a sanity check of
// the extraction, so an extractor that finds nothing cannot pass.
func TestExtractionFindsTheKnownNames(t *testing.T) {
	en := codeText(t, []string{filepath.Join(root, "README.md")})
	for _, want := range []string{"POST /v1/portal/submissions", "/v1/departments/{dept}/events", "/_mock/pushes", "GET /console/cases/{id}/progress"} {
		if !endpoints(en)[want] {
			t.Errorf("endpoint %q not extracted from README.md", want)
		}
	}
	for _, want := range []string{"onething dev", "onething calendar import", "onething secrets init"} {
		if !commands(en, commandNames(t))[want] {
			t.Errorf("command %q not extracted from README.md", want)
		}
	}
	codes := errorCodes(t)
	for _, want := range []string{"replayed_webhook", "record_unreadable", "nothing_to_withdraw"} {
		if !codes[want] {
			t.Errorf("error code %q not found in gateway/api", want)
		}
	}
	keys := configKeys(reflect.TypeFor[service.Config](), map[string]bool{})
	for _, want := range []string{"portalSecrets", "eventSecrets", "sessionKeyFile", "calendarFile", "currentKey"} {
		if !keys[want] {
			t.Errorf("configuration key %q not reachable from service.Config", want)
		}
	}
}

// same fails naming what each side lacks.
func same(t *testing.T, what string, en, zh map[string]bool) {
	t.Helper()
	if m := minus(en, zh); len(m) > 0 {
		t.Errorf("%ss README.md names and docs/zh does not:\n  %s", what, strings.Join(m, "\n  "))
	}
	if m := minus(zh, en); len(m) > 0 {
		t.Errorf("%ss docs/zh names and README.md does not:\n  %s", what, strings.Join(m, "\n  "))
	}
}

func minus(a, b map[string]bool) []string {
	var out []string
	for k := range a {
		if !b[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

var (
	fence    = regexp.MustCompile("(?s)```[^\n]*\n(.*?)```")
	codeSpan = regexp.MustCompile("`([^`\n]+)`")
)

// codeText is the code of the files: every fenced block and every code
// span, one a line. Names in prose are not facts a reader copies.
func codeText(t *testing.T, files []string) string {
	t.Helper()
	var b strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := string(data)
		for _, m := range fence.FindAllStringSubmatch(text, -1) {
			b.WriteString(m[1])
			b.WriteByte('\n')
		}
		for _, m := range codeSpan.FindAllStringSubmatch(fence.ReplaceAllString(text, ""), -1) {
			b.WriteString(m[1])
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// A path of the gateway or the mocks: /v1, /console, /_mock, the probes and /openapi,
// not preceded by a letter (so gateway/console/guard.go and a department's
// /api/v1/… are not endpoints of ours), up to a query, … or punctuation.
const ourPath = `(/(?:v1|console|_mock|healthz|readyz|metrics|openapi)\b[^\s` + "`" + `?…,;)'"]*)`

var (
	methodPath = regexp.MustCompile(`\b(GET|POST|PUT|PATCH|DELETE) ` + ourPath)
	path       = regexp.MustCompile(`(?:^|[^A-Za-z_.])` + ourPath)
)

// endpoints are the `METHOD /path` pairs and the gateway's and mocks'
// paths (/v1, /console, /_mock, the probes), without query or trailing /.
func endpoints(text string) map[string]bool {
	out := map[string]bool{}
	for _, m := range methodPath.FindAllStringSubmatch(text, -1) {
		out[m[1]+" "+strings.TrimSuffix(m[2], "/")] = true
	}
	for _, m := range path.FindAllStringSubmatch(text, -1) {
		if p := strings.TrimSuffix(m[1], "/"); p != "" {
			out[p] = true
		}
	}
	return out
}

var onethingCommand = regexp.MustCompile(`\bonething ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?`)

// commands are "onething X" and "onething X Y" where X and Y are the names
// of the command line's commands.
func commands(text string, names map[string]bool) map[string]bool {
	out := map[string]bool{}
	for _, m := range onethingCommand.FindAllStringSubmatch(text, -1) {
		if !names[m[1]] {
			continue
		}
		cmd := "onething " + m[1]
		if names[m[2]] {
			cmd += " " + m[2]
		}
		out[cmd] = true
	}
	return out
}

// commandNames are the first words of the cobra commands' Use lines in
// gateway/cmd/onething: the command line as built.
func commandNames(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	forEachNode(t, filepath.Join(root, "gateway/cmd/onething"), func(n ast.Node) {
		kv, ok := n.(*ast.KeyValueExpr)
		if !ok {
			return
		}
		if id, ok := kv.Key.(*ast.Ident); ok && id.Name == "Use" {
			if s, ok := stringLit(kv.Value); ok {
				names[strings.Fields(s)[0]] = true
			}
		}
	})
	delete(names, "onething")
	return names
}

// errorCodes are the codes the gateway's API answers with: the code
// argument of every s.fail and s.errorReply in gateway/api, string
// literals and contracts constants alike.
func errorCodes(t *testing.T) map[string]bool {
	t.Helper()
	consts := map[string]string{}
	forEachNode(t, filepath.Join(root, "contracts"), func(n ast.Node) {
		spec, ok := n.(*ast.ValueSpec)
		if !ok {
			return
		}
		for i, name := range spec.Names {
			if i < len(spec.Values) {
				if s, ok := stringLit(spec.Values[i]); ok {
					consts[name.Name] = s
				}
			}
		}
	})
	codes := map[string]bool{}
	forEachNode(t, filepath.Join(root, "gateway/api"), func(n ast.Node) {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) < 3 {
			return
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || (sel.Sel.Name != "fail" && sel.Sel.Name != "errorReply") {
			return
		}
		if s, ok := stringLit(call.Args[2]); ok {
			codes[s] = true
		} else if ref, ok := call.Args[2].(*ast.SelectorExpr); ok && consts[ref.Sel.Name] != "" {
			codes[consts[ref.Sel.Name]] = true
		} else {
			t.Errorf("gateway/api: an error code this test cannot read at %v", call.Pos())
		}
	})
	return codes
}

// configKeys are the JSON names of every field reachable from a
// configuration type.
func configKeys(typ reflect.Type, keys map[string]bool) map[string]bool {
	switch typ.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		return configKeys(typ.Elem(), keys)
	case reflect.Struct:
		for f := range typ.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if name != "" {
				keys[name] = true
			}
			configKeys(f.Type, keys)
		}
	}
	return keys
}

var word = regexp.MustCompile(`[A-Za-z][A-Za-z0-9_]*`)

// named are the members of set the text names as whole words.
func named(text string, set map[string]bool) map[string]bool {
	out := map[string]bool{}
	for _, w := range word.FindAllString(text, -1) {
		if set[w] {
			out[w] = true
		}
	}
	return out
}

// forEachNode walks every node of the non-test Go files of dir.
func forEachNode(t *testing.T, dir string, visit func(ast.Node)) {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	files = slices.DeleteFunc(files, func(f string) bool { return strings.HasSuffix(f, "_test.go") })
	if len(files) == 0 {
		t.Fatalf("no Go files in %s", dir)
	}
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if n != nil {
				visit(n)
			}
			return true
		})
	}
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// The table of what a department's event may move an item to
// (departments.md) is the workflow's own: each row's states are those
// workflow.CanMove allows from the row's state, among those an event
// reports.
func TestDepartmentTransitionsTable(t *testing.T) {
	raw, err := os.ReadFile("departments.md")
	if err != nil {
		t.Fatal(err)
	}
	reportable := []c.TaskState{c.TaskAccepted, c.TaskInProgress, c.TaskSupplementRequired, c.TaskApproved, c.TaskRejected}
	row := regexp.MustCompile("(?m)^\\| `([a-z_]+)` [^|]*\\| ([^|]*) \\|$")
	rows := row.FindAllStringSubmatch(string(raw), -1)
	if len(rows) < 9 {
		t.Fatalf("the transitions table has %d rows, want 9", len(rows))
	}
	code := regexp.MustCompile("`([a-z_]+)`")
	for _, m := range rows {
		from := c.TaskState(m[1])
		var doc, want []string
		for _, s := range code.FindAllStringSubmatch(m[2], -1) {
			doc = append(doc, s[1])
		}
		for _, s := range reportable {
			if workflow.CanMove(from, s) {
				want = append(want, string(s))
			}
		}
		if !slices.Equal(doc, want) {
			t.Errorf("from %s the table says %v, the workflow allows %v", from, doc, want)
		}
	}
}
