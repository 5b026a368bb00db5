//go:build linux

package opstest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"onething/gateway/proctest"
	"onething/gateway/service"
)

// Every configuration deploy/ ships passes `onething config check` as an
// operator runs it, beside secrets made by `onething secrets init`: the
// YAML and JSON samples, the docker-compose replicas' configuration (the
// template as `onething mocks` completes it) and the Kubernetes ConfigMap's
// (with the Deployment's environment). That the JSON sample is the YAML's
// twin is TestSampleWithInitSecretsPasses (gateway/service).
func TestEveryDeploySamplePassesConfigCheck(t *testing.T) {
	bin := build(t)
	dir := t.TempDir()
	baseEnv := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()} // no ONETHING_* of the caller's
	run := func(env []string, args ...string) (int, string) {
		t.Helper()
		return runIn(t, bin, dir, append(append([]string{}, baseEnv...), env...), args...)
	}
	secretsDir := filepath.Join(dir, "secrets")
	if code, out := run(nil, "secrets", "init", secretsDir); code != 0 {
		t.Fatalf("onething secrets init: exit %d\n%s", code, out)
	}
	check := func(name string, env []string, path string) {
		t.Helper()
		code, out := run(env, "config", "check", "--quiet", path)
		if code != 0 || !strings.Contains(out, "configuration is valid") {
			t.Errorf("%s: onething config check exit %d\n%s", name, code, out)
		}
	}

	for _, name := range []string{"onething.example.yaml", "onething.example.json"} {
		data, err := os.ReadFile(filepath.Join(root, "deploy", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		check(name, nil, filepath.Join(dir, name))
	}

	// docker-compose: the replicas read the template the mocks complete
	// with their addresses and secrets; the volume's secrets are here.
	compose := docs(t, filepath.Join(root, "deploy/docker-compose.yml"))[0]
	tmpl, err := composeInterpolate(str(get(compose, "configs.gateway-template.content")))
	if err != nil {
		t.Fatal(err)
	}
	const onVolume = "/home/nonroot/secrets/"
	if !strings.Contains(tmpl, onVolume) {
		t.Fatalf("the compose template reads no secret from %s", onVolume)
	}
	tmplPath, completed := filepath.Join(dir, "gateway.template.json"), filepath.Join(dir, "gateway.json")
	if err := os.WriteFile(tmplPath, []byte(strings.ReplaceAll(tmpl, onVolume, secretsDir+"/")), 0o644); err != nil {
		t.Fatal(err)
	}
	mp := proctest.Start(t, dir, "mocks", nil, "mocks", "--config-template", tmplPath, "--config-out", completed)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(completed); err == nil {
			break
		}
		if !mp.Alive() || time.Now().After(deadline) {
			t.Fatalf("the mocks did not complete the compose template: %s", mp.Tail(20))
		}
	}
	check("docker-compose (gateway.json)", nil, completed)

	// Kubernetes: the ConfigMap's configuration with the Secret's files
	// where the pod mounts them and the Deployment's environment.
	sec := docs(t, filepath.Join(secretsDir, service.SecretsManifest))[0]
	values, _ := sec["stringData"].(obj)
	text, env := kubernetesConfig(t, manifests(t), values, secretsDir)
	k8sPath := filepath.Join(dir, "k8s-onething.yaml")
	if err := os.WriteFile(k8sPath, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	check("deploy/k8s ConfigMap", env, k8sPath)
}

// runIn runs the onething binary in dir with exactly env and returns its
// exit code and its output (stdout and stderr together).
func runIn(t *testing.T, bin, dir string, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Env = dir, env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), out.String()
	}
	t.Fatal(err)
	return -1, ""
}
