package auth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/profiled/profiled/internal/testenv"
)

// TestLinodeLoginClient sends what linode_api4's LinodeLoginClient (the
// Python SDK's OAuth helper, which Linode's OAuth guide builds on) sends
// to the Linode login server, request for request: the authorization URL
// of generate_login_url (scopes, not scope; comma-separated; <category>:*
// for everything of a category; no state, no redirect_uri), the exchange
// of finish_oauth (code, client_id and client_secret, without grant_type
// or redirect_uri), refresh_oauth_token and expire_token. The SDK reads
// scopes, expires_in and refresh_token from the answers.
func TestLinodeLoginClient(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			e.user("alice")
			cl, clientSecret := e.app("Python App", "https://py.example", "https://py.example/oauth-redirect")
			browser := client(t)
			e.signInBrowser(browser, "")

			// generate_login_url(scopes=[OAuthScopes.Linodes.all, OAuthScopes.Account.read_only])
			authURL := e.srv.URL + "/oauth/authorize?" + url.Values{"client_id": {cl.ID}, "response_type": {"code"},
				"scopes": {"linodes:*,account:read_only"}}.Encode()
			page := e.consentPage(browser, authURL)
			for _, want := range []string{"linodes", "account", `name="scope" value="linodes:read_write account:read_only"`} {
				if !strings.Contains(page, want) {
					t.Fatalf("the consent page does not show %q:\n%s", want, page)
				}
			}
			back := e.consent(browser, authURL, url.Values{"decision": {"approve"}})
			if !strings.HasPrefix(back.String(), "https://py.example/oauth-redirect?") || back.Query().Get("code") == "" {
				t.Fatalf("redirected to %s", back)
			}

			// finish_oauth(code)
			var tok struct {
				AccessToken  string `json:"access_token"`
				Scopes       string `json:"scopes"`
				ExpiresIn    int    `json:"expires_in"`
				RefreshToken string `json:"refresh_token"`
			}
			e.tokenForm(url.Values{"code": {back.Query().Get("code")}, "client_id": {cl.ID}, "client_secret": {clientSecret}}, 200, &tok)
			if tok.AccessToken == "" || tok.RefreshToken == "" || tok.ExpiresIn <= 0 || tok.Scopes != "account:read_only linodes:read_write" {
				t.Fatalf("finish_oauth's answer: %+v", tok)
			}
			e.call("GET", "/v4/profile", tok.AccessToken, "", 200, nil)
			// Without a code, grant_type is still required.
			e.tokenForm(url.Values{"client_id": {cl.ID}, "client_secret": {clientSecret}}, 400, nil)

			// refresh_oauth_token(refresh_token)
			old := tok.AccessToken
			e.tokenForm(url.Values{"grant_type": {"refresh_token"}, "client_id": {cl.ID}, "client_secret": {clientSecret},
				"refresh_token": {tok.RefreshToken}}, 200, &tok)
			if tok.AccessToken == "" || tok.AccessToken == old || tok.Scopes != "account:read_only linodes:read_write" {
				t.Fatalf("refresh_oauth_token's answer: %+v", tok)
			}

			// expire_token(token)
			resp := e.post(http.DefaultClient, "/oauth/revoke", url.Values{"token_type_hint": {"access_token"},
				"client_id": {cl.ID}, "client_secret": {clientSecret}, "token": {tok.AccessToken}})
			if body := readAll(resp); resp.StatusCode != 200 {
				t.Fatalf("expire_token: %d %s", resp.StatusCode, body)
			}
			e.call("GET", "/v4/profile", tok.AccessToken, "", 401, nil)

			// The scope grammar of the core stays what it was: an unknown
			// category is refused, and the application hears of it.
			bad := e.srv.URL + "/oauth/authorize?" + url.Values{"client_id": {cl.ID}, "response_type": {"code"},
				"scopes": {"linodes:*,nonsense:*"}}.Encode()
			resp, err := browser.Get(bad)
			if err != nil {
				t.Fatal(err)
			}
			readAll(resp)
			if loc, _ := url.Parse(resp.Header.Get("Location")); resp.StatusCode != 303 || loc.Query().Get("error") != "invalid_scope" {
				t.Fatalf("an unknown category: %d %s", resp.StatusCode, resp.Header.Get("Location"))
			}
		})
	}
}

// tokenForm posts fields to the token endpoint, as requests.post(data=...)
// does, checks the status and decodes the answer into out.
func (e *env) tokenForm(fields url.Values, want int, out any) {
	e.t.Helper()
	resp := e.post(http.DefaultClient, "/oauth/token", fields)
	body := readAll(resp)
	if resp.StatusCode != want {
		e.t.Fatalf("POST /oauth/token %v: %d, want %d: %s", fields, resp.StatusCode, want, body)
	}
	if out != nil {
		if err := jsonUnmarshal(body, out); err != nil {
			e.t.Fatal(err)
		}
	}
}
