// Package storetest is the conformance suite of core.Store: every backend
// runs it from its own tests, and a behaviour that differs between
// backends fails here rather than in production.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) core.Store { return openTestStore(t) })
//	}
//
// open must return an empty, migrated store and close it when t ends
// (t.Cleanup). Each subtest opens its own store and may run in parallel.
//
// Beyond the comments of core.Store, the suite holds every backend to:
//   - a write naming a user or authorization that does not exist (the
//     foreign key fails) returns ErrNotFound, as does any per-user setter
//     for a missing user; a write core.Tx lets a store hold back to its
//     commit (CreateSSHKey, CreateAccountEvent) may instead fail the
//     whole Update with it;
//   - lists return a non-nil empty slice when nothing matches, a PageSize of
//     zero or less lists every matching row, and a filter or order_by the
//     resource's whitelist does not allow is a *core.Error of KindInvalid;
//   - a nil token or app expiry means "never": later than every time, in
//     filters and in order (see lists.go for each resource's fields);
//   - text compares byte by byte (contains is a case-sensitive substring
//     with no pattern characters), and usernames are case-sensitive;
//   - DeletePhoneVerification and ResetLimit succeed when there is nothing
//     to delete; SetGrants(nil) forgets the grants;
//   - times come back in UTC, whole seconds, and the zero time stays zero.
package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
)

// Run runs the whole suite against stores made by open.
func Run(t *testing.T, open func(t *testing.T) core.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, core.Store)
	}{
		{"Users", testUsers},
		{"UserUpdate", testUserUpdate},
		{"LockUser", testLockUser},
		{"SSHKeys", testSSHKeys},
		{"SSHKeyScoping", testSSHKeyScoping},
		{"Tokens", testTokens},
		{"TokenScoping", testTokenScoping},
		{"TokenByHash", testTokenByHash},
		{"Apps", testApps},
		{"DeleteAppDeletesItsTokens", testDeleteAppTokens},
		{"TokenAppOfAnotherUser", testTokenAppOfAnotherUser},
		{"Devices", testDevices},
		{"Logins", testLogins},
		{"ListPagination", testListPagination},
		{"ListFilterOps", testListFilterOps},
		{"ListFilterTimes", testListFilterTimes},
		{"ListFilterNested", testListFilterNested},
		{"ListFilterTypes", testListFilterTypes},
		{"ListOrder", testListOrder},
		{"ListNullExpiry", testListNullExpiry},
		{"ListScoping", testListScoping},
		{"ListRefusals", testListRefusals},
		{"ListEveryResource", testListEveryResource},
		{"ListEveryField", testListEveryField},
		{"Preferences", testPreferences},
		{"SecurityAnswers", testSecurityAnswers},
		{"TFA", testTFA},
		{"ScratchCodes", testScratchCodes},
		{"PhoneVerification", testPhoneVerification},
		{"Grants", testGrants},
		{"MissingUser", testMissingUser},
		{"HitLimit", testHitLimit},
		{"ResetLimit", testResetLimit},
		{"RefundLimit", testRefundLimit},
		{"FailedWriteFailsAlone", testFailedWriteFailsAlone},
		{"HeldBackWrites", testHeldBackWrites},
		{"HeldBackIDs", testHeldBackIDs},
		{"UpdateRollsBack", testUpdateRollsBack},
		{"UpdateRollsBackStoreError", testUpdateRollsBackStoreError},
		{"UpdatePanics", testUpdatePanics},
		{"ReadsYourWrites", testReadsYourWrites},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"DuplicateThenRead", DuplicateThenRead},
		{"Ping", testPing},
	}
	tests = append(tests, authTests...)    // auth.go
	tests = append(tests, outboxTests...)  // outbox.go
	tests = append(tests, accountTests...) // accounts.go
	tests = append(tests, quotaTests...)   // quota.go
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
	t.Run("IAM", func(t *testing.T) { testIAM(t, open) }) // iam.go
}

// t0 is the suite's reference time: UTC and whole seconds, as the core
// hands times to stores.
var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func at(minutes int) time.Time { return t0.Add(time.Duration(minutes) * time.Minute) }

func ptr[T any](v T) *T { return &v }

// update runs fn in s.Update and fails t if it returns an error.
func update(t *testing.T, s core.Store, fn func(tx core.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// updateErr runs fn in s.Update and returns its error.
func updateErr(t *testing.T, s core.Store, fn func(tx core.Tx) error) error {
	t.Helper()
	return s.Update(t.Context(), fn)
}

// wantErr fails t unless errors.Is(err, target).
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: err = %v, want %v", what, err, target)
	}
}

func noErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %#v\nwant %#v", what, got, want)
	}
}

// newUser creates a user with every field set.
func newUser(t *testing.T, s core.Store, username string) core.User {
	t.Helper()
	u := core.User{
		Username:            username,
		Email:               username + "@example.com",
		Timezone:            "Europe/Paris",
		EmailNotifications:  true,
		IPWhitelistEnabled:  false,
		LishAuthMethod:      core.LishKeysOnly,
		AuthorizedKeys:      []string{"ssh-ed25519 AAAA " + username},
		Restricted:          false,
		TwoFactorAuth:       false,
		AuthenticationType:  "password",
		VerifiedPhoneNumber: "",
		ReferralCode:        "ref-" + username,
		Created:             t0,
	}
	update(t, s, func(tx core.Tx) error { return tx.CreateUser(t.Context(), &u) })
	if u.ID == 0 {
		t.Fatalf("CreateUser(%s) left ID zero", username)
	}
	return u
}

func newSSHKey(t *testing.T, s core.Store, userID int64, label, fingerprint string) core.SSHKey {
	t.Helper()
	k := core.SSHKey{UserID: userID, Label: label, Key: "ssh-ed25519 AAAA" + fingerprint + " me@host", Fingerprint: fingerprint, Created: t0}
	update(t, s, func(tx core.Tx) error { return tx.CreateSSHKey(t.Context(), &k) })
	return k
}

// tokenHash makes a distinct 32-byte hash per label and user.
func tokenHash(userID int64, label string) []byte {
	h := make([]byte, 32)
	copy(h, fmt.Sprintf("%d/%s", userID, label))
	return h
}

func newToken(t *testing.T, s core.Store, tok core.Token) core.Token {
	t.Helper()
	if tok.Kind == "" {
		tok.Kind = core.TokenPersonal
	}
	if tok.Scopes == "" {
		tok.Scopes = core.AllScopes
	}
	if tok.Created.IsZero() {
		tok.Created = t0
	}
	if tok.Hash == nil {
		tok.Hash = tokenHash(tok.UserID, tok.Label)
	}
	if tok.Prefix == "" {
		tok.Prefix = "prefix-" + tok.Label
	}
	update(t, s, func(tx core.Tx) error { return tx.CreateToken(t.Context(), &tok) })
	if tok.ID == 0 {
		t.Fatalf("CreateToken(%s) left ID zero", tok.Label)
	}
	return tok
}

func newApp(t *testing.T, s core.Store, a core.App) core.App {
	t.Helper()
	if a.Scopes == "" {
		a.Scopes = "account:read_only"
	}
	if a.Created.IsZero() {
		a.Created = t0
	}
	update(t, s, func(tx core.Tx) error { return tx.CreateApp(t.Context(), &a) })
	if a.ID == 0 {
		t.Fatalf("CreateApp(%s) left ID zero", a.Label)
	}
	return a
}

func testPing(t *testing.T, s core.Store) {
	noErr(t, "Ping", s.Ping(t.Context()))
}
