package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
)

// testUpdateRollsBack checks that an error from fn undoes everything fn did
// and reaches the caller unchanged.
func testUpdateRollsBack(t *testing.T, s core.Store) {
	ctx := t.Context()
	a := newUser(t, s, "alice")
	refusal := core.Invalid("label", "no")
	err := s.Update(ctx, func(tx core.Tx) error {
		u := core.User{Username: "bob", Created: t0}
		if err := tx.CreateUser(ctx, &u); err != nil {
			return err
		}
		k := core.SSHKey{UserID: a.ID, Label: "k", Key: "k", Fingerprint: "f", Created: t0}
		if err := tx.CreateSSHKey(ctx, &k); err != nil {
			return err
		}
		changed := a
		changed.Email = "changed@example.com"
		if err := tx.UpdateUser(ctx, changed); err != nil {
			return err
		}
		if err := tx.PutPreferences(ctx, a.ID, "c", []byte(`{}`)); err != nil {
			return err
		}
		if _, _, err := tx.HitLimit(ctx, "k", time.Minute, t0); err != nil {
			return err
		}
		return refusal
	})
	var got *core.Error
	if !errors.As(err, &got) || got != refusal {
		t.Fatalf("Update returned %v, want fn's *core.Error itself", err)
	}

	_, err = s.UserByUsername(ctx, "bob")
	wantErr(t, "user created in a rolled-back Update", err, core.ErrNotFound)
	n, err := s.CountUsers(ctx)
	noErr(t, "CountUsers", err)
	equal(t, "CountUsers after rollback", n, 1)
	equal(t, "keys created in a rolled-back Update", sshKeyCount(t, s, a.ID), 0)
	u, err := s.UserByID(ctx, a.ID)
	noErr(t, "UserByID", err)
	equal(t, "user updated in a rolled-back Update", u, a)
	_, err = s.Preferences(ctx, a.ID, "c")
	wantErr(t, "preferences put in a rolled-back Update", err, core.ErrNotFound)
	if count, _ := hit(t, s, "k", time.Minute, t0); count != 1 {
		t.Errorf("limit hit in a rolled-back Update was kept: count %d", count)
	}

	// A plain error also comes back unchanged.
	sentinel := errors.New("sentinel")
	if err := s.Update(ctx, func(core.Tx) error { return sentinel }); err != sentinel {
		t.Errorf("Update returned %v, want fn's error itself", err)
	}
}

// sshKeyCount is how many SSH keys the user has, committed.
func sshKeyCount(t *testing.T, s core.Store, userID int64) int {
	t.Helper()
	keys, _, err := s.ListSSHKeys(t.Context(), userID, all)
	noErr(t, "ListSSHKeys", err)
	return len(keys)
}

// testFailedWriteFailsAlone checks that a write refused by a constraint
// fails alone wherever it comes in a transaction: as its first statement
// (which PostgreSQL's store sends with BEGIN, and undoes by starting over)
// and after others (under a savepoint), again and again.
func testFailedWriteFailsAlone(t *testing.T, s core.Store) {
	ctx := t.Context()
	a := newUser(t, s, "alice")
	// A token of a missing user: refused by the foreign key, at once. (Not
	// an SSH key: a store may hold that insert back to its commit.)
	orphanToken := func(tx core.Tx) error {
		tok := core.Token{UserID: a.ID + 1000, Kind: core.TokenPersonal, Label: "t", Scopes: core.AllScopes,
			Created: t0, Hash: tokenHash(a.ID+1000, "t"), Prefix: "p"}
		return tx.CreateToken(ctx, &tok)
	}
	var bob core.User
	update(t, s, func(tx core.Tx) error {
		for range 2 {
			wantErr(t, "a refused first statement", orphanToken(tx), core.ErrNotFound)
		}
		bob = core.User{Username: "bob", Created: t0}
		if err := tx.CreateUser(ctx, &bob); err != nil {
			return err
		}
		dup := core.User{Username: "alice", Created: t0}
		wantErr(t, "a duplicate after a write", tx.CreateUser(ctx, &dup), core.ErrDuplicate)
		wantErr(t, "a refused token after a write", orphanToken(tx), core.ErrNotFound)
		k := core.SSHKey{UserID: bob.ID, Label: "k", Key: "k", Fingerprint: "f", Created: t0}
		return tx.CreateSSHKey(ctx, &k)
	})
	n, err := s.CountUsers(ctx)
	noErr(t, "CountUsers", err)
	equal(t, "users after the refused writes", n, 2)
	equal(t, "bob's keys", sshKeyCount(t, s, bob.ID), 1)

	// The same with preferences, which PostgreSQL's store writes its own way.
	update(t, s, func(tx core.Tx) error {
		wantErr(t, "preferences of a missing user first", tx.PutPreferences(ctx, a.ID+1000, "c", []byte(`{}`)), core.ErrNotFound)
		return tx.PutPreferences(ctx, a.ID, "c", []byte(`{"kept":true}`))
	})
	got, err := s.Preferences(ctx, a.ID, "c")
	noErr(t, "Preferences", err)
	equal(t, "preferences put after a refused first statement", string(got), `{"kept":true}`)

	// What follows a refused first statement is still one transaction.
	refusal := errors.New("refused")
	err = s.Update(ctx, func(tx core.Tx) error {
		wantErr(t, "a refused first statement", orphanToken(tx), core.ErrNotFound)
		carol := core.User{Username: "carol", Created: t0}
		if err := tx.CreateUser(ctx, &carol); err != nil {
			return err
		}
		return refusal
	})
	if err != refusal {
		t.Fatalf("Update returned %v, want fn's error", err)
	}
	_, err = s.UserByUsername(ctx, "carol")
	wantErr(t, "a user created after a refused first statement, rolled back", err, core.ErrNotFound)

	// A read that locks (LockUser), then a refused write: the lock and the
	// transaction stay.
	update(t, s, func(tx core.Tx) error {
		if _, err := tx.LockUser(ctx, a.ID); err != nil {
			return err
		}
		wantErr(t, "a refused token after a lock", orphanToken(tx), core.ErrNotFound)
		k := core.SSHKey{UserID: a.ID, Label: "k", Key: "k", Fingerprint: "f", Created: t0}
		return tx.CreateSSHKey(ctx, &k)
	})
	equal(t, "alice's keys", sshKeyCount(t, s, a.ID), 1)
}

// testHeldBackWrites checks the writes a store may send with the
// transaction's next statement or its commit (an account's event): the
// transaction reads them, they commit with it, and one that fails fails
// the whole Update, leaving nothing of it.
func testHeldBackWrites(t *testing.T, s core.Store) {
	ctx := t.Context()
	a := newUser(t, s, "alice")
	event := func(accountID int64, label string) core.AccountEvent {
		return core.AccountEvent{AccountID: accountID, UserID: a.ID, Username: a.Username, Action: "token_create",
			EntityType: "token", EntityID: a.ID, EntityLabel: label, Created: t0}
	}
	update(t, s, func(tx core.Tx) error {
		if err := tx.CreateAccountEvent(ctx, event(a.AccountID, "first")); err != nil {
			return err
		}
		events, n, err := tx.ListAccountEvents(ctx, a.AccountID, all)
		noErr(t, "tx.ListAccountEvents", err)
		if n != 1 || events[0].EntityLabel != "first" {
			t.Errorf("the transaction's own event: %d %+v", n, events)
		}
		return tx.CreateAccountEvent(ctx, event(a.AccountID, "second"))
	})
	events, n, err := s.ListAccountEvents(ctx, a.AccountID, all)
	noErr(t, "ListAccountEvents", err)
	if n != 2 || events[1].EntityLabel != "second" {
		t.Fatalf("events committed: %d %+v", n, events)
	}

	// An event of a missing account, last, as the core writes them.
	err = s.Update(ctx, func(tx core.Tx) error {
		k := core.SSHKey{UserID: a.ID, Label: "k", Key: "k", Fingerprint: "f", Created: t0}
		if err := tx.CreateSSHKey(ctx, &k); err != nil {
			return err
		}
		return tx.CreateAccountEvent(ctx, event(a.AccountID+1000, "lost"))
	})
	wantErr(t, "Update with an event of a missing account", err, core.ErrNotFound)
	equal(t, "keys of the failed Update", sshKeyCount(t, s, a.ID), 0)
	_, n, err = s.ListAccountEvents(ctx, a.AccountID, all)
	noErr(t, "ListAccountEvents", err)
	equal(t, "events after the failed Update", n, 2)
}

// testHeldBackIDs checks the inserts whose ids a store may learn only at
// commit (CreateSSHKey): each id is set by the time Update returns, to its
// own row's, whatever runs between them; a read in the transaction sees
// the row; a recovered failure after it keeps it; and one for a user who
// is not there fails the whole Update.
func testHeldBackIDs(t *testing.T, s core.Store) {
	ctx := t.Context()
	a := newUser(t, s, "alice")
	b := newUser(t, s, "bob")
	key := func(userID int64, label string) core.SSHKey {
		return core.SSHKey{UserID: userID, Label: label, Key: "ssh-ed25519 AAAA" + label, Fingerprint: "fp-" + label, Created: t0}
	}
	k1, k2, k3 := key(a.ID, "one"), key(b.ID, "two"), key(a.ID, "three")
	update(t, s, func(tx core.Tx) error {
		if err := tx.CreateSSHKey(ctx, &k1); err != nil {
			return err
		}
		if err := tx.CreateSSHKey(ctx, &k2); err != nil {
			return err
		}
		// A read in the same transaction sees both keys.
		_, n, err := tx.ListSSHKeys(ctx, a.ID, all)
		noErr(t, "tx.ListSSHKeys", err)
		equal(t, "the transaction's own keys", n, 1)
		// A failure fn recovers from leaves the keys before it.
		dup := core.User{Username: "alice", Created: t0}
		wantErr(t, "a duplicate user after the keys", tx.CreateUser(ctx, &dup), core.ErrDuplicate)
		return tx.CreateSSHKey(ctx, &k3)
	})
	ids := map[int64]bool{}
	for _, k := range []core.SSHKey{k1, k2, k3} {
		if k.ID == 0 || ids[k.ID] {
			t.Fatalf("ids after Update: %d, %d, %d", k1.ID, k2.ID, k3.ID)
		}
		ids[k.ID] = true
		got, err := s.SSHKey(ctx, k.UserID, k.ID)
		noErr(t, "SSHKey "+k.Label, err)
		equal(t, "key "+k.Label, got, k)
	}

	// A key for a user who is not there, after one for a user who is.
	err := s.Update(ctx, func(tx core.Tx) error {
		ok, lost := key(a.ID, "kept?"), key(b.ID+1000, "lost")
		if err := tx.CreateSSHKey(ctx, &ok); err != nil {
			return err
		}
		return tx.CreateSSHKey(ctx, &lost)
	})
	wantErr(t, "Update with a key of a missing user", err, core.ErrNotFound)
	equal(t, "alice's keys after the failed Update", sshKeyCount(t, s, a.ID), 2)
}

// testUpdateRollsBackStoreError checks that a store error inside fn, once
// returned, also undoes what came before it.
func testUpdateRollsBackStoreError(t *testing.T, s core.Store) {
	ctx := t.Context()
	newUser(t, s, "alice")
	err := s.Update(ctx, func(tx core.Tx) error {
		u := core.User{Username: "bob", Created: t0}
		if err := tx.CreateUser(ctx, &u); err != nil {
			return err
		}
		dup := core.User{Username: "alice", Created: t0}
		return tx.CreateUser(ctx, &dup)
	})
	wantErr(t, "Update creating a duplicate", err, core.ErrDuplicate)
	_, err = s.UserByUsername(ctx, "bob")
	wantErr(t, "user created before the duplicate", err, core.ErrNotFound)

	// The store is usable afterwards, and a handled store error inside fn
	// does not spoil the transaction.
	update(t, s, func(tx core.Tx) error {
		if _, err := tx.UserByID(ctx, 12345); !errors.Is(err, core.ErrNotFound) {
			return fmt.Errorf("UserByID of a missing user: %v", err)
		}
		u := core.User{Username: "carol", Created: t0}
		return tx.CreateUser(ctx, &u)
	})
	_, err = s.UserByUsername(ctx, "carol")
	noErr(t, "user created after a handled ErrNotFound", err)
}

// testUpdatePanics checks that a panic in fn rolls back and leaves the
// store usable: no connection or lock stays held.
func testUpdatePanics(t *testing.T, s core.Store) {
	ctx := t.Context()
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic in fn did not reach Update's caller")
			}
		}()
		s.Update(ctx, func(tx core.Tx) error {
			u := core.User{Username: "ghost", Created: t0}
			if err := tx.CreateUser(ctx, &u); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	_, err := s.UserByUsername(ctx, "ghost")
	wantErr(t, "user created before a panic", err, core.ErrNotFound)
	newUser(t, s, "alice")
}

// testReadsYourWrites checks that the Tx sees its own writes at once while
// the Store's readers see only committed data.
func testReadsYourWrites(t *testing.T, s core.Store) {
	ctx := t.Context()
	a := newUser(t, s, "alice")
	update(t, s, func(tx core.Tx) error {
		u := core.User{Username: "bob", Created: t0}
		if err := tx.CreateUser(ctx, &u); err != nil {
			return err
		}
		got, err := tx.UserByUsername(ctx, "bob")
		noErr(t, "tx.UserByUsername of a user created in tx", err)
		equal(t, "tx.UserByUsername", got.ID, u.ID)
		if _, err := s.UserByUsername(ctx, "bob"); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("the Store saw an uncommitted user: err = %v", err)
		}

		k := core.SSHKey{UserID: a.ID, Label: "k", Key: "k", Fingerprint: "f", Created: t0}
		if err := tx.CreateSSHKey(ctx, &k); err != nil {
			return err
		}
		keys, total, err := tx.ListSSHKeys(ctx, a.ID, all)
		noErr(t, "tx.ListSSHKeys", err)
		equal(t, "tx.ListSSHKeys total", total, 1)
		equal(t, "tx.ListSSHKeys", keys, []core.SSHKey{k})

		renamed, err := tx.UpdateSSHKeyLabel(ctx, a.ID, k.ID, "renamed")
		if err != nil {
			return err
		}
		equal(t, "tx.UpdateSSHKeyLabel's key", renamed.Label, "renamed")
		got2, err := tx.SSHKey(ctx, a.ID, k.ID)
		noErr(t, "tx.SSHKey", err)
		equal(t, "tx.SSHKey label after update", got2.Label, "renamed")

		if err := tx.SetScratchCodes(ctx, a.ID, [][]byte{[]byte("h")}); err != nil {
			return err
		}
		if err := tx.UseScratchCode(ctx, a.ID, []byte("h")); err != nil {
			return err
		}
		if err := tx.UseScratchCode(ctx, a.ID, []byte("h")); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("second UseScratchCode in one tx: err = %v, want ErrNotFound", err)
		}
		n, err := tx.CountUsers(ctx)
		noErr(t, "tx.CountUsers", err)
		equal(t, "tx.CountUsers", n, 2)
		return nil
	})
	_, err := s.UserByUsername(ctx, "bob")
	noErr(t, "the Store after commit", err)
}

// testConcurrentUpdates checks that concurrent read-modify-write
// transactions lose no update and fail none.
func testConcurrentUpdates(t *testing.T, s core.Store) {
	ctx := t.Context()
	const goroutines, hits = 20, 10
	u := newUser(t, s, "alice")
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*hits)
	for g := range goroutines {
		wg.Go(func() {
			for i := range hits {
				err := s.Update(ctx, func(tx core.Tx) error {
					if _, err := tx.LockUser(ctx, u.ID); err != nil {
						return err
					}
					if _, _, err := tx.HitLimit(ctx, "shared", time.Hour, t0); err != nil {
						return err
					}
					// A read-modify-write through the store's own reads:
					// the counter is the number of scratch codes.
					codes, err := tx.ScratchCodes(ctx, u.ID)
					if err != nil {
						return err
					}
					codes = append(codes, fmt.Appendf(nil, "%d-%d", g, i))
					return tx.SetScratchCodes(ctx, u.ID, codes)
				})
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Update: %v", err)
	}
	if count, _ := hit(t, s, "shared", time.Hour, t0); count != goroutines*hits+1 {
		t.Errorf("HitLimit counted %d concurrent hits, want %d", count-1, goroutines*hits)
	}
	codes, err := s.ScratchCodes(ctx, u.ID)
	noErr(t, "ScratchCodes", err)
	equal(t, "scratch codes appended concurrently", len(codes), goroutines*hits)
}

// DuplicateThenRead checks that an Update that fails on a row another
// Update wrote at the same moment (a duplicate) returns only once that row
// is committed: its caller, reading the row it collided with, finds it.
// (PostgreSQL's unique index makes the loser wait for the winner's commit;
// SQLite's group commit tells a failed fn after its batch's COMMIT, which
// store/sqlite's TestGroupCommitFailuresAfterCommit holds to one batch by
// calling this while its committer is held.) Run calls it too.
func DuplicateThenRead(t *testing.T, s core.Store) {
	ctx := t.Context()
	const n = 16
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.Update(ctx, func(tx core.Tx) error {
				u := core.User{Username: "same", AuthorizedKeys: []string{}}
				return tx.CreateUser(ctx, &u)
			})
			if errors.Is(errs[i], core.ErrDuplicate) {
				if _, err := s.UserByUsername(ctx, "same"); err != nil {
					errs[i] = fmt.Errorf("a duplicate, then the row it collided with: %w", err)
				}
			}
		})
	}
	wg.Wait()
	created := 0
	for i, err := range errs {
		switch {
		case err == nil:
			created++
		case !errors.Is(err, core.ErrDuplicate):
			t.Errorf("Update %d: %v", i, err)
		}
	}
	equal(t, "Updates that created the user", created, 1)
}
