package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/keytest"
)

// noRedirects is an HTTP client that reads redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// introspectAs is the status of POST /oauth/introspect authenticated as
// the client with secret: 200 for a good secret, 401 for a bad one.
func introspectAs(t *testing.T, base, id, secret string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/oauth/introspect", strings.NewReader(url.Values{"token": {"nothing"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestOAuthClientsCommands: the operator lists, shows, changes, resets
// the secret of and deletes OAuth clients, and the running server sees
// each change at once.
func TestOAuthClientsCommands(t *testing.T) {
	_, db := tempDB(t)
	env := map[string]string{"PROFILED_DB": db}
	out := mustRun(t, env, "oauth-clients", "create", "--label", "Wiki", "--website", "https://wiki.example", "--redirect-uri", "https://wiki.example/cb")
	m := regexp.MustCompile(`client_id=(\S+)\nclient_secret=(\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("create printed %q", out)
	}
	wiki, secret := m[1], m[2]
	out = mustRun(t, env, "oauth-clients", "create", "--label", "CLI", "--website", "https://cli.example", "--redirect-uri", "http://127.0.0.1:9/cb", "--public")
	cli := strings.TrimPrefix(strings.TrimSpace(out), "client_id=")

	var listed []oauthClientJSON
	if err := json.Unmarshal([]byte(mustRun(t, env, "oauth-clients", "list", "--json")), &listed); err != nil || len(listed) != 2 {
		t.Fatalf("list --json: %+v %v", listed, err)
	}
	if table := mustRun(t, env, "oauth-clients", "list"); !strings.Contains(table, "OWNER") || !strings.Contains(table, wiki) || !strings.Contains(table, "operator") {
		t.Fatalf("list printed %q", table)
	}

	s := startServe(t, env, "--oauth-registration")
	if st := introspectAs(t, s.base, wiki, secret); st != http.StatusOK {
		t.Fatalf("introspect with the secret: %d", st)
	}
	// --oauth-registration: an application registers itself, and the
	// operator sees it as such.
	if st, body := call(t, "POST", s.base+"/oauth/register", "", `{"redirect_uris":["https://self.example/cb"],"client_name":"Self"}`); st != http.StatusCreated {
		t.Fatalf("POST /oauth/register: %d %s", st, body)
	}
	if table := mustRun(t, env, "oauth-clients", "list"); !strings.Contains(table, "itself") {
		t.Fatalf("list after a registration printed %q", table)
	}

	// The device grant, off until the operator turns it on.
	deviceAuthorize := func() int {
		t.Helper()
		resp, err := http.PostForm(s.base+"/oauth/device_authorization", url.Values{"client_id": {cli}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := deviceAuthorize(); st != http.StatusBadRequest {
		t.Fatalf("a device authorization before --device-grant: %d, want 400", st)
	}
	if out := mustRun(t, env, "oauth-clients", "update", "--id", cli, "--device-grant"); !regexp.MustCompile(`device grant\s+true`).MatchString(out) {
		t.Fatalf("update --device-grant printed %q", out)
	}
	if st := deviceAuthorize(); st != http.StatusOK {
		t.Fatalf("a device authorization after --device-grant: %d, want 200", st)
	}
	mustRun(t, env, "oauth-clients", "update", "--id", cli, "--device-grant=false")
	if st := deviceAuthorize(); st != http.StatusBadRequest {
		t.Fatalf("a device authorization after --device-grant=false: %d, want 400", st)
	}

	// Pushed requests, required once the operator says so: a request
	// the browser carries whole is then sent back to the client refused.
	authorize := func() string {
		t.Helper()
		q := url.Values{"client_id": {wiki}, "response_type": {"code"}, "redirect_uri": {"https://wiki.example/cb"}, "state": {"s"}}
		resp, err := noRedirects.Get(s.base + "/oauth/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("Location")
	}
	if out := mustRun(t, env, "oauth-clients", "update", "--id", wiki, "--require-par"); !regexp.MustCompile(`require par\s+true`).MatchString(out) {
		t.Fatalf("update --require-par printed %q", out)
	}
	if loc := authorize(); !strings.HasPrefix(loc, "https://wiki.example/cb?") || !strings.Contains(loc, "error=invalid_request") {
		t.Fatalf("a request carried whole after --require-par: to %q, want invalid_request", loc)
	}
	mustRun(t, env, "oauth-clients", "update", "--id", wiki, "--require-par=false")
	if loc := authorize(); !strings.HasPrefix(loc, "/auth/signin?") {
		t.Fatalf("a request carried whole after --require-par=false: to %q, want the sign-in", loc)
	}
	out = mustRun(t, env, "oauth-clients", "create", "--label", "Bank", "--website", "https://bank.example", "--redirect-uri", "https://bank.example/cb",
		"--require-par", "--require-mfa")
	bank := regexp.MustCompile(`client_id=(\S+)`).FindStringSubmatch(out)
	var held oauthClientJSON
	if bank == nil || json.Unmarshal([]byte(mustRun(t, env, "oauth-clients", "show", "--id", bank[1], "--json")), &held) != nil || !held.RequirePushed ||
		!held.RequireMFA {
		t.Fatalf("create --require-par --require-mfa: %q, shown as %+v", out, held)
	}
	if out := mustRun(t, env, "oauth-clients", "update", "--id", bank[1], "--require-mfa=false"); !regexp.MustCompile(`require mfa\s+false`).MatchString(out) {
		t.Fatalf("update --require-mfa=false printed %q", out)
	}

	// A client with keys: no secret, and assertions signed by its key.
	key := keytest.New(t, "bank-1")
	dir := t.TempDir()
	jwksPath, privatePath := filepath.Join(dir, "jwks.json"), filepath.Join(dir, "private.json")
	if err := os.WriteFile(jwksPath, []byte(key.JWKS(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(privatePath, []byte(`{"keys":[`+key.PrivateJWK(t)+`]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCmd(t, env, "oauth-clients", "create", "--label", "Bank", "--website", "https://bank.example",
		"--redirect-uri", "https://bank.example/cb", "--jwks-file", privatePath); err == nil || !strings.Contains(err.Error(), "--jwks-file: key 1 is not a public key") {
		t.Fatalf("create --jwks-file with a private key: %v", err)
	}
	out = mustRun(t, env, "oauth-clients", "create", "--label", "Bank", "--website", "https://bank.example", "--redirect-uri", "https://bank.example/cb",
		"--jwks-file", jwksPath)
	keyed := regexp.MustCompile(`^client_id=(\S+)\n$`).FindStringSubmatch(out)
	if keyed == nil {
		t.Fatalf("create --jwks-file printed %q, want a client_id and no secret", out)
	}
	if shown := mustRun(t, env, "oauth-clients", "show", "--id", keyed[1]); !strings.Contains(shown, "private_key_jwt") {
		t.Fatalf("show of a client with keys: %q", shown)
	}
	introspectWithKey := func(jti string) int {
		t.Helper()
		form := url.Values{"token": {"nothing"}, "client_assertion_type": {core.ClientAssertionType},
			"client_assertion": {key.Assertion(t, keyed[1], s.base+"/oauth/introspect", jti, time.Now())}}
		resp, err := http.PostForm(s.base+"/oauth/introspect", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := introspectWithKey("a"); st != http.StatusOK {
		t.Fatalf("introspect with the key: %d", st)
	}
	if _, _, err := runCmd(t, env, "oauth-clients", "reset-secret", "--id", keyed[1]); err == nil || !strings.Contains(err.Error(), "--jwks-file") {
		t.Fatalf("reset-secret of a client with keys: %v", err)
	}
	mustRun(t, env, "oauth-clients", "update", "--id", keyed[1], "--jwks-file", "")
	if st := introspectWithKey("b"); st != http.StatusUnauthorized {
		t.Fatalf("introspect with the key after --jwks-file \"\": %d, want 401", st)
	}
	// The client publishes its keys instead: the server reads them there.
	pub := keytest.Publish(t, key)
	if _, _, err := runCmd(t, env, "oauth-clients", "update", "--id", keyed[1], "--jwks-uri", "http://bank.example/jwks"); err == nil ||
		!strings.Contains(err.Error(), "--jwks-uri") || !strings.Contains(err.Error(), "https") {
		t.Fatalf("update --jwks-uri over http: %v", err)
	}
	var published oauthClientJSON
	if out := mustRun(t, env, "oauth-clients", "update", "--id", keyed[1], "--jwks-uri", pub.URL); !strings.Contains(out, "key set at "+pub.URL) {
		t.Fatalf("update --jwks-uri printed %q", out)
	}
	if err := json.Unmarshal([]byte(mustRun(t, env, "oauth-clients", "show", "--id", keyed[1], "--json")), &published); err != nil ||
		published.JWKSURI != pub.URL || published.JWKS != nil {
		t.Fatalf("update --jwks-uri: %+v, %v", published, err)
	}
	if st := introspectWithKey("c"); st != http.StatusOK || pub.Reads() != 1 {
		t.Fatalf("introspect with the key published: %d, the key set read %d times", st, pub.Reads())
	}

	out = mustRun(t, env, "oauth-clients", "update", "--id", wiki, "--label", "Team Wiki", "--redirect-uri", "https://wiki.example/a",
		"--redirect-uri", "https://wiki.example/b", "--backchannel-logout-uri", "https://wiki.example/bcl", "--disable")
	for _, want := range []string{"Team Wiki", "https://wiki.example/a https://wiki.example/b", "https://wiki.example/bcl", "disabled"} {
		if !strings.Contains(out, want) {
			t.Fatalf("update printed %q, without %q", out, want)
		}
	}
	if st := introspectAs(t, s.base, wiki, secret); st != http.StatusUnauthorized {
		t.Fatalf("introspect as a disabled client: %d, want 401", st)
	}
	mustRun(t, env, "oauth-clients", "update", "--id", wiki, "--enable", "--backchannel-logout-uri", "")
	var shown oauthClientJSON
	if err := json.Unmarshal([]byte(mustRun(t, env, "oauth-clients", "show", "--id", wiki, "--json")), &shown); err != nil ||
		shown.Status != "active" || shown.BackchannelLogoutURI != "" || shown.Label != "Team Wiki" || shown.Website != "https://wiki.example" || len(shown.RedirectURIs) != 2 {
		t.Fatalf("show after enabling: %+v %v", shown, err)
	}

	out = mustRun(t, env, "oauth-clients", "reset-secret", "--id", wiki)
	fresh := strings.TrimPrefix(strings.TrimSpace(out), "client_secret=")
	if len(fresh) != 64 || fresh == secret {
		t.Fatalf("reset-secret printed %q", out)
	}
	if old, now := introspectAs(t, s.base, wiki, secret), introspectAs(t, s.base, wiki, fresh); old != 401 || now != 200 {
		t.Fatalf("after reset-secret: the old secret %d, the new %d; want 401 and 200", old, now)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"update", "--id", wiki}, "nothing to change"},
		{[]string{"update", "--id", wiki, "--disable", "--enable"}, "not both"},
		{[]string{"update", "--id", wiki, "--backchannel-logout-uri", "http://wiki.example/bcl"}, "--backchannel-logout-uri"},
		{[]string{"update", "--id", wiki, "--redirect-uri", "https://wiki.example/cb#x"}, "--redirect-uri"},
		{[]string{"update", "--id", wiki, "--label", ""}, "--label"},
		{[]string{"update", "--id", "nope", "--label", "X"}, `no OAuth client "nope"`},
		{[]string{"reset-secret", "--id", cli}, "public client"},
		{[]string{"show"}, "--id is required"},
		{[]string{"delete", "--id", "nope"}, "oauth-clients list"},
	} {
		_, _, err := runCmd(t, env, append([]string{"oauth-clients"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("oauth-clients %v: err = %v, want one saying %q", tc.args, err, tc.want)
		}
	}

	if out := mustRun(t, env, "oauth-clients", "delete", "--id", wiki); !strings.Contains(out, "deleted") {
		t.Fatalf("delete printed %q", out)
	}
	if st := introspectAs(t, s.base, wiki, fresh); st != http.StatusUnauthorized {
		t.Fatalf("introspect as a deleted client: %d, want 401", st)
	}
	if _, _, err := runCmd(t, env, "oauth-clients", "show", "--id", wiki); err == nil || !strings.Contains(err.Error(), "no OAuth client") {
		t.Fatalf("show of a deleted client: %v", err)
	}
}
