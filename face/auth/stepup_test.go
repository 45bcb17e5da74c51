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

// TestClientRequiresSecondFactorPages: the authorization request of a
// client that requires a second factor, from a browser signed in on a
// trusted device (no code typed), signs it out and asks for the second
// factor, which the device does not skip then; back at the request, the
// consent gives a code whose ID token (go-oidc) holds mfa in amr. With
// prompt=none it is interaction_required; a user without TFA is told to
// turn it on; the device page asks for the second factor the same way.
func TestClientRequiresSecondFactorPages(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			ctx := context.Background()
			_, personal := e.user("alice")
			totpSecret, _ := e.enableTFA(personal)
			const redirect = "https://admin.example/cb"
			cl, clientSecret := e.app("Admin", "https://admin.example", redirect)
			yes := true
			if _, err := e.svc.UpdateOAuthClient(ctx, cl.ID, core.OAuthClientUpdate{RequireMFA: &yes}); err != nil {
				t.Fatal(err)
			}
			provider, err := oidc.NewProvider(ctx, e.srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			conf := &oauth2.Config{ClientID: cl.ID, ClientSecret: clientSecret, RedirectURL: redirect,
				Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID}}

			// A trusted device, then a sign-in on it without the code.
			browser := client(t)
			resp := e.form(browser, "/auth/signin", "/auth/signin", url.Values{"username": {"alice"}, "password": {password}, "remember_me": {"1"}})
			challenge := regexp.MustCompile(`name="challenge" value="([^"]+)"`).FindStringSubmatch(readAll(resp))
			if challenge == nil {
				t.Fatal("no TFA page after the password")
			}
			readAll(e.post(browser, "/auth/signin/tfa", withCSRF(browser, e, url.Values{"challenge": {challenge[1]}, "code": {e.code(totpSecret)}})))
			readAll(e.post(browser, "/auth/signout", withCSRF(browser, e, url.Values{})))
			resp = e.form(browser, "/auth/signin", "/auth/signin", url.Values{"username": {"alice"}, "password": {password}})
			if readAll(resp); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("a sign-in on the trusted device: %d, want 303 (no second factor)", resp.StatusCode)
			}

			verifier := oauth2.GenerateVerifier()
			authURL := conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier))
			silent, err := browser.Get(authURL + "&prompt=none")
			if err != nil {
				t.Fatal(err)
			}
			readAll(silent)
			if back, _ := url.Parse(silent.Header.Get("Location")); back == nil || back.Query().Get("error") != "interaction_required" {
				t.Fatalf("prompt=none without the second factor: %d to %q", silent.StatusCode, silent.Header.Get("Location"))
			}
			resp, err = browser.Get(authURL)
			if err != nil {
				t.Fatal(err)
			}
			readAll(resp)
			signInAt := resp.Header.Get("Location")
			if resp.StatusCode != http.StatusSeeOther || !strings.Contains(signInAt, "second_factor=1") {
				t.Fatalf("the request without the second factor: %d to %q, want the sign-in asking for it", resp.StatusCode, signInAt)
			}
			page, err := browser.Get(e.srv.URL + signInAt)
			if err != nil {
				t.Fatal(err)
			}
			form := pageForm(readAll(page))
			if form.Get("second_factor") != "1" || form.Get("next") == "" {
				t.Fatalf("the sign-in page does not carry the second factor: %v", form)
			}
			form.Set("username", "alice")
			form.Set("password", password)
			body := readAll(e.post(browser, "/auth/signin", form))
			challenge = regexp.MustCompile(`name="challenge" value="([^"]+)"`).FindStringSubmatch(body)
			if challenge == nil {
				t.Fatalf("the trusted device skipped the second factor that was asked for: %s", body)
			}
			e.clock.Advance(30 * time.Second) // past the step used
			tfa := pageForm(body)
			tfa.Set("code", e.code(totpSecret))
			resp = e.post(browser, "/auth/signin/tfa", tfa)
			readAll(resp)
			next := resp.Header.Get("Location")
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(next, "/oauth/authorize?") {
				t.Fatalf("after the second factor: %d to %q, want the request again", resp.StatusCode, next)
			}
			back := e.consent(browser, e.srv.URL+next, url.Values{"decision": {"approve"}})
			tok, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := tok.Extra("id_token").(string)
			idt, err := provider.Verifier(&oidc.Config{ClientID: cl.ID}).Verify(ctx, raw)
			if err != nil {
				t.Fatal(err)
			}
			var claims struct {
				AMR []string `json:"amr"`
			}
			if err := idt.Claims(&claims); err != nil || !slices.Contains(claims.AMR, "mfa") {
				t.Fatalf("the ID token's amr: %v %v", claims.AMR, err)
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
			readAll(e.post(browser, "/auth/signout", withCSRF(browser, e, url.Values{})))
			readAll(e.form(browser, "/auth/signin", "/auth/signin", url.Values{"username": {"alice"}, "password": {password}}))
			resp = e.form(browser, "/oauth/device", "/oauth/device", url.Values{"user_code": {da.UserCode}})
			readAll(resp)
			if at := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.Contains(at, "second_factor=1") ||
				!strings.Contains(at, url.QueryEscape("/oauth/device?user_code=")) {
				t.Fatalf("the device page without the second factor: %d to %q", resp.StatusCode, at)
			}

			// A user without TFA learns what to do.
			e.user("bob")
			bobs := client(t)
			readAll(e.form(bobs, "/auth/signin", "/auth/signin", url.Values{"username": {"bob"}, "password": {password}}))
			resp, err = bobs.Get(conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
			if err != nil {
				t.Fatal(err)
			}
			if body := html.UnescapeString(readAll(resp)); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "turn it on") {
				t.Fatalf("a user without TFA: %d %s", resp.StatusCode, body)
			}
		})
	}
}

// withCSRF is fields with the CSRF token of the sign-in page, as c has it.
func withCSRF(c *http.Client, e *env, fields url.Values) url.Values {
	e.t.Helper()
	resp, err := c.Get(e.srv.URL + "/auth/signin")
	if err != nil {
		e.t.Fatal(err)
	}
	m := csrfPattern.FindStringSubmatch(readAll(resp))
	if m == nil {
		e.t.Fatal("no CSRF token on the sign-in page")
	}
	fields.Set("csrf_token", m[1])
	return fields
}
