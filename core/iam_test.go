package core_test

import (
	"strings"
	"testing"

	"github.com/profiled/profiled/core"
)

// wantKind fails t unless err is a *core.Error of kind k naming field
// (field "-" skips the field check).
func wantKind(t *testing.T, what string, err error, k core.Kind, field string) {
	t.Helper()
	e := core.AsError(err)
	if e == nil || e.Kind != k || (field != "-" && e.Field != field) {
		t.Errorf("%s: got %#v (%v), want kind %d on field %q", what, e, err, k, field)
	}
}

func TestValidateLocale(t *testing.T) {
	for in, want := range map[string]string{
		"en-US": "en-US", "en_us": "en-US", "EN-us": "en-US", "fr": "fr", "zh-Hant-TW": "zh-Hant-TW",
		"sr-Latn-RS": "sr-Latn-RS", "de-CH-1996": "de-CH-1996", "en-US-x-private": "en-US-x-private",
	} {
		got, err := core.ValidateLocale("locale", in)
		if err != nil || got != want {
			t.Errorf("ValidateLocale(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "und", "x-private", "xx-YY", "123", "en--US", "a", "en-US\x00",
		"english", strings.Repeat("en-", 20) + "US"} {
		if got, err := core.ValidateLocale("locale", in); err == nil {
			t.Errorf("ValidateLocale(%q) = %q, want an error", in, got)
		} else {
			wantKind(t, "ValidateLocale("+in+")", err, core.KindInvalid, "locale")
		}
	}
}

func TestMeDefaults(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	m, err := e.svc.Me(e.ctx, a)
	noErr(t, err)
	if !m.Human() || m.Profile.Kind != core.UserHuman || m.User.Username != "alice" || m.Profile.AvatarID != "" {
		t.Fatalf("Me: %+v", m)
	}
	if m.Profile.Config != core.DefaultUserConfig() || m.Profile.Config.Locale != "en-US" {
		t.Errorf("defaults: %+v", m.Profile.Config)
	}
	// Reads need account:read_only, writes account:read_write.
	none := e.token("alice", "linodes:read_write")
	_, err = e.svc.Me(e.ctx, none)
	if ce := core.AsError(err); ce == nil || ce.Kind != core.KindForbidden || ce.Required != "account:read_only" {
		t.Errorf("Me without account scope: %v", err)
	}
	ro := e.token("alice", "account:read_only")
	if _, err := e.svc.Me(e.ctx, ro); err != nil {
		t.Errorf("Me with account:read_only: %v", err)
	}
	_, err = e.svc.UpdateMe(e.ctx, ro, core.MeUpdate{FirstName: ptr("A")})
	if ce := core.AsError(err); ce == nil || ce.Required != "account:read_write" {
		t.Errorf("UpdateMe with account:read_only: %v", err)
	}
}

func TestUpdateMe(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	m, err := e.svc.UpdateMe(e.ctx, a, core.MeUpdate{FirstName: ptr("  Ada "), LastName: ptr("Lovelace"), Locale: ptr("fr_ca")})
	noErr(t, err)
	if m.Profile.FirstName != "Ada" || m.Profile.LastName != "Lovelace" || m.Profile.Config.Locale != "fr-CA" ||
		m.User.Email != "alice@example.com" || m.User.Timezone != "UTC" {
		t.Fatalf("after a partial update: %+v", m)
	}
	// The locale is the config's locale.
	cfg, err := e.svc.MyConfig(e.ctx, a)
	noErr(t, err)
	if cfg.Locale != "fr-CA" || cfg.Theme != "system" {
		t.Errorf("config after PATCH locale: %+v", cfg)
	}

	// A new email address is not verified.
	noErr(t, e.store.Update(e.ctx, func(tx core.Tx) error {
		p, err := tx.IAMProfile(e.ctx, a.User.ID)
		if err != nil {
			return err
		}
		p.EmailVerified = true
		return tx.PutIAMProfile(e.ctx, p)
	}))
	m, err = e.svc.UpdateMe(e.ctx, a, core.MeUpdate{Email: ptr("alice@example.com"), Timezone: ptr("Europe/Berlin")})
	noErr(t, err)
	if !m.Profile.EmailVerified || m.User.Timezone != "Europe/Berlin" {
		t.Errorf("the same address stays verified: %+v", m)
	}
	m, err = e.svc.UpdateMe(e.ctx, a, core.MeUpdate{Email: ptr("ada@example.org")})
	noErr(t, err)
	if m.Profile.EmailVerified || m.User.Email != "ada@example.org" {
		t.Errorf("a new address: %+v", m)
	}
	// The Linode face sees the same user.
	if u := e.refresh(a); u.Email != "ada@example.org" || u.Timezone != "Europe/Berlin" {
		t.Errorf("Linode profile: %+v", u)
	}

	for field, in := range map[string]core.MeUpdate{
		"email":      {Email: ptr("not an address"), FirstName: ptr("Changed")},
		"timezone":   {Timezone: ptr("Mars/Olympus")},
		"locale":     {Locale: ptr("klingon-ish")},
		"first_name": {FirstName: ptr(strings.Repeat("a", 101))},
		"last_name":  {LastName: ptr("bad\x00name")},
	} {
		_, err := e.svc.UpdateMe(e.ctx, a, in)
		wantKind(t, "UpdateMe "+field, err, core.KindInvalid, field)
	}
	after, err := e.svc.Me(e.ctx, a)
	noErr(t, err)
	if after.Profile.FirstName != "Ada" || after.User.Email != "ada@example.org" {
		t.Errorf("a refused update changed the user: %+v", after)
	}
}

func TestServiceAccounts(t *testing.T) {
	e := newEnv(t)
	owner := e.user("owner", false)
	sa, key, err := e.svc.CreateServiceAccount(e.ctx, core.ServiceAccountCreate{Name: " CI deploy ", Description: "deploys\nthings", Owner: "owner", Scopes: "account:read_write"})
	noErr(t, err)
	if sa.Human() || sa.Profile.Name != "CI deploy" || sa.Profile.OwnerID != owner.User.ID || !strings.HasPrefix(sa.User.Username, "sa-") ||
		sa.User.AuthenticationType != "service_account" || len(key) != 64 {
		t.Fatalf("service account: %+v key %q", sa, key)
	}
	a, err := e.svc.Authenticate(e.ctx, key)
	noErr(t, err)
	if a.Token.Scopes != "account:read_write" || a.User.ID != sa.User.ID {
		t.Fatalf("its key: %+v", a.Token)
	}
	m, err := e.svc.Me(e.ctx, a)
	noErr(t, err)
	if m.Human() || m.Profile.Description != "deploys\nthings" {
		t.Errorf("Me of a service account: %+v", m)
	}
	// The Linode face's profile works for it too.
	if _, err := e.svc.Profile(e.ctx, a); err != nil {
		t.Errorf("Profile of a service account: %v", err)
	}

	// Every human-only operation answers NotFound.
	for name, op := range map[string]func() error{
		"UpdateMe":        func() error { _, err := e.svc.UpdateMe(e.ctx, a, core.MeUpdate{FirstName: ptr("x")}); return err },
		"DeleteMe":        func() error { return e.svc.DeleteMe(e.ctx, a) },
		"ChangePassword":  func() error { return e.svc.ChangePassword(e.ctx, a, "old", "new") },
		"MyConfig":        func() error { _, err := e.svc.MyConfig(e.ctx, a); return err },
		"PutMyConfig":     func() error { _, err := e.svc.PutMyConfig(e.ctx, a, core.DefaultUserConfig()); return err },
		"MyNotifications": func() error { _, err := e.svc.MyNotifications(e.ctx, a); return err },
		"PutMyNotifications": func() error {
			_, err := e.svc.PutMyNotifications(e.ctx, a, core.NotificationConfig{Security: core.Channels{Email: true}})
			return err
		},
		"SetAvatar":    func() error { _, err := e.svc.SetAvatar(e.ctx, a, []byte("x")); return err },
		"DeleteAvatar": func() error { return e.svc.DeleteAvatar(e.ctx, a) },
		"SyncFromAuth": func() error { return e.svc.SyncFromAuth(e.ctx, a, key) },
	} {
		wantKind(t, name+" of a service account", op(), core.KindNotFound, "")
	}

	for field, in := range map[string]core.ServiceAccountCreate{
		"name":        {Name: "  "},
		"description": {Name: "x", Description: strings.Repeat("d", 501)},
		"owner":       {Name: "x", Owner: "nobody"},
		"scopes":      {Name: "x", Scopes: "everything"},
	} {
		_, _, err := e.svc.CreateServiceAccount(e.ctx, in)
		wantKind(t, "CreateServiceAccount "+field, err, core.KindInvalid, field)
	}
	_, _, err = e.svc.CreateServiceAccount(e.ctx, core.ServiceAccountCreate{Name: "x", Owner: sa.User.Username})
	wantKind(t, "a service account owning another", err, core.KindInvalid, "owner")
	free, _, err := e.svc.CreateServiceAccount(e.ctx, core.ServiceAccountCreate{Name: "no owner"})
	noErr(t, err)
	if free.Profile.OwnerID != 0 {
		t.Errorf("owner of an unowned account: %d", free.Profile.OwnerID)
	}

	// Deleting the owner leaves the service account, unowned.
	noErr(t, e.svc.DeleteMe(e.ctx, owner))
	m, err = e.svc.Me(e.ctx, a)
	noErr(t, err)
	if m.Profile.OwnerID != 0 {
		t.Errorf("owner after the owner was deleted: %d", m.Profile.OwnerID)
	}
}

func TestDeleteMe(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	other := e.token("alice", "account:read_only")
	b := e.user("bob", false)
	_, raw, err := e.svc.IssueToken(e.ctx, "alice", "second", core.AllScopes, nil)
	noErr(t, err)

	err = e.svc.DeleteMe(e.ctx, other)
	if ce := core.AsError(err); ce == nil || ce.Required != "account:read_write" {
		t.Fatalf("DeleteMe with a read-only token: %v", err)
	}
	noErr(t, e.svc.DeleteMe(e.ctx, a))
	if _, err := e.svc.Authenticate(e.ctx, raw); core.KindOf(err) != core.KindUnauthorized {
		t.Errorf("a deleted user's token: %v", err)
	}
	if _, err := e.svc.Me(e.ctx, other); core.KindOf(err) != core.KindNotFound {
		t.Errorf("Me with an actor resolved before the delete: %v", err)
	}
	wantKind(t, "DeleteMe twice", e.svc.DeleteMe(e.ctx, a), core.KindNotFound, "")
	if _, err := e.svc.Me(e.ctx, b); err != nil {
		t.Errorf("another user after the delete: %v", err)
	}
	// The username can be used again.
	if _, err := e.svc.CreateUser(e.ctx, core.UserCreate{Username: "alice", Email: "new@example.com"}); err != nil {
		t.Errorf("reusing the username: %v", err)
	}
}

func TestChangePasswordRules(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	// No password yet: nothing is the current password.
	wantKind(t, "ChangePassword without a password", e.svc.ChangePassword(e.ctx, a, "old", "new"), core.KindInvalid, "current_password")
	wantKind(t, "ChangePassword empty current", e.svc.ChangePassword(e.ctx, a, "", "Long enough passphrase 1"), core.KindInvalid, "current_password")
	noErr(t, e.svc.SetPassword(e.ctx, a.User.ID, "The first passphrase 1"))
	wantKind(t, "ChangePassword to the username", e.svc.ChangePassword(e.ctx, a, "The first passphrase 1", "alice"), core.KindInvalid, "new_password")
	noErr(t, e.svc.ChangePassword(e.ctx, a, "The first passphrase 1", "The second passphrase 2"))
	if ok, _ := e.svc.VerifyPassword(e.ctx, a.User.ID, "The second passphrase 2"); !ok {
		t.Fatal("new password does not verify")
	}
	ro := e.token("alice", "account:read_only")
	wantKind(t, "ChangePassword read-only", e.svc.ChangePassword(e.ctx, ro, "old", "new"), core.KindForbidden, "")
}

func TestUserConfig(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	c, err := e.svc.MyConfig(e.ctx, a)
	noErr(t, err)
	if c != core.DefaultUserConfig() {
		t.Fatalf("default config: %+v", c)
	}
	want := core.UserConfig{Locale: "de_de", Theme: "dark", DateFormat: "DD.MM.YYYY", TimeFormat: "12h", WeekStart: "sunday", LandingPage: "api-tokens"}
	got, err := e.svc.PutMyConfig(e.ctx, a, want)
	noErr(t, err)
	want.Locale = "de-DE"
	if got != want {
		t.Errorf("PutMyConfig = %+v, want %+v", got, want)
	}
	if c, _ := e.svc.MyConfig(e.ctx, a); c != want {
		t.Errorf("MyConfig after put = %+v", c)
	}
	if m, _ := e.svc.Me(e.ctx, a); m.Profile.Config.Locale != "de-DE" {
		t.Errorf("the user's locale after PUT config: %q", m.Profile.Config.Locale)
	}
	for field, mutate := range map[string]func(*core.UserConfig){
		"locale":       func(c *core.UserConfig) { c.Locale = "und" },
		"theme":        func(c *core.UserConfig) { c.Theme = "blue" },
		"date_format":  func(c *core.UserConfig) { c.DateFormat = "" },
		"time_format":  func(c *core.UserConfig) { c.TimeFormat = "25h" },
		"week_start":   func(c *core.UserConfig) { c.WeekStart = "Monday" },
		"landing_page": func(c *core.UserConfig) { c.LandingPage = "/etc/passwd" },
	} {
		c := core.DefaultUserConfig()
		mutate(&c)
		_, err := e.svc.PutMyConfig(e.ctx, a, c)
		wantKind(t, "PutMyConfig "+field, err, core.KindInvalid, field)
	}
	if c, _ := e.svc.MyConfig(e.ctx, a); c != want {
		t.Errorf("a refused put changed the config: %+v", c)
	}
}

func TestNotifications(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	n, err := e.svc.MyNotifications(e.ctx, a)
	noErr(t, err)
	want := core.NotificationConfig{Security: core.Channels{Email: true}, Account: core.Channels{Email: true}}
	if n != want {
		t.Fatalf("defaults: %+v", n)
	}

	// Account email is the Linode face's email_notifications, both ways.
	_, err = e.svc.UpdateProfile(e.ctx, a, core.ProfileUpdate{EmailNotifications: ptr(false)})
	noErr(t, err)
	if n, _ := e.svc.MyNotifications(e.ctx, a); n.Account.Email {
		t.Errorf("account.email after the Linode face turned email_notifications off: %+v", n)
	}
	in := core.NotificationConfig{Security: core.Channels{Email: true}, Account: core.Channels{Email: true}, Product: core.Channels{Email: true}}
	got, err := e.svc.PutMyNotifications(e.ctx, a, in)
	noErr(t, err)
	if got != in {
		t.Errorf("PutMyNotifications = %+v", got)
	}
	if u := e.refresh(a); !u.EmailNotifications {
		t.Errorf("email_notifications after account.email on: %+v", u)
	}

	_, err = e.svc.PutMyNotifications(e.ctx, a, core.NotificationConfig{})
	wantKind(t, "security email off", err, core.KindInvalid, "security.email")
	for _, field := range []string{"security.sms", "account.sms", "product.sms"} {
		c := in
		switch field {
		case "security.sms":
			c.Security.SMS = true
		case "account.sms":
			c.Account.SMS = true
		case "product.sms":
			c.Product.SMS = true
		}
		_, err := e.svc.PutMyNotifications(e.ctx, a, c)
		wantKind(t, field+" without a verified phone", err, core.KindInvalid, field)
	}

	// With a verified phone, SMS can be turned on; removing the phone
	// turns it off, and it cannot be turned on again without one.
	noErr(t, e.store.Update(e.ctx, func(tx core.Tx) error {
		u, err := tx.UserByID(e.ctx, a.User.ID)
		if err != nil {
			return err
		}
		u.VerifiedPhoneNumber = "+15555550100"
		return tx.UpdateUser(e.ctx, u)
	}))
	all := core.NotificationConfig{Security: core.Channels{true, true}, Account: core.Channels{true, true}, Product: core.Channels{false, true}}
	got, err = e.svc.PutMyNotifications(e.ctx, a, all)
	noErr(t, err)
	if got != all {
		t.Errorf("with a phone: %+v", got)
	}
	noErr(t, e.svc.DeletePhone(e.ctx, a))
	off := core.NotificationConfig{Security: core.Channels{true, false}, Account: core.Channels{true, false}, Product: core.Channels{false, false}}
	if n, _ := e.svc.MyNotifications(e.ctx, a); n != off {
		t.Errorf("MyNotifications after the phone went = %+v, want %+v", n, off)
	}
	_, err = e.svc.PutMyNotifications(e.ctx, a, all)
	wantKind(t, "SMS on again without a phone", err, core.KindInvalid, "security.sms")
}
