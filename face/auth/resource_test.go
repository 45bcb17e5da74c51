package auth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"golang.org/x/oauth2"

	"github.com/profiled/profiled/internal/testenv"
)

// TestResourceIndicatorsOAuth2: golang.org/x/oauth2 names a resource
// (RFC 8707) in the authorization and token requests, as Model Context
// Protocol clients must; the token it gets is for that resource only:
// introspection says it in aud, /auth/verify takes it for that resource
// and refuses it for another, and profiled's own API refuses it. A
// resource the authorization did not name is invalid_target.
func TestResourceIndicatorsOAuth2(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			ctx := context.Background()
			e.user("alice")
			const redirect, mcp = "https://agent.example/cb", "https://mcp.example/"
			cl, secret := e.app("Agent", "https://agent.example", redirect)
			conf := &oauth2.Config{ClientID: cl.ID, ClientSecret: secret, RedirectURL: redirect, Scopes: []string{"account:read_only"},
				Endpoint: oauth2.Endpoint{AuthURL: e.srv.URL + "/oauth/authorize", TokenURL: e.srv.URL + "/oauth/token"}}
			browser := client(t)
			e.signInBrowser(browser, "")
			approve := url.Values{"decision": {"approve"}}
			resource := oauth2.SetAuthURLParam("resource", mcp)

			verifier := oauth2.GenerateVerifier()
			back := e.consent(browser, conf.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier), resource), approve)
			if _, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier),
				oauth2.SetAuthURLParam("resource", "https://other.example/")); err == nil {
				t.Fatal("a code exchanged for another resource")
			} else if re, ok := err.(*oauth2.RetrieveError); !ok || re.ErrorCode != "invalid_target" {
				t.Fatalf("a code exchanged for another resource: %v", err)
			}
			verifier = oauth2.GenerateVerifier()
			back = e.consent(browser, conf.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier), resource), approve)
			tok, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier), resource)
			if err != nil {
				t.Fatal(err)
			}

			e.call("GET", "/v4/profile", tok.AccessToken, "", 401, nil)
			e.call("GET", "/auth/verify?resource="+url.QueryEscape(mcp), tok.AccessToken, "", 200, nil)
			e.call("GET", "/auth/verify?resource="+url.QueryEscape("https://other.example/"), tok.AccessToken, "", 401, nil)
			e.call("GET", "/auth/verify", tok.AccessToken, "", 401, nil)

			resp, err := http.PostForm(e.srv.URL+"/oauth/introspect", url.Values{"token": {tok.AccessToken}, "client_id": {cl.ID}, "client_secret": {secret}})
			if err != nil {
				t.Fatal(err)
			}
			var in struct {
				Active bool   `json:"active"`
				Aud    string `json:"aud"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&in); err != nil || !in.Active || in.Aud != mcp {
				t.Fatalf("introspection: %+v %v", in, err)
			}
			resp.Body.Close()
		})
	}
}
