package main

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// TestServePreferencesFace runs serve with a directory of clients from the
// flag and from its environment twin, and uses /user/{version}/preferences.
func TestServePreferencesFace(t *testing.T) {
	_, db := tempDB(t)
	env := map[string]string{"PROFILED_DB": db, "PROFILED_PREFERENCES_CLIENTS": "ignored-when-the-flag-is-given"}
	s := startServe(t, env, "--preferences-client", "app-a", "--preferences-client", "app-b,app-c")
	url := func(client string) string { return s.base + "/user/2025-1/preferences/" + client }

	status, body := call(t, "PUT", url("personal"), s.token, `{"theme": "dark"}`)
	if status != http.StatusOK || string(body) != `{"theme":"dark"}` {
		t.Fatalf("PUT personal: %d %s", status, body)
	}
	// The same namespace as /v4/profile/preferences.
	status, body = call(t, "GET", s.base+"/v4/profile/preferences", s.token, "")
	if status != http.StatusOK || strings.TrimSpace(string(body)) != `{"theme":"dark"}` {
		t.Fatalf("GET /v4/profile/preferences: %d %s", status, body)
	}
	for _, c := range []string{"app-a", "app-b", "app-c"} {
		if status, body := call(t, "GET", url(c), s.token, ""); status != http.StatusOK || string(body) != "{}" {
			t.Errorf("GET %s: %d %s", c, status, body)
		}
	}
	for _, c := range []string{"app-d", "ignored-when-the-flag-is-given"} {
		if status, body := call(t, "GET", url(c), s.token, ""); status != http.StatusNotFound || !strings.Contains(string(body), `"unknown-client"`) {
			t.Errorf("GET %s: %d %s", c, status, body)
		}
	}
	if status, body := call(t, "GET", s.base+"/user/2019-1/preferences/app-a", s.token, ""); status != http.StatusNotFound || !strings.Contains(string(body), `"unknown-version"`) {
		t.Errorf("unknown version: %d %s", status, body)
	}
	if status, body := call(t, "GET", url("app-a"), "", ""); status != http.StatusUnauthorized || !strings.Contains(string(body), `"errors"`) {
		t.Errorf("no token: %d %s", status, body)
	}
	if !s.stderr.has(`"route":"GET /user/{version}/preferences/{clientId}"`) {
		t.Errorf("no request log line for the face:\n%s", s.stderr)
	}
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	token := s.token

	// The environment alone: ids separated by commas or spaces.
	s = startServe(t, map[string]string{"PROFILED_DB": db, "PROFILED_PREFERENCES_CLIENTS": "app-x, app-y app-z"})
	for c, want := range map[string]int{"app-x": 200, "app-y": 200, "app-z": 200, "app-a": 404, "personal": 200} {
		if status, body := call(t, "GET", s.base+"/user/2024-2/preferences/"+c, token, ""); status != want {
			t.Errorf("GET %s: %d %s, want %d", c, status, body, want)
		}
	}
}

func TestBadPreferencesClients(t *testing.T) {
	_, db := tempDB(t)
	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"serve", "--db", db, "--preferences-client", "personal"}, "reserved"},
		{nil, []string{"serve", "--db", db, "--preferences-client", "a/b"}, "preferences-client"},
		{nil, []string{"serve", "--db", db, "--preferences-client", strings.Repeat("x", 129)}, "1 to 128"},
		{map[string]string{"PROFILED_PREFERENCES_CLIENTS": "ok,not:ok"}, []string{"serve", "--db", db}, "PROFILED_PREFERENCES_CLIENTS"},
	} {
		_, _, err := runCmd(t, c.env, c.args...)
		var ue *usageError
		if err == nil || !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("profiled %s: %v, want a usage error about %q", strings.Join(c.args, " "), err, c.want)
		}
	}
}

// TestServePreferencesRegisteredClients: a client registered with
// "oauth-clients create" has a namespace without --preferences-client.
func TestServePreferencesRegisteredClients(t *testing.T) {
	_, db := tempDB(t)
	env := map[string]string{"PROFILED_DB": db}
	s := startServe(t, env, "--preferences-client", "app-a")
	out := mustRun(t, env, "oauth-clients", "create", "--label", "Example", "--website", "https://app.example",
		"--redirect-uri", "https://app.example/cb", "--public")
	id := strings.TrimSpace(strings.TrimPrefix(out, "client_id="))
	for client, want := range map[string]int{id: http.StatusOK, "app-a": http.StatusOK, "0123456789abcdef0123": http.StatusNotFound} {
		status, body := call(t, "PUT", s.base+"/user/2025-1/preferences/"+client, s.token, `{"for":"`+client+`"}`)
		if status != want {
			t.Errorf("PUT %s: %d %s, want %d", client, status, body, want)
		}
	}
}
