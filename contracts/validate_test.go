package contracts

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"onething/civil"
)

// validSubmission is the seed's main case: a Tongchuan 低保 recipient with no
// certificate asking for everything.
func validSubmission() Submission {
	return Submission{
		PortalRef: "SCZW-FCZK-1", Channel: ChannelOffline, SubmittedAt: today.Midnight(),
		Applicant: Applicant{
			Name: "张志明", IDNumber: "51170219850307123X", BirthDate: "1985-03-07", Ethnicity: "汉族",
			Mobile:        "13881801234",
			Address:       Address{Province: "四川省", City: "达州市", County: "通川区", Town: "罗江镇", Village: "龙潭村", DivisionCode: "511702102"},
			HouseholdType: HouseholdAgricultural, HouseholdDivision: "511702102", Dibao: true,
		},
		Requests: Requests{
			Certificate:  &CertificateRequest{Business: ItemCertNew, RequestedCategory: CategoryPhysical},
			TwoSubsidies: &TwoSubsidiesRequest{},
			Pension:      &PensionRequest{},
			Medical:      &MedicalRequest{Identity: "dibao"},
		},
		Delivery: Delivery{Method: "pickup"},
	}
}

func TestValidateAcceptsTheMainCase(t *testing.T) {
	s := validSubmission()
	if errs := s.Validate(today); len(errs) != 0 {
		t.Fatalf("valid submission refused: %+v", errs)
	}
	s.Applicant.Sex = SexMale // the ID number's 17th digit is 3
	if errs := s.Validate(today); len(errs) != 0 {
		t.Fatalf("the sex the ID number says refused: %+v", errs)
	}
	s.Applicant.Name = "阿卜杜·热合曼" // minority names carry a middle dot
	if errs := s.Validate(today); len(errs) != 0 {
		t.Fatalf("name with middle dot refused: %+v", errs)
	}
}

func TestValidateListsEveryProblem(t *testing.T) {
	held := &Certificate{Number: "51170219850307123X42", Category: 4, Grade: 2, IssuedOn: "2019-05-01", ValidFrom: "2019-05-01", ValidUntil: "2029-04-30"}
	cases := []struct {
		name   string
		mutate func(s *Submission)
		want   []FieldError // field + code only
	}{
		{"bad checksum and missing name", func(s *Submission) {
			s.Applicant.IDNumber = "511702198503071231"
			s.Applicant.Name = ""
		}, []FieldError{{Field: "applicant.name", Code: "required"}, {Field: "applicant.idNumber", Code: "invalid_checksum"}}},
		{"birth date disagrees with ID", func(s *Submission) { s.Applicant.BirthDate = "1985-03-08" },
			[]FieldError{{Field: "applicant.birthDate", Code: "mismatch"}}},
		{"sex disagrees with ID (odd 17th digit: male)", func(s *Submission) { s.Applicant.Sex = SexFemale },
			[]FieldError{{Field: "applicant.sex", Code: "mismatch"}}},
		{"sex not a choice", func(s *Submission) { s.Applicant.Sex = "男" },
			[]FieldError{{Field: "applicant.sex", Code: "invalid_choice"}}},
		{"bad mobile and channel", func(s *Submission) { s.Applicant.Mobile = "12345"; s.Channel = "fax" },
			[]FieldError{{Field: "channel", Code: "invalid_choice"}, {Field: "applicant.mobile", Code: "invalid_phone"}}},
		{"unknown Tongchuan town", func(s *Submission) { s.Applicant.HouseholdDivision = "511702199" },
			[]FieldError{{Field: "applicant.householdDivision", Code: "invalid_division"}}},
		{"nothing requested", func(s *Submission) { s.Requests = Requests{} },
			[]FieldError{{Field: "requests", Code: "required"}}},
		{"renewal without a held certificate", func(s *Submission) {
			s.Requests.Certificate = &CertificateRequest{Business: ItemCertRenew, SubKind: "expiry"}
		}, []FieldError{{Field: "applicant.certificate", Code: "required"}}},
		{"new certificate while holding one", func(s *Submission) { s.Applicant.Certificate = held },
			[]FieldError{{Field: "requests.certificate.business", Code: "conflict"}}},
		{"renewal without sub-kind", func(s *Submission) {
			s.Applicant.Certificate = held
			s.Requests.Certificate = &CertificateRequest{Business: ItemCertRenew}
		}, []FieldError{{Field: "requests.certificate.subKind", Code: "invalid_choice"}}},
		{"certificate of someone else", func(s *Submission) {
			c := *held
			c.Number = "511703197001010033" + "42"
			s.Applicant.Certificate = &c
			s.Requests.Certificate = nil
		}, []FieldError{{Field: "applicant.certificate.number", Code: "mismatch"}}},
		{"certificate grade disagrees with number", func(s *Submission) {
			c := *held
			c.Grade = 1
			s.Applicant.Certificate = &c
			s.Requests.Certificate = nil
		}, []FieldError{{Field: "applicant.certificate.grade", Code: "mismatch"}}},
		{"certificate category disagrees with number", func(s *Submission) {
			c := *held
			c.Category = 1
			s.Applicant.Certificate = &c
			s.Requests.Certificate = nil
		}, []FieldError{{Field: "applicant.certificate.category", Code: "mismatch"}}},
		{"certificate category out of range", func(s *Submission) {
			c := *held
			c.Category = 9
			s.Applicant.Certificate = &c
			s.Requests.Certificate = nil
		}, []FieldError{{Field: "applicant.certificate.category", Code: "invalid_choice"}}},
		{"certificate grade out of range", func(s *Submission) {
			c := *held
			c.Grade = 0
			s.Applicant.Certificate = &c
			s.Requests.Certificate = nil
		}, []FieldError{{Field: "applicant.certificate.grade", Code: "invalid_choice"}}},
		{"certificate issued in the future", func(s *Submission) {
			c := *held
			c.IssuedOn = "2026-11-30"
			s.Applicant.Certificate = &c
			s.Requests.Certificate = nil
		}, []FieldError{{Field: "applicant.certificate.issuedOn", Code: "future_date"}}},
		{"certificate validity starting in the future", func(s *Submission) {
			c := *held
			c.ValidFrom = "2026-11-30"
			s.Applicant.Certificate = &c
			s.Requests.Certificate = nil
		}, []FieldError{{Field: "applicant.certificate.validFrom", Code: "future_date"}}},
		{"certificate validity ending before it starts", func(s *Submission) {
			c := *held
			c.ValidUntil = "2019-04-30"
			s.Applicant.Certificate = &c
			s.Requests.Certificate = nil
		}, []FieldError{{Field: "applicant.certificate.validUntil", Code: "before_valid_from"}}},
		{"certificate validity of twenty years", func(s *Submission) {
			c := *held
			c.ValidUntil = "2039-04-30"
			s.Applicant.Certificate = &c
			s.Requests.Certificate = nil
		}, []FieldError{{Field: "applicant.certificate.validUntil", Code: "too_long"}}},
		{"medical identity contradicts flags", func(s *Submission) { s.Requests.Medical.Identity = "orphan" },
			[]FieldError{{Field: "requests.medical.identity", Code: "mismatch"}}},
		{"post without address", func(s *Submission) { s.Delivery = Delivery{Method: "post"} },
			[]FieldError{{Field: "delivery.address", Code: "required"}, {Field: "delivery.recipient", Code: "required"}, {Field: "delivery.phone", Code: "required"}}},
		{"minor without guardian", func(s *Submission) {
			s.Applicant.IDNumber, s.Applicant.BirthDate = "511702201506010023", "2015-06-01"
		}, []FieldError{{Field: "applicant.guardian", Code: "required"}}},
		{"name with digits", func(s *Submission) { s.Applicant.Name = "张3" },
			[]FieldError{{Field: "applicant.name", Code: "invalid_characters"}}},
		{"portal ref with spaces", func(s *Submission) { s.PortalRef = "a b" },
			[]FieldError{{Field: "portalRef", Code: "invalid_format"}}},
		{"new certificate without category", func(s *Submission) { s.Requests.Certificate.RequestedCategory = 0 },
			[]FieldError{{Field: "requests.certificate.requestedCategory", Code: "invalid_choice"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := validSubmission()
			c.mutate(&s)
			got := s.Validate(today)
			if len(got) != len(c.want) {
				t.Fatalf("got %d problems %+v, want %+v", len(got), got, c.want)
			}
			for i, w := range c.want {
				if got[i].Field != w.Field || got[i].Code != w.Code {
					t.Errorf("problem %d = %s/%s, want %s/%s", i, got[i].Field, got[i].Code, w.Field, w.Code)
				}
				if got[i].Message == "" || got[i].MessageEn == "" {
					t.Errorf("problem %d lacks a Chinese or English message", i)
				}
			}
		})
	}
}

func TestValidateEvent(t *testing.T) {
	ok := DeptEvent{EventID: "e1", TaskID: "A-1", Type: EventApproved, OccurredAt: time.Now()}
	if errs := ok.Validate(time.Now()); len(errs) != 0 {
		t.Fatalf("valid event refused: %+v", errs)
	}
	bad := DeptEvent{Type: EventRejected}
	got := bad.Validate(time.Now())
	want := map[string]bool{"eventId": true, "taskId": true, "reason": true, "occurredAt": true}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for _, e := range got {
		if !want[e.Field] {
			t.Errorf("unexpected problem %+v", e)
		}
	}
	unknown := DeptEvent{EventID: "e", TaskID: "t", Type: "teleported", OccurredAt: time.Now()}
	if got := unknown.Validate(time.Now()); len(got) != 1 || got[0].Field != "type" {
		t.Errorf("unknown type: %+v", got)
	}
}

// What a department's event carries is checked as the contract describes
// it (outsider: a certificate of grade 9, an expired one, a negative
// amount and a NUL in a reason were taken and shown to the citizen). The
// instant is 07:43 in China, still the day before in UTC: the certificate's
// dates are judged on the China date.
func TestValidateEventContent(t *testing.T) {
	now := time.Date(2026, 12, 5, 7, 43, 0, 0, civil.Zone) // 2026-12-04 in UTC
	cert := func(mod func(*Certificate)) *Certificate {
		c := &Certificate{Number: "51170219850307123X43", Category: 4, Grade: 3, IssuedOn: "2026-12-05", ValidFrom: "2026-12-05", ValidUntil: "2036-12-05"}
		if mod != nil {
			mod(c)
		}
		return c
	}
	base := func() DeptEvent {
		return DeptEvent{EventID: "e1", TaskID: "A-1", Type: EventApproved, OccurredAt: now}
	}
	ok := base()
	ok.Certificate = cert(nil)
	ok.Result = &Result{MonthlyAmount: 80, Note: &Message{ZH: "第一行\n第二行\t附注", EN: "two\nlines"}}
	if errs := ok.Validate(now); len(errs) != 0 {
		t.Fatalf("a valid event refused: %+v", errs)
	}
	lower := base()
	lower.Certificate = cert(func(c *Certificate) { c.Number = "51170219850307123x43" })
	if errs := lower.Validate(now); len(errs) != 0 || lower.Certificate.Number != "51170219850307123X43" {
		t.Fatalf("a lower-case check character refused or kept: %+v %q", errs, lower.Certificate.Number)
	}
	for _, tc := range []struct {
		name        string
		mod         func(*DeptEvent)
		field, code string
	}{
		{"category 9", func(e *DeptEvent) { e.Certificate = cert(func(c *Certificate) { c.Category = 9 }) }, "certificate.category", "invalid_choice"},
		{"grade 0", func(e *DeptEvent) { e.Certificate = cert(func(c *Certificate) { c.Grade = 0 }) }, "certificate.grade", "invalid_choice"},
		{"grade not the number's", func(e *DeptEvent) { e.Certificate = cert(func(c *Certificate) { c.Grade = 1 }) }, "certificate.grade", "mismatch"},
		{"empty number", func(e *DeptEvent) { e.Certificate = cert(func(c *Certificate) { c.Number = "" }) }, "certificate.number", "required"},
		{"number of a bad ID", func(e *DeptEvent) { e.Certificate = cert(func(c *Certificate) { c.Number = "51170219850307123443" }) }, "certificate.number", "invalid_checksum"},
		{"ends before it starts", func(e *DeptEvent) {
			e.Certificate = cert(func(c *Certificate) {
				c.ValidFrom, c.ValidUntil = "2026-12-01", "2026-11-30"
				c.IssuedOn = "2026-12-01"
			})
		}, "certificate.validUntil", "before_valid_from"},
		{"issued in 2030", func(e *DeptEvent) {
			e.Certificate = cert(func(c *Certificate) { c.IssuedOn, c.ValidFrom, c.ValidUntil = "2030-01-01", "2030-01-01", "2039-12-31" })
		}, "certificate.issuedOn", "future_date"},
		{"negative amount", func(e *DeptEvent) { e.Result = &Result{MonthlyAmount: -100} }, "result.monthlyAmount", "out_of_range"},
		{"NUL in a reason", func(e *DeptEvent) { e.Type, e.Reason = EventRejected, &Message{ZH: "不符合\x00条件", EN: "no"} }, "reason.zh", "invalid_characters"},
		{"escape in a note", func(e *DeptEvent) { e.Result = &Result{Note: &Message{ZH: "好", EN: "ok\x1b[31m"}} }, "result.note.en", "invalid_characters"},
		{"in the future", func(e *DeptEvent) { e.OccurredAt = now.Add(EventClockSkew + time.Minute) }, "occurredAt", "out_of_range"},
		// (outsider: these were taken and reached the clerk's screen)
		{"a right-to-left override", func(e *DeptEvent) {
			e.Type, e.Reason = EventRejected, &Message{ZH: "请补充\u202e材料\u202c", EN: "no"}
		}, "reason.zh", "invalid_characters"},
		{"a zero width space", func(e *DeptEvent) { e.Type, e.Reason = EventRejected, &Message{ZH: "不符合", EN: "n\u200bo"} }, "reason.en", "invalid_characters"},
		{"a line separator", func(e *DeptEvent) { e.Type, e.Reason = EventRejected, &Message{ZH: "不\u2028符合", EN: "no"} }, "reason.zh", "invalid_characters"},
		{"an escape in a case number", func(e *DeptEvent) { e.CaseNo = "CDPF\u0007\u001b[31m" }, "caseNo", "invalid_characters"},
		{"a NUL in an event id", func(e *DeptEvent) { e.EventID = "E\u0000-51cb40" }, "eventId", "invalid_characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := base()
			tc.mod(&ev)
			errs := ev.Validate(now)
			found := false
			for _, e := range errs {
				if e.Message == "" || e.MessageEn == "" {
					t.Errorf("a problem without its Chinese or English text: %+v", e)
				}
				found = found || e.Field == tc.field && e.Code == tc.code
			}
			if !found {
				t.Fatalf("want %s %s, got %+v", tc.field, tc.code, errs)
			}
		})
	}
	// A reprint keeps the old validity: a certificate issued today may
	// have expired (the subsidies' rules judge it, not the event's form).
	reprint := base()
	reprint.Certificate = cert(func(c *Certificate) { c.IssuedOn, c.ValidFrom, c.ValidUntil = "2015-10-07", "2015-10-07", "2025-10-06" })
	if errs := reprint.Validate(now); len(errs) != 0 {
		t.Fatalf("a reprint with its old, expired validity refused: %+v", errs)
	}
	// The dates are judged on the China date: issued on the 5th is not in
	// the future at 07:43 on the 5th in China (still the 4th in UTC).
	if errs := ok.Validate(now); len(errs) != 0 {
		t.Fatalf("issued today in China refused: %+v", errs)
	}
	// Issued on the 5th: taken at every instant of the China day 5th
	// (00:00:01, 07:59:59 still the 4th in UTC, 23:59:59), refused at
	// 23:59:59 on the 4th.
	for _, at := range []time.Time{
		time.Date(2026, 12, 5, 0, 0, 1, 0, civil.Zone),
		time.Date(2026, 12, 5, 7, 59, 59, 0, civil.Zone),
		time.Date(2026, 12, 5, 23, 59, 59, 0, civil.Zone),
	} {
		day := ok
		day.OccurredAt = at
		if errs := day.Validate(at); len(errs) != 0 {
			t.Errorf("issued today, at %s: %+v", at, errs)
		}
	}
	eve := ok
	eve.OccurredAt = time.Date(2026, 12, 4, 23, 59, 59, 0, civil.Zone)
	if errs := eve.Validate(eve.OccurredAt); len(errs) != 2 || errs[0].Code != "future_date" || errs[1].Code != "future_date" {
		t.Fatalf("issued tomorrow, at 23:59 on the 4th in China: %+v", errs)
	}
}

// A birth date after today is named on birthDate too, not only through the
// ID number that carries it.
func TestBirthDateInTheFuture(t *testing.T) {
	s := validSubmission()
	s.Applicant.BirthDate = today.AddDays(1).String()
	var found bool
	for _, e := range s.Validate(today) {
		found = found || (e.Field == "applicant.birthDate" && e.Code == "future_date")
	}
	if !found {
		t.Errorf("a birth date of tomorrow is not reported on applicant.birthDate: %+v", s.Validate(today))
	}
}

// The format checks are the patterns they replaced (regular expressions
// cost a third of validating a submission), on strings made to sit near
// every edge of them and on random ones.
func TestFormatChecksAsPatterns(t *testing.T) {
	patterns := []struct {
		name  string
		check func(string) bool
		re    *regexp.Regexp
	}{
		{"portalRef", validPortalRef, regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$`)},
		{"mobile", validMobile, regexp.MustCompile(`^1[3-9][0-9]{9}$`)},
		{"phone", validPhone, regexp.MustCompile(`^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})$`)},
	}
	var inputs []string
	digits := func(n int) string { return strings.Repeat("7", n) }
	for a := 0; a <= 5; a++ {
		for n := 0; n <= 13; n++ {
			inputs = append(inputs, "0"+digits(a)+"-"+digits(n), "0"+digits(a+n), "1"+digits(n), "13"+digits(n), "12"+digits(n),
				"0"+digits(a)+"--"+digits(n), "-"+digits(a+n), "0"+digits(a)+"-"+digits(n)+"-")
		}
	}
	for n := 0; n <= 70; n++ {
		inputs = append(inputs, "A"+strings.Repeat("b", n), "_"+strings.Repeat("b", n), "9"+strings.Repeat("_.:-", n/4), "x"+strings.Repeat("汉", n))
	}
	inputs = append(inputs, "", "1", "0", "-", "1388180123４", "138 8180 1234", "13881801234\n", "０28-85551234")
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("0123456789-_.:aZ汉 \n")
	for range 200000 {
		rs := make([]rune, rng.IntN(16))
		for i := range rs {
			rs[i] = alphabet[rng.IntN(len(alphabet))]
		}
		inputs = append(inputs, string(rs))
	}
	for _, p := range patterns {
		for _, in := range inputs {
			if got, want := p.check(in), p.re.MatchString(in); got != want {
				t.Fatalf("%s(%q) = %v, the pattern says %v", p.name, in, got, want)
			}
		}
	}
}

// A portal reference is echoed in replies, pushes and the console and
// outlives an erasure: one holding a person's number is refused (outsider:
// an ID number as portalRef stayed in the clear after the erasure).
func TestPortalRefHoldsNoPersonalNumber(t *testing.T) {
	for ref, refused := range map[string]bool{
		"51170219850307123X":        true,
		"51170219850307123x":        true,
		"REF-51170219850307123X-1":  true,
		"CERT:51170219850307123X43": true,
		"13812345678":               true,
		"SCZW-FCZK-13812345678":     true,
		// (outsider: these were taken)
		"R-110105491231002":        true, // an ID number of the first generation
		"R-8613881801234":          true,
		"R-138-8180-1234":          true,
		"R.138.8180.1234":          true,
		"R-511702-19850307-123X":   true,
		"SCZW-20261205-000123":     false,
		"SCZW-FCZK-20261205000123": false,
		"SCZW-202612050001234567":  false, // a sequence number: 18 digits, no valid ID
		"511702198503071234567890": false, // 24 digits: not read as an ID
		"1733400000":               false, // unix seconds
		"PORTAL-1":                 false,
	} {
		s := validSubmission()
		s.PortalRef = ref
		got := false
		for _, e := range s.Validate(today) {
			if e.Field == "portalRef" {
				got = true
				if strings.Contains(e.Message+e.MessageEn, ref) {
					t.Errorf("%s: the message echoes it", ref)
				}
			}
		}
		if got != refused {
			t.Errorf("portalRef %q: refused %v, want %v", ref, got, refused)
		}
	}
}

// A supplement's note reaches the department and the window: no control or
// invisible format characters (outsider: a BEL was taken).
func TestSupplementNoteHoldsNoHiddenCharacters(t *testing.T) {
	for note, refused := range map[string]bool{"补交照片\a": true, "补交\u202e照片": true, "补交照片\n两张": false, "补交照片": false} {
		s := SupplementSubmission{TaskID: "A-1", Materials: []string{"photos"}, Note: note}
		got := false
		for _, e := range s.Validate() {
			got = got || e.Field == "note" && e.Code == "invalid_characters"
		}
		if got != refused {
			t.Errorf("note %q: refused %v, want %v", note, got, refused)
		}
	}
}
