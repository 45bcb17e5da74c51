package auth

import (
	"net/http"
	"net/url"

	"github.com/profiled/profiled/core"
)

// pushedResponse is RFC 9126 2.2.
type pushedResponse struct {
	RequestURI string `json:"request_uri"`
	ExpiresIn  int    `json:"expires_in"`
}

// pushAuthorization is POST /oauth/par (RFC 9126, core/par.go): the
// client's authenticated request, read as the authorization endpoint
// reads a query (the login server's scopes included), kept for the
// browser to bring back by its request_uri.
func (s *server) pushAuthorization(r *http.Request, f url.Values, auth core.ClientAuth) (int, any, error) {
	v := loginServerQuery(f)
	params := map[string]string{}
	for _, p := range pushedParams {
		if v.Has(p) && p != "client_id" { // client_id: the client's that authenticated
			params[p] = v.Get(p)
		}
	}
	if v.Has("request_uri") {
		params["request_uri"] = v.Get("request_uri") // for the core to refuse
	}
	p, err := s.svc.PushAuthorization(r.Context(), auth, s.clientIP(r), authorizeRequest(v), params)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, pushedResponse{RequestURI: p.RequestURI, ExpiresIn: int(p.ExpiresIn.Seconds())}, nil
}
