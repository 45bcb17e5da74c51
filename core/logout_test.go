package core_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
)

const testIssuer = "https://id.example"

// relyingParty registers a confidential client that signs users in with
// OpenID Connect, taking logout tokens at logoutURI ("" for none).
func relyingParty(t *testing.T, e *env, label, logoutURI string) (core.OAuthClient, string) {
	t.Helper()
	c, secret, err := e.svc.CreateOAuthClient(e.ctx, core.OAuthClientCreate{Label: label, Website: "https://rp.example",
		RedirectURIs: []string{"https://rp.example/cb"}, BackchannelLogoutURI: logoutURI})
	noErr(t, err)
	return c, secret
}

// signInTo runs the authorization code flow of c in session and returns
// the grant, ID token included.
func signInTo(t *testing.T, e *env, session core.Actor, c core.OAuthClient, secret string) core.TokenGrant {
	t.Helper()
	g, err := authorizeIn(t, e, session, c, secret, "openid profile")
	noErr(t, err)
	if g.ID == nil {
		t.Fatal("no ID token for scope openid")
	}
	return g
}

// authorizeIn runs the authorization code flow of c for scope in session
// and returns what the code's exchange gave.
func authorizeIn(t *testing.T, e *env, session core.Actor, c core.OAuthClient, secret, scope string) (core.TokenGrant, error) {
	t.Helper()
	code := approveIn(t, e, session, c, scope)
	return e.svc.OAuthToken(e.ctx, core.TokenRequest{GrantType: "authorization_code", ClientID: c.ID, ClientSecret: secret,
		Code: code, RedirectURI: "https://rp.example/cb", Issuer: testIssuer})
}

// approveIn returns the code of c's authorization request for scope,
// approved in session.
func approveIn(t *testing.T, e *env, session core.Actor, c core.OAuthClient, scope string) string {
	t.Helper()
	az, err := e.svc.CheckAuthorize(e.ctx, core.AuthorizeRequest{ClientID: c.ID, ResponseType: "code", Scope: scope,
		RedirectURI: "https://rp.example/cb", Nonce: "n-1"})
	noErr(t, err)
	code, err := e.svc.Approve(e.ctx, session, az, az.Scopes)
	noErr(t, err)
	return code
}

// TestSessionBoundSignIns: an OpenID Connect sign-in without
// offline_access ends with the session it was approved in: its tokens
// expire with the session, and signing out revokes them at once, while
// one with offline_access and an application's API access (no openid)
// go on; a code whose session ended is refused.
func TestSessionBoundSignIns(t *testing.T) {
	e := newEnv(t)
	withPassword(t, e, "alice")
	rp, secret := relyingParty(t, e, "RP", "")
	one := session(t, e)
	sessionEnd := *one.Token.Expiry

	bound := signInTo(t, e, one, rp, secret)
	offline, err := authorizeIn(t, e, one, rp, secret, "openid offline_access")
	noErr(t, err)
	api, err := authorizeIn(t, e, one, rp, secret, "account:read_only")
	noErr(t, err)
	if !bound.App.SessionBound || offline.App.SessionBound || api.App.SessionBound {
		t.Fatalf("SessionBound: openid %v, offline_access %v, no openid %v; want true, false, false",
			bound.App.SessionBound, offline.App.SessionBound, api.App.SessionBound)
	}
	if !bound.App.Expiry.Equal(sessionEnd) || !offline.App.Expiry.After(sessionEnd) {
		t.Fatalf("app expiry: bound %v, offline %v; the session ends %v", bound.App.Expiry, offline.App.Expiry, sessionEnd)
	}
	refresh := func(g core.TokenGrant) (core.TokenGrant, error) {
		return e.svc.OAuthToken(e.ctx, core.TokenRequest{GrantType: "refresh_token", ClientID: rp.ID, ClientSecret: secret,
			RefreshToken: g.RefreshToken})
	}
	wantInvalidGrant := func(what string, err error) {
		t.Helper()
		if oe := core.AsOAuthError(err); oe == nil || oe.Code != core.OAuthInvalidGrant {
			t.Fatalf("%s: %v, want invalid_grant", what, err)
		}
	}

	// Near the session's end, a refresh gives no more than what is left.
	e.clock.Advance(core.SessionLifetime - 10*time.Minute)
	bound, err = refresh(bound)
	noErr(t, err)
	if bound.ExpiresIn != 10*time.Minute {
		t.Fatalf("a bound access token 10 minutes before the session ends lasts %v", bound.ExpiresIn)
	}
	if a, err := e.svc.Authenticate(e.ctx, bound.AccessToken); err != nil || !a.Token.Expiry.Equal(sessionEnd) {
		t.Fatalf("the bound access token: %v, %v; want one expiring with the session at %v", a.Token.Expiry, err, sessionEnd)
	}
	if app, err := e.svc.App(e.ctx, one, bound.App.ID); err != nil || !app.Expiry.Equal(sessionEnd) {
		t.Fatalf("after a refresh the bound app expires %v (%v), want the session's end %v", app.Expiry, err, sessionEnd)
	}

	// Signing out revokes the bound one at once, and only it.
	code := approveIn(t, e, one, rp, "openid")
	noErr(t, e.svc.SignOut(e.ctx, one))
	if _, err := e.svc.Authenticate(e.ctx, bound.AccessToken); err == nil {
		t.Fatal("a bound access token outlived the sign-out")
	}
	_, err = refresh(bound)
	wantInvalidGrant("refreshing a bound sign-in after sign-out", err)
	_, err = e.svc.OAuthToken(e.ctx, core.TokenRequest{GrantType: "authorization_code", ClientID: rp.ID, ClientSecret: secret,
		Code: code, RedirectURI: "https://rp.example/cb", Issuer: testIssuer})
	wantInvalidGrant("a code of a session signed out of", err)
	other := session(t, e)
	apps, err := e.svc.Apps(e.ctx, other, core.ListQuery{Page: 1, PageSize: 100})
	noErr(t, err)
	if len(apps.Data) != 2 {
		t.Fatalf("after sign-out %d apps are listed, want the 2 not bound to the session", len(apps.Data))
	}
	for _, a := range apps.Data {
		if a.ID == bound.App.ID {
			t.Fatalf("the bound app is still listed: %+v", a)
		}
	}
	if _, err := refresh(api); err != nil {
		t.Fatalf("an application's API access ended with the session: %v", err)
	}
	offline, err = refresh(offline)
	noErr(t, err)

	// A bound sign-in of a session that expires, untouched, ends with it.
	late := signInTo(t, e, other, rp, secret)
	e.clock.Advance(core.SessionLifetime)
	_, err = refresh(late)
	wantInvalidGrant("refreshing a bound sign-in after its session expired", err)
	if _, err := refresh(offline); err != nil {
		t.Fatalf("offline_access ended with the session: %v", err)
	}
}

func session(t *testing.T, e *env) core.Actor {
	t.Helper()
	res, err := signIn(e, "alice", alicePassword)
	noErr(t, err)
	a, err := e.svc.Authenticate(e.ctx, res.SessionSecret)
	noErr(t, err)
	return a
}

// logouts claims every queued logout.
func logouts(t *testing.T, e *env) []core.OutboxMessage {
	t.Helper()
	var ms []core.OutboxMessage
	noErr(t, e.store.Update(e.ctx, func(tx core.Tx) error {
		var err error
		ms, err = tx.ClaimOutbox(e.ctx, core.OutboxLogout, e.clock.Now(), time.Hour, 100)
		return err
	}))
	return ms
}

// TestBackchannelLogout: a session's ID tokens name it by sid, refreshed
// ones too; signing out queues one logout for each client that takes
// them and that the user signed in to from that session, and its token
// names the session, the user and the client as Back-Channel Logout 2.4
// asks.
func TestBackchannelLogout(t *testing.T) {
	e := newEnv(t)
	alice := withPassword(t, e, "alice")
	rp, rpSecret := relyingParty(t, e, "RP", "https://rp.example/backchannel")
	deaf, deafSecret := relyingParty(t, e, "Deaf", "")
	one, other := session(t, e), session(t, e)

	g := signInTo(t, e, one, rp, rpSecret)
	sid, _ := g.ID.Claims["sid"].(string)
	if len(sid) != 32 {
		t.Fatalf("the ID token's sid = %q, want 32 hex characters", sid)
	}
	signInTo(t, e, one, rp, rpSecret) // signed in twice to rp: told once
	signInTo(t, e, one, deaf, deafSecret)
	if s := signInTo(t, e, other, rp, rpSecret).ID.Claims["sid"]; s == sid || s == "" {
		t.Fatalf("another session's sid = %v, want one of its own (not %q)", s, sid)
	}
	r, err := e.svc.OAuthToken(e.ctx, core.TokenRequest{GrantType: "refresh_token", ClientID: rp.ID, ClientSecret: rpSecret,
		RefreshToken: g.RefreshToken})
	noErr(t, err)
	if r.ID == nil || r.ID.Claims["sid"] != sid {
		t.Fatalf("a refreshed ID token's sid = %v, want the session's %q", r.ID, sid)
	}

	noErr(t, e.svc.SignOut(e.ctx, one))
	ms := logouts(t, e)
	if len(ms) != 1 {
		t.Fatalf("signing out queued %d logouts, want 1 (rp's; deaf takes none, the other session is not over)", len(ms))
	}
	lt, err := e.svc.LogoutToken(e.ctx, ms[0])
	noErr(t, err)
	if lt == nil || lt.URI != rp.BackchannelLogoutURI {
		t.Fatalf("LogoutToken = %+v, want one for %s", lt, rp.BackchannelLogoutURI)
	}
	c := lt.Claims
	events, _ := c["events"].(map[string]any)
	if c["iss"] != testIssuer || c["aud"] != rp.ID || c["sub"] != g.ID.Claims["sub"] || c["sid"] != sid ||
		c["sub"] != strconv.FormatInt(alice.User.ID, 10) || events == nil || events[core.BackchannelLogoutEvent] == nil {
		t.Fatalf("logout token claims = %v", c)
	}
	if _, ok := c["nonce"]; ok {
		t.Fatalf("a logout token has a nonce (2.4 forbids it): %v", c)
	}
	iat, exp := c["iat"].(int64), c["exp"].(int64)
	if iat != e.clock.Now().Unix() || exp-iat != int64(core.LogoutTokenLifetime.Seconds()) {
		t.Fatalf("iat %d, exp %d: want now and %v later", iat, exp, core.LogoutTokenLifetime)
	}
	keys, err := e.svc.SigningKeys(e.ctx)
	noErr(t, err)
	if lt.Key.ID != keys[0].ID {
		t.Fatalf("signed by %s, want the ID tokens' key %s", lt.Key.ID, keys[0].ID)
	}
	again, err := e.svc.LogoutToken(e.ctx, ms[0])
	noErr(t, err)
	if again.Claims["jti"] != c["jti"] || c["jti"] == "" {
		t.Fatalf("jti %v then %v: a repeated delivery must keep it, for the relying party to drop the repeat", c["jti"], again.Claims["jti"])
	}

	// Signing out again is no session: nothing more.
	if err := e.svc.SignOut(e.ctx, one); !errors.Is(err, core.ErrNotFound) && core.AsError(err) == nil {
		t.Fatalf("signing out of an ended session: %v", err)
	}
	if ms := logouts(t, e); len(ms) != 0 {
		t.Fatalf("%d logouts after signing out of an ended session", len(ms))
	}
}

// TestSessionsEndedTellRelyingParties: the session a password reset ends
// is a logout too, and a message whose client was deleted since has
// nothing to send.
func TestSessionsEndedTellRelyingParties(t *testing.T) {
	e := newEnv(t)
	withPassword(t, e, "alice")
	rp, secret := relyingParty(t, e, "RP", "https://rp.example/backchannel")
	g := signInTo(t, e, session(t, e), rp, secret)
	noErr(t, e.svc.ResetPassword(e.ctx, "alice", "another long and unusual passphrase"))
	ms := logouts(t, e)
	if len(ms) != 1 {
		t.Fatalf("a password reset queued %d logouts, want 1", len(ms))
	}
	lt, err := e.svc.LogoutToken(e.ctx, ms[0])
	noErr(t, err)
	if lt == nil || lt.Claims["sid"] != g.ID.Claims["sid"] {
		t.Fatalf("LogoutToken = %+v, want the session of %v", lt, g.ID.Claims["sid"])
	}
	noErr(t, e.store.Update(e.ctx, func(tx core.Tx) error { return tx.DeleteOAuthClient(e.ctx, rp.ID) }))
	if lt, err := e.svc.LogoutToken(e.ctx, ms[0]); err != nil || lt != nil {
		t.Fatalf("LogoutToken of a deleted client = %+v, %v; want nothing to send", lt, err)
	}
	_, err = e.svc.LogoutToken(e.ctx, core.OutboxMessage{ID: 9, Topic: core.OutboxLogout, Payload: []byte("{")})
	if !errors.Is(err, core.ErrUndeliverable) {
		t.Fatalf("LogoutToken of a bad payload: %v, want ErrUndeliverable", err)
	}
}

// TestBackchannelLogoutURI: the URI is checked as a redirect URI is.
func TestBackchannelLogoutURI(t *testing.T) {
	e := newEnv(t)
	for _, bad := range []string{"http://rp.example/logout", "https://rp.example/logout#x", "ftp://rp.example/", "/logout"} {
		_, _, err := e.svc.CreateOAuthClient(e.ctx, core.OAuthClientCreate{Label: "RP", Website: "https://rp.example",
			RedirectURIs: []string{"https://rp.example/cb"}, BackchannelLogoutURI: bad})
		wantErr(t, err, core.KindInvalid, "backchannel_logout_uri")
	}
	c, _ := relyingParty(t, e, "RP", "http://127.0.0.1:8080/logout?x=1")
	got, err := e.svc.OAuthClient(e.ctx, c.ID)
	noErr(t, err)
	if got.BackchannelLogoutURI != "http://127.0.0.1:8080/logout?x=1" {
		t.Fatalf("stored %q", got.BackchannelLogoutURI)
	}
}

// TestDisabledAndDeletedUsersLogOut: disabling a user tells the relying
// parties of each of their sessions (which stay, refused until enabled),
// once; deleting them, in each of the three ways, does too.
func TestDisabledAndDeletedUsersLogOut(t *testing.T) {
	e := newEnv(t)
	withPassword(t, e, "alice")
	rp, secret := relyingParty(t, e, "RP", "https://rp.example/backchannel")
	res, err := signIn(e, "alice", alicePassword)
	noErr(t, err)
	one, err := e.svc.Authenticate(e.ctx, res.SessionSecret)
	noErr(t, err)
	signInTo(t, e, one, rp, secret)
	signInTo(t, e, session(t, e), rp, secret)
	noErr(t, e.svc.SetDisabled(e.ctx, "alice", true))
	if ms := logouts(t, e); len(ms) != 2 {
		t.Fatalf("disabling alice queued %d logouts, want one per session (2)", len(ms))
	}
	noErr(t, e.svc.SetDisabled(e.ctx, "alice", true))
	if ms := logouts(t, e); len(ms) != 0 {
		t.Fatalf("disabling alice again queued %d logouts", len(ms))
	}
	noErr(t, e.svc.SetDisabled(e.ctx, "alice", false))
	if _, err := e.svc.Authenticate(e.ctx, res.SessionSecret); err != nil {
		t.Fatalf("a session after enabling alice again: %v", err)
	}

	for name, del := range map[string]func(e *env, alice core.Actor) error{
		"by the operator": func(e *env, _ core.Actor) error { return e.svc.DeleteUser(e.ctx, "alice") },
		"by themselves":   func(e *env, alice core.Actor) error { return e.svc.DeleteMe(e.ctx, alice) },
		"by the account's owner": func(e *env, _ core.Actor) error {
			return e.svc.DeleteAccountUser(e.ctx, e.token("alice-owner", core.AllScopes), "alice")
		},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			alice := e.user("alice", true) // a restricted user of alice-owner's account
			noErr(t, e.svc.SetPassword(e.ctx, alice.User.ID, alicePassword))
			rp, secret := relyingParty(t, e, "RP", "https://rp.example/backchannel")
			g := signInTo(t, e, session(t, e), rp, secret)
			noErr(t, del(e, alice))
			ms := logouts(t, e)
			if len(ms) != 1 {
				t.Fatalf("deleting alice queued %d logouts, want 1", len(ms))
			}
			lt, err := e.svc.LogoutToken(e.ctx, ms[0])
			noErr(t, err)
			if lt == nil || lt.Claims["sid"] != g.ID.Claims["sid"] || lt.Claims["sub"] != strconv.FormatInt(alice.User.ID, 10) {
				t.Fatalf("the logout of a deleted user: %+v", lt)
			}
		})
	}
}
