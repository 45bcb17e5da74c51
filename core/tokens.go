package core

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

const (
	minTokenLabel = 1
	maxTokenLabel = 100
	// tokenBytes of crypto/rand make the 64 hex characters of a token.
	tokenBytes = 32
	// TokenPrefixLength is how much of a token lists and reads show.
	TokenPrefixLength = 16
)

// TokenCreate is the input of CreateToken.
type TokenCreate struct {
	Label  string
	Scopes *string    // nil or "*": the acting token's scopes
	Expiry *time.Time // nil: until revoked
}

func validateTokenLabel(label string) error {
	n := utf8.RuneCountInString(label)
	if n < minTokenLabel || n > maxTokenLabel {
		return Invalid("label", "label must be %d to %d characters", minTokenLabel, maxTokenLabel)
	}
	return checkText("label", label)
}

// personalOnly keeps /profile/tokens to personal access tokens: sessions
// and OAuth tokens are managed through sign-in and /profile/apps.
func personalOnly(q ListQuery) ListQuery {
	personal := Match("kind", OpEq, string(TokenPersonal))
	q.Filter = AllOf(q.Filter, &personal)
	return q
}

// ownPersonal loads a live personal token of the user, NotFound otherwise.
func (s *Service) ownPersonal(ctx context.Context, r Reader, userID, id int64) (Token, error) {
	t, err := r.Token(ctx, userID, id)
	if err != nil {
		return Token{}, notFound(err, "get token")
	}
	if t.Kind != TokenPersonal || !t.Active(s.now()) {
		return Token{}, NotFound()
	}
	return t, nil
}

// activeOnly hides expired objects from lists: NULL expiry never expires.
func (s *Service) activeOnly(q ListQuery) ListQuery {
	live := Match("expiry", OpGt, s.clock())
	q.Filter = AllOf(q.Filter, &live)
	return q
}

// Tokens lists the actor's live personal access tokens.
func (s *Service) Tokens(ctx context.Context, a Actor, q ListQuery) (Page[Token], error) {
	if err := mustRead(a); err != nil {
		return Page[Token]{}, err
	}
	data, n, err := s.store.ListTokens(ctx, a.User.ID, personalOnly(s.activeOnly(q)))
	return Page[Token]{Data: data, Page: q.Page, PageSize: q.PageSize, Results: n}, notFound(err, "list tokens")
}

// Token returns one of the actor's tokens.
func (s *Service) Token(ctx context.Context, a Actor, id int64) (Token, error) {
	if err := mustRead(a); err != nil {
		return Token{}, err
	}
	return s.ownPersonal(ctx, s.store, a.User.ID, id)
}

// CreateToken issues a personal access token that neither outranks nor
// outlives the acting token: its scopes are within the acting token's, and
// its expiry is at most the acting token's (a later or absent one is
// lowered to it), except for a sign-in session or a first-party client's
// token, which make tokens of any lifetime, as a console does. A token made
// through a third-party application's authorization belongs to it (its
// AppID), so revoking the application revokes it too. The raw token is
// returned once and never stored.
func (s *Service) CreateToken(ctx context.Context, a Actor, in TokenCreate) (Token, string, error) {
	if err := mustWrite(a); err != nil {
		return Token{}, "", err
	}
	trust, err := s.trustOf(ctx, a)
	if err != nil {
		return Token{}, "", err
	}
	var appID int64
	if trust == trustDelegated {
		appID = a.Token.AppID
	}
	expiry := in.Expiry
	if trust != trustFull && a.Token.Expiry != nil && (expiry == nil || expiry.After(*a.Token.Expiry)) {
		expiry = a.Token.Expiry
	}
	// The new token is personal: what the acting token's unqualified
	// preferences scopes open (its client's namespace) is written out.
	parent := a.Token.Scopes.Bind(a.Token.ClientID)
	scopes := parent
	// Omitted, "" (what linodego sends when unset) and "*" copy the acting token's scopes.
	if in.Scopes != nil && *in.Scopes != "*" && *in.Scopes != "" {
		var err error
		if scopes, err = ParseScopes(*in.Scopes); err != nil {
			return Token{}, "", err
		}
		if !scopes.Within(parent) {
			return Token{}, "", Invalid("scopes", "scopes may not exceed the scopes of the token making the request (%s)", parent)
		}
	}
	t, raw, err := s.issueToken(ctx, Token{UserID: a.User.ID, Kind: TokenPersonal, Label: in.Label, Scopes: scopes, Expiry: expiry, AppID: appID},
		true, eventOf(EventTokenCreated, a, in.Label))
	return t, raw, s.overQuota(ctx, err, QuotaPersonalTokens, a)
}

// trust is how far a token is trusted with the account itself.
type trust int

const (
	// trustFull: a sign-in session, a first-party client's token, or a
	// token the user made without an application.
	trustFull trust = iota
	// trustOwn: a token of the user's own with an expiry of its own
	// making (a personal token, an external provider's token): full
	// trust, but what it makes does not outlive it.
	trustOwn
	// trustDelegated: a third-party application acting for the user: its
	// OAuth token, or a personal token it made (which carries its AppID).
	trustDelegated
)

// trustOf says how far the actor's token is trusted: whether it acts
// through a third-party application (Kind oauth of a client that is not
// FirstParty, or a personal token with an AppID), and whether what it
// makes may outlive it.
func (s *Service) trustOf(ctx context.Context, a Actor) (trust, error) {
	switch a.Token.Kind {
	case TokenSession:
		return trustFull, nil
	case TokenOAuth:
		c, err := s.store.OAuthClient(ctx, a.Token.ClientID)
		if errors.Is(err, ErrNotFound) {
			return trustDelegated, nil
		}
		if err != nil {
			return trustDelegated, fmt.Errorf("oauth client: %w", err)
		}
		if c.FirstParty {
			return trustFull, nil
		}
		return trustDelegated, nil
	case TokenPersonal:
		if a.Token.AppID != 0 {
			return trustDelegated, nil
		}
	}
	return trustOwn, nil
}

// stepUp refuses an operation that could take the account over (two-factor
// authentication, scratch codes, security answers, the password, the email
// address, deleting the user) to a third-party application's token,
// whatever its scopes: a user who authorized an application with
// account:read_write gave it their data, not their account.
func (s *Service) stepUp(ctx context.Context, a Actor) error {
	t, err := s.trustOf(ctx, a)
	if err != nil {
		return err
	}
	if t == trustDelegated {
		return &Error{Kind: KindForbidden, Reason: "A third-party application's token may not do this, whatever its scopes: use a personal access token or sign in"}
	}
	return nil
}

// IssueToken creates a personal access token for a user by name, for
// operators (the CLI) rather than API callers. The token counts toward the
// user's quota, which bounds what API callers add, but an operator may
// pass it.
func (s *Service) IssueToken(ctx context.Context, username, label string, scopes Scopes, expiry *time.Time) (Token, string, error) {
	u, err := s.store.UserByUsername(ctx, username)
	if err != nil {
		return Token{}, "", notFound(err, "find user")
	}
	return s.issueToken(ctx, Token{UserID: u.ID, Kind: TokenPersonal, Label: label, Scopes: scopes, Expiry: expiry}, false)
}

// issueToken stores t, a new token: its label checked, its expiry in the
// future, with a new secret, within the user's quota of tokens if quota.
// It returns t and the raw token.
func (s *Service) issueToken(ctx context.Context, t Token, quota bool, events ...Event) (Token, string, error) {
	if err := validateTokenLabel(t.Label); err != nil {
		return Token{}, "", err
	}
	now := s.clock()
	if t.Expiry != nil {
		e := t.Expiry.UTC().Truncate(time.Second)
		if !e.After(now) {
			return Token{}, "", Invalid("expiry", "expiry must be in the future")
		}
		t.Expiry = &e
	}
	raw, err := s.newSecret(tokenBytes)
	if err != nil {
		return Token{}, "", err
	}
	t.Created, t.Prefix, t.Hash = now, raw[:TokenPrefixLength], HashToken(raw)
	err = s.update(ctx, func(tx Tx, note func(Event)) error {
		if quota {
			if err := s.holdQuota(ctx, tx, QuotaPersonalTokens, t.UserID); err != nil {
				return err
			}
		}
		for _, e := range events {
			note(e)
		}
		return notFound(tx.CreateToken(ctx, &t), "create token")
	})
	if err != nil {
		return Token{}, "", err
	}
	return t, raw, nil
}

// RenameToken changes a token's label, the only thing about it that can change.
func (s *Service) RenameToken(ctx context.Context, a Actor, id int64, label string) (Token, error) {
	if err := mustWrite(a); err != nil {
		return Token{}, err
	}
	if err := validateTokenLabel(label); err != nil {
		return Token{}, err
	}
	var t Token
	err := s.store.Update(ctx, func(tx Tx) error {
		var err error
		if t, err = s.ownPersonal(ctx, tx, a.User.ID, id); err != nil {
			return err
		}
		if err := tx.UpdateTokenLabel(ctx, a.User.ID, id, label); err != nil {
			return notFound(err, "rename token")
		}
		t.Label = label
		return nil
	})
	return t, err
}

// RevokeToken invalidates a token at once, on every replica: the next
// request with it fails with 401. A token may revoke itself.
func (s *Service) RevokeToken(ctx context.Context, a Actor, id int64) error {
	if err := mustWrite(a); err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, note func(Event)) error {
		t, err := s.ownPersonal(ctx, tx, a.User.ID, id)
		if err != nil {
			return err
		}
		note(eventOf(EventTokenRevoked, a, t.Label))
		return notFound(tx.DeleteToken(ctx, a.User.ID, id), "revoke token")
	})
}
