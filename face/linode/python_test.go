package linode_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"strings"
	"testing"

	"github.com/linode/linodego"

	"github.com/profiled/profiled/internal/testenv"
)

// TestWhatThePythonSDKSends sends what linode_api4 (the Python SDK, which
// Ansible's linode.cloud and linode-cli's plugins are built on) and
// linode.cloud's modules send, where it differs from what linodego sends,
// request for request: the real API takes each of them. docs/real-clients.md
// says how they were read off the real clients.
func TestWhatThePythonSDKSends(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			ctx := context.Background()

			t.Run("ansible's token module posts its own parameters", func(t *testing.T) {
				// linode.cloud.token calls token_create(**module.params).
				body := `{"label":"ansible-test","state":"present","expiry":"2222-07-09T16:59:26","scopes":"linodes:read_only",` +
					`"api_token":"` + e.token + `","api_version":"v4","api_url":"https://api.linode.com/","ua_prefix":null,"ca_path":null}`
				status, _, resp := e.do("POST", "/v4/profile/tokens", "application/json", []byte(body))
				var tok struct{ Label, Scopes, Expiry, Token string }
				if err := json.Unmarshal(resp, &tok); status != 200 || err != nil {
					t.Fatalf("POST /v4/profile/tokens: %d %s", status, resp)
				}
				if tok.Label != "ansible-test" || tok.Scopes != "linodes:read_only" || tok.Expiry != "2222-07-09T16:59:26" || len(tok.Token) != 64 {
					t.Fatalf("the token made: %s", resp)
				}
			})

			t.Run("fields an object does not have change nothing", func(t *testing.T) {
				before := e.snapshot()
				for _, c := range []struct{ method, path, body string }{
					{"PUT", "/v4/profile", `{"shoe_size":44,"nested":{"a":[1,2]}}`},
					{"PUT", "/v4/account", `{"shoe_size":44,"balance":1000,"euuid":"x","capabilities":["Everything"]}`},
					{"PUT", "/v4/account/settings", `{"shoe_size":44,"managed":true}`},
				} {
					if status, _, resp := e.do(c.method, c.path, "application/json", []byte(c.body)); status != 200 {
						t.Errorf("%s %s %s: %d %s", c.method, c.path, c.body, status, resp)
					}
				}
				if after := e.snapshot(); after != before {
					t.Fatalf("fields nobody has changed state:\n%s\n%s", before, after)
				}
				// A field it has, of the wrong type, is still refused.
				if status, _, resp := e.do("PUT", "/v4/profile", "application/json", []byte(`{"shoe_size":44,"email_notifications":"yes"}`)); status != 400 ||
					envelope(t, resp)[0].Field != "email_notifications" {
					t.Fatalf("a field of the wrong type beside an unknown one: %d %s", status, resp)
				}
			})

			t.Run("a user made with fields it does not have", func(t *testing.T) {
				status, _, resp := e.do("POST", "/v4/account/users", "application/json",
					[]byte(`{"username":"newbie","email":"newbie@example.com","restricted":true,"admin":true,"user_type":"parent"}`))
				if status != 200 || !strings.Contains(string(resp), `"restricted":true`) || !strings.Contains(string(resp), `"user_type":"default"`) {
					t.Fatalf("POST /v4/account/users: %d %s", status, resp)
				}
				// PUT grants with lists and global grants profiled does not know.
				status, _, resp = e.do("PUT", "/v4/account/users/newbie/grants", "application/json",
					[]byte(`{"global":{"add_linodes":true,"add_buckets":true},"lkecluster":[{"id":1,"permissions":"read_only"}]}`))
				if status != 200 || !strings.Contains(string(resp), `"add_linodes":true`) || strings.Contains(string(resp), "lkecluster") {
					t.Fatalf("PUT grants: %d %s", status, resp)
				}
			})

			t.Run("the token scheme and reset_secret", func(t *testing.T) {
				// OAuthClient.reset_secret posts to reset_secret; thumbnail()
				// and set_thumbnail() authenticate with "token <token>" at
				// base_url + "/" + "/account/...", which is redirected to
				// the clean path with the method and body kept (307).
				c, err := e.client.CreateOAuthClient(ctx, linodego.OAuthClientCreateOptions{Label: "py-app", RedirectURI: "https://py.example/cb"})
				if err != nil {
					t.Fatal(err)
				}
				status, _, resp := e.do("POST", "/v4/account/oauth-clients/"+c.ID+"/reset_secret", "application/json", nil)
				var reset struct{ ID, Secret string }
				if err := json.Unmarshal(resp, &reset); status != 200 || err != nil || reset.ID != c.ID || reset.Secret == "" || reset.Secret == c.Secret {
					t.Fatalf("POST reset_secret: %d %s", status, resp)
				}
				var img bytes.Buffer
				if err := png.Encode(&img, image.NewRGBA(image.Rect(0, 0, 4, 4))); err != nil {
					t.Fatal(err)
				}
				thumb := "/v4//account/oauth-clients/" + c.ID + "/thumbnail"
				for _, auth := range []string{"token " + e.token, "Token " + e.token} {
					if status, _, resp := e.do("PUT", thumb, "image/png", img.Bytes(), "Authorization", auth); status != 200 {
						t.Fatalf("set_thumbnail with %q: %d %s", strings.Fields(auth)[0], status, resp)
					}
					if status, _, resp := e.do("GET", thumb, "", nil, "Authorization", auth); status != 200 || !bytes.Equal(resp, img.Bytes()) {
						t.Fatalf("thumbnail with %q: %d, %d bytes", strings.Fields(auth)[0], status, len(resp))
					}
				}
				if status, _, _ := e.do("GET", thumb, "", nil, "Authorization", "token nonsense"); status != 401 {
					t.Fatalf("a wrong token with the token scheme: %d, want 401", status)
				}
				if status, _, _ := e.do("GET", thumb, "", nil, "Authorization", "Basic "+e.token); status != 401 {
					t.Fatalf("another scheme: %d, want 401", status)
				}
			})
		})
	}
}
