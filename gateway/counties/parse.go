package counties

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"sigs.k8s.io/yaml"

	c "onething/contracts"
)

// Problem is one thing wrong in a pack file: the file, the field (a path
// such as towns[2].code, or "" for the whole file) and what is wrong.
type Problem struct {
	File  string    `json:"file"`
	Field string    `json:"field,omitempty"`
	Msg   c.Message `json:"message"`
}

func (p Problem) Error() string {
	where := p.File
	if p.Field != "" {
		where += ": " + p.Field
	}
	return where + ": " + p.Msg.ZH + " / " + p.Msg.EN
}

// Problems are every problem found; it is the error of Parse and Load.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

func asProblems(err error, file string) Problems {
	var ps Problems
	if errors.As(err, &ps) {
		return ps
	}
	return Problems{{File: file, Msg: c.Message{ZH: err.Error(), EN: err.Error()}}}
}

// packFile is a pack as its file says it.
type packFile struct {
	Code       string             `json:"code"`
	Name       string             `json:"name"`
	NameEN     string             `json:"nameEn"`
	City       *City              `json:"city"`
	Verified   *bool              `json:"verified"`
	Source     string             `json:"source"`
	Windows    Windows            `json:"windows"`
	Towns      []Town             `json:"towns"`
	LocalItems []LocalItem        `json:"localItems"`
	Limits     map[c.ItemCode]int `json:"limits"`
	Notes      []c.Message        `json:"notes"`
}

// decodeOptions: JSON v2 with its leniencies off, as for request bodies
// (gateway/api/strictjson.go): a key only with its documented spelling,
// once, unknown keys refused. (The YAML step already refuses a key given
// twice.)
var decodeOptions = json.JoinOptions(
	json.RejectUnknownMembers(true),
	json.MatchCaseInsensitiveNames(false),
	jsontext.AllowDuplicateNames(false),
	jsontext.AllowInvalidUTF8(false),
)

// Parse reads and validates one pack file; name is the file's name in the
// problems. The error is a Problems.
func Parse(name string, data []byte) (*Pack, error) {
	fail := func(field, zh, en string) error {
		return Problems{{File: name, Field: field, Msg: c.Message{ZH: zh, EN: en}}}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fail("", "文件为空", "the file is empty")
	}
	doc, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, fail("", "不是有效的 YAML/JSON（或有重复的键）："+err.Error(), "not valid YAML or JSON (or a key given twice): "+err.Error())
	}
	var f packFile
	if err := json.Unmarshal(doc, &f, decodeOptions); err != nil {
		var sem *json.SemanticError
		switch {
		case errors.As(err, &sem) && errors.Is(err, json.ErrUnknownName):
			return nil, fail(fieldPath(sem.JSONPointer), "未知字段（拼写或大小写有误？见 docs/COUNTIES.md）", "unknown field (spelling or case? see docs/COUNTIES.md)")
		case errors.As(err, &sem) && sem.GoType != nil && sem.GoType.Kind() == reflect.String && sem.JSONKind == '0':
			return nil, fail(fieldPath(sem.JSONPointer), "应为文本：代码请加引号，如 \"511703\"", "want text: quote codes, e.g. \"511703\"")
		case errors.As(err, &sem) && sem.GoType != nil:
			return nil, fail(fieldPath(sem.JSONPointer), "类型不对：应为 "+sem.GoType.String(), "wrong type: want "+sem.GoType.String())
		}
		return nil, fail("", "无法解析："+err.Error(), "cannot decode: "+err.Error())
	}
	p, probs := f.validate(name)
	if len(probs) > 0 {
		return nil, probs
	}
	return p, nil
}

// maxLimit: a local limit above the whole one thing's 45 working days
// (四减) would break the one-thing promise.
const maxLimit = c.WholeLimitDays

// validate checks a pack file and builds the Pack.
func (f *packFile) validate(file string) (*Pack, Problems) {
	var probs Problems
	bad := func(field, zh, en string) {
		probs = append(probs, Problem{File: file, Field: field, Msg: c.Message{ZH: zh, EN: en}})
	}
	message := func(field string, m *c.Message, required bool) {
		switch {
		case m == nil && required:
			bad(field, "缺少", "missing")
		case m == nil:
		case strings.TrimSpace(m.ZH) == "" || strings.TrimSpace(m.EN) == "":
			bad(field, "须有中文（zh）和英文（en）", "needs both zh and en")
		}
	}

	switch {
	case f.Code == "":
		bad("code", "缺少县级区划代码", "the county's division code is missing")
	case len(f.Code) != 6 || !allDigits(f.Code):
		bad("code", "县级区划代码须为 6 位数字："+strconv.Quote(f.Code), "a county code is 6 digits: "+strconv.Quote(f.Code))
	case !strings.HasPrefix(f.Code, c.DivisionSichuan):
		bad("code", "不是四川省（51）的区划代码："+f.Code, "not a division of Sichuan (51): "+f.Code)
	case f.Code[2:4] == "00" || f.Code[4:6] == "00":
		bad("code", "不是县级区划代码（以 00 结尾的是省、市级）："+f.Code, "not a county code (…00 is a province or a city): "+f.Code)
	}
	county := ""
	if len(probs) == 0 {
		county = f.Code
	}
	if strings.TrimSpace(f.Name) == "" {
		bad("name", "缺少县（区、市）名称", "the county's name is missing")
	} else if want, ok := c.Divisions[f.Code]; ok && want != f.Name {
		bad("name", "名称与区划代码不符：代码 "+f.Code+" 是 "+want, "the name does not match the code: "+f.Code+" is "+want)
	}
	switch {
	case f.City == nil:
		bad("city", "缺少所属市（city.code, city.name）", "the city is missing (city.code, city.name)")
	default:
		if county != "" && f.City.Code != county[:4] {
			bad("city.code", "所属市代码须为县级代码的前四位 "+county[:4]+"，文件中是 "+strconv.Quote(f.City.Code),
				"the city code is the county code's first four digits, "+county[:4]+"; the file has "+strconv.Quote(f.City.Code))
		}
		if strings.TrimSpace(f.City.Name) == "" {
			bad("city.name", "缺少所属市名称", "the city's name is missing")
		} else if want, ok := c.Divisions[f.City.Code]; ok && want != f.City.Name {
			bad("city.name", "名称与代码不符："+f.City.Code+" 是 "+want, "the name does not match the code: "+f.City.Code+" is "+want)
		}
	}
	if f.Verified == nil {
		bad("verified", "须写明 verified: true（已按本县文件核实）或 false（仅通用规则）",
			"say verified: true (checked against the county's documents) or false (common rules only)")
	}
	verified := f.Verified != nil && *f.Verified
	if strings.TrimSpace(f.Source) == "" {
		bad("source", "须写明资料来源", "say where the pack's facts come from")
	}
	message("windows.comprehensive", f.Windows.Comprehensive, verified)
	message("windows.cdpf", f.Windows.CDPF, verified)

	p := &Pack{Code: f.Code, Name: f.Name, NameEN: f.NameEN, Verified: verified, Source: f.Source, Windows: f.Windows,
		Towns: f.Towns, LocalItems: f.LocalItems, Limits: f.Limits, Notes: f.Notes, File: file,
		towns: map[string]*Town{}, local: map[c.ItemCode]*LocalItem{}}
	if f.City != nil {
		p.City = *f.City
	}

	if verified && len(f.Towns) == 0 {
		bad("towns", "已核实（verified: true）的规则包须列出全部乡镇（街道）", "a verified pack lists all its towns")
	}
	names := map[string]string{}
	for i := range p.Towns {
		t := &p.Towns[i]
		field := fmt.Sprintf("towns[%d]", i)
		switch {
		case len(t.Code) != 9 || !allDigits(t.Code):
			bad(field+".code", "乡镇（街道）代码须为 9 位数字："+strconv.Quote(t.Code), "a town code is 9 digits: "+strconv.Quote(t.Code))
		case county != "" && !strings.HasPrefix(t.Code, county):
			bad(field+".code", "乡镇（街道）代码 "+t.Code+" 不在本县 "+county+" 内", "town "+t.Code+" is not inside the county "+county)
		case t.Code[6:] == "000":
			bad(field+".code", "不是乡镇（街道）代码（末三位为 000）："+t.Code, "not a town code (ends in 000): "+t.Code)
		default:
			if _, dup := p.towns[t.Code]; dup {
				bad(field+".code", "乡镇（街道）代码重复："+t.Code, "town code given twice: "+t.Code)
			}
			p.towns[t.Code] = t
			if want, ok := c.Divisions[t.Code]; ok && want != t.Name {
				bad(field+".name", "名称与代码不符："+t.Code+" 是 "+want, "the name does not match the code: "+t.Code+" is "+want)
			}
		}
		if strings.TrimSpace(t.Name) == "" {
			bad(field+".name", "缺少乡镇（街道）名称", "the town's name is missing")
		} else if other, dup := names[t.Name]; dup {
			bad(field+".name", "乡镇（街道）名称重复："+t.Name+"（另见 "+other+"）", "town name given twice: "+t.Name+" (also "+other+")")
		} else {
			names[t.Name] = field
		}
		message(field+".windows.comprehensive", t.Windows.Comprehensive, false)
		message(field+".windows.cdpf", t.Windows.CDPF, false)
	}

	for i := range p.LocalItems {
		li := &p.LocalItems[i]
		field := fmt.Sprintf("localItems[%d]", i)
		_, known := c.Items[li.Code]
		switch {
		case !known:
			bad(field+".code", "未知的事项代码 "+strconv.Quote(string(li.Code))+"（可用："+itemList(true)+"）",
				"unknown item code "+strconv.Quote(string(li.Code))+" (known: "+itemList(true)+")")
		case !localOnly[li.Code]:
			bad(field+".code", string(li.Code)+" 是各县通用的事项，不是本地事项", string(li.Code)+" is a common item of every county, not a local one")
		default:
			if _, dup := p.local[li.Code]; dup {
				bad(field+".code", "本地事项重复："+string(li.Code), "local item given twice: "+string(li.Code))
			}
			p.local[li.Code] = li
		}
		if strings.TrimSpace(li.Basis) == "" {
			bad(field+".basis", "须写明本地事项的政策依据（文件）", "say the document the local item rests on")
		}
	}

	keys := make([]string, 0, len(p.Limits))
	for k := range p.Limits {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	for _, k := range keys {
		item, days := c.ItemCode(k), p.Limits[c.ItemCode(k)]
		field := "limits." + k
		switch _, known := c.Items[item]; {
		case !known:
			bad(field, "未知的事项代码（可用："+itemList(false)+"）", "unknown item code (known: "+itemList(false)+")")
		case localOnly[item] && p.local[item] == nil:
			bad(field, "本县没有这一本地事项，不能设时限", "the county does not offer this local item: no limit for it")
		case days < 1 || days > maxLimit:
			bad(field, fmt.Sprintf("时限须为 1 至 %d 个工作日，文件中是 %d", maxLimit, days),
				fmt.Sprintf("a limit is 1 to %d working days, the file has %d", maxLimit, days))
		}
	}
	for i := range p.Notes {
		if strings.TrimSpace(p.Notes[i].ZH) == "" {
			bad(fmt.Sprintf("notes[%d].zh", i), "说明须有中文", "a note needs its Chinese text")
		}
	}
	return p, probs
}

// itemList names the item codes (local-only ones or all).
func itemList(localOnlyItems bool) string {
	var out []string
	for code := range c.Items {
		if !localOnlyItems || localOnly[code] {
			out = append(out, string(code))
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// fieldPath writes a JSON pointer as the problems name fields:
// /towns/0/code is towns[0].code.
func fieldPath(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if _, err := strconv.Atoi(tok); err == nil && tok != "" {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}
