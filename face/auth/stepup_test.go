package auth_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/testenv"
)

var challengeField = regexp.MustCompile(`name="challenge" value="([^"]+)"`)

// TestClientRequiresSecondFactorPages: the authorization request of a
// client that requires a second factor, from a browser signed in on a
// trusted device (no code typed), asks for the code in the same session:
// a wrong one is refused, the right one goes back to the request, whose
// ID token (go-oidc) then holds mfa in amr, and the application the
// session signed in to before keeps its tokens. A browser not signed in
// signs in with the code, which its trusted device does not skip then.
// With prompt=none it is interaction_required; the device page asks the
// same way; a user without TFA is told to turn it on.
func TestClientRequiresSecondFactorPages(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			ctx := context.Background()
			_, personal := e.user("alice")
			totpSecret, _ := e.enableTFA(personal)
			const redirect = "https://admin.example/cb"
			admin, adminSecret := e.app("Admin", "https://admin.example", redirect)
			yes := true
			if _, err := e.svc.UpdateOAuthClient(ctx, admin.ID, core.OAuthClientUpdate{RequireMFA: &yes}); err != nil {
				t.Fatal(err)
			}
			wiki, wikiSecret := e.app("Wiki", "https://wiki.example", "https://wiki.example/cb")
			provider, err := oidc.NewProvider(ctx, e.srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			conf := &oauth2.Config{ClientID: admin.ID, ClientSecret: adminSecret, RedirectURL: redirect,
				Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID}}
			wikiConf := &oauth2.Config{ClientID: wiki.ID, ClientSecret: wikiSecret, RedirectURL: "https://wiki.example/cb",
				Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID}}
			exchange := func(c *oauth2.Config, back *url.URL, verifier string) *oauth2.Token {
				t.Helper()
				tok, err := c.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
				if err != nil {
					t.Fatal(err)
				}
				return tok
			}
			amr := func(tok *oauth2.Token) []string {
				t.Helper()
				raw, _ := tok.Extra("id_token").(string)
				idt, err := provider.Verifier(&oidc.Config{ClientID: admin.ID}).Verify(ctx, raw)
				if err != nil {
					t.Fatal(err)
				}
				var claims struct {
					AMR []string `json:"amr"`
				}
				if err := idt.Claims(&claims); err != nil {
					t.Fatal(err)
				}
				return claims.AMR
			}
			get := func(c *http.Client, at string) (*http.Response, string) {
				t.Helper()
				resp, err := c.Get(at)
				if err != nil {
					t.Fatal(err)
				}
				return resp, readAll(resp)
			}
			approve := map[string][]string{"decision": {"approve"}}

			// A trusted device, then a sign-in on it without the code, and
			// a sign-in to the wiki from that session.
			browser := client(t)
			body := readAll(e.form(browser, "/auth/signin", "/auth/signin", url.Values{"username": {"alice"}, "password": {password}, "remember_me": {"1"}}))
			tfa := pageForm(body)
			tfa.Set("code", e.code(totpSecret))
			readAll(e.post(browser, "/auth/signin/tfa", tfa))
			readAll(e.form(browser, "/auth/signin", "/auth/signout", url.Values{}))
			resp := e.form(browser, "/auth/signin", "/auth/signin", url.Values{"username": {"alice"}, "password": {password}})
			if readAll(resp); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("a sign-in on the trusted device: %d, want 303 (no second factor)", resp.StatusCode)
			}
			wikiVerifier := oauth2.GenerateVerifier()
			wikiTok := exchange(wikiConf, e.consent(browser, wikiConf.AuthCodeURL("w", oauth2.S256ChallengeOption(wikiVerifier)), approve), wikiVerifier)
			// The wiki does not require the factor, but may ask for it.
			acr := oauth2.SetAuthURLParam("acr_values", core.ACRMultiFactor)
			if resp, _ := get(browser, wikiConf.AuthCodeURL("w", oauth2.S256ChallengeOption(wikiVerifier), acr)); resp.StatusCode != http.StatusSeeOther ||
				!strings.HasPrefix(resp.Header.Get("Location"), "/auth/signin/confirm?") {
				t.Fatalf("acr_values asking for the second factor: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
			}

			verifier := oauth2.GenerateVerifier()
			authURL := conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier))
			silent, _ := get(browser, authURL+"&prompt=none")
			if back, _ := url.Parse(silent.Header.Get("Location")); back == nil || back.Query().Get("error") != "interaction_required" {
				t.Fatalf("prompt=none without the second factor: %d to %q", silent.StatusCode, silent.Header.Get("Location"))
			}
			resp, _ = get(browser, authURL)
			confirmAt := resp.Header.Get("Location")
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(confirmAt, "/auth/signin/confirm?") {
				t.Fatalf("the request without the second factor: %d to %q, want the page asking for it", resp.StatusCode, confirmAt)
			}
			_, page := get(browser, e.srv.URL+confirmAt)
			form := pageForm(page)
			if form.Get("next") == "" || !strings.Contains(page, `id="second-factor"`) {
				t.Fatalf("the page asking for the second factor: %s", page)
			}
			form.Set("code", "000000")
			if resp := e.post(browser, "/auth/signin/confirm", form); resp.StatusCode != http.StatusUnauthorized ||
				!strings.Contains(readAll(resp), `id="error"`) {
				t.Fatalf("a wrong code: %d", resp.StatusCode)
			}
			e.clock.Advance(30 * time.Second) // past the step the sign-in used
			form.Set("code", e.code(totpSecret))
			resp = e.post(browser, "/auth/signin/confirm", form)
			readAll(resp)
			next := resp.Header.Get("Location")
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(next, "/oauth/authorize?") {
				t.Fatalf("after the second factor: %d to %q, want the request again", resp.StatusCode, next)
			}
			if got := amr(exchange(conf, e.consent(browser, e.srv.URL+next, approve), verifier)); !slices.Contains(got, "mfa") {
				t.Fatalf("the ID token's amr: %v", got)
			}
			var info map[string]any
			e.call("GET", "/oauth/userinfo", wikiTok.AccessToken, "", 200, &info) // the session, and the wiki's sign-in, go on
			// Now the session holds the factor: the wiki's ID token says so.
			wikiVerifier = oauth2.GenerateVerifier()
			wikiTok = exchange(wikiConf, e.consent(browser, wikiConf.AuthCodeURL("w", oauth2.S256ChallengeOption(wikiVerifier), acr), approve), wikiVerifier)
			raw, _ := wikiTok.Extra("id_token").(string)
			idt, err := provider.Verifier(&oidc.Config{ClientID: wiki.ID}).Verify(ctx, raw)
			var wikiClaims struct {
				ACR string `json:"acr"`
			}
			if err != nil || idt.Claims(&wikiClaims) != nil || wikiClaims.ACR != core.ACRMultiFactor {
				t.Fatalf("the wiki's ID token after acr_values: %+v %v", wikiClaims, err)
			}
			var md struct {
				ACRs []string `json:"acr_values_supported"`
			}
			if err := provider.Claims(&md); err != nil || !slices.Equal(md.ACRs, []string{core.ACRMultiFactor}) {
				t.Fatalf("acr_values_supported: %v %v", md.ACRs, err)
			}

			// Not signed in: the sign-in asks for the code, which the
			// trusted device does not skip then.
			readAll(e.form(browser, "/auth/signin", "/auth/signout", url.Values{}))
			verifier = oauth2.GenerateVerifier()
			resp, _ = get(browser, conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
			signInAt := resp.Header.Get("Location")
			if resp.StatusCode != http.StatusSeeOther || !strings.Contains(signInAt, "second_factor=1") {
				t.Fatalf("the request, signed out: %d to %q, want the sign-in asking for the second factor", resp.StatusCode, signInAt)
			}
			_, page = get(browser, e.srv.URL+signInAt)
			form = pageForm(page)
			if form.Get("second_factor") != "1" || form.Get("next") == "" {
				t.Fatalf("the sign-in page does not carry the second factor: %v", form)
			}
			form.Set("username", "alice")
			form.Set("password", password)
			body = readAll(e.post(browser, "/auth/signin", form))
			if challengeField.FindStringSubmatch(body) == nil {
				t.Fatalf("the trusted device skipped the second factor that was asked for: %s", body)
			}
			e.clock.Advance(30 * time.Second) // past the step used
			tfa = pageForm(body)
			tfa.Set("code", e.code(totpSecret))
			resp = e.post(browser, "/auth/signin/tfa", tfa)
			readAll(resp)
			if next = resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(next, "/oauth/authorize?") {
				t.Fatalf("after the sign-in: %d to %q, want the request again", resp.StatusCode, next)
			}
			if got := amr(exchange(conf, e.consent(browser, e.srv.URL+next, approve), verifier)); !slices.Contains(got, "mfa") {
				t.Fatalf("the ID token's amr: %v", got)
			}

			// The device page asks for it the same way.
			cli, _, err := e.svc.CreateOAuthClient(ctx, core.OAuthClientCreate{Label: "Deploy CLI", Website: "https://cli.example",
				RedirectURIs: []string{"http://127.0.0.1/cb"}, Public: true, DeviceGrant: true, RequireMFA: true})
			if err != nil {
				t.Fatal(err)
			}
			var da struct {
				UserCode string `json:"user_code"`
			}
			if err := jsonUnmarshal(readAll(e.post(http.DefaultClient, "/oauth/device_authorization", url.Values{"client_id": {cli.ID}})), &da); err != nil || da.UserCode == "" {
				t.Fatalf("device authorization: %+v %v", da, err)
			}
			readAll(e.form(browser, "/auth/signin", "/auth/signout", url.Values{}))
			readAll(e.form(browser, "/auth/signin", "/auth/signin", url.Values{"username": {"alice"}, "password": {password}}))
			resp = e.form(browser, "/oauth/device", "/oauth/device", url.Values{"user_code": {da.UserCode}})
			readAll(resp)
			if at := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(at, "/auth/signin/confirm?") ||
				!strings.Contains(at, url.QueryEscape("/oauth/device?user_code=")) {
				t.Fatalf("the device page without the second factor: %d to %q", resp.StatusCode, at)
			}

			// A user without TFA learns what to do.
			e.user("bob")
			bobs := client(t)
			readAll(e.form(bobs, "/auth/signin", "/auth/signin", url.Values{"username": {"bob"}, "password": {password}}))
			resp, body = get(bobs, conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
			if body = html.UnescapeString(body); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "turn it on") {
				t.Fatalf("a user without TFA: %d %s", resp.StatusCode, body)
			}
		})
	}
}
