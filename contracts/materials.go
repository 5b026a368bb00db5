package contracts

import "slices"

// The material checklist (指南四), by code: the guide lists the ones a case
// needs (gateway/rules.Materials); a supplement names the ones provided.
var (
	MaterialJointForm  = Material{Code: "joint_form", Name: Message{ZH: "“扶残助困一件事”申请登记表", EN: "joint application form"}}
	MaterialCertForm   = Material{Code: "certificate_application_form", Name: Message{ZH: "《中华人民共和国残疾人证申请表》", EN: "disability certificate application form"}}
	MaterialAssessForm = Material{Code: "assessment_form", Name: Message{ZH: "《中华人民共和国残疾人证评定表》", EN: "disability assessment form"}}
	MaterialIDCard     = Material{Code: "id_card", Name: Message{ZH: "居民身份证（核原件，留存复印件）", EN: "resident ID card (original checked, copy kept)"}}
	MaterialHousehold  = Material{Code: "household_register", Name: Message{ZH: "居民户口簿（核原件，留存复印件）", EN: "household register (original checked, copy kept)"}}
	MaterialSocialCard = Material{Code: "social_security_card", Name: Message{ZH: "居民社保卡复印件", EN: "copy of the social security card"}}
	MaterialPhotos     = Material{Code: "photos", Name: Message{ZH: "三张两寸近期免冠白底照片", EN: "three recent 2-inch bareheaded photos on white"}}
	MaterialGuardian   = Material{Code: "guardian_proof", Name: Message{ZH: "法定监护人证明材料", EN: "proof of legal guardianship"}}
	MaterialMigration  = Material{Code: "migration_proof", Name: Message{ZH: "公安机关出具的户口迁移证明或新的户口簿", EN: "police household-migration proof or the new household register"}}
	MaterialVoid       = Material{Code: "void_declaration", Name: Message{ZH: "残疾人证遗失作废声明", EN: "declaration that the lost certificate is void"}}
	MaterialWritten    = Material{Code: "written_request", Name: Message{ZH: "书面申请", EN: "written request"}}
	MaterialDeathProof = Material{Code: "death_or_condition_proof", Name: Message{ZH: "死亡证明或残疾状况变化的证明材料", EN: "death certificate or proof that the condition changed"}}
	MaterialConclusion = Material{Code: "assessment_conclusion", Name: Message{ZH: "残疾评定机构作出的评定结论", EN: "assessment conclusion of the assessment institution"}}
	MaterialOldCert    = Material{Code: "old_certificate", Name: Message{ZH: "原残疾人证（收回）", EN: "the old certificate (recalled)"}}
)

var materialCodes = map[string]bool{}

func init() {
	for _, m := range []Material{MaterialJointForm, MaterialCertForm, MaterialAssessForm, MaterialIDCard, MaterialHousehold, MaterialSocialCard, MaterialPhotos, MaterialGuardian, MaterialMigration, MaterialVoid, MaterialWritten, MaterialDeathProof, MaterialConclusion, MaterialOldCert} {
		materialCodes[m.Code] = true
	}
}

// IsMaterialCode reports whether code names a material of the checklist.
func IsMaterialCode(code string) bool { return materialCodes[code] }

// MaterialCodes are the checklist's codes, sorted.
func MaterialCodes() []string {
	out := make([]string, 0, len(materialCodes))
	for code := range materialCodes {
		out = append(out, code)
	}
	slices.Sort(out)
	return out
}
