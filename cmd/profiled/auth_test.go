package main

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func TestPasswordsAndOAuthClients(t *testing.T) {
	_, db := tempDB(t)
	env := map[string]string{"PROFILED_DB": db}
	withStdin := func(s string) { stdin = strings.NewReader(s) }
	t.Cleanup(func() { withStdin("") })

	withStdin("password1234\n")
	if _, _, err := runCmd(t, env, "users", "create", "--username", "alice", "--email", "alice@example.com", "--password-stdin"); err == nil || !strings.Contains(err.Error(), "common") {
		t.Fatalf("a common password: err = %v", err)
	}
	withStdin("")
	if _, _, err := runCmd(t, env, "users", "create", "--username", "alice", "--email", "alice@example.com", "--password-stdin"); err == nil || !strings.Contains(err.Error(), "stdin") {
		t.Fatalf("no password on stdin: err = %v", err)
	}
	withStdin("a long and unusual passphrase\r\n")
	mustRun(t, env, "users", "create", "--username", "alice", "--email", "alice@example.com", "--password-stdin")

	out := mustRun(t, env, "oauth-clients", "create", "--label", "Example", "--website", "https://app.example",
		"--redirect-uri", "https://app.example/cb", "--redirect-uri", "http://127.0.0.1:8000/cb", "--thumbnail-url", "https://app.example/logo.png")
	if !regexp.MustCompile(`^client_id=[0-9a-f]{20}\nclient_secret=[0-9a-f]{64}\n$`).MatchString(out) {
		t.Fatalf("oauth-clients create printed %q", out)
	}
	out = mustRun(t, env, "oauth-clients", "create", "--label", "CLI", "--website", "https://cli.example", "--redirect-uri", "http://localhost:9/cb", "--public")
	if !regexp.MustCompile(`^client_id=[0-9a-f]{20}\n$`).MatchString(out) {
		t.Fatalf("oauth-clients create --public printed %q", out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--website", "https://a.example", "--redirect-uri", "https://a.example/cb"}, "--label"},
		{[]string{"--label", "A", "--website", "https://a.example"}, "--redirect-uri"},
		{[]string{"--label", "A", "--redirect-uri", "https://a.example/cb"}, "--website"},
		{[]string{"--label", "A", "--website", "https://a.example", "--redirect-uri", "http://a.example/cb"}, "--redirect-uri"},
		{[]string{"--label", "A", "--website", "ftp://a.example", "--redirect-uri", "https://a.example/cb"}, "--website"},
	} {
		_, _, err := runCmd(t, env, append([]string{"oauth-clients", "create"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("oauth-clients create %v: err = %v, want one naming %s", tc.args, err, tc.want)
		}
	}

	s := startServe(t, env)
	status, body := call(t, "POST", s.base+"/auth/login", "", `{"username":"alice","password":"a long and unusual passphrase"}`)
	if status != http.StatusOK {
		t.Fatalf("POST /auth/login: %d %s", status, body)
	}
	tok := regexp.MustCompile(`"token":"([0-9a-f]{64})"`).FindSubmatch(body)
	if tok == nil {
		t.Fatalf("no token in %s", body)
	}
	if got := profileUsername(t, s.base, string(tok[1])); got != "alice" {
		t.Fatalf("the session acts as %q", got)
	}
	if status, _ := call(t, "GET", s.base+"/auth/signin", "", ""); status != http.StatusOK {
		t.Fatalf("GET /auth/signin: %d", status)
	}

	// The operator resets a forgotten password: the old one and the
	// session made with it stop working at once, the new one signs in.
	if _, _, err := runCmd(t, env, "users", "set-password", "--username", "alice"); err == nil || !strings.Contains(err.Error(), "--password-stdin") {
		t.Fatalf("set-password without --password-stdin: err = %v", err)
	}
	withStdin("a long and unusual passphrase\n")
	if _, _, err := runCmd(t, env, "users", "set-password", "--username", "nobody", "--password-stdin"); err == nil || !strings.Contains(err.Error(), "no user named") {
		t.Fatalf("set-password of an unknown user: err = %v", err)
	}
	withStdin("alice\n")
	if _, _, err := runCmd(t, env, "users", "set-password", "--username", "alice", "--password-stdin"); err == nil || !strings.Contains(err.Error(), "password") {
		t.Fatalf("set-password with a refused password: err = %v", err)
	}
	withStdin("another long and unusual passphrase\n")
	out, errOut, err := runCmd(t, env, "users", "set-password", "--username", "alice", "--password-stdin")
	if err != nil || !strings.Contains(out, "sessions have ended") {
		t.Fatalf("set-password printed %q (%v)", out, err)
	}
	if !strings.Contains(errOut, "msg=\"security event\" event=password.reset") || strings.Contains(errOut, "another long") {
		t.Fatalf("set-password logged %q, want the password.reset event without the password", errOut)
	}
	if status, _ := call(t, "GET", s.base+"/v4/profile", string(tok[1]), ""); status != http.StatusUnauthorized {
		t.Fatalf("the session of the old password after set-password: %d, want 401", status)
	}
	if status, _ := call(t, "POST", s.base+"/auth/login", "", `{"username":"alice","password":"a long and unusual passphrase"}`); status != http.StatusUnauthorized {
		t.Fatalf("the old password after set-password: %d, want 401", status)
	}
	// The failure is a security event in the log, with the request's id
	// and client, and without the password that was typed.
	logged := s.stderr.String()
	if !regexp.MustCompile(`"msg":"security event","event":"signin.failed","user_id":[1-9][0-9]*,"username":"alice","detail":"password","request_id":"[0-9a-f]{24}","client":"127.0.0.1"`).MatchString(logged) {
		t.Errorf("no security event for the failed sign-in in the log:\n%s", logged)
	}
	// The sign-in before it, an INFO event that reqlog.Lines writes beside
	// slog, is in the same log in the same format (the warning flushed it).
	if !regexp.MustCompile(`\{"time":"[^"]+","level":"INFO","msg":"security event","event":"signin.succeeded","user_id":[1-9][0-9]*,"username":"alice",("detail":"[^"]*",)?"request_id":"[0-9a-f]{24}","client":"127.0.0.1","user_agent":"[^"]*"\}\n`).MatchString(logged) {
		t.Errorf("no security event for the sign-in in the log:\n%s", logged)
	}
	if strings.Contains(logged, "a long and unusual passphrase") {
		t.Errorf("a password appears in the log")
	}
	if status, body := call(t, "POST", s.base+"/auth/login", "", `{"username":"alice","password":"another long and unusual passphrase"}`); status != http.StatusOK {
		t.Fatalf("the new password: %d %s", status, body)
	}
}

// TestSigningKeysRotate: the operator's rotation makes a key the running
// server publishes at once, in another process, without a restart.
func TestSigningKeysRotate(t *testing.T) {
	_, db := tempDB(t)
	env := map[string]string{"PROFILED_DB": db}
	s := startServe(t, env)
	status, before := call(t, "GET", s.base+"/oauth/jwks", "", "")
	if status != http.StatusOK || !strings.Contains(string(before), `"kid"`) {
		t.Fatalf("GET /oauth/jwks: %d %s", status, before)
	}
	out := mustRun(t, env, "signing-keys", "rotate")
	m := regexp.MustCompile(`^key_id=([0-9a-f]{16})\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("signing-keys rotate printed %q", out)
	}
	status, after := call(t, "GET", s.base+"/oauth/jwks", "", "")
	if status != http.StatusOK || !strings.Contains(string(after), `"kid":"`+m[1]+`"`) || strings.Count(string(after), `"kid"`) != 2 {
		t.Fatalf("GET /oauth/jwks after the rotation: %d %s", status, after)
	}
	if _, _, err := runCmd(t, env, "signing-keys", "rotate", "--bogus"); err == nil {
		t.Fatal("signing-keys rotate --bogus succeeded")
	}
}
