package core_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/testenv"
)

// member creates a user in the account of owner and returns it acting
// with every scope.
func (e *env) member(owner core.Actor, name string, restricted bool) core.Actor {
	e.t.Helper()
	_, err := e.svc.CreateAccountUser(e.ctx, owner, core.UserCreate{Username: name, Email: name + "@example.com", Restricted: restricted})
	noErr(e.t, err)
	return e.token(name, core.AllScopes)
}

func TestAccountUsers(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice", false)
	bob := e.member(alice, "bob", true)
	eve := e.user("eve", false) // another account

	page, err := e.svc.AccountUsers(e.ctx, alice, core.ListQuery{Page: 1, PageSize: 25})
	noErr(t, err)
	if page.Results != 2 || page.Data[0].User.Username != "alice" || page.Data[1].User.Username != "bob" || !page.Data[1].User.Restricted {
		t.Fatalf("alice's account: %+v", page)
	}
	if bob.User.AccountID != alice.User.AccountID || eve.User.AccountID == alice.User.AccountID {
		t.Fatalf("accounts: alice %d, bob %d, eve %d", alice.User.AccountID, bob.User.AccountID, eve.User.AccountID)
	}

	// Another account's users are absent, not forbidden.
	_, err = e.svc.AccountUser(e.ctx, eve, "alice")
	wantErr(t, err, core.KindNotFound, "")
	_, err = e.svc.UpdateAccountUser(e.ctx, eve, "bob", core.AccountUserUpdate{Email: ptr("x@example.com")})
	wantErr(t, err, core.KindNotFound, "")
	wantErr(t, e.svc.DeleteAccountUser(e.ctx, eve, "bob"), core.KindNotFound, "")
	_, err = e.svc.SetAccountUserGrants(e.ctx, eve, "bob", []byte(`{"global":{}}`))
	wantErr(t, err, core.KindNotFound, "")

	// A restricted user never manages users, whatever their scopes.
	_, err = e.svc.AccountUsers(e.ctx, bob, core.ListQuery{Page: 1, PageSize: 25})
	wantErr(t, err, core.KindForbidden, "")
	_, err = e.svc.CreateAccountUser(e.ctx, bob, core.UserCreate{Username: "mallory", Email: "m@example.com"})
	wantErr(t, err, core.KindForbidden, "")
	_, err = e.svc.AccountLogins(e.ctx, bob, core.ListQuery{Page: 1, PageSize: 25})
	wantErr(t, err, core.KindForbidden, "")
	// A read-only token reads, and does not write.
	ro := e.token("alice", core.Scopes("account:read_only"))
	if _, err := e.svc.AccountUsers(e.ctx, ro, core.ListQuery{Page: 1, PageSize: 25}); err != nil {
		t.Fatalf("a read-only token lists users: %v", err)
	}
	_, err = e.svc.CreateAccountUser(e.ctx, ro, core.UserCreate{Username: "mallory", Email: "m@example.com"})
	if e := wantErr(t, err, core.KindForbidden, ""); e.Required != "account:read_write" {
		t.Errorf("a read-only token's create: required %q", e.Required)
	}

	// Usernames are unique regardless of case, across accounts.
	_, err = e.svc.CreateAccountUser(e.ctx, alice, core.UserCreate{Username: "EVE", Email: "e2@example.com"})
	wantErr(t, err, core.KindConflict, "username")
	_, err = e.svc.CreateAccountUser(e.ctx, alice, core.UserCreate{Username: "a b", Email: "e2@example.com"})
	wantErr(t, err, core.KindInvalid, "username")
}

func TestAccountUserRenameKeepsTokens(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice", false)
	_, raw, err := e.svc.IssueToken(e.ctx, "alice", "t", core.AllScopes, nil)
	noErr(t, err)
	u, err := e.svc.UpdateAccountUser(e.ctx, alice, "alice", core.AccountUserUpdate{Username: ptr("alicia"), Email: ptr("alicia@example.com")})
	noErr(t, err)
	if u.User.Username != "alicia" || u.User.Email != "alicia@example.com" {
		t.Fatalf("after the rename: %+v", u.User)
	}
	a, err := e.svc.Authenticate(e.ctx, raw)
	noErr(t, err)
	if a.User.Username != "alicia" {
		t.Errorf("the token's user after the rename: %q", a.User.Username)
	}
	e.user("bob", false)
	_, err = e.svc.UpdateAccountUser(e.ctx, a, "alicia", core.AccountUserUpdate{Username: ptr("Bob")})
	wantErr(t, err, core.KindInvalid, "username")
	_, err = e.svc.UpdateAccountUser(e.ctx, a, "alicia", core.AccountUserUpdate{Email: ptr("not an email")})
	wantErr(t, err, core.KindInvalid, "email")
}

// TestOldValuesSentBackUnchanged: a username and an email taken under
// looser rules of an earlier profiled (made here through the store, as an
// old database holds them) still pass when an update sends them back
// unchanged, as linodego and Terraform send the whole object; changing
// them to something the rules refuse is still refused.
func TestOldValuesSentBackUnchanged(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice", false)
	const oldName, oldEmail = "alice_", "jürgen@example.com"
	noErr(t, e.store.Update(e.ctx, func(tx core.Tx) error {
		u, err := tx.UserByID(e.ctx, alice.User.ID)
		if err != nil {
			return err
		}
		u.Username, u.Email = oldName, oldEmail
		return tx.UpdateUser(e.ctx, u)
	}))
	if core.ValidateUsername("username", oldName) == nil || core.ValidateEmail("email", oldEmail) == nil {
		t.Fatal("the old values pass today's rules: the test proves nothing")
	}
	a := e.token(oldName, core.AllScopes)
	u, err := e.svc.UpdateAccountUser(e.ctx, a, oldName, core.AccountUserUpdate{Username: ptr(oldName), Email: ptr(oldEmail), Restricted: ptr(false)})
	noErr(t, err)
	if u.User.Username != oldName || u.User.Email != oldEmail {
		t.Fatalf("after an update that changed nothing: %+v", u.User)
	}
	p, err := e.svc.UpdateProfile(e.ctx, a, core.ProfileUpdate{Email: ptr(oldEmail), Timezone: ptr("Europe/Berlin")})
	noErr(t, err)
	if p.Email != oldEmail || p.Timezone != "Europe/Berlin" {
		t.Fatalf("the profile after the update: %+v", p)
	}
	_, err = e.svc.UpdateMe(e.ctx, a, core.MeUpdate{Email: ptr(oldEmail), FirstName: ptr("Alice")})
	noErr(t, err)
	_, err = e.svc.UpdateAccountUser(e.ctx, a, oldName, core.AccountUserUpdate{Username: ptr("alice__")})
	wantErr(t, err, core.KindInvalid, "username")
	_, err = e.svc.UpdateProfile(e.ctx, a, core.ProfileUpdate{Email: ptr("josé@example.com")})
	wantErr(t, err, core.KindInvalid, "email")
}

func TestAccountLastOwner(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice", false)
	_, err := e.svc.UpdateAccountUser(e.ctx, alice, "alice", core.AccountUserUpdate{Restricted: ptr(true)})
	wantErr(t, err, core.KindInvalid, "restricted")
	wantErr(t, e.svc.DeleteAccountUser(e.ctx, alice, "alice"), core.KindInvalid, "username")

	// With a second owner, one of them may go; the other then stays.
	e.member(alice, "dave", false)
	bob := e.member(alice, "bob", true)
	_, raw, err := e.svc.IssueToken(e.ctx, "bob", "t", core.AllScopes, nil)
	noErr(t, err)
	noErr(t, e.svc.DeleteAccountUser(e.ctx, alice, "bob"))
	if _, err := e.svc.Authenticate(e.ctx, raw); core.KindOf(err) != core.KindUnauthorized {
		t.Errorf("a deleted user's token: %v, want refused", err)
	}
	_ = bob
	_, err = e.svc.UpdateAccountUser(e.ctx, alice, "dave", core.AccountUserUpdate{Restricted: ptr(true)})
	noErr(t, err)
	wantErr(t, e.svc.DeleteAccountUser(e.ctx, alice, "alice"), core.KindInvalid, "username")
}

// TestAccountLastOwnerRace: two owners each deleting the other at once,
// through two replicas: one succeeds, and the account keeps an owner.
func TestAccountLastOwnerRace(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			r := newReplicas(t, b)
			alice := r.user("alice")
			_, err := r.A().CreateAccountUser(r.ctx, alice, core.UserCreate{Username: "dave", Email: "dave@example.com"})
			noErr(t, err)
			_, raw, err := r.A().IssueToken(r.ctx, "dave", "t", core.AllScopes, nil)
			noErr(t, err)
			dave, err := r.B().Authenticate(r.ctx, raw)
			noErr(t, err)
			var errA, errB error
			together(
				func() { errA = r.A().DeleteAccountUser(r.ctx, alice, "dave") },
				func() { errB = r.B().DeleteAccountUser(r.ctx, dave, "alice") },
			)
			if (errA == nil) == (errB == nil) {
				t.Fatalf("both deletes: %v and %v, want exactly one to succeed", errA, errB)
			}
			for _, err := range []error{errA, errB} {
				if err != nil && core.KindOf(err) != core.KindInvalid && core.KindOf(err) != core.KindUnauthorized && core.KindOf(err) != core.KindNotFound {
					t.Errorf("the losing delete: %v", err)
				}
			}
		})
	}
}

func TestAccountUserGrants(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice", false)
	bob := e.member(alice, "bob", true)
	g, err := e.svc.AccountUserGrants(e.ctx, alice, "alice")
	noErr(t, err)
	if g != nil {
		t.Errorf("an unrestricted user's grants: %s, want none (204)", g)
	}
	_, err = e.svc.SetAccountUserGrants(e.ctx, alice, "alice", []byte(`{"global":{}}`))
	wantErr(t, err, core.KindInvalid, "username")

	_, err = e.svc.SetAccountUserGrants(e.ctx, alice, "bob",
		[]byte(`{"global":{"account_access":"read_only","add_linodes":true},"linode":[{"id":7,"label":"web","permissions":"read_write"},{"id":8,"permissions":"read_only"}]}`))
	noErr(t, err)
	// Only what a PUT names changes: here linode 8 and the volumes.
	g, err = e.svc.SetAccountUserGrants(e.ctx, alice, "bob", []byte(`{"linode":[{"id":8,"permissions":null}],"volume":[{"id":3,"permissions":"read_only"}]}`))
	noErr(t, err)
	var doc core.GrantsDoc
	noErr(t, json.Unmarshal(g, &doc))
	if doc.Global.AccountAccess == nil || *doc.Global.AccountAccess != "read_only" || !doc.Global.AddLinodes {
		t.Errorf("global grants after a PUT without global: %+v", doc.Global)
	}
	if len(doc.Linode) != 2 || doc.Linode[0].Label != "web" || *doc.Linode[0].Permissions != "read_write" || doc.Linode[1].Permissions != nil {
		t.Errorf("linode grants after the merge: %s", g)
	}
	if len(doc.Volume) != 1 || doc.Volume[0].ID != 3 {
		t.Errorf("volume grants after the merge: %s", g)
	}
	// What the owner set is what bob sees.
	mine, err := e.svc.Grants(e.ctx, bob)
	noErr(t, err)
	if string(mine) != string(g) {
		t.Errorf("bob's /profile/grants: %s, want %s", mine, g)
	}
	for body, field := range map[string]string{
		`{"linode":[{"id":7,"permissions":"admin"}]}`: "linode.permissions",
		`{"linode":[{"id":0,"permissions":null}]}`:    "linode.id",
		`{"global":{"account_access":"owner"}}`:       "global.account_access",
		`[]`:                                          "grants",
	} {
		_, err := e.svc.SetAccountUserGrants(e.ctx, alice, "bob", []byte(body))
		wantErr(t, err, core.KindInvalid, field)
	}
	after, err := e.svc.AccountUserGrants(e.ctx, alice, "bob")
	noErr(t, err)
	if string(after) != string(g) {
		t.Errorf("refused PUTs changed the grants: %s", after)
	}
	// What a GrantsResponse does not have is ignored, as the Linode API
	// ignores it, and changes nothing.
	same, err := e.svc.SetAccountUserGrants(e.ctx, alice, "bob", []byte(`{"bogus":[],"lkecluster":[{"id":1,"permissions":"read_only"}]}`))
	noErr(t, err)
	if string(same) != string(g) {
		t.Errorf("a PUT of fields grants do not have changed them: %s, want %s", same, g)
	}
	merged, err := e.svc.SetAccountUserGrants(e.ctx, alice, "bob", []byte(`{"global":{"add_kubernetes":true,"add_domains":true}}`))
	noErr(t, err)
	if !strings.Contains(string(merged), `"add_domains":true`) || strings.Contains(string(merged), "add_kubernetes") {
		t.Errorf("a PUT with a global grant profiled does not have: %s", merged)
	}
	// linodego's update sends placement_group; it is kept and shown.
	g, err = e.svc.SetAccountUserGrants(e.ctx, alice, "bob", []byte(`{"placement_group":[{"id":1,"permissions":"read_only"}],"global":{"account_access":null}}`))
	noErr(t, err)
	if !strings.Contains(string(g), `"placement_group":[{"id":1,"label":"","permissions":"read_only"}]`) {
		t.Errorf("placement_group grants: %s", g)
	}
}

func TestAccountLogins(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice", false)
	e.member(alice, "bob", true)
	eve := e.user("eve", false)
	for _, name := range []string{"alice", "bob", "eve"} {
		noErr(t, e.svc.SetPassword(e.ctx, e.userID(name), "correct horse battery staple"))
		_, err := e.svc.SignIn(e.ctx, core.SignInRequest{Username: name, Password: "correct horse battery staple", IP: "192.0.2.1"})
		noErr(t, err)
	}
	page, err := e.svc.AccountLogins(e.ctx, alice, core.ListQuery{Page: 1, PageSize: 25})
	noErr(t, err)
	if page.Results != 2 || page.Data[0].Username != "alice" || page.Data[1].Username != "bob" {
		t.Fatalf("alice's account's logins: %+v", page)
	}
	_, err = e.svc.AccountLogin(e.ctx, eve, page.Data[0].ID)
	wantErr(t, err, core.KindNotFound, "")
	u, err := e.svc.AccountUser(e.ctx, alice, "bob")
	noErr(t, err)
	if u.Summary.LastLogin == nil || u.Summary.LastLogin.Status != core.LoginSuccessful || u.Summary.PasswordCreated == nil {
		t.Errorf("bob's summary: %+v", u.Summary)
	}
}

func TestAccountAndSettings(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice", false)
	bob := e.member(alice, "bob", true)
	// A new account's contact address is its first user's.
	if acc, err := e.svc.Account(e.ctx, alice); err != nil || acc.Contact.Email != alice.User.Email || alice.User.Email == "" {
		t.Fatalf("a new account's contact: %+v, %v; want the address %q", acc.Contact, err, alice.User.Email)
	}
	acc, err := e.svc.UpdateAccount(e.ctx, alice, core.AccountUpdate{
		Contact:  map[string]*string{"company": ptr("Wonder"), "email": ptr("billing@example.com")},
		Settings: &core.AccountSettingsUpdate{NetworkHelper: ptr(true), InterfacesForNewLinodes: ptr("linode_only")},
	})
	noErr(t, err)
	if acc.Contact.Company != "Wonder" || !acc.Settings.NetworkHelper || acc.Settings.InterfacesForNewLinodes != "linode_only" {
		t.Fatalf("after the update: %+v", acc)
	}
	// Restricted users read the account and do not change it.
	got, err := e.svc.Account(e.ctx, bob)
	noErr(t, err)
	if got.Contact.Company != "Wonder" || got.ID != acc.ID {
		t.Errorf("bob reads %+v", got)
	}
	_, err = e.svc.UpdateAccount(e.ctx, bob, core.AccountUpdate{Contact: map[string]*string{"company": ptr("Mine")}})
	wantErr(t, err, core.KindForbidden, "")
	for field, in := range map[string]core.AccountUpdate{
		"email":                      {Contact: map[string]*string{"email": ptr("nope")}},
		"zip":                        {Contact: map[string]*string{"zip": ptr("1234567890")}},
		"city":                       {Contact: map[string]*string{"city": ptr(strings.Repeat("c", 25))}},
		"first_name":                 {Contact: map[string]*string{"first_name": ptr(strings.Repeat("é", 51))}},
		"phone":                      {Contact: map[string]*string{"phone": ptr(strings.Repeat("5", 33))}},
		"country":                    {Contact: map[string]*string{"country": ptr("USA")}},
		"company":                    {Contact: map[string]*string{"company": ptr("<script>")}},
		"last_name":                  {Contact: map[string]*string{"last_name": ptr("a=b")}},
		"tax_id":                     {Contact: map[string]*string{"tax_id": ptr(strings.Repeat("t", 26))}},
		"balance":                    {Contact: map[string]*string{"balance": ptr("0")}},
		"interfaces_for_new_linodes": {Settings: &core.AccountSettingsUpdate{InterfacesForNewLinodes: ptr("any")}},
	} {
		_, err := e.svc.UpdateAccount(e.ctx, alice, in)
		wantErr(t, err, core.KindInvalid, field)
	}
	// The address may change, but not go.
	_, err = e.svc.UpdateAccount(e.ctx, alice, core.AccountUpdate{Contact: map[string]*string{"email": ptr("")}})
	wantErr(t, err, core.KindInvalid, "email")
	after, err := e.svc.Account(e.ctx, alice)
	noErr(t, err)
	if after.Contact != acc.Contact || after.Settings != acc.Settings {
		t.Errorf("refused updates changed the account: %+v", after)
	}
	// At the limits, each field is taken; a value an earlier profiled
	// took past them (128 characters for every field), sent back
	// unchanged, is not checked again.
	at := map[string]*string{"zip": ptr("19102-1234"), "city": ptr(strings.Repeat("c", 24)), "country": ptr("DE"),
		"first_name": ptr(strings.Repeat("é", 50)), "phone": ptr(strings.Repeat("5", 32)), "tax_id": ptr(strings.Repeat("t", 25))}
	_, err = e.svc.UpdateAccount(e.ctx, alice, core.AccountUpdate{Contact: at})
	noErr(t, err)
	old := after
	old.Contact.City = strings.Repeat("c", 128)
	noErr(t, e.store.Update(e.ctx, func(tx core.Tx) error { return tx.UpdateAccount(e.ctx, old) }))
	_, err = e.svc.UpdateAccount(e.ctx, alice, core.AccountUpdate{Contact: map[string]*string{"city": ptr(old.Contact.City), "company": ptr("Again")}})
	noErr(t, err)
}

func TestDisabledUser(t *testing.T) {
	e := newEnv(t)
	e.user("alice", false)
	_, raw, err := e.svc.IssueToken(e.ctx, "alice", "t", core.AllScopes, nil)
	noErr(t, err)
	noErr(t, e.svc.SetPassword(e.ctx, e.userID("alice"), "correct horse battery staple"))
	rs, secret, err := e.svc.CreateOAuthClient(e.ctx, core.OAuthClientCreate{Label: "billing", Website: "https://billing.example",
		RedirectURIs: []string{"https://billing.example/cb"}})
	noErr(t, err)
	if in, err := e.svc.Introspect(e.ctx, core.ClientAuth{ClientID: rs.ID, ClientSecret: secret}, raw); err != nil || !in.Active {
		t.Fatalf("introspection before: %+v, %v", in, err)
	}
	noErr(t, e.svc.SetDisabled(e.ctx, "alice", true))
	if _, err := e.svc.Authenticate(e.ctx, raw); core.KindOf(err) != core.KindUnauthorized {
		t.Errorf("a disabled user's token: %v, want refused", err)
	}
	// Services that introspect refuse it too.
	if in, err := e.svc.Introspect(e.ctx, core.ClientAuth{ClientID: rs.ID, ClientSecret: secret}, raw); err != nil || in.Active {
		t.Errorf("introspection of a disabled user's token: %+v, %v, want inactive", in, err)
	}
	_, err = e.svc.SignIn(e.ctx, core.SignInRequest{Username: "alice", Password: "correct horse battery staple", IP: "192.0.2.1"})
	wantErr(t, err, core.KindForbidden, "")
	noErr(t, e.svc.SetDisabled(e.ctx, "alice", false))
	if _, err := e.svc.Authenticate(e.ctx, raw); err != nil {
		t.Errorf("an enabled user's token: %v", err)
	}
}

func TestAccountEvents(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice", false)
	bob := e.member(alice, "bob", true)
	_, _, err := e.svc.CreateToken(e.ctx, bob, core.TokenCreate{Label: "bobs", Scopes: ptr("account:read_only")})
	noErr(t, err)
	all, err := e.svc.AccountEvents(e.ctx, alice, core.ListQuery{Page: 1, PageSize: 25})
	noErr(t, err)
	if all.Results < 2 || all.Data[0].Action != "token_create" || all.Data[0].Username != "bob" {
		t.Fatalf("alice's account's events: %+v", all)
	}
	// A restricted user sees their own events only.
	mine, err := e.svc.AccountEvents(e.ctx, bob, core.ListQuery{Page: 1, PageSize: 25})
	noErr(t, err)
	for _, ev := range mine.Data {
		if ev.UserID != bob.User.ID {
			t.Errorf("bob sees an event of user %d", ev.UserID)
		}
	}
	var alices core.AccountEvent
	for _, ev := range all.Data {
		if ev.UserID == alice.User.ID {
			alices = ev
		}
	}
	_, err = e.svc.AccountEvent(e.ctx, bob, alices.ID)
	wantErr(t, err, core.KindNotFound, "")
	wantErr(t, e.svc.MarkEventRead(e.ctx, bob, alices.ID), core.KindNotFound, "")
	// The events scope is needed.
	noScope := e.token("alice", core.Scopes("account:read_write"))
	_, err = e.svc.AccountEvents(e.ctx, noScope, core.ListQuery{Page: 1, PageSize: 25})
	if ce := wantErr(t, err, core.KindForbidden, ""); ce.Required != "events:read_only" {
		t.Errorf("required %q", ce.Required)
	}
}

// TestAccountUserGrantsBounded: grants grow by merging, up to
// MaxGrantEntities of each kind; the same ids again change, not grow.
func TestAccountUserGrantsBounded(t *testing.T) {
	e := newEnv(t)
	alice := e.user("alice", false)
	e.member(alice, "bob", true)
	batch := func(from, n int) []byte {
		var b strings.Builder
		b.WriteString(`{"linode":[`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"id":%d,"permissions":"read_only"}`, from+i)
		}
		b.WriteString(`]}`)
		return []byte(b.String())
	}
	_, err := e.svc.SetAccountUserGrants(e.ctx, alice, "bob", batch(1, core.MaxGrantEntities))
	noErr(t, err)
	// The same ids again: a merge, not a growth.
	g, err := e.svc.SetAccountUserGrants(e.ctx, alice, "bob", batch(1, core.MaxGrantEntities))
	noErr(t, err)
	var doc core.GrantsDoc
	noErr(t, json.Unmarshal(g, &doc))
	if len(doc.Linode) != core.MaxGrantEntities {
		t.Fatalf("%d linode grants after merging the same ids twice", len(doc.Linode))
	}
	_, err = e.svc.SetAccountUserGrants(e.ctx, alice, "bob", batch(core.MaxGrantEntities+1, 1))
	wantErr(t, err, core.KindInvalid, "linode")
	_, err = e.svc.SetAccountUserGrants(e.ctx, alice, "bob", batch(1, core.MaxGrantEntities+1))
	wantErr(t, err, core.KindInvalid, "linode")
}
