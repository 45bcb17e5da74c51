package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
)

var quotaTests = []struct {
	name string
	fn   func(*testing.T, core.Store)
}{
	{"QuotaSSHKeys", testQuotaSSHKeys},
	{"QuotaPersonalTokens", testQuotaPersonalTokens},
	{"QuotaOAuthClients", testQuotaOAuthClients},
	{"QuotaAccountUsers", testQuotaAccountUsers},
	{"QuotaPreferenceBytes", testQuotaPreferenceBytes},
	{"QuotaPreferenceBytesConcurrent", testQuotaPreferenceBytesConcurrent},
	{"QuotaConcurrent", testQuotaConcurrent},
	{"AccountQuotas", testAccountQuotas},
}

// addKeyUnderQuota adds an SSH key to the user in a transaction that holds
// the quota of max keys first, as the core does.
func addKeyUnderQuota(t *testing.T, s core.Store, userID int64, max int, label string) error {
	k := core.SSHKey{UserID: userID, Label: label, Key: "ssh-ed25519 AAAA" + label, Fingerprint: "SHA256:" + label, Created: t0}
	return updateErr(t, s, func(tx core.Tx) error {
		if err := tx.HoldQuota(t.Context(), core.QuotaSSHKeys, userID, max, t0); err != nil {
			return err
		}
		return tx.CreateSSHKey(t.Context(), &k)
	})
}

func countSSHKeys(t *testing.T, s core.Store, userID int64) int {
	t.Helper()
	_, n, err := s.ListSSHKeys(t.Context(), userID, all)
	noErr(t, "ListSSHKeys", err)
	return n
}

// testQuotaSSHKeys: the adds up to the bound pass, the next fails with
// ErrOverQuota and stores nothing, another user's keys do not count, and a
// delete makes room again.
func testQuotaSSHKeys(t *testing.T, s core.Store) {
	u, other := newUser(t, s, "alice"), newUser(t, s, "bob")
	newSSHKey(t, s, other.ID, "bob's", "SHA256:bob")
	for i := range 3 {
		noErr(t, fmt.Sprintf("add key %d of 3", i+1), addKeyUnderQuota(t, s, u.ID, 3, fmt.Sprint("k", i)))
	}
	wantErr(t, "add key 4 of 3", addKeyUnderQuota(t, s, u.ID, 3, "k3"), core.ErrOverQuota)
	equal(t, "keys after the refused add", countSSHKeys(t, s, u.ID), 3)

	keys, _, err := s.ListSSHKeys(t.Context(), u.ID, all)
	noErr(t, "ListSSHKeys", err)
	update(t, s, func(tx core.Tx) error { return tx.DeleteSSHKey(t.Context(), u.ID, keys[0].ID) })
	noErr(t, "add after a delete", addKeyUnderQuota(t, s, u.ID, 3, "k4"))
	equal(t, "keys at the end", countSSHKeys(t, s, u.ID), 3)
	equal(t, "bob's keys", countSSHKeys(t, s, other.ID), 1)
}

// testQuotaPersonalTokens counts only the user's live personal tokens:
// neither expired ones nor sessions nor OAuth tokens.
func testQuotaPersonalTokens(t *testing.T, s core.Store) {
	u := newUser(t, s, "alice")
	newToken(t, s, core.Token{UserID: u.ID, Label: "live"})
	newToken(t, s, core.Token{UserID: u.ID, Label: "live until 20", Expiry: ptr(at(20))})
	newToken(t, s, core.Token{UserID: u.ID, Label: "expired", Expiry: ptr(at(5))})
	newToken(t, s, core.Token{UserID: u.ID, Label: "session", Kind: core.TokenSession, Expiry: ptr(at(100))})
	hold := func(max int, now time.Time) error {
		return updateErr(t, s, func(tx core.Tx) error {
			return tx.HoldQuota(t.Context(), core.QuotaPersonalTokens, u.ID, max, now)
		})
	}
	noErr(t, "2 live personal tokens, quota 3", hold(3, at(10)))
	wantErr(t, "2 live personal tokens, quota 2", hold(2, at(10)), core.ErrOverQuota)
	noErr(t, "1 live personal token at minute 30, quota 2", hold(2, at(30)))
}

func testQuotaOAuthClients(t *testing.T, s core.Store) {
	u, other := newUser(t, s, "alice"), newUser(t, s, "bob")
	add := func(accountID int64, id string) error {
		c := core.OAuthClient{ID: id, Label: "App " + id, RedirectURIs: []string{"https://example.com/cb"}, Public: true,
			Created: t0, AccountID: accountID, Status: core.OAuthClientActive}
		return updateErr(t, s, func(tx core.Tx) error {
			if err := tx.HoldQuota(t.Context(), core.QuotaOAuthClients, accountID, 2, t0); err != nil {
				return err
			}
			return tx.CreateOAuthClient(t.Context(), c)
		})
	}
	noErr(t, "bob's client", add(other.AccountID, "b1"))
	noErr(t, "client 1 of 2", add(u.AccountID, "a1"))
	noErr(t, "client 2 of 2", add(u.AccountID, "a2"))
	wantErr(t, "client 3 of 2", add(u.AccountID, "a3"), core.ErrOverQuota)
	_, err := s.OAuthClient(t.Context(), "a3")
	wantErr(t, "the refused client", err, core.ErrNotFound)
}

// testQuotaAccountUsers counts the users of the account, its owner
// included, and no other account's.
func testQuotaAccountUsers(t *testing.T, s core.Store) {
	owner := newUser(t, s, "alice")
	newUser(t, s, "bob") // an account of his own
	add := func(name string) error {
		u := core.User{AccountID: owner.AccountID, Username: name, Email: name + "@example.com", Timezone: "UTC",
			LishAuthMethod: core.LishKeysOnly, AuthorizedKeys: []string{}, AuthenticationType: "password", Created: t0}
		return updateErr(t, s, func(tx core.Tx) error {
			if err := tx.HoldQuota(t.Context(), core.QuotaAccountUsers, owner.AccountID, 2, t0); err != nil {
				return err
			}
			return tx.CreateUser(t.Context(), &u)
		})
	}
	noErr(t, "the second user of 2", add("carol"))
	wantErr(t, "a third user of 2", add("dave"), core.ErrOverQuota)
	_, err := s.UserByUsername(t.Context(), "dave")
	wantErr(t, "the refused user", err, core.ErrNotFound)
}

// testQuotaConcurrent sends more adds at once than the quota allows: on
// PostgreSQL they run side by side, and only the owner's row lock keeps
// two of them from counting the same keys. Exactly the quota passes.
func testQuotaConcurrent(t *testing.T, s core.Store) {
	u := newUser(t, s, "alice")
	const max, adds = 5, 24
	passed := passedAtOnce(t, adds, func(i int) error { return addKeyUnderQuota(t, s, u.ID, max, fmt.Sprint("k", i)) })
	equal(t, "adds that passed", passed, max)
	equal(t, "keys stored", countSSHKeys(t, s, u.ID), max)
}

// putUnderQuota replaces the user's preferences of client with a JSON
// object of size bytes, in a transaction that holds max bytes in all.
func putUnderQuota(t *testing.T, s core.Store, userID int64, client string, size, max int) error {
	value := json.RawMessage(`{"k":"` + strings.Repeat("x", size-8) + `"}`)
	return updateErr(t, s, func(tx core.Tx) error {
		if err := tx.PutPreferences(t.Context(), userID, client, value); err != nil {
			return err
		}
		return tx.HoldPreferenceBytes(t.Context(), userID, max)
	})
}

// testQuotaPreferenceBytes sums every namespace of the user, a replaced
// value counted once at its new size; a refused put stores nothing.
func testQuotaPreferenceBytes(t *testing.T, s core.Store) {
	ctx := t.Context()
	u, other := newUser(t, s, "alice"), newUser(t, s, "bob")
	noErr(t, "bob's 500 bytes", putUnderQuota(t, s, other.ID, "a", 500, 1000))
	noErr(t, "a: 400 of 1000", putUnderQuota(t, s, u.ID, "a", 400, 1000))
	noErr(t, "b: 600, 1000 of 1000", putUnderQuota(t, s, u.ID, "b", 600, 1000))
	wantErr(t, "c: 1 more byte", putUnderQuota(t, s, u.ID, "c", 9, 1000), core.ErrOverQuota)
	_, err := s.Preferences(ctx, u.ID, "c")
	wantErr(t, "the refused namespace", err, core.ErrNotFound)
	wantErr(t, "a: 401 instead of 400", putUnderQuota(t, s, u.ID, "a", 401, 1000), core.ErrOverQuota)
	v, err := s.Preferences(ctx, u.ID, "a")
	noErr(t, "Preferences a", err)
	equal(t, "a after the refused replacement", len(v), 400)
	noErr(t, "a: 100 instead of 400", putUnderQuota(t, s, u.ID, "a", 100, 1000))
	noErr(t, "c: 300, in the room a left", putUnderQuota(t, s, u.ID, "c", 300, 1000))
}

// testQuotaPreferenceBytesConcurrent puts into many namespaces of one
// user at once: whatever passes, the sum stays within the quota, and the
// puts that pass are as many as fit.
func testQuotaPreferenceBytesConcurrent(t *testing.T, s core.Store) {
	u := newUser(t, s, "alice")
	const puts, size, max = 16, 100, 550
	passed := passedAtOnce(t, puts, func(i int) error { return putUnderQuota(t, s, u.ID, fmt.Sprint("ns", i), size, max) })
	equal(t, "puts that passed", passed, max/size)
}

// passedAtOnce runs write(0) to write(n-1) at once and returns how many
// passed; each of the others must fail with ErrOverQuota.
func passedAtOnce(t *testing.T, n int, write func(i int) error) int {
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = write(i)
		})
	}
	close(start)
	wg.Wait()
	passed := 0
	for i, err := range errs {
		switch {
		case err == nil:
			passed++
		case !errors.Is(err, core.ErrOverQuota):
			t.Errorf("write %d: %v, want nil or ErrOverQuota", i, err)
		}
	}
	return passed
}

// testAccountQuotas: an account's own quota takes the place of the
// server's in the guards, for its users' objects and its own, and no other
// account's; 0 gives the server's back; a missing account is ErrNotFound.
func testAccountQuotas(t *testing.T, s core.Store) {
	ctx := t.Context()
	u, other := newUser(t, s, "alice"), newUser(t, s, "bob")
	set := func(accountID int64, q core.Quota, max int) error {
		return updateErr(t, s, func(tx core.Tx) error { return tx.SetAccountQuota(ctx, accountID, q, max) })
	}
	own, err := s.AccountQuotas(ctx, u.AccountID)
	noErr(t, "AccountQuotas of none", err)
	equal(t, "AccountQuotas of none", own, map[core.Quota]int{})
	noErr(t, "set ssh_keys 2", set(u.AccountID, core.QuotaSSHKeys, 2))
	noErr(t, "set ssh_keys 1", set(u.AccountID, core.QuotaSSHKeys, 1)) // replaces it
	noErr(t, "set preference_bytes 50", set(u.AccountID, core.QuotaPreferenceBytes, 50))
	noErr(t, "set account_users 1", set(u.AccountID, core.QuotaAccountUsers, 1))
	own, err = s.AccountQuotas(ctx, u.AccountID)
	noErr(t, "AccountQuotas", err)
	equal(t, "AccountQuotas", own, map[core.Quota]int{core.QuotaSSHKeys: 1, core.QuotaPreferenceBytes: 50, core.QuotaAccountUsers: 1})
	wantErr(t, "SetAccountQuota of a missing account", set(1<<40, core.QuotaSSHKeys, 5), core.ErrNotFound)

	// The server's bound is 3; alice's account allows her 1 key, bob's the 3.
	noErr(t, "alice's key 1 of 1", addKeyUnderQuota(t, s, u.ID, 3, "a1"))
	wantErr(t, "alice's key 2 of 1", addKeyUnderQuota(t, s, u.ID, 3, "a2"), core.ErrOverQuota)
	for i := range 3 {
		noErr(t, fmt.Sprintf("bob's key %d of 3", i+1), addKeyUnderQuota(t, s, other.ID, 3, fmt.Sprint("b", i)))
	}
	// An account's own bound may be above the server's, too.
	noErr(t, "set bob's ssh_keys 4", set(other.AccountID, core.QuotaSSHKeys, 4))
	noErr(t, "bob's key 4 of 4", addKeyUnderQuota(t, s, other.ID, 3, "b3"))
	wantErr(t, "bob's key 5 of 4", addKeyUnderQuota(t, s, other.ID, 3, "b4"), core.ErrOverQuota)
	// An account-owned quota: alice's account holds 1 user, her.
	hold := func(q core.Quota, ownerID int64, max int) error {
		return updateErr(t, s, func(tx core.Tx) error { return tx.HoldQuota(ctx, q, ownerID, max, t0) })
	}
	wantErr(t, "a second user of alice's account", hold(core.QuotaAccountUsers, u.AccountID, 100), core.ErrOverQuota)
	noErr(t, "a second user of bob's", hold(core.QuotaAccountUsers, other.AccountID, 100))
	// Preference bytes: 50 for alice, the server's 1000 for bob.
	wantErr(t, "alice's 60 bytes of 50", putUnderQuota(t, s, u.ID, "a", 60, 1000), core.ErrOverQuota)
	noErr(t, "bob's 60 bytes of 1000", putUnderQuota(t, s, other.ID, "a", 60, 1000))

	noErr(t, "set ssh_keys 0", set(u.AccountID, core.QuotaSSHKeys, 0))
	noErr(t, "alice's key 2 of the server's 3", addKeyUnderQuota(t, s, u.ID, 3, "a2"))
	own, err = s.AccountQuotas(ctx, u.AccountID)
	noErr(t, "AccountQuotas after a reset", err)
	equal(t, "AccountQuotas after a reset", own, map[core.Quota]int{core.QuotaPreferenceBytes: 50, core.QuotaAccountUsers: 1})
}
