package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestCORSOrigins: with --cors-origin, the consoles named get their exact
// origin back with credentials on every face, the sign-in API and the
// token endpoint included, and any other origin gets nothing; without it,
// the API faces answer "*" without credentials (browsers refuse the pair).
func TestCORSOrigins(t *testing.T) {
	const console = "https://console.example.com"
	preflight := func(base, path, origin string) http.Header {
		req, _ := http.NewRequest("OPTIONS", base+path, nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("preflight of %s from %s: %d", path, origin, resp.StatusCode)
		}
		return resp.Header
	}
	_, db := tempDB(t)
	s := startServe(t, map[string]string{"PROFILED_DB": db}, "--cors-origin", console+",http://localhost:3000")
	for _, path := range []string{"/v4/profile", "/iam/v1/users/me/", "/user/2025-1/preferences/personal", "/auth/login", "/oauth/token", "/v4/account"} {
		h := preflight(s.base, path, console)
		if h.Get("Access-Control-Allow-Origin") != console || h.Get("Access-Control-Allow-Credentials") != "true" ||
			!strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
			t.Errorf("%s from the console: %v", path, h)
		}
		if h := preflight(s.base, path, "https://evil.example"); h.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s from another origin: Access-Control-Allow-Origin %q", path, h.Get("Access-Control-Allow-Origin"))
		}
	}
	// A real answer carries them too, and keeps the face's own Vary.
	req, _ := http.NewRequest("GET", s.base+"/v4/profile", nil)
	req.Header.Set("Origin", console)
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if vary := strings.Join(resp.Header.Values("Vary"), ","); resp.Header.Get("Access-Control-Allow-Origin") != console ||
		!strings.Contains(vary, "Origin") || !strings.Contains(vary, "Authorization") {
		t.Errorf("GET /v4/profile from the console: %v", resp.Header)
	}

	_, db2 := tempDB(t)
	open := startServe(t, map[string]string{"PROFILED_DB": db2})
	h := preflight(open.base, "/v4/profile", console)
	if h.Get("Access-Control-Allow-Origin") != "*" || h.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("without --cors-origin: %v", h)
	}
	if _, _, err := runCmd(t, map[string]string{"PROFILED_DB": db2}, "serve", "--cors-origin", "https://console.example.com/path"); err == nil || !strings.Contains(err.Error(), "not an origin") {
		t.Errorf("an origin with a path: %v", err)
	}
}
