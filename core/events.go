package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

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
	// EventQuotaExceeded: an add refused by a quota (core/quota.go), the
	// quota in Detail. Logged and counted, not sent: it changed nothing.
	EventQuotaExceeded = "quota.exceeded"
	// EventQuotaSet: the operator gave an account its own quota.
	EventQuotaSet = "quota.set"
	// EventSignInNewAddress follows a sign-in from an address the user
	// never signed in from before (not through a trusted device).
	EventSignInNewAddress = "signin.new_address"
	EventTFAEnabled       = "tfa.enabled"
	EventTFAReset         = "tfa.reset" // a new secret replaced the one before
	EventTFADisabled      = "tfa.disabled"
	EventScratchCodes     = "tfa.scratch_codes_regenerated"
	EventTokenCreated     = "token.created"
	EventTokenRevoked     = "token.revoked"
	EventPasswordChanged  = "password.changed"
	EventPasswordReset    = "password.reset" // by the operator
	EventPhoneVerified    = "phone.verified"
	EventPhoneRemoved     = "phone.removed"
	EventAppAuthorized    = "app.authorized"
	// EventDeviceAuthorized follows app.authorized when a device got the
	// tokens the user approved for it (device.go): the grant a phisher
	// would talk a user into, so it mails them.
	EventDeviceAuthorized = "device.authorized"
	EventAppRevoked       = "app.revoked"
	EventUserCreated      = "user.created"
	EventUserDeleted      = "user.deleted"
	EventSSHKeyAdded      = "ssh_key.added"
	EventSSHKeyDeleted    = "ssh_key.deleted"
	EventClientCreated    = "oauth_client.created" // by an account (/account/oauth-clients)
	EventClientDeleted    = "oauth_client.deleted"
	EventClientReset      = "oauth_client.secret_reset"
	// EventClientRegistered is a client that registered itself
	// (registration.go): of no user, its label, id and address in Detail.
	EventClientRegistered = "oauth_client.registered"
	EventEmailChanged     = "email.changed"
	EventEmailVerified    = "email.verified"
	// The keys that sign ID tokens (idtoken.go), the key's id in Detail;
	// of no user (UserID 0).
	EventSigningKeyCreated = "signing_key.created"
	EventSigningKeyRetired = "signing_key.retired"
)

// Event is one security event: its name, the user it happened to (0 and
// the typed name for a sign-in to an unknown user), and a detail that is
// never a secret (a token's label, an application's client id).
type Event struct {
	Name     string
	UserID   int64
	Username string
	Detail   string
	// AccountID is the user's account, when the code that notes the
	// event knows it; otherwise the Events API looks it up in the same
	// transaction.
	AccountID int64
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

// eventOf is an event about the actor's user.
func eventOf(name string, a Actor, detail string) Event {
	return Event{Name: name, UserID: a.User.ID, Username: a.User.Username, Detail: detail, AccountID: a.User.AccountID}
}

// update runs fn in one write transaction of the store. The events fn
// notes are part of it: with the outbox on (Config.EventsOutbox) each is
// enqueued in the same transaction, so the change and its event commit,
// or roll back, together; once it commits they go to the sink. The store
// may run fn more than once (a retried transaction): only the last run's
// events count.
func (s *Service) update(ctx context.Context, fn func(tx Tx, note func(Event)) error) error {
	var events []Event
	err := s.store.Update(ctx, func(tx Tx) error {
		events = events[:0]
		if err := fn(tx, func(e Event) { events = append(events, e) }); err != nil {
			return err
		}
		if err := s.recordAccountEvents(ctx, tx, events); err != nil {
			return err
		}
		if err := s.queueNotifications(ctx, tx, events); err != nil {
			return err
		}
		return s.enqueueEvents(ctx, tx, events)
	})
	if errors.Is(err, ErrNotFound) {
		// A write the store held back to its commit (an account's event)
		// found its row gone.
		return NotFound()
	}
	if err != nil {
		return err
	}
	for _, e := range events {
		s.emit(ctx, e)
	}
	return nil
}

// OutboxEvents is the outbox topic of the security events.
const OutboxEvents = "event"

// eventRecord is an event as the outbox keeps it and the webhook receives
// it (EventDocument adds the id).
type eventRecord struct {
	ID       int64     `json:"id,omitempty"`
	Event    string    `json:"event"`
	UserID   int64     `json:"user_id"`
	Username string    `json:"username"`
	Detail   string    `json:"detail,omitempty"`
	Created  time.Time `json:"created"`
}

// enqueueEvents writes events into the outbox inside tx, when the outbox
// is on.
func (s *Service) enqueueEvents(ctx context.Context, tx Tx, events []Event) error {
	if !s.outbox {
		return nil
	}
	now := s.clock()
	for _, e := range events {
		payload, err := json.Marshal(eventRecord{Event: e.Name, UserID: e.UserID, Username: e.Username, Detail: e.Detail, Created: now})
		if err != nil {
			return err
		}
		if err := tx.Enqueue(ctx, &OutboxMessage{Topic: OutboxEvents, Payload: payload, Created: now}); err != nil {
			return err
		}
	}
	return nil
}

// EventDocument is the JSON document of an event message of the outbox,
// its id (the message's, the same on every delivery of it, for receivers
// to drop a repeat) included. A message that does not parse is
// ErrUndeliverable.
func EventDocument(m OutboxMessage) ([]byte, error) {
	var r eventRecord
	if err := json.Unmarshal(m.Payload, &r); err != nil {
		return nil, fmt.Errorf("%w: outbox message %d: %w", ErrUndeliverable, m.ID, err)
	}
	r.ID = m.ID
	return json.Marshal(r)
}

// linodeActions are the Linode Events API's actions of the security
// events that have one, and the type of entity each is about.
var linodeActions = map[string][2]string{
	EventTokenCreated:    {"token_create", "token"},
	EventTokenRevoked:    {"token_delete", "token"},
	EventTFAEnabled:      {"tfa_enabled", "profile"},
	EventTFADisabled:     {"tfa_disabled", "profile"},
	EventPasswordChanged: {"password_reset", "profile"},
	EventPasswordReset:   {"password_reset", "profile"},
	EventUserCreated:     {"user_create", "user"},
	EventUserDeleted:     {"user_delete", "user"},
	EventSSHKeyAdded:     {"user_ssh_key_add", "user_ssh_key"},
	EventSSHKeyDeleted:   {"user_ssh_key_delete", "user_ssh_key"},
	EventClientCreated:   {"oauth_client_create", "oauth_client"},
	EventClientDeleted:   {"oauth_client_delete", "oauth_client"},
	EventClientReset:     {"oauth_client_secret_reset", "oauth_client"},
}

// recordAccountEvents keeps the events that have a Linode action for the
// Events API (GET /account/events), in the same transaction as the change.
func (s *Service) recordAccountEvents(ctx context.Context, tx Tx, events []Event) error {
	now := s.clock()
	for _, e := range events {
		action, ok := linodeActions[e.Name]
		if !ok || e.UserID == 0 {
			continue
		}
		if e.AccountID == 0 {
			u, err := tx.UserByID(ctx, e.UserID)
			if err != nil {
				return notFound(err, "find the event's account")
			}
			e.AccountID = u.AccountID
		}
		label := e.Username
		if action[1] != "user" && action[1] != "profile" {
			label = e.Detail // the token's, key's or client's label
		}
		ae := AccountEvent{AccountID: e.AccountID, UserID: e.UserID, Username: e.Username, Action: action[0],
			EntityType: action[1], EntityID: e.UserID, EntityLabel: label, Created: now}
		if err := tx.CreateAccountEvent(ctx, ae); err != nil {
			return notFound(err, "record the event")
		}
	}
	return nil
}
