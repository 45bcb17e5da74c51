package core_test

import (
	"testing"
	"time"

	"github.com/profiled/profiled/core"
)

// TestResourceIndicators: an authorization request naming a resource
// (RFC 8707) gives tokens for that resource only: introspection says it
// in aud; forward authentication takes them for it and refuses them for
// another; profiled's own API refuses them. The token request may name
// the same resource, not another; a refresh keeps it. A bad resource is
// invalid_target; a request without one gives tokens for any.
func TestResourceIndicators(t *testing.T) {
	e := newEnv(t)
	rp, secret := relyingParty(t, e, "Agent", "")
	withPassword(t, e, "alice")
	alice := session(t, e)
	const mcp = "https://mcp.example/"
	code := func(resource string) (string, error) {
		t.Helper()
		az, err := e.svc.CheckAuthorize(e.ctx, core.AuthorizeRequest{ClientID: rp.ID, ResponseType: "code", Scope: "account:read_only",
			RedirectURI: "https://rp.example/cb", Resource: resource})
		if err != nil {
			return "", err
		}
		return e.svc.Approve(e.ctx, alice, az, az.Scopes)
	}
	exchange := func(c, resource string) (core.TokenGrant, error) {
		return e.svc.OAuthToken(e.ctx, core.TokenRequest{GrantType: "authorization_code", ClientID: rp.ID, ClientSecret: secret,
			Code: c, RedirectURI: "https://rp.example/cb", Resource: resource})
	}
	for _, bad := range []string{"mcp.example", "https://mcp.example/#x", "https://a.example/ https://b.example/", "/relative", "https://"} {
		_, err := code(bad)
		wantOAuthCode(t, "resource "+bad, err, core.OAuthInvalidTarget)
	}

	c, err := code(mcp)
	noErr(t, err)
	_, err = exchange(c, "https://other.example/")
	wantOAuthCode(t, "another resource at the token endpoint", err, core.OAuthInvalidTarget)
	c, err = code(mcp)
	noErr(t, err)
	g, err := exchange(c, mcp)
	noErr(t, err)
	if g.App.Resource != mcp {
		t.Fatalf("the authorization's resource: %q", g.App.Resource)
	}
	_, err = e.svc.Authenticate(e.ctx, g.AccessToken)
	wantErr(t, err, core.KindUnauthorized, "")
	if _, err := e.svc.Verify(e.ctx, g.AccessToken, "account:read_only", mcp); err != nil {
		t.Errorf("forward authentication for its resource: %v", err)
	}
	_, err = e.svc.Verify(e.ctx, g.AccessToken, "", "https://other.example/")
	wantErr(t, err, core.KindUnauthorized, "")
	_, err = e.svc.Verify(e.ctx, g.AccessToken, "", "")
	wantErr(t, err, core.KindUnauthorized, "")
	in, err := e.svc.Introspect(e.ctx, core.ClientAuth{ClientID: rp.ID, ClientSecret: secret}, g.AccessToken)
	noErr(t, err)
	if !in.Active || in.Audience != mcp {
		t.Errorf("introspection: %+v", in)
	}

	_, err = e.svc.OAuthToken(e.ctx, core.TokenRequest{GrantType: "refresh_token", ClientID: rp.ID, ClientSecret: secret,
		RefreshToken: g.RefreshToken, Resource: "https://other.example/"})
	wantOAuthCode(t, "a refresh for another resource", err, core.OAuthInvalidTarget)
	refreshed, err := e.svc.OAuthToken(e.ctx, core.TokenRequest{GrantType: "refresh_token", ClientID: rp.ID, ClientSecret: secret,
		RefreshToken: g.RefreshToken}) // the refresh token was not spent by the refused request
	noErr(t, err)
	if in, err := e.svc.Introspect(e.ctx, core.ClientAuth{ClientID: rp.ID, ClientSecret: secret}, refreshed.AccessToken); err != nil || in.Audience != mcp {
		t.Errorf("the refreshed token: %+v %v", in, err)
	}
	if in, err := e.svc.Introspect(e.ctx, core.ClientAuth{ClientID: rp.ID, ClientSecret: secret}, refreshed.RefreshToken); err != nil ||
		!in.Active || in.TokenType != "refresh_token" || in.Audience != mcp {
		t.Errorf("the refresh token: %+v %v", in, err)
	}

	// The device grant names a resource as the code flow does.
	cli := deviceClient(t, e, true)
	_, err = e.svc.DeviceAuthorize(e.ctx, core.DeviceAuthorizeRequest{ClientID: cli.ID, Resource: "not a uri", IP: "192.0.2.7"})
	wantOAuthCode(t, "a device's bad resource", err, core.OAuthInvalidTarget)
	da, err := e.svc.DeviceAuthorize(e.ctx, core.DeviceAuthorizeRequest{ClientID: cli.ID, Scope: "account:read_only", Resource: mcp, IP: "192.0.2.7"})
	noErr(t, err)
	noErr(t, decide(e, alice, da.UserCode, granting("account:read_only")))
	e.clock.Advance(time.Minute)
	poll := func(resource string) (core.TokenGrant, error) {
		return e.svc.OAuthToken(e.ctx, core.TokenRequest{GrantType: core.GrantTypeDeviceCode, ClientID: cli.ID, DeviceCode: da.DeviceCode,
			Resource: resource})
	}
	_, err = poll("https://other.example/")
	wantOAuthCode(t, "a device's poll for another resource", err, core.OAuthInvalidTarget)
	e.clock.Advance(time.Minute)
	dg, err := poll(mcp)
	noErr(t, err)
	if _, err := e.svc.Verify(e.ctx, dg.AccessToken, "", mcp); err != nil || dg.App.Resource != mcp {
		t.Errorf("the device's token for its resource: %v, app %+v", err, dg.App)
	}
	_, err = e.svc.Authenticate(e.ctx, dg.AccessToken)
	wantErr(t, err, core.KindUnauthorized, "")

	// A token for profiled's own public URL works on its API.
	c, err = code(testIssuer + "/")
	noErr(t, err)
	own, err := exchange(c, "")
	noErr(t, err)
	_, err = e.svc.Authenticate(e.ctx, own.AccessToken)
	wantErr(t, err, core.KindUnauthorized, "") // this service has no public URL
	withURL := core.New(core.Config{Store: e.store, Box: e.box, SMS: e.sms, Now: e.clock.Now, PublicURL: testIssuer})
	if _, err := withURL.Authenticate(e.ctx, own.AccessToken); err != nil {
		t.Errorf("a token for the public URL, on the API: %v", err)
	}

	// Without a resource: a token for any, profiled's own API among them.
	c, err = code("")
	noErr(t, err)
	_, err = exchange(c, mcp)
	wantOAuthCode(t, "a resource only at the token endpoint", err, core.OAuthInvalidTarget)
	c, err = code("")
	noErr(t, err)
	g, err = exchange(c, "")
	noErr(t, err)
	a, err := e.svc.Authenticate(e.ctx, g.AccessToken)
	noErr(t, err)
	if a.Token.Resource != "" {
		t.Errorf("a token without a resource: %+v", a.Token)
	}
	if _, err := e.svc.Verify(e.ctx, g.AccessToken, "", mcp); err != nil {
		t.Errorf("a token for any resource, at a gateway: %v", err)
	}
}
