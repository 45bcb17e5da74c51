package core_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
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

// refusingReceiver is a Deliverer that refuses, for good, the messages
// whose ids it names, and keeps the ids of the others.
type refusingReceiver struct {
	mu      sync.Mutex
	refuse  map[int64]bool
	tries   map[int64]int
	took    []int64
	dropped []int64 // as OnError heard of them
}

func (r *refusingReceiver) Deliver(_ context.Context, m core.OutboxMessage) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tries[m.ID]++
	if r.refuse[m.ID] {
		return fmt.Errorf("%w: 550 5.1.1 no such mailbox", core.ErrUndeliverable)
	}
	r.took = append(r.took, m.ID)
	return nil
}

// TestOutboxDropsUndeliverable: a message its Deliverer calls
// undeliverable is tried once, told to OnError and dropped, while the
// messages around it are delivered; nothing is left to retry.
func TestOutboxDropsUndeliverable(t *testing.T) {
	e := newEnv(t)
	e.svc = core.New(core.Config{PasswordCost: e.cost, Store: e.store, Box: e.box, SMS: e.sms, Now: e.clock.Now, Rand: rand.Reader,
		Events: e.events, EventsOutbox: true})
	a := e.user("alice", false) // message 1: user.created
	for _, label := range []string{"two", "three"} {
		_, _, err := e.svc.CreateToken(e.ctx, a, core.TokenCreate{Label: label})
		noErr(t, err)
	}
	recv := &refusingReceiver{refuse: map[int64]bool{2: true}, tries: map[int64]int{}}
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() {
		done <- e.svc.RunOutbox(ctx, core.OutboxEvents, recv, core.OutboxOptions{Poll: 5 * time.Millisecond,
			OnError: func(m core.OutboxMessage, err error) {
				recv.mu.Lock()
				defer recv.mu.Unlock()
				if errors.Is(err, core.ErrUndeliverable) {
					recv.dropped = append(recv.dropped, m.ID)
				}
			}})
	}()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		n, err := e.store.OutboxDepth(e.ctx, core.OutboxEvents)
		noErr(t, err)
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox depth %d after 10 s", n)
		}
		e.clock.Advance(time.Hour) // any retry would be due at once
	}
	// Past every backoff: a message kept for a retry would be tried again.
	e.clock.Advance(2 * time.Hour)
	time.Sleep(50 * time.Millisecond)
	cancel()
	noErr(t, <-done)
	recv.mu.Lock()
	defer recv.mu.Unlock()
	if !slices.Equal(recv.took, []int64{1, 3}) || !slices.Equal(recv.dropped, []int64{2}) || recv.tries[2] != 1 {
		t.Fatalf("delivered %v, dropped %v, message 2 tried %d times; want [1 3], [2], once", recv.took, recv.dropped, recv.tries[2])
	}
}

// TestUnparsablePayloadsAreUndeliverable: a message whose payload does
// not parse can never be delivered, by any of the outbox's deliverers, and
// says so, for RunOutbox to drop it instead of trying it forever.
func TestUnparsablePayloadsAreUndeliverable(t *testing.T) {
	e := newEnv(t)
	bad := core.OutboxMessage{ID: 9, Payload: []byte(`{"to":`)}
	_, mailErr := core.ParseMail(bad)
	_, eventErr := core.EventDocument(bad)
	recoveryErr := e.svc.RecoveryRequests().Deliver(e.ctx, bad)
	for name, err := range map[string]error{"ParseMail": mailErr, "EventDocument": eventErr, "RecoveryRequests": recoveryErr} {
		if !errors.Is(err, core.ErrUndeliverable) {
			t.Errorf("%s of an unparsable payload: %v, want ErrUndeliverable", name, err)
		}
	}
}

// TestOutboxWakesItsWorker: a change that queues an event wakes the idle
// worker of this Service, which would otherwise look again only after its
// Poll, here an hour.
func TestOutboxWakesItsWorker(t *testing.T) {
	e := newEnv(t)
	e.svc = core.New(core.Config{PasswordCost: e.cost, Store: e.store, Box: e.box, SMS: e.sms, Now: e.clock.Now, Rand: rand.Reader,
		Events: e.events, EventsOutbox: true})
	a := e.user("alice", false)
	recv := &flakyReceiver{}
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- e.svc.RunOutbox(ctx, core.OutboxEvents, recv, core.OutboxOptions{Poll: time.Hour}) }()
	await := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); len(recv.documents()) < n; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("delivered %d events in 10 s, want %d", len(recv.documents()), n)
			}
		}
	}
	await(1) // user.created, found by the worker's first look
	for i, label := range []string{"first", "second"} {
		tok, _, err := e.svc.CreateToken(e.ctx, a, core.TokenCreate{Label: label})
		noErr(t, err)
		await(2 + 2*i)
		noErr(t, e.svc.RevokeToken(e.ctx, a, tok.ID))
		await(3 + 2*i)
	}
	cancel()
	noErr(t, <-done)
	if got := len(recv.documents()); got != 5 {
		t.Fatalf("delivered %d events, want 5", got)
	}
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

// TestSigningKeyEvents: the first signing key and each rotation are
// security events of no user, naming the keys made and retired.
func TestSigningKeyEvents(t *testing.T) {
	e := newEnv(t)
	keys, err := e.svc.SigningKeys(e.ctx)
	noErr(t, err)
	got := wantEvents(t, e, 0, core.EventSigningKeyCreated)
	if got[0].Detail != "key "+keys[0].ID {
		t.Fatalf("detail %q, want key %s", got[0].Detail, keys[0].ID)
	}
	_, err = e.svc.SigningKeys(e.ctx)
	noErr(t, err)
	wantEvents(t, e, 0) // reading the keys makes none
	second, _, err := e.svc.RotateSigningKey(e.ctx)
	noErr(t, err)
	wantEvents(t, e, 0, core.EventSigningKeyCreated)
	e.clock.Advance(core.KeySetMaxAge + core.IDTokenLifetime + time.Minute)
	_, retired, err := e.svc.RotateSigningKey(e.ctx)
	noErr(t, err)
	if len(retired) != 1 || retired[0].ID != keys[0].ID {
		t.Fatalf("retired %v, want %s (the key %s replaced)", retired, keys[0].ID, second.ID)
	}
	got = wantEvents(t, e, 0, core.EventSigningKeyRetired, core.EventSigningKeyCreated)
	if got[0].Detail != "key "+keys[0].ID {
		t.Fatalf("retired detail %q", got[0].Detail)
	}
}
