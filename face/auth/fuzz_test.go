package auth_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/clientjwt"
	"github.com/profiled/profiled/internal/testenv"
)

// FuzzOAuthEndpoints sends any form to the OAuth endpoints that take one
// (token, device authorization, revocation, introspection, pushed
// requests) and any query
// to the pages (authorization, the device page, sign-out): no answer is a
// 5xx, and every error of an endpoint is RFC 6749's JSON. The seeds name
// real clients, so that the fuzzer reaches past client authentication.
func FuzzOAuthEndpoints(f *testing.F) {
	// Each input goes to a server on every engine: PostgreSQL refuses text
	// that SQLite keeps.
	type target struct {
		url            string
		device, web    core.OAuthClient
		secret, engine string
	}
	var targets []target
	for _, b := range testenv.Backends(f) {
		st := b.Open(f)
		svc := core.New(core.Config{PasswordCost: testenv.FastPasswords, Store: st, Box: testenv.TestKey(), SMS: &testenv.SMSInbox{},
			Now: testenv.NewClock(time.Now().UTC()).Now, Clients: core.RegisteredClients{Store: st}, ClientKeys: clientjwt.New(nil, nil)})
		ctx := context.Background()
		device, _, err := svc.CreateOAuthClient(ctx, core.OAuthClientCreate{Label: "CLI", Website: "https://cli.example",
			RedirectURIs: []string{"http://127.0.0.1/cb"}, Public: true, DeviceGrant: true})
		if err != nil {
			f.Fatal(err)
		}
		web, secret, err := svc.CreateOAuthClient(ctx, core.OAuthClientCreate{Label: "Web", Website: "https://web.example",
			RedirectURIs: []string{"https://web.example/cb"}})
		if err != nil {
			f.Fatal(err)
		}
		srv := httptest.NewServer(handler(svc))
		f.Cleanup(srv.Close)
		targets = append(targets, target{srv.URL, device, web, secret, b.Name})
	}
	// A bound on each answer: an input that makes the server hang fails.
	client := &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// The seeds name the first engine's clients; "{device}", "{web}" and
	// "{secret}" stand for each engine's own.
	for _, s := range []string{
		"grant_type=" + url.QueryEscape(core.GrantTypeDeviceCode) + "&client_id={device}&device_code=x",
		"grant_type=authorization_code&code=abc&client_id={web}&client_secret={secret}",
		"grant_type=refresh_token&refresh_token=r&scope=account:read_only&client_id={web}&client_secret={secret}",
		"client_id={device}&scope=openid%20offline_access",
		"client_id={device}&scope=*",
		"token=abc&client_id={web}&client_secret={secret}",
		"response_type=code&client_id={web}&redirect_uri=https://web.example/cb&state=s&scope=openid&prompt=none",
		"response_type=code&client_id={web}&client_secret={secret}&redirect_uri=https://web.example/cb&nonce=%FF&state=%FE",
		"user_code=BCDF-GHJK", "user_code=%FF%00", "client_id={web}&request_uri=urn:ietf:params:oauth:request_uri:x",
		"client_id=a&client_id=b", "%zz", "",
		"response_type=code&client_id={web}&client_secret={secret}&redirect_uri=https://web.example/cb&scope=openid&acr_values=" +
			url.QueryEscape(core.ACRMultiFactor+" urn:x"),
		"response_type=code&client_id={web}&redirect_uri=https://web.example/cb&resource=https://mcp.example/&resource=x",
		"grant_type=authorization_code&code=abc&client_id={web}&client_secret={secret}&resource=https%3A%2F%2Fmcp.example%2F%23f",
		// An assertion naming the web client, signed by no key of its.
		"token=x&client_assertion_type=" + url.QueryEscape(core.ClientAssertionType) +
			"&client_assertion=eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ7d2VifSIsInN1YiI6Int3ZWJ9IiwiYXVkIjoieCJ9.c2ln",
	} {
		for i := range 8 {
			f.Add(uint8(i), s)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, form string) {
		posts := []string{"/oauth/token", "/oauth/device_authorization", "/oauth/revoke", "/oauth/introspect", "/oauth/par"}
		gets := []string{"/oauth/authorize", "/oauth/device", "/logout"}
		i := int(which) % (len(posts) + len(gets))
		for _, tg := range targets {
			form := strings.NewReplacer("{device}", tg.device.ID, "{web}", tg.web.ID, "{secret}", tg.secret).Replace(form)
			var resp *http.Response
			var err error
			if i < len(posts) {
				resp, err = client.Post(tg.url+posts[i], "application/x-www-form-urlencoded", strings.NewReader(form))
			} else {
				req, perr := http.NewRequest("GET", tg.url+gets[i-len(posts)]+"?"+form, nil)
				if perr != nil {
					t.Skip("no client can send this query")
				}
				resp, err = client.Do(req)
			}
			if err != nil {
				t.Fatalf("%s: %q (endpoint %d): %v", tg.engine, form, i, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode >= 500 {
				t.Fatalf("%s: %d for %q (endpoint %d): %s", tg.engine, resp.StatusCode, form, i, body)
			}
			if i < len(posts) && resp.StatusCode >= 400 {
				var e struct {
					Error string `json:"error"`
				}
				if json.Unmarshal(body, &e) != nil || e.Error == "" {
					t.Fatalf("%s: %d for %q (endpoint %d) is not an OAuth error: %s", tg.engine, resp.StatusCode, form, i, body)
				}
			}
		}
	})
}

// FuzzSignedInPages sends any query and any form, as a signed-in user,
// to the pages that act for them: the authorization page and its consent
// form, the device page and its form, and the page that asks for a
// second factor (with the session's CSRF token, or none). Their approvals
// store what the input holds, so every input goes to every engine; no
// answer is a 5xx. The seeds hold a pushed request's request_uri, a user
// code, a client that requires a second factor, and the parameters that
// approve.
func FuzzSignedInPages(f *testing.F) {
	type target struct {
		url, engine          string
		svc                  *core.Service
		web, admin           core.OAuthClient
		requestURI, userCode string
		session, csrf        string
	}
	var targets []*target
	ctx := context.Background()
	for _, b := range testenv.Backends(f) {
		st := b.Open(f)
		svc := core.New(core.Config{PasswordCost: testenv.FastPasswords, Store: st, Box: testenv.TestKey(), SMS: &testenv.SMSInbox{},
			Now: testenv.NewClock(time.Now().UTC()).Now, Clients: core.RegisteredClients{Store: st}, ClientKeys: clientjwt.New(nil, nil)})
		u, err := svc.CreateUser(ctx, core.UserCreate{Username: "alice", Email: "alice@example.com"})
		if err != nil {
			f.Fatal(err)
		}
		if err := svc.SetPassword(ctx, u.ID, password); err != nil {
			f.Fatal(err)
		}
		web, secret, err := svc.CreateOAuthClient(ctx, core.OAuthClientCreate{Label: "Web", Website: "https://web.example",
			RedirectURIs: []string{"https://web.example/cb"}, DeviceGrant: true})
		if err != nil {
			f.Fatal(err)
		}
		admin, _, err := svc.CreateOAuthClient(ctx, core.OAuthClientCreate{Label: "Admin", Website: "https://admin.example",
			RedirectURIs: []string{"https://admin.example/cb"}, RequireMFA: true})
		if err != nil {
			f.Fatal(err)
		}
		pushed, err := svc.PushAuthorization(ctx, core.ClientAuth{ClientID: web.ID, ClientSecret: secret}, "192.0.2.1", core.AuthorizeRequest{ResponseType: "code",
			RedirectURI: "https://web.example/cb", Scope: "openid"}, map[string]string{"response_type": "code", "scope": "openid",
			"redirect_uri": "https://web.example/cb", "prompt": "consent"})
		if err != nil {
			f.Fatal(err)
		}
		dev, err := svc.DeviceAuthorize(ctx, core.DeviceAuthorizeRequest{ClientID: web.ID, ClientSecret: secret, Scope: "openid", IP: "192.0.2.1"})
		if err != nil {
			f.Fatal(err)
		}
		srv := httptest.NewServer(handler(svc))
		f.Cleanup(srv.Close)
		targets = append(targets, &target{url: srv.URL, engine: b.Name, svc: svc, web: web, admin: admin, requestURI: pushed.RequestURI, userCode: dev.UserCode})
	}
	client := &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// signIn gives tg a live session, and its CSRF token from a page.
	signIn := func(t *testing.T, tg *target) {
		if tg.session != "" {
			if _, err := tg.svc.Authenticate(ctx, tg.session); err == nil {
				return
			}
		}
		res, err := tg.svc.SignIn(ctx, core.SignInRequest{Username: "alice", Password: password, IP: "192.0.2.1", UserAgent: "fuzz"})
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", tg.url+"/oauth/device", nil)
		req.AddCookie(&http.Cookie{Name: "profiled_session", Value: res.SessionSecret})
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := csrfPattern.FindSubmatch(body)
		if m == nil {
			t.Fatalf("%s: no CSRF token on the signed-in device page: %d %s", tg.engine, resp.StatusCode, body)
		}
		tg.session, tg.csrf = res.SessionSecret, string(m[1])
	}
	for _, s := range []string{
		"response_type=code&client_id={web}&redirect_uri=https://web.example/cb&scope=openid&state=s&decision=approve&scope_openid=allow",
		"client_id={web}&request_uri={request_uri}&decision=approve",
		"client_id={web}&request_uri={request_uri}&decision=deny",
		"response_type=code&client_id={web}&scope=*&nonce=%FF&decision=approve&scope_account=read_write",
		"user_code={user_code}", "user_code={user_code}&decision=approve&scope_openid=allow", "user_code=%FF%00&decision=deny",
		"client_id={web}&prompt=login&max_age=0", "%zz", "",
		"response_type=code&client_id={admin}&redirect_uri=https://admin.example/cb&scope=openid&decision=approve&scope_openid=allow",
		"response_type=code&client_id={admin}&scope=openid&prompt=none", "code=123456&next=/oauth/authorize?client_id={admin}",
		"code=%00&next=//evil.example",
	} {
		for i := range 12 {
			f.Add(uint8(i), s)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, form string) {
		paths := []string{"/oauth/authorize", "/oauth/device", "/auth/signin/confirm"}
		path, post, withCSRF := paths[which%3], (which/3)&1 != 0, (which/6)&1 == 0
		for _, tg := range targets {
			signIn(t, tg)
			form := strings.NewReplacer("{web}", tg.web.ID, "{admin}", tg.admin.ID, "{request_uri}", url.QueryEscape(tg.requestURI),
				"{user_code}", tg.userCode).Replace(form)
			var req *http.Request
			var err error
			if post {
				if withCSRF {
					form += "&csrf_token=" + url.QueryEscape(tg.csrf)
				}
				req, err = http.NewRequest("POST", tg.url+path, strings.NewReader(form))
				if err == nil {
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				}
			} else {
				req, err = http.NewRequest("GET", tg.url+path+"?"+form, nil)
			}
			if err != nil {
				t.Skip("no client can send this request")
			}
			req.AddCookie(&http.Cookie{Name: "profiled_session", Value: tg.session})
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("%s: %s %s %q: %v", tg.engine, req.Method, path, form, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode >= 500 {
				t.Fatalf("%s: %d for %s %s %q: %s", tg.engine, resp.StatusCode, req.Method, path, form, body)
			}
		}
	})
}

// FuzzClientRegistration posts any body to POST /oauth/register, with
// registration open, on every engine: no answer is a 5xx, a refusal is
// RFC 6749's JSON error, and a 201 names a client that exists.
func FuzzClientRegistration(f *testing.F) {
	type target struct {
		url, engine string
		svc         *core.Service
	}
	var targets []target
	for _, b := range testenv.Backends(f) {
		st := b.Open(f)
		svc := core.New(core.Config{PasswordCost: testenv.FastPasswords, Store: st, Box: testenv.TestKey(), SMS: &testenv.SMSInbox{},
			Now: testenv.NewClock(time.Now().UTC()).Now, Clients: core.RegisteredClients{Store: st}, Registration: true})
		srv := httptest.NewServer(handler(svc))
		f.Cleanup(srv.Close)
		targets = append(targets, target{srv.URL, b.Name, svc})
	}
	for _, s := range []string{
		`{"redirect_uris":["https://a.example/cb"],"client_name":"A","token_endpoint_auth_method":"none"}`,
		`{"redirect_uris":["http://127.0.0.1:9/cb"],"grant_types":["authorization_code","refresh_token"],"response_types":["code"]}`,
		`{"redirect_uris":["https://a.example/cb"],"client_uri":"https://a.example","logo_uri":"https://a.example/l.png","x":{"y":[1]}}`,
		`{"redirect_uris":["https://a.example/cb\u0000"],"client_name":"\ud800"}`, `{"redirect_uris":null}`, `[]`, `{`, ``,
	} {
		f.Add(s)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	f.Fuzz(func(t *testing.T, body string) {
		for _, tg := range targets {
			resp, err := client.Post(tg.url+"/oauth/register", "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatalf("%s: %q: %v", tg.engine, body, err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var out struct {
				Error    string `json:"error"`
				ClientID string `json:"client_id"`
			}
			switch {
			case resp.StatusCode >= 500:
				t.Fatalf("%s: %d for %q: %s", tg.engine, resp.StatusCode, body, b)
			case json.Unmarshal(b, &out) != nil:
				t.Fatalf("%s: %d for %q is not JSON: %s", tg.engine, resp.StatusCode, body, b)
			case resp.StatusCode == http.StatusCreated:
				if _, err := tg.svc.OperatorOAuthClient(context.Background(), out.ClientID); err != nil {
					t.Fatalf("%s: %q registered %q, which is not found: %v", tg.engine, body, out.ClientID, err)
				}
			case out.Error == "":
				t.Fatalf("%s: %d for %q is not an OAuth error: %s", tg.engine, resp.StatusCode, body, b)
			}
		}
	})
}
