package core_test

import (
	"testing"
	"time"

	"github.com/profiled/profiled/core"
)

const alicePassword = "a long and unusual passphrase"

// withPassword is a user with a password, and a token to act as them.
func withPassword(t *testing.T, e *env, name string) core.Actor {
	t.Helper()
	a := e.user(name, false)
	noErr(t, e.svc.SetPassword(e.ctx, a.User.ID, alicePassword))
	return a
}

func signIn(e *env, username, pw string) (core.SignInResult, error) {
	return e.svc.SignIn(e.ctx, core.SignInRequest{Username: username, Password: pw, IP: "192.0.2.1", UserAgent: "test"})
}

func logins(t *testing.T, e *env, a core.Actor) []core.Login {
	t.Helper()
	p, err := e.svc.Logins(e.ctx, a, allRows)
	noErr(t, err)
	return p.Data
}

func TestSignInPassword(t *testing.T) {
	e := newEnv(t)
	a := withPassword(t, e, "alice")

	_, err := e.svc.SignIn(e.ctx, core.SignInRequest{Password: "x"})
	wantErr(t, err, core.KindInvalid, "username")
	_, err = e.svc.SignIn(e.ctx, core.SignInRequest{Username: "alice"})
	wantErr(t, err, core.KindInvalid, "password")

	_, errWrong := signIn(e, "alice", "not the passphrase at all")
	_, errUnknown := signIn(e, "nobody", "not the passphrase at all")
	w := wantErr(t, errWrong, core.KindUnauthorized, "")
	u := wantErr(t, errUnknown, core.KindUnauthorized, "")
	if w.Reason != u.Reason {
		t.Fatalf("a wrong password (%q) and an unknown user (%q) answer differently", w.Reason, u.Reason)
	}

	res, err := signIn(e, "alice", alicePassword)
	noErr(t, err)
	if res.TFARequired || res.SessionSecret == "" || res.DeviceSecret != "" {
		t.Fatalf("sign-in result = %+v", res)
	}
	s, err := e.svc.Authenticate(e.ctx, res.SessionSecret)
	noErr(t, err)
	if s.Token.Kind != core.TokenSession || s.Token.Scopes != core.AllScopes || s.User.ID != a.User.ID ||
		s.Token.Expiry == nil || !s.Token.Expiry.Equal(start.Add(core.SessionLifetime)) {
		t.Fatalf("session token = %+v", s.Token)
	}
	e.assertNotOnDisk(res.SessionSecret)
	ls := logins(t, e, a)
	if len(ls) != 2 || ls[0].Status != core.LoginFailed || ls[1].Status != core.LoginSuccessful ||
		ls[1].IP != "192.0.2.1" || ls[1].Username != "alice" {
		t.Fatalf("logins = %+v", ls)
	}
	// The session expires.
	e.clock.Advance(core.SessionLifetime)
	_, err = e.svc.Authenticate(e.ctx, res.SessionSecret)
	wantErr(t, err, core.KindUnauthorized, "-")

	// Signing out ends the session; a personal token cannot sign out.
	res, err = signIn(e, "alice", alicePassword)
	noErr(t, err)
	s, err = e.svc.Authenticate(e.ctx, res.SessionSecret)
	noErr(t, err)
	wantErr(t, e.svc.SignOut(e.ctx, a), core.KindInvalid, "")
	noErr(t, e.svc.SignOut(e.ctx, s))
	_, err = e.svc.Authenticate(e.ctx, res.SessionSecret)
	wantErr(t, err, core.KindUnauthorized, "-")
}

func TestSignInLockout(t *testing.T) {
	e := newEnv(t)
	withPassword(t, e, "alice")
	for i := 0; i < 6; i++ {
		_, err := signIn(e, "alice", "wrong guess number x")
		wantErr(t, err, core.KindUnauthorized, "")
	}
	// Locked, even with the right password, and on another replica.
	e.reopen()
	_, err := signIn(e, "alice", alicePassword)
	le := wantErr(t, err, core.KindTooManyRequests, "-")
	if le.RetryAfter <= 0 || le.RetryAfter > 30*time.Second {
		t.Fatalf("RetryAfter = %v, want up to 30s", le.RetryAfter)
	}
	if evs := e.events.take(); len(evs) < 7 || evs[len(evs)-1].Name != core.EventSignInLocked || evs[len(evs)-1].Username != "alice" {
		t.Fatalf("the refused attempt reported %+v, want a last %s for alice", evs, core.EventSignInLocked)
	}
	// An unknown username locks the same way: nothing tells them apart.
	for i := 0; i < 6; i++ {
		_, err := e.svc.SignIn(e.ctx, core.SignInRequest{Username: "nobody", Password: "wrong guess number x", IP: "192.0.2.9"})
		wantErr(t, err, core.KindUnauthorized, "")
	}
	_, err = e.svc.SignIn(e.ctx, core.SignInRequest{Username: "nobody", Password: "wrong guess number x", IP: "192.0.2.9"})
	wantErr(t, err, core.KindTooManyRequests, "-")

	// The lock ends by itself; the next failure locks twice as long.
	e.clock.Advance(30 * time.Second)
	_, err = signIn(e, "alice", "wrong guess number x")
	wantErr(t, err, core.KindUnauthorized, "")
	e.clock.Advance(59 * time.Second)
	_, err = signIn(e, "alice", alicePassword)
	wantErr(t, err, core.KindTooManyRequests, "-")
	e.clock.Advance(time.Second)
	_, err = signIn(e, "alice", alicePassword)
	noErr(t, err)
	// Success forgets the account's failures.
	for i := 0; i < 5; i++ {
		_, err := signIn(e, "alice", "wrong guess number x")
		wantErr(t, err, core.KindUnauthorized, "")
	}
	_, err = signIn(e, "alice", alicePassword)
	noErr(t, err)
}

func TestSignInAddressLimit(t *testing.T) {
	e := newEnv(t)
	withPassword(t, e, "alice")
	// Spraying many usernames from one address locks the address.
	for i := 0; i < 21; i++ {
		_, err := e.svc.SignIn(e.ctx, core.SignInRequest{Username: "user" + string(rune('a'+i)), Password: "wrong guess number x", IP: "198.51.100.1"})
		wantErr(t, err, core.KindUnauthorized, "")
	}
	_, err := e.svc.SignIn(e.ctx, core.SignInRequest{Username: "alice", Password: alicePassword, IP: "198.51.100.1"})
	wantErr(t, err, core.KindTooManyRequests, "-")
	_, err = e.svc.SignIn(e.ctx, core.SignInRequest{Username: "alice", Password: alicePassword, IP: "198.51.100.2"})
	noErr(t, err)
}

// tfaUser is a user with a password and TFA on; it returns the TOTP secret
// and the first scratch code.
func tfaUser(t *testing.T, e *env, name string) (core.Actor, string, string) {
	t.Helper()
	a := readyForTFA(t, e, name)
	noErr(t, e.svc.SetPassword(e.ctx, a.User.ID, alicePassword))
	sec, err := e.svc.EnableTFA(e.ctx, a)
	noErr(t, err)
	scratch, err := e.svc.ConfirmTFA(e.ctx, a, totpCode(t, sec.Secret, e.clock.Now()))
	noErr(t, err)
	e.clock.Advance(30 * time.Second) // past the step ConfirmTFA used
	return a, sec.Secret, scratch
}

func TestSignInTFA(t *testing.T) {
	e := newEnv(t)
	a, secret, scratch := tfaUser(t, e, "alice")

	res, err := signIn(e, "alice", alicePassword)
	noErr(t, err)
	if !res.TFARequired || res.Challenge == "" || res.SessionSecret != "" {
		t.Fatalf("sign-in of a TFA user = %+v", res)
	}
	_, err = e.svc.SignInTFA(e.ctx, core.TFASignInRequest{Challenge: res.Challenge})
	wantErr(t, err, core.KindInvalid, "code")
	_, err = e.svc.SignInTFA(e.ctx, core.TFASignInRequest{Code: "123456"})
	wantErr(t, err, core.KindInvalid, "challenge")
	_, err = e.svc.SignInTFA(e.ctx, core.TFASignInRequest{Challenge: "nope", Code: "123456"})
	wantErr(t, err, core.KindUnauthorized, "challenge")
	_, err = e.svc.SignInTFA(e.ctx, core.TFASignInRequest{Challenge: res.Challenge, Code: wrongCode(t, secret, e.clock.Now())})
	wantErr(t, err, core.KindUnauthorized, "code")

	code := totpCode(t, secret, e.clock.Now())
	done, err := e.svc.SignInTFA(e.ctx, core.TFASignInRequest{Challenge: res.Challenge, Code: code, IP: "192.0.2.1"})
	noErr(t, err)
	if done.SessionSecret == "" {
		t.Fatal("no session after the second factor")
	}
	// The challenge is spent, and the code's step is too.
	_, err = e.svc.SignInTFA(e.ctx, core.TFASignInRequest{Challenge: res.Challenge, Code: code})
	wantErr(t, err, core.KindUnauthorized, "challenge")
	res, err = signIn(e, "alice", alicePassword)
	noErr(t, err)
	_, err = e.svc.SignInTFA(e.ctx, core.TFASignInRequest{Challenge: res.Challenge, Code: code})
	wantErr(t, err, core.KindUnauthorized, "code")

	// A scratch code works once, in any case and with separators.
	_, err = e.svc.SignInTFA(e.ctx, core.TFASignInRequest{Challenge: res.Challenge, Code: scratch[:8] + "-" + lower(scratch[8:])})
	noErr(t, err)
	res, err = signIn(e, "alice", alicePassword)
	noErr(t, err)
	_, err = e.svc.SignInTFA(e.ctx, core.TFASignInRequest{Challenge: res.Challenge, Code: scratch})
	wantErr(t, err, core.KindUnauthorized, "code")

	// Challenges expire.
	e.clock.Advance(core.LoginChallengeLifetime)
	_, err = e.svc.SignInTFA(e.ctx, core.TFASignInRequest{Challenge: res.Challenge, Code: totpCode(t, secret, e.clock.Now())})
	wantErr(t, err, core.KindUnauthorized, "challenge")

	// Scratch codes: none left, then ten new ones.
	n, err := e.svc.ScratchCodesLeft(e.ctx, a)
	noErr(t, err)
	if n != 0 {
		t.Fatalf("%d scratch codes left, want 0", n)
	}
	codes, err := e.svc.RegenerateScratchCodes(e.ctx, a)
	noErr(t, err)
	n, err = e.svc.ScratchCodesLeft(e.ctx, a)
	noErr(t, err)
	if len(codes) != core.ScratchCodeCount || n != core.ScratchCodeCount {
		t.Fatalf("regenerated %d codes, %d left", len(codes), n)
	}
	e.assertNotOnDisk(codes...)
	res, err = signIn(e, "alice", alicePassword)
	noErr(t, err)
	_, err = e.svc.SignInTFA(e.ctx, core.TFASignInRequest{Challenge: res.Challenge, Code: codes[3]})
	noErr(t, err)
	n, _ = e.svc.ScratchCodesLeft(e.ctx, a)
	if n != core.ScratchCodeCount-1 {
		t.Fatalf("%d scratch codes left after one use", n)
	}
	_, err = e.svc.RegenerateScratchCodes(e.ctx, e.user("bob", false))
	wantErr(t, err, core.KindConflict, "-")
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func TestTrustedDevice(t *testing.T) {
	e := newEnv(t)
	a, secret, _ := tfaUser(t, e, "alice")

	res, err := e.svc.SignIn(e.ctx, core.SignInRequest{Username: "alice", Password: alicePassword, RememberMe: true, IP: "192.0.2.1", UserAgent: "Firefox"})
	noErr(t, err)
	done, err := e.svc.SignInTFA(e.ctx, core.TFASignInRequest{Challenge: res.Challenge, Code: totpCode(t, secret, e.clock.Now()), IP: "192.0.2.1", UserAgent: "Firefox"})
	noErr(t, err)
	if done.DeviceSecret == "" || !done.DeviceExpiry.Equal(e.clock.Now().Add(core.TrustedDeviceLifetime)) {
		t.Fatalf("remember me gave device %q until %v", done.DeviceSecret, done.DeviceExpiry)
	}
	e.assertNotOnDisk(done.DeviceSecret)
	devices, err := e.svc.Devices(e.ctx, a, allRows)
	noErr(t, err)
	if len(devices.Data) != 1 || devices.Data[0].UserAgent != "Firefox" || devices.Data[0].LastRemoteAddr != "192.0.2.1" {
		t.Fatalf("devices = %+v", devices.Data)
	}

	// The trusted device skips the second factor, and is touched.
	e.clock.Advance(time.Hour)
	res, err = e.svc.SignIn(e.ctx, core.SignInRequest{Username: "alice", Password: alicePassword, DeviceSecret: done.DeviceSecret, IP: "192.0.2.7", UserAgent: "Firefox 2"})
	noErr(t, err)
	if res.TFARequired || res.SessionSecret == "" || res.DeviceSecret != "" {
		t.Fatalf("sign-in on a trusted device = %+v", res)
	}
	d, err := e.svc.Device(e.ctx, a, devices.Data[0].ID)
	noErr(t, err)
	if !d.LastAuthenticated.Equal(e.clock.Now()) || d.LastRemoteAddr != "192.0.2.7" || d.UserAgent != "Firefox 2" {
		t.Fatalf("device after a sign-in = %+v", d)
	}
	// Another user's device secret does not help; a wrong password still fails.
	_, err = e.svc.SignIn(e.ctx, core.SignInRequest{Username: "alice", Password: "not the passphrase", DeviceSecret: done.DeviceSecret})
	wantErr(t, err, core.KindUnauthorized, "")

	// Revoking the device ends its trust.
	noErr(t, e.svc.RevokeDevice(e.ctx, a, d.ID))
	res, err = e.svc.SignIn(e.ctx, core.SignInRequest{Username: "alice", Password: alicePassword, DeviceSecret: done.DeviceSecret})
	noErr(t, err)
	if !res.TFARequired {
		t.Fatal("a revoked device still skips the second factor")
	}
	// And trust expires.
	res, err = e.svc.SignIn(e.ctx, core.SignInRequest{Username: "alice", Password: alicePassword, RememberMe: true})
	noErr(t, err)
	e.clock.Advance(30 * time.Second)
	done, err = e.svc.SignInTFA(e.ctx, core.TFASignInRequest{Challenge: res.Challenge, Code: totpCode(t, secret, e.clock.Now())})
	noErr(t, err)
	e.clock.Advance(core.TrustedDeviceLifetime)
	res, err = e.svc.SignIn(e.ctx, core.SignInRequest{Username: "alice", Password: alicePassword, DeviceSecret: done.DeviceSecret})
	noErr(t, err)
	if !res.TFARequired {
		t.Fatal("an expired device still skips the second factor")
	}
}

// TestUsernamesAnyCase: usernames are unique regardless of case, and
// sign-in finds the user whatever case is typed, with one limit for all
// spellings (issue 11, item 4).
func TestUsernamesAnyCase(t *testing.T) {
	e := newEnv(t)
	withPassword(t, e, "alice")
	_, err := e.svc.CreateUser(e.ctx, core.UserCreate{Username: "Alice", Email: "other@example.com"})
	wantErr(t, err, core.KindConflict, "username")
	res, err := signIn(e, "ALICE", alicePassword)
	noErr(t, err)
	if res.User.Username != "alice" {
		t.Fatalf("signed in as %q", res.User.Username)
	}
	// Failures under every spelling count against the one account.
	for _, name := range []string{"alice", "Alice", "ALICE", "aLiCe", "alicE"} {
		_, err := signIn(e, name, "wrong password here")
		wantErr(t, err, core.KindUnauthorized, "-")
	}
	_, err = signIn(e, "AlIcE", "wrong password again")
	wantErr(t, err, core.KindUnauthorized, "-") // the one that locks
	_, err = signIn(e, "alice", alicePassword)
	wantErr(t, err, core.KindTooManyRequests, "-")
}
