package main

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestServeBackchannelLogout: a client registered with
// --backchannel-logout-uri is told, by the server's worker, of the end
// of the session alice signed in to it from, although another process
// (the operator's set-password) ended it.
func TestServeBackchannelLogout(t *testing.T) {
	_, db := tempDB(t)
	env := map[string]string{"PROFILED_DB": db}
	stdin = strings.NewReader("a long and unusual passphrase\n")
	t.Cleanup(func() { stdin = strings.NewReader("") })
	mustRun(t, env, "users", "create", "--username", "alice", "--email", "alice@example.com", "--password-stdin")

	tokens := make(chan string, 4)
	rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tokens <- r.PostFormValue("logout_token")
	}))
	defer rp.Close()
	const redirect = "https://rp.example/cb"
	create := []string{"oauth-clients", "create", "--label", "RP", "--website", "https://rp.example", "--redirect-uri", redirect}
	if _, _, err := runCmd(t, env, append(create, "--backchannel-logout-uri", "http://rp.example/logout")...); err == nil ||
		!strings.Contains(err.Error(), "--backchannel-logout-uri") {
		t.Fatalf("an http URI off loopback: err = %v, want one naming --backchannel-logout-uri", err)
	}
	out := mustRun(t, env, append(create, "--backchannel-logout-uri", rp.URL+"/logout")...)
	m := regexp.MustCompile(`client_id=(\S+)\nclient_secret=(\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("oauth-clients create printed %q", out)
	}
	clientID, secret := m[1], m[2]
	s := startServe(t, env)

	// Alice signs in through the pages and approves the client.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page := func(u string) string {
		resp, err := browser.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	post := func(path string, form url.Values) *http.Response {
		resp, err := browser.PostForm(s.base+path, form)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
		}
		return resp
	}
	csrf := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(page(s.base + "/auth/signin"))
	if csrf == nil {
		t.Fatal("no CSRF token on the sign-in page")
	}
	if resp := post("/auth/signin", url.Values{"csrf_token": {csrf[1]}, "username": {"alice"}, "password": {"a long and unusual passphrase"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	q := url.Values{"client_id": {clientID}, "redirect_uri": {redirect}, "response_type": {"code"}, "scope": {"openid"}, "state": {"s"}}
	// The form as the page fills it: its hidden fields and the scopes it
	// selects.
	consent := url.Values{"decision": {"approve"}}
	form := page(s.base + "/oauth/authorize?" + q.Encode())
	for _, h := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(form, -1) {
		consent.Set(h[1], strings.ReplaceAll(h[2], "&#43;", "+"))
	}
	for _, sel := range regexp.MustCompile(`(?s)<select id="[^"]+" name="([^"]+)">.*?<option value="([a-z_]+)" selected>`).FindAllStringSubmatch(form, -1) {
		consent.Set(sel[1], sel[2])
	}
	resp := post("/oauth/authorize", consent)
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || back.Query().Get("code") == "" {
		t.Fatalf("consent: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	req, _ := http.NewRequest("POST", s.base+"/oauth/token", strings.NewReader(url.Values{"grant_type": {"authorization_code"},
		"code": {back.Query().Get("code")}, "redirect_uri": {redirect}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	tr, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var grant struct {
		IDToken string `json:"id_token"`
	}
	if err := json.NewDecoder(tr.Body).Decode(&grant); err != nil || tr.StatusCode != 200 {
		t.Fatalf("token: %d %v", tr.StatusCode, err)
	}
	tr.Body.Close()

	// The operator's reset, from another process, ends the session.
	stdin = strings.NewReader("another long and unusual passphrase\n")
	mustRun(t, env, "users", "set-password", "--username", "alice", "--password-stdin")
	var logout string
	select {
	case logout = <-tokens:
	case <-time.After(15 * time.Second):
		t.Fatalf("no logout token in 15 s; serve's log:\n%s", s.stderr)
	}
	if sid, want := claim(t, logout, "sid"), claim(t, grant.IDToken, "sid"); sid == "" || sid != want {
		t.Fatalf("the logout token's sid %q, the ID token's %q", sid, want)
	}
	if aud := claim(t, logout, "aud"); aud != clientID {
		t.Fatalf("the logout token's aud %q, want %s", aud, clientID)
	}
}

// claim is a string claim of a compact JWS, read without checking it
// (face/auth's TestBackchannelLogout checks the signature).
func claim(t *testing.T, jws, name string) string {
	t.Helper()
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %q", jws)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	var claims map[string]any
	if err != nil || json.Unmarshal(b, &claims) != nil {
		t.Fatalf("the payload of %q does not parse", jws)
	}
	s, _ := claims[name].(string)
	return s
}
