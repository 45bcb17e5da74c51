package core

import (
	"bytes"
	"context"
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

// PutPreferences replaces the preferences of the actor's client namespace.
func (s *Service) PutPreferences(ctx context.Context, a Actor, value json.RawMessage) (json.RawMessage, error) {
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
	err = s.store.Update(ctx, func(tx Tx) error {
		return notFound(tx.PutPreferences(ctx, a.User.ID, a.Token.ClientID, compact), "put preferences")
	})
	return compact, err
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
