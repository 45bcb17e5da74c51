package auth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/testenv"
)

// TestPushAndDeviceEndpointsAtLoad: POST /oauth/par and POST
// /oauth/device_authorization, on both engines, take requests sent at
// once (each answered, each with a request_uri or codes of its own) and
// refuse, in RFC 6749's JSON, a body over the limit, a request holding
// too many parameters, and a pushed request_uri.
func TestPushAndDeviceEndpointsAtLoad(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			const redirect = "https://app.example/cb"
			web, secret := e.app("Web", "https://app.example", redirect)
			cli := e.deviceApp("CLI")
			pushed := url.Values{"client_id": {web.ID}, "client_secret": {secret}, "response_type": {"code"},
				"redirect_uri": {redirect}, "scope": {"openid"}, "state": {"s"}}
			device := url.Values{"client_id": {cli.ID}, "scope": {"account:read_only"}}
			post := func(path string, form url.Values) (int, map[string]any) {
				resp, err := http.PostForm(e.srv.URL+path, form)
				if err != nil {
					t.Error(err)
					return 0, nil
				}
				var body map[string]any
				_ = json.NewDecoder(resp.Body).Decode(&body)
				resp.Body.Close()
				return resp.StatusCode, body
			}

			const n = 16
			var mu sync.Mutex
			seen := map[string]bool{}
			var wg sync.WaitGroup
			for i := range 2 * n {
				wg.Go(func() {
					path, form, key, want := "/oauth/par", pushed, "request_uri", http.StatusCreated
					if i%2 == 1 {
						path, form, key, want = "/oauth/device_authorization", device, "user_code", http.StatusOK
					}
					status, body := post(path, form)
					v, _ := body[key].(string)
					mu.Lock()
					defer mu.Unlock()
					if status != want || v == "" || seen[v] {
						t.Errorf("%s at once: %d %v (a %s given twice: %v)", path, status, body, key, seen[v])
					}
					seen[v] = true
				})
			}
			wg.Wait()

			huge := url.Values{"client_id": {web.ID}, "client_secret": {secret}, "state": {strings.Repeat("x", 70<<10)}}
			many := url.Values{}
			for k, v := range pushed {
				many[k] = v
			}
			for i := range 40 {
				many.Set(fmt.Sprintf("x%d", i), "y")
			}
			for _, tc := range []struct {
				path   string
				form   url.Values
				status int
				code   string
			}{
				{"/oauth/par", huge, http.StatusRequestEntityTooLarge, "invalid_request"},
				{"/oauth/device_authorization", huge, http.StatusRequestEntityTooLarge, "invalid_request"},
				{"/oauth/par", withField(pushed, "request_uri", core.RequestURIPrefix+"x"), http.StatusBadRequest, "invalid_request"},
				{"/oauth/par", withField(pushed, "redirect_uri", "https://evil.example/cb"), http.StatusBadRequest, "invalid_request"},
				{"/oauth/par", withField(pushed, "client_secret", "wrong"), http.StatusUnauthorized, "invalid_client"},
				{"/oauth/device_authorization", withField(device, "scope", "root"), http.StatusBadRequest, "invalid_scope"},
			} {
				status, body := post(tc.path, tc.form)
				if status != tc.status || body["error"] != tc.code {
					t.Errorf("%s: %d %v, want %d %s", tc.path, status, body, tc.status, tc.code)
				}
			}
			// Parameters the endpoint does not know are ignored, as the
			// authorization endpoint ignores them: 40 of them push fine.
			if status, body := post("/oauth/par", many); status != http.StatusCreated {
				t.Errorf("a pushed request with 40 unknown parameters: %d %v", status, body)
			}
		})
	}
}

// withField is form with key set to value.
func withField(form url.Values, key, value string) url.Values {
	out := url.Values{}
	for k, v := range form {
		out[k] = v
	}
	out.Set(key, value)
	return out
}

// signInBackAndApprove signs alice in on the sign-in page page, checks
// the sign-in goes back to next, approves the consent page there and
// returns where it redirects, with a code, and the sign-in's time.
func (e *env) signInBackAndApprove(browser *http.Client, page, next string) (*url.URL, int64) {
	e.t.Helper()
	resp := e.form(browser, page, "/auth/signin", url.Values{"username": {"alice"}, "password": {password}, "next": {next}})
	readAll(resp)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != next {
		e.t.Fatalf("the sign-in: %d to %q, want back to %s", resp.StatusCode, resp.Header.Get("Location"), next)
	}
	signedInAt := e.clock.Now().Unix()
	form := pageForm(e.consentPage(browser, e.srv.URL+next))
	form.Set("decision", "approve")
	resp = e.post(browser, "/oauth/authorize", form)
	readAll(resp)
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != 303 || back.Query().Get("code") == "" {
		e.t.Fatalf("approving after the sign-in: %d to %v", resp.StatusCode, back)
	}
	return back, signedInAt
}

// TestPushedRequestsHeldAndSignedInAgain: a client the operator holds to
// pushed requests has a request the browser carries whole refused to its
// redirect URI. Its pushed request with prompt=login and max_age=0 signs
// out a session from before the push, comes back by its request_uri alone
// after the new sign-in, and is answered then instead of asking again;
// golang.org/x/oauth2 redeems the code, and the ID token's auth_time is
// the new sign-in's.
func TestPushedRequestsHeldAndSignedInAgain(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			ctx := context.Background()
			e.user("alice")
			const redirect = "https://rp.example/cb"
			cl, secret := e.app("RP", "https://rp.example", redirect)
			held := true
			if _, err := e.svc.UpdateOAuthClient(ctx, cl.ID, core.OAuthClientUpdate{RequirePushed: &held}); err != nil {
				t.Fatal(err)
			}
			conf := &oauth2.Config{ClientID: cl.ID, ClientSecret: secret, RedirectURL: redirect, Endpoint: e.endpoint(), Scopes: []string{"openid"}}
			verifier := oauth2.GenerateVerifier()
			browser := client(t)
			resp, err := browser.Get(conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
			if err != nil {
				t.Fatal(err)
			}
			readAll(resp)
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if q := loc.Query(); resp.StatusCode != 303 || !strings.HasPrefix(loc.String(), redirect) || q.Get("error") != "invalid_request" ||
				!strings.Contains(q.Get("error_description"), "push") || q.Get("state") != "st" || q.Get("iss") != e.srv.URL {
				t.Fatalf("a request the browser carried whole: %d to %v", resp.StatusCode, loc)
			}

			e.signInBrowser(browser, "")
			e.clock.Advance(time.Minute)
			push := url.Values{"client_id": {cl.ID}, "client_secret": {secret}, "response_type": {"code"}, "redirect_uri": {redirect},
				"scope": {"openid"}, "state": {"st2"}, "prompt": {"login"}, "max_age": {"0"},
				"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
			resp = e.post(http.DefaultClient, "/oauth/par", push)
			var pushed struct {
				RequestURI string `json:"request_uri"`
			}
			if body := readAll(resp); resp.StatusCode != 201 || jsonUnmarshal(body, &pushed) != nil {
				t.Fatalf("POST /oauth/par: %d %s", resp.StatusCode, body)
			}
			byURI := "/oauth/authorize?" + url.Values{"client_id": {cl.ID}, "request_uri": {pushed.RequestURI}}.Encode()
			// signInAsked opens the pushed request and checks it asks for a
			// sign-in that comes back to it by its request_uri alone.
			signInAsked := func(what string) string {
				t.Helper()
				resp, err := browser.Get(e.srv.URL + byURI)
				if err != nil {
					t.Fatal(err)
				}
				readAll(resp)
				loc, _ := url.Parse(resp.Header.Get("Location"))
				if resp.StatusCode != 303 || loc.Path != "/auth/signin" || loc.Query().Get("next") != byURI {
					t.Fatalf("%s: %d to %v, want the sign-in and back to %s", what, resp.StatusCode, loc, byURI)
				}
				return loc.RequestURI()
			}
			signInAsked("a session from before the push")
			page := signInAsked("the browser signed out") // the session is gone, not merely passed over
			back, signedInAt := e.signInBackAndApprove(browser, page, byURI)
			if back.Query().Get("state") != "st2" {
				t.Fatalf("approving the pushed request: to %v, without its state", back)
			}
			tok, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := tok.Extra("id_token").(string)
			parts := strings.Split(raw, ".")
			var claims struct {
				AuthTime int64 `json:"auth_time"`
			}
			if len(parts) != 3 {
				t.Fatalf("no ID token: %q", raw)
			}
			if b, err := base64URL(parts[1]); err != nil || json.Unmarshal(b, &claims) != nil || claims.AuthTime != signedInAt {
				t.Fatalf("the ID token's auth_time is %d, want the new sign-in's %d", claims.AuthTime, signedInAt)
			}
		})
	}
}

// TestPushedRequestsLimitedAtOnce: on both engines, requests pushed all
// at once for a public client from one address get exactly
// core.PushedAuthorizations request_uris; the rest are 429 with
// Retry-After, in RFC 6749's JSON.
func TestPushedRequestsLimitedAtOnce(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			spa := e.deviceApp("SPA") // public; the device grant is beside the point
			form := url.Values{"client_id": {spa.ID}, "response_type": {"code"}, "redirect_uri": {"http://127.0.0.1/cb"}, "scope": {"openid"},
				"code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"}}
			const extra = 10
			var mu sync.Mutex
			var wg sync.WaitGroup
			counts := map[int]int{}
			for range core.PushedAuthorizations + extra {
				wg.Go(func() {
					resp, err := http.PostForm(e.srv.URL+"/oauth/par", form)
					if err != nil {
						t.Error(err)
						return
					}
					var body struct {
						Error string `json:"error"`
					}
					err = json.NewDecoder(resp.Body).Decode(&body)
					resp.Body.Close()
					mu.Lock()
					defer mu.Unlock()
					counts[resp.StatusCode]++
					if resp.StatusCode == http.StatusTooManyRequests && (resp.Header.Get("Retry-After") == "" || body.Error == "" || err != nil) {
						t.Errorf("a 429 with Retry-After %q and body %+v (%v)", resp.Header.Get("Retry-After"), body, err)
					}
				})
			}
			wg.Wait()
			if counts[http.StatusCreated] != core.PushedAuthorizations || counts[http.StatusTooManyRequests] != extra {
				t.Fatalf("%d pushes at once: %v, want %d 201 and %d 429", core.PushedAuthorizations+extra, counts, core.PushedAuthorizations, extra)
			}
		})
	}
}
