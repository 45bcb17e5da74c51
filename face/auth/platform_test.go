package auth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/testenv"
)

// TestAuthorizationServerMetadata: RFC 8414 at the well-known path.
func TestAuthorizationServerMetadata(t *testing.T) {
	e := newEnv(t, testenv.Backends(t)[0])
	var md map[string]any
	e.call("GET", "/.well-known/oauth-authorization-server", "", "", 200, &md)
	for k, want := range map[string]string{
		"issuer": e.srv.URL, "authorization_endpoint": e.srv.URL + "/oauth/authorize", "token_endpoint": e.srv.URL + "/oauth/token",
		"introspection_endpoint": e.srv.URL + "/oauth/introspect", "revocation_endpoint": e.srv.URL + "/oauth/revoke",
	} {
		if md[k] != want {
			t.Errorf("%s = %v, want %s", k, md[k], want)
		}
	}
	if s, _ := json.Marshal(md["code_challenge_methods_supported"]); string(s) != `["S256"]` {
		t.Errorf("code_challenge_methods_supported = %s", s)
	}
	if md["authorization_response_iss_parameter_supported"] != true {
		t.Errorf("authorization_response_iss_parameter_supported = %v, want true (RFC 9207)", md["authorization_response_iss_parameter_supported"])
	}
	if s, _ := json.Marshal(md["scopes_supported"]); !strings.Contains(string(s), `"linodes:read_write"`) || !strings.Contains(string(s), `"*"`) {
		t.Errorf("scopes_supported = %s", s)
	}
}

// TestIntrospection: RFC 7662 for a registered confidential client, with
// tokens from golang.org/x/oauth2: live access and refresh tokens and
// personal tokens are active with their fields; unknown, expired and
// revoked ones are exactly {"active":false}; no client authentication, a
// wrong secret or a public client is 401.
func TestIntrospection(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			ctx := context.Background()
			alice, personal := e.user("alice")
			const redirect = "https://app.example/cb"
			app, appSecret := e.app("App", "https://app.example", redirect)
			rs, rsSecret := e.app("Billing service", "https://billing.example", "https://billing.example/cb")
			pub, _, err := e.svc.CreateOAuthClient(ctx, core.OAuthClientCreate{Label: "Public", Website: "https://pub.example",
				RedirectURIs: []string{"https://pub.example/cb"}, Public: true})
			if err != nil {
				t.Fatal(err)
			}
			conf := &oauth2.Config{ClientID: app.ID, ClientSecret: appSecret, RedirectURL: redirect, Scopes: []string{"linodes:read_only account:read_write"},
				Endpoint: e.endpoint()}
			browser := client(t)
			e.signInBrowser(browser, "")
			back := e.consent(browser, conf.AuthCodeURL("s"), url.Values{"decision": {"approve"}})
			tok, err := conf.Exchange(ctx, back.Query().Get("code"))
			if err != nil {
				t.Fatal(err)
			}
			introspect := func(id, secret, token string) (int, map[string]any) {
				req, _ := http.NewRequest("POST", e.srv.URL+"/oauth/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if id != "" {
					req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var out map[string]any
				body := readAll(resp)
				if err := json.Unmarshal([]byte(body), &out); err != nil {
					t.Fatalf("introspect: %d %s", resp.StatusCode, body)
				}
				return resp.StatusCode, out
			}
			st, out := introspect(rs.ID, rsSecret, tok.AccessToken)
			if st != 200 || out["active"] != true || out["scope"] != "account:read_write linodes:read_only" || out["client_id"] != app.ID ||
				out["username"] != "alice" || out["sub"] != jsonNumberString(alice.ID) || out["account"] != jsonNumberString(alice.AccountID) || out["token_type"] != "access_token" || out["exp"] == nil || out["iat"] == nil {
				t.Fatalf("an access token: %d %v", st, out)
			}
			if _, out := introspect(rs.ID, rsSecret, tok.RefreshToken); out["active"] != true || out["token_type"] != "refresh_token" {
				t.Fatalf("a refresh token: %v", out)
			}
			if _, out := introspect(rs.ID, rsSecret, personal); out["active"] != true || out["scope"] != "*" || out["exp"] != nil {
				t.Fatalf("a personal token: %v", out)
			}
			for name, token := range map[string]string{"unknown": strings.Repeat("0", 64), "garbage": "x"} {
				if st, out := introspect(rs.ID, rsSecret, token); st != 200 || len(out) != 1 || out["active"] != false {
					t.Fatalf("%s: %d %v, want exactly {\"active\":false}", name, st, out)
				}
			}
			// Revoked: the refresh token's authorization.
			req, _ := http.NewRequest("POST", e.srv.URL+"/oauth/revoke", strings.NewReader(url.Values{"token": {tok.RefreshToken}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(url.QueryEscape(app.ID), url.QueryEscape(appSecret))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			readAll(resp)
			for _, token := range []string{tok.AccessToken, tok.RefreshToken} {
				if _, out := introspect(rs.ID, rsSecret, token); len(out) != 1 || out["active"] != false {
					t.Fatalf("a revoked token: %v", out)
				}
			}
			// Expired: an hour and a minute later, the access token of a new grant.
			back = e.consent(browser, conf.AuthCodeURL("s2"), url.Values{"decision": {"approve"}})
			tok2, err := conf.Exchange(ctx, back.Query().Get("code"))
			if err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(core.AccessTokenLifetime + 1)
			if _, out := introspect(rs.ID, rsSecret, tok2.AccessToken); len(out) != 1 || out["active"] != false {
				t.Fatalf("an expired token: %v", out)
			}
			for name, c := range map[string][2]string{"no client": {"", ""}, "wrong secret": {rs.ID, "nope"}, "public client": {pub.ID, ""}} {
				if st, _ := introspect(c[0], c[1], personal); st != 401 {
					t.Fatalf("%s: %d, want 401", name, st)
				}
			}
		})
	}
}

func jsonNumberString(id int64) string {
	b, _ := json.Marshal(id)
	return string(b)
}

// TestPlatformEndpointsBadInput: introspection and forward auth answer
// malformed, huge and concurrent requests with their errors, never a 500,
// and a bad request changes no answer for a good one.
func TestPlatformEndpointsBadInput(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			_, personal := e.user("alice")
			rs, rsSecret := e.app("Billing service", "https://billing.example", "https://billing.example/cb")
			post := func(contentType, body string) (int, string) {
				req, _ := http.NewRequest("POST", e.srv.URL+"/oauth/introspect", strings.NewReader(body))
				req.Header.Set("Content-Type", contentType)
				req.SetBasicAuth(rs.ID, rsSecret)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				return resp.StatusCode, readAll(resp)
			}
			for _, tc := range []struct {
				name, contentType, body string
				status                  int
				want                    string
			}{
				{"no token", "application/x-www-form-urlencoded", "", 400, `"error":"invalid_request"`},
				{"bad percent-encoding", "application/x-www-form-urlencoded", "token=%zz", 400, `"error":"invalid_request"`},
				{"a huge token", "application/x-www-form-urlencoded", "token=" + strings.Repeat("a", 32<<10), 200, `{"active":false}`},
				{"invalid UTF-8", "application/x-www-form-urlencoded", "token=%ff%fe", 200, `{"active":false}`},
				{"a body over the limit", "application/x-www-form-urlencoded", "token=" + strings.Repeat("a", 70<<10), 413, `"error"`},
				{"JSON", "application/json", `{"token":"x"}`, 400, `"error":"invalid_request"`},
			} {
				if status, body := post(tc.contentType, tc.body); status != tc.status || !strings.Contains(body, tc.want) {
					t.Errorf("introspect with %s: %d %.200s, want %d with %s", tc.name, status, body, tc.status, tc.want)
				}
			}
			verify := func(token, query string) int {
				req, _ := http.NewRequest("GET", e.srv.URL+"/auth/verify"+query, nil)
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				readAll(resp)
				return resp.StatusCode
			}
			for _, tc := range []struct {
				name, token, query string
				status             int
			}{
				{"a huge token", strings.Repeat("a", 16<<10), "", 401},
				{"an unknown scope", personal, "?scope=nope:everything", 400},
				{"a huge scope", personal, "?scope=" + strings.Repeat("a", 8<<10), 400},
				{"bad percent-encoding", personal, "?scope=%zz", 200},
			} {
				if status := verify(tc.token, tc.query); status != tc.status {
					t.Errorf("verify with %s: %d, want %d", tc.name, status, tc.status)
				}
			}
			// Concurrent good and bad requests each get their own answer.
			var wg sync.WaitGroup
			for i := 0; i < 64; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					good := i%2 == 0
					token := personal
					if !good {
						token = strings.Repeat("0", 64)
					}
					want := map[bool]int{true: 200, false: 401}[good]
					if status := verify(token, "?scope=account:read_only"); status != want {
						t.Errorf("concurrent verify %d: %d, want %d", i, status, want)
					}
					status, body := post("application/x-www-form-urlencoded", url.Values{"token": {token}}.Encode())
					if active := strings.Contains(body, `"active":true`); status != 200 || active != good {
						t.Errorf("concurrent introspect %d: %d %s", i, status, body)
					}
				}()
			}
			wg.Wait()
		})
	}
}
