package console

import (
	"errors"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"onething/civil"
	c "onething/contracts"
	"onething/gateway/auth"
	"onething/gateway/calendar"
	"onething/gateway/counties"
	"onething/gateway/engine"
	"onething/gateway/rules"
)

type choice struct {
	Code   string
	ZH, EN string
}

var subKinds = []choice{{"expiry", "到期换证", "expiry"}, {"damaged", "残损换新", "damaged"}, {"info_update", "资料更新换证", "information update"},
	{"full", "全部注销", "full cancellation"}, {"partial", "注销部分类别/等级", "partial cancellation"}}

var identities = []choice{{"dibao", "低保对象", "dibao"}, {"tekun", "特困人员", "tekun"}, {"orphan", "孤儿", "orphan"}, {"other", "其他", "other"}}

func categories() []choice {
	var out []choice
	for i := 1; i <= 7; i++ {
		n := c.CategoryNames[i]
		out = append(out, choice{strconv.Itoa(i), n.ZH, n.EN})
	}
	return out
}

var sexes = []choice{{c.SexMale, "男", "male"}, {c.SexFemale, "女", "female"}}

// intakeData is the form page: the values typed, the problems per field.
type intakeData struct {
	page
	F      map[string]string
	Errors map[string]string
	// Counties are the towns the clerk may take applications of, by
	// county (one county: a plain list; several: grouped).
	Counties []countyTowns
	// Households are the towns the household registration may be in: the
	// clerk's own (a case registered elsewhere is not theirs to take).
	Households  []countyTowns
	Ethnicities []c.Ethnicity
	Sexes       []choice
	Businesses  []c.ItemInfo
	SubKinds    []choice
	Categories  []choice
	Identities  []choice
	Guide       *c.GuideAnswer
	// Draft is the clerk's saved draft, offered to resume (nil: none, or
	// the form shows it already).
	Draft *draftOffer
}

// draftOffer is what the form says of a saved draft.
type draftOffer struct{ Saved, Expires string }

var formFields = []string{"name", "idNumber", "birthDate", "sex", "ethnicity", "mobile", "town", "village", "detail", "householdDivision", "householdType",
	"guardianName", "guardianRelation", "guardianPhone", "dibao", "tekun", "orphan", "certNumber", "certIssued", "certFrom", "certUntil", "certVisual",
	"business", "subKind", "category", "twoSubsidies", "pension", "medical", "medicalIdentity", "premiumPaid", "delivery", "postAddress", "recipient",
	"recipientPhone", "attest", "portalRef"}

func (k *Console) intakeData(r *http.Request, req *request) intakeData {
	d := intakeData{page: k.base(r, req, "窗口受理"), F: map[string]string{}, Errors: map[string]string{}, Counties: townChoices(req.p), Households: filterTowns(req.p),
		Ethnicities: c.Ethnicities, Sexes: sexes, SubKinds: subKinds, Categories: categories(), Identities: identities}
	for _, code := range itemOrder[:6] {
		d.Businesses = append(d.Businesses, c.Items[code])
	}
	return d
}

func (k *Console) intakePage(w http.ResponseWriter, r *http.Request, req *request) {
	d := k.intakeData(r, req)
	if len(req.p.Towns) > 0 && len(req.p.Towns[0]) == 9 { // a town window: its own town
		d.F["town"], d.F["householdDivision"] = req.p.Towns[0], req.p.Towns[0]
	}
	d.F["ethnicity"] = "汉族"
	if draft, ok := k.draft(r, req); ok {
		if r.URL.Query().Get("draft") == "resume" {
			for _, name := range formFields {
				d.F[name] = draft.Fields[name]
			}
			d.Flash = d.T("已恢复 "+civil.Display(draft.Saved)+" 保存的草稿", "the draft saved "+civil.Display(draft.Saved)+" is back in the form")
		} else {
			d.Draft = &draftOffer{Saved: civil.Display(draft.Saved), Expires: civil.Display(draft.Expires())}
		}
	}
	k.render(w, http.StatusOK, "intake", d)
}

// countyTowns is one county's towns on the form.
type countyTowns struct {
	Code, Name string
	Towns      []named
}

// townChoices are the towns a person may take applications of, by county:
// every county of the packs in force for operators and the province
// office, a city office's counties, the county of a county office or of a
// town window. A county's towns are its pack's (通川区: contracts.Divisions);
// an unverified pack lists none, so the person's own towns in it are
// added, shown by code.
func townChoices(p *auth.Principal) []countyTowns {
	set := rules.Counties()
	var packs []*counties.Pack
	seen := map[string]bool{}
	add := func(ps ...*counties.Pack) {
		for _, pk := range ps {
			if !seen[pk.Code] {
				seen[pk.Code] = true
				packs = append(packs, pk)
			}
		}
	}
	if p.Role == auth.RoleAdmin || p.AllTowns() {
		add(set.Counties()...)
	}
	for _, scope := range p.Towns {
		switch len(scope) {
		case 4:
			add(set.InCity(scope)...)
		case 6, 9:
			if pk, ok := set.County(scope); ok {
				add(pk)
			}
		}
	}
	sort.Slice(packs, func(i, j int) bool { return packs[i].Code < packs[j].Code })
	var out []countyTowns
	for _, pk := range packs {
		ct := countyTowns{Code: pk.Code, Name: pk.Name}
		listed := map[string]bool{}
		if pk.Code == c.DivisionTongchuan {
			ct.Towns = towns()
		} else {
			for _, t := range pk.Towns {
				ct.Towns = append(ct.Towns, named{t.Code, t.Name})
			}
		}
		for _, t := range ct.Towns {
			listed[t.Code] = true
		}
		for _, scope := range p.Towns {
			if len(scope) == 9 && strings.HasPrefix(scope, pk.Code) && !listed[scope] && pk.AcceptsTown(scope) {
				listed[scope] = true
				ct.Towns = append(ct.Towns, named{scope, scope})
			}
		}
		sort.Slice(ct.Towns, func(i, j int) bool { return ct.Towns[i].Code < ct.Towns[j].Code })
		if len(ct.Towns) > 0 {
			out = append(out, ct)
		}
	}
	return out
}

// town finds a town of the form's lists: its name and its county's pack.
func (d *intakeData) town(code string) (name string, county *counties.Pack, ok bool) {
	for _, ct := range d.Counties {
		for _, t := range ct.Towns {
			if t.Code == code {
				pk, _ := rules.Counties().County(code)
				return t.Name, pk, true
			}
		}
	}
	return "", nil, false
}

// submission builds the joint application from the form, as the portal
// would send it (channel offline).
func submission(f map[string]string, d *intakeData, now time.Time) *c.Submission {
	yes := func(k string) bool { return f[k] == "1" }
	town := f["town"]
	// The address's province, city and county are the chosen town's
	// (a town outside the lists leaves them empty: refused).
	addr := c.Address{Village: strings.TrimSpace(f["village"]), Detail: strings.TrimSpace(f["detail"]), DivisionCode: town}
	if name, pk, ok := d.town(town); ok {
		addr.Province, addr.Town = "四川省", name
		if pk != nil {
			addr.City, addr.County = pk.City.Name, pk.Name
		}
	}
	ref := strings.TrimSpace(f["portalRef"])
	if ref == "" {
		ref = "WIN-" + now.In(calendar.Zone).Format("20060102") + "-" + randomHex(4)
	}
	s := &c.Submission{
		PortalRef:   ref,
		Channel:     c.ChannelOffline,
		SubmittedAt: now.UTC(),
		Applicant: c.Applicant{
			Name: strings.TrimSpace(f["name"]), IDNumber: strings.ToUpper(strings.TrimSpace(f["idNumber"])), BirthDate: f["birthDate"], Sex: f["sex"],
			Ethnicity: strings.TrimSpace(f["ethnicity"]), Mobile: strings.TrimSpace(f["mobile"]), Address: addr,
			HouseholdType: c.HouseholdType(f["householdType"]), HouseholdDivision: f["householdDivision"],
			Dibao: yes("dibao"), Tekun: yes("tekun"), Orphan: yes("orphan"),
		},
		Delivery: c.Delivery{Method: f["delivery"]},
	}
	a := &s.Applicant
	if f["guardianName"] != "" || f["guardianPhone"] != "" {
		a.Guardian = &c.Guardian{Name: strings.TrimSpace(f["guardianName"]), Relation: strings.TrimSpace(f["guardianRelation"]), Phone: strings.TrimSpace(f["guardianPhone"])}
	}
	if no := strings.ToUpper(strings.TrimSpace(f["certNumber"])); no != "" {
		cert := &c.Certificate{Number: no, IssuedOn: f["certIssued"], ValidFrom: f["certFrom"], ValidUntil: f["certUntil"], VisualAssessment: yes("certVisual")}
		if len(no) >= 20 {
			cert.Category, _ = strconv.Atoi(no[18:19])
			cert.Grade, _ = strconv.Atoi(no[19:20])
		}
		a.Certificate = cert
	}
	if f["business"] != "" {
		cat, _ := strconv.Atoi(f["category"])
		s.Requests.Certificate = &c.CertificateRequest{Business: c.ItemCode(f["business"]), SubKind: f["subKind"], RequestedCategory: cat}
	}
	if yes("twoSubsidies") {
		s.Requests.TwoSubsidies = &c.TwoSubsidiesRequest{}
	}
	if yes("pension") {
		s.Requests.Pension = &c.PensionRequest{}
	}
	if yes("medical") {
		s.Requests.Medical = &c.MedicalRequest{Identity: f["medicalIdentity"], PremiumPaid: yes("premiumPaid")}
	}
	if s.Delivery.Method == "post" {
		s.Delivery.Address, s.Delivery.Recipient, s.Delivery.Phone = strings.TrimSpace(f["postAddress"]), strings.TrimSpace(f["recipient"]), strings.TrimSpace(f["recipientPhone"])
	}
	return s
}

// listProblems adds the console's own checks to the submission's: the
// ethnicity and the towns must come from the form's lists. A town outside
// them is one problem, not also the address parts it leaves empty.
func (k *Console) listProblems(d *intakeData, problems []c.FieldError) []c.FieldError {
	var own []c.FieldError
	if !c.IsEthnicity(d.F["ethnicity"]) {
		own = append(own, c.FieldError{Field: "applicant.ethnicity", Code: "invalid_choice",
			Message: "民族须从 56 个民族中选择", MessageEn: "choose one of the 56 ethnic groups"})
	}
	if _, _, ok := d.town(d.F["town"]); !ok {
		own = append(own, c.FieldError{Field: "applicant.address.town", Code: "invalid_choice",
			Message: "现住址乡镇（街道）须从列表中选择", MessageEn: "choose the address's town from the list"})
		problems = slices.DeleteFunc(problems, func(p c.FieldError) bool {
			return slices.Contains([]string{"applicant.address.province", "applicant.address.city", "applicant.address.county", "applicant.address.town"}, p.Field)
		})
	}
	if _, _, ok := d.town(d.F["householdDivision"]); !ok {
		own = append(own, c.FieldError{Field: "applicant.householdDivision", Code: "invalid_choice",
			Message: "户籍所在乡镇（街道）须从列表中选择", MessageEn: "choose the household registration's town from the list"})
	}
	return append(own, problems...)
}

// intake takes the form: "checklist" shows what this case needs (from the
// same rules as the Q&A guide); "submit" sends it through the same intake
// path as the portal's submissions, with the same validation.
func (k *Console) intake(w http.ResponseWriter, r *http.Request, req *request) {
	d := k.intakeData(r, req)
	for _, name := range formFields {
		d.F[name] = r.PostFormValue(name)
	}
	now := k.cfg.Engine.Flow.Now() // the business clock: today for the rules
	sub := submission(d.F, &d, now)
	facts := rules.FactsOf(&sub.Applicant, civil.Of(now))
	wants := c.GuideWants{Certificate: sub.Requests.Certificate, TwoSubsidies: sub.Requests.TwoSubsidies != nil, Pension: sub.Requests.Pension != nil, Medical: sub.Requests.Medical != nil}
	if wants.Certificate != nil || wants.TwoSubsidies || wants.Pension || wants.Medical {
		g := rules.Guide(facts, wants, sub.Requests.Medical != nil && sub.Requests.Medical.PremiumPaid, k.cfg.Calendar)
		d.Guide = &g
	}
	switch r.PostFormValue("action") {
	case "submit":
	case "draft":
		k.saveDraft(w, r, req, d)
		return
	default:
		k.render(w, http.StatusOK, "intake", d)
		return
	}
	problems := k.listProblems(&d, sub.Validate(civil.Of(now)))
	if d.F["attest"] != "1" {
		problems = append(problems, c.FieldError{Field: "attestation", Code: "required",
			Message: "请确认已核对证件原件并收取照片", MessageEn: "confirm that the originals were checked and the photos received"})
	}
	if sub.Applicant.HouseholdDivision != "" && !req.p.SeesHousehold(sub.Applicant.HouseholdDivision) && req.p.Role != auth.RoleAdmin {
		problems = append(problems, c.FieldError{Field: "applicant.householdDivision", Code: "out_of_area",
			Message: "申请人户籍不在您的辖区", MessageEn: "the household registration is outside your area"})
	}
	if len(problems) > 0 {
		for _, p := range problems {
			if _, ok := d.Errors[p.Field]; !ok {
				d.Errors[p.Field] = d.T(p.Message, p.MessageEn)
			}
		}
		d.Error = d.T("申请表有 "+strconv.Itoa(len(problems))+" 处需要修改", strconv.Itoa(len(problems))+" field(s) need correcting")
		k.render(w, http.StatusUnprocessableEntity, "intake", d)
		return
	}
	if !k.audit(w, r, req, c.AuditEntry{Action: "console.intake", Query: "portalRef=" + sub.PortalRef}) {
		return
	}
	sub.Intake = intakeRecord(req, sub, d.F["attest"] == "1") // for the receipt
	app, _, err := k.cfg.Engine.Submit(r.Context(), "console:"+randomHex(12), sub)
	if errors.Is(err, engine.ErrPortalRefConflict) {
		// Another application holds the reference: the clerk is told so,
		// the form stays as typed, and nothing is stored.
		d.Errors["portalRef"] = d.T(engine.PortalRefConflict.ZH, engine.PortalRefConflict.EN)
		d.Error = d.T("该办件号已用于另一份申请，本次未受理", "this reference belongs to another application; nothing was stored")
		k.render(w, http.StatusConflict, "intake", d)
		return
	}
	if err != nil {
		k.cfg.Log.Error("console intake", "err", err)
		d.Error = d.T("暂时无法受理，请稍后重试", "cannot store the application now; retry")
		k.render(w, http.StatusServiceUnavailable, "intake", d)
		return
	}
	k.dropDraft(r, req) // taken in: its draft has done its work
	http.Redirect(w, r, "/console/cases/"+app.ID+"?flash=accepted", http.StatusSeeOther)
}
