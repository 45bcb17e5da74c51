package httpx_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/profiled/profiled/face/httpx"
)

// TestShortcutIsMux: through Shortcut every request gets the answer the
// mux alone gives it, status, redirect and handler, for paths under the
// prefixes and beside them, clean and not, escaped and not, and methods
// ServeMux treats apart. The mux is mounted as cmd/profiled mounts the
// faces.
func TestShortcutIsMux(t *testing.T) {
	mux := httpx.NewMounts()
	named := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, "%s %s", name, r.URL.Path) })
	}
	mux.Handle("GET /healthz", named("health"))
	for _, p := range []string{"/auth/", "/oauth/", "/logout", "/forgot/", "/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
		mux.Handle(p, named("auth"))
	}
	mux.Handle("/iam/v1/", named("iam"))
	mux.Handle("/user/", named("pace"))
	mux.Handle("/", named("linode"))
	short := mux.Shortcut("/v4/", "/auth/", "/oauth/", "/iam/v1/", "/user/")

	targets := []string{"/v4/profile", "/v4/profile/sshkeys/12", "/v4/", "/v4", "/v4//profile", "/v4/./profile",
		"/v4/../auth/verify", "/v4/profile/", "/v4/profile/.", "/v4/%70rofile", "/v4%2Fprofile", "/v4/a%2Fb", "/auth%2Fverify", "/iam%2Fv1/users/me/",
		"/auth/verify?scope=account:read_only", "/auth/verify", "/auth", "/auth/", "/oauth/token", "/iam/v1/users/me/",
		"/iam/v1", "/iam/v1/users/me/avatar", "/user/2025-1/preferences/x", "/user", "/logout", "/forgot/x",
		"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration", "/.well-known/x", "/healthz", "/", "//", "/v5/x", "/V4/profile", "*"}
	for _, method := range []string{"GET", "POST", "OPTIONS", "CONNECT"} {
		for _, target := range targets {
			serve := func(h http.Handler) *httptest.ResponseRecorder {
				r := httptest.NewRequest(method, "http://profiled.test"+target, nil)
				if target == "*" {
					r = httptest.NewRequest(method, "*", nil)
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				return w
			}
			want, got := serve(mux), serve(short)
			if got.Code != want.Code || got.Header().Get("Location") != want.Header().Get("Location") || got.Body.String() != want.Body.String() {
				t.Errorf("%s %s: shortcut %d %q %q, mux %d %q %q", method, target, got.Code, got.Header().Get("Location"), got.Body.String(),
					want.Code, want.Header().Get("Location"), want.Body.String())
			}
		}
	}
}

// TestShortcutRefusesShadowing: a shortcut under which something else is
// mounted, which it would answer instead, panics when it is made.
func TestShortcutRefusesShadowing(t *testing.T) {
	ok := http.NotFoundHandler()
	for _, tc := range []struct {
		mounts   []string
		shortcut string
		panics   bool
	}{
		{[]string{"/auth/", "/"}, "/auth/", false},
		{[]string{"/", "GET /healthz"}, "/v4/", false},
		{[]string{"/", "GET /v4/special"}, "/v4/", true},
		{[]string{"/", "POST example.com/v4/x/{id}"}, "/v4/", true},
		{[]string{"/auth/", "/auth/special/"}, "/auth/", true},
		{[]string{"/"}, "/v4", true},
		{[]string{"/"}, "/v4/../x/", true},
	} {
		m := httpx.NewMounts()
		for _, p := range tc.mounts {
			m.Handle(p, ok)
		}
		panicked := func() (p bool) {
			defer func() { p = recover() != nil }()
			m.Shortcut(tc.shortcut)
			return false
		}()
		if panicked != tc.panics {
			t.Errorf("mounts %q, shortcut %q: panicked %v, want %v", tc.mounts, tc.shortcut, panicked, tc.panics)
		}
	}
}
