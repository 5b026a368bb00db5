package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"sigs.k8s.io/yaml"

	c "onething/contracts"
	"onething/gateway/secrets"
	"onething/gateway/store"
)

// EnvPrefix starts every environment variable that overrides a setting of
// the configuration file: ONETHING_ followed by the setting's path in upper
// snake case, e.g.
//
//	ONETHING_LISTEN=0.0.0.0:8080
//	ONETHING_STORE=redis://redis:6379/0
//	ONETHING_WORKERS=32
//	ONETHING_PORTAL_SECRETS=whsec_a,whsec_b        (a list: commas, or a JSON array)
//	ONETHING_DEPARTMENTS_CDPF_SECRET=…
//	ONETHING_DEPARTMENTS_CDPF_TIMEOUT=15s
//	ONETHING_READ_TOKENS='[{"subject":"district-office","token":"…"}]'  (read and admin tokens: a JSON array)
//
// A variable that ends in _FILE reads the value from that file instead
// (a mounted Secret): ONETHING_PORTAL_PUSH_SECRET_FILE=/run/secrets/push;
// for a list, one entry per line. In the file itself, a string value of
// the form ${file:/run/secrets/name} is replaced by that file's content
// (a relative path is taken from the configuration file's directory, and
// so are relative keyFile, jwtKeyFile, sessionKeyFile, accountsFile,
// jwksFile, passwordFile and sentinelPasswordFile paths).
const EnvPrefix = "ONETHING_"

// notSettings are ONETHING_ variables that are read elsewhere (the command
// line's defaults), not settings of the file.
var notSettings = map[string]bool{"ONETHING_CONFIG": true, "ONETHING_LOG_LEVEL": true, "ONETHING_LOG_FORMAT": true}

// Loaded is a configuration as read, with where its values came from.
type Loaded struct {
	Config Config
	// Overrides are the settings environment variables changed
	// ("departments.cdpf.secret from ONETHING_DEPARTMENTS_CDPF_SECRET_FILE").
	Overrides []string
	// FromFiles are the settings whose value a ${file:…} reference supplied.
	FromFiles []string
	// Warnings are ONETHING_ variables that name no setting.
	Warnings []string
}

// LoadConfig reads a configuration file, YAML or JSON (JSON is YAML), then
// applies the environment's overrides and the secrets kept in files, and
// decodes the result strictly through Config's JSON field names: an
// unknown field is an error, so a misspelt setting is never silently
// ignored. environ is os.Environ() when nil.
func LoadConfig(path string, environ []string) (Loaded, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Loaded{}, fmt.Errorf("无法读取配置文件 / cannot read the configuration file: %w", err)
	}
	l, err := LoadConfigBytes(data, filepath.Dir(path), environ)
	if err != nil {
		return l, fmt.Errorf("配置文件不正确 / the configuration file is not valid: %s: %w", path, err)
	}
	return l, nil
}

// LoadConfigBytes is LoadConfig on the file's content; dir resolves
// relative ${file:…} paths.
func LoadConfigBytes(data []byte, dir string, environ []string) (Loaded, error) {
	var l Loaded
	if environ == nil {
		environ = os.Environ()
	}
	jsonDoc := data
	if !json.Valid(bytes.TrimSpace(data)) || len(bytes.TrimSpace(data)) == 0 {
		var err error
		if jsonDoc, err = yaml.YAMLToJSON(data); err != nil {
			return l, fmt.Errorf("不是有效的 YAML 或 JSON / not valid YAML or JSON: %w", err)
		}
	}
	var doc any
	dec := json.NewDecoder(bytes.NewReader(jsonDoc))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return l, err
	}
	root, ok := doc.(map[string]any)
	if doc == nil {
		root, ok = map[string]any{}, true
	}
	if !ok {
		return l, errors.New("配置须是设置项的映射 / the configuration must be a mapping of settings")
	}
	var errs []error
	resolveFileRefs(root, dir, nil, &l.FromFiles, &errs)
	resolveKeyFiles(root, dir)
	applyEnv(root, environ, &l, &errs)
	daysProblems(root, &errs) // named by their key, which the decoder's error would not
	durationProblems(reflect.TypeFor[Config](), root, "", &errs)
	if err := errors.Join(errs...); err != nil {
		return l, err
	}
	out, err := json.Marshal(root)
	if err != nil {
		return l, err
	}
	if err := decodeConfig(out, &l.Config); err != nil {
		return l, err
	}
	return l, nil
}

// resolveFileRefs replaces every string value "${file:PATH}" by the
// content of the file (without its final line break).
func resolveFileRefs(node any, dir string, path []string, from *[]string, errs *[]error) any {
	switch v := node.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) { // a stable report
			v[k] = resolveFileRefs(v[k], dir, append(path, k), from, errs)
		}
	case []any:
		for i, child := range v {
			v[i] = resolveFileRefs(child, dir, append(path, strconv.Itoa(i)), from, errs)
		}
	case string:
		if name, ok := strings.CutPrefix(v, "${file:"); ok && strings.HasSuffix(name, "}") {
			name = strings.TrimSuffix(name, "}")
			if !filepath.IsAbs(name) && dir != "" {
				name = filepath.Join(dir, name)
			}
			b, err := os.ReadFile(name)
			if errors.Is(err, fs.ErrNotExist) {
				*errs = append(*errs, fmt.Errorf("%s: 密钥文件 %s 不存在（onething secrets init DIR 生成一整套新的密钥文件） / %w (onething secrets init DIR writes a fresh set of the secret files)", strings.Join(path, "."), name, err))
				return v
			}
			if err != nil {
				*errs = append(*errs, fmt.Errorf("%s: %w", strings.Join(path, "."), err))
				return v
			}
			*from = append(*from, strings.Join(path, "."))
			return strings.TrimRight(string(b), "\r\n")
		}
	}
	return node
}

// keyFileSettings are the settings that name a file of secret material;
// a relative path in the configuration file is taken from the file's
// directory, as ${file:…} is (a path from the environment stays as given).
var keyFileSettings = map[string]bool{"keyFile": true, "jwtKeyFile": true, "sessionKeyFile": true, "accountsFile": true, "jwksFile": true,
	"passwordFile": true, "sentinelPasswordFile": true}

func resolveKeyFiles(node any, dir string) {
	switch v := node.(type) {
	case map[string]any:
		for k, child := range v {
			if name, ok := child.(string); ok && keyFileSettings[k] && dir != "" && name != "" && !filepath.IsAbs(name) {
				v[k] = filepath.Join(dir, name)
				continue
			}
			resolveKeyFiles(child, dir)
		}
	case []any:
		for _, child := range v {
			resolveKeyFiles(child, dir)
		}
	}
}

// applyEnv applies the ONETHING_* variables to the document.
func applyEnv(root map[string]any, environ []string, l *Loaded, errs *[]error) {
	cfgType := reflect.TypeFor[Config]()
	sort.Strings(environ)
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) || notSettings[name] {
			continue
		}
		toks := strings.Split(strings.TrimPrefix(name, EnvPrefix), "_")
		fromFile := false
		path, leaf, found := match(cfgType, toks, root)
		if !found && len(toks) > 1 && toks[len(toks)-1] == "FILE" {
			path, leaf, found = match(cfgType, toks[:len(toks)-1], root)
			fromFile = found
		}
		if !found {
			l.Warnings = append(l.Warnings, name+" names no setting; ignored")
			continue
		}
		if fromFile {
			b, err := os.ReadFile(value)
			if err != nil {
				*errs = append(*errs, fmt.Errorf("%s: %w", name, err))
				continue
			}
			value = strings.TrimRight(string(b), "\r\n")
		}
		raw, err := envValue(leaf, value, fromFile)
		if err != nil {
			*errs = append(*errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		setPath(root, path, raw)
		l.Overrides = append(l.Overrides, strings.Join(path, ".")+" from "+name)
	}
}

// match finds the setting an upper-snake-case name designates, walking the
// configuration type (struct fields by JSON name, map keys by the keys the
// document has, or else one token) and the document alongside.
func match(t reflect.Type, toks []string, doc any) ([]string, reflect.Type, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if len(toks) == 0 {
		return nil, t, true
	}
	m, _ := doc.(map[string]any)
	type cand struct {
		key  string
		toks []string
		typ  reflect.Type
	}
	var cands []cand
	switch t.Kind() {
	case reflect.Struct:
		for f := range t.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				if f.Anonymous {
					if p, lt, ok := match(f.Type, toks, doc); ok {
						return p, lt, true
					}
					continue
				}
				name = f.Name
			}
			cands = append(cands, cand{name, snakeTokens(name), f.Type})
		}
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, nil, false
		}
		for k := range m {
			cands = append(cands, cand{k, strings.Split(strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(k)), "_"), t.Elem()})
		}
		if len(cands) == 0 || !anyPrefix(cands, toks, func(c cand) []string { return c.toks }) {
			cands = append(cands, cand{strings.ToLower(toks[0]), toks[:1], t.Elem()})
		}
	default:
		return nil, nil, false
	}
	sort.SliceStable(cands, func(i, k int) bool { return len(cands[i].toks) > len(cands[k].toks) })
	for _, cd := range cands {
		if !hasPrefix(toks, cd.toks) {
			continue
		}
		p, lt, ok := match(cd.typ, toks[len(cd.toks):], m[cd.key])
		if ok {
			return append([]string{cd.key}, p...), lt, true
		}
	}
	return nil, nil, false
}

func anyPrefix[T any](list []T, toks []string, of func(T) []string) bool {
	for _, x := range list {
		if hasPrefix(toks, of(x)) {
			return true
		}
	}
	return false
}

func hasPrefix(toks, prefix []string) bool {
	if len(prefix) > len(toks) {
		return false
	}
	for i := range prefix {
		if toks[i] != prefix[i] {
			return false
		}
	}
	return true
}

// snakeTokens splits a camelCase name into upper-case words:
// portalPushSecret → PORTAL PUSH SECRET, sm4KeyId → SM4 KEY ID,
// jwtURL → JWT URL.
func snakeTokens(name string) []string {
	var toks []string
	rs := []rune(name)
	start := 0
	for i := 1; i < len(rs); i++ {
		prev, cur := rs[i-1], rs[i]
		next := rune(0)
		if i+1 < len(rs) {
			next = rs[i+1]
		}
		if unicode.IsUpper(cur) && (unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && unicode.IsLower(next))) {
			toks = append(toks, strings.ToUpper(string(rs[start:i])))
			start = i
		}
	}
	return append(toks, strings.ToUpper(string(rs[start:])))
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// envValue turns an environment value into the JSON the setting's type
// decodes from.
func envValue(t reflect.Type, v string, fromFile bool) (json.RawMessage, error) {
	quote := func(s string) json.RawMessage { b, _ := json.Marshal(s); return b }
	// A list of read or admin tokens is a JSON array of {subject, token};
	// bare tokens (commas, lines of a _FILE) still read, without subjects,
	// so the check can say how to name them.
	if t.Kind() == reflect.Slice && t.Elem() == reflect.TypeFor[NamedToken]() && !strings.HasPrefix(strings.TrimSpace(v), "[") {
		t = reflect.TypeFor[[]string]()
	}
	if t.Kind() != reflect.String && (t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType)) {
		if json.Valid([]byte(v)) {
			return json.RawMessage(v), nil
		}
		return quote(v), nil
	}
	switch t.Kind() {
	case reflect.String:
		return quote(v), nil
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		if !json.Valid([]byte(v)) {
			return nil, fmt.Errorf("%q is not a %s", v, t.Kind())
		}
		return json.RawMessage(v), nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.String && !strings.HasPrefix(strings.TrimSpace(v), "[") {
			sep := ","
			if fromFile {
				sep = "\n"
			}
			list := []string{}
			for _, part := range strings.Split(v, sep) {
				if part = strings.TrimSpace(part); part != "" {
					list = append(list, part)
				}
			}
			b, _ := json.Marshal(list)
			return b, nil
		}
	}
	if !json.Valid([]byte(v)) {
		return nil, fmt.Errorf("a %s setting takes JSON", t.Kind())
	}
	return json.RawMessage(v), nil
}

func setPath(root map[string]any, path []string, v any) {
	m := root
	for _, k := range path[:len(path)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
}

// Masked is the configuration as a document with every secret replaced by
// "***" (an empty one stays empty, so an operator sees what is unset) and
// credentials taken out of URLs (secrets.RedactURL: the password or token
// of the user information, credential parameters of the query): what
// `onething config check` prints. Key ids, algorithms and key-file paths
// are not secrets and show.
func Masked(cfg Config) (map[string]any, error) {
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	maskNode(doc, false)
	return doc, nil
}

// publicSettings are names that hold no secret although a name around
// them, or their own, sounds like one: ids, algorithms, files, the people
// and places a token is for.
var publicSettings = map[string]bool{
	"id": true, "algorithm": true, "currentkey": true, "currentindexkey": true, "appkey": true,
	"sm4keyid": true, "jwtkeyid": true, "jwtalg": true, "jwtissuer": true, "jwtaudience": true, "scheme": true,
	"role": true, "subject": true, "towns": true, "dept": true, "username": true,
}

// SecretSetting says whether a setting's (JSON) name holds a secret: its
// name has secret, token, password, credential or private key in it, or
// ends in key (sm4Key, jwtKey, sessionKey, a key's "key"). Ids, algorithms
// and files are not secrets (currentKey, sm4KeyId, jwtKeyFile, keyFile,
// appKey, publicKeys …).
func SecretSetting(name string) bool {
	n := strings.ToLower(name)
	if publicSettings[n] || strings.HasSuffix(n, "file") || strings.HasSuffix(n, "id") || strings.HasSuffix(n, "url") ||
		strings.HasSuffix(n, "path") || strings.Contains(n, "public") {
		return false
	}
	for _, w := range []string{"secret", "token", "password", "passwd", "credential", "privatekey"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return strings.HasSuffix(n, "key") || strings.HasSuffix(n, "keys")
}

// maskNode masks the secret settings of a document. Inside a secret
// setting (the entries of tokens, of keys) every string is masked but
// those of a public name (a token's role and subject, a key's id).
func maskNode(node any, secret bool) any {
	switch v := node.(type) {
	case map[string]any:
		for k, child := range v {
			n := strings.ToLower(k)
			childSecret := SecretSetting(k) || (secret && !publicSettings[n] && !strings.HasSuffix(n, "file") && !strings.HasSuffix(n, "id"))
			v[k] = maskNode(child, childSecret)
		}
	case []any:
		for i, child := range v {
			v[i] = maskNode(child, secret)
		}
	case string:
		if secret && v != "" {
			return "***"
		}
		return secrets.RedactURL(v)
	}
	return node
}

// Check validates a loaded configuration as far as it can without
// reaching any other system: required settings, addresses, durations,
// and the assembly of every part (webhook secrets, signing keys, the
// calendar file) on a store that is never opened. It returns the problems
// (nil: valid) and warnings.
func Check(cfg Config) (problems, warnings []string) {
	bad := func(f string, a ...any) { problems = append(problems, fmt.Sprintf(f, a...)) }
	warn := func(f string, a ...any) { warnings = append(warnings, fmt.Sprintf(f, a...)) }
	if _, _, err := net.SplitHostPort(cfg.Listen); err != nil {
		bad("listen: %q is not host:port", cfg.Listen)
	}
	if cfg.BaseURL == "" {
		bad("baseUrl: required (the departments call back there)")
	} else if !absoluteURL(cfg.BaseURL) {
		bad("baseUrl: %q is not an absolute URL", secrets.RedactURL(cfg.BaseURL))
	}
	switch s := cfg.Store; {
	case s == "" && cfg.DataFile == "":
		bad("store: 须设置 store（redis://… 或 bolt:///path）或 dataFile / set store (redis://… or bolt:///path) or dataFile")
	case s == "", strings.HasPrefix(s, "bolt://"):
	case strings.HasPrefix(s, "redis://"), strings.HasPrefix(s, "rediss://"), store.IsSentinelURL(s):
		problems = append(problems, CheckStoreURL(cfg)...)
	default:
		bad("store: 须为 bolt:///path、redis://host:port/db 或 redis+sentinel://SENTINELS/MASTER / must be bolt:///path, redis://host:port/db or redis+sentinel://SENTINELS/MASTER")
	}
	checkRedis(cfg, bad, warn)
	checkKeyStore(cfg, bad, warn)
	if len(cfg.PortalSecrets) == 0 {
		bad("portalSecrets: at least one is required (submissions are verified with it)")
	}
	if cfg.PortalPushURL == "" {
		bad("portalPushUrl: required (status pushes go there)")
	} else if !httpURL(cfg.PortalPushURL) {
		bad("portalPushUrl: %q is not an absolute http:// or https:// URL", secrets.RedactURL(cfg.PortalPushURL))
	}
	if cfg.PortalPushSecret == "" {
		bad("portalPushSecret: required (status pushes are signed with it)")
	}
	if len(cfg.ReadTokens) == 0 {
		warn("readTokens: none, so nobody can read a status")
	}
	secretProblems := CheckSecrets(cfg)
	problems = append(problems, secretProblems...)
	if _, err := Keyring(cfg); err != nil && !mentions(secretProblems, "dataProtection.") {
		bad("%v", err)
	}
	for _, d := range c.Depts {
		if dc, ok := cfg.Departments[d]; !ok || dc.BaseURL == "" {
			bad("departments.%s.baseUrl: 必填 / required", d)
		}
	}
	routes, routeProblems := Routing(cfg)
	problems = append(problems, routeProblems...)
	for _, p := range routes.LinkProblems() {
		// A missing departments.* baseUrl is said above.
		if !strings.HasPrefix(p, "departments.") || !strings.HasSuffix(p, ".baseUrl: 必填 / required") {
			problems = append(problems, p)
		}
	}
	for _, e := range routes.Endpoints() {
		if lease, calls := time.Duration(cfg.JobLease), timeoutOf(e.Link); lease > 0 && lease < 3*calls {
			warn("jobLease %s is below 3 × %s.timeout (%s): a slow call may be taken over by another worker", lease, e.Path, calls)
		}
	}
	for d := range cfg.Departments {
		if !d.Valid() {
			bad("departments.%s: no such department (cdpf, civil, hrss, medical)", d)
		}
	}
	for name, v := range map[string]int{"workers": cfg.Workers, "workersPerSystem": cfg.WorkersPerSystem, "maxAttempts": cfg.MaxAttempts} {
		if v < 0 {
			bad("%s: must not be negative", name)
		}
	}
	for name, v := range map[string]Duration{"baseBackoff": cfg.BaseBackoff, "maxBackoff": cfg.MaxBackoff, "breakerOpenFor": cfg.BreakerOpenFor,
		"jobLease": cfg.JobLease, "reconcileEvery": cfg.ReconcileEvery} {
		if v < 0 {
			bad("%s: must not be negative", name)
		}
	}
	checkRetention(cfg, bad)
	if p := pushSettleProblem(cfg); p != "" {
		bad("%s", p)
	}
	if cfg.CalendarFile != "" {
		if _, err := os.Stat(cfg.CalendarFile); err != nil {
			bad("calendarFile: %v", err)
		}
	}
	if cc := cfg.Console; cc != nil {
		if accounts, err := cc.accounts(); err != nil {
			bad("%v", err)
		} else if len(accounts) == 0 && cfg.JWT == nil {
			warn("console: 没有账户，也没有 jwt，无人能登录 / no accounts and no jwt: nobody can sign in (onething console adduser makes an entry)")
		}
	}
	sort.Strings(problems)
	sort.Strings(warnings)
	if len(problems) > 0 {
		return problems, warnings
	}
	// Assemble every part on a store that is never opened: secrets,
	// signing keys and the calendar are checked as `serve` checks them.
	done := make(chan error, 1)
	go func() {
		_, err := Assemble(cfg, inertStore{}, slog.New(slog.DiscardHandler))
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			problems = append(problems, err.Error())
		}
	case <-time.After(15 * time.Second):
		problems = append(problems, "assembling the gateway did not finish within 15s")
	}
	return problems, warnings
}

func absoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && u.Host != ""
}

// httpURL says whether s is an absolute http:// or https:// URL with a host.
func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && strings.HasPrefix(strings.ToLower(s), u.Scheme+"://")
}

// mentions says whether a problem starts with the prefix (a setting path).
func mentions(problems []string, prefix string) bool {
	for _, p := range problems {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

// inertStore stands in for the store while a configuration is checked;
// nothing may call it.
type inertStore struct{ store.Store }

func (inertStore) Ping(context.Context) error { return errors.New("not opened: configuration check") }
func (inertStore) Close() error               { return nil }

// durationProblems checks every duration setting of the document against
// Duration's rules before the strict decode, so that a bad one is named
// by its path ("departments.cdpf.timeout: …"), which the decoder's error
// would not do. t is the struct the node decodes into.
func durationProblems(t reflect.Type, node any, path string, errs *[]error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	durationType := reflect.TypeFor[Duration]()
	switch t.Kind() {
	case reflect.Struct:
		m, ok := node.(map[string]any)
		if !ok {
			return
		}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Anonymous && name == "" {
				// An embedded struct's fields are the node's own
				// (countyDepartments' DeptLink).
				durationProblems(f.Type, node, path, errs)
				continue
			}
			if name == "" || name == "-" {
				continue
			}
			v, ok := m[name]
			if !ok {
				continue
			}
			key := name
			if path != "" {
				key = path + "." + name
			}
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft == durationType {
				if v == nil {
					continue
				}
				b, err := json.Marshal(v)
				if err != nil {
					continue
				}
				var d Duration
				if err := d.UnmarshalJSON(b); err != nil {
					*errs = append(*errs, fmt.Errorf("%s: %w", key, err))
				}
				continue
			}
			durationProblems(ft, v, key, errs)
		}
	case reflect.Map:
		if m, ok := node.(map[string]any); ok {
			for _, k := range slices.Sorted(maps.Keys(m)) { // a stable report
				durationProblems(t.Elem(), m[k], path+"."+k, errs)
			}
		}
	case reflect.Slice:
		if l, ok := node.([]any); ok {
			for i, v := range l {
				durationProblems(t.Elem(), v, path+"."+strconv.Itoa(i), errs)
			}
		}
	}
}
