package auth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/auth"
	"github.com/profiled/profiled/internal/pgtest"
	"github.com/profiled/profiled/internal/testenv"
	"github.com/profiled/profiled/store/postgres"
	"github.com/profiled/profiled/store/sqlite"
)

type loginResp struct {
	Status, Token, Scopes, Username, Challenge, Expiry string
	DeviceTrusted                                      bool `json:"device_trusted"`
}

func TestSignInAPI(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			alice, personal := e.user("alice")

			// Input errors name the field; nothing is a 500.
			wantField(t, e.call("POST", "/auth/login", "", `{"password":"x"}`, 400, nil), "username")
			wantField(t, e.call("POST", "/auth/login", "", `{"username":"alice"}`, 400, nil), "password")
			wantField(t, e.call("POST", "/auth/login", "", `{"username":"alice","password":"x","admin":true}`, 400, nil), "admin")
			wantField(t, e.call("POST", "/auth/login", "", `{"username":1,"password":"x"}`, 400, nil), "username")
			wantField(t, e.call("POST", "/auth/login", "", `{"username":"alice","password":"x","remember_me":"yes"}`, 400, nil), "remember_me")
			e.call("POST", "/auth/login", "", `{"username":"alice"`, 400, nil)
			e.call("POST", "/auth/login", "", `{"username":"a\u0000b","password":"x"}`, 401, nil)
			e.call("POST", "/auth/login", "", `{"username":"alice","password":"`+strings.Repeat("x", 70000)+`"}`, 413, nil)
			wantField(t, e.call("POST", "/auth/login/tfa", "", `{"code":"123456"}`, 400, nil), "challenge")
			wantField(t, e.call("GET", "/auth/login", "", "", 405, nil), "")
			wantField(t, e.call("GET", "/auth/nothing", "", "", 404, nil), "")
			wantField(t, e.call("POST", "/auth/login", "", `[]`, 400, nil), "")
			wantField(t, e.call("POST", "/auth/login/tfa", "", `{"challenge":"nope","code":"123456"}`, 401, nil), "challenge")

			// A wrong password and an unknown user look the same.
			wrong := e.call("POST", "/auth/login", "", `{"username":"alice","password":"not the passphrase"}`, 401, nil)
			unknown := e.call("POST", "/auth/login", "", `{"username":"nobody","password":"not the passphrase"}`, 401, nil)
			if string(wrong) != string(unknown) {
				t.Fatalf("wrong password %s, unknown user %s", wrong, unknown)
			}

			var lr loginResp
			e.call("POST", "/auth/login", "", `{"username":"alice","password":"`+password+`"}`, 200, &lr)
			if lr.Status != "signed_in" || len(lr.Token) != 64 || lr.Scopes != "*" || lr.Username != "alice" {
				t.Fatalf("login = %+v", lr)
			}
			var prof struct{ Username string }
			e.call("GET", "/v4/profile", lr.Token, "", 200, &prof)
			if prof.Username != "alice" {
				t.Fatalf("profile with the session = %+v", prof)
			}
			// Sessions are not personal tokens.
			var toks struct{ Results int }
			e.call("GET", "/v4/profile/tokens", lr.Token, "", 200, &toks)
			if toks.Results != 1 {
				t.Fatalf("/profile/tokens lists %d tokens, want the personal one only", toks.Results)
			}
			var logins struct {
				Data []struct{ Status, Username, IP string }
			}
			e.call("GET", "/v4/profile/logins", personal, "", 200, &logins)
			if len(logins.Data) != 2 || logins.Data[0].Status != "failed" || logins.Data[1].Status != "successful" ||
				logins.Data[1].IP != "127.0.0.1" || logins.Data[1].Username != "alice" {
				t.Fatalf("logins = %+v", logins.Data)
			}

			// Scratch codes need TFA.
			e.call("POST", "/auth/tfa/scratch-codes", lr.Token, "", 409, nil)
			e.call("GET", "/auth/tfa/scratch-codes", "", "", 401, nil)

			// Sign out ends the session.
			e.call("POST", "/auth/logout", personal, "", 400, nil)
			e.call("POST", "/auth/logout", lr.Token, "", 200, nil)
			e.call("GET", "/v4/profile", lr.Token, "", 401, nil)
			_ = alice
		})
	}
}

func TestSignInTFAAndDevices(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			_, personal := e.user("alice")
			secret, scratch := e.enableTFA(personal)
			browser := client(t)

			var lr loginResp
			e.callWith(browser, "POST", "/auth/login", "", `{"username":"alice","password":"`+password+`","remember_me":true}`, 200, &lr)
			if lr.Status != "tfa_required" || lr.Challenge == "" || lr.Token != "" {
				t.Fatalf("login of a TFA user = %+v", lr)
			}
			wantField(t, e.callWith(browser, "POST", "/auth/login/tfa", "", `{"challenge":"`+lr.Challenge+`","code":"000000x"}`, 401, nil), "code")
			wantField(t, e.callWith(browser, "POST", "/auth/login/tfa", "", `{"challenge":"`+lr.Challenge+`"}`, 400, nil), "code")
			var done loginResp
			e.callWith(browser, "POST", "/auth/login/tfa", "", `{"challenge":"`+lr.Challenge+`","code":"`+e.code(secret)+`"}`, 200, &done)
			if done.Status != "signed_in" || done.Token == "" || !done.DeviceTrusted {
				t.Fatalf("second factor = %+v", done)
			}

			// Scratch codes: one left from tfa-enable-confirm, then ten new ones.
			var left struct{ Remaining int }
			e.call("GET", "/auth/tfa/scratch-codes", done.Token, "", 200, &left)
			if left.Remaining != 1 {
				t.Fatalf("%d scratch codes left, want 1", left.Remaining)
			}
			var fresh struct {
				ScratchCodes []string `json:"scratch_codes"`
			}
			e.call("POST", "/auth/tfa/scratch-codes", done.Token, "", 200, &fresh)
			if len(fresh.ScratchCodes) != core.ScratchCodeCount {
				t.Fatalf("regenerated %v", fresh.ScratchCodes)
			}
			e.call("GET", "/auth/tfa/scratch-codes", done.Token, "", 200, &left)
			if left.Remaining != core.ScratchCodeCount {
				t.Fatalf("%d scratch codes left, want %d", left.Remaining, core.ScratchCodeCount)
			}

			// The trusted device (its cookie) skips the second factor.
			var again loginResp
			e.callWith(browser, "POST", "/auth/login", "", `{"username":"alice","password":"`+password+`"}`, 200, &again)
			if again.Status != "signed_in" {
				t.Fatalf("login on a trusted device = %+v", again)
			}
			// Without the cookie it does not; the old scratch code is gone,
			// a new one works once.
			e.call("POST", "/auth/login", "", `{"username":"alice","password":"`+password+`"}`, 200, &lr)
			e.call("POST", "/auth/login/tfa", "", `{"challenge":"`+lr.Challenge+`","code":"`+scratch+`"}`, 401, nil)
			e.call("POST", "/auth/login/tfa", "", `{"challenge":"`+lr.Challenge+`","code":"`+fresh.ScratchCodes[0]+`"}`, 200, &done)

			// The device is listed; revoking it ends its trust.
			var devices struct {
				Data []struct {
					ID        int64
					UserAgent string `json:"user_agent"`
				}
			}
			e.call("GET", "/v4/profile/devices", personal, "", 200, &devices)
			if len(devices.Data) != 1 || !strings.HasPrefix(devices.Data[0].UserAgent, "Go-http-client") {
				t.Fatalf("devices = %+v", devices.Data)
			}
			e.call("DELETE", fmt.Sprintf("/v4/profile/devices/%d", devices.Data[0].ID), personal, "", 200, nil)
			e.callWith(browser, "POST", "/auth/login", "", `{"username":"alice","password":"`+password+`"}`, 200, &again)
			if again.Status != "tfa_required" {
				t.Fatalf("login on a revoked device = %+v", again)
			}
		})
	}
}

// replicaStores opens two stores on one database, as two replicas would.
func replicaStores(t *testing.T, backend string) (core.Store, core.Store) {
	ctx := context.Background()
	open := func(fn func() (core.Store, error)) core.Store {
		s, err := fn()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	if backend == "postgres" {
		dsn, _ := pgtest.Schema(t)
		pg := func() (core.Store, error) { return postgres.Open(ctx, dsn, postgres.Options{Migrate: true}) }
		return open(pg), open(pg)
	}
	path := t.TempDir() + "/profiled.db"
	lite := func() (core.Store, error) { return sqlite.Open(ctx, path) }
	return open(lite), open(lite)
}

func TestLockoutAcrossReplicas(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			s1, s2 := replicaStores(t, b.Name)
			c := testenv.NewClock(time.Now().UTC())
			one, two := newEnvOn(t, s1, c), newEnvOn(t, s2, c)
			one.user("alice")
			bad := `{"username":"alice","password":"not the passphrase"}`
			for i := 0; i < 6; i++ {
				replica := one
				if i%2 == 1 {
					replica = two
				}
				replica.call("POST", "/auth/login", "", bad, 401, nil)
			}
			good := `{"username":"alice","password":"` + password + `"}`
			for _, replica := range []*env{one, two} {
				req, _ := http.NewRequest("POST", replica.srv.URL+"/auth/login", strings.NewReader(good))
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
					t.Fatalf("a locked account on a replica: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
				}
			}
			c.Advance(31 * time.Second)
			two.call("POST", "/auth/login", "", good, 200, nil)
		})
	}
}

func TestSignInPages(t *testing.T) {
	e := newEnv(t, testenv.Backends(t)[0])
	e.user("alice")
	browser := client(t)

	// A form without the CSRF token, or from another site, is refused.
	resp := e.post(browser, "/auth/signin", url.Values{"username": {"alice"}, "password": {password}})
	if resp.StatusCode != 403 {
		t.Fatalf("a sign-in without CSRF token: %d", resp.StatusCode)
	}
	readAll(resp)
	req, _ := http.NewRequest("POST", e.srv.URL+"/auth/signin", strings.NewReader("username=alice"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, _ = browser.Do(req)
	if resp.StatusCode != 403 {
		t.Fatalf("a cross-site sign-in: %d", resp.StatusCode)
	}
	readAll(resp)

	resp = e.form(browser, "/auth/signin", "/auth/signin", url.Values{"username": {"alice"}, "password": {"wrong wrong wrong"}})
	if body := readAll(resp); resp.StatusCode != 401 || !strings.Contains(body, "Invalid username or password") {
		t.Fatalf("a wrong password: %d %s", resp.StatusCode, body)
	}
	// An open redirect is not followed.
	resp = e.form(browser, "/auth/signin", "/auth/signin", url.Values{"username": {"alice"}, "password": {password}, "next": {"//evil.example/"}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/auth/signin" {
		t.Fatalf("sign-in: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	readAll(resp)
	resp, _ = browser.Get(e.srv.URL + "/auth/signin")
	if body := readAll(resp); !strings.Contains(body, "signed in as <strong>alice</strong>") {
		t.Fatalf("the sign-in page once signed in: %s", body)
	}
	if resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Fatal("pages may be framed")
	}
	resp = e.form(browser, "/auth/signin", "/auth/signout", url.Values{})
	readAll(resp)
	resp, _ = browser.Get(e.srv.URL + "/auth/signin")
	if body := readAll(resp); !strings.Contains(body, `name="password"`) {
		t.Fatalf("after sign-out the sign-in page is: %s", body)
	}
}

func TestClientAddress(t *testing.T) {
	b := testenv.Backends(t)[0]
	e := newEnv(t, b)
	_, personal := e.user("alice")
	proxied := httptest.NewServer(auth.New(e.svc, auth.Options{TrustProxyHeaders: true}))
	t.Cleanup(proxied.Close)
	for _, srv := range []string{e.srv.URL, proxied.URL} {
		req, _ := http.NewRequest("POST", srv+"/auth/login", strings.NewReader(`{"username":"alice","password":"`+password+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", "192.0.2.1, 203.0.113.9")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("login: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	var logins struct{ Data []struct{ IP string } }
	e.call("GET", "/v4/profile/logins", personal, "", 200, &logins)
	if len(logins.Data) != 2 || logins.Data[0].IP != "127.0.0.1" || logins.Data[1].IP != "203.0.113.9" {
		t.Fatalf("login addresses = %+v, want the peer, then the last X-Forwarded-For entry", logins.Data)
	}
}

// TestNoInputIs500 sends odd input to every endpoint: none answers 5xx.
func TestNoInputIs500(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			e.user("alice")
			bodies := []string{"", "null", "[]", "{}", `{"username":null}`, `{"username":"\u0000","password":"\u0000"}`,
				`{"challenge":"` + strings.Repeat("a", 5000) + `","code":"\ud800"}`, "\xff\xfe", `{"username":"alice","password":"` + strings.Repeat("é", 300) + `"}`}
			forms := []string{"", "a=%zz", "client_id=%00&grant_type=authorization_code&code=%00", "grant_type=refresh_token&client_id=x&refresh_token=" + strings.Repeat("r", 300),
				"client_id=" + strings.Repeat("c", 200) + "&redirect_uri=%00&response_type=code&scope=%00&state=%00", "csrf_token=x"}
			paths := []string{"/auth/login", "/auth/login/tfa", "/auth/logout", "/auth/tfa/scratch-codes", "/auth/signin", "/auth/signin/tfa", "/auth/signout", "/oauth/authorize", "/oauth/token"}
			check := func(method, path, ct, body string) {
				req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
				if ct != "" {
					req.Header.Set("Content-Type", ct)
				}
				req.Header.Set("Authorization", "Bearer "+body)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				readAll(resp)
				if resp.StatusCode >= 500 {
					t.Errorf("%s %s %q: %d", method, path, body, resp.StatusCode)
				}
			}
			for _, p := range paths {
				for _, body := range bodies {
					check("POST", p, "application/json", body)
				}
				for _, f := range forms {
					check("POST", p, "application/x-www-form-urlencoded", f)
					check("GET", p+"?"+f, "", "")
				}
			}
		})
	}
}
