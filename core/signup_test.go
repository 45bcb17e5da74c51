package core_test

import (
	"crypto/rand"
	"strings"
	"testing"

	"github.com/profiled/profiled/core"
)

func TestSignUp(t *testing.T) {
	e := newEnv(t)
	_, err := e.svc.SignUp(e.ctx, core.SignUpRequest{Username: "newbie", Email: "n@example.com", Password: newPassword})
	wantErr(t, err, core.KindNotFound, "") // off by default
	e.svc = core.New(core.Config{PasswordCost: e.cost, Store: e.store, Box: e.box, SMS: e.sms, Now: e.clock.Now, Rand: rand.Reader,
		Mail: true, PublicURL: "https://id.example.com", Signup: true})
	e.user("alice", false)
	u, err := e.svc.SignUp(e.ctx, core.SignUpRequest{Username: "newbie", Email: "n@example.com", Password: newPassword, IP: "192.0.2.7"})
	noErr(t, err)
	if u.Restricted || u.AccountID == 0 {
		t.Fatalf("the new user: %+v, want the owner of a new account", u)
	}
	// The password signs in; the address gets a verification link.
	if _, err := e.svc.SignIn(e.ctx, core.SignInRequest{Username: "newbie", Password: newPassword, IP: "192.0.2.7"}); err != nil {
		t.Fatalf("sign in after sign-up: %v", err)
	}
	var link string
	for _, m := range e.queuedMails() {
		if m.Template == "verify_email" && m.To == "n@example.com" {
			link = m.Data["link"]
		}
	}
	token, ok := strings.CutPrefix(link, "https://id.example.com/auth/email/verify?token=")
	if !ok {
		t.Fatalf("the verification link %q", link)
	}
	noErr(t, e.svc.VerifyEmail(e.ctx, token))
	for field, in := range map[string]core.SignUpRequest{
		"username": {Username: "ALICE", Email: "other@example.com", Password: newPassword},
		"email":    {Username: "another", Email: "ALICE@example.com", Password: newPassword},
		"password": {Username: "another", Email: "x@example.com", Password: "short"},
	} {
		_, err := e.svc.SignUp(e.ctx, in)
		wantErr(t, err, core.KindInvalid, field)
	}
	if _, err := e.store.UserByUsername(e.ctx, "another"); err == nil {
		t.Error("a refused sign-up made a user")
	}
}
