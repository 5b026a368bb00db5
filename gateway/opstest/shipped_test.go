package opstest

// The deploy files work as shipped: every Kubernetes manifest decodes
// strictly into its API type (a misspelt or misplaced field is an error,
// as kubectl's strict validation makes it), images are pinned, the
// Ingress has TLS, the NetworkPolicies admit and allow what the gateway
// needs and no more, Redis refuses writes before its container is killed,
// the preStop and the image's HEALTHCHECK are commands the binary takes,
// and the Dockerfile builds from mirrors where the defaults are out of
// reach.

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

// typed is every object of deploy/k8s, decoded strictly into its API type.
type typed struct {
	deployments  map[string]*appsv1.Deployment
	statefulSets map[string]*appsv1.StatefulSet
	services     map[string]*corev1.Service
	configMaps   map[string]*corev1.ConfigMap
	ingresses    map[string]*networkingv1.Ingress
	policies     map[string]*networkingv1.NetworkPolicy
}

// rawDocs is each YAML document of a file.
func rawDocs(t *testing.T, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, part := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
		if strings.TrimSpace(regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAllString(part, "")) != "" {
			out = append(out, []byte(part))
		}
	}
	return out
}

// strictManifests decodes deploy/k8s: an unknown field, a duplicate key, a
// value of the wrong type or a kind this test does not know fails.
func strictManifests(t *testing.T) typed {
	t.Helper()
	k := typed{map[string]*appsv1.Deployment{}, map[string]*appsv1.StatefulSet{}, map[string]*corev1.Service{},
		map[string]*corev1.ConfigMap{}, map[string]*networkingv1.Ingress{}, map[string]*networkingv1.NetworkPolicy{}}
	files, _ := filepath.Glob(filepath.Join(root, "deploy/k8s/*.yaml"))
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		for _, doc := range rawDocs(t, f) {
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal(doc, &tm); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			var into any
			switch tm.APIVersion + " " + tm.Kind {
			case "v1 Namespace":
				into = &corev1.Namespace{}
			case "v1 ConfigMap":
				into = &corev1.ConfigMap{}
			case "v1 Service":
				into = &corev1.Service{}
			case "apps/v1 Deployment":
				into = &appsv1.Deployment{}
			case "apps/v1 StatefulSet":
				into = &appsv1.StatefulSet{}
			case "policy/v1 PodDisruptionBudget":
				into = &policyv1.PodDisruptionBudget{}
			case "autoscaling/v2 HorizontalPodAutoscaler":
				into = &autoscalingv2.HorizontalPodAutoscaler{}
			case "networking.k8s.io/v1 Ingress":
				into = &networkingv1.Ingress{}
			case "networking.k8s.io/v1 NetworkPolicy":
				into = &networkingv1.NetworkPolicy{}
			default:
				t.Errorf("%s: %s %s: a kind this test does not decode (add it)", f, tm.APIVersion, tm.Kind)
				continue
			}
			if err := yaml.UnmarshalStrict(doc, into); err != nil {
				t.Errorf("%s: %s does not decode strictly: %v", f, tm.Kind, err)
				continue
			}
			switch o := into.(type) {
			case *appsv1.Deployment:
				k.deployments[o.Name] = o
			case *appsv1.StatefulSet:
				k.statefulSets[o.Name] = o
			case *corev1.Service:
				k.services[o.Name] = o
			case *corev1.ConfigMap:
				k.configMaps[o.Name] = o
			case *networkingv1.Ingress:
				k.ingresses[o.Name] = o
			case *networkingv1.NetworkPolicy:
				k.policies[o.Name] = o
			}
		}
	}
	return k
}

func TestManifestsDecodeStrictly(t *testing.T) {
	k := strictManifests(t)
	if k.deployments["onething"] == nil || k.statefulSets["onething-redis"] == nil {
		t.Fatal("the gateway's Deployment or Redis' StatefulSet is missing")
	}
	// The test can fail: a field in the wrong place is refused.
	bad := []byte("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x}\nspec:\n  podSelector: {}\n  ingress:\n    - ports: [{port: 80}]\n      namespaceSelector: {}\n")
	if err := yaml.UnmarshalStrict(bad, &networkingv1.NetworkPolicy{}); err == nil {
		t.Error("a misplaced namespaceSelector decoded strictly")
	}
}

// imageTag is an image reference's tag and digest (either may be empty).
func imageTag(ref string) (tag, digest string) {
	ref, digest, _ = strings.Cut(ref, "@")
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		tag = ref[i+1:]
	}
	return tag, digest
}

func checkPinned(t *testing.T, where, ref string) {
	t.Helper()
	tag, digest := imageTag(ref)
	switch {
	case ref == "":
		t.Errorf("%s: an empty image", where)
	case tag == "latest":
		t.Errorf("%s: image %s floats on latest: pin a version", where, ref)
	case tag == "" && digest == "":
		t.Errorf("%s: image %s has no tag (that is latest): pin a version", where, ref)
	}
}

// composeDefault is Compose's ${NAME:-default} read with NAME unset.
var composeDefault = regexp.MustCompile(`\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]*)\}`)

// No image in deploy/ floats: every one names a tag (not latest) or a
// digest, the images Kubernetes pulls after kustomize's images: too.
func TestImagesPinned(t *testing.T) {
	k := strictManifests(t)
	var kust struct {
		Images []struct {
			Name    string `json:"name"`
			NewName string `json:"newName"`
			NewTag  string `json:"newTag"`
			Digest  string `json:"digest"`
		} `json:"images"`
	}
	kdata, err := os.ReadFile(filepath.Join(root, "deploy/k8s/kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(kdata, &kust); err != nil {
		t.Fatal(err)
	}
	overridden := map[string]bool{}
	for _, im := range kust.Images {
		overridden[im.Name] = true
		ref := im.NewName
		if ref == "" {
			ref = im.Name
		}
		if im.NewTag != "" {
			ref += ":" + im.NewTag
		}
		if im.Digest != "" {
			ref += "@" + im.Digest
		}
		checkPinned(t, "kustomization.yaml images: "+im.Name, ref)
	}
	seen := 0
	pods := map[string]corev1.PodSpec{}
	for n, d := range k.deployments {
		pods["Deployment/"+n] = d.Spec.Template.Spec
	}
	for n, s := range k.statefulSets {
		pods["StatefulSet/"+n] = s.Spec.Template.Spec
	}
	gatewayImages := map[string]bool{}
	for where, pod := range pods {
		for _, c := range append(slices.Clone(pod.InitContainers), pod.Containers...) {
			seen++
			checkPinned(t, where+" "+c.Name, c.Image)
			if where == "Deployment/onething" {
				name, _, _ := strings.Cut(c.Image, "@")
				if tag, _ := imageTag(name); tag != "" {
					name = strings.TrimSuffix(name, ":"+tag)
				}
				gatewayImages[name] = true
			}
		}
	}
	// The gateway's image is the one kustomization.yaml pins.
	for name := range gatewayImages {
		if !overridden[name] {
			t.Errorf("the gateway's image %s has no images: entry in kustomization.yaml", name)
		}
	}
	compose := docs(t, filepath.Join(root, "deploy/docker-compose.yml"))[0]
	for name, s := range compose["services"].(obj) {
		seen++
		ref := composeDefault.ReplaceAllString(str(get(s, "image")), "$1")
		if strings.Contains(ref, "$") {
			t.Errorf("docker-compose %s: image %q takes a variable without a default", name, str(get(s, "image")))
		}
		checkPinned(t, "docker-compose "+name, ref)
	}
	df := dockerfile(t)
	for _, from := range df.froms {
		seen++
		checkPinned(t, "Dockerfile FROM "+from.raw, from.image)
	}
	if seen < 8 {
		t.Errorf("only %d images checked", seen)
	}
	for ref, want := range map[string][2]string{
		"nginx": {"", ""}, "redis:latest": {"latest", ""}, "host:5000/x": {"", ""}, "host:5000/x:1.2": {"1.2", ""},
		"r.example/x@sha256:00": {"", "sha256:00"},
	} {
		if tag, digest := imageTag(ref); tag != want[0] || digest != want[1] {
			t.Errorf("imageTag(%q) = %q, %q", ref, tag, digest)
		}
	}
}

// The public name is served over TLS, on the host of the ConfigMap's
// baseUrl, and the console's path keeps one clerk on one pod.
func TestIngressTLS(t *testing.T) {
	k := strictManifests(t)
	if len(k.ingresses) == 0 {
		t.Fatal("no Ingress")
	}
	var cfg struct {
		BaseURL string `json:"baseUrl"`
	}
	if err := yaml.Unmarshal([]byte(k.configMaps["onething-config"].Data["onething.yaml"]), &cfg); err != nil {
		t.Fatal(err)
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || base.Scheme != "https" {
		t.Fatalf("the ConfigMap's baseUrl %q is not https", cfg.BaseURL)
	}
	paths := map[string]string{} // path: the Ingress serving it
	for name, ing := range k.ingresses {
		if ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName == "" {
			t.Errorf("Ingress %s: no ingressClassName", name)
		}
		tls := map[string]bool{}
		for _, tl := range ing.Spec.TLS {
			if tl.SecretName == "" {
				t.Errorf("Ingress %s: a tls entry without secretName", name)
			}
			for _, h := range tl.Hosts {
				tls[h] = true
			}
		}
		if len(ing.Spec.Rules) == 0 {
			t.Errorf("Ingress %s: no rules", name)
		}
		for _, r := range ing.Spec.Rules {
			if r.Host != base.Hostname() {
				t.Errorf("Ingress %s: host %q, but the ConfigMap's baseUrl is %s", name, r.Host, cfg.BaseURL)
			}
			if !tls[r.Host] {
				t.Errorf("Ingress %s: host %q is served without TLS", name, r.Host)
			}
			if r.HTTP == nil {
				continue
			}
			for _, p := range r.HTTP.Paths {
				paths[p.Path] = name
				svc := k.services[p.Backend.Service.Name]
				if p.Backend.Service == nil || svc == nil {
					t.Errorf("Ingress %s %s: the backend is not a Service of deploy/k8s", name, p.Path)
					continue
				}
				ok := false
				for _, sp := range svc.Spec.Ports {
					ok = ok || (p.Backend.Service.Port.Name != "" && sp.Name == p.Backend.Service.Port.Name) || (p.Backend.Service.Port.Number != 0 && sp.Port == p.Backend.Service.Port.Number)
				}
				if !ok {
					t.Errorf("Ingress %s %s: Service %s has no port %+v", name, p.Path, svc.Name, p.Backend.Service.Port)
				}
			}
		}
	}
	if paths["/"] == "" || paths["/console/"] == "" {
		t.Fatalf("the Ingresses route %v: want / and /console/", paths)
	}
	// The controller sends to the pods, not through the Service's ClientIP
	// affinity: the console's Ingress pins a clerk with a cookie.
	console := k.ingresses[paths["/console/"]]
	if console.Annotations["nginx.ingress.kubernetes.io/affinity"] != "cookie" {
		t.Errorf("Ingress %s serves /console/ without cookie affinity: %v", console.Name, console.Annotations)
	}
	if k.ingresses[paths["/"]].Annotations["nginx.ingress.kubernetes.io/affinity"] != "" {
		t.Error("the API's Ingress should not pin callers to a pod")
	}
}

// selects reports whether a label selector selects a pod template's labels.
func selects(t *testing.T, sel metav1.LabelSelector, podLabels map[string]string) bool {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(&sel)
	if err != nil {
		t.Fatal(err)
	}
	return !s.Empty() && s.Matches(labels.Set(podLabels))
}

func hasPort(ports []networkingv1.NetworkPolicyPort, port int, proto corev1.Protocol) bool {
	for _, p := range ports {
		pr := corev1.ProtocolTCP
		if p.Protocol != nil {
			pr = *p.Protocol
		}
		if pr == proto && p.Port != nil && p.Port.IntValue() == port && p.EndPort == nil {
			return true
		}
	}
	return false
}

// Only the ingress controller and Prometheus reach the gateway's pods; the
// pods reach DNS, Redis, the departments and the portal; Redis admits only
// the gateway's pods.
func TestNetworkPolicies(t *testing.T) {
	k := strictManifests(t)
	gwLabels := k.deployments["onething"].Spec.Template.Labels
	redisLabels := k.statefulSets["onething-redis"].Spec.Template.Labels
	var gw, redis *networkingv1.NetworkPolicy
	for _, p := range k.policies {
		if selects(t, p.Spec.PodSelector, gwLabels) {
			gw = p
		}
		if selects(t, p.Spec.PodSelector, redisLabels) {
			redis = p
		}
		for _, r := range p.Spec.Ingress {
			if len(r.From) == 0 || len(r.Ports) == 0 {
				t.Errorf("NetworkPolicy %s: an ingress rule without from or ports admits too much", p.Name)
			}
		}
		for _, r := range p.Spec.Egress {
			if len(r.To) == 0 && !hasPort(r.Ports, 53, corev1.ProtocolUDP) {
				t.Errorf("NetworkPolicy %s: an egress rule without to (anywhere) that is not DNS", p.Name)
			}
			if len(r.Ports) == 0 {
				t.Errorf("NetworkPolicy %s: an egress rule without ports", p.Name)
			}
		}
	}
	if gw == nil || redis == nil {
		t.Fatalf("NetworkPolicies must select the gateway's pods (%v) and Redis' (%v)", gwLabels, redisLabels)
	}
	if !slices.Contains(gw.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) || !slices.Contains(gw.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) {
		t.Errorf("NetworkPolicy %s: policyTypes %v, want Ingress and Egress", gw.Name, gw.Spec.PolicyTypes)
	}

	// In: from other namespaces only (the controller's, Prometheus'), on
	// the gateway's port; never an address range or this namespace's pods.
	httpPort := 0
	for _, p := range k.deployments["onething"].Spec.Template.Spec.Containers[0].Ports {
		if p.Name == "http" {
			httpPort = int(p.ContainerPort)
		}
	}
	namespaces := map[string]bool{}
	for _, r := range gw.Spec.Ingress {
		if !hasPort(r.Ports, httpPort, corev1.ProtocolTCP) || len(r.Ports) != 1 {
			t.Errorf("NetworkPolicy %s: admits ports %v, want only the gateway's %d", gw.Name, r.Ports, httpPort)
		}
		for _, peer := range r.From {
			if peer.IPBlock != nil || peer.NamespaceSelector == nil {
				t.Errorf("NetworkPolicy %s: admits %+v: only the ingress controller's and Prometheus' namespaces may reach the gateway", gw.Name, peer)
				continue
			}
			ns := peer.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]
			if ns == "" {
				t.Errorf("NetworkPolicy %s: a namespaceSelector %v that does not name one namespace", gw.Name, peer.NamespaceSelector)
			}
			namespaces[ns] = true
			if peer.PodSelector != nil && peer.PodSelector.MatchLabels["app.kubernetes.io/name"] == "prometheus" {
				namespaces["prometheus"] = true
			}
		}
	}
	if len(namespaces) != 3 || !namespaces["prometheus"] {
		t.Errorf("NetworkPolicy %s admits %v: want the ingress controller's namespace and Prometheus' pods", gw.Name, namespaces)
	}

	// Out: DNS, Redis, the departments and the portal.
	redisPort := int(k.statefulSets["onething-redis"].Spec.Template.Spec.Containers[0].Ports[0].ContainerPort)
	var dns, toRedis bool
	ipBlocks := 0
	for _, r := range gw.Spec.Egress {
		switch {
		case hasPort(r.Ports, 53, corev1.ProtocolUDP) && hasPort(r.Ports, 53, corev1.ProtocolTCP):
			dns = true
		case hasPort(r.Ports, redisPort, corev1.ProtocolTCP):
			for _, peer := range r.To {
				toRedis = toRedis || (peer.PodSelector != nil && peer.NamespaceSelector == nil && selects(t, *peer.PodSelector, redisLabels))
			}
		case hasPort(r.Ports, 443, corev1.ProtocolTCP):
			for _, peer := range r.To {
				if peer.IPBlock == nil || peer.IPBlock.CIDR == "0.0.0.0/0" {
					t.Errorf("NetworkPolicy %s: egress to %+v: name the departments' and the portal's addresses", gw.Name, peer)
				} else {
					ipBlocks++
				}
			}
		default:
			t.Errorf("NetworkPolicy %s: an egress rule for %v the gateway does not need", gw.Name, r.Ports)
		}
	}
	var cfg struct {
		Departments map[string]any `json:"departments"`
	}
	if err := yaml.Unmarshal([]byte(k.configMaps["onething-config"].Data["onething.yaml"]), &cfg); err != nil {
		t.Fatal(err)
	}
	if !dns || !toRedis || ipBlocks < len(cfg.Departments)+1 {
		t.Errorf("NetworkPolicy %s egress: DNS %v, Redis %v, %d address blocks for %d departments and the portal",
			gw.Name, dns, toRedis, ipBlocks, len(cfg.Departments))
	}

	// Redis: the gateway's pods (their init container too), its port, no one else.
	if !slices.Contains(redis.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) || len(redis.Spec.Ingress) == 0 {
		t.Fatalf("NetworkPolicy %s does not restrict who reaches Redis", redis.Name)
	}
	for _, r := range redis.Spec.Ingress {
		if !hasPort(r.Ports, redisPort, corev1.ProtocolTCP) || len(r.Ports) != 1 {
			t.Errorf("NetworkPolicy %s: admits ports %v, want %d", redis.Name, r.Ports, redisPort)
		}
		for _, peer := range r.From {
			if peer.PodSelector == nil || peer.NamespaceSelector != nil || peer.IPBlock != nil || !selects(t, *peer.PodSelector, gwLabels) ||
				selects(t, *peer.PodSelector, redisLabels) {
				t.Errorf("NetworkPolicy %s: admits %+v, want only the gateway's pods", redis.Name, peer)
			}
		}
	}
}

// redisDirectives reads a redis.conf's directives (the last one wins).
func redisDirectives(text string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, _ := strings.Cut(line, " ")
		out[strings.ToLower(name)] = strings.Trim(strings.TrimSpace(value), `"`)
	}
	return out
}

// redisBytes reads Redis' memory units (1k = 1000, 1kb = 1024 …).
func redisBytes(t *testing.T, s string) int64 {
	t.Helper()
	m := regexp.MustCompile(`(?i)^(\d+)(k|kb|m|mb|g|gb)?$`).FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		t.Fatalf("not a Redis memory size: %q", s)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	mult := map[string]int64{"": 1, "k": 1e3, "kb": 1 << 10, "m": 1e6, "mb": 1 << 20, "g": 1e9, "gb": 1 << 30}[strings.ToLower(m[2])]
	return n * mult
}

// Redis refuses writes at maxmemory (noeviction: nothing acknowledged is
// evicted) before the container reaches its memory limit (where the
// kernel would kill it), in Kubernetes and in docker-compose alike, and
// the two configurations agree.
func TestRedisMemory(t *testing.T) {
	k := strictManifests(t)
	shipped, err := os.ReadFile(filepath.Join(root, "deploy/redis.conf"))
	if err != nil {
		t.Fatal(err)
	}
	file, cm := redisDirectives(string(shipped)), redisDirectives(k.configMaps["onething-redis"].Data["redis.conf"])
	for _, d := range []string{"maxmemory", "maxmemory-policy", "appendonly", "appendfsync"} {
		if file[d] != cm[d] {
			t.Errorf("%s: deploy/redis.conf says %q, deploy/k8s/redis.yaml %q", d, file[d], cm[d])
		}
	}
	if cm["maxmemory-policy"] != "noeviction" {
		t.Errorf("maxmemory-policy %q: an evicted key is a lost application or a duplicate let in", cm["maxmemory-policy"])
	}
	maxmemory := redisBytes(t, cm["maxmemory"])
	if maxmemory == 0 {
		t.Fatal("maxmemory 0: Redis grows until the kernel kills it")
	}
	c := k.statefulSets["onething-redis"].Spec.Template.Spec.Containers[0]
	limit, ok := c.Resources.Limits[corev1.ResourceMemory]
	if !ok {
		t.Fatal("Redis has no memory limit")
	}
	if maxmemory >= limit.Value() {
		t.Errorf("Redis' maxmemory %s (%d bytes) is not below its memory limit %s", cm["maxmemory"], maxmemory, limit.String())
	}
	// docker-compose: mem_limit in Compose's units (b, k, m, g: powers of 1024).
	compose := docs(t, filepath.Join(root, "deploy/docker-compose.yml"))[0]
	ml := strings.ToLower(str(get(compose, "services.redis.mem_limit")))
	m := regexp.MustCompile(`^(\d+)([bkmg]?)$`).FindStringSubmatch(ml)
	if m == nil {
		t.Fatalf("docker-compose redis: mem_limit %q", ml)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	n <<= map[string]int{"": 0, "b": 0, "k": 10, "m": 20, "g": 30}[m[2]]
	if redisBytes(t, file["maxmemory"]) >= n {
		t.Errorf("docker-compose redis: maxmemory %s is not below mem_limit %s", file["maxmemory"], ml)
	}
	if q := resource.MustParse("8Gi"); q.Value() != 8<<30 || redisBytes(t, "6gb") != 6<<30 || redisBytes(t, "6g") != 6e9 {
		t.Error("unit parsing")
	}
}

// dockerInstr is one instruction of a Dockerfile.
type dockerInstr struct{ op, args string }

type dockerFrom struct{ raw, image, stage string }

type dockerfileInfo struct {
	instrs []dockerInstr
	// globalArgs are the ARGs before the first FROM (usable in FROM), with
	// their defaults.
	globalArgs map[string]string
	froms      []dockerFrom
	// final is the last stage's instructions.
	final []dockerInstr
}

// dockerfile parses deploy/Dockerfile: comments dropped, continuation
// lines joined, FROM images resolved with the ARG defaults.
func dockerfile(t *testing.T) dockerfileInfo {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "deploy/Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var d dockerfileInfo
	d.globalArgs = map[string]string{}
	cur := ""
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			cur += strings.TrimSuffix(line, `\`) + " "
			continue
		}
		cur += line
		if f := strings.Fields(cur); len(f) > 0 {
			d.instrs = append(d.instrs, dockerInstr{strings.ToUpper(f[0]), strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(cur), f[0]))})
		}
		cur = ""
	}
	var argRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)
	for _, in := range d.instrs {
		switch in.op {
		case "ARG":
			if len(d.froms) == 0 {
				name, def, _ := strings.Cut(in.args, "=")
				d.globalArgs[name] = def
			}
		case "FROM":
			f := strings.Fields(in.args)
			from := dockerFrom{raw: f[0]}
			from.image = argRef.ReplaceAllStringFunc(f[0], func(m string) string { return d.globalArgs[argRef.FindStringSubmatch(m)[1]] })
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				from.stage = f[2]
			}
			d.froms = append(d.froms, from)
			d.final = nil
			continue
		}
		d.final = append(d.final, in)
	}
	return d
}

// The image builds from mirrors (the base images and the Go module proxy
// are build arguments), its /data belongs to the user it runs as, and its
// HEALTHCHECK is `onething health` in exec form, which the binary takes.
func TestDockerfileShipped(t *testing.T) {
	d := dockerfile(t)
	if len(d.froms) < 2 {
		t.Fatalf("not a multi-stage build: %v", d.froms)
	}
	for _, f := range d.froms {
		if !strings.HasPrefix(f.raw, "$") {
			t.Errorf("FROM %s: name the image with an ARG before the first FROM, so a mirror can replace it", f.raw)
		}
		if f.image == "" {
			t.Errorf("FROM %s: the ARG has no default", f.raw)
		}
	}
	// The build stage takes the Go module proxy and checksum database.
	buildArgs := map[string]bool{}
	stage := 0
	for _, in := range d.instrs {
		if in.op == "FROM" {
			stage++
		}
		if in.op == "ARG" && stage == 1 {
			name, _, _ := strings.Cut(in.args, "=")
			buildArgs[name] = true
		}
	}
	for _, want := range []string{"GOPROXY", "GOSUMDB"} {
		if !buildArgs[want] {
			t.Errorf("the build stage has no ARG %s", want)
		}
	}
	// Every build argument docker-compose passes is one the Dockerfile takes.
	compose := docs(t, filepath.Join(root, "deploy/docker-compose.yml"))[0]
	for _, a := range get(compose, "services.secrets.build.args").([]any) {
		name, _, _ := strings.Cut(str(a), "=")
		if _, global := d.globalArgs[name]; !global && !buildArgs[name] {
			t.Errorf("docker-compose passes --build-arg %s, which the Dockerfile does not take", name)
		}
	}

	// USER, /data and its owner in the final stage.
	var user, binary string
	var dataOwned, volume bool
	var health []string
	for _, in := range d.final {
		f := strings.Fields(in.args)
		switch in.op {
		case "USER":
			user = in.args
		case "COPY":
			chown := ""
			var rest []string
			for _, a := range f {
				if v, ok := strings.CutPrefix(a, "--chown="); ok {
					chown = v
				} else if !strings.HasPrefix(a, "--") {
					rest = append(rest, a)
				}
			}
			if dst := rest[len(rest)-1]; dst == "/data" || dst == "/data/" {
				dataOwned = chown == "65532:65532"
			} else if filepath.Base(dst) == "onething" {
				binary = dst
			}
		case "VOLUME":
			volume = strings.Contains(in.args, `"/data"`) || in.args == "/data"
		case "HEALTHCHECK":
			i := strings.Index(in.args, "CMD ")
			if i < 0 {
				t.Fatalf("HEALTHCHECK %s has no CMD", in.args)
			}
			if err := yaml.Unmarshal([]byte(in.args[i+4:]), &health); err != nil || len(health) == 0 {
				t.Errorf("HEALTHCHECK CMD %s: use the exec form (a JSON array): the image has no shell", in.args[i+4:])
			}
		}
	}
	if user != "65532:65532" {
		t.Errorf("final USER %q, want 65532:65532 (distroless nonroot)", user)
	}
	if !volume || !dataOwned {
		t.Errorf("VOLUME /data %v, /data copied in owned by 65532:65532 %v: a volume over a path the image lacks is root's", volume, dataOwned)
	}
	if binary == "" {
		t.Fatal("the final stage copies no onething binary")
	}
	if len(health) < 2 || health[0] != binary || health[1] != "health" {
		t.Fatalf("HEALTHCHECK runs %q, want %s health …", health, binary)
	}
	// The binary takes those arguments: against a live gateway (the URL
	// replaced by a test server's) it exits 0.
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer gw.Close()
	args := slices.Clone(health[1:])
	for i, a := range args {
		if strings.HasPrefix(a, "http://") {
			u, _ := url.Parse(a)
			if exposed := d.finalExpose(); u.Port() != exposed {
				t.Errorf("HEALTHCHECK asks port %s, the image exposes %s", u.Port(), exposed)
			}
			args[i] = gw.URL
		}
	}
	bin := build(t)
	if code, out := runIn(t, bin, t.TempDir(), []string{"PATH=" + os.Getenv("PATH")}, args...); code != 0 {
		t.Errorf("onething %q: exit %d\n%s", args, code, out)
	}
	// The services of docker-compose that run the image without serving
	// turn its health check off; the gateways keep it.
	for name, s := range compose["services"].(obj) {
		if !strings.HasPrefix(str(get(s, "image")), "onething:") {
			continue
		}
		cmd, _ := get(s, "command").([]any)
		serves := len(cmd) > 0 && cmd[0] == "serve"
		if off := get(s, "healthcheck.disable") == true; off == serves {
			t.Errorf("docker-compose %s: health check disabled %v, but it serves %v", name, off, serves)
		}
	}
}

func (d dockerfileInfo) finalExpose() string {
	for _, in := range d.final {
		if in.op == "EXPOSE" {
			return strings.Fields(in.args)[0]
		}
	}
	return ""
}

// The preStop is an exec of the image's binary with a subcommand the
// binary accepts (run here with the same arguments and a short wait), and
// its wait with shutdownGrace fits in terminationGracePeriodSeconds.
func TestPreStop(t *testing.T) {
	k := strictManifests(t)
	dep := k.deployments["onething"]
	pod := dep.Spec.Template.Spec
	gw := pod.Containers[0]
	if gw.Lifecycle == nil || gw.Lifecycle.PreStop == nil {
		t.Fatal("no preStop: the endpoints must drop the pod before it stops listening")
	}
	h := gw.Lifecycle.PreStop
	if h.Sleep != nil || h.HTTPGet != nil || h.TCPSocket != nil || h.Exec == nil {
		t.Fatalf("preStop %+v: want exec (the sleep action needs Kubernetes 1.29+)", h)
	}
	cmd := h.Exec.Command
	var binary string
	for _, in := range dockerfile(t).final {
		if f := strings.Fields(in.args); in.op == "COPY" && filepath.Base(f[len(f)-1]) == "onething" {
			binary = f[len(f)-1]
		}
	}
	if len(cmd) < 2 || cmd[0] != binary || cmd[1] == "sh" || strings.Contains(cmd[0], "sh") {
		t.Fatalf("preStop runs %q: want the image's %s (no shell in the image)", cmd, binary)
	}
	args := slices.Clone(cmd[1:])
	var wait time.Duration
	for i := range args {
		if args[i] == "--wait" && i+1 < len(args) {
			var err error
			if wait, err = time.ParseDuration(args[i+1]); err != nil {
				t.Fatalf("preStop --wait %q: %v", args[i+1], err)
			}
			args[i+1] = "10ms"
		}
	}
	if wait <= 0 {
		t.Fatalf("preStop %q: no --wait above 0", cmd)
	}
	bin := build(t)
	if code, out := runIn(t, bin, t.TempDir(), []string{"PATH=" + os.Getenv("PATH")}, args...); code != 0 {
		t.Errorf("onething %q (the preStop, with a short wait): exit %d\n%s", args, code, out)
	}
	// The hook's time counts in the grace period: the wait, then serve's
	// shutdownGrace, with room for the HTTP drain.
	var cfg struct {
		ShutdownGrace string `json:"shutdownGrace"`
	}
	if err := yaml.Unmarshal([]byte(k.configMaps["onething-config"].Data["onething.yaml"]), &cfg); err != nil {
		t.Fatal(err)
	}
	grace, err := time.ParseDuration(cfg.ShutdownGrace)
	if err != nil {
		t.Fatalf("shutdownGrace %q: %v", cfg.ShutdownGrace, err)
	}
	period := time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second
	if wait+grace+10*time.Second > period {
		t.Errorf("preStop wait %s + shutdownGrace %s + 10s of HTTP drain exceed terminationGracePeriodSeconds %s", wait, grace, period)
	}
	// The ConfigMap's comment says the same numbers.
	note := fmt.Sprintf("terminationGracePeriodSeconds (%d", int(period.Seconds()))
	if !strings.Contains(k.configMaps["onething-config"].Data["onething.yaml"], note) {
		t.Errorf("the ConfigMap's comment on shutdownGrace does not say %s…)", note)
	}
}
