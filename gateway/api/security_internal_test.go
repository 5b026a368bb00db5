package api

import (
	"testing"

	"github.com/gin-gonic/gin"
)

// TestEveryRouteHasARule: a route added to api.go needs its line in the
// policy table of security.go (without one it is refused to everyone),
// and the table names no route that is not served.
func TestEveryRouteHasARule(t *testing.T) {
	h, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{}
	for _, r := range h.(*gin.Engine).Routes() {
		key := r.Method + " " + r.Path
		served[key] = true
		if _, ok := ruleOf(r.Method, r.Path); !ok {
			t.Errorf("%s has no access rule in security.go's policy table", key)
		}
	}
	for key, r := range policy {
		if !served[key] {
			t.Errorf("the policy table names %s, which is not served", key)
		}
		if !r.public && len(r.roles) == 0 {
			t.Errorf("%s: a rule must be public or name its roles", key)
		}
	}
}
