package main

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// prestop waits and exits 0; a --wait it cannot use is a bilingual usage
// error (exit 2), so a wrong preStop fails the pod's hook loudly instead
// of returning at once.
func TestPrestop(t *testing.T) {
	if r := onething(t, nil, "prestop", "--wait", "10ms"); r.code != 0 || r.stderr != "" {
		t.Errorf("prestop --wait 10ms: %s", r)
	}
	chinese := regexp.MustCompile(`\p{Han}`)
	for _, args := range [][]string{
		{"prestop"}, {"prestop", "--wait", "0s"}, {"prestop", "--wait", "-1s"}, {"prestop", "--wait", "3m"},
		{"prestop", "--wait", "soon"}, {"prestop", "--wait", "5"}, {"prestop", "--wait"}, {"prestop", "--wait", "1s", "extra"},
	} {
		r := onething(t, nil, args...)
		lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
		if r.code != 2 || r.stdout != "" || len(lines) != 2 || !strings.Contains(lines[0], "usage error") ||
			!chinese.MatchString(strings.TrimPrefix(lines[0], "onething prestop: 用法错误 / usage error: ")) {
			t.Errorf("onething %q: want exit 2 and one bilingual usage error line; got %s", args, r)
		}
	}
}

// health asks /healthz (or /readyz): exit 0 on 200 only.
func TestHealth(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	status := map[string]int{"/healthz": http.StatusOK, "/readyz": http.StatusServiceUnavailable}
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.Method+" "+r.URL.Path)
		mu.Unlock()
		code, ok := status[r.URL.Path]
		if !ok {
			code = http.StatusNotFound
		}
		w.WriteHeader(code)
	}))
	defer gw.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	if r := onething(t, nil, "health", "--url", gw.URL); r.code != 0 {
		t.Errorf("health on a live gateway: %s", r)
	}
	if r := onething(t, nil, "health", "--url", gw.URL, "--ready"); r.code != 1 || strings.Contains(r.stderr, "usage error") {
		t.Errorf("health --ready on a gateway that is not ready: want exit 1; %s", r)
	}
	if r := onething(t, nil, "health", "--url", closed.URL); r.code != 1 {
		t.Errorf("health on nothing: want exit 1; %s", r)
	}
	mu.Lock()
	got := strings.Join(paths, ", ")
	mu.Unlock()
	if got != "GET /healthz, GET /readyz" {
		t.Errorf("health asked %q", got)
	}
	for _, args := range [][]string{{"health", "--url", "127.0.0.1:8080"}, {"health", "--timeout", "0s"}, {"health", "extra"}} {
		if r := onething(t, nil, args...); r.code != 2 {
			t.Errorf("onething %q: want a usage error; %s", args, r)
		}
	}
}
