package core

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/profiled/profiled/picture"
)

// Avatar limits: what an upload may be, and what profiled keeps.
const (
	MaxAvatarBytes = 5 << 20 // the largest file accepted
	MaxAvatarSide  = 4096    // the widest and tallest image accepted, in pixels
	AvatarSide     = 256     // every stored avatar is a square PNG of this side
)

// avatarLimits are the limits above, as the picture package takes them.
var avatarLimits = picture.Limits{MaxBytes: MaxAvatarBytes, MaxSide: MaxAvatarSide, Side: AvatarSide}

// Uploads per user: each costs up to a second of CPU.
const (
	avatarUploads      = 10
	avatarUploadWindow = time.Hour
)

// MakeAvatar turns an uploaded file into the avatar profiled stores: a
// PNG, AvatarSide pixels square (picture.Square says how), or a refusal
// that names the file.
func MakeAvatar(ctx context.Context, data []byte) ([]byte, error) {
	out, err := picture.Square(ctx, data, avatarLimits)
	return out, avatarError(err)
}

// checkAvatar is MakeAvatar's checks that decode nothing.
func checkAvatar(data []byte) error {
	_, _, err := picture.Check(data, avatarLimits)
	return avatarError(err)
}

// avatarError words a refused upload as the core's error of its kind.
func avatarError(err error) error {
	var pe *picture.Error
	if !errors.As(err, &pe) {
		return err
	}
	switch pe.Problem {
	case picture.TooLarge:
		return &Error{Kind: KindTooLarge, Field: "file", Reason: fmt.Sprintf("file must be at most %d bytes (5 MiB)", MaxAvatarBytes)}
	case picture.Busy:
		return &Error{Kind: KindUnavailable, Field: "file", RetryAfter: time.Second, Reason: pe.Reason}
	}
	return Invalid("file", "%s", pe.Reason)
}

// AvatarPixelsPeak is the most pixels of uploads ever decoded at once in
// this process (picture.PixelsPeak).
func AvatarPixelsPeak() int64 { return picture.PixelsPeak() }

var avatarIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// SetAvatar replaces the actor's avatar with the picture in data (see
// MakeAvatar) and returns the user, whose avatar now has a new id and URL.
// Human users only; it needs account:read_write.
func (s *Service) SetAvatar(ctx context.Context, a Actor, data []byte) (Me, error) {
	if err := mustWrite(a); err != nil {
		return Me{}, err
	}
	// Refuse service accounts before spending time on the image.
	m, err := loadHuman(ctx, s.store, a.User.ID)
	if err != nil {
		return Me{}, err
	}
	// What is refused by its header costs nothing to speak of; what
	// would be decoded draws from the user's budget first.
	if err := checkAvatar(data); err != nil {
		return Me{}, err
	}
	if err := s.attempt(ctx, "avatar:"+strconv.FormatInt(a.User.ID, 10), avatarUploads, avatarUploadWindow); err != nil {
		return Me{}, err
	}
	pic, err := MakeAvatar(ctx, data)
	if err != nil {
		return Me{}, err
	}
	id, err := s.newSecret(16)
	if err != nil {
		return Me{}, err
	}
	av := Avatar{UserID: a.User.ID, ID: id, PNG: pic, Created: s.clock()}
	err = s.store.Update(ctx, func(tx Tx) error {
		if m, err = lockHuman(ctx, tx, a.User.ID); err != nil {
			return err
		}
		if err := tx.PutAvatar(ctx, av); err != nil {
			return notFound(err, "put avatar")
		}
		m.Profile.AvatarID = av.ID
		return nil
	})
	m.Profile = m.Profile.withDefaults()
	return m, err
}

// DeleteAvatar removes the actor's picture: the uploaded avatar, and the
// picture the identity provider reported (until the next sync-from-auth).
// Human users only; it needs account:read_write.
func (s *Service) DeleteAvatar(ctx context.Context, a Actor) error {
	if err := mustWrite(a); err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx Tx) error {
		m, err := lockHuman(ctx, tx, a.User.ID)
		if err != nil {
			return err
		}
		if err := tx.DeleteAvatar(ctx, a.User.ID); err != nil {
			return notFound(err, "delete avatar")
		}
		if m.Profile.PictureURL != "" {
			m.Profile.PictureURL = ""
			return notFound(tx.PutIAMProfile(ctx, m.Profile), "forget picture")
		}
		return nil
	})
}

// AvatarImage returns an avatar by its public id, for anyone: avatar URLs
// are public, and unguessable.
func (s *Service) AvatarImage(ctx context.Context, id string) (Avatar, error) {
	if !avatarIDPattern.MatchString(id) {
		return Avatar{}, NotFound()
	}
	av, err := s.store.Avatar(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Avatar{}, NotFound()
	}
	return av, notFound(err, "get avatar")
}
