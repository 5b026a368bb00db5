package auth_test

import (
	"testing"

	"onething/gateway/auth"
)

// Scopes across counties: a town sees its town, a county office (6 digits)
// its county, a city office (4 digits) its city's counties, the province
// office (51) everything; nothing else is a scope.
func TestScopesAcrossCounties(t *testing.T) {
	cases := []struct {
		scope string
		sees  []string
		not   []string
	}{
		{"511702102", []string{"511702102", "511702102001"}, []string{"511702103", "511702", "511703102"}},
		{"511703", []string{"511703", "511703100", "511703100001"}, []string{"511702102", "511722", "5117"}},
		{"5117", []string{"511702102", "511703", "511781100"}, []string{"510107", "5101"}},
		{"51", []string{"510107", "511703100", "511702102001", "500101"}, nil}, // all the gateway holds
	}
	for _, c := range cases {
		p := &auth.Principal{Role: auth.RoleStaff, Towns: []string{c.scope}, Subject: "staff-1"}
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", c.scope, err)
		}
		for _, d := range c.sees {
			if !p.SeesHousehold(d) {
				t.Errorf("scope %s does not see %s", c.scope, d)
			}
		}
		for _, d := range c.not {
			if p.SeesHousehold(d) {
				t.Errorf("scope %s sees %s", c.scope, d)
			}
		}
	}
	for _, bad := range []string{"", "5", "511", "51170", "5100", "510000", "5000", "511702999", "1101", "110101", "abcd", "51170210"} {
		p := &auth.Principal{Role: auth.RoleStaff, Towns: []string{bad}, Subject: "staff-1"}
		if p.Validate() == nil {
			t.Errorf("scope %q accepted", bad)
		}
	}
}
