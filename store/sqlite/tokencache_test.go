package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
)

// cachedGeneration reports whether hash is remembered for the database's
// current generation, that is, whether the next TokenByHash of it is
// answered from memory.
func cachedGeneration(t *testing.T, s *Store, hash []byte) bool {
	t.Helper()
	if s.tokens == nil {
		t.Fatal("no token cache: the WAL-index could not be read")
	}
	gen, ok := s.gens.current(t.Context())
	at, _, _, hit := s.tokens.Get(hash)
	return ok && hit && at == gen
}

func newUserToken(t *testing.T, s *Store, name string) (core.User, core.Token) {
	t.Helper()
	ctx := t.Context()
	u := core.User{Username: name, Email: name + "@example.com", AuthorizedKeys: []string{"ssh-ed25519 AAAA " + name}}
	tok := core.Token{Kind: core.TokenPersonal, Label: name, Scopes: "*", Hash: core.HashToken("raw-" + name)}
	if err := s.Update(ctx, func(tx core.Tx) error {
		if err := tx.CreateUser(ctx, &u); err != nil {
			return err
		}
		tok.UserID = u.ID
		return tx.CreateToken(ctx, &tok)
	}); err != nil {
		t.Fatal(err)
	}
	return u, tok
}

// TestTokenCache: a token is answered from memory until a token or a user
// changes, and what is committed shows at the next lookup.
func TestTokenCache(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	u, tok := newUserToken(t, s, "alice")

	if _, _, err := s.TokenByHash(ctx, tok.Hash); err != nil {
		t.Fatal(err)
	}
	if !cachedGeneration(t, s, tok.Hash) {
		t.Fatal("a token just looked up is not remembered")
	}
	_, got, err := s.TokenByHash(ctx, tok.Hash)
	if err != nil || got.Email != "alice@example.com" {
		t.Fatalf("from memory: %+v, %v", got, err)
	}
	// What a caller does to its copy does not reach the next one.
	got.AuthorizedKeys[0] = "changed"
	if _, again, _ := s.TokenByHash(ctx, tok.Hash); again.AuthorizedKeys[0] != "ssh-ed25519 AAAA alice" {
		t.Errorf("a caller's change reached the cache: %q", again.AuthorizedKeys)
	}

	// A commit that changes no token and no user keeps it: a new user
	// and token, an SSH key.
	bob, _ := newUserToken(t, s, "bob")
	if err := s.Update(ctx, func(tx core.Tx) error {
		return tx.CreateSSHKey(ctx, &core.SSHKey{UserID: u.ID, Label: "k", Key: "ssh-ed25519 AAAA k", Fingerprint: "SHA256:k"})
	}); err != nil {
		t.Fatal(err)
	}
	if !cachedGeneration(t, s, tok.Hash) {
		t.Error("forgotten after commits that changed no token and no user")
	}
	// A change of any user ends it, even of someone else.
	bob.Email = "bob@example.net"
	if err := s.Update(ctx, func(tx core.Tx) error { return tx.UpdateUser(ctx, bob) }); err != nil {
		t.Fatal(err)
	}
	if cachedGeneration(t, s, tok.Hash) {
		t.Error("still answered from memory after another user changed")
	}
	s.TokenByHash(ctx, tok.Hash)

	u.Email = "alice@example.net"
	if err := s.Update(ctx, func(tx core.Tx) error { return tx.UpdateUser(ctx, u) }); err != nil {
		t.Fatal(err)
	}
	if _, got, _ := s.TokenByHash(ctx, tok.Hash); got.Email != "alice@example.net" {
		t.Errorf("after an email change: %q", got.Email)
	}
	if err := s.Update(ctx, func(tx core.Tx) error { return tx.DeleteToken(ctx, u.ID, tok.ID) }); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.TokenByHash(ctx, tok.Hash); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("a deleted token: %v, want ErrNotFound", err)
	}
	// An unknown token is not remembered.
	unknown := core.HashToken("unknown")
	s.TokenByHash(ctx, unknown)
	if cachedGeneration(t, s, unknown) {
		t.Error("an unknown token was remembered")
	}
}

// TestTokenCacheSeesAnotherProcess: what another process commits to the
// file (the operator's CLI, another server) shows at the next lookup.
func TestTokenCacheSeesAnotherProcess(t *testing.T) {
	s, path := openFile(t)
	ctx := t.Context()
	_, tok := newUserToken(t, s, "alice")
	warm := func() core.User {
		t.Helper()
		s.TokenByHash(ctx, tok.Hash)
		_, u, err := s.TokenByHash(ctx, tok.Hash)
		if err != nil || !cachedGeneration(t, s, tok.Hash) {
			t.Fatalf("not answered from memory: %v", err)
		}
		return u
	}

	warm()
	inAnotherProcess(t, path, `UPDATE users SET disabled = 1 WHERE username = 'alice'`)
	if _, u, err := s.TokenByHash(ctx, tok.Hash); err != nil || !u.Disabled {
		t.Errorf("after another process disabled the user: disabled %v, %v", u.Disabled, err)
	}
	warm()
	inAnotherProcess(t, path, `DELETE FROM tokens WHERE hash = x'`+hex.EncodeToString(tok.Hash)+`'`)
	if _, _, err := s.TokenByHash(ctx, tok.Hash); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("after another process deleted the token: %v, want ErrNotFound", err)
	}
}

// TestTokenCacheAfterCascade: tokens deleted by a foreign key's ON DELETE
// CASCADE (an authorized app revoked, in this process or another) end
// what the cache remembers too: SQLite fires the tokens' triggers for
// them.
func TestTokenCacheAfterCascade(t *testing.T) {
	s, path := openFile(t)
	ctx := t.Context()
	u, _ := newUserToken(t, s, "alice")
	appToken := func(name string) core.Token {
		t.Helper()
		app := core.App{UserID: u.ID, ClientID: "", Label: name, Scopes: "*", Created: time.Now()}
		tok := core.Token{UserID: u.ID, Kind: core.TokenOAuth, Label: name, Scopes: "*", Hash: core.HashToken("app-" + name)}
		if err := s.Update(ctx, func(tx core.Tx) error {
			if err := tx.CreateApp(ctx, &app); err != nil {
				return err
			}
			tok.AppID = app.ID
			return tx.CreateToken(ctx, &tok)
		}); err != nil {
			t.Fatal(err)
		}
		s.TokenByHash(ctx, tok.Hash)
		if _, _, err := s.TokenByHash(ctx, tok.Hash); err != nil || !cachedGeneration(t, s, tok.Hash) {
			t.Fatalf("%s's token not answered from memory: %v", name, err)
		}
		return tok
	}

	here := appToken("here")
	if err := s.Update(ctx, func(tx core.Tx) error { return tx.DeleteApp(ctx, u.ID, here.AppID) }); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.TokenByHash(ctx, here.Hash); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("the token of a revoked app: %v, want ErrNotFound", err)
	}

	there := appToken("there")
	inAnotherProcess(t, path, fmt.Sprintf("PRAGMA foreign_keys = ON; DELETE FROM apps WHERE id = %d", there.AppID))
	if _, _, err := s.TokenByHash(ctx, there.Hash); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("the token of an app another process revoked: %v, want ErrNotFound", err)
	}
}

// inAnotherProcess runs statement on the database at path from a child
// process (execChild), as the operator's CLI or another program would.
func inAnotherProcess(t *testing.T, path, statement string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PROFILED_SQLITE_EXEC_CHILD="+path, "PROFILED_SQLITE_EXEC_STATEMENT="+statement)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the other process: %v\n%s", err, out)
	}
}

// execChild runs one statement on the database at path through a
// connection of its own, as another program would, and exits.
func execChild(path, statement string) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err == nil {
		_, err = db.ExecContext(context.Background(), statement)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	db.Close()
	os.Exit(0)
}
