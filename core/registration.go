package core

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"time"
)

// Dynamic client registration (RFC 7591), when the operator opens it
// (Config.Registration): an application registers itself, as the
// clients of the Model Context Protocol and other tools that meet an
// authorization server for the first time do, and gets a client id (and
// a secret, unless it is public) at once. Such a client is no one's: the
// consent page says it registered itself and that no one checked who
// runs it, so the user's consent is all it has. It may use the code flow
// and refresh tokens only: none of the operator's settings (first
// party, the device grant, keys, a required second factor), which only
// the operator gives (oauth-clients update). One address may register
// RegistrationsPerAddress clients per RegistrationWindow, and all
// addresses together RegistrationsPerWindow: addresses are many (an IPv6
// network holds more than anyone can count), and past that bound the
// clients nobody uses would fill the database faster than the purge
// empties it. A registered client lives while it holds an authorization:
// one that holds none UnusedRegistrationLifetime after it registered is
// deleted (PurgeExpired), so that registrations nobody uses do not pile
// up; its application registers again when it comes back. So at most
// about a day of registrations, 24,000, are ever unused at once.
const (
	RegistrationsPerAddress    = 20
	RegistrationsPerWindow     = 1000
	RegistrationWindow         = time.Hour
	UnusedRegistrationLifetime = 24 * time.Hour
)

// OAuth error codes of client registration (RFC 7591 3.2.2).
const (
	OAuthInvalidRedirectURI    = "invalid_redirect_uri"
	OAuthInvalidClientMetadata = "invalid_client_metadata"
)

// ClientRegistration is the metadata an application registers with
// (RFC 7591 2), as far as profiled keeps it; "" and nil are left out.
type ClientRegistration struct {
	RedirectURIs            []string
	ClientName              string // the label; default: the first redirect URI's host
	ClientURI               string // the website; default: the first redirect URI's origin
	LogoURI                 string
	TokenEndpointAuthMethod string   // none (a public client), client_secret_basic (the default) or client_secret_post
	GrantTypes              []string // authorization_code (the default) and refresh_token
	ResponseTypes           []string // code (the default)
	IP                      string   // the address it registers from, for the limit
}

// TakesRegistrations reports whether applications may register
// themselves (RegisterClient).
func (s *Service) TakesRegistrations() bool { return s.registration }

// RegisterClient registers an application that registers itself, and
// returns it with its secret (none for a public client). Errors are
// *OAuthError (invalid_redirect_uri, invalid_client_metadata), or
// TooManyRequests past RegistrationsPerAddress.
func (s *Service) RegisterClient(ctx context.Context, in ClientRegistration) (OAuthClient, string, error) {
	if !s.registration {
		return OAuthClient{}, "", NotFound()
	}
	bad := func(field, format string, args ...any) (OAuthClient, string, error) {
		return OAuthClient{}, "", oauthErr(OAuthInvalidClientMetadata, KindInvalid, field, format, args...)
	}
	if len(in.RedirectURIs) == 0 || len(in.RedirectURIs) > maxRedirectURIs {
		return OAuthClient{}, "", oauthErr(OAuthInvalidRedirectURI, KindInvalid, "redirect_uris", "give 1 to %d redirect_uris", maxRedirectURIs)
	}
	for _, r := range in.RedirectURIs {
		if err := validateRedirectURI("redirect_uris", r); err != nil {
			return OAuthClient{}, "", oauthErr(OAuthInvalidRedirectURI, KindInvalid, "redirect_uris", "%s", AsError(err).Reason)
		}
	}
	first, _ := url.Parse(in.RedirectURIs[0]) // valid: just checked
	if in.ClientName == "" {
		in.ClientName = first.Hostname()
	}
	if in.ClientURI == "" {
		in.ClientURI = first.Scheme + "://" + first.Host
	}
	public := false
	switch in.TokenEndpointAuthMethod {
	case "none":
		public = true
	case "", "client_secret_basic", "client_secret_post":
	default:
		return bad("token_endpoint_auth_method", "token_endpoint_auth_method must be none, client_secret_basic or client_secret_post")
	}
	for _, g := range in.GrantTypes {
		if g != "authorization_code" && g != "refresh_token" {
			return bad("grant_types", "grant_types may hold authorization_code and refresh_token only: the operator allows the others")
		}
	}
	if len(in.GrantTypes) > 0 && !slices.Contains(in.GrantTypes, "authorization_code") {
		return bad("grant_types", "grant_types must hold authorization_code")
	}
	for _, t := range in.ResponseTypes {
		if t != "code" {
			return bad("response_types", "response_types may hold code only")
		}
	}
	create := OAuthClientCreate{Label: in.ClientName, Website: in.ClientURI, ThumbnailURL: in.LogoURI, RedirectURIs: in.RedirectURIs, Public: public}
	err := validateClientUpdate(OAuthClientUpdate{Label: &create.Label, Website: &create.Website, ThumbnailURL: &create.ThumbnailURL})
	if e := AsError(err); e != nil {
		field := map[string]string{"label": "client_name", "website": "client_uri", "thumbnail_url": "logo_uri"}[e.Field]
		return bad(field, "%s", e.Reason)
	}
	if err := s.attempt(ctx, "client-registration:"+in.IP, RegistrationsPerAddress, RegistrationWindow); err != nil {
		return OAuthClient{}, "", err
	}
	if err := s.attempt(ctx, "client-registration", RegistrationsPerWindow, RegistrationWindow); err != nil {
		return OAuthClient{}, "", err
	}
	c, secret, err := s.createClient(ctx, create, &in.IP)
	if err != nil {
		return OAuthClient{}, "", fmt.Errorf("register client: %w", err)
	}
	return c, secret, nil
}
