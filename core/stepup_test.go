package core_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
)

// sessionOf is the actor of the session a sign-in made.
func sessionOf(t *testing.T, e *env, res core.SignInResult, err error) core.Actor {
	t.Helper()
	noErr(t, err)
	a, err := e.svc.Authenticate(e.ctx, res.SessionSecret)
	noErr(t, err)
	return a
}

// trustedDevice is alice, a TFA user, signed in with her TOTP code on a
// device she trusts from then on (withCode, whose DeviceSecret is the
// device's), and signed in again on that device, which skipped the code
// (onDevice).
type trustedDevice struct {
	withCode, onDevice  core.SignInResult
	totpSecret, scratch string
}

func aliceOnTrustedDevice(t *testing.T, e *env) trustedDevice {
	t.Helper()
	var d trustedDevice
	_, d.totpSecret, d.scratch = tfaUser(t, e, "alice")
	res, err := e.svc.SignIn(e.ctx, core.SignInRequest{Username: "alice", Password: alicePassword, RememberMe: true})
	noErr(t, err)
	d.withCode, err = e.svc.SignInTFA(e.ctx, core.TFASignInRequest{Challenge: res.Challenge, Code: totpCode(t, d.totpSecret, e.clock.Now())})
	noErr(t, err)
	d.onDevice, err = e.svc.SignIn(e.ctx, core.SignInRequest{Username: "alice", Password: alicePassword, DeviceSecret: d.withCode.DeviceSecret})
	noErr(t, err)
	return d
}

// TestClientRequiresSecondFactor: a user approves the requests of a
// client that requires a second factor, by the code flow or the device
// flow, only from a session signed in with one: a session of a trusted
// device is refused, and asked for the second factor (the device does
// not skip it then), after which the ID token's amr holds mfa; a user
// without TFA is told to turn it on. Denying needs nothing, and other
// clients take the trusted device's session.
func TestClientRequiresSecondFactor(t *testing.T) {
	e := newEnv(t)
	rp, rpSecret := relyingParty(t, e, "Admin", "")
	other, _ := relyingParty(t, e, "Wiki", "")
	yes := true
	rp, err := e.svc.UpdateOAuthClient(e.ctx, rp.ID, core.OAuthClientUpdate{RequireMFA: &yes})
	noErr(t, err)
	if !rp.RequireMFA {
		t.Fatal("RequireMFA did not stick")
	}
	cli, _, err := e.svc.CreateOAuthClient(e.ctx, core.OAuthClientCreate{Label: "Deploy CLI", Website: "https://cli.example",
		RedirectURIs: []string{"http://127.0.0.1/cb"}, Public: true, DeviceGrant: true, RequireMFA: true})
	noErr(t, err)
	actor := func(res core.SignInResult, err error) core.Actor { t.Helper(); return sessionOf(t, e, res, err) }
	approve := func(a core.Actor, c core.OAuthClient) error {
		t.Helper()
		az, err := e.svc.CheckAuthorize(e.ctx, core.AuthorizeRequest{ClientID: c.ID, ResponseType: "code", Scope: "openid",
			RedirectURI: "https://rp.example/cb"})
		noErr(t, err)
		_, err = e.svc.Approve(e.ctx, a, az, az.Scopes)
		return err
	}
	device := func(a core.Actor, approve bool) error {
		t.Helper()
		da, err := e.svc.DeviceAuthorize(e.ctx, core.DeviceAuthorizeRequest{ClientID: cli.ID, Scope: "openid", IP: "192.0.2.7"})
		noErr(t, err)
		if !approve {
			return decide(e, a, da.UserCode, nil)
		}
		return decide(e, a, da.UserCode, granting("openid"))
	}

	// No second factor at all: turn it on first.
	withPassword(t, e, "bob")
	bob := actor(signIn(e, "bob", alicePassword))
	need, err := e.svc.NeedsSecondFactor(bob, core.Authorization{Client: rp})
	wantErr(t, err, core.KindForbidden, "second_factor")
	if need || err == nil || !strings.Contains(err.Error(), "turn it on") {
		t.Errorf("a user without TFA: need %v, %v", need, err)
	}
	wantErr(t, approve(bob, rp), core.KindForbidden, "second_factor")
	noErr(t, approve(bob, other))

	// A session of a trusted device lacks it; one with the code has it.
	d := aliceOnTrustedDevice(t, e)
	first, totpSecret := d.withCode, d.totpSecret
	withCode, onDevice, onDeviceSecret := actor(first, nil), actor(d.onDevice, nil), d.onDevice.SessionSecret
	if need, err := e.svc.NeedsSecondFactor(onDevice, core.Authorization{Client: rp}); !need || err != nil {
		t.Errorf("a trusted device's session: need %v, %v", need, err)
	}
	if need, err := e.svc.NeedsSecondFactor(withCode, core.Authorization{Client: rp}); need || err != nil {
		t.Errorf("a session with the code: need %v, %v", need, err)
	}
	wantErr(t, approve(onDevice, rp), core.KindForbidden, "second_factor")
	wantErr(t, device(onDevice, true), core.KindForbidden, "second_factor")
	noErr(t, device(onDevice, false))
	noErr(t, approve(onDevice, other))
	g := signInTo(t, e, withCode, rp, rpSecret)
	if amr, _ := g.ID.Claims["amr"].([]string); !slices.Contains(amr, "mfa") {
		t.Errorf("the required sign-in's ID token: amr %v", amr)
	}
	noErr(t, device(withCode, true))

	// Asked for it, the trusted device does not skip it.
	e.clock.Advance(31 * time.Second) // past the step used
	stepUp, err := e.svc.SignIn(e.ctx, core.SignInRequest{Username: "alice", Password: alicePassword, DeviceSecret: first.DeviceSecret,
		SecondFactor: true})
	noErr(t, err)
	if !stepUp.TFARequired || stepUp.SessionSecret != "" {
		t.Fatalf("a sign-in asking for the second factor on a trusted device: %+v", stepUp)
	}
	again := actor(e.svc.SignInTFA(e.ctx, core.TFASignInRequest{Challenge: stepUp.Challenge, Code: totpCode(t, totpSecret, e.clock.Now())}))
	noErr(t, approve(again, rp))

	// Or the session of the trusted device types the code, and is the
	// same session, holding the factor from then on.
	e.clock.Advance(31 * time.Second)
	wantErr(t, e.svc.ConfirmSecondFactor(e.ctx, onDevice, "000000", "192.0.2.1"), core.KindUnauthorized, "code")
	wantErr(t, e.svc.ConfirmSecondFactor(e.ctx, onDevice, "", "192.0.2.1"), core.KindInvalid, "code")
	wantErr(t, e.svc.ConfirmSecondFactor(e.ctx, bob, "123456", "192.0.2.1"), core.KindInvalid, "code")
	noErr(t, e.svc.ConfirmSecondFactor(e.ctx, onDevice, totpCode(t, totpSecret, e.clock.Now()), "192.0.2.1"))
	confirmed, err := e.svc.Authenticate(e.ctx, onDeviceSecret)
	noErr(t, err)
	if confirmed.Token.ID != onDevice.Token.ID || !confirmed.Token.AuthMethods.Has("mfa") {
		t.Fatalf("the session after its second factor: %+v", confirmed.Token)
	}
	noErr(t, approve(confirmed, rp))
	_, personal, err := e.svc.CreateToken(e.ctx, confirmed, core.TokenCreate{Label: "cli"})
	noErr(t, err)
	pa, err := e.svc.Authenticate(e.ctx, personal)
	noErr(t, err)
	wantErr(t, e.svc.ConfirmSecondFactor(e.ctx, pa, "123456", "192.0.2.1"), core.KindForbidden, "")

	// Guessing it is limited as signing in is.
	var guessErr error
	for i := 0; i < 30 && core.KindOf(guessErr) != core.KindTooManyRequests; i++ {
		guessErr = e.svc.ConfirmSecondFactor(e.ctx, onDevice, "000000", "192.0.2.1")
	}
	wantErr(t, guessErr, core.KindTooManyRequests, "")
}

// TestACRValuesAskForSecondFactor: a request with acr_values naming
// ACRMultiFactor asks for a second factor of a client that does not
// require one: a session without it is refused until it types it, and
// the ID token then says acr; a user without TFA signs in as they can,
// with no acr, for the relying party to judge (a voluntary claim). Other
// acr values ask nothing; a bad one is invalid_request.
func TestACRValuesAskForSecondFactor(t *testing.T) {
	e := newEnv(t)
	rp, secret := relyingParty(t, e, "Wiki", "")
	request := func(acr string) (core.Authorization, error) {
		return e.svc.CheckAuthorize(e.ctx, core.AuthorizeRequest{ClientID: rp.ID, ResponseType: "code", Scope: "openid",
			RedirectURI: "https://rp.example/cb", ACRValues: acr})
	}
	exchange := func(a core.Actor, az core.Authorization) (core.TokenGrant, error) {
		t.Helper()
		code, err := e.svc.Approve(e.ctx, a, az, az.Scopes)
		if err != nil {
			return core.TokenGrant{}, err
		}
		return e.svc.OAuthToken(e.ctx, core.TokenRequest{GrantType: "authorization_code", ClientID: rp.ID, ClientSecret: secret,
			Code: code, RedirectURI: "https://rp.example/cb", Issuer: testIssuer})
	}
	mfa, err := request("urn:example:loa:1 " + core.ACRMultiFactor)
	noErr(t, err)
	if mfa.ACR != core.ACRMultiFactor || !mfa.WantsSecondFactor() {
		t.Fatalf("acr_values with the multi-factor class: %+v", mfa)
	}
	other, err := request("urn:example:loa:1")
	noErr(t, err)
	if other.ACR != "" || other.WantsSecondFactor() {
		t.Fatalf("acr_values without it: %+v", other)
	}
	for _, bad := range []string{"x\x00", strings.Repeat("a", 5000)} {
		_, err := request(bad)
		wantOAuthCode(t, "a bad acr_values", err, core.OAuthInvalidRequest)
	}

	withPassword(t, e, "bob")
	res, err := signIn(e, "bob", alicePassword)
	bob := sessionOf(t, e, res, err)
	if need, err := e.svc.NeedsSecondFactor(bob, mfa); need || err != nil {
		t.Errorf("a user without TFA, asked by acr_values: need %v, %v", need, err)
	}
	g, err := exchange(bob, mfa)
	noErr(t, err)
	if _, ok := g.ID.Claims["acr"]; ok {
		t.Errorf("an ID token without a second factor says acr %v", g.ID.Claims["acr"])
	}

	d := aliceOnTrustedDevice(t, e)
	totpSecret, res := d.totpSecret, d.onDevice
	alice := sessionOf(t, e, res, nil)
	_, err = exchange(alice, mfa)
	wantErr(t, err, core.KindForbidden, "second_factor")
	_, err = exchange(alice, other)
	noErr(t, err)
	e.clock.Advance(31 * time.Second)
	noErr(t, e.svc.ConfirmSecondFactor(e.ctx, alice, totpCode(t, totpSecret, e.clock.Now()), "192.0.2.1"))
	alice, err = e.svc.Authenticate(e.ctx, res.SessionSecret)
	noErr(t, err)
	g, err = exchange(alice, mfa)
	noErr(t, err)
	if g.ID.Claims["acr"] != core.ACRMultiFactor {
		t.Errorf("the ID token after the second factor: acr %v", g.ID.Claims["acr"])
	}
}
