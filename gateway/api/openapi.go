package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	c "onething/contracts"
)

// The OpenAPI documents integrators build against, served as they are
// embedded (contracts/openapi): the gateway's own and the documents of the
// systems it talks to (the four departments, the portal's receiver). The
// console's and the mocks' documents are not for integrators.
//
// They are public and, unlike every other reply, cacheable: they change only
// with the binary, so an ETag of their content lets a client revalidate.

// openapiMaxAge is how long a client or proxy may keep a document unasked.
const openapiMaxAge = "public, max-age=3600"

// openapiContentType: application/yaml (RFC 9512).
const openapiContentType = "application/yaml; charset=utf-8"

type openapiDoc struct {
	body []byte
	etag string
}

// openapiDocs maps a file name ("gateway.yaml") to its document. The name is
// only ever looked up here, never joined to a path: nothing else is
// reachable (no listing, no traversal).
var openapiDocs = func() map[string]openapiDoc {
	docs := map[string]openapiDoc{}
	for _, name := range c.SpecNames() {
		if name != "gateway" && name != "portal-receiver" && !strings.HasPrefix(name, "dept-") {
			continue
		}
		body, err := c.SpecYAML(name)
		if err != nil {
			panic(err) // embedded: cannot happen
		}
		sum := sha256.Sum256(body)
		docs[name+".yaml"] = openapiDoc{body: body, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
	}
	return docs
}()

// openapi serves GET (and HEAD) /openapi/:name.
func (s *server) openapi(g *gin.Context) {
	doc, ok := openapiDocs[g.Param("name")]
	if !ok {
		s.fail(g, http.StatusNotFound, "not_found", "没有这份接口文档", "no such OpenAPI document")
		return
	}
	h := g.Writer.Header()
	h.Set("Cache-Control", openapiMaxAge)
	h.Set("ETag", doc.etag)
	h.Set("Content-Type", openapiContentType)
	// ServeContent answers If-None-Match with 304 and ranges as usual.
	http.ServeContent(g.Writer, g.Request, "", time.Time{}, bytes.NewReader(doc.body))
}
