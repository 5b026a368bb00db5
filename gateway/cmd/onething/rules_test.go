package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"onething/gateway/counties"
)

// daChuanVerified is the built-in 达川区 pack completed by an operator:
// verified, with one town and a local limit (test data, not facts).
func daChuanVerified(t *testing.T) string {
	t.Helper()
	p := string(counties.Embedded("511703"))
	for old, new := range map[string]string{
		"verified: false": "verified: true\nwindows:\n  comprehensive: {zh: 测试综合窗口, en: a test window}\n  cdpf: {zh: 测试残联窗口, en: a test CDPF window}",
		"towns: []":       "towns:\n  - {code: \"511703001\", name: 测试街道}",
		"limits: {}":      "limits: {pension.subsidy: 30}",
	} {
		if !strings.Contains(p, old) {
			t.Fatalf("the built-in 达川区 pack has no %q", old)
		}
		p = strings.Replace(p, old, new, 1)
	}
	return p
}

func TestRulesCheck(t *testing.T) {
	r := onething(t, nil, "rules", "check")
	for _, want := range []string{
		"511702 通川区 Tongchuan District · 达州市 5117 · 已核实 / verified",
		"+ subsidy.nursing34 三、四级智力和精神残疾人护理补贴",
		"列出 18 个，已核实：只受理所列乡镇",
		"511703 达川区 Dachuan District · 达州市 5117 · 未核实 / NOT verified",
		"any well-formed 9-digit code inside 511781 is accepted",
		"7 个规则包有效，1 个已核实，6 个未核实",
	} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("rules check: want %q, exit 0; got %s", want, r)
		}
	}
	if n := strings.Count(r.stdout, "本地事项 / local items: 无，仅通用规则"); n != 6 {
		t.Errorf("rules check: %d counties with the common rules only, want 6:\n%s", n, r.stdout)
	}

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "511703.yaml"), []byte(daChuanVerified(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	r = onething(t, nil, "rules", "check", dir)
	for _, want := range []string{
		"511703 达川区 Dachuan District · 达州市 5117 · 已核实 / verified",
		filepath.Join(dir, "511703.yaml") + "（替换内置规则包 / replaces the built-in pack）",
		"~ pension.subsidy：45 → 30 个工作日",
		"列出 1 个，已核实",
		"2 个已核实，5 个未核实",
	} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("rules check DIR: want %q, exit 0; got %s", want, r)
		}
	}
	r = onething(t, nil, "rules", "check", dir, "--json")
	var rep rulesReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 || !rep.Valid || len(rep.Counties) != 7 {
		t.Fatalf("rules check --json: %v\n%s", err, r)
	}
	if dc := rep.Counties[1]; dc.Code != "511703" || !dc.Verified || len(dc.Limits) != 1 || dc.Limits[0].Local != 30 || dc.TownsAccept != counties.TownsListed {
		t.Errorf("rules check --json 达川区: %+v", dc)
	}
}

func TestRulesCheckInvalidPack(t *testing.T) {
	dir := t.TempDir()
	bad := strings.Replace(daChuanVerified(t), `"511703001"`, `"511702001"`, 1)
	bad = strings.Replace(bad, "limits: {pension.subsidy: 30}", "limits: {pension.subsidy: 0}", 1)
	if err := os.WriteFile(filepath.Join(dir, "dachuan.yaml"), []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "dachuan.yaml")
	r := onething(t, nil, "rules", "check", dir)
	for _, want := range []string{
		file + ": towns[0].code: 乡镇（街道）代码 511702001 不在本县 511703 内 / town 511702001 is not inside the county 511703",
		file + ": limits.pension.subsidy: 时限须为 1 至 45 个工作日",
		"规则包无效（2 个问题）",
	} {
		if r.code != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("rules check of an invalid pack: want exit 1 and %q; got %s", want, r)
		}
	}
	if r.stdout != "" {
		t.Errorf("rules check of an invalid pack printed a report:\n%s", r.stdout)
	}
	r = onething(t, nil, "rules", "check", "--json", dir)
	var rep rulesReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 1 || rep.Valid || len(rep.Problems) != 2 || rep.Problems[0].File != file {
		t.Errorf("rules check --json of an invalid pack: %v %+v\n%s", err, rep, r)
	}
	r = onething(t, nil, "rules", "check", filepath.Join(dir, "nosuch"))
	if r.code != 1 || !strings.Contains(r.stderr, "无法读取规则包目录") {
		t.Errorf("rules check of a missing directory: %s", r)
	}
}

func TestRulesUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"rules"}, {"rules", "chek"}, {"rules", "check", "a", "b"}, {"rules", "check", "--bogus"}, {"rules", "check", ""}} {
		r := onething(t, nil, args...)
		if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "用法错误 / usage error") {
			t.Errorf("onething %q: want a usage error, exit 2; got %s", args, r)
		}
	}
	r := onething(t, nil, "rules", "check", "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "docs/COUNTIES.md") {
		t.Errorf("rules check --help: %s", r)
	}
}
