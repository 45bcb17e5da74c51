package core

import (
	"context"
	"time"
)

// UserKind tells a person from a machine identity.
type UserKind string

// User kinds. Users made before the IAM face existed, and every user made
// by "users create", are humans: the store keeps no kind for them ("").
const (
	UserHuman   UserKind = "human"
	UserService UserKind = "service"
)

// IAMProfile is what the IAM face (/iam/v1/users/me) knows about a user
// beyond User. A user for whom none was ever stored has the zero
// IAMProfile, whose empty strings read as the defaults (see Me).
type IAMProfile struct {
	UserID        int64
	Kind          UserKind // "" is UserHuman
	FirstName     string
	LastName      string
	EmailVerified bool
	PictureURL    string // the picture the identity provider last reported; "" if none

	// Service accounts only.
	Name        string
	Description string
	OwnerID     int64 // the human who created it; 0 if none (or that user was deleted)

	Config        UserConfig        // "" fields are the defaults
	Notifications NotificationPrefs // the stored switches of NotificationConfig

	// AvatarID is the public id of the user's uploaded avatar, "" if none.
	// Stores fill it on read and ignore it in PutIAMProfile: PutAvatar and
	// DeleteAvatar change it.
	AvatarID string
}

// UserConfig is a person's settings for user interfaces. Locale is the
// user's locale, the same value PATCH /users/me/ changes.
type UserConfig struct {
	Locale      string // canonical BCP 47, e.g. en-US
	Theme       string
	DateFormat  string
	TimeFormat  string
	WeekStart   string
	LandingPage string
}

// NotificationPrefs are the switches of NotificationConfig that have
// storage of their own. The other two do not: security email is always
// on, and account email is User.EmailNotifications, the Linode face's
// email_notifications.
type NotificationPrefs struct {
	SecuritySMS  bool
	AccountSMS   bool
	ProductEmail bool
	ProductSMS   bool
}

// Avatar is a user's picture as profiled serves it: a square PNG that the
// core made from what the user uploaded.
type Avatar struct {
	UserID  int64
	ID      string // public, random, unique: the picture's URL names it
	PNG     []byte
	Created time.Time
}

// IAMReader holds the queries of the IAM face's data. It is embedded in
// Reader.
type IAMReader interface {
	// IAMProfile returns the user's IAM data with AvatarID filled in: the
	// zero IAMProfile (UserID set) if none was ever stored, ErrNotFound if
	// the user does not exist.
	IAMProfile(ctx context.Context, userID int64) (IAMProfile, error)
	// IAMUser returns the user and IAMProfile's answer, read together.
	IAMUser(ctx context.Context, userID int64) (User, IAMProfile, error)
	// UserByExternalID returns the user linked to a subject of an external
	// identity provider, or ErrNotFound.
	UserByExternalID(ctx context.Context, provider, subject string) (User, error)
	// Avatar returns an avatar by its public id, or ErrNotFound.
	Avatar(ctx context.Context, id string) (Avatar, error)
}

// IAMWriter holds the changes of the IAM face's data. It is embedded in
// Writer.
type IAMWriter interface {
	// PutIAMProfile stores every field of p but AvatarID, replacing what was
	// stored. ErrNotFound if p.UserID, or a non-zero p.OwnerID, names no
	// user.
	PutIAMProfile(ctx context.Context, p IAMProfile) error
	// DeleteUser removes the user and everything the user owns: keys,
	// tokens (and so every session), apps, devices, logins, preferences,
	// IAM data, external identity links and avatar. Service accounts the
	// user owned lose their owner. ErrNotFound if there is no such user.
	DeleteUser(ctx context.Context, userID int64) error
	// LinkExternalID records that subject at provider is userID.
	// ErrDuplicate if that subject is linked already, or the user is linked
	// to another subject of the provider; ErrNotFound if the user does not
	// exist.
	LinkExternalID(ctx context.Context, provider, subject string, userID int64) error
	// PutAvatar replaces the user's avatar. ErrNotFound if the user does
	// not exist, ErrDuplicate if another avatar has a.ID.
	PutAvatar(ctx context.Context, a Avatar) error
	// DeleteAvatar removes the user's avatar; it succeeds if there is none.
	DeleteAvatar(ctx context.Context, userID int64) error
}
