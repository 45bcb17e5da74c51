package core_test

import (
	"slices"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
)

// TestIDTokenAuthMethods: an ID token says how its user signed in (amr,
// RFC 8176), so that a relying party may require a second factor: "pwd"
// for a password alone, and for a password on a trusted device, which
// skipped the second factor; "pwd otp mfa" after a TOTP or scratch
// code, through the code flow and the device flow alike. An ID token of
// a refresh says nothing of a sign-in it was not at, as it has no
// auth_time.
func TestIDTokenAuthMethods(t *testing.T) {
	e := newEnv(t)
	rp, secret := relyingParty(t, e, "Wiki", "")
	amr := func(g core.TokenGrant) []string {
		t.Helper()
		if g.ID == nil {
			t.Fatal("no ID token")
		}
		methods, _ := g.ID.Claims["amr"].([]string)
		return methods
	}
	want := func(what string, got []string, methods ...string) {
		t.Helper()
		if !slices.Equal(got, methods) {
			t.Errorf("%s: amr %q, want %q", what, got, methods)
		}
	}
	actor := func(res core.SignInResult, err error) core.Actor { t.Helper(); return sessionOf(t, e, res, err) }

	withPassword(t, e, "bob")
	bob := actor(signIn(e, "bob", alicePassword))
	want("a password", amr(signInTo(t, e, bob, rp, secret)), "pwd")

	d := aliceOnTrustedDevice(t, e)
	alice := actor(d.withCode, nil)
	g := signInTo(t, e, alice, rp, secret)
	want("a password and a TOTP code", amr(g), "pwd", "otp", "mfa")

	refreshed, err := e.svc.OAuthToken(e.ctx, core.TokenRequest{GrantType: "refresh_token", ClientID: rp.ID, ClientSecret: secret,
		RefreshToken: g.RefreshToken, Scope: "openid"})
	noErr(t, err)
	want("a refresh", amr(refreshed))
	if _, ok := refreshed.ID.Claims["auth_time"]; ok {
		t.Errorf("a refreshed ID token has an auth_time: %v", refreshed.ID.Claims)
	}

	onDevice := actor(d.onDevice, nil)
	want("a password on a trusted device", amr(signInTo(t, e, onDevice, rp, secret)), "pwd")

	e.clock.Advance(time.Minute)
	res, err := signIn(e, "alice", alicePassword)
	noErr(t, err)
	withScratch := actor(e.svc.SignInTFA(e.ctx, core.TFASignInRequest{Challenge: res.Challenge, Code: d.scratch}))
	cli := deviceClient(t, e, true)
	da, err := e.svc.DeviceAuthorize(e.ctx, core.DeviceAuthorizeRequest{ClientID: cli.ID, Scope: "openid", IP: "192.0.2.7"})
	noErr(t, err)
	noErr(t, decide(e, withScratch, da.UserCode, granting("openid")))
	e.clock.Advance(time.Minute)
	polled, err := e.svc.OAuthToken(e.ctx, core.TokenRequest{GrantType: core.GrantTypeDeviceCode, ClientID: cli.ID, DeviceCode: da.DeviceCode})
	noErr(t, err)
	want("a device approved after a scratch code", amr(polled), "pwd", "otp", "mfa")
}
