package core_test

import (
	"crypto/rand"
	"testing"

	"github.com/profiled/profiled/core"
)

// TestNotificationMails: with Config.Mail on, the changes that call for a
// security notification queue a mail to the user in their transaction,
// whatever email_notifications says; off, none are queued.
func TestNotificationMails(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	if _, err := e.svc.UpdateProfile(e.ctx, a, core.ProfileUpdate{EmailNotifications: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.CreateToken(e.ctx, a, core.TokenCreate{Label: "before"}); err != nil {
		t.Fatal(err)
	}
	mails := func() []core.Mail {
		t.Helper()
		var out []core.Mail
		noErr(t, e.store.Update(e.ctx, func(tx core.Tx) error {
			ms, err := tx.ClaimOutbox(e.ctx, core.OutboxMail, e.clock.Now(), 0, 100)
			for _, m := range ms {
				mail, err := core.ParseMail(m)
				noErr(t, err)
				out = append(out, mail)
			}
			return err
		}))
		return out
	}
	if got := mails(); len(got) != 0 {
		t.Fatalf("mails queued with mail off: %+v", got)
	}

	e.svc = core.New(core.Config{PasswordCost: e.cost, Store: e.store, Box: e.box, SMS: e.sms, Now: e.clock.Now, Rand: rand.Reader, Mail: true})
	tok, _, err := e.svc.CreateToken(e.ctx, a, core.TokenCreate{Label: "ci"})
	noErr(t, err)
	noErr(t, e.svc.RevokeToken(e.ctx, a, tok.ID)) // no mail for a revoke
	_, _, err = e.svc.CreateToken(e.ctx, a, core.TokenCreate{Label: ""})
	wantErr(t, err, core.KindInvalid, "label") // a refused change queues nothing
	got := mails()
	if len(got) != 1 || got[0].To != "alice@example.com" || got[0].Template != "token_created" ||
		got[0].Data["username"] != "alice" || got[0].Data["detail"] != "ci" {
		t.Fatalf("queued mails: %+v, want token_created to alice", got)
	}
}

// TestNewAddressSignInMail: a sign-in from an address the user never
// signed in from is mailed to them; from a known address, none.
func TestNewAddressSignInMail(t *testing.T) {
	e := newEnv(t)
	e.mailOn()
	a := e.user("alice", false)
	noErr(t, e.svc.SetPassword(e.ctx, a.User.ID, "the passphrase of alice"))
	signIn := func(ip string) {
		t.Helper()
		_, err := e.svc.SignIn(e.ctx, core.SignInRequest{Username: "alice", Password: "the passphrase of alice", IP: ip})
		noErr(t, err)
	}
	newSignIns := func() []string {
		var ips []string
		for _, m := range e.queuedMails() {
			if m.Template == "new_signin" {
				ips = append(ips, m.Data["detail"])
			}
		}
		return ips
	}
	signIn("192.0.2.1")
	signIn("192.0.2.1")
	signIn("198.51.100.9")
	if got := newSignIns(); len(got) != 2 || got[0] != "192.0.2.1" || got[1] != "198.51.100.9" {
		t.Errorf("new-address mails for %v, want one for each new address", got)
	}
}
