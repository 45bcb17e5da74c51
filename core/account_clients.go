package core

import (
	"context"
	"unicode/utf8"
)

// This file holds the OAuth clients an account registers through the
// Linode API (/account/oauth-clients). They work at /oauth/authorize and
// /oauth/token at once, as the operator's clients do; their secret is
// shown at creation and at a reset only, and stored as its SHA-256.

// OAuthClientFields are the fields /account/oauth-clients may filter and
// order on (Cloud Manager orders by status).
var OAuthClientFields = Fields{"id": FieldString, "label": FieldString, "public": FieldBool, "status": FieldString}

// maxClientLabel is the Linode API's bound on a client's label.
const maxClientLabel = 512

// AccountClientInput is what the account sets of a client; nil fields
// stay as they are on an update.
type AccountClientInput struct {
	Label       *string
	RedirectURI *string
	Public      *bool
}

func validateClientInput(in AccountClientInput) error {
	if in.Label != nil {
		if n := utf8.RuneCountInString(*in.Label); n < 1 || n > maxClientLabel {
			return Invalid("label", "label must be 1 to %d characters", maxClientLabel)
		}
		if err := checkText("label", *in.Label); err != nil {
			return err
		}
	}
	if in.RedirectURI != nil {
		return validateRedirectURI("redirect_uri", *in.RedirectURI)
	}
	return nil
}

// accountClient finds a client of the actor's account; another account's,
// or the operator's, is NotFound.
func (s *Service) accountClient(ctx context.Context, r Reader, a Actor, id string) (OAuthClient, error) {
	if id == "" || len(id) > 128 {
		return OAuthClient{}, NotFound()
	}
	c, err := r.OAuthClient(ctx, id)
	if err != nil {
		return OAuthClient{}, notFound(err, "get oauth client")
	}
	if c.AccountID == 0 || c.AccountID != a.User.AccountID {
		return OAuthClient{}, NotFound()
	}
	return c, nil
}

// AccountOAuthClients lists the clients of the actor's account.
func (s *Service) AccountOAuthClients(ctx context.Context, a Actor, q ListQuery) (Page[OAuthClient], error) {
	if err := manage(a, false); err != nil {
		return Page[OAuthClient]{}, err
	}
	data, n, err := s.store.ListOAuthClients(ctx, a.User.AccountID, q)
	return Page[OAuthClient]{Data: data, Page: q.Page, PageSize: q.PageSize, Results: n}, notFound(err, "list oauth clients")
}

// AccountOAuthClient returns one client of the actor's account.
func (s *Service) AccountOAuthClient(ctx context.Context, a Actor, id string) (OAuthClient, error) {
	if err := manage(a, false); err != nil {
		return OAuthClient{}, err
	}
	return s.accountClient(ctx, s.store, a, id)
}

// CreateAccountOAuthClient registers a client of the actor's account and
// returns it with its secret ("" for a public client).
func (s *Service) CreateAccountOAuthClient(ctx context.Context, a Actor, in AccountClientInput) (OAuthClient, string, error) {
	if err := manage(a, true); err != nil {
		return OAuthClient{}, "", err
	}
	if in.Label == nil {
		return OAuthClient{}, "", Invalid("label", "label is required")
	}
	if in.RedirectURI == nil {
		return OAuthClient{}, "", Invalid("redirect_uri", "redirect_uri is required")
	}
	if err := validateClientInput(in); err != nil {
		return OAuthClient{}, "", err
	}
	id, err := s.newSecret(oauthClientIDBytes)
	if err != nil {
		return OAuthClient{}, "", err
	}
	c := OAuthClient{ID: id, Label: *in.Label, RedirectURIs: []string{*in.RedirectURI}, Public: in.Public != nil && *in.Public,
		Created: s.clock(), AccountID: a.User.AccountID, Status: OAuthClientActive}
	var secret string
	if !c.Public {
		if secret, err = s.newSecret(oauthSecretBytes); err != nil {
			return OAuthClient{}, "", err
		}
		c.SecretHash = HashToken(secret)
	}
	err = s.update(ctx, func(tx Tx, note func(Event)) error {
		if err := s.holdQuota(ctx, tx, QuotaOAuthClients, c.AccountID); err != nil {
			return err
		}
		note(eventOf(EventClientCreated, a, c.Label))
		return notFound(tx.CreateOAuthClient(ctx, c), "create oauth client")
	})
	if err = s.overQuota(ctx, err, QuotaOAuthClients, a); err != nil {
		return OAuthClient{}, "", err
	}
	return c, secret, nil
}

// UpdateAccountOAuthClient changes a client's label or redirect URI. A
// client stays public or confidential as it was made: the secret a client
// keeps, or cannot keep, is what it is.
func (s *Service) UpdateAccountOAuthClient(ctx context.Context, a Actor, id string, in AccountClientInput) (OAuthClient, error) {
	if err := manage(a, true); err != nil {
		return OAuthClient{}, err
	}
	if err := validateClientInput(in); err != nil {
		return OAuthClient{}, err
	}
	return s.changeClient(ctx, func(tx Tx) (OAuthClient, error) { return s.accountClient(ctx, tx, a, id) },
		func(c *OAuthClient, _ func(Event)) error {
			if in.Public != nil && *in.Public != c.Public {
				return Invalid("public", "a client stays public or confidential as it was created: create a new client instead")
			}
			set(&c.Label, in.Label)
			if in.RedirectURI != nil {
				c.RedirectURIs = []string{*in.RedirectURI}
			}
			return nil
		})
}

// DeleteAccountOAuthClient deletes a client, the authorizations users
// gave it and their tokens.
func (s *Service) DeleteAccountOAuthClient(ctx context.Context, a Actor, id string) error {
	if err := manage(a, true); err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, note func(Event)) error {
		c, err := s.accountClient(ctx, tx, a, id)
		if err != nil {
			return err
		}
		note(eventOf(EventClientDeleted, a, c.Label))
		return notFound(tx.DeleteOAuthClient(ctx, id), "delete oauth client")
	})
}

// ResetAccountOAuthClientSecret gives a confidential client a new secret,
// returned once; the old one stops working at once.
func (s *Service) ResetAccountOAuthClientSecret(ctx context.Context, a Actor, id string) (OAuthClient, string, error) {
	if err := manage(a, true); err != nil {
		return OAuthClient{}, "", err
	}
	return s.resetClientSecret(ctx, func(tx Tx) (OAuthClient, error) { return s.accountClient(ctx, tx, a, id) },
		func(c OAuthClient) Event { return eventOf(EventClientReset, a, c.Label) })
}

// AccountOAuthClientThumbnail returns a client's thumbnail, a PNG.
func (s *Service) AccountOAuthClientThumbnail(ctx context.Context, a Actor, id string) ([]byte, error) {
	if err := manage(a, false); err != nil {
		return nil, err
	}
	if _, err := s.accountClient(ctx, s.store, a, id); err != nil {
		return nil, err
	}
	png, err := s.store.OAuthClientThumbnail(ctx, id)
	return png, notFound(err, "get thumbnail")
}

// SetAccountOAuthClientThumbnail stores a client's thumbnail: a PNG of at
// most 1 MiB, checked as avatars are.
func (s *Service) SetAccountOAuthClientThumbnail(ctx context.Context, a Actor, id string, png []byte) error {
	if err := manage(a, true); err != nil {
		return err
	}
	if err := checkThumbnail(png); err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx Tx) error {
		if _, err := s.accountClient(ctx, tx, a, id); err != nil {
			return err
		}
		return notFound(tx.SetOAuthClientThumbnail(ctx, id, png), "set thumbnail")
	})
}
