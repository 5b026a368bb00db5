package contracts

// Ethnicity is one of the 56 ethnic groups (民族) by its GB/T 3304 code
// and official name; Applicant.Ethnicity holds the name (汉族).
type Ethnicity struct {
	Code string // two digits, 01 汉族 … 56 基诺族
	Name Message
}

// Ethnicities are the 56 ethnic groups in the order and with the codes of
// GB/T 3304 (中国各民族名称的罗马字母拼写法和代码), for the forms' lists.
var Ethnicities = []Ethnicity{
	{"01", Message{ZH: "汉族", EN: "Han"}}, {"02", Message{ZH: "蒙古族", EN: "Mongol"}}, {"03", Message{ZH: "回族", EN: "Hui"}},
	{"04", Message{ZH: "藏族", EN: "Tibetan"}}, {"05", Message{ZH: "维吾尔族", EN: "Uyghur"}}, {"06", Message{ZH: "苗族", EN: "Miao"}},
	{"07", Message{ZH: "彝族", EN: "Yi"}}, {"08", Message{ZH: "壮族", EN: "Zhuang"}}, {"09", Message{ZH: "布依族", EN: "Bouyei"}},
	{"10", Message{ZH: "朝鲜族", EN: "Korean"}}, {"11", Message{ZH: "满族", EN: "Manchu"}}, {"12", Message{ZH: "侗族", EN: "Dong"}},
	{"13", Message{ZH: "瑶族", EN: "Yao"}}, {"14", Message{ZH: "白族", EN: "Bai"}}, {"15", Message{ZH: "土家族", EN: "Tujia"}},
	{"16", Message{ZH: "哈尼族", EN: "Hani"}}, {"17", Message{ZH: "哈萨克族", EN: "Kazak"}}, {"18", Message{ZH: "傣族", EN: "Dai"}},
	{"19", Message{ZH: "黎族", EN: "Li"}}, {"20", Message{ZH: "傈僳族", EN: "Lisu"}}, {"21", Message{ZH: "佤族", EN: "Va"}},
	{"22", Message{ZH: "畲族", EN: "She"}}, {"23", Message{ZH: "高山族", EN: "Gaoshan"}}, {"24", Message{ZH: "拉祜族", EN: "Lahu"}},
	{"25", Message{ZH: "水族", EN: "Sui"}}, {"26", Message{ZH: "东乡族", EN: "Dongxiang"}}, {"27", Message{ZH: "纳西族", EN: "Naxi"}},
	{"28", Message{ZH: "景颇族", EN: "Jingpo"}}, {"29", Message{ZH: "柯尔克孜族", EN: "Kirgiz"}}, {"30", Message{ZH: "土族", EN: "Tu"}},
	{"31", Message{ZH: "达斡尔族", EN: "Daur"}}, {"32", Message{ZH: "仫佬族", EN: "Mulao"}}, {"33", Message{ZH: "羌族", EN: "Qiang"}},
	{"34", Message{ZH: "布朗族", EN: "Blang"}}, {"35", Message{ZH: "撒拉族", EN: "Salar"}}, {"36", Message{ZH: "毛南族", EN: "Maonan"}},
	{"37", Message{ZH: "仡佬族", EN: "Gelao"}}, {"38", Message{ZH: "锡伯族", EN: "Xibe"}}, {"39", Message{ZH: "阿昌族", EN: "Achang"}},
	{"40", Message{ZH: "普米族", EN: "Pumi"}}, {"41", Message{ZH: "塔吉克族", EN: "Tajik"}}, {"42", Message{ZH: "怒族", EN: "Nu"}},
	{"43", Message{ZH: "乌孜别克族", EN: "Uzbek"}}, {"44", Message{ZH: "俄罗斯族", EN: "Russ"}}, {"45", Message{ZH: "鄂温克族", EN: "Ewenki"}},
	{"46", Message{ZH: "德昂族", EN: "Deang"}}, {"47", Message{ZH: "保安族", EN: "Bonan"}}, {"48", Message{ZH: "裕固族", EN: "Yugur"}},
	{"49", Message{ZH: "京族", EN: "Gin"}}, {"50", Message{ZH: "塔塔尔族", EN: "Tatar"}}, {"51", Message{ZH: "独龙族", EN: "Derung"}},
	{"52", Message{ZH: "鄂伦春族", EN: "Oroqen"}}, {"53", Message{ZH: "赫哲族", EN: "Hezhen"}}, {"54", Message{ZH: "门巴族", EN: "Monba"}},
	{"55", Message{ZH: "珞巴族", EN: "Lhoba"}}, {"56", Message{ZH: "基诺族", EN: "Jino"}},
}

// IsEthnicity reports whether name is the official name of one of the 56
// ethnic groups.
func IsEthnicity(name string) bool {
	for _, e := range Ethnicities {
		if e.Name.ZH == name {
			return true
		}
	}
	return false
}
