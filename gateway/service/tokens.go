package service

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"onething/gateway/auth"
)

// NamedToken is one entry of readTokens or adminTokens: a static bearer
// token and the subject it acts as. Requests, audit entries and the
// request log name the caller token:SUBJECT, so the subject says whose
// token it is (district-office, operators, …), never a person's data.
//
// In the configuration it is an object:
//
//	readTokens:
//	  - subject: district-office
//	    token: "${file:secrets/read-token}"
//
// A plain string (the form before subjects) still decodes, with no
// subject; CheckSecrets (so `config check` and `serve`) and Assemble
// refuse it with a message that says how to name it.
type NamedToken struct {
	Token   string `json:"token"`
	Subject string `json:"subject"`
}

// namedTokenFields is the object form, decoded strictly.
type namedTokenFields struct {
	Token   string `json:"token"`
	Subject string `json:"subject"`
}

// UnmarshalJSON takes "TOKEN" or {"token": "TOKEN", "subject": "NAME"}; an
// unknown field of the object is an error, as everywhere in the file.
func (t *NamedToken) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = NamedToken{Token: s}
		return nil
	}
	if len(b) == 0 || b[0] != '{' {
		return errors.New(`a read or admin token is {"subject": "NAME", "token": "…"}`)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f namedTokenFields
	if err := dec.Decode(&f); err != nil {
		return fmt.Errorf(`a read or admin token is {"subject": "NAME", "token": "…"}: %w`, err)
	}
	*t = NamedToken(f)
	return nil
}

// MarshalJSON writes the object form; an entry without a subject is
// written as the string it was read from.
func (t NamedToken) MarshalJSON() ([]byte, error) {
	if t.Subject == "" {
		return json.Marshal(t.Token)
	}
	return json.Marshal(namedTokenFields(t))
}

// MaxTokenSubject is the longest subject of a read or admin token.
const MaxTokenSubject = 64

var tokenSubjectPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// tokenSubjectProblems checks the subjects of the static tokens: every
// read and admin token has one, of letters, digits, '.', '_' and '-' (at
// most 64), no two static tokens (readTokens, adminTokens, tokens) share
// one. Messages are in Chinese, then English.
func tokenSubjectProblems(cfg Config) []string {
	var problems []string
	bad := func(f string, a ...any) { problems = append(problems, fmt.Sprintf(f, a...)) }
	where := map[string][]string{}
	check := func(list []NamedToken, setting, example string) {
		for i, t := range list {
			path := fmt.Sprintf("%s[%d]", setting, i)
			switch {
			case t.Subject == "":
				bad("%s: 没有 subject，审计和日志无法说明是谁在读写；写成 {subject: %s, token: …}。办公室的工作人员请用身份提供方签发的 JWT（README“安全”），每人一个账号 / "+
					"has no subject, so audit and logs cannot say whose token it is: write it as {subject: %s, token: …} "+
					"(ONETHING_%s takes a JSON array of such objects); for staff prefer identity-provider JWTs (README, \"Security\"), one account each",
					path, example, example, envName(setting))
			case !tokenSubjectPattern.MatchString(t.Subject):
				bad("%s.subject: 只能是 1-%d 个字母、数字、'.'、'_'、'-'，以字母或数字开头 / must be 1-%d letters, digits, '.', '_' or '-', starting with a letter or digit", path, MaxTokenSubject, MaxTokenSubject)
			default:
				if err := auth.ValidSubject(t.Subject); err != nil {
					bad("%s.subject: %v", path, err)
				} else {
					where[t.Subject] = append(where[t.Subject], path+".subject")
				}
			}
		}
	}
	check(cfg.ReadTokens, "readTokens", "district-office")
	check(cfg.AdminTokens, "adminTokens", "operators")
	for i, t := range cfg.Tokens {
		if t.Subject != "" {
			where[t.Subject] = append(where[t.Subject], fmt.Sprintf("tokens[%d].subject", i))
		}
	}
	for s, paths := range where {
		if len(paths) > 1 {
			bad("%s: subject %q 重复，审计分不清是哪个令牌 / subject %q is used twice: audit could not tell the tokens apart; give each its own", joinPaths(paths), s, s)
		}
	}
	sort.Strings(problems)
	return problems
}

func envName(setting string) string {
	return map[string]string{"readTokens": "READ_TOKENS", "adminTokens": "ADMIN_TOKENS"}[setting]
}

func joinPaths(paths []string) string {
	sort.Strings(paths)
	return strings.Join(paths, ", ")
}

// staticTokens are the read and admin tokens as the API's static tokens: a
// read token is the district office (reads every application, asks the
// guide), an admin token an operator; each acts as token:SUBJECT.
func staticTokens(cfg Config) []auth.StaticToken {
	var out []auth.StaticToken
	for _, t := range cfg.ReadTokens {
		out = append(out, auth.StaticToken{Token: t.Token, Role: auth.RoleStaff, Towns: []string{auth.ProvinceOffice}, Subject: t.Subject})
	}
	for _, t := range cfg.AdminTokens {
		out = append(out, auth.StaticToken{Token: t.Token, Role: auth.RoleAdmin, Subject: t.Subject})
	}
	return append(out, cfg.Tokens...)
}
