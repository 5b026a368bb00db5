package opstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	c "onething/contracts"
	"onething/gateway/devstack"
	"onething/gateway/proctest"
	"onething/gateway/seal"
	"onething/gateway/service"
	"onething/gateway/store/redistest"
)

// The deployments make the store before the replicas start: serve never
// creates one. Kubernetes runs `onething store init` in an init container
// with the gateway's own configuration, store and secrets; compose runs it
// as a service the replicas wait for.
func TestStoreInitStep(t *testing.T) {
	m := manifests(t)
	dep := m["Deployment/onething"]
	if dep == nil {
		t.Fatal("no Deployment/onething")
	}
	gw := get(dep, "spec.template.spec.containers.0").(obj)
	inits, _ := get(dep, "spec.template.spec.initContainers").([]any)
	var init obj
	for _, ic := range inits {
		args, _ := get(ic, "args").([]any)
		if len(args) >= 2 && args[0] == "store" && args[1] == "init" {
			init = ic.(obj)
		}
	}
	if init == nil {
		t.Fatalf("the Deployment has no init container running `onething store init`: %v", inits)
	}
	// The same configuration file, store and secrets as the gateway.
	gwArgs, _ := gw["args"].([]any)
	initArgs, _ := init["args"].([]any)
	if flag(gwArgs, "--config") == "" || flag(initArgs, "--config") != flag(gwArgs, "--config") {
		t.Errorf("store init reads %q, the gateway %q", flag(initArgs, "--config"), flag(gwArgs, "--config"))
	}
	if str(init["image"]) != str(gw["image"]) {
		t.Errorf("store init runs %s, the gateway %s", init["image"], gw["image"])
	}
	envOf := func(c obj) map[string]string {
		out := map[string]string{}
		for _, e := range c["env"].([]any) {
			out[str(get(e, "name"))] = str(get(e, "valueFrom.secretKeyRef.key")) + str(get(e, "value"))
		}
		return out
	}
	if ge, ie := envOf(gw), envOf(init); ge["ONETHING_STORE"] == "" || ie["ONETHING_STORE"] != ge["ONETHING_STORE"] {
		t.Errorf("store init's ONETHING_STORE %q, the gateway's %q", ie["ONETHING_STORE"], ge["ONETHING_STORE"])
	}
	mounts := func(c obj) map[string]string {
		out := map[string]string{}
		for _, vm := range c["volumeMounts"].([]any) {
			out[str(get(vm, "name"))] = str(get(vm, "mountPath"))
		}
		return out
	}
	for _, v := range []string{"config", "secrets"} {
		if mounts(init)[v] != mounts(gw)[v] {
			t.Errorf("store init mounts %s at %q, the gateway at %q", v, mounts(init)[v], mounts(gw)[v])
		}
	}
	sc := "securityContext."
	if get(init, sc+"allowPrivilegeEscalation") != false || get(init, sc+"readOnlyRootFilesystem") != true || get(init, "resources.limits.memory") == nil {
		t.Error("store init: allowPrivilegeEscalation false, readOnlyRootFilesystem true and limits, as the gateway")
	}

	d := docs(t, filepath.Join(root, "deploy/docker-compose.yml"))[0]
	services, _ := d["services"].(obj)
	initName := ""
	for name, s := range services {
		if cmd, _ := get(s, "command").([]any); len(cmd) >= 2 && cmd[0] == "store" && cmd[1] == "init" {
			initName = name
			if str(get(s, "depends_on.redis.condition")) != "service_healthy" || str(get(s, "depends_on.secrets.condition")) != "service_completed_successfully" {
				t.Errorf("compose %s must wait for Redis and the secrets", name)
			}
		}
	}
	if initName == "" {
		t.Fatal("compose has no `onething store init` service")
	}
	for name, s := range services {
		if cmd, _ := get(s, "command").([]any); len(cmd) > 0 && cmd[0] == "serve" {
			if str(get(s, "depends_on."+initName+".condition")) != "service_completed_successfully" {
				t.Errorf("compose %s does not wait for %s", name, initName)
			}
		}
	}
}

func flag(args []any, name string) string {
	for i, a := range args {
		if a == name && i+1 < len(args) {
			return str(args[i+1])
		}
		if s := str(a); strings.HasPrefix(s, name+"=") {
			return strings.TrimPrefix(s, name+"=")
		}
	}
	return ""
}

// A real `onething serve` on a store nobody made (a missing file, a
// zero-byte file, an empty Redis) exits at once with the command to run,
// and creates nothing; after the library's init (what `onething store
// init` runs) it serves. Before, a zero-byte file started as a new, empty
// store that answered 404 for every application and /readyz ready.
func TestServeNeedsAStoreMadeOnPurpose(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the gateway as a process")
	}
	bin := build(t)
	dir := t.TempDir()
	dp := seal.DevConfig()
	// Secrets that pass serve's secret policy: random, one per party.
	hexSecret := func() string {
		b := make([]byte, 32)
		rand.Read(b)
		return hex.EncodeToString(b)
	}
	cfgFor := func(name, storeURL string) (string, service.Config) {
		addr := proctest.FreeAddr(t)
		cfg := service.Config{Listen: addr, BaseURL: "http://" + addr, Store: storeURL, PortalSecrets: []string{devstack.NewSecret()},
			PortalPushURL: "http://127.0.0.1:9", PortalPushSecret: devstack.NewSecret(), Departments: map[c.Dept]service.Dept{}, DataProtection: &dp}
		for _, d := range c.Depts {
			cfg.Departments[d] = service.Dept{BaseURL: "http://127.0.0.1:9", AppKey: "onething-" + string(d), Secret: hexSecret(),
				EventSecrets: []string{devstack.NewSecret()}}
		}
		js, _ := json.Marshal(cfg)
		path := filepath.Join(dir, name+".json")
		if err := os.WriteFile(path, js, 0o600); err != nil {
			t.Fatal(err)
		}
		return path, cfg
	}
	refused := func(what, path string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, bin, "serve", "--config", path).CombinedOutput()
		if err == nil || ctx.Err() != nil {
			t.Errorf("%s: serve did not refuse (err %v): %s", what, err, out)
			return
		}
		if !strings.Contains(string(out), "onething store init") || strings.Contains(string(out), "gateway serving") {
			t.Errorf("%s: the refusal does not name `onething store init`:\n%s", what, out)
		}
	}
	missing := filepath.Join(dir, "missing.db")
	path, _ := cfgFor("missing", "bolt://"+missing)
	refused("a missing file", path)
	if _, err := os.Stat(missing); err == nil {
		t.Error("serve created the missing file")
	}
	empty := filepath.Join(dir, "empty.db")
	os.WriteFile(empty, nil, 0o600)
	path, cfg := cfgFor("empty", "bolt://"+empty)
	refused("a zero-byte file", path)
	if info, _ := os.Stat(empty); info.Size() != 0 {
		t.Error("serve wrote to the zero-byte file")
	}
	srv := redistest.Start(t)
	path, _ = cfgFor("redis", srv.URL())
	refused("an empty Redis", path)

	// Made on purpose (the library behind `onething store init`), it serves.
	os.Remove(empty)
	path, cfg = cfgFor("made", "bolt://"+empty)
	if _, err := service.InitStore(context.Background(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	gw := proctest.Start(t, dir, "gateway", nil, "serve", "--config", path)
	proctest.WaitHealthy(t, gw, "http://"+cfg.Listen+"/healthz")
}
