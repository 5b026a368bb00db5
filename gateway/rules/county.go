package rules

import (
	"strings"
	"sync/atomic"

	c "onething/contracts"
	"onething/gateway/counties"
)

// The rules decide by the applicant's county (the household division's
// first six digits): the common rules hold everywhere in 四川省, and the
// county's rule pack (gateway/counties) adds its local items, local time
// limits, towns and windows. A county without a pack has the common rules
// only.

var inForce atomic.Pointer[counties.Set]

func init() { UseCounties(counties.Default()) }

// UseCounties makes a set of county rule packs the one the rules decide
// by (the embedded packs until the gateway loads its own) and installs its
// town rule in contracts.ValidDivisionCode: where a county's pack is
// verified only its towns are accepted, where it is not any well-formed
// town code inside the county; a county without a pack is judged by shape.
func UseCounties(s *counties.Set) {
	inForce.Store(s)
	c.SetTownRule(townRule)
	c.SetCountyNamer(countyName)
}

// countyName names a county by its pack (达川区 / Dachuan District).
func countyName(code string) (c.Message, bool) {
	p, ok := Counties().County(code)
	if !ok || len(code) != 6 {
		return c.Message{}, false
	}
	en := p.NameEN
	if en == "" {
		en = p.Name
	}
	return c.Message{ZH: p.Name, EN: en}, true
}

// Counties are the county rule packs in force.
func Counties() *counties.Set { return inForce.Load() }

func townRule(code string) (decided, ok bool) {
	p, found := Counties().County(code)
	if !found {
		return false, false
	}
	return true, p.AcceptsTown(code)
}

// Pack is the rule pack of the applicant's county, if it has one.
func (f Facts) Pack() (*counties.Pack, bool) { return Counties().County(f.HouseholdDivision) }

// Sichuan reports whether the household is registered in 四川省: the
// province the gateway serves.
func (f Facts) Sichuan() bool { return c.InSichuan(f.HouseholdDivision) }

// Offers reports whether the applicant's county offers an item: every
// common item, and a county's own item (e.g. subsidy.nursing34) only where
// its pack lists it.
func (f Facts) Offers(item c.ItemCode) bool {
	if p, ok := f.Pack(); ok {
		return p.Offers(item)
	}
	_, known := c.Items[item]
	return known && !counties.IsLocalOnly(item)
}

// LimitDays is an item's legal time limit in working days in the county
// of a division code (6, 9 or 12 digits): the pack's local limit where it
// gives one, else the common one (contracts.Items).
func LimitDays(division string, item c.ItemCode) int {
	if p, ok := Counties().County(division); ok {
		if d := p.Limit(item); d > 0 {
			return d
		}
	}
	return c.Items[item].LimitDays
}

// County names the applicant's county for people: its pack's label
// ("达川区（511703）"), else its code.
func (f Facts) County() c.Message {
	if p, ok := f.Pack(); ok {
		return p.Label()
	}
	code := c.CountyOf(f.HouseholdDivision)
	return c.Message{ZH: "户籍地县（区划代码 " + code + "）", EN: "the county " + code}
}

// office names a county's office: "达川区民政局", "Dachuan Civil Affairs";
// for a county without a pack, "户籍地县（区划代码 510104）民政局".
func (f Facts) office(zh string, en func(county string) string) c.Message {
	if p, ok := f.Pack(); ok {
		return c.Message{ZH: p.Name + zh, EN: en(shortEN(p))}
	}
	code := c.CountyOf(f.HouseholdDivision)
	return c.Message{ZH: "户籍地县（区划代码 " + code + "）" + zh, EN: en("county " + code)}
}

// shortEN is a county's English name without its kind: "Tongchuan" for
// "Tongchuan District".
func shortEN(p *counties.Pack) string {
	if p.NameEN == "" {
		return p.Name
	}
	for _, kind := range []string{" District", " County", " City"} {
		if s, ok := strings.CutSuffix(p.NameEN, kind); ok {
			return s
		}
	}
	return p.NameEN
}
