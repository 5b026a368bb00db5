package service

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"

	c "onething/contracts"
	"onething/gateway/secrets"
)

// SecretsManifest is the Kubernetes Secret InitSecrets writes beside the
// files: onething-secrets, with one key per file and store-url, as
// deploy/k8s mounts it (the files at /run/secrets/onething, store-url
// and redis-password as environment variables).
const SecretsManifest = "onething-secrets.k8s.yaml"

// SecretsName is the name of the Kubernetes Secret.
const SecretsName = "onething-secrets"

// ConsoleAccountsFile is the console's accounts (bcrypt hashes): secrets
// init starts it empty, operators add the entries `onething console
// adduser` prints. It is no random secret, so --force keeps it.
const ConsoleAccountsFile = "console-accounts"

// SecretFile is one file `onething secrets init DIR` writes.
type SecretFile struct {
	// Name is the file's name in DIR and its key in the Kubernetes Secret.
	Name string
	// Setting is where deploy/onething.example.yaml reads it.
	Setting string
	// Holder says who else needs it, Chinese then English.
	Holder string
	make   func() string
}

// SecretFiles are the files InitSecrets writes, in order. Every name is a
// ${file:secrets/NAME} or keyFile of deploy/onething.example.yaml and a
// key of deploy/k8s's Secret.
func SecretFiles() []SecretFile {
	files := []SecretFile{
		{"portal-secret", "portalSecrets[0]", "门户：用它签名提交 / the portal: it signs its submissions with it", secrets.WebhookSecret},
		{"portal-push-secret", "portalPushSecret", "门户：用它验证状态推送 / the portal: it verifies the status pushes with it", secrets.WebhookSecret},
		{"read-token", "readTokens[0].token", "区办公室的客户端 / the district office's clients (read, guide)", secrets.Token},
		{"admin-token", "adminTokens[0].token", "运维人员 / the operators (/v1/admin)", secrets.Token},
		{"data-key-1", "dataProtection.keys[0].keyFile (aes-256-gcm)", "只有网关；务必备份，丢失即无法读取数据 / the gateway alone; back it up: what it sealed cannot be read without it", func() string { return secrets.Key(32) }},
		{"index-key-1", "dataProtection.indexKeys[0].keyFile (hmac-sha256)", "只有网关；务必备份 / the gateway alone; back it up (the ID-number index is made with it)", func() string { return secrets.Key(32) }},
	}
	for _, d := range c.Depts {
		files = append(files,
			SecretFile{string(d) + "-secret", "departments." + string(d) + ".secret", "部门 " + string(d) + "：用它验证网关的请求 / department " + string(d) + ": it checks the gateway's requests with it", secrets.Token},
			SecretFile{string(d) + "-event-secret", "departments." + string(d) + ".eventSecrets[0]", "部门 " + string(d) + "：用它签名回调事件 / department " + string(d) + ": it signs its events with it", secrets.WebhookSecret})
	}
	return append(files,
		SecretFile{"console-session-key", "console.sessionKeyFile", "只有网关（窗口控制台的会话）/ the gateway alone (the window console's sessions)", secrets.Token},
		SecretFile{ConsoleAccountsFile, "console.accountsFile", "只有网关；用 onething console adduser 添加账户 / the gateway alone; add accounts with onething console adduser", func() string { return "[]" }},
		SecretFile{"redis-password", "store (redis://:PASSWORD@…)", "Redis（requirepass）与网关的 store-url / Redis (requirepass) and the gateway's store-url", secrets.Token})
}

// SecretsInitOptions tune InitSecrets.
type SecretsInitOptions struct {
	// Force replaces files that exist (every holder must then be given
	// the new values, and data sealed under an old data key no longer
	// opens: never force over keys in use), but the console's accounts.
	Force bool
	// Keep keeps the files that exist and writes only the missing ones,
	// and the manifest again from all of them when it changed (a start-up
	// step that runs every time, as docker-compose's; or after accounts
	// were added to the accounts file).
	Keep bool
	// Namespace of the Kubernetes Secret (default onething).
	Namespace string
	// RedisAddr is host:port in the manifest's store-url (default
	// onething-redis:6379, deploy/k8s's Redis).
	RedisAddr string
}

// InitSecrets writes a complete random set of the gateway's secrets into
// dir, one file per secret (SecretFiles: the names deploy/onething.example.yaml
// reads as ${file:secrets/NAME}), each mode 0600, dir 0700, and the
// Kubernetes Secret SecretsManifest holding all of them and store-url. It
// refuses to replace a file that exists (writing nothing) unless Force or
// Keep. It returns the paths it wrote.
//
// `onething secrets init [--force|--keep] DIR` is this function.
func InitSecrets(dir string, opt SecretsInitOptions) ([]string, error) {
	if opt.Force && opt.Keep {
		return nil, errors.New("secrets init: --force and --keep exclude each other")
	}
	if opt.Namespace == "" {
		opt.Namespace = "onething"
	}
	if opt.RedisAddr == "" {
		opt.RedisAddr = "onething-redis:6379"
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, err
	}
	files := SecretFiles()
	exists := func(name string) bool {
		_, err := os.Lstat(filepath.Join(dir, name))
		return !errors.Is(err, fs.ErrNotExist)
	}
	if !opt.Force && !opt.Keep {
		var there []string
		for _, f := range append(files, SecretFile{Name: SecretsManifest}) {
			if exists(f.Name) {
				there = append(there, f.Name)
			}
		}
		if len(there) > 0 {
			return nil, fmt.Errorf("secrets init: %s already holds %s: nothing written (--keep writes only what is missing; --force replaces them but the console's accounts, and every holder must then get the new values)",
				dir, strings.Join(there, ", "))
		}
	}
	values := map[string]string{}
	var written []string
	for _, f := range files {
		path := filepath.Join(dir, f.Name)
		if (opt.Keep || f.Name == ConsoleAccountsFile) && exists(f.Name) {
			b, err := os.ReadFile(path)
			if err != nil {
				return written, err
			}
			values[f.Name] = strings.TrimSpace(string(b))
			continue
		}
		values[f.Name] = f.make()
		if err := writeSecret(path, values[f.Name]+"\n", opt.Force); err != nil {
			return written, err
		}
		written = append(written, path)
	}
	manifest, err := secretsManifest(values, opt)
	if err != nil {
		return written, err
	}
	path := filepath.Join(dir, SecretsManifest)
	if old, err := os.ReadFile(path); opt.Keep && err == nil && string(old) == manifest {
		return written, nil
	}
	if err := writeSecret(path, manifest, opt.Force || opt.Keep); err != nil {
		return written, err
	}
	return append(written, path), nil
}

// secretsManifest is the Kubernetes Secret of the values.
func secretsManifest(values map[string]string, opt SecretsInitOptions) (string, error) {
	data := map[string]string{"store-url": "redis://:" + values["redis-password"] + "@" + opt.RedisAddr + "/0"}
	for k, v := range values {
		data[k] = v
	}
	b, err := yaml.Marshal(map[string]any{
		"apiVersion": "v1",
		"kind":       "Secret",
		"metadata": map[string]any{
			"name":      SecretsName,
			"namespace": opt.Namespace,
			"labels":    map[string]string{"app.kubernetes.io/name": "onething"},
		},
		"type":       "Opaque",
		"stringData": data,
	})
	if err != nil {
		return "", err
	}
	return `# The onething gateway's secrets, made by onething secrets init. Create
# the Secret before applying deploy/k8s, and keep this file out of any
# repository:
#   kubectl apply -f ` + SecretsManifest + `
` + string(b), nil
}

// writeSecret writes a file of mode 0600: a new file only, or (replace)
// in its place through a temporary file and a rename.
func writeSecret(path, content string, replace bool) error {
	if !replace {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		if _, err := f.WriteString(content); err != nil {
			f.Close()
			os.Remove(path)
			return err
		}
		return f.Close()
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.WriteString(content)
	if e := f.Close(); err == nil {
		err = e
	}
	if err == nil {
		err = os.Chmod(tmp, 0o600)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
