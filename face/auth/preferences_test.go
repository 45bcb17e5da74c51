package auth_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/testenv"
)

// prefsPath is a namespace of the PACE face.
func prefsPath(namespace string) string { return "/user/2025-1/preferences/" + namespace }

// wantCode checks a JSON:API error body of the PACE face has code.
func wantCode(t *testing.T, body []byte, code string) {
	t.Helper()
	var doc struct{ Errors []struct{ Code string } }
	if err := jsonUnmarshal(string(body), &doc); err != nil || len(doc.Errors) != 1 || doc.Errors[0].Code != code {
		t.Fatalf("error body %s, want code %q", body, code)
	}
}

// selected returns the value selected in the consent page's line key.
func selected(t *testing.T, page, key string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<select id="scope_` + regexp.QuoteMeta(key) + `" name="scope_` + regexp.QuoteMeta(key) + `">(.*?)</select>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the consent page has no line %s: %s", key, page)
	}
	sel := regexp.MustCompile(`<option value="([a-z_]*)" selected>`).FindStringSubmatch(m[1])
	if sel == nil {
		t.Fatalf("nothing is selected on the line %s: %s", key, m[1])
	}
	return sel[1]
}

// TestOAuthPreferencesScopes runs the OAuth flow for the preferences scopes
// of the PACE face: the consent page shows each one and lets the user
// narrow it, and the token the application gets opens the namespaces
// granted, on /user/{version}/preferences/{clientId}, and no other.
func TestOAuthPreferencesScopes(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			ctx := context.Background()
			_, personal := e.user("alice")
			const redirect = "https://prefs.example/callback"
			app, appSecret := e.app("Prefs App", "https://prefs.example", redirect)
			other, _ := e.app("Other App", "https://other.example", "https://other.example/cb")
			// Something in every namespace, with alice's "*" token.
			for _, ns := range []string{app.ID, other.ID, core.PersonalNamespace} {
				e.call("PUT", prefsPath(ns), personal, `{"owner":"`+ns+`"}`, 200, nil)
			}
			browser := client(t)
			e.signInBrowser(browser, "")
			conf := func(scope string) *oauth2.Config {
				return &oauth2.Config{ClientID: app.ID, ClientSecret: appSecret, RedirectURL: redirect, Scopes: []string{scope},
					Endpoint: e.endpoint()}
			}
			// authorize returns the consent page for scope and the URL that opens it.
			authorize := func(scope string) (string, string) {
				u := conf(scope).AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
				return e.consentPage(browser, u), u
			}
			// grant consents to scope with the form's overrides and returns
			// the access token and the scopes granted.
			grant := func(scope string, fields url.Values) (string, string) {
				t.Helper()
				verifier := oauth2.GenerateVerifier()
				c := conf(scope)
				fields.Set("decision", "approve")
				back := e.consent(browser, c.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), fields)
				tok, err := c.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
				if err != nil {
					t.Fatalf("exchange for %q: %v", scope, err)
				}
				granted, _ := tok.Extra("scope").(string)
				return tok.AccessToken, granted
			}
			// opens checks what token may read: namespaces in readable
			// answer their object, the others 403 insufficient-scope.
			opens := func(token string, readable ...string) {
				t.Helper()
				for _, ns := range []string{app.ID, other.ID, core.PersonalNamespace} {
					if strings.Contains(" "+strings.Join(readable, " ")+" ", " "+ns+" ") {
						var got map[string]string
						e.call("GET", prefsPath(ns), token, "", 200, &got)
						if got["owner"] != ns {
							t.Fatalf("GET %s: %v", prefsPath(ns), got)
						}
						continue
					}
					wantCode(t, e.call("GET", prefsPath(ns), token, "", 403, nil), core.CodeInsufficientScope)
				}
			}

			// Its own namespace, to read and write: two lines, both given.
			page, _ := authorize("user:preferences:read user:preferences:write")
			for _, key := range []string{"user:preferences:read", "user:preferences:write"} {
				if v := selected(t, page, key); v != core.ConsentAllow {
					t.Fatalf("line %s: %q selected", key, v)
				}
			}
			if !strings.Contains(page, "read this application&#39;s preferences") || !strings.Contains(page, "write this application&#39;s preferences") ||
				strings.Contains(page, `id="all-scopes"`) {
				t.Fatalf("the consent page for its own preferences: %s", page)
			}
			token, scopes := grant("user:preferences:read user:preferences:write", url.Values{})
			if scopes != "user:preferences:read user:preferences:write" {
				t.Fatalf("granted %q", scopes)
			}
			e.call("PUT", prefsPath(app.ID), token, `{"owner":"`+app.ID+`","theme":"dark"}`, 200, nil)
			opens(token, app.ID)
			e.call("PUT", prefsPath(other.ID), token, `{"owner":"x"}`, 403, nil)
			e.call("PUT", prefsPath(core.PersonalNamespace), token, `{"owner":"x"}`, 403, nil)

			// The user narrows it to reading.
			token, scopes = grant("user:preferences:read user:preferences:write", url.Values{"scope_user:preferences:write": {""}})
			if scopes != "user:preferences:read" {
				t.Fatalf("granted %q", scopes)
			}
			var got map[string]string
			e.call("GET", prefsPath(app.ID), token, "", 200, &got)
			if got["theme"] != "dark" {
				t.Fatalf("GET its own namespace: %v", got)
			}
			opens(token, app.ID)
			wantCode(t, e.call("PUT", prefsPath(app.ID), token, `{"owner":"x"}`, 403, nil), core.CodeInsufficientScope)

			// Other namespaces, named: a line each.
			qualified := "user:preferences:read:" + other.ID + " user:preferences:read:personal"
			page, _ = authorize(qualified)
			if !strings.Contains(page, "read the preferences of the application "+other.ID) ||
				!strings.Contains(page, "read your personal preferences") ||
				selected(t, page, "user:preferences:read:"+other.ID) != core.ConsentAllow ||
				selected(t, page, "user:preferences:read:personal") != core.ConsentAllow {
				t.Fatalf("the consent page for other namespaces: %s", page)
			}
			token, scopes = grant(qualified, url.Values{"scope_user:preferences:read:personal": {""}})
			if scopes != "user:preferences:read:"+other.ID {
				t.Fatalf("granted %q", scopes)
			}
			opens(token, other.ID)

			// "*" says it includes every namespace.
			page, allURL := authorize("*")
			if m := regexp.MustCompile(`<p id="all-scopes">([^<]*)</p>`).FindStringSubmatch(page); m == nil ||
				!strings.Contains(m[1], "every preferences namespace") {
				t.Fatalf("the consent page for * does not say it includes every preferences namespace: %s", page)
			}
			for _, key := range []string{"user:preferences:read", "user:preferences:write"} {
				if v := selected(t, page, key); v != core.ConsentEvery {
					t.Fatalf("line %s of *: %q selected", key, v)
				}
			}
			if v := selected(t, page, "linodes"); v != core.ReadWrite {
				t.Fatalf("line linodes of *: %q selected", v)
			}
			token, scopes = grant("*", url.Values{})
			if scopes != "*" {
				t.Fatalf("granted %q", scopes)
			}
			opens(token, app.ID, other.ID, core.PersonalNamespace)
			// Every namespace comes with "*" alone.
			resp := e.submitConsent(browser, allURL, url.Values{"decision": {"approve"}, "scope_linodes": {"read_only"}})
			if body := readAll(resp); resp.StatusCode != 400 || !strings.Contains(body, `id="error"`) {
				t.Fatalf("every namespace with linodes lowered: %d %s", resp.StatusCode, body)
			}
			// Lowered "*": the application's own namespace.
			token, scopes = grant("*", url.Values{"scope_linodes": {"read_only"},
				"scope_user:preferences:read": {"allow"}, "scope_user:preferences:write": {""}})
			if !strings.Contains(" "+scopes+" ", " linodes:read_only ") || !strings.Contains(" "+scopes+" ", " user:preferences:read ") ||
				strings.Contains(scopes, "user:preferences:write") || strings.Contains(scopes, "*") {
				t.Fatalf("granted %q", scopes)
			}
			opens(token, app.ID)
			wantCode(t, e.call("PUT", prefsPath(app.ID), token, `{"owner":"x"}`, 403, nil), core.CodeInsufficientScope)

			// A choice the line does not offer is refused.
			_, ownURL := authorize("user:preferences:read")
			for _, v := range []string{core.ConsentEvery, core.ReadOnly, "granted"} {
				resp := e.submitConsent(browser, ownURL, url.Values{"decision": {"approve"}, "scope_user:preferences:read": {v}})
				if body := readAll(resp); resp.StatusCode != 400 || !strings.Contains(body, `id="error"`) {
					t.Fatalf("consent with %q: %d %s", v, resp.StatusCode, body)
				}
			}
		})
	}
}
