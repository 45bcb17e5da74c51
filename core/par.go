package core

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Pushed authorization requests (RFC 9126): a client posts its
// authorization request to the server directly, authenticated, and sends
// the browser to the authorization endpoint with only its client_id and
// the request_uri it got back. The request's parameters then never pass
// through the browser, where an extension or a proxy could read or change
// them, and a request that does not validate fails before the user sees
// anything. The request_uri is good for PushedAuthorizationLifetime and
// for one code: the approval that issues a code spends it.
const (
	PushedAuthorizationLifetime = 5 * time.Minute
	// RequestURIPrefix begins every request_uri (RFC 9126 2.2).
	RequestURIPrefix = "urn:ietf:params:oauth:request_uri:"
	// maxPushedParams bounds the parameters a pushed request keeps.
	maxPushedParams = 32
	// PushedAuthorizations bound the requests one address may push per
	// PushedWindow for public clients, which authenticate with their id
	// alone: each is a row until it expires. A confidential client's
	// server pushes for all of its users from one address, and holds a
	// secret, so its pushes are not counted.
	PushedAuthorizations = 100
	PushedWindow         = 15 * time.Minute
)

// PushedRequest is the answer to a pushed request.
type PushedRequest struct {
	RequestURI string
	ExpiresIn  time.Duration
}

// PushAuthorization validates and keeps an authorization request the
// client pushed from the address ip: req as CheckAuthorize reads it, and
// params, all of its parameters as the authorization endpoint will read
// them again. Errors are *OAuthError, for the client (none is sent to a
// redirect URI), or TooManyRequests past PushedAuthorizations.
func (s *Service) PushAuthorization(ctx context.Context, auth ClientAuth, ip string, req AuthorizeRequest, params map[string]string) (PushedRequest, error) {
	c, err := s.authenticateClient(ctx, auth)
	if err != nil {
		return PushedRequest{}, err
	}
	switch {
	case req.ClientID != "" && req.ClientID != c.ID:
		return PushedRequest{}, oauthErr(OAuthInvalidRequest, KindInvalid, "client_id", "client_id differs from the client that authenticated")
	case params["request_uri"] != "":
		return PushedRequest{}, oauthErr(OAuthInvalidRequest, KindInvalid, "request_uri", "a pushed request may not hold a request_uri")
	case len(params) > maxPushedParams:
		return PushedRequest{}, oauthErr(OAuthInvalidRequest, KindInvalid, "request", "a pushed request holds at most %d parameters", maxPushedParams)
	}
	for k, v := range params {
		if checkText(k, k+v) != nil || len(k) > 64 || len(v) > maxURLLength {
			return PushedRequest{}, oauthErr(OAuthInvalidRequest, KindInvalid, k, "%s must be text of at most %d characters", k, maxURLLength)
		}
	}
	req.ClientID = c.ID
	if _, err := s.checkAuthorize(ctx, req, true); err != nil {
		if oe := AsOAuthError(err); oe != nil {
			oe.Redirect = false // the client asked, and is answered
		}
		return PushedRequest{}, err
	}
	if c.Public {
		if err := s.attempt(ctx, "pushed-authorization:"+ip, PushedAuthorizations, PushedWindow); err != nil {
			return PushedRequest{}, err
		}
	}
	raw, err := s.newSecret(tokenBytes)
	if err != nil {
		return PushedRequest{}, err
	}
	kept := make(map[string]string, len(params)+1)
	for k, v := range params {
		kept[k] = v
	}
	kept["client_id"] = c.ID
	now := s.clock()
	p := PushedAuthorization{Hash: HashToken(raw), ClientID: c.ID, Params: kept, Created: now, Expiry: now.Add(PushedAuthorizationLifetime)}
	if err := s.store.Update(ctx, func(tx Tx) error { return tx.CreatePushedAuthorization(ctx, p) }); err != nil {
		return PushedRequest{}, notFound(err, "push authorization")
	}
	return PushedRequest{RequestURI: RequestURIPrefix + raw, ExpiresIn: PushedAuthorizationLifetime}, nil
}

// PushedParams returns the parameters of the pushed request requestURI
// names, and when it was pushed, for the authorization endpoint of the
// client clientID. Errors are *OAuthError, for the user: the request_uri
// is not the client's to redirect to.
func (s *Service) PushedParams(ctx context.Context, clientID, requestURI string) (map[string]string, time.Time, error) {
	unknown := oauthErr(OAuthInvalidRequest, KindInvalid, "request_uri",
		"request_uri is unknown, expired or used: go back to the application and start again")
	raw, ok := strings.CutPrefix(requestURI, RequestURIPrefix)
	if !ok || raw == "" || len(raw) > 256 {
		return nil, time.Time{}, unknown
	}
	p, err := s.store.PushedAuthorization(ctx, HashToken(raw))
	if errors.Is(err, ErrNotFound) || (err == nil && (p.ClientID != clientID || !s.now().Before(p.Expiry))) {
		return nil, time.Time{}, unknown
	}
	if err != nil {
		return nil, time.Time{}, notFound(err, "pushed authorization")
	}
	return p.Params, p.Created, nil
}

// spendPushed spends the pushed request requestURI names, in the
// transaction that issues its code; a second code for it is refused.
func spendPushed(ctx context.Context, tx Tx, requestURI string) error {
	raw, _ := strings.CutPrefix(requestURI, RequestURIPrefix)
	err := tx.DeletePushedAuthorization(ctx, HashToken(raw))
	if errors.Is(err, ErrNotFound) {
		return oauthErr(OAuthInvalidRequest, KindInvalid, "request_uri", "request_uri was used already: go back to the application and start again")
	}
	return err
}
