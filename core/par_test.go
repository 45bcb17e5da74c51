package core_test

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"sync"
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

	_, err := e.svc.PushAuthorization(e.ctx, core.ClientAuth{ClientID: rp.ID, ClientSecret: "wrong"}, "192.0.2.1", req, params)
	wantOAuthCode(t, "a wrong secret", err, core.OAuthInvalidClient)
	bad := req
	bad.RedirectURI = "https://evil.example/cb"
	_, err = e.svc.PushAuthorization(e.ctx, core.ClientAuth{ClientID: rp.ID, ClientSecret: secret}, "192.0.2.1", bad, params)
	if oe := core.AsOAuthError(err); oe == nil || oe.Code != core.OAuthInvalidRequest || oe.Redirect {
		t.Fatalf("an unregistered redirect URI: %v, want invalid_request for the client", err)
	}
	bad = req
	bad.ClientID = other.ID
	_, err = e.svc.PushAuthorization(e.ctx, core.ClientAuth{ClientID: rp.ID, ClientSecret: secret}, "192.0.2.1", bad, params)
	wantOAuthCode(t, "another client's id", err, core.OAuthInvalidRequest)
	_, err = e.svc.PushAuthorization(e.ctx, core.ClientAuth{ClientID: rp.ID, ClientSecret: secret}, "192.0.2.1", req, map[string]string{"request_uri": core.RequestURIPrefix + "x"})
	wantOAuthCode(t, "a request_uri pushed", err, core.OAuthInvalidRequest)
	_, err = e.svc.PushAuthorization(e.ctx, core.ClientAuth{ClientID: rp.ID, ClientSecret: secret}, "192.0.2.1", req, map[string]string{"state": "\xff"})
	wantOAuthCode(t, "a parameter that is not UTF-8", err, core.OAuthInvalidRequest)

	pushed, err := e.svc.PushAuthorization(e.ctx, core.ClientAuth{ClientID: rp.ID, ClientSecret: secret}, "192.0.2.1", req, params)
	noErr(t, err)
	if !strings.HasPrefix(pushed.RequestURI, core.RequestURIPrefix) || pushed.ExpiresIn != core.PushedAuthorizationLifetime {
		t.Fatalf("PushAuthorization = %+v", pushed)
	}
	_, _, err = e.svc.PushedParams(e.ctx, other.ID, pushed.RequestURI)
	wantOAuthCode(t, "another client's use of the request_uri", err, core.OAuthInvalidRequest)
	for _, uri := range []string{"", "urn:x", core.RequestURIPrefix, core.RequestURIPrefix + "nope", pushed.RequestURI + "x"} {
		_, _, err = e.svc.PushedParams(e.ctx, rp.ID, uri)
		wantOAuthCode(t, "the request_uri "+uri, err, core.OAuthInvalidRequest)
	}
	got, pushedAt, err := e.svc.PushedParams(e.ctx, rp.ID, pushed.RequestURI)
	noErr(t, err)
	if got["client_id"] != rp.ID || got["state"] != "s1" || got["prompt"] != "consent" || got["scope"] != "openid" ||
		!pushedAt.Equal(e.clock.Now().Truncate(time.Second)) {
		t.Fatalf("PushedParams = %v, %v", got, pushedAt)
	}

	az, err := e.svc.CheckAuthorize(e.ctx, core.AuthorizeRequest{ClientID: rp.ID, ResponseType: "code", RedirectURI: got["redirect_uri"], Scope: got["scope"]})
	noErr(t, err)
	az.Pushed = pushed.RequestURI
	_, err = e.svc.Approve(e.ctx, alice, az, az.Scopes)
	noErr(t, err)
	_, err = e.svc.Approve(e.ctx, alice, az, az.Scopes)
	wantOAuthCode(t, "a second code for one pushed request", err, core.OAuthInvalidRequest)
	_, _, err = e.svc.PushedParams(e.ctx, rp.ID, pushed.RequestURI)
	wantOAuthCode(t, "a spent request_uri", err, core.OAuthInvalidRequest)

	late, err := e.svc.PushAuthorization(e.ctx, core.ClientAuth{ClientID: rp.ID, ClientSecret: secret}, "192.0.2.1", req, params)
	noErr(t, err)
	e.clock.Advance(core.PushedAuthorizationLifetime + time.Second)
	_, _, err = e.svc.PushedParams(e.ctx, rp.ID, late.RequestURI)
	wantOAuthCode(t, "an expired request_uri", err, core.OAuthInvalidRequest)
}

// pushAndCheck pushes req (params, as the face reads them) as rp, and
// checks it as the authorization endpoint does when the browser brings
// its request_uri back.
func pushAndCheck(t *testing.T, e *env, rp core.OAuthClient, secret string, req core.AuthorizeRequest, params map[string]string) core.Authorization {
	t.Helper()
	pushed, err := e.svc.PushAuthorization(e.ctx, core.ClientAuth{ClientID: rp.ID, ClientSecret: secret}, "192.0.2.1", req, params)
	noErr(t, err)
	_, pushedAt, err := e.svc.PushedParams(e.ctx, rp.ID, pushed.RequestURI)
	noErr(t, err)
	req.RequestURI, req.PushedAt = pushed.RequestURI, pushedAt
	az, err := e.svc.CheckAuthorize(e.ctx, req)
	noErr(t, err)
	return az
}

// TestClientHeldToPushedRequests: a client the operator holds to pushed
// requests (RFC 9126 6) has every request the browser carries whole
// refused, to its redirect URI with the state, and its pushed requests
// accepted; turned off again, it may send either.
func TestClientHeldToPushedRequests(t *testing.T) {
	e := newEnv(t)
	rp, secret := relyingParty(t, e, "RP", "")
	held := true
	c, err := e.svc.UpdateOAuthClient(e.ctx, rp.ID, core.OAuthClientUpdate{RequirePushed: &held})
	noErr(t, err)
	if !c.RequirePushed {
		t.Fatalf("UpdateOAuthClient = %+v, want RequirePushed", c)
	}
	req := core.AuthorizeRequest{ClientID: rp.ID, ResponseType: "code", RedirectURI: "https://rp.example/cb", Scope: "openid", State: "s1"}
	az, err := e.svc.CheckAuthorize(e.ctx, req)
	oe := core.AsOAuthError(err)
	if oe == nil || oe.Code != core.OAuthInvalidRequest || !oe.Redirect || oe.Err.Field != "request_uri" || az.State != "s1" {
		t.Fatalf("a request the browser carried: %v (%+v), want invalid_request to the redirect URI", err, az)
	}
	az = pushAndCheck(t, e, rp, secret, req, map[string]string{"response_type": "code", "redirect_uri": "https://rp.example/cb",
		"scope": "openid", "state": "s1"})
	if !strings.HasPrefix(az.Pushed, core.RequestURIPrefix) || !az.PushedAt.Equal(e.clock.Now().Truncate(time.Second)) {
		t.Fatalf("CheckAuthorize of the pushed request = %+v", az)
	}

	held = false
	_, err = e.svc.UpdateOAuthClient(e.ctx, rp.ID, core.OAuthClientUpdate{RequirePushed: &held})
	noErr(t, err)
	_, err = e.svc.CheckAuthorize(e.ctx, req)
	noErr(t, err)
}

// TestSignInAgainForPushedRequests: prompt=login and max_age ask a session
// older than the request to sign in again; a pushed request, which comes
// back unchanged after that sign-in, is then answered, while a request the
// browser carries asks every time (it comes back without them).
func TestSignInAgainForPushedRequests(t *testing.T) {
	e := newEnv(t)
	withPassword(t, e, "alice")
	before := session(t, e)
	rp, secret := relyingParty(t, e, "RP", "")
	e.clock.Advance(time.Minute)
	req := core.AuthorizeRequest{ClientID: rp.ID, ResponseType: "code", RedirectURI: "https://rp.example/cb", Scope: "openid", MaxAge: "0"}
	viaURI := pushAndCheck(t, e, rp, secret, req, map[string]string{"response_type": "code", "redirect_uri": "https://rp.example/cb",
		"scope": "openid", "max_age": "0"})
	carriedWhole, err := e.svc.CheckAuthorize(e.ctx, req)
	noErr(t, err)
	noMaxAge := req
	noMaxAge.MaxAge = ""
	plain, err := e.svc.CheckAuthorize(e.ctx, noMaxAge)
	noErr(t, err)

	e.clock.Advance(time.Second)
	since := session(t, e)
	e.clock.Advance(time.Second)
	for _, c := range []struct {
		what  string
		a     core.Actor
		az    core.Authorization
		login bool
		again bool
	}{
		{"pushed, prompt=login, a session from before the push", before, viaURI, true, true},
		{"pushed, max_age=0, a session from before the push", before, viaURI, false, true},
		{"pushed, prompt=login, a session since the push", since, viaURI, true, false},
		{"pushed, max_age=0, a session since the push", since, viaURI, false, false},
		{"carried, prompt=login", since, plain, true, true},
		{"carried, max_age=0", since, carriedWhole, false, true},
		{"carried, neither", before, plain, false, false},
	} {
		if got := e.svc.MustSignInAgain(c.a, c.az, c.login); got != c.again {
			t.Errorf("%s: MustSignInAgain = %v, want %v", c.what, got, c.again)
		}
	}
}

// TestPushedRequestsLimitedPerAddress: a public client, which anyone may
// push for with its id alone, gets PushedAuthorizations requests per
// address per window, sent at once or not; another address, a
// confidential client from the same address and the next window are not
// held by them.
func TestPushedRequestsLimitedPerAddress(t *testing.T) {
	e := newEnv(t)
	spa, _, err := e.svc.CreateOAuthClient(e.ctx, core.OAuthClientCreate{Label: "SPA", Website: "https://spa.example",
		RedirectURIs: []string{"http://127.0.0.1/cb"}, Public: true})
	noErr(t, err)
	rp, secret := relyingParty(t, e, "RP", "")
	challenge := sha256.Sum256([]byte("a verifier"))
	req := core.AuthorizeRequest{ResponseType: "code", RedirectURI: "http://127.0.0.1/cb", Scope: "openid",
		CodeChallenge: base64.RawURLEncoding.EncodeToString(challenge[:]), CodeChallengeMethod: "S256"}
	params := map[string]string{"response_type": "code", "redirect_uri": "http://127.0.0.1/cb", "scope": "openid"}
	var mu sync.Mutex
	var wg sync.WaitGroup
	kinds := map[core.Kind]int{}
	for range core.PushedAuthorizations + 20 {
		wg.Go(func() {
			_, err := e.svc.PushAuthorization(e.ctx, core.ClientAuth{ClientID: spa.ID, ClientSecret: ""}, "192.0.2.7", req, params)
			mu.Lock()
			kinds[core.KindOf(err)]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if kinds[core.KindOf(nil)] != core.PushedAuthorizations || kinds[core.KindTooManyRequests] != 20 {
		t.Fatalf("%d pushes at once from one address: %v, want %d pushed and 20 refused", core.PushedAuthorizations+20, kinds,
			core.PushedAuthorizations)
	}
	_, err = e.svc.PushAuthorization(e.ctx, core.ClientAuth{ClientID: spa.ID, ClientSecret: ""}, "192.0.2.8", req, params)
	noErr(t, err)
	rpReq := core.AuthorizeRequest{ResponseType: "code", RedirectURI: "https://rp.example/cb", Scope: "openid"}
	for range 3 {
		_, err = e.svc.PushAuthorization(e.ctx, core.ClientAuth{ClientID: rp.ID, ClientSecret: secret}, "192.0.2.7", rpReq, map[string]string{"scope": "openid"})
		noErr(t, err)
	}
	e.clock.Advance(core.PushedWindow)
	_, err = e.svc.PushAuthorization(e.ctx, core.ClientAuth{ClientID: spa.ID, ClientSecret: ""}, "192.0.2.7", req, params)
	noErr(t, err)
}
