package core_test

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
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
	// The first sign-in from an address says so too.
	if ev := wantEvents(t, e, a.User.ID, core.EventSignInSucceeded, core.EventSignInNewAddress)[1]; ev.Detail == "" {
		t.Fatalf("new-address event = %+v, want the address in detail", ev)
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

// flakyReceiver is a Deliverer that fails its first failures deliveries
// and keeps the documents of the others.
type flakyReceiver struct {
	mu       sync.Mutex
	failures int
	tries    int
	got      []string
}

func (r *flakyReceiver) Deliver(_ context.Context, m core.OutboxMessage) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tries++
	if r.tries <= r.failures {
		return errors.New("503 Service Unavailable")
	}
	doc, err := core.EventDocument(m)
	if err != nil {
		return err
	}
	r.got = append(r.got, string(doc))
	return nil
}

func (r *flakyReceiver) documents() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

// TestEventsOutbox: with the outbox on, an event is queued in the
// transaction of its change (a failed change queues nothing), and the
// worker delivers it, again after failures, until the receiver takes it.
func TestEventsOutbox(t *testing.T) {
	e := newEnv(t)
	e.svc = core.New(core.Config{PasswordCost: e.cost, Store: e.store, Box: e.box, SMS: e.sms, Now: e.clock.Now, Rand: rand.Reader,
		Events: e.events, EventsOutbox: true})
	a := e.user("alice", false)
	depth := func() int {
		n, err := e.store.OutboxDepth(e.ctx, core.OutboxEvents)
		noErr(t, err)
		return n
	}
	if n := depth(); n != 1 { // user.created
		t.Fatalf("depth after CreateUser = %d, want 1", n)
	}
	tok, _, err := e.svc.CreateToken(e.ctx, a, core.TokenCreate{Label: "ci"})
	noErr(t, err)
	noErr(t, e.svc.RevokeToken(e.ctx, a, tok.ID))
	wantErr(t, e.svc.RevokeToken(e.ctx, a, tok.ID), core.KindNotFound, "")
	if n := depth(); n != 3 {
		t.Fatalf("depth = %d, want 3 (a failed revoke queues nothing)", n)
	}

	recv := &flakyReceiver{failures: 2}
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() {
		done <- e.svc.RunOutbox(ctx, core.OutboxEvents, recv, core.OutboxOptions{Poll: 5 * time.Millisecond})
	}()
	// The retries wait on the service's clock: move it on until all is in
	// and the worker has recorded the last delivery (the receiver has a
	// message before the worker hears it took it).
	for deadline := time.Now().Add(10 * time.Second); len(recv.documents()) < 3 || depth() != 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("delivered %v after %d tries", recv.documents(), recv.tries)
		}
		e.clock.Advance(time.Second)
	}
	cancel()
	noErr(t, <-done)
	// A message that failed waits for its retry while later ones go
	// ahead: the order is the ids', not the deliveries'.
	got := recv.documents()
	slices.Sort(got)
	want := []string{
		`{"id":1,"event":"user.created","user_id":1,"username":"alice","created":"2025-06-02T12:00:00Z"}`,
		`{"id":2,"event":"token.created","user_id":1,"username":"alice","detail":"ci","created":"2025-06-02T12:00:00Z"}`,
		`{"id":3,"event":"token.revoked","user_id":1,"username":"alice","detail":"ci","created":"2025-06-02T12:00:00Z"}`,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("delivered %v\nwant %v", got, want)
	}
	if n := depth(); n != 0 {
		t.Fatalf("depth after delivery = %d", n)
	}
}
