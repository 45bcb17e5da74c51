package core

import "context"

// Security events: what happened to an account that its owner and its
// operator may want to know, one per change, named in the Event* constants.
// The core reports them to Config.Events after the change has committed;
// the sink adds what it knows of the request (cmd/profiled logs one line
// per event with the client address, user agent and request id). No
// secret is ever part of an event.
const (
	EventSignInSucceeded = "signin.succeeded"
	EventSignInFailed    = "signin.failed"
	EventSignInLocked    = "signin.locked" // an attempt refused while locked out
	EventTFAEnabled      = "tfa.enabled"
	EventTFAReset        = "tfa.reset" // a new secret replaced the one before
	EventTFADisabled     = "tfa.disabled"
	EventScratchCodes    = "tfa.scratch_codes_regenerated"
	EventTokenCreated    = "token.created"
	EventTokenRevoked    = "token.revoked"
	EventPasswordChanged = "password.changed"
	EventPasswordReset   = "password.reset" // by the operator
	EventPhoneVerified   = "phone.verified"
	EventPhoneRemoved    = "phone.removed"
	EventAppAuthorized   = "app.authorized"
	EventAppRevoked      = "app.revoked"
	EventUserCreated     = "user.created"
	EventUserDeleted     = "user.deleted"
)

// Event is one security event: its name, the user it happened to (0 and
// the typed name for a sign-in to an unknown user), and a detail that is
// never a secret (a token's label, an application's client id).
type Event struct {
	Name     string
	UserID   int64
	Username string
	Detail   string
}

// EventSink receives the security events; ctx is the request's.
type EventSink interface {
	Event(ctx context.Context, e Event)
}

// emit reports e to the sink, if there is one.
func (s *Service) emit(ctx context.Context, e Event) {
	if s.events != nil {
		s.events.Event(ctx, e)
	}
}

// emitIf reports e when err is nil, and returns err: for the end of an
// operation, after its change committed.
func (s *Service) emitIf(ctx context.Context, err error, e Event) error {
	if err == nil {
		s.emit(ctx, e)
	}
	return err
}

// eventOf is an event about the actor's user.
func eventOf(name string, a Actor, detail string) Event {
	return Event{Name: name, UserID: a.User.ID, Username: a.User.Username, Detail: detail}
}
