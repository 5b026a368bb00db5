// Package counties is county rules as data: what a county (县/区/市) adds to
// or changes in the common rules of package rules, one rule pack per county.
//
// The common rules (the seed's 办事指南 as code, in gateway/rules) hold for
// every county. A pack says only what is the county's own: its code and
// name, its towns (乡镇/街道, 9-digit codes) and their windows, its county
// windows (综合受理窗口, 残联窗口), its local items (e.g. 通川区's
// subsidy.nursing34, 三、四级智力和精神残疾人护理补贴, a 通川区 policy) and
// local time limits where they differ from the common ones.
//
// # Format
//
// A pack is a YAML file (a JSON file is YAML too, so a machine may write
// JSON). YAML because it is the language of the gateway's configuration
// (read with sigs.k8s.io/yaml, already a dependency) and because an operator
// completing a county can say in a comment where each fact comes from. The
// file is decoded strictly, as request bodies are: YAML to JSON refusing a
// key given twice, then the JSON v2 module refusing unknown keys and keys
// in another case (Verified is not verified); codes are quoted text
// ("511703"), never YAML numbers. docs/COUNTIES.md shows a pack field by
// field.
//
// # Defaults and an operator's directory
//
// The packs of the seven counties of 达州市 are embedded (packs/*.yaml):
// 通川区 as the seed (通区民发〔2022〕50号) and DOMAIN.md say, verified; the
// other six with the common rules only, verified: false, no towns. Load(dir)
// reads the embedded packs, then every *.yaml, *.yml and *.json file of dir:
// a pack with the code of an embedded one replaces it whole, a pack of
// another county adds it. Every problem of every file is reported
// (Problems), each naming the file and the field, in Chinese and English.
//
// # Verified
//
// verified: true says the pack was checked against the county's own
// documents: its town list is complete (only those towns are accepted), its
// windows and local items are the county's. verified: false says the pack
// holds the common rules only and whatever is known here: any well-formed
// 9-digit town code inside the county is accepted and shown by its code.
//
// # API
//
//	set := counties.Default()             // the embedded packs (panics if they are broken: tested)
//	set, err := counties.Load(dir)        // embedded + dir; err is a Problems
//	p, ok := set.County("511703102")      // any 6-, 9- or 12-digit division code
//	set.Counties()                        // every pack, by code
//	set.InCity("5117")                    // the packs of a city (4 digits)
//	p.Offers(item), p.HasLocalItem(item)  // common items, and local ones where the pack has them
//	p.Limit(item)                         // working days: local, else common; 0 if not offered
//	p.AcceptsTown(code), p.Town(code)     // town acceptance (verified: listed only) and its display name
//	p.ComprehensiveWindow(division), p.CDPFWindow(division) // where to go, nearest first
//	p.Changes()                           // what the pack changes from the common rules (rules check)
//
// The package is pure: no HTTP, no store, no clock.
package counties

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	c "onething/contracts"
)

// Pack is one county's rules as data. Read it through its methods; the
// fields are what the file says.
type Pack struct {
	Code     string // 6 digits, in 四川省 (51xxxx)
	Name     string // 中文名, e.g. 达川区
	NameEN   string // e.g. Dachuan District (optional)
	City     City
	Verified bool
	Source   string // where the pack's facts come from
	// Windows are the county's own windows (the county government
	// service centre's 综合受理窗口, the county CDPF's window), if known.
	Windows    Windows
	Towns      []Town
	LocalItems []LocalItem
	// Limits are local time limits (working days) that differ from the
	// common ones (contracts.Items).
	Limits map[c.ItemCode]int
	Notes  []c.Message
	// File is where the pack was read from: "embedded:511702.yaml" or a
	// path in the operator's directory.
	File string

	towns map[string]*Town
	local map[c.ItemCode]*LocalItem
}

// City is the prefecture-level city (地级市) of a county.
type City struct {
	Code string `json:"code"` // 4 digits: the county code's first four
	Name string `json:"name"`
}

// Windows are the windows of a county or a town, where known.
type Windows struct {
	Comprehensive *c.Message `json:"comprehensive,omitempty"` // “扶残助困一件事”综合受理窗口
	CDPF          *c.Message `json:"cdpf,omitempty"`          // 残联窗口
}

// Town is a 乡镇/街道 of the county.
type Town struct {
	Code    string  `json:"code"` // 9 digits, starting with the county's code
	Name    string  `json:"name"`
	Windows Windows `json:"windows"`
}

// LocalItem is an item the county offers beyond the common ones, with the
// document it rests on.
type LocalItem struct {
	Code   c.ItemCode `json:"code"`
	Basis  string     `json:"basis"`            // the county's document
	Clause string     `json:"clause,omitempty"` // where the seed (or the county's guide) cites it
}

// localOnly are the items of the catalogue (contracts.Items) that are a
// county's own policy: offered only where a pack lists them.
var localOnly = map[c.ItemCode]bool{c.ItemSubsidyNursing34: true}

// IsLocalOnly reports whether an item is offered only by the counties
// whose pack lists it as a local item.
func IsLocalOnly(item c.ItemCode) bool { return localOnly[item] }

// CommonItems are the items every county offers, sorted.
func CommonItems() []c.ItemCode {
	var out []c.ItemCode
	for code := range c.Items {
		if !localOnly[code] {
			out = append(out, code)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// HasLocalItem reports whether the pack lists item as a local item.
func (p *Pack) HasLocalItem(item c.ItemCode) bool { _, ok := p.local[item]; return ok }

// LocalItem is the pack's local item, if it has it.
func (p *Pack) LocalItem(item c.ItemCode) (LocalItem, bool) {
	if li, ok := p.local[item]; ok {
		return *li, true
	}
	return LocalItem{}, false
}

// Offers reports whether the county offers an item: every common item,
// and the local-only ones its pack lists.
func (p *Pack) Offers(item c.ItemCode) bool {
	if _, known := c.Items[item]; !known {
		return false
	}
	return !localOnly[item] || p.HasLocalItem(item)
}

// Limit is the item's legal time limit in the county, in working days: the
// pack's local limit, else the common one; 0 if the county does not offer
// the item.
func (p *Pack) Limit(item c.ItemCode) int {
	if !p.Offers(item) {
		return 0
	}
	if d, ok := p.Limits[item]; ok {
		return d
	}
	return c.Items[item].LimitDays
}

// Label is the county's name for display: "达川区（511703）" / "达川区 (511703)".
func (p *Pack) Label() c.Message {
	en := p.NameEN
	if en == "" {
		en = p.Name
	}
	return c.Message{ZH: p.Name + "（" + p.Code + "）", EN: en + " (" + p.Code + ")"}
}

// townCode is the 9-digit town part of a 9- or 12-digit division code
// inside the county, or "" if code is not one.
func (p *Pack) townCode(code string) string {
	if (len(code) != 9 && len(code) != 12) || !allDigits(code) || !strings.HasPrefix(code, p.Code) {
		return ""
	}
	if code[6:9] == "000" {
		return ""
	}
	return code[:9]
}

// TownInfo is the listed town of a 9- or 12-digit division code.
func (p *Pack) TownInfo(code string) (Town, bool) {
	if t, ok := p.towns[p.townCode(code)]; ok {
		return *t, true
	}
	return Town{}, false
}

// AcceptsTown reports whether a 9-digit town code (or a 12-digit village
// code, judged on its town) is a town of the county: where the pack is
// verified, one of its towns; where not, any well-formed code inside the
// county.
func (p *Pack) AcceptsTown(code string) bool {
	t := p.townCode(code)
	if t == "" {
		return false
	}
	if _, listed := p.towns[t]; listed {
		return true
	}
	return !p.Verified
}

// Town is the display name of an accepted town: its listed name, or, in an
// unverified pack, its code. ok is AcceptsTown.
func (p *Pack) Town(code string) (name string, ok bool) {
	if t, listed := p.TownInfo(code); listed {
		return t.Name, true
	}
	if p.AcceptsTown(code) {
		return p.townCode(code), true
	}
	return "", false
}

// ComprehensiveWindow is where an applicant of the division (a 6-, 9- or
// 12-digit code in the county) goes: the town's 综合受理窗口 where the pack
// gives the town's windows (its text says where to go in full, and may name
// the county's window as the alternative: 通川区's do), else the county's;
// else a description naming the county.
func (p *Pack) ComprehensiveWindow(division string) c.Message {
	if t, ok := p.TownInfo(division); ok && t.Windows.Comprehensive != nil {
		return *t.Windows.Comprehensive
	}
	if w := p.Windows.Comprehensive; w != nil {
		return *w
	}
	l := p.Label()
	return c.Message{ZH: "户籍地" + l.ZH + "“扶残助困一件事”综合受理窗口", EN: "the comprehensive window of the household-registration place, " + l.EN}
}

// CDPFWindow is where a first certificate is applied for (with the joint
// application): the town's CDPF window where the pack gives it (in full,
// as ComprehensiveWindow), else the county's; else a description naming
// the county.
func (p *Pack) CDPFWindow(division string) c.Message {
	if t, ok := p.TownInfo(division); ok && t.Windows.CDPF != nil {
		return *t.Windows.CDPF
	}
	if w := p.Windows.CDPF; w != nil {
		return *w
	}
	l := p.Label()
	return c.Message{ZH: "户籍地" + l.ZH + "残联窗口", EN: "the CDPF window of the household-registration place, " + l.EN}
}

// Set is the packs in force, one per county.
type Set struct {
	byCode map[string]*Pack
	list   []*Pack
}

// County is the pack of the county of a division code of 6 (county), 9
// (town) or 12 (village) digits.
func (s *Set) County(division string) (*Pack, bool) {
	switch len(division) {
	case 6, 9, 12:
	default:
		return nil, false
	}
	if !allDigits(division) {
		return nil, false
	}
	p, ok := s.byCode[division[:6]]
	return p, ok
}

// Counties are every pack, sorted by code.
func (s *Set) Counties() []*Pack { return append([]*Pack(nil), s.list...) }

// InCity are the packs of the counties of a city (4-digit code), by code.
func (s *Set) InCity(city string) []*Pack {
	var out []*Pack
	for _, p := range s.list {
		if len(city) == 4 && p.City.Code == city {
			out = append(out, p)
		}
	}
	return out
}

//go:embed packs/*.yaml
var embedded embed.FS

// Embedded is the embedded pack of a county code, as the file says it
// (for an operator to start from), or nil.
func Embedded(code string) []byte {
	data, err := embedded.ReadFile("packs/" + code + ".yaml")
	if err != nil {
		return nil
	}
	return data
}

var defaultSet = func() *Set {
	s, err := load("")
	if err != nil {
		panic(fmt.Sprintf("counties: the embedded packs are broken: %v", err))
	}
	return s
}()

// Default is the embedded packs. They are checked by the tests, so it
// cannot fail at run time.
func Default() *Set { return defaultSet }

// Load is the embedded packs, with the packs of dir (every *.yaml, *.yml
// and *.json file; "" for none) replacing or adding counties. The error is
// a Problems listing every problem found.
func Load(dir string) (*Set, error) { return load(dir) }

// packFiles are the pack files of a directory, sorted.
func packFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".yaml", ".yml", ".json":
			if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
				out = append(out, filepath.Join(dir, e.Name()))
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

func load(dir string) (*Set, error) {
	var probs Problems
	byCode := map[string]*Pack{}
	// read parses every file of one source; a county twice within one
	// source is an error, a county of the directory replaces the
	// embedded one.
	read := func(files []string, readFile func(string) ([]byte, error), name func(string) string) {
		seen := map[string]string{}
		for _, f := range files {
			data, err := readFile(f)
			if err != nil {
				probs = append(probs, Problem{File: name(f), Msg: c.Message{ZH: "无法读取：" + err.Error(), EN: "cannot read: " + err.Error()}})
				continue
			}
			p, err := Parse(name(f), data)
			if err != nil {
				probs = append(probs, asProblems(err, name(f))...)
				continue
			}
			if other, dup := seen[p.Code]; dup {
				probs = append(probs, Problem{File: name(f), Field: "code", Msg: c.Message{
					ZH: "县级代码 " + p.Code + " 重复，已见于 " + other, EN: "county " + p.Code + " given twice, also in " + other}})
				continue
			}
			seen[p.Code] = name(f)
			byCode[p.Code] = p
		}
	}
	names, err := fs.Glob(embedded, "packs/*.yaml")
	if err != nil {
		return nil, err
	}
	read(names, embedded.ReadFile, func(f string) string { return "embedded:" + strings.TrimPrefix(f, "packs/") })
	if dir != "" {
		files, err := packFiles(dir)
		if err != nil {
			probs = append(probs, Problem{File: dir, Msg: c.Message{ZH: "无法读取规则包目录：" + err.Error(), EN: "cannot read the pack directory: " + err.Error()}})
		} else {
			read(files, os.ReadFile, func(f string) string { return f })
		}
	}
	if len(probs) > 0 {
		return nil, probs
	}
	s := &Set{byCode: byCode}
	for _, p := range byCode {
		s.list = append(s.list, p)
	}
	sort.Slice(s.list, func(i, j int) bool { return s.list[i].Code < s.list[j].Code })
	return s, nil
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
