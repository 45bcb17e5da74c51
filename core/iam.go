package core

import (
	"context"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"
)

// Me is the actor's user as the IAM face shows it: the account and its IAM
// data, the defaults filled in.
type Me struct {
	User    User
	Profile IAMProfile
}

// Human reports whether the user is a person rather than a service account.
func (m Me) Human() bool { return m.Profile.Kind != UserService }

// DefaultLocale is the locale of a user who never chose one.
const DefaultLocale = "en-US"

// withDefaults fills the empty fields of a stored profile.
func (p IAMProfile) withDefaults() IAMProfile {
	if p.Kind == "" {
		p.Kind = UserHuman
	}
	p.Config = p.Config.withDefaults()
	return p
}

// Limits of the IAM face's text fields, in characters.
const (
	maxPersonName  = 100
	maxLocale      = 35
	maxPictureURL  = 2048
	maxServiceName = 64
	maxServiceDesc = 500
)

// ValidateLocale is the one locale rule of every face: a well-formed BCP 47
// language tag with a known language, such as en-US, fr or zh-Hant-TW. It
// returns the tag in canonical form ("en_us" becomes "en-US").
func ValidateLocale(field, locale string) (string, error) {
	bad := Invalid(field, "locale must be a BCP 47 language tag with a known language, like en-US, fr or zh-Hant-TW")
	if locale == "" || len(locale) > maxLocale {
		return "", bad
	}
	tag, err := language.Parse(locale)
	if err != nil {
		return "", bad
	}
	if _, conf := tag.Base(); conf != language.Exact {
		return "", bad // "und", or a private-use tag alone
	}
	return tag.String(), nil
}

// validatePersonName checks a first or last name: at most 100 characters,
// no control characters. Surrounding spaces are dropped; "" is allowed.
func validatePersonName(field, name string) (string, error) {
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > maxPersonName {
		return "", Invalid(field, "%s must be at most %d characters", field, maxPersonName)
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "", Invalid(field, "%s may not contain control characters", field)
	}
	return name, nil
}

// loadMe reads the user and its IAM data through r.
func loadMe(ctx context.Context, r Reader, userID int64) (Me, error) {
	u, p, err := r.IAMUser(ctx, userID)
	if err != nil {
		return Me{}, notFound(err, "load user")
	}
	return Me{User: u, Profile: p}, nil
}

// humanOnly is the answer of the human-only operations to a service
// account: as for anything that is not there, 404.
func humanOnly(m Me) error {
	if !m.Human() {
		return NotFound()
	}
	return nil
}

// loadHuman loads the user as loadMe does, for a human-only operation: a
// service account is refused (humanOnly).
func loadHuman(ctx context.Context, r Reader, userID int64) (Me, error) {
	m, err := loadMe(ctx, r, userID)
	if err == nil {
		err = humanOnly(m)
	}
	if err != nil {
		return Me{}, err
	}
	return m, nil
}

// lockHuman locks the user's row for the rest of tx (see lockUser), then
// loads it as loadHuman does.
func lockHuman(ctx context.Context, tx Tx, userID int64) (Me, error) {
	if _, err := tx.LockUser(ctx, userID); err != nil {
		return Me{}, notFound(err, "lock user")
	}
	return loadHuman(ctx, tx, userID)
}

// Me returns the actor's user, human or service account. It needs
// account:read_only.
func (s *Service) Me(ctx context.Context, a Actor) (Me, error) {
	if err := mustRead(a); err != nil {
		return Me{}, err
	}
	m, err := loadMe(ctx, s.store, a.User.ID)
	if err != nil {
		return Me{}, err
	}
	m.Profile = m.Profile.withDefaults()
	return m, nil
}

// MeUpdate is a partial update of a person's user: nil fields stay as
// they are.
type MeUpdate struct {
	FirstName *string
	LastName  *string
	Email     *string
	Timezone  *string
	Locale    *string
}

// UpdateMe changes the fields of in that are set, with the same rules as
// the Linode face's profile update. A new email address is not verified.
// Human users only.
func (s *Service) UpdateMe(ctx context.Context, a Actor, in MeUpdate) (Me, error) {
	if err := mustWrite(a); err != nil {
		return Me{}, err
	}
	if in.Email != nil && *in.Email != a.User.Email {
		// The address receives what recovers an account.
		if err := s.stepUp(ctx, a); err != nil {
			return Me{}, err
		}
	}
	var out Me
	err := s.update(ctx, func(tx Tx, note func(Event)) error {
		m, err := lockHuman(ctx, tx, a.User.ID)
		if err != nil {
			return err
		}
		old := m.User.Email
		if err := applyMeUpdate(&m, in); err != nil {
			return err
		}
		if err := tx.UpdateUser(ctx, m.User); err != nil {
			return notFound(err, "update user")
		}
		if err := tx.PutIAMProfile(ctx, m.Profile); err != nil {
			return notFound(err, "update iam profile")
		}
		if m.User.Email != old {
			if err := s.emailChanged(ctx, tx, m.User, old, note); err != nil {
				return err
			}
		}
		out = m
		return nil
	})
	out.Profile = out.Profile.withDefaults()
	return out, err
}

func applyMeUpdate(m *Me, in MeUpdate) error {
	var err error
	if in.FirstName != nil {
		if m.Profile.FirstName, err = validatePersonName("first_name", *in.FirstName); err != nil {
			return err
		}
	}
	if in.LastName != nil {
		if m.Profile.LastName, err = validatePersonName("last_name", *in.LastName); err != nil {
			return err
		}
	}
	if in.Email != nil && !unchanged(*in.Email, m.User.Email) {
		if err := ValidateEmail("email", *in.Email); err != nil {
			return err
		}
		m.User.Email = *in.Email
		m.Profile.EmailVerified = false
	}
	if in.Timezone != nil {
		if err := ValidateTimezone("timezone", *in.Timezone); err != nil {
			return err
		}
		m.User.Timezone = *in.Timezone
	}
	if in.Locale != nil {
		if m.Profile.Config.Locale, err = ValidateLocale("locale", *in.Locale); err != nil {
			return err
		}
	}
	return nil
}

// DeleteMe deletes the actor's user for good, with everything it owns:
// every token of the user fails from the next request on, on every
// replica. Human users only.
func (s *Service) DeleteMe(ctx context.Context, a Actor) error {
	if err := mustWrite(a); err != nil {
		return err
	}
	if err := s.stepUp(ctx, a); err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, note func(Event)) error {
		if _, err := lockHuman(ctx, tx, a.User.ID); err != nil {
			return err
		}
		note(eventOf(EventUserDeleted, a, ""))
		return notFound(s.deleteUser(ctx, tx, a.User.ID), "delete user")
	})
}

// ChangePassword replaces the actor's password. It requires the current
// one (guesses draw from a per-user budget shared by every replica),
// applies the password policy, and ends the user's other sign-in
// sessions and trusted devices, so neither a stolen session nor a device
// trusted under the old password outlives the change.
func (s *Service) ChangePassword(ctx context.Context, a Actor, current, next string) error {
	if err := mustWrite(a); err != nil {
		return err
	}
	if err := s.stepUp(ctx, a); err != nil {
		return err
	}
	if _, err := loadHuman(ctx, s.store, a.User.ID); err != nil {
		return err
	}
	if current == "" {
		return Invalid("current_password", "current_password is required")
	}
	limitKey := "password-change:" + strconv.FormatInt(a.User.ID, 10)
	if err := s.attempt(ctx, limitKey, codeAttempts, codeWindow); err != nil {
		return err
	}
	ok, err := s.VerifyPassword(ctx, a.User.ID, current)
	if err != nil {
		return err
	}
	if !ok {
		return Invalid("current_password", "current_password is not your current password")
	}
	if err := ValidatePassword("new_password", next, a.User); err != nil {
		return err
	}
	hash, err := hashPassword(ctx, next, s.cost)
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, note func(Event)) error {
		if _, err := tx.LockUser(ctx, a.User.ID); err != nil {
			return notFound(err, "lock user")
		}
		if err := s.setPassword(ctx, tx, a.User.ID, hash); err != nil {
			return err
		}
		if err := s.endSessions(ctx, tx, a.User.ID, a.Token.ID); err != nil {
			return err
		}
		note(eventOf(EventPasswordChanged, a, ""))
		return clearAttempts(ctx, tx, limitKey)
	})
}
