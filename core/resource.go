package core

import (
	"net/url"
	"strings"
)

// Resource indicators (RFC 8707): an authorization request may name the
// resource server its tokens are for (resource=https://mcp.example/, as
// Model Context Protocol clients must). The authorization keeps it, and
// each access token it issues has it for its audience: introspection
// says so (aud), forward authentication checks it (Verify), and
// profiled's own API refuses a token for another resource, so that the
// token one resource server receives cannot be replayed to profiled, nor
// to another server that checks. A request names one resource at most;
// the token request may name it again, and then the same one. Without
// one, a token is for any resource, as before.

// OAuthInvalidTarget is RFC 8707's error for a resource it refuses.
const OAuthInvalidTarget = "invalid_target"

// checkResource accepts "" or one absolute URI without a fragment (RFC
// 8707 2).
func checkResource(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || len(raw) > maxURLLength || checkText("resource", raw) != nil || strings.ContainsAny(raw, " \t#") || !u.IsAbs() || u.Host == "" {
		return oauthErr(OAuthInvalidTarget, KindInvalid, "resource",
			"resource must be one absolute URI without a fragment, naming the resource server the tokens are for")
	}
	return nil
}

// sameResource checks a token request's resource (RFC 8707 2.2) against
// the one the authorization was for: none, or the same.
func sameResource(asked, authorized string) error {
	if asked == "" || asked == authorized {
		return nil
	}
	if authorized == "" {
		return oauthErr(OAuthInvalidTarget, KindInvalid, "resource", "name the resource in the authorization request, then the same one here")
	}
	return oauthErr(OAuthInvalidTarget, KindInvalid, "resource", "this authorization is for %s, not another resource", authorized)
}

// forThisServer reports whether profiled's own API takes a token: one for
// no resource in particular, or for profiled's public URL.
func (s *Service) forThisServer(t Token) bool {
	return t.Resource == "" || (s.publicURL != "" && strings.TrimRight(t.Resource, "/") == s.publicURL)
}
