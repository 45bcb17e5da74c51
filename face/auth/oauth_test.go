package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/testenv"
)

// signInBrowser signs alice in through the pages with the client's jar.
func (e *env) signInBrowser(c *http.Client, secret string) {
	e.t.Helper()
	resp := e.form(c, "/auth/signin", "/auth/signin", url.Values{"username": {"alice"}, "password": {password}})
	body := readAll(resp)
	if secret != "" {
		m := regexp.MustCompile(`name="challenge" value="([^"]+)"`).FindStringSubmatch(body)
		if m == nil {
			e.t.Fatalf("no TFA page after the password: %d %s", resp.StatusCode, body)
		}
		resp = e.form(c, "/auth/signin", "/auth/signin/tfa", url.Values{"challenge": {m[1]}, "code": {e.code(secret)}})
		readAll(resp)
	}
	if resp.StatusCode != 303 {
		e.t.Fatalf("sign-in through the pages: %d", resp.StatusCode)
	}
}

// consentPage opens authURL in the signed-in browser c and returns the
// consent page. Without a prompt of its own, authURL is sent with
// prompt=consent, so that the page shows even when the user's consent is
// known (TestOAuthKnownConsent).
func (e *env) consentPage(c *http.Client, authURL string) string {
	e.t.Helper()
	if u, err := url.Parse(authURL); err == nil && !u.Query().Has("prompt") {
		q := u.Query()
		q.Set("prompt", "consent")
		u.RawQuery = q.Encode()
		authURL = u.String()
	}
	resp, err := c.Get(authURL)
	if err != nil {
		e.t.Fatal(err)
	}
	body := readAll(resp)
	if resp.StatusCode != 200 {
		e.t.Fatalf("GET %s: %d %s", authURL, resp.StatusCode, body)
	}
	return body
}

// submitConsent opens authURL in the signed-in browser c and submits the
// consent form, as the page fills it, with the given overrides.
func (e *env) submitConsent(c *http.Client, authURL string, fields url.Values) *http.Response {
	e.t.Helper()
	form := pageForm(e.consentPage(c, authURL))
	for k, v := range fields {
		form[k] = v
	}
	return e.post(c, "/oauth/authorize", form)
}

// pageForm is the form of a page as a browser would send it untouched:
// its hidden fields and the option each select has selected.
func pageForm(body string) url.Values {
	form := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(body, -1) {
		form.Set(m[1], htmlUnescape(m[2]))
	}
	for _, m := range regexp.MustCompile(`(?s)<select id="scope_([^"]+)" name="[^"]+">(.*?)</select>`).FindAllStringSubmatch(body, -1) {
		sel := regexp.MustCompile(`<option value="([a-z_]+)" selected>`).FindStringSubmatch(m[2])
		if sel != nil {
			form.Set("scope_"+m[1], sel[1])
		}
	}
	return form
}

// consent submits the consent form (see submitConsent) and returns where
// it redirects.
func (e *env) consent(c *http.Client, authURL string, fields url.Values) *url.URL {
	e.t.Helper()
	resp := e.submitConsent(c, authURL, fields)
	b := readAll(resp)
	if resp.StatusCode != 303 {
		e.t.Fatalf("consent: %d %s", resp.StatusCode, b)
	}
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// endpoint is the test server's authorization and token endpoints, for
// golang.org/x/oauth2.
func (e *env) endpoint() oauth2.Endpoint {
	return oauth2.Endpoint{AuthURL: e.srv.URL + "/oauth/authorize", TokenURL: e.srv.URL + "/oauth/token"}
}

// approved signs a new browser in as the password's user, approves the
// authorization request of conf and redeems its code.
func (e *env) approved(conf *oauth2.Config) *oauth2.Token {
	e.t.Helper()
	browser := client(e.t)
	e.signInBrowser(browser, "")
	back := e.consent(browser, conf.AuthCodeURL("s"), url.Values{"decision": {"approve"}})
	tok, err := conf.Exchange(context.Background(), back.Query().Get("code"))
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&#43;", "+").Replace(s)
}

func oauthCode(t *testing.T, err error) string {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("got %v, want an OAuth error", err)
	}
	return re.ErrorCode
}

func TestOAuthAuthorizationCode(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			ctx := context.Background()
			_, personal := e.user("alice")
			secret, _ := e.enableTFA(personal)
			const redirect = "https://app.example/callback"
			cl, clientSecret := e.app("Example App", "https://app.example", redirect, "http://127.0.0.1/other")
			conf := &oauth2.Config{ClientID: cl.ID, ClientSecret: clientSecret, RedirectURL: redirect,
				Scopes:   []string{"account:read_write linodes:read_only"},
				Endpoint: e.endpoint()}
			browser := client(t)

			// Not signed in: the sign-in page first, which comes back.
			verifier := oauth2.GenerateVerifier()
			authURL := conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier))
			resp, _ := browser.Get(authURL)
			readAll(resp)
			if loc := resp.Header.Get("Location"); resp.StatusCode != 303 || !strings.HasPrefix(loc, "/auth/signin?next=%2Foauth%2Fauthorize") {
				t.Fatalf("authorize before sign-in: %d to %q", resp.StatusCode, loc)
			}
			e.signInBrowser(browser, secret)

			// Consent, narrowing account to read_only.
			back := e.consent(browser, authURL, url.Values{"decision": {"approve"}, "scope_account": {"read_only"}})
			code := back.Query().Get("code")
			if back.Scheme+"://"+back.Host+back.Path != redirect || back.Query().Get("state") != "st4te" || code == "" {
				t.Fatalf("consent redirected to %s", back)
			}
			// RFC 9207: the issuer of the metadata, so a client of several
			// servers knows which one answered.
			if iss := back.Query().Get("iss"); iss != e.srv.URL {
				t.Fatalf("the authorization response's iss is %q, want %q", iss, e.srv.URL)
			}
			// The wrong verifier fails and does not spend the code.
			_, err := conf.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
			if c := oauthCode(t, err); c != "invalid_grant" {
				t.Fatalf("a wrong verifier: %s", c)
			}
			tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			if tok.Extra("scope") != "account:read_only linodes:read_only" || tok.RefreshToken == "" ||
				time.Until(tok.Expiry) < 50*time.Minute {
				t.Fatalf("token = %+v scope %v", tok, tok.Extra("scope"))
			}
			api := conf.Client(ctx, tok)
			resp, err = api.Get(e.srv.URL + "/v4/profile")
			if err != nil || resp.StatusCode != 200 || resp.Header.Get("X-OAuth-Scopes") != "account:read_only linodes:read_only" {
				t.Fatalf("profile with the access token: %v %v", resp, err)
			}
			readAll(resp)
			// read_only: no writes.
			e.call("PUT", "/v4/profile/preferences", tok.AccessToken, `{"a":1}`, 401, nil)

			// The authorization is an app.
			var apps struct {
				Data []struct {
					ID      int64
					Label   string
					Scopes  string
					Website string
				}
			}
			e.call("GET", "/v4/profile/apps", personal, "", 200, &apps)
			if len(apps.Data) != 1 || apps.Data[0].Label != "Example App" || apps.Data[0].Scopes != "account:read_only linodes:read_only" ||
				apps.Data[0].Website != "https://app.example" {
				t.Fatalf("apps = %+v", apps.Data)
			}

			// A code works once; a replay revokes what it gave.
			_, err = conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
			if c := oauthCode(t, err); c != "invalid_grant" {
				t.Fatalf("a replayed code: %s", c)
			}
			e.call("GET", "/v4/profile", tok.AccessToken, "", 401, nil)
			e.call("GET", "/v4/profile/apps", personal, "", 200, &apps)
			if len(apps.Data) != 0 {
				t.Fatalf("apps after a replayed code = %+v", apps.Data)
			}

			// Again, for refresh rotation.
			verifier = oauth2.GenerateVerifier()
			authURL = conf.AuthCodeURL("s2", oauth2.S256ChallengeOption(verifier))
			back = e.consent(browser, authURL, url.Values{"decision": {"approve"}})
			tok, err = conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			if tok.Extra("scope") != "account:read_write linodes:read_only" {
				t.Fatalf("scope %v", tok.Extra("scope"))
			}
			// Preferences live in the client's namespace.
			e.call("PUT", "/v4/profile/preferences", tok.AccessToken, `{"theme":"dark"}`, 200, nil)
			var prefs map[string]any
			e.call("GET", "/v4/profile/preferences", personal, "", 200, &prefs)
			if len(prefs) != 0 {
				t.Fatalf("the personal namespace has %v", prefs)
			}
			// The authorization lives as long as its refresh token, and a
			// refresh moves its expiry.
			appExpiry := func() string {
				var page struct{ Data []struct{ Expiry *string } }
				e.call("GET", "/v4/profile/apps", personal, "", 200, &page)
				if len(page.Data) != 1 || page.Data[0].Expiry == nil {
					t.Fatalf("apps: %+v", page.Data)
				}
				return *page.Data[0].Expiry
			}
			inThirtyDays := func() string { return e.clock.Now().Add(core.RefreshTokenLifetime).Format("2006-01-02T15:04:05") }
			if got, want := appExpiry(), inThirtyDays(); got != want {
				t.Fatalf("a new authorization's expiry: %s, want %s", got, want)
			}
			e.clock.Advance(10 * time.Minute)
			first := *tok
			expired := first
			expired.Expiry = time.Now().Add(-time.Minute)
			rotated, err := conf.TokenSource(ctx, &expired).Token()
			if err != nil {
				t.Fatal(err)
			}
			if got, want := appExpiry(), inThirtyDays(); got != want {
				t.Fatalf("the authorization's expiry after a refresh: %s, want %s", got, want)
			}
			if rotated.AccessToken == first.AccessToken || rotated.RefreshToken == first.RefreshToken {
				t.Fatal("refresh did not rotate the tokens")
			}
			e.call("GET", "/v4/profile", rotated.AccessToken, "", 200, nil)
			e.call("GET", "/v4/profile", first.AccessToken, "", 200, nil) // access tokens live out their hour
			// Reusing the rotated refresh token revokes the authorization.
			_, err = conf.TokenSource(ctx, &expired).Token()
			if c := oauthCode(t, err); c != "invalid_grant" {
				t.Fatalf("a reused refresh token: %s", c)
			}
			for _, a := range []string{first.AccessToken, rotated.AccessToken} {
				e.call("GET", "/v4/profile", a, "", 401, nil)
			}
			rotated.Expiry = time.Now().Add(-time.Minute)
			if _, err = conf.TokenSource(ctx, rotated).Token(); oauthCode(t, err) != "invalid_grant" {
				t.Fatal("the newest refresh token survived the revocation")
			}

			// Revoking through /v4/profile/apps kills access and refresh tokens at once.
			verifier = oauth2.GenerateVerifier()
			back = e.consent(browser, conf.AuthCodeURL("s3", oauth2.S256ChallengeOption(verifier)), url.Values{"decision": {"approve"}})
			tok, err = conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			e.call("GET", "/v4/profile/apps", personal, "", 200, &apps)
			if len(apps.Data) != 1 {
				t.Fatalf("apps = %+v", apps.Data)
			}
			e.call("DELETE", fmt.Sprintf("/v4/profile/apps/%d", apps.Data[0].ID), personal, "", 200, nil)
			e.call("GET", "/v4/profile", tok.AccessToken, "", 401, nil)
			tok.Expiry = time.Now().Add(-time.Minute)
			if _, err = conf.TokenSource(ctx, tok).Token(); oauthCode(t, err) != "invalid_grant" {
				t.Fatal("the refresh token survived DELETE /v4/profile/apps")
			}

			// Deny.
			back = e.consent(browser, conf.AuthCodeURL("s4"), url.Values{"decision": {"deny"}})
			if back.Query().Get("error") != "access_denied" || back.Query().Get("state") != "s4" || back.Query().Get("iss") != e.srv.URL {
				t.Fatalf("deny redirected to %s", back)
			}
			// The client's secret is checked.
			bad := *conf
			bad.ClientSecret = "wrong"
			if _, err = bad.Exchange(ctx, "whatever"); oauthCode(t, err) != "invalid_client" {
				t.Fatal("a wrong client secret was accepted")
			}
		})
	}
}

func TestOAuthPublicClientAndErrors(t *testing.T) {
	e := newEnv(t, testenv.Backends(t)[0])
	ctx := context.Background()
	e.user("alice")
	const redirect = "http://127.0.0.1:9/cb"
	cl, sec, err := e.svc.CreateOAuthClient(ctx, core.OAuthClientCreate{Label: "CLI", Website: "https://cli.example",
		RedirectURIs: []string{redirect}, Public: true})
	if err != nil || sec != "" {
		t.Fatalf("public client: %v, secret %q", err, sec)
	}
	browser := client(t)
	e.signInBrowser(browser, "")
	authz := func(q url.Values) *http.Response {
		resp, err := browser.Get(e.srv.URL + "/oauth/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	// Errors the application cannot be trusted with are shown to the user.
	for _, q := range []url.Values{
		{"response_type": {"code"}},
		{"client_id": {"nope"}, "response_type": {"code"}},
		{"client_id": {cl.ID}, "redirect_uri": {"https://evil.example/cb"}, "response_type": {"code"}},
	} {
		resp := authz(q)
		if body := readAll(resp); resp.StatusCode != 400 || !strings.Contains(body, `id="error"`) {
			t.Fatalf("authorize %v: %d %s", q, resp.StatusCode, body)
		}
	}
	// Others go back to the application.
	for q, want := range map[string]string{
		"response_type=token":           "unsupported_response_type",
		"response_type=code":            "invalid_request", // no PKCE for a public client
		"response_type=code&scope=root": "invalid_scope",
		"response_type=code&code_challenge=abc&code_challenge_method=plain": "invalid_request",
	} {
		resp := authz(mustQuery(t, q+"&state=x&client_id="+cl.ID))
		readAll(resp)
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != 303 || loc.Query().Get("error") != want || loc.Query().Get("state") != "x" || loc.Query().Get("iss") != e.srv.URL {
			t.Fatalf("authorize %s: %d to %s, want error %s", q, resp.StatusCode, loc, want)
		}
	}
	// A public client with PKCE, no secret.
	conf := &oauth2.Config{ClientID: cl.ID, RedirectURL: redirect, Scopes: []string{"account:read_only"},
		Endpoint: oauth2.Endpoint{AuthURL: e.srv.URL + "/oauth/authorize", TokenURL: e.srv.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams}}
	verifier := oauth2.GenerateVerifier()
	back := e.consent(browser, conf.AuthCodeURL("p", oauth2.S256ChallengeOption(verifier)), url.Values{"decision": {"approve"}})
	if _, err := conf.Exchange(ctx, back.Query().Get("code")); oauthCode(t, err) != "invalid_grant" {
		t.Fatal("an exchange without the verifier was accepted")
	}
	tok, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	e.call("GET", "/v4/profile", tok.AccessToken, "", 200, nil)
	// Granting nothing is refused, granting more than asked too.
	for _, f := range []url.Values{{"scope_account": {""}}, {"scope_account": {"read_write"}}, {"scope_account": {"root"}}} {
		resp, _ := browser.Get(conf.AuthCodeURL("p", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "consent")))
		body := readAll(resp)
		form := url.Values{"decision": {"approve"}}
		for _, m := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(body, -1) {
			form.Set(m[1], htmlUnescape(m[2]))
		}
		for k, v := range f {
			form[k] = v
		}
		resp = e.post(browser, "/oauth/authorize", form)
		if b := readAll(resp); resp.StatusCode != 400 || !strings.Contains(b, `id="error"`) {
			t.Fatalf("consent with %v: %d %s", f, resp.StatusCode, b)
		}
	}
	// The token endpoint's own errors.
	for body, want := range map[string]string{
		"grant_type=password&client_id=" + cl.ID:                                       "unsupported_grant_type",
		"grant_type=authorization_code&client_id=" + cl.ID:                             "invalid_request",
		"grant_type=refresh_token&client_id=" + cl.ID + "&refresh_token=x":             "invalid_grant",
		"grant_type=authorization_code&code=x":                                         "invalid_request",
		"grant_type=authorization_code&code=x&client_id=" + cl.ID + "&client_secret=s": "invalid_client",
	} {
		req, _ := http.NewRequest("POST", e.srv.URL+"/oauth/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		var out struct{ Error string }
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b := readAll(resp)
		if err := jsonUnmarshal(b, &out); err != nil || out.Error != want {
			t.Fatalf("token %s: %d %s, want %s", body, resp.StatusCode, b, want)
		}
	}
}

func mustQuery(t *testing.T, s string) url.Values {
	q, err := url.ParseQuery(s)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// TestOAuthKnownConsent: the consent page asks once. An application the
// user authorized for the scopes it asks (or more) gets the code at
// once, while the authorization lives; wider scopes than the user granted,
// prompt=consent or a revoked authorization bring the page back. The
// platform's own console (a first-party client) is never asked.
func TestOAuthKnownConsent(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			ctx := context.Background()
			_, personal := e.user("alice")
			const redirect = "https://app.example/cb"
			cl, secret := e.app("App", "https://app.example", redirect)
			browser := client(t)
			e.signInBrowser(browser, "")
			// ask opens the authorization request and returns the code, or
			// "" when the consent page came.
			ask := func(scope string, opts ...oauth2.AuthCodeOption) string {
				t.Helper()
				conf := &oauth2.Config{ClientID: cl.ID, ClientSecret: secret, RedirectURL: redirect, Endpoint: e.endpoint(), Scopes: []string{scope}}
				resp, err := browser.Get(conf.AuthCodeURL("s", opts...))
				if err != nil {
					t.Fatal(err)
				}
				body := readAll(resp)
				switch {
				case resp.StatusCode == 200 && strings.Contains(body, `id="approve"`):
					return ""
				case resp.StatusCode == 303 && strings.HasPrefix(resp.Header.Get("Location"), redirect+"?"):
					loc, _ := url.Parse(resp.Header.Get("Location"))
					if loc.Query().Get("state") != "s" || loc.Query().Get("code") == "" {
						t.Fatalf("%s: redirected to %s", scope, loc)
					}
					if _, err := conf.Exchange(ctx, loc.Query().Get("code")); err != nil {
						t.Fatalf("%s: the code does not redeem: %v", scope, err)
					}
					return loc.Query().Get("code")
				}
				t.Fatalf("%s: %d %s %s", scope, resp.StatusCode, resp.Header.Get("Location"), body)
				return ""
			}
			approve := func(scope string, choices url.Values) {
				t.Helper()
				conf := &oauth2.Config{ClientID: cl.ID, ClientSecret: secret, RedirectURL: redirect, Endpoint: e.endpoint(), Scopes: []string{scope}}
				choices.Set("decision", "approve")
				back := e.consent(browser, conf.AuthCodeURL("s"), choices)
				if _, err := conf.Exchange(ctx, back.Query().Get("code")); err != nil {
					t.Fatal(err)
				}
			}

			if ask("account:read_write linodes:read_only") != "" {
				t.Fatal("the first request skipped the consent page")
			}
			// The user lowers account to read_only: that much is known.
			approve("account:read_write linodes:read_only", url.Values{"scope_account": {"read_only"}})
			if ask("account:read_write linodes:read_only") != "" {
				t.Fatal("a request wider than the consent skipped the page")
			}
			if ask("account:read_only linodes:read_only") == "" || ask("linodes:read_only") == "" {
				t.Fatal("a request within the consent showed the page")
			}
			if ask("linodes:read_only", oauth2.SetAuthURLParam("prompt", "consent")) != "" {
				t.Fatal("prompt=consent skipped the page")
			}
			// Revoking every authorization of the application forgets it.
			var apps struct{ Data []struct{ ID int64 } }
			e.call("GET", "/v4/profile/apps", personal, "", 200, &apps)
			if len(apps.Data) < 3 {
				t.Fatalf("apps: %+v", apps.Data)
			}
			for _, a := range apps.Data {
				e.call("DELETE", fmt.Sprintf("/v4/profile/apps/%d", a.ID), personal, "", 200, nil)
			}
			if ask("linodes:read_only") != "" {
				t.Fatal("a revoked authorization still counts as consent")
			}

			// The platform's console is not asked, the first time either.
			console, _, err := e.svc.CreateOAuthClient(ctx, core.OAuthClientCreate{Label: "Console", Website: "https://console.example",
				RedirectURIs: []string{"https://console.example/cb"}, Public: true, FirstParty: true})
			if err != nil {
				t.Fatal(err)
			}
			verifier := oauth2.GenerateVerifier()
			conf := &oauth2.Config{ClientID: console.ID, RedirectURL: "https://console.example/cb", Endpoint: e.endpoint(), Scopes: []string{"*"}}
			resp, err := browser.Get(conf.AuthCodeURL("c", oauth2.S256ChallengeOption(verifier)))
			if err != nil {
				t.Fatal(err)
			}
			readAll(resp)
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != 303 || loc == nil || loc.Host != "console.example" {
				t.Fatalf("the first-party console: %d %s", resp.StatusCode, resp.Header.Get("Location"))
			}
			tok, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
			if err != nil || tok.Extra("scope") != "*" {
				t.Fatalf("the console's token: %v %v", tok, err)
			}
		})
	}
}

// TestAuthorizeRefusesBytesNoStoreKeeps: a nonce, a state or a redirect
// URI's query that is not UTF-8 (a query arrives as sent; PostgreSQL
// refuses such text and, with it, the whole statement) is refused, on the
// page, in the consent form and when pushed, never a 500 on either engine.
func TestAuthorizeRefusesBytesNoStoreKeeps(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			e.user("alice")
			const redirect = "https://app.example/cb"
			cl, secret := e.app("App", "https://app.example", redirect)
			browser := client(t)
			e.signInBrowser(browser, "")
			base := url.Values{"response_type": {"code"}, "client_id": {cl.ID}, "redirect_uri": {redirect}, "scope": {"openid"}, "state": {"s"}}
			with := func(k, v string) url.Values {
				q := url.Values{}
				for key, vs := range base {
					q[key] = vs
				}
				q.Set(k, v)
				return q
			}
			for _, q := range []url.Values{with("nonce", "n\xff"), with("state", "s\xfe")} {
				resp, err := browser.Get(e.srv.URL + "/oauth/authorize?" + q.Encode())
				if err != nil {
					t.Fatal(err)
				}
				readAll(resp)
				loc, _ := url.Parse(resp.Header.Get("Location"))
				if resp.StatusCode != 303 || loc.Query().Get("error") != "invalid_request" {
					t.Fatalf("authorize %v: %d to %v, want invalid_request", q, resp.StatusCode, loc)
				}
			}
			resp, err := browser.Get(e.srv.URL + "/oauth/authorize?" + with("redirect_uri", redirect+"?x=\xff").Encode())
			if err != nil {
				t.Fatal(err)
			}
			if body := readAll(resp); resp.StatusCode != 400 || !strings.Contains(body, "redirect_uri") {
				t.Fatalf("a redirect URI's query that is not UTF-8: %d %s", resp.StatusCode, body)
			}
			form := pageForm(e.consentPage(browser, e.srv.URL+"/oauth/authorize?"+base.Encode()))
			form.Set("nonce", "n\xff")
			form.Set("decision", "approve")
			resp = e.post(browser, "/oauth/authorize", form)
			readAll(resp)
			if loc, _ := url.Parse(resp.Header.Get("Location")); resp.StatusCode != 303 || loc.Query().Get("error") != "invalid_request" {
				t.Fatalf("a consent form with a nonce that is not UTF-8: %d to %v", resp.StatusCode, loc)
			}
			pushed := with("nonce", "n\xff")
			pushed.Set("client_secret", secret)
			resp = e.post(http.DefaultClient, "/oauth/par", pushed)
			if body := readAll(resp); resp.StatusCode != 400 || !strings.Contains(body, `"error":"invalid_request"`) {
				t.Fatalf("a pushed nonce that is not UTF-8: %d %s", resp.StatusCode, body)
			}
		})
	}
}
