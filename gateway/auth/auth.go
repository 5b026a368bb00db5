// Package auth authenticates the gateway's callers and says who they are: a
// Principal with a role (portal, department, staff, admin), the department
// of a department, the towns of window staff, and a subject for logs and
// audit that never holds personal data.
//
// Three kinds of credential make a principal:
//   - a Standard Webhooks signature (WebhookVerifier): the portal's
//     deliveries, and each department's events with that department's
//     secrets; several secrets at once during a rotation;
//   - a bearer JWT (JWTVerifier): RS256, ES256 or EdDSA against the keys of a
//     JWKS file, HS256 only with configured secrets; iss, aud, exp and nbf
//     checked with a small leeway; the claims role, dept and towns;
//   - a static bearer token (Tokens): the read and admin tokens of small
//     installations and `onething dev`, each mapped to a principal.
//
// What each role may do is the gateway's one policy table (gateway/api);
// this package also holds the pieces the table's middleware uses: the
// replay cache of webhook ids and the per-caller rate limiter.
package auth

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	c "onething/contracts"
)

// Role is what a caller is to the gateway.
type Role string

const (
	RolePortal     Role = "portal"     // the provincial portal (and the windows through it)
	RoleDepartment Role = "department" // one department system (Principal.Dept)
	RoleStaff      Role = "staff"      // window staff of some towns, or the district office
	RoleAdmin      Role = "admin"      // operators: dead letters, breakers
)

// Roles lists every role in a stable order.
var Roles = []Role{RolePortal, RoleDepartment, RoleStaff, RoleAdmin}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Via is the kind of credential a principal was authenticated by.
type Via string

const (
	ViaSignature Via = "signature" // Standard Webhooks HMAC over the body
	ViaJWT       Via = "jwt"       // bearer JWT
	ViaToken     Via = "token"     // static bearer token
)

// Scopes. A staff member's "towns" say whose applications they see, by the
// applicant's household division: a 9-digit town/street code is that
// town's window; a 6-digit county code (511703) that county's office; a
// 4-digit city code (5117) the city's office; ProvinceOffice (51) the
// province office, which sees every application the gateway holds.
const (
	ProvinceOffice = c.DivisionSichuan
	// DistrictOffice is the seed's district office: 通川区's county scope.
	DistrictOffice = c.DivisionTongchuan
)

// Principal is an authenticated caller.
type Principal struct {
	Role Role
	// Dept is the department of a department principal.
	Dept c.Dept
	// Towns are the staff member's scopes: 9-digit towns, 6-digit counties,
	// 4-digit cities or the province (see ProvinceOffice).
	Towns []string
	// Subject names the caller in logs, audit and rate limits, prefixed by
	// the credential kind ("webhook:portal", "jwt:staff-0042",
	// "token:district-office"). It is an account name, never personal data.
	Subject string
	Via     Via
}

// AllTowns reports whether the principal is the province office: it sees
// every application.
func (p *Principal) AllTowns() bool { return slices.Contains(p.Towns, ProvinceOffice) }

// SeesHousehold reports whether staff p may see an application whose
// household registration is division: one of p's scopes is a prefix of it
// at its own level (a town sees its town, a county office its county, a
// city office its city, the province office everything the gateway holds,
// applicants registered outside Sichuan too).
func (p *Principal) SeesHousehold(division string) bool {
	if p.AllTowns() {
		return true // the province office: also applicants registered elsewhere
	}
	for _, s := range p.Towns {
		if ValidTown(s) && len(division) >= len(s) && division[:len(s)] == s {
			return true
		}
	}
	return false
}

// Validate checks that the principal is coherent: a department names a
// known department, staff have at least one valid town, a subject is there
// and looks like an account name.
func (p *Principal) Validate() error {
	if !p.Role.Valid() {
		return fmt.Errorf("unknown role %q", p.Role)
	}
	if p.Role == RoleDepartment && !p.Dept.Valid() {
		return fmt.Errorf("a department principal needs dept (cdpf, civil, hrss or medical), got %q", p.Dept)
	}
	if p.Role != RoleDepartment && p.Dept != "" {
		return errors.New("dept is only for the department role")
	}
	if p.Role == RoleStaff {
		if len(p.Towns) == 0 {
			return errors.New("staff need towns: 9-digit towns, 6-digit county offices (511703), 4-digit city offices (5117) or " + ProvinceOffice + " for the province office")
		}
		for _, t := range p.Towns {
			if !ValidTown(t) {
				return fmt.Errorf("towns: %q 不是四川省的范围（9 位乡镇、6 位县、4 位市或 %s 全省）/ is not a Sichuan scope: a 9-digit town, a 6-digit county, a 4-digit city or %s", t, ProvinceOffice, ProvinceOffice)
			}
		}
	} else if len(p.Towns) > 0 {
		return errors.New("towns are only for the staff role")
	}
	return ValidSubject(p.Subject)
}

// ValidTown reports whether t is a scope in Sichuan: a town/street (9
// digits, a real one in 通川区), a county (6) or a city (4) code, or the
// province office.
func ValidTown(t string) bool {
	if t == ProvinceOffice {
		return true
	}
	if !strings.HasPrefix(t, c.DivisionSichuan) {
		return false
	}
	switch len(t) {
	case 4:
		return allDigits(t) && t[2:] != "00"
	case 6:
		return c.ValidDivisionCode(t) && t[4:] != "00"
	case 9:
		return c.ValidDivisionCode(t)
	}
	return false
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

var subjectPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:@#/+-]{0,127}$`)
var (
	idLike    = regexp.MustCompile(`[0-9]{17}[0-9Xx]`)
	phoneLike = regexp.MustCompile(`1[3-9][0-9]{9}`)
)

// ValidSubject refuses subjects that are empty, too long, of odd
// characters, or that look like an ID number or a mobile number: a subject
// goes to logs and audit, which must not hold personal data.
func ValidSubject(s string) error {
	if !subjectPattern.MatchString(s) {
		return errors.New("subject must be 1-128 letters, digits and . _ : @ # / + -")
	}
	if idLike.MatchString(s) || phoneLike.MatchString(s) {
		return errors.New("subject looks like an ID or phone number: use an account id, never personal data")
	}
	return nil
}

type ctxKey struct{}

// NewContext returns ctx carrying p.
func NewContext(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal of a request, nil when anonymous.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}

// ErrUnauthenticated is wrapped by every refused credential: the caller is
// not who the credential claims (401).
var ErrUnauthenticated = errors.New("not authenticated")
