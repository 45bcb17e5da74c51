package core_test

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/testenv"
)

func TestBootstrap(t *testing.T) {
	e := newEnv(t)
	raw, err := e.svc.Bootstrap(e.ctx)
	noErr(t, err)
	if len(raw) != 64 {
		t.Fatalf("bootstrap token %q is not 64 characters", raw)
	}
	a, err := e.svc.Authenticate(e.ctx, raw)
	noErr(t, err)
	if a.User.Username != "admin" || a.User.Restricted || a.Token.Scopes != core.AllScopes || a.Token.Kind != core.TokenPersonal || a.Token.Expiry != nil {
		t.Fatalf("bootstrap actor = %+v / %+v", a.User, a.Token)
	}
	again, err := e.svc.Bootstrap(e.ctx)
	noErr(t, err)
	if again != "" {
		t.Fatalf("second Bootstrap returned a token %q", again)
	}
	n, err := e.store.CountUsers(e.ctx)
	noErr(t, err)
	if n != 1 {
		t.Fatalf("%d users after two bootstraps, want 1", n)
	}
	page, err := e.svc.Tokens(e.ctx, a, allRows)
	noErr(t, err)
	if page.Results != 1 {
		t.Fatalf("admin has %d tokens, want 1", page.Results)
	}
	// Bootstrap does nothing on a database that already has users.
	e2 := newEnv(t)
	e2.user("someone", false)
	raw, err = e2.svc.Bootstrap(e2.ctx)
	noErr(t, err)
	if raw != "" {
		t.Fatal("Bootstrap made a token on a database with users")
	}
	if _, err := e2.store.UserByUsername(e2.ctx, "admin"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("admin after Bootstrap on a database with users: %v", err)
	}
}

func TestCreateUser(t *testing.T) {
	e := newEnv(t)
	u, err := e.svc.CreateUser(e.ctx, core.UserCreate{Username: "alice", Email: "alice@example.com"})
	noErr(t, err)
	if u.ID == 0 || u.Timezone != "UTC" || !u.EmailNotifications || u.LishAuthMethod != core.LishKeysOnly ||
		u.AuthorizedKeys == nil || len(u.AuthorizedKeys) != 0 || u.AuthenticationType != "password" ||
		u.TwoFactorAuth || u.IPWhitelistEnabled || u.VerifiedPhoneNumber != "" || !u.Created.Equal(start) {
		t.Fatalf("new user = %+v", u)
	}
	if _, err := hex.DecodeString(u.ReferralCode); err != nil || len(u.ReferralCode) != 40 {
		t.Fatalf("referral code %q", u.ReferralCode)
	}
	stored, err := e.store.UserByID(e.ctx, u.ID)
	noErr(t, err)
	if stored.Username != "alice" || stored.ReferralCode != u.ReferralCode {
		t.Fatalf("stored user = %+v", stored)
	}
	_, err = e.svc.CreateUser(e.ctx, core.UserCreate{Username: "alice", Email: "other@example.com"})
	wantErr(t, err, core.KindConflict, "username")
	_, err = e.svc.CreateUser(e.ctx, core.UserCreate{Username: "a!", Email: "x@example.com"})
	wantErr(t, err, core.KindInvalid, "username")
	_, err = e.svc.CreateUser(e.ctx, core.UserCreate{Username: "bob", Email: "bob"})
	wantErr(t, err, core.KindInvalid, "email")
	_, _, err = e.svc.IssueToken(e.ctx, "nobody", "x", core.AllScopes, nil)
	wantErr(t, err, core.KindNotFound, "")
}

func TestAuthenticateRefusesGarbage(t *testing.T) {
	e := newEnv(t)
	e.user("alice", false)
	for _, raw := range []string{"", "x", strings.Repeat("0", 64), strings.Repeat("a", 513)} {
		_, err := e.svc.Authenticate(e.ctx, raw)
		wantErr(t, err, core.KindUnauthorized, "")
	}
}

// linodegoEcho is what linodego's UpdateProfile sends: the whole profile back.
func linodegoEcho(u core.User) core.ProfileUpdate {
	keys := append([]string{}, u.AuthorizedKeys...)
	return core.ProfileUpdate{
		Email: ptr(u.Email), Timezone: ptr(u.Timezone), EmailNotifications: ptr(u.EmailNotifications),
		LishAuthMethod: ptr(u.LishAuthMethod), AuthorizedKeys: &keys, IPWhitelistEnabled: ptr(u.IPWhitelistEnabled),
		UID: ptr(u.ID), Username: ptr(u.Username), Restricted: ptr(u.Restricted), TwoFactorAuth: ptr(u.TwoFactorAuth),
		AuthenticationType: ptr(u.AuthenticationType), VerifiedPhoneNumber: ptr(u.VerifiedPhoneNumber),
		UserType: ptr("default"), Referrals: ptr(core.ReferralsOf(u)),
	}
}

func TestUpdateProfileReadOnlyFields(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	before := e.refresh(a)

	// The whole object sent back unchanged is accepted and changes nothing.
	got, err := e.svc.UpdateProfile(e.ctx, a, linodegoEcho(before))
	noErr(t, err)
	if got.Email != before.Email || got.Timezone != before.Timezone || got.ReferralCode != before.ReferralCode {
		t.Fatalf("echo update changed the profile: %+v", got)
	}

	cases := []struct {
		field string
		set   func(*core.ProfileUpdate)
	}{
		{"uid", func(p *core.ProfileUpdate) { p.UID = ptr(before.ID + 1) }},
		{"username", func(p *core.ProfileUpdate) { p.Username = ptr("mallory") }},
		{"restricted", func(p *core.ProfileUpdate) { p.Restricted = ptr(true) }},
		{"two_factor_auth", func(p *core.ProfileUpdate) { p.TwoFactorAuth = ptr(true) }},
		{"authentication_type", func(p *core.ProfileUpdate) { p.AuthenticationType = ptr("github") }},
		{"verified_phone_number", func(p *core.ProfileUpdate) { p.VerifiedPhoneNumber = ptr("+16502530000") }},
		{"user_type", func(p *core.ProfileUpdate) { p.UserType = ptr("parent") }},
		{"referrals", func(p *core.ProfileUpdate) { r := core.ReferralsOf(before); r.Total = 5; p.Referrals = &r }},
		{"referrals", func(p *core.ProfileUpdate) { r := core.ReferralsOf(before); r.Code = "free-money"; p.Referrals = &r }},
		{"ip_whitelist_enabled", func(p *core.ProfileUpdate) { p.IPWhitelistEnabled = ptr(true) }},
	}
	for _, c := range cases {
		in := linodegoEcho(before)
		// A valid change rides along and must be rolled back with the refusal.
		in.Email = ptr("changed@example.com")
		c.set(&in)
		_, err := e.svc.UpdateProfile(e.ctx, a, in)
		wantErr(t, err, core.KindInvalid, c.field)
		// Sent alone, too.
		in = core.ProfileUpdate{}
		c.set(&in)
		_, err = e.svc.UpdateProfile(e.ctx, a, in)
		wantErr(t, err, core.KindInvalid, c.field)
	}
	after := e.refresh(a)
	if after.Email != before.Email || after.Restricted || after.TwoFactorAuth || after.IPWhitelistEnabled || after.Username != "alice" {
		t.Fatalf("a refused update changed the profile: %+v", after)
	}
}

func TestUpdateProfileIPWhitelistCanOnlyBeTurnedOff(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	// A legacy user with the whitelist on, as imported data might have.
	noErr(t, e.store.Update(e.ctx, func(tx core.Tx) error {
		u, err := tx.UserByID(e.ctx, a.User.ID)
		if err != nil {
			return err
		}
		u.IPWhitelistEnabled = true
		return tx.UpdateUser(e.ctx, u)
	}))
	_, err := e.svc.UpdateProfile(e.ctx, a, core.ProfileUpdate{IPWhitelistEnabled: ptr(true)})
	noErr(t, err) // unchanged is fine
	u, err := e.svc.UpdateProfile(e.ctx, a, core.ProfileUpdate{IPWhitelistEnabled: ptr(false)})
	noErr(t, err)
	if u.IPWhitelistEnabled || e.refresh(a).IPWhitelistEnabled {
		t.Fatal("ip_whitelist_enabled was not turned off")
	}
	_, err = e.svc.UpdateProfile(e.ctx, a, core.ProfileUpdate{IPWhitelistEnabled: ptr(true)})
	wantErr(t, err, core.KindInvalid, "ip_whitelist_enabled")
}

func TestUpdateProfileFields(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)

	u, err := e.svc.UpdateProfile(e.ctx, a, core.ProfileUpdate{
		Email: ptr("new@example.org"), Timezone: ptr("US/Eastern"), EmailNotifications: ptr(false),
		LishAuthMethod: ptr(core.LishDisabled),
	})
	noErr(t, err)
	stored := e.refresh(a)
	for _, got := range []core.User{u, stored} {
		if got.Email != "new@example.org" || got.Timezone != "US/Eastern" || got.EmailNotifications || got.LishAuthMethod != core.LishDisabled {
			t.Fatalf("profile after update = %+v", got)
		}
	}
	// An empty update changes nothing.
	u, err = e.svc.UpdateProfile(e.ctx, a, core.ProfileUpdate{})
	noErr(t, err)
	if u.Email != "new@example.org" {
		t.Fatalf("empty update changed email to %q", u.Email)
	}

	for _, m := range []string{core.LishPasswordKeys, core.LishKeysOnly, core.LishDisabled} {
		u, err := e.svc.UpdateProfile(e.ctx, a, core.ProfileUpdate{LishAuthMethod: ptr(m)})
		noErr(t, err)
		if u.LishAuthMethod != m || e.refresh(a).LishAuthMethod != m {
			t.Fatalf("lish_auth_method = %q, want %q", u.LishAuthMethod, m)
		}
	}
	for _, m := range []string{"", "password", "keys", "PASSWORD_KEYS"} {
		_, err := e.svc.UpdateProfile(e.ctx, a, core.ProfileUpdate{LishAuthMethod: ptr(m)})
		wantErr(t, err, core.KindInvalid, "lish_auth_method")
	}

	for _, tz := range []string{"", "Local", "Nowhere/City", "../UTC"} {
		_, err := e.svc.UpdateProfile(e.ctx, a, core.ProfileUpdate{Timezone: ptr(tz)})
		wantErr(t, err, core.KindInvalid, "timezone")
	}
	for _, em := range []string{"", "nope", "a@b", "Alice <alice@example.com>"} {
		_, err := e.svc.UpdateProfile(e.ctx, a, core.ProfileUpdate{Email: ptr(em)})
		wantErr(t, err, core.KindInvalid, "email")
	}
	if got := e.refresh(a); got.Email != "new@example.org" || got.Timezone != "US/Eastern" {
		t.Fatalf("refused updates changed the profile: %+v", got)
	}
}

func TestUpdateProfilePasswordKeysNeedsPasswordAuth(t *testing.T) {
	e := newEnv(t)
	a := e.user("octocat", false)
	noErr(t, e.store.Update(e.ctx, func(tx core.Tx) error {
		u, err := tx.UserByID(e.ctx, a.User.ID)
		if err != nil {
			return err
		}
		u.AuthenticationType = "github"
		return tx.UpdateUser(e.ctx, u)
	}))
	_, err := e.svc.UpdateProfile(e.ctx, a, core.ProfileUpdate{LishAuthMethod: ptr(core.LishPasswordKeys)})
	wantErr(t, err, core.KindInvalid, "lish_auth_method")
	for _, m := range []string{core.LishKeysOnly, core.LishDisabled} {
		u, err := e.svc.UpdateProfile(e.ctx, a, core.ProfileUpdate{LishAuthMethod: ptr(m)})
		noErr(t, err)
		if u.LishAuthMethod != m {
			t.Fatalf("lish_auth_method = %q", u.LishAuthMethod)
		}
	}
	// The read-only authentication_type is accepted when it is sent back unchanged.
	_, err = e.svc.UpdateProfile(e.ctx, a, core.ProfileUpdate{AuthenticationType: ptr("github")})
	noErr(t, err)
	_, err = e.svc.UpdateProfile(e.ctx, a, core.ProfileUpdate{AuthenticationType: ptr("password")})
	wantErr(t, err, core.KindInvalid, "authentication_type")
}

func TestUpdateProfileAuthorizedKeys(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	k1, k2 := testenv.NewSSHKey(t, "alice@laptop"), testenv.NewSSHKey(t, "")
	u, err := e.svc.UpdateProfile(e.ctx, a, core.ProfileUpdate{AuthorizedKeys: &[]string{k1, k2}})
	noErr(t, err)
	if got := e.refresh(a).AuthorizedKeys; len(got) != 2 || got[0] != k1 || got[1] != k2 || len(u.AuthorizedKeys) != 2 {
		t.Fatalf("authorized_keys = %q", got)
	}
	for _, bad := range [][]string{
		{"not a key"},
		{k1, "ssh-rsa AAAA_valid_public_ssh_key_123456785== user@their-computer"},
		{k1 + "\n" + k2},
		{`command="rm -rf /" ` + k1},
		{""},
	} {
		_, err := e.svc.UpdateProfile(e.ctx, a, core.ProfileUpdate{AuthorizedKeys: &bad})
		wantErr(t, err, core.KindInvalid, "authorized_keys")
	}
	many := make([]string, 101)
	for i := range many {
		many[i] = k1
	}
	_, err = e.svc.UpdateProfile(e.ctx, a, core.ProfileUpdate{AuthorizedKeys: &many})
	wantErr(t, err, core.KindInvalid, "authorized_keys")
	if got := e.refresh(a).AuthorizedKeys; len(got) != 2 {
		t.Fatalf("refused updates changed authorized_keys to %q", got)
	}
	// A pointer to nil (JSON null) clears the list, which reads back as [].
	var none []string
	u, err = e.svc.UpdateProfile(e.ctx, a, core.ProfileUpdate{AuthorizedKeys: &none})
	noErr(t, err)
	if got := e.refresh(a).AuthorizedKeys; got == nil || len(got) != 0 || u.AuthorizedKeys == nil {
		t.Fatalf("cleared authorized_keys = %#v", got)
	}
}
