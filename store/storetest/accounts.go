package storetest

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
)

// accountTests cover accounts (store_accounts.go): every query is scoped
// by the account, so another account's rows are absent.
var accountTests = []struct {
	name string
	fn   func(*testing.T, core.Store)
}{
	{"AccountOfNewUser", testAccountOfNewUser},
	{"AccountUsers", testAccountUsers},
	{"AccountUpdate", testAccountUpdate},
	{"UserSummary", testUserSummary},
	{"AccountLogins", testAccountLogins},
	{"AccountOAuthClients", testAccountOAuthClients},
	{"AccountEvents", testAccountEvents},
	{"MailTokens", testMailTokens},
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// joinAccount creates a user in the account of owner.
func joinAccount(t *testing.T, s core.Store, owner core.User, username string, restricted bool) core.User {
	t.Helper()
	u := core.User{AccountID: owner.AccountID, Username: username, Email: username + "@example.com", Timezone: "UTC",
		LishAuthMethod: core.LishKeysOnly, AuthorizedKeys: []string{}, Restricted: restricted,
		AuthenticationType: "password", Created: at(1)}
	update(t, s, func(tx core.Tx) error { return tx.CreateUser(t.Context(), &u) })
	return u
}

func testAccountOfNewUser(t *testing.T, s core.Store) {
	ctx := t.Context()
	a, b := newUser(t, s, "alice"), newUser(t, s, "bob")
	if a.AccountID == 0 || b.AccountID == 0 || a.AccountID == b.AccountID {
		t.Fatalf("accounts of two new users: %d and %d, want two new ones", a.AccountID, b.AccountID)
	}
	acc, err := s.Account(ctx, a.AccountID)
	noErr(t, "Account", err)
	if acc.ID != a.AccountID || !uuidPattern.MatchString(acc.EUUID) || !acc.Created.Equal(a.Created) {
		t.Errorf("the new account: %+v, want id %d, a UUID and the user's creation %v", acc, a.AccountID, a.Created)
	}
	equal(t, "a new account's contact and settings", acc.Contact, core.AccountContact{})
	other, err := s.Account(ctx, b.AccountID)
	noErr(t, "Account(b)", err)
	if other.EUUID == acc.EUUID {
		t.Errorf("two accounts share the euuid %s", acc.EUUID)
	}
	_, err = s.Account(ctx, 1<<40)
	wantErr(t, "Account of a missing id", err, core.ErrNotFound)

	// A taken name leaves no account behind, and the caller may try again.
	dup := core.User{Username: "ALICE", Email: "x@example.com", AuthorizedKeys: []string{}, Created: at(2)}
	update(t, s, func(tx core.Tx) error {
		wantErr(t, "CreateUser with a taken name", tx.CreateUser(ctx, &dup), core.ErrDuplicate)
		if dup.AccountID != 0 {
			t.Errorf("a failed CreateUser left AccountID %d", dup.AccountID)
		}
		dup.Username = "alice2"
		return tx.CreateUser(ctx, &dup)
	})
	if dup.AccountID == 0 || dup.AccountID == a.AccountID || dup.AccountID == b.AccountID {
		t.Errorf("the retried user's account %d, want a new one", dup.AccountID)
	}
	// A user may join an existing account; a missing one is ErrNotFound.
	c := joinAccount(t, s, a, "carol", true)
	if c.AccountID != a.AccountID {
		t.Errorf("carol joined account %d, want %d", c.AccountID, a.AccountID)
	}
	missing := core.User{AccountID: 1 << 40, Username: "nobody", AuthorizedKeys: []string{}, Created: at(3)}
	wantErr(t, "CreateUser in a missing account", updateErr(t, s, func(tx core.Tx) error { return tx.CreateUser(ctx, &missing) }), core.ErrNotFound)
}

func testAccountUsers(t *testing.T, s core.Store) {
	ctx := t.Context()
	alice, bob := newUser(t, s, "alice"), newUser(t, s, "bob")
	carol := joinAccount(t, s, alice, "carol", true)
	dave := joinAccount(t, s, alice, "dave", false)
	joinAccount(t, s, bob, "erin", true)

	users, n, err := s.ListAccountUsers(ctx, alice.AccountID, core.ListQuery{Page: 1, PageSize: 25})
	noErr(t, "ListAccountUsers", err)
	if n != 3 || len(users) != 3 {
		t.Fatalf("alice's account lists %d users %+v, want alice, carol, dave", n, users)
	}
	equal(t, "alice's account's users", users, []core.User{alice, carol, dave})
	restricted := core.Match("restricted", core.OpEq, true)
	users, n, err = s.ListAccountUsers(ctx, alice.AccountID, core.ListQuery{Page: 1, PageSize: 25, Filter: &restricted})
	noErr(t, "ListAccountUsers restricted", err)
	if n != 1 || len(users) != 1 || users[0].Username != "carol" {
		t.Errorf("restricted users of alice's account: %d %+v, want carol", n, users)
	}
	users, _, err = s.ListAccountUsers(ctx, alice.AccountID, core.ListQuery{Page: 1, PageSize: 25, OrderBy: "username", Desc: true})
	noErr(t, "ListAccountUsers by username", err)
	if len(users) != 3 || users[0].Username != "dave" || users[2].Username != "alice" {
		t.Errorf("users by username descending: %+v", users)
	}

	got, err := s.AccountUser(ctx, alice.AccountID, "CAROL")
	noErr(t, "AccountUser in another case", err)
	equal(t, "AccountUser", got, carol)
	_, err = s.AccountUser(ctx, alice.AccountID, "erin")
	wantErr(t, "AccountUser of another account's user", err, core.ErrNotFound)
	_, err = s.AccountUser(ctx, bob.AccountID, "carol")
	wantErr(t, "AccountUser from the other side", err, core.ErrNotFound)

	n, err = s.CountOwners(ctx, alice.AccountID)
	noErr(t, "CountOwners", err)
	if n != 2 {
		t.Errorf("owners of alice's account: %d, want 2 (alice and dave)", n)
	}
	update(t, s, func(tx core.Tx) error { return tx.LockAccount(ctx, alice.AccountID) })
	wantErr(t, "LockAccount of a missing account", updateErr(t, s, func(tx core.Tx) error { return tx.LockAccount(ctx, 1<<40) }), core.ErrNotFound)

	// Rename through UpdateUser; a taken name is ErrDuplicate.
	renamed := carol
	renamed.Username = "caroline"
	update(t, s, func(tx core.Tx) error { return tx.UpdateUser(ctx, renamed) })
	got, err = s.UserByID(ctx, carol.ID)
	noErr(t, "UserByID after rename", err)
	equal(t, "the renamed user", got, renamed)
	renamed.Username = "Bob"
	wantErr(t, "a rename to a taken name", updateErr(t, s, func(tx core.Tx) error { return tx.UpdateUser(ctx, renamed) }), core.ErrDuplicate)
}

func testAccountUpdate(t *testing.T, s core.Store) {
	ctx := t.Context()
	alice, bob := newUser(t, s, "alice"), newUser(t, s, "bob")
	acc, err := s.Account(ctx, alice.AccountID)
	noErr(t, "Account", err)
	acc.Contact = core.AccountContact{FirstName: "Alice", LastName: "Liddell", Email: "billing@example.com", Company: "Wonder",
		Address1: "1 Rabbit Hole", Address2: "Flat 2", City: "Oxford", State: "Oxon", Zip: "OX1", Country: "GB", TaxID: "GB1", Phone: "+441865000000"}
	acc.Settings = core.AccountSettings{BackupsEnabled: true, NetworkHelper: true, InterfacesForNewLinodes: "linode_only", MaintenancePolicy: "linode/migrate"}
	acc.EUUID, acc.Created = "ignored", at(99)
	update(t, s, func(tx core.Tx) error { return tx.UpdateAccount(ctx, acc) })
	got, err := s.Account(ctx, alice.AccountID)
	noErr(t, "Account after update", err)
	if got.Contact != acc.Contact || got.Settings != acc.Settings || got.EUUID == "ignored" || got.Created.Equal(at(99)) {
		t.Errorf("after UpdateAccount: %+v, want the contact and settings of %+v and the same euuid and creation", got, acc)
	}
	other, err := s.Account(ctx, bob.AccountID)
	noErr(t, "Account(bob)", err)
	equal(t, "bob's account after alice's changed", other.Contact, core.AccountContact{})
	acc.ID = 1 << 40
	wantErr(t, "UpdateAccount of a missing account", updateErr(t, s, func(tx core.Tx) error { return tx.UpdateAccount(ctx, acc) }), core.ErrNotFound)
}

func testUserSummary(t *testing.T, s core.Store) {
	ctx := t.Context()
	alice := newUser(t, s, "alice")
	sum, err := s.UserSummary(ctx, alice.ID)
	noErr(t, "UserSummary of a new user", err)
	if len(sum.SSHKeyLabels) != 0 || sum.LastLogin != nil || sum.PasswordCreated != nil {
		t.Errorf("a new user's summary: %+v, want nothing", sum)
	}
	update(t, s, func(tx core.Tx) error {
		for _, label := range []string{"laptop", "desk"} {
			k := core.SSHKey{UserID: alice.ID, Label: label, Key: "ssh-ed25519 AAAA" + label, Fingerprint: label, Created: at(1)}
			if err := tx.CreateSSHKey(ctx, &k); err != nil {
				return err
			}
		}
		for i, status := range []string{core.LoginSuccessful, core.LoginFailed} {
			l := core.Login{UserID: alice.ID, AccountID: alice.AccountID, Datetime: at(10 + i), IP: "192.0.2.1", Username: "alice", Status: status}
			if err := tx.CreateLogin(ctx, &l); err != nil {
				return err
			}
		}
		return tx.SetPasswordHash(ctx, alice.ID, "$argon2id$x", at(20))
	})
	// A rehash keeps the time the password was set.
	update(t, s, func(tx core.Tx) error { return tx.SetPasswordHash(ctx, alice.ID, "$argon2id$y", time.Time{}) })
	sum, err = s.UserSummary(ctx, alice.ID)
	noErr(t, "UserSummary", err)
	equal(t, "SSH key labels", sum.SSHKeyLabels, []string{"laptop", "desk"})
	if sum.LastLogin == nil || sum.LastLogin.Status != core.LoginFailed || !sum.LastLogin.Datetime.Equal(at(11)) {
		t.Errorf("last login: %+v, want the failed one at %v", sum.LastLogin, at(11))
	}
	if sum.PasswordCreated == nil || !sum.PasswordCreated.Equal(at(20)) {
		t.Errorf("password created: %v, want %v", sum.PasswordCreated, at(20))
	}
}

func testAccountLogins(t *testing.T, s core.Store) {
	ctx := t.Context()
	alice, bob := newUser(t, s, "alice"), newUser(t, s, "bob")
	carol := joinAccount(t, s, alice, "carol", true)
	var ids []int64
	update(t, s, func(tx core.Tx) error {
		for i, u := range []core.User{alice, bob, carol} {
			l := core.Login{UserID: u.ID, AccountID: u.AccountID, Datetime: at(i), IP: "192.0.2.1", Username: u.Username, Status: core.LoginSuccessful, Restricted: u.Restricted}
			if err := tx.CreateLogin(ctx, &l); err != nil {
				return err
			}
			ids = append(ids, l.ID)
		}
		return nil
	})
	logins, n, err := s.ListAccountLogins(ctx, alice.AccountID, core.ListQuery{Page: 1, PageSize: 25})
	noErr(t, "ListAccountLogins", err)
	if n != 2 || len(logins) != 2 || logins[0].Username != "alice" || logins[1].Username != "carol" || logins[1].AccountID != alice.AccountID {
		t.Errorf("logins of alice's account: %d %+v, want alice's and carol's", n, logins)
	}
	l, err := s.AccountLogin(ctx, alice.AccountID, ids[2])
	noErr(t, "AccountLogin", err)
	if l.Username != "carol" {
		t.Errorf("AccountLogin: %+v", l)
	}
	_, err = s.AccountLogin(ctx, alice.AccountID, ids[1])
	wantErr(t, "AccountLogin of another account's login", err, core.ErrNotFound)
}

func testAccountOAuthClients(t *testing.T, s core.Store) {
	ctx := t.Context()
	alice, bob := newUser(t, s, "alice"), newUser(t, s, "bob")
	mk := func(id string, owner core.User) core.OAuthClient {
		c := core.OAuthClient{ID: id, SecretHash: []byte("hash-" + id), Label: "app " + id, RedirectURIs: []string{"https://" + id + ".example/cb"},
			Created: at(1), AccountID: owner.AccountID, Status: core.OAuthClientActive}
		update(t, s, func(tx core.Tx) error { return tx.CreateOAuthClient(ctx, c) })
		return c
	}
	a1, a2 := mk("a1", alice), mk("a2", alice)
	mk("b1", bob)
	clients, n, err := s.ListOAuthClients(ctx, alice.AccountID, core.ListQuery{Page: 1, PageSize: 25})
	noErr(t, "ListOAuthClients", err)
	if n != 2 || len(clients) != 2 {
		t.Fatalf("alice's clients: %d %+v", n, clients)
	}
	equal(t, "alice's first client", clients[0], a1)
	byStatus := core.ListQuery{Page: 1, PageSize: 25, OrderBy: "status", Desc: true}
	if _, _, err := s.ListOAuthClients(ctx, alice.AccountID, byStatus); err != nil {
		t.Errorf("clients ordered by status: %v", err)
	}

	a2.Label, a2.RedirectURIs, a2.Public, a2.SecretHash, a2.Status = "renamed", []string{"https://new.example/cb"}, true, nil, core.OAuthClientDisabled
	a2.Website, a2.ThumbnailURL, a2.FirstParty, a2.BackchannelLogoutURI = "https://new.example", "https://new.example/t.png", true, "https://new.example/bcl"
	a2.DeviceGrant, a2.RequirePushed, a2.JWKS, a2.JWKSURI, a2.RequireMFA = true, true, `{"keys":[]}`, "https://new.example/jwks.json", true
	update(t, s, func(tx core.Tx) error { return tx.UpdateOAuthClient(ctx, a2) })
	got, err := s.OAuthClient(ctx, "a2")
	noErr(t, "OAuthClient after update", err)
	equal(t, "the updated client", got, a2)

	// The operator pages through every account's clients, in id order.
	op := newOAuthClient(t, s, "0p", true)
	op.ThumbnailURL = ""
	all, err := s.OAuthClientsAfter(ctx, "", 2)
	noErr(t, "OAuthClientsAfter", err)
	equal(t, "the first page of every client", all, []core.OAuthClient{op, a1})
	all, err = s.OAuthClientsAfter(ctx, "a1", 10)
	noErr(t, "OAuthClientsAfter a1", err)
	if len(all) != 2 || all[0].ID != "a2" || all[1].ID != "b1" {
		t.Errorf("the clients after a1: %+v", all)
	}

	_, err = s.OAuthClientThumbnail(ctx, "a1")
	wantErr(t, "a client without a thumbnail", err, core.ErrNotFound)
	png := []byte("\x89PNG\r\n\x1a\nnot really")
	update(t, s, func(tx core.Tx) error { return tx.SetOAuthClientThumbnail(ctx, "a1", png) })
	thumb, err := s.OAuthClientThumbnail(ctx, "a1")
	noErr(t, "OAuthClientThumbnail", err)
	equal(t, "the thumbnail", thumb, png)
	if c, err := s.OAuthClient(ctx, "a1"); err != nil || !c.HasThumbnail {
		t.Errorf("a client with a thumbnail: HasThumbnail %v, %v", c.HasThumbnail, err)
	}
	update(t, s, func(tx core.Tx) error { return tx.SetOAuthClientThumbnail(ctx, "a1", nil) })
	_, err = s.OAuthClientThumbnail(ctx, "a1")
	wantErr(t, "a removed thumbnail", err, core.ErrNotFound)

	update(t, s, func(tx core.Tx) error { return tx.DeleteOAuthClient(ctx, "a1") })
	_, err = s.OAuthClient(ctx, "a1")
	wantErr(t, "a deleted client", err, core.ErrNotFound)
	wantErr(t, "DeleteOAuthClient twice", updateErr(t, s, func(tx core.Tx) error { return tx.DeleteOAuthClient(ctx, "a1") }), core.ErrNotFound)
	wantErr(t, "UpdateOAuthClient of a missing client", updateErr(t, s, func(tx core.Tx) error { return tx.UpdateOAuthClient(ctx, a1) }), core.ErrNotFound)
}

func testAccountEvents(t *testing.T, s core.Store) {
	ctx := t.Context()
	alice, bob := newUser(t, s, "alice"), newUser(t, s, "bob")
	carol := joinAccount(t, s, alice, "carol", true)
	var made []core.AccountEvent
	update(t, s, func(tx core.Tx) error {
		for i, u := range []core.User{alice, carol, bob, alice} {
			e := core.AccountEvent{AccountID: u.AccountID, UserID: u.ID, Username: u.Username, Action: "token_create",
				EntityType: "token", EntityID: u.ID, EntityLabel: "t", Created: at(i)}
			if err := tx.CreateAccountEvent(ctx, e); err != nil {
				return err
			}
			made = append(made, e)
		}
		return nil
	})
	// The store chose the ids, in the order of the writes.
	for i, u := range []core.User{alice, carol, bob, alice} {
		all, _, err := s.ListAccountEvents(ctx, u.AccountID, core.ListQuery{Page: 1, PageSize: 25, OrderBy: "id"})
		noErr(t, "ListAccountEvents", err)
		for _, e := range all {
			if e.Created.Equal(made[i].Created) {
				made[i].ID = e.ID
			}
		}
		if made[i].ID == 0 || i > 0 && made[i].ID <= made[i-1].ID {
			t.Fatalf("event %d has id %d after %d", i, made[i].ID, made[max(i-1, 0)].ID)
		}
	}
	events, n, err := s.ListAccountEvents(ctx, alice.AccountID, core.ListQuery{Page: 1, PageSize: 25, OrderBy: "id", Desc: true})
	noErr(t, "ListAccountEvents", err)
	if n != 3 || len(events) != 3 {
		t.Fatalf("alice's account's events: %d %+v", n, events)
	}
	equal(t, "the newest event", events[0], made[3])
	mine := core.Match("user_id", core.OpEq, carol.ID)
	events, _, err = s.ListAccountEvents(ctx, alice.AccountID, core.ListQuery{Page: 1, PageSize: 25, Filter: &mine})
	noErr(t, "ListAccountEvents of carol", err)
	equal(t, "carol's events", events, []core.AccountEvent{made[1]})
	_, err = s.AccountEvent(ctx, alice.AccountID, made[2].ID)
	wantErr(t, "AccountEvent of another account", err, core.ErrNotFound)

	update(t, s, func(tx core.Tx) error { return tx.MarkAccountEventsSeen(ctx, alice.AccountID, made[1].ID) })
	update(t, s, func(tx core.Tx) error { return tx.MarkAccountEventRead(ctx, alice.AccountID, made[3].ID) })
	for i, want := range []struct{ seen, read bool }{{true, false}, {true, false}, {false, false}, {false, true}} {
		acc := alice.AccountID
		if i == 2 {
			acc = bob.AccountID
		}
		got, err := s.AccountEvent(ctx, acc, made[i].ID)
		noErr(t, "AccountEvent", err)
		if got.Seen != want.seen || got.Read != want.read {
			t.Errorf("event %d: seen %v read %v, want %v %v", i, got.Seen, got.Read, want.seen, want.read)
		}
	}
	wantErr(t, "MarkAccountEventRead of another account's event",
		updateErr(t, s, func(tx core.Tx) error { return tx.MarkAccountEventRead(ctx, alice.AccountID, made[2].ID) }), core.ErrNotFound)
}

func testMailTokens(t *testing.T, s core.Store) {
	ctx := t.Context()
	alice, bob := newUser(t, s, "alice"), newUser(t, s, "bob")
	carol := joinAccount(t, s, alice, "carol", false)
	carol.Email = "ALICE@example.com"
	update(t, s, func(tx core.Tx) error { return tx.UpdateUser(ctx, carol) })
	users, err := s.UsersByEmail(ctx, "alice@EXAMPLE.com", 5)
	noErr(t, "UsersByEmail", err)
	if len(users) != 2 || users[0].ID != alice.ID || users[1].ID != carol.ID {
		t.Errorf("users with alice's address, any case: %+v", users)
	}
	if users, err := s.UsersByEmail(ctx, "alice@example.com", 1); err != nil || len(users) != 1 {
		t.Errorf("UsersByEmail with limit 1: %d, %v", len(users), err)
	}
	mk := func(u core.User, hash string) core.MailToken {
		m := core.MailToken{Hash: []byte(hash), UserID: u.ID, Purpose: core.MailTokenRecovery, Created: at(1), Expiry: at(31)}
		update(t, s, func(tx core.Tx) error { return tx.CreateMailToken(ctx, m) })
		return m
	}
	first := mk(alice, "first")
	second := mk(alice, "second") // voids first
	mk(bob, "bobs")
	_, err = s.MailToken(ctx, first.Hash)
	wantErr(t, "a token a newer one replaced", err, core.ErrNotFound)
	got, err := s.MailToken(ctx, second.Hash)
	noErr(t, "MailToken", err)
	equal(t, "the token", got, second)
	update(t, s, func(tx core.Tx) error { return tx.UseMailToken(ctx, second.Hash) })
	wantErr(t, "a token used twice", updateErr(t, s, func(tx core.Tx) error { return tx.UseMailToken(ctx, second.Hash) }), core.ErrNotFound)
	if got, err := s.MailToken(ctx, second.Hash); err != nil || !got.Used {
		t.Errorf("a used token: %+v, %v", got, err)
	}
	update(t, s, func(tx core.Tx) error { return tx.DeleteMailTokens(ctx, bob.ID, core.MailTokenRecovery) })
	_, err = s.MailToken(ctx, []byte("bobs"))
	wantErr(t, "a deleted token", err, core.ErrNotFound)
}

// AccountsWithoutEmail checks migration 00101 of an engine: s is at
// version 100, and migrate takes it to the latest. An account without a
// contact address takes the address of its oldest user that has one; one
// with an address keeps it; one whose users have none stays without.
func AccountsWithoutEmail(t *testing.T, s core.Store, migrate func(context.Context) error) {
	t.Helper()
	ctx := t.Context()
	user := func(name, email string, owner *core.User) core.User {
		u := core.User{Username: name, Email: email, AuthorizedKeys: []string{}, Created: at(1)}
		if owner != nil {
			u.AccountID = owner.AccountID
		}
		update(t, s, func(tx core.Tx) error { return tx.CreateUser(ctx, &u) })
		return u
	}
	alice := user("alice", "alice@example.com", nil)
	user("bob", "bob@example.com", &alice)
	carol := user("carol", "carol@example.com", nil)
	update(t, s, func(tx core.Tx) error {
		acc, err := tx.Account(ctx, carol.AccountID)
		if err != nil {
			return err
		}
		acc.Contact.Email, acc.Contact.City = "billing@example.com", "Philadelphia"
		return tx.UpdateAccount(ctx, acc)
	})
	dave := user("dave", "", nil)
	erin := user("erin", "", nil)
	user("frank", "frank@example.com", &erin)
	if err := migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	for _, c := range []struct {
		owner core.User
		want  core.AccountContact
	}{
		{alice, core.AccountContact{Email: "alice@example.com"}},
		{carol, core.AccountContact{Email: "billing@example.com", City: "Philadelphia"}},
		{dave, core.AccountContact{}},
		{erin, core.AccountContact{Email: "frank@example.com"}},
	} {
		acc, err := s.Account(ctx, c.owner.AccountID)
		noErr(t, "Account", err)
		equal(t, "the contact of "+c.owner.Username+"'s account", acc.Contact, c.want)
	}
}
