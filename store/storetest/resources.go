package storetest

import (
	"testing"

	"github.com/profiled/profiled/core"
)

// all lists everything, for tests that are not about lists.
var all = core.ListQuery{Page: 1, PageSize: core.MaxPageSize}

func testSSHKeys(t *testing.T, s core.Store) {
	ctx := t.Context()
	u := newUser(t, s, "alice")
	k := newSSHKey(t, s, u.ID, "laptop", "SHA256:one")
	if k.ID == 0 {
		t.Fatal("CreateSSHKey left ID zero")
	}
	got, err := s.SSHKey(ctx, u.ID, k.ID)
	noErr(t, "SSHKey", err)
	equal(t, "SSHKey", got, k)

	// The same key may be stored twice, as the real API allows: each copy
	// has its own id.
	dup := newSSHKey(t, s, u.ID, "again", "SHA256:one")
	if dup.ID == k.ID {
		t.Fatalf("the second copy of a key has the id of the first, %d", k.ID)
	}
	got, err = s.SSHKey(ctx, u.ID, dup.ID)
	noErr(t, "SSHKey of the copy", err)
	equal(t, "SSHKey of the copy", got, dup)
	update(t, s, func(tx core.Tx) error { return tx.DeleteSSHKey(ctx, u.ID, dup.ID) })

	// Another user may store the same key.
	b := newUser(t, s, "bob")
	newSSHKey(t, s, b.ID, "same key", "SHA256:one")

	var renamed core.SSHKey
	update(t, s, func(tx core.Tx) error {
		var err error
		renamed, err = tx.UpdateSSHKeyLabel(ctx, u.ID, k.ID, "desktop")
		return err
	})
	got, err = s.SSHKey(ctx, u.ID, k.ID)
	noErr(t, "SSHKey", err)
	k.Label = "desktop"
	equal(t, "SSHKey after UpdateSSHKeyLabel", got, k)
	equal(t, "UpdateSSHKeyLabel's key", renamed, k)

	update(t, s, func(tx core.Tx) error { return tx.DeleteSSHKey(ctx, u.ID, k.ID) })
	_, err = s.SSHKey(ctx, u.ID, k.ID)
	wantErr(t, "SSHKey after DeleteSSHKey", err, core.ErrNotFound)
	wantErr(t, "DeleteSSHKey twice", updateErr(t, s, func(tx core.Tx) error { return tx.DeleteSSHKey(ctx, u.ID, k.ID) }), core.ErrNotFound)
	wantErr(t, "UpdateSSHKeyLabel of a deleted key", updateErr(t, s, func(tx core.Tx) error { _, err := tx.UpdateSSHKeyLabel(ctx, u.ID, k.ID, "x"); return err }), core.ErrNotFound)

}

func testSSHKeyScoping(t *testing.T, s core.Store) {
	ctx := t.Context()
	a, b := newUser(t, s, "alice"), newUser(t, s, "bob")
	k := newSSHKey(t, s, a.ID, "laptop", "SHA256:one")

	_, err := s.SSHKey(ctx, b.ID, k.ID)
	wantErr(t, "SSHKey of another user's key", err, core.ErrNotFound)
	wantErr(t, "UpdateSSHKeyLabel of another user's key", updateErr(t, s, func(tx core.Tx) error { _, err := tx.UpdateSSHKeyLabel(ctx, b.ID, k.ID, "mine"); return err }), core.ErrNotFound)
	wantErr(t, "DeleteSSHKey of another user's key", updateErr(t, s, func(tx core.Tx) error { return tx.DeleteSSHKey(ctx, b.ID, k.ID) }), core.ErrNotFound)
	keys, total, err := s.ListSSHKeys(ctx, b.ID, all)
	noErr(t, "ListSSHKeys", err)
	equal(t, "another user's ListSSHKeys total", total, 0)
	equal(t, "another user's ListSSHKeys", len(keys), 0)

	got, err := s.SSHKey(ctx, a.ID, k.ID)
	noErr(t, "SSHKey", err)
	equal(t, "the owner's key, untouched", got, k)
}

func testTokens(t *testing.T, s core.Store) {
	ctx := t.Context()
	u := newUser(t, s, "alice")
	forever := newToken(t, s, core.Token{UserID: u.ID, Label: "cli", Scopes: "account:read_only linodes:read_write"})
	expiring := newToken(t, s, core.Token{UserID: u.ID, Kind: core.TokenSession, Label: "session", Expiry: ptr(at(60)),
		AuthMethods: core.AuthPasswordAndOneTime})
	if forever.ID == expiring.ID {
		t.Fatal("two tokens share an id")
	}
	got, err := s.Token(ctx, u.ID, forever.ID)
	noErr(t, "Token", err)
	equal(t, "Token without expiry", got, forever)
	got, err = s.Token(ctx, u.ID, expiring.ID)
	noErr(t, "Token", err)
	equal(t, "Token with expiry", got, expiring)

	dup := core.Token{UserID: u.ID, Kind: core.TokenPersonal, Label: "dup", Scopes: core.AllScopes, Hash: forever.Hash, Created: t0}
	wantErr(t, "CreateToken with a stored hash", updateErr(t, s, func(tx core.Tx) error { return tx.CreateToken(ctx, &dup) }), core.ErrDuplicate)

	update(t, s, func(tx core.Tx) error { return tx.UpdateTokenLabel(ctx, u.ID, forever.ID, "renamed") })
	got, err = s.Token(ctx, u.ID, forever.ID)
	noErr(t, "Token", err)
	forever.Label = "renamed"
	equal(t, "Token after UpdateTokenLabel", got, forever)

	update(t, s, func(tx core.Tx) error { return tx.DeleteToken(ctx, u.ID, forever.ID) })
	_, err = s.Token(ctx, u.ID, forever.ID)
	wantErr(t, "Token after DeleteToken", err, core.ErrNotFound)
	_, _, err = s.TokenByHash(ctx, forever.Hash)
	wantErr(t, "TokenByHash after DeleteToken", err, core.ErrNotFound)
	wantErr(t, "DeleteToken twice", updateErr(t, s, func(tx core.Tx) error { return tx.DeleteToken(ctx, u.ID, forever.ID) }), core.ErrNotFound)
	wantErr(t, "UpdateTokenLabel of a deleted token", updateErr(t, s, func(tx core.Tx) error { return tx.UpdateTokenLabel(ctx, u.ID, forever.ID, "x") }), core.ErrNotFound)

	got, err = s.Token(ctx, u.ID, expiring.ID)
	noErr(t, "Token", err)
	equal(t, "the other token, untouched", got, expiring)

	update(t, s, func(tx core.Tx) error { return tx.SetSessionAuthMethods(ctx, u.ID, expiring.ID, core.AuthPassword) })
	tok, _, err := s.TokenByHash(ctx, expiring.Hash)
	noErr(t, "TokenByHash", err)
	expiring.AuthMethods = core.AuthPassword
	equal(t, "a session after SetSessionAuthMethods", tok, expiring)
	personal := newToken(t, s, core.Token{UserID: u.ID, Label: "cli"})
	wantErr(t, "SetSessionAuthMethods of a personal token",
		updateErr(t, s, func(tx core.Tx) error { return tx.SetSessionAuthMethods(ctx, u.ID, personal.ID, core.AuthPassword) }), core.ErrNotFound)
	wantErr(t, "SetSessionAuthMethods of another user's session",
		updateErr(t, s, func(tx core.Tx) error { return tx.SetSessionAuthMethods(ctx, u.ID+1, expiring.ID, core.AuthPassword) }), core.ErrNotFound)
}

func testTokenScoping(t *testing.T, s core.Store) {
	ctx := t.Context()
	a, b := newUser(t, s, "alice"), newUser(t, s, "bob")
	tok := newToken(t, s, core.Token{UserID: a.ID, Label: "cli"})
	_, err := s.Token(ctx, b.ID, tok.ID)
	wantErr(t, "Token of another user's token", err, core.ErrNotFound)
	wantErr(t, "UpdateTokenLabel of another user's token", updateErr(t, s, func(tx core.Tx) error { return tx.UpdateTokenLabel(ctx, b.ID, tok.ID, "mine") }), core.ErrNotFound)
	wantErr(t, "DeleteToken of another user's token", updateErr(t, s, func(tx core.Tx) error { return tx.DeleteToken(ctx, b.ID, tok.ID) }), core.ErrNotFound)
	got, err := s.Token(ctx, a.ID, tok.ID)
	noErr(t, "Token", err)
	equal(t, "the owner's token, untouched", got, tok)
}

func testTokenByHash(t *testing.T, s core.Store) {
	ctx := t.Context()
	a, b := newUser(t, s, "alice"), newUser(t, s, "bob")
	app := newApp(t, s, core.App{UserID: b.ID, ClientID: "client-1", Label: "app", Resource: "https://mcp.example/"})
	ta := newToken(t, s, core.Token{UserID: a.ID, Label: "cli", Expiry: ptr(at(5))})
	tb := newToken(t, s, core.Token{UserID: b.ID, Kind: core.TokenOAuth, Label: "oauth", ClientID: "client-1", AppID: app.ID,
		Resource: "https://mcp.example/"})

	tok, u, err := s.TokenByHash(ctx, ta.Hash)
	noErr(t, "TokenByHash", err)
	equal(t, "TokenByHash token", tok, ta)
	equal(t, "TokenByHash user", u, a)
	tok, u, err = s.TokenByHash(ctx, tb.Hash)
	noErr(t, "TokenByHash", err)
	equal(t, "TokenByHash OAuth token", tok, tb)
	equal(t, "TokenByHash OAuth user", u, b)

	_, _, err = s.TokenByHash(ctx, tokenHash(a.ID, "unknown"))
	wantErr(t, "TokenByHash of an unknown hash", err, core.ErrNotFound)
	_, _, err = s.TokenByHash(ctx, nil)
	wantErr(t, "TokenByHash(nil)", err, core.ErrNotFound)

	// Inside a transaction too.
	update(t, s, func(tx core.Tx) error {
		tok, u, err := tx.TokenByHash(ctx, ta.Hash)
		noErr(t, "tx.TokenByHash", err)
		equal(t, "tx.TokenByHash token", tok, ta)
		equal(t, "tx.TokenByHash user", u, a)
		return nil
	})
}

func testApps(t *testing.T, s core.Store) {
	ctx := t.Context()
	a, b := newUser(t, s, "alice"), newUser(t, s, "bob")
	forever := newApp(t, s, core.App{UserID: a.ID, ClientID: "c1", Label: "Forever", Website: "https://example.com", ThumbnailURL: "https://example.com/t.png"})
	expiring := newApp(t, s, core.App{UserID: a.ID, ClientID: "c2", Label: "Expiring", Scopes: core.AllScopes, Expiry: ptr(at(60)),
		Resource: "https://api.example/v1"})

	got, err := s.App(ctx, a.ID, forever.ID)
	noErr(t, "App", err)
	equal(t, "App without expiry", got, forever)
	got, err = s.App(ctx, a.ID, expiring.ID)
	noErr(t, "App", err)
	equal(t, "App with expiry", got, expiring)

	// ExtendApp moves the expiry of the user's app, and of no other user's.
	update(t, s, func(tx core.Tx) error { return tx.ExtendApp(ctx, a.ID, expiring.ID, at(120)) })
	update(t, s, func(tx core.Tx) error { return tx.ExtendApp(ctx, b.ID, forever.ID, at(120)) })
	expiring.Expiry = ptr(at(120))
	got, err = s.App(ctx, a.ID, expiring.ID)
	noErr(t, "App after ExtendApp", err)
	equal(t, "App after ExtendApp", got, expiring)
	got, err = s.App(ctx, a.ID, forever.ID)
	noErr(t, "App after another user's ExtendApp", err)
	equal(t, "App after another user's ExtendApp", got, forever)

	_, err = s.App(ctx, b.ID, forever.ID)
	wantErr(t, "App of another user's app", err, core.ErrNotFound)
	wantErr(t, "DeleteApp of another user's app", updateErr(t, s, func(tx core.Tx) error { return tx.DeleteApp(ctx, b.ID, forever.ID) }), core.ErrNotFound)
	_, err = s.App(ctx, a.ID, forever.ID)
	noErr(t, "App after another user's DeleteApp", err)

	update(t, s, func(tx core.Tx) error { return tx.DeleteApp(ctx, a.ID, forever.ID) })
	_, err = s.App(ctx, a.ID, forever.ID)
	wantErr(t, "App after DeleteApp", err, core.ErrNotFound)
	wantErr(t, "DeleteApp twice", updateErr(t, s, func(tx core.Tx) error { return tx.DeleteApp(ctx, a.ID, forever.ID) }), core.ErrNotFound)
	apps, total, err := s.ListApps(ctx, a.ID, all)
	noErr(t, "ListApps", err)
	equal(t, "ListApps total", total, 1)
	equal(t, "ListApps", apps, []core.App{expiring})
}

func testDeleteAppTokens(t *testing.T, s core.Store) {
	ctx := t.Context()
	a, b := newUser(t, s, "alice"), newUser(t, s, "bob")
	app := newApp(t, s, core.App{UserID: a.ID, ClientID: "c1", Label: "app"})
	other := newApp(t, s, core.App{UserID: a.ID, ClientID: "c2", Label: "other"})
	t1 := newToken(t, s, core.Token{UserID: a.ID, Kind: core.TokenOAuth, Label: "t1", ClientID: "c1", AppID: app.ID})
	t2 := newToken(t, s, core.Token{UserID: a.ID, Kind: core.TokenOAuth, Label: "t2", ClientID: "c1", AppID: app.ID, Expiry: ptr(at(60))})
	keep1 := newToken(t, s, core.Token{UserID: a.ID, Kind: core.TokenOAuth, Label: "keep1", ClientID: "c2", AppID: other.ID})
	keep2 := newToken(t, s, core.Token{UserID: a.ID, Label: "personal"})
	keep3 := newToken(t, s, core.Token{UserID: b.ID, Label: "bob's"})

	wantErr(t, "another user's DeleteApp", updateErr(t, s, func(tx core.Tx) error { return tx.DeleteApp(ctx, b.ID, app.ID) }), core.ErrNotFound)
	_, _, err := s.TokenByHash(ctx, t1.Hash)
	noErr(t, "TokenByHash after another user's DeleteApp", err)

	update(t, s, func(tx core.Tx) error { return tx.DeleteApp(ctx, a.ID, app.ID) })
	for _, gone := range []core.Token{t1, t2} {
		_, _, err := s.TokenByHash(ctx, gone.Hash)
		wantErr(t, "TokenByHash of "+gone.Label+" after DeleteApp", err, core.ErrNotFound)
		_, err = s.Token(ctx, a.ID, gone.ID)
		wantErr(t, "Token "+gone.Label+" after DeleteApp", err, core.ErrNotFound)
	}
	for _, kept := range []core.Token{keep1, keep2, keep3} {
		got, err := s.Token(ctx, kept.UserID, kept.ID)
		noErr(t, "Token "+kept.Label+" after DeleteApp", err)
		equal(t, "token "+kept.Label+" after DeleteApp", got, kept)
	}
}

// testTokenAppOfAnotherUser checks that a token cannot be tied to an
// authorization its user does not have.
func testTokenAppOfAnotherUser(t *testing.T, s core.Store) {
	ctx := t.Context()
	a, b := newUser(t, s, "alice"), newUser(t, s, "bob")
	app := newApp(t, s, core.App{UserID: a.ID, ClientID: "c1", Label: "app"})
	tok := core.Token{UserID: b.ID, Kind: core.TokenOAuth, Label: "t", Scopes: core.AllScopes, Hash: tokenHash(b.ID, "t"), ClientID: "c1", AppID: app.ID, Created: t0}
	wantErr(t, "CreateToken under another user's app", updateErr(t, s, func(tx core.Tx) error { return tx.CreateToken(ctx, &tok) }), core.ErrNotFound)
	tok.AppID = app.ID + 1000
	wantErr(t, "CreateToken under a missing app", updateErr(t, s, func(tx core.Tx) error { return tx.CreateToken(ctx, &tok) }), core.ErrNotFound)
}

func testDevices(t *testing.T, s core.Store) {
	ctx := t.Context()
	a, b := newUser(t, s, "alice"), newUser(t, s, "bob")
	d := core.Device{UserID: a.ID, Created: t0, Expiry: at(60 * 24 * 30), LastAuthenticated: at(5), LastRemoteAddr: "192.0.2.1", UserAgent: "Firefox"}
	update(t, s, func(tx core.Tx) error { return tx.CreateDevice(ctx, &d) })
	if d.ID == 0 {
		t.Fatal("CreateDevice left ID zero")
	}
	got, err := s.Device(ctx, a.ID, d.ID)
	noErr(t, "Device", err)
	equal(t, "Device", got, d)

	_, err = s.Device(ctx, b.ID, d.ID)
	wantErr(t, "Device of another user's device", err, core.ErrNotFound)
	wantErr(t, "DeleteDevice of another user's device", updateErr(t, s, func(tx core.Tx) error { return tx.DeleteDevice(ctx, b.ID, d.ID) }), core.ErrNotFound)

	update(t, s, func(tx core.Tx) error { return tx.DeleteDevice(ctx, a.ID, d.ID) })
	_, err = s.Device(ctx, a.ID, d.ID)
	wantErr(t, "Device after DeleteDevice", err, core.ErrNotFound)
	wantErr(t, "DeleteDevice twice", updateErr(t, s, func(tx core.Tx) error { return tx.DeleteDevice(ctx, a.ID, d.ID) }), core.ErrNotFound)
}

func testLogins(t *testing.T, s core.Store) {
	ctx := t.Context()
	a, b := newUser(t, s, "alice"), newUser(t, s, "bob")
	ok := core.Login{UserID: a.ID, Datetime: t0, IP: "192.0.2.1", Username: "alice", Status: core.LoginSuccessful, Restricted: false}
	failed := core.Login{UserID: a.ID, Datetime: at(1), IP: "2001:db8::1", Username: "alice", Status: core.LoginFailed, Restricted: true}
	update(t, s, func(tx core.Tx) error {
		if err := tx.CreateLogin(ctx, &ok); err != nil {
			return err
		}
		return tx.CreateLogin(ctx, &failed)
	})
	if ok.ID == 0 || failed.ID == 0 || ok.ID == failed.ID {
		t.Fatalf("CreateLogin ids: %d, %d", ok.ID, failed.ID)
	}
	got, err := s.Login(ctx, a.ID, failed.ID)
	noErr(t, "Login", err)
	equal(t, "Login", got, failed)
	_, err = s.Login(ctx, b.ID, failed.ID)
	wantErr(t, "Login of another user's login", err, core.ErrNotFound)
	list, total, err := s.ListLogins(ctx, a.ID, all)
	noErr(t, "ListLogins", err)
	equal(t, "ListLogins total", total, 2)
	equal(t, "ListLogins", list, []core.Login{ok, failed})
}
