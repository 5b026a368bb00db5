package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"onething/gateway/console"
	"onething/gateway/proctest"
	"onething/gateway/service"
)

// onethingIn is onething with stdin.
func onethingIn(t *testing.T, stdin string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = cleanEnv(env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("onething %q: %v", args, err)
	}
	return r
}

// newPassword is a random password of 32 characters.
func newPassword(t *testing.T) string {
	return hex.EncodeToString(randomBytes(t, 16))
}

// `console adduser --password-stdin` prints one JSON entry whose hash
// verifies the password (and no other), never the password itself.
func TestConsoleAdduserPrintsAnEntry(t *testing.T) {
	pw := newPassword(t)
	r := onethingIn(t, pw+"\n", nil, "console", "adduser", "luojiang", "--towns", "511702102,511702103", "--password-stdin")
	if r.code != 0 {
		t.Fatalf("adduser:\n%s", r)
	}
	if strings.Contains(r.stdout+r.stderr, pw) {
		t.Errorf("the password shows:\n%s", r)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one line on stdout (the entry):\n%s", r)
	}
	var a console.Account
	dec := json.NewDecoder(strings.NewReader(lines[0]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("the entry is not an account: %v\n%s", err, r)
	}
	if a.Username != "luojiang" || a.Role != "staff" || strings.Join(a.Towns, ",") != "511702102,511702103" {
		t.Errorf("entry %+v", a)
	}
	if err := bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte(pw)); err != nil {
		t.Errorf("the hash does not verify the password: %v", err)
	}
	if err := bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte(pw+"x")); err == nil {
		t.Error("the hash verifies another password")
	}
	if !strings.Contains(r.stderr, "console.accountsFile") {
		t.Errorf("no word on where the entry goes:\n%s", r)
	}

	// A town given twice is one scope; a county no pack knows is noted.
	r = onethingIn(t, pw+"\n", nil, "console", "adduser", "x", "--towns", "511702102,511702102,511799100", "--password-stdin")
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &a) != nil || strings.Join(a.Towns, ",") != "511702102,511799100" {
		t.Errorf("towns given twice:\n%s", r)
	}
	if !strings.Contains(r.stderr, "511799100") || strings.Contains(r.stderr, "511702102 的区县") {
		t.Errorf("no note on the unknown county, or one on a known county:\n%s", r)
	}

	r = onethingIn(t, pw, nil, "console", "adduser", "ops", "--role", "admin", "--password-stdin")
	if r.code != 0 {
		t.Fatalf("adduser --role admin:\n%s", r)
	}
	if err := json.Unmarshal([]byte(r.stdout), &a); err != nil || a.Role != "admin" || len(a.Towns) != 0 {
		t.Errorf("admin entry %+v %v", a, err)
	}
}

// Bad input is a usage error (exit 2), said in Chinese and English, and
// nothing is printed on stdout.
func TestConsoleAdduserRefusesBadInput(t *testing.T) {
	pw := newPassword(t)
	for _, tc := range []struct {
		name, stdin string
		args        []string
		wants       []string
	}{
		{"a town of another province", pw, []string{"clerk", "--towns", "110101001"}, []string{"不是四川省的范围", "not a Sichuan scope"}},
		{"a town that is no code", pw, []string{"clerk", "--towns", "luojiang"}, []string{"不是四川省的范围", "not a Sichuan scope"}},
		{"a county of another province", pw, []string{"clerk", "--towns", "511702102,110101"}, []string{"110101"}},
		{"no towns", pw, []string{"clerk"}, []string{"需要 --towns", "need --towns"}},
		{"an admin with towns", pw, []string{"ops", "--role", "admin", "--towns", "511702102"}, []string{"不要给 --towns", "no towns"}},
		{"a role", pw, []string{"clerk", "--role", "boss", "--towns", "511702102"}, []string{"须为 staff 或 admin", "must be staff or admin"}},
		{"a name like an ID number", pw, []string{"51170219850307123X", "--towns", "511702102"}, []string{"用户名", "username"}},
		{"an empty name", pw, []string{"", "--towns", "511702102"}, []string{"用户名不能为空", "the username is empty"}},
		{"a name with a colon", pw, []string{"a:b", "--towns", "511702102"}, []string{"不能含冒号", "no colon"}},
		{"a name of marks alone", pw, []string{"..", "--towns", "511702102"}, []string{"须含字母或数字", "a letter or digit"}},
		{"a short password", "short-pw-11", []string{"clerk", "--towns", "511702102"}, []string{"11 个字符，至少需要 12", "11 characters, at least 12"}},
		{"a password over bcrypt's limit", strings.Repeat("长", 25), []string{"clerk", "--towns", "511702102"}, []string{"72 字节", "72 bytes"}},
		{"two lines", pw + "\n" + pw + "\n", []string{"clerk", "--towns", "511702102"}, []string{"读一行", "one line"}},
		// Without --password-stdin it asks on the terminal; stdin is a pipe here.
		{"no terminal", pw, []string{"clerk", "--towns", "511702102", "--password-stdin=false"}, []string{"不是终端", "--password-stdin"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"console", "adduser", "--password-stdin"}, tc.args...)
			r := onethingIn(t, tc.stdin, nil, args...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2:\n%s", r.code, r)
			}
			if r.stdout != "" {
				t.Errorf("stdout should be empty:\n%s", r)
			}
			for _, w := range tc.wants {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("no %q in:\n%s", w, r)
				}
			}
			// A name refused as an ID number is not repeated whole
			// (outsider: the message echoed it).
			if strings.Contains(r.stderr, "51170219850307123") {
				t.Errorf("the ID number repeated:\n%s", r)
			}
		})
	}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// The shipped sample beside secrets init, with accounts added by
// `console adduser --file` (a second adduser of one name replaces its
// password), passes config check and serves: the clerk signs in with the
// new password at /console/ and sees the case list; the old password is
// refused.
func TestConsoleAccountsFileServes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the gateway as a process")
	}
	cfg, db := sampleWithSecrets(t)
	accounts := filepath.Join(filepath.Dir(cfg), "secrets", service.ConsoleAccountsFile)
	oldPW, pw := newPassword(t), newPassword(t)
	for _, add := range []struct{ name, pw, want string }{{"luojiang", oldPW, "added"}, {"ops", newPassword(t), "added"}, {"luojiang", pw, "replaced"}} {
		args := []string{"console", "adduser", add.name, "--file", accounts, "--password-stdin"}
		if add.name == "ops" {
			args = append(args, "--role", "admin")
		} else {
			args = append(args, "--towns", "511702102")
		}
		if r := onethingIn(t, add.pw, nil, args...); r.code != 0 || !strings.Contains(r.stdout, add.want) {
			t.Fatalf("adduser %s --file (want %s):\n%s", add.name, add.want, r)
		}
	}
	list, err := service.ReadConsoleAccounts(accounts)
	if err != nil || len(list) != 2 {
		t.Fatalf("the accounts file holds %d accounts (%v)", len(list), err)
	}
	if st, err := os.Stat(accounts); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("the accounts file's mode: %v %v", st.Mode(), err)
	}

	addr := proctest.FreeAddr(t)
	env := []string{"ONETHING_DATA_FILE=" + db, "ONETHING_LISTEN=" + addr, "ONETHING_BASE_URL=http://" + addr}
	r := onething(t, env, "config", "check", cfg)
	if r.code != 0 {
		t.Fatalf("config check with the accounts:\n%s", r)
	}
	if strings.Contains(r.stdout+r.stderr, "nobody can sign in") || strings.Contains(r.stdout+r.stderr, list[0].PasswordHash) {
		t.Errorf("config check should see the accounts and mask their hashes:\n%s", r)
	}
	p := startServe(t, cfg, addr, "ONETHING_DATA_FILE="+db)
	base := "http://" + addr

	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (int, string) {
		resp, err := cl.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	signIn := func(password string) int {
		_, page := get("/console/login")
		m := csrfField.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no sign-in form:\n%s", page)
		}
		resp, err := cl.PostForm(base+"/console/login", url.Values{"csrf": {m[1]}, "username": {"luojiang"}, "password": {password}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := signIn(oldPW); code == http.StatusSeeOther {
		t.Error("the replaced password signed in")
	}
	if code := signIn(pw); code != http.StatusSeeOther {
		t.Fatalf("sign-in with the account adduser wrote: %d\n%s", code, p.Tail(20))
	}
	if code, page := get("/console/"); code != http.StatusOK || !strings.Contains(page, "luojiang") {
		t.Errorf("the case list after sign-in: %d\n%s", code, page)
	}
}
