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

	e.clock.Advance(core.SessionLifetime + time.Second) // past the session and the access token
	n, err = e.svc.PurgeExpired(e.ctx)
	noErr(t, err)
	if n != 2 || rows("tokens") != tokens-2 || rows("apps") != 1 || rows("refresh_tokens") != 1 {
		t.Fatalf("PurgeExpired after %s deleted %d rows, left %d tokens, %d apps, %d refresh tokens; want 2, %d, 1, 1",
			core.SessionLifetime, n, rows("tokens"), rows("apps"), rows("refresh_tokens"), tokens-2)
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
