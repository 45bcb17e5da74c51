package core_test

import (
	"strings"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
)

// TestPushedAuthorization: a confidential client pushes a request that
// validates, and gets a request_uri that gives its parameters back to it
// alone, until it expires or a code is approved for it, once; a request
// that does not validate, names another client, or holds a request_uri
// is refused at once, to the client.
func TestPushedAuthorization(t *testing.T) {
	e := newEnv(t)
	withPassword(t, e, "alice")
	alice := session(t, e)
	rp, secret := relyingParty(t, e, "RP", "")
	other, _ := relyingParty(t, e, "Other", "")
	req := core.AuthorizeRequest{ResponseType: "code", RedirectURI: "https://rp.example/cb", Scope: "openid", State: "s1"}
	params := map[string]string{"response_type": "code", "redirect_uri": "https://rp.example/cb", "scope": "openid", "state": "s1", "prompt": "consent"}

	_, err := e.svc.PushAuthorization(e.ctx, rp.ID, "wrong", req, params)
	wantOAuthCode(t, "a wrong secret", err, core.OAuthInvalidClient)
	bad := req
	bad.RedirectURI = "https://evil.example/cb"
	_, err = e.svc.PushAuthorization(e.ctx, rp.ID, secret, bad, params)
	if oe := core.AsOAuthError(err); oe == nil || oe.Code != core.OAuthInvalidRequest || oe.Redirect {
		t.Fatalf("an unregistered redirect URI: %v, want invalid_request for the client", err)
	}
	bad = req
	bad.ClientID = other.ID
	_, err = e.svc.PushAuthorization(e.ctx, rp.ID, secret, bad, params)
	wantOAuthCode(t, "another client's id", err, core.OAuthInvalidRequest)
	_, err = e.svc.PushAuthorization(e.ctx, rp.ID, secret, req, map[string]string{"request_uri": core.RequestURIPrefix + "x"})
	wantOAuthCode(t, "a request_uri pushed", err, core.OAuthInvalidRequest)
	_, err = e.svc.PushAuthorization(e.ctx, rp.ID, secret, req, map[string]string{"state": "\xff"})
	wantOAuthCode(t, "a parameter that is not UTF-8", err, core.OAuthInvalidRequest)

	pushed, err := e.svc.PushAuthorization(e.ctx, rp.ID, secret, req, params)
	noErr(t, err)
	if !strings.HasPrefix(pushed.RequestURI, core.RequestURIPrefix) || pushed.ExpiresIn != core.PushedAuthorizationLifetime {
		t.Fatalf("PushAuthorization = %+v", pushed)
	}
	_, err = e.svc.PushedParams(e.ctx, other.ID, pushed.RequestURI)
	wantOAuthCode(t, "another client's use of the request_uri", err, core.OAuthInvalidRequest)
	for _, uri := range []string{"", "urn:x", core.RequestURIPrefix, core.RequestURIPrefix + "nope", pushed.RequestURI + "x"} {
		_, err = e.svc.PushedParams(e.ctx, rp.ID, uri)
		wantOAuthCode(t, "the request_uri "+uri, err, core.OAuthInvalidRequest)
	}
	got, err := e.svc.PushedParams(e.ctx, rp.ID, pushed.RequestURI)
	noErr(t, err)
	if got["client_id"] != rp.ID || got["state"] != "s1" || got["prompt"] != "consent" || got["scope"] != "openid" {
		t.Fatalf("PushedParams = %v", got)
	}

	az, err := e.svc.CheckAuthorize(e.ctx, core.AuthorizeRequest{ClientID: rp.ID, ResponseType: "code", RedirectURI: got["redirect_uri"], Scope: got["scope"]})
	noErr(t, err)
	az.Pushed = pushed.RequestURI
	_, err = e.svc.Approve(e.ctx, alice, az, az.Scopes)
	noErr(t, err)
	_, err = e.svc.Approve(e.ctx, alice, az, az.Scopes)
	wantOAuthCode(t, "a second code for one pushed request", err, core.OAuthInvalidRequest)
	_, err = e.svc.PushedParams(e.ctx, rp.ID, pushed.RequestURI)
	wantOAuthCode(t, "a spent request_uri", err, core.OAuthInvalidRequest)

	late, err := e.svc.PushAuthorization(e.ctx, rp.ID, secret, req, params)
	noErr(t, err)
	e.clock.Advance(core.PushedAuthorizationLifetime + time.Second)
	_, err = e.svc.PushedParams(e.ctx, rp.ID, late.RequestURI)
	wantOAuthCode(t, "an expired request_uri", err, core.OAuthInvalidRequest)
}
