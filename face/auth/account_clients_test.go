package auth_test

import (
	"context"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/testenv"
)

// TestAccountOAuthClient: a client an account registers through the Linode
// API (/v4/account/oauth-clients) works at /oauth/authorize and
// /oauth/token at once, with golang.org/x/oauth2; after a reset, the old
// secret is refused and the new one works.
func TestAccountOAuthClient(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			ctx := context.Background()
			_, personal := e.user("alice")
			owner, err := e.svc.Authenticate(ctx, personal)
			if err != nil {
				t.Fatal(err)
			}
			const redirect = "https://team.example/cb"
			label, uri := "Team app", redirect
			cl, secret, err := e.svc.CreateAccountOAuthClient(ctx, owner, core.AccountClientInput{Label: &label, RedirectURI: &uri})
			if err != nil {
				t.Fatal(err)
			}
			conf := &oauth2.Config{ClientID: cl.ID, ClientSecret: secret, RedirectURL: redirect,
				Scopes: []string{"account:read_only"}, Endpoint: e.endpoint()}
			tok := e.approved(conf)
			if tok.AccessToken == "" || tok.RefreshToken == "" {
				t.Fatalf("the token answer: %+v", tok)
			}
			// A reset secret replaces the old one at once.
			_, fresh, err := e.svc.ResetAccountOAuthClientSecret(ctx, owner, cl.ID)
			if err != nil {
				t.Fatal(err)
			}
			old := *conf
			if _, err := old.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); oauthCode(t, err) != "invalid_client" {
				t.Errorf("a refresh with the old secret: %v, want invalid_client", err)
			}
			conf.ClientSecret = fresh
			tok2, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			if err != nil {
				t.Fatalf("a refresh with the new secret: %v", err)
			}
			tok = tok2
			// A disabled user's refresh token gets nothing until enabled.
			noErr := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			refreshed, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			noErr(err)
			noErr(e.svc.SetDisabled(ctx, "alice", true))
			if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshed.RefreshToken}).Token(); oauthCode(t, err) != "invalid_grant" {
				t.Errorf("a disabled user's refresh: %v, want invalid_grant", err)
			}
			noErr(e.svc.SetDisabled(ctx, "alice", false))
			// Deleted: refused at /oauth/authorize and /oauth/token.
			if err := e.svc.DeleteAccountOAuthClient(ctx, owner, cl.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.CheckAuthorize(ctx, core.AuthorizeRequest{ClientID: cl.ID, ResponseType: "code", RedirectURI: redirect}); err == nil {
				t.Error("a deleted client at /oauth/authorize: accepted")
			}
		})
	}
}

// TestRecoveryNotOffered: without mail, the recovery API and pages answer
// 404 in their envelopes, and the "forgot password" page says to ask the
// operator (TestRecoveryByMail in cmd/profiled runs the whole flow).
func TestRecoveryNotOffered(t *testing.T) {
	e := newEnv(t, testenv.Backend{Name: "sqlite", Open: testenv.OpenSQLite})
	e.call("POST", "/auth/recovery", "", `{"email":"a@example.com"}`, 404, nil)
	e.call("POST", "/auth/recovery/complete", "", `{"token":"x","password":"y"}`, 404, nil)
	e.call("POST", "/auth/email/verify", "", `{"token":"x"}`, 404, nil)
	e.call("POST", "/auth/signup", "", `{"username":"newbie","email":"n@example.com","password":"a brand new passphrase"}`, 404, nil)
	resp, err := client(t).Get(e.srv.URL + "/auth/recover")
	if err != nil {
		t.Fatal(err)
	}
	readAll(resp)
	if resp.StatusCode != 404 {
		t.Errorf("GET /auth/recover without mail: %d", resp.StatusCode)
	}
	resp, err = client(t).Get(e.srv.URL + "/forgot/password")
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(resp); !strings.Contains(body, "users set-password") || strings.Contains(body, `id="recover"`) {
		t.Errorf("the forgot page without mail:\n%s", body)
	}
}
