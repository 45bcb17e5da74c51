package auth_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/testenv"
)

// nginxConf puts a real nginx in front of an upstream, with profiled's
// GET /auth/verify as its auth_request (the configuration docs/platform.md
// gives operators): /api/ needs any good token, /write/ one with
// linodes:read_write; the user's id, name and scopes go upstream.
const nginxConf = `user root;
worker_processes 1;
daemon off;
pid {{dir}}/nginx.pid;
error_log {{dir}}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path {{dir}}/body;
  proxy_temp_path {{dir}}/proxy;
  fastcgi_temp_path {{dir}}/fastcgi;
  uwsgi_temp_path {{dir}}/uwsgi;
  scgi_temp_path {{dir}}/scgi;
  server {
    listen 127.0.0.1:{{port}};
    location = /_profiled_verify {
      internal;
      proxy_pass {{profiled}}/auth/verify$profiled_scope;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URI $request_uri;
    }
    location /api/ {
      set $profiled_scope "";
      auth_request /_profiled_verify;
      auth_request_set $profiled_user_id $upstream_http_x_profiled_user_id;
      auth_request_set $profiled_username $upstream_http_x_profiled_username;
      auth_request_set $profiled_account_id $upstream_http_x_profiled_account_id;
      auth_request_set $profiled_scopes $upstream_http_x_profiled_scopes;
      proxy_set_header X-Profiled-User-Id $profiled_user_id;
      proxy_set_header X-Profiled-Username $profiled_username;
      proxy_set_header X-Profiled-Account-Id $profiled_account_id;
      proxy_set_header X-Profiled-Scopes $profiled_scopes;
      proxy_pass {{upstream}};
    }
    location /write/ {
      set $profiled_scope "?scope=linodes:read_write";
      auth_request /_profiled_verify;
      auth_request_set $profiled_user_id $upstream_http_x_profiled_user_id;
      proxy_set_header X-Profiled-User-Id $profiled_user_id;
      proxy_pass {{upstream}};
    }
  }
}
`

// startNginx runs nginx with conf on a free loopback port until the test
// ends, and returns its base URL.
func startNginx(t *testing.T, conf string) string {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("nginx is not installed: .ci/run installs it (apt-get install nginx)")
		}
		t.Skip("nginx is not installed (apt-get install nginx)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	conf = strings.NewReplacer("{{dir}}", dir, "{{port}}", fmt.Sprint(port)).Replace(conf)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", path)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	// Its own process group, so that its workers end with it; and a bound
	// on the wait for its output, which a worker holds open.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			return base
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx did not listen: %s\n%s", out.String(), log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestForwardAuthBehindNginx: a real nginx asks GET /auth/verify for every
// request; the upstream gets only authenticated requests, with the user's
// id, name and scopes; a missing or bad token is 401 with WWW-Authenticate,
// a token without the location's scope 403, and neither reaches upstream.
func TestForwardAuthBehindNginx(t *testing.T) {
	e := newEnv(t, testenv.Backends(t)[0])
	alice, all := e.user("alice")
	_, raw, err := e.svc.IssueToken(context.Background(), "alice", "ro", "linodes:read_only", nil)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []http.Header
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		mu.Unlock()
		fmt.Fprint(w, "upstream")
	}))
	t.Cleanup(upstream.Close)
	base := startNginx(t, strings.NewReplacer("{{profiled}}", e.srv.URL, "{{upstream}}", upstream.URL).Replace(nginxConf))

	get := func(path, token string) *http.Response {
		req, _ := http.NewRequest("GET", base+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readAll(resp)
		return resp
	}
	if resp := get("/api/things", all); resp.StatusCode != 200 {
		t.Fatalf("a good token: %d", resp.StatusCode)
	}
	mu.Lock()
	h := seen[len(seen)-1]
	mu.Unlock()
	if h.Get("X-Profiled-User-Id") != fmt.Sprint(alice.ID) || h.Get("X-Profiled-Username") != "alice" || h.Get("X-Profiled-Scopes") != "*" ||
		h.Get("X-Profiled-Account-Id") != fmt.Sprint(alice.AccountID) {
		t.Fatalf("the upstream got %v", h)
	}
	for name, tc := range map[string]struct {
		path, token string
		status      int
		challenge   string
	}{
		"no token":                {"/api/things", "", 401, `Bearer realm="profiled"`},
		"a bad token":             {"/api/things", strings.Repeat("0", 64), 401, "invalid_token"},
		"a token without a scope": {"/write/things", raw, 403, ""},
	} {
		mu.Lock()
		before := len(seen)
		mu.Unlock()
		resp := get(tc.path, tc.token)
		if resp.StatusCode != tc.status || !strings.Contains(resp.Header.Get("WWW-Authenticate"), tc.challenge) {
			t.Errorf("%s: %d, WWW-Authenticate %q; want %d and %q", name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), tc.status, tc.challenge)
		}
		mu.Lock()
		if len(seen) != before {
			t.Errorf("%s reached the upstream", name)
		}
		mu.Unlock()
	}
	if resp := get("/write/things", all); resp.StatusCode != 200 {
		t.Fatalf("a token with linodes:read_write (as *): %d", resp.StatusCode)
	}
	// A revoked token is refused on the next request through the gateway.
	ro := actorOf(t, e, raw)
	if err := e.svc.RevokeToken(context.Background(), actorOf(t, e, all), ro.Token.ID); err != nil {
		t.Fatal(err)
	}
	if resp := get("/api/things", raw); resp.StatusCode != 401 {
		t.Fatalf("a revoked token through nginx: %d", resp.StatusCode)
	}
}

func actorOf(t *testing.T, e *env, raw string) core.Actor {
	t.Helper()
	a, err := e.svc.Authenticate(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestVerify: /auth/verify answers directly too, for any method.
func TestVerify(t *testing.T) {
	e := newEnv(t, testenv.Backends(t)[0])
	_, all := e.user("alice")
	for _, method := range []string{"GET", "POST", "DELETE", "HEAD"} {
		req, _ := http.NewRequest(method, e.srv.URL+"/auth/verify/api/things?scope=account:read_only", nil)
		req.Header.Set("Authorization", "Bearer "+all)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readAll(resp)
		if resp.StatusCode != 200 || resp.Header.Get("X-Profiled-Username") != "alice" {
			t.Errorf("%s: %d %v", method, resp.StatusCode, resp.Header)
		}
	}
	req, _ := http.NewRequest("GET", e.srv.URL+"/auth/verify?scope=root:everything", nil)
	req.Header.Set("Authorization", "Bearer "+all)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readAll(resp)
	if resp.StatusCode != 400 {
		t.Errorf("an unknown scope: %d, want 400", resp.StatusCode)
	}
}
