package sqlite

import (
	"context"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/store/storetest"
)

// migrations is goose's view of s's migrations, for tests that go down and
// up again.
func migrations(t *testing.T, s *Store) *goose.Provider {
	t.Helper()
	files, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, s.write, files, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestMigration91KeepsKeys: 00091 rebuilds ssh_keys without its unique
// fingerprint constraint. A database at 00090 keeps every key and its id,
// and a key added after the migration gets an id above any ever given,
// even one since deleted; the same key may then be stored twice. Going
// down again restores the constraint.
func TestMigration91KeepsKeys(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	p := migrations(t, s)
	if _, err := p.DownTo(ctx, 90); err != nil {
		t.Fatalf("down to 00090: %v", err)
	}
	var err error
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	u := core.User{ID: oldUser(t, s, "alice")}
	var keys []core.SSHKey
	err = s.Update(ctx, func(tx core.Tx) error {
		for _, fp := range []string{"SHA256:a", "SHA256:b", "SHA256:c"} {
			k := core.SSHKey{UserID: u.ID, Label: fp, Key: "ssh-ed25519 AAAA" + fp, Fingerprint: fp, Created: t0}
			if err := tx.CreateSSHKey(ctx, &k); err != nil {
				return err
			}
			keys = append(keys, k)
		}
		// At 00090 a repeated fingerprint is refused.
		dup := core.SSHKey{UserID: u.ID, Label: "dup", Key: keys[0].Key, Fingerprint: keys[0].Fingerprint, Created: t0}
		if err := tx.CreateSSHKey(ctx, &dup); err != core.ErrDuplicate {
			t.Errorf("a repeated key at 00090: %v, want ErrDuplicate", err)
		}
		return tx.DeleteSSHKey(ctx, u.ID, keys[2].ID) // the highest id
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("up from 00090: %v", err)
	}
	got, _, err := s.ListSSHKeys(ctx, u.ID, core.ListQuery{Page: 1, PageSize: 25})
	if err != nil || len(got) != 2 || got[0] != keys[0] || got[1] != keys[1] {
		t.Fatalf("after 00091: %+v, %v; want %+v", got, err, keys[:2])
	}
	again := core.SSHKey{UserID: u.ID, Label: "again", Key: keys[0].Key, Fingerprint: keys[0].Fingerprint, Created: t0}
	if err := s.Update(ctx, func(tx core.Tx) error { return tx.CreateSSHKey(ctx, &again) }); err != nil {
		t.Fatalf("the same key twice after 00091: %v", err)
	}
	if again.ID <= keys[2].ID {
		t.Fatalf("a key added after 00091 has id %d, not above the deleted %d", again.ID, keys[2].ID)
	}
	// Down refuses while a key is held twice, and works once it is not.
	if _, err := p.DownTo(ctx, 90); err == nil {
		t.Fatal("down to 00090 with a key held twice succeeded")
	}
	if err := s.Update(ctx, func(tx core.Tx) error { return tx.DeleteSSHKey(ctx, u.ID, again.ID) }); err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 90); err != nil {
		t.Fatalf("down to 00090: %v", err)
	}
}

// TestMigration93RefusesCaseClashes: a database holding usernames that
// differ only in case is refused by Migrate, naming them, and changes
// nothing; once they are renamed it migrates.
func TestMigration93RefusesCaseClashes(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	p := migrations(t, s)
	if _, err := p.DownTo(ctx, 92); err != nil {
		t.Fatalf("down to 00092: %v", err)
	}
	for _, name := range []string{"carol", "Carol", "dave"} {
		oldUser(t, s, name)
	}
	err := s.Migrate(ctx)
	if err == nil || !strings.Contains(err.Error(), "Carol, carol") || strings.Contains(err.Error(), "dave") {
		t.Fatalf("Migrate with carol and Carol: %v, want a refusal naming them", err)
	}
	if v, _ := s.SchemaVersion(ctx); v != 92 {
		t.Fatalf("a refused migration moved the schema to %d", v)
	}
	if _, err := s.write.ExecContext(ctx, `UPDATE users SET username = 'carol2' WHERE username = 'Carol'`); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate after the rename: %v", err)
	}
}

// oldUser inserts a user as the schemas before accounts (00096) hold
// them, in SQL: the store writes the schema of this binary.
func oldUser(t *testing.T, s *Store, name string) int64 {
	t.Helper()
	var id int64
	err := s.write.QueryRowContext(t.Context(), `INSERT INTO users (username, email, timezone, email_notifications,
		ip_whitelist_enabled, lish_auth_method, authorized_keys, restricted, two_factor_auth,
		authentication_type, verified_phone_number, referral_code, created)
		VALUES (?, ?, 'UTC', 1, 0, 'keys_only', '[]', 0, 0, 'password', '', '', 0) RETURNING id`,
		name, name+"@example.com").Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestMigration96MakesAccounts: each user of a database made before
// accounts owns an account of their own after 00096, with the user's id,
// and their logins belong to it.
func TestMigration96MakesAccounts(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	p := migrations(t, s)
	if _, err := p.DownTo(ctx, 95); err != nil {
		t.Fatalf("down to 00095: %v", err)
	}
	alice, bob := oldUser(t, s, "alice"), oldUser(t, s, "bob")
	if _, err := s.write.ExecContext(ctx, `INSERT INTO logins (user_id, datetime, ip, username, status, restricted)
		VALUES (?, 0, '192.0.2.1', 'bob', 'successful', 0)`, bob); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("up from 00095: %v", err)
	}
	for _, id := range []int64{alice, bob} {
		u, err := s.UserByID(ctx, id)
		if err != nil || u.AccountID != id || u.Disabled {
			t.Fatalf("user %d after 00096: %+v, %v; want the owner of account %d", id, u, err, id)
		}
		if n, err := s.CountOwners(ctx, id); err != nil || n != 1 {
			t.Errorf("owners of account %d: %d, %v; want 1", id, n, err)
		}
	}
	logins, n, err := s.ListAccountLogins(ctx, bob, core.ListQuery{Page: 1, PageSize: 25})
	if err != nil || n != 1 || len(logins) != 1 || logins[0].AccountID != bob {
		t.Errorf("bob's account's logins: %d %+v, %v", n, logins, err)
	}
	// A new user gets a new account, after the migrated ones.
	u := core.User{Username: "carol", AuthorizedKeys: []string{}}
	if err := s.Update(ctx, func(tx core.Tx) error { return tx.CreateUser(ctx, &u) }); err != nil || u.AccountID <= bob {
		t.Errorf("a new user after 00096: account %d, %v", u.AccountID, err)
	}
}

// TestMigration101GivesAccountsAnEmail: an account without a contact
// address takes its oldest user's after 00101; one with an address keeps
// it, and one whose users have none stays without.
func TestMigration101GivesAccountsAnEmail(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	if _, err := migrations(t, s).DownTo(ctx, 100); err != nil {
		t.Fatalf("down to 00100: %v", err)
	}
	storetest.AccountsWithoutEmail(t, s, s.Migrate)
}

// TestMigration102GivesAppsAnExpiry: see storetest.AppsWithoutExpiry.
func TestMigration102GivesAppsAnExpiry(t *testing.T) {
	s := openTest(t)
	down := func(ctx context.Context) error {
		_, err := migrations(t, s).DownTo(ctx, 101)
		return err
	}
	storetest.AppsWithoutExpiry(t, s, down, s.Migrate)
}

// TestMigration107CountsBytes: 00107 rebuilds preferences with bytes, the
// size of each stored value in bytes (not characters), and keeps every
// value; going down keeps them too.
func TestMigration107CountsBytes(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	p := migrations(t, s)
	if _, err := p.DownTo(ctx, 106); err != nil {
		t.Fatalf("down to 00106: %v", err)
	}
	id := oldUser(t, s, "alice")
	const value = `{"name":"Zoë ✓"}` // 16 characters, 19 bytes
	if _, err := s.write.ExecContext(ctx, `INSERT INTO preferences (user_id, client_id, value) VALUES (?, 'app', ?)`, id, value); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up: %v", err)
	}
	var bytes int
	var got string
	if err := s.write.QueryRowContext(ctx, `SELECT bytes, value FROM preferences WHERE user_id = ?`, id).Scan(&bytes, &got); err != nil {
		t.Fatal(err)
	}
	if bytes != len(value) || got != value {
		t.Fatalf("after 00107: bytes %d, value %q; want %d and %q", bytes, got, len(value), value)
	}
	if _, err := p.DownTo(ctx, 106); err != nil {
		t.Fatalf("down to 00106 again: %v", err)
	}
	if err := s.write.QueryRowContext(ctx, `SELECT value FROM preferences WHERE user_id = ?`, id).Scan(&got); err != nil || got != value {
		t.Fatalf("after going down: %q, %v", got, err)
	}
}
