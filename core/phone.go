package core

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/profiled/profiled/internal/phone"
)

const (
	// PhoneCodeLifetime is how long an SMS code can be verified.
	PhoneCodeLifetime = 10 * time.Minute
	smsSendLimit      = 5 // texts per user per window, against SMS pumping
	smsSendWindow     = time.Hour
)

func phoneAD(userID int64) string { return "phone-code:" + strconv.FormatInt(userID, 10) }

// NormalizePhone parses a number in the context of a two-letter country
// code and returns it in E.164.
func NormalizePhone(isoCode, number string) (string, error) {
	iso := strings.ToUpper(strings.TrimSpace(isoCode))
	if len(iso) != 2 || phone.CallingCode(iso) == 0 {
		return "", Invalid("iso_code", "iso_code must be a two-letter ISO 3166 country code, like US")
	}
	if number == "" || len(number) > 64 {
		return "", Invalid("phone_number", "phone_number must be a valid phone number")
	}
	e164, err := phone.E164(iso, number)
	if err != nil {
		return "", Invalid("phone_number", "phone_number must be a valid phone number for %s: digits, with spaces, hyphens, dots or parentheses between them if you like; a number of another country starts with + and its country code", iso)
	}
	return e164, nil
}

// SendPhoneCode texts a 6-digit code to the number. Asking again before the
// code expires re-sends the same code.
func (s *Service) SendPhoneCode(ctx context.Context, a Actor, isoCode, number string) error {
	if err := mustWrite(a); err != nil {
		return err
	}
	phone, err := NormalizePhone(isoCode, number)
	if err != nil {
		return err
	}
	if err := s.attempt(ctx, "sms-send:"+strconv.FormatInt(a.User.ID, 10), smsSendLimit, smsSendWindow); err != nil {
		return err
	}
	now := s.now()
	fresh, err := s.sixDigits()
	if err != nil {
		return err
	}
	var code string
	err = s.store.Update(ctx, func(tx Tx) error {
		u, err := lockUser(ctx, tx, a.User.ID)
		if err != nil {
			return err
		}
		if u.VerifiedPhoneNumber != "" {
			return Conflict("phone_number", "A phone number is already verified: DELETE /profile/phone-number first to change it")
		}
		v, err := tx.PhoneVerification(ctx, a.User.ID)
		if err == nil && v.Phone == phone && now.Before(v.Expiry) {
			plain, err := s.box.Open(v.CodeEnc, phoneAD(a.User.ID))
			if err != nil {
				return err
			}
			code = string(plain)
			return nil
		} else if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		code = fresh
		return tx.SetPhoneVerification(ctx, a.User.ID, PhoneVerification{
			Phone: phone, ISOCode: strings.ToUpper(isoCode), CodeEnc: s.box.Seal([]byte(code), phoneAD(a.User.ID)),
			Expiry: now.Add(PhoneCodeLifetime).UTC().Truncate(time.Second),
		})
	})
	if err != nil {
		return err
	}
	if err := s.sms.SendSMS(ctx, phone, "Your verification code is "+code+". It expires in 10 minutes."); err != nil {
		return fmt.Errorf("send sms: %w", err)
	}
	return nil
}

func (s *Service) sixDigits() (string, error) {
	b, err := s.random(4)
	if err != nil {
		return "", err
	}
	n := (uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])) % 1000000
	return fmt.Sprintf("%06d", n), nil
}

// VerifyPhone checks the SMS code of the actor's pending verification and
// makes the number the verified one. Only the user who asked can verify;
// attempts are limited across replicas.
func (s *Service) VerifyPhone(ctx context.Context, a Actor, code string) error {
	if err := mustWrite(a); err != nil {
		return err
	}
	code = strings.TrimSpace(code)
	if code == "" {
		return Invalid("otp_code", "otp_code is required")
	}
	limitKey := "sms:" + strconv.FormatInt(a.User.ID, 10)
	if err := s.attempt(ctx, limitKey, codeAttempts, codeWindow); err != nil {
		return err
	}
	now := s.now()
	return s.update(ctx, func(tx Tx, note func(Event)) error {
		if _, err := tx.LockUser(ctx, a.User.ID); err != nil {
			return notFound(err, "lock user")
		}
		v, err := tx.PhoneVerification(ctx, a.User.ID)
		if errors.Is(err, ErrNotFound) || (err == nil && !now.Before(v.Expiry)) {
			return Invalid("otp_code", "No verification code is pending, or it expired: POST /profile/phone-number for a new one")
		}
		if err != nil {
			return err
		}
		want, err := s.box.Open(v.CodeEnc, phoneAD(a.User.ID))
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare(want, []byte(code)) != 1 {
			return Invalid("otp_code", "Invalid verification code")
		}
		u, err := tx.UserByID(ctx, a.User.ID)
		if err != nil {
			return notFound(err, "load user")
		}
		u.VerifiedPhoneNumber = v.Phone
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if err := tx.DeletePhoneVerification(ctx, a.User.ID); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		note(eventOf(EventPhoneVerified, a, ""))
		return clearAttempts(ctx, tx, limitKey)
	})
}

// DeletePhone forgets the verified number (opting out of SMS) and any pending code.
func (s *Service) DeletePhone(ctx context.Context, a Actor) error {
	if err := mustWrite(a); err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, note func(Event)) error {
		u, err := lockUser(ctx, tx, a.User.ID)
		if err != nil {
			return err
		}
		note(eventOf(EventPhoneRemoved, a, ""))
		u.VerifiedPhoneNumber = ""
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if err := tx.DeletePhoneVerification(ctx, a.User.ID); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		// Without a number no text can be sent: the IAM face's SMS
		// channels go off with it, rather than promising messages.
		p, err := tx.IAMProfile(ctx, a.User.ID)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		n := &p.Notifications
		if n.SecuritySMS || n.AccountSMS || n.ProductSMS {
			n.SecuritySMS, n.AccountSMS, n.ProductSMS = false, false, false
			return notFound(tx.PutIAMProfile(ctx, p), "put notifications")
		}
		return nil
	})
}
