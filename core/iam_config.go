package core

import (
	"context"
	"slices"
	"strings"
)

// The values each UserConfig setting may take; the first is the default.
var (
	Themes       = []string{"system", "light", "dark"}
	DateFormats  = []string{"YYYY-MM-DD", "DD/MM/YYYY", "MM/DD/YYYY", "DD.MM.YYYY"}
	TimeFormats  = []string{"24h", "12h"}
	WeekStarts   = []string{"monday", "sunday", "saturday"}
	LandingPages = []string{"dashboard", "profile", "security", "api-tokens", "ssh-keys"}
)

// DefaultUserConfig is the configuration of a user who never set one.
func DefaultUserConfig() UserConfig {
	return UserConfig{Locale: DefaultLocale, Theme: Themes[0], DateFormat: DateFormats[0],
		TimeFormat: TimeFormats[0], WeekStart: WeekStarts[0], LandingPage: LandingPages[0]}
}

func (c UserConfig) withDefaults() UserConfig {
	d := DefaultUserConfig()
	for _, f := range []struct{ v, def *string }{{&c.Locale, &d.Locale}, {&c.Theme, &d.Theme},
		{&c.DateFormat, &d.DateFormat}, {&c.TimeFormat, &d.TimeFormat}, {&c.WeekStart, &d.WeekStart},
		{&c.LandingPage, &d.LandingPage}} {
		if *f.v == "" {
			*f.v = *f.def
		}
	}
	return c
}

func oneOf(field, value string, allowed []string) error {
	if slices.Contains(allowed, value) {
		return nil
	}
	return Invalid(field, "%s must be one of %s", field, strings.Join(allowed, ", "))
}

// validateUserConfig checks every setting and returns c with its locale in
// canonical form.
func validateUserConfig(c UserConfig) (UserConfig, error) {
	var err error
	if c.Locale, err = ValidateLocale("locale", c.Locale); err != nil {
		return c, err
	}
	for _, f := range []struct {
		field, value string
		allowed      []string
	}{{"theme", c.Theme, Themes}, {"date_format", c.DateFormat, DateFormats},
		{"time_format", c.TimeFormat, TimeFormats}, {"week_start", c.WeekStart, WeekStarts},
		{"landing_page", c.LandingPage, LandingPages}} {
		if err := oneOf(f.field, f.value, f.allowed); err != nil {
			return c, err
		}
	}
	return c, nil
}

// MyConfig returns the actor's user-interface settings. Human users only;
// it needs account:read_only.
func (s *Service) MyConfig(ctx context.Context, a Actor) (UserConfig, error) {
	if err := mustRead(a); err != nil {
		return UserConfig{}, err
	}
	m, err := loadHuman(ctx, s.store, a.User.ID)
	if err != nil {
		return UserConfig{}, err
	}
	return m.Profile.Config.withDefaults(), nil
}

// PutMyConfig replaces the actor's settings with c, every field of which
// must be set to one of its allowed values. Human users only.
func (s *Service) PutMyConfig(ctx context.Context, a Actor, c UserConfig) (UserConfig, error) {
	if err := mustWrite(a); err != nil {
		return UserConfig{}, err
	}
	c, err := validateUserConfig(c)
	if err != nil {
		return UserConfig{}, err
	}
	err = s.store.Update(ctx, func(tx Tx) error {
		m, err := lockHuman(ctx, tx, a.User.ID)
		if err != nil {
			return err
		}
		m.Profile.Config = c
		return notFound(tx.PutIAMProfile(ctx, m.Profile), "put config")
	})
	if err != nil {
		return UserConfig{}, err
	}
	return c, nil
}

// Channels says on which channels a category of notifications is sent.
type Channels struct {
	Email bool
	SMS   bool
}

// NotificationConfig is which notifications a person receives, per
// category and channel. Security email is always on. Account email is the
// same stored value as the Linode face's email_notifications: either face
// reads what the other wrote.
type NotificationConfig struct {
	Security Channels // sign-ins, credential and two-factor changes
	Account  Channels // changes to the account and its settings
	Product  Channels // news about profiled's service
}

func notificationsOf(m Me) NotificationConfig {
	n := m.Profile.Notifications
	return NotificationConfig{
		Security: Channels{Email: true, SMS: n.SecuritySMS},
		Account:  Channels{Email: m.User.EmailNotifications, SMS: n.AccountSMS},
		Product:  Channels{Email: n.ProductEmail, SMS: n.ProductSMS},
	}
}

// MyNotifications returns the actor's notification preferences. Human
// users only; it needs account:read_only.
func (s *Service) MyNotifications(ctx context.Context, a Actor) (NotificationConfig, error) {
	if err := mustRead(a); err != nil {
		return NotificationConfig{}, err
	}
	m, err := loadHuman(ctx, s.store, a.User.ID)
	if err != nil {
		return NotificationConfig{}, err
	}
	return notificationsOf(m), nil
}

// PutMyNotifications replaces the actor's notification preferences.
// Security email cannot be turned off, and an SMS channel can be turned on
// only while the user has a verified phone number. Human users only.
func (s *Service) PutMyNotifications(ctx context.Context, a Actor, in NotificationConfig) (NotificationConfig, error) {
	if err := mustWrite(a); err != nil {
		return NotificationConfig{}, err
	}
	if !in.Security.Email {
		return NotificationConfig{}, Invalid("security.email", "security email notifications cannot be turned off: they tell you about sign-ins and changes to your credentials")
	}
	var out NotificationConfig
	err := s.store.Update(ctx, func(tx Tx) error {
		m, err := lockHuman(ctx, tx, a.User.ID)
		if err != nil {
			return err
		}
		before := notificationsOf(m)
		if m.User.VerifiedPhoneNumber == "" {
			for _, c := range []struct {
				field   string
				was, is bool
			}{{"security.sms", before.Security.SMS, in.Security.SMS}, {"account.sms", before.Account.SMS, in.Account.SMS},
				{"product.sms", before.Product.SMS, in.Product.SMS}} {
				if c.is && !c.was {
					return Invalid(c.field, "text messages need a verified phone number: verify one first (POST /v4/profile/phone-number)")
				}
			}
		}
		m.User.EmailNotifications = in.Account.Email
		m.Profile.Notifications = NotificationPrefs{SecuritySMS: in.Security.SMS, AccountSMS: in.Account.SMS,
			ProductEmail: in.Product.Email, ProductSMS: in.Product.SMS}
		if err := tx.UpdateUser(ctx, m.User); err != nil {
			return notFound(err, "update user")
		}
		if err := tx.PutIAMProfile(ctx, m.Profile); err != nil {
			return notFound(err, "put notifications")
		}
		out = notificationsOf(m)
		return nil
	})
	return out, err
}
