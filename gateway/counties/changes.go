package counties

import (
	"sort"

	c "onething/contracts"
)

// Changes is what a pack changes from the common rules, for an operator
// (onething rules check) and for machines (its JSON).
type Changes struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	NameEN   string `json:"nameEn,omitempty"`
	City     City   `json:"city"`
	Verified bool   `json:"verified"`
	Source   string `json:"source"`
	File     string `json:"file"`
	// LocalItems are the items added to the common ones.
	LocalItems []LocalItemChange `json:"localItems"`
	// Limits are the time limits that differ from the common ones.
	Limits []LimitChange `json:"limits"`
	// Towns: how many are listed and how a town code is accepted:
	// "listed" (verified: only the listed towns) or "any-in-county".
	Towns       int    `json:"towns"`
	TownsAccept string `json:"townsAccept"`
	// TownWindows: how many listed towns have a window of their own.
	TownWindows int         `json:"townWindows"`
	Windows     Windows     `json:"windows"`
	Notes       []c.Message `json:"notes,omitempty"`
}

// LocalItemChange is a local item with its name from the catalogue.
type LocalItemChange struct {
	Code  c.ItemCode `json:"code"`
	Name  c.Message  `json:"name"`
	Basis string     `json:"basis"`
	Limit int        `json:"limitDays"`
}

// LimitChange is a local time limit beside the common one.
type LimitChange struct {
	Item   c.ItemCode `json:"item"`
	Common int        `json:"commonDays"`
	Local  int        `json:"localDays"`
}

// Accepting a town code (Changes.TownsAccept).
const (
	TownsListed      = "listed"
	TownsAnyInCounty = "any-in-county"
)

// Changes says what the pack changes from the common rules.
func (p *Pack) Changes() Changes {
	ch := Changes{Code: p.Code, Name: p.Name, NameEN: p.NameEN, City: p.City, Verified: p.Verified, Source: p.Source,
		File: p.File, Towns: len(p.Towns), TownsAccept: TownsAnyInCounty, Windows: p.Windows, Notes: p.Notes,
		LocalItems: []LocalItemChange{}, Limits: []LimitChange{}}
	if p.Verified {
		ch.TownsAccept = TownsListed
	}
	for _, li := range p.LocalItems {
		ch.LocalItems = append(ch.LocalItems, LocalItemChange{Code: li.Code, Name: c.Items[li.Code].Name, Basis: li.Basis, Limit: p.Limit(li.Code)})
	}
	for item, days := range p.Limits {
		if common := c.Items[item].LimitDays; days != common && !localOnly[item] {
			ch.Limits = append(ch.Limits, LimitChange{Item: item, Common: common, Local: days})
		}
	}
	sort.Slice(ch.Limits, func(i, j int) bool { return ch.Limits[i].Item < ch.Limits[j].Item })
	for _, t := range p.Towns {
		if t.Windows.Comprehensive != nil || t.Windows.CDPF != nil {
			ch.TownWindows++
		}
	}
	return ch
}
