package contracts

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// The OpenAPI 3 documents of every HTTP surface and the JSON examples that go
// with them. examples/manifest.json says which operation each example belongs to.
//
//go:embed openapi/*.yaml
var specFiles embed.FS

//go:embed examples/*.json
var exampleFiles embed.FS

// ExamplesFS is the examples directory (contracts/examples): one JSON file per
// example plus manifest.json.
var ExamplesFS fs.FS = mustSub(exampleFiles, "examples")

// SpecFS is the openapi directory (contracts/openapi): one YAML document per
// HTTP surface, for serving or publishing them as they are.
var SpecFS fs.FS = mustSub(specFiles, "openapi")

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

var specCache struct {
	sync.Mutex
	docs map[string]*openapi3.T
}

// SpecNames lists the documents by name, sorted: "dept-cdpf", "dept-civil",
// "dept-hrss", "dept-medical", "gateway", "mocks-admin", "portal-receiver".
func SpecNames() []string {
	entries, err := fs.ReadDir(SpecFS, ".")
	if err != nil {
		panic(err) // embedded: cannot happen
	}
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// SpecYAML returns the source of a document, name without extension.
func SpecYAML(name string) ([]byte, error) {
	if !validFileName(name) {
		return nil, fmt.Errorf("contracts: no OpenAPI document %q", name)
	}
	data, err := fs.ReadFile(SpecFS, name+".yaml")
	if err != nil {
		return nil, fmt.Errorf("contracts: no OpenAPI document %q (have %s)", name, strings.Join(SpecNames(), ", "))
	}
	return data, nil
}

// Spec returns the loaded and validated OpenAPI document name (without
// extension, e.g. "gateway" or "dept-cdpf"). Documents are loaded once and
// shared: treat the result as read-only; copy what you need to change (for
// instance Servers) into a shallow copy of the *openapi3.T.
func Spec(name string) (*openapi3.T, error) {
	specCache.Lock()
	defer specCache.Unlock()
	if doc, ok := specCache.docs[name]; ok {
		return doc, nil
	}
	data, err := SpecYAML(name)
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("contracts: load %s.yaml: %w", name, err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("contracts: validate %s.yaml: %w", name, err)
	}
	if specCache.docs == nil {
		specCache.docs = map[string]*openapi3.T{}
	}
	specCache.docs[name] = doc
	return doc, nil
}

// Example returns the example file name (e.g. "submission-full.json") from
// contracts/examples.
func Example(name string) ([]byte, error) {
	if !validFileName(name) {
		return nil, fmt.Errorf("contracts: no example %q", name)
	}
	data, err := fs.ReadFile(ExamplesFS, name)
	if err != nil {
		return nil, fmt.Errorf("contracts: no example %q: %w", name, err)
	}
	return data, nil
}

// validFileName refuses paths: names are plain file names.
func validFileName(name string) bool {
	return name != "" && name == path.Base(name) && name != "." && name != ".." && !strings.ContainsAny(name, `/\`)
}
