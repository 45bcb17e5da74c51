package auth

import (
	"net/http"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/httpx"
)

// registrationRequest is the client metadata of RFC 7591 2 that profiled
// keeps; other members are ignored, as the RFC asks of those a server
// does not understand.
type registrationRequest struct {
	RedirectURIs            []string `json:"redirect_uris"`
	ClientName              string   `json:"client_name"`
	ClientURI               string   `json:"client_uri"`
	LogoURI                 string   `json:"logo_uri"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
}

// registrationResponse is RFC 7591 3.2.1: the client's id, its secret
// (shown only here), and its metadata as registered.
type registrationResponse struct {
	ClientID         string `json:"client_id"`
	ClientSecret     string `json:"client_secret,omitempty"`
	ClientIDIssuedAt int64  `json:"client_id_issued_at"`
	// ClientSecretExpiresAt is 0, the secret never expires; sent with a
	// secret only, which requires it.
	ClientSecretExpiresAt   *int64   `json:"client_secret_expires_at,omitempty"`
	RedirectURIs            []string `json:"redirect_uris"`
	ClientName              string   `json:"client_name"`
	ClientURI               string   `json:"client_uri"`
	LogoURI                 string   `json:"logo_uri,omitempty"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
}

// register is POST /oauth/register (RFC 7591), when the operator lets
// applications register themselves (core/registration.go); else 404.
func (s *server) register(w http.ResponseWriter, r *http.Request) {
	if !s.svc.TakesRegistrations() {
		oauthFail(w, http.StatusNotFound, core.OAuthInvalidRequest,
			"this server takes no client registrations: ask its operator to register the application (profiled oauth-clients create)")
		return
	}
	var in registrationRequest
	if err := httpx.DecodeObject(r, &in, httpx.IgnoreUnknown, httpx.JSONError); err != nil {
		e := core.AsError(httpx.Domain(r, err))
		if e == nil {
			s.oauthError(w, r, err)
			return
		}
		oauthFail(w, status(w, e), core.OAuthInvalidClientMetadata, e.Reason)
		return
	}
	c, secret, err := s.svc.RegisterClient(r.Context(), core.ClientRegistration{RedirectURIs: in.RedirectURIs, ClientName: in.ClientName,
		ClientURI: in.ClientURI, LogoURI: in.LogoURI, TokenEndpointAuthMethod: in.TokenEndpointAuthMethod, GrantTypes: in.GrantTypes,
		ResponseTypes: in.ResponseTypes, IP: s.clientIP(r)})
	if err != nil {
		s.oauthError(w, r, err)
		return
	}
	out := registrationResponse{ClientID: c.ID, ClientSecret: secret, ClientIDIssuedAt: c.Created.Unix(), RedirectURIs: c.RedirectURIs,
		ClientName: c.Label, ClientURI: c.Website, LogoURI: c.ThumbnailURL, TokenEndpointAuthMethod: in.TokenEndpointAuthMethod,
		GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"}}
	switch {
	case c.Public:
		out.TokenEndpointAuthMethod = "none"
	case out.TokenEndpointAuthMethod == "":
		out.TokenEndpointAuthMethod = "client_secret_basic"
	}
	if secret != "" {
		never := int64(0)
		out.ClientSecretExpiresAt = &never
	}
	writeJSON(w, http.StatusCreated, out)
}
