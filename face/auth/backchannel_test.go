package auth_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/profiled/profiled/backchannel"
	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/testenv"
)

// logoutClaims are what a relying party reads of a logout token
// (Back-Channel Logout 2.4).
type logoutClaims struct {
	Issuer   string                     `json:"iss"`
	Audience string                     `json:"aud"`
	Subject  string                     `json:"sub"`
	SID      string                     `json:"sid"`
	IssuedAt int64                      `json:"iat"`
	Expiry   int64                      `json:"exp"`
	JTI      string                     `json:"jti"`
	Events   map[string]json.RawMessage `json:"events"`
	Nonce    *string                    `json:"nonce"`
}

// TestBackchannelLogout: a relying party signs alice in with OpenID
// Connect, through go-oidc and golang.org/x/oauth2; when she signs out of
// profiled (its end_session_endpoint, as the relying party sends her),
// the outbox's worker posts a logout token to the client's
// backchannel_logout_uri, which the relying party validates as 2.6 asks:
// the signature against the published key set (go-oidc's RemoteKeySet),
// the typ, issuer, audience, times, the event, and the session of the ID
// token it holds.
func TestBackchannelLogout(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			ctx := t.Context()
			alice, _ := e.user("alice")

			received := make(chan url.Values, 4)
			rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
					http.Error(w, "want a form POST", http.StatusBadRequest)
					return
				}
				if err := r.ParseForm(); err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				received <- r.PostForm
				w.Header().Set("Cache-Control", "no-store")
				w.WriteHeader(http.StatusOK)
			}))
			defer rp.Close()
			const redirect = "https://rp.example/callback"
			cl, secret, err := e.svc.CreateOAuthClient(ctx, core.OAuthClientCreate{Label: "Dashboard", Website: "https://rp.example",
				RedirectURIs: []string{redirect}, BackchannelLogoutURI: rp.URL + "/backchannel-logout"})
			if err != nil {
				t.Fatal(err)
			}
			wctx, stop := context.WithCancel(ctx)
			worked := make(chan error, 1)
			go func() {
				worked <- e.svc.RunOutbox(wctx, core.OutboxLogout, &backchannel.Logouts{Tokens: e.svc}, core.OutboxOptions{Poll: 50 * time.Millisecond})
			}()
			defer func() { stop(); <-worked }()

			provider, err := oidc.NewProvider(ctx, e.srv.URL)
			if err != nil {
				t.Fatalf("discovery: %v", err)
			}
			var md struct {
				Backchannel bool   `json:"backchannel_logout_supported"`
				Session     bool   `json:"backchannel_logout_session_supported"`
				EndSession  string `json:"end_session_endpoint"`
			}
			if err := provider.Claims(&md); err != nil || !md.Backchannel || !md.Session {
				t.Fatalf("provider metadata: %+v %v", md, err)
			}
			conf := &oauth2.Config{ClientID: cl.ID, ClientSecret: secret, RedirectURL: redirect,
				Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID}}
			browser := client(t)
			e.signInBrowser(browser, "")
			pkce := oauth2.GenerateVerifier()
			back := e.consent(browser, conf.AuthCodeURL("st", oauth2.S256ChallengeOption(pkce)), url.Values{"decision": {"approve"}})
			tok, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(pkce))
			if err != nil {
				t.Fatal(err)
			}
			rawID, _ := tok.Extra("id_token").(string)
			idt, err := provider.Verifier(&oidc.Config{ClientID: cl.ID}).Verify(ctx, rawID)
			if err != nil {
				t.Fatal(err)
			}
			var session struct {
				SID string `json:"sid"`
			}
			if err := idt.Claims(&session); err != nil || session.SID == "" {
				t.Fatalf("the ID token has no sid: %v", err)
			}
			select {
			case f := <-received:
				t.Fatalf("a logout before any sign-out: %v", f)
			default:
			}

			// The relying party sends alice to sign out.
			q := url.Values{"id_token_hint": {rawID}, "post_logout_redirect_uri": {"https://rp.example/bye"}, "state": {"s1"}}
			resp, err := browser.Get(md.EndSession + "?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "https://rp.example/bye?state=s1" {
				t.Fatalf("end session: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
			}

			var form url.Values
			select {
			case form = <-received:
			case <-time.After(10 * time.Second):
				t.Fatal("no logout token reached the relying party in 10 s")
			}
			raw := form.Get("logout_token")
			jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256})
			if err != nil || jws.Signatures[0].Protected.ExtraHeaders["typ"] != "logout+jwt" {
				t.Fatalf("logout token %q: %v, header %+v", raw, err, jws)
			}
			payload, err := oidc.NewRemoteKeySet(ctx, e.srv.URL+"/oauth/jwks").VerifySignature(ctx, raw)
			if err != nil {
				t.Fatalf("the logout token's signature does not verify against the key set: %v", err)
			}
			var c logoutClaims
			if err := json.Unmarshal(payload, &c); err != nil {
				t.Fatal(err)
			}
			now := time.Now().Unix()
			_, event := c.Events[core.BackchannelLogoutEvent]
			if c.Issuer != idt.Issuer || c.Audience != cl.ID || c.Subject != itoa(alice.ID) || c.Subject != idt.Subject ||
				c.SID != session.SID || !event || c.Nonce != nil || c.JTI == "" || c.IssuedAt > now+5 || c.Expiry <= now {
				t.Fatalf("logout token claims %+v; ID token %+v sid %s", c, idt, session.SID)
			}
			if strings.Contains(string(payload), `"nonce"`) {
				t.Fatal("a logout token carries a nonce")
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				n, err := e.store.OutboxDepth(ctx, core.OutboxLogout)
				if err == nil && n == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("outbox depth %d, %v after the delivery", n, err)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// TestSignInEndsWithSession: a relying party that signs alice in with
// openid alone (go-oidc and golang.org/x/oauth2) loses her when she signs
// out of profiled, whether or not it takes logout tokens: its refresh
// token is refused and its access token no longer reads userinfo. One
// she let go on (offline_access, a line of the consent page) keeps
// refreshing.
func TestSignInEndsWithSession(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e, ctx := newEnv(t, b), t.Context()
			e.user("alice")
			const redirect = "https://rp.example/callback"
			cl, secret := e.app("Wiki", "https://rp.example", redirect)
			provider, err := oidc.NewProvider(ctx, e.srv.URL)
			if err != nil {
				t.Fatalf("discovery: %v", err)
			}
			var md struct {
				Scopes []string `json:"scopes_supported"`
			}
			if err := provider.Claims(&md); err != nil || !slices.Contains(md.Scopes, oidc.ScopeOfflineAccess) {
				t.Fatalf("scopes_supported %v (%v), want offline_access among them", md.Scopes, err)
			}
			browser := client(t)
			e.signInBrowser(browser, "")
			signIn := func(scopes ...string) (*oauth2.Config, *oauth2.Token) {
				conf := &oauth2.Config{ClientID: cl.ID, ClientSecret: secret, RedirectURL: redirect,
					Endpoint: provider.Endpoint(), Scopes: scopes}
				pkce := oauth2.GenerateVerifier()
				authURL := conf.AuthCodeURL("st", oauth2.S256ChallengeOption(pkce))
				if page := e.consentPage(browser, authURL); slices.Contains(scopes, oidc.ScopeOfflineAccess) &&
					!strings.Contains(page, "keep its access after you sign out") {
					t.Fatalf("the consent page does not ask for offline_access:\n%s", page)
				}
				back := e.consent(browser, authURL, url.Values{"decision": {"approve"}})
				tok, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(pkce))
				if err != nil {
					t.Fatal(err)
				}
				return conf, tok
			}
			boundConf, bound := signIn(oidc.ScopeOpenID)
			offlineConf, offline := signIn(oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
			if _, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(bound)); err != nil {
				t.Fatalf("userinfo before sign-out: %v", err)
			}

			resp, err := browser.Get(e.srv.URL + "/logout")
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()

			if _, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(bound)); err == nil {
				t.Fatal("the openid sign-in's access token read userinfo after sign-out")
			}
			expired := func(tok *oauth2.Token) *oauth2.Token {
				c := *tok
				c.Expiry = time.Now().Add(-time.Minute)
				return &c
			}
			if _, err := boundConf.TokenSource(ctx, expired(bound)).Token(); oauthCode(t, err) != "invalid_grant" {
				t.Fatalf("refreshing the openid sign-in after sign-out: %v, want invalid_grant", err)
			}
			refreshed, err := offlineConf.TokenSource(ctx, expired(offline)).Token()
			if err != nil {
				t.Fatalf("refreshing the offline_access sign-in after sign-out: %v", err)
			}
			if _, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(refreshed)); err != nil {
				t.Fatalf("userinfo with the refreshed offline_access token: %v", err)
			}
		})
	}
}
