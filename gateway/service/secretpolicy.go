package service

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	c "onething/contracts"
	"onething/gateway/seal"
	"onething/gateway/secrets"
	"onething/gateway/store"
)

// Minimum sizes of the secrets the policy checks.
const (
	// MinTokenBytes is the shortest bearer token (readTokens, adminTokens,
	// tokens), department appKey secret, HS256 secret and console session
	// key: opaque strings, counted in bytes.
	MinTokenBytes = 32
	// MinWebhookKeyBytes is the shortest whsec_ key, decoded: the
	// Standard Webhooks minimum (the portal and the departments issue
	// these).
	MinWebhookKeyBytes = 24
	// MinIndexKeyBytes is the shortest blind-index key.
	MinIndexKeyBytes = 32
)

// secretKind says how a secret is written and how long it must be.
type secretKind int

const (
	kindToken    secretKind = iota // opaque string, ≥ MinTokenBytes bytes
	kindWebhook                    // whsec_<base64>, ≥ MinWebhookKeyBytes decoded
	kindDataKey                    // base64, exactly the cipher's size
	kindIndexKey                   // base64, ≥ MinIndexKeyBytes
	kindSM4Hex                     // 32 hex digits
	kindOpaque                     // checked for placeholders, commits and sharing only (PEM keys, bcrypt hashes, passwords)
)

// secretUse is one secret in the configuration: where it is set, whose it
// is, what kind it is, and its value (a key file's content for keyFile).
type secretUse struct {
	path      string // "departments.cdpf.eventSecrets[0]"
	principal string // who may act with it: "portal intake", "cdpf events" …
	kind      secretKind
	alg       string // data keys: their cipher
	value     string
}

// CheckSecrets applies the secret policy to a configuration and returns
// its problems (none: it may run). `config check` reports them with the
// rest (Check calls it); `serve` must refuse to start on any, before it
// opens the store. It refuses:
//
//   - a value holding a placeholder (REPLACE, CHANGE-ME, TODO, example …);
//   - a value that was ever committed to this repository (secrets.Committed);
//   - one secret held by two principals: portal intake and push, the portal
//     and a department, two departments, a department's requests and its
//     events, the data and the index keys, read and admin tokens, a token
//     and a webhook secret …;
//   - tokens, appKey secrets, HS256 secrets and the console's session key
//     shorter than 32 bytes; whsec_ secrets shorter than 24 decoded bytes;
//   - cipher keys of the wrong size for their algorithm (AES-256-GCM 32
//     bytes, SM4 16, index keys at least 32);
//   - a value of one character repeated, or a key of one byte repeated
//     (all zeros);
//   - a read or admin token without a subject (a plain string), a subject
//     of odd characters, one subject for two static tokens
//     (tokenSubjectProblems): audit must say whose token acted.
//
// Messages are in Chinese, then English; they name the setting, never the
// value. `onething dev` does not go through it: its secrets are random on
// every run (and satisfy the sizes anyway).
func CheckSecrets(cfg Config) []string {
	var problems []string
	bad := func(f string, a ...any) { problems = append(problems, fmt.Sprintf(f, a...)) }

	urls := []struct{ path, url string }{{"store", cfg.Store}}
	if dp := cfg.DataProtection; dp != nil {
		urls = append(urls, struct{ path, url string }{"dataProtection.keyStore", dp.KeyStore})
	}
	for _, su := range urls {
		if s := su.url; strings.HasPrefix(s, "redis://") || strings.HasPrefix(s, "rediss://") {
			// A URL that does not parse is CheckStoreURL's problem, not a secret's.
			if u, err := url.Parse(s); err == nil && u.User != nil {
				if pw, ok := u.User.Password(); ok {
					checkValue(secretUse{path: su.path + " (password)", principal: su.path, kind: kindOpaque, value: pw}, bad)
				}
			}
		}
	}

	problems = append(problems, tokenSubjectProblems(cfg)...)
	uses := secretUses(cfg, bad)
	for _, u := range uses {
		checkValue(u, bad)
	}
	checkShared(uses, bad)
	sort.Strings(problems)
	return problems
}

// CheckStoreURL checks a redis:// or rediss:// store URL as the store
// will read it (store.OpenRedis: url.Parse, its prefix and dedupe_ttl
// options, then go-redis's ParseURL, which refuses a path that is not a
// database number, options it does not know such as ?password=, a space).
// Its problems name the URL without its credentials. `config check`
// reports them with the rest, `serve` before it opens the store: they are
// problems of the URL, not of a secret (CheckSecrets).
func CheckStoreURL(cfg Config) []string {
	s := cfg.Store
	sentinel := store.IsSentinelURL(s)
	if !strings.HasPrefix(s, "redis://") && !strings.HasPrefix(s, "rediss://") && !sentinel {
		return nil
	}
	bad := func(reason string) []string {
		return []string{"store: 不是可用的 Redis URL / not a usable Redis URL: " + secrets.RedactURL(s) + ": " + reason}
	}
	if _, err := secrets.ParseURL(s); err != nil {
		var ue *secrets.URLError
		if errors.As(err, &ue) {
			return bad(ue.Reason)
		}
		return bad("malformed")
	}
	if sentinel {
		// The store's own parser: its messages name options and
		// addresses, never a password.
		if err := store.CheckRedisURL(s); err != nil {
			return bad(strings.TrimPrefix(err.Error(), "store URL: "))
		}
		return nil
	}
	u, _ := url.Parse(s)
	q := u.Query()
	if v := q.Get("dedupe_ttl"); v != "" {
		if _, err := time.ParseDuration(v); err != nil {
			return bad("dedupe_ttl is not a duration (720h)")
		}
	}
	q.Del("prefix")
	q.Del("dedupe_ttl")
	u.RawQuery = q.Encode()
	if _, err := redis.ParseURL(u.String()); err != nil {
		switch msg := err.Error(); {
		case strings.Contains(msg, "database number"), strings.Contains(msg, "URL path"):
			return bad("the path must be a database number (/0), with nothing around it (a space, a second segment)")
		case strings.Contains(msg, "unexpected option"):
			// go-redis names the options, never their values.
			return bad(strings.TrimPrefix(msg, "redis: ") + " (a password goes in the user information: redis://:PASSWORD@host:6379/0)")
		case strings.Contains(msg, "scheme"):
			return bad("the scheme must be redis:// or rediss://")
		default:
			return bad("go-redis refuses it")
		}
	}
	return nil
}

// secretUses lists every secret of the configuration.
func secretUses(cfg Config, bad func(string, ...any)) []secretUse {
	var uses []secretUse
	add := func(path, principal string, kind secretKind, value string) {
		if value != "" {
			uses = append(uses, secretUse{path: path, principal: principal, kind: kind, value: value})
		}
	}
	for i, s := range cfg.PortalSecrets {
		add(fmt.Sprintf("portalSecrets[%d]", i), "portal intake (submissions)", kindWebhook, s)
	}
	add("portalPushSecret", "portal push (status pushes)", kindWebhook, cfg.PortalPushSecret)
	for i, t := range cfg.ReadTokens {
		add(fmt.Sprintf("readTokens[%d].token", i), "read tokens", kindToken, t.Token)
	}
	for i, t := range cfg.AdminTokens {
		add(fmt.Sprintf("adminTokens[%d].token", i), "admin tokens", kindToken, t.Token)
	}
	for i, t := range cfg.Tokens {
		add(fmt.Sprintf("tokens[%d].token", i), "token of "+t.Subject, kindToken, t.Token)
	}
	if j := cfg.JWT; j != nil {
		for i, s := range j.HS256Secrets {
			add(fmt.Sprintf("jwt.hs256Secrets[%d]", i), "the JWT issuer (HS256)", kindToken, s)
		}
	}
	if cc := cfg.Console; cc != nil {
		add("console.sessionKey", "console sessions", kindToken, cc.SessionKey)
		if cc.SessionKeyFile != "" {
			if b, err := os.ReadFile(cc.SessionKeyFile); err == nil {
				add("console.sessionKeyFile ("+cc.SessionKeyFile+")", "console sessions", kindToken, strings.TrimSpace(string(b)))
			}
		}
		// An accounts file that does not read is Check's problem to report.
		accounts, _ := cc.accounts()
		where := "console.accounts"
		if cc.AccountsFile != "" {
			where = "console.accountsFile (" + cc.AccountsFile + ")"
		}
		for i, a := range accounts {
			add(fmt.Sprintf("%s[%d].passwordHash", where, i), "console account "+a.Username, kindOpaque, a.PasswordHash)
		}
	}
	for _, d := range c.Depts {
		if dc, ok := cfg.Departments[d]; ok {
			linkUses("departments."+string(d), string(d), dc, add, bad)
		}
	}
	// Each county's system is a principal of its own: its secrets are its
	// alone (not another county's, nor the home system's).
	for i, cd := range cfg.CountyDepartments {
		name := cd.Name
		if name == "" && len(cd.Counties) > 0 {
			name = string(cd.Dept) + ":" + cd.Counties[0]
		}
		linkUses(fmt.Sprintf("countyDepartments[%d]", i), name, cd.DeptLink, add, bad)
	}
	if dp := cfg.DataProtection; dp != nil {
		for i, k := range dp.Keys {
			alg := k.Algorithm
			if alg == "" {
				alg = seal.AES256GCM
			}
			for _, u := range keyUses(fmt.Sprintf("dataProtection.keys[%d]", i), k, "data keys", kindDataKey) {
				u.alg = alg
				uses = append(uses, u)
			}
		}
		for i, k := range dp.IndexKeys {
			uses = append(uses, keyUses(fmt.Sprintf("dataProtection.indexKeys[%d]", i), k, "index keys", kindIndexKey)...)
		}
	}
	return uses
}

// linkUses lists the secrets of one department link (base: its setting,
// who: the system, as principals name it).
func linkUses(base, who string, dc Dept, add func(path, principal string, kind secretKind, value string), bad func(string, ...any)) {
	scheme := dc.Signing.SchemeName()
	usesSecret := scheme == c.SchemeHMACSHA256 || scheme == c.SchemeSM3 ||
		(scheme == c.SchemeJWT && dc.Signing != nil && strings.EqualFold(dc.Signing.JWTAlg, "HS256"))
	if dc.Secret == "" && usesSecret && dc.BaseURL != "" {
		bad("%s.secret: 必填，发往该部门的请求用它签名 / required: the requests to the department are signed with it (scheme %s)", base, scheme)
	}
	add(base+".secret", who+" requests", kindToken, dc.Secret)
	for i, s := range dc.EventSecrets {
		add(fmt.Sprintf("%s.eventSecrets[%d]", base, i), who+" events", kindWebhook, s)
	}
	if sg := dc.Signing; sg != nil {
		add(base+".signing.sm4Key", who+" request bodies (SM4)", kindSM4Hex, sg.SM4Key)
		add(base+".signing.jwtKey", who+" request tokens (JWT key)", kindOpaque, sg.JWTKey)
		if sg.JWTKeyFile != "" {
			if b, err := os.ReadFile(sg.JWTKeyFile); err == nil {
				add(base+".signing.jwtKeyFile ("+sg.JWTKeyFile+")", who+" request tokens (JWT key)", kindOpaque, string(b))
			}
		}
	}
}

// keyUses is a dataProtection key, inline or from its file (a file that
// cannot be read is the keyring's problem to report).
func keyUses(path string, k seal.KeySpec, principal string, kind secretKind) []secretUse {
	id := " (id " + k.ID + ")"
	var out []secretUse
	if k.Key != "" {
		out = append(out, secretUse{path: path + ".key" + id, principal: principal, kind: kind, value: strings.TrimSpace(k.Key)})
	}
	if k.KeyFile != "" {
		if b, err := os.ReadFile(k.KeyFile); err == nil {
			out = append(out, secretUse{path: path + ".keyFile " + k.KeyFile + id, principal: principal, kind: kind, value: strings.TrimSpace(string(b))})
		}
	}
	return out
}

const makeOne = "用 onething secrets init 生成 / make one with onething secrets init"

// checkValue applies the rules that concern one value alone.
func checkValue(u secretUse, bad func(string, ...any)) {
	if p := secrets.Placeholder(u.value); p != "" {
		bad("%s: 是占位符（%s），不是密钥 / holds a placeholder (%s), not a secret: %s", u.path, p, p, makeOne)
		return
	}
	if secrets.LowEntropy(u.value) {
		bad("%s: 是同一个字符或字节的重复（如全零密钥），不是密钥 / is one character or byte repeated (an all-zero key …), not a secret: %s", u.path, makeOne)
		return
	}
	if secrets.Committed(u.value) {
		bad("%s: 与本仓库中提交过的值相同，是公开的 / equals a value committed to this repository, so it is public: %s", u.path, makeOne)
		return
	}
	switch u.kind {
	case kindToken:
		if n := len(u.value); n < MinTokenBytes {
			bad("%s: 只有 %d 字节，至少需要 %d / is %d bytes, at least %d are needed: %s", u.path, n, MinTokenBytes, n, MinTokenBytes, makeOne)
		}
	case kindWebhook:
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(u.value, secrets.WebhookPrefix))
		switch {
		case err != nil:
			bad("%s: 不是 whsec_<base64> / is not whsec_<base64>", u.path)
		case len(raw) < MinWebhookKeyBytes:
			bad("%s: 解码后只有 %d 字节，Standard Webhooks 至少 %d / decodes to %d bytes, the Standard Webhooks minimum is %d: %s",
				u.path, len(raw), MinWebhookKeyBytes, len(raw), MinWebhookKeyBytes, makeOne)
		}
	case kindDataKey, kindIndexKey:
		raw, err := base64.StdEncoding.DecodeString(u.value)
		if err != nil {
			bad("%s: 不是 base64 / is not base64", u.path)
			return
		}
		want := map[string]int{seal.AES256GCM: 32, seal.SM4GCM: 16}[u.alg]
		switch {
		case u.kind == kindIndexKey && len(raw) < MinIndexKeyBytes:
			bad("%s: 索引密钥只有 %d 字节，至少 %d / an index key of %d bytes: at least %d are needed", u.path, len(raw), MinIndexKeyBytes, len(raw), MinIndexKeyBytes)
		case u.kind == kindDataKey && want != 0 && len(raw) != want:
			bad("%s: %s 密钥须为 %d 字节，实为 %d / a %s key is %d bytes, this one %d", u.path, u.alg, want, len(raw), u.alg, want, len(raw))
		}
	case kindSM4Hex:
		if raw, err := hex.DecodeString(u.value); err != nil || len(raw) != 16 {
			bad("%s: SM4 密钥为 16 字节（32 个十六进制数字）/ an SM4 key is 16 bytes (32 hex digits)", u.path)
		}
	}
}

// checkShared refuses one secret held by two principals: values are
// compared as written, without a whsec_ prefix, and as the key bytes they
// decode to; the settings holding one secret are named in one problem.
func checkShared(uses []secretUse, bad func(string, ...any)) {
	parent := make([]int, len(uses))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		if parent[i] != i {
			parent[i] = find(parent[i])
		}
		return parent[i]
	}
	first := map[[32]byte]int{}
	for i, u := range uses {
		for _, form := range forms(u) {
			d := sha256.Sum256(form)
			if k, ok := first[d]; ok {
				parent[find(i)] = find(k)
			} else {
				first[d] = i
			}
		}
	}
	groups := map[int][]int{}
	for i := range uses {
		groups[find(i)] = append(groups[find(i)], i)
	}
	for _, g := range groups {
		var paths, principals []string
		seen := map[string]bool{}
		for _, i := range g {
			paths = append(paths, uses[i].path)
			if p := uses[i].principal; !seen[p] {
				seen[p] = true
				principals = append(principals, p)
			}
		}
		if len(principals) < 2 {
			continue
		}
		sort.Strings(paths)
		sort.Strings(principals)
		list := strings.Join(paths, ", ")
		bad("%s 是同一个密钥 / %s hold one and the same secret: %s could act as one another; give each its own (onething secrets init)",
			list, list, strings.Join(principals, ", "))
	}
}

// forms are the ways a value may meet another: as written, without the
// whsec_ prefix, and as the bytes it decodes to (webhook secrets and keys
// from base64, SM4 keys from hex).
func forms(u secretUse) [][]byte {
	out := [][]byte{[]byte(u.value)}
	bare := strings.TrimPrefix(u.value, secrets.WebhookPrefix)
	if bare != u.value {
		out = append(out, []byte(bare))
	}
	switch u.kind {
	case kindWebhook, kindDataKey, kindIndexKey:
		if raw, err := base64.StdEncoding.DecodeString(bare); err == nil && len(raw) > 0 {
			out = append(out, raw)
		}
	case kindSM4Hex:
		if raw, err := hex.DecodeString(u.value); err == nil && len(raw) > 0 {
			out = append(out, raw)
		}
	}
	return out
}
