package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
)

// authTests are the conformance tests of core.AuthReader and
// core.AuthWriter (sign-in and OAuth), run by Run.
var authTests = []struct {
	name string
	fn   func(*testing.T, core.Store)
}{
	{"Passwords", testPasswords},
	{"TrustedDevices", testTrustedDevices},
	{"LoginChallenges", testLoginChallenges},
	{"OAuthClients", testOAuthClients},
	{"AuthCodes", testAuthCodes},
	{"RefreshTokens", testRefreshTokens},
	{"PeekLimit", testPeekLimit},
	{"SigningKeys", testSigningKeys},
	{"LoggedInApps", testLoggedInApps},
	{"DeleteSessionApps", testDeleteSessionApps},
	{"DeviceCodes", testDeviceCodes},
	{"PushedAuthorizations", testPushedAuthorizations},
	{"DeleteExpired", testDeleteExpired},
	{"DeleteHistory", testDeleteHistory},
	{"DeleteUnusedRegistrations", testDeleteUnusedRegistrations},
}

func hash32(s string) []byte {
	h := make([]byte, 32)
	copy(h, s)
	return h
}

func testPasswords(t *testing.T, s core.Store) {
	ctx := t.Context()
	a, b := newUser(t, s, "alice"), newUser(t, s, "bob")
	_, err := s.PasswordHash(ctx, a.ID)
	wantErr(t, "PasswordHash before any", err, core.ErrNotFound)
	update(t, s, func(tx core.Tx) error { return tx.SetPasswordHash(ctx, a.ID, "$argon2id$one", time.Now()) })
	got, err := s.PasswordHash(ctx, a.ID)
	noErr(t, "PasswordHash", err)
	equal(t, "PasswordHash", got, "$argon2id$one")
	update(t, s, func(tx core.Tx) error { return tx.SetPasswordHash(ctx, a.ID, "$argon2id$two", time.Now()) })
	got, err = s.PasswordHash(ctx, a.ID)
	noErr(t, "PasswordHash", err)
	equal(t, "PasswordHash after a replacement", got, "$argon2id$two")
	_, err = s.PasswordHash(ctx, b.ID)
	wantErr(t, "another user's PasswordHash", err, core.ErrNotFound)
	wantErr(t, "SetPasswordHash of a missing user",
		updateErr(t, s, func(tx core.Tx) error { return tx.SetPasswordHash(ctx, 1<<40, "$x", time.Now()) }), core.ErrNotFound)
	_, err = s.PasswordHash(ctx, 1<<40)
	wantErr(t, "PasswordHash of a missing user", err, core.ErrNotFound)
}

func testTrustedDevices(t *testing.T, s core.Store) {
	ctx := t.Context()
	a, b := newUser(t, s, "alice"), newUser(t, s, "bob")
	d := core.Device{UserID: a.ID, Created: t0, Expiry: at(60 * 24 * 30), LastAuthenticated: t0, LastRemoteAddr: "192.0.2.1", UserAgent: "Firefox"}
	update(t, s, func(tx core.Tx) error { return tx.CreateTrustedDevice(ctx, &d, hash32("secret-a")) })
	if d.ID == 0 {
		t.Fatal("CreateTrustedDevice left ID zero")
	}
	got, err := s.DeviceBySecret(ctx, a.ID, hash32("secret-a"))
	noErr(t, "DeviceBySecret", err)
	equal(t, "DeviceBySecret", got, d)
	got, err = s.Device(ctx, a.ID, d.ID)
	noErr(t, "Device", err)
	equal(t, "a trusted device through Device", got, d)
	list, n, err := s.ListDevices(ctx, a.ID, all)
	noErr(t, "ListDevices", err)
	equal(t, "ListDevices", n, 1)
	equal(t, "ListDevices", list, []core.Device{d})

	_, err = s.DeviceBySecret(ctx, b.ID, hash32("secret-a"))
	wantErr(t, "DeviceBySecret of another user's device", err, core.ErrNotFound)
	_, err = s.DeviceBySecret(ctx, a.ID, hash32("secret-b"))
	wantErr(t, "DeviceBySecret of an unknown secret", err, core.ErrNotFound)
	dup := core.Device{UserID: b.ID, Created: t0, Expiry: at(10), LastAuthenticated: t0}
	wantErr(t, "CreateTrustedDevice with a repeated secret",
		updateErr(t, s, func(tx core.Tx) error { return tx.CreateTrustedDevice(ctx, &dup, hash32("secret-a")) }), core.ErrDuplicate)
	missing := core.Device{UserID: 1 << 40, Created: t0, Expiry: at(10), LastAuthenticated: t0}
	wantErr(t, "CreateTrustedDevice for a missing user",
		updateErr(t, s, func(tx core.Tx) error { return tx.CreateTrustedDevice(ctx, &missing, hash32("secret-c")) }), core.ErrNotFound)

	update(t, s, func(tx core.Tx) error { return tx.TouchDevice(ctx, a.ID, d.ID, at(30), "198.51.100.7", "Chromium") })
	got, err = s.DeviceBySecret(ctx, a.ID, hash32("secret-a"))
	noErr(t, "DeviceBySecret", err)
	d.LastAuthenticated, d.LastRemoteAddr, d.UserAgent = at(30), "198.51.100.7", "Chromium"
	equal(t, "DeviceBySecret after TouchDevice", got, d)
	wantErr(t, "TouchDevice of another user's device",
		updateErr(t, s, func(tx core.Tx) error { return tx.TouchDevice(ctx, b.ID, d.ID, at(31), "x", "y") }), core.ErrNotFound)

	update(t, s, func(tx core.Tx) error { return tx.DeleteDevice(ctx, a.ID, d.ID) })
	_, err = s.DeviceBySecret(ctx, a.ID, hash32("secret-a"))
	wantErr(t, "DeviceBySecret after DeleteDevice", err, core.ErrNotFound)
	wantErr(t, "TouchDevice after DeleteDevice",
		updateErr(t, s, func(tx core.Tx) error { return tx.TouchDevice(ctx, a.ID, d.ID, at(31), "x", "y") }), core.ErrNotFound)
}

func testLoginChallenges(t *testing.T, s core.Store) {
	ctx := t.Context()
	a := newUser(t, s, "alice")
	c := core.LoginChallenge{Hash: hash32("c1"), UserID: a.ID, Remember: true, Created: t0, Expiry: at(5), IP: "192.0.2.1", UserAgent: "Firefox"}
	update(t, s, func(tx core.Tx) error { return tx.CreateLoginChallenge(ctx, c) })
	got, err := s.LoginChallenge(ctx, c.Hash)
	noErr(t, "LoginChallenge", err)
	equal(t, "LoginChallenge", got, c)
	_, err = s.LoginChallenge(ctx, hash32("nope"))
	wantErr(t, "LoginChallenge of an unknown hash", err, core.ErrNotFound)

	// A challenge made after c expired forgets c.
	c2 := core.LoginChallenge{Hash: hash32("c2"), UserID: a.ID, Created: at(6), Expiry: at(11), IP: "", UserAgent: ""}
	update(t, s, func(tx core.Tx) error { return tx.CreateLoginChallenge(ctx, c2) })
	_, err = s.LoginChallenge(ctx, c.Hash)
	wantErr(t, "an expired LoginChallenge after another was made", err, core.ErrNotFound)
	got, err = s.LoginChallenge(ctx, c2.Hash)
	noErr(t, "LoginChallenge", err)
	equal(t, "LoginChallenge", got, c2)

	update(t, s, func(tx core.Tx) error { return tx.DeleteLoginChallenge(ctx, c2.Hash) })
	wantErr(t, "DeleteLoginChallenge twice",
		updateErr(t, s, func(tx core.Tx) error { return tx.DeleteLoginChallenge(ctx, c2.Hash) }), core.ErrNotFound)
	missing := core.LoginChallenge{Hash: hash32("c3"), UserID: 1 << 40, Created: at(6), Expiry: at(11)}
	wantErr(t, "CreateLoginChallenge for a missing user",
		updateErr(t, s, func(tx core.Tx) error { return tx.CreateLoginChallenge(ctx, missing) }), core.ErrNotFound)
}

func newOAuthClient(t *testing.T, s core.Store, id string, public bool) core.OAuthClient {
	t.Helper()
	c := core.OAuthClient{ID: id, Label: "App " + id, Website: "https://example.com/" + id,
		RedirectURIs: []string{"https://example.com/cb", "http://127.0.0.1:9/cb"}, Public: public, Created: t0}
	if !public {
		c.SecretHash = hash32("secret-" + id)
	}
	update(t, s, func(tx core.Tx) error { return tx.CreateOAuthClient(t.Context(), c) })
	return c
}

func testOAuthClients(t *testing.T, s core.Store) {
	ctx := t.Context()
	conf := newOAuthClient(t, s, "0123456789abcdef0123", false)
	conf.ThumbnailURL = ""
	pub := core.OAuthClient{ID: "pub", Label: "Public", Website: "https://pub.example", ThumbnailURL: "https://pub.example/t.png",
		RedirectURIs: []string{"https://pub.example/cb"}, Public: true, FirstParty: true, Created: at(1),
		BackchannelLogoutURI: "https://pub.example/logout?from=profiled", DeviceGrant: true, RequirePushed: true,
		JWKSURI: "https://pub.example/jwks.json", RequireMFA: true, Registered: true}
	update(t, s, func(tx core.Tx) error { return tx.CreateOAuthClient(ctx, pub) })

	got, err := s.OAuthClient(ctx, conf.ID)
	noErr(t, "OAuthClient", err)
	equal(t, "a confidential OAuthClient", got, conf)
	got, err = s.OAuthClient(ctx, pub.ID)
	noErr(t, "OAuthClient", err)
	equal(t, "a public OAuthClient (nil secret)", got, pub)

	_, err = s.OAuthClient(ctx, "unknown")
	wantErr(t, "OAuthClient of an unknown id", err, core.ErrNotFound)
	_, err = s.OAuthClient(ctx, "PUB")
	wantErr(t, "OAuthClient ids are case-sensitive", err, core.ErrNotFound)
	_, err = s.OAuthClient(ctx, "bad\x00id")
	wantErr(t, "OAuthClient of an id with NUL", err, core.ErrNotFound)
	wantErr(t, "CreateOAuthClient with a taken id",
		updateErr(t, s, func(tx core.Tx) error { return tx.CreateOAuthClient(ctx, pub) }), core.ErrDuplicate)
}

func testAuthCodes(t *testing.T, s core.Store) {
	ctx := t.Context()
	a := newUser(t, s, "alice")
	cl := newOAuthClient(t, s, "client", false)
	c := core.AuthCode{Hash: hash32("code1"), ClientID: cl.ID, UserID: a.ID, RedirectURI: "https://example.com/cb",
		Scopes: "account:read_only openid", Challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", Nonce: "n-0S6_WzA2Mj",
		AuthTime: t0.Add(-time.Hour), SID: "5f1c0e2a9b8d7c6e5f1c0e2a9b8d7c6e", Created: t0, Expiry: at(2), AuthMethods: core.AuthPasswordAndOneTime,
		Resource: "https://mcp.example/"}
	update(t, s, func(tx core.Tx) error { return tx.CreateAuthCode(ctx, c) })
	got, err := s.AuthCode(ctx, c.Hash)
	noErr(t, "AuthCode", err)
	equal(t, "AuthCode", got, c)

	app := newApp(t, s, core.App{UserID: a.ID, ClientID: cl.ID, Label: cl.Label, Website: cl.Website})
	update(t, s, func(tx core.Tx) error { return tx.ClaimAuthCode(ctx, c.Hash, app.ID) })
	got, err = s.AuthCode(ctx, c.Hash)
	noErr(t, "AuthCode", err)
	c.Used, c.AppID = true, app.ID
	equal(t, "AuthCode after ClaimAuthCode", got, c)
	wantErr(t, "ClaimAuthCode twice",
		updateErr(t, s, func(tx core.Tx) error { return tx.ClaimAuthCode(ctx, c.Hash, app.ID) }), core.ErrNotFound)
	wantErr(t, "ClaimAuthCode of an unknown code",
		updateErr(t, s, func(tx core.Tx) error { return tx.ClaimAuthCode(ctx, hash32("nope"), app.ID) }), core.ErrNotFound)

	// A code made after c expired forgets c.
	c2 := core.AuthCode{Hash: hash32("code2"), ClientID: cl.ID, UserID: a.ID, RedirectURI: "https://example.com/cb",
		Scopes: "*", Created: at(3), Expiry: at(5)}
	update(t, s, func(tx core.Tx) error { return tx.CreateAuthCode(ctx, c2) })
	_, err = s.AuthCode(ctx, c.Hash)
	wantErr(t, "an expired AuthCode after another was made", err, core.ErrNotFound)

	bad := c2
	bad.Hash, bad.ClientID = hash32("code3"), "no-such-client"
	wantErr(t, "CreateAuthCode for an unknown client",
		updateErr(t, s, func(tx core.Tx) error { return tx.CreateAuthCode(ctx, bad) }), core.ErrNotFound)
	bad.ClientID, bad.UserID = cl.ID, 1<<40
	wantErr(t, "CreateAuthCode for a missing user",
		updateErr(t, s, func(tx core.Tx) error { return tx.CreateAuthCode(ctx, bad) }), core.ErrNotFound)
}

func testRefreshTokens(t *testing.T, s core.Store) {
	ctx := t.Context()
	a, b := newUser(t, s, "alice"), newUser(t, s, "bob")
	cl := newOAuthClient(t, s, "client", true)
	app := newApp(t, s, core.App{UserID: a.ID, ClientID: cl.ID, Label: cl.Label, Website: cl.Website})
	rt := core.RefreshToken{Hash: hash32("r1"), UserID: a.ID, AppID: app.ID, ClientID: cl.ID, Scopes: "account:read_write",
		Created: t0, Expiry: at(60 * 24 * 30)}
	update(t, s, func(tx core.Tx) error { return tx.CreateRefreshToken(ctx, rt) })
	got, err := s.RefreshToken(ctx, rt.Hash)
	noErr(t, "RefreshToken", err)
	equal(t, "RefreshToken", got, rt)

	update(t, s, func(tx core.Tx) error { return tx.ClaimRefreshToken(ctx, rt.Hash) })
	got, err = s.RefreshToken(ctx, rt.Hash)
	noErr(t, "RefreshToken", err)
	rt.Used = true
	equal(t, "RefreshToken after ClaimRefreshToken", got, rt)
	wantErr(t, "ClaimRefreshToken twice",
		updateErr(t, s, func(tx core.Tx) error { return tx.ClaimRefreshToken(ctx, rt.Hash) }), core.ErrNotFound)

	other := rt
	other.Hash, other.UserID = hash32("r2"), b.ID
	wantErr(t, "CreateRefreshToken under another user's authorization",
		updateErr(t, s, func(tx core.Tx) error { return tx.CreateRefreshToken(ctx, other) }), core.ErrNotFound)

	rt2 := core.RefreshToken{Hash: hash32("r3"), UserID: a.ID, AppID: app.ID, ClientID: cl.ID, Scopes: "*", Created: at(1), Expiry: at(100)}
	update(t, s, func(tx core.Tx) error { return tx.CreateRefreshToken(ctx, rt2) })
	update(t, s, func(tx core.Tx) error { return tx.DeleteApp(ctx, a.ID, app.ID) })
	for _, h := range [][]byte{rt.Hash, rt2.Hash} {
		_, err = s.RefreshToken(ctx, h)
		wantErr(t, "RefreshToken after DeleteApp", err, core.ErrNotFound)
	}
	gone := rt2
	gone.Hash = hash32("r4")
	wantErr(t, "CreateRefreshToken under a deleted authorization",
		updateErr(t, s, func(tx core.Tx) error { return tx.CreateRefreshToken(ctx, gone) }), core.ErrNotFound)
	if bytes.Equal(rt.Hash, rt2.Hash) {
		t.Fatal("hashes collide")
	}
}

func testPeekLimit(t *testing.T, s core.Store) {
	ctx := t.Context()
	const w = 10 * time.Minute
	n, reset, err := s.PeekLimit(ctx, "k", t0)
	noErr(t, "PeekLimit", err)
	if n != 0 || !reset.IsZero() {
		t.Errorf("PeekLimit of an unknown key = %d, %v; want 0, zero", n, reset)
	}
	hit(t, s, "k", w, t0)
	hit(t, s, "k", w, at(1))
	for range 2 { // peeking counts nothing
		n, reset, err = s.PeekLimit(ctx, "k", at(2))
		noErr(t, "PeekLimit", err)
		if n != 2 || !reset.Equal(t0.Add(w)) || reset.Location() != time.UTC {
			t.Errorf("PeekLimit = %d, %v; want 2, %v", n, reset, t0.Add(w))
		}
	}
	n, _, err = s.PeekLimit(ctx, "k", t0.Add(w))
	noErr(t, "PeekLimit", err)
	equal(t, "PeekLimit when the window ended", n, 0)
	n, _, err = s.PeekLimit(ctx, "bad\x00key", t0)
	noErr(t, "PeekLimit of a key with NUL", err)
	equal(t, "PeekLimit of a key with NUL", n, 0)
}

// AppsWithoutExpiry checks migration 00102 of an engine: the rows are
// written at the latest version (the statements are the latest schema's),
// down takes s to version 101, keeping them, and migrate back to the
// latest. An authorization without an expiry takes that of its latest
// refresh token; one with an expiry keeps it, and one without refresh
// tokens stays without.
func AppsWithoutExpiry(t *testing.T, s core.Store, down, migrate func(context.Context) error) {
	t.Helper()
	ctx := t.Context()
	a := newUser(t, s, "alice")
	cl := newOAuthClient(t, s, "client", true)
	refreshed := newApp(t, s, core.App{UserID: a.ID, ClientID: cl.ID, Label: "refreshed"})
	kept := newApp(t, s, core.App{UserID: a.ID, ClientID: cl.ID, Label: "kept", Expiry: ptr(at(10))})
	bare := newApp(t, s, core.App{UserID: a.ID, ClientID: cl.ID, Label: "bare"})
	for i, c := range []struct {
		app    core.App
		expiry time.Time
	}{{refreshed, at(100)}, {refreshed, at(300)}, {refreshed, at(200)}, {kept, at(500)}} {
		rt := core.RefreshToken{Hash: hash32(fmt.Sprint("r", i)), UserID: a.ID, AppID: c.app.ID, ClientID: cl.ID,
			Scopes: "account:read_write", Created: t0, Expiry: c.expiry}
		update(t, s, func(tx core.Tx) error { return tx.CreateRefreshToken(ctx, rt) })
	}
	if err := down(ctx); err != nil {
		t.Fatalf("down to 00101: %v", err)
	}
	if err := migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	for _, c := range []struct {
		app  core.App
		want *time.Time
	}{{refreshed, ptr(at(300))}, {kept, ptr(at(10))}, {bare, nil}} {
		got, err := s.App(ctx, a.ID, c.app.ID)
		noErr(t, "App", err)
		equal(t, "the expiry of "+c.app.Label, got.Expiry, c.want)
	}
}

// testLoggedInApps: the authorizations a session's sign-out must tell are
// the user's, of that session, unexpired, and of clients that take
// logout tokens.
func testLoggedInApps(t *testing.T, s core.Store) {
	ctx := t.Context()
	a, b := newUser(t, s, "alice"), newUser(t, s, "bob")
	listening := core.OAuthClient{ID: "rp", Label: "RP", Website: "https://rp.example", RedirectURIs: []string{"https://rp.example/cb"},
		Public: true, Created: t0, BackchannelLogoutURI: "https://rp.example/backchannel"}
	update(t, s, func(tx core.Tx) error { return tx.CreateOAuthClient(ctx, listening) })
	deaf := newOAuthClient(t, s, "deaf", true)
	const sid, other = "aaaa", "bbbb"
	app := func(u core.User, client, sid string, expiry *time.Time) core.App {
		return newApp(t, s, core.App{UserID: u.ID, ClientID: client, Label: client, SID: sid, Issuer: "https://id.example", Expiry: expiry})
	}
	want := []core.App{app(a, listening.ID, sid, nil), app(a, listening.ID, sid, ptr(at(10)))}
	app(a, listening.ID, other, nil)   // another session
	app(a, deaf.ID, sid, nil)          // a client without a logout URI
	app(a, listening.ID, sid, ptr(t0)) // expired at now
	app(b, listening.ID, sid, nil)     // another user's
	app(a, listening.ID, "", nil)      // made before sids were kept
	got, err := s.LoggedInApps(ctx, a.ID, sid, t0)
	noErr(t, "LoggedInApps", err)
	slices.SortFunc(got, func(x, y core.App) int { return int(x.ID - y.ID) })
	equal(t, "LoggedInApps", got, want)
}

// testDeleteSessionApps: a session's end deletes the user's authorizations
// bound to it, with their access and refresh tokens, and nothing else:
// not those of the session that are not bound, nor those of another
// session or another user.
func testDeleteSessionApps(t *testing.T, s core.Store) {
	ctx := t.Context()
	a, b := newUser(t, s, "alice"), newUser(t, s, "bob")
	cl := newOAuthClient(t, s, "rp", true)
	const sid, other = "aaaa", "bbbb"
	app := func(u core.User, sid string, bound bool) core.App {
		app := newApp(t, s, core.App{UserID: u.ID, ClientID: cl.ID, Label: "rp", SID: sid, SessionBound: bound})
		rt := core.RefreshToken{Hash: tokenHash(app.ID, "refresh"), UserID: u.ID, AppID: app.ID, ClientID: cl.ID,
			Scopes: "openid", Created: t0, Expiry: at(60)}
		update(t, s, func(tx core.Tx) error { return tx.CreateRefreshToken(ctx, rt) })
		newToken(t, s, core.Token{UserID: u.ID, Kind: core.TokenOAuth, Label: fmt.Sprint("access ", app.ID), ClientID: cl.ID, AppID: app.ID})
		return app
	}
	gone := []core.App{app(a, sid, true), app(a, sid, true)}
	kept := []core.App{app(a, sid, false), app(a, other, true), app(b, sid, true)}
	update(t, s, func(tx core.Tx) error { return tx.DeleteSessionApps(ctx, a.ID, sid) })
	for _, x := range gone {
		_, err := s.App(ctx, x.UserID, x.ID)
		wantErr(t, "a bound app after DeleteSessionApps", err, core.ErrNotFound)
		_, err = s.RefreshToken(ctx, tokenHash(x.ID, "refresh"))
		wantErr(t, "a bound app's refresh token after DeleteSessionApps", err, core.ErrNotFound)
	}
	for _, x := range kept {
		got, err := s.App(ctx, x.UserID, x.ID)
		noErr(t, "an app DeleteSessionApps must keep", err)
		equal(t, "a kept app", got, x)
		_, err = s.RefreshToken(ctx, tokenHash(x.ID, "refresh"))
		noErr(t, "a kept app's refresh token", err)
	}
	toks, _, err := s.ListTokens(ctx, a.ID, all)
	noErr(t, "ListTokens", err)
	if len(toks) != 2 {
		t.Fatalf("alice has %d access tokens after DeleteSessionApps, want the 2 of her kept apps", len(toks))
	}
	for _, tok := range toks {
		if tok.AppID == gone[0].ID || tok.AppID == gone[1].ID {
			t.Fatalf("a bound app's access token survived: %+v", tok)
		}
	}
	update(t, s, func(tx core.Tx) error { return tx.DeleteSessionApps(ctx, a.ID, "none") }) // none bound: no error
}

// testDeviceCodes: a device code is found by its user code; decided once,
// while pending and unexpired; each poll sooner than the interval since
// the last says so and adds five seconds; claimed once, when approved; a
// taken user code is a duplicate, and an expired code goes with the next
// one made.
func testDeviceCodes(t *testing.T, s core.Store) {
	ctx := t.Context()
	a := newUser(t, s, "alice")
	cl := newOAuthClient(t, s, "cli", true)
	d := core.DeviceCode{Hash: hash32("device"), UserCode: hash32("user"), ClientID: cl.ID, Scopes: "account:read_only", Resource: "https://mcp.example/",
		Created: t0, Expiry: at(10), Interval: 5 * time.Second, Status: core.DeviceCodePending}
	update(t, s, func(tx core.Tx) error { return tx.CreateDeviceCode(ctx, d) })
	got, err := s.DeviceCodeByUserCode(ctx, d.UserCode)
	noErr(t, "DeviceCodeByUserCode", err)
	equal(t, "DeviceCodeByUserCode", got, d)
	_, err = s.DeviceCodeByUserCode(ctx, hash32("other"))
	wantErr(t, "DeviceCodeByUserCode of another code", err, core.ErrNotFound)
	taken := d
	taken.Hash = hash32("device 2")
	wantErr(t, "CreateDeviceCode with a taken user code",
		updateErr(t, s, func(tx core.Tx) error { return tx.CreateDeviceCode(ctx, taken) }), core.ErrDuplicate)

	poll := func(now time.Time) (core.DeviceCode, bool) {
		t.Helper()
		var got core.DeviceCode
		var soon bool
		update(t, s, func(tx core.Tx) error {
			var err error
			got, soon, err = tx.PollDeviceCode(ctx, d.Hash, now, 5*time.Second)
			return err
		})
		return got, soon
	}
	if _, soon := poll(t0); soon {
		t.Fatal("the first poll was too soon")
	}
	if got, soon := poll(t0.Add(4 * time.Second)); !soon || got.Interval != 10*time.Second {
		t.Fatalf("a poll 4 s after: soon %v, interval %v; want true, 10s", soon, got.Interval)
	}
	if _, soon := poll(t0.Add(13 * time.Second)); !soon { // 4 s + 10 s is when the next may come
		t.Fatal("a poll 9 s after the slowed one was in time")
	}
	if got, soon := poll(t0.Add(28 * time.Second)); soon || got.Interval != 15*time.Second {
		t.Fatalf("a poll after the interval: soon %v, interval %v", soon, got.Interval)
	}
	wantErr(t, "PollDeviceCode of another code", updateErr(t, s, func(tx core.Tx) error {
		_, _, err := tx.PollDeviceCode(ctx, hash32("other"), t0, 5*time.Second)
		return err
	}), core.ErrNotFound)

	wantErr(t, "ClaimDeviceCode of a pending code",
		updateErr(t, s, func(tx core.Tx) error { return tx.ClaimDeviceCode(ctx, d.Hash, 1) }), core.ErrNotFound)
	decision := core.DeviceCode{UserCode: d.UserCode, Status: core.DeviceCodeApproved, UserID: a.ID, Granted: "account:read_only",
		SID: "aaaa", AuthTime: at(-5), AuthMethods: core.AuthPassword}
	wantErr(t, "DecideDeviceCode once expired",
		updateErr(t, s, func(tx core.Tx) error { return tx.DecideDeviceCode(ctx, decision, at(10)) }), core.ErrNotFound)
	update(t, s, func(tx core.Tx) error { return tx.DecideDeviceCode(ctx, decision, at(1)) })
	wantErr(t, "DecideDeviceCode a second time",
		updateErr(t, s, func(tx core.Tx) error { return tx.DecideDeviceCode(ctx, decision, at(1)) }), core.ErrNotFound)
	app := newApp(t, s, core.App{UserID: a.ID, ClientID: cl.ID, Label: "cli"})
	update(t, s, func(tx core.Tx) error { return tx.ClaimDeviceCode(ctx, d.Hash, app.ID) })
	wantErr(t, "ClaimDeviceCode a second time",
		updateErr(t, s, func(tx core.Tx) error { return tx.ClaimDeviceCode(ctx, d.Hash, app.ID) }), core.ErrNotFound)
	got, err = s.DeviceCodeByUserCode(ctx, d.UserCode)
	noErr(t, "DeviceCodeByUserCode once used", err)
	want := d
	want.Interval, want.Status, want.UserID, want.Granted, want.SID, want.AuthTime, want.AppID, want.AuthMethods =
		15*time.Second, core.DeviceCodeUsed, a.ID, "account:read_only", "aaaa", at(-5), app.ID, core.AuthPassword
	equal(t, "a used device code", got, want)

	next := core.DeviceCode{Hash: hash32("device 3"), UserCode: hash32("user 3"), ClientID: cl.ID, Scopes: "*",
		Created: at(11), Expiry: at(21), Interval: 5 * time.Second, Status: core.DeviceCodePending}
	update(t, s, func(tx core.Tx) error { return tx.CreateDeviceCode(ctx, next) })
	_, err = s.DeviceCodeByUserCode(ctx, d.UserCode)
	wantErr(t, "an expired device code after the next is made", err, core.ErrNotFound)
	var n int64
	update(t, s, func(tx core.Tx) error {
		var err error
		n, err = tx.DeleteExpired(ctx, at(30), 100)
		return err
	})
	if _, err := s.DeviceCodeByUserCode(ctx, next.UserCode); !errors.Is(err, core.ErrNotFound) || n < 1 {
		t.Fatalf("DeleteExpired left the expired device code (%v), deleted %d", err, n)
	}
}

// testPushedAuthorizations: a pushed request keeps its parameters, is
// deleted once, and an expired one goes with the next one made.
func testPushedAuthorizations(t *testing.T, s core.Store) {
	ctx := t.Context()
	cl := newOAuthClient(t, s, "rp", false)
	p := core.PushedAuthorization{Hash: hash32("request 1"), ClientID: cl.ID, Created: t0, Expiry: at(5),
		Params: map[string]string{"response_type": "code", "scope": "openid", "state": "é\u2028"}}
	update(t, s, func(tx core.Tx) error { return tx.CreatePushedAuthorization(ctx, p) })
	got, err := s.PushedAuthorization(ctx, p.Hash)
	noErr(t, "PushedAuthorization", err)
	equal(t, "PushedAuthorization", got, p)
	_, err = s.PushedAuthorization(ctx, hash32("other"))
	wantErr(t, "PushedAuthorization of another hash", err, core.ErrNotFound)
	update(t, s, func(tx core.Tx) error { return tx.DeletePushedAuthorization(ctx, p.Hash) })
	wantErr(t, "DeletePushedAuthorization a second time",
		updateErr(t, s, func(tx core.Tx) error { return tx.DeletePushedAuthorization(ctx, p.Hash) }), core.ErrNotFound)

	old := p
	old.Hash = hash32("request 2")
	update(t, s, func(tx core.Tx) error { return tx.CreatePushedAuthorization(ctx, old) })
	next := core.PushedAuthorization{Hash: hash32("request 3"), ClientID: cl.ID, Created: at(6), Expiry: at(11), Params: map[string]string{}}
	update(t, s, func(tx core.Tx) error { return tx.CreatePushedAuthorization(ctx, next) })
	_, err = s.PushedAuthorization(ctx, old.Hash)
	wantErr(t, "an expired pushed request after the next is made", err, core.ErrNotFound)
}

func testSigningKeys(t *testing.T, s core.Store) {
	ctx := t.Context()
	keys, err := s.SigningKeys(ctx)
	noErr(t, "SigningKeys of none", err)
	if len(keys) != 0 {
		t.Fatalf("SigningKeys of none = %v", keys)
	}
	a := core.StoredSigningKey{ID: "aaaa", Created: t0, Sealed: []byte("sealed a")}
	b := core.StoredSigningKey{ID: "bbbb", Created: at(1), Sealed: []byte("sealed b")}
	c := core.StoredSigningKey{ID: "cccc", Created: at(1), Sealed: []byte("sealed c")}
	for _, k := range []core.StoredSigningKey{b, a, c} {
		update(t, s, func(tx core.Tx) error { return tx.CreateSigningKey(ctx, k) })
	}
	keys, err = s.SigningKeys(ctx)
	noErr(t, "SigningKeys", err)
	equal(t, "SigningKeys, newest first, then by id", keys, []core.StoredSigningKey{c, b, a})
	wantErr(t, "CreateSigningKey with a taken id",
		updateErr(t, s, func(tx core.Tx) error {
			return tx.CreateSigningKey(ctx, core.StoredSigningKey{ID: "aaaa", Created: at(2), Sealed: []byte("x")})
		}),
		core.ErrDuplicate)
	update(t, s, func(tx core.Tx) error { return tx.DeleteSigningKey(ctx, "bbbb") })
	wantErr(t, "DeleteSigningKey twice", updateErr(t, s, func(tx core.Tx) error { return tx.DeleteSigningKey(ctx, "bbbb") }), core.ErrNotFound)
	keys, err = s.SigningKeys(ctx)
	noErr(t, "SigningKeys after a delete", err)
	equal(t, "SigningKeys after a delete", keys, []core.StoredSigningKey{c, a})
}

// testDeleteExpired deletes, in batches of one row of each kind, what
// expired before at(20), and keeps the rest: what was issued under an
// expired authorization goes with it, even if it had not expired itself.
func testDeleteExpired(t *testing.T, s core.Store) {
	ctx := t.Context()
	u := newUser(t, s, "alice")
	cl := newOAuthClient(t, s, "client", true)
	oldApp := newApp(t, s, core.App{UserID: u.ID, ClientID: cl.ID, Label: "old", Expiry: ptr(at(10))})
	liveApp := newApp(t, s, core.App{UserID: u.ID, ClientID: cl.ID, Label: "live", Expiry: ptr(at(1000))})
	oauth := func(label string, app core.App, expiry time.Time) core.Token {
		return newToken(t, s, core.Token{UserID: u.ID, Label: label, Kind: core.TokenOAuth, ClientID: cl.ID, AppID: app.ID, Expiry: &expiry})
	}
	gone := []core.Token{
		oauth("old access", oldApp, at(5)),
		oauth("old app, not expired itself", oldApp, at(100)),
		oauth("live app, expired access", liveApp, at(5)),
		newToken(t, s, core.Token{UserID: u.ID, Label: "expired personal", Expiry: ptr(at(19))}),
	}
	kept := []core.Token{
		oauth("live access", liveApp, at(20)),
		newToken(t, s, core.Token{UserID: u.ID, Label: "personal for ever"}),
	}
	refresh := func(name string, app core.App, expiry time.Time) core.RefreshToken {
		rt := core.RefreshToken{Hash: hash32(name), UserID: u.ID, AppID: app.ID, ClientID: cl.ID, Scopes: "account:read_only",
			Created: t0, Expiry: expiry}
		update(t, s, func(tx core.Tx) error { return tx.CreateRefreshToken(ctx, rt) })
		return rt
	}
	goneRefresh := []core.RefreshToken{refresh("old app's", oldApp, at(10)), refresh("live app's used", liveApp, at(5))}
	keptRefresh := refresh("live app's", liveApp, at(1000))
	oldDevice := core.Device{UserID: u.ID, Created: t0, Expiry: at(19), LastAuthenticated: t0}
	liveDevice := core.Device{UserID: u.ID, Created: t0, Expiry: at(21), LastAuthenticated: t0}
	update(t, s, func(tx core.Tx) error {
		return errors.Join(tx.CreateDevice(ctx, &oldDevice), tx.CreateDevice(ctx, &liveDevice))
	})
	hit(t, s, "ended", time.Minute, at(10)) // its window ends at minute 11
	hit(t, s, "open", time.Hour, at(10))

	total := deleteInBatchesOfOne(t, s, "DeleteExpired", func(tx core.Tx) (int64, error) { return tx.DeleteExpired(ctx, at(20), 1) })
	equal(t, "rows DeleteExpired deleted", total, int64(len(gone)+len(goneRefresh)+2+1))

	for _, tok := range gone {
		_, _, err := s.TokenByHash(ctx, tok.Hash)
		wantErr(t, "TokenByHash of deleted "+tok.Label, err, core.ErrNotFound)
	}
	for _, tok := range kept {
		_, _, err := s.TokenByHash(ctx, tok.Hash)
		noErr(t, "TokenByHash of kept "+tok.Label, err)
	}
	for _, rt := range goneRefresh {
		_, err := s.RefreshToken(ctx, rt.Hash)
		wantErr(t, "RefreshToken of a deleted one", err, core.ErrNotFound)
	}
	_, err := s.RefreshToken(ctx, keptRefresh.Hash)
	noErr(t, "RefreshToken of the kept one", err)
	_, err = s.App(ctx, u.ID, oldApp.ID)
	wantErr(t, "App of the expired authorization", err, core.ErrNotFound)
	_, err = s.App(ctx, u.ID, liveApp.ID)
	noErr(t, "App of the live authorization", err)
	_, err = s.Device(ctx, u.ID, oldDevice.ID)
	wantErr(t, "Device expired", err, core.ErrNotFound)
	_, err = s.Device(ctx, u.ID, liveDevice.ID)
	noErr(t, "Device live", err)
	// Counted again at a time inside the old windows: the ended counter
	// was deleted (it starts at 1), the open one was kept.
	if n, _ := hit(t, s, "ended", time.Minute, at(10)); n != 1 {
		t.Errorf("the ended counter was kept: a hit counts %d", n)
	}
	if n, _ := hit(t, s, "open", time.Hour, at(10)); n != 2 {
		t.Errorf("the open counter was deleted: a hit counts %d", n)
	}
}

// testDeleteHistory deletes, in batches of one row of each kind, the
// logins and account events made before the time, of every user and
// account, and keeps those made at it or after, and each user's newest
// login, even an old one.
func testDeleteHistory(t *testing.T, s core.Store) {
	ctx := t.Context()
	alice, bob, carol := newUser(t, s, "alice"), newUser(t, s, "bob"), newUser(t, s, "carol")
	var logins []core.Login
	update(t, s, func(tx core.Tx) error {
		for i, m := range []int{1, 5, 19, 20, 30, 2} {
			u := []core.User{alice, bob, alice, bob, alice, carol}[i]
			l := core.Login{UserID: u.ID, Datetime: at(m), IP: "192.0.2.1", Username: u.Username, Status: core.LoginSuccessful}
			if err := tx.CreateLogin(ctx, &l); err != nil {
				return err
			}
			logins = append(logins, l)
			e := core.AccountEvent{AccountID: u.AccountID, UserID: u.ID, Username: u.Username, Action: "token_create",
				EntityType: "token", EntityID: int64(m), EntityLabel: "t", Created: at(m)}
			if err := tx.CreateAccountEvent(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	total := deleteInBatchesOfOne(t, s, "DeleteHistory", func(tx core.Tx) (int64, error) { return tx.DeleteHistory(ctx, at(20), 1) })
	equal(t, "rows DeleteHistory deleted", total, int64(3+4))
	for _, l := range logins {
		_, err := s.Login(ctx, l.UserID, l.ID)
		if l.Datetime.Before(at(20)) && l.UserID != carol.ID {
			wantErr(t, fmt.Sprintf("login at %s", l.Datetime), err, core.ErrNotFound)
		} else {
			noErr(t, fmt.Sprintf("login at %s", l.Datetime), err)
		}
	}
	var left []int64
	for _, u := range []core.User{alice, bob, carol} {
		events, _, err := s.ListAccountEvents(ctx, u.AccountID, core.ListQuery{Page: 1, PageSize: 25, OrderBy: "id"})
		noErr(t, "ListAccountEvents", err)
		for _, e := range events {
			left = append(left, e.EntityID)
		}
	}
	slices.Sort(left)
	equal(t, "the events left, by minute", left, []int64{20, 30})
}

// testDeleteUnusedRegistrations deletes, one at a time, the clients that
// registered themselves before the time given and hold no authorization
// and no code; the operator's clients and the others stay.
func testDeleteUnusedRegistrations(t *testing.T, s core.Store) {
	ctx := t.Context()
	alice := newUser(t, s, "alice")
	client := func(id string, registered bool, created time.Time) core.OAuthClient {
		c := core.OAuthClient{ID: id, Label: id, Website: "https://example.com", RedirectURIs: []string{"https://example.com/cb"},
			Public: true, Created: created, Registered: registered, Status: core.OAuthClientActive}
		update(t, s, func(tx core.Tx) error { return tx.CreateOAuthClient(ctx, c) })
		return c
	}
	unused1, unused2 := client("unused1", true, at(1)), client("unused2", true, at(2))
	authorized, coded := client("authorized", true, at(1)), client("coded", true, at(1))
	recent, operator := client("recent", true, at(30)), client("operator", false, at(1))
	newApp(t, s, core.App{UserID: alice.ID, ClientID: authorized.ID, Label: "a"})
	update(t, s, func(tx core.Tx) error {
		return tx.CreateAuthCode(ctx, core.AuthCode{Hash: hash32("held"), ClientID: coded.ID, UserID: alice.ID,
			RedirectURI: "https://example.com/cb", Scopes: "*", Created: at(9), Expiry: at(20)})
	})
	total := deleteInBatchesOfOne(t, s, "DeleteUnusedRegistrations", func(tx core.Tx) (int64, error) {
		return tx.DeleteUnusedRegistrations(ctx, at(10), 1)
	})
	equal(t, "clients DeleteUnusedRegistrations deleted", total, int64(2))
	for _, c := range []core.OAuthClient{unused1, unused2} {
		_, err := s.OAuthClient(ctx, c.ID)
		wantErr(t, "an unused registration", err, core.ErrNotFound)
	}
	for _, c := range []core.OAuthClient{authorized, coded, recent, operator} {
		_, err := s.OAuthClient(ctx, c.ID)
		noErr(t, "client "+c.ID, err)
	}
}

// deleteInBatchesOfOne runs del, a purge of at most one row of each kind,
// in transactions until it deletes nothing, and returns how many rows it
// deleted in all; more than ten rounds fail the test.
func deleteInBatchesOfOne(t *testing.T, s core.Store, name string, del func(core.Tx) (int64, error)) int64 {
	t.Helper()
	var total int64
	for i := 0; ; i++ {
		var n int64
		update(t, s, func(tx core.Tx) error {
			var err error
			n, err = del(tx)
			return err
		})
		if n == 0 {
			return total
		}
		if i == 10 {
			t.Fatalf("%s keeps deleting", name)
		}
		total += n
	}
}
