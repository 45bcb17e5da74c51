package core_test

import (
	"testing"
	"time"

	"github.com/profiled/profiled/core"
)

func TestLoginsLast90Days(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	b := e.user("bobby", false)
	day := 24 * time.Hour
	ages := map[string]time.Duration{
		"now":        0,
		"hour":       time.Hour,
		"89d":        89 * day,
		"90d":        90 * day, // the edge is in
		"90d+1s":     90*day + time.Second,
		"91d":        91 * day,
		"a year ago": 365 * day,
	}
	ids := map[string]int64{}
	noErr(t, e.store.Update(e.ctx, func(tx core.Tx) error {
		for ip, age := range ages {
			l := core.Login{UserID: a.User.ID, Datetime: start.Add(-age), IP: "192.0.2.1", Username: "alice", Status: core.LoginSuccessful}
			if age > 80*day {
				l.Status = core.LoginFailed
			}
			l.IP = "198.51.100." + ip
			if err := tx.CreateLogin(e.ctx, &l); err != nil {
				return err
			}
			ids[ip] = l.ID
		}
		return tx.CreateLogin(e.ctx, &core.Login{UserID: b.User.ID, Datetime: start, IP: "203.0.113.9", Username: "bobby", Status: core.LoginSuccessful})
	}))

	page, err := e.svc.Logins(e.ctx, a, allRows)
	noErr(t, err)
	seen := map[int64]bool{}
	for _, l := range page.Data {
		seen[l.ID] = true
		if l.UserID != a.User.ID || l.Username != "alice" {
			t.Fatalf("listed login %+v", l)
		}
	}
	for _, k := range []string{"now", "hour", "89d", "90d"} {
		if !seen[ids[k]] {
			t.Errorf("login %s is not listed", k)
		}
	}
	for _, k := range []string{"90d+1s", "91d", "a year ago"} {
		if seen[ids[k]] {
			t.Errorf("login %s is listed", k)
		}
	}
	if page.Results != 4 || len(page.Data) != 4 {
		t.Fatalf("%d results, %d rows; want 4", page.Results, len(page.Data))
	}
	// Time passes: the window moves.
	e.clock.Advance(day) // 89d is now at the edge, still in
	page, err = e.svc.Logins(e.ctx, a, allRows)
	noErr(t, err)
	if page.Results != 3 {
		t.Fatalf("a day later: %d results, want 3", page.Results)
	}

	l, err := e.svc.Login(e.ctx, a, ids["hour"])
	noErr(t, err)
	if l.Status != core.LoginSuccessful || !l.Datetime.Equal(start.Add(-time.Hour)) {
		t.Fatalf("login = %+v", l)
	}
	_, err = e.svc.Login(e.ctx, b, ids["hour"])
	wantErr(t, err, core.KindNotFound, "")
	pb, err := e.svc.Logins(e.ctx, b, allRows)
	noErr(t, err)
	if pb.Results != 1 {
		t.Fatalf("bobby has %d logins", pb.Results)
	}
}

func TestDevicesHideExpired(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	b := e.user("bobby", false)
	live := core.Device{UserID: a.User.ID, Created: start.Add(-time.Hour), Expiry: start.Add(30 * 24 * time.Hour),
		LastAuthenticated: start, LastRemoteAddr: "192.0.2.1", UserAgent: "Firefox"}
	dead := core.Device{UserID: a.User.ID, Created: start.Add(-40 * 24 * time.Hour), Expiry: start,
		LastAuthenticated: start.Add(-39 * 24 * time.Hour), LastRemoteAddr: "192.0.2.2", UserAgent: "Chrome"}
	soon := core.Device{UserID: a.User.ID, Created: start, Expiry: start.Add(time.Hour), LastAuthenticated: start,
		LastRemoteAddr: "192.0.2.3", UserAgent: "curl"}
	noErr(t, e.store.Update(e.ctx, func(tx core.Tx) error {
		for _, d := range []*core.Device{&live, &dead, &soon} {
			if err := tx.CreateDevice(e.ctx, d); err != nil {
				return err
			}
		}
		return nil
	}))
	ids := func() map[int64]bool {
		page, err := e.svc.Devices(e.ctx, a, allRows)
		noErr(t, err)
		out := map[int64]bool{}
		for _, d := range page.Data {
			out[d.ID] = true
		}
		if page.Results != len(page.Data) {
			t.Fatalf("%d results but %d rows", page.Results, len(page.Data))
		}
		return out
	}
	if got := ids(); !got[live.ID] || got[dead.ID] || !got[soon.ID] || len(got) != 2 {
		t.Fatalf("devices listed: %v", got)
	}
	_, err := e.svc.Device(e.ctx, a, dead.ID)
	wantErr(t, err, core.KindNotFound, "")
	d, err := e.svc.Device(e.ctx, a, live.ID)
	noErr(t, err)
	if d.UserAgent != "Firefox" || !d.Expiry.Equal(live.Expiry) {
		t.Fatalf("device = %+v", d)
	}
	e.clock.Advance(time.Hour)
	if got := ids(); !got[live.ID] || got[soon.ID] || len(got) != 1 {
		t.Fatalf("devices an hour later: %v", got)
	}
	_, err = e.svc.Device(e.ctx, b, live.ID)
	wantErr(t, err, core.KindNotFound, "")
	wantErr(t, e.svc.RevokeDevice(e.ctx, b, live.ID), core.KindNotFound, "")
	noErr(t, e.svc.RevokeDevice(e.ctx, a, live.ID))
	_, err = e.svc.Device(e.ctx, a, live.ID)
	wantErr(t, err, core.KindNotFound, "")
	if got := ids(); len(got) != 0 {
		t.Fatalf("devices after revoke: %v", got)
	}
}

func TestRevokeAppKillsItsTokens(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	b := e.user("bobby", false)
	exp := start.Add(24 * time.Hour)
	app := core.App{UserID: a.User.ID, ClientID: "client-x", Label: "Example App", Scopes: "account:read_only",
		Website: "https://example.org", Created: start}
	old := core.App{UserID: a.User.ID, ClientID: "client-old", Label: "Old", Scopes: "account:read_only",
		Website: "https://old.example.org", Created: start.Add(-48 * time.Hour), Expiry: ptr(start.Add(-time.Hour))}
	short := core.App{UserID: a.User.ID, ClientID: "client-short", Label: "Short", Scopes: "*",
		Website: "https://short.example.org", Created: start, Expiry: &exp}
	noErr(t, e.store.Update(e.ctx, func(tx core.Tx) error {
		for _, ap := range []*core.App{&app, &old, &short} {
			if err := tx.CreateApp(e.ctx, ap); err != nil {
				return err
			}
		}
		return nil
	}))
	_, raw1 := e.rawToken(core.Token{UserID: a.User.ID, Kind: core.TokenOAuth, Scopes: app.Scopes, ClientID: app.ClientID, AppID: app.ID})
	_, raw2 := e.rawToken(core.Token{UserID: a.User.ID, Kind: core.TokenOAuth, Scopes: app.Scopes, ClientID: app.ClientID, AppID: app.ID, Expiry: &exp})
	_, rawShort := e.rawToken(core.Token{UserID: a.User.ID, Kind: core.TokenOAuth, Scopes: short.Scopes, ClientID: short.ClientID, AppID: short.ID})
	for _, raw := range []string{raw1, raw2, rawShort} {
		at, err := e.svc.Authenticate(e.ctx, raw)
		noErr(t, err)
		if at.Token.AppID == 0 || at.Token.Kind != core.TokenOAuth {
			t.Fatalf("oauth token = %+v", at.Token)
		}
	}

	page, err := e.svc.Apps(e.ctx, a, allRows)
	noErr(t, err)
	listed := map[int64]bool{}
	for _, ap := range page.Data {
		listed[ap.ID] = true
	}
	if !listed[app.ID] || !listed[short.ID] || listed[old.ID] || page.Results != 2 {
		t.Fatalf("apps listed: %v (%d results)", listed, page.Results)
	}
	_, err = e.svc.App(e.ctx, a, old.ID)
	wantErr(t, err, core.KindNotFound, "")
	got, err := e.svc.App(e.ctx, a, app.ID)
	noErr(t, err)
	if got.ClientID != "client-x" || got.Expiry != nil || got.Label != "Example App" {
		t.Fatalf("app = %+v", got)
	}

	// Bobby can neither see nor revoke it.
	_, err = e.svc.App(e.ctx, b, app.ID)
	wantErr(t, err, core.KindNotFound, "")
	wantErr(t, e.svc.RevokeApp(e.ctx, b, app.ID), core.KindNotFound, "")
	_, err = e.svc.Authenticate(e.ctx, raw1)
	noErr(t, err)

	noErr(t, e.svc.RevokeApp(e.ctx, a, app.ID))
	for _, raw := range []string{raw1, raw2} {
		_, err := e.svc.Authenticate(e.ctx, raw)
		wantErr(t, err, core.KindUnauthorized, "")
	}
	_, err = e.svc.App(e.ctx, a, app.ID)
	wantErr(t, err, core.KindNotFound, "")
	wantErr(t, e.svc.RevokeApp(e.ctx, a, app.ID), core.KindNotFound, "")
	// Other authorizations and personal tokens are untouched.
	_, err = e.svc.Authenticate(e.ctx, rawShort)
	noErr(t, err)
	_, err = e.svc.Profile(e.ctx, a)
	noErr(t, err)
	// The app expires with its expiry.
	e.clock.Advance(24 * time.Hour)
	page, err = e.svc.Apps(e.ctx, a, allRows)
	noErr(t, err)
	if page.Results != 0 {
		t.Fatalf("%d apps after expiry", page.Results)
	}
}
