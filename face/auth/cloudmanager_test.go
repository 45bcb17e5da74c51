package auth_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/testenv"
)

// cloudManagerOrigin is where the console runs, another origin than profiled.
const cloudManagerOrigin = "http://localhost:3000"

// TestCloudManagerSignIn signs in as Cloud Manager v1.156.0 does
// (packages/manager/src/OAuth/oauth.ts): a public client with PKCE and the
// redirect URI .../oauth/callback?returnTo=<page>, whose registered form
// has no query; the code is redeemed with fetch from the console's origin,
// as multipart/form-data with grant_type, client_id, code, state and
// code_verifier and no redirect_uri; the answer's scopes are read; sign-out
// posts the token to /oauth/revoke and goes to /logout.
func TestCloudManagerSignIn(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			e.user("alice")
			cl, _, err := e.svc.CreateOAuthClient(context.Background(), core.OAuthClientCreate{Label: "Cloud Manager",
				Website: cloudManagerOrigin, RedirectURIs: []string{cloudManagerOrigin + "/oauth/callback"}, Public: true})
			if err != nil {
				t.Fatal(err)
			}
			browser := client(t)
			e.signInBrowser(browser, "")

			verifier := oauth2.GenerateVerifier()
			sum := sha256.Sum256([]byte(verifier))
			q := url.Values{
				"client_id":             {cl.ID},
				"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
				"code_challenge_method": {"S256"},
				"redirect_uri":          {cloudManagerOrigin + "/oauth/callback?returnTo=/profile/auth"},
				"response_type":         {"code"},
				"scope":                 {"*"},
				"state":                 {"99b64f1f-0174-4c7b-a3ab-d6807de5f524"},
			}
			back := e.consent(browser, e.srv.URL+"/oauth/authorize?"+q.Encode(), url.Values{"decision": {"approve"}})
			if got := back.Scheme + "://" + back.Host + back.Path; got != cloudManagerOrigin+"/oauth/callback" {
				t.Fatalf("redirected to %s", back)
			}
			if back.Query().Get("returnTo") != "/profile/auth" || back.Query().Get("state") != q.Get("state") || back.Query().Get("code") == "" {
				t.Fatalf("the redirect lost the returnTo query, the state or the code: %s", back)
			}

			// A preflight a browser could send first (the FormData post is a
			// simple request, so Chromium sends none; other clients may).
			pre, _ := http.NewRequest("OPTIONS", e.srv.URL+"/oauth/token", nil)
			pre.Header.Set("Origin", cloudManagerOrigin)
			pre.Header.Set("Access-Control-Request-Method", "POST")
			pre.Header.Set("Access-Control-Request-Headers", "content-type")
			resp, err := http.DefaultClient.Do(pre)
			if err != nil {
				t.Fatal(err)
			}
			readAll(resp)
			if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
				!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") {
				t.Fatalf("preflight of /oauth/token: %d %v", resp.StatusCode, resp.Header)
			}

			var body bytes.Buffer
			mw := multipart.NewWriter(&body)
			for _, kv := range [][2]string{{"grant_type", "authorization_code"}, {"client_id", cl.ID},
				{"code", back.Query().Get("code")}, {"state", q.Get("state")}, {"code_verifier", verifier}} {
				mw.WriteField(kv[0], kv[1])
			}
			mw.Close()
			req, _ := http.NewRequest("POST", e.srv.URL+"/oauth/token", &body)
			req.Header.Set("Content-Type", mw.FormDataContentType())
			req.Header.Set("Origin", cloudManagerOrigin)
			resp, err = http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var tok struct {
				AccessToken string `json:"access_token"`
				TokenType   string `json:"token_type"`
				ExpiresIn   int    `json:"expires_in"`
				Scopes      string `json:"scopes"`
				Scope       string `json:"scope"`
			}
			b := readAll(resp)
			if err := jsonUnmarshal(b, &tok); err != nil || resp.StatusCode != 200 || tok.AccessToken == "" || tok.Scopes != "*" || tok.Scope != "*" || tok.ExpiresIn <= 0 {
				t.Fatalf("token: %d %s", resp.StatusCode, b)
			}
			if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Fatalf("the token answer is not readable from %s: %v", cloudManagerOrigin, resp.Header)
			}
			e.call("GET", "/v4/profile", tok.AccessToken, "", 200, nil)

			// Sign-out: revoke, from the console's origin, then /logout.
			req, _ = http.NewRequest("POST", e.srv.URL+"/oauth/revoke",
				strings.NewReader(url.Values{"client_id": {cl.ID}, "token": {tok.AccessToken}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=utf-8")
			req.Header.Set("Origin", cloudManagerOrigin)
			resp, err = http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if b := readAll(resp); resp.StatusCode != 200 || b != "" || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Fatalf("revoke: %d %q %v", resp.StatusCode, b, resp.Header)
			}
			e.call("GET", "/v4/profile", tok.AccessToken, "", 401, nil)

			resp, err = browser.Get(e.srv.URL + "/logout")
			if err != nil {
				t.Fatal(err)
			}
			readAll(resp)
			if resp.StatusCode != 303 || resp.Header.Get("Location") != "/auth/signin" {
				t.Fatalf("logout: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			// The pages' session is over: authorizing asks to sign in again.
			resp, _ = browser.Get(e.srv.URL + "/oauth/authorize?" + q.Encode())
			readAll(resp)
			if resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/auth/signin?next=") {
				t.Fatalf("after logout, authorize: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
			}
		})
	}
}

// TestOAuthRedirectURIWithQuery: a redirect URI registered without a query
// also matches it with a query added, and nothing else: not another path,
// port, scheme or host, nor a registered query changed.
func TestOAuthRedirectURIWithQuery(t *testing.T) {
	e := newEnv(t, testenv.Backends(t)[0])
	e.user("alice")
	cl, _, err := e.svc.CreateOAuthClient(context.Background(), core.OAuthClientCreate{Label: "app", Website: "https://app.example",
		RedirectURIs: []string{"https://app.example/cb", "https://app.example/fixed?x=1"}, Public: true})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(oauth2.GenerateVerifier()))
	for uri, ok := range map[string]bool{
		"https://app.example/cb":                 true,
		"https://app.example/cb?returnTo=/a?b=c": true,
		"https://app.example/cb?":                true,
		"https://app.example/fixed?x=1":          true,
		"https://app.example/fixed?x=1&y=2":      false,
		"https://app.example/fixed?x=2":          false,
		"https://app.example/cb/x?returnTo=/":    false,
		"https://app.example/cbx?returnTo=/":     false,
		"https://app.example:444/cb?returnTo=/":  false,
		"http://app.example/cb?returnTo=/":       false,
		"https://app.example.evil/cb?x=1":        false,
		"https://app.example/cb?x=1#frag":        false,
		"https://app.example/cb?x=\t1":           false,
	} {
		_, err := e.svc.CheckAuthorize(context.Background(), core.AuthorizeRequest{ClientID: cl.ID, RedirectURI: uri, ResponseType: "code",
			CodeChallenge: base64.RawURLEncoding.EncodeToString(sum[:]), CodeChallengeMethod: "S256"})
		if (err == nil) != ok {
			t.Errorf("redirect_uri %q: %v, want accepted %v", uri, err, ok)
		}
	}
}

// TestLogoutReturnTo: /logout returns to return_to on the origin of a
// redirect URI of the client_id given, or to a path of this site, and
// otherwise to the sign-in page.
func TestLogoutReturnTo(t *testing.T) {
	e := newEnv(t, testenv.Backends(t)[0])
	cl, _, err := e.svc.CreateOAuthClient(context.Background(), core.OAuthClientCreate{Label: "app", Website: "https://app.example",
		RedirectURIs: []string{"https://app.example:8443/cb"}, Public: true})
	if err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]string{
		"":                           "/auth/signin",
		"return_to=/auth/signin%3Fx": "/auth/signin?x",
		"client_id=" + cl.ID + "&return_to=https://app.example:8443/bye": "https://app.example:8443/bye",
		"client_id=" + cl.ID + "&return_to=https://app.example/bye":      "/auth/signin",
		"client_id=" + cl.ID + "&return_to=https://evil.example:8443/":   "/auth/signin",
		"return_to=https://app.example:8443/bye":                         "/auth/signin",
		"client_id=nope&return_to=https://app.example:8443/bye":          "/auth/signin",
		"return_to=//evil.example/":                                      "/auth/signin",
	} {
		resp, err := client(t).Get(e.srv.URL + "/logout?" + q)
		if err != nil {
			t.Fatal(err)
		}
		readAll(resp)
		if resp.StatusCode != 303 || resp.Header.Get("Location") != want {
			t.Errorf("logout?%s: %d to %q, want %q", q, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
	resp, err := client(t).Get(e.srv.URL + "/forgot/password")
	if err != nil {
		t.Fatal(err)
	}
	if b := readAll(resp); resp.StatusCode != 200 || !strings.Contains(b, `id="forgot"`) {
		t.Fatalf("forgot password: %d %s", resp.StatusCode, b)
	}
}

// TestOAuthRevoke: RFC 7009 with a confidential client and
// golang.org/x/oauth2: revoking the refresh token ends the authorization;
// another client's token, an unknown one and a revoked one all answer 200
// and change nothing; a wrong secret is 401.
func TestOAuthRevoke(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			ctx := context.Background()
			e.user("alice")
			const redirect = "https://app.example/cb"
			cl, secret := e.app("App", "https://app.example", redirect)
			other, otherSecret := e.app("Other", "https://other.example", "https://other.example/cb")
			conf := &oauth2.Config{ClientID: cl.ID, ClientSecret: secret, RedirectURL: redirect, Scopes: []string{"account:read_only"},
				Endpoint: e.endpoint()}
			tok := e.approved(conf)
			revoke := func(id, sec, token string) int {
				req, _ := http.NewRequest("POST", e.srv.URL+"/oauth/revoke", strings.NewReader(url.Values{"token": {token}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(sec))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				readAll(resp)
				return resp.StatusCode
			}
			if st := revoke(cl.ID, "wrong", tok.RefreshToken); st != 401 {
				t.Fatalf("revoke with a wrong secret: %d", st)
			}
			if st := revoke(other.ID, otherSecret, tok.RefreshToken); st != 200 {
				t.Fatalf("revoke of another client's token: %d", st)
			}
			e.call("GET", "/v4/profile", tok.AccessToken, "", 200, nil) // untouched
			if st := revoke(cl.ID, secret, "no-such-token"); st != 200 {
				t.Fatalf("revoke of an unknown token: %d", st)
			}
			if st := revoke(cl.ID, secret, tok.RefreshToken); st != 200 {
				t.Fatalf("revoke: %d", st)
			}
			e.call("GET", "/v4/profile", tok.AccessToken, "", 401, nil)
			if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); oauthCode(t, err) != "invalid_grant" {
				t.Fatal("the revoked refresh token still works")
			}
			if st := revoke(cl.ID, secret, tok.RefreshToken); st != 200 {
				t.Fatalf("revoke twice: %d", st)
			}
		})
	}
}
