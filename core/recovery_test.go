package core_test

import (
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
)

// mailOn rebuilds e's service with mail and a public URL, as serve does
// with --smtp-url and --public-url.
func (e *env) mailOn() {
	e.svc = core.New(core.Config{PasswordCost: e.cost, Store: e.store, Box: e.box, SMS: e.sms, Now: e.clock.Now, Rand: rand.Reader,
		Mail: true, PublicURL: "https://id.example.com/"})
}

// queuedMails resolves the queued recovery requests, as the worker does,
// then claims every mail of the outbox.
func (e *env) queuedMails() []core.Mail {
	e.t.Helper()
	var requests []core.OutboxMessage
	noErr(e.t, e.store.Update(e.ctx, func(tx core.Tx) error {
		var err error
		requests, err = tx.ClaimOutbox(e.ctx, core.OutboxRecovery, e.clock.Now(), time.Hour, 100)
		return err
	}))
	for _, m := range requests {
		noErr(e.t, e.svc.RecoveryRequests().Deliver(e.ctx, m))
	}
	var out []core.Mail
	noErr(e.t, e.store.Update(e.ctx, func(tx core.Tx) error {
		ms, err := tx.ClaimOutbox(e.ctx, core.OutboxMail, e.clock.Now(), time.Hour, 100)
		for _, m := range ms {
			mail, err := core.ParseMail(m)
			noErr(e.t, err)
			out = append(out, mail)
		}
		return err
	}))
	return out
}

// recoveryLink asks for a link for address and returns its token, or ""
// if no recovery mail was queued.
func (e *env) recoveryLink(in core.RecoveryRequest) string {
	e.t.Helper()
	noErr(e.t, e.svc.RequestRecovery(e.ctx, in))
	token := ""
	for _, m := range e.queuedMails() {
		if m.Template == "recovery" {
			link := m.Data["link"]
			if !strings.HasPrefix(link, "https://id.example.com/auth/recover/complete?token=") {
				e.t.Fatalf("the link %q", link)
			}
			token = strings.TrimPrefix(link, "https://id.example.com/auth/recover/complete?token=")
		}
	}
	return token
}

const newPassword = "a brand new passphrase here"

func TestRecovery(t *testing.T) {
	e := newEnv(t)
	// Without mail, recovery is not offered.
	wantErr(t, e.svc.RequestRecovery(e.ctx, core.RecoveryRequest{Email: "a@example.com"}), core.KindNotFound, "")
	e.mailOn()
	a := e.user("alice", false)
	noErr(t, e.svc.SetPassword(e.ctx, a.User.ID, "the forgotten passphrase"))
	signedIn, err := e.svc.SignIn(e.ctx, core.SignInRequest{Username: "alice", Password: "the forgotten passphrase", IP: "192.0.2.1"})
	noErr(t, err)
	e.queuedMails() // the notification of SetPassword

	// The same answer whether or not the address exists; mail only to a user.
	if tok := e.recoveryLink(core.RecoveryRequest{Email: "nobody@example.com"}); tok != "" {
		t.Fatal("a link was mailed for an unknown address")
	}
	if tok := e.recoveryLink(core.RecoveryRequest{Username: "nobody"}); tok != "" {
		t.Fatal("a link was mailed for an unknown username")
	}
	first := e.recoveryLink(core.RecoveryRequest{Email: "ALICE@example.com"})
	second := e.recoveryLink(core.RecoveryRequest{Username: "alice"})
	if len(first) != 64 || len(second) != 64 || first == second {
		t.Fatalf("tokens %q and %q, want two 256-bit tokens", first, second)
	}
	// Only the newest link works.
	wantErr(t, e.svc.CompleteRecovery(e.ctx, core.RecoveryComplete{Token: first, Password: newPassword}), core.KindInvalid, "token")
	// A weak password is refused and spends nothing.
	wantErr(t, e.svc.CompleteRecovery(e.ctx, core.RecoveryComplete{Token: second, Password: "short"}), core.KindInvalid, "password")
	noErr(t, e.svc.CompleteRecovery(e.ctx, core.RecoveryComplete{Token: second, Password: newPassword}))
	// One use; every session ended; the new password signs in; a notification went out.
	wantErr(t, e.svc.CompleteRecovery(e.ctx, core.RecoveryComplete{Token: second, Password: newPassword + "!"}), core.KindInvalid, "token")
	if _, err := e.svc.Authenticate(e.ctx, signedIn.SessionSecret); core.KindOf(err) != core.KindUnauthorized {
		t.Errorf("a session from before the recovery: %v, want ended", err)
	}
	if _, err := e.svc.SignIn(e.ctx, core.SignInRequest{Username: "alice", Password: newPassword, IP: "192.0.2.1"}); err != nil {
		t.Fatalf("sign in with the recovered password: %v", err)
	}
	mails := e.queuedMails()
	if len(mails) != 1 || mails[0].Template != "password_changed" || mails[0].To != a.User.Email {
		t.Errorf("after recovery the mails %+v, want the password_changed notification", mails)
	}

	// A link expires after 30 minutes.
	stale := e.recoveryLink(core.RecoveryRequest{Username: "alice"})
	e.clock.Advance(core.RecoveryLifetime + time.Second)
	wantErr(t, e.svc.CompleteRecovery(e.ctx, core.RecoveryComplete{Token: stale, Password: newPassword + "2"}), core.KindInvalid, "token")
	// A password change voids a link asked for before it.
	pending := e.recoveryLink(core.RecoveryRequest{Username: "alice"})
	noErr(t, e.svc.SetPassword(e.ctx, a.User.ID, "yet another passphrase"))
	wantErr(t, e.svc.CompleteRecovery(e.ctx, core.RecoveryComplete{Token: pending, Password: newPassword + "3"}), core.KindInvalid, "token")
	wantErr(t, e.svc.CompleteRecovery(e.ctx, core.RecoveryComplete{Token: strings.Repeat("0", 64), Password: newPassword}), core.KindInvalid, "token")
	for name, in := range map[string]core.RecoveryRequest{"neither": {}, "both": {Email: "a@example.com", Username: "alice"}} {
		if err := e.svc.RequestRecovery(e.ctx, in); core.KindOf(err) != core.KindInvalid {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
}

// TestRecoveryLimits: requests are limited per address, whether it exists
// or not, and mails per user, silently.
func TestRecoveryLimits(t *testing.T) {
	e := newEnv(t)
	e.mailOn()
	e.user("alice", false)
	for i := range 5 {
		noErr(t, e.svc.RequestRecovery(e.ctx, core.RecoveryRequest{Email: "ghost@example.com"}))
		if i < 4 {
			noErr(t, e.svc.RequestRecovery(e.ctx, core.RecoveryRequest{Username: "alice"}))
		}
	}
	wantErr(t, e.svc.RequestRecovery(e.ctx, core.RecoveryRequest{Email: "ghost@example.com"}), core.KindTooManyRequests, "")
	// alice's own budget: the fifth mail by another address, then silence.
	noErr(t, e.svc.RequestRecovery(e.ctx, core.RecoveryRequest{Email: "alice@example.com"}))
	noErr(t, e.svc.RequestRecovery(e.ctx, core.RecoveryRequest{Email: "Alice@example.com"}))
	n := 0
	for _, m := range e.queuedMails() {
		if m.Template == "recovery" {
			n++
		}
	}
	if n != 5 {
		t.Errorf("%d recovery mails to alice, want 5 (her limit)", n)
	}
}

// TestRecoveryWithTFA: when TFA is on, a stolen mailbox is not enough: the
// link needs a second factor too, and wrong ones count as failed sign-ins.
func TestRecoveryWithTFA(t *testing.T) {
	e := newEnv(t)
	e.mailOn()
	a := readyForTFA(t, e, "alice")
	sec, err := e.svc.EnableTFA(e.ctx, a)
	noErr(t, err)
	_, err = e.svc.ConfirmTFA(e.ctx, a, totpCode(t, sec.Secret, e.clock.Now()))
	noErr(t, err)
	e.clock.Advance(time.Minute)
	tok := e.recoveryLink(core.RecoveryRequest{Username: "alice"})
	wantErr(t, e.svc.CompleteRecovery(e.ctx, core.RecoveryComplete{Token: tok, Password: newPassword}), core.KindInvalid, "tfa_code")
	wantErr(t, e.svc.CompleteRecovery(e.ctx, core.RecoveryComplete{Token: tok, Password: newPassword,
		TFACode: wrongCode(t, sec.Secret, e.clock.Now())}), core.KindInvalid, "tfa_code")
	noErr(t, e.svc.CompleteRecovery(e.ctx, core.RecoveryComplete{Token: tok, Password: newPassword, TFACode: totpCode(t, sec.Secret, e.clock.Now())}))
	if _, err := e.svc.SignIn(e.ctx, core.SignInRequest{Username: "alice", Password: newPassword, IP: "192.0.2.1"}); err != nil {
		t.Fatalf("sign in after a recovery with TFA: %v", err)
	}
}

// TestInvitation: with mail on, a user an owner creates through the
// account API is mailed a link (7 days) that sets their first password;
// without mail, none is sent.
func TestInvitation(t *testing.T) {
	e := newEnv(t)
	owner := e.user("alice", false)
	_, err := e.svc.CreateAccountUser(e.ctx, owner, core.UserCreate{Username: "quiet", Email: "quiet@example.com"})
	noErr(t, err)
	e.mailOn()
	_, err = e.svc.CreateAccountUser(e.ctx, owner, core.UserCreate{Username: "rita", Email: "rita@example.com", Restricted: true})
	noErr(t, err)
	var invite core.Mail
	invitations := 0
	for _, m := range e.queuedMails() {
		if m.Template == "invitation" {
			invite, invitations = m, invitations+1
		}
	}
	if invitations != 1 {
		t.Errorf("%d invitations, want rita's alone (quiet was made without mail)", invitations)
	}
	if invite.To != "rita@example.com" || invite.Data["inviter"] != "alice" || invite.Data["username"] != "rita" {
		t.Fatalf("the invitation: %+v", invite)
	}
	token := strings.TrimPrefix(invite.Data["link"], "https://id.example.com/auth/recover/complete?token=")
	// Still good after six days; set once.
	e.clock.Advance(6 * 24 * time.Hour)
	noErr(t, e.svc.CompleteRecovery(e.ctx, core.RecoveryComplete{Token: token, Password: newPassword}))
	wantErr(t, e.svc.CompleteRecovery(e.ctx, core.RecoveryComplete{Token: token, Password: newPassword}), core.KindInvalid, "token")
	if _, err := e.svc.SignIn(e.ctx, core.SignInRequest{Username: "rita", Password: newPassword, IP: "192.0.2.1"}); err != nil {
		t.Fatalf("the invited user signs in: %v", err)
	}
	// An invitation expires after seven days.
	_, err = e.svc.CreateAccountUser(e.ctx, owner, core.UserCreate{Username: "late", Email: "late@example.com"})
	noErr(t, err)
	var late string
	for _, m := range e.queuedMails() {
		if m.Template == "invitation" {
			late = strings.TrimPrefix(m.Data["link"], "https://id.example.com/auth/recover/complete?token=")
		}
	}
	e.clock.Advance(core.InvitationLifetime + time.Second)
	wantErr(t, e.svc.CompleteRecovery(e.ctx, core.RecoveryComplete{Token: late, Password: newPassword}), core.KindInvalid, "token")
}

// TestEmailChange: changing the address notifies the old one and mails the
// new one a link that verifies it; until then email_verified is false.
func TestEmailChange(t *testing.T) {
	e := newEnv(t)
	e.mailOn()
	a := e.user("alice", false)
	e.queuedMails()
	if _, err := e.svc.UpdateProfile(e.ctx, a, core.ProfileUpdate{Email: ptr("alice@new.example")}); err != nil {
		t.Fatal(err)
	}
	var notice, verify core.Mail
	for _, m := range e.queuedMails() {
		switch m.Template {
		case "email_changed":
			notice = m
		case "verify_email":
			verify = m
		}
	}
	if notice.To != "alice@example.com" || verify.To != "alice@new.example" {
		t.Fatalf("the mails: notice to %q, verification to %q", notice.To, verify.To)
	}
	token, ok := strings.CutPrefix(verify.Data["link"], "https://id.example.com/auth/email/verify?token=")
	if !ok || len(token) != 64 {
		t.Fatalf("the verification link %q", verify.Data["link"])
	}
	me, err := e.svc.Me(e.ctx, a)
	noErr(t, err)
	if me.Profile.EmailVerified {
		t.Fatal("a new address is verified before its link is followed")
	}
	wantErr(t, e.svc.VerifyEmail(e.ctx, strings.Repeat("0", 64)), core.KindInvalid, "token")
	noErr(t, e.svc.VerifyEmail(e.ctx, token))
	wantErr(t, e.svc.VerifyEmail(e.ctx, token), core.KindInvalid, "token")
	me, err = e.svc.Me(e.ctx, a)
	noErr(t, err)
	if !me.Profile.EmailVerified {
		t.Error("the address is not verified after its link")
	}
	// A link older than a day is refused.
	if _, err := e.svc.UpdateProfile(e.ctx, a, core.ProfileUpdate{Email: ptr("alice@newer.example")}); err != nil {
		t.Fatal(err)
	}
	for _, m := range e.queuedMails() {
		if m.Template == "verify_email" {
			token = strings.TrimPrefix(m.Data["link"], "https://id.example.com/auth/email/verify?token=")
		}
	}
	e.clock.Advance(core.VerificationLifetime + time.Second)
	wantErr(t, e.svc.VerifyEmail(e.ctx, token), core.KindInvalid, "token")
}
