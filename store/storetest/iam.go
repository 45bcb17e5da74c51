package storetest

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
)

// testIAM holds the store to the IAM face's methods (core.IAMReader and
// core.IAMWriter).
func testIAM(t *testing.T, open func(t *testing.T) core.Store) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, core.Store)
	}{
		{"Profile", testIAMProfile},
		{"ProfileOwner", testIAMProfileOwner},
		{"ExternalIDs", testExternalIDs},
		{"Avatars", testAvatars},
		{"DeleteUser", testDeleteUser},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// fullProfile has every field of an IAMProfile set but AvatarID.
func fullProfile(userID int64) core.IAMProfile {
	return core.IAMProfile{
		UserID: userID, Kind: core.UserHuman, FirstName: "Ada", LastName: "Lovelace ✓",
		EmailVerified: true, PictureURL: "https://idp.example.com/ada.png",
		Name: "name", Description: "line one\nline two",
		Config: core.UserConfig{Locale: "fr-CA", Theme: "dark", DateFormat: "DD/MM/YYYY",
			TimeFormat: "12h", WeekStart: "sunday", LandingPage: "profile"},
		Notifications: core.NotificationPrefs{SecuritySMS: true, AccountSMS: false, ProductEmail: true, ProductSMS: true},
	}
}

func testIAMProfile(t *testing.T, s core.Store) {
	ctx := t.Context()
	a, b := newUser(t, s, "alice"), newUser(t, s, "bob")

	user, got, err := s.IAMUser(ctx, a.ID)
	noErr(t, "IAMUser, profile never stored", err)
	equal(t, "IAMUser's user", user, a)
	equal(t, "IAMProfile never stored", got, core.IAMProfile{UserID: a.ID})
	_, _, err = s.IAMUser(ctx, b.ID+1000)
	wantErr(t, "IAMProfile of a missing user", err, core.ErrNotFound)

	want := fullProfile(a.ID)
	withAvatar := want
	withAvatar.AvatarID = "ignored by PutIAMProfile"
	update(t, s, func(tx core.Tx) error { return tx.PutIAMProfile(ctx, withAvatar) })
	_, got, err = s.IAMUser(ctx, a.ID)
	noErr(t, "IAMProfile", err)
	equal(t, "IAMProfile", got, want)

	// A second put replaces every field, down to the zero values.
	zero := core.IAMProfile{UserID: a.ID, Kind: core.UserService}
	update(t, s, func(tx core.Tx) error { return tx.PutIAMProfile(ctx, zero) })
	_, got, err = s.IAMUser(ctx, a.ID)
	noErr(t, "IAMProfile", err)
	equal(t, "IAMProfile after replacing", got, zero)

	_, got, err = s.IAMUser(ctx, b.ID)
	noErr(t, "IAMProfile of another user", err)
	equal(t, "IAMProfile of another user", got, core.IAMProfile{UserID: b.ID})

	missing := fullProfile(b.ID + 1000)
	wantErr(t, "PutIAMProfile of a missing user",
		updateErr(t, s, func(tx core.Tx) error { return tx.PutIAMProfile(ctx, missing) }), core.ErrNotFound)

	// Reads inside the transaction see its writes.
	update(t, s, func(tx core.Tx) error {
		if err := tx.PutIAMProfile(ctx, fullProfile(b.ID)); err != nil {
			return err
		}
		user, got, err := tx.IAMUser(ctx, b.ID)
		if err != nil {
			return err
		}
		equal(t, "IAMUser's user inside the transaction", user, b)
		equal(t, "IAMProfile inside the transaction", got, fullProfile(b.ID))
		return nil
	})
}

func testIAMProfileOwner(t *testing.T, s core.Store) {
	ctx := t.Context()
	owner, sa := newUser(t, s, "owner"), newUser(t, s, "robot")
	p := core.IAMProfile{UserID: sa.ID, Kind: core.UserService, Name: "CI", OwnerID: owner.ID}
	update(t, s, func(tx core.Tx) error { return tx.PutIAMProfile(ctx, p) })
	got, err := s.IAMProfile(ctx, sa.ID)
	noErr(t, "IAMProfile", err)
	equal(t, "IAMProfile with an owner", got, p)

	bad := p
	bad.OwnerID = owner.ID + 1000
	wantErr(t, "PutIAMProfile naming a missing owner",
		updateErr(t, s, func(tx core.Tx) error { return tx.PutIAMProfile(ctx, bad) }), core.ErrNotFound)
	_, got, err = s.IAMUser(ctx, sa.ID)
	noErr(t, "IAMProfile", err)
	equal(t, "IAMProfile after a refused put", got, p)

	// A refused write fails alone: the transaction goes on and commits.
	update(t, s, func(tx core.Tx) error {
		if err := tx.PutIAMProfile(ctx, bad); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("PutIAMProfile naming a missing owner: %v", err)
		}
		p.Description = "after the refusal"
		return tx.PutIAMProfile(ctx, p)
	})
	got, _ = s.IAMProfile(ctx, sa.ID)
	equal(t, "the write after a refused one", got.Description, "after the refusal")
}

func testExternalIDs(t *testing.T, s core.Store) {
	ctx := t.Context()
	a, b := newUser(t, s, "alice"), newUser(t, s, "bob")
	_, err := s.UserByExternalID(ctx, "idp", "sub-a")
	wantErr(t, "UserByExternalID before any link", err, core.ErrNotFound)

	update(t, s, func(tx core.Tx) error { return tx.LinkExternalID(ctx, "idp", "sub-a", a.ID) })
	got, err := s.UserByExternalID(ctx, "idp", "sub-a")
	noErr(t, "UserByExternalID", err)
	equal(t, "UserByExternalID", got, a)

	for name, fn := range map[string]func(tx core.Tx) error{
		"the same subject again":                  func(tx core.Tx) error { return tx.LinkExternalID(ctx, "idp", "sub-a", b.ID) },
		"a second subject of the same provider":   func(tx core.Tx) error { return tx.LinkExternalID(ctx, "idp", "sub-a2", a.ID) },
		"the same subject to the same user again": func(tx core.Tx) error { return tx.LinkExternalID(ctx, "idp", "sub-a", a.ID) },
	} {
		wantErr(t, "LinkExternalID of "+name, updateErr(t, s, fn), core.ErrDuplicate)
	}
	wantErr(t, "LinkExternalID of a missing user",
		updateErr(t, s, func(tx core.Tx) error { return tx.LinkExternalID(ctx, "idp", "sub-x", b.ID+1000) }), core.ErrNotFound)

	// Subjects are per provider, and compared byte by byte.
	update(t, s, func(tx core.Tx) error { return tx.LinkExternalID(ctx, "other", "sub-a", b.ID) })
	got, err = s.UserByExternalID(ctx, "other", "sub-a")
	noErr(t, "UserByExternalID at another provider", err)
	equal(t, "UserByExternalID at another provider", got.ID, b.ID)
	update(t, s, func(tx core.Tx) error { return tx.LinkExternalID(ctx, "idp", "SUB-A", b.ID) })
	got, err = s.UserByExternalID(ctx, "idp", "SUB-A")
	noErr(t, "UserByExternalID is case-sensitive", err)
	equal(t, "UserByExternalID is case-sensitive", got.ID, b.ID)
	_, err = s.UserByExternalID(ctx, "idp", "sub-a\x00")
	wantErr(t, "UserByExternalID of a subject no store can hold", err, core.ErrNotFound)
}

func testAvatars(t *testing.T, s core.Store) {
	ctx := t.Context()
	a, b := newUser(t, s, "alice"), newUser(t, s, "bob")
	paris := time.FixedZone("CEST", 2*60*60)
	av := core.Avatar{UserID: a.ID, ID: "0123456789abcdef0123456789abcdef", PNG: []byte("\x89PNG\r\n\x1a\n\x00\xff"), Created: t0.In(paris)}
	update(t, s, func(tx core.Tx) error { return tx.PutAvatar(ctx, av) })
	got, err := s.Avatar(ctx, av.ID)
	noErr(t, "Avatar", err)
	av.Created = t0
	equal(t, "Avatar", got, av)
	if got.Created.Location() != time.UTC {
		t.Errorf("Avatar.Created in %v, want UTC", got.Created.Location())
	}
	p, err := s.IAMProfile(ctx, a.ID)
	noErr(t, "IAMProfile", err)
	equal(t, "IAMProfile.AvatarID", p.AvatarID, av.ID)

	// A new avatar replaces the old one, whose id then finds nothing.
	next := core.Avatar{UserID: a.ID, ID: "fedcba9876543210fedcba9876543210", PNG: []byte("second"), Created: at(1)}
	update(t, s, func(tx core.Tx) error { return tx.PutAvatar(ctx, next) })
	_, err = s.Avatar(ctx, av.ID)
	wantErr(t, "Avatar by a replaced id", err, core.ErrNotFound)
	got, err = s.Avatar(ctx, next.ID)
	noErr(t, "Avatar", err)
	equal(t, "Avatar after replacing", got, next)

	taken := core.Avatar{UserID: b.ID, ID: next.ID, PNG: []byte("b"), Created: t0}
	wantErr(t, "PutAvatar with another user's id",
		updateErr(t, s, func(tx core.Tx) error { return tx.PutAvatar(ctx, taken) }), core.ErrDuplicate)
	missing := core.Avatar{UserID: b.ID + 1000, ID: "11111111111111111111111111111111", PNG: []byte("m"), Created: t0}
	wantErr(t, "PutAvatar of a missing user",
		updateErr(t, s, func(tx core.Tx) error { return tx.PutAvatar(ctx, missing) }), core.ErrNotFound)
	p, _ = s.IAMProfile(ctx, b.ID)
	equal(t, "IAMProfile.AvatarID of a user without one", p.AvatarID, "")

	update(t, s, func(tx core.Tx) error { return tx.DeleteAvatar(ctx, a.ID) })
	_, err = s.Avatar(ctx, next.ID)
	wantErr(t, "Avatar after DeleteAvatar", err, core.ErrNotFound)
	p, _ = s.IAMProfile(ctx, a.ID)
	equal(t, "IAMProfile.AvatarID after DeleteAvatar", p.AvatarID, "")
	update(t, s, func(tx core.Tx) error { return tx.DeleteAvatar(ctx, a.ID) })
	update(t, s, func(tx core.Tx) error { return tx.DeleteAvatar(ctx, b.ID+1000) })
	_, err = s.Avatar(ctx, "nothing\x00")
	wantErr(t, "Avatar by an id no store can hold", err, core.ErrNotFound)
}

// authHash makes a distinct 32-byte hash per user and purpose.
func authHash(u core.User, what string) []byte { return tokenHash(u.ID, "auth/"+what) }

// testDeleteUser gives a user one of everything, deletes it, and finds
// nothing of it left, and everything of another user still there.
func testDeleteUser(t *testing.T, s core.Store) {
	ctx := t.Context()
	a, b := newUser(t, s, "alice"), newUser(t, s, "bob")
	robot := newUser(t, s, "robot")
	type owned struct {
		tok, appTok core.Token
		avatarID    string
	}
	give := func(u core.User) owned {
		var o owned
		newSSHKey(t, s, u.ID, "k", "fp-"+u.Username)
		o.tok = newToken(t, s, core.Token{UserID: u.ID, Label: "personal"})
		app := newApp(t, s, core.App{UserID: u.ID, ClientID: "client", Label: "app"})
		o.appTok = newToken(t, s, core.Token{UserID: u.ID, Label: "oauth", Kind: core.TokenOAuth, AppID: app.ID, ClientID: "client"})
		o.avatarID = u.Username + "0123456789abcdef0123456789ab"
		update(t, s, func(tx core.Tx) error {
			for _, err := range []error{
				tx.CreateDevice(ctx, &core.Device{UserID: u.ID, Created: t0, Expiry: at(60), LastAuthenticated: t0}),
				tx.CreateLogin(ctx, &core.Login{UserID: u.ID, Datetime: t0, Username: u.Username, Status: core.LoginSuccessful}),
				tx.PutPreferences(ctx, u.ID, "", json.RawMessage(`{"a":1}`)),
				tx.SetSecurityAnswers(ctx, u.ID, []core.SecurityAnswer{{QuestionID: 1, AnswerEnc: []byte("x")}}),
				tx.SetTFA(ctx, u.ID, core.TFAState{SecretEnc: []byte("secret"), LastStep: 3}),
				tx.SetScratchCodes(ctx, u.ID, [][]byte{[]byte("code")}),
				tx.SetPhoneVerification(ctx, u.ID, core.PhoneVerification{Phone: "+15555550100", ISOCode: "US", CodeEnc: []byte("c"), Expiry: at(10)}),
				tx.SetGrants(ctx, u.ID, core.Grants(`{"global":{}}`)),
				tx.PutIAMProfile(ctx, fullProfile(u.ID)),
				tx.LinkExternalID(ctx, "idp", "sub-"+u.Username, u.ID),
				tx.PutAvatar(ctx, core.Avatar{UserID: u.ID, ID: o.avatarID, PNG: []byte("png"), Created: t0}),
				// Sign-in and OAuth (store_auth.go).
				tx.SetPasswordHash(ctx, u.ID, "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", time.Now()),
				tx.CreateLoginChallenge(ctx, core.LoginChallenge{Hash: authHash(u, "challenge"), UserID: u.ID, Created: t0, Expiry: at(10)}),
				tx.CreateAuthCode(ctx, core.AuthCode{Hash: authHash(u, "code"), ClientID: "iam-client", UserID: u.ID,
					RedirectURI: "https://app.example.com/cb", Scopes: core.AllScopes, Created: t0, Expiry: at(10)}),
				tx.CreateRefreshToken(ctx, core.RefreshToken{Hash: authHash(u, "refresh"), UserID: u.ID, AppID: app.ID,
					ClientID: "client", Scopes: core.AllScopes, Created: t0, Expiry: at(60)}),
			} {
				if err != nil {
					return err
				}
			}
			return nil
		})
		return o
	}
	update(t, s, func(tx core.Tx) error {
		return tx.CreateOAuthClient(ctx, core.OAuthClient{ID: "iam-client", Label: "c", Website: "https://app.example.com",
			RedirectURIs: []string{"https://app.example.com/cb"}, Created: t0})
	})
	oa, ob := give(a), give(b)
	update(t, s, func(tx core.Tx) error {
		return tx.PutIAMProfile(ctx, core.IAMProfile{UserID: robot.ID, Kind: core.UserService, Name: "bot", OwnerID: a.ID})
	})

	update(t, s, func(tx core.Tx) error { return tx.DeleteUser(ctx, a.ID) })

	_, err := s.UserByID(ctx, a.ID)
	wantErr(t, "UserByID of a deleted user", err, core.ErrNotFound)
	_, err = s.IAMProfile(ctx, a.ID)
	wantErr(t, "IAMProfile of a deleted user", err, core.ErrNotFound)
	for _, tok := range []core.Token{oa.tok, oa.appTok} {
		_, _, err = s.TokenByHash(ctx, tok.Hash)
		wantErr(t, "TokenByHash of a deleted user's "+tok.Label+" token", err, core.ErrNotFound)
	}
	_, err = s.UserByExternalID(ctx, "idp", "sub-alice")
	wantErr(t, "UserByExternalID of a deleted user", err, core.ErrNotFound)
	_, err = s.Avatar(ctx, oa.avatarID)
	wantErr(t, "Avatar of a deleted user", err, core.ErrNotFound)
	_, err = s.PasswordHash(ctx, a.ID)
	wantErr(t, "PasswordHash of a deleted user", err, core.ErrNotFound)
	_, err = s.LoginChallenge(ctx, authHash(a, "challenge"))
	wantErr(t, "LoginChallenge of a deleted user", err, core.ErrNotFound)
	_, err = s.AuthCode(ctx, authHash(a, "code"))
	wantErr(t, "AuthCode of a deleted user", err, core.ErrNotFound)
	_, err = s.RefreshToken(ctx, authHash(a, "refresh"))
	wantErr(t, "RefreshToken of a deleted user", err, core.ErrNotFound)
	if _, err := s.PasswordHash(ctx, b.ID); err != nil {
		t.Errorf("PasswordHash of the other user: %v", err)
	}
	if _, err := s.RefreshToken(ctx, authHash(b, "refresh")); err != nil {
		t.Errorf("RefreshToken of the other user: %v", err)
	}
	if _, err := s.OAuthClient(ctx, "iam-client"); err != nil {
		t.Errorf("the OAuth client after a user's deletion: %v", err)
	}
	_, err = s.Preferences(ctx, a.ID, "")
	wantErr(t, "Preferences of a deleted user", err, core.ErrNotFound)
	_, err = s.Grants(ctx, a.ID)
	wantErr(t, "Grants of a deleted user", err, core.ErrNotFound)
	_, err = s.PhoneVerification(ctx, a.ID)
	wantErr(t, "PhoneVerification of a deleted user", err, core.ErrNotFound)
	answers, err := s.SecurityAnswers(ctx, a.ID)
	noErr(t, "SecurityAnswers", err)
	equal(t, "SecurityAnswers of a deleted user", len(answers), 0)
	codes, err := s.ScratchCodes(ctx, a.ID)
	noErr(t, "ScratchCodes", err)
	equal(t, "ScratchCodes of a deleted user", len(codes), 0)
	for name, n := range map[string]func() (int, error){
		"ssh keys": func() (int, error) { _, n, err := s.ListSSHKeys(ctx, a.ID, q(nil)); return n, err },
		"tokens":   func() (int, error) { _, n, err := s.ListTokens(ctx, a.ID, q(nil)); return n, err },
		"apps":     func() (int, error) { _, n, err := s.ListApps(ctx, a.ID, q(nil)); return n, err },
		"devices":  func() (int, error) { _, n, err := s.ListDevices(ctx, a.ID, q(nil)); return n, err },
		"logins":   func() (int, error) { _, n, err := s.ListLogins(ctx, a.ID, q(nil)); return n, err },
	} {
		count, err := n()
		noErr(t, "list "+name, err)
		equal(t, "a deleted user's "+name, count, 0)
	}

	// The service account it owned stays, without an owner.
	rp, err := s.IAMProfile(ctx, robot.ID)
	noErr(t, "IAMProfile of an owned service account", err)
	equal(t, "OwnerID after the owner was deleted", rp.OwnerID, int64(0))
	equal(t, "the rest of the service account", rp.Name, "bot")

	// The other user keeps everything.
	for _, tok := range []core.Token{ob.tok, ob.appTok} {
		_, u, err := s.TokenByHash(ctx, tok.Hash)
		noErr(t, "TokenByHash of the other user's "+tok.Label+" token", err)
		equal(t, "its user", u.ID, b.ID)
	}
	bp, err := s.IAMProfile(ctx, b.ID)
	noErr(t, "IAMProfile of the other user", err)
	want := fullProfile(b.ID)
	want.AvatarID = ob.avatarID
	equal(t, "IAMProfile of the other user", bp, want)
	_, err = s.Avatar(ctx, ob.avatarID)
	noErr(t, "Avatar of the other user", err)
	if _, n, _ := s.ListSSHKeys(ctx, b.ID, q(nil)); n != 1 {
		t.Errorf("the other user has %d ssh keys, want 1", n)
	}

	wantErr(t, "DeleteUser of a deleted user",
		updateErr(t, s, func(tx core.Tx) error { return tx.DeleteUser(ctx, a.ID) }), core.ErrNotFound)

	// The username is free again; the id is never handed out again.
	again := newUser(t, s, "alice")
	if again.ID <= robot.ID {
		t.Errorf("a new user got id %d, not above the deleted ones (%d)", again.ID, robot.ID)
	}
}
