package core

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The OAuth 2.0 authorization server: the authorization code grant of
// RFC 6749 with PKCE (RFC 7636; S256 only, required for public clients)
// and refresh tokens that rotate at each use (a used one presented again
// revokes the whole authorization, RFC 6819 5.2.2.3 and OAuth 2.1 4.3.1).
//
// Each exchanged code makes an App (an authorization, listed in
// /v4/profile/apps). Access tokens are core.Tokens of kind oauth, with the
// client's id (whose preferences namespace they use) and the App's id, so
// revoking the App deletes them; refresh tokens cascade from the App too.
const (
	AuthCodeLifetime     = 5 * time.Minute
	AccessTokenLifetime  = time.Hour
	RefreshTokenLifetime = 30 * 24 * time.Hour

	oauthClientIDBytes = 10 // 20 hex characters, like the Linode API's client ids
	oauthSecretBytes   = 32
	maxRedirectURIs    = 10
	maxURLLength       = 2048
	maxStateLength     = 2048
)

// OAuth error codes (RFC 6749 4.1.2.1 and 5.2).
const (
	OAuthInvalidRequest          = "invalid_request"
	OAuthInvalidClient           = "invalid_client"
	OAuthInvalidGrant            = "invalid_grant"
	OAuthUnauthorizedClient      = "unauthorized_client"
	OAuthUnsupportedGrantType    = "unsupported_grant_type"
	OAuthUnsupportedResponseType = "unsupported_response_type"
	OAuthInvalidScope            = "invalid_scope"
	OAuthAccessDenied            = "access_denied"
)

// OAuthError is a domain error with the OAuth error code the protocol's
// wire format needs. It unwraps to the *Error, so faces that do not speak
// OAuth map it like any other. Redirect reports an authorization request
// error the client may be told through its redirect URI; without it (an
// unknown client or redirect URI) the user is told instead, RFC 6749 4.1.2.1.
type OAuthError struct {
	Code     string
	Redirect bool
	Err      *Error
}

func (e *OAuthError) Error() string { return e.Code + ": " + e.Err.Error() }
func (e *OAuthError) Unwrap() error { return e.Err }

func oauthErr(code string, kind Kind, field, format string, args ...any) *OAuthError {
	return &OAuthError{Code: code, Err: &Error{Kind: kind, Field: field, Reason: fmt.Sprintf(format, args...)}}
}

// AsOAuthError returns the *OAuthError inside err, or nil.
func AsOAuthError(err error) *OAuthError {
	var e *OAuthError
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// OAuthClientCreate is the input of CreateOAuthClient: the fields of
// OAuthClient the operator sets, which store_auth.go says the meaning of;
// ThumbnailURL, BackchannelLogoutURI and the keys are optional.
type OAuthClientCreate struct {
	Label, Website, ThumbnailURL           string
	RedirectURIs                           []string
	Public, FirstParty                     bool
	BackchannelLogoutURI                   string
	DeviceGrant, RequirePushed, RequireMFA bool
	JWKS, JWKSURI                          string // a key set, or where it is published: the client then gets no secret
}

// validateWebURL accepts an absolute http or https URL without credentials.
func validateWebURL(field, raw string) (*url.URL, error) {
	if raw == "" {
		return nil, Invalid(field, "%s is required", field)
	}
	if len(raw) > maxURLLength || checkText(field, raw) != nil {
		return nil, Invalid(field, "%s must be an absolute http or https URL of at most %d characters", field, maxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Opaque != "" {
		return nil, Invalid(field, "%s must be an absolute http or https URL, like https://example.com/", field)
	}
	return u, nil
}

// validateRedirectURI accepts https URLs, and http ones only on loopback
// (RFC 8252 7.3), without a fragment (RFC 6749 3.1.2).
func validateRedirectURI(field, raw string) error {
	u, err := validateWebURL(field, raw)
	if err != nil {
		return err
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return Invalid(field, "%s may not have a fragment (#...)", field)
	}
	if u.Scheme == "http" {
		host := u.Hostname()
		ip := net.ParseIP(host)
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return Invalid(field, "%s must use https, except on loopback (http://127.0.0.1, http://[::1], http://localhost)", field)
		}
	}
	return nil
}

// CreateOAuthClient registers a client, for operators. It returns the
// client and, for a confidential client, its secret, shown only then.
func (s *Service) CreateOAuthClient(ctx context.Context, in OAuthClientCreate) (OAuthClient, string, error) {
	return s.createClient(ctx, in, nil)
}

// createClient registers a client, the operator's or, with from, one
// that registered itself from that address (registration.go).
func (s *Service) createClient(ctx context.Context, in OAuthClientCreate, from *string) (OAuthClient, string, error) {
	// Every field is checked, in this order: none given is an empty list.
	err := validateClientUpdate(OAuthClientUpdate{Label: &in.Label, Website: &in.Website, ThumbnailURL: &in.ThumbnailURL,
		RedirectURIs: append([]string{}, in.RedirectURIs...), BackchannelLogoutURI: &in.BackchannelLogoutURI})
	if err != nil {
		return OAuthClient{}, "", err
	}
	if err := s.checkClientKeys(in.JWKS, in.JWKSURI, in.Public); err != nil {
		return OAuthClient{}, "", err
	}
	id, err := s.newSecret(oauthClientIDBytes)
	if err != nil {
		return OAuthClient{}, "", err
	}
	c := OAuthClient{ID: id, Label: in.Label, Website: in.Website, ThumbnailURL: in.ThumbnailURL,
		RedirectURIs: slices.Compact(slices.Clone(in.RedirectURIs)), Public: in.Public, FirstParty: in.FirstParty, Created: s.clock(),
		Status: OAuthClientActive, BackchannelLogoutURI: in.BackchannelLogoutURI, DeviceGrant: in.DeviceGrant,
		RequirePushed: in.RequirePushed, JWKS: in.JWKS, JWKSURI: in.JWKSURI, RequireMFA: in.RequireMFA, Registered: from != nil}
	var secret string
	if !in.Public && !c.Keyed() {
		if secret, err = s.newSecret(oauthSecretBytes); err != nil {
			return OAuthClient{}, "", err
		}
		c.SecretHash = HashToken(secret)
	}
	err = s.update(ctx, func(tx Tx, note func(Event)) error {
		if from != nil {
			note(Event{Name: EventClientRegistered, Detail: fmt.Sprintf("%s (client %s) registered itself from %s", c.Label, c.ID, *from)})
		}
		return tx.CreateOAuthClient(ctx, c)
	})
	if err != nil {
		return OAuthClient{}, "", fmt.Errorf("create oauth client: %w", err)
	}
	return c, secret, nil
}

// OAuthClient returns a registered client, NotFound for an unknown id.
func (s *Service) OAuthClient(ctx context.Context, clientID string) (OAuthClient, error) {
	if clientID == "" || len(clientID) > 128 {
		return OAuthClient{}, NotFound()
	}
	c, err := s.store.OAuthClient(ctx, clientID)
	if err == nil && c.Status == OAuthClientDisabled {
		return OAuthClient{}, NotFound() // refused as if unknown, until enabled again
	}
	return c, notFound(err, "oauth client")
}

// AuthorizeRequest is the query of an authorization request (RFC 6749 4.1.1).
type AuthorizeRequest struct {
	ClientID            string
	RedirectURI         string // may be omitted when the client registered exactly one
	ResponseType        string // must be "code"
	Scope               string // "" or "*": every scope
	State               string
	CodeChallenge       string
	CodeChallengeMethod string // must be S256 when CodeChallenge is set
	Nonce               string // OpenID Connect: given back in the ID token
	// Resource is the resource server the tokens are for (RFC 8707,
	// resource.go); "" for any.
	Resource string
	// ACRValues is OpenID Connect's acr_values: ACRMultiFactor among them
	// asks for a second factor (stepup.go); others are not known, and
	// ignored, as voluntary claims may be.
	ACRValues string
	// MaxAge is OpenID Connect's max_age: the most seconds since the user
	// last typed their password, as sent ("" for no limit).
	MaxAge string
	// RequestURI is the request_uri of a pushed request (par.go) whose
	// parameters these are, and PushedAt when it was pushed; "" for a
	// request the browser carried whole.
	RequestURI string
	PushedAt   time.Time
}

// Authorization is a checked authorization request, ready for consent.
type Authorization struct {
	Client        OAuthClient
	RedirectURI   string
	Scopes        Scopes
	State         string
	CodeChallenge string
	Nonce         string
	// ACR is ACRMultiFactor when the request asked for it (acr_values).
	ACR      string
	Resource string         // RFC 8707 (resource.go)
	MaxAge   *time.Duration // nil: any sign-in will do
	// Pushed is the request_uri of a pushed request (par.go), which the
	// code's approval spends; "" for a request the browser carried.
	Pushed   string
	PushedAt time.Time
}

// CheckAuthorize validates an authorization request. Errors are
// *OAuthError; those with Redirect false must be shown to the user, never
// sent to the redirect URI.
func (s *Service) CheckAuthorize(ctx context.Context, in AuthorizeRequest) (Authorization, error) {
	return s.checkAuthorize(ctx, in, false)
}

// checkAuthorize is CheckAuthorize, or with pushing the check of a
// request being pushed (PushAuthorization), which a client held to
// pushed requests may make.
func (s *Service) checkAuthorize(ctx context.Context, in AuthorizeRequest, pushing bool) (Authorization, error) {
	if in.ClientID == "" {
		return Authorization{}, oauthErr(OAuthInvalidRequest, KindInvalid, "client_id", "client_id is required")
	}
	c, err := s.OAuthClient(ctx, in.ClientID)
	if err != nil {
		if KindOf(err) == KindNotFound {
			return Authorization{}, oauthErr(OAuthInvalidRequest, KindInvalid, "client_id", "client_id names no registered application")
		}
		return Authorization{}, err
	}
	redirect := in.RedirectURI
	if redirect == "" {
		if len(c.RedirectURIs) != 1 {
			return Authorization{}, oauthErr(OAuthInvalidRequest, KindInvalid, "redirect_uri", "redirect_uri is required: this application registered several")
		}
		redirect = c.RedirectURIs[0]
	} else if !redirectMatches(c.RedirectURIs, redirect) || checkText("redirect_uri", redirect) != nil {
		return Authorization{}, oauthErr(OAuthInvalidRequest, KindInvalid, "redirect_uri", "redirect_uri is not one this application registered")
	}
	a := Authorization{Client: c, RedirectURI: redirect, State: in.State, Pushed: in.RequestURI, PushedAt: in.PushedAt}
	fail := func(code, field, format string, args ...any) (Authorization, error) {
		e := oauthErr(code, KindInvalid, field, format, args...)
		e.Redirect = true
		return a, e
	}
	if len(in.State) > maxStateLength || checkText("state", in.State) != nil {
		a.State = ""
		return fail(OAuthInvalidRequest, "state", "state must be at most %d characters", maxStateLength)
	}
	if c.RequirePushed && in.RequestURI == "" && !pushing {
		return fail(OAuthInvalidRequest, "request_uri", "this application must push its authorization requests to the pushed authorization request endpoint first (RFC 9126)")
	}
	if in.ResponseType != "code" {
		return fail(OAuthUnsupportedResponseType, "response_type", "response_type must be code")
	}
	scopes, err := ParseScopes(in.Scope)
	if err != nil {
		return fail(OAuthInvalidScope, "scope", "scope must be \"*\" or space-separated <category>:read_only|read_write, user:preferences:read|write, user:preferences:read|write:<clientId>, openid, profile or email")
	}
	if len(in.Nonce) > maxStateLength || checkText("nonce", in.Nonce) != nil {
		return fail(OAuthInvalidRequest, "nonce", "nonce must be at most %d characters", maxStateLength)
	}
	a.Nonce = in.Nonce
	if len(in.ACRValues) > maxStateLength || checkText("acr_values", in.ACRValues) != nil {
		return fail(OAuthInvalidRequest, "acr_values", "acr_values must be at most %d characters", maxStateLength)
	}
	if slices.Contains(strings.Fields(in.ACRValues), ACRMultiFactor) {
		a.ACR = ACRMultiFactor
	}
	if err := checkResource(in.Resource); err != nil {
		e := AsOAuthError(err)
		e.Redirect = true
		return a, e
	}
	a.Resource = in.Resource
	if in.MaxAge != "" {
		n, err := strconv.ParseUint(in.MaxAge, 10, 31)
		if err != nil {
			return fail(OAuthInvalidRequest, "max_age", "max_age must be a whole number of seconds")
		}
		d := time.Duration(n) * time.Second
		a.MaxAge = &d
	}
	a.Scopes = scopes
	switch {
	case in.CodeChallenge == "" && in.CodeChallengeMethod != "":
		return fail(OAuthInvalidRequest, "code_challenge", "code_challenge is required with code_challenge_method")
	case in.CodeChallenge == "" && c.Public:
		return fail(OAuthInvalidRequest, "code_challenge", "code_challenge is required: public clients must use PKCE with S256")
	case in.CodeChallenge != "" && in.CodeChallengeMethod != "S256":
		return fail(OAuthInvalidRequest, "code_challenge_method", "code_challenge_method must be S256")
	case in.CodeChallenge != "" && !validChallenge(in.CodeChallenge):
		return fail(OAuthInvalidRequest, "code_challenge", "code_challenge must be the base64url SHA-256 of the code verifier (43 characters)")
	}
	a.CodeChallenge = in.CodeChallenge
	return a, nil
}

// redirectMatches reports whether given is one of the registered redirect
// URIs, or one registered without a query with a query added: Cloud
// Manager registers https://cloud.example/oauth/callback and sends
// .../oauth/callback?returnTo=<the page it was on>. The comparison is of
// the text, so the scheme, host, port and path stay exactly as registered
// (no parser can be talked into another origin), and the query is kept on
// the redirect.
func redirectMatches(registered []string, given string) bool {
	if len(given) > maxURLLength || strings.ContainsAny(given, "#\x00\r\n\t ") {
		return false
	}
	for _, r := range registered {
		if given == r {
			return true
		}
		if !strings.Contains(r, "?") && strings.HasPrefix(given, r+"?") {
			return true
		}
	}
	return false
}

// validChallenge accepts a base64url (unpadded) SHA-256: 43 characters.
func validChallenge(c string) bool {
	b, err := base64.RawURLEncoding.DecodeString(c)
	return err == nil && len(b) == sha256.Size
}

// validVerifier is RFC 7636 4.1: 43 to 128 unreserved characters.
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, r := range v {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~", r)) {
			return false
		}
	}
	return true
}

// Approve records the signed-in user's consent to an authorization with
// the scopes they granted (a subset of those asked for) and returns the
// authorization code for the redirect, valid once for AuthCodeLifetime.
func (s *Service) Approve(ctx context.Context, a Actor, az Authorization, granted Scopes) (string, error) {
	if a.Token.Kind != TokenSession {
		return "", &Error{Kind: KindForbidden, Reason: "Only a signed-in user can authorize an application"}
	}
	if err := s.refuseWithoutSecondFactor(a, az); err != nil {
		return "", err
	}
	if !granted.Within(az.Scopes) || !granted.Within(a.Token.Scopes) {
		return "", Invalid("scopes", "the granted scopes may not exceed what the application asked for (%s)", az.Scopes)
	}
	raw, err := s.newSecret(tokenBytes)
	if err != nil {
		return "", err
	}
	now := s.clock()
	c := AuthCode{Hash: HashToken(raw), ClientID: az.Client.ID, UserID: a.User.ID, RedirectURI: az.RedirectURI,
		Scopes: granted, Challenge: az.CodeChallenge, Nonce: az.Nonce, AuthTime: a.Token.Created, SID: sessionID(a.Token), Created: now,
		Expiry: now.Add(AuthCodeLifetime), AuthMethods: a.Token.AuthMethods, Resource: az.Resource}
	err = s.store.Update(ctx, func(tx Tx) error {
		if az.Pushed != "" {
			if err := spendPushed(ctx, tx, az.Pushed); err != nil {
				return err
			}
		}
		return notFound(tx.CreateAuthCode(ctx, c), "create auth code")
	})
	if err != nil {
		return "", err
	}
	return raw, nil
}

// TokenRequest is a request to the token endpoint (RFC 6749 4.1.3, 6).
type TokenRequest struct {
	GrantType    string // authorization_code, refresh_token or GrantTypeDeviceCode
	ClientID     string
	ClientSecret string
	Code         string
	RedirectURI  string
	CodeVerifier string
	RefreshToken string
	DeviceCode   string // GrantTypeDeviceCode (device.go)
	Scope        string // refresh only: narrows the scopes
	Resource     string // RFC 8707: none, or the authorization's (resource.go)
	// Issuer is the iss the face signs ID tokens with, kept on the
	// authorization for its logout tokens (logout.go).
	Issuer string
	// ClientAssertion and Audiences authenticate a client with keys
	// (clientkeys.go).
	ClientAssertion string
	Audiences       []string
}

// client is how the request's client authenticates.
func (in TokenRequest) client() ClientAuth {
	return ClientAuth{ClientID: in.ClientID, ClientSecret: in.ClientSecret, Assertion: in.ClientAssertion, Audiences: in.Audiences}
}

// TokenGrant is what the token endpoint answers.
type TokenGrant struct {
	AccessToken  string
	RefreshToken string
	ExpiresIn    time.Duration
	Scopes       Scopes
	App          App
	// ID is the ID token when the scopes hold openid, else nil.
	ID *IDToken
}

// OAuthToken serves the token endpoint. Errors are *OAuthError.
func (s *Service) OAuthToken(ctx context.Context, in TokenRequest) (TokenGrant, error) {
	c, err := s.authenticateClient(ctx, in.client())
	if err != nil {
		return TokenGrant{}, err
	}
	switch in.GrantType {
	case "authorization_code":
		return s.exchangeCode(ctx, c, in)
	case "refresh_token":
		return s.refresh(ctx, c, in)
	case GrantTypeDeviceCode:
		return s.pollDevice(ctx, c, in)
	case "":
		return TokenGrant{}, oauthErr(OAuthInvalidRequest, KindInvalid, "grant_type", "grant_type is required")
	}
	return TokenGrant{}, oauthErr(OAuthUnsupportedGrantType, KindInvalid, "grant_type", "grant_type must be authorization_code, refresh_token or "+GrantTypeDeviceCode)
}

func (s *Service) authenticateClient(ctx context.Context, in ClientAuth) (OAuthClient, error) {
	if in.Assertion != "" {
		return s.authenticateAssertion(ctx, in)
	}
	id, secret := in.ClientID, in.ClientSecret
	bad := oauthErr(OAuthInvalidClient, KindUnauthorized, "client_id", "Client authentication failed: unknown client_id or wrong client_secret")
	if id == "" {
		return OAuthClient{}, oauthErr(OAuthInvalidRequest, KindInvalid, "client_id", "client_id is required")
	}
	c, err := s.OAuthClient(ctx, id)
	if err != nil {
		if KindOf(err) == KindNotFound {
			return OAuthClient{}, bad
		}
		return OAuthClient{}, err
	}
	if c.Public {
		if secret != "" {
			return OAuthClient{}, bad
		}
		return c, nil
	}
	if c.Keyed() {
		return OAuthClient{}, oauthErr(OAuthInvalidClient, KindUnauthorized, "client_assertion",
			"Client authentication failed: this client authenticates with a client_assertion signed by its key (private_key_jwt)")
	}
	if len(secret) > 256 || subtle.ConstantTimeCompare(HashToken(secret), c.SecretHash) != 1 {
		return OAuthClient{}, bad
	}
	return c, nil
}

func invalidGrant(field, format string, args ...any) *OAuthError {
	return oauthErr(OAuthInvalidGrant, KindInvalid, field, format, args...)
}

// revokeApp deletes an authorization after a replayed code or refresh token.
func (s *Service) revokeApp(ctx context.Context, userID, appID int64, why string) error {
	if appID == 0 {
		return nil
	}
	err := s.update(ctx, func(tx Tx, note func(Event)) error {
		note(Event{Name: EventAppRevoked, UserID: userID, Detail: why})
		return tx.DeleteApp(ctx, userID, appID)
	})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

func (s *Service) exchangeCode(ctx context.Context, c OAuthClient, in TokenRequest) (TokenGrant, error) {
	if in.Code == "" {
		return TokenGrant{}, oauthErr(OAuthInvalidRequest, KindInvalid, "code", "code is required")
	}
	if len(in.Code) > 256 {
		return TokenGrant{}, invalidGrant("code", "code is unknown, expired or used")
	}
	hash := HashToken(in.Code)
	code, err := s.store.AuthCode(ctx, hash)
	if errors.Is(err, ErrNotFound) || (err == nil && code.ClientID != c.ID) {
		return TokenGrant{}, invalidGrant("code", "code is unknown, expired or used")
	}
	if err != nil {
		return TokenGrant{}, fmt.Errorf("auth code: %w", err)
	}
	if code.Used {
		// A code presented twice was stolen or replayed: whatever the
		// first exchange gave out is revoked (RFC 6749 4.1.2).
		if err := s.revokeApp(ctx, code.UserID, code.AppID, "client "+c.ID+": authorization code replayed"); err != nil {
			return TokenGrant{}, err
		}
		return TokenGrant{}, invalidGrant("code", "code was already used: the tokens issued for it are revoked")
	}
	if !s.now().Before(code.Expiry) {
		return TokenGrant{}, invalidGrant("code", "code is unknown, expired or used")
	}
	// Without redirect_uri, the code must be bound to its client some other
	// way: by PKCE (OAuth 2.1 drops the parameter where PKCE is used, and
	// Cloud Manager does not send it), or by a single registered URI.
	if in.RedirectURI == "" && code.Challenge != "" {
		// The code_verifier check below binds the exchange.
	} else if in.RedirectURI == "" {
		if len(c.RedirectURIs) != 1 || c.RedirectURIs[0] != code.RedirectURI {
			return TokenGrant{}, oauthErr(OAuthInvalidRequest, KindInvalid, "redirect_uri", "redirect_uri is required: send the one of the authorization request")
		}
	} else if in.RedirectURI != code.RedirectURI {
		return TokenGrant{}, invalidGrant("redirect_uri", "redirect_uri differs from the one of the authorization request")
	}
	switch {
	case code.Challenge != "" && in.CodeVerifier == "":
		return TokenGrant{}, invalidGrant("code_verifier", "code_verifier is required: the authorization request had a code_challenge")
	case code.Challenge != "":
		sum := sha256.Sum256([]byte(in.CodeVerifier))
		want := base64.RawURLEncoding.EncodeToString(sum[:])
		if !validVerifier(in.CodeVerifier) || subtle.ConstantTimeCompare([]byte(want), []byte(code.Challenge)) != 1 {
			return TokenGrant{}, invalidGrant("code_verifier", "code_verifier does not match the code_challenge")
		}
	case in.CodeVerifier != "":
		return TokenGrant{}, invalidGrant("code_verifier", "code_verifier was sent but the authorization request had no code_challenge")
	}
	if err := sameResource(in.Resource, code.Resource); err != nil {
		return TokenGrant{}, err
	}
	return s.grantApp(ctx, c, approval{userID: code.UserID, scopes: code.Scopes, sid: code.SID, nonce: code.Nonce,
		signIn: signedIn{code.AuthTime, code.AuthMethods}, issuer: in.Issuer, field: "code", resource: code.Resource},
		func(tx Tx, appID int64) error { return tx.ClaimAuthCode(ctx, hash, appID) })
}

// approval is what a user approved, by an authorization code or a device
// code, for grantApp to turn into an authorization and its tokens.
type approval struct {
	userID   int64
	scopes   Scopes
	sid      string // the session it was approved in
	nonce    string
	signIn   signedIn // how and when the user signed in to that session
	issuer   string
	field    string // the request's field that carried the grant, for errors
	device   bool   // a device's (device.go): noted, and mailed, as such
	resource string // RFC 8707 (resource.go)
}

// grantApp makes the authorization (an App) of what the user approved,
// and its first tokens, in one transaction with claim, which spends the
// grant (ErrNotFound: spent already).
func (s *Service) grantApp(ctx context.Context, c OAuthClient, ap approval, claim func(tx Tx, appID int64) error) (TokenGrant, error) {
	key, err := s.idTokenKey(ctx, ap.scopes)
	if err != nil {
		return TokenGrant{}, err
	}
	now := s.clock()
	// The authorization lives as long as its refresh token: each refresh
	// moves its expiry (refresh), and once the last one lapses, the
	// application's access has ended, as /profile/apps then shows.
	expiry := now.Add(RefreshTokenLifetime)
	app := App{UserID: ap.userID, ClientID: c.ID, Label: c.Label, Scopes: ap.scopes, Website: c.Website,
		ThumbnailURL: c.ThumbnailURL, Created: now, Expiry: &expiry, SID: ap.sid, Issuer: ap.issuer, Resource: ap.resource,
		// An ID token is issued (key): a sign-in, which ends with its
		// session unless the user let it go on (offline_access).
		SessionBound: key != nil && ap.sid != "" && !ap.scopes.AllowsIdentity(ScopeOfflineAccess)}
	spent := invalidGrant(ap.field, "%s is unknown, expired or used", ap.field)
	var g TokenGrant
	err = s.update(ctx, func(tx Tx, note func(Event)) error {
		u, err := tx.UserByID(ctx, ap.userID)
		if err != nil {
			return notFound(err, "grant: user")
		}
		if u.Disabled {
			return spent // disabled since it was approved
		}
		if app.SessionBound {
			end, err := sessionEnd(ctx, tx, ap.userID, ap.sid, now)
			if err != nil {
				return err
			}
			if end.IsZero() {
				return invalidGrant(ap.field, "the sign-in session that approved this %s has ended: sign in again", ap.field)
			}
			expiry = minTime(expiry, end)
		}
		if err := tx.CreateApp(ctx, &app); err != nil {
			return notFound(err, "create app")
		}
		note(Event{Name: EventAppAuthorized, UserID: ap.userID, Detail: "client " + c.ID})
		if ap.device {
			note(Event{Name: EventDeviceAuthorized, UserID: ap.userID, Detail: fmt.Sprintf("%s (client %s), with the scopes %s", c.Label, c.ID, ap.scopes)})
		}
		if err := claim(tx, app.ID); err != nil {
			if errors.Is(err, ErrNotFound) {
				return spent
			}
			return err
		}
		g, err = s.issueOAuthTokens(ctx, tx, app, ap.scopes, now)
		if err == nil {
			g.ID, err = s.idToken(ctx, tx, key, app, ap.scopes, ap.nonce, ap.signIn, now)
		}
		return err
	})
	return g, err
}

// issueOAuthTokens makes an access token and a refresh token for app,
// neither of which outlives a session-bound app.
func (s *Service) issueOAuthTokens(ctx context.Context, tx Tx, app App, scopes Scopes, now time.Time) (TokenGrant, error) {
	access, err := s.newSecret(tokenBytes)
	if err != nil {
		return TokenGrant{}, err
	}
	refresh, err := s.newSecret(tokenBytes)
	if err != nil {
		return TokenGrant{}, err
	}
	exp, refreshExp := now.Add(AccessTokenLifetime), now.Add(RefreshTokenLifetime)
	if app.SessionBound && app.Expiry != nil {
		exp, refreshExp = minTime(exp, *app.Expiry), minTime(refreshExp, *app.Expiry)
	}
	t := Token{UserID: app.UserID, Kind: TokenOAuth, Label: app.Label, Scopes: scopes, Created: now, Expiry: &exp,
		Prefix: access[:TokenPrefixLength], Hash: HashToken(access), ClientID: app.ClientID, AppID: app.ID, Resource: app.Resource}
	if err := tx.CreateToken(ctx, &t); err != nil {
		return TokenGrant{}, notFound(err, "create access token")
	}
	rt := RefreshToken{Hash: HashToken(refresh), UserID: app.UserID, AppID: app.ID, ClientID: app.ClientID,
		Scopes: scopes, Created: now, Expiry: refreshExp}
	if err := tx.CreateRefreshToken(ctx, rt); err != nil {
		if errors.Is(err, ErrNotFound) {
			return TokenGrant{}, invalidGrant("refresh_token", "the authorization was revoked")
		}
		return TokenGrant{}, err
	}
	return TokenGrant{AccessToken: access, RefreshToken: refresh, ExpiresIn: exp.Sub(now), Scopes: scopes, App: app}, nil
}

func (s *Service) refresh(ctx context.Context, c OAuthClient, in TokenRequest) (TokenGrant, error) {
	if in.RefreshToken == "" {
		return TokenGrant{}, oauthErr(OAuthInvalidRequest, KindInvalid, "refresh_token", "refresh_token is required")
	}
	bad := invalidGrant("refresh_token", "refresh_token is unknown, expired, used or revoked")
	if len(in.RefreshToken) > 256 {
		return TokenGrant{}, bad
	}
	hash := HashToken(in.RefreshToken)
	rt, err := s.store.RefreshToken(ctx, hash)
	if errors.Is(err, ErrNotFound) || (err == nil && rt.ClientID != c.ID) {
		return TokenGrant{}, bad
	}
	if err != nil {
		return TokenGrant{}, fmt.Errorf("refresh token: %w", err)
	}
	if rt.Used {
		if err := s.revokeApp(ctx, rt.UserID, rt.AppID, "client "+c.ID+": refresh token replayed"); err != nil {
			return TokenGrant{}, err
		}
		return TokenGrant{}, invalidGrant("refresh_token", "refresh_token was already used: the authorization is revoked")
	}
	if !s.now().Before(rt.Expiry) {
		return TokenGrant{}, bad
	}
	scopes := rt.Scopes
	if in.Scope != "" {
		narrowed, err := ParseScopes(in.Scope)
		if err != nil || !narrowed.Within(rt.Scopes) {
			return TokenGrant{}, oauthErr(OAuthInvalidScope, KindInvalid, "scope", "scope may only narrow the scopes granted (%s)", rt.Scopes)
		}
		scopes = narrowed
	}
	key, err := s.idTokenKey(ctx, scopes)
	if err != nil {
		return TokenGrant{}, err
	}
	now := s.clock()
	var g TokenGrant
	err = s.store.Update(ctx, func(tx Tx) error {
		app, err := tx.App(ctx, rt.UserID, rt.AppID)
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				return bad
			}
			return err
		}
		if err := sameResource(in.Resource, app.Resource); err != nil {
			return err
		}
		if err := tx.ClaimRefreshToken(ctx, hash); err != nil {
			if errors.Is(err, ErrNotFound) {
				return bad
			}
			return err
		}
		u, err := tx.UserByID(ctx, rt.UserID)
		if err != nil {
			return notFound(err, "refresh: user")
		}
		if u.Disabled {
			return bad // a disabled user gets no new tokens until enabled
		}
		// A session-bound app keeps its session's end.
		if !app.SessionBound {
			if err := tx.ExtendApp(ctx, app.UserID, app.ID, now.Add(RefreshTokenLifetime)); err != nil {
				return err
			}
		}
		g, err = s.issueOAuthTokens(ctx, tx, app, scopes, now)
		if err == nil {
			g.ID, err = s.idToken(ctx, tx, key, app, scopes, "", signedIn{}, now)
		}
		return err
	})
	return g, err
}

// RevokeOAuthToken serves the revocation endpoint (RFC 7009): the client an
// access or refresh token was issued to revokes it, and with it the whole
// authorization (the App, its access and refresh tokens), at once
// everywhere, as signing out of a console should. A token that is unknown,
// expired, already revoked or another client's is no error: the answer is
// the same, so it tells nothing. Errors are *OAuthError (client
// authentication) or the store's.
func (s *Service) RevokeOAuthToken(ctx context.Context, auth ClientAuth, token string) error {
	c, err := s.authenticateClient(ctx, auth)
	if err != nil {
		return err
	}
	if token == "" {
		return oauthErr(OAuthInvalidRequest, KindInvalid, "token", "token is required")
	}
	if len(token) > 256 {
		return nil
	}
	hash := HashToken(token)
	t, _, err := s.store.TokenByHash(ctx, hash)
	switch {
	case err == nil:
		if t.Kind == TokenOAuth && t.ClientID == c.ID {
			return s.revokeApp(ctx, t.UserID, t.AppID, "client "+c.ID+": token revoked")
		}
		return nil
	case !errors.Is(err, ErrNotFound):
		return fmt.Errorf("revoke: token: %w", err)
	}
	rt, err := s.store.RefreshToken(ctx, hash)
	switch {
	case err == nil:
		if rt.ClientID == c.ID {
			return s.revokeApp(ctx, rt.UserID, rt.AppID, "client "+c.ID+": token revoked")
		}
	case !errors.Is(err, ErrNotFound):
		return fmt.Errorf("revoke: refresh token: %w", err)
	}
	return nil
}

// IsClientOrigin reports whether raw is an absolute http(s) URL on the
// origin (scheme, host and port) of one of the redirect URIs that the
// client clientID registered: where a sign-out may send the browser back.
func (s *Service) IsClientOrigin(ctx context.Context, clientID, raw string) bool {
	if clientID == "" || len(raw) > maxURLLength {
		return false
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Opaque != "" {
		return false
	}
	c, err := s.OAuthClient(ctx, clientID)
	if err != nil {
		return false
	}
	for _, r := range c.RedirectURIs {
		if ru, err := url.Parse(r); err == nil && ru.Scheme == u.Scheme && strings.EqualFold(ru.Host, u.Host) {
			return true
		}
	}
	return false
}

// Introspection is what the introspection endpoint (RFC 7662) says of a
// token: Active false and nothing else for a token that is unknown,
// expired or revoked.
type Introspection struct {
	Active    bool
	Scopes    Scopes
	ClientID  string // the OAuth client the token was issued to; "" for the user's own tokens
	Username  string
	UserID    int64
	AccountID int64  // the user's account
	TokenType string // "access_token" or "refresh_token"
	Expiry    *time.Time
	IssuedAt  time.Time
	Audience  string // the resource an access token is for (resource.go); "" for any
}

// Introspect serves the introspection endpoint: a registered confidential
// client (a resource server of the platform) asks whether token is good.
// Any live token of profiled answers active, whichever client it was
// issued to, for that is what a resource server needs to know; public
// clients, which cannot keep the secret that proves who asks, may not ask.
// Errors are *OAuthError (client authentication) or the store's.
func (s *Service) Introspect(ctx context.Context, auth ClientAuth, token string) (Introspection, error) {
	if auth.ClientID == "" && auth.Assertion == "" {
		// RFC 7662 2.1: the endpoint requires client authentication.
		return Introspection{}, oauthErr(OAuthInvalidClient, KindUnauthorized, "client_id",
			"Client authentication is required: send the client's id and secret (HTTP Basic or the form)")
	}
	c, err := s.authenticateClient(ctx, auth)
	if err != nil {
		return Introspection{}, err
	}
	if c.Public {
		return Introspection{}, oauthErr(OAuthInvalidClient, KindUnauthorized, "client_id",
			"Client authentication failed: a public client may not introspect tokens")
	}
	if token == "" {
		return Introspection{}, oauthErr(OAuthInvalidRequest, KindInvalid, "token", "token is required")
	}
	if len(token) > 512 {
		return Introspection{}, nil
	}
	hash := HashToken(token)
	t, u, err := s.store.TokenByHash(ctx, hash)
	switch {
	case err == nil:
		if !t.Active(s.now()) || u.Disabled {
			return Introspection{}, nil
		}
		return Introspection{Active: true, Scopes: t.Scopes, ClientID: t.ClientID, Username: u.Username, UserID: u.ID, AccountID: u.AccountID,
			TokenType: "access_token", Expiry: t.Expiry, IssuedAt: t.Created, Audience: t.Resource}, nil
	case !errors.Is(err, ErrNotFound):
		return Introspection{}, fmt.Errorf("introspect: token: %w", err)
	}
	rt, err := s.store.RefreshToken(ctx, hash)
	switch {
	case errors.Is(err, ErrNotFound):
		return Introspection{}, nil
	case err != nil:
		return Introspection{}, fmt.Errorf("introspect: refresh token: %w", err)
	}
	if rt.Used || !s.now().Before(rt.Expiry) {
		return Introspection{}, nil
	}
	ru, err := s.store.UserByID(ctx, rt.UserID)
	if err != nil {
		return Introspection{}, notFound(err, "introspect: user")
	}
	if ru.Disabled {
		return Introspection{}, nil
	}
	app, err := s.store.App(ctx, rt.UserID, rt.AppID) // its audience (resource.go)
	if errors.Is(err, ErrNotFound) {
		return Introspection{}, nil // revoked meanwhile
	}
	if err != nil {
		return Introspection{}, fmt.Errorf("introspect: authorization: %w", err)
	}
	exp := rt.Expiry
	return Introspection{Active: true, Scopes: rt.Scopes, ClientID: rt.ClientID, Username: ru.Username, UserID: ru.ID, AccountID: ru.AccountID,
		TokenType: "refresh_token", Expiry: &exp, IssuedAt: rt.Created, Audience: app.Resource}, nil
}

// Verify is forward authentication for a gateway: the bearer token must be
// live and, when scope is set (a Linode scope such as linodes:read_write,
// where read_write and "*" satisfy read_only), grant it. A missing or bad
// token is Unauthorized, a token without the scope Forbidden with Required,
// a scope that is not one Invalid naming "scope".
//
// resource, when set, is the resource server the gateway guards: a token
// for another resource (RFC 8707) is Unauthorized; one for none passes.
func (s *Service) Verify(ctx context.Context, raw, scope, resource string) (Actor, error) {
	var category, level string
	if scope != "" {
		g, ok := parseGrant(scope)
		if !ok || g.prefs != "" {
			return Actor{}, Invalid("scope", "scope must be a Linode scope, <category>:read_only or <category>:read_write, like linodes:read_write")
		}
		category, level = g.category, g.level
	}
	a, err := s.authenticate(ctx, raw)
	if err != nil {
		return Actor{}, err
	}
	if a.Token.Resource != "" && a.Token.Resource != resource {
		return Actor{}, &Error{Kind: KindUnauthorized, Reason: "This token is for another resource (" + a.Token.Resource + ")"}
	}
	if scope != "" {
		if err := require(a, category, level); err != nil {
			return Actor{}, err
		}
	}
	return a, nil
}
