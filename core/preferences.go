package core

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// MaxPreferencesLength is the Linode limit on a preferences object, in characters.
const MaxPreferencesLength = 65535

// Preferences returns the preferences of the actor's client namespace: the
// OAuth client that issued the token, or the one namespace all personal
// tokens share. Before any PUT it is the empty object.
func (s *Service) Preferences(ctx context.Context, a Actor) (json.RawMessage, error) {
	if err := mustRead(a); err != nil {
		return nil, err
	}
	v, err := s.store.Preferences(ctx, a.User.ID, a.Token.ClientID)
	if errors.Is(err, ErrNotFound) {
		return json.RawMessage("{}"), nil
	}
	return v, notFound(err, "get preferences")
}

// Precondition says whether a write may replace the stored value whose
// tag (PreferencesTag) is current: the faces build it from If-Match. Nil
// allows any.
type Precondition func(current string) bool

// PreferencesTag is the strong entity tag of a stored preferences value
// (quoted, as ETag carries it): read-modify-write clients send it back in
// If-Match, so that a PUT based on an old read fails instead of losing an
// update made in between.
func PreferencesTag(v json.RawMessage) string {
	sum := sha256.Sum256(v)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
}

// errChanged is the answer to a write whose precondition fails.
func errChanged() *Error {
	return &Error{Kind: KindPreconditionFailed, Field: "If-Match",
		Reason: "The preferences changed since you read them: read them again (their ETag) and redo your change"}
}

// putPreferences stores v under the namespace id, inside one transaction
// with the check of cond against what is stored and the user's quota of
// preference bytes (ErrOverQuota, for the caller's overQuota).
func (s *Service) putPreferences(ctx context.Context, userID int64, id string, v json.RawMessage, cond Precondition) error {
	err := s.store.Update(ctx, func(tx Tx) error {
		if cond != nil {
			// Writers that read the same version take turns, so only
			// the first finds it still current (PostgreSQL's READ
			// COMMITTED would let each read it before any wrote).
			if _, err := tx.LockUser(ctx, userID); err != nil {
				return notFound(err, "lock user")
			}
			current, err := tx.Preferences(ctx, userID, id)
			if errors.Is(err, ErrNotFound) {
				current, err = json.RawMessage("{}"), nil
			}
			if err != nil {
				return notFound(err, "get preferences")
			}
			if !cond(PreferencesTag(current)) {
				return errChanged()
			}
		}
		if err := tx.PutPreferences(ctx, userID, id, v); err != nil {
			return notFound(err, "put preferences")
		}
		return tx.HoldPreferenceBytes(ctx, userID, s.quotas.limit(QuotaPreferenceBytes))
	})
	return err
}

// PutPreferences replaces the preferences of the actor's client namespace.
func (s *Service) PutPreferences(ctx context.Context, a Actor, value json.RawMessage, cond Precondition) (json.RawMessage, error) {
	if err := mustWrite(a); err != nil {
		return nil, err
	}
	compact, err := compactObject(value)
	if err != nil {
		return nil, err
	}
	if utf8.RuneCount(compact) > MaxPreferencesLength {
		return nil, &Error{Kind: KindInvalid, Field: "preferences", Reason: "preferences may not exceed 65,535 characters"}
	}
	return compact, s.overQuota(ctx, s.putPreferences(ctx, a.User.ID, a.Token.ClientID, compact, cond), QuotaPreferenceBytes, a)
}

// compactObject checks that v is one JSON object and returns it without insignificant whitespace.
func compactObject(v json.RawMessage) (json.RawMessage, error) {
	v = bytes.TrimSpace(v)
	if !utf8.Valid(v) {
		// encoding/json would let it through, and PostgreSQL refuse it.
		return nil, Invalid("preferences", "preferences must be valid UTF-8")
	}
	if len(v) == 0 || v[0] != '{' || !json.Valid(v) {
		return nil, Invalid("preferences", "preferences must be a JSON object")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, v); err != nil {
		return nil, Invalid("preferences", "preferences must be a JSON object")
	}
	return buf.Bytes(), nil
}
