package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sign-up (off by default, Config.Signup): anyone may make an account of
// their own, whose owner they are, with the password rules of users
// create; a mail then verifies their address. It needs mail, since the
// address is how such a user recovers their account.

// Sign-up limits: per client address.
const (
	signUpsPerAddress = 10
	signUpWindow      = time.Hour
)

// SignUpRequest is a new user's choice of name, address and password.
type SignUpRequest struct {
	Username, Email, Password string
	IP                        string
}

// SignUpOffered reports whether sign-up is on, with mail to verify the
// address.
func (s *Service) SignUpOffered() bool { return s.signup && s.RecoveryOffered() }

// SignUp makes a new account owned by a new user, sets their password and
// mails their address a link that verifies it, in one transaction. A taken
// username or email is Invalid naming the field.
func (s *Service) SignUp(ctx context.Context, in SignUpRequest) (User, error) {
	if !s.SignUpOffered() {
		return User{}, NotFound()
	}
	if err := ValidateUsername("username", in.Username); err != nil {
		return User{}, err
	}
	in.Email = strings.TrimSpace(in.Email)
	if err := ValidateEmail("email", in.Email); err != nil {
		return User{}, err
	}
	u := User{Username: in.Username, Email: in.Email, Timezone: "UTC", EmailNotifications: true,
		LishAuthMethod: LishKeysOnly, AuthorizedKeys: []string{}, AuthenticationType: "password", Created: s.clock()}
	hash, err := s.checkedHash(ctx, in.Password, u)
	if err != nil {
		return User{}, err
	}
	if u.ReferralCode, err = s.newSecret(20); err != nil {
		return User{}, err
	}
	if ip := clean(in.IP, maxIPLength); ip != "" {
		if err := s.attempt(ctx, "signup:ip:"+ip, signUpsPerAddress, signUpWindow); err != nil {
			return User{}, err
		}
	}
	err = s.update(ctx, func(tx Tx, note func(Event)) error {
		// The counter's row lock serializes sign-ups for one address on
		// every replica, so two at once cannot both find it free.
		if _, _, err := tx.HitLimit(ctx, "signup-email:"+strings.ToLower(in.Email), signUpWindow, s.now()); err != nil {
			return fmt.Errorf("sign up: %w", err)
		}
		taken, err := tx.UsersByEmail(ctx, in.Email, 1)
		if err != nil {
			return fmt.Errorf("sign up: %w", err)
		}
		if len(taken) > 0 {
			return Invalid("email", "an account already uses %s: sign in, or recover its password", in.Email)
		}
		u.ID, u.AccountID = 0, 0
		if err := createUser(ctx, tx, &u); err != nil {
			if errors.Is(err, ErrDuplicate) {
				return Invalid("username", "username %s is taken", in.Username)
			}
			return notFound(err, "create user")
		}
		if err := s.setPassword(ctx, tx, u.ID, hash); err != nil {
			return err
		}
		note(Event{Name: EventUserCreated, UserID: u.ID, Username: u.Username, Detail: "sign-up", AccountID: u.AccountID})
		return s.mailLink(ctx, tx, u, MailTokenVerify, "verify_email", nil)
	})
	if err != nil {
		return User{}, err
	}
	return u, nil
}
