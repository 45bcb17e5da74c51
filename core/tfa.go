package core

import (
	"context"
	"crypto/subtle"
	"encoding/base32"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP parameters: RFC 6238 defaults, which every authenticator app supports.
const (
	totpPeriod = 30
	totpDigits = otp.DigitsSix
	// totpSkew accepts the step before and after the current one, for clock drift.
	totpSkew = 1
	// PendingSecretLifetime is how long a secret from tfa-enable can be confirmed.
	PendingSecretLifetime = 30 * time.Minute
	scratchBytes          = 10 // 80 bits, 16 base32 characters
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

func tfaAD(userID int64, what string) string {
	return what + ":" + strconv.FormatInt(userID, 10)
}

// TFASecret is what tfa-enable hands out.
type TFASecret struct {
	Secret string // base32, for an authenticator app
	Expiry time.Time
}

// EnableTFA creates a pending TOTP secret. It refuses until the security
// questions are answered. While TFA is on, it resets it, as Cloud Manager's
// "Reset two-factor authentication" expects: the new secret waits for
// ConfirmTFA to replace the current one, which keeps working until then.
func (s *Service) EnableTFA(ctx context.Context, a Actor) (TFASecret, error) {
	if err := mustWrite(a); err != nil {
		return TFASecret{}, err
	}
	if err := s.stepUp(ctx, a); err != nil {
		return TFASecret{}, err
	}
	raw, err := s.random(20) // 160 bits, the RFC 4226 recommendation
	if err != nil {
		return TFASecret{}, err
	}
	secret := b32.EncodeToString(raw)
	expiry := s.clock().Add(PendingSecretLifetime)
	err = s.store.Update(ctx, func(tx Tx) error {
		if _, err := tx.LockUser(ctx, a.User.ID); err != nil {
			return notFound(err, "lock user")
		}
		answers, err := tx.SecurityAnswers(ctx, a.User.ID)
		if err != nil {
			return err
		}
		if len(answers) < requiredAnswers {
			return Conflict("", "Answer three security questions (POST /profile/security-questions) before enabling two-factor authentication")
		}
		st, err := tx.TFA(ctx, a.User.ID)
		if err != nil {
			return notFound(err, "tfa state")
		}
		st.PendingSecretEnc = s.box.Seal([]byte(secret), tfaAD(a.User.ID, "tfa-pending"))
		st.PendingExpiry = expiry
		return tx.SetTFA(ctx, a.User.ID, st)
	})
	if err != nil {
		return TFASecret{}, err
	}
	return TFASecret{Secret: secret, Expiry: expiry}, nil
}

// ConfirmTFA turns TFA on when code matches the pending secret, and returns
// a one-use scratch code (stored only as a hash). While TFA is on, the
// pending secret replaces the current one, and the new scratch code the old
// ones. Wrong codes are limited per user across replicas; a code's time step
// is never accepted twice.
func (s *Service) ConfirmTFA(ctx context.Context, a Actor, code string) (string, error) {
	if err := mustWrite(a); err != nil {
		return "", err
	}
	if err := s.stepUp(ctx, a); err != nil {
		return "", err
	}
	code = strings.TrimSpace(code)
	if code == "" {
		return "", Invalid("tfa_code", "tfa_code is required")
	}
	limitKey := "tfa:" + strconv.FormatInt(a.User.ID, 10)
	if err := s.attempt(ctx, limitKey, codeAttempts, codeWindow); err != nil {
		return "", err
	}
	scratch, err := s.random(scratchBytes)
	if err != nil {
		return "", err
	}
	scratchCode := b32.EncodeToString(scratch)
	now := s.now()
	err = s.update(ctx, func(tx Tx, note func(Event)) error {
		if _, err := tx.LockUser(ctx, a.User.ID); err != nil {
			return notFound(err, "lock user")
		}
		st, err := tx.TFA(ctx, a.User.ID)
		if err != nil {
			return notFound(err, "tfa state")
		}
		if st.PendingSecretEnc == nil || !now.Before(st.PendingExpiry) {
			return Invalid("tfa_code", "No two-factor secret is pending, or it expired: call POST /profile/tfa-enable for a new one")
		}
		secret, err := s.box.Open(st.PendingSecretEnc, tfaAD(a.User.ID, "tfa-pending"))
		if err != nil {
			return err
		}
		step, ok := matchTOTP(string(secret), code, now, st.LastStep)
		if !ok {
			return Invalid("tfa_code", "Invalid code: enter the current 6-digit code from your authenticator app")
		}
		u, err := tx.UserByID(ctx, a.User.ID)
		if err != nil {
			return notFound(err, "load user")
		}
		if u.TwoFactorAuth {
			note(eventOf(EventTFAReset, a, "")) // a new secret replaces the one in use
		} else {
			note(eventOf(EventTFAEnabled, a, ""))
		}
		u.TwoFactorAuth = true
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		st = TFAState{SecretEnc: s.box.Seal(secret, tfaAD(a.User.ID, "tfa")), LastStep: step}
		if err := tx.SetTFA(ctx, a.User.ID, st); err != nil {
			return err
		}
		if err := tx.SetScratchCodes(ctx, a.User.ID, [][]byte{HashToken(scratchCode)}); err != nil {
			return err
		}
		return clearAttempts(ctx, tx, limitKey)
	})
	if err != nil {
		return "", err
	}
	return scratchCode, nil
}

// DisableTFA turns TFA off and forgets the secret and scratch codes.
func (s *Service) DisableTFA(ctx context.Context, a Actor) error {
	if err := mustWrite(a); err != nil {
		return err
	}
	if err := s.stepUp(ctx, a); err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, note func(Event)) error {
		u, err := lockUser(ctx, tx, a.User.ID)
		if err != nil {
			return err
		}
		if !u.TwoFactorAuth {
			return Conflict("", "Two-factor authentication is not enabled")
		}
		u.TwoFactorAuth = false
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if err := tx.SetTFA(ctx, a.User.ID, TFAState{}); err != nil {
			return err
		}
		note(eventOf(EventTFADisabled, a, ""))
		return tx.SetScratchCodes(ctx, a.User.ID, nil)
	})
}

// matchTOTP checks code against the steps around now and returns the
// matching step. Steps at or before lastStep are refused, so a code
// works once.
func matchTOTP(secret, code string, now time.Time, lastStep int64) (int64, bool) {
	if len(code) != 6 {
		return 0, false
	}
	current := now.Unix() / totpPeriod
	ok := false
	var matched int64
	for step := current - totpSkew; step <= current+totpSkew; step++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), totp.ValidateOpts{
			Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1,
		})
		if err != nil {
			return 0, false
		}
		// Compare every candidate in constant time, without an early return.
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && step > lastStep && !ok {
			ok, matched = true, step
		}
	}
	return matched, ok
}
