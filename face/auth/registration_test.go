package auth_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/testenv"
)

// TestDynamicClientRegistrationStrictRP: with registration open,
// openid-client registers a client (dynamicClientRegistration, at the
// metadata's registration_endpoint, an unknown member ignored), then
// signs alice in with it; the consent page says the client registered
// itself. Bad metadata is an RFC 7591 error naming the member; closed,
// the endpoint is a 404 and the metadata names none.
func TestDynamicClientRegistrationStrictRP(t *testing.T) {
	testenv.NodePackages(t, oidcRPDir)
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			closed := newEnvOn(t, st, testenv.NewClock(time.Now().UTC()))
			var md map[string]any
			closed.call("GET", "/.well-known/openid-configuration", "", "", 200, &md)
			if md["registration_endpoint"] != nil {
				t.Fatalf("registration closed, the metadata names %v", md["registration_endpoint"])
			}
			registration := `{"redirect_uris":["https://rp.example/cb"]}`
			if body := closed.call("POST", "/oauth/register", "", registration, 404, nil); !strings.Contains(string(body), "invalid_request") {
				t.Fatalf("registration closed: %s", body)
			}

			e := newEnvWith(t, st, testenv.NewClock(time.Now().UTC()), func(c *core.Config) { c.Registration = true })
			alice, _ := e.user("alice")
			for body, want := range map[string]string{
				`{"client_name":"x"}`:                                                    "invalid_redirect_uri",
				`{"redirect_uris":["http://rp.example/cb"]}`:                             "invalid_redirect_uri",
				`{"redirect_uris":["https://rp.example/cb"],"grant_types":["implicit"]}`: "invalid_client_metadata",
				`{"redirect_uris":"https://rp.example/cb"}`:                              "invalid_client_metadata",
				`[1]`: "invalid_client_metadata",
			} {
				var oe struct{ Error, ErrorDescription string }
				e.call("POST", "/oauth/register", "", body, 400, &oe)
				if oe.Error != want {
					t.Errorf("%s: %+v, want %s", body, oe, want)
				}
			}

			const redirect = "https://dashboard.example/oidc/callback"
			var reg struct {
				ClientID     string `json:"client_id"`
				ClientSecret string `json:"client_secret"`
			}
			if err := json.Unmarshal(nodeRP(t, "register", e.srv.URL, "-", "-", redirect), &reg); err != nil || reg.ClientID == "" || reg.ClientSecret == "" {
				t.Fatalf("openid-client's registration: %+v %v", reg, err)
			}
			var start rpStart
			if err := json.Unmarshal(nodeRP(t, "start", e.srv.URL, reg.ClientID, reg.ClientSecret, redirect), &start); err != nil {
				t.Fatal(err)
			}
			browser := client(t)
			e.signInBrowser(browser, "")
			if page := e.consentPage(browser, start.URL); !strings.Contains(page, `id="unverified"`) || !strings.Contains(page, "Strict RP") {
				t.Fatalf("the consent page of a client that registered itself: %s", page)
			}
			back := e.consent(browser, start.URL, url.Values{"decision": {"approve"}})
			var got struct{ Claims map[string]any }
			if err := json.Unmarshal(nodeRP(t, "finish", e.srv.URL, reg.ClientID, reg.ClientSecret, back.String(), start.Verifier, start.Nonce, start.State), &got); err != nil {
				t.Fatal(err)
			}
			if got.Claims["sub"] != itoa(alice.ID) || got.Claims["aud"] != reg.ClientID {
				t.Fatalf("the registered client's sign-in: %v", got.Claims)
			}

			// A huge body is refused whole; 25 registrations at once from
			// one address make 20 clients, the rest 429 with Retry-After.
			huge := `{"redirect_uris":["https://rp.example/cb"],"client_name":"` + strings.Repeat("x", 4<<20) + `"}`
			if body := e.call("POST", "/oauth/register", "", huge, 413, nil); !strings.Contains(string(body), "invalid_client_metadata") {
				t.Fatalf("a 4 MiB registration: %s", body)
			}
			statuses := make([]int, core.RegistrationsPerAddress+5)
			var wg sync.WaitGroup
			for i := range statuses {
				wg.Go(func() {
					resp, err := http.Post(e.srv.URL+"/oauth/register", "application/json", strings.NewReader(`{"redirect_uris":["https://many.example/cb"]}`))
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
					if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
						t.Error("a 429 without Retry-After")
					}
					statuses[i] = resp.StatusCode
				})
			}
			wg.Wait()
			counts := map[int]int{}
			for _, st := range statuses {
				counts[st]++
			}
			// This address registered one client before (openid-client's).
			if counts[http.StatusCreated] != core.RegistrationsPerAddress-1 || counts[http.StatusTooManyRequests] != 6 {
				t.Fatalf("25 registrations at once: %v", counts)
			}
			e.clock.Advance(core.RegistrationWindow)

			// A public client, as Model Context Protocol clients register.
			var pub map[string]any
			e.call("POST", "/oauth/register", "", `{"redirect_uris":["http://127.0.0.1:33418/callback"],"client_name":"An MCP client",`+
				`"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"],"response_types":["code"],"scope":"openid"}`, 201, &pub)
			if pub["client_secret"] != nil || pub["token_endpoint_auth_method"] != "none" || pub["client_name"] != "An MCP client" {
				t.Fatalf("a public registration: %v", pub)
			}
			resp, err := http.Get(e.srv.URL + "/.well-known/oauth-authorization-server")
			if err != nil {
				t.Fatal(err)
			}
			var asMD map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&asMD); err != nil || asMD["registration_endpoint"] != e.srv.URL+"/oauth/register" {
				t.Fatalf("the metadata's registration_endpoint: %v %v", asMD["registration_endpoint"], err)
			}
			resp.Body.Close()
		})
	}
}
