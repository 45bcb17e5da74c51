package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Password recovery by mail (docs/mail.md): a user who forgot their
// password asks for a link at their address; the link's token, with a new
// password (and a second factor when TFA is on, so that a stolen mailbox
// alone does not take the account), sets it.

// Recovery limits.
const (
	RecoveryLifetime      = 30 * time.Minute
	InvitationLifetime    = 7 * 24 * time.Hour
	VerificationLifetime  = 24 * time.Hour
	recoveryPerAddress    = 5 // requests per address (the typed email or username) per window
	recoveryPerAccount    = 5 // mails per user per window, whatever address asked
	recoveryWindow        = time.Hour
	maxRecoveryRecipients = 5 // users sharing one email, mailed at most
	recoveryTokenBytes    = 32
)

// RecoveryRequest asks for a recovery link, by email or by username.
type RecoveryRequest struct {
	Email, Username string
}

// RecoveryOffered reports whether recovery can work: mail is on and the
// links have a public URL to point at.
func (s *Service) RecoveryOffered() bool { return s.mail && s.publicURL != "" }

// OutboxRecovery is the outbox topic of recovery requests: each is
// resolved (the address looked up, the links made and mailed) by a worker
// (RecoveryRequests), so that the request itself does the same work,
// and takes the same time, whether or not the address exists.
const OutboxRecovery = "recovery"

// RequestRecovery queues a request for a one-use link for the user (or
// the users) with this address. It answers the same, nil, whether or not
// the address exists, after the same work: one counted attempt and one
// queued message. Only malformed input and the per-address limit are
// errors, and those say nothing about existence either.
func (s *Service) RequestRecovery(ctx context.Context, in RecoveryRequest) error {
	if !s.RecoveryOffered() {
		return NotFound()
	}
	in.Email, in.Username = strings.TrimSpace(in.Email), strings.TrimSpace(in.Username)
	if (in.Email == "") == (in.Username == "") {
		return Invalid("email", "give either email or username")
	}
	address := strings.ToLower(in.Email + in.Username)
	if len(address) > maxEmailLength || checkText("email", address) != nil {
		return Invalid("email", "the address must be at most %d characters of text", maxEmailLength)
	}
	if err := s.attempt(ctx, "recovery:address:"+address, recoveryPerAddress, recoveryWindow); err != nil {
		return err
	}
	payload, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx Tx) error {
		return notFound(tx.Enqueue(ctx, &OutboxMessage{Topic: OutboxRecovery, Payload: payload, Created: s.clock()}), "queue recovery")
	})
}

// RecoveryRequests resolves the queued recovery requests: a Deliverer for
// RunOutbox(OutboxRecovery).
func (s *Service) RecoveryRequests() Deliverer { return recoveryWorker{s} }

type recoveryWorker struct{ s *Service }

// Deliver looks the request's address up and mails each user with it a
// link, up to each user's own limit (silently past it).
func (w recoveryWorker) Deliver(ctx context.Context, m OutboxMessage) error {
	s := w.s
	var in RecoveryRequest
	if err := json.Unmarshal(m.Payload, &in); err != nil {
		return fmt.Errorf("%w: recovery request %d: %w", ErrUndeliverable, m.ID, err)
	}
	var users []User
	var err error
	if in.Email != "" {
		users, err = s.store.UsersByEmail(ctx, in.Email, maxRecoveryRecipients)
	} else {
		var u User
		if u, err = s.store.UserByUsername(ctx, in.Username); err == nil {
			users = []User{u}
		} else if errors.Is(err, ErrNotFound) {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("recovery: find users: %w", err)
	}
	for _, u := range users {
		if u.Disabled || u.Email == "" {
			continue
		}
		if s.attempt(ctx, fmt.Sprintf("recovery:account:%d", u.ID), recoveryPerAccount, recoveryWindow) != nil {
			continue
		}
		if err := s.mailRecovery(ctx, u); err != nil {
			return err
		}
	}
	return nil
}

// mailRecovery makes u's recovery token, voiding any older one, and
// queues the mail with its link, in one transaction.
func (s *Service) mailRecovery(ctx context.Context, u User) error {
	return s.store.Update(ctx, func(tx Tx) error { return s.mailLink(ctx, tx, u, MailTokenRecovery, "recovery", nil) })
}

// mailLink makes u a one-use token of purpose, voiding any older one, and
// queues in tx the mail template with its link to the page that sets a
// password; data adds to what the template is filled with.
func (s *Service) mailLink(ctx context.Context, tx Tx, u User, purpose, template string, data map[string]string) error {
	raw, err := s.newSecret(recoveryTokenBytes)
	if err != nil {
		return err
	}
	now := s.clock()
	lifetime := RecoveryLifetime
	switch purpose {
	case MailTokenInvite:
		lifetime = InvitationLifetime
	case MailTokenVerify:
		lifetime = VerificationLifetime
	}
	t := MailToken{Hash: HashToken(raw), UserID: u.ID, Purpose: purpose, Created: now, Expiry: now.Add(lifetime)}
	if err := tx.CreateMailToken(ctx, t); err != nil {
		return notFound(err, "create mail token")
	}
	page := "/auth/recover/complete?token="
	if purpose == MailTokenVerify {
		page = "/auth/email/verify?token="
	}
	fill := map[string]string{"username": u.Username, "link": s.publicURL + page + raw,
		"expires": t.Expiry.Format(time.RFC1123), "time": now.Format(time.RFC1123)}
	for k, v := range data {
		fill[k] = v
	}
	return s.queueMail(ctx, tx, Mail{To: u.Email, Template: template, Data: fill})
}

// RecoveryComplete sets a new password with a recovery link's token.
type RecoveryComplete struct {
	Token, Password string
	TFACode         string // a TOTP or scratch code; required when TFA is on
	IP              string
}

func errBadRecoveryToken() error {
	return Invalid("token", "This link is invalid, used or expired: ask for a new one")
}

// CompleteRecovery sets the password of the token's user. When TFA is on
// it also needs a second factor, whose wrong guesses count as failed
// sign-ins. It ends every session and trusted device of the user, voids
// the token, and notifies the user (the password_changed mail).
func (s *Service) CompleteRecovery(ctx context.Context, in RecoveryComplete) error {
	if !s.RecoveryOffered() {
		return NotFound()
	}
	if in.Token == "" || len(in.Token) > 128 {
		return errBadRecoveryToken()
	}
	hash := HashToken(in.Token)
	t, err := s.store.MailToken(ctx, hash)
	usable := t.Purpose == MailTokenRecovery || t.Purpose == MailTokenInvite
	if errors.Is(err, ErrNotFound) || (err == nil && (!usable || t.Used || !s.now().Before(t.Expiry))) {
		return errBadRecoveryToken()
	}
	if err != nil {
		return fmt.Errorf("recovery token: %w", err)
	}
	u, err := s.store.UserByID(ctx, t.UserID)
	if err != nil {
		return notFound(err, "recovery: user")
	}
	hashed, err := s.checkedHash(ctx, in.Password, u)
	if err != nil {
		return err
	}
	var resv reservation
	code := secondFactorCode(in.TFACode)
	if u.TwoFactorAuth {
		if code == "" {
			return Invalid("tfa_code", "two-factor authentication is on: give a code from your authenticator app, or a scratch code")
		}
		if len(code) > 64 {
			return Invalid("tfa_code", "tfa_code must be a 6-digit code or a 16-character scratch code")
		}
		if resv, err = s.reserveSignIn(ctx, keysFor(u.Username, clean(in.IP, maxIPLength))); err != nil {
			return err
		}
	}
	now := s.now()
	var wrong bool
	err = s.update(ctx, func(tx Tx, note func(Event)) error {
		wrong = false
		if !u.TwoFactorAuth {
			if _, err := tx.LockUser(ctx, u.ID); err != nil {
				return notFound(err, "lock user")
			}
		} else {
			// A wrong code commits, with the failure reserved for it.
			if ok, err := s.lockedSecondFactor(ctx, tx, u.ID, code, now); err != nil || !ok {
				wrong = err == nil
				return err
			}
			if err := resv.succeed(ctx, tx, now); err != nil {
				return err
			}
		}
		if err := tx.UseMailToken(ctx, hash); err != nil {
			if errors.Is(err, ErrNotFound) {
				return errBadRecoveryToken() // used at the same moment
			}
			return err
		}
		if err := s.setPassword(ctx, tx, u.ID, hashed); err != nil {
			return err
		}
		note(Event{Name: EventPasswordReset, UserID: u.ID, Username: u.Username, Detail: "recovery", AccountID: u.AccountID})
		return s.endSessions(ctx, tx, u.ID, 0)
	})
	if err != nil {
		return err
	}
	if wrong {
		if err := s.failSignIn(ctx, u, clean(in.IP, maxIPLength), Event{Name: EventSignInFailed, UserID: u.ID, Username: u.Username, Detail: "recovery second factor"}); err != nil {
			return err
		}
		return Invalid("tfa_code", "Invalid code: enter the current 6-digit code from your authenticator app, or an unused scratch code")
	}
	return nil
}

// setPassword stores a new password hash in tx and voids the user's
// recovery and invitation links: a link sent before the change must not
// undo it.
func (s *Service) setPassword(ctx context.Context, tx Tx, userID int64, hash string) error {
	if err := tx.SetPasswordHash(ctx, userID, hash, s.clock()); err != nil {
		return notFound(err, "set password")
	}
	if err := tx.DeleteMailTokens(ctx, userID, MailTokenRecovery); err != nil {
		return notFound(err, "void recovery links")
	}
	return notFound(tx.DeleteMailTokens(ctx, userID, MailTokenInvite), "void invitations")
}

// emailChanged, inside the transaction that changed u's address from old,
// notifies the old address and sends the new one a link that verifies it
// (24 h), when mail is on.
func (s *Service) emailChanged(ctx context.Context, tx Tx, u User, old string, note func(Event)) error {
	note(Event{Name: EventEmailChanged, UserID: u.ID, Username: u.Username, AccountID: u.AccountID})
	// The new address is not verified until its link is followed.
	p, err := tx.IAMProfile(ctx, u.ID)
	if err != nil {
		return notFound(err, "load iam profile")
	}
	if p.EmailVerified {
		p.EmailVerified = false
		if err := tx.PutIAMProfile(ctx, p); err != nil {
			return notFound(err, "unverify email")
		}
	}
	if !s.mail {
		return nil
	}
	if old != "" {
		if err := s.queueMail(ctx, tx, Mail{To: old, Template: "email_changed", Data: map[string]string{
			"username": u.Username, "time": s.clock().Format(time.RFC1123)}}); err != nil {
			return err
		}
	}
	if !s.RecoveryOffered() {
		return nil
	}
	return s.mailLink(ctx, tx, u, MailTokenVerify, "verify_email", nil)
}

// VerifyEmail confirms a user's address with the token of the link mailed
// to it: the IAM face's email_verified turns true.
func (s *Service) VerifyEmail(ctx context.Context, token string) error {
	if !s.RecoveryOffered() {
		return NotFound()
	}
	bad := Invalid("token", "This link is invalid, used or expired: change the address again for a new one")
	if token == "" || len(token) > 128 {
		return bad
	}
	hash := HashToken(token)
	t, err := s.store.MailToken(ctx, hash)
	if errors.Is(err, ErrNotFound) || (err == nil && (t.Purpose != MailTokenVerify || t.Used || !s.now().Before(t.Expiry))) {
		return bad
	}
	if err != nil {
		return fmt.Errorf("verification token: %w", err)
	}
	return s.update(ctx, func(tx Tx, note func(Event)) error {
		u, err := lockUser(ctx, tx, t.UserID)
		if err != nil {
			return err
		}
		if err := tx.UseMailToken(ctx, hash); err != nil {
			if errors.Is(err, ErrNotFound) {
				return bad
			}
			return err
		}
		p, err := tx.IAMProfile(ctx, u.ID)
		if err != nil {
			return notFound(err, "load iam profile")
		}
		p.EmailVerified = true
		if err := tx.PutIAMProfile(ctx, p); err != nil {
			return notFound(err, "verify email")
		}
		note(Event{Name: EventEmailVerified, UserID: u.ID, Username: u.Username, AccountID: u.AccountID})
		return nil
	})
}
