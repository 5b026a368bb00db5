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

// DistrictOffice is the county code that, among a staff member's towns,
// stands for the district office: it sees every application.
const DistrictOffice = c.DivisionTongchuan

// Principal is an authenticated caller.
type Principal struct {
	Role Role
	// Dept is the department of a department principal.
	Dept c.Dept
	// Towns are the 9-digit division codes of window staff's towns; the
	// county code DistrictOffice means the whole district.
	Towns []string
	// Subject names the caller in logs, audit and rate limits, prefixed by
	// the credential kind ("webhook:portal", "jwt:staff-0042",
	// "token:district-office"). It is an account name, never personal data.
	Subject string
	Via     Via
}

// AllTowns reports whether the principal is the district office.
func (p *Principal) AllTowns() bool { return slices.Contains(p.Towns, DistrictOffice) }

// SeesHousehold reports whether staff p may see an application whose
// household registration is division: the district office sees all, others
// the applications registered in one of their towns (division[:9]).
func (p *Principal) SeesHousehold(division string) bool {
	if p.AllTowns() {
		return true
	}
	if len(division) < 9 {
		return false
	}
	return slices.Contains(p.Towns, division[:9])
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
			return errors.New("staff need towns (9-digit division codes, or " + DistrictOffice + " for the district office)")
		}
		for _, t := range p.Towns {
			if !ValidTown(t) {
				return fmt.Errorf("town %q is not a 9-digit division code nor %s", t, DistrictOffice)
			}
		}
	} else if len(p.Towns) > 0 {
		return errors.New("towns are only for the staff role")
	}
	return ValidSubject(p.Subject)
}

// ValidTown reports whether t is a town/street code or the district office.
func ValidTown(t string) bool {
	return t == DistrictOffice || (len(t) == 9 && c.ValidDivisionCode(t))
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
