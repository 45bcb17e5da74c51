package auth_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

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
