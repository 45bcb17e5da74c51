package core

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Clients that authenticate with a key instead of a secret
// (private_key_jwt: RFC 7523 2.2, OpenID Connect Core 9): the operator
// registers the client's public keys (OAuthClient.JWKS) or the URL where
// the client publishes them (OAuthClient.JWKSURI), and at each
// request to the token, pushed request, revocation, introspection or
// device authorization endpoint the client sends a JWT it signed with
// the private half, naming itself and this server. No secret is then
// kept by both sides, and none can leak from profiled's database. Each
// assertion's jti is spent once (its replay is refused, on every
// replica), and an assertion lives at most MaxClientAssertionLifetime, so
// that the spent ones are kept no longer than that. A client with keys
// authenticates with them only.
const (
	ClientAssertionType        = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	MaxClientAssertionLifetime = 10 * time.Minute
	maxClientAssertionBytes    = 8 << 10
	// spentAssertionMargin keeps a spent jti past its exp by more than
	// the clock skew its verifier allows.
	spentAssertionMargin = time.Minute
)

// ClientKeys reads key sets and assertions (internal/clientjwt): their
// encoding and signatures, which are no rule of the core's, and the key
// sets clients publish.
type ClientKeys interface {
	// CheckKeySet says why jwks is no JWK Set of public signing keys, or
	// returns nil.
	CheckKeySet(jwks string) error
	// KeySet returns the JWK Set a client publishes at uri (its
	// jwks_uri), from a cache while that is fresh. With fresh it reads
	// uri again, unless it did just now: the client may have rotated its
	// keys since.
	KeySet(ctx context.Context, uri string, fresh bool) (string, error)
	// Subject returns the client an assertion names, unverified.
	Subject(assertion string) (string, error)
	// Verify checks the assertion's signature by a key of jwks, that it
	// names clientID, holds one of audiences and is within its times. An
	// assertion no key of jwks signed is ErrUnknownClientKey.
	Verify(assertion, jwks, clientID string, audiences []string, now time.Time) (ClientAssertion, error)
}

// ErrUnknownClientKey is an assertion signed by no key of the set it
// was checked against.
var ErrUnknownClientKey = errors.New("client_assertion is not signed by a key the client registered")

// ClientAssertion is what the core reads of a verified assertion.
type ClientAssertion struct {
	ID     string // jti
	Expiry time.Time
}

// ClientAuth is how a client authenticates at an endpoint: its id and
// secret (HTTP Basic or the form), its id alone (a public client), or an
// assertion of ClientAssertionType.
type ClientAuth struct {
	ClientID, ClientSecret string
	Assertion              string
	// Audiences are what identify this server in an assertion's aud: its
	// issuer and the endpoint's URL. An assertion needs one of them.
	Audiences []string
}

// TakesClientKeys reports whether clients may authenticate with keys.
func (s *Service) TakesClientKeys() bool { return s.clientKeys != nil }

// checkClientKeys validates the keys a client registers: a key set, or
// the URL where the client publishes one, not both. The URL is not read
// here, so that a client may be registered before it is deployed: its
// assertions are refused until the URL answers. The operator registers
// it (no account may), so profiled reads no URL a user chose.
func (s *Service) checkClientKeys(jwks, jwksURI string, public bool) error {
	field := "jwks"
	if jwksURI != "" {
		field = "jwks_uri"
	}
	switch {
	case jwks == "" && jwksURI == "":
		return nil
	case s.clientKeys == nil:
		return Invalid(field, "this server takes no client keys (private_key_jwt)")
	case public:
		return Invalid(field, "a public client cannot keep a private key: register keys for a confidential client")
	case jwks != "" && jwksURI != "":
		return Invalid("jwks_uri", "give the client's key set (jwks) or the URL where it publishes one (jwks_uri), not both")
	case jwksURI != "":
		return validateRedirectURI("jwks_uri", jwksURI)
	}
	if err := s.clientKeys.CheckKeySet(jwks); err != nil {
		return Invalid("jwks", "%s", err.Error())
	}
	return nil
}

// clientKeySet returns the key set c's assertions are checked against:
// the one it registered, or the one it publishes, read again when fresh.
func (s *Service) clientKeySet(ctx context.Context, c OAuthClient, fresh bool) (string, error) {
	if c.JWKSURI == "" {
		return c.JWKS, nil
	}
	jwks, err := s.clientKeys.KeySet(ctx, c.JWKSURI, fresh)
	if err != nil {
		return "", fmt.Errorf("the key set at the client's jwks_uri could not be read (%w)", err)
	}
	return jwks, nil
}

// authenticateAssertion authenticates the client an assertion names.
func (s *Service) authenticateAssertion(ctx context.Context, in ClientAuth) (OAuthClient, error) {
	fail := func(reason string) (OAuthClient, error) {
		return OAuthClient{}, oauthErr(OAuthInvalidClient, KindUnauthorized, "client_assertion", "Client authentication failed: %s", reason)
	}
	switch {
	case s.clientKeys == nil:
		return fail("this server takes no client_assertion (private_key_jwt)")
	case in.ClientSecret != "":
		return OAuthClient{}, oauthErr(OAuthInvalidRequest, KindInvalid, "client_assertion", "send a client_secret or a client_assertion, not both")
	case len(in.Assertion) > maxClientAssertionBytes:
		return fail("client_assertion is too long")
	case len(in.Audiences) == 0:
		return OAuthClient{}, errors.New("client assertion: no audience to check it against")
	}
	id, err := s.clientKeys.Subject(in.Assertion)
	if err != nil {
		return fail(err.Error())
	}
	if in.ClientID != "" && in.ClientID != id {
		return fail("client_id differs from the client_assertion's sub")
	}
	c, err := s.OAuthClient(ctx, id)
	if KindOf(err) == KindNotFound || (err == nil && !c.Keyed()) {
		return fail("unknown client, or one that registered no keys")
	}
	if err != nil {
		return OAuthClient{}, err
	}
	now := s.now()
	jwks, err := s.clientKeySet(ctx, c, false)
	if err != nil {
		return fail(err.Error())
	}
	a, err := s.clientKeys.Verify(in.Assertion, jwks, c.ID, in.Audiences, now)
	if errors.Is(err, ErrUnknownClientKey) && c.JWKSURI != "" {
		// A key the cached set lacks may be the client's new one: a
		// client publishing its keys rotates them when it likes.
		if fresh, ferr := s.clientKeySet(ctx, c, true); ferr == nil && fresh != jwks {
			a, err = s.clientKeys.Verify(in.Assertion, fresh, c.ID, in.Audiences, now)
		}
	}
	switch {
	case err != nil:
		return fail(err.Error())
	case a.ID == "" || len(a.ID) > 256:
		return fail("client_assertion must carry a jti of at most 256 characters, new for each request")
	case a.Expiry.After(now.Add(MaxClientAssertionLifetime)):
		return fail("client_assertion's exp may be at most 10 minutes ahead")
	}
	err = s.store.Update(ctx, func(tx Tx) error {
		return tx.SpendClientAssertion(ctx, c.ID, HashToken(a.ID), a.Expiry.Add(spentAssertionMargin), now)
	})
	if errors.Is(err, ErrDuplicate) {
		return fail("client_assertion was used already: sign a new one, with a new jti, for each request")
	}
	if err != nil {
		return OAuthClient{}, notFound(err, "spend client assertion")
	}
	return c, nil
}
