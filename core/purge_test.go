package core_test

import (
	"testing"
	"time"

	"github.com/profiled/profiled/core"
)

// TestPurgeExpired signs alice in to an application by the real flow and
// deletes, as time passes, the session and access token first, then the
// authorization with its refresh token, leaving her own tokens alone.
func TestPurgeExpired(t *testing.T) {
	e := newEnv(t)
	_, access, _ := appActor(t, e, false)
	db := e.rawDB()
	rows := func(table string) int {
		t.Helper()
		var n int
		noErr(t, db.QueryRowContext(e.ctx, "SELECT count(*) FROM "+table).Scan(&n))
		return n
	}
	tokens, apps, refresh := rows("tokens"), rows("apps"), rows("refresh_tokens")
	if apps != 1 || refresh != 1 {
		t.Fatalf("after the flow: %d apps, %d refresh tokens; want 1 and 1", apps, refresh)
	}

	n, err := e.svc.PurgeExpired(e.ctx)
	noErr(t, err)
	if n != 0 || rows("tokens") != tokens {
		t.Fatalf("PurgeExpired before anything expired deleted %d rows", n)
	}

	// The sign-in's rate-limit counters, whose windows (an hour at most)
	// will have ended.
	// And the flow's authorization code, used and expired by then.
	counters, codes := rows("rate_limits"), rows("oauth_codes")
	e.clock.Advance(core.SessionLifetime + time.Second) // past the session and the access token
	n, err = e.svc.PurgeExpired(e.ctx)
	noErr(t, err)
	if n != int64(2+counters+codes) || rows("tokens") != tokens-2 || rows("apps") != 1 || rows("refresh_tokens") != 1 || rows("rate_limits") != 0 ||
		rows("oauth_codes") != 0 {
		t.Fatalf("PurgeExpired after %s deleted %d rows, left %d tokens, %d apps, %d refresh tokens, %d counters, %d codes; want %d, %d, 1, 1, 0, 0",
			core.SessionLifetime, n, rows("tokens"), rows("apps"), rows("refresh_tokens"), rows("rate_limits"), rows("oauth_codes"), 2+counters+codes, tokens-2)
	}
	if _, err := e.svc.Authenticate(e.ctx, access); err == nil {
		t.Fatal("the expired access token authenticates")
	}

	e.clock.Advance(core.RefreshTokenLifetime)
	n, err = e.svc.PurgeExpired(e.ctx)
	noErr(t, err)
	if n != 2 || rows("apps") != 0 || rows("refresh_tokens") != 0 || rows("tokens") != tokens-2 {
		t.Fatalf("PurgeExpired after the authorization expired deleted %d rows, left %d apps, %d refresh tokens, %d tokens",
			n, rows("apps"), rows("refresh_tokens"), rows("tokens"))
	}
	if rows("tokens") == 0 {
		t.Fatal("alice's token that never expires was deleted")
	}
}

// TestHistoryWindow: logins and account events older than 90 days leave
// the lists and answer 404 at once, as the Linode API shows only the
// last 90 days, and PurgeExpired then deletes them, but each user's
// newest login, which stays their last_login.
func TestHistoryWindow(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice", false)
	bob := e.member(alice, "bob", true)
	signIn := func(name string) {
		t.Helper()
		_, err := e.svc.SignIn(e.ctx, core.SignInRequest{Username: name, Password: "correct horse battery staple", IP: "192.0.2.1"})
		noErr(t, err)
	}
	noErr(t, e.svc.SetPassword(e.ctx, e.userID("alice"), "correct horse battery staple"))
	noErr(t, e.svc.SetPassword(e.ctx, e.userID("bob"), "correct horse battery staple"))
	signIn("alice")
	signIn("bob")
	_, _, err := e.svc.CreateToken(e.ctx, bob, core.TokenCreate{Label: "old"}) // an event, token_create
	noErr(t, err)
	all := core.ListQuery{Page: 1, PageSize: 100}
	oldLogins, err := e.svc.AccountLogins(e.ctx, alice, all)
	noErr(t, err)
	oldEvents, err := e.svc.AccountEvents(e.ctx, alice, all)
	noErr(t, err)
	if oldLogins.Results != 2 || oldEvents.Results == 0 {
		t.Fatalf("before: %d logins, %d events; want 2 and some", oldLogins.Results, oldEvents.Results)
	}

	e.clock.Advance(core.History - time.Hour)
	signIn("alice") // alice's newest; bob's stays his one old login
	e.clock.Advance(2 * time.Hour)
	logins, err := e.svc.AccountLogins(e.ctx, alice, all)
	noErr(t, err)
	events, err := e.svc.AccountEvents(e.ctx, alice, all)
	noErr(t, err)
	mine, err := e.svc.Logins(e.ctx, alice, all)
	noErr(t, err)
	if logins.Results != 1 || mine.Results != 1 || events.Results != 0 {
		t.Fatalf("after 90 days: %d account logins, %d of alice's, %d events; want 1, 1, 0", logins.Results, mine.Results, events.Results)
	}
	_, err = e.svc.AccountLogin(e.ctx, alice, oldLogins.Data[0].ID)
	wantErr(t, err, core.KindNotFound, "")
	_, err = e.svc.Login(e.ctx, alice, oldLogins.Data[0].ID)
	wantErr(t, err, core.KindNotFound, "")
	_, err = e.svc.AccountEvent(e.ctx, alice, oldEvents.Data[0].ID)
	wantErr(t, err, core.KindNotFound, "")

	db := e.rawDB()
	count := func(table string) int {
		t.Helper()
		var n int
		noErr(t, db.QueryRowContext(e.ctx, "SELECT count(*) FROM "+table).Scan(&n))
		return n
	}
	loginsBefore, eventsBefore := count("logins"), count("account_events")
	_, err = e.svc.PurgeExpired(e.ctx)
	noErr(t, err)
	if got := count("logins"); got != loginsBefore-1 {
		t.Errorf("logins after the purge: %d, want %d (alice's old one gone; bob's only one kept)", got, loginsBefore-1)
	}
	if got := count("account_events"); got != eventsBefore-oldEvents.Results {
		t.Errorf("account events after the purge: %d, want %d", got, eventsBefore-oldEvents.Results)
	}
	u, err := e.svc.AccountUser(e.ctx, alice, "bob")
	noErr(t, err)
	if u.Summary.LastLogin == nil {
		t.Error("bob's last_login went with the purge")
	}
}
