package core

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// UserCreate is the input of CreateUser.
type UserCreate struct {
	Username   string
	Email      string
	Restricted bool
	// AccountID is the account the user joins, or AccountOf names a user
	// whose account they join; with neither, a new account is made whose
	// owner the user is (and an owner cannot be restricted).
	AccountID int64
	AccountOf string
	// InvitedBy, when mail is on, mails the new user an invitation to set
	// their password, naming this user (CreateAccountUser sets it).
	InvitedBy string
}

// usernameChars are the characters of a username, and its two ends.
var (
	usernameChars = regexp.MustCompile(`^[A-Za-z0-9_-]*$`)
	usernameEnds  = regexp.MustCompile(`^[A-Za-z0-9](.*[A-Za-z0-9])?$`)
)

// ValidateUsername is the one username rule of every face and the CLI,
// the real API's as Cloud Manager checks it before sending a new user
// (@linode/validation's usernameSchema): 3 to 32 ASCII letters, digits,
// '-' and '_', beginning and ending with a letter or a digit, without
// "--" or "__". A name an earlier profiled let through still signs in;
// only making or renaming a user checks it.
func ValidateUsername(field, name string) error {
	switch {
	case len(name) < 3 || len(name) > 32:
		return Invalid(field, "username must be between 3 and 32 characters")
	case !usernameChars.MatchString(name):
		return Invalid(field, "username may only contain letters, digits, '-' and '_' (ASCII, no spaces)")
	case !usernameEnds.MatchString(name):
		return Invalid(field, "username must begin and end with a letter or a digit")
	case strings.Contains(name, "--") || strings.Contains(name, "__"):
		return Invalid(field, "username must not include two dashes or two underscores in a row")
	}
	return nil
}

// lockUser locks the user's row for the rest of tx, so that the
// transactions that change one user take turns, and reads it.
func lockUser(ctx context.Context, tx Tx, userID int64) (User, error) {
	u, err := tx.LockUser(ctx, userID)
	return u, notFound(err, "lock user")
}

// CreateUser adds a user with profiled's defaults.
func (s *Service) CreateUser(ctx context.Context, in UserCreate) (User, error) {
	return s.createUser(ctx, in, false)
}

// createUser is CreateUser, within the account's quota of users if quota
// (an API caller's add, which the operator's command line may pass).
func (s *Service) createUser(ctx context.Context, in UserCreate, quota bool) (User, error) {
	if err := ValidateUsername("username", in.Username); err != nil {
		return User{}, err
	}
	if err := ValidateEmail("email", in.Email); err != nil {
		return User{}, err
	}
	code, err := s.newSecret(20)
	if err != nil {
		return User{}, err
	}
	u := User{AccountID: in.AccountID, Username: in.Username, Email: in.Email, Timezone: "UTC", EmailNotifications: true,
		LishAuthMethod: LishKeysOnly, AuthorizedKeys: []string{}, Restricted: in.Restricted,
		AuthenticationType: "password", ReferralCode: code, Created: s.clock()}
	if in.AccountOf != "" {
		other, err := s.store.UserByUsername(ctx, in.AccountOf)
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				return User{}, Invalid("account_of", "no user is named %s", in.AccountOf)
			}
			return User{}, fmt.Errorf("find user: %w", err)
		}
		in.AccountID, u.AccountID = other.AccountID, other.AccountID
	}
	if in.Restricted && in.AccountID == 0 {
		return User{}, Invalid("restricted", "the first user of a new account is its owner and cannot be restricted: add restricted users to an existing account")
	}
	err = s.update(ctx, func(tx Tx, note func(Event)) error {
		if quota {
			if err := s.holdQuota(ctx, tx, QuotaAccountUsers, u.AccountID); err != nil {
				return err
			}
		}
		err := createUser(ctx, tx, &u)
		if errors.Is(err, ErrDuplicate) {
			return Conflict("username", "username %s is taken", in.Username)
		}
		if err != nil {
			return notFound(err, "create user")
		}
		note(Event{Name: EventUserCreated, UserID: u.ID, Username: u.Username})
		if in.InvitedBy != "" && s.RecoveryOffered() {
			return s.mailLink(ctx, tx, u, MailTokenInvite, "invitation", map[string]string{"inviter": in.InvitedBy})
		}
		return nil
	})
	return u, err
}

// Bootstrap makes the first user, admin, with one "*" token, on an empty
// database. It returns the raw token, or "" if the database had users. Two
// replicas starting at once bootstrap once: the loser's insert is a duplicate.
func (s *Service) Bootstrap(ctx context.Context) (string, error) {
	n, err := s.store.CountUsers(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	if _, err := s.CreateUser(ctx, UserCreate{Username: "admin", Email: "admin@example.com"}); err != nil {
		if KindOf(err) == KindConflict {
			return "", nil
		}
		return "", err
	}
	_, raw, err := s.IssueToken(ctx, "admin", "bootstrap", AllScopes, nil)
	return raw, err
}
