package contracts

import (
	"strings"
	"sync/atomic"
)

// Division codes (统计用区划代码, 2023) the service needs by name.
const (
	DivisionSichuan    = "51"
	DivisionDazhou     = "5117"
	DivisionTongchuan  = "511702"
	tongchuanTownsHead = "511702"
)

// Divisions names the codes of DOMAIN.md: Sichuan, Dazhou and its counties,
// and Tongchuan's streets and towns.
var Divisions = map[string]string{
	"51": "四川省", "5117": "达州市",
	"511702": "通川区", "511703": "达川区", "511722": "宣汉县", "511723": "开江县",
	"511724": "大竹县", "511725": "渠县", "511781": "万源市",
	"511702001": "东城街道", "511702002": "西城街道", "511702003": "朝阳街道",
	"511702004": "凤西街道", "511702005": "凤北街道", "511702102": "罗江镇",
	"511702103": "蒲家镇", "511702104": "复兴镇", "511702105": "双龙镇",
	"511702107": "江陵镇", "511702108": "碑庙镇", "511702109": "磐石镇",
	"511702110": "东岳镇", "511702111": "梓桐镇", "511702112": "北山镇",
	"511702113": "金石镇", "511702114": "青宁镇", "511702208": "安云乡",
}

// provinces are the two-digit province-level codes of mainland China, Hong
// Kong, Macao and Taiwan used in ID numbers.
var provinces = "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82 83"

func validProvince(p string) bool {
	return len(p) == 2 && strings.Contains(provinces, p)
}

// ValidDivisionCode reports whether code has the shape of a division code:
// 6 (county), 9 (town/street) or 12 (village) digits under a real province.
// The town of a 9- or 12-digit code (its first 9 digits) is judged by the
// town rule installed (SetTownRule: the gateway's county rule packs) where
// it knows the county; without a rule, Tongchuan's towns must be ones that
// exist (Divisions) and any other county's are judged by their shape.
func ValidDivisionCode(code string) bool {
	switch len(code) {
	case 6, 9, 12:
	default:
		return false
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return false
		}
	}
	if !validProvince(code[:2]) {
		return false
	}
	if len(code) < 9 {
		return true
	}
	if r := townRule.Load(); r != nil {
		if decided, ok := (*r)(code); decided {
			return ok
		}
		return true
	}
	if code[:6] == tongchuanTownsHead {
		_, ok := Divisions[code[:9]]
		return ok
	}
	return true
}

// A TownRule judges the town of a 9- or 12-digit division code already
// well formed (digits, a real province): decided reports whether the rule
// knows the code's county (then ok says whether the town is accepted);
// where it does not, the code's shape decides.
type TownRule func(code string) (decided, ok bool)

var townRule atomic.Pointer[TownRule]

// SetTownRule installs the town rule ValidDivisionCode applies (nil: none,
// the built-in Tongchuan check). This package knows no county rules: the
// gateway installs its county rule packs' rule (gateway/rules does, when
// loaded and whenever the packs in force change), so that every validation
// (submissions, the guide, the console, staff scopes) judges towns alike.
func SetTownRule(r TownRule) {
	if r == nil {
		townRule.Store(nil)
		return
	}
	townRule.Store(&r)
}

// InTongchuan reports whether a division code lies in 通川区.
func InTongchuan(code string) bool { return strings.HasPrefix(code, DivisionTongchuan) }

// InSichuan reports whether a division code lies in 四川省.
func InSichuan(code string) bool { return strings.HasPrefix(code, DivisionSichuan) }

// CountyOf is the six-digit county (县/区/市) code of a 6-, 9- or 12-digit
// division code, "" for anything shorter.
func CountyOf(division string) string {
	if len(division) < 6 {
		return ""
	}
	return division[:6]
}
