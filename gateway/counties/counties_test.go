package counties

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	c "onething/contracts"
)

var dazhou = []string{"511702", "511703", "511722", "511723", "511724", "511725", "511781"}

func TestTheSevenPacksLoad(t *testing.T) {
	s, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, p := range s.Counties() {
		codes = append(codes, p.Code)
		if p.Name != c.Divisions[p.Code] || p.City != (City{"5117", "达州市"}) || p.Source == "" {
			t.Errorf("%s: name %q, city %+v, source %q", p.Code, p.Name, p.City, p.Source)
		}
		if p.File != "embedded:"+p.Code+".yaml" {
			t.Errorf("%s: file %q", p.Code, p.File)
		}
	}
	if strings.Join(codes, " ") != strings.Join(dazhou, " ") {
		t.Errorf("counties %v, want %v", codes, dazhou)
	}
	if got := len(s.InCity("5117")); got != 7 {
		t.Errorf("InCity(5117): %d packs", got)
	}
	if got := len(s.InCity("5101")); got != 0 {
		t.Errorf("InCity(5101): %d packs", got)
	}
	if Default().byCode["511702"] == nil {
		t.Error("Default lacks 通川区")
	}
}

// 通川区 is the seed's: its towns are exactly contracts/division.go's, each
// with a window, and it has the 三、四级 nursing subsidy.
func TestTongchuanIsTheSeeds(t *testing.T) {
	p, ok := Default().County("511702")
	if !ok || !p.Verified {
		t.Fatalf("通川区: %v, verified %v", ok, p != nil && p.Verified)
	}
	var want, got []string
	for code, name := range c.Divisions {
		if len(code) == 9 && strings.HasPrefix(code, "511702") {
			want = append(want, code+" "+name)
		}
	}
	for _, town := range p.Towns {
		got = append(got, town.Code+" "+town.Name)
		if town.Windows.Comprehensive == nil || town.Windows.CDPF == nil {
			t.Errorf("%s: no window", town.Name)
		}
	}
	sort.Strings(want)
	sort.Strings(got)
	if len(want) != 18 || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("towns:\n got %v\nwant %v", got, want)
	}
	if !p.HasLocalItem(c.ItemSubsidyNursing34) || !p.Offers(c.ItemSubsidyNursing34) || p.Limit(c.ItemSubsidyNursing34) != 10 {
		t.Errorf("通川区 nursing34: has %v offers %v limit %d", p.HasLocalItem(c.ItemSubsidyNursing34), p.Offers(c.ItemSubsidyNursing34), p.Limit(c.ItemSubsidyNursing34))
	}
	li, _ := p.LocalItem(c.ItemSubsidyNursing34)
	if !strings.Contains(li.Basis, "关于建立三、四级智力和精神残疾人护理补贴制度的通知") || !strings.Contains(li.Clause, "通区民发〔2022〕50号") {
		t.Errorf("nursing34 basis %q clause %q", li.Basis, li.Clause)
	}
	for code, info := range c.Items {
		if p.Limit(code) != info.LimitDays {
			t.Errorf("通川区 %s: limit %d, want the common %d", code, p.Limit(code), info.LimitDays)
		}
	}
	if ch := p.Changes(); len(ch.LocalItems) != 1 || len(ch.Limits) != 0 || ch.TownsAccept != TownsListed || ch.TownWindows != 18 {
		t.Errorf("changes: %+v", ch)
	}
}

func TestTheOtherSixAreCommonAndUnverified(t *testing.T) {
	for _, code := range dazhou[1:] {
		p, ok := Default().County(code)
		if !ok {
			t.Fatalf("%s: no pack", code)
		}
		if p.Verified || len(p.LocalItems) != 0 || len(p.Limits) != 0 || len(p.Towns) != 0 {
			t.Errorf("%s: verified %v, local items %v, limits %v, towns %d", code, p.Verified, p.LocalItems, p.Limits, len(p.Towns))
		}
		if p.Offers(c.ItemSubsidyNursing34) || p.Limit(c.ItemSubsidyNursing34) != 0 {
			t.Errorf("%s offers the 三、四级 nursing subsidy", code)
		}
		for _, item := range CommonItems() {
			if !p.Offers(item) || p.Limit(item) != c.Items[item].LimitDays {
				t.Errorf("%s: common item %s offered %v limit %d", code, item, p.Offers(item), p.Limit(item))
			}
		}
		if ch := p.Changes(); ch.TownsAccept != TownsAnyInCounty || len(ch.LocalItems) != 0 {
			t.Errorf("%s changes: %+v", code, ch)
		}
		if Embedded(code) == nil {
			t.Errorf("%s: Embedded is nil", code)
		}
	}
	if Embedded("510107") != nil || Embedded("../counties") != nil {
		t.Error("Embedded of an unknown county")
	}
}

func TestCountyOfAnyDivisionCode(t *testing.T) {
	s := Default()
	for code, want := range map[string]string{
		"511702": "511702", "511702102": "511702", "511702102001": "511702", "511703": "511703",
		"511781101": "511781", "510107": "", "5117": "", "51": "", "51170": "", "5117021": "", "51170a": "",
		"": "", "511702102001999": "",
	} {
		p, ok := s.County(code)
		if got := ""; ok {
			got = p.Code
			if got != want {
				t.Errorf("County(%q) = %s, want %q", code, got, want)
			}
		} else if want != "" {
			t.Errorf("County(%q): none, want %s", code, want)
		}
	}
}

func TestTownAcceptance(t *testing.T) {
	tc, _ := Default().County("511702")
	dc, _ := Default().County("511703")
	cases := []struct {
		p        *Pack
		code     string
		accepted bool
		name     string
	}{
		{tc, "511702102", true, "罗江镇"},
		{tc, "511702102203", true, "罗江镇"}, // a village, judged on its town
		{tc, "511702106", false, ""},      // well formed, not one of the verified towns
		{tc, "511702999", false, ""},
		{tc, "511703102", false, ""}, // another county
		{tc, "511702", false, ""},    // the county is not a town
		{dc, "511703102", true, "511703102"},
		{dc, "511703102203", true, "511703102"},
		{dc, "511703000", false, ""},
		{dc, "51170310x", false, ""},
		{dc, "5117031020", false, ""},
		{dc, "511702102", false, ""},
	}
	for _, cs := range cases {
		name, ok := cs.p.Town(cs.code)
		if cs.p.AcceptsTown(cs.code) != cs.accepted || ok != cs.accepted || name != cs.name {
			t.Errorf("%s Town(%q) = %q, %v; AcceptsTown %v; want %q, %v", cs.p.Name, cs.code, name, ok, cs.p.AcceptsTown(cs.code), cs.name, cs.accepted)
		}
	}
}

func TestWindows(t *testing.T) {
	tc, _ := Default().County("511702")
	dc, _ := Default().County("511703")
	gp, err := Parse("good.yaml", []byte(goodPack))
	if err != nil {
		t.Fatal(err)
	}
	for _, cs := range []struct {
		got  string
		want string
	}{
		// 通川区's texts are the guide's of before the packs, byte for byte.
		{tc.ComprehensiveWindow("511702102").ZH, "罗江镇便民服务中心“扶残助困一件事”综合受理窗口（或通川区政务服务中心综合受理窗口）"},
		{tc.ComprehensiveWindow("511702102").EN, "the comprehensive window of the 罗江镇 service centre (or of the Tongchuan district centre)"},
		{tc.ComprehensiveWindow("511702").ZH, "通川区政务服务中心“扶残助困一件事”综合受理窗口"},
		{tc.ComprehensiveWindow("511702").EN, "the comprehensive window of the Tongchuan district government service centre"},
		{tc.CDPFWindow("511702102001").ZH, "通川区残联或罗江镇残联窗口"},
		{tc.CDPFWindow("511702102").EN, "the Tongchuan CDPF window or the 罗江镇 CDPF window"},
		{tc.CDPFWindow("511702").ZH, "通川区残联或乡镇（街道）残联窗口"},
		{tc.CDPFWindow("511702").EN, "the Tongchuan CDPF window or a town CDPF window"},
		{dc.ComprehensiveWindow("511703102").ZH, "户籍地达川区（511703）“扶残助困一件事”综合受理窗口"},
		{dc.CDPFWindow("511703").EN, "the CDPF window of the household-registration place, Dachuan District (511703)"},
		// A town's window where the pack gives it, the county's otherwise.
		{gp.ComprehensiveWindow("511703001").ZH, "甲街道窗口"},
		{gp.CDPFWindow("511703001").ZH, "乙窗口"},
		{gp.ComprehensiveWindow("511703101001").ZH, "甲窗口"},
	} {
		if cs.got != cs.want {
			t.Errorf("got  %q\nwant %q", cs.got, cs.want)
		}
	}
}

// a valid pack to break, one field at a time.
const goodPack = `
code: "511703"
name: 达川区
city: {code: "5117", name: 达州市}
verified: true
source: the county's 办事指南
windows:
  comprehensive: {zh: 甲窗口, en: window A}
  cdpf: {zh: 乙窗口, en: window B}
towns:
  - code: "511703001"
    name: 甲街道
    windows:
      comprehensive: {zh: 甲街道窗口, en: the 甲街道 window}
  - {code: "511703101", name: 乙镇}
localItems:
  - {code: subsidy.nursing34, basis: 某文件}
limits:
  pension.subsidy: 30
  subsidy.nursing34: 8
notes:
  - {zh: 说明, en: a note}
`

func TestAValidPack(t *testing.T) {
	p, err := Parse("511703.yaml", []byte(goodPack))
	if err != nil {
		t.Fatal(err)
	}
	if p.Limit(c.ItemPensionSubsidy) != 30 || p.Limit(c.ItemSubsidyNursing34) != 8 || p.Limit(c.ItemMedicalSubsidy) != 15 {
		t.Errorf("limits: %v", p.Limits)
	}
	ch := p.Changes()
	if len(ch.Limits) != 1 || ch.Limits[0] != (LimitChange{c.ItemPensionSubsidy, 45, 30}) || ch.LocalItems[0].Limit != 8 || ch.TownWindows != 1 {
		t.Errorf("changes: %+v", ch)
	}
	// The same pack as JSON.
	j := `{"code":"511703","name":"达川区","city":{"code":"5117","name":"达州市"},"verified":false,"source":"x"}`
	if p, err := Parse("511703.json", []byte(j)); err != nil || p.Verified {
		t.Errorf("JSON pack: %v", err)
	}
}

func TestValidationRefuses(t *testing.T) {
	edit := func(old, new string) string {
		if !strings.Contains(goodPack, old) {
			t.Fatalf("the good pack has no %q", old)
		}
		return strings.Replace(goodPack, old, new, 1)
	}
	cases := []struct {
		name, pack, field, want string
	}{
		{"empty", "  \n", "", "文件为空"},
		{"not YAML", "code: [", "", "YAML"},
		{"unknown field", edit("source:", "sourse:"), "sourse", "未知字段"},
		{"unknown nested field", edit("name: 乙镇", "name: 乙镇, window: x"), "towns[1].window", "unknown field"},
		{"key in another case", edit("verified: true", "Verified: true"), "Verified", "未知字段"},
		{"two spellings of a key", edit("verified: true", "verified: true\nVerified: false"), "Verified", "未知字段"},
		{"unquoted code", edit(`code: "511703101"`, `code: 511703101`), "towns[1].code", "加引号"},
		{"duplicate key", edit("verified: true", "verified: true\nverified: false"), "", "YAML"},
		{"wrong type", edit("verified: true", "verified: [yes]"), "verified", "类型不对"},
		{"no code", edit(`code: "511703"`, ""), "code", "缺少县级区划代码"},
		{"short code", edit(`code: "511703"`, `code: "51170"`), "code", "6 位数字"},
		{"letters in code", edit(`code: "511703"`, `code: "5117O3"`), "code", "6 位数字"},
		{"outside Sichuan", edit(`code: "511703"`, `code: "520103"`), "code", "不是四川省"},
		{"a city code", edit(`code: "511703"`, `code: "511700"`), "code", "不是县级区划代码"},
		{"name does not match", edit("name: 达川区", "name: 通川区"), "name", "511703 是 达川区"},
		{"no name", edit("name: 达川区", "name: ''"), "name", "缺少县"},
		{"no city", edit(`city: {code: "5117", name: 达州市}`, ""), "city", "缺少所属市"},
		{"wrong city", edit(`city: {code: "5117"`, `city: {code: "5101"`), "city.code", "前四位 5117"},
		{"no verified", edit("verified: true", ""), "verified", "verified: true"},
		{"no source", edit("source: the county's 办事指南", ""), "source", "资料来源"},
		{"verified without windows", edit("  cdpf: {zh: 乙窗口, en: window B}\n", ""), "windows.cdpf", "缺少"},
		{"window without English", edit("en: window A", "en: ''"), "windows.comprehensive", "zh"},
		{"renamed field", edit("towns:\n  - code: \"511703001\"", "oldTowns:\n  - code: \"511703001\""), "oldTowns", "未知字段"},
		{"town code short", edit(`"511703101"`, `"51170310"`), "towns[1].code", "9 位数字"},
		{"town in another county", edit(`"511703101"`, `"511702101"`), "towns[1].code", "不在本县 511703 内"},
		{"town code 000", edit(`"511703101"`, `"511703000"`), "towns[1].code", "000"},
		{"duplicate town code", edit(`"511703101"`, `"511703001"`), "towns[1].code", "代码重复"},
		{"duplicate town name", edit("name: 乙镇", "name: 甲街道"), "towns[1].name", "名称重复"},
		{"town without name", edit("name: 乙镇", "name: ''"), "towns[1].name", "缺少乡镇"},
		{"town window without Chinese", edit("zh: 甲街道窗口", "zh: ''"), "towns[0].windows.comprehensive", "en"},
		{"unknown item", edit("code: subsidy.nursing34, basis", "code: subsidy.nursing5, basis"), "localItems[0].code", "未知的事项代码"},
		{"common item as local", edit("code: subsidy.nursing34, basis", "code: subsidy.living, basis"), "localItems[0].code", "通用的事项"},
		{"duplicate local item", edit("  - {code: subsidy.nursing34, basis: 某文件}", "  - {code: subsidy.nursing34, basis: 某文件}\n  - {code: subsidy.nursing34, basis: 某文件}"), "localItems[1].code", "重复"},
		{"local item without basis", edit("basis: 某文件", "basis: ''"), "localItems[0].basis", "政策依据"},
		{"limit of an unknown item", edit("pension.subsidy: 30", "pension: 30"), "limits.pension", "未知的事项代码"},
		{"limit zero", edit("pension.subsidy: 30", "pension.subsidy: 0"), "limits.pension.subsidy", "1 至 45"},
		{"limit negative", edit("pension.subsidy: 30", "pension.subsidy: -3"), "limits.pension.subsidy", "1 至 45"},
		{"limit beyond the whole", edit("pension.subsidy: 30", "pension.subsidy: 60"), "limits.pension.subsidy", "1 至 45"},
		{"limit not a number", edit("pension.subsidy: 30", "pension.subsidy: thirty"), "limits.pension.subsidy", "类型不对"},
		{"limit of a local item not offered", edit("  - {code: subsidy.nursing34, basis: 某文件}", ""), "limits.subsidy.nursing34", "没有这一本地事项"},
		{"note without Chinese", edit("zh: 说明", "zh: ''"), "notes[0].zh", "中文"},
	}
	for _, cs := range cases {
		_, err := Parse("bad.yaml", []byte(cs.pack))
		var probs Problems
		if !errors.As(err, &probs) || len(probs) == 0 {
			t.Errorf("%s: not refused (%v)", cs.name, err)
			continue
		}
		found := false
		for _, p := range probs {
			if p.File == "bad.yaml" && p.Field == cs.field && strings.Contains(p.Error(), cs.want) && p.Msg.ZH != "" && p.Msg.EN != "" {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: want a problem in field %q saying %q, got:\n%v", cs.name, cs.field, cs.want, err)
		}
	}
	// A verified pack must list its towns.
	noTowns := goodPack[:strings.Index(goodPack, "towns:")] + "towns: []\n" + goodPack[strings.Index(goodPack, "localItems:"):]
	if _, err := Parse("bad.yaml", []byte(noTowns)); err == nil || !strings.Contains(err.Error(), "bad.yaml: towns: 已核实") {
		t.Errorf("verified without towns: %v", err)
	}
}

func writePack(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A directory's pack replaces the embedded one of its county, or adds a
// county; everything wrong in it is reported with its file.
func TestDirectoryOverridesAndExtends(t *testing.T) {
	dir := t.TempDir()
	writePack(t, dir, "511703.yaml", goodPack)
	writePack(t, dir, "510107.json", `{"code":"510107","name":"武侯区","city":{"code":"5101","name":"成都市"},"verified":false,"source":"x"}`)
	writePack(t, dir, "README.md", "not a pack")
	s, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Counties()) != 8 {
		t.Errorf("%d counties", len(s.Counties()))
	}
	dc, _ := s.County("511703101")
	if !dc.Verified || dc.File != filepath.Join(dir, "511703.yaml") || !dc.HasLocalItem(c.ItemSubsidyNursing34) {
		t.Errorf("达川区 not replaced: %+v", dc)
	}
	if dc.AcceptsTown("511703102") {
		t.Error("verified 达川区 accepts a town it does not list")
	}
	if p, ok := s.County("510107"); !ok || p.City.Code != "5101" || len(s.InCity("5101")) != 1 {
		t.Errorf("武侯区 not added: %v", ok)
	}
	if p, _ := Default().County("511703"); p.Verified {
		t.Error("Load changed the defaults")
	}

	bad := t.TempDir()
	writePack(t, bad, "a.yaml", goodPack)
	writePack(t, bad, "b.yaml", goodPack)
	writePack(t, bad, "c.yml", strings.Replace(goodPack, "pension.subsidy: 30", "pension.subsidy: 0", 1))
	_, err = Load(bad)
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	for _, want := range []string{filepath.Join(bad, "b.yaml") + ": code: 县级代码 511703 重复，已见于 " + filepath.Join(bad, "a.yaml"),
		filepath.Join(bad, "c.yml") + ": limits.pension.subsidy: "} {
		if !strings.Contains(msg, want) {
			t.Errorf("want %q in:\n%s", want, msg)
		}
	}
	if _, err := Load(filepath.Join(bad, "nosuch")); err == nil || !strings.Contains(err.Error(), "无法读取规则包目录") {
		t.Errorf("missing directory: %v", err)
	}
}

func TestCommonItems(t *testing.T) {
	items := CommonItems()
	if len(items) != len(c.Items)-1 || IsLocalOnly(c.ItemSubsidyLiving) || !IsLocalOnly(c.ItemSubsidyNursing34) {
		t.Errorf("common items %v", items)
	}
	for _, it := range items {
		if it == c.ItemSubsidyNursing34 {
			t.Error("nursing34 is common")
		}
	}
}
