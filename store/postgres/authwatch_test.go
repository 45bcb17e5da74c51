package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/profiled/profiled/core"
)

// openWatched opens a second store on dsn, as another replica would, with
// its token watch on.
func openWatched(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.WatchTokens(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func remembered(s *Store, hash []byte) bool {
	_, _, _, hit := s.auth.cache.Get(hash)
	return hit
}

// TestTokenWatch: replica b answers tokens from memory, and refuses one at
// its very next lookup after replica a, or any other session, acknowledged
// a change: a revocation, a disabled user, many times in a row so that a
// notification still on its way would show.
func TestTokenWatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, _ := openTest(t, Options{})
	dsn := a.pool.Config().ConnString()
	b := openWatched(t, dsn)
	if err := a.WatchTokens(ctx); err != nil {
		t.Fatal(err)
	}
	u := newUser(t, a, "alice")

	for i := range 200 {
		tok := core.Token{UserID: u.ID, Kind: core.TokenPersonal, Label: fmt.Sprint(i), Scopes: "*",
			Created: time.Now(), Hash: core.HashToken(fmt.Sprint("raw-", i))}
		if err := a.Update(ctx, func(tx core.Tx) error { return tx.CreateToken(ctx, &tok) }); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, _, err := b.TokenByHash(ctx, tok.Hash); err != nil {
				t.Fatalf("round %d: %v", i, err)
			}
		}
		if !remembered(b, tok.Hash) {
			t.Fatalf("round %d: a token looked up is not remembered", i)
		}
		if err := a.Update(ctx, func(tx core.Tx) error { return tx.DeleteToken(ctx, u.ID, tok.ID) }); err != nil {
			t.Fatal(err)
		}
		if _, _, err := b.TokenByHash(ctx, tok.Hash); !errors.Is(err, core.ErrNotFound) {
			t.Fatalf("round %d: revoked on a, looked up on b at once: %v, want ErrNotFound", i, err)
		}
	}

	// Another session's hand-typed UPDATE (the CLI, an operator).
	tok := core.Token{UserID: u.ID, Kind: core.TokenPersonal, Label: "kept", Scopes: "*", Created: time.Now(), Hash: core.HashToken("raw-kept")}
	if err := a.Update(ctx, func(tx core.Tx) error { return tx.CreateToken(ctx, &tok) }); err != nil {
		t.Fatal(err)
	}
	b.TokenByHash(ctx, tok.Hash)
	other, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	for i, disabled := range []bool{true, false, true} {
		if _, err := other.Exec(ctx, `UPDATE users SET disabled = $1 WHERE id = $2`, disabled, u.ID); err != nil {
			t.Fatal(err)
		}
		if _, got, err := b.TokenByHash(ctx, tok.Hash); err != nil || got.Disabled != disabled {
			t.Fatalf("step %d: disabled by another session: %v, %v; want %v", i, got.Disabled, err, disabled)
		}
	}

	// The watcher's connection dies: lookups go to the database, then the
	// watch reconnects and memory serves again.
	if _, err := other.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, authWatchApplication); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Exec(ctx, `UPDATE users SET disabled = false WHERE id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, got, err := b.TokenByHash(ctx, tok.Hash); err != nil || got.Disabled {
		t.Fatalf("while the watch reconnects: disabled %v, %v", got.Disabled, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		b.TokenByHash(ctx, tok.Hash)
		at, _, _, hit := b.auth.cache.Get(tok.Hash)
		if gen, err := b.auth.fence(ctx); err == nil && hit && gen == at {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the watch did not come back")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := other.Exec(ctx, `DELETE FROM tokens WHERE id = $1`, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.TokenByHash(ctx, tok.Hash); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("deleted after the reconnection: %v, want ErrNotFound", err)
	}
}
