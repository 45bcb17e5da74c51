package auth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/testenv"
)

// TestDeviceFlow: RFC 8628 with golang.org/x/oauth2 as the device, on
// both engines: the metadata names the endpoint; the device's first
// polls are pending, then told to slow down; alice, signed in in a
// browser, opens the verification link, sends the code it fills in, lowers
// a scope on the consent page and approves; the device's poll then gets
// a token with what she approved. A client not allowed the grant, a
// browser not signed in and a wrong code each get their answer.
func TestDeviceFlow(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e, ctx := newEnv(t, b), t.Context()
			e.user("alice")
			cl := e.deviceApp("Deploy CLI")
			var md struct {
				Device     string   `json:"device_authorization_endpoint"`
				Token      string   `json:"token_endpoint"`
				GrantTypes []string `json:"grant_types_supported"`
			}
			e.call("GET", "/.well-known/oauth-authorization-server", "", "", 200, &md)
			if md.Device != e.srv.URL+"/oauth/device_authorization" || !strings.Contains(strings.Join(md.GrantTypes, " "), core.GrantTypeDeviceCode) {
				t.Fatalf("metadata: %+v", md)
			}
			conf := &oauth2.Config{ClientID: cl.ID, Scopes: []string{"account:read_write linodes:read_only"},
				Endpoint: oauth2.Endpoint{DeviceAuthURL: md.Device, TokenURL: md.Token, AuthStyle: oauth2.AuthStyleInParams}}
			da, err := conf.DeviceAuth(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if da.VerificationURI != e.srv.URL+"/oauth/device" || da.VerificationURIComplete != da.VerificationURI+"?user_code="+da.UserCode ||
				len(da.UserCode) != 9 || da.Interval != 5 || da.Expiry.IsZero() {
				t.Fatalf("DeviceAuth = %+v", da)
			}
			poll := func() string {
				resp := e.post(http.DefaultClient, "/oauth/token", url.Values{"grant_type": {core.GrantTypeDeviceCode},
					"client_id": {cl.ID}, "device_code": {da.DeviceCode}})
				return resp.Status + " " + readAll(resp)
			}
			if got := poll(); !strings.HasPrefix(got, "400") || !strings.Contains(got, `"error":"authorization_pending"`) {
				t.Fatalf("the first poll: %s", got)
			}
			if got := poll(); !strings.HasPrefix(got, "400") || !strings.Contains(got, `"error":"slow_down"`) {
				t.Fatalf("a poll at once after it: %s", got)
			}

			// Not signed in: the sign-in page first, which comes back.
			browser := client(t)
			resp, err := browser.Get(da.VerificationURIComplete)
			if err != nil {
				t.Fatal(err)
			}
			readAll(resp)
			if loc := resp.Header.Get("Location"); resp.StatusCode != 303 || !strings.HasPrefix(loc, "/auth/signin?next=%2Foauth%2Fdevice") {
				t.Fatalf("the device page signed out: %d to %q", resp.StatusCode, loc)
			}
			e.signInBrowser(browser, "")
			resp, err = browser.Get(da.VerificationURIComplete)
			if err != nil {
				t.Fatal(err)
			}
			page := readAll(resp)
			if resp.StatusCode != 200 || !strings.Contains(page, `value="`+da.UserCode+`"`) {
				t.Fatalf("the device page: %d %s", resp.StatusCode, page)
			}
			form := pageForm(page)
			form.Set("user_code", "BBBB-BBBB")
			resp = e.post(browser, "/oauth/device", form)
			if body := readAll(resp); resp.StatusCode != 400 || !strings.Contains(body, "unknown, expired or used") {
				t.Fatalf("a wrong code: %d %s", resp.StatusCode, body)
			}
			form.Set("user_code", strings.ToLower(da.UserCode))
			resp = e.post(browser, "/oauth/device", form)
			consent := readAll(resp)
			if resp.StatusCode != 200 || !strings.Contains(consent, "Deploy CLI") || !strings.Contains(consent, `action="/oauth/device"`) {
				t.Fatalf("the consent page of the device: %d %s", resp.StatusCode, consent)
			}
			approve := pageForm(consent)
			approve.Set("decision", "approve")
			approve.Set("scope_account", "read_only")
			resp = e.post(browser, "/oauth/device", approve)
			if body := readAll(resp); resp.StatusCode != 200 || !strings.Contains(body, "Device connected") {
				t.Fatalf("approving: %d %s", resp.StatusCode, body)
			}

			da.Interval = 1 // approved: the next poll gets the tokens, however soon
			tok, err := conf.DeviceAccessToken(ctx, da)
			if err != nil {
				t.Fatal(err)
			}
			if scope, _ := tok.Extra("scope").(string); scope != "account:read_only linodes:read_only" || tok.RefreshToken == "" {
				t.Fatalf("the device's token: scope %q, refresh token %q", scope, tok.RefreshToken)
			}
			var profile struct{ Username string }
			e.call("GET", "/v4/profile", tok.AccessToken, "", 200, &profile)
			if profile.Username != "alice" {
				t.Fatalf("the device acts as %q", profile.Username)
			}
			if got := poll(); !strings.Contains(got, `"error":"invalid_grant"`) {
				t.Fatalf("a poll after the tokens: %s", got)
			}

			other, _, err := e.svc.CreateOAuthClient(ctx, core.OAuthClientCreate{Label: "Web", Website: "https://web.example",
				RedirectURIs: []string{"https://web.example/cb"}, Public: true})
			if err != nil {
				t.Fatal(err)
			}
			resp = e.post(http.DefaultClient, "/oauth/device_authorization", url.Values{"client_id": {other.ID}})
			if body := readAll(resp); resp.StatusCode != 400 || !strings.Contains(body, `"error":"unauthorized_client"`) {
				t.Fatalf("a client not allowed the grant: %d %s", resp.StatusCode, body)
			}
		})
	}
}
