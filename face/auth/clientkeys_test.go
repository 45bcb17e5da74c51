package auth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/keytest"
	"github.com/profiled/profiled/internal/testenv"
)

// keyedApp registers a confidential client that authenticates with key.
func (e *env) keyedApp(key keytest.Key, redirect string) core.OAuthClient {
	e.t.Helper()
	return e.keyedAppWith(core.OAuthClientCreate{JWKS: key.JWKS(e.t)}, redirect)
}

// keyedAppWith registers a client with the keys of in (its JWKS, or its
// JWKSURI).
func (e *env) keyedAppWith(in core.OAuthClientCreate, redirect string) core.OAuthClient {
	e.t.Helper()
	in.Label, in.Website, in.RedirectURIs = "Bank", "https://bank.example", []string{redirect}
	c, secret, err := e.svc.CreateOAuthClient(context.Background(), in)
	if err != nil || secret != "" {
		e.t.Fatalf("a client with keys: %v, secret %q", err, secret)
	}
	return c
}

// withAssertion is form with a client assertion added.
func withAssertion(form url.Values, assertion string) url.Values {
	out := withField(form, "client_assertion_type", core.ClientAssertionType)
	out.Set("client_assertion", assertion)
	return out
}

// TestPrivateKeyJWT: on both engines, a client that registered a key
// authenticates at every endpoint with an assertion it signs (RFC 7523),
// each with the issuer, the endpoint or the token endpoint as aud: it
// pushes its request, redeems the code, refreshes, introspects and
// revokes. The same assertion sent at once authenticates one request;
// a malformed assertion type is invalid_request; the metadata says so.
func TestPrivateKeyJWT(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			e.user("alice")
			const redirect = "https://bank.example/cb"
			key := keytest.New(t, "bank-1")
			cl := e.keyedApp(key, redirect)
			jti := 0
			assertion := func(aud string) string {
				jti++
				return key.Assertion(t, cl.ID, aud, "jti-"+itoa(int64(jti)), e.clock.Now())
			}
			post := func(path string, form url.Values) (int, map[string]any) {
				t.Helper()
				resp := e.post(http.DefaultClient, path, form)
				var body map[string]any
				_ = json.Unmarshal([]byte(readAll(resp)), &body)
				return resp.StatusCode, body
			}

			var md map[string]any
			e.call("GET", "/.well-known/openid-configuration", "", "", 200, &md)
			if methods, _ := md["token_endpoint_auth_methods_supported"].([]any); !slices.Contains(methods, any("private_key_jwt")) ||
				md["token_endpoint_auth_signing_alg_values_supported"] == nil {
				t.Fatalf("the metadata does not offer private_key_jwt: %v", md)
			}

			verifier := oauth2.GenerateVerifier()
			push := url.Values{"response_type": {"code"}, "redirect_uri": {redirect}, "scope": {"openid offline_access"}, "state": {"s"},
				"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
			st, body := post("/oauth/par", withAssertion(push, assertion(e.srv.URL+"/oauth/par")))
			uri, _ := body["request_uri"].(string)
			if st != http.StatusCreated || uri == "" {
				t.Fatalf("a pushed request with an assertion: %d %v", st, body)
			}
			if st, body := post("/oauth/par", withField(push, "client_id", cl.ID)); st != http.StatusUnauthorized || body["error"] != "invalid_client" {
				t.Fatalf("a pushed request without the assertion: %d %v", st, body)
			}
			browser := client(t)
			e.signInBrowser(browser, "")
			form := pageForm(e.consentPage(browser, e.srv.URL+"/oauth/authorize?"+url.Values{"client_id": {cl.ID}, "request_uri": {uri}}.Encode()))
			form.Set("decision", "approve")
			resp := e.post(browser, "/oauth/authorize", form)
			readAll(resp)
			back, _ := url.Parse(resp.Header.Get("Location"))
			code := back.Query().Get("code")
			if resp.StatusCode != 303 || code == "" {
				t.Fatalf("approving: %d to %v", resp.StatusCode, back)
			}
			st, body = post("/oauth/token", withAssertion(url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {redirect}, "code_verifier": {verifier}}, assertion(e.srv.URL+"/oauth/token")))
			access, _ := body["access_token"].(string)
			refresh, _ := body["refresh_token"].(string)
			if st != 200 || access == "" || refresh == "" || body["id_token"] == nil {
				t.Fatalf("redeeming the code with an assertion: %d %v", st, body)
			}
			st, body = post("/oauth/token", withAssertion(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, assertion(e.srv.URL)))
			if st != 200 || body["access_token"] == nil {
				t.Fatalf("refreshing with an assertion (aud the issuer): %d %v", st, body)
			}
			access, _ = body["access_token"].(string)
			st, body = post("/oauth/introspect", withAssertion(url.Values{"token": {access}}, assertion(e.srv.URL+"/oauth/introspect")))
			if st != 200 || body["active"] != true || body["client_id"] != cl.ID {
				t.Fatalf("introspecting with an assertion: %d %v", st, body)
			}

			// One assertion, sent at once, authenticates one request.
			once := assertion(e.srv.URL)
			var mu sync.Mutex
			var wg sync.WaitGroup
			counts := map[int]int{}
			for range 8 {
				wg.Go(func() {
					resp, err := http.PostForm(e.srv.URL+"/oauth/introspect", withAssertion(url.Values{"token": {access}}, once))
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
					mu.Lock()
					counts[resp.StatusCode]++
					mu.Unlock()
				})
			}
			wg.Wait()
			if counts[200] != 1 || counts[401] != 7 {
				t.Fatalf("one assertion sent 8 times at once: %v, want one 200 and seven 401", counts)
			}

			for what, f := range map[string]url.Values{
				"another audience": withAssertion(url.Values{"token": {access}}, assertion("https://evil.example")),
				"a secret too":     withField(withAssertion(url.Values{"token": {access}}, assertion(e.srv.URL)), "client_secret", "x"),
			} {
				if st, body := post("/oauth/introspect", f); st < 400 || st >= 500 || body["error"] == nil {
					t.Errorf("%s: %d %v", what, st, body)
				}
			}
			badType := withAssertion(url.Values{"token": {access}}, assertion(e.srv.URL))
			badType.Set("client_assertion_type", "urn:x")
			if st, body := post("/oauth/introspect", badType); st != 400 || body["error"] != "invalid_request" ||
				!strings.Contains(body["error_description"].(string), core.ClientAssertionType) {
				t.Fatalf("another client_assertion_type: %d %v", st, body)
			}
			resp = e.post(http.DefaultClient, "/oauth/revoke", withAssertion(url.Values{"token": {refresh}}, assertion(e.srv.URL+"/oauth/revoke")))
			if readAll(resp); resp.StatusCode != 200 {
				t.Fatalf("revoking with an assertion: %d", resp.StatusCode)
			}
			if st, body := post("/oauth/introspect", withAssertion(url.Values{"token": {access}}, assertion(e.srv.URL))); st != 200 || body["active"] != false {
				t.Fatalf("after the revocation: %d %v", st, body)
			}
		})
	}
}

// TestPrivateKeyJWTStrictRP: openid-client authenticates with
// PrivateKeyJwt, its key imported in WebCrypto: it pushes its request,
// redeems the code and refreshes, each with an assertion of its own.
func TestPrivateKeyJWTStrictRP(t *testing.T) {
	testenv.NodePackages(t, oidcRPDir)
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			// The server's clock is the real one to the second: the
			// client's assertions carry its own time.
			e := newEnvOn(t, b.Open(t), testenv.NewClock(time.Now().UTC()))
			alice, _ := e.user("alice")
			const redirect = "https://dashboard.example/oidc/callback"
			key := keytest.New(t, "dash-1")
			// The client registers its key set, or where it publishes it.
			// (Not subtests: e fails the test it was made for.)
			for _, keys := range []core.OAuthClientCreate{{JWKS: key.JWKS(t)}, {JWKSURI: keytest.Publish(t, key).URL}} {
				strictKeyedRP(t, e, key, e.keyedAppWith(keys, redirect), redirect, alice.ID)
			}
		})
	}
}

// strictKeyedRP signs alice in to cl through openid-client, the client
// authenticating with key.
func strictKeyedRP(t *testing.T, e *env, key keytest.Key, cl core.OAuthClient, redirect string, aliceID int64) {
	var start rpStart
	if err := json.Unmarshal(nodeRP(t, "par-start", e.srv.URL, cl.ID, key.PrivateJWK(t), redirect), &start); err != nil {
		t.Fatal(err)
	}
	browser := client(t)
	e.signInBrowser(browser, "")
	form := pageForm(e.consentPage(browser, start.URL))
	form.Set("decision", "approve")
	resp := e.post(browser, "/oauth/authorize", form)
	readAll(resp)
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != 303 {
		t.Fatalf("approving: %d to %v", resp.StatusCode, back)
	}
	var got struct{ Claims, Refreshed map[string]any }
	out := nodeRP(t, "finish", e.srv.URL, cl.ID, key.PrivateJWK(t), back.String(), start.Verifier, start.Nonce, start.State)
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if got.Claims["sub"] != itoa(aliceID) || got.Refreshed["sub"] != itoa(aliceID) {
		t.Fatalf("openid-client with private_key_jwt (jwks_uri %q): %s", cl.JWKSURI, out)
	}
}
