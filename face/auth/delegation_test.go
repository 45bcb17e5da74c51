package auth_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/testenv"
)

// appToken runs the authorization code flow with golang.org/x/oauth2 for a
// new client and returns its access token.
func (e *env) appToken(t *testing.T, firstParty bool) *oauth2.Token {
	t.Helper()
	const redirect = "https://app.example/cb"
	cl, secret, err := e.svc.CreateOAuthClient(context.Background(), core.OAuthClientCreate{Label: "App", Website: "https://app.example",
		RedirectURIs: []string{redirect}, FirstParty: firstParty})
	if err != nil {
		t.Fatal(err)
	}
	conf := &oauth2.Config{ClientID: cl.ID, ClientSecret: secret, RedirectURL: redirect, Scopes: []string{"*"},
		Endpoint: e.endpoint()}
	return e.approved(conf)
}

// TestThirdPartyTokens: an application's token mints personal tokens that
// expire with it and are revoked with the application, and it is refused
// the account-takeover operations (403); a first-party client's token is
// not (issue 11, items 2 and 7).
func TestThirdPartyTokens(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			_, personal := e.user("alice")
			app := e.appToken(t, false)

			var child struct {
				Token  string `json:"token"`
				Expiry string `json:"expiry"`
			}
			e.call("POST", "/v4/profile/tokens", app.AccessToken, `{"label":"minted"}`, 200, &child)
			exp, err := time.Parse("2006-01-02T15:04:05", child.Expiry)
			if err != nil || exp.After(app.Expiry.Add(time.Minute)) || exp.Before(time.Now()) {
				t.Fatalf("the application's child expires %q; the application's token at %v", child.Expiry, app.Expiry)
			}
			for _, op := range []struct{ method, path, body string }{
				{"POST", "/v4/profile/tfa-disable", ""},
				{"POST", "/v4/profile/tfa-enable", ""},
				{"GET", "/v4/profile/security-questions", ""},
				{"POST", "/auth/tfa/scratch-codes", ""},
				{"PUT", "/v4/profile", `{"email":"mallory@example.com"}`},
				{"POST", "/iam/v1/users/me/password/", `{"current_password":"` + password + `","new_password":"another long and unusual passphrase"}`},
				{"DELETE", "/iam/v1/users/me/", ""},
			} {
				for _, tok := range []string{app.AccessToken, child.Token} {
					e.call(op.method, op.path, tok, op.body, 403, nil)
				}
			}
			var apps struct{ Data []struct{ ID int64 } }
			e.call("GET", "/v4/profile/apps", personal, "", 200, &apps)
			e.call("DELETE", fmt.Sprintf("/v4/profile/apps/%d", apps.Data[0].ID), personal, "", 200, nil)
			e.call("GET", "/v4/profile", child.Token, "", 401, nil)

			// The first-party console keeps all of it.
			console := e.appToken(t, true)
			var forever struct{ Expiry string }
			e.call("POST", "/v4/profile/tokens", console.AccessToken, `{"label":"cli"}`, 200, &forever)
			if forever.Expiry != "2999-12-12T05:00:00" {
				t.Fatalf("a first-party client's child expires %q, want never", forever.Expiry)
			}
			e.call("GET", "/v4/profile/security-questions", console.AccessToken, "", 200, nil)
			e.call("PUT", "/v4/profile", console.AccessToken, `{"email":"alice2@example.com"}`, 200, nil)
		})
	}
}
