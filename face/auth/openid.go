package auth

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/go-jose/go-jose/v4"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/httpx"
	"github.com/profiled/profiled/internal/jwt"
)

// OpenID Connect's wire (core/idtoken.go holds its rules): ID tokens as
// compact JWS, the key set that checks them, and the userinfo endpoint.

// signIDToken signs t, its issuer added, as a compact JWS (RS256, typ
// JWT, kid naming its key in the key set).
func signIDToken(issuer string, t *core.IDToken) (string, error) {
	claims := make(map[string]any, len(t.Claims)+1)
	for k, v := range t.Claims {
		claims[k] = v
	}
	claims["iss"] = issuer
	return jwt.Sign(claims, t.Key, "JWT")
}

// hintedClient is the audience of an ID token profiled signed (an
// id_token_hint), expired or not, or "" for anything else.
func (s *server) hintedClient(r *http.Request, hint string) string {
	if len(hint) > 16<<10 {
		return ""
	}
	jws, err := jose.ParseSignedCompact(hint, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(jws.Signatures) != 1 {
		return ""
	}
	keys, err := s.svc.SigningKeys(r.Context())
	if err != nil {
		return ""
	}
	for _, k := range keys {
		if k.ID != jws.Signatures[0].Header.KeyID {
			continue
		}
		payload, err := jws.Verify(&k.Private.PublicKey)
		var claims struct {
			Aud string `json:"aud"`
		}
		if err != nil || json.Unmarshal(payload, &claims) != nil {
			return ""
		}
		return claims.Aud
	}
	return ""
}

// keySet is GET /oauth/jwks: the public halves of the signing keys
// (RFC 7517), which relying parties may keep for core.KeySetMaxAge.
func (s *server) keySet(w http.ResponseWriter, r *http.Request) {
	keys, err := s.svc.SigningKeys(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(keys))}
	for _, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.Private.PublicKey, KeyID: k.ID, Algorithm: string(jose.RS256), Use: "sig"})
	}
	w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(core.KeySetMaxAge.Seconds())))
	writeJSON(w, http.StatusOK, set)
}

// userInfo is GET and POST /oauth/userinfo (OpenID Connect Core 5.3):
// the claims the bearer token's scopes release. Errors are RFC 6750's:
// 401 invalid_token, 403 insufficient_scope, in WWW-Authenticate and in
// the body.
func (s *server) userInfo(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions {
		w.Header().Set("Allow", "GET, OPTIONS, POST")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	a, err := s.svc.Authenticate(r.Context(), httpx.Bearer(r))
	var claims map[string]any
	if err == nil {
		claims, err = s.svc.UserInfo(r.Context(), a)
	}
	if err != nil {
		e, gone := httpx.Failure(w, r, err)
		if gone {
			return
		}
		if e == nil {
			oauthFail(w, http.StatusInternalServerError, "server_error", s.internal(r, err))
			return
		}
		code := bearerChallenge(w, r, e)
		if code == "" {
			code = core.OAuthInvalidRequest
		}
		oauthFail(w, status(w, e), code, e.Reason)
		return
	}
	writeJSON(w, http.StatusOK, claims)
}

// bearerChallenge sets the WWW-Authenticate of RFC 6750 3 for a refused
// bearer token and returns its error code ("" for none).
func bearerChallenge(w http.ResponseWriter, r *http.Request, e *core.Error) string {
	h := w.Header()
	switch {
	case e.Kind == core.KindUnauthorized && httpx.Bearer(r) == "":
		h.Set("WWW-Authenticate", `Bearer realm="profiled"`)
		return "invalid_request"
	case e.Kind == core.KindUnauthorized:
		h.Set("WWW-Authenticate", `Bearer realm="profiled", error="invalid_token"`)
		return "invalid_token"
	case e.Kind == core.KindForbidden:
		h.Set("WWW-Authenticate", `Bearer realm="profiled", error="insufficient_scope", scope="`+e.Required+`"`)
		return "insufficient_scope"
	}
	return ""
}
