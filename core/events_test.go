package core_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
)

// eventLog is a core.EventSink that keeps what it is told.
type eventLog struct {
	mu  sync.Mutex
	all []core.Event
}

func (l *eventLog) Event(_ context.Context, e core.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = append(l.all, e)
}

// take returns the events since the last take.
func (l *eventLog) take() []core.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	all := l.all
	l.all = nil
	return all
}

// wantEvents checks that exactly the named events, for userID, were
// reported since the last check.
func wantEvents(t *testing.T, e *env, userID int64, names ...string) []core.Event {
	t.Helper()
	got := e.events.take()
	var gotNames []string
	for _, ev := range got {
		gotNames = append(gotNames, ev.Name)
		if ev.UserID != userID {
			t.Errorf("event %s is about user %d, want %d", ev.Name, ev.UserID, userID)
		}
	}
	if strings.Join(gotNames, ",") != strings.Join(names, ",") {
		t.Fatalf("events = %v, want %v", gotNames, names)
	}
	return got
}

func TestSecurityEvents(t *testing.T) {
	e := newEnv(t)
	a := withPassword(t, e, "alice")
	wantEvents(t, e, a.User.ID, core.EventUserCreated)

	// Sign-in: a failure names who was tried, never the password typed.
	const typed = "not the passphrase at all"
	_, err := signIn(e, "alice", typed)
	wantErr(t, err, core.KindUnauthorized, "")
	ev := wantEvents(t, e, a.User.ID, core.EventSignInFailed)[0]
	if ev.Username != "alice" || strings.Contains(ev.Detail, typed) {
		t.Fatalf("failed sign-in event = %+v", ev)
	}
	_, err = signIn(e, "nobody", typed)
	wantErr(t, err, core.KindUnauthorized, "")
	if ev := wantEvents(t, e, 0, core.EventSignInFailed)[0]; ev.Username != "nobody" {
		t.Fatalf("sign-in to an unknown user = %+v", ev)
	}
	_, err = signIn(e, "alice", alicePassword)
	noErr(t, err)
	wantEvents(t, e, a.User.ID, core.EventSignInSucceeded)

	// Tokens: the event names the label, never the secret.
	tok, raw, err := e.svc.CreateToken(e.ctx, a, core.TokenCreate{Label: "ci"})
	noErr(t, err)
	if ev := wantEvents(t, e, a.User.ID, core.EventTokenCreated)[0]; ev.Detail != "ci" || strings.Contains(ev.Detail, raw) {
		t.Fatalf("token event = %+v", ev)
	}
	noErr(t, e.svc.RevokeToken(e.ctx, a, tok.ID))
	wantEvents(t, e, a.User.ID, core.EventTokenRevoked)
	// What fails reports nothing.
	wantErr(t, e.svc.RevokeToken(e.ctx, a, tok.ID), core.KindNotFound, "")
	wantEvents(t, e, a.User.ID)

	// Two factors: enabled, then replaced, then off.
	_, err = e.svc.AnswerSecurityQuestions(e.ctx, a, threeAnswers)
	noErr(t, err)
	for _, name := range []string{core.EventTFAEnabled, core.EventTFAReset} {
		sec, err := e.svc.EnableTFA(e.ctx, a)
		noErr(t, err)
		_, err = e.svc.ConfirmTFA(e.ctx, a, totpCode(t, sec.Secret, e.clock.Now()))
		noErr(t, err)
		wantEvents(t, e, a.User.ID, name)
		e.clock.Advance(time.Minute) // the next code is a new one
	}
	noErr(t, e.svc.DisableTFA(e.ctx, a))
	wantEvents(t, e, a.User.ID, core.EventTFADisabled)

	// Password, phone, and the end of the user.
	noErr(t, e.svc.ChangePassword(e.ctx, a, alicePassword, "another long and unusual passphrase"))
	wantEvents(t, e, a.User.ID, core.EventPasswordChanged)
	noErr(t, e.svc.SendPhoneCode(e.ctx, a, "US", "(650) 253-0000"))
	_, code := lastCode(t, e.sms)
	noErr(t, e.svc.VerifyPhone(e.ctx, a, code))
	wantEvents(t, e, a.User.ID, core.EventPhoneVerified)
	noErr(t, e.svc.DeletePhone(e.ctx, a))
	wantEvents(t, e, a.User.ID, core.EventPhoneRemoved)
	noErr(t, e.svc.DeleteMe(e.ctx, a))
	wantEvents(t, e, a.User.ID, core.EventUserDeleted)
}
