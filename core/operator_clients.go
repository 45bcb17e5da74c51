package core

import (
	"context"
	"slices"
)

// The operator's management of OAuth clients (the command line): every
// client, its own (registered with CreateOAuthClient) and the accounts'
// (/account/oauth-clients), found by id alone.

// OAuthClientUpdate is what the operator changes of a client: nil fields
// stay as they are. RedirectURIs replaces the whole list; an empty
// BackchannelLogoutURI stops the logouts.
type OAuthClientUpdate struct {
	Label                *string
	Website              *string
	ThumbnailURL         *string // "" removes it
	RedirectURIs         []string
	FirstParty           *bool
	BackchannelLogoutURI *string
	DeviceGrant          *bool
	RequirePushed        *bool
	RequireMFA           *bool
	JWKS                 *string // "" removes the keys
	JWKSURI              *string // "" removes it; either one given replaces the other
	Disabled             *bool   // refused at /oauth/authorize and /oauth/token while true
}

// validateClientUpdate checks the fields in sets, by the rules of
// CreateOAuthClient.
func validateClientUpdate(in OAuthClientUpdate) error {
	if in.Label != nil {
		if err := validateTokenLabel(*in.Label); err != nil {
			return err
		}
	}
	if in.Website != nil {
		if _, err := validateWebURL("website", *in.Website); err != nil {
			return err
		}
	}
	if in.ThumbnailURL != nil && *in.ThumbnailURL != "" {
		if _, err := validateWebURL("thumbnail_url", *in.ThumbnailURL); err != nil {
			return err
		}
	}
	if in.RedirectURIs != nil {
		if len(in.RedirectURIs) == 0 || len(in.RedirectURIs) > maxRedirectURIs {
			return Invalid("redirect_uri", "give 1 to %d redirect URIs", maxRedirectURIs)
		}
		for _, r := range in.RedirectURIs {
			if err := validateRedirectURI("redirect_uri", r); err != nil {
				return err
			}
		}
	}
	// The same rule as a redirect URI's (Back-Channel Logout 2.2: no
	// fragment): it is the relying party's own server.
	if in.BackchannelLogoutURI != nil && *in.BackchannelLogoutURI != "" {
		return validateRedirectURI("backchannel_logout_uri", *in.BackchannelLogoutURI)
	}
	return nil
}

// OAuthClients returns up to limit clients with ids after afterID, in id
// order, for the operator to page through.
func (s *Service) OAuthClients(ctx context.Context, afterID string, limit int) ([]OAuthClient, error) {
	if limit <= 0 || limit > MaxPageSize {
		limit = MaxPageSize
	}
	clients, err := s.store.OAuthClientsAfter(ctx, afterID, limit)
	return clients, notFound(err, "list oauth clients")
}

// operatorClient finds any client by id, disabled ones too.
func operatorClient(ctx context.Context, r Reader, id string) (OAuthClient, error) {
	if id == "" || len(id) > maxClientIDLength {
		return OAuthClient{}, NotFound()
	}
	c, err := r.OAuthClient(ctx, id)
	return c, notFound(err, "get oauth client")
}

// OperatorOAuthClient returns any client by id, disabled ones too.
func (s *Service) OperatorOAuthClient(ctx context.Context, id string) (OAuthClient, error) {
	return operatorClient(ctx, s.store, id)
}

// UpdateOAuthClient changes a client, for the operator. A client stays
// public or confidential as it was made.
func (s *Service) UpdateOAuthClient(ctx context.Context, id string, in OAuthClientUpdate) (OAuthClient, error) {
	if err := validateClientUpdate(in); err != nil {
		return OAuthClient{}, err
	}
	jwks, jwksURI := deref(in.JWKS), deref(in.JWKSURI)
	if err := s.checkClientKeys(jwks, jwksURI, false); err != nil {
		return OAuthClient{}, err
	}
	return s.changeClient(ctx, func(tx Tx) (OAuthClient, error) { return operatorClient(ctx, tx, id) },
		func(c *OAuthClient, _ func(Event)) error {
			set(&c.Label, in.Label)
			set(&c.Website, in.Website)
			set(&c.ThumbnailURL, in.ThumbnailURL)
			set(&c.FirstParty, in.FirstParty)
			set(&c.BackchannelLogoutURI, in.BackchannelLogoutURI)
			set(&c.DeviceGrant, in.DeviceGrant)
			set(&c.RequirePushed, in.RequirePushed)
			set(&c.RequireMFA, in.RequireMFA)
			if jwks != "" || jwksURI != "" {
				if c.Public {
					return s.checkClientKeys(jwks, jwksURI, true) // its refusal of keys for a public client
				}
				// A client has one of the two: the one given replaces the other.
				c.JWKS, c.JWKSURI = jwks, jwksURI
			}
			set(&c.JWKS, in.JWKS)
			set(&c.JWKSURI, in.JWKSURI)
			if in.RedirectURIs != nil {
				c.RedirectURIs = slices.Compact(slices.Clone(in.RedirectURIs))
			}
			if in.Disabled != nil {
				c.Status = OAuthClientActive
				if *in.Disabled {
					c.Status = OAuthClientDisabled
				}
			}
			return nil
		})
}

// ResetOAuthClientSecret gives a confidential client a new secret, for
// the operator; the old one stops working at once.
func (s *Service) ResetOAuthClientSecret(ctx context.Context, id string) (OAuthClient, string, error) {
	return s.resetClientSecret(ctx, func(tx Tx) (OAuthClient, error) { return operatorClient(ctx, tx, id) },
		func(c OAuthClient) Event { return Event{Name: EventClientReset, Detail: "operator: " + c.Label} })
}

// DeleteOAuthClient deletes a client, for the operator, with the
// authorizations users gave it and their tokens.
func (s *Service) DeleteOAuthClient(ctx context.Context, id string) error {
	return s.update(ctx, func(tx Tx, note func(Event)) error {
		c, err := operatorClient(ctx, tx, id)
		if err != nil {
			return err
		}
		note(Event{Name: EventClientDeleted, Detail: "operator: " + c.Label})
		return notFound(tx.DeleteOAuthClient(ctx, id), "delete oauth client")
	})
}

// changeClient reads the client find returns and writes it back as change
// leaves it, in one transaction, noting change's events.
func (s *Service) changeClient(ctx context.Context, find func(Tx) (OAuthClient, error), change func(*OAuthClient, func(Event)) error) (OAuthClient, error) {
	var c OAuthClient
	err := s.update(ctx, func(tx Tx, note func(Event)) error {
		var err error
		if c, err = find(tx); err != nil {
			return err
		}
		if err := change(&c, note); err != nil {
			return err
		}
		return notFound(tx.UpdateOAuthClient(ctx, c), "update oauth client")
	})
	return c, err
}

// resetClientSecret gives the confidential client find returns a new
// secret and notes the event made of it.
func (s *Service) resetClientSecret(ctx context.Context, find func(Tx) (OAuthClient, error), event func(OAuthClient) Event) (OAuthClient, string, error) {
	secret, err := s.newSecret(oauthSecretBytes)
	if err != nil {
		return OAuthClient{}, "", err
	}
	c, err := s.changeClient(ctx, find, func(c *OAuthClient, note func(Event)) error {
		if c.Public {
			return Invalid("public", "a public client has no secret to reset")
		}
		if c.Keyed() {
			return Invalid("jwks", "this client authenticates with its keys, not a secret: remove them first "+
				"(oauth-clients update --jwks-file \"\" --jwks-uri \"\")")
		}
		c.SecretHash = HashToken(secret)
		note(event(*c))
		return nil
	})
	return c, secret, err
}

// deref is *v, or the zero value for nil.
func deref[T any](v *T) T {
	var zero T
	if v == nil {
		return zero
	}
	return *v
}

// set sets *field to *v, when v is given.
func set[T any](field *T, v *T) {
	if v != nil {
		*field = *v
	}
}
