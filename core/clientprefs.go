package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Per-client preferences, as the PACE User API serves them: every OAuth
// client has its own namespace of preferences per user, and personal
// tokens share one more, named PersonalNamespace. They are the same
// namespaces Preferences and PutPreferences use for the token's own client,
// so every face reads and writes the same bytes.
//
// Access: a token reads (writes) its own client's namespace with
// "user:preferences:read" ("user:preferences:write"), and any namespace
// with "user:preferences:read:<clientId>" ("...:write:<clientId>"); "*"
// opens them all. Checks come in this order: the scope (Forbidden), then
// whether the client exists (NotFound), then, for writes, the body.

// ClientPreferences returns the preferences of the namespace of client (a
// client id, or PersonalNamespace), or {} if none were ever stored.
func (s *Service) ClientPreferences(ctx context.Context, a Actor, client string) (json.RawMessage, error) {
	id, err := s.preferencesNamespace(ctx, a, client, PreferencesRead)
	if err != nil {
		return nil, err
	}
	v, err := s.store.Preferences(ctx, a.User.ID, id)
	if errors.Is(err, ErrNotFound) {
		return json.RawMessage("{}"), nil
	}
	return v, notFound(err, "get preferences")
}

// PutClientPreferences replaces the preferences of the namespace of client
// with the JSON object read from body, and returns it as stored (compact).
// The body is checked as it is read (see the limits, MaxPreferenceKeys and
// the rest): one that breaks a rule is refused, with KindInvalid or
// KindTooLarge and a Code, as soon as the breaking byte arrives, and nothing
// of it is stored. Access is checked before the body is read. size is the
// body's length if known (an HTTP Content-Length), else -1; it only helps
// to allocate the object once.
func (s *Service) PutClientPreferences(ctx context.Context, a Actor, client string, body io.Reader, size int64, cond Precondition) (json.RawMessage, error) {
	id, err := s.preferencesNamespace(ctx, a, client, PreferencesWrite)
	if err != nil {
		return nil, err
	}
	v, err := readClientPreferences(body, size)
	if err != nil {
		return nil, err
	}
	if err := s.putPreferences(ctx, a.User.ID, id, v, cond); err != nil {
		return nil, s.overQuota(ctx, err, QuotaPreferenceBytes, a)
	}
	return v, nil
}

// OwnNamespace is the name of the actor's own preferences namespace: its
// token's client id, or PersonalNamespace.
func (a Actor) OwnNamespace() string {
	if a.Token.ClientID == "" {
		return PersonalNamespace
	}
	return a.Token.ClientID
}

// preferencesNamespace checks that the actor may do op on the namespace
// named client, and that it exists; it returns the client id the store
// keeps it under.
func (s *Service) preferencesNamespace(ctx context.Context, a Actor, client, op string) (string, error) {
	own := a.OwnNamespace()
	if client != own && client != PersonalNamespace && !ValidClientID(client) {
		return "", unknownClient(client) // no client can have this id
	}
	allowed := a.Token.Scopes.AllowsPreferences(op, client)
	if client == own {
		allowed = allowed || a.Token.Scopes.AllowsPreferences(op, "")
	}
	if !allowed {
		scope := PreferencesScope(op, client)
		if client == own {
			scope = PreferencesScope(op, "")
		}
		verb := "read"
		if op == PreferencesWrite {
			verb = "write"
		}
		return "", &Error{Kind: KindForbidden, Code: CodeInsufficientScope, Required: scope,
			Reason: fmt.Sprintf("This token may not %s the preferences of %q: it needs the scope %s.", verb, client, scope)}
	}
	switch {
	case client == PersonalNamespace:
		return "", nil
	case client == own:
		return client, nil
	}
	exists := false
	if s.clients != nil {
		var err error
		if exists, err = s.clients.ClientExists(ctx, client); err != nil {
			return "", fmt.Errorf("look up client %q: %w", client, err)
		}
	}
	if !exists {
		return "", unknownClient(client)
	}
	return client, nil
}

// Codes of the access errors of the per-client preferences.
const (
	CodeInsufficientScope = "insufficient-scope"
	CodeUnknownClient     = "unknown-client"
)

func unknownClient(client string) *Error {
	return &Error{Kind: KindNotFound, Field: "clientId", Code: CodeUnknownClient,
		Reason: fmt.Sprintf("There is no client %q", client)}
}
