package storetest

import (
	"testing"
	"time"

	"github.com/profiled/profiled/core"
)

func testUsers(t *testing.T, s core.Store) {
	ctx := t.Context()
	n, err := s.CountUsers(ctx)
	noErr(t, "CountUsers", err)
	equal(t, "CountUsers of an empty store", n, 0)

	alice := newUser(t, s, "alice")
	got, err := s.UserByID(ctx, alice.ID)
	noErr(t, "UserByID", err)
	equal(t, "UserByID", got, alice)
	got, err = s.UserByUsername(ctx, "alice")
	noErr(t, "UserByUsername", err)
	equal(t, "UserByUsername", got, alice)

	// nil and empty authorized keys both round-trip as they were stored;
	// a zero Created stays zero; a non-UTC time comes back in UTC.
	paris := time.FixedZone("CEST", 2*60*60)
	bob := core.User{Username: "bob", AuthorizedKeys: nil, Created: t0.In(paris)}
	carol := core.User{Username: "carol", AuthorizedKeys: []string{}}
	update(t, s, func(tx core.Tx) error {
		if err := tx.CreateUser(ctx, &bob); err != nil {
			return err
		}
		return tx.CreateUser(ctx, &carol)
	})
	if bob.ID == alice.ID || carol.ID == bob.ID {
		t.Errorf("ids not distinct: %d %d %d", alice.ID, bob.ID, carol.ID)
	}
	got, err = s.UserByID(ctx, bob.ID)
	noErr(t, "UserByID(bob)", err)
	if got.AuthorizedKeys != nil {
		t.Errorf("nil AuthorizedKeys came back as %#v", got.AuthorizedKeys)
	}
	if !got.Created.Equal(t0) || got.Created.Location() != time.UTC {
		t.Errorf("Created = %v, want %v in UTC", got.Created, t0)
	}
	got, err = s.UserByID(ctx, carol.ID)
	noErr(t, "UserByID(carol)", err)
	if got.AuthorizedKeys == nil || len(got.AuthorizedKeys) != 0 {
		t.Errorf("empty AuthorizedKeys came back as %#v", got.AuthorizedKeys)
	}
	if !got.Created.IsZero() {
		t.Errorf("zero Created came back as %v", got.Created)
	}

	n, err = s.CountUsers(ctx)
	noErr(t, "CountUsers", err)
	equal(t, "CountUsers", n, 3)

	dup := core.User{Username: "alice", Created: t0}
	wantErr(t, "CreateUser with a taken username", updateErr(t, s, func(tx core.Tx) error { return tx.CreateUser(ctx, &dup) }), core.ErrDuplicate)

	_, err = s.UserByID(ctx, carol.ID+1000)
	wantErr(t, "UserByID of a missing user", err, core.ErrNotFound)
	_, err = s.UserByUsername(ctx, "nobody")
	wantErr(t, "UserByUsername of a missing user", err, core.ErrNotFound)
	// Usernames are one regardless of case: found so, and taken so.
	got, err = s.UserByUsername(ctx, "ALICE")
	noErr(t, "UserByUsername in another case", err)
	equal(t, "UserByUsername in another case", got.ID, alice.ID)
	dupCase := core.User{Username: "Alice", Created: t0}
	wantErr(t, "CreateUser with a taken username in another case", updateErr(t, s, func(tx core.Tx) error { return tx.CreateUser(ctx, &dupCase) }), core.ErrDuplicate)
}

func testUserUpdate(t *testing.T, s core.Store) {
	ctx := t.Context()
	u := newUser(t, s, "alice")
	other := newUser(t, s, "bob")

	changed := core.User{
		ID:                  u.ID,
		AccountID:           u.AccountID,
		Username:            "mallory",
		Email:               "new@example.com",
		Timezone:            "UTC",
		EmailNotifications:  false,
		IPWhitelistEnabled:  true,
		LishAuthMethod:      core.LishDisabled,
		AuthorizedKeys:      []string{"a", "b"},
		Restricted:          true,
		TwoFactorAuth:       true,
		AuthenticationType:  "github",
		VerifiedPhoneNumber: "+33612345678",
		ReferralCode:        "ref2",
		Created:             at(99), // ignored
	}
	update(t, s, func(tx core.Tx) error { return tx.UpdateUser(ctx, changed) })
	got, err := s.UserByID(ctx, u.ID)
	noErr(t, "UserByID", err)
	want := changed
	want.Created = u.Created
	equal(t, "user after UpdateUser", got, want)

	got, err = s.UserByID(ctx, other.ID)
	noErr(t, "UserByID(other)", err)
	equal(t, "the other user after UpdateUser", got, other)

	missing := changed
	missing.ID = other.ID + 1000
	wantErr(t, "UpdateUser of a missing user", updateErr(t, s, func(tx core.Tx) error { return tx.UpdateUser(ctx, missing) }), core.ErrNotFound)
}

func testLockUser(t *testing.T, s core.Store) {
	ctx := t.Context()
	u := newUser(t, s, "alice")
	update(t, s, func(tx core.Tx) error {
		locked, err := tx.LockUser(ctx, u.ID)
		equal(t, "the user LockUser returns", locked, u)
		return err
	})
	wantErr(t, "LockUser of a missing user", updateErr(t, s, func(tx core.Tx) error {
		_, err := tx.LockUser(ctx, u.ID+1000)
		return err
	}), core.ErrNotFound)
}

// testMissingUser checks that per-user writes refuse a user that does not
// exist with ErrNotFound, and per-user reads of one find nothing.
func testMissingUser(t *testing.T, s core.Store) {
	ctx := t.Context()
	u := newUser(t, s, "alice")
	missing := u.ID + 1000
	writes := map[string]func(tx core.Tx) error{
		"CreateSSHKey": func(tx core.Tx) error {
			return tx.CreateSSHKey(ctx, &core.SSHKey{UserID: missing, Label: "k", Key: "k", Fingerprint: "f", Created: t0})
		},
		"CreateToken": func(tx core.Tx) error {
			return tx.CreateToken(ctx, &core.Token{UserID: missing, Kind: core.TokenPersonal, Scopes: core.AllScopes, Hash: tokenHash(missing, "x"), Created: t0})
		},
		"CreateApp": func(tx core.Tx) error {
			return tx.CreateApp(ctx, &core.App{UserID: missing, ClientID: "c", Scopes: core.AllScopes, Created: t0})
		},
		"CreateDevice": func(tx core.Tx) error {
			return tx.CreateDevice(ctx, &core.Device{UserID: missing, Created: t0, Expiry: at(60), LastAuthenticated: t0})
		},
		"CreateLogin": func(tx core.Tx) error {
			return tx.CreateLogin(ctx, &core.Login{UserID: missing, Datetime: t0, Status: core.LoginSuccessful})
		},
		"PutPreferences": func(tx core.Tx) error { return tx.PutPreferences(ctx, missing, "c", []byte(`{}`)) },
		"SetSecurityAnswers": func(tx core.Tx) error {
			return tx.SetSecurityAnswers(ctx, missing, []core.SecurityAnswer{{QuestionID: 1, AnswerEnc: []byte("a")}})
		},
		"SetTFA":          func(tx core.Tx) error { return tx.SetTFA(ctx, missing, core.TFAState{LastStep: 1}) },
		"SetScratchCodes": func(tx core.Tx) error { return tx.SetScratchCodes(ctx, missing, [][]byte{[]byte("h")}) },
		"SetPhoneVerification": func(tx core.Tx) error {
			return tx.SetPhoneVerification(ctx, missing, core.PhoneVerification{Phone: "+1", Expiry: t0})
		},
		"SetGrants": func(tx core.Tx) error { return tx.SetGrants(ctx, missing, core.Grants(`{}`)) },
	}
	for name, fn := range writes {
		wantErr(t, name+" for a missing user", updateErr(t, s, fn), core.ErrNotFound)
	}
	_, err := s.TFA(ctx, missing)
	wantErr(t, "TFA of a missing user", err, core.ErrNotFound)
	_, err = s.Grants(ctx, missing)
	wantErr(t, "Grants of a missing user", err, core.ErrNotFound)
	answers, err := s.SecurityAnswers(ctx, missing)
	noErr(t, "SecurityAnswers of a missing user", err)
	equal(t, "SecurityAnswers of a missing user", len(answers), 0)
	codes, err := s.ScratchCodes(ctx, missing)
	noErr(t, "ScratchCodes of a missing user", err)
	equal(t, "ScratchCodes of a missing user", len(codes), 0)
}
