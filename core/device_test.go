package core_test

import (
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
)

// deviceClient registers a public client allowed the device grant.
func deviceClient(t *testing.T, e *env, allowed bool) core.OAuthClient {
	t.Helper()
	c, _, err := e.svc.CreateOAuthClient(e.ctx, core.OAuthClientCreate{Label: "CLI", Website: "https://cli.example",
		RedirectURIs: []string{"http://127.0.0.1/cb"}, Public: true, DeviceGrant: allowed})
	noErr(t, err)
	return c
}

// granting is the grant of DecideDevice that grants scopes, whatever the
// device asked for.
func granting(scopes core.Scopes) func(core.Scopes) (core.Scopes, error) {
	return func(core.Scopes) (core.Scopes, error) { return scopes, nil }
}

// decide is DecideDevice's error; a nil grant denies.
func decide(e *env, a core.Actor, userCode string, grant func(core.Scopes) (core.Scopes, error)) error {
	_, err := e.svc.DecideDevice(e.ctx, a, userCode, grant)
	return err
}

func wantOAuthCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if oe := core.AsOAuthError(err); oe == nil || oe.Code != code {
		t.Fatalf("%s: %v, want %s", what, err, code)
	}
}

// TestDeviceAuthorization: RFC 8628 through the core: a client the
// operator allowed asks for codes; the device's polls are pending, then
// told to slow down when too quick; the user types the code in any case
// and with or without its dash, sees the request and approves it with
// fewer scopes; the next poll gets tokens once. A denial, an expiry,
// another client's poll and a client not allowed each get their answer.
func TestDeviceAuthorization(t *testing.T) {
	e := newEnv(t)
	withPassword(t, e, "alice")
	alice := session(t, e)
	cli := deviceClient(t, e, true)
	poll := func(c core.OAuthClient, code string) (core.TokenGrant, error) {
		return e.svc.OAuthToken(e.ctx, core.TokenRequest{GrantType: core.GrantTypeDeviceCode, ClientID: c.ID, DeviceCode: code})
	}
	start := func(scope string) core.DeviceAuthorization {
		t.Helper()
		da, err := e.svc.DeviceAuthorize(e.ctx, core.DeviceAuthorizeRequest{ClientID: cli.ID, Scope: scope, IP: "192.0.2.7"})
		noErr(t, err)
		return da
	}

	_, err := e.svc.DeviceAuthorize(e.ctx, core.DeviceAuthorizeRequest{ClientID: deviceClient(t, e, false).ID, IP: "192.0.2.7"})
	wantOAuthCode(t, "a client not allowed the grant", err, core.OAuthUnauthorizedClient)
	_, err = e.svc.DeviceAuthorize(e.ctx, core.DeviceAuthorizeRequest{ClientID: cli.ID, Scope: "root", IP: "192.0.2.7"})
	wantOAuthCode(t, "an unknown scope", err, core.OAuthInvalidScope)

	da := start("account:read_write linodes:read_only")
	if !regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`).MatchString(da.UserCode) ||
		da.ExpiresIn != core.DeviceCodeLifetime || da.Interval != core.DevicePollInterval || len(da.DeviceCode) < 40 {
		t.Fatalf("DeviceAuthorize = %+v", da)
	}
	_, err = poll(cli, da.DeviceCode)
	wantOAuthCode(t, "the first poll", err, core.OAuthAuthorizationPending)
	_, err = poll(cli, da.DeviceCode)
	wantOAuthCode(t, "a poll at once after it", err, core.OAuthSlowDown)
	e.clock.Advance(core.DevicePollInterval) // the interval is 10 s now
	_, err = poll(cli, da.DeviceCode)
	wantOAuthCode(t, "a poll 5 s later, the interval being 10 s", err, core.OAuthSlowDown)
	e.clock.Advance(15 * time.Second)
	_, err = poll(cli, da.DeviceCode)
	wantOAuthCode(t, "a poll after the interval", err, core.OAuthAuthorizationPending)
	_, err = poll(deviceClient(t, e, true), da.DeviceCode)
	wantOAuthCode(t, "another client's poll", err, core.OAuthInvalidGrant)

	typed := strings.ToLower(strings.ReplaceAll(da.UserCode, "-", " "))
	req, err := e.svc.DeviceRequest(e.ctx, alice, typed)
	noErr(t, err)
	if req.Client.ID != cli.ID || req.Scopes != "account:read_write linodes:read_only" || req.UserCode != da.UserCode {
		t.Fatalf("DeviceRequest = %+v", req)
	}
	_, err = e.svc.DeviceRequest(e.ctx, e.token("alice", core.AllScopes), da.UserCode)
	wantErr(t, err, core.KindForbidden, "")
	wantErr(t, decide(e, alice, da.UserCode, granting("account:read_write linodes:read_write")), core.KindInvalid, "scopes")
	noErr(t, decide(e, alice, da.UserCode, granting("account:read_only")))
	wantErr(t, decide(e, alice, da.UserCode, nil), core.KindInvalid, "user_code")

	e.clock.Advance(time.Minute)
	g, err := poll(cli, da.DeviceCode)
	noErr(t, err)
	if g.Scopes != "account:read_only" || g.AccessToken == "" || g.RefreshToken == "" || g.App.ClientID != cli.ID || g.App.SessionBound {
		t.Fatalf("the approved poll gave %+v", g)
	}
	a, err := e.svc.Authenticate(e.ctx, g.AccessToken)
	noErr(t, err)
	if a.User.ID != alice.User.ID || a.Token.Scopes != "account:read_only" {
		t.Fatalf("the device's token acts as %s with %s", a.User.Username, a.Token.Scopes)
	}
	e.clock.Advance(time.Minute)
	_, err = poll(cli, da.DeviceCode)
	wantOAuthCode(t, "a poll after the tokens", err, core.OAuthInvalidGrant)
	_, err = e.svc.DeviceRequest(e.ctx, alice, da.UserCode)
	wantErr(t, err, core.KindInvalid, "user_code")

	denied := start("")
	noErr(t, decide(e, alice, denied.UserCode, nil))
	_, err = poll(cli, denied.DeviceCode)
	wantOAuthCode(t, "a denied request's poll", err, core.OAuthAccessDenied)

	// Signing in with openid from a device ends with the approving session.
	signIn := start("openid")
	noErr(t, decide(e, alice, signIn.UserCode, granting("openid")))
	g, err = poll(cli, signIn.DeviceCode)
	noErr(t, err)
	if !g.App.SessionBound || g.ID == nil || !g.App.Expiry.Equal(*alice.Token.Expiry) {
		t.Fatalf("an openid device sign-in: bound %v, ID token %v, expiry %v", g.App.SessionBound, g.ID != nil, g.App.Expiry)
	}

	late := start("")
	e.clock.Advance(core.DeviceCodeLifetime)
	_, err = e.svc.DeviceRequest(e.ctx, alice, late.UserCode)
	wantErr(t, err, core.KindInvalid, "user_code")
	_, err = poll(cli, late.DeviceCode)
	wantOAuthCode(t, "an expired code's poll", err, core.OAuthExpiredToken)

	for _, bad := range []string{"", "BCDF-GHJ", "BCDF-GHJA", strings.Repeat("B", 40)} {
		_, err = e.svc.DeviceRequest(e.ctx, alice, bad)
		wantErr(t, err, core.KindInvalid, "user_code")
	}
}

// TestDeviceUserCodeLimit: a user who types user codes at once, as many
// as they like, gets exactly DeviceCodeAttempts looked at; the rest are
// 429s, on the one counter every replica shares.
func TestDeviceUserCodeLimit(t *testing.T) {
	e := newEnv(t)
	withPassword(t, e, "alice")
	alice := session(t, e)
	var wg sync.WaitGroup
	var mu sync.Mutex
	kinds := map[core.Kind]int{}
	for range 2 * core.DeviceCodeAttempts {
		wg.Go(func() {
			_, err := e.svc.DeviceRequest(e.ctx, alice, "BBBB-BBBB")
			mu.Lock()
			kinds[core.KindOf(err)]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if kinds[core.KindInvalid] != core.DeviceCodeAttempts || kinds[core.KindTooManyRequests] != core.DeviceCodeAttempts {
		t.Fatalf("%d guesses at once: %v, want %d refused as unknown and the rest 429", 2*core.DeviceCodeAttempts, kinds, core.DeviceCodeAttempts)
	}
	e.clock.Advance(core.DeviceCodeWindow)
	_, err := e.svc.DeviceRequest(e.ctx, alice, "BBBB-BBBB")
	wantErr(t, err, core.KindInvalid, "user_code")

	cli := deviceClient(t, e, true)
	for i := range core.DeviceAuthorizations + 1 {
		_, err := e.svc.DeviceAuthorize(e.ctx, core.DeviceAuthorizeRequest{ClientID: cli.ID, IP: "192.0.2.9"})
		if i < core.DeviceAuthorizations {
			noErr(t, err)
		} else {
			wantErr(t, err, core.KindTooManyRequests, "")
		}
	}
}

// TestDeviceAuthorizedMail: a device that got its tokens is mailed to the
// user, with the client and the scopes; a denied one is not.
func TestDeviceAuthorizedMail(t *testing.T) {
	e := newEnv(t)
	e.mailOn()
	withPassword(t, e, "alice")
	alice := session(t, e)
	cli := deviceClient(t, e, true)
	e.queuedMails() // the sign-in's
	for _, grant := range []func(core.Scopes) (core.Scopes, error){nil, granting("account:read_only")} {
		da, err := e.svc.DeviceAuthorize(e.ctx, core.DeviceAuthorizeRequest{ClientID: cli.ID, Scope: "account:read_only", IP: "192.0.2.7"})
		noErr(t, err)
		noErr(t, decide(e, alice, da.UserCode, grant))
		_, err = e.svc.OAuthToken(e.ctx, core.TokenRequest{GrantType: core.GrantTypeDeviceCode, ClientID: cli.ID, DeviceCode: da.DeviceCode})
		if grant != nil {
			noErr(t, err)
		}
	}
	var got []core.Mail
	for _, m := range e.queuedMails() {
		if m.Template == "device_authorized" {
			got = append(got, m)
		}
	}
	if len(got) != 1 || got[0].To != "alice@example.com" || !strings.Contains(got[0].Data["detail"], "CLI (client "+cli.ID+")") ||
		!strings.Contains(got[0].Data["detail"], "account:read_only") {
		t.Fatalf("device mails: %+v, want one for the approved device", got)
	}
}
