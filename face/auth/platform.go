package auth

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/httpx"
	"github.com/profiled/profiled/internal/clientjwt"
	"github.com/profiled/profiled/reqlog"
)

// issuer is the base URL of this server as its clients reach it.
func (s *server) issuer(r *http.Request) string {
	if s.opts.PublicURL != "" {
		return strings.TrimRight(s.opts.PublicURL, "/")
	}
	scheme := "http"
	if s.secure(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// metadata is RFC 8414's authorization server metadata, which is also
// OpenID Connect Discovery 1.0's provider metadata: where the endpoints
// are and what they take. Both paths serve the same document.
func (s *server) metadata(w http.ResponseWriter, r *http.Request) {
	base := s.issuer(r)
	w.Header().Set("Cache-Control", "public, max-age=3600")
	confidential := []string{"client_secret_basic", "client_secret_post"}
	if s.svc.TakesClientKeys() {
		confidential = append(confidential, "private_key_jwt")
	}
	md := map[string]any{
		"issuer":                                         base,
		"authorization_endpoint":                         base + "/oauth/authorize",
		"token_endpoint":                                 base + "/oauth/token",
		"introspection_endpoint":                         base + "/oauth/introspect",
		"revocation_endpoint":                            base + "/oauth/revoke",
		"response_types_supported":                       []string{"code"},
		"grant_types_supported":                          []string{"authorization_code", "refresh_token", core.GrantTypeDeviceCode},
		"device_authorization_endpoint":                  base + "/oauth/device_authorization",
		"pushed_authorization_request_endpoint":          base + "/oauth/par",
		"require_pushed_authorization_requests":          false,
		"code_challenge_methods_supported":               []string{"S256"},
		"authorization_response_iss_parameter_supported": true,
		"token_endpoint_auth_methods_supported":          append(slices.Clone(confidential), "none"),
		"introspection_endpoint_auth_methods_supported":  confidential,
		"revocation_endpoint_auth_methods_supported":     append(slices.Clone(confidential), "none"),
		"scopes_supported":                               scopesSupported(),
		"userinfo_endpoint":                              base + "/oauth/userinfo",
		"jwks_uri":                                       base + "/oauth/jwks",
		"end_session_endpoint":                           base + "/logout",
		"backchannel_logout_supported":                   true,
		"backchannel_logout_session_supported":           true,
		"subject_types_supported":                        []string{"public"},
		"id_token_signing_alg_values_supported":          []string{"RS256"},
		"claims_supported":                               core.IdentityClaimsSupported(),
		"acr_values_supported":                           []string{core.ACRMultiFactor},
	}
	if s.svc.TakesRegistrations() {
		md["registration_endpoint"] = base + "/oauth/register"
	}
	if s.svc.TakesClientKeys() {
		for _, ep := range []string{"token", "introspection", "revocation"} {
			md[ep+"_endpoint_auth_signing_alg_values_supported"] = clientjwt.Algorithms()
		}
	}
	writeJSON(w, http.StatusOK, md)
}

// scopesSupported lists every Linode scope and the preferences scopes.
func scopesSupported() []string {
	out := []string{"*"}
	for _, c := range core.SortedScopeCategories() {
		out = append(out, core.Scope(c, core.ReadOnly), core.Scope(c, core.ReadWrite))
	}
	return append(out, "user:preferences:read", "user:preferences:write", core.ScopeOpenID, core.ScopeProfile, core.ScopeEmail, core.ScopeOfflineAccess)
}

// introspectionResponse is RFC 7662 2.2; an inactive token is exactly
// {"active": false}.
type introspectionResponse struct {
	Active    bool   `json:"active"`
	Scope     string `json:"scope,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	Username  string `json:"username,omitempty"`
	Sub       string `json:"sub,omitempty"`
	Account   string `json:"account,omitempty"` // the user's account id, an extension of RFC 7662
	TokenType string `json:"token_type,omitempty"`
	Exp       int64  `json:"exp,omitempty"`
	Iat       int64  `json:"iat,omitempty"`
	Aud       string `json:"aud,omitempty"` // the resource the token is for (RFC 8707)
}

// introspect is POST /oauth/introspect (RFC 7662): a confidential client
// authenticates (HTTP Basic or the form) and posts token=.
func (s *server) introspect(r *http.Request, f url.Values, auth core.ClientAuth) (int, any, error) {
	in, err := s.svc.Introspect(r.Context(), auth, f.Get("token"))
	if err != nil {
		return 0, nil, err
	}
	out := introspectionResponse{Active: in.Active}
	if in.Active {
		out.Scope, out.ClientID, out.Username = string(in.Scopes), in.ClientID, in.Username
		out.Sub, out.TokenType, out.Iat = strconv.FormatInt(in.UserID, 10), in.TokenType, in.IssuedAt.Unix()
		out.Account = strconv.FormatInt(in.AccountID, 10)
		out.Aud = in.Audience
		if in.Expiry != nil {
			out.Exp = in.Expiry.Unix()
		}
	}
	return http.StatusOK, out, nil
}

// Headers of a verified request, for the services behind the gateway.
var (
	headerUserID   = http.CanonicalHeaderKey("X-Profiled-User-Id")
	headerUsername = http.CanonicalHeaderKey("X-Profiled-Username")
	headerAccount  = http.CanonicalHeaderKey("X-Profiled-Account-Id")
	headerScopes   = http.CanonicalHeaderKey("X-Profiled-Scopes")
)

// verify is forward authentication (nginx auth_request, Traefik
// ForwardAuth, Caddy forward_auth, Envoy ext_authz): any method, the
// original request's headers forwarded. 200 with the user's id, name,
// account and the token's scopes in headers; 401 with WWW-Authenticate for a missing
// or bad token; 403 when ?scope= names a scope the token lacks. No body.
func (s *server) verify(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	a, err := s.svc.Verify(r.Context(), httpx.Bearer(r), q.Get("scope"), q.Get("resource"))
	h := w.Header()
	if err != nil {
		e, gone := httpx.Failure(w, r, err)
		if gone {
			return
		}
		if e == nil {
			s.internal(r, err)
			e = &core.Error{Kind: core.KindInternal}
		}
		bearerChallenge(w, r, e)
		httpx.SetRetryAfter(h, e)
		httpx.Write(w, httpx.Status(e.Kind), "text/plain; charset=utf-8", nil)
		return
	}
	reqlog.SetUser(r.Context(), a.User.ID)
	h[headerUserID] = []string{strconv.FormatInt(a.User.ID, 10)}
	h[headerUsername] = []string{a.User.Username}
	h[headerAccount] = []string{strconv.FormatInt(a.User.AccountID, 10)}
	h[headerScopes] = []string{string(a.Token.Scopes)}
	h["Content-Length"] = []string{"0"}
	w.WriteHeader(http.StatusOK)
}
