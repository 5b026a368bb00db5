package opstest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	c "onething/contracts"
	"onething/gateway/metrics"
	"onething/gateway/service"
)

const root = "../.."

type obj = map[string]any

// docs reads every YAML document of a file (separated by --- lines).
func docs(t *testing.T, path string) []obj {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []obj
	for _, part := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
		var m obj
		if err := yaml.Unmarshal([]byte(part), &m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if m != nil {
			out = append(out, m)
		}
	}
	return out
}

// get walks a path of keys and indexes ("spec.template.spec.containers.0").
func get(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case obj:
			v = x[k]
		case []any:
			i := 0
			for _, ch := range k {
				if ch < '0' || ch > '9' {
					return nil
				}
				i = i*10 + int(ch-'0')
			}
			if i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// manifests is every Kubernetes object in deploy/k8s by kind/name.
func manifests(t *testing.T) map[string]obj {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "deploy/k8s/*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	out := map[string]obj{}
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		for _, d := range docs(t, f) {
			kind, name := str(d["kind"]), str(get(d, "metadata.name"))
			if kind == "" || name == "" {
				t.Errorf("%s: a document without kind or metadata.name", f)
				continue
			}
			if d["apiVersion"] == nil {
				t.Errorf("%s: %s/%s has no apiVersion", f, kind, name)
			}
			out[kind+"/"+name] = d
		}
	}
	return out
}

func TestKubernetesManifests(t *testing.T) {
	m := manifests(t)
	for _, want := range []string{"Deployment/onething", "Service/onething", "PodDisruptionBudget/onething", "HorizontalPodAutoscaler/onething",
		"ConfigMap/onething-config", "StatefulSet/onething-redis"} {
		if m[want] == nil {
			t.Errorf("missing %s", want)
		}
	}
	// No secret value ships: the Secret is made by onething secrets init.
	for k := range m {
		if strings.HasPrefix(k, "Secret/") {
			t.Errorf("deploy/k8s holds %s: secrets are made by onething secrets init, never shipped", k)
		}
	}
	// kustomization.yaml lists every manifest file.
	kust := docs(t, filepath.Join(root, "deploy/k8s/kustomization.yaml"))
	listed := map[string]bool{}
	for _, r := range kust[0]["resources"].([]any) {
		listed[str(r)] = true
	}
	files, _ := filepath.Glob(filepath.Join(root, "deploy/k8s/*.yaml"))
	for _, f := range files {
		if b := filepath.Base(f); b != "kustomization.yaml" && !listed[b] {
			t.Errorf("kustomization.yaml does not list %s", b)
		}
	}

	dep := m["Deployment/onething"]
	if dep == nil {
		t.FailNow()
	}
	labels, _ := get(dep, "spec.selector.matchLabels").(obj)
	tmplLabels, _ := get(dep, "spec.template.metadata.labels").(obj)
	if len(labels) == 0 || !subset(labels, tmplLabels) {
		t.Errorf("the selector %v does not match the pod labels %v", labels, tmplLabels)
	}
	pod := get(dep, "spec.template.spec").(obj)
	if get(pod, "securityContext.runAsNonRoot") != true {
		t.Error("pod: securityContext.runAsNonRoot is not true")
	}
	if uid, _ := get(pod, "securityContext.runAsUser").(float64); uid == 0 {
		t.Error("pod: runAsUser must be a non-zero uid")
	}
	if grace, _ := pod["terminationGracePeriodSeconds"].(float64); grace < 20 {
		t.Errorf("terminationGracePeriodSeconds %v leaves no time for the graceful shutdown", grace)
	}
	containers, _ := pod["containers"].([]any)
	if len(containers) == 0 {
		t.Fatal("no containers")
	}
	gw := containers[0].(obj)
	for _, probe := range []struct{ name, path string }{{"livenessProbe", "/healthz"}, {"readinessProbe", "/readyz"}, {"startupProbe", "/healthz"}} {
		if p := str(get(gw, probe.name+".httpGet.path")); p != probe.path {
			t.Errorf("%s: httpGet.path %q, want %s", probe.name, p, probe.path)
		}
	}
	for _, res := range []string{"limits.cpu", "limits.memory", "requests.cpu", "requests.memory"} {
		if get(gw, "resources."+res) == nil {
			t.Errorf("container: resources.%s not set", res)
		}
	}
	sc := "securityContext."
	if get(gw, sc+"allowPrivilegeEscalation") != false || get(gw, sc+"readOnlyRootFilesystem") != true {
		t.Error("container: allowPrivilegeEscalation must be false and readOnlyRootFilesystem true")
	}
	if drop, _ := get(gw, sc+"capabilities.drop").([]any); len(drop) != 1 || drop[0] != "ALL" {
		t.Errorf("container: capabilities.drop %v, want [ALL]", drop)
	}
	if get(gw, "lifecycle.preStop") == nil {
		t.Error("container: no preStop pause (the endpoints must drop the pod before it stops listening)")
	}
	args, _ := gw["args"].([]any)
	if len(args) < 3 || args[0] != "serve" {
		t.Errorf("container args %v, want serve --config …", args)
	}
	// Volumes come from the ConfigMap and the Secret the manifests define.
	for _, v := range pod["volumes"].([]any) {
		if cm := str(get(v, "configMap.name")); cm != "" && m["ConfigMap/"+cm] == nil {
			t.Errorf("volume from an undefined ConfigMap %s", cm)
		}
		if s := str(get(v, "secret.secretName")); s != "" && s != service.SecretsName {
			t.Errorf("volume from the Secret %s, not the %s onething secrets init makes", s, service.SecretsName)
		}
	}

	// A sticky Service for the console (its sessions live in each pod's
	// memory), selecting the gateway's pods.
	sticky := false
	for name, o := range m {
		if strings.HasPrefix(name, "Service/") && str(get(o, "spec.sessionAffinity")) == "ClientIP" {
			sel, _ := get(o, "spec.selector").(obj)
			sticky = sticky || (len(sel) > 0 && subset(sel, tmplLabels))
		}
	}
	if !sticky {
		t.Error("no Service with sessionAffinity ClientIP selects the gateway's pods: the console's sessions need one")
	}

	pdb := m["PodDisruptionBudget/onething"]
	if pdb != nil {
		if sel, _ := get(pdb, "spec.selector.matchLabels").(obj); !subset(sel, tmplLabels) || len(sel) == 0 {
			t.Errorf("the PodDisruptionBudget selects %v, not the gateway's pods", sel)
		}
		if get(pdb, "spec.minAvailable") == nil && get(pdb, "spec.maxUnavailable") == nil {
			t.Error("the PodDisruptionBudget sets neither minAvailable nor maxUnavailable")
		}
	}
	hpa := m["HorizontalPodAutoscaler/onething"]
	if hpa != nil {
		if str(get(hpa, "spec.scaleTargetRef.kind")) != "Deployment" || str(get(hpa, "spec.scaleTargetRef.name")) != "onething" {
			t.Error("the HorizontalPodAutoscaler does not target the gateway's Deployment")
		}
		minR, _ := get(hpa, "spec.minReplicas").(float64)
		maxR, _ := get(hpa, "spec.maxReplicas").(float64)
		if minR < 2 || maxR < minR {
			t.Errorf("HPA replicas %v..%v: keep at least 2 (the PodDisruptionBudget needs one up)", minR, maxR)
		}
		if get(hpa, "spec.metrics.0.resource.name") == nil {
			t.Error("the HorizontalPodAutoscaler has no resource metric")
		}
	}
	if rs := m["StatefulSet/onething-redis"]; rs != nil {
		conf := str(data(m["ConfigMap/onething-redis"])["redis.conf"])
		for _, line := range []string{"appendonly yes", "appendfsync always", "maxmemory-policy noeviction"} {
			if !strings.Contains(conf, line) {
				t.Errorf("Redis configuration lacks %q", line)
			}
		}
		if get(rs, "spec.template.spec.securityContext.runAsNonRoot") != true {
			t.Error("Redis: runAsNonRoot is not true")
		}
		if get(rs, "spec.template.spec.containers.0.resources.limits.memory") == nil {
			t.Error("Redis: no memory limit")
		}
	}
}

// data is a ConfigMap's data (its keys hold dots).
func data(cm obj) obj {
	d, _ := cm["data"].(obj)
	return d
}

func subset(a, b obj) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// initSecret runs onething secrets init and returns the Secret manifest it
// wrote, as an object.
func initSecret(t *testing.T) obj {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "secrets")
	if _, err := service.InitSecrets(dir, service.SecretsInitOptions{}); err != nil {
		t.Fatal(err)
	}
	d := docs(t, filepath.Join(dir, service.SecretsManifest))
	if len(d) != 1 || str(d[0]["kind"]) != "Secret" || str(get(d[0], "metadata.name")) != service.SecretsName {
		t.Fatalf("secrets init's manifest: %v", d)
	}
	return d[0]
}

// The ConfigMap's configuration, with the values of a Secret made by
// onething secrets init where the pod mounts them and ONETHING_STORE from
// the Secret as the Deployment sets it, loads and passes `onething config
// check`; every key the manifests take from the Secret is one it has.
func TestKubernetesConfigurationLoads(t *testing.T) {
	m := manifests(t)
	cm, sec, dep := m["ConfigMap/onething-config"], initSecret(t), m["Deployment/onething"]
	if cm == nil || dep == nil {
		t.Fatal("ConfigMap or Deployment missing")
	}
	if ns := str(get(sec, "metadata.namespace")); ns != str(docs(t, filepath.Join(root, "deploy/k8s/kustomization.yaml"))[0]["namespace"]) {
		t.Errorf("secrets init's Secret is in namespace %q, not the kustomization's", ns)
	}
	dir := t.TempDir()
	values, _ := sec["stringData"].(obj)
	// Every secretKeyRef of every manifest names a key of the Secret.
	for name, o := range m {
		var walk func(any)
		walk = func(v any) {
			switch x := v.(type) {
			case obj:
				if ref, ok := x["secretKeyRef"].(obj); ok {
					if str(ref["name"]) != service.SecretsName || values[str(ref["key"])] == nil {
						t.Errorf("%s takes %s/%s, which onething secrets init does not make", name, str(ref["name"]), str(ref["key"]))
					}
				}
				for _, c := range x {
					walk(c)
				}
			case []any:
				for _, c := range x {
					walk(c)
				}
			}
		}
		walk(o)
	}
	for k, v := range values {
		if err := os.WriteFile(filepath.Join(dir, k), []byte(str(v)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	text, env := kubernetesConfig(t, m, values, dir)
	l, err := service.LoadConfigBytes([]byte(text), dir, env)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(l.Config.Store, "redis://") {
		t.Errorf("the store %q should come from the Secret through ONETHING_STORE", l.Config.Store)
	}
	problems, warnings := service.Check(l.Config)
	if len(problems) > 0 {
		t.Errorf("config check: %q", problems)
	}
	t.Logf("warnings: %q", warnings)
	// The console is on, its accounts read from the Secret's file.
	if cc := l.Config.Console; cc == nil || cc.AccountsFile != filepath.Join(dir, service.ConsoleAccountsFile) || len(cc.Accounts) > 0 {
		t.Errorf("the ConfigMap does not turn the console on with its accounts from the Secret: %+v", l.Config.Console)
	}
	if g := time.Duration(l.Config.ShutdownGrace); g <= 0 {
		t.Error("shutdownGrace should be set within the pod's termination grace period")
	} else if grace, _ := get(dep, "spec.template.spec.terminationGracePeriodSeconds").(float64); g+15*time.Second > time.Duration(grace)*time.Second {
		t.Errorf("shutdownGrace %s plus the preStop pause and HTTP drain does not fit in terminationGracePeriodSeconds %v", g, grace)
	}
}

// kubernetesConfig is the ConfigMap's onething.yaml as the pod reads it,
// with the Secret's mount path turned into dir (where its files are), and
// the environment the Deployment gives the container (values: the Secret
// onething secrets init makes). Every file the configuration reads must be
// a key of that Secret.
func kubernetesConfig(t *testing.T, m map[string]obj, values obj, dir string) (string, []string) {
	t.Helper()
	cm, dep := m["ConfigMap/onething-config"], m["Deployment/onething"]
	if cm == nil || dep == nil {
		t.Fatal("ConfigMap or Deployment missing")
	}
	mount := ""
	for _, vm := range get(dep, "spec.template.spec.containers.0.volumeMounts").([]any) {
		if str(get(vm, "name")) == "secrets" {
			mount = str(get(vm, "mountPath"))
		}
	}
	if mount == "" {
		t.Fatal("the Secret is not mounted")
	}
	text := str(data(cm)["onething.yaml"])
	if text == "" {
		t.Fatal("the ConfigMap holds no onething.yaml")
	}
	for _, ref := range regexp.MustCompile(`\$\{file:([^}]+)\}|(?:keyFile|KeyFile|accountsFile): ([^}\s]+)`).FindAllStringSubmatch(text, -1) {
		p := ref[1] + ref[2]
		if !strings.HasPrefix(p, mount+"/") {
			t.Errorf("%s is not in the mounted Secret (%s)", p, mount)
		} else if values[strings.TrimPrefix(p, mount+"/")] == nil {
			t.Errorf("%s: the Secret has no such key", p)
		}
	}
	text = strings.ReplaceAll(text, mount+"/", dir+"/")
	var env []string
	for _, e := range get(dep, "spec.template.spec.containers.0.env").([]any) {
		name := str(get(e, "name"))
		if key := str(get(e, "valueFrom.secretKeyRef.key")); key != "" {
			env = append(env, name+"="+str(values[key]))
		} else if v := get(e, "value"); v != nil {
			env = append(env, name+"="+str(v))
		}
	}
	return text, env
}

func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(root, "deploy/Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var froms, users []string
	d := dockerfile(t) // FROM images with their ARG defaults
	for _, f := range d.froms {
		froms = append(froms, f.image)
	}
	for _, in := range d.instrs {
		if in.op == "USER" {
			users = append(users, in.args)
		}
	}
	if len(froms) < 2 {
		t.Errorf("not a multi-stage build: %v", froms)
	}
	if last := froms[len(froms)-1]; !strings.Contains(last, "distroless") && !strings.Contains(last, "scratch") && !strings.Contains(last, "alpine") {
		t.Errorf("final image %s is not a small base", last)
	}
	if len(users) == 0 {
		t.Fatal("no USER: the image would run as root")
	}
	if u := users[len(users)-1]; strings.HasPrefix(u, "root") || strings.HasPrefix(u, "0") {
		t.Errorf("final USER %s is root", u)
	}
	if !strings.Contains(string(data), "CGO_ENABLED=0") {
		t.Error("the binary should be static (CGO_ENABLED=0) for a distroless/static base")
	}
}

func TestDockerCompose(t *testing.T) {
	d := docs(t, filepath.Join(root, "deploy/docker-compose.yml"))[0]
	services, _ := d["services"].(obj)
	if services["redis"] == nil || services["mocks"] == nil {
		t.Fatal("compose lacks redis or mocks")
	}
	gateways := 0
	for _, s := range services {
		cmd, _ := get(s, "command").([]any)
		if len(cmd) > 0 && cmd[0] == "serve" {
			gateways++
		}
	}
	if gateways < 2 {
		t.Errorf("%d gateway replicas, want 2", gateways)
	}
	// The secrets come from a secrets init step on the shared volume,
	// before anything that reads them starts.
	cmd, _ := get(services["secrets"], "command").([]any)
	if len(cmd) < 3 || cmd[0] != "secrets" || cmd[1] != "init" {
		t.Fatalf("compose has no onething secrets init step: %v", cmd)
	}
	secretsDir := str(cmd[len(cmd)-1])
	for name, s := range services {
		if name == "secrets" || (name != "mocks" && !strings.HasPrefix(name, "gateway")) {
			continue
		}
		if str(get(s, "depends_on.secrets.condition")) != "service_completed_successfully" {
			t.Errorf("%s does not wait for the secrets init step", name)
		}
	}
	// The replicas' configuration template holds no secret: it reads every
	// one from the files secrets init makes, loads with them and passes the
	// secret policy; without them it does not load.
	tmpl, err := composeInterpolate(str(get(d, "configs.gateway-template.content")))
	if err != nil {
		t.Fatalf("compose gateway template: %v", err)
	}
	if _, err := service.LoadConfigBytes([]byte(tmpl), "", []string{}); err == nil {
		t.Error("compose gateway template loads without the secrets init files: it holds a secret")
	}
	dir := filepath.Join(t.TempDir(), "secrets")
	if _, err := service.InitSecrets(dir, service.SecretsInitOptions{}); err != nil {
		t.Fatal(err)
	}
	l, err := service.LoadConfigBytes([]byte(strings.ReplaceAll(tmpl, secretsDir+"/", dir+"/")), "", []string{})
	if err != nil {
		t.Fatalf("compose gateway template: %v", err)
	}
	if _, err := service.Keyring(l.Config); err != nil {
		t.Errorf("compose gateway template: %v", err)
	}
	for _, want := range []string{"portalSecrets.0", "readTokens.0.token", "adminTokens.0.token"} {
		if !slices.Contains(l.FromFiles, want) {
			t.Errorf("compose gateway template: %s is not read from a file (%q)", want, l.FromFiles)
		}
	}
	if problems := service.CheckSecrets(l.Config); len(problems) > 0 {
		t.Errorf("compose gateway template: %q", problems)
	}
	// The console is on, its accounts from the file secrets init starts.
	if cc := l.Config.Console; cc == nil || cc.AccountsFile != filepath.Join(dir, service.ConsoleAccountsFile) || cc.SessionKeyFile == "" {
		t.Errorf("compose gateway template: the console is not on with its accounts from secrets init's file: %+v", l.Config.Console)
	}
	// Sessions live in each replica's memory: the balancer sends one
	// client's /console/ to one replica, with the Host the browser sent
	// (the console compares a form's Origin with it).
	lb := str(get(d, "configs.lb.content"))
	console := regexp.MustCompile(`(?s)location /console/ \{[^}]*proxy_pass http://(\w+);[^}]*\}`).FindStringSubmatch(lb)
	if console == nil {
		t.Fatalf("the balancer has no location /console/:\n%s", lb)
	}
	if !regexp.MustCompile(`(?s)upstream ` + console[1] + ` \{\s*(ip_hash|hash [^;]+|sticky[^;]*);`).MatchString(lb) {
		t.Errorf("the balancer's /console/ upstream %s is not sticky:\n%s", console[1], lb)
	}
	if !strings.Contains(console[0], "Host $$http_host") {
		t.Errorf("the balancer's /console/ does not pass the Host with its port:\n%s", console[0])
	}
	conf, err := os.ReadFile(filepath.Join(root, "deploy/redis.conf"))
	if err != nil || !strings.Contains(string(conf), "appendonly yes") {
		t.Errorf("deploy/redis.conf should turn AOF on: %v", err)
	}
}

// exported is every metric name the gateway exports (histogram series
// included), with every vector touched once so that it shows.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	m := metrics.New(nil)
	m.WatchQueue(func(context.Context) (int, int, time.Time, error) { return 1, 0, time.Now(), nil })
	m.RegisterScanGauges(true)
	m.HTTP("POST", "/v1/portal/submissions", 202, time.Millisecond)
	m.HTTPStarted()()
	m.Dispatched(c.DeptCDPF, "accepted")
	m.DeadLettered(c.DeptCDPF)
	m.Pushed(true)
	m.Retried("cdpf", "dispatch")
	m.EventApplied(c.DeptCDPF, "posted", "applied", c.TaskApproved)
	m.ParkedPastDue(c.DeptCDPF)
	m.HandedBack(1)
	m.PutBack("cdpf", 1)
	m.BreakerState("cdpf", 0)
	m.CalendarGap(2030)
	m.SetScan(metrics.Scan{Tasks: map[c.Dept]map[c.TaskState]int{c.DeptCDPF: {c.TaskDispatched: 1}}, Overdue: map[c.Dept]int{}, DeadLetters: 0})
	metrics.NewHealth(m.Registry()).SetUnreadable(0)
	m.RegisterUnreplicatedWrites(func() float64 { return 0 })
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{"up": true}
	for _, mf := range mfs {
		n := mf.GetName()
		names[n] = true
		if mf.GetType().String() == "HISTOGRAM" || mf.GetType().String() == "SUMMARY" {
			names[n+"_bucket"], names[n+"_sum"], names[n+"_count"] = true, true, true
		}
	}
	return names
}

var (
	jobLabel = regexp.MustCompile(`\bjob\s*(=|!=|=~|!~)`)
	generic  = regexp.MustCompile(`\bup\b|\b(?:process|go)_[a-z0-9_]+\b`)
)

var metricName = regexp.MustCompile(`\b(?:onething|process|go)_[a-z0-9_]+\b|\bup\b`)

// checkExprs reports names in PromQL expressions the gateway does not export.
func checkExprs(t *testing.T, where string, exprs []string, names map[string]bool) {
	t.Helper()
	var unknown []string
	for _, e := range exprs {
		for _, n := range metricName.FindAllString(e, -1) {
			if !names[n] {
				unknown = append(unknown, n)
			}
		}
	}
	sort.Strings(unknown)
	if len(unknown) > 0 {
		t.Errorf("%s uses metrics the gateway does not export: %v", where, unknown)
	}
}

// Every metric follows the Prometheus conventions: the onething_ prefix,
// _total on counters only, base units.
func TestMetricNames(t *testing.T) {
	m := metrics.New(nil)
	m.WatchQueue(func(context.Context) (int, int, time.Time, error) { return 0, 0, time.Time{}, nil })
	m.RegisterScanGauges(true)
	m.Retried("cdpf", "dispatch")
	m.HTTP("GET", "/healthz", 200, time.Millisecond)
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		n, typ := mf.GetName(), mf.GetType().String()
		if strings.HasPrefix(n, "go_") || strings.HasPrefix(n, "process_") {
			continue
		}
		if !strings.HasPrefix(n, "onething_") {
			t.Errorf("%s lacks the onething_ prefix", n)
		}
		if (typ == "COUNTER") != strings.HasSuffix(n, "_total") {
			t.Errorf("%s is a %s: only counters end in _total", n, typ)
		}
		for _, bad := range []string{"_ms", "_millis", "_kb", "_mb"} {
			if strings.Contains(n, bad) {
				t.Errorf("%s: use base units (seconds, bytes)", n)
			}
		}
		if mf.GetHelp() == "" {
			t.Errorf("%s has no help", n)
		}
	}
}

func TestAlertRulesAndDashboard(t *testing.T) {
	names := exported(t)
	d := docs(t, filepath.Join(root, "deploy/prometheus/alerts.yaml"))[0]
	var exprs []string
	alerts := 0
	for _, g := range d["groups"].([]any) {
		if str(get(g, "name")) == "" {
			t.Error("a rule group without a name")
		}
		for _, r := range get(g, "rules").([]any) {
			alerts++
			name, expr := str(get(r, "alert")), str(get(r, "expr"))
			if name == "" || expr == "" {
				t.Errorf("rule %v: alert and expr are required", r)
			}
			if str(get(r, "labels.severity")) == "" || str(get(r, "annotations.summary")) == "" {
				t.Errorf("%s: needs labels.severity and annotations.summary", name)
			}
			exprs = append(exprs, expr)
		}
	}
	if alerts < 8 {
		t.Errorf("%d alerts", alerts)
	}
	checkExprs(t, "alerts.yaml", exprs, names)
	for _, e := range exprs {
		// The job label is the scrape configuration's to choose (an
		// annotation-based Kubernetes scrape names no "onething" job): a
		// series every target has (up, process_*, go_*) is scoped to the
		// gateway by joining on a series only the gateway exports.
		if jobLabel.MatchString(e) {
			t.Errorf("alert hard-codes a job: %s", e)
		}
		if generic.MatchString(e) && !strings.Contains(e, "on (job, instance)") {
			t.Errorf("alert on a generic series is not scoped to the gateway's targets: %s", e)
		}
	}
	for _, want := range []string{"onething_queue_oldest_ready_age_seconds", "onething_breaker_state", "onething_dead_letters", "onething_overdue_tasks", "onething_status_pushes_pending", "onething_calendar_next_year_missing", "onething_calendar_this_year_missing"} {
		if !strings.Contains(strings.Join(exprs, "\n"), want) {
			t.Errorf("no alert on %s", want)
		}
	}

	var dash obj
	data, err := os.ReadFile(filepath.Join(root, "deploy/grafana/onething-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &dash); err != nil {
		t.Fatal(err)
	}
	if str(dash["title"]) == "" || str(dash["uid"]) == "" {
		t.Error("the dashboard needs a title and a uid")
	}
	exprs = exprs[:0]
	ids := map[float64]bool{}
	for _, p := range dash["panels"].([]any) {
		id, _ := get(p, "id").(float64)
		if ids[id] {
			t.Errorf("panel id %v repeats", id)
		}
		ids[id] = true
		for _, tg := range get(p, "targets").([]any) {
			exprs = append(exprs, str(get(tg, "expr")))
		}
	}
	if len(exprs) < 10 {
		t.Errorf("%d queries on the dashboard", len(exprs))
	}
	checkExprs(t, "the dashboard", exprs, names)
}

// composeVar is Compose's variable syntax (compose-go's template pattern):
// $$ is a dollar, $NAME and ${NAME} (with :-, -, :?, ?, :+, + forms)
// are variables, any other $ is an invalid interpolation format.
var composeVar = regexp.MustCompile(`(?i)\$(?:(\$)|([_a-z][_a-z0-9]*)|\{([_a-z][_a-z0-9]*(?::?[-+?][^}]*)?)\}|)`)

// composeInterpolate is what Compose does to a config's inline content
// before the file is written: $$ becomes $; a variable is an error here
// (the template takes nothing from the environment), as is a $ Compose
// cannot read (a ${file:…} reference written without $$).
func composeInterpolate(s string) (string, error) {
	var bad error
	out := composeVar.ReplaceAllStringFunc(s, func(m string) string {
		sub := composeVar.FindStringSubmatch(m)
		switch {
		case sub[1] != "":
			return "$"
		case sub[2] != "" || sub[3] != "":
			bad = fmt.Errorf("compose would substitute the variable %q", m)
		default:
			bad = fmt.Errorf("invalid interpolation format near %q (write $$ for a $)", s[strings.Index(s, m):min(len(s), strings.Index(s, m)+20)])
		}
		return m
	})
	return out, bad
}
