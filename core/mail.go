package core

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Mail: what profiled tells a user by email. A mail is queued in the
// outbox (topic OutboxMail) in the transaction of the change that causes
// it, when Config.Mail is on, and a worker delivers it (package mailer),
// so a change and its mail commit or roll back together and a crash or an
// SMTP outage loses none.

// OutboxMail is the outbox topic of the mails.
const OutboxMail = "mail"

// Mail is one queued mail: a template, filled with Data, to To.
type Mail struct {
	To       string            `json:"to"`
	Template string            `json:"template"`
	Data     map[string]string `json:"data"`
}

// ParseMail reads a mail message of the outbox. One that does not parse
// is ErrUndeliverable: no attempt will parse it.
func ParseMail(m OutboxMessage) (Mail, error) {
	var out Mail
	if err := json.Unmarshal(m.Payload, &out); err != nil {
		return Mail{}, fmt.Errorf("%w: outbox mail %d: %w", ErrUndeliverable, m.ID, err)
	}
	return out, nil
}

// notifications are the security events that mail the user they are
// about, whatever their email_notifications says, and the template each
// is written in.
var notifications = map[string]string{
	EventPasswordChanged:  "password_changed",
	EventPasswordReset:    "password_changed",
	EventTFAEnabled:       "tfa_enabled",
	EventTFAReset:         "tfa_enabled",
	EventTFADisabled:      "tfa_disabled",
	EventScratchCodes:     "scratch_codes",
	EventTokenCreated:     "token_created",
	EventPhoneVerified:    "phone_verified",
	EventPhoneRemoved:     "phone_removed",
	EventSignInNewAddress: "new_signin",
	EventDeviceAuthorized: "device_authorized",
}

// queueNotifications queues, in tx, the mail of each event that has one.
func (s *Service) queueNotifications(ctx context.Context, tx Tx, events []Event) error {
	if !s.mail {
		return nil
	}
	for _, e := range events {
		template, ok := notifications[e.Name]
		if !ok || e.UserID == 0 {
			continue
		}
		u, err := tx.UserByID(ctx, e.UserID)
		if err != nil {
			return notFound(err, "find the user to notify")
		}
		if u.Email == "" {
			continue
		}
		if err := s.queueMail(ctx, tx, Mail{To: u.Email, Template: template,
			Data: map[string]string{"username": u.Username, "detail": e.Detail, "time": s.clock().Format(time.RFC1123)}}); err != nil {
			return err
		}
	}
	return nil
}

// queueMail writes m into the outbox inside tx.
func (s *Service) queueMail(ctx context.Context, tx Tx, m Mail) error {
	payload, err := json.Marshal(m)
	if err != nil {
		return err
	}
	now := s.clock()
	return notFound(tx.Enqueue(ctx, &OutboxMessage{Topic: OutboxMail, Payload: payload, Created: now}), "queue mail")
}
